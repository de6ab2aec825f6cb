//! Line pictures: the 1-D GAN picture (P_data, P_G and D(x)) and loss curves over steps.

use super::{blend, nice_ticks, D_CURVE, FAKE, INK, PALETTE, REAL};
use super::{canvas, draw_text, font, legend, save_png, title, Axes, Mark};
use image::{Rgb, RgbImage};
use std::path::Path;

const LEFT: i32 = 80;
const TOP: i32 = 64;
const W: i32 = 560;
const H: i32 = 360;
const BOTTOM: i32 = 50;
const BINS: usize = 60;

/// Writes the classic 1-D GAN picture: histograms of `real` and `fake` as densities on
/// `bounds` = [xmin, xmax] (left axis), and the discriminator `d_curve` = (x, D(x)) on [0, 1]
/// (right axis, dashed line at 1/2), with a legend and `title`.
pub fn density_1d(
    path: &Path,
    real: &[f32],
    fake: &[f32],
    d_curve: &[(f32, f32)],
    bounds: [f32; 2],
    title_text: &str,
) -> anyhow::Result<()> {
    let [lo, hi] = bounds;
    anyhow::ensure!(
        lo.is_finite() && hi.is_finite() && lo < hi,
        "bounds {bounds:?} must be finite [xmin, xmax] with xmin < xmax"
    );
    let (hr, hf) = (histogram(real, bounds), histogram(fake, bounds));
    let peak = hr.iter().chain(&hf).fold(0f32, |m, &v| m.max(v));
    let ymax = if peak > 0.0 { peak as f64 * 1.1 } else { 1.0 };
    let legend_x = LEFT + W + 64;
    let mut img = canvas((legend_x + 170) as u32, (TOP + H + BOTTOM) as u32);
    let ax = Axes {
        left: LEFT,
        top: TOP,
        w: W,
        h: H,
        x: [lo as f64, hi as f64],
        y: [0.0, ymax],
    };
    let d_ax = Axes {
        y: [0.0, 1.0],
        ..ax
    };
    ax.grid(&mut img);
    let bw = (hi - lo) as f64 / BINS as f64;
    for (hist, color) in [(&hr, REAL), (&hf, FAKE)] {
        fill_bars(&mut img, &ax, hist, bw, color);
    }
    for (hist, color) in [(&hr, REAL), (&hf, FAKE)] {
        let at = |i: usize| hist.get(i).map_or(0.0, |&v| v as f64);
        for i in 0..=BINS {
            let x = lo as f64 + i as f64 * bw;
            let prev = if i == 0 { 0.0 } else { at(i - 1) };
            ax.line(&mut img, (x, prev), (x, at(i)), color, 2);
            if i < BINS {
                ax.line(&mut img, (x, at(i)), (x + bw, at(i)), color, 2);
            }
        }
    }
    let half = d_ax.to_px(lo as f64, 0.5).1.floor() as i32;
    for px in (LEFT..LEFT + W).filter(|px| (px - LEFT) % 12 < 6) {
        d_ax.put(&mut img, px, half, D_CURVE);
    }
    let mut curve: Vec<(f32, f32)> = d_curve
        .iter()
        .copied()
        .filter(|(x, d)| x.is_finite() && d.is_finite())
        .collect();
    curve.sort_by(|a, b| a.0.total_cmp(&b.0));
    for pair in curve.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        d_ax.line(
            &mut img,
            (a.0 as f64, a.1 as f64),
            (b.0 as f64, b.1 as f64),
            D_CURVE,
            3,
        );
    }
    ax.frame(&mut img);
    let (ds, dstep) = nice_ticks(0.0, 1.0, 5);
    d_ax.y_labels(&mut img, &ds, dstep, true);
    draw_text(&mut img, LEFT - 70, TOP - 26, "density", INK, 2);
    draw_text(&mut img, LEFT + W + 4, TOP - 26, "D(x)", D_CURVE, 2);
    title(&mut img, &ax, title_text);
    legend(
        &mut img,
        legend_x,
        TOP,
        &[
            ("real", Mark::Line(REAL)),
            ("generated", Mark::Line(FAKE)),
            ("D(x)", Mark::Line(D_CURVE)),
        ],
    );
    save_png(path, &img)
}

/// Density estimate of `xs` on BINS equal bins of `bounds`: count / (n * bin width), where n
/// counts every finite sample, so mass outside the bounds is not redistributed.
fn histogram(xs: &[f32], [lo, hi]: [f32; 2]) -> Vec<f32> {
    let mut h = vec![0f32; BINS];
    let n = xs.iter().filter(|x| x.is_finite()).count();
    if n == 0 {
        return h;
    }
    let bw = (hi - lo) / BINS as f32;
    for &x in xs {
        if x.is_finite() && x >= lo && x <= hi {
            h[(((x - lo) / bw) as usize).min(BINS - 1)] += 1.0;
        }
    }
    h.iter_mut().for_each(|v| *v /= n as f32 * bw);
    h
}

/// Translucent bars under a histogram, so overlapping densities both stay visible.
fn fill_bars(img: &mut RgbImage, ax: &Axes, hist: &[f32], bw: f64, color: Rgb<u8>) {
    // Bin edges from one expression, so neighbouring bars share their edge pixel exactly.
    let edge = |i: usize| ax.to_px(ax.x[0] + i as f64 * bw, 0.0).0.floor() as i32;
    let base = ax.to_px(ax.x[0], 0.0).1.floor() as i32;
    for (i, &v) in hist.iter().enumerate() {
        let top = ax.to_px(ax.x[0], v as f64).1.floor() as i32;
        for py in top..base {
            for px in edge(i)..edge(i + 1) {
                blend(img, px, py, color, 0.22);
            }
        }
    }
}

/// Writes a line plot of each named series against `steps` (a series longer than `steps` is
/// cut to it), with a legend and `title`. Non-finite values break the line and are skipped;
/// an isolated point is drawn as a dot; empty inputs give empty axes.
pub fn loss_curves(
    path: &Path,
    steps: &[u64],
    series: &[(&str, Vec<f32>)],
    title_text: &str,
) -> anyhow::Result<()> {
    let xs: Vec<f64> = steps.iter().map(|&s| s as f64).collect();
    let mut x = padded_range(xs.iter().copied(), 0.02);
    if x[1] - x[0] < 6.0 {
        // A few steps only: whole-step ticks rather than 6.5.
        let c = (x[0] + x[1]) / 2.0;
        x = [c - 3.0, c + 3.0];
    }
    let finite_ys = series
        .iter()
        .flat_map(|(_, v)| v.iter().take(xs.len()))
        .filter(|v| v.is_finite())
        .map(|&v| v as f64);
    let y = padded_range(finite_ys, 0.05);
    let name_w = series
        .iter()
        .map(|(n, _)| font::text_width(n, 2) as i32)
        .max()
        .unwrap_or(0);
    let legend_x = LEFT + W + 20;
    let width = legend_x + 28 + name_w.max(60) + 20;
    let mut img = canvas(width as u32, (TOP + H + BOTTOM) as u32);
    let ax = Axes {
        left: LEFT,
        top: TOP,
        w: W,
        h: H,
        x,
        y,
    };
    ax.grid(&mut img);
    let mut entries = Vec::new();
    for (k, (name, values)) in series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let n = values.len().min(xs.len());
        let ok = |i: usize| values[i].is_finite();
        for i in 0..n {
            if !ok(i) {
                continue;
            }
            let p = (xs[i], values[i] as f64);
            if i + 1 < n && ok(i + 1) {
                ax.line(&mut img, p, (xs[i + 1], values[i + 1] as f64), color, 2);
            } else if i == 0 || !ok(i - 1) {
                if let Some((px, py)) = ax.pixel(p.0, p.1) {
                    for d in 0..25 {
                        ax.put(&mut img, px - 2 + d % 5, py - 2 + d / 5, color);
                    }
                }
            }
        }
        entries.push((*name, Mark::Line(color)));
    }
    ax.frame(&mut img);
    draw_text(&mut img, LEFT + W / 2 - 30, TOP + H + 32, "step", INK, 2);
    title(&mut img, &ax, title_text);
    legend(&mut img, legend_x, TOP, &entries);
    save_png(path, &img)
}

/// [min, max] of the values widened by `pad` of the span; a single value gets a unit window
/// around it and no values give [0, 1].
pub(super) fn padded_range(vs: impl Iterator<Item = f64>, pad: f64) -> [f64; 2] {
    let (lo, hi) = vs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        return [0.0, 1.0];
    }
    let span = hi - lo;
    if span == 0.0 || !span.is_finite() {
        let r = (lo.abs() * 0.1).max(1.0);
        return [lo - r, hi + r];
    }
    [lo - pad * span, hi + pad * span]
}
