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

/// Where and how a BCE-with-logits loss is written: `n` rows, the first `split` of which form the
/// first half for the mean of sigmoid, the loss multiplied by `scale`, written (or added, with
/// `accumulate`) to metrics[metrics_off..metrics_off + 3].
#[derive(Clone, Copy, Debug)]
pub struct BceSpec {
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
