//! `shadergan eval`: mode coverage of a checkpoint's generator on its mixture data set (and of
//! the samples discriminator rejection sampling keeps, for a run with `drs`), or, for
//! image data sets, the classifier-based quality numbers of `crate::quality` (the classifier is
//! trained on first use and cached in the run directory), with a conditional run's accuracy: the
//! share of G(z, y) classified as y, per class and overall.

use super::checkpoint_path;
use crate::gan::checkpoint;
use crate::gan::generate::Generator;
use crate::gan::trainer::EVAL_ROWS;
use crate::gpu::Gpu;
use anyhow::bail;
use std::path::Path;

pub fn run_eval(gpu: &Gpu, target: &Path, samples: usize, drs: Option<f32>) -> anyhow::Result<()> {
    let path = checkpoint_path(target);
    let mut ck = checkpoint::load(&path, gpu.max_storage_bytes())?;
    ck.config.drs = drs.unwrap_or(ck.config.drs);
    let ds = crate::data::Dataset::parse(&ck.config.dataset)?;
    if ds.is_image() {
        return eval_images(gpu, target, &path, &ck, &ds, samples);
    }
    // Checked before the generator runs: spiral, moons and images have no modes to count.
    if ds.mixture().is_none() {
        crate::eval::evaluate(&ds, &[])?;
    }
    let g = Generator::new(
        gpu,
        &ck.config.g_network(ck.data_dim)?,
        ck.state.g_sampling(),
        &ck.state.g_running,
    )?;
    let mut x = Vec::with_capacity(EVAL_ROWS * ck.data_dim);
    g.sample_stream(ck.config.seed, EVAL_ROWS, |_, chunk| {
        x.extend_from_slice(chunk);
        Ok(())
    })?;
    if let Some(bad) = x.iter().find(|v| !v.is_finite()) {
        bail!(
            "{}: the generator outputs {bad} (not a finite number), so the run it comes from \
             diverged; evaluate an earlier checkpoint or train again with lower learning rates",
            path.display()
        );
    }
    let sampler = crate::gan::drs::sampler_for(gpu, &ck.config, &ck.state, ck.data_dim)?;
    let r = crate::gan::drs::evaluate(&ck.config.dataset, ck.config.seed, sampler.as_ref(), &x)?;
    println!("{}: {r}", path.display());
    if target.is_dir() {
        crate::run::dir::write_eval(&target.join(crate::run::dir::EVAL), &r)?;
    }
    Ok(())
}

/// Classifies `samples` generated images and writes the report to eval.toml in a run directory.
fn eval_images(
    gpu: &Gpu,
    target: &Path,
    path: &Path,
    ck: &checkpoint::Checkpoint,
    ds: &crate::data::Dataset,
    samples: usize,
) -> anyhow::Result<()> {
    let t0 = std::time::Instant::now();
    let cache = crate::classifier::file::run_cache_path(target);
    let r = crate::quality::run_report::run_report(
        gpu,
        path,
        ck,
        ds,
        &cache,
        samples,
        |c, trained| {
            eprintln!(
                "shadergan: classifier {} {} ({:.1}% test accuracy on {})",
                if trained {
                    "trained into"
                } else {
                    "reused from"
                },
                cache.display(),
                100.0 * c.test_accuracy,
                c.dataset
            )
        },
    )?;
    println!(
        "{}: {r} ({:.1} s)",
        path.display(),
        t0.elapsed().as_secs_f64()
    );
    if target.is_dir() {
        crate::run::dir::write_eval(&target.join(crate::run::dir::EVAL), &r)?;
    }
    Ok(())
}
