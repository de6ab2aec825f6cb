//! `shadergan bench quality`: does each built-in 2-D mixture learn all its modes with its
//! defaults? Trains `ring` and `grid` with `TrainConfig::defaults_for` for seeds 1..=N, scores
//! 2,500 samples of each run with the evaluation of `shadergan eval` (a sample is high quality
//! within 3 std of its nearest centre; a mode is captured when it has one; `crate::eval`), and
//! prints modes and high-quality share (mean and minimum over seeds), wall time and it/s, next
//! to the published numbers of PacGAN (Lin et al. 2018) on the same protocol. A recipe with
//! discriminator rejection sampling (`drs`) gets a second row: the same runs scored on the
//! 2,500 samples DRS keeps from the same noise, with the share of G's samples it kept.
//!
//! A run here is `shadergan train` without its files: the same trainer, schedule and submits,
//! the final snapshot of G (or of its moving average) on the fixed evaluation noise, but no
//! pictures, metrics or checkpoints. Wall time is from the start of the trainer (pipelines,
//! data) to the evaluation's end.

use super::Report;
use crate::gan::config::TrainConfig;
use crate::gan::trainer::Trainer;
use crate::gpu::Gpu;
use serde::Serialize;
use std::fmt::Write;
use std::time::Instant;

/// The mixtures whose modes can be counted, in table order.
pub const DATASETS: &[&str] = &["ring", "grid"];
/// `--quick`: iterations per run (a check that everything runs, not a measurement).
pub const QUICK_ITERATIONS: u64 = 200;

/// The published reference rows (2,500 samples, 3 std, as in `crate::eval`) from PacGAN (Lin et
/// al. 2018, "PacGAN: The power of two samples in generative adversarial networks", the 2-D grid
/// and ring experiments): (data set, method, modes, high quality %).
pub const PUBLISHED: &[(&str, &str, f64, f64)] = &[
    ("ring", "PacGAN2 (Lin et al. 2018)", 7.9, 95.6),
    ("grid", "PacGAN4 (Lin et al. 2018)", 24.8, 93.6),
];

/// One training run's result: G's samples as drawn, and with the recipe's discriminator
/// rejection sampling when it has one.
#[derive(Clone, Debug, Serialize)]
pub struct SeedResult {
    pub seed: u64,
    pub modes: usize,
    pub modes_total: usize,
    pub high_quality: f64,
    pub drs: Option<DrsResult>,
    pub seconds: f64,
    pub iterations: u64,
}

/// The samples DRS kept from one run.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct DrsResult {
    pub modes: usize,
    pub high_quality: f64,
    /// Percent of G's samples kept.
    pub kept: f64,
}

/// Modes and high quality over seeds.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub modes_mean: f64,
    pub modes_min: usize,
    /// Percent.
    pub high_quality_mean: f64,
    pub high_quality_min: f64,
}

impl Summary {
    fn of(runs: impl Iterator<Item = (usize, f64)> + Clone) -> Summary {
        let n = runs.clone().count().max(1) as f64;
        Summary {
            modes_mean: runs.clone().map(|(m, _)| m as f64).sum::<f64>() / n,
            modes_min: runs.clone().map(|(m, _)| m).min().unwrap_or(0),
            high_quality_mean: runs.clone().map(|(_, h)| h).sum::<f64>() / n,
            high_quality_min: runs.map(|(_, h)| h).fold(f64::MAX, f64::min),
        }
    }
}

/// One data set over all seeds.
#[derive(Clone, Debug, Serialize)]
pub struct DatasetResult {
    pub dataset: String,
    pub modes_total: usize,
    /// G's samples as drawn.
    pub g: Summary,
    /// The samples DRS kept (recipes with `drs`), and the mean percent kept.
    pub drs: Option<Summary>,
    pub drs_kept_mean: Option<f64>,
    /// The percentile of the recipe's DRS.
    pub drs_percentile: f32,
    /// Mean seconds per run (training and evaluation, DRS included).
    pub seconds_mean: f64,
    pub iters_per_sec: f64,
    /// The configuration every seed ran with (the seed aside), as config.toml would show it.
    pub config: String,
    pub runs: Vec<SeedResult>,
}

/// Trains `cfg` to its end and scores the fixed evaluation noise (and, with `drs`, the samples
/// DRS keeps from it).
pub fn run_one(gpu: &Gpu, cfg: &TrainConfig) -> anyhow::Result<SeedResult> {
    let t0 = Instant::now();
    let t = Trainer::new(gpu, cfg, None)?;
    let mut it = 0;
    while it < cfg.iterations {
        let n = cfg.iters_per_submit.min(cfg.iterations - it);
        t.submit(n)?;
        it += n;
        if it % cfg.log_every == 0 {
            // As `train` does: the metric sums are read and zeroed once per logging interval.
            gpu.wait()?;
            t.take_metrics(it, cfg.log_every, 0.0)?;
        }
    }
    gpu.wait()?;
    // A diverged run's samples are NaN: never high quality, so it scores 0.
    let samples = t.snapshot()?.samples;
    let sampler = crate::gan::drs::sampler_for(gpu, cfg, &t.state()?, t.gan.dim)?;
    let r = crate::gan::drs::evaluate(&cfg.dataset, cfg.seed, sampler.as_ref(), &samples)?;
    Ok(SeedResult {
        seed: cfg.seed,
        modes: r.g.modes_captured,
        modes_total: r.g.modes_total,
        high_quality: 100.0 * r.g.high_quality_fraction as f64,
        drs: r.drs.map(|d| DrsResult {
            modes: d.coverage.modes_captured,
            high_quality: 100.0 * d.coverage.high_quality_fraction as f64,
            kept: 100.0 * d.sampling.acceptance(),
        }),
        seconds: t0.elapsed().as_secs_f64(),
        iterations: cfg.iterations,
    })
}

/// Each of `datasets` (empty: [`DATASETS`]) for seeds 1..=`seeds` (`quick`:
/// [`QUICK_ITERATIONS`] each).
pub fn measure(
    gpu: &Gpu,
    datasets: &[String],
    seeds: u64,
    quick: bool,
    mut progress: impl FnMut(&str, &SeedResult),
) -> anyhow::Result<Vec<DatasetResult>> {
    anyhow::ensure!(seeds >= 1, "bench quality needs at least one seed");
    let chosen: Vec<&str> = if datasets.is_empty() {
        DATASETS.to_vec()
    } else {
        datasets.iter().map(String::as_str).collect()
    };
    for ds in &chosen {
        let d = crate::data::Dataset::parse(ds)?;
        anyhow::ensure!(
            !d.is_image(),
            "bench quality counts the modes of 2-D mixtures; {ds} is an image data set"
        );
    }
    let mut out = Vec::new();
    for ds in chosen {
        let mut base = TrainConfig::defaults_for(ds);
        if quick {
            base = base.scaled_to(QUICK_ITERATIONS);
            base.log_every = base.log_every.min(QUICK_ITERATIONS);
        }
        let mut runs = Vec::new();
        for seed in 1..=seeds {
            let cfg = TrainConfig {
                seed,
                ..base.clone()
            };
            let r = run_one(gpu, &cfg)?;
            progress(ds, &r);
            runs.push(r);
        }
        let n = runs.len() as f64;
        let secs: f64 = runs.iter().map(|r| r.seconds).sum();
        let iters: u64 = runs.iter().map(|r| r.iterations).sum();
        let drs: Vec<DrsResult> = runs.iter().filter_map(|r| r.drs).collect();
        out.push(DatasetResult {
            dataset: ds.to_string(),
            modes_total: runs[0].modes_total,
            g: Summary::of(runs.iter().map(|r| (r.modes, r.high_quality))),
            drs: (!drs.is_empty())
                .then(|| Summary::of(drs.iter().map(|d| (d.modes, d.high_quality)))),
            drs_kept_mean: (!drs.is_empty())
                .then(|| drs.iter().map(|d| d.kept).sum::<f64>() / drs.len() as f64),
            drs_percentile: base.drs,
            seconds_mean: secs / n,
            iters_per_sec: iters as f64 / secs.max(1e-9),
            config: base.to_toml(),
            runs,
        });
    }
    Ok(out)
}

/// Measures and reports; progress lines go to stderr.
/// `stacked`: also the stacked row (`super::stacked`) on that set, and with no `datasets` only it.
pub fn run(
    gpu: &Gpu,
    datasets: &[String],
    seeds: u64,
    quick: bool,
    stacked: Option<&str>,
) -> anyhow::Result<Report> {
    let mut stacked_rows = Vec::new();
    if let Some(spec) = stacked {
        for seed in 1..=seeds {
            let r = super::stacked::run_one(gpu, spec, seed, quick)?;
            eprintln!(
                "bench quality: {spec} seed {seed}: {}/{} modes, KL to uniform {:.3}, {:.1} s",
                r.modes, r.modes_total, r.kl_to_uniform, r.seconds
            );
            stacked_rows.push(r);
        }
        if datasets.is_empty() {
            let text = super::stacked::describe(&stacked_rows);
            let json = serde_json::json!({"seeds": seeds, "quick": quick, "stacked": stacked_rows});
            return Ok(Report::new(gpu, "quality", text, json));
        }
    }
    let results = measure(gpu, datasets, seeds, quick, |ds, r| {
        let drs = r.drs.map_or(String::new(), |d| {
            format!(
                "; with DRS {}/{} modes, {:.1}% high quality ({:.0}% kept)",
                d.modes, r.modes_total, d.high_quality, d.kept
            )
        });
        eprintln!(
            "bench quality: {ds} seed {}: G {}/{} modes, {:.1}% high quality{drs}, {:.1} s",
            r.seed, r.modes, r.modes_total, r.high_quality, r.seconds
        )
    })?;
    let mut text = describe(gpu, &results, seeds, quick);
    if !stacked_rows.is_empty() {
        text.push_str(&super::stacked::describe(&stacked_rows));
    }
    let published: Vec<_> = PUBLISHED
        .iter()
        .map(|(ds, method, modes, hq)| {
            serde_json::json!({"dataset": ds, "method": method, "modes": modes,
                               "high_quality": hq})
        })
        .collect();
    let json = serde_json::json!({
        "seeds": seeds,
        "quick": quick,
        "datasets": results,
        "published": published,
        "stacked": stacked_rows,
    });
    Ok(Report::new(gpu, "quality", text, json))
}

/// The table: one row per data set, then the published rows.
pub fn describe(gpu: &Gpu, results: &[DatasetResult], seeds: u64, quick: bool) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "quality on {} ({:?}, {}): defaults of each data set, seeds 1..={seeds}{}, 2,500 samples, \
         high quality = within 3 std of a centre",
        gpu.info.name,
        gpu.info.backend,
        gpu.info.driver_info,
        if quick {
            format!(", --quick ({QUICK_ITERATIONS} iterations)")
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        w,
        "{:<6} {:<28} {:>11} {:>9} {:>9} {:>8} {:>6} {:>8} {:>7}",
        "data",
        "method",
        "modes mean",
        "modes min",
        "HQ% mean",
        "HQ% min",
        "kept%",
        "wall s",
        "it/s"
    );
    for r in results {
        if r.dataset.contains(':') {
            let _ = writeln!(w, "{}:", r.dataset);
        }
        let name = r.dataset.split(':').next().unwrap_or("");
        let drs = r.drs.as_ref().map(|d| {
            let kept = format!("{:.0}", r.drs_kept_mean.unwrap_or(0.0));
            (format!("shadergan: G + DRS p{}", r.drs_percentile), d, kept)
        });
        let g = ("shadergan: G".to_string(), &r.g, "-".to_string());
        for (method, s, kept) in [g].into_iter().chain(drs) {
            let _ = writeln!(
                w,
                "{name:<6} {method:<28} {:>6.1} / {:<2} {:>9} {:>9.1} {:>8.1} {kept:>6} {:>8.1} \
                 {:>7.1}",
                s.modes_mean,
                r.modes_total,
                s.modes_min,
                s.high_quality_mean,
                s.high_quality_min,
                r.seconds_mean,
                r.iters_per_sec
            );
        }
    }
    // The published rows are for the default ring and grid only.
    for (ds, method, modes, hq) in PUBLISHED {
        if !results.iter().any(|r| r.dataset == *ds) {
            continue;
        }
        let _ = writeln!(
            w,
            "{ds:<6} {method:<28} {modes:>11.1} {:>9} {hq:>9.1} {:>8} {:>6} {:>8} {:>7}",
            "-", "-", "-", "-", "-"
        );
    }
    out
}
