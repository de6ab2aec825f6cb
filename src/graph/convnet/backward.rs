//! The backward pass of a convolutional network: the blocks in exactly the reverse order of the
//! forward, each as the ops of its gradient.

use super::{len, shift, Block, ConvNetTensors};
use crate::graph::projection::Projection;
use crate::graph::{conv_gemm, Epilogue, Op, TensorId, View};
use crate::ops::Activation;
use crate::ops::Variant;

impl ConvNetTensors {
    /// Backward from `dout` (the gradient with respect to the output) after a training forward
    /// over the same rows, in exactly the reverse order: parameter gradients into `grads` with
    /// `param_grads`, the input gradient into `input_grad` if given.
    pub fn backward(
        &self,
        input: View,
        rows: usize,
        out: Option<View>,
        dout: TensorId,
        param_grads: bool,
        input_grad: Option<TensorId>,
    ) -> Vec<Op> {
        self.backward_with(input, rows, out, dout, param_grads, input_grad, None)
    }

    /// [`Self::backward`] with a projection's class term on the logit: its share of the
    /// features' gradient is added right after the last block's (a Linear's) input gradient,
    /// before the blocks below read it. The table's own gradient is the caller's.
    #[allow(clippy::too_many_arguments)]
    pub fn backward_with(
        &self,
        input: View,
        rows: usize,
        out: Option<View>,
        dout: TensorId,
        param_grads: bool,
        input_grad: Option<TensorId>,
        proj: Option<&Projection>,
    ) -> Vec<Op> {
        let mut ops = Vec::new();
        let last = self.plans.len() - 1;
        assert!(
            proj.is_none() || matches!(self.spec.blocks[last], Block::Linear { .. }),
            "a projection needs a network that ends in a Linear layer"
        );
        for i in (0..self.plans.len()).rev() {
            let (b, p) = (self.spec.blocks[i], &self.plans[i]);
            let (x, y) = (self.x(i, input), self.y(i, input, out));
            let dy: View = self.dy(i, dout).into();
            let dx: Option<View> = if i == 0 {
                input_grad.map(View::from)
            } else {
                Some(self.dy(i - 1, dout).into())
            };
            match b {
                Block::Linear { out: o, bias } => {
                    if param_grads {
                        ops.push(Op::Matmul {
                            variant: Variant::AtB,
                            a: dy,
                            b: x,
                            c: self.gr(p.w_off),
                            m: o,
                            k: rows,
                            n: len(p.inp),
                            epi: Epilogue::PLAIN,
                        });
                        if bias {
                            ops.push(Op::BiasGrad {
                                dz: dy.t,
                                db: self.gr(p.b_off),
                                rows,
                                cols: o,
                            });
                        }
                    }
                    if let Some(dx) = dx {
                        ops.push(Op::Matmul {
                            variant: Variant::AB,
                            a: dy,
                            b: self.p(p.w_off),
                            c: dx,
                            m: rows,
                            k: o,
                            n: len(p.inp),
                            epi: Epilogue::PLAIN,
                        });
                        if let (Some(pr), true) = (proj, i == last) {
                            let dlogit = View::from(dout);
                            ops.push(pr.input_grad(Activation::Identity, x, dlogit, dx, rows));
                        }
                    }
                }
                Block::Conv2d { bias, .. } if !self.direct => {
                    let s = self.conv_shape(i, rows).expect("a convolution");
                    let sc = self.scratch[i].as_ref().expect("a convolution's scratch");
                    let grads =
                        param_grads.then(|| (self.gr(p.w_off), bias.then(|| self.gr(p.b_off))));
                    ops.extend(conv_gemm::conv_backward(
                        s,
                        self.p(p.w_off),
                        dy,
                        grads,
                        dx,
                        sc,
                    ));
                }
                Block::ConvTranspose2d { out_ch, bias, .. } if !self.direct => {
                    let s = self.conv_shape(i, rows).expect("a convolution");
                    let sc = self.scratch[i].as_ref().expect("a convolution's scratch");
                    if param_grads && bias {
                        ops.push(Op::ChannelSum {
                            batch: rows,
                            channels: out_ch,
                            hw: s.h * s.w,
                            v: dy,
                            out: self.gr(p.b_off),
                        });
                    }
                    let dw = param_grads.then(|| self.gr(p.w_off));
                    ops.extend(conv_gemm::convt_backward(
                        s,
                        self.p(p.w_off),
                        dy,
                        dw,
                        dx,
                        sc,
                    ));
                }
                Block::Conv2d {
                    out_ch,
                    k,
                    stride,
                    pad,
                    bias,
                } => {
                    let s = self.conv(p, rows, out_ch, k, stride, pad);
                    if param_grads {
                        ops.push(Op::Conv2dWeightGrad {
                            shape: s,
                            dy,
                            x,
                            dw: self.gr(p.w_off),
                        });
                        if bias {
                            ops.push(Op::ChannelSum {
                                batch: rows,
                                channels: out_ch,
                                hw: s.out_h() * s.out_w(),
                                v: dy,
                                out: self.gr(p.b_off),
                            });
                        }
                    }
                    if let Some(dx) = dx {
                        ops.push(Op::Conv2dInputGrad {
                            shape: s,
                            dy,
                            w: self.p(p.w_off),
                            bias: None,
                            dx,
                        });
                    }
                }
                Block::ConvTranspose2d {
                    out_ch,
                    k,
                    stride,
                    pad,
                    bias,
                } => {
                    let s = self.convt(p, rows, out_ch, k, stride, pad);
                    if param_grads {
                        // The adjoint's weight gradient: its "output gradient" is this block's
                        // input, its "input" this block's output gradient.
                        ops.push(Op::Conv2dWeightGrad {
                            shape: s,
                            dy: x,
                            x: dy,
                            dw: self.gr(p.w_off),
                        });
                        if bias {
                            ops.push(Op::ChannelSum {
                                batch: rows,
                                channels: out_ch,
                                hw: s.h * s.w,
                                v: dy,
                                out: self.gr(p.b_off),
                            });
                        }
                    }
                    if let Some(dx) = dx {
                        ops.push(Op::Conv2d {
                            shape: s,
                            x: dy,
                            w: self.p(p.w_off),
                            bias: None,
                            y: dx,
                        });
                    }
                }
                Block::BatchNorm => {
                    let groups = self.groups(rows);
                    let (spec, n) = (self.bn(i, p, rows / groups), rows / groups * len(p.inp));
                    // With the activation fused, dy is the gradient with respect to its output.
                    let dy: View = if self.bn_fused_act(i).is_some() {
                        self.dy(i + 1, dout).into()
                    } else {
                        dy
                    };
                    let c = p.inp[0];
                    for gi in 0..groups {
                        let stats = self.group_stats(gi, p);
                        // With one group the sums go straight to the gradients; with two, each
                        // group's go to its row of the block's scratch, summed below.
                        let daffine = match self.bn_grads[i] {
                            Some(t) if groups > 1 => View { t, off: gi * 2 * c },
                            _ => self.gr(p.w_off),
                        };
                        // The input gradient needs the parameter gradients; they are computed
                        // even when not asked for (D's backward in the generator step).
                        ops.push(Op::BatchNormBackwardParams {
                            spec,
                            x: shift(x, gi * n),
                            dy: shift(dy, gi * n),
                            affine: self.p(p.w_off),
                            stats,
                            daffine,
                        });
                        if let Some(dx) = dx {
                            ops.push(Op::BatchNormBackwardInput {
                                spec,
                                x: shift(x, gi * n),
                                dy: shift(dy, gi * n),
                                affine: self.p(p.w_off),
                                stats,
                                daffine,
                                dx: shift(dx, gi * n),
                            });
                        }
                    }
                    if let (Some(t), true) = (self.bn_grads[i], groups > 1) {
                        // [gamma, beta] gradients are adjacent in the parameters: one column
                        // sum over the groups' rows.
                        ops.push(Op::BiasGrad {
                            dz: t,
                            db: self.gr(p.w_off),
                            rows: groups,
                            cols: 2 * c,
                        });
                    }
                }
                Block::Act(_) if self.fused_into_bn(i) => {}
                Block::Act(act) => {
                    if let Some(dx) = dx {
                        ops.push(Op::ActBackward {
                            act,
                            y,
                            dy: dy.t,
                            out: dx.t,
                            n: rows * len(p.out),
                        });
                    }
                }
                Block::Unflatten { .. } | Block::Flatten => {}
            }
        }
        ops
    }
}
