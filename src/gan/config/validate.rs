//! [`TrainConfig::validate`]: everything a user can get wrong in a configuration (a flag, a TOML
//! file, a checkpoint's stored config), checked before anything touches the GPU, with a message
//! that says what is accepted.

use super::{Arch, DNorm, GLoss, Loss, TrainConfig};
use super::{
    MAX_BATCH, MAX_DATA_SIZE, MAX_HIDDEN_LAYERS, MAX_IMAGE_SIZE, MAX_ITERS_PER_SUBMIT, MAX_WIDTH,
};
use crate::ops::Activation;
use anyhow::bail;

impl TrainConfig {
    /// Checks everything a user can get wrong, with a message that says what is accepted.
    pub fn validate(&self) -> anyhow::Result<()> {
        let pos = |name: &str, v: f64| -> anyhow::Result<()> {
            if !(v > 0.0 && v.is_finite()) {
                bail!("{name} must be a positive number, got {v}");
            }
            Ok(())
        };
        if self.batch == 0 || self.batch > MAX_BATCH {
            bail!(
                "batch must be between 1 and {MAX_BATCH}, got {}",
                self.batch
            );
        }
        if self.arch == Arch::Dcgan {
            let is_image = crate::data::Dataset::parse(&self.dataset)
                .map(|d| d.is_image())
                .unwrap_or(false);
            if !is_image {
                bail!(
                    "arch dcgan builds convolutional networks for images; {} is not an image data \
                     set (use digits, idx:FILE or images:DIR, or --arch mlp)",
                    self.dataset
                );
            }
            if self.g_channels == 0
                || self.d_channels == 0
                || self.g_channels > 4096
                || self.d_channels > 4096
            {
                bail!("g_channels and d_channels must be between 1 and 4096");
            }
            if self.batch < 2 {
                bail!("arch dcgan needs batch >= 2 (batch norm takes statistics over the batch)");
            }
        }
        if self.z_dim == 0 || self.z_dim > MAX_WIDTH {
            bail!(
                "z_dim must be between 1 and {MAX_WIDTH}, got {}",
                self.z_dim
            );
        }
        if self.d_steps == 0 || self.d_steps > 256 {
            bail!(
                "d_steps must be between 1 and 256, got {} (Algorithm 1 updates D k >= 1 times \
                 per iteration; each of the k steps has its own random-number streams)",
                self.d_steps
            );
        }
        if self.iterations == 0 {
            bail!("iterations must be at least 1");
        }
        if self.log_every == 0 || self.iters_per_submit == 0 {
            bail!("log_every and iters_per_submit must be at least 1");
        }
        if self.iters_per_submit > MAX_ITERS_PER_SUBMIT {
            bail!(
                "iters_per_submit must be at most {MAX_ITERS_PER_SUBMIT}, got {} (the recorded \
                 commands are held in memory until submitted)",
                self.iters_per_submit
            );
        }
        for (name, hidden) in [("g_hidden", &self.g_hidden), ("d_hidden", &self.d_hidden)] {
            if hidden.len() > MAX_HIDDEN_LAYERS {
                bail!(
                    "{name} has {} layers; at most {MAX_HIDDEN_LAYERS} are accepted",
                    hidden.len()
                );
            }
            if let Some(w) = hidden.iter().find(|&&w| w == 0 || w > MAX_WIDTH) {
                bail!("{name}: layer widths must be between 1 and {MAX_WIDTH}, got {w}");
            }
            if !self.eval_every.is_multiple_of(self.log_every) {
                bail!(
                    "eval_every ({}) must be a multiple of log_every ({}): evaluations happen at \
                 logging intervals",
                    self.eval_every,
                    self.log_every
                );
            }
        }
        pos("lr_d", self.lr_d as f64)?;
        pos("lr_g", self.lr_g as f64)?;
        pos("eps", self.eps as f64)?;
        for (n, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                bail!("{n} must be in [0, 1), got {b}");
            }
        }
        if !(self.leaky_alpha > 0.0 && self.leaky_alpha < 1.0) {
            bail!(
                "leaky_alpha must be in (0, 1), got {} (the backward pass reads the branch from \
                 the sign of the output)",
                self.leaky_alpha
            );
        }
        if !(self.real_label > 0.0 && self.real_label <= 1.0) {
            bail!("real_label must be in (0, 1], got {}", self.real_label);
        }
        if self.pack == 0 || self.pack > 64 || !self.batch.is_multiple_of(self.pack) {
            bail!(
                "pack must be between 1 and 64 and divide batch ({}), got {} (D judges packs of \
                 `pack` samples, so a batch holds batch / pack of them)",
                self.batch,
                self.pack
            );
        }
        if self.pack > 1 && self.arch != Arch::Mlp {
            bail!("pack (PacGAN) packs rows side by side for an MLP discriminator; use --arch mlp");
        }
        if self.loss != Loss::Bce && self.g_loss != GLoss::Ns {
            bail!("g_loss minimax is a BCE generator loss; hinge and ls have their own");
        }
        if self.loss == Loss::Hinge && self.real_label != 1.0 {
            bail!("real_label (label smoothing) is a BCE or ls target; the hinge loss has none");
        }
        if self.d_norm == DNorm::Spectral && self.arch != Arch::Mlp {
            bail!("d_norm spectral normalises the Linear layers of an MLP D; use --arch mlp");
        }
        if !(0.0..1.0).contains(&self.g_ema) {
            bail!(
                "g_ema must be in [0, 1) (0: off; e.g. 0.999 averages about the last 1,000 G \
                 steps), got {}",
                self.g_ema
            );
        }
        if !(self.instance_noise >= 0.0 && self.instance_noise.is_finite()) {
            bail!(
                "instance_noise must be a standard deviation >= 0 (0: off), got {}",
                self.instance_noise
            );
        }
        if self.instance_noise > 0.0 && !(1..=u32::MAX as u64).contains(&self.instance_noise_iters)
        {
            bail!(
                "instance_noise_iters must be between 1 and {} when instance_noise is on (the \
                 noise decays to 0 over that many iterations), got {}",
                u32::MAX,
                self.instance_noise_iters
            );
        }
        if self.drs != 0.0 {
            self.check_drs()?;
        }

        if !(self.lr_final_frac > 0.0 && self.lr_final_frac <= 1.0) {
            bail!(
                "lr_final_frac must be in (0, 1], got {}",
                self.lr_final_frac
            );
        }
        if self.data_size == 0 || self.data_size > MAX_DATA_SIZE {
            bail!(
                "data_size must be between 1 and {MAX_DATA_SIZE}, got {}",
                self.data_size
            );
        }
        if self.channels != 1 && self.channels != 3 {
            bail!(
                "channels must be 1 (grayscale) or 3 (RGB), got {}",
                self.channels
            );
        }
        if let Some(s) = self.image_size {
            if s == 0 || s > MAX_IMAGE_SIZE {
                bail!("image_size must be between 1 and {MAX_IMAGE_SIZE} pixels, got {s}");
            }
        }
        for a in [&self.g_act, &self.d_act, &self.g_out] {
            Activation::parse(a, self.leaky_alpha)?;
        }
        self.check_conditional()?;
        crate::data::Dataset::parse(&self.dataset)?;
        Ok(())
    }

    /// A conditional run's limits: a labelled image set, single-sample D rows (no packs), no
    /// spectral normalisation (the projection's table would need its own) and no DRS (its D
    /// judges a class too, see `check_drs`); `classes` is 0 (not known yet) or 2..=1000.
    fn check_conditional(&self) -> anyhow::Result<()> {
        use crate::data::folder::MAX_CLASSES;
        if !self.conditional {
            if self.classes != 0 {
                bail!(
                    "classes is set by conditional runs from their data set's labels; use \
                     --conditional (or leave classes out)"
                );
            }
            return Ok(());
        }
        let image = crate::data::Dataset::parse(&self.dataset).is_ok_and(|d| d.is_image());
        if !image {
            bail!(
                "conditional runs generate images of a given class; {} is not a labelled image \
                 set (use digits, idx:IMAGES,labels=LABELS, or images:DIR with one subfolder per \
                 class)",
                self.dataset
            );
        }
        if self.classes == 1 || self.classes > MAX_CLASSES {
            bail!(
                "classes must be between 2 and {MAX_CLASSES} (or 0: from the data set), got {}",
                self.classes
            );
        }
        if self.pack > 1 {
            bail!("conditional runs give every sample its own class; use --pack 1");
        }
        if self.d_norm != DNorm::None {
            bail!(
                "conditional runs do not normalise D (the projection's class embedding would \
                 need its own spectral norm); use --d-norm none"
            );
        }
        Ok(())
    }

    /// Whether discriminator rejection sampling can use this run's D: its logit estimates
    /// log(p_data / p_G) only when D is trained with the BCE loss on single samples.
    pub fn check_drs(&self) -> anyhow::Result<()> {
        if !(0.0..100.0).contains(&self.drs) {
            bail!(
                "drs (discriminator rejection sampling) is a percentile in [0, 100), 0 for off; \
                 got {}",
                self.drs
            );
        }
        if self.loss != Loss::Bce {
            bail!(
                "drs reads D's logit as log(p_data / p_G), which holds for the bce loss only; \
                 use --drs 0 with hinge or ls"
            );
        }
        if self.conditional {
            bail!("drs scores samples without a class; conditional runs use --drs 0");
        }
        if self.pack > 1 {
            bail!(
                "drs scores single samples; D judges packs of {} (use --drs 0)",
                self.pack
            );
        }
        if self.d_norm != DNorm::None || self.arch != Arch::Mlp {
            bail!("drs is built for an MLP D without spectral normalisation (use --drs 0)");
        }
        if self.instance_noise > 0.0 && self.instance_noise_iters > self.iterations {
            bail!(
                "drs reads a D trained on clean data; instance noise lasts {} of the {} \
                 iterations (shorten --instance-noise-iters, or use --drs 0)",
                self.instance_noise_iters,
                self.iterations
            );
        }
        Ok(())
    }
}
