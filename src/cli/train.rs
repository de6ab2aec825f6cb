//! `shadergan train`, `eval` and `sample`.

use crate::gan::checkpoint;
use crate::gan::config::{GLoss, TrainConfig};
use crate::gan::schedule::fixed_noise;
use crate::gan::train::train;
use crate::gpu::Gpu;
use anyhow::{bail, Context};
use clap::Args;
use std::path::{Path, PathBuf};

/// Flags of `shadergan train`. Each overrides the same key of `--config FILE`, which overrides
/// the defaults (`shadergan train` alone trains `ring`).
#[derive(Args, Debug, Default)]
pub struct TrainArgs {
    /// TOML file with any of the keys below (snake_case, e.g. `lr_d = 2e-4`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Run directory (default: runs/<dataset>-<date>-<time>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in this directory from its checkpoint.safetensors (with --iterations
    /// larger than the iterations already done).
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<PathBuf>,
    /// Data set: ring, grid, spiral, moons, gauss1d, with parameters as in `ring:n=8,radius=2,std=0.02`.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Total iterations (k D updates and one G update each).
    #[arg(long)]
    pub iterations: Option<u64>,
    /// Minibatch size m (D sees m real and m generated rows).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Dimension of the noise z ~ N(0, I).
    #[arg(long)]
    pub z_dim: Option<usize>,
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
    #[arg(long)]
    pub seed: Option<u64>,
    /// Iterations between metric read-backs, sample pictures and progress lines.
    #[arg(long)]
    pub log_every: Option<u64>,
    /// Iterations between checkpoints (0: only at the end).
    #[arg(long)]
    pub checkpoint_every: Option<u64>,
    /// Iterations recorded into one GPU submit.
    #[arg(long)]
    pub iters_per_submit: Option<u64>,
    /// Image folders: resize every image to N x N pixels (default: the first image's size).
    #[arg(long, value_name = "N")]
    pub image_size: Option<u32>,
    /// Image folders: 1 (grayscale) or 3 (RGB).
    #[arg(long)]
    pub channels: Option<u32>,
}

macro_rules! overlay {
    ($cfg:ident, $args:ident, $($f:ident),*) => {
        $( if let Some(v) = $args.$f.clone() { $cfg.$f = v; } )*
    };
}

impl TrainArgs {
    /// Defaults (`base`, or those of the data set when starting afresh), then the config file,
    /// then the flags.
    pub fn resolve(&self, base: Option<TrainConfig>) -> anyhow::Result<TrainConfig> {
        let mut cfg = match (&self.config, base) {
            (Some(p), _) => TrainConfig::from_toml_file_over(p, self.dataset.as_deref())?,
            (None, Some(b)) => b,
            (None, None) => TrainConfig::defaults_for(self.dataset.as_deref().unwrap_or("ring")),
        };
        if let Some(n) = self.image_size {
            cfg.image_size = Some(n);
        }
        overlay!(
            cfg,
            self,
            dataset,
            iterations,
            batch,
            z_dim,
            g_hidden,
            d_hidden,
            g_act,
            d_act,
            g_out,
            leaky_alpha,
            d_steps,
            g_loss,
            lr_d,
            lr_g,
            lr_decay_iters,
            lr_final_frac,
            beta1,
            beta2,
            real_label,
            seed,
            log_every,
            checkpoint_every,
            iters_per_submit,
            channels
        );
        cfg.validate()?;
        crate::data::Dataset::parse(&cfg.dataset)?;
        Ok(cfg)
    }
}

/// UTC date and time as YYYYMMDD-HHMMSS (for default run names), without a date crate.
fn timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86400) as i64, secs % 86400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

pub fn run_train(gpu: &Gpu, args: &TrainArgs) -> anyhow::Result<()> {
    let (cfg, out, state) = match &args.resume {
        Some(dir) => {
            let path = dir.join("checkpoint.safetensors");
            let ck = checkpoint::load(&path, gpu.max_storage_bytes())
                .with_context(|| format!("resuming from {}", dir.display()))?;
            let cfg = args.resolve(Some(ck.config.clone()))?;
            let arch = |c: &TrainConfig| {
                (
                    (c.dataset.clone(), c.z_dim, c.batch, c.seed, c.data_size),
                    (c.g_hidden.clone(), c.d_hidden.clone()),
                    (
                        c.g_act.clone(),
                        c.d_act.clone(),
                        c.g_out.clone(),
                        c.leaky_alpha.to_bits(),
                    ),
                    (c.image_size, c.channels),
                )
            };
            if arch(&cfg) != arch(&ck.config) {
                bail!(
                    "--resume keeps the run's data set, seed, batch and architecture; change only \
                     --iterations, learning rates, logging and checkpoint intervals"
                );
            }
            let out = args.out.clone().unwrap_or_else(|| dir.clone());
            (cfg, out, Some(ck.state))
        }
        None => {
            let cfg = args.resolve(None)?;
            let name = cfg.dataset.split(':').next().unwrap_or("run").to_string();
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from("runs").join(format!("{name}-{}", timestamp())));
            if out.join("checkpoint.safetensors").exists() {
                bail!(
                    "{} already holds a run; use --resume {} to continue it or choose another --out",
                    out.display(),
                    out.display()
                );
            }
            (cfg, out, None)
        }
    };
    eprintln!(
        "shadergan: training {} for {} iterations (batch {}, k = {}, {} loss) into {}",
        cfg.dataset,
        cfg.iterations,
        cfg.batch,
        cfg.d_steps,
        match cfg.g_loss {
            GLoss::Ns => "non-saturating",
            GLoss::Minimax => "minimax",
        },
        out.display()
    );
    let s = train(gpu, &cfg, &out, state)?;
    println!(
        "trained {} iterations in {:.1} s ({:.1} it/s); last interval: {}",
        s.iterations,
        s.seconds,
        s.iterations as f64 / s.seconds.max(1e-9),
        s.last.summary()
    );
    if let Some(r) = &s.report {
        println!("evaluation: {r}");
    }
    println!(
        "wrote {}: samples/step_*.png, evolution.gif, loss.png, metrics.csv, config.toml, \
         checkpoint.safetensors{}",
        s.out.display(),
        if s.report.is_some() {
            ", eval.toml"
        } else {
            ""
        }
    );
    Ok(())
}

/// A run directory or a checkpoint file.
fn checkpoint_path(p: &Path) -> PathBuf {
    if p.is_dir() {
        p.join("checkpoint.safetensors")
    } else {
        p.to_path_buf()
    }
}

/// Draws `n` samples from the checkpoint's generator with noise from `seed`.
fn draw(gpu: &Gpu, path: &Path, n: usize, seed: Option<u64>) -> anyhow::Result<SampleSet> {
    let ck = checkpoint::load(path, gpu.max_storage_bytes())?;
    // The architecture comes from the file, not from flags.
    let spec = ck.config.g_spec(ck.data_dim)?;
    // Checked before the noise is drawn on the CPU, so a huge -n is an error, not an abort.
    for (what, width) in [("noise", spec.input), ("samples", ck.data_dim)] {
        let bytes = (n as u64).saturating_mul(width as u64).saturating_mul(4);
        gpu.check_size(&format!("{what} ({n} rows x {width})"), bytes)?;
    }
    let z = fixed_noise(seed.unwrap_or(ck.config.seed), n * spec.input);
    let x = crate::gan::generate::generate(gpu, &spec, &ck.state.g_params, &z)?;
    Ok(SampleSet {
        config: ck.config,
        dim: ck.data_dim,
        image: ck.image,
        z_dim: spec.input,
        z,
        x,
    })
}

struct SampleSet {
    config: TrainConfig,
    dim: usize,
    image: Option<[usize; 3]>,
    z_dim: usize,
    z: Vec<f32>,
    x: Vec<f32>,
}

pub fn run_eval(gpu: &Gpu, target: &Path) -> anyhow::Result<()> {
    let path = checkpoint_path(target);
    let s = draw(gpu, &path, crate::gan::train::EVAL_ROWS, None)?;
    let ds = crate::data::Dataset::parse(&s.config.dataset)?;
    let r = crate::eval::evaluate(&ds, &s.x)?;
    println!("{}: {r}", path.display());
    if target.is_dir() {
        crate::viz::atomic_write(&target.join("eval.toml"), |w| {
            w.write_all(r.to_toml_string().as_bytes())?;
            Ok(())
        })?;
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct SampleArgs {
    /// A checkpoint.safetensors file or a run directory.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Number of samples.
    #[arg(short = 'n', long, default_value_t = 1000)]
    pub n: usize,
    /// Write the noise columns z_0.. before x_0.. .
    #[arg(long)]
    pub include_noise: bool,
    /// Noise seed (default: the run's seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// CSV output file (default: standard output).
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Image checkpoints: write the samples as one grid picture (PNG).
    #[arg(long, value_name = "PNG")]
    pub grid: Option<PathBuf>,
    /// Image checkpoints: write one PNG per sample into this folder.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run_sample(gpu: &Gpu, a: &SampleArgs) -> anyhow::Result<()> {
    if a.n == 0 {
        bail!("-n must be at least 1");
    }
    let s = draw(gpu, &checkpoint_path(&a.checkpoint), a.n, a.seed)?;
    if a.grid.is_some() || a.dir.is_some() {
        let Some([w, h, c]) = s.image else {
            bail!(
                "{} was trained on {} (vectors, not images): --grid and --dir need an image \
                 checkpoint; write CSV instead",
                a.checkpoint.display(),
                s.config.dataset
            );
        };
        let images: Vec<Vec<f32>> = s.x.chunks(w * h * c).map(|v| v.to_vec()).collect();
        if let Some(p) = &a.grid {
            let cols = (images.len() as f64).sqrt().ceil() as u32;
            let scale = crate::viz::grid_scale(w, h);
            crate::viz::image_grid(p, &images, w as u32, h as u32, c as u32, cols, scale)?;
            eprintln!("wrote {} ({} images)", p.display(), images.len());
        }
        if let Some(d) = &a.dir {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            for (i, img) in images.iter().enumerate() {
                let p = d.join(format!("sample_{i:06}.png"));
                crate::viz::save_image(&p, img, w as u32, h as u32, c as u32)?;
            }
            eprintln!("wrote {} PNG files into {}", images.len(), d.display());
        }
        if a.output.is_none() {
            return Ok(());
        }
    }
    let mut text = String::new();
    let mut header: Vec<String> = Vec::new();
    if a.include_noise {
        header.extend((0..s.z_dim).map(|i| format!("z_{i}")));
    }
    header.extend((0..s.dim).map(|i| format!("x_{i}")));
    text.push_str(&header.join(","));
    text.push('\n');
    for r in 0..a.n {
        let mut row: Vec<String> = Vec::new();
        if a.include_noise {
            row.extend(
                s.z[r * s.z_dim..(r + 1) * s.z_dim]
                    .iter()
                    .map(|v| v.to_string()),
            );
        }
        row.extend(
            s.x[r * s.dim..(r + 1) * s.dim]
                .iter()
                .map(|v| v.to_string()),
        );
        text.push_str(&row.join(","));
        text.push('\n');
    }
    match &a.output {
        Some(p) => crate::viz::atomic_write(p, |w| {
            w.write_all(text.as_bytes())?;
            Ok(())
        })?,
        None => print!("{text}"),
    }
    Ok(())
}
