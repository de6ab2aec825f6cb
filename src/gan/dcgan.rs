//! DCGAN's generator and discriminator sized from the image (Radford, Metz and Chintala 2015,
//! section 3's guidelines): G projects z with a Linear layer to a small C x s x s map (s = 7 for
//! 28 x 28 images, 2 for 8 x 8, 4 for 32 and 64), then doubles it with blocks of
//! ConvTranspose2d(k4, s2, p1), BatchNorm and ReLU, halving the channels each time, and ends in
//! ConvTranspose2d to the image's channels and Tanh. D mirrors it: Conv2d(k4, s2, p1) + LeakyReLU(0.2) blocks doubling the
//! channels, batch norm on all but the first, then Flatten and Linear to one logit. For 28 x 28
//! with 64 channels this is the fixed workload C of benches/WORKLOADS.md. As in the PyTorch DCGAN
//! example, a layer followed by a batch norm has no bias (the norm subtracts it again); the
//! others keep theirs.

use crate::graph::convnet::{Block, ConvNetSpec};
use crate::ops::Activation;
use anyhow::bail;

/// Image sides DCGAN networks are built for, and the side of G's first map for each.
pub const SIDES: [(usize, usize); 4] = [(8, 2), (28, 7), (32, 4), (64, 4)];

/// Doublings from the first map to an image of `side` pixels.
fn doublings(side: usize) -> anyhow::Result<(usize, usize)> {
    let Some(&(_, s0)) = SIDES.iter().find(|(s, _)| *s == side) else {
        bail!(
            "DCGAN networks are built for square images of {} pixels, not {side}; resize with \
             --image-size (e.g. 32) or use --arch mlp",
            SIDES.map(|(s, _)| s.to_string()).join(", ")
        );
    };
    Ok((s0, (side / s0).trailing_zeros() as usize))
}

/// The image side of `dim` values of `channels` channels, or an error naming the sizes that work.
pub fn side(dim: usize, channels: usize) -> anyhow::Result<usize> {
    let side = ((dim / channels.max(1)) as f64).sqrt().round() as usize;
    if side * side * channels != dim {
        bail!("DCGAN needs square images; {dim} values are not {channels} x N x N");
    }
    doublings(side)?;
    Ok(side)
}

/// G: z_dim -> channels x side x side, with `width` channels before the last ConvTranspose2d.
pub fn generator(
    z_dim: usize,
    side: usize,
    channels: usize,
    width: usize,
) -> anyhow::Result<ConvNetSpec> {
    let (s0, n) = doublings(side)?;
    let c0 = width << (n - 1);
    let mut blocks = vec![
        Block::Linear {
            out: c0 * s0 * s0,
            bias: false,
        },
        Block::BatchNorm,
        Block::Act(Activation::Relu),
        Block::Unflatten {
            c: c0,
            h: s0,
            w: s0,
        },
    ];
    let up = |out_ch, bias| Block::ConvTranspose2d {
        out_ch,
        k: 4,
        stride: 2,
        pad: 1,
        bias,
    };
    for i in 1..n {
        blocks.push(up(c0 >> i, false));
        blocks.push(Block::BatchNorm);
        blocks.push(Block::Act(Activation::Relu));
    }
    blocks.push(up(channels, true));
    blocks.push(Block::Act(Activation::Tanh));
    Ok(ConvNetSpec {
        input: [z_dim, 1, 1],
        blocks,
    })
}

/// D: channels x side x side -> one logit, `width` channels after the first Conv2d.
pub fn discriminator(
    side: usize,
    channels: usize,
    width: usize,
    alpha: f32,
) -> anyhow::Result<ConvNetSpec> {
    let (_, n) = doublings(side)?;
    let down = |out_ch, bias| Block::Conv2d {
        out_ch,
        k: 4,
        stride: 2,
        pad: 1,
        bias,
    };
    let act = Block::Act(Activation::LeakyRelu(alpha));
    let mut blocks = vec![down(width, true), act];
    for i in 1..n {
        blocks.extend([down(width << i, false), Block::BatchNorm, act]);
    }
    blocks.extend([Block::Flatten, Block::Linear { out: 1, bias: true }]);
    Ok(ConvNetSpec {
        input: [channels, side, side],
        blocks,
    })
}

/// Image rows as the data sets hold them (HWC: RGB interleaved, as pictures are drawn) to the
/// NCHW rows convolutions read, for `[width, height, channels]` images. Grayscale is unchanged.
pub fn hwc_to_chw(rows: &[f32], [w, h, c]: [usize; 3]) -> Vec<f32> {
    if c == 1 {
        return rows.to_vec();
    }
    let mut out = vec![0.0; rows.len()];
    for (src, dst) in rows.chunks(w * h * c).zip(out.chunks_mut(w * h * c)) {
        for p in 0..w * h {
            for k in 0..c {
                dst[k * w * h + p] = src[p * c + k];
            }
        }
    }
    out
}

/// The inverse of [`hwc_to_chw`]: a generator's NCHW rows as HWC images.
pub fn chw_to_hwc(rows: &[f32], [w, h, c]: [usize; 3]) -> Vec<f32> {
    if c == 1 {
        return rows.to_vec();
    }
    let mut out = vec![0.0; rows.len()];
    for (src, dst) in rows.chunks(w * h * c).zip(out.chunks_mut(w * h * c)) {
        for p in 0..w * h {
            for k in 0..c {
                dst[p * c + k] = src[k * w * h + p];
            }
        }
    }
    out
}
