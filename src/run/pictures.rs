//! The pictures of a run: one per logging interval from a [`Snapshot`], the loss curves, and the
//! animation of the frames.

use super::MetricsRow;
use crate::gan::trainer::{GPush, Snapshot, Trainer, HEAT_N};
use crate::viz;
use std::path::{Path, PathBuf};

/// Writes samples/step_NNNNNN.png: an 8 x 8 grid of images, real and generated points over D's
/// heat map (2-D) with G's last step's `push` as arrows when given, or the densities and D(x)
/// as curves (1-D).
pub fn snapshot_picture(
    path: &Path,
    t: &Trainer,
    snap: &Snapshot,
    push: Option<&GPush>,
    iteration: u64,
) -> anyhow::Result<()> {
    let (samples, d) = (&snap.samples, &snap.d);
    if let Some([w, h, c]) = t.data.image {
        let images: Vec<Vec<f32>> = samples.chunks(w * h * c).map(|x| x.to_vec()).collect();
        let scale = viz::grid_scale(w, h);
        return viz::image_grid(path, &images, w as u32, h as u32, c as u32, 8, scale);
    }
    let b = t.dataset.bounds();
    let title = format!("{}  iteration {iteration}", t.dataset.name());
    let data = &t.data.rows;
    let n_real = 1000.min(data.len() / t.gan.dim);
    if t.gan.dim == 2 {
        let pts = |v: &[f32]| -> Vec<[f32; 2]> { v.chunks(2).map(|c| [c[0], c[1]]).collect() };
        let bounds = [b[0].0, b[0].1, b[1].0, b[1].1];
        let heat = viz::Heatmap {
            nx: HEAT_N,
            ny: HEAT_N,
            bounds,
            values: d.clone(),
        };
        let (at, pushes) = match push {
            Some(p) => (pts(&p.at), pts(&p.push)),
            None => (Vec::new(), Vec::new()),
        };
        let arrows = push.map(|_| viz::Arrows {
            at: &at,
            push: &pushes,
            label: "-dL_G/dx",
        });
        viz::scatter_arrows(
            path,
            &[
                ("real", &pts(&data[..n_real * 2]), viz::REAL),
                (
                    "generated",
                    &pts(&samples[..1000.min(samples.len() / 2) * 2]),
                    viz::FAKE,
                ),
            ],
            Some(&heat),
            arrows,
            &title,
            bounds,
        )
    } else {
        let curve: Vec<(f32, f32)> = t.probe.iter().copied().zip(d.iter().copied()).collect();
        viz::density_1d(
            path,
            &data[..n_real.max(1)],
            samples,
            &curve,
            [b[0].0, b[0].1],
            &title,
        )
    }
}

/// drs.png (2-D runs with `drs`): real points, and G's first samples on the evaluation noise
/// coloured by what discriminator rejection sampling does with them, kept or rejected, over the
/// heat map of D(x) that decides it.
pub fn drs_picture(
    path: &Path,
    t: &Trainer,
    snap: &Snapshot,
    x: &[f32],
    keep: &[bool],
) -> anyhow::Result<()> {
    let b = t.dataset.bounds();
    let bounds = [b[0].0, b[0].1, b[1].0, b[1].1];
    let pts = |v: &[f32]| -> Vec<[f32; 2]> { v.chunks(2).map(|c| [c[0], c[1]]).collect() };
    let n_real = 1000.min(t.data.rows.len() / 2);
    let (mut kept, mut rejected) = (Vec::new(), Vec::new());
    for (p, &k) in pts(x).into_iter().zip(keep) {
        if k { &mut kept } else { &mut rejected }.push(p);
    }
    let heat = viz::Heatmap {
        nx: HEAT_N,
        ny: HEAT_N,
        bounds,
        values: snap.d.clone(),
    };
    let title = format!(
        "{}  DRS p{}: {} of {} kept",
        t.dataset.name(),
        t.cfg.drs,
        kept.len(),
        keep.len()
    );
    viz::scatter_sets(
        path,
        &[
            ("real", &pts(&t.data.rows[..n_real * 2]), viz::REAL),
            ("rejected", &rejected, viz::REJECTED),
            ("kept", &kept, viz::FAKE),
        ],
        Some(&heat),
        &title,
        bounds,
    )
}

/// loss.png: D loss, G loss, D(x), D(G(z)) and the JSD estimate over the run's history.
pub fn loss_picture(path: &Path, history: &[MetricsRow], title: &str) -> anyhow::Result<()> {
    let steps: Vec<u64> = history.iter().map(|r| r.iteration).collect();
    let series = |f: fn(&MetricsRow) -> f32| history.iter().map(f).collect::<Vec<f32>>();
    viz::loss_curves(
        path,
        &steps,
        &[
            ("D loss (-V for BCE)", series(|r| r.d_loss)),
            ("G loss", series(|r| r.g_loss)),
            ("D(x) (logit if not BCE)", series(|r| r.d_real)),
            ("D(G(z))", series(|r| r.d_fake)),
            ("JSD estimate (BCE only)", series(|r| r.jsd)),
        ],
        title,
    )
}

/// quality.png: an image run's quality numbers over training, on one axis: shares in [0, 1]
/// (classes covered of 10, stacked modes of 1,000, confident samples, a conditional run's
/// accuracy), KL in nats, and the
/// Fréchet distance as log10 (it spans orders of magnitude). Rows without them are skipped.
pub fn quality_picture(
    path: &Path,
    history: &[MetricsRow],
    classes: usize,
    title: &str,
) -> anyhow::Result<()> {
    let rows: Vec<&MetricsRow> = history.iter().filter(|r| r.frechet.is_some()).collect();
    let steps: Vec<u64> = rows.iter().map(|r| r.iteration).collect();
    let series = |f: &dyn Fn(&MetricsRow) -> Option<f32>| -> Vec<f32> {
        rows.iter().map(|r| f(r).unwrap_or(f32::NAN)).collect()
    };
    let mut lines = vec![
        (
            "classes covered (share)",
            series(&|r| r.classes_covered.map(|c| c as f32 / classes as f32)),
        ),
        ("confident share", series(&|r| r.confident_share)),
        ("KL to real classes", series(&|r| r.kl_to_real)),
        (
            "log10 Frechet",
            series(&|r| r.frechet.map(|f| f.max(1e-6).log10())),
        ),
    ];
    if rows.iter().any(|r| r.conditional_accuracy.is_some()) {
        lines.push(("conditional accuracy", series(&|r| r.conditional_accuracy)));
    }
    if rows.iter().any(|r| r.modes_captured.is_some()) {
        lines.push((
            "modes captured / 1000",
            series(&|r| r.modes_captured.map(|m| m as f32 / 1000.0)),
        ));
        lines.push(("KL to uniform modes", series(&|r| r.kl_to_uniform)));
    }
    viz::loss_curves(path, &steps, &lines, title)
}

/// evolution.gif: every samples/step_*.png frame in `samples_dir`, in order.
pub fn evolution_gif(path: &Path, samples_dir: &Path) -> anyhow::Result<()> {
    let mut frames: Vec<PathBuf> = std::fs::read_dir(samples_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().map(|e| e == "png").unwrap_or(false)
                && p.file_name()
                    .map(|n| n.to_string_lossy().starts_with("step_"))
                    .unwrap_or(false)
        })
        .collect();
    frames.sort();
    viz::write_gif(path, &frames, 200)
}
