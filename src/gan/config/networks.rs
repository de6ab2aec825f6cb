//! The networks and optimisers a configuration describes: G and D as MLPs or DCGANs for data
//! rows of a given size, and each network's Adam settings.

use super::{Arch, TrainConfig};
use crate::gan::dcgan;
use crate::graph::net::{Layer, NetSpec};
use crate::graph::network::NetworkSpec;
use crate::ops::{Activation, AdamConfig};

fn mlp(
    input: usize,
    hidden: &[usize],
    act: Activation,
    out: usize,
    out_act: Activation,
) -> NetSpec {
    let mut layers: Vec<Layer> = hidden.iter().map(|&w| Layer { out: w, act }).collect();
    layers.push(Layer { out, act: out_act });
    NetSpec { input, layers }
}

impl TrainConfig {
    pub fn g_spec(&self, data_dim: usize) -> anyhow::Result<NetSpec> {
        let a = self.leaky_alpha;
        Ok(mlp(
            self.g_label_dim() + self.z_dim,
            &self.g_hidden,
            Activation::parse(&self.g_act, a)?,
            data_dim,
            Activation::parse(&self.g_out, a)?,
        ))
    }

    /// Channels of the data set's images: `channels`, but always 3 for stacked digits (three
    /// digits as the three channels).
    pub fn image_channels(&self) -> usize {
        use crate::data::Dataset;
        match Dataset::parse(&self.dataset) {
            Ok(Dataset::StackedDigits { .. } | Dataset::StackedIdx { .. }) => 3,
            _ => self.channels as usize,
        }
    }

    /// G as the schedule builds it, for data rows of `data_dim` values (a conditional G reads
    /// its class embedding, then z).
    pub fn g_network(&self, data_dim: usize) -> anyhow::Result<NetworkSpec> {
        anyhow::ensure!(
            !self.conditional || self.classes >= 2,
            "a conditional G reads a class embedding whose width is the class count, which comes \
             from the data set's labels (none set yet)"
        );
        Ok(match self.arch {
            Arch::Mlp => NetworkSpec::Mlp(self.g_spec(data_dim)?),
            Arch::Dcgan => {
                let c = self.image_channels();
                let side = dcgan::side(data_dim, c)?;
                let input = self.g_label_dim() + self.z_dim;
                NetworkSpec::Conv(dcgan::generator(input, side, c, self.g_channels)?)
            }
        })
    }

    /// D as the schedule builds it, for data rows of `data_dim` values.
    pub fn d_network(&self, data_dim: usize) -> anyhow::Result<NetworkSpec> {
        Ok(match self.arch {
            Arch::Mlp => NetworkSpec::Mlp(self.d_spec(data_dim)?),
            Arch::Dcgan => {
                let c = self.image_channels();
                let side = dcgan::side(data_dim, c)?;
                NetworkSpec::Conv(dcgan::discriminator(
                    side,
                    c,
                    self.d_channels,
                    self.leaky_alpha,
                )?)
            }
        })
    }

    /// D as an MLP: its input is `pack` data rows side by side.
    pub fn d_spec(&self, data_dim: usize) -> anyhow::Result<NetSpec> {
        let a = self.leaky_alpha;
        Ok(mlp(
            data_dim * self.pack,
            &self.d_hidden,
            Activation::parse(&self.d_act, a)?,
            1,
            Activation::Identity,
        ))
    }

    /// D's Adam: its step counter advances k times per iteration, so its decay horizon is k times
    /// as many steps.
    pub fn adam_d(&self) -> AdamConfig {
        AdamConfig {
            lr: self.lr_d,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            decay_steps: (self.lr_decay_iters * self.d_steps as u64).min(u32::MAX as u64) as u32,
            final_frac: self.lr_final_frac,
        }
    }

    pub fn adam_g(&self) -> AdamConfig {
        AdamConfig {
            lr: self.lr_g,
            decay_steps: self.lr_decay_iters.min(u32::MAX as u64) as u32,
            ..self.adam_d()
        }
    }
}
