//! PNG frames into one infinitely looping animated GIF.

use crate::io::atomic_write;
use anyhow::Context;
use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame, RgbaImage};
use std::path::{Path, PathBuf};

/// NeuQuant speed (1 best .. 30 fastest): 10 keeps training pictures faithful in a fraction of
/// the time of the default 1.
const QUANTISE_SPEED: i32 = 10;

/// Writes `frames` (PNG files, in order) as a looping GIF showing each for `delay_ms`.
/// Frames of another size than the first are resized to it.
pub fn write_gif(path: &Path, frames: &[PathBuf], delay_ms: u32) -> anyhow::Result<()> {
    anyhow::ensure!(
        !frames.is_empty(),
        "no frames to put into {}",
        path.display()
    );
    let mut size = None;
    let mut images: Vec<RgbaImage> = Vec::with_capacity(frames.len());
    for f in frames {
        let img = image::open(f)
            .with_context(|| format!("cannot read frame {}", f.display()))?
            .to_rgba8();
        let (w, h) = *size.get_or_insert(img.dimensions());
        images.push(if img.dimensions() == (w, h) {
            img
        } else {
            image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle)
        });
    }
    atomic_write(path, |w| {
        let mut enc = GifEncoder::new_with_speed(w, QUANTISE_SPEED);
        enc.set_repeat(Repeat::Infinite)?;
        let delay = Delay::from_numer_denom_ms(delay_ms, 1);
        enc.encode_frames(
            images
                .into_iter()
                .map(|im| Frame::from_parts(im, 0, 0, delay)),
        )?;
        Ok(())
    })
}
