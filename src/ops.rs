//! The op vocabulary: the plain values an [`Op`](crate::graph::Op) carries (a layer's
//! nonlinearity, which matmul operand is transposed, where a loss writes its metrics, an
//! optimiser's hyper-parameters, where an op's random numbers come from). Both executors and the
//! kernels read these; none of them is CPU- or GPU-specific, so they live here and `cpu/`,
//! `kernels/` and `graph/` import them from here rather than from each other.

/// A layer's nonlinearity. `code()` is the number the shaders switch on (common.wgsl).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Identity,
    Relu,
    /// LeakyReLU with negative slope `alpha` (> 0, so the sign of y tells the branch).
    LeakyRelu(f32),
    Tanh,
    Sigmoid,
}

impl Activation {
    pub fn code(self) -> u32 {
        match self {
            Activation::Identity => 0,
            Activation::Relu => 1,
            Activation::LeakyRelu(_) => 2,
            Activation::Tanh => 3,
            Activation::Sigmoid => 4,
        }
    }

    pub fn alpha(self) -> f32 {
        match self {
            Activation::LeakyRelu(a) => a,
            _ => 0.0,
        }
    }

    /// Name used in configuration files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::LeakyRelu(_) => "leaky_relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
        }
    }

    /// The activation a configuration names (`alpha` is leaky_relu's negative slope).
    pub fn parse(name: &str, alpha: f32) -> anyhow::Result<Activation> {
        Ok(match name {
            "relu" => Activation::Relu,
            "leaky_relu" | "leakyrelu" => Activation::LeakyRelu(alpha),
            "tanh" => Activation::Tanh,
            "sigmoid" => Activation::Sigmoid,
            "identity" | "linear" | "none" => Activation::Identity,
            other => anyhow::bail!(
                "unknown activation {other:?}; use one of relu, leaky_relu, tanh, sigmoid, identity"
            ),
        })
    }
}

/// Which matmul operand is read transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// C = A B; A stored [M,K], B stored [K,N].
    AB,
    /// C = A^T B; A stored [K,M].
    AtB,
    /// C = A B^T; B stored [N,K].
    ABt,
}

/// The per-row loss bce.wgsl applies to a logit x with target y (t = 2y - 1). `code()` is the
/// number the shader switches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossTerm {
    /// max(x, 0) - x y + log1p(exp(-|x|)): binary cross-entropy with logits.
    Bce,
    /// max(0, 1 - t x): the hinge loss's discriminator terms.
    Hinge,
    /// -t x: the hinge loss's generator term (-D(G(z)) with y = 1).
    Linear,
    /// (x - y)^2 / 2: least squares on the raw logit (LSGAN).
    Square,
}

impl LossTerm {
    pub fn code(self) -> u32 {
        match self {
            LossTerm::Bce => 0,
            LossTerm::Hinge => 1,
            LossTerm::Linear => 2,
            LossTerm::Square => 3,
        }
    }
}

/// Where and how a loss on logits is written: `n` rows, the first `split` of which form the
/// first half for the mean of D's readout (sigmoid for BCE, the raw logit for the other terms),
/// the loss multiplied by `scale`, written (or added, with `accumulate`) to
/// metrics[metrics_off..metrics_off + 3].
#[derive(Clone, Copy, Debug)]
pub struct BceSpec {
    pub term: LossTerm,
    pub n: usize,
    pub split: usize,
    pub scale: f32,
    pub metrics_off: usize,
    pub accumulate: bool,
}

/// Adam hyper-parameters (torch.optim.Adam's meaning).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    /// Linear learning-rate decay to `final_frac * lr` over `decay_steps` steps, then constant
    /// (0: constant learning rate).
    pub decay_steps: u32,
    pub final_frac: f32,
}

impl AdamConfig {
    /// The learning rate at (1-based) step `t`.
    pub fn lr_at(&self, t: u32) -> f32 {
        if self.decay_steps == 0 {
            return self.lr;
        }
        let done = t.min(self.decay_steps) as f32 / self.decay_steps as f32;
        self.lr * (1.0 - (1.0 - self.final_frac) * done)
    }
}

/// Where an op's random numbers come from. Block b of the op (elements 4b..4b+3) is
/// `philox4x32_10([b, stream, c_lo, c_hi], [seed_lo, seed_hi])` with the 64-bit counter
/// c = ctr + (state[state_slot] | state[state_slot + 1] << 32), wrapping. The schedule advances
/// the state word pair with `tick`, so an op that keeps its `RngAddr` draws new numbers every
/// iteration; ops that run in the same iteration need different streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RngAddr {
    /// The Philox key.
    pub seed: u64,
    /// Unique per op.
    pub stream: u32,
    /// A fixed counter offset, added to the one in the state buffer.
    pub ctr: u64,
    /// Index of the low word of the 64-bit counter in the state buffer (the high word follows).
    pub state_slot: usize,
}

/// The sizes of one Conv2d in NCHW layout, as PyTorch's `nn.Conv2d(in_ch, out_ch, (k_h, k_w),
/// stride, padding)` on an input of `batch` x `in_ch` x `h` x `w`: the weight is
/// [out_ch, in_ch, k_h, k_w] and the output `batch` x `out_ch` x `out_h()` x `out_w()`.
///
/// A ConvTranspose2d is the adjoint of the Conv2d that maps its output back onto its input, so it
/// is described by that Conv2d's shape ([`ConvShape::transposed`]): its weight
/// [in_ch_T, out_ch_T, k_h, k_w] is that Conv2d's [out_ch, in_ch, k_h, k_w].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    pub batch: usize,
    pub in_ch: usize,
    pub out_ch: usize,
    pub h: usize,
    pub w: usize,
    pub k_h: usize,
    pub k_w: usize,
    pub stride: usize,
    pub pad: usize,
}

impl ConvShape {
    /// floor((h + 2 pad - k_h) / stride) + 1, as PyTorch; 0 when the kernel does not fit.
    pub fn out_h(&self) -> usize {
        (self.h + 2 * self.pad)
            .checked_sub(self.k_h)
            .map_or(0, |v| v / self.stride + 1)
    }

    pub fn out_w(&self) -> usize {
        (self.w + 2 * self.pad)
            .checked_sub(self.k_w)
            .map_or(0, |v| v / self.stride + 1)
    }

    pub fn input_len(&self) -> usize {
        self.batch * self.in_ch * self.h * self.w
    }

    pub fn output_len(&self) -> usize {
        self.batch * self.out_ch * self.out_h() * self.out_w()
    }

    pub fn weight_len(&self) -> usize {
        self.out_ch * self.in_ch * self.k_h * self.k_w
    }

    /// im2col's matrix: one row per output position, one column per tap.
    pub fn cols_len(&self) -> usize {
        self.batch * self.out_h() * self.out_w() * self.in_ch * self.k_h * self.k_w
    }

    /// The Conv2d whose adjoint is `nn.ConvTranspose2d(in_ch, out_ch, (k_h, k_w), stride,
    /// padding)` on a `batch` x `in_ch` x `h` x `w` input (output_padding 0): it maps the
    /// transposed convolution's output, (h - 1) stride - 2 pad + k_h high, back to `h` x `w`.
    /// None when that output would be empty.
    pub fn transposed(
        batch: usize,
        in_ch: usize,
        out_ch: usize,
        (h, w): (usize, usize),
        (k_h, k_w): (usize, usize),
        stride: usize,
        pad: usize,
    ) -> Option<ConvShape> {
        let oh = ((h.checked_sub(1)? * stride + k_h).checked_sub(2 * pad)).filter(|&v| v > 0)?;
        let ow = ((w.checked_sub(1)? * stride + k_w).checked_sub(2 * pad)).filter(|&v| v > 0)?;
        Some(ConvShape {
            batch,
            in_ch: out_ch,
            out_ch: in_ch,
            h: oh,
            w: ow,
            k_h,
            k_w,
            stride,
            pad,
        })
    }
}

/// A batch-norm layer over `channels` features of `batch` samples with `hw` positions each
/// ([batch, channels, hw]: NCHW with hw = H W for BatchNorm2d, hw = 1 for BatchNorm1d over a
/// linear layer's features), with PyTorch's defaults: eps 1e-5, momentum 0.1, the running
/// variance updated with the unbiased batch variance.
///
/// `act` is an activation that follows the layer, applied in the same pass (Identity: none):
/// the forward writes act(y) and the backward takes the gradient with respect to act(y),
/// multiplying by act'(y) as it reads it (y recomputed from x), so the activation costs no pass
/// of its own and gives the same values as its own passes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormSpec {
    pub batch: usize,
    pub channels: usize,
    pub hw: usize,
    pub eps: f32,
    pub momentum: f32,
    pub act: Activation,
}

impl BatchNormSpec {
    /// PyTorch's nn.BatchNorm defaults (eps 1e-5, momentum 0.1).
    pub fn new(batch: usize, channels: usize, hw: usize) -> Self {
        BatchNormSpec {
            batch,
            channels,
            hw,
            eps: 1e-5,
            momentum: 0.1,
            act: Activation::Identity,
        }
    }

    /// This layer with `act` applied in its own pass (see the type's note).
    pub fn with_act(self, act: Activation) -> Self {
        BatchNormSpec { act, ..self }
    }

    /// Values per channel in one batch.
    pub fn count(&self) -> usize {
        self.batch * self.hw
    }

    pub fn len(&self) -> usize {
        self.batch * self.channels * self.hw
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where and how a softmax cross-entropy loss is written: `rows` rows of `classes` logits, the
/// mean loss multiplied by `scale` and the share of rows classified right written (or added,
/// with `accumulate`) to metrics[metrics_off], metrics[metrics_off + 1].
#[derive(Clone, Copy, Debug)]
pub struct XentSpec {
    pub rows: usize,
    pub classes: usize,
    pub scale: f32,
    pub metrics_off: usize,
    pub accumulate: bool,
}

/// One Linear layer's spectral normalisation (spectral.wgsl): W [rows, cols] at `w_off` of the
/// flat parameter buffer (its bias, `rows` values, right after), u at `uv_off` of the u/v buffer
/// and v after it, sigma at `sigma_slot`; `update`: run one power iteration first (a training
/// forward) or reuse u and v (evaluation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpectralSpec {
    pub rows: usize,
    pub cols: usize,
    pub w_off: usize,
    pub uv_off: usize,
    pub sigma_slot: usize,
    pub update: bool,
    /// torch's default, 1e-12: the floor of a norm that normalize divides by.
    pub eps: f32,
}

/// The shape of an embedding op (embedding.wgsl): `rows` labels into a table of `classes` rows
/// of `dim` values (nn.Embedding(classes, dim).weight); `z_dim` noise values follow each
/// embedding in a conditional G's input rows (embed_concat, embed_backward; 0 for the
/// projection entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmbedSpec {
    pub rows: usize,
    pub classes: usize,
    pub dim: usize,
    pub z_dim: usize,
}

impl EmbedSpec {
    pub fn table_len(&self) -> usize {
        self.classes * self.dim
    }
}
