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
/// Frames of another size than the first are resized to it. One frame is decoded at a time, so
/// memory stays at a frame or two however long the run was (a 12,000-iteration ring run has 61
/// frames of 2.5 MB each as RGBA).
pub fn write_gif(path: &Path, frames: &[PathBuf], delay_ms: u32) -> anyhow::Result<()> {
    anyhow::ensure!(
        !frames.is_empty(),
        "no frames to put into {}",
        path.display()
    );
    let (w, h) = image::image_dimensions(&frames[0])
        .with_context(|| format!("cannot read frame {}", frames[0].display()))?;
    atomic_write(path, |out| {
        let mut enc = GifEncoder::new_with_speed(out, QUANTISE_SPEED);
        enc.set_repeat(Repeat::Infinite)?;
        let delay = Delay::from_numer_denom_ms(delay_ms, 1);
        for f in frames {
            let img = image::open(f)
                .with_context(|| format!("cannot read frame {}", f.display()))?
                .to_rgba8();
            let img: RgbaImage = if img.dimensions() == (w, h) {
                img
            } else {
                image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle)
            };
            enc.encode_frame(Frame::from_parts(img, 0, 0, delay))?;
        }
        Ok(())
    })
}
