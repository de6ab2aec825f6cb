//! A training run's configuration: every hyper-parameter, with the defaults `shadergan train`
//! uses, validated before anything touches the GPU. Saved as `config.toml` in the run directory
//! and in every checkpoint.

use crate::graph::net::{Layer, NetSpec};
use crate::graph::network::NetworkSpec;
use crate::ops::{Activation, AdamConfig};
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

/// Ceilings `validate` puts on sizes, far above any MLP GAN this project trains, so that no
/// configuration (a flag, a TOML file, a checkpoint's stored config) can ask for an allocation
/// that aborts the process before the device's own limits are checked.
pub const MAX_WIDTH: usize = 1 << 16;
pub const MAX_HIDDEN_LAYERS: usize = 64;
pub const MAX_BATCH: usize = 1 << 20;
pub const MAX_DATA_SIZE: usize = 1 << 28;
pub const MAX_IMAGE_SIZE: u32 = 4096;
/// Iterations recorded into one submit are held as commands until submitted.
pub const MAX_ITERS_PER_SUBMIT: u64 = 10_000;
/// Config files are a few hundred bytes.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The generator's loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum GLoss {
    /// Non-saturating: G minimises -log D(G(z)) (Goodfellow et al. 2014, section 3).
    Ns,
    /// The literal min-max game: G minimises log(1 - D(G(z))).
    Minimax,
}

/// The adversarial loss on D's logit x (one output, no sigmoid layer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    /// Binary cross-entropy, the paper's V(G, D); G's loss is `g_loss`.
    Bce,
    /// Hinge (Lim and Ye 2017; Miyato et al. 2018): D minimises E[relu(1 - D(x))] +
    /// E[relu(1 + D(G(z)))], G minimises -E[D(G(z))].
    Hinge,
    /// Least squares (LSGAN, Mao et al. 2017, targets a = 0, b = c = 1): D minimises
    /// E[(D(x) - 1)^2] / 2 + E[D(G(z))^2] / 2, G minimises E[(D(G(z)) - 1)^2] / 2.
    Ls,
}

/// Normalisation of D's weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DNorm {
    None,
    /// Spectral normalisation (Miyato et al. 2018) of every Linear layer of an MLP D: W / sigma(W)
    /// with sigma from one power iteration per training forward.
    Spectral,
}

/// The kind of networks G and D are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Multilayer perceptrons: `g_hidden`, `d_hidden`, `g_act`, `d_act`, `g_out`.
    Mlp,
    /// DCGAN (Radford et al. 2015) for square images of 8, 28, 32 or 64 pixels: `g_channels`,
    /// `d_channels`.
    Dcgan,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Data set spec, e.g. `ring`, `ring:n=8,radius=2,std=0.02`, `grid`, `spiral`, `moons`, `gauss1d`.
    pub dataset: String,
    /// Training iterations (each: `d_steps` discriminator updates, then one generator update).
    pub iterations: u64,
    /// m: real samples and generated samples per minibatch (D sees 2m rows).
    pub batch: usize,
    /// Dimension of the noise z ~ N(0, I).
    pub z_dim: usize,
    /// The kind of networks: mlp, or dcgan for images.
    pub arch: Arch,
    /// DCGAN: channels of G's last hidden map and of D's first (each block doubles or halves).
    pub g_channels: usize,
    pub d_channels: usize,
    /// Hidden layer widths of G and D.
    pub g_hidden: Vec<usize>,
    pub d_hidden: Vec<usize>,
    /// Hidden activations: relu, leaky_relu, tanh, sigmoid, identity.
    pub g_act: String,
    pub d_act: String,
    /// G's output activation (identity for 2-D data, tanh for images in [-1, 1]).
    pub g_out: String,
    /// Negative slope of leaky_relu.
    pub leaky_alpha: f32,
    /// k: discriminator updates per iteration (Algorithm 1's inner loop).
    pub d_steps: usize,
    pub g_loss: GLoss,
    /// The adversarial loss: bce (the paper's), hinge or ls. Hinge and ls ignore `g_loss`.
    pub loss: Loss,
    /// D's weight normalisation: none or spectral (MLP D only).
    pub d_norm: DNorm,
    pub lr_d: f32,
    pub lr_g: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    /// Both learning rates decay linearly to `lr_final_frac` of their value over this many
    /// iterations, then stay there (0: constant). A fixed horizon, not tied to `iterations`, so a
    /// resumed run follows the same schedule as a straight one.
    pub lr_decay_iters: u64,
    pub lr_final_frac: f32,
    /// Target for real samples in D's loss (1 = none; 0.9 = one-sided label smoothing).
    pub real_label: f32,
    /// PacGAN (Lin et al. 2018): D judges packs of this many samples of the same kind, each row
    /// of D's input `pack` consecutive samples side by side (1: plain GAN). Divides `batch`.
    pub pack: usize,
    /// Decay of an exponential moving average of G's weights, updated after every G step and
    /// used for pictures, evaluation and sampling (0: off, G's own weights are used).
    pub g_ema: f32,
    /// Instance noise (Sønderby et al. 2017; Arjovsky and Bottou 2017): N(0, s^2) added to every
    /// value of D's input, real and generated, in D's and G's steps, with s decaying linearly
    /// from this value (in data units) to 0 over `instance_noise_iters` iterations (0: off).
    pub instance_noise: f32,
    /// The iterations over which instance noise anneals to 0; a fixed horizon like
    /// `lr_decay_iters`. Must be at least 1 when `instance_noise` is on.
    pub instance_noise_iters: u64,
    /// Discriminator rejection sampling (Azadi et al. 2019, `gan::drs`) for `sample`, `eval` and
    /// the evaluation at the end of training: G's samples are kept with a probability read from
    /// D's logit, gamma being this percentile of F over a burn-in (0: off, G's samples as drawn).
    pub drs: f32,
    pub seed: u64,
    /// Iterations between metric read-backs, sample pictures and progress updates.
    pub log_every: u64,
    /// Iterations between checkpoints (0: only at the end).
    pub checkpoint_every: u64,
    /// Image runs: iterations between quality evaluations (classifier coverage, KL, Fréchet;
    /// extra columns of metrics.csv and quality.png); a multiple of `log_every`. 0: none.
    pub eval_every: u64,
    /// Iterations recorded into one GPU submit.
    pub iters_per_submit: u64,
    /// Size of the device-resident sample drawn once from a parametric data set.
    pub data_size: usize,
    /// Image data sets: images are resized to this many pixels square (default: their own size;
    /// a folder's first image's).
    pub image_size: Option<u32>,
    /// Image data sets: 1 (grayscale) or 3 (RGB).
    pub channels: u32,
}

/// The mixtures' DRS percentile (README, "Mode coverage"), measured with `eval --drs P` on seed
/// 1's runs of the earlier recipes (ring 8,000 iterations, grid 12,000): 5, 10, 20 and 40 kept
/// 61% of the ring's samples with 98.2-98.3% high quality (G alone 94.6%), and 82%, 66%, 64% and
/// 61% of the grid's with 93.8%, 95.6%, 95.8% and 95.8% (G alone 89.9%). Higher percentiles
/// keep fewer samples for no gain; lower ones keep more bridges.
pub const DRS_PERCENTILE: f32 = 10.0;

/// The grid's instance noise at the start, as a fraction of the distance between neighbouring
/// modes (0.5 on the 5 x 5 grid of spacing 2), annealed to 0 over the first two thirds of the
/// run (README, "Mode coverage"). Measured on seed 2: a quarter gave 25/25 and 94.9% high
/// quality, a half 25/25 and 86.8% (the modes separate later, leaving less time to sharpen).
pub const INSTANCE_NOISE_PER_SPACING: f32 = 0.25;

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            dataset: "ring".into(),
            iterations: 8000,
            batch: 128,
            z_dim: 8,
            arch: Arch::Mlp,
            g_channels: 64,
            d_channels: 64,
            g_hidden: vec![128, 128],
            d_hidden: vec![128, 128],
            g_act: "relu".into(),
            d_act: "leaky_relu".into(),
            g_out: "identity".into(),
            leaky_alpha: 0.2,
            d_steps: 1,
            g_loss: GLoss::Ns,
            loss: Loss::Bce,
            d_norm: DNorm::None,
            lr_d: 2e-3,
            lr_g: 2e-3,
            beta1: 0.5,
            beta2: 0.999,
            eps: 1e-8,
            lr_decay_iters: 8000,
            lr_final_frac: 0.01,
            real_label: 1.0,
            pack: 1,
            g_ema: 0.0,
            instance_noise: 0.0,
            instance_noise_iters: 0,
            drs: 0.0,
            seed: 1,
            log_every: 200,
            checkpoint_every: 2000,
            eval_every: 0,
            iters_per_submit: 10,
            data_size: 65536,
            image_size: None,
            channels: 1,
        }
    }
}

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
    /// The defaults for a data set: the ring's and the grid's recipes for `ring` and `grid` (the
    /// toy-data defaults above with what measurements added), the toy-data defaults for the other
    /// 2-D and 1-D sets, or, for images,
    /// a DCGAN with the paper's optimiser (Adam lr 2e-4, betas (0.5, 0.999); Radford et al. 2015,
    /// section 4). On the digits it beats the MLP it replaced by a wide margin (README,
    /// "Measuring image runs"); `--arch mlp` keeps the MLP (LeakyReLU 0.2, tanh output) for image
    /// sizes DCGAN does not build.
    pub fn defaults_for(dataset: &str) -> TrainConfig {
        let base = TrainConfig {
            dataset: dataset.to_string(),
            ..TrainConfig::default()
        };
        use crate::data::Dataset;
        match Dataset::parse(dataset).ok() {
            Some(d) if d.is_image() => {}
            Some(Dataset::Grid { spacing, .. }) => return Self::grid_recipe(base, spacing),
            Some(Dataset::Ring { .. }) => return Self::ring_recipe(base),
            _ => return base,
        }
        TrainConfig {
            arch: Arch::Dcgan,
            iterations: 1000,
            batch: 64,
            z_dim: 64,
            g_hidden: vec![256, 512],
            d_hidden: vec![512, 256],
            g_act: "leaky_relu".into(),
            d_act: "leaky_relu".into(),
            g_out: "tanh".into(),
            lr_d: 2e-4,
            lr_g: 2e-4,
            lr_decay_iters: 0,
            log_every: 100,
            ..base
        }
    }

    /// The grid's recipe (any `grid:...`), measured with `shadergan bench quality` (README,
    /// "Mode coverage"): the ring's defaults learn the grid as a closed loop through its 16 outer
    /// modes, missing the 9 inner ones (17/25); noise of 2 dimensions instead of 8 removes the
    /// loop. In 8 dimensions N(0, I) lies near a sphere of radius sqrt(8), a shell that G maps
    /// onto a loop most easily. With 2-D noise alone a column or a few inner modes still went
    /// missing on some seeds (24, 21, 25, 25, 25 over seeds 1-5), lost in the first few thousand
    /// iterations. Instance noise of a quarter of the spacing on D's input, annealed to 0 over
    /// the first 16,000 of 24,000 iterations (the learning rates decaying over all of them),
    /// lets G spread over the whole square before the modes separate: 25/25 on every seed.
    /// Discriminator rejection sampling then keeps the samples off the bridges between modes.
    fn grid_recipe(base: TrainConfig, spacing: f32) -> TrainConfig {
        TrainConfig {
            z_dim: 2,
            iterations: 24_000,
            lr_decay_iters: 24_000,
            instance_noise: INSTANCE_NOISE_PER_SPACING * spacing,
            instance_noise_iters: 16_000,
            drs: DRS_PERCENTILE,
            ..base
        }
    }

    /// The ring's recipe (any `ring:...`): the defaults above trained for 12,000 iterations with
    /// the learning rates decaying to 0.1%, and discriminator rejection sampling
    /// (README, "Mode coverage").
    fn ring_recipe(base: TrainConfig) -> TrainConfig {
        TrainConfig {
            iterations: 12_000,
            lr_decay_iters: 12_000,
            lr_final_frac: 0.001,
            drs: DRS_PERCENTILE,
            ..base
        }
    }

    /// This configuration trained for `iterations`, its horizons (the learning-rate decay, the
    /// instance noise's annealing) scaled by the same factor, so that a recipe run shorter or
    /// longer keeps its shape: `--iterations 6000` on the grid's recipe decays the learning
    /// rates over 6,000 iterations and anneals the noise over the first 4,000.
    pub fn scaled_to(&self, iterations: u64) -> TrainConfig {
        let scale = |h: u64| {
            let scaled = h as u128 * iterations as u128 / self.iterations.max(1) as u128;
            // A horizon that was on stays on (0 is "off" for both).
            (scaled.min(u64::MAX as u128) as u64).max(h.min(1))
        };
        TrainConfig {
            iterations,
            lr_decay_iters: scale(self.lr_decay_iters),
            instance_noise_iters: scale(self.instance_noise_iters),
            ..self.clone()
        }
    }

    /// Loads a TOML file over the defaults of the data set it names; unknown keys are errors (a
    /// typo must not silently do nothing).
    pub fn from_toml_file(path: &std::path::Path) -> anyhow::Result<TrainConfig> {
        let file = read_toml_table(path)?;
        let ds = file
            .get("dataset")
            .and_then(|v| v.as_str())
            .unwrap_or("ring");
        Self::defaults_for(ds)
            .overlaid(&[file])
            .with_context(|| format!("in config file {}", path.display()))
    }

    /// This configuration with the keys of each table in turn laid over it (a config file, then
    /// the command line's flags): one generic path for every key, so a key that a table names
    /// but no field has is an error.
    pub fn overlaid(&self, layers: &[toml::Table]) -> anyhow::Result<TrainConfig> {
        let mut table = toml::Table::try_from(self).expect("a TrainConfig always serialises");
        for layer in layers {
            table.extend(layer.clone());
        }
        Ok(table.try_into()?)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a TrainConfig always serialises")
    }

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
        crate::data::Dataset::parse(&self.dataset)?;
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

    pub fn g_spec(&self, data_dim: usize) -> anyhow::Result<NetSpec> {
        let a = self.leaky_alpha;
        Ok(mlp(
            self.z_dim,
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

    /// G as the schedule builds it, for data rows of `data_dim` values.
    pub fn g_network(&self, data_dim: usize) -> anyhow::Result<NetworkSpec> {
        Ok(match self.arch {
            Arch::Mlp => NetworkSpec::Mlp(self.g_spec(data_dim)?),
            Arch::Dcgan => {
                let c = self.image_channels();
                let side = super::dcgan::side(data_dim, c)?;
                NetworkSpec::Conv(super::dcgan::generator(
                    self.z_dim,
                    side,
                    c,
                    self.g_channels,
                )?)
            }
        })
    }

    /// D as the schedule builds it, for data rows of `data_dim` values.
    pub fn d_network(&self, data_dim: usize) -> anyhow::Result<NetworkSpec> {
        Ok(match self.arch {
            Arch::Mlp => NetworkSpec::Mlp(self.d_spec(data_dim)?),
            Arch::Dcgan => {
                let c = self.image_channels();
                let side = super::dcgan::side(data_dim, c)?;
                NetworkSpec::Conv(super::dcgan::discriminator(
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

/// A TOML file as a table, with the file named in any error.
/// Reads at most [`MAX_CONFIG_BYTES`].
pub fn read_toml_table(path: &std::path::Path) -> anyhow::Result<toml::Table> {
    let bytes = crate::data::limit::read_limited(path, "config file", MAX_CONFIG_BYTES)?;
    let text = String::from_utf8(bytes)
        .with_context(|| format!("config file {} is not UTF-8 text", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
}
