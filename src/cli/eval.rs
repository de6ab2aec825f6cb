//! `shadergan eval`: mode coverage of a checkpoint's generator on its mixture data set.

use super::checkpoint_path;
use crate::gan::checkpoint;
use crate::gan::generate::Generator;
use crate::gan::trainer::EVAL_ROWS;
use crate::gpu::Gpu;
use anyhow::bail;
use std::path::Path;

pub fn run_eval(gpu: &Gpu, target: &Path) -> anyhow::Result<()> {
    let path = checkpoint_path(target);
    let ck = checkpoint::load(&path, gpu.max_storage_bytes())?;
    let ds = crate::data::Dataset::parse(&ck.config.dataset)?;
    // Checked before the generator runs: spiral, moons and images have no modes to count.
    if ds.mixture().is_none() {
        crate::eval::evaluate(&ds, &[])?;
    }
    let g = Generator::new(
        gpu,
        &ck.config.g_network(ck.data_dim)?,
        &ck.state.g_params,
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
    let r = crate::eval::evaluate(&ds, &x)?;
    println!("{}: {r}", path.display());
    if target.is_dir() {
        crate::run::dir::write_eval(&target.join(crate::run::dir::EVAL), &r)?;
    }
    Ok(())
}
