//! A convolutional network (DCGAN's generator and discriminator) as a list of blocks, read as a
//! PyTorch `nn.Sequential` is: block i is module i, its parameters are `i.weight` and `i.bias`
//! in that order in one flat buffer, and a batch norm's running statistics are `i.running_mean`
//! and `i.running_var` in a flat buffer of their own. Activations are NCHW; a flat row of
//! c*h*w values is the same memory as a c x h x w image. The forward and the backward pass are
//! op lists; the backward visits the blocks in exactly the reverse order.

mod backward;
mod tensors;

pub use tensors::ConvNetTensors;

use super::View;
use crate::ops::{Activation, ConvShape};
use anyhow::{bail, ensure};

/// Batch statistics are taken over at most this many groups of rows (D: real, generated).
pub const MAX_BN_GROUPS: usize = 2;

pub(crate) fn shift(v: View, off: usize) -> View {
    View {
        t: v.t,
        off: v.off + off,
    }
}

/// One module of the network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Block {
    /// nn.Linear(in, out, bias) on flat rows.
    Linear { out: usize, bias: bool },
    /// nn.Conv2d(in_ch, out_ch, k, stride, pad, bias). A layer followed by a batch norm has no
    /// bias (the norm subtracts it again, so its gradient would be rounding noise).
    Conv2d {
        out_ch: usize,
        k: usize,
        stride: usize,
        pad: usize,
        bias: bool,
    },
    /// nn.ConvTranspose2d(in_ch, out_ch, k, stride, pad, bias) (output_padding 0).
    ConvTranspose2d {
        out_ch: usize,
        k: usize,
        stride: usize,
        pad: usize,
        bias: bool,
    },
    /// nn.BatchNorm2d over channels (nn.BatchNorm1d over features after a Linear).
    BatchNorm,
    /// An activation module (not the identity).
    Act(Activation),
    /// nn.Unflatten(1, (c, h, w)): a view.
    Unflatten { c: usize, h: usize, w: usize },
    /// nn.Flatten(): a view.
    Flatten,
}

impl Block {
    pub(crate) fn is_view(&self) -> bool {
        matches!(self, Block::Unflatten { .. } | Block::Flatten)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConvNetSpec {
    /// The input's (channels, height, width); (n, 1, 1) for flat rows such as noise.
    pub input: [usize; 3],
    pub blocks: Vec<Block>,
}

/// Where one block sits: its input and output shapes (c, h, w), its parameters (weight, then
/// bias or beta) and its running statistics in their flat buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockPlan {
    pub inp: [usize; 3],
    pub out: [usize; 3],
    pub w_off: usize,
    pub w_len: usize,
    pub b_off: usize,
    pub b_len: usize,
    /// Offset of [running_mean, running_var] (batch norms) in the buffers, and of
    /// [mean, 1/std] in the batch-statistics scratch.
    pub buf_off: usize,
}

pub(crate) fn len(s: [usize; 3]) -> usize {
    s[0] * s[1] * s[2]
}

impl ConvNetSpec {
    /// Every block's shapes and offsets; an error names the block whose shape does not fit.
    pub fn plan(&self) -> anyhow::Result<Vec<BlockPlan>> {
        ensure!(
            !self.blocks.is_empty(),
            "a network needs at least one block"
        );
        ensure!(
            !self.blocks[0].is_view() && !self.blocks.last().unwrap().is_view(),
            "a network may not start or end with a view (Flatten, Unflatten)"
        );
        let (mut shape, mut p_off, mut b_off) = (self.input, 0, 0);
        let mut plans = Vec::with_capacity(self.blocks.len());
        for (i, b) in self.blocks.iter().enumerate() {
            let [c, h, w] = shape;
            let conv = |out_ch: usize, k: usize, stride: usize, pad: usize| ConvShape {
                batch: 1,
                in_ch: c,
                out_ch,
                h,
                w,
                k_h: k,
                k_w: k,
                stride,
                pad,
            };
            let (out, w_len, bias_len, buf_len) = match *b {
                Block::Linear { out, bias } => {
                    ([out, 1, 1], out * len(shape), out * bias as usize, 0)
                }
                Block::Conv2d {
                    out_ch,
                    k,
                    stride,
                    pad,
                    bias,
                } => {
                    let s = conv(out_ch, k, stride, pad);
                    ensure!(
                        stride > 0 && s.out_h() > 0 && s.out_w() > 0,
                        "block {i}: a {k}x{k} kernel with stride {stride} and padding {pad} \
                         does not fit a {h}x{w} input"
                    );
                    (
                        [out_ch, s.out_h(), s.out_w()],
                        s.weight_len(),
                        out_ch * bias as usize,
                        0,
                    )
                }
                Block::ConvTranspose2d {
                    out_ch,
                    k,
                    stride,
                    pad,
                    bias,
                } => {
                    let Some(s) = ConvShape::transposed(1, c, out_ch, (h, w), (k, k), stride, pad)
                    else {
                        bail!("block {i}: ConvTranspose2d(k {k}, stride {stride}, padding {pad}) on {h}x{w} has no output");
                    };
                    (
                        [out_ch, s.h, s.w],
                        s.weight_len(),
                        out_ch * bias as usize,
                        0,
                    )
                }
                Block::BatchNorm => (shape, c, c, 2 * c),
                Block::Act(a) => {
                    ensure!(a != Activation::Identity, "block {i}: an identity module");
                    (shape, 0, 0, 0)
                }
                Block::Unflatten {
                    c: uc,
                    h: uh,
                    w: uw,
                } => {
                    ensure!(
                        uc * uh * uw == len(shape),
                        "block {i}: Unflatten to {uc}x{uh}x{uw} from {} values",
                        len(shape)
                    );
                    ([uc, uh, uw], 0, 0, 0)
                }
                Block::Flatten => ([len(shape), 1, 1], 0, 0, 0),
            };
            ensure!(len(out) > 0, "block {i} has an empty output");
            plans.push(BlockPlan {
                inp: shape,
                out,
                w_off: p_off,
                w_len,
                b_off: p_off + w_len,
                b_len: bias_len,
                buf_off: b_off,
            });
            p_off += w_len + bias_len;
            b_off += buf_len;
            shape = out;
        }
        Ok(plans)
    }

    pub fn output_shape(&self) -> anyhow::Result<[usize; 3]> {
        Ok(self.plan()?.last().expect("checked non-empty").out)
    }

    pub fn param_count(&self) -> anyhow::Result<usize> {
        Ok(self.plan()?.last().map_or(0, |p| p.b_off + p.b_len))
    }

    /// Running statistics (and scratch statistics): 2 c per batch norm.
    pub fn buffer_count(&self) -> anyhow::Result<usize> {
        let plans = self.plan()?;
        Ok(self
            .blocks
            .iter()
            .zip(&plans)
            .map(|(b, p)| {
                if *b == Block::BatchNorm {
                    2 * p.inp[0]
                } else {
                    0
                }
            })
            .sum())
    }

    /// DCGAN's initialisation (Radford et al. 2015, section 4: "all weights were initialized from
    /// a zero-centered Normal distribution with standard deviation 0.02"; batch-norm scales from
    /// N(1, 0.02) as in the PyTorch DCGAN example), biases and shifts 0, from `normal` in
    /// parameter order.
    pub fn init(&self, mut normal: impl FnMut() -> f32) -> anyhow::Result<Vec<f32>> {
        let mut v = vec![0.0; self.param_count()?];
        for (b, p) in self.blocks.iter().zip(self.plan()?) {
            let mean = if *b == Block::BatchNorm { 1.0 } else { 0.0 };
            for x in &mut v[p.w_off..p.w_off + p.w_len] {
                *x = mean + 0.02 * normal();
            }
        }
        Ok(v)
    }

    /// Running statistics as PyTorch starts them: mean 0, variance 1.
    pub fn init_buffers(&self) -> anyhow::Result<Vec<f32>> {
        let mut v = vec![0.0; self.buffer_count()?];
        for (b, p) in self.blocks.iter().zip(self.plan()?) {
            if *b == Block::BatchNorm {
                let c = p.inp[0];
                v[p.buf_off + c..p.buf_off + 2 * c].fill(1.0);
            }
        }
        Ok(v)
    }
}
