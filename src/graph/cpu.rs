//! The CPU executor: runs a graph's op list on the CPU twins, op by op. It is the test oracle for
//! the GPU plan and the reference a learner can step through; it is slow on purpose (plain loops).

use super::{Dtype, Epilogue, Graph, Op, TensorId};
use crate::cpu;
use crate::ops::Variant;

/// One CPU tensor: f32 values or u32 words.
#[derive(Clone, Debug)]
pub enum CpuTensor {
    F32(Vec<f32>),
    U32(Vec<u32>),
}

impl Default for CpuTensor {
    fn default() -> Self {
        CpuTensor::F32(Vec::new())
    }
}

impl CpuTensor {
    pub fn f32(&self) -> &[f32] {
        match self {
            CpuTensor::F32(v) => v,
            CpuTensor::U32(_) => panic!("expected an f32 tensor, found u32"),
        }
    }
    pub fn f32_mut(&mut self) -> &mut [f32] {
        match self {
            CpuTensor::F32(v) => v,
            CpuTensor::U32(_) => panic!("expected an f32 tensor, found u32"),
        }
    }
    pub fn u32(&self) -> &[u32] {
        match self {
            CpuTensor::U32(v) => v,
            CpuTensor::F32(_) => panic!("expected a u32 tensor, found f32"),
        }
    }
    pub fn u32_mut(&mut self) -> &mut [u32] {
        match self {
            CpuTensor::U32(v) => v,
            CpuTensor::F32(_) => panic!("expected a u32 tensor, found f32"),
        }
    }
}

/// The CPU twin of a [`super::gpu::GpuPlan`]: the graph's tensors as vectors.
pub struct CpuPlan {
    pub tensors: Vec<CpuTensor>,
}

impl CpuPlan {
    pub fn new(graph: &Graph) -> CpuPlan {
        let tensors = graph
            .tensors
            .iter()
            .zip(&graph.init)
            .map(|(spec, init)| {
                let words = init.clone().unwrap_or_else(|| vec![0; spec.len]);
                match spec.dtype {
                    Dtype::F32 => CpuTensor::F32(words.into_iter().map(f32::from_bits).collect()),
                    Dtype::U32 => CpuTensor::U32(words),
                }
            })
            .collect();
        CpuPlan { tensors }
    }

    /// Runs `ops` in order.
    pub fn run(&mut self, ops: &[Op]) {
        for op in ops {
            self.run_op(op);
        }
    }

    /// Takes tensor `t` out so it can be written while others are read; `put` returns it.
    pub(super) fn take(&mut self, t: TensorId) -> CpuTensor {
        std::mem::take(&mut self.tensors[t])
    }

    pub(super) fn put(&mut self, t: TensorId, v: CpuTensor) {
        self.tensors[t] = v;
    }

    fn run_op(&mut self, op: &Op) {
        match *op {
            Op::Matmul {
                variant,
                a,
                b,
                c,
                m,
                k,
                n,
                epi,
            } => {
                let mut out = self.take(c.t);
                {
                    let ts = &self.tensors;
                    let av = &ts[a.t].f32()[a.off..];
                    let bv = &ts[b.t].f32()[b.off..];
                    let cv = &mut out.f32_mut()[c.off..];
                    match epi {
                        Epilogue::Forward { bias, act } => {
                            let biasv = bias.map(|v| &ts[v.t].f32()[v.off..]);
                            let f = match variant {
                                Variant::AB => cpu::matmul::matmul,
                                Variant::AtB => cpu::matmul::matmul_at_b,
                                Variant::ABt => cpu::matmul::matmul_a_bt,
                            };
                            f(m, k, n, av, bv, biasv, act, cv);
                        }
                        Epilogue::ActGrad { y, act } => {
                            let yv = &ts[y.t].f32()[y.off..];
                            cpu::matmul::matmul_act_grad(variant, m, k, n, av, bv, yv, act, cv);
                        }
                    }
                }
                self.put(c.t, out);
            }
            Op::BiasGrad { dz, db, rows, cols } => {
                let mut out = self.take(db.t);
                cpu::matmul::bias_grad(
                    rows,
                    cols,
                    self.tensors[dz].f32(),
                    &mut out.f32_mut()[db.off..],
                );
                self.put(db.t, out);
            }
            Op::ActBackward { act, y, dy, out, n } => {
                let mut o = self.take(out);
                act.backward(
                    &self.tensors[y.t].f32()[y.off..y.off + n],
                    &self.tensors[dy].f32()[..n],
                    &mut o.f32_mut()[..n],
                );
                self.put(out, o);
            }
            Op::BceLoss {
                spec,
                x,
                y,
                metrics,
            } => {
                let mut m = self.take(metrics);
                cpu::bce::bce_with_logits(
                    spec.term,
                    spec.n,
                    spec.split,
                    spec.scale,
                    spec.accumulate,
                    self.tensors[x].f32(),
                    self.tensors[y].f32(),
                    &mut m.f32_mut()[spec.metrics_off..],
                );
                self.put(metrics, m);
            }
            Op::BceBackward { spec, x, y, grad } => {
                let mut g = self.take(grad);
                cpu::bce::bce_with_logits_backward(
                    spec.term,
                    spec.n,
                    spec.scale,
                    self.tensors[x].f32(),
                    self.tensors[y].f32(),
                    g.f32_mut(),
                );
                self.put(grad, g);
            }
            Op::SoftmaxXent {
                spec,
                x,
                labels,
                logp,
                metrics,
            } => {
                let (mut lp, mut m) = (self.take(logp), self.take(metrics));
                cpu::softmax_xent::softmax_xent(
                    spec.rows,
                    spec.classes,
                    spec.scale,
                    spec.accumulate,
                    self.tensors[x].f32(),
                    self.tensors[labels].f32(),
                    lp.f32_mut(),
                    &mut m.f32_mut()[spec.metrics_off..],
                );
                self.put(logp, lp);
                self.put(metrics, m);
            }
            Op::SoftmaxXentBackward {
                spec,
                logp,
                labels,
                grad,
            } => {
                let mut g = self.take(grad);
                cpu::softmax_xent::softmax_xent_backward(
                    spec.rows,
                    spec.classes,
                    spec.scale,
                    self.tensors[logp].f32(),
                    self.tensors[labels].f32(),
                    g.f32_mut(),
                );
                self.put(grad, g);
            }
            Op::Adam {
                cfg,
                state,
                step_slot,
                w,
                grad,
                m,
                v,
                n,
            } => {
                let t = self.tensors[state].u32()[step_slot];
                let (mut wt, mut mt, mut vt) = (self.take(w), self.take(m), self.take(v));
                cpu::optim::adam(
                    cfg,
                    t,
                    &mut wt.f32_mut()[..n],
                    &self.tensors[grad].f32()[..n],
                    &mut mt.f32_mut()[..n],
                    &mut vt.f32_mut()[..n],
                );
                self.put(w, wt);
                self.put(m, mt);
                self.put(v, vt);
            }
            Op::SpectralNorm {
                spec,
                w,
                w_sn,
                uv,
                sigma,
            } => {
                let (mut ws, mut u, mut sg) = (self.take(w_sn), self.take(uv), self.take(sigma));
                cpu::spectral::spectral_norm_forward(
                    &spec,
                    self.tensors[w].f32(),
                    ws.f32_mut(),
                    u.f32_mut(),
                    sg.f32_mut(),
                );
                self.put(w_sn, ws);
                self.put(uv, u);
                self.put(sigma, sg);
            }
            Op::SpectralNormBackward {
                spec,
                w_sn,
                uv,
                sigma,
                grad,
            } => {
                let mut g = self.take(grad);
                cpu::spectral::spectral_norm_backward(
                    &spec,
                    self.tensors[w_sn].f32(),
                    self.tensors[uv].f32(),
                    self.tensors[sigma].f32(),
                    g.f32_mut(),
                );
                self.put(grad, g);
            }
            Op::Ema { decay, w, avg, n } => {
                let mut at = self.take(avg);
                cpu::optim::ema(decay, &self.tensors[w].f32()[..n], &mut at.f32_mut()[..n]);
                self.put(avg, at);
            }
            Op::Tick { state, slot } => {
                cpu::rng::tick(slot, self.tensors[state].u32_mut());
            }
            Op::RngNormal {
                src,
                out,
                n,
                mean,
                std,
            } => {
                let mut o = self.take(out.t);
                cpu::rng::rng_normal(
                    src.addr(),
                    self.tensors[src.state].u32(),
                    mean,
                    std,
                    &mut o.f32_mut()[out.off..out.off + n],
                );
                self.put(out.t, o);
            }
            Op::RngAddNormal {
                src,
                x,
                out,
                n,
                std,
                anneal,
            } => {
                assert_eq!(x.t, out.t, "rng_add_normal reads and writes one tensor");
                let mut o = self.take(out.t);
                let xs = o.f32()[x.off..x.off + n].to_vec();
                cpu::rng::rng_add_normal(
                    src.addr(),
                    self.tensors[src.state].u32(),
                    std,
                    anneal,
                    &xs,
                    &mut o.f32_mut()[out.off..out.off + n],
                );
                self.put(out.t, o);
            }
            Op::RngIndex {
                src,
                out,
                n,
                n_rows,
            } => {
                let mut o = self.take(out.t);
                cpu::rng::rng_index(
                    src.addr(),
                    self.tensors[src.state].u32(),
                    n_rows as u32,
                    &mut o.u32_mut()[out.off..out.off + n],
                );
                self.put(out.t, o);
            }
            Op::Gather {
                packed_u8,
                data,
                idx,
                out,
                rows,
                cols,
                data_rows,
            } => {
                let mut o = self.take(out.t);
                let (idx, out_rows) = (self.tensors[idx].u32(), &mut o.f32_mut()[out.off..]);
                if packed_u8 {
                    let data = self.tensors[data].u32();
                    cpu::gather::gather_rows_u8(rows, cols, data_rows, data, idx, out_rows);
                } else {
                    let data = self.tensors[data].f32();
                    cpu::gather::gather_rows(rows, cols, data_rows, data, idx, out_rows);
                }
                self.put(out.t, o);
            }
            Op::GatherU32 {
                data,
                idx,
                out,
                rows,
                cols,
                data_rows,
            } => {
                let mut o = self.take(out.t);
                cpu::gather::gather_rows_u32(
                    rows,
                    cols,
                    data_rows,
                    self.tensors[data].u32(),
                    self.tensors[idx].u32(),
                    &mut o.u32_mut()[out.off..],
                );
                self.put(out.t, o);
            }
            Op::EmbedConcat { .. }
            | Op::EmbedBackward { .. }
            | Op::ProjectionForward { .. }
            | Op::ProjectionBackwardInput { .. }
            | Op::ProjectionBackwardTable { .. } => self.run_embedding_op(op),
            Op::ActForward { .. }
            | Op::Conv2d { .. }
            | Op::Conv2dInputGrad { .. }
            | Op::Conv2dWeightGrad { .. }
            | Op::ChannelSum { .. }
            | Op::Im2col { .. }
            | Op::Col2im { .. }
            | Op::Rows { .. }
            | Op::BatchNormStats { .. }
            | Op::BatchNormForward { .. }
            | Op::BatchNormBackwardParams { .. }
            | Op::BatchNormBackwardInput { .. } => self.run_layer_op(op),
        }
    }
}
