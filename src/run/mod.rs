//! A training run from start to finish, read as "submit; observe; record": the device-side
//! [`Trainer`] runs iterations and is observed once per logging interval, and the [`RunDir`]
//! records what was observed (metrics, pictures, checkpoints, evaluation).
//!
//! Two things stop a run early and still leave a consistent directory: a stop request (Ctrl-C or
//! SIGTERM, see [`request_stop`]) finishes the submit in flight and records everything, and a
//! non-finite loss, output or weight stops before the bad state reaches the checkpoint.

pub mod dir;
pub mod pictures;
mod progress;

pub use dir::{read_metrics, RunDir};

use crate::gan::checkpoint::Checkpoint;
use crate::gan::config::{Arch, TrainConfig};
use crate::gan::metrics::MetricsRow;
use crate::gan::state::TrainState;
use crate::gan::trainer::Trainer;
use crate::gpu::Gpu;
use anyhow::bail;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

static STOP: AtomicBool = AtomicBool::new(false);

/// Asks the run in progress to stop after its current submit (what Ctrl-C does).
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// What a finished (or stopped) run reports.
pub struct TrainSummary {
    pub out: PathBuf,
    /// Iterations run by this call, and the iteration the run stands at.
    pub iterations: u64,
    pub at: u64,
    pub seconds: f64,
    pub last: MetricsRow,
    pub report: Option<crate::eval::MixtureEval>,
    /// Image runs with `eval_every`: the quality at the end.
    pub quality: Option<crate::quality::ImageReport>,
    /// A stop request ended the run before `cfg.iterations`.
    pub interrupted: bool,
}

/// Trains into `out`: a new run into a new or empty folder, or, with `resume`, the run already
/// there continued.
pub fn train(
    gpu: &Gpu,
    cfg: &TrainConfig,
    out: &Path,
    resume: Option<TrainState>,
) -> anyhow::Result<TrainSummary> {
    let dir = match &resume {
        Some(s) => RunDir::resume(out, out, s.iteration())?,
        None => RunDir::create(out)?,
    };
    train_in(gpu, cfg, dir, resume)
}

/// Trains into an open run directory; everything is checked before the first file is written.
pub fn train_in(
    gpu: &Gpu,
    cfg: &TrainConfig,
    mut dir: RunDir,
    resume: Option<TrainState>,
) -> anyhow::Result<TrainSummary> {
    let t = Trainer::new(gpu, cfg, resume)?;
    // The configuration as resolved by the data set (a conditional run's class count).
    let resolved = t.cfg.clone();
    let cfg = &resolved;
    let start = t.iteration()?;
    anyhow::ensure!(
        start < cfg.iterations,
        "the run is already at iteration {start}; pass --iterations larger than that to continue"
    );
    anyhow::ensure!(
        cfg.eval_every == 0 || t.dataset.is_image(),
        "eval_every measures image runs; {} is not images (use `shadergan eval` on a mixture run)",
        t.dataset.name()
    );
    dir.write_config(cfg)?;
    let probe = if cfg.eval_every > 0 {
        Some(QualityProbe::new(gpu, &t, &dir)?)
    } else {
        None
    };
    let mut quality = None;
    let bar = progress::Progress::new(cfg.iterations - start);
    let t0 = Instant::now();
    let (mut it, mut last_log, mut t_log) = (start, start, Instant::now());
    let mut last = MetricsRow::default();
    if start == 0 {
        pictures::snapshot_picture(&dir.frame(0), &t, &t.snapshot()?, None, 0)?;
    }
    let mut interrupted = false;
    while it < cfg.iterations {
        let next_log = (it / cfg.log_every + 1) * cfg.log_every;
        let mut stop = next_log.min(cfg.iterations);
        if let Some(k) = it.checked_div(cfg.checkpoint_every) {
            stop = stop.min((k + 1) * cfg.checkpoint_every);
        }
        let n = cfg.iters_per_submit.min(stop - it);
        t.submit(n)?;
        it += n;
        interrupted = stop_requested();
        let log = it % cfg.log_every == 0 || it == cfg.iterations || interrupted;
        let save = (cfg.checkpoint_every > 0 && it % cfg.checkpoint_every == 0)
            || it == cfg.iterations
            || interrupted;
        if !(log || save) {
            continue;
        }
        gpu.wait()?;
        let state = t.state()?;
        if log {
            last = t.take_metrics(it, it - last_log, t_log.elapsed().as_secs_f64())?;
            (last_log, t_log) = (it, Instant::now());
            let due =
                it.is_multiple_of(cfg.eval_every.max(1)) || it == cfg.iterations || interrupted;
            if let (Some(p), true) = (&probe, due && is_finite(&state)) {
                let r = p.evaluate(&state)?;
                last = last.with_quality(&r);
                quality = Some(r);
            }
            dir.record(last)?;
            let snap = t.snapshot()?;
            let outputs_finite = snap.samples.iter().chain(&snap.d).all(|v| v.is_finite());
            if !(last.is_finite() && outputs_finite && is_finite(&state)) {
                dir.draw_summary(&title(&t))?;
                bail!(diverged(&dir, it, cfg, &last));
            }
            // The arrows: G's last step's pushes on its points (2-D pictures only).
            let push = match (cfg.arrows, t.gan.dim) {
                (0, _) => None,
                (n, 2) => Some(t.g_push(n)?),
                _ => None,
            };
            pictures::snapshot_picture(&dir.frame(it), &t, &snap, push.as_ref(), it)?;
            bar.update(it - start, &last);
        } else if !is_finite(&state) {
            bail!(diverged(&dir, it, cfg, &last));
        }
        if save {
            dir.save_checkpoint(&Checkpoint {
                config: cfg.clone(),
                state,
                data_dim: t.gan.dim,
                image: t.data.image,
            })?;
        }
        if interrupted {
            break;
        }
    }
    gpu.wait()?;
    let seconds = t0.elapsed().as_secs_f64();
    bar.finish();
    dir.draw_summary(&title(&t))?;
    if let (Some(p), Some(q)) = (&probe, &quality) {
        dir.draw_quality(
            p.ev.classifier.classes,
            &format!("{} quality", t.dataset.name()),
        )?;
        dir.write_eval(q)?;
    }
    let report = if t.dataset.centres().is_empty() {
        None
    } else {
        let snap = t.snapshot()?;
        let sampler = crate::gan::drs::sampler_for(gpu, cfg, &t.state()?, t.gan.dim)?;
        let r = crate::gan::drs::evaluate(&cfg.dataset, cfg.seed, sampler.as_ref(), &snap.samples)?;
        dir.write_eval(&r)?;
        if let (Some(s), 2) = (&sampler, t.gan.dim) {
            let (x, keep) = s.decide(cfg.seed, DRS_PICTURE_SAMPLES)?;
            pictures::drs_picture(&dir.path.join(dir::DRS_PNG), &t, &snap, &x, &keep)?;
        }
        Some(r)
    };
    Ok(TrainSummary {
        out: dir.path.clone(),
        iterations: it - start,
        at: it,
        seconds,
        last,
        report,
        quality,
        interrupted,
    })
}

/// The classifier and a generator of the run's architecture, built once at the start of an image
/// run with `eval_every`; each evaluation loads G's current weights and classifies
/// [`crate::quality::SAMPLES`] images from the fixed evaluation noise.
struct QualityProbe<'g> {
    ev: crate::quality::Evaluator<'g>,
    g: crate::gan::generate::Generator<'g>,
    seed: u64,
    /// A DCGAN's rows are NCHW; the classifier reads HWC rows of this shape.
    chw: Option<[usize; 3]>,
}

impl<'g> QualityProbe<'g> {
    fn new(gpu: &'g Gpu, t: &Trainer, dir: &RunDir) -> anyhow::Result<Self> {
        let cache = dir.path.join(crate::classifier::file::RUN_FILE);
        let (ev, _) = crate::quality::for_run(gpu, &t.dataset, t.cfg.seed, &cache)?;
        if let Some(shape) = t.data.image {
            ev.expect_image(shape)?;
        }
        let state = t.state()?;
        let g = crate::gan::generate::Generator::for_run(
            gpu,
            &t.cfg,
            t.gan.dim,
            state.g_sampling(),
            &state.g_running,
        )?;
        Ok(QualityProbe {
            ev,
            g,
            seed: t.cfg.seed,
            chw: t.data.image.filter(|_| t.cfg.arch == Arch::Dcgan),
        })
    }

    fn evaluate(&self, state: &TrainState) -> anyhow::Result<crate::quality::ImageReport> {
        self.g.set_weights(state.g_sampling(), &state.g_running);
        let mut x = Vec::new();
        self.g
            .sample_stream(self.seed, crate::quality::SAMPLES, |_, chunk| {
                x.extend_from_slice(chunk);
                Ok(())
            })?;
        if x.iter().any(|v| !v.is_finite()) {
            // The divergence guard right after this reports it with its advice.
            return Ok(crate::quality::ImageReport::nan());
        }
        if let Some(shape) = self.chw {
            x = crate::gan::dcgan::chw_to_hwc(&x, shape);
        }
        // A conditional G draws the classes in turn (`Generator::sample_stream`).
        let asked: Option<Vec<u32>> = self.g.classes().map(|k| {
            (0..crate::quality::SAMPLES)
                .map(|i| (i % k) as u32)
                .collect()
        });
        self.ev.evaluate_labeled(&x, asked.as_deref())
    }
}

/// G's samples drawn in drs.png, each kept or rejected.
const DRS_PICTURE_SAMPLES: usize = 2000;

fn title(t: &Trainer) -> String {
    format!("{} losses", t.dataset.name())
}

fn is_finite(s: &TrainState) -> bool {
    [
        &s.g_params,
        &s.d_params,
        &s.g_adam_m,
        &s.g_adam_v,
        &s.d_adam_m,
        &s.d_adam_v,
        &s.g_running,
        &s.d_running,
        &s.g_ema,
    ]
    .iter()
    .all(|v| v.iter().all(|x| x.is_finite()))
}

/// The divergence message: where it happened, what was kept, what to try.
fn diverged(dir: &RunDir, it: u64, cfg: &TrainConfig, m: &MetricsRow) -> String {
    let kept = if dir.path.join(dir::CHECKPOINT).exists() {
        format!(
            "the last good checkpoint is kept in {}",
            dir.path.join(dir::CHECKPOINT).display()
        )
    } else {
        "no checkpoint had been written yet".to_string()
    };
    format!(
        "training diverged by iteration {it}: a loss, an output or a weight is no longer a \
         finite number (last interval: {}); {kept}. Try lower learning rates than lr_d = {} \
         and lr_g = {} (e.g. --lr-d {:e} --lr-g {:e})",
        m.summary(),
        cfg.lr_d,
        cfg.lr_g,
        cfg.lr_d / 10.0,
        cfg.lr_g / 10.0
    )
}
