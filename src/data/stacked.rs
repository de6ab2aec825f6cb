//! Stacked digits: each image is three independently drawn digits placed as its three channels,
//! so the data set has 10^3 = 1,000 modes (classes 100 a + 10 b + c). This is the Stacked MNIST
//! protocol of Metz et al. (Unrolled GAN, 2017), Srivastava et al. (VEEGAN, 2017) and Lin et al.
//! (PacGAN, 2018): a classifier labels each channel of a generated image, and one reports how many
//! of the 1,000 modes appear and the KL divergence of the mode histogram to the uniform one.
//!
//! The draw is fixed (its own Philox key), so `stacked-digits` is the same data set in every run.

use super::images::ImageSet;
use crate::noise::{Noise, PhiloxNoise};

/// Images in a stacked data set unless `n=` says otherwise.
pub const STACKED_IMAGES: usize = 10_000;
/// Philox key and stream of the draw: the data set, not the run, so independent of `--seed`.
const STACKED_KEY: u64 = 0x57AC_4ED0;
const STACKED_STREAM: u32 = 0x700;

/// `n` images of `base`'s size whose channel c is base image `idx[i][c]` (HWC interleaved), and
/// the three base indices of each image.
pub fn stack(base: &ImageSet, n: usize) -> (ImageSet, Vec<[usize; 3]>) {
    assert_eq!(base.channels, 1, "stacking takes a grayscale data set");
    let (count, dim) = (base.len(), base.dim());
    assert!(count > 0, "stacking an empty data set");
    let mut noise = PhiloxNoise::new(STACKED_KEY, STACKED_STREAM);
    let mut pick = || ((noise.uniform() * count as f32) as usize).min(count - 1);
    let mut pixels = Vec::with_capacity(n * dim * 3);
    let mut picks = Vec::with_capacity(n);
    for _ in 0..n {
        let idx = [pick(), pick(), pick()];
        for p in 0..dim {
            for &i in &idx {
                pixels.push(base.image(i)[p]);
            }
        }
        picks.push(idx);
    }
    let set = ImageSet {
        width: base.width,
        height: base.height,
        channels: 3,
        pixels,
        source: format!("{} stacked x3", base.source),
    };
    (set, picks)
}

/// Channel `c` of every HWC image in `pixels` (`dim` values per image, `channels` channels).
pub fn channel(pixels: &[f32], dim: usize, channels: usize, c: usize) -> Vec<f32> {
    pixels
        .chunks_exact(dim)
        .flat_map(|img| img.iter().skip(c).step_by(channels).copied())
        .collect()
}
