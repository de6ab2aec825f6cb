//! `shadergan sample`: samples from a checkpoint's generator as CSV, a grid picture or one PNG
//! per sample. Samples stream through the GPU a chunk at a time, so memory stays bounded for any
//! `-n`; long runs show a progress bar. A conditional run's G draws the class `--class` names,
//! or the classes in turn (CSV and PNG files) or one grid row per class (`--grid`).

use super::checkpoint_path;
use crate::gan::checkpoint;
use crate::gan::config::Arch;
use crate::gan::generate::Generator;
use crate::gpu::Gpu;
use anyhow::{bail, Context};
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// The most samples one call draws. Samples stream through the GPU a chunk at a time, so this
/// bounds the time a typo can cost (about a day at lavapipe's rate), not memory.
pub const MAX_SAMPLES: usize = 1 << 32;

/// The most images one `--grid` picture holds (a 64 x 64 grid; at 28 x 28 pixels and the
/// picture scale, about 150 MB of pixels); more belong in `--dir`.
pub const MAX_GRID_IMAGES: usize = 4096;

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
    /// Image checkpoints: write the samples as one grid picture (PNG, at most 4096 images). A
    /// conditional run's grid has one row per class, -n / classes samples each (at least one),
    /// unless --class picks one.
    #[arg(long, value_name = "PNG")]
    pub grid: Option<PathBuf>,
    /// Conditional runs: draw only class K (0-based; for images:DIR the class folders sorted
    /// by name). Without it, samples go through the classes in turn, and CSV rows start with
    /// their class.
    #[arg(long, value_name = "K")]
    pub class: Option<u32>,
    /// Image checkpoints: write one PNG per sample into this folder.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Discriminator rejection sampling: keep G's samples with a probability read from D's logit,
    /// gamma being the P-th percentile of the paper's F (Azadi et al. 2019); 0: G's samples as
    /// drawn (default: the run's `drs`).
    #[arg(long, value_name = "P")]
    pub drs: Option<f32>,
}

pub fn run_sample(gpu: &Gpu, a: &SampleArgs) -> anyhow::Result<()> {
    if a.n == 0 || a.n > MAX_SAMPLES {
        bail!(
            "-n must be at least 1 and at most {MAX_SAMPLES}, got {} (split larger requests \
             over seeds with --seed)",
            a.n
        );
    }
    if a.grid.is_some() && a.n > MAX_GRID_IMAGES {
        bail!(
            "--grid draws at most {MAX_GRID_IMAGES} images in one picture, got -n {}; use --dir \
             for one PNG per sample",
            a.n
        );
    }
    let ck = checkpoint::load(&checkpoint_path(&a.checkpoint), gpu.max_storage_bytes())?;
    let images = a.grid.is_some() || a.dir.is_some();
    let image = match (images, ck.image) {
        (false, _) => None,
        (true, Some(shape)) => Some(shape),
        (true, None) => bail!(
            "{} was trained on {} (vectors, not images): --grid and --dir need an image \
             checkpoint; write CSV instead",
            a.checkpoint.display(),
            ck.config.dataset
        ),
    };
    let classes = ck.config.conditional.then_some(ck.config.classes);
    if let Some(k) = a.class {
        match classes {
            None => bail!(
                "{} was not trained with classes, so --class has nothing to pick; train with \
                 --conditional on a labelled data set",
                a.checkpoint.display()
            ),
            Some(c) if k as usize >= c => bail!(
                "--class {k} is not a class of {}: it has classes 0 to {}",
                a.checkpoint.display(),
                c - 1
            ),
            Some(_) => {}
        }
    }
    // A conditional grid: one row per class, the same number of samples in each.
    let per_row = match (classes, &a.grid, a.class) {
        (Some(c), Some(_), None) => Some((a.n / c).max(1)),
        _ => None,
    };
    let n = match (per_row, classes) {
        (Some(r), Some(c)) => r * c,
        _ => a.n,
    };
    let label = move |i: usize| match (a.class, per_row) {
        (Some(k), _) => k,
        (None, Some(r)) => (i / r) as u32,
        (None, None) => (i % classes.unwrap_or(1)) as u32,
    };
    let cfg = crate::gan::config::TrainConfig {
        drs: a.drs.unwrap_or(ck.config.drs),
        ..ck.config.clone()
    };
    let sampler = crate::gan::drs::sampler_for(gpu, &cfg, &ck.state, ck.data_dim)?;
    let own;
    let g = match &sampler {
        Some(s) => s.generator(),
        None => {
            own = Generator::for_run(
                gpu,
                &ck.config,
                ck.data_dim,
                ck.state.g_sampling(),
                &ck.state.g_running,
            )?;
            &own
        }
    };
    let z_dim = g.z_dim();
    let seed = a.seed.unwrap_or(ck.config.seed);
    let bar = progress(n);
    let mut grid: Vec<Vec<f32>> = Vec::new();
    let mut written = 0usize;
    let mut csv_rows = |out: &mut dyn Write| -> anyhow::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        if !(images && a.output.is_none()) {
            let mut header: Vec<String> = Vec::new();
            if classes.is_some() {
                header.push("class".to_string());
            }
            if a.include_noise {
                header.extend((0..z_dim).map(|i| format!("z_{i}")));
            }
            header.extend((0..ck.data_dim).map(|i| format!("x_{i}")));
            w.write_record(&header)?;
        }
        let mut each = |z: &[f32], y: &[u32], x: &[f32]| -> anyhow::Result<()> {
            // A DCGAN generator writes NCHW rows; samples are HWC like the data set.
            let x = match (ck.config.arch, ck.image) {
                (Arch::Dcgan, Some(shape)) => crate::gan::dcgan::chw_to_hwc(x, shape),
                _ => x.to_vec(),
            };
            let zs = z.chunks(z_dim);
            for (r, (zr, xr)) in zs.zip(x.chunks(ck.data_dim)).enumerate() {
                let class = y.get(r);
                if let Some([iw, ih, c]) = image {
                    if a.grid.is_some() {
                        grid.push(xr.to_vec());
                    }
                    if let Some(d) = &a.dir {
                        let name = match class {
                            Some(k) => format!("sample_{written:06}_class{k}.png"),
                            None => format!("sample_{written:06}.png"),
                        };
                        let p = d.join(name);
                        crate::viz::save_image(&p, xr, iw as u32, ih as u32, c as u32)?;
                    }
                    written += 1;
                    if a.output.is_none() {
                        continue;
                    }
                }
                let mut rec: Vec<String> = Vec::new();
                if let Some(k) = class {
                    rec.push(k.to_string());
                }
                if a.include_noise {
                    rec.extend(zr.iter().map(|v| v.to_string()));
                }
                rec.extend(xr.iter().map(|v| v.to_string()));
                w.write_record(&rec)?;
            }
            if let Some(b) = &bar {
                b.inc((x.len() / ck.data_dim) as u64);
            }
            Ok(())
        };
        match &sampler {
            Some(s) => {
                let r = s.sample(seed, n, |z, x| each(z, &[], x))?;
                eprintln!(
                    "discriminator rejection sampling (percentile {}): kept {} of {} samples \
                     ({:.0}%)",
                    r.percentile,
                    r.kept,
                    r.drawn,
                    100.0 * r.acceptance()
                );
            }
            None if classes.is_some() => g.sample_labeled(seed, n, &label, each)?,
            None => g.sample_stream(seed, n, |z, x| each(z, &[], x))?,
        }
        w.flush()?;
        Ok(())
    };
    if let Some(d) = &a.dir {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    match (&a.output, images) {
        (Some(p), _) => crate::io::atomic_write(p, |w| csv_rows(w))?,
        (None, true) => csv_rows(&mut std::io::sink())?,
        (None, false) => csv_rows(&mut std::io::stdout().lock())?,
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let (Some(p), Some([w, h, c])) = (&a.grid, image) {
        let cols = match per_row {
            Some(r) => r as u32,
            None => (grid.len() as f64).sqrt().ceil() as u32,
        };
        let scale = crate::viz::grid_scale(w, h);
        crate::viz::image_grid(p, &grid, w as u32, h as u32, c as u32, cols, scale)?;
        eprintln!("wrote {} ({} images)", p.display(), grid.len());
    }
    if let Some(d) = &a.dir {
        eprintln!("wrote {written} PNG files into {}", d.display());
    }
    Ok(())
}

/// A progress bar on a terminal for runs of more than a few chunks.
fn progress(n: usize) -> Option<indicatif::ProgressBar> {
    if n < 10 * crate::gan::generate::CHUNK || !std::io::stderr().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new(n as u64);
    b.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} samples  ETA {eta}")
            .expect("valid template"),
    );
    Some(b)
}
