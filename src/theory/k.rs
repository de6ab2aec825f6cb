//! `shadergan theory k`: Algorithm 1 (Goodfellow et al. 2014) trains D k steps for each step of
//! G. The same ring run (the ring's recipe, shortened) is trained with each k, each a full
//! `train` run directory of its own, and the JSD estimate each one's metrics.csv holds,
//! (log 4 - L_D) / 2 from the last D step of each logging interval, is drawn over the iterations
//! on one picture. Since V(G, D) <= V(G, D*) for every D, the estimate is a lower bound of the
//! JSD between P_data and the current P_G, tighter the better D is trained.

use crate::eval::MixtureEval;
use crate::gan::config::TrainConfig;
use crate::gan::metrics::MetricsRow;
use crate::gpu::Gpu;
use crate::run;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// k of each run by default.
pub const KS: [usize; 3] = [1, 2, 5];
/// Iterations (G steps) of each run by default: a twelfth of the ring recipe's 12,000, so the
/// three runs take about two minutes together on lavapipe (docs/theory.md).
pub const ITERATIONS: u64 = 1000;
/// Logging intervals per run: points on the picture.
pub const INTERVALS: u64 = 30;

pub const PICTURE: &str = "jsd_by_k.png";

pub struct KRun {
    pub k: usize,
    pub dir: PathBuf,
    pub history: Vec<MetricsRow>,
    pub seconds: f64,
    pub eval: Option<MixtureEval>,
}

/// The ring's recipe scaled to `iterations`, with k = `k`, logged `INTERVALS` times.
pub fn config(k: usize, iterations: u64, seed: u64) -> TrainConfig {
    let base = TrainConfig::defaults_for("ring").scaled_to(iterations);
    TrainConfig {
        d_steps: k,
        seed,
        log_every: (iterations / INTERVALS).max(1),
        checkpoint_every: 0,
        // Mode coverage of G's own samples is what the table shows; rejection sampling's
        // burn-in would only add time.
        drs: 0.0,
        ..base
    }
}

/// One `train` run per k into `out/k<k>`.
pub fn run(
    gpu: &Gpu,
    out: &Path,
    ks: &[usize],
    iterations: u64,
    seed: u64,
) -> anyhow::Result<Vec<KRun>> {
    anyhow::ensure!(!ks.is_empty(), "k needs at least one value of k");
    // Every run's configuration is checked before the first one trains.
    for &k in ks {
        config(k, iterations, seed)
            .validate()
            .map_err(|e| anyhow::anyhow!("k = {k}: {e}"))?;
    }
    ks.iter()
        .map(|&k| {
            let cfg = config(k, iterations, seed);
            let dir = out.join(format!("k{k}"));
            eprintln!("shadergan: k = {k}: training into {}", dir.display());
            let s = run::train(gpu, &cfg, &dir, None)?;
            Ok(KRun {
                k,
                history: run::read_metrics(&dir.join(run::dir::METRICS)),
                dir,
                seconds: s.seconds,
                eval: s.report,
            })
        })
        .collect()
}

/// The mean JSD estimate over the last quarter of a run's logging intervals.
pub fn late_jsd(h: &[MetricsRow]) -> f64 {
    let tail = &h[h.len() - (h.len() / 4).max(1).min(h.len())..];
    tail.iter().map(|r| r.jsd as f64).sum::<f64>() / tail.len().max(1) as f64
}

pub fn report(runs: &[KRun], iterations: u64, seed: u64) -> String {
    let mut r = String::new();
    let _ = writeln!(
        r,
        "k: Algorithm 1 with k D steps per G step (Goodfellow et al. 2014), ring, {iterations} \
         iterations each (the ring recipe's 12,000 scaled down: learning rates decaying over the \
         run), seed {seed}"
    );
    let _ = writeln!(
        r,
        "JSD estimate = (log 4 - L_D) / 2 from the last D step of each logging interval \
         (metrics.csv's jsd_estimate)\n"
    );
    let _ = writeln!(
        r,
        "{:>2} {:>8} {:>10} {:>15} {:>15} {:>9}  evaluation (2,500 samples)",
        "k", "D steps", "wall s", "JSD est. first", "JSD est. late", "D(G(z))"
    );
    for k in runs {
        let (first, last) = (k.history.first(), k.history.last());
        let _ = writeln!(
            r,
            "{:>2} {:>8} {:>10.1} {:>15.4} {:>15.4} {:>9.3}  {}",
            k.k,
            k.k as u64 * iterations,
            k.seconds,
            first.map_or(f32::NAN, |h| h.jsd),
            late_jsd(&k.history),
            last.map_or(f32::NAN, |h| h.d_fake),
            k.eval.as_ref().map_or("-".into(), |e| e.g.to_string())
        );
    }
    let _ = writeln!(
        r,
        "\n(first: the first logging interval's estimate; late: the mean over the last quarter \
         of the intervals; D(G(z)): the last interval's mean)\nruns: {}\npicture: {PICTURE}",
        runs.iter()
            .map(|k| k.dir.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    r
}

pub fn draw(runs: &[KRun], dir: &Path) -> anyhow::Result<()> {
    let longest = runs.iter().max_by_key(|k| k.history.len());
    let steps: Vec<u64> = longest.map_or(Vec::new(), |k| {
        k.history.iter().map(|h| h.iteration).collect()
    });
    let labels: Vec<String> = runs.iter().map(|k| format!("k = {}", k.k)).collect();
    let series: Vec<(&str, Vec<f32>)> = runs
        .iter()
        .zip(&labels)
        .map(|(k, l)| (l.as_str(), k.history.iter().map(|h| h.jsd).collect()))
        .collect();
    crate::viz::loss_curves(
        &dir.join(PICTURE),
        &steps,
        &series,
        "ring: JSD estimate (log 4 - L_D) / 2 over iterations",
    )
}
