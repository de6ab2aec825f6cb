//! Pictures of training, drawn on the CPU into PNG and GIF files.
//!
//! - [`scatter_2d`]: real and generated 2-D points over D(x) as a heat map ([`scatter_sets`]: any
//!   labelled sets of points, e.g. what rejection sampling keeps and rejects).
//! - [`density_1d`]: the classic 1-D picture: P_data, P_G and D(x) on one axis.
//! - [`loss_curves`]: several series over training steps.
//! - [`line_plot`]: lines and points of y against x, with an optional right axis.
//! - [`image_grid`], [`save_image`]: generated images in [-1, 1] as tiles.
//! - [`write_gif`]: PNG frames into one looping animation.
//!
//! Every file is written through [`atomic_write`], so a crash never leaves half a picture.
//! Text uses the hand-written bitmap font in [`font`].

pub mod font;

mod curves;
mod gif;
mod grid;
mod plot;
mod scatter;

pub use curves::{density_1d, loss_curves};
pub use font::draw_text;
pub use gif::write_gif;
pub use grid::{grid_scale, image_grid, save_image, GRID_GAP};
pub use plot::{line_plot, Plot, Series, Style};
pub use scatter::{
    scatter_2d, scatter_arrows, scatter_pixel, scatter_sets, Arrows, Heatmap, ARROW, ARROW_MAX_PX,
    ARROW_MIN_PX, ARROW_PX,
};

use crate::io::atomic_write;
use image::{ImageEncoder, Rgb, RgbImage};
use std::path::Path;

/// Colour of real (data) samples in every picture.
pub const REAL: Rgb<u8> = Rgb([20, 20, 20]);
/// Colour of generated samples in every picture.
pub const FAKE: Rgb<u8> = Rgb([220, 30, 30]);
/// Colour of generated samples that discriminator rejection sampling throws away.
pub const REJECTED: Rgb<u8> = Rgb([31, 119, 180]);
/// Colour of the D(x) curve in the 1-D picture.
pub const D_CURVE: Rgb<u8> = Rgb([31, 119, 180]);
/// Colours of successive series in line plots (the "tab10" cycle).
pub const PALETTE: [Rgb<u8>; 10] = [
    Rgb([31, 119, 180]),
    Rgb([255, 127, 14]),
    Rgb([44, 160, 44]),
    Rgb([214, 39, 40]),
    Rgb([148, 103, 189]),
    Rgb([140, 86, 75]),
    Rgb([227, 119, 194]),
    Rgb([127, 127, 127]),
    Rgb([188, 189, 34]),
    Rgb([23, 190, 207]),
];
const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const INK: Rgb<u8> = Rgb([30, 30, 30]);
const GRID: Rgb<u8> = Rgb([225, 225, 225]);

/// Viridis at nine evenly spaced stops: ordered in lightness and readable by colour-blind eyes.
const VIRIDIS: [[f32; 3]; 9] = [
    [68.0, 1.0, 84.0],
    [71.0, 44.0, 122.0],
    [59.0, 81.0, 139.0],
    [44.0, 113.0, 142.0],
    [33.0, 144.0, 141.0],
    [39.0, 173.0, 129.0],
    [92.0, 200.0, 99.0],
    [170.0, 220.0, 50.0],
    [253.0, 231.0, 37.0],
];
/// How far the heat map is mixed towards white, so dark and red dots stay visible on it.
const RAMP_LIGHTEN: f32 = 0.45;

/// The heat-map colour of `v` in [0, 1] (clamped): viridis lightened towards white.
/// NaN is drawn grey so a broken discriminator is visible rather than hidden.
pub fn ramp(v: f32) -> Rgb<u8> {
    if v.is_nan() {
        return Rgb([160, 160, 160]);
    }
    let t = v.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f32;
    let i = (t.floor() as usize).min(VIRIDIS.len() - 2);
    let f = t - i as f32;
    let mut out = [0u8; 3];
    for (c, o) in out.iter_mut().enumerate() {
        let base = VIRIDIS[i][c] * (1.0 - f) + VIRIDIS[i + 1][c] * f;
        *o = (base * (1.0 - RAMP_LIGHTEN) + 255.0 * RAMP_LIGHTEN).round() as u8;
    }
    Rgb(out)
}

/// Saves `img` as a PNG at `path`, atomically.
pub fn save_png(path: &Path, img: &RgbImage) -> anyhow::Result<()> {
    atomic_write(path, |w| {
        image::codecs::png::PngEncoder::new(w).write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )?;
        Ok(())
    })
}

/// Fills the `w` x `h` rectangle at (`x`, `y`), clipped to the image.
pub fn fill_rect(img: &mut RgbImage, x: i32, y: i32, w: i32, h: i32, color: Rgb<u8>) {
    let (iw, ih) = (img.width() as i32, img.height() as i32);
    for py in y.max(0)..(y + h).min(ih) {
        for px in x.max(0)..(x + w).min(iw) {
            img.put_pixel(px as u32, py as u32, color);
        }
    }
}

/// Mixes `color` into pixel (`x`, `y`) with opacity `alpha`, if it lies in the image.
fn blend(img: &mut RgbImage, x: i32, y: i32, color: Rgb<u8>, alpha: f32) {
    if x < 0 || y < 0 || x >= img.width() as i32 || y >= img.height() as i32 {
        return;
    }
    let p = img.get_pixel_mut(x as u32, y as u32);
    for c in 0..3 {
        p.0[c] = (p.0[c] as f32 * (1.0 - alpha) + color.0[c] as f32 * alpha).round() as u8;
    }
}

/// A plot area in image pixels and the data ranges it shows; y grows upwards in data.
struct Axes {
    left: i32,
    top: i32,
    w: i32,
    h: i32,
    x: [f64; 2],
    y: [f64; 2],
}

impl Axes {
    /// Pixel coordinates (fractional) of a data point; the plot spans [left, left + w).
    fn to_px(&self, x: f64, y: f64) -> (f64, f64) {
        let fx = (x - self.x[0]) / (self.x[1] - self.x[0]);
        let fy = (self.y[1] - y) / (self.y[1] - self.y[0]);
        (
            self.left as f64 + fx * self.w as f64,
            self.top as f64 + fy * self.h as f64,
        )
    }

    /// The integer pixel holding a data point, or None when it falls outside the plot.
    fn pixel(&self, x: f64, y: f64) -> Option<(i32, i32)> {
        let (px, py) = self.to_px(x, y);
        if !(px.is_finite() && py.is_finite()) {
            return None;
        }
        let (px, py) = (px.floor() as i64, py.floor() as i64);
        let inside = px >= self.left as i64
            && px < (self.left + self.w) as i64
            && py >= self.top as i64
            && py < (self.top + self.h) as i64;
        inside.then_some((px as i32, py as i32))
    }

    /// Sets pixel (`x`, `y`) if it lies inside the plot area.
    fn put(&self, img: &mut RgbImage, x: i32, y: i32, color: Rgb<u8>) {
        if x >= self.left && x < self.left + self.w && y >= self.top && y < self.top + self.h {
            img.put_pixel(x as u32, y as u32, color);
        }
    }

    /// A `thick`-pixel line between two data points, clipped to the plot area.
    fn line(&self, img: &mut RgbImage, a: (f64, f64), b: (f64, f64), color: Rgb<u8>, thick: i32) {
        let (x0, y0) = self.to_px(a.0, a.1);
        let (x1, y1) = self.to_px(b.0, b.1);
        if ![x0, y0, x1, y1].iter().all(|v| v.is_finite()) {
            return;
        }
        // One stamp per pixel of length; lengths are bounded because callers fit the ranges.
        let n = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as i64).clamp(1, 100_000);
        for k in 0..=n {
            let t = k as f64 / n as f64;
            let cx = (x0 + (x1 - x0) * t).floor() as i32 - thick / 2;
            let cy = (y0 + (y1 - y0) * t).floor() as i32 - thick / 2;
            for dy in 0..thick {
                for dx in 0..thick {
                    self.put(img, cx + dx, cy + dy, color);
                }
            }
        }
    }

    /// Light grid lines at the ticks, drawn before the data.
    fn grid(&self, img: &mut RgbImage) {
        for v in nice_ticks(self.x[0], self.x[1], 6).0 {
            let px = self.to_px(v, self.y[0]).0.floor() as i32;
            for y in self.top..self.top + self.h {
                self.put(img, px, y, GRID);
            }
        }
        for v in nice_ticks(self.y[0], self.y[1], 6).0 {
            let py = self.to_px(self.x[0], v).1.floor() as i32;
            for x in self.left..self.left + self.w {
                self.put(img, x, py, GRID);
            }
        }
    }

    /// The frame just outside the plot area, with ticks and labels on the left and bottom.
    fn frame(&self, img: &mut RgbImage) {
        let (l, t, r, b) = (
            self.left - 1,
            self.top - 1,
            self.left + self.w,
            self.top + self.h,
        );
        fill_rect(img, l, t, self.w + 2, 1, INK);
        fill_rect(img, l, b, self.w + 2, 1, INK);
        fill_rect(img, l, t, 1, self.h + 2, INK);
        fill_rect(img, r, t, 1, self.h + 2, INK);
        let (xs, xstep) = nice_ticks(self.x[0], self.x[1], 6);
        for v in xs {
            let px = self.to_px(v, self.y[0]).0.floor() as i32;
            fill_rect(img, px, b + 1, 1, 5, INK);
            let s = fmt_tick(v, xstep);
            let tw = font::text_width(&s, 2) as i32;
            draw_text(img, px - tw / 2, b + 10, &s, INK, 2);
        }
        let (ys, ystep) = nice_ticks(self.y[0], self.y[1], 6);
        self.y_labels(img, &ys, ystep, false);
    }

    /// Tick marks and labels for values `ys` (in this axis' y range) on the left or right side.
    fn y_labels(&self, img: &mut RgbImage, ys: &[f64], step: f64, right: bool) {
        for &v in ys {
            let py = self.to_px(self.x[0], v).1.floor() as i32;
            let s = fmt_tick(v, step);
            let tw = font::text_width(&s, 2) as i32;
            let ty = py - font::text_height(2) as i32 / 2;
            if right {
                let r = self.left + self.w;
                fill_rect(img, r + 1, py, 5, 1, INK);
                draw_text(img, r + 10, ty, &s, INK, 2);
            } else {
                fill_rect(img, self.left - 6, py, 5, 1, INK);
                draw_text(img, self.left - 10 - tw, ty, &s, INK, 2);
            }
        }
    }
}

/// Draws `title` centred over the plot, near the top of the image.
fn title(img: &mut RgbImage, axes: &Axes, text: &str) {
    let tw = font::text_width(text, 2) as i32;
    let x = (axes.left + axes.w / 2 - tw / 2).max(4);
    draw_text(img, x, 12, text, INK, 2);
}

/// How a legend entry shows its colour.
#[derive(Clone, Copy)]
enum Mark {
    Dot(Rgb<u8>),
    Line(Rgb<u8>),
}

/// A column of legend entries starting at (`x`, `y`); returns the y just below it.
fn legend(img: &mut RgbImage, x: i32, y: i32, entries: &[(&str, Mark)]) -> i32 {
    let line_h = 24;
    for (k, (name, mark)) in entries.iter().enumerate() {
        let cy = y + k as i32 * line_h + 7;
        match *mark {
            Mark::Dot(c) => fill_rect(img, x + 6, cy - 3, 7, 7, c),
            Mark::Line(c) => fill_rect(img, x, cy - 1, 20, 3, c),
        }
        draw_text(img, x + 28, cy - 7, name, INK, 2);
    }
    y + entries.len() as i32 * line_h
}

/// About `n` round tick values (1, 2 or 5 times a power of ten) covering [lo, hi], and the step.
fn nice_ticks(lo: f64, hi: f64, n: usize) -> (Vec<f64>, f64) {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return (vec![], 1.0);
    }
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    ((first..=last).map(|k| k as f64 * step).collect(), step)
}

/// A tick label: as many decimals as the step needs, scientific notation for extremes.
fn fmt_tick(v: f64, step: f64) -> String {
    let v = (v / step).round() * step;
    if v == 0.0 {
        return "0".into();
    }
    if v.abs() >= 1e6 || step < 1e-3 {
        let e = v.abs().log10().floor() as i32;
        let m = v / 10f64.powi(e);
        let decimals = (-(step / 10f64.powi(e)).log10()).ceil().clamp(0.0, 3.0) as usize;
        let s = format!("{m:.decimals$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.')
        } else {
            &s
        };
        return format!("{s}e{e}");
    }
    let decimals = (-step.log10()).ceil().max(0.0) as usize;
    format!("{v:.decimals$}")
}

/// A blank white canvas.
fn canvas(w: u32, h: u32) -> RgbImage {
    RgbImage::from_pixel(w, h, WHITE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let (t, s) = nice_ticks(-2.0, 2.0, 6);
        assert_eq!(s, 1.0);
        assert_eq!(t, vec![-2.0, -1.0, 0.0, 1.0, 2.0]);
        let (t, s) = nice_ticks(0.0, 1.0, 5);
        assert_eq!(s, 0.2);
        assert_eq!(fmt_tick(t[1], s), "0.2");
        assert_eq!(fmt_tick(2_000_000.0, 1_000_000.0), "2e6");
        assert_eq!(fmt_tick(0.00025, 0.00005), "2.5e-4");
        assert!(nice_ticks(1.0, 1.0, 5).0.is_empty());
    }

    #[test]
    fn ramp_is_monotone_in_lightness() {
        let l = |c: Rgb<u8>| 0.3 * c.0[0] as f32 + 0.59 * c.0[1] as f32 + 0.11 * c.0[2] as f32;
        for k in 0..20 {
            assert!(l(ramp(k as f32 / 20.0)) < l(ramp((k + 1) as f32 / 20.0)));
        }
    }
}
