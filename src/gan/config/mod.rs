//! A training run's configuration: every hyper-parameter, with the defaults `shadergan train`
//! uses, validated before anything touches the GPU. Saved as `config.toml` in the run directory
//! and in every checkpoint.

mod networks;
mod validate;

use anyhow::Context;
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
    /// 2-D pictures: arrows at this many of the last G step's generated points (at most the
    /// batch) for the direction G's loss pushes each one, -dL_G/dx~ (0: none). Pictures only:
    /// training is the same with any value.
    pub arrows: usize,
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
    /// Conditional generation (Mirza and Osindero 2014): G draws an image of a class it is given,
    /// taking cat(embedding(y), z) as in PyTorch-GAN's cgan, and D judges image and class with a
    /// projection (Miyato and Koyama 2018): see `gan::conditional`. Needs a labelled image set.
    pub conditional: bool,
    /// Conditional runs: the number of classes, set from the data set's labels when the run
    /// starts (0 until then; a value given must match the data).
    pub classes: usize,
}

/// The mixtures' DRS percentile (docs/mode-coverage.md), measured with `eval --drs P` on seed
/// 1's runs of the earlier recipes (ring 8,000 iterations, grid 12,000): 5, 10, 20 and 40 kept
/// 61% of the ring's samples with 98.2-98.3% high quality (G alone 94.6%), and 82%, 66%, 64% and
/// 61% of the grid's with 93.8%, 95.6%, 95.8% and 95.8% (G alone 89.9%). Higher percentiles
/// keep fewer samples for no gain; lower ones keep more bridges.
pub const DRS_PERCENTILE: f32 = 10.0;

/// The grid's instance noise at the start, as a fraction of the distance between neighbouring
/// modes (0.5 on the 5 x 5 grid of spacing 2), annealed to 0 over the first two thirds of the
/// run (docs/mode-coverage.md). Measured on seed 2: a quarter gave 25/25 and 94.9% high
/// quality, a half 25/25 and 86.8% (the modes separate later, leaving less time to sharpen).
pub const INSTANCE_NOISE_PER_SPACING: f32 = 0.25;

/// The labelled image sets' recipe (`TrainConfig::labelled_images_recipe`), as measured on
/// mnist10k (docs/mnist.md, "A recipe for labelled digits"): Adam's learning rate for both
/// networks, eight times the DCGAN paper's 2e-4. Side by side at 2,000 iterations (Fréchet
/// distance by the run's classifier, floor 6.6): 2e-4 97.0, 4e-4 68.3, 8e-4 49.1, 1.6e-3 35.8,
/// 3.2e-3 40.0; the same 4e-4 decaying linearly to 1% 107.7.
pub const LABELLED_LR: f32 = 1.6e-3;
/// G's moving average (the Fréchet distance is measured on the averaged G).
pub const LABELLED_G_EMA: f32 = 0.995;
/// Iterations that fit, with the evaluation, within 15 minutes on lavapipe on 2 cores.
pub const LABELLED_ITERATIONS: u64 = 4000;

/// Arrows on a 2-D picture by default: 64 of the batch's generated points (half of the ring's
/// 128) read beside the 1,000 points drawn without hiding them.
pub const DEFAULT_ARROWS: usize = 64;

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
            arrows: DEFAULT_ARROWS,
            checkpoint_every: 2000,
            eval_every: 0,
            iters_per_submit: 10,
            data_size: 65536,
            image_size: None,
            channels: 1,
            conditional: false,
            classes: 0,
        }
    }
}

impl TrainConfig {
    /// The defaults for a data set: the ring's and the grid's recipes for `ring` and `grid` (the
    /// toy-data defaults above with what measurements added), the toy-data defaults for the other
    /// 2-D and 1-D sets, or, for images,
    /// a DCGAN with the paper's optimiser (Adam lr 2e-4, betas (0.5, 0.999); Radford et al. 2015,
    /// section 4). On the digits it beats the MLP it replaced by a wide margin (README, "Images");
    /// `--arch mlp` keeps the MLP (LeakyReLU 0.2, tanh output) for image
    /// sizes DCGAN does not build. An `idx:` set given with its labels gets the conditional
    /// recipe measured on MNIST ([`Self::labelled_images_recipe`]).
    pub fn defaults_for(dataset: &str) -> TrainConfig {
        Self::defaults_for_run(dataset, None)
    }

    /// [`Self::defaults_for`] for a run whose command line or config file may set
    /// `conditional`: a labelled `idx:` set asked for `conditional = false` gets the plain image
    /// defaults (the DCGAN paper's recipe) rather than the conditional recipe's other settings,
    /// which were measured with the labels only.
    pub fn defaults_for_run(dataset: &str, conditional: Option<bool>) -> TrainConfig {
        let base = TrainConfig {
            dataset: dataset.to_string(),
            ..TrainConfig::default()
        };
        use crate::data::Dataset;
        let parsed = Dataset::parse(dataset).ok();
        let labelled_idx = matches!(
            parsed,
            Some(Dataset::Idx {
                labels: Some(_),
                ..
            })
        ) && conditional != Some(false);
        match parsed {
            Some(d) if d.is_image() => {}
            Some(Dataset::Grid { spacing, .. }) => return Self::grid_recipe(base, spacing),
            Some(Dataset::Ring { .. }) => return Self::ring_recipe(base),
            _ => return base,
        }
        let images = TrainConfig {
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
        };
        if labelled_idx {
            Self::labelled_images_recipe(images)
        } else {
            images
        }
    }

    /// The recipe for an `idx:` set given with its labels (MNIST and its kin), measured on
    /// mnist10k (docs/mnist.md): the labels make the digits. Conditional (G reads the class,
    /// D projects onto it), the hinge loss, G's weights averaged over about the last 200
    /// iterations, 32 channels a network and learning rates of 1.6e-3: within 15 minutes on
    /// lavapipe it reaches a Fréchet distance the paper's unconditional recipe (64 channels,
    /// 2e-4, BCE) does not reach in ten times as many iterations. `--conditional false` gives
    /// that unconditional recipe back (the labels then only train the evaluation's classifier).
    fn labelled_images_recipe(images: TrainConfig) -> TrainConfig {
        TrainConfig {
            conditional: true,
            loss: Loss::Hinge,
            g_ema: LABELLED_G_EMA,
            g_channels: 32,
            d_channels: 32,
            lr_d: LABELLED_LR,
            lr_g: LABELLED_LR,
            iterations: LABELLED_ITERATIONS,
            log_every: 500,
            ..images
        }
    }

    /// The grid's recipe (any `grid:...`), measured with `shadergan bench quality`
    /// (docs/mode-coverage.md): the ring's defaults learn the grid as a closed loop through its 16 outer
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
    /// (docs/mode-coverage.md).
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
        let conditional = file.get("conditional").and_then(|v| v.as_bool());
        Self::defaults_for_run(ds, conditional)
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
}

/// A TOML file as a table, with the file named in any error.
/// Reads at most [`MAX_CONFIG_BYTES`].
pub fn read_toml_table(path: &std::path::Path) -> anyhow::Result<toml::Table> {
    let bytes = crate::data::limit::read_limited(path, "config file", MAX_CONFIG_BYTES)?;
    let text = String::from_utf8(bytes)
        .with_context(|| format!("config file {} is not UTF-8 text", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
}
