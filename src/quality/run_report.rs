//! The image report of a saved run: its generator's samples scored by the run's classifier
//! (trained and cached in the run directory on first use). `eval` and `bench quality --stacked`
//! read runs through it.

use super::{Evaluator, ImageReport};
use crate::classifier::Classifier;
use crate::data::limit::format_bytes;
use crate::gan::checkpoint::Checkpoint;
use crate::gan::config::Arch;
use crate::gan::generate::Generator;
use crate::gpu::Gpu;
use anyhow::bail;
use std::path::Path;

/// The most bytes of generated images one evaluation holds: 50,000 samples of 64 x 64 x 3 (the
/// usual FID count, Heusel et al. 2017) fit, at 2.3 GiB; the run holds about three times this at
/// its peak (the samples, their channels, the features).
pub const MAX_SAMPLE_BYTES: u64 = 4 << 30;

/// The report of `samples` images of the run whose checkpoint `ck` was read from `path` (its
/// data set `ds`), with the classifier cached at `cache`; `classifier` sees that classifier and
/// whether it was trained now (else reused) before the samples are drawn.
pub fn run_report(
    gpu: &Gpu,
    path: &Path,
    ck: &Checkpoint,
    ds: &crate::data::Dataset,
    cache: &Path,
    samples: usize,
    classifier: impl FnOnce(&Classifier, bool),
) -> anyhow::Result<ImageReport> {
    anyhow::ensure!(
        samples >= 2,
        "--samples must be at least 2 (a covariance needs two)"
    );
    // The samples are held whole in memory (and copied per channel), so their count is bounded:
    // past MAX_SAMPLE_BYTES an error, not an allocation that aborts the process.
    let per = ck.data_dim as u64 * 4;
    let bytes = (samples as u64).saturating_mul(per);
    anyhow::ensure!(
        bytes <= MAX_SAMPLE_BYTES,
        "--samples {samples}: that many generated images of {} values take {}, more than the {} \
         an evaluation holds; ask for at most {}",
        ck.data_dim,
        format_bytes(bytes),
        format_bytes(MAX_SAMPLE_BYTES),
        MAX_SAMPLE_BYTES / per
    );
    let (ev, trained) = super::for_run(gpu, ds, ck.config.seed, cache)?;
    if let Some(shape) = ck.image {
        ev.expect_image(shape)?;
    }
    classifier(&ev.classifier, trained);
    let g = Generator::for_run(
        gpu,
        &ck.config,
        ck.data_dim,
        ck.state.g_sampling(),
        &ck.state.g_running,
    )?;
    let asked = conditional_classes(&g, &ev, samples)?;
    let mut x = Vec::with_capacity(samples * ck.data_dim);
    g.sample_stream(ck.config.seed, samples, |_, chunk| {
        x.extend_from_slice(chunk);
        Ok(())
    })?;
    // A DCGAN generator writes NCHW rows; the classifier reads HWC rows like the data set.
    if let (Arch::Dcgan, Some(shape)) = (ck.config.arch, ck.image) {
        x = crate::gan::dcgan::chw_to_hwc(&x, shape);
    }
    if let Some(bad) = x.iter().find(|v| !v.is_finite()) {
        bail!(
            "{}: the generator outputs {bad} (not a finite number), so the run it comes from \
             diverged; evaluate an earlier checkpoint or train again with lower learning rates",
            path.display()
        );
    }
    ev.evaluate_labeled(&x, asked.as_deref())
}

/// For a conditional G, the classes it is asked for, in turn (the classifier is then asked
/// whether it drew them); `None` for an unconditional one.
fn conditional_classes(
    g: &Generator,
    ev: &Evaluator,
    samples: usize,
) -> anyhow::Result<Option<Vec<u32>>> {
    let Some(k) = g.classes() else {
        return Ok(None);
    };
    let c = ev.classifier.classes;
    anyhow::ensure!(k == c, "the run has {k} classes but its classifier {c}");
    Ok(Some((0..samples).map(|i| (i % k) as u32).collect()))
}
