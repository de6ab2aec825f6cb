//! The CPU executor's convolution, batch-norm and standalone-activation ops (the layers of
//! convolutional networks), run on their twins in `cpu::conv` and `cpu::batchnorm`, and the
//! class-embedding ops of conditional GANs (`cpu::embedding`).

use super::cpu::CpuPlan;
use super::{Op, View};
use crate::cpu;
use crate::ops::Activation;

impl CpuPlan {
    fn f(&self, v: View) -> &[f32] {
        &self.tensors[v.t].f32()[v.off..]
    }

    fn u(&self, v: View) -> &[u32] {
        &self.tensors[v.t].u32()[v.off..]
    }

    /// Runs `write` on the f32 slice of `out` from its offset, with every other tensor readable.
    fn write(&mut self, out: View, write: impl FnOnce(&Self, &mut [f32])) {
        let mut o = self.take(out.t);
        write(self, &mut o.f32_mut()[out.off..]);
        self.put(out.t, o);
    }

    pub(super) fn run_layer_op(&mut self, op: &Op) {
        match *op {
            Op::ActForward { act, x, out, n } => {
                assert!(act != Activation::Identity, "ActForward with the identity");
                self.write(out, |p, o| act.forward(&p.f(x)[..n], &mut o[..n]));
            }
            Op::Conv2d {
                shape,
                x,
                w,
                bias,
                y,
            } => self.write(y, |p, o| {
                cpu::conv::conv2d_forward(&shape, p.f(x), p.f(w), bias.map(|b| p.f(b)), o)
            }),
            Op::Conv2dInputGrad {
                shape,
                dy,
                w,
                bias,
                dx,
            } => self.write(dx, |p, o| {
                cpu::conv::conv2d_input_grad(&shape, p.f(dy), p.f(w), bias.map(|b| p.f(b)), o)
            }),
            Op::Conv2dWeightGrad { shape, dy, x, dw } => self.write(dw, |p, o| {
                cpu::conv::conv2d_weight_grad(&shape, p.f(dy), p.f(x), o)
            }),
            Op::ChannelSum {
                batch,
                channels,
                hw,
                v,
                out,
            } => self.write(out, |p, o| {
                cpu::conv::channel_sum(batch, channels, hw, p.f(v), o)
            }),
            Op::Im2col { shape, x, cols } => {
                self.write(cols, |p, o| cpu::conv::im2col(&shape, p.f(x), o))
            }
            Op::Col2im {
                shape,
                cols,
                bias,
                x,
            } => self.write(x, |p, o| {
                cpu::conv::col2im(&shape, p.f(cols), bias.map(|b| p.f(b)), o)
            }),
            Op::Rows {
                back,
                batch,
                channels,
                hw,
                a,
                out,
            } => self.write(out, |p, o| {
                let f = if back {
                    cpu::conv::from_rows
                } else {
                    cpu::conv::to_rows
                };
                f(batch, channels, hw, p.f(a), o)
            }),
            Op::BatchNormStats {
                spec,
                x,
                stats,
                running,
                update_running,
            } => {
                let mut r = self.take(running.t);
                self.write(stats, |p, o| {
                    let run = &mut r.f32_mut()[running.off..];
                    cpu::batchnorm::batchnorm_stats(&spec, p.f(x), o, update_running.then_some(run))
                });
                self.put(running.t, r);
            }
            Op::BatchNormForward {
                spec,
                x,
                affine,
                stats,
                running,
                use_running,
                y,
            } => self.write(y, |p, o| {
                let source = if use_running { running } else { stats };
                cpu::batchnorm::batchnorm_forward(
                    &spec,
                    p.f(x),
                    p.f(affine),
                    p.f(source),
                    use_running,
                    o,
                )
            }),
            Op::BatchNormBackwardParams {
                spec,
                x,
                dy,
                affine,
                stats,
                daffine,
            } => self.write(daffine, |p, o| {
                cpu::batchnorm::batchnorm_backward_params(
                    &spec,
                    p.f(x),
                    p.f(dy),
                    p.f(affine),
                    p.f(stats),
                    o,
                )
            }),
            Op::BatchNormBackwardInput {
                spec,
                x,
                dy,
                affine,
                stats,
                daffine,
                dx,
            } => self.write(dx, |p, o| {
                cpu::batchnorm::batchnorm_backward_input(
                    &spec,
                    p.f(x),
                    p.f(dy),
                    p.f(affine),
                    p.f(stats),
                    p.f(daffine),
                    o,
                )
            }),
            _ => unreachable!("run_layer_op is called with layer ops only"),
        }
    }

    pub(super) fn run_embedding_op(&mut self, op: &Op) {
        use cpu::embedding as e;
        match *op {
            Op::EmbedConcat {
                spec,
                table,
                labels,
                z,
                out,
            } => self.write(out, |p, o| {
                e::embed_concat(&spec, p.f(table), p.u(labels), p.f(z), o)
            }),
            Op::EmbedBackward {
                spec,
                dx,
                labels,
                dtable,
            } => self.write(dtable, |p, o| {
                e::embed_backward(&spec, p.f(dx), p.u(labels), o)
            }),
            Op::ProjectionForward {
                spec,
                table,
                labels,
                phi,
                logits,
            } => self.write(logits, |p, o| {
                e::projection_forward(&spec, p.f(table), p.u(labels), p.f(phi), o)
            }),
            Op::ProjectionBackwardInput {
                spec,
                act,
                table,
                labels,
                dlogit,
                h,
                dphi,
            } => self.write(dphi, |p, o| {
                e::projection_backward_input(
                    &spec,
                    act,
                    p.f(table),
                    p.u(labels),
                    p.f(dlogit),
                    p.f(h),
                    o,
                )
            }),
            Op::ProjectionBackwardTable {
                spec,
                labels,
                dlogit,
                phi,
                dtable,
            } => self.write(dtable, |p, o| {
                e::projection_backward_table(&spec, p.u(labels), p.f(dlogit), p.f(phi), o)
            }),
            _ => unreachable!("run_embedding_op is called with embedding ops only"),
        }
    }
}
