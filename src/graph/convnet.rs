//! A convolutional network (DCGAN's generator and discriminator) as a list of blocks, read as a
//! PyTorch `nn.Sequential` is: block i is module i, its parameters are `i.weight` and `i.bias`
//! in that order in one flat buffer, and a batch norm's running statistics are `i.running_mean`
//! and `i.running_var` in a flat buffer of their own. Activations are NCHW; a flat row of
//! c*h*w values is the same memory as a c x h x w image. The forward and the backward pass are
//! op lists; the backward visits the blocks in exactly the reverse order.

use super::{conv_gemm, Graph, Op, TensorId, View};
use crate::ops::{Activation, BatchNormSpec, ConvShape, Variant};
use anyhow::{bail, ensure};

/// Batch statistics are taken over at most this many groups of rows (D: real, generated).
pub const MAX_BN_GROUPS: usize = 2;

fn shift(v: View, off: usize) -> View {
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
    fn is_view(&self) -> bool {
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

fn len(s: [usize; 3]) -> usize {
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
    /// matmul form (graph/conv_gemm.rs).
    pub direct: bool,
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
        let plans = spec.plan()?;
        let n = spec.param_count()?;
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

    fn workspace(&mut self, g: &mut Graph, name: &str, rows: usize, grads: bool) {
        let sizes: Vec<usize> = self.plans.iter().map(|p| rows * len(p.out)).collect();
        self.ys = sizes
            .iter()
            .enumerate()
            .map(|(i, &s)| g.f32(&format!("{name}.y{i}"), s))
            .collect();
        self.dys = if grads {
            sizes
                .iter()
                .enumerate()
                .map(|(i, &s)| g.f32(&format!("{name}.dy{i}"), s))
                .collect()
        } else {
            Vec::new()
        };
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
        self.rows = rows;
    }

    /// Batch-norm groups over `rows` rows in training mode.
    fn groups(&self, rows: usize) -> usize {
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
    fn group_stats(&self, gi: usize, p: &BlockPlan) -> View {
        let per_group = self.running_len();
        View {
            t: self.stats,
            off: gi * per_group + p.buf_off,
        }
    }

    fn running_len(&self) -> usize {
        self.plans
            .iter()
            .zip(&self.spec.blocks)
            .filter(|(_, b)| **b == Block::BatchNorm)
            .map(|(p, _)| 2 * p.inp[0])
            .sum()
    }

    /// The Conv2d block `i` is (or, for a ConvTranspose2d, is the adjoint of) over `rows` images.
    fn conv_shape(&self, i: usize, rows: usize) -> Option<ConvShape> {
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
    fn x(&self, i: usize, input: View) -> View {
        if i == 0 {
            input
        } else {
            self.y(i - 1, input, None)
        }
    }

    /// The view block `i` writes (views alias their input; the last block writes `out` if given).
    fn y(&self, i: usize, input: View, out: Option<View>) -> View {
        if self.spec.blocks[i].is_view() {
            return self.x(i, input);
        }
        match out {
            Some(v) if i + 1 == self.plans.len() => v,
            _ => self.ys[i].into(),
        }
    }

    /// The gradient with respect to block `i`'s output (views share their successor's).
    fn dy(&self, i: usize, dout: TensorId) -> TensorId {
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

    fn p(&self, off: usize) -> View {
        View {
            t: self.params,
            off,
        }
    }

    fn gr(&self, off: usize) -> View {
        View { t: self.grads, off }
    }

    fn conv(
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

    fn convt(
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

    fn bn(&self, p: &BlockPlan, rows: usize) -> BatchNormSpec {
        BatchNormSpec::new(rows, p.inp[0], p.inp[1] * p.inp[2])
    }

    fn buf(&self, t: TensorId, p: &BlockPlan) -> View {
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
                    bias: bias.then(|| self.p(p.b_off)),
                    c: y,
                    m: rows,
                    k: len(p.inp),
                    n: o,
                    act: Activation::Identity,
                }),
                Block::Conv2d { bias, .. } => {
                    let shape = self.conv_shape(i, rows).expect("a convolution");
                    let (w, bias) = (self.p(p.w_off), bias.then(|| self.p(p.b_off)));
                    match &self.scratch[i] {
                        Some(sc) if !self.direct => {
                            ops.extend(conv_gemm::conv_forward(shape, x, w, bias, y, sc))
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
                    let (spec, n) = (self.bn(p, rows / groups), rows / groups * len(p.inp));
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
        let mut ops = Vec::new();
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
                            bias: None,
                            c: self.gr(p.w_off),
                            m: o,
                            k: rows,
                            n: len(p.inp),
                            act: Activation::Identity,
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
                            bias: None,
                            c: dx,
                            m: rows,
                            k: o,
                            n: len(p.inp),
                            act: Activation::Identity,
                        });
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
                    let (spec, n) = (self.bn(p, rows / groups), rows / groups * len(p.inp));
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
