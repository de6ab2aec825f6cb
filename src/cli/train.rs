//! `shadergan train`: resolve the configuration (defaults, then `--config FILE`, then flags),
//! open the run directory, train, and say where everything went.

use crate::gan::checkpoint;
use crate::gan::config::{read_toml_table, Arch, DNorm, GLoss, Loss, TrainConfig};
use crate::gpu::Gpu;
use crate::run::{self, RunDir};
use anyhow::{bail, Context};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

/// Flags of `shadergan train`.
#[derive(Args, Debug, Default)]
pub struct TrainArgs {
    #[command(flatten)]
    pub run: RunFlags,
    #[command(flatten)]
    pub set: ConfigFlags,
}

/// Where the run goes and where its configuration comes from.
#[derive(Args, Debug, Default)]
pub struct RunFlags {
    /// TOML file with any of the keys below (snake_case, e.g. `lr_d = 2e-4`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Run directory (default: runs/<dataset>-<date>-<time>); a new run needs a new or empty one.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in this directory from its checkpoint.safetensors (with --iterations
    /// larger than the iterations already done).
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<PathBuf>,
}

/// Configuration keys as flags. Each overrides the same key of `--config FILE`, which overrides
/// the defaults; the flags given are laid over the configuration as one TOML table, so each
/// flag's name is its key (a flag with no key fails to parse, in tests/cli_config.rs).
#[derive(Args, Debug, Default, Serialize)]
pub struct ConfigFlags {
    /// Data set: ring, grid, spiral, moons, gauss1d, digits, idx:FILE, images:DIR, with
    /// parameters as in `ring:n=8,radius=2,std=0.02`.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Total iterations (k D updates and one G update each). On a new run the recipe's
    /// --lr-decay-iters and --instance-noise-iters, unless given, scale with it.
    #[arg(long)]
    pub iterations: Option<u64>,
    /// Minibatch size m (D sees m real and m generated rows).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Dimension of the noise z ~ N(0, I).
    #[arg(long)]
    pub z_dim: Option<usize>,
    /// Networks: mlp (multilayer perceptrons) or dcgan (convolutional, for square images of 8,
    /// 28, 32 or 64 pixels).
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// DCGAN: channels of G's last hidden map (each earlier block doubles them).
    #[arg(long)]
    pub g_channels: Option<usize>,
    /// DCGAN: channels of D's first map (each later block doubles them).
    #[arg(long)]
    pub d_channels: Option<usize>,
    /// Generator hidden widths, comma separated (e.g. 128,128).
    #[arg(long, value_delimiter = ',')]
    pub g_hidden: Option<Vec<usize>>,
    /// Discriminator hidden widths, comma separated.
    #[arg(long, value_delimiter = ',')]
    pub d_hidden: Option<Vec<usize>>,
    /// Generator hidden activation (relu, leaky_relu, tanh, sigmoid, identity).
    #[arg(long)]
    pub g_act: Option<String>,
    /// Discriminator hidden activation.
    #[arg(long)]
    pub d_act: Option<String>,
    /// Generator output activation (identity for points, tanh for images).
    #[arg(long)]
    pub g_out: Option<String>,
    /// Negative slope of leaky_relu.
    #[arg(long)]
    pub leaky_alpha: Option<f32>,
    /// k: discriminator updates per iteration.
    #[arg(long)]
    pub d_steps: Option<usize>,
    /// Generator loss: ns (-log D(G(z)), the default) or minimax (log(1 - D(G(z)))).
    #[arg(long, value_enum)]
    pub g_loss: Option<GLoss>,
    /// Adversarial loss: bce (the paper's, the default), hinge (D: relu(1 - D(x)) +
    /// relu(1 + D(G(z))), G: -D(G(z))) or ls (least squares on the logit, LSGAN).
    #[arg(long, value_enum)]
    pub loss: Option<Loss>,
    /// D's weight normalisation: none or spectral (W / sigma(W), one power iteration per training
    /// forward; MLP D only).
    #[arg(long, value_enum)]
    pub d_norm: Option<DNorm>,
    /// Discriminator learning rate (Adam).
    #[arg(long)]
    pub lr_d: Option<f32>,
    /// Generator learning rate (Adam).
    #[arg(long)]
    pub lr_g: Option<f32>,
    /// Iterations over which both learning rates decay linearly (0: constant).
    #[arg(long)]
    pub lr_decay_iters: Option<u64>,
    /// Learning rate at the end of the decay, as a fraction of the initial one.
    #[arg(long)]
    pub lr_final_frac: Option<f32>,
    #[arg(long)]
    pub beta1: Option<f32>,
    #[arg(long)]
    pub beta2: Option<f32>,
    /// Target for real samples in D's loss; 0.9 is one-sided label smoothing.
    #[arg(long)]
    pub real_label: Option<f32>,
    /// PacGAN: D judges packs of M samples of the same kind side by side (1: off); divides
    /// --batch.
    #[arg(long, value_name = "M")]
    pub pack: Option<usize>,
    /// Decay of an exponential moving average of G's weights, used for pictures, eval and
    /// sampling and saved as g_ema.* in the checkpoint (0: off; e.g. 0.999).
    #[arg(long, value_name = "DECAY")]
    pub g_ema: Option<f32>,
    /// Instance noise: N(0, S^2) added to D's input (real and generated) in every step, S
    /// decaying linearly to 0 over --instance-noise-iters iterations (0: off).
    #[arg(long, value_name = "S")]
    pub instance_noise: Option<f32>,
    /// Iterations over which the instance noise decays to 0 (default: the first half of the
    /// run).
    #[arg(long, value_name = "N")]
    pub instance_noise_iters: Option<u64>,
    /// Discriminator rejection sampling (Azadi et al. 2019) for the evaluation at the end, `eval`
    /// and `sample`: G's samples are kept with a probability read from D's logit; P, the
    /// percentile of the paper's F that sets gamma, trades samples for quality (0: off).
    #[arg(long, value_name = "P")]
    pub drs: Option<f32>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Iterations between metric read-backs, sample pictures and progress lines.
    #[arg(long)]
    pub log_every: Option<u64>,
    /// 2-D pictures: draw, at N of the last G step's generated points (at most --batch), an
    /// arrow for the way G's loss pushes the point, -dL_G/dx (its gradient from the G step's
    /// backward pass, read with the picture). Lengths are proportional to the gradient, the
    /// 90th percentile drawn 28 px long, kept between 8 and 42 px, one scale per picture. 0: no
    /// arrows.
    #[arg(long, value_name = "N")]
    pub arrows: Option<usize>,
    /// Iterations between checkpoints (0: only at the end).
    #[arg(long)]
    pub checkpoint_every: Option<u64>,
    /// Image runs: iterations between quality evaluations (class coverage, KL, Fréchet distance
    /// in metrics.csv and quality.png); a multiple of --log-every; 0: none.
    #[arg(long)]
    pub eval_every: Option<u64>,
    /// Iterations recorded into one GPU submit.
    #[arg(long)]
    pub iters_per_submit: Option<u64>,
    /// Image data sets: resize every image to N x N pixels (default: the images' own size).
    #[arg(long, value_name = "N")]
    pub image_size: Option<u32>,
    /// Image folders: 1 (grayscale) or 3 (RGB).
    #[arg(long)]
    pub channels: Option<u32>,
    /// Conditional generation: G draws an image of a class it is given (cat(embedding(y), z)
    /// as input), D judges image and class (a projection discriminator). Needs a labelled image
    /// set: digits, idx:IMAGES,labels=LABELS, or images:DIR holding one subfolder of images per
    /// class (the subfolder names, sorted, are classes 0, 1, ...). Then `sample --class K` draws
    /// class K.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub conditional: Option<bool>,
}

impl ConfigFlags {
    /// The flags given, as a TOML table keyed like the configuration (flags not given are left
    /// out).
    pub fn table(&self) -> anyhow::Result<toml::Table> {
        Ok(toml::Table::try_from(self)?)
    }
}

impl TrainArgs {
    /// `base` (a resumed run's configuration) or the defaults of the data set, then the config
    /// file, then the flags; validated.
    pub fn resolve(&self, base: Option<TrainConfig>) -> anyhow::Result<TrainConfig> {
        let file = match &self.run.config {
            Some(p) => Some(read_toml_table(p)?),
            None => None,
        };
        let fresh = base.is_none();
        let ds = self.set.dataset.clone().or_else(|| {
            file.as_ref()
                .and_then(|f| f.get("dataset"))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        });
        let mut layers: Vec<toml::Table> = file.into_iter().collect();
        layers.push(self.set.table()?);
        let given = |key: &str| layers.iter().any(|l| l.contains_key(key));
        // The last word on `conditional` (flags over the file) picks between a labelled set's
        // recipes.
        let conditional = layers
            .iter()
            .rev()
            .find_map(|l| l.get("conditional").and_then(|v| v.as_bool()));
        let base = base.unwrap_or_else(|| {
            TrainConfig::defaults_for_run(ds.as_deref().unwrap_or("ring"), conditional)
        });
        let mut cfg = base
            .overlaid(&layers)
            .with_context(|| match &self.run.config {
                Some(p) => format!("in config file {} or the flags", p.display()),
                None => "in the flags".to_string(),
            })?;
        // A new run given its length keeps its recipe's shape: the horizons not given scale with
        // it (`TrainConfig::scaled_to`).
        if fresh && given("iterations") {
            let scaled = base.scaled_to(cfg.iterations);
            if !given("lr_decay_iters") {
                cfg.lr_decay_iters = scaled.lr_decay_iters;
            }
            if !given("instance_noise_iters") {
                cfg.instance_noise_iters = scaled.instance_noise_iters;
            }
        }
        // Noise asked for with no horizon anneals over the first half of the run, as the grid's.
        if cfg.instance_noise > 0.0
            && cfg.instance_noise_iters == 0
            && !given("instance_noise_iters")
        {
            cfg.instance_noise_iters = (cfg.iterations / 2).max(1);
        }
        // A recipe's discriminator rejection sampling steps aside when the flags train a D
        // whose logit it cannot read (hinge, LS, packs, spectral norm, DCGAN); asked for by name,
        // it is checked like any key.
        if !given("drs") && cfg.check_drs().is_err() {
            cfg.drs = 0.0;
        }
        cfg.validate()?;
        crate::data::Dataset::parse(&cfg.dataset)?;
        Ok(cfg)
    }
}

/// UTC date and time as YYYYMMDD-HHMMSS, for default run names.
pub(crate) fn timestamp() -> String {
    let fmt = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
    time::OffsetDateTime::now_utc()
        .format(fmt)
        .unwrap_or_else(|_| "run".to_string())
}

/// What `--resume` may change: anything but the data set, seed, batch, pack, architecture (with
/// D's normalisation and conditioning) and image shape (the checkpoint's tensors and the run's random streams depend on those).
fn same_run(a: &TrainConfig, b: &TrainConfig) -> bool {
    let key = |c: &TrainConfig| {
        (
            (
                c.dataset.clone(),
                c.z_dim,
                c.batch,
                c.seed,
                c.data_size,
                c.pack,
            ),
            (c.g_hidden.clone(), c.d_hidden.clone()),
            (c.arch, c.g_channels, c.d_channels),
            (
                c.g_act.clone(),
                c.d_act.clone(),
                c.g_out.clone(),
                c.leaky_alpha.to_bits(),
            ),
            (c.image_size, c.channels, c.d_norm),
            (c.conditional, c.classes),
        )
    };
    key(a) == key(b)
}

pub fn run_train(gpu: &Gpu, args: &TrainArgs) -> anyhow::Result<run::TrainSummary> {
    let (cfg, dir, state) = match &args.run.resume {
        Some(from) => {
            let ck = checkpoint::load(&from.join(run::dir::CHECKPOINT), gpu.max_storage_bytes())
                .with_context(|| format!("resuming from {}", from.display()))?;
            let cfg = args.resolve(Some(ck.config.clone()))?;
            if !same_run(&cfg, &ck.config) {
                bail!(
                    "--resume keeps the run's data set, seed, batch and architecture; change only \
                     --iterations, learning rates, logging and checkpoint intervals"
                );
            }
            let out = args.run.out.clone().unwrap_or_else(|| from.clone());
            let dir = RunDir::resume(&out, from, ck.state.iteration())?;
            (cfg, dir, Some(ck.state))
        }
        None => {
            let cfg = args.resolve(None)?;
            let name = cfg.dataset.split(':').next().unwrap_or("run").to_string();
            let out =
                args.run.out.clone().unwrap_or_else(|| {
                    PathBuf::from("runs").join(format!("{name}-{}", timestamp()))
                });
            (cfg, RunDir::create(&out)?, None)
        }
    };
    eprintln!(
        "shadergan: training {} for {} iterations (batch {}, k = {}, {} loss) into {}",
        cfg.dataset,
        cfg.iterations,
        cfg.batch,
        cfg.d_steps,
        match (cfg.loss, cfg.g_loss) {
            (Loss::Bce, GLoss::Ns) => "non-saturating",
            (Loss::Bce, GLoss::Minimax) => "minimax",
            (Loss::Hinge, _) => "hinge",
            (Loss::Ls, _) => "least-squares",
        },
        dir.path.display()
    );
    let s = run::train_in(gpu, &cfg, dir, state)?;
    if s.interrupted {
        println!(
            "stopped at iteration {} of {} ({:.1} s); continue with --resume {}",
            s.at,
            cfg.iterations,
            s.seconds,
            s.out.display()
        );
    } else {
        println!(
            "trained {} iterations in {:.1} s ({:.1} it/s); last interval: {}",
            s.iterations,
            s.seconds,
            s.iterations as f64 / s.seconds.max(1e-9),
            s.last.summary()
        );
    }
    if let Some(r) = &s.report {
        println!("evaluation: {r}");
    }
    if let Some(q) = &s.quality {
        println!("quality: {q}");
    }
    println!(
        "wrote {}: samples/step_*.png, evolution.gif, loss.png, metrics.csv, config.toml, \
         checkpoint.safetensors{}",
        s.out.display(),
        match (&s.report, &s.quality) {
            (Some(r), _) if r.drs.is_some() && s.out.join(crate::run::dir::DRS_PNG).is_file() => {
                ", eval.toml, drs.png"
            }
            (Some(_), _) => ", eval.toml",
            (None, Some(_)) => ", eval.toml, quality.png, classifier.safetensors",
            (None, None) => "",
        }
    );
    Ok(s)
}
