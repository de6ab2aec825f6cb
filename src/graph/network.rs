//! Either kind of network a GAN is made of: a multilayer perceptron ([`NetSpec`], Linear layers
//! with fused activations) or a convolutional network ([`ConvNetSpec`], DCGAN's blocks). The
//! schedule, the trainer and the generator see only this interface.

use super::convnet::{ConvNetSpec, ConvNetTensors};
use super::net::{NetSpec, NetTensors};
use super::projection::Projection;
use super::{Graph, Op, TensorId, View};

#[derive(Clone, Debug, PartialEq)]
pub enum NetworkSpec {
    Mlp(NetSpec),
    Conv(ConvNetSpec),
}

impl NetworkSpec {
    /// Values per input row.
    pub fn input_len(&self) -> usize {
        match self {
            NetworkSpec::Mlp(s) => s.input,
            NetworkSpec::Conv(s) => s.input.iter().product(),
        }
    }

    /// Values per output row.
    pub fn output_len(&self) -> anyhow::Result<usize> {
        Ok(match self {
            NetworkSpec::Mlp(s) => s.output(),
            NetworkSpec::Conv(s) => s.output_shape()?.iter().product(),
        })
    }

    /// Values per row of what the last layer reads: phi(x), the features of a projection
    /// discriminator's class term.
    pub fn feature_len(&self) -> anyhow::Result<usize> {
        Ok(match self {
            NetworkSpec::Mlp(s) => s.layout().last().map_or(s.input, |p| p.inp),
            NetworkSpec::Conv(s) => s.plan()?.last().map_or(0, |p| p.inp.iter().product()),
        })
    }

    /// Values per row of each layer's output (the workspaces the schedule allocates per row).
    pub fn layer_widths(&self) -> anyhow::Result<Vec<usize>> {
        Ok(match self {
            NetworkSpec::Mlp(s) => s.layers.iter().map(|l| l.out).collect(),
            NetworkSpec::Conv(s) => s.plan()?.iter().map(|p| p.out.iter().product()).collect(),
        })
    }

    pub fn param_count(&self) -> anyhow::Result<usize> {
        match self {
            NetworkSpec::Mlp(s) => Ok(s.param_count()),
            NetworkSpec::Conv(s) => s.param_count(),
        }
    }

    /// Running statistics the network keeps besides its parameters (batch norms); none for MLPs.
    pub fn buffer_count(&self) -> anyhow::Result<usize> {
        match self {
            NetworkSpec::Mlp(_) => Ok(0),
            NetworkSpec::Conv(s) => s.buffer_count(),
        }
    }

    /// Initial parameters: PyTorch's nn.Linear default for MLPs (from `uniform`), DCGAN's
    /// N(0, 0.02) for convolutional networks (from `normal`).
    pub fn init(
        &self,
        uniform: impl FnMut() -> f32,
        normal: impl FnMut() -> f32,
    ) -> anyhow::Result<Vec<f32>> {
        match self {
            NetworkSpec::Mlp(s) => Ok(s.init(uniform)),
            NetworkSpec::Conv(s) => s.init(normal),
        }
    }

    pub fn init_buffers(&self) -> anyhow::Result<Vec<f32>> {
        match self {
            NetworkSpec::Mlp(_) => Ok(Vec::new()),
            NetworkSpec::Conv(s) => s.init_buffers(),
        }
    }

    /// The network's tensors in `g` with a workspace for `rows` rows.
    pub fn tensors(
        &self,
        g: &mut Graph,
        name: &str,
        params: &[f32],
        running: &[f32],
        rows: usize,
    ) -> anyhow::Result<Network> {
        self.tensors_trailing(g, name, params, running, rows, 0)
    }

    /// [`Self::tensors`] whose flat parameters (and gradients and Adam moments) hold `trailing`
    /// more values after the network's own: a conditional run's class embedding.
    pub fn tensors_trailing(
        &self,
        g: &mut Graph,
        name: &str,
        params: &[f32],
        running: &[f32],
        rows: usize,
        trailing: usize,
    ) -> anyhow::Result<Network> {
        Ok(match self {
            NetworkSpec::Mlp(s) => {
                anyhow::ensure!(
                    running.is_empty(),
                    "{name}: an MLP keeps no running statistics"
                );
                anyhow::ensure!(
                    params.len() == s.param_count() + trailing,
                    "{name}: {} parameters for {} + {trailing}",
                    params.len(),
                    s.param_count()
                );
                Network::Mlp(NetTensors::with_trailing(
                    g, name, s, params, rows, trailing,
                ))
            }
            NetworkSpec::Conv(s) => Network::Conv(ConvNetTensors::with_trailing(
                g, name, s, params, running, rows, trailing,
            )?),
        })
    }
}

/// A network's tensors: see [`NetTensors`] and [`ConvNetTensors`].
#[derive(Clone, Debug)]
pub enum Network {
    Mlp(NetTensors),
    Conv(ConvNetTensors),
}

impl Network {
    pub fn params(&self) -> TensorId {
        match self {
            Network::Mlp(n) => n.params,
            Network::Conv(n) => n.params,
        }
    }

    pub fn grads(&self) -> TensorId {
        match self {
            Network::Mlp(n) => n.grads,
            Network::Conv(n) => n.grads,
        }
    }

    pub fn adam_m(&self) -> TensorId {
        match self {
            Network::Mlp(n) => n.adam_m,
            Network::Conv(n) => n.adam_m,
        }
    }

    pub fn adam_v(&self) -> TensorId {
        match self {
            Network::Mlp(n) => n.adam_v,
            Network::Conv(n) => n.adam_v,
        }
    }

    /// Batch norms in training mode take their statistics over groups of `rows` rows (see
    /// [`ConvNetTensors::bn_group_rows`]); MLPs have none.
    pub fn split_batch_norm(&mut self, rows: usize) {
        if let Network::Conv(n) = self {
            n.bn_group_rows = Some(rows);
        }
    }

    /// The running statistics tensor of a network with batch norms.
    pub fn running(&self) -> Option<TensorId> {
        match self {
            Network::Mlp(_) => None,
            Network::Conv(n) => Some(n.running),
        }
    }

    /// Forward over `rows` rows; `train` selects batch statistics (and updates the running ones)
    /// over running statistics in batch norms. MLPs have none, so it changes nothing there.
    pub fn forward(&self, input: View, rows: usize, out: Option<View>, train: bool) -> Vec<Op> {
        match self {
            Network::Mlp(n) => n.forward(input, rows, out),
            Network::Conv(n) => n.forward(input, rows, out, train),
        }
    }

    /// Backward after a training forward over the same rows; see [`NetTensors::backward`].
    pub fn backward(
        &self,
        input: View,
        rows: usize,
        out: Option<View>,
        dout: TensorId,
        param_grads: bool,
        input_grad: Option<TensorId>,
    ) -> Vec<Op> {
        match self {
            Network::Mlp(n) => n.backward(input, rows, out, dout, param_grads, input_grad),
            Network::Conv(n) => n.backward(input, rows, out, dout, param_grads, input_grad),
        }
    }

    pub fn output_view(&self, out: Option<View>) -> View {
        match self {
            Network::Mlp(n) => n.output_view(out),
            Network::Conv(n) => n.output_view(out),
        }
    }

    /// What the last layer reads from `input`: phi(x) of a projection's class term.
    pub fn features(&self, input: View) -> View {
        match self {
            Network::Mlp(n) => n.features(input),
            Network::Conv(n) => n.features(input),
        }
    }

    /// [`Self::backward`] with a projection discriminator's class term on the logit (see
    /// [`Projection`]): with `param_grads` the table's gradient too.
    #[allow(clippy::too_many_arguments)]
    pub fn backward_projected(
        &self,
        input: View,
        rows: usize,
        out: Option<View>,
        dout: TensorId,
        param_grads: bool,
        input_grad: Option<TensorId>,
        proj: &Projection,
    ) -> Vec<Op> {
        let mut ops = Vec::new();
        if param_grads {
            ops.push(proj.table_grad(self.features(input), dout.into(), rows));
        }
        let p = Some(proj);
        ops.extend(match self {
            Network::Mlp(n) => n.backward_with(input, rows, out, dout, param_grads, input_grad, p),
            Network::Conv(n) => n.backward_with(input, rows, out, dout, param_grads, input_grad, p),
        });
        ops
    }

    /// The same network reading its weights from `params` (of the same length) instead, e.g. a
    /// moving average of them; batch norms keep their running statistics.
    pub fn with_params(&self, params: TensorId) -> Network {
        match self {
            Network::Mlp(n) => Network::Mlp(NetTensors {
                params,
                ..n.clone()
            }),
            Network::Conv(n) => Network::Conv(ConvNetTensors {
                params,
                ..n.clone()
            }),
        }
    }

    /// The same weights with a forward-only workspace of its own for `rows` rows.
    pub fn with_workspace(&self, g: &mut Graph, name: &str, rows: usize) -> Network {
        match self {
            Network::Mlp(n) => Network::Mlp(n.with_workspace(g, name, rows)),
            Network::Conv(n) => Network::Conv(n.with_workspace(g, name, rows)),
        }
    }
}
