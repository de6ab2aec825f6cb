//! Line and point plots of y against x, with an optional second y axis on the right: the
//! theory demonstrations' pictures (densities beside D and D*, V against the JSD, gradients
//! against the generated point).

use super::curves::padded_range;
use super::INK;
use super::{blend, canvas, draw_text, font, legend, nice_ticks, save_png, title, Axes, Mark};
use image::{Rgb, RgbImage};
use std::path::Path;

const LEFT: i32 = 90;
const TOP: i32 = 64;
const W: i32 = 560;
const H: i32 = 360;
const BOTTOM: i32 = 60;

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Line,
    Dashed,
    /// 5 px squares at the points, no line.
    Dots,
    /// 11 px hollow squares at the points (2 px outline), no line: points that would hide
    /// under a line or a dot.
    Ring,
    /// A line with translucent fill down to y = 0 (densities).
    Filled,
}

/// One series: legend label, points (x, y), colour, style, and the axis it is read on.
#[derive(Clone, Debug)]
pub struct Series<'a> {
    pub label: &'a str,
    pub points: Vec<(f64, f64)>,
    pub color: Rgb<u8>,
    pub style: Style,
    /// Read on the right axis.
    pub right: bool,
}

/// A plot: its series, axis labels and (optionally) fixed y ranges.
#[derive(Clone, Debug, Default)]
pub struct Plot<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    /// Label of the right axis; the right axis is drawn when a series is read on it.
    pub right_label: &'a str,
    /// Fixed ranges (default: the series' own, padded).
    pub y_range: Option<[f64; 2]>,
    pub right_range: Option<[f64; 2]>,
    pub series: Vec<Series<'a>>,
}

/// Writes `plot` as a PNG: series drawn in order (later on top), a legend on the right.
/// Non-finite points are skipped (a line breaks there).
pub fn line_plot(path: &Path, plot: &Plot) -> anyhow::Result<()> {
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let side = |right: bool| plot.series.iter().filter(move |s| s.right == right);
    let x = padded_range(
        plot.series
            .iter()
            .flat_map(|s| s.points.iter().filter(finite).map(|p| p.0)),
        0.0,
    );
    let range = |right: bool, fixed: Option<[f64; 2]>| {
        fixed.unwrap_or_else(|| {
            let filled = side(right).any(|s| s.style == Style::Filled);
            let ys = side(right).flat_map(|s| s.points.iter().filter(finite).map(|p| p.1));
            let ys = ys.chain(filled.then_some(0.0));
            padded_range(ys, 0.05)
        })
    };
    let has_right = side(true).next().is_some();
    let name_w = plot
        .series
        .iter()
        .map(|s| font::text_width(s.label, 2) as i32)
        .max()
        .unwrap_or(0);
    let legend_x = LEFT + W + if has_right { 70 } else { 20 };
    let width = legend_x + 28 + name_w.max(60) + 16;
    let mut img = canvas(width as u32, (TOP + H + BOTTOM) as u32);
    let ax = Axes {
        left: LEFT,
        top: TOP,
        w: W,
        h: H,
        x,
        y: range(false, plot.y_range),
    };
    let right_ax = Axes {
        y: range(true, plot.right_range),
        ..ax
    };
    ax.grid(&mut img);
    let mut entries = Vec::new();
    for s in &plot.series {
        let a = if s.right { &right_ax } else { &ax };
        draw_series(&mut img, a, s);
        let mark = match s.style {
            Style::Dots | Style::Ring => Mark::Dot(s.color),
            _ => Mark::Line(s.color),
        };
        entries.push((s.label, mark));
    }
    ax.frame(&mut img);
    if has_right {
        let (ys, step) = nice_ticks(right_ax.y[0], right_ax.y[1], 6);
        right_ax.y_labels(&mut img, &ys, step, true);
        draw_text(&mut img, LEFT + W + 4, TOP - 26, plot.right_label, INK, 2);
    }
    draw_text(&mut img, LEFT - 80, TOP - 26, plot.y_label, INK, 2);
    let xw = font::text_width(plot.x_label, 2) as i32;
    draw_text(
        &mut img,
        LEFT + W / 2 - xw / 2,
        TOP + H + 36,
        plot.x_label,
        INK,
        2,
    );
    title(&mut img, &ax, plot.title);
    legend(&mut img, legend_x, TOP, &entries);
    save_png(path, &img)
}

fn draw_series(img: &mut RgbImage, ax: &Axes, s: &Series) {
    let pts: Vec<(f64, f64)> = s
        .points
        .iter()
        .copied()
        .map(|(x, y)| {
            if x.is_finite() && y.is_finite() {
                (x, y)
            } else {
                (f64::NAN, f64::NAN)
            }
        })
        .collect();
    match s.style {
        Style::Dots => {
            for &(x, y) in &pts {
                if let Some((px, py)) = ax.pixel(x, y) {
                    for d in 0..25 {
                        ax.put(img, px - 2 + d % 5, py - 2 + d / 5, s.color);
                    }
                }
            }
        }
        Style::Ring => {
            for &(x, y) in &pts {
                if let Some((px, py)) = ax.pixel(x, y) {
                    for d in -5..=5 {
                        for w in [-5, -4, 4, 5] {
                            ax.put(img, px + d, py + w, s.color);
                            ax.put(img, px + w, py + d, s.color);
                        }
                    }
                }
            }
        }
        Style::Filled => {
            let base = ax.to_px(ax.x[0], 0f64.max(ax.y[0])).1.floor() as i32;
            for w in pts.windows(2) {
                let ((x0, y0), (x1, _)) = (w[0], w[1]);
                let (Some((a, top)), Some((b, _))) = (ax.pixel(x0, y0), ax.pixel(x1, y0)) else {
                    continue;
                };
                for px in a..b.max(a + 1) {
                    for py in top..base {
                        blend(img, px, py, s.color, 0.18);
                    }
                }
            }
            polyline(img, ax, &pts, s.color, false);
        }
        Style::Line => polyline(img, ax, &pts, s.color, false),
        Style::Dashed => polyline(img, ax, &pts, s.color, true),
    }
}

/// Lines between consecutive finite points; dashed: 8 px drawn, 6 px skipped along the path.
fn polyline(img: &mut RgbImage, ax: &Axes, pts: &[(f64, f64)], color: Rgb<u8>, dashed: bool) {
    let mut along = 0.0;
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        if !(a.0.is_finite() && b.0.is_finite()) {
            continue;
        }
        let (pa, pb) = (ax.to_px(a.0, a.1), ax.to_px(b.0, b.1));
        let len = (pb.0 - pa.0).hypot(pb.1 - pa.1);
        if !dashed || along % 14.0 < 8.0 {
            ax.line(img, a, b, color, 3);
        }
        along += len;
    }
}
