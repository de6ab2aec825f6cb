//! Real and generated 2-D samples over the discriminator's D(x) as a heat map.

use super::{canvas, draw_text, fill_rect, font, legend, ramp, save_png, title, Axes, Mark};
use super::{FAKE, INK, REAL};
use image::{Rgb, RgbImage};
use std::path::Path;

const LEFT: i32 = 80;
const TOP: i32 = 44;
const PLOT: i32 = 480;
const BOTTOM: i32 = 50;
const RIGHT: i32 = 170;

/// D(x) sampled on a regular grid: `values` is row-major, `ny` rows of `nx`, y ascending,
/// each value taken at the centre of its cell of `bounds` = [xmin, xmax, ymin, ymax].
#[derive(Clone, Debug)]
pub struct Heatmap {
    pub nx: usize,
    pub ny: usize,
    pub bounds: [f32; 4],
    pub values: Vec<f32>,
}

impl Heatmap {
    /// The cell centres at which to evaluate D, in the order of `values`.
    pub fn grid_points(nx: usize, ny: usize, bounds: [f32; 4]) -> Vec<[f32; 2]> {
        let [x0, x1, y0, y1] = bounds;
        let mut pts = Vec::with_capacity(nx * ny);
        for j in 0..ny {
            let y = y0 + (y1 - y0) * (j as f32 + 0.5) / ny as f32;
            for i in 0..nx {
                pts.push([x0 + (x1 - x0) * (i as f32 + 0.5) / nx as f32, y]);
            }
        }
        pts
    }

    /// D at (x, y), bilinear between cell centres and constant beyond the outer ones;
    /// None outside `bounds`.
    fn sample(&self, x: f32, y: f32) -> Option<f32> {
        let [x0, x1, y0, y1] = self.bounds;
        if !(x >= x0 && x <= x1 && y >= y0 && y <= y1) {
            return None;
        }
        let u = ((x - x0) / (x1 - x0) * self.nx as f32 - 0.5).clamp(0.0, (self.nx - 1) as f32);
        let v = ((y - y0) / (y1 - y0) * self.ny as f32 - 0.5).clamp(0.0, (self.ny - 1) as f32);
        let (i, j) = (u.floor() as usize, v.floor() as usize);
        let (i1, j1) = ((i + 1).min(self.nx - 1), (j + 1).min(self.ny - 1));
        let (fu, fv) = (u - i as f32, v - j as f32);
        let at = |i: usize, j: usize| self.values[j * self.nx + i];
        let lo = at(i, j) * (1.0 - fu) + at(i1, j) * fu;
        let hi = at(i, j1) * (1.0 - fu) + at(i1, j1) * fu;
        Some(lo * (1.0 - fv) + hi * fv)
    }

    fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.nx > 0 && self.ny > 0 && self.values.len() == self.nx * self.ny,
            "heat map has {} values for a {} x {} grid",
            self.values.len(),
            self.nx,
            self.ny
        );
        check_bounds(self.bounds)
    }
}

fn check_bounds(b: [f32; 4]) -> anyhow::Result<()> {
    anyhow::ensure!(
        b.iter().all(|v| v.is_finite()) && b[0] < b[1] && b[2] < b[3],
        "bounds {b:?} must be finite [xmin, xmax, ymin, ymax] with xmin < xmax and ymin < ymax"
    );
    Ok(())
}

fn axes(bounds: [f32; 4]) -> Axes {
    Axes {
        left: LEFT,
        top: TOP,
        w: PLOT,
        h: PLOT,
        x: [bounds[0] as f64, bounds[1] as f64],
        y: [bounds[2] as f64, bounds[3] as f64],
    }
}

/// The image pixel where [`scatter_2d`] draws the centre of point `p` for these `bounds`,
/// or None when `p` falls outside the plot.
pub fn scatter_pixel(bounds: [f32; 4], p: [f32; 2]) -> Option<(u32, u32)> {
    axes(bounds)
        .pixel(p[0] as f64, p[1] as f64)
        .map(|(x, y)| (x as u32, y as u32))
}

/// Writes a PNG of `real` and `fake` points (3 px dots; generated drawn on top) over the heat
/// map of D(x) in [0, 1], with axes, a legend, a colour bar and `title`. Points outside
/// `bounds` = [xmin, xmax, ymin, ymax] are not drawn.
pub fn scatter_2d(
    path: &Path,
    real: &[[f32; 2]],
    fake: &[[f32; 2]],
    heat: Option<&Heatmap>,
    title_text: &str,
    bounds: [f32; 4],
) -> anyhow::Result<()> {
    scatter_sets(
        path,
        &[("real", real, REAL), ("generated", fake, FAKE)],
        heat,
        title_text,
        bounds,
    )
}

/// A labelled set of points for [`scatter_sets`]: legend label, points, colour.
pub type PointSet<'a> = (&'a str, &'a [[f32; 2]], Rgb<u8>);

/// Writes a PNG of sets of points, each (legend label, points, colour), drawn in order (later on
/// top) as 3 px dots over the heat map of D(x) in [0, 1], with axes, a legend, a colour bar and
/// `title`. Points outside `bounds` = [xmin, xmax, ymin, ymax] are not drawn.
pub fn scatter_sets(
    path: &Path,
    sets: &[PointSet],
    heat: Option<&Heatmap>,
    title_text: &str,
    bounds: [f32; 4],
) -> anyhow::Result<()> {
    scatter_arrows(path, sets, heat, None, title_text, bounds)
}

/// Arrows to draw from points, both in data units: `push[i]` is a direction (and relative
/// strength) at `at[i]`, e.g. minus the gradient of G's loss at a generated point.
#[derive(Clone, Copy, Debug)]
pub struct Arrows<'a> {
    pub at: &'a [[f32; 2]],
    pub push: &'a [[f32; 2]],
    pub label: &'a str,
}

/// Arrow lengths in pixels: the 90th percentile of the pushes' lengths (on the picture) is drawn
/// this long, the others in proportion, but none shorter than [`ARROW_MIN_PX`] (so that its
/// direction reads) or longer than [`ARROW_MAX_PX`]. One scale per picture, since gradients
/// shrink by orders of magnitude over training.
pub const ARROW_PX: f64 = 28.0;
pub const ARROW_MIN_PX: f64 = 8.0;
pub const ARROW_MAX_PX: f64 = 42.0;
/// The colour of the arrows: orange, apart from the red generated points and the heat map.
pub const ARROW: Rgb<u8> = Rgb([255, 140, 0]);

/// [`scatter_sets`] with `arrows` drawn over the points (scaled as [`ARROW_PX`] says) and named
/// in the legend.
pub fn scatter_arrows(
    path: &Path,
    sets: &[PointSet],
    heat: Option<&Heatmap>,
    arrows: Option<Arrows>,
    title_text: &str,
    bounds: [f32; 4],
) -> anyhow::Result<()> {
    check_bounds(bounds)?;
    if let Some(h) = heat {
        h.check()?;
    }
    let mut img = canvas((LEFT + PLOT + RIGHT) as u32, (TOP + PLOT + BOTTOM) as u32);
    let ax = axes(bounds);
    match heat {
        Some(h) => paint_heat(&mut img, &ax, h),
        None => ax.grid(&mut img),
    }
    for &(_, pts, color) in sets {
        for p in pts {
            if let Some((x, y)) = ax.pixel(p[0] as f64, p[1] as f64) {
                for dy in -1..=1 {
                    for dx in -1..=1 {
                        ax.put(&mut img, x + dx, y + dy, color);
                    }
                }
            }
        }
    }
    if let Some(a) = arrows {
        draw_arrows(&mut img, &ax, a);
    }
    ax.frame(&mut img);
    title(&mut img, &ax, title_text);
    let lx = LEFT + PLOT + 20;
    let mut entries: Vec<(&str, Mark)> = sets.iter().map(|&(l, _, c)| (l, Mark::Dot(c))).collect();
    if let Some(a) = arrows {
        entries.push((a.label, Mark::Line(ARROW)));
    }
    let below = legend(&mut img, lx, TOP, &entries);
    if heat.is_some() {
        colour_bar(&mut img, lx, below + 16);
    }
    save_png(path, &img)
}

/// Each push as a 2 px arrow from its point, in picture space (so a push along x points along
/// the picture's x even when the axes' scales differ), scaled as [`ARROW_PX`] says; pushes that
/// are zero or not finite draw nothing.
fn draw_arrows(img: &mut RgbImage, ax: &Axes, a: Arrows) {
    let (sx, sy) = (
        ax.w as f64 / (ax.x[1] - ax.x[0]),
        ax.h as f64 / (ax.y[1] - ax.y[0]),
    );
    // The pushes in pixels, y down as the picture's.
    let px: Vec<(f64, f64)> = a
        .push
        .iter()
        .map(|v| (v[0] as f64 * sx, -(v[1] as f64) * sy))
        .collect();
    let mut lens: Vec<f64> = px
        .iter()
        .map(|v| v.0.hypot(v.1))
        .filter(|l| l.is_finite() && *l > 0.0)
        .collect();
    if lens.is_empty() {
        return;
    }
    lens.sort_by(f64::total_cmp);
    let scale = ARROW_PX / lens[(lens.len() * 9 / 10).min(lens.len() - 1)];
    for (p, v) in a.at.iter().zip(&px) {
        let len = v.0.hypot(v.1);
        if !(len.is_finite() && len > 0.0) {
            continue;
        }
        let (x0, y0) = ax.to_px(p[0] as f64, p[1] as f64);
        let shown = (len * scale).clamp(ARROW_MIN_PX, ARROW_MAX_PX);
        let (ux, uy) = (v.0 / len, v.1 / len);
        let tip = (x0 + ux * shown, y0 + uy * shown);
        stroke(img, ax, (x0, y0), tip);
        // The head: two 6 px strokes at 30 degrees either side of the shaft, back from the tip.
        let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
        for sign in [1.0, -1.0] {
            let (hx, hy) = (-ux * c + sign * uy * s, -uy * c - sign * ux * s);
            stroke(img, ax, tip, (tip.0 + 6.0 * hx, tip.1 + 6.0 * hy));
        }
    }
}

/// A 2 px line between two pixel positions, clipped to the plot.
fn stroke(img: &mut RgbImage, ax: &Axes, a: (f64, f64), b: (f64, f64)) {
    let n = ((b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil() as i64).clamp(1, 1000);
    for k in 0..=n {
        let t = k as f64 / n as f64;
        let (x, y) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            ax.put(img, x.floor() as i32 + dx, y.floor() as i32 + dy, ARROW);
        }
    }
}

/// Fills the plot area with ramp(D) at each pixel centre; white outside the heat map's bounds.
fn paint_heat(img: &mut RgbImage, ax: &Axes, h: &Heatmap) {
    for py in 0..ax.h {
        let y = ax.y[1] - (py as f64 + 0.5) / ax.h as f64 * (ax.y[1] - ax.y[0]);
        for px in 0..ax.w {
            let x = ax.x[0] + (px as f64 + 0.5) / ax.w as f64 * (ax.x[1] - ax.x[0]);
            if let Some(d) = h.sample(x as f32, y as f32) {
                img.put_pixel((ax.left + px) as u32, (ax.top + py) as u32, ramp(d));
            }
        }
    }
}

/// "D(x)" over a vertical ramp from 1 (top) to 0 (bottom), labelled at 0, 0.5 and 1.
fn colour_bar(img: &mut RgbImage, x: i32, y: i32) {
    draw_text(img, x, y, "D(x)", INK, 2);
    let (top, h, w) = (y + 24, 200, 18);
    for k in 0..h {
        let v = 1.0 - (k as f32 + 0.5) / h as f32;
        fill_rect(img, x, top + k, w, 1, ramp(v));
    }
    fill_rect(img, x - 1, top - 1, w + 2, 1, INK);
    fill_rect(img, x - 1, top + h, w + 2, 1, INK);
    fill_rect(img, x - 1, top - 1, 1, h + 2, INK);
    fill_rect(img, x + w, top - 1, 1, h + 2, INK);
    for (v, label) in [(1.0, "1"), (0.5, "0.5"), (0.0, "0")] {
        let py = top + ((1.0 - v) * h as f32) as i32;
        fill_rect(img, x + w + 1, py.min(top + h - 1), 4, 1, INK);
        draw_text(
            img,
            x + w + 8,
            py - font::text_height(2) as i32 / 2,
            label,
            INK,
            2,
        );
    }
}
