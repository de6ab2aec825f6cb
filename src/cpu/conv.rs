//! CPU twins of shaders/conv.wgsl: Conv2d in NCHW layout with PyTorch's semantics (zero padding,
//! floor on the output size), its input and weight gradients, and per-channel sums for the bias
//! gradient. ConvTranspose2d is the same three loops read the other way ([`ConvShape::transposed`]):
//! its forward is Conv2d's input gradient, its input gradient is Conv2d's forward, its weight
//! gradient is Conv2d's weight gradient with the two activations swapped.

use crate::ops::ConvShape;

/// The input element under output (oh, ow) and kernel tap (i, j), or None in the padding.
fn tap(s: &ConvShape, oh: usize, ow: usize, i: usize, j: usize) -> Option<(usize, usize)> {
    let y = (oh * s.stride + i).checked_sub(s.pad)?;
    let x = (ow * s.stride + j).checked_sub(s.pad)?;
    (y < s.h && x < s.w).then_some((y, x))
}

/// y[b,o,oh,ow] = bias[o] + sum over c, i, j of w[o,c,i,j] x[b,c,oh*stride-pad+i,ow*stride-pad+j].
pub fn conv2d_forward(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32]) {
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    for b in 0..s.batch {
        for o in 0..s.out_ch {
            for oh in 0..oh_n {
                for ow in 0..ow_n {
                    let mut acc = bias.map_or(0.0, |v| v[o]);
                    for c in 0..s.in_ch {
                        for i in 0..s.k_h {
                            for j in 0..s.k_w {
                                if let Some((yy, xx)) = tap(s, oh, ow, i, j) {
                                    acc += w[((o * s.in_ch + c) * s.k_h + i) * s.k_w + j]
                                        * x[((b * s.in_ch + c) * s.h + yy) * s.w + xx];
                                }
                            }
                        }
                    }
                    y[((b * s.out_ch + o) * oh_n + oh) * ow_n + ow] = acc;
                }
            }
        }
    }
}

/// dx[b,c,h,w] = sum over o, i, j with h = oh*stride-pad+i (and likewise w) of
/// w[o,c,i,j] dy[b,o,oh,ow], plus bias[c] when given (ConvTranspose2d's forward). Overwrites dx.
pub fn conv2d_input_grad(
    s: &ConvShape,
    dy: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    dx: &mut [f32],
) {
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    for b in 0..s.batch {
        for c in 0..s.in_ch {
            for hh in 0..s.h {
                for ww in 0..s.w {
                    let mut acc = bias.map_or(0.0, |v| v[c]);
                    for o in 0..s.out_ch {
                        for i in 0..s.k_h {
                            let Some(t) = (hh + s.pad).checked_sub(i) else {
                                continue;
                            };
                            if t % s.stride != 0 || t / s.stride >= oh_n {
                                continue;
                            }
                            let oh = t / s.stride;
                            for j in 0..s.k_w {
                                let Some(u) = (ww + s.pad).checked_sub(j) else {
                                    continue;
                                };
                                if u % s.stride != 0 || u / s.stride >= ow_n {
                                    continue;
                                }
                                let ow = u / s.stride;
                                acc += w[((o * s.in_ch + c) * s.k_h + i) * s.k_w + j]
                                    * dy[((b * s.out_ch + o) * oh_n + oh) * ow_n + ow];
                            }
                        }
                    }
                    dx[((b * s.in_ch + c) * s.h + hh) * s.w + ww] = acc;
                }
            }
        }
    }
}

/// dw[o,c,i,j] = sum over b, oh, ow of dy[b,o,oh,ow] x[b,c,oh*stride-pad+i,ow*stride-pad+j].
/// Overwrites dw.
pub fn conv2d_weight_grad(s: &ConvShape, dy: &[f32], x: &[f32], dw: &mut [f32]) {
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    for o in 0..s.out_ch {
        for c in 0..s.in_ch {
            for i in 0..s.k_h {
                for j in 0..s.k_w {
                    let mut acc = 0.0f32;
                    for b in 0..s.batch {
                        for oh in 0..oh_n {
                            for ow in 0..ow_n {
                                if let Some((yy, xx)) = tap(s, oh, ow, i, j) {
                                    acc += dy[((b * s.out_ch + o) * oh_n + oh) * ow_n + ow]
                                        * x[((b * s.in_ch + c) * s.h + yy) * s.w + xx];
                                }
                            }
                        }
                    }
                    dw[((o * s.in_ch + c) * s.k_h + i) * s.k_w + j] = acc;
                }
            }
        }
    }
}

/// out[c] = sum over b and the `hw` positions of v[b, c, :]: the bias gradient of a convolution
/// whose output gradient is v ([batch, channels, hw]). Overwrites out.
pub fn channel_sum(batch: usize, channels: usize, hw: usize, v: &[f32], out: &mut [f32]) {
    for (c, o) in out.iter_mut().enumerate().take(channels) {
        let mut acc = 0.0f32;
        for b in 0..batch {
            let row = &v[(b * channels + c) * hw..(b * channels + c + 1) * hw];
            acc += row.iter().sum::<f32>();
        }
        *o = acc;
    }
}

/// ConvTranspose2d forward: y = Conv2d input gradient of `s` (the Conv2d it is the adjoint of)
/// applied to x, plus bias. x is [batch, s.out_ch, s.out_h(), s.out_w()]; y is
/// [batch, s.in_ch, s.h, s.w]; w is [s.out_ch, s.in_ch, k_h, k_w] (PyTorch's ConvTranspose2d
/// layout [in, out, kh, kw]).
pub fn conv_transpose2d_forward(
    s: &ConvShape,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
) {
    conv2d_input_grad(s, x, w, bias, y)
}

/// ConvTranspose2d input gradient: Conv2d's forward of `s` applied to dy, without bias.
pub fn conv_transpose2d_input_grad(s: &ConvShape, dy: &[f32], w: &[f32], dx: &mut [f32]) {
    conv2d_forward(s, dy, w, None, dx)
}

/// ConvTranspose2d weight gradient: Conv2d's weight gradient of `s` with its "input" the
/// transposed convolution's output gradient dy and its "output gradient" the input x.
pub fn conv_transpose2d_weight_grad(s: &ConvShape, dy: &[f32], x: &[f32], dw: &mut [f32]) {
    conv2d_weight_grad(s, x, dy, dw)
}

/// The output position whose tap `k` lands on input position `x` (along one axis), if any.
fn untap(s: &ConvShape, x: usize, k: usize, out_size: usize) -> Option<usize> {
    let t = (x + s.pad).checked_sub(k)?;
    (t % s.stride == 0 && t / s.stride < out_size).then_some(t / s.stride)
}

/// cols[(b P + oh OW + ow) Q + (c KH + i) KW + j] = x[b, c, tap] (0 in the padding), with P the
/// output positions and Q = C KH KW the taps: the rows a convolution's matmul reads.
pub fn im2col(s: &ConvShape, x: &[f32], cols: &mut [f32]) {
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    let taps = s.in_ch * s.k_h * s.k_w;
    for b in 0..s.batch {
        for oh in 0..oh_n {
            for ow in 0..ow_n {
                let row = &mut cols[((b * oh_n + oh) * ow_n + ow) * taps..][..taps];
                for c in 0..s.in_ch {
                    for i in 0..s.k_h {
                        for j in 0..s.k_w {
                            row[(c * s.k_h + i) * s.k_w + j] = tap(s, oh, ow, i, j)
                                .map_or(0.0, |(y, x_)| x[((b * s.in_ch + c) * s.h + y) * s.w + x_]);
                        }
                    }
                }
            }
        }
    }
}

/// im2col's adjoint: x[b, c, y, x] = bias[c] + the sum, over the taps (i, then j) that land on
/// (y, x), of the matching entry of `cols`. Overwrites x.
pub fn col2im(s: &ConvShape, cols: &[f32], bias: Option<&[f32]>, x: &mut [f32]) {
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    let taps = s.in_ch * s.k_h * s.k_w;
    for b in 0..s.batch {
        for c in 0..s.in_ch {
            for y in 0..s.h {
                for xx in 0..s.w {
                    let mut acc = bias.map_or(0.0, |v| v[c]);
                    for i in 0..s.k_h {
                        let Some(oh) = untap(s, y, i, oh_n) else {
                            continue;
                        };
                        for j in 0..s.k_w {
                            let Some(ow) = untap(s, xx, j, ow_n) else {
                                continue;
                            };
                            let row = (b * oh_n + oh) * ow_n + ow;
                            acc += cols[row * taps + (c * s.k_h + i) * s.k_w + j];
                        }
                    }
                    x[((b * s.in_ch + c) * s.h + y) * s.w + xx] = acc;
                }
            }
        }
    }
}

/// [batch, channels, hw] (NCHW) to [batch hw, channels]: one row per pixel.
pub fn to_rows(batch: usize, channels: usize, hw: usize, a: &[f32], out: &mut [f32]) {
    for b in 0..batch {
        for k in 0..hw {
            for c in 0..channels {
                out[(b * hw + k) * channels + c] = a[(b * channels + c) * hw + k];
            }
        }
    }
}

/// The inverse of [`to_rows`].
pub fn from_rows(batch: usize, channels: usize, hw: usize, a: &[f32], out: &mut [f32]) {
    for b in 0..batch {
        for c in 0..channels {
            for k in 0..hw {
                out[(b * channels + c) * hw + k] = a[(b * hw + k) * channels + c];
            }
        }
    }
}
