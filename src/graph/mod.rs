//! The small executor. A training step is written once as a list of [`Op`]s over named tensors
//! (a [`Graph`]); [`gpu::GpuPlan`] binds every op to a dispatch once and replays the list, and
//! [`cpu::CpuPlan`] runs the very same list on the CPU twins, which is how the tests prove the GPU
//! path right.

pub mod conv_gemm;
pub mod convnet;
pub mod cpu;
mod cpu_layers;
pub mod gpu;
pub mod net;
pub mod network;
pub mod projection;
pub mod state_dict;

use crate::ops::{
    Activation, AdamConfig, BatchNormSpec, BceSpec, ConvShape, EmbedSpec, RngAddr, SpectralSpec,
    Variant, XentSpec,
};

/// Index of a tensor in its [`Graph`].
pub type TensorId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    F32,
    U32,
}

/// A flat device buffer: its name (for errors and checkpoints), length and element type.
#[derive(Clone, Debug)]
pub struct TensorSpec {
    pub name: String,
    pub len: usize,
    pub dtype: Dtype,
}

/// A tensor from element `off` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View {
    pub t: TensorId,
    pub off: usize,
}

impl From<TensorId> for View {
    fn from(t: TensorId) -> View {
        View { t, off: 0 }
    }
}

/// Where the random numbers of one op come from: Philox key `seed`, a `stream` unique to the op,
/// and a counter `ctr` added to the 64-bit counter that the schedule advances on the GPU in the
/// state tensor at `state_slot`, so no two iterations or ops ever share numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RngSource {
    pub seed: u64,
    pub stream: u32,
    pub state: TensorId,
    pub state_slot: usize,
}

impl RngSource {
    /// The kernels' address: this source's key and stream, counter offset 0, plus the GPU counter.
    pub fn addr(&self) -> RngAddr {
        RngAddr {
            seed: self.seed,
            stream: self.stream,
            ctr: 0,
            state_slot: self.state_slot,
        }
    }
}

/// What a product does to each sum before storing it (`kernels::matmul::Epilogue` over views).
#[derive(Clone, Copy, Debug)]
pub enum Epilogue {
    /// act(sum + bias[j]) (the bias optional): a Linear layer's forward.
    Forward { bias: Option<View>, act: Activation },
    /// sum * act'(y[i, j]), y the [m, n] forward output of the layer below: an input gradient
    /// with that layer's `ActBackward` fused.
    ActGrad { y: View, act: Activation },
}

impl Epilogue {
    /// The product alone.
    pub const PLAIN: Epilogue = Epilogue::Forward {
        bias: None,
        act: Activation::Identity,
    };
}

/// One kernel launch in terms of tensors. Each variant is one WGSL entry point (or a few, chosen
/// by its fields) with its CPU twin.
#[derive(Clone, Debug)]
pub enum Op {
    /// C[m,n] = epi(op(A) op(B)); shapes as in `kernels::matmul`.
    Matmul {
        variant: Variant,
        a: View,
        b: View,
        c: View,
        m: usize,
        k: usize,
        n: usize,
        epi: Epilogue,
    },
    /// db[j] = sum_i dz[i, j] over `rows` rows of `cols`.
    BiasGrad {
        dz: TensorId,
        db: View,
        rows: usize,
        cols: usize,
    },
    /// out = dy * act'(y), from the forward output y.
    ActBackward {
        act: Activation,
        y: View,
        dy: TensorId,
        out: TensorId,
        n: usize,
    },
    BceLoss {
        spec: BceSpec,
        x: TensorId,
        y: TensorId,
        metrics: TensorId,
    },
    BceBackward {
        spec: BceSpec,
        x: TensorId,
        y: TensorId,
        grad: TensorId,
    },
    /// logp = log-softmax(x) per row; mean loss and accuracy against f32 class `labels` into
    /// `metrics`.
    SoftmaxXent {
        spec: XentSpec,
        x: TensorId,
        labels: TensorId,
        logp: TensorId,
        metrics: TensorId,
    },
    /// grad = scale * (softmax - onehot) / rows, from the forward's logp.
    SoftmaxXentBackward {
        spec: XentSpec,
        logp: TensorId,
        labels: TensorId,
        grad: TensorId,
    },
    /// Spectral normalisation of one Linear layer: `w_sn` = [W / sigma; b] from `w` = [W; b]
    /// (with `spec.update`, after one power iteration on u and v in `uv`); sigma into `sigma`.
    SpectralNorm {
        spec: SpectralSpec,
        w: TensorId,
        w_sn: TensorId,
        uv: TensorId,
        sigma: TensorId,
    },
    /// `grad`'s weight block, dL/dW_sn on entry, becomes dL/dW (u and v held fixed).
    SpectralNormBackward {
        spec: SpectralSpec,
        w_sn: TensorId,
        uv: TensorId,
        sigma: TensorId,
        grad: TensorId,
    },
    /// One Adam step over a whole flat parameter tensor; step count in state[step_slot].
    Adam {
        cfg: AdamConfig,
        state: TensorId,
        step_slot: usize,
        w: TensorId,
        grad: TensorId,
        m: TensorId,
        v: TensorId,
        n: usize,
    },
    /// avg[..n] = decay avg + (1 - decay) w: an exponential moving average of weights.
    Ema {
        decay: f32,
        w: TensorId,
        avg: TensorId,
        n: usize,
    },
    /// Adds one to the 64-bit counter at state[slot], state[slot + 1].
    Tick { state: TensorId, slot: usize },
    /// out[..n] = mean + std * N(0, 1).
    RngNormal {
        src: RngSource,
        out: View,
        n: usize,
        mean: f32,
        std: f32,
    },
    /// out[..n] = x[..n] + s N(0, 1) with s = std max(0, 1 - t / anneal), t the counter at src's
    /// state slot (anneal = 0: constant): instance noise on D's input. `x` is `out` (in place) or
    /// a range of the same tensor that does not overlap it.
    RngAddNormal {
        src: RngSource,
        x: View,
        out: View,
        n: usize,
        std: f32,
        anneal: u32,
    },
    /// out[..n] = uniform integers in [0, n_rows).
    RngIndex {
        src: RngSource,
        out: View,
        n: usize,
        n_rows: usize,
    },
    /// out[r, :] = data[idx[r], :] for r < rows; with `packed_u8`, `data` (u32) holds image bytes
    /// four to a word, each expanded to [-1, 1].
    Gather {
        packed_u8: bool,
        data: TensorId,
        idx: TensorId,
        out: View,
        rows: usize,
        cols: usize,
        data_rows: usize,
    },
    /// out[r, :] = data[idx[r], :] on u32 words (a minibatch's labels).
    GatherU32 {
        data: TensorId,
        idx: TensorId,
        out: View,
        rows: usize,
        cols: usize,
        data_rows: usize,
    },
    /// out[r, :] = cat(table[y[r], :], z[r, :]): a conditional G's input (embedding.wgsl).
    EmbedConcat {
        spec: EmbedSpec,
        table: View,
        labels: View,
        z: View,
        out: View,
    },
    /// dtable[k, :] = sum over r in order with y[r] = k of dx[r, ..dim] (rows of dim + z_dim).
    EmbedBackward {
        spec: EmbedSpec,
        dx: View,
        labels: View,
        dtable: View,
    },
    /// logit[r] += <table[y[r], :], phi[r, :]>: the projection discriminator's class term.
    ProjectionForward {
        spec: EmbedSpec,
        table: View,
        labels: View,
        phi: View,
        logits: View,
    },
    /// dphi[r, c] = (dphi[r, c] + dlogit[r] table[y[r], c]) * act'(h[r, c]), in place.
    ProjectionBackwardInput {
        spec: EmbedSpec,
        act: Activation,
        table: View,
        labels: View,
        dlogit: View,
        h: View,
        dphi: View,
    },
    /// dtable[k, :] = sum over r in order with y[r] = k of dlogit[r] phi[r, :].
    ProjectionBackwardTable {
        spec: EmbedSpec,
        labels: View,
        dlogit: View,
        phi: View,
        dtable: View,
    },
    /// out[..n] = act(x[..n]) (an activation that does not follow a matmul, e.g. after a
    /// batch norm).
    ActForward {
        act: Activation,
        x: View,
        out: View,
        n: usize,
    },
    /// Conv2d forward: y = conv(x, w) + bias (conv.wgsl `conv2d_forward`).
    Conv2d {
        shape: ConvShape,
        x: View,
        w: View,
        bias: Option<View>,
        y: View,
    },
    /// Conv2d input gradient, plus a bias per input channel when given: also ConvTranspose2d's
    /// forward (`conv2d_input_grad`).
    Conv2dInputGrad {
        shape: ConvShape,
        dy: View,
        w: View,
        bias: Option<View>,
        dx: View,
    },
    /// Conv2d weight gradient dw from dy and x (`conv2d_weight_grad`).
    Conv2dWeightGrad {
        shape: ConvShape,
        dy: View,
        x: View,
        dw: View,
    },
    /// cols [N OH OW, C KH KW] from x [N, C, H, W]: the rows of a convolution's matmul.
    Im2col {
        shape: ConvShape,
        x: View,
        cols: View,
    },
    /// x [N, C, H, W] = im2col's adjoint of cols (plus `bias` per channel).
    Col2im {
        shape: ConvShape,
        cols: View,
        bias: Option<View>,
        x: View,
    },
    /// [batch, channels, hw] to [batch hw, channels] (one row per pixel), or back with `back`.
    Rows {
        back: bool,
        batch: usize,
        channels: usize,
        hw: usize,
        a: View,
        out: View,
    },
    /// out[c] = sum over b and hw of v[b, c, :] (a convolution's bias gradient).
    ChannelSum {
        batch: usize,
        channels: usize,
        hw: usize,
        v: View,
        out: View,
    },
    /// Batch statistics into `stats`, and with `update_running` the running statistics' update.
    BatchNormStats {
        spec: BatchNormSpec,
        x: View,
        stats: View,
        running: View,
        update_running: bool,
    },
    /// y = batch norm of x with `stats` (training) or the running statistics (`use_running`).
    BatchNormForward {
        spec: BatchNormSpec,
        x: View,
        affine: View,
        stats: View,
        running: View,
        use_running: bool,
        y: View,
    },
    /// daffine = [d gamma, d beta]; `affine` is read where `spec.act` is fused (y recomputed).
    BatchNormBackwardParams {
        spec: BatchNormSpec,
        x: View,
        dy: View,
        affine: View,
        stats: View,
        daffine: View,
    },
    /// dx through the batch statistics.
    BatchNormBackwardInput {
        spec: BatchNormSpec,
        x: View,
        dy: View,
        affine: View,
        stats: View,
        daffine: View,
        dx: View,
    },
}

/// Tensors and their initial contents; ops refer to tensors by id.
#[derive(Default)]
pub struct Graph {
    pub tensors: Vec<TensorSpec>,
    /// Initial contents as raw 32-bit words (f32 bits or u32); `None` starts as zeros.
    pub init: Vec<Option<Vec<u32>>>,
}

impl Graph {
    pub fn tensor(&mut self, name: &str, len: usize, dtype: Dtype) -> TensorId {
        self.tensors.push(TensorSpec {
            name: name.to_string(),
            len: len.max(1),
            dtype,
        });
        self.init.push(None);
        self.tensors.len() - 1
    }

    pub fn f32(&mut self, name: &str, len: usize) -> TensorId {
        self.tensor(name, len, Dtype::F32)
    }

    pub fn f32_from(&mut self, name: &str, data: &[f32]) -> TensorId {
        let t = self.tensor(name, data.len(), Dtype::F32);
        self.init[t] = Some(data.iter().map(|v| v.to_bits()).collect());
        t
    }

    pub fn u32_from(&mut self, name: &str, data: &[u32]) -> TensorId {
        let t = self.tensor(name, data.len(), Dtype::U32);
        self.init[t] = Some(data.to_vec());
        t
    }

    /// Total bytes of all tensors (for error messages about device memory).
    pub fn bytes(&self) -> u64 {
        self.tensors.iter().map(|t| t.len as u64 * 4).sum()
    }
}
