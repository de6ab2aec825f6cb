//! `bench quality --stacked`: the image row of the mode-coverage bench. A stacked set (three
//! digits as the three channels of one image: 1,000 modes) trained with its defaults for each
//! seed, scored as the Stacked MNIST tables score it (Metz et al. 2017, "Unrolled GANs"; Lin et
//! al. 2018, "PacGAN", section 5.1): each channel of every generated image is classified, a mode
//! (digit triple) is captured when at least one sample lands in it, and the mode histogram's KL
//! to uniform is reported, beside PacGAN's published rows, on the papers' 26,000 samples.

use crate::gan::config::TrainConfig;
use crate::gpu::Gpu;
use crate::run::{dir::RunDir, train_in};
use serde::Serialize;
use std::fmt::Write;
use std::time::Instant;

/// PacGAN's Stacked MNIST rows (Lin et al. 2018, Table 2: modes of 1,000 and KL to uniform,
/// 26,000 samples, the DCGAN architecture of Metz et al.).
pub const PUBLISHED: [(&str, f64, f64); 2] = [
    ("DCGAN (Lin et al. 2018, Table 2)", 99.0, 3.40),
    ("PacDCGAN2 (Lin et al. 2018, Table 2)", 1000.0, 0.06),
];

/// The default stacked set: the embedded digits, stacked (`stacked-idx:IMAGES,labels=LABELS`
/// for MNIST).
pub const DEFAULT: &str = "stacked-digits";

/// Generated images classified per run, as in the Stacked MNIST protocol (Metz et al. 2017,
/// appendix; Lin et al. 2018, Table 2).
pub const SAMPLES: usize = 26_000;

/// Iterations of a `--quick` run.
pub const QUICK_ITERATIONS: u64 = 200;

#[derive(Clone, Debug, Serialize)]
pub struct StackedResult {
    pub dataset: String,
    pub seed: u64,
    pub iterations: u64,
    pub modes: usize,
    pub modes_total: usize,
    pub kl_to_uniform: f32,
    pub samples: usize,
    /// The same classifier on [`SAMPLES`] real stacked images (the data set's own draw, extended
    /// to the protocol's count): what a perfect generator would score, the classifier's errors
    /// included.
    pub real_modes: usize,
    pub real_kl_to_uniform: f32,
    pub seconds: f64,
}

/// Trains `dataset` with its defaults (`quick`: [`QUICK_ITERATIONS`]) for `seed` in a
/// temporary run directory, with one evaluation at the end.
pub fn run_one(gpu: &Gpu, dataset: &str, seed: u64, quick: bool) -> anyhow::Result<StackedResult> {
    let ds = crate::data::Dataset::parse(dataset)?;
    anyhow::ensure!(
        ds.stacked_base().is_some(),
        "--stacked takes a stacked set (stacked-digits, stacked-idx:IMAGES,labels=LABELS), not \
         {dataset}"
    );
    let mut cfg = TrainConfig::defaults_for(dataset);
    cfg.seed = seed;
    if quick {
        cfg = cfg.scaled_to(QUICK_ITERATIONS);
    }
    cfg.log_every = cfg.log_every.min(cfg.iterations);
    let dir = std::env::temp_dir().join(format!(
        "shadergan-bench-stacked-{}-{seed}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let t0 = Instant::now();
    let q = train_in(gpu, &cfg, RunDir::create(&dir)?, None).and_then(|_| {
        let path = dir.join(crate::run::dir::CHECKPOINT);
        let ck = crate::gan::checkpoint::load(&path, gpu.max_storage_bytes())?;
        let cache = crate::classifier::file::run_cache_path(&dir);
        let q = crate::quality::run_report::run_report(
            gpu,
            &path,
            &ck,
            &ds,
            &cache,
            SAMPLES,
            |_, _| {},
        )?;
        Ok((q, real_reference(gpu, &ds, seed, &cache)?))
    });
    let _ = std::fs::remove_dir_all(&dir);
    let (q, real) = q?;
    Ok(StackedResult {
        dataset: dataset.to_string(),
        seed,
        iterations: cfg.iterations,
        modes: q.modes_captured.unwrap_or(0),
        modes_total: q.modes_total.unwrap_or(1000),
        kl_to_uniform: q.kl_to_uniform.unwrap_or(f32::NAN),
        samples: q.samples,
        real_modes: real.modes_captured.unwrap_or(0),
        real_kl_to_uniform: real.kl_to_uniform.unwrap_or(f32::NAN),
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// The run's classifier (cached at `cache` by the run's report) on [`SAMPLES`] real stacked
/// images: the base set stacked as the data set stacks it, the first draws being the training set.
fn real_reference(
    gpu: &Gpu,
    ds: &crate::data::Dataset,
    seed: u64,
    cache: &std::path::Path,
) -> anyhow::Result<crate::quality::ImageReport> {
    let (ev, _) = crate::quality::for_run(gpu, ds, seed, cache)?;
    let base = ds.stacked_base().expect("checked to be a stacked set");
    let set = base.load_images(None, 1, gpu.max_storage_bytes())?;
    let (real, _) = crate::data::stacked::stack(&set, SAMPLES);
    ev.evaluate(&real.pixels)
}

/// A data set spec as a row names it: `kind:` and the first part's file name, so a
/// `stacked-idx:` row is not two long paths wide (the JSON keeps the whole spec).
fn short(spec: &str) -> String {
    let Some((kind, rest)) = spec.split_once(':') else {
        return spec.to_string();
    };
    let first = rest.split(',').next().unwrap_or(rest);
    let name = std::path::Path::new(first)
        .file_name()
        .map_or(first.into(), |n| n.to_string_lossy());
    format!("{kind}:{name}")
}

/// The rows: one per seed, their mean, then the published ones.
pub fn describe(results: &[StackedResult]) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "{:<40} {:>6} {:>14} {:>10} {:>8} {:>8} {:>11} {:>8}",
        "stacked (one channel, one digit)",
        "seed",
        "modes",
        "KL",
        "samples",
        "wall s",
        "real modes",
        "real KL"
    );
    for r in results {
        let _ = writeln!(
            w,
            "{:<40} {:>6} {:>7} / {:<4} {:>10.3} {:>8} {:>8.1} {:>11} {:>8.3}",
            format!("shadergan: {} ({} it)", short(&r.dataset), r.iterations),
            r.seed,
            r.modes,
            r.modes_total,
            r.kl_to_uniform,
            r.samples,
            r.seconds,
            r.real_modes,
            r.real_kl_to_uniform
        );
    }
    if results.len() > 1 {
        let n = results.len() as f64;
        let modes = results.iter().map(|r| r.modes as f64).sum::<f64>() / n;
        let kl = results.iter().map(|r| r.kl_to_uniform as f64).sum::<f64>() / n;
        let _ = writeln!(
            w,
            "{:<40} {:>6} {modes:>14.1} {kl:>10.3}",
            "shadergan: mean", "-"
        );
    }
    for (method, modes, kl) in PUBLISHED {
        let _ = writeln!(
            w,
            "{method:<40} {:>6} {modes:>14.0} {kl:>10.2} {:>8}",
            "-", 26000
        );
    }
    let _ = writeln!(
        w,
        "(real modes, real KL: each seed's classifier on {SAMPLES} real stacked images of the \
         same set, the score of a generator that draws the data itself)"
    );
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn rows_name_a_spec_by_its_file() {
        let spec = "stacked-idx:/data/m/images.gz,labels=/data/m/labels.gz";
        assert_eq!(super::short(spec), "stacked-idx:images.gz");
        assert_eq!(super::short("stacked-digits"), "stacked-digits");
        assert_eq!(super::short("stacked-digits:n=500"), "stacked-digits:n=500");
    }
}
