//! Generated images as pictures: one image, or many as a grid of tiles.
//!
//! Pixels are values in [-1, 1] (the generator's tanh range), row-major, channels interleaved
//! (HWC) when there are three; -1 maps to 0, 1 to 255, values beyond are clamped and NaN is 0.

use super::save_png;
use crate::io::atomic_write;
use image::{ImageEncoder, Rgb, RgbImage};
use std::path::Path;

/// Gap in output pixels around and between tiles of [`image_grid`].
pub const GRID_GAP: u32 = 2;
const GAP_COLOUR: Rgb<u8> = Rgb([128, 128, 128]);

fn to_byte(v: f32) -> u8 {
    // `as` maps NaN to 0.
    ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8
}

fn check(pixels: &[f32], width: u32, height: u32, channels: u32) -> anyhow::Result<()> {
    anyhow::ensure!(
        channels == 1 || channels == 3,
        "images must have 1 or 3 channels, not {channels}"
    );
    anyhow::ensure!(
        width > 0 && height > 0,
        "image size {width}x{height} is empty"
    );
    let want = (width * height * channels) as usize;
    anyhow::ensure!(
        pixels.len() == want,
        "image has {} values, expected {width}x{height}x{channels} = {want}",
        pixels.len()
    );
    Ok(())
}

/// Pixel (`x`, `y`) of one image as RGB.
fn rgb_at(pixels: &[f32], width: u32, channels: u32, x: u32, y: u32) -> Rgb<u8> {
    let i = ((y * width + x) * channels) as usize;
    if channels == 1 {
        let g = to_byte(pixels[i]);
        Rgb([g, g, g])
    } else {
        Rgb([
            to_byte(pixels[i]),
            to_byte(pixels[i + 1]),
            to_byte(pixels[i + 2]),
        ])
    }
}

/// Pixel upscaling for a grid of `w` x `h` images: about 64 screen pixels per image, 1x to 8x.
pub fn grid_scale(w: usize, h: usize) -> u32 {
    (64 / w.max(h).max(1)).clamp(1, 8) as u32
}

/// Writes `images` as an RGB PNG grid of `cols` columns, each pixel a `scale` x `scale` square,
/// tiles separated and surrounded by [`GRID_GAP`] grey pixels: tile (r, c) starts at
/// x = GRID_GAP + c * (width * scale + GRID_GAP), and likewise in y.
pub fn image_grid(
    path: &Path,
    images: &[Vec<f32>],
    width: u32,
    height: u32,
    channels: u32,
    cols: u32,
    scale: u32,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        !images.is_empty(),
        "no images to draw into {}",
        path.display()
    );
    anyhow::ensure!(
        cols > 0 && scale > 0,
        "cols ({cols}) and scale ({scale}) must be > 0"
    );
    for (k, im) in images.iter().enumerate() {
        check(im, width, height, channels).map_err(|e| e.context(format!("image {k}")))?;
    }
    let n = images.len() as u32;
    let cols = cols.min(n);
    let rows = n.div_ceil(cols);
    let (tw, th) = (width * scale, height * scale);
    let mut img = RgbImage::from_pixel(
        GRID_GAP + cols * (tw + GRID_GAP),
        GRID_GAP + rows * (th + GRID_GAP),
        GAP_COLOUR,
    );
    for (k, im) in images.iter().enumerate() {
        let (r, c) = (k as u32 / cols, k as u32 % cols);
        let (ox, oy) = (
            GRID_GAP + c * (tw + GRID_GAP),
            GRID_GAP + r * (th + GRID_GAP),
        );
        for y in 0..th {
            for x in 0..tw {
                let p = rgb_at(im, width, channels, x / scale, y / scale);
                img.put_pixel(ox + x, oy + y, p);
            }
        }
    }
    save_png(path, &img)
}

/// Writes one image as a PNG at its own size: grey for 1 channel, RGB for 3.
pub fn save_image(
    path: &Path,
    pixels: &[f32],
    width: u32,
    height: u32,
    channels: u32,
) -> anyhow::Result<()> {
    check(pixels, width, height, channels)?;
    let bytes: Vec<u8> = pixels.iter().map(|&v| to_byte(v)).collect();
    let color = if channels == 1 {
        image::ExtendedColorType::L8
    } else {
        image::ExtendedColorType::Rgb8
    };
    atomic_write(path, |w| {
        image::codecs::png::PngEncoder::new(w).write_image(&bytes, width, height, color)?;
        Ok(())
    })
}
