//! The GPU executor: one device buffer per graph tensor, every op bound to a [`Dispatch`] once,
//! and op lists replayed into compute passes without allocating.

use super::{Dtype, Epilogue, Graph, Op, TensorId, View};
use crate::gpu::{Gpu, GpuError};
use crate::kernels::matmul::{self, MatmulShape};
use crate::kernels::optim::OptimBuffers;
use crate::kernels::spectral::SpectralBuffers;
use crate::kernels::{At, Dispatch, Kernels};

/// A graph's tensors on the device, and the kernels to run its ops.
pub struct GpuPlan {
    pub kernels: std::sync::Arc<Kernels>,
    pub buffers: Vec<wgpu::Buffer>,
    dtypes: Vec<Dtype>,
}

impl GpuPlan {
    /// Creates and fills every tensor's buffer; fails with both sizes if one is larger than the
    /// device allows.
    pub fn new(gpu: &Gpu, graph: &Graph) -> Result<GpuPlan, GpuError> {
        let kernels = Kernels::shared(gpu)?;
        let mut buffers = Vec::with_capacity(graph.tensors.len());
        for (spec, init) in graph.tensors.iter().zip(&graph.init) {
            let b = match init {
                Some(words) => gpu.buffer_from(&spec.name, words)?,
                None => gpu.buffer(&spec.name, spec.len)?,
            };
            buffers.push(b);
        }
        Ok(GpuPlan {
            kernels,
            buffers,
            dtypes: graph.tensors.iter().map(|t| t.dtype).collect(),
        })
    }

    /// Binds every op once. The returned dispatches are what the training loop replays.
    pub fn compile(&self, gpu: &Gpu, ops: &[Op]) -> Result<Vec<Dispatch>, GpuError> {
        self.compile_runs(gpu, ops, true)
    }

    /// [`Self::compile`] for ops run a few times (sampling, evaluation, the snapshots at log
    /// intervals), not every iteration: their products skip pipelines that only pay back over
    /// many runs (the subgroup matmul's fixed ones, compiled at their first dispatch).
    pub fn compile_few_runs(&self, gpu: &Gpu, ops: &[Op]) -> Result<Vec<Dispatch>, GpuError> {
        self.compile_runs(gpu, ops, false)
    }

    fn compile_runs(
        &self,
        gpu: &Gpu,
        ops: &[Op],
        replayed: bool,
    ) -> Result<Vec<Dispatch>, GpuError> {
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            if let Some(d) = self.compile_op(gpu, op, replayed)? {
                out.push(d);
            }
        }
        Ok(out)
    }

    fn b(&self, t: TensorId) -> &wgpu::Buffer {
        &self.buffers[t]
    }

    fn at(&self, v: View) -> At<'_> {
        At {
            buf: &self.buffers[v.t],
            off: v.off,
        }
    }

    fn compile_op(&self, gpu: &Gpu, op: &Op, replayed: bool) -> Result<Option<Dispatch>, GpuError> {
        let k = &self.kernels;
        let d = match *op {
            Op::Matmul {
                variant,
                a,
                b,
                c,
                m,
                k: kk,
                n,
                epi,
            } => {
                let (e_off, epi) = match epi {
                    Epilogue::Forward { bias, act } => (
                        bias.map_or(0, |v| v.off),
                        matmul::Epilogue::Forward {
                            bias: bias.map(|v| self.b(v.t)),
                            act,
                        },
                    ),
                    Epilogue::ActGrad { y, act } => (
                        y.off,
                        matmul::Epilogue::ActGrad {
                            y: self.b(y.t),
                            act,
                        },
                    ),
                };
                let shape = MatmulShape {
                    m,
                    k: kk,
                    n,
                    a_off: a.off,
                    b_off: b.off,
                    c_off: c.off,
                    bias_off: e_off,
                };
                let form = k.matmul.choice(gpu, variant, &shape)?;
                let (a, b, c) = (self.b(a.t), self.b(b.t), self.b(c.t));
                k.matmul
                    .bind_replayed(gpu, variant, form, a, b, c, shape, epi, replayed)?
            }
            Op::BiasGrad { dz, db, rows, cols } => {
                k.matmul
                    .bias_grad(gpu, self.b(dz), self.b(db.t), db.off, rows, cols)?
            }
            Op::ActBackward { act, y, dy, out, n } => {
                return k
                    .act
                    .backward(gpu, act, self.b(y.t), y.off, self.b(dy), self.b(out), n)
            }
            Op::BceLoss {
                spec,
                x,
                y,
                metrics,
            } => k
                .bce
                .loss(gpu, spec, self.b(x), self.b(y), self.b(metrics))?,
            Op::BceBackward { spec, x, y, grad } => {
                k.bce
                    .backward(gpu, spec, self.b(x), self.b(y), self.b(grad))?
            }
            Op::SoftmaxXent {
                spec,
                x,
                labels,
                logp,
                metrics,
            } => k.xent.loss(
                gpu,
                spec,
                self.b(x),
                self.b(labels),
                self.b(logp),
                self.b(metrics),
            )?,
            Op::SoftmaxXentBackward {
                spec,
                logp,
                labels,
                grad,
            } => k
                .xent
                .backward(gpu, spec, self.b(logp), self.b(labels), self.b(grad))?,
            Op::Adam {
                cfg,
                state,
                step_slot,
                w,
                grad,
                m,
                v,
                n,
            } => k.optim.adam(
                gpu,
                cfg,
                self.b(state),
                step_slot,
                OptimBuffers {
                    w: self.b(w),
                    grad: self.b(grad),
                    m: self.b(m),
                    v: self.b(v),
                },
                n,
            )?,
            Op::SpectralNorm {
                spec,
                w,
                w_sn,
                uv,
                sigma,
            } => k.spectral.forward(
                gpu,
                spec,
                self.b(w),
                SpectralBuffers {
                    w_sn: self.b(w_sn),
                    uv: self.b(uv),
                    sigma: self.b(sigma),
                },
            )?,
            Op::SpectralNormBackward {
                spec,
                w_sn,
                uv,
                sigma,
                grad,
            } => k.spectral.backward(
                gpu,
                spec,
                SpectralBuffers {
                    w_sn: self.b(w_sn),
                    uv: self.b(uv),
                    sigma: self.b(sigma),
                },
                self.b(grad),
            )?,
            Op::Ema { decay, w, avg, n } => k.optim.ema(gpu, decay, self.b(w), self.b(avg), n)?,
            Op::Tick { state, slot } => k.rng.tick(gpu, self.b(state), slot)?,
            Op::RngNormal {
                src,
                out,
                n,
                mean,
                std,
            } => k.rng.normal(
                gpu,
                src.addr(),
                self.b(src.state),
                self.b(out.t),
                out.off,
                n,
                mean,
                std,
            )?,
            Op::RngAddNormal {
                src,
                x,
                out,
                n,
                std,
                anneal,
            } => {
                if x.t != out.t {
                    return Err(GpuError::Shape(
                        "rng_add_normal reads and writes one tensor".into(),
                    ));
                }
                k.rng.add_normal(
                    gpu,
                    src.addr(),
                    self.b(src.state),
                    self.b(out.t),
                    x.off,
                    out.off,
                    n,
                    std,
                    anneal,
                )?
            }
            Op::RngIndex {
                src,
                out,
                n,
                n_rows,
            } => k.rng.index(
                gpu,
                src.addr(),
                self.b(src.state),
                self.b(out.t),
                out.off,
                n,
                n_rows as u32,
            )?,
            Op::GatherU32 {
                data,
                idx,
                out,
                rows,
                cols,
                data_rows,
            } => k.gather.bind_u32(
                gpu,
                self.b(data),
                self.b(idx),
                self.b(out.t),
                out.off,
                rows,
                cols,
                data_rows,
            )?,
            Op::EmbedConcat {
                spec,
                table,
                labels,
                z,
                out,
            } => k.embed.concat(
                gpu,
                spec,
                self.at(table),
                self.at(labels),
                self.at(z),
                self.at(out),
            )?,
            Op::EmbedBackward {
                spec,
                dx,
                labels,
                dtable,
            } => k
                .embed
                .backward(gpu, spec, self.at(dx), self.at(labels), self.at(dtable))?,
            Op::ProjectionForward {
                spec,
                table,
                labels,
                phi,
                logits,
            } => k.embed.projection_forward(
                gpu,
                spec,
                self.at(table),
                self.at(labels),
                self.at(phi),
                self.at(logits),
            )?,
            Op::ProjectionBackwardInput {
                spec,
                act,
                table,
                labels,
                dlogit,
                h,
                dphi,
            } => k.embed.projection_backward_input(
                gpu,
                spec,
                act,
                self.at(table),
                self.at(labels),
                self.at(dlogit),
                self.at(h),
                self.at(dphi),
            )?,
            Op::ProjectionBackwardTable {
                spec,
                labels,
                dlogit,
                phi,
                dtable,
            } => k.embed.projection_backward_table(
                gpu,
                spec,
                self.at(labels),
                self.at(dlogit),
                self.at(phi),
                self.at(dtable),
            )?,
            Op::Gather {
                packed_u8,
                data,
                idx,
                out,
                rows,
                cols,
                data_rows,
            } => k.gather.bind(
                gpu,
                packed_u8,
                self.b(data),
                self.b(idx),
                self.b(out.t),
                out.off,
                rows,
                cols,
                data_rows,
            )?,
            Op::ActForward { act, x, out, n } => {
                return k.act.forward_at(gpu, act, self.at(x), self.at(out), n)
            }
            Op::Conv2d {
                shape,
                x,
                w,
                bias,
                y,
            } => k.conv.conv2d(
                gpu,
                shape,
                self.at(x),
                self.at(w),
                bias.map(|v| self.at(v)),
                self.at(y),
            )?,
            Op::Conv2dInputGrad {
                shape,
                dy,
                w,
                bias,
                dx,
            } => k.conv.conv2d_input_grad(
                gpu,
                shape,
                self.at(dy),
                self.at(w),
                bias.map(|v| self.at(v)),
                self.at(dx),
            )?,
            Op::Conv2dWeightGrad { shape, dy, x, dw } => {
                k.conv
                    .conv2d_weight_grad(gpu, shape, self.at(dy), self.at(x), self.at(dw))?
            }
            Op::ChannelSum {
                batch,
                channels,
                hw,
                v,
                out,
            } => k
                .conv
                .channel_sum(gpu, batch, channels, hw, self.at(v), self.at(out))?,
            Op::Im2col { shape, x, cols } => {
                k.conv.im2col(gpu, shape, self.at(x), self.at(cols))?
            }
            Op::Col2im {
                shape,
                cols,
                bias,
                x,
            } => k.conv.col2im(
                gpu,
                shape,
                self.at(cols),
                bias.map(|v| self.at(v)),
                self.at(x),
            )?,
            Op::Rows {
                back,
                batch,
                channels,
                hw,
                a,
                out,
            } => k
                .conv
                .rows(gpu, back, [batch, channels, hw], self.at(a), self.at(out))?,
            Op::BatchNormStats {
                spec,
                x,
                stats,
                running,
                update_running,
            } => k.batchnorm.stats(
                gpu,
                spec,
                self.at(x),
                self.at(stats),
                self.at(running),
                update_running,
            )?,
            Op::BatchNormForward {
                spec,
                x,
                affine,
                stats,
                running,
                use_running,
                y,
            } => k.batchnorm.forward(
                gpu,
                spec,
                self.at(x),
                self.at(affine),
                self.at(stats),
                self.at(running),
                use_running,
                self.at(y),
            )?,
            Op::BatchNormBackwardParams {
                spec,
                x,
                dy,
                affine,
                stats,
                daffine,
            } => k.batchnorm.backward_params(
                gpu,
                spec,
                self.at(x),
                self.at(dy),
                self.at(affine),
                self.at(stats),
                self.at(daffine),
            )?,
            Op::BatchNormBackwardInput {
                spec,
                x,
                dy,
                affine,
                stats,
                daffine,
                dx,
            } => k.batchnorm.backward_input(
                gpu,
                spec,
                self.at(x),
                self.at(dy),
                self.at(affine),
                self.at(stats),
                self.at(daffine),
                self.at(dx),
            )?,
        };
        Ok(Some(d))
    }

    /// Records `lists` in order, `repeat` times, into one compute pass of `enc`.
    pub fn record(enc: &mut wgpu::CommandEncoder, lists: &[&[Dispatch]], repeat: usize) {
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("shadergan step"),
            timestamp_writes: None,
        });
        for _ in 0..repeat {
            for list in lists {
                for d in *list {
                    d.record(&mut pass);
                }
            }
        }
    }

    /// Records `lists` `repeat` times into one pass and submits it without waiting: the training
    /// loop's only per-step call.
    pub fn submit(gpu: &Gpu, lists: &[&[Dispatch]], repeat: usize) -> Result<(), GpuError> {
        gpu.checked("training step", || {
            let mut enc = gpu.device.create_command_encoder(&Default::default());
            Self::record(&mut enc, lists, repeat);
            gpu.queue.submit([enc.finish()]);
        })
    }

    /// Records, submits and waits (tests, tools, and the logging interval).
    pub fn run(&self, gpu: &Gpu, lists: &[&[Dispatch]], repeat: usize) -> Result<(), GpuError> {
        Self::submit(gpu, lists, repeat)?;
        gpu.wait()
    }

    pub fn read_f32(&self, gpu: &Gpu, t: TensorId) -> Result<Vec<f32>, GpuError> {
        assert_eq!(self.dtypes[t], Dtype::F32, "tensor {t} is not f32");
        gpu.read(&self.buffers[t])
    }

    pub fn read_u32(&self, gpu: &Gpu, t: TensorId) -> Result<Vec<u32>, GpuError> {
        assert_eq!(self.dtypes[t], Dtype::U32, "tensor {t} is not u32");
        gpu.read(&self.buffers[t])
    }

    pub fn write_f32(&self, gpu: &Gpu, t: TensorId, data: &[f32]) {
        gpu.write(&self.buffers[t], data)
    }

    pub fn write_u32(&self, gpu: &Gpu, t: TensorId, data: &[u32]) {
        gpu.write(&self.buffers[t], data)
    }
}
