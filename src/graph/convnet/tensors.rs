//! A convolutional network's tensors (parameters, gradients, Adam moments, running statistics,
//! per-block workspaces and the matmul form's scratch) and its forward pass as an op list.

use super::{len, shift, Block, BlockPlan, ConvNetSpec, MAX_BN_GROUPS};
use crate::graph::{conv_gemm, Epilogue, Graph, Op, TensorId, View};
use crate::ops::{Activation, BatchNormSpec, ConvShape, Variant};
use anyhow::ensure;

/// The tensors of one convolutional network: flat parameters, gradients and Adam moments,
/// running statistics, batch-statistics scratch, and per-block workspaces for `rows` rows.
#[derive(Clone, Debug)]
pub struct ConvNetTensors {
    pub spec: ConvNetSpec,
    pub plans: Vec<BlockPlan>,
    pub params: TensorId,
    pub grads: TensorId,
    pub adam_m: TensorId,
    pub adam_v: TensorId,
    /// [running_mean, running_var] of every batch norm (persisted in checkpoints).
    pub running: TensorId,
    /// [mean, 1/std] of every batch norm's last training forward (read by its backward).
    pub stats: TensorId,
    /// Each block's output (unused for views, which alias their input).
    pub ys: Vec<TensorId>,
    /// The gradient with respect to each block's output.
    pub dys: Vec<TensorId>,
    /// Batch norms in training mode take statistics over groups of this many rows (None: over
    /// all rows): D's, over the real and the generated half of its batch separately.
    pub bn_group_rows: Option<usize>,
    /// Each batch norm's per-group [gamma, beta] gradients, [MAX_BN_GROUPS, 2 c].
    pub bn_grads: Vec<Option<TensorId>>,
    /// Each convolution block's scratch for the matmul form.
    pub scratch: Vec<Option<conv_gemm::Scratch>>,
    /// Convolutions by the direct kernels of conv.wgsl (the readable reference) instead of the
    /// matmul form (graph/conv_gemm.rs). Set with [`Self::set_forms`].
    pub(crate) direct: bool,
    /// An activation after a batch norm runs in the batch norm's passes, forward and backward
    /// (see `BatchNormSpec`), and one after a Conv2d of the matmul form in the forward matmul's
    /// epilogue (its backward stays a pass: it reads the activation's output, which the fused
    /// forward writes), the activation block emitting nothing there; false: every activation
    /// as its own passes (the reference the fused forms are held to). Set with
    /// [`Self::set_forms`].
    pub(crate) fuse_act: bool,
    pub rows: usize,
}

impl ConvNetTensors {
    pub fn new(
        g: &mut Graph,
        name: &str,
        spec: &ConvNetSpec,
        params: &[f32],
        running: &[f32],
        rows: usize,
    ) -> anyhow::Result<Self> {
        Self::with_trailing(g, name, spec, params, running, rows, 0)
    }

    /// [`Self::new`] with `trailing` more parameters after the network's own in the flat
    /// buffers (a conditional run's class embeddings), stepped by the same Adam dispatch; the
    /// blocks never read them.
    pub fn with_trailing(
        g: &mut Graph,
        name: &str,
        spec: &ConvNetSpec,
        params: &[f32],
        running: &[f32],
        rows: usize,
        trailing: usize,
    ) -> anyhow::Result<Self> {
        let plans = spec.plan()?;
        let n = spec.param_count()? + trailing;
        ensure!(
            params.len() == n,
            "{name}: {} parameters for {n}",
            params.len()
        );
        ensure!(
            running.len() == spec.buffer_count()?,
            "{name}: running statistics of the wrong length"
        );
        let mut t = ConvNetTensors {
            spec: spec.clone(),
            params: g.f32_from(&format!("{name}.params"), params),
            grads: g.f32(&format!("{name}.grads"), n),
            adam_m: g.f32(&format!("{name}.adam_m"), n),
            adam_v: g.f32(&format!("{name}.adam_v"), n),
            running: g.f32_from(&format!("{name}.running"), running),
            stats: g.f32(&format!("{name}.stats"), MAX_BN_GROUPS * running.len()),
            ys: Vec::new(),
            dys: Vec::new(),
            scratch: Vec::new(),
            direct: false,
            fuse_act: true,
            bn_group_rows: None,
            bn_grads: Vec::new(),
            rows,
            plans,
        };
        t.bn_grads = (0..t.plans.len())
            .map(|i| {
                (t.spec.blocks[i] == Block::BatchNorm).then(|| {
                    g.f32(
                        &format!("{name}.bn{i}_grads"),
                        MAX_BN_GROUPS * 2 * t.plans[i].inp[0],
                    )
                })
            })
            .collect();
        t.workspace(g, name, rows, true);
        Ok(t)
    }

    /// The convolutions' form (`direct`: the direct kernels) and whether activations run in the
    /// passes before them (`fuse_act`), with a new workspace for them (the old one's tensors stay
    /// in `g`, unused): for tests that compare the forms.
    pub fn set_forms(&mut self, g: &mut Graph, name: &str, direct: bool, fuse_act: bool) {
        self.direct = direct;
        self.fuse_act = fuse_act;
        let grads = !self.dys.is_empty();
        self.workspace(g, name, self.rows, grads);
    }

    fn workspace(&mut self, g: &mut Graph, name: &str, rows: usize, grads: bool) {
        self.scratch = (0..self.plans.len())
            .map(|i| {
                let s = self.conv_shape(i, rows)?;
                // Training workspaces keep a whole batch: the backward reads the forward's.
                let chunk = if grads {
                    rows
                } else {
                    conv_gemm::forward_chunk(&s, rows)
                };
                Some(conv_gemm::scratch(g, &format!("{name}.c{i}"), &s, chunk))
            })
            .collect();
        // A block whose forward writes the next block's output instead (the activation after it
        // fused into its passes) has no output of its own, and a batch norm with its activation
        // fused no gradient with respect to its output: those tensors are empty, so that a stray
        // use fails loudly. In workload C's networks, 21.6 MiB of 161.2.
        let sizes: Vec<usize> = self.plans.iter().map(|p| rows * len(p.out)).collect();
        self.ys = sizes
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let unused = self.bn_fused_act(i).is_some() || self.conv_fused_act(i).is_some();
                g.f32(&format!("{name}.y{i}"), if unused { 0 } else { s })
            })
            .collect();
        self.dys = if grads {
            sizes
                .iter()
                .enumerate()
                .map(|(i, &s)| {
                    let unused = self.bn_fused_act(i).is_some();
                    g.f32(&format!("{name}.dy{i}"), if unused { 0 } else { s })
                })
                .collect()
        } else {
            Vec::new()
        };
        self.rows = rows;
    }

    /// Batch-norm groups over `rows` rows in training mode.
    pub(super) fn groups(&self, rows: usize) -> usize {
        match self.bn_group_rows {
            Some(g) if rows > g => {
                assert!(
                    rows.is_multiple_of(g) && rows / g <= MAX_BN_GROUPS,
                    "{rows} rows in batch-norm groups of {g}"
                );
                rows / g
            }
            _ => 1,
        }
    }

    /// Group `gi`'s [mean, 1/std] of the batch norm planned as `p`.
    pub(super) fn group_stats(&self, gi: usize, p: &BlockPlan) -> View {
        let per_group = self.running_len();
        View {
            t: self.stats,
            off: gi * per_group + p.buf_off,
        }
    }

    pub(super) fn running_len(&self) -> usize {
        self.plans
            .iter()
            .zip(&self.spec.blocks)
            .filter(|(_, b)| **b == Block::BatchNorm)
            .map(|(p, _)| 2 * p.inp[0])
            .sum()
    }

    /// The Conv2d block `i` is (or, for a ConvTranspose2d, is the adjoint of) over `rows` images.
    pub(super) fn conv_shape(&self, i: usize, rows: usize) -> Option<ConvShape> {
        let p = &self.plans[i];
        match self.spec.blocks[i] {
            Block::Conv2d {
                out_ch,
                k,
                stride,
                pad,
                ..
            } => Some(self.conv(p, rows, out_ch, k, stride, pad)),
            Block::ConvTranspose2d {
                out_ch,
                k,
                stride,
                pad,
                ..
            } => Some(self.convt(p, rows, out_ch, k, stride, pad)),
            _ => None,
        }
    }

    /// The same parameters and running statistics with a forward-only workspace for `rows`
    /// rows (pictures and evaluation, in eval mode).
    pub fn with_workspace(&self, g: &mut Graph, name: &str, rows: usize) -> Self {
        let mut t = self.clone();
        t.workspace(g, name, rows, false);
        t
    }

    /// The view block `i` reads.
    pub(super) fn x(&self, i: usize, input: View) -> View {
        if i == 0 {
            input
        } else {
            self.y(i - 1, input, None)
        }
    }

    /// The view block `i` writes (views alias their input; the last block writes `out` if given).
    pub(super) fn y(&self, i: usize, input: View, out: Option<View>) -> View {
        if self.spec.blocks[i].is_view() {
            return self.x(i, input);
        }
        match out {
            Some(v) if i + 1 == self.plans.len() => v,
            _ => self.ys[i].into(),
        }
    }

    /// The gradient with respect to block `i`'s output (views share their successor's).
    pub(super) fn dy(&self, i: usize, dout: TensorId) -> TensorId {
        if i + 1 == self.plans.len() {
            dout
        } else if self.spec.blocks[i + 1].is_view() {
            self.dy(i + 1, dout)
        } else {
            self.dys[i]
        }
    }

    pub fn output_view(&self, out: Option<View>) -> View {
        self.y(self.plans.len() - 1, View { t: 0, off: 0 }, out)
    }

    /// What the last block reads: phi(x), the features a projection discriminator's class term
    /// multiplies.
    pub fn features(&self, input: View) -> View {
        self.x(self.plans.len() - 1, input)
    }

    pub(super) fn p(&self, off: usize) -> View {
        View {
            t: self.params,
            off,
        }
    }

    pub(super) fn gr(&self, off: usize) -> View {
        View { t: self.grads, off }
    }

    pub(super) fn conv(
        &self,
        p: &BlockPlan,
        rows: usize,
        out_ch: usize,
        k: usize,
        st: usize,
        pad: usize,
    ) -> ConvShape {
        ConvShape {
            batch: rows,
            in_ch: p.inp[0],
            out_ch,
            h: p.inp[1],
            w: p.inp[2],
            k_h: k,
            k_w: k,
            stride: st,
            pad,
        }
    }

    pub(super) fn convt(
        &self,
        p: &BlockPlan,
        rows: usize,
        out_ch: usize,
        k: usize,
        st: usize,
        pad: usize,
    ) -> ConvShape {
        ConvShape::transposed(
            rows,
            p.inp[0],
            out_ch,
            (p.inp[1], p.inp[2]),
            (k, k),
            st,
            pad,
        )
        .expect("checked by plan()")
    }

    /// Batch norm block `i` (planned as `p`) over `rows` rows, with the activation it takes
    /// into its passes.
    pub(super) fn bn(&self, i: usize, p: &BlockPlan, rows: usize) -> BatchNormSpec {
        BatchNormSpec::new(rows, p.inp[0], p.inp[1] * p.inp[2])
            .with_act(self.bn_fused_act(i).unwrap_or(Activation::Identity))
    }

    /// The activation batch norm block `i` applies in its own passes: the next block's, when
    /// it is an activation and `fuse_act` is on.
    pub(super) fn bn_fused_act(&self, i: usize) -> Option<Activation> {
        match (self.spec.blocks[i], self.spec.blocks.get(i + 1)) {
            (Block::BatchNorm, Some(&Block::Act(act))) if self.fuse_act => Some(act),
            _ => None,
        }
    }

    /// The activation Conv2d block `i` applies in its forward matmul's epilogue: the next
    /// block's, when it is an activation, `fuse_act` is on and the convolution takes the matmul
    /// form.
    pub(super) fn conv_fused_act(&self, i: usize) -> Option<Activation> {
        let gemm = !self.direct && self.scratch.get(i).is_some_and(|s| s.is_some());
        match (self.spec.blocks[i], self.spec.blocks.get(i + 1)) {
            (Block::Conv2d { .. }, Some(&Block::Act(act))) if self.fuse_act && gemm => Some(act),
            _ => None,
        }
    }

    /// Whether block `i` is an activation the batch norm before it applies (forward and
    /// backward).
    pub(super) fn fused_into_bn(&self, i: usize) -> bool {
        i > 0 && self.bn_fused_act(i - 1).is_some()
    }

    /// Whether block `i`'s forward is done by the block before it.
    fn forward_fused(&self, i: usize) -> bool {
        self.fused_into_bn(i) || (i > 0 && self.conv_fused_act(i - 1).is_some())
    }

    pub(super) fn buf(&self, t: TensorId, p: &BlockPlan) -> View {
        View { t, off: p.buf_off }
    }

    /// Forward over `rows` rows of `input`; batch norms normalise with batch statistics and
    /// update their running statistics when `train`, and use the running statistics otherwise.
    pub fn forward(&self, input: View, rows: usize, out: Option<View>, train: bool) -> Vec<Op> {
        assert!(
            rows <= self.rows,
            "forward over more rows than the workspace"
        );
        let mut ops = Vec::new();
        for (i, (b, p)) in self.spec.blocks.iter().zip(&self.plans).enumerate() {
            let (x, y) = (self.x(i, input), self.y(i, input, out));
            match *b {
                Block::Linear { out: o, bias } => ops.push(Op::Matmul {
                    variant: Variant::ABt,
                    a: x,
                    b: self.p(p.w_off),
                    c: y,
                    m: rows,
                    k: len(p.inp),
                    n: o,
                    epi: Epilogue::Forward {
                        bias: bias.then(|| self.p(p.b_off)),
                        act: Activation::Identity,
                    },
                }),
                Block::Conv2d { bias, .. } => {
                    let shape = self.conv_shape(i, rows).expect("a convolution");
                    let (w, bias) = (self.p(p.w_off), bias.then(|| self.p(p.b_off)));
                    match &self.scratch[i] {
                        Some(sc) if !self.direct => {
                            // With the activation fused, the next block's output is written here.
                            let (act, y) = match self.conv_fused_act(i) {
                                Some(act) => (act, self.y(i + 1, input, out)),
                                None => (Activation::Identity, y),
                            };
                            ops.extend(conv_gemm::conv_forward(shape, x, w, (bias, act), y, sc))
                        }
                        _ => ops.push(Op::Conv2d {
                            shape,
                            x,
                            w,
                            bias,
                            y,
                        }),
                    }
                }
                Block::ConvTranspose2d { bias, .. } => {
                    let shape = self.conv_shape(i, rows).expect("a convolution");
                    let (w, bias) = (self.p(p.w_off), bias.then(|| self.p(p.b_off)));
                    match &self.scratch[i] {
                        Some(sc) if !self.direct => {
                            ops.extend(conv_gemm::convt_forward(shape, x, w, bias, y, sc))
                        }
                        _ => ops.push(Op::Conv2dInputGrad {
                            shape,
                            dy: x,
                            w,
                            bias,
                            dx: y,
                        }),
                    }
                }
                Block::BatchNorm => {
                    let groups = if train { self.groups(rows) } else { 1 };
                    let (spec, n) = (self.bn(i, p, rows / groups), rows / groups * len(p.inp));
                    // With the activation fused, the next block's output is written here.
                    let y = if self.bn_fused_act(i).is_some() {
                        self.y(i + 1, input, out)
                    } else {
                        y
                    };
                    for gi in 0..groups {
                        let stats = self.group_stats(gi, p);
                        if train {
                            ops.push(Op::BatchNormStats {
                                spec,
                                x: shift(x, gi * n),
                                stats,
                                running: self.buf(self.running, p),
                                update_running: true,
                            });
                        }
                        ops.push(Op::BatchNormForward {
                            spec,
                            x: shift(x, gi * n),
                            affine: self.p(p.w_off),
                            stats,
                            running: self.buf(self.running, p),
                            use_running: !train,
                            y: shift(y, gi * n),
                        });
                    }
                }
                Block::Act(_) if self.forward_fused(i) => {}
                Block::Act(act) => ops.push(Op::ActForward {
                    act,
                    x,
                    out: y,
                    n: rows * len(p.out),
                }),
                Block::Unflatten { .. } | Block::Flatten => {}
            }
        }
        ops
    }
}
