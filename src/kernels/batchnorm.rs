//! Launcher for shaders/batchnorm.wgsl: batch statistics (and the running statistics' update),
//! the normalisation in training or eval mode, and the two backward kernels. `affine` and
//! `daffine` are [gamma, beta] slices of a network's flat parameter and gradient buffers; `stats`
//! is [mean, 1/sqrt(var + eps)] scratch and `running` [running_mean, running_var] state.

use super::{check_u32, grid_1d, At, Dispatch, Kernel, ShaderFamily};
use crate::gpu::{Gpu, GpuError};
use crate::ops::BatchNormSpec;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    batch: u32,
    channels: u32,
    hw: u32,
    mode: u32,
    eps: f32,
    momentum: f32,
    x_off: u32,
    dy_off: u32,
    out_off: u32,
    affine_off: u32,
    daffine_off: u32,
    stats_off: u32,
    running_off: u32,
    act: u32,
    alpha: f32,
    _pad: u32,
}

/// Held against `Params` in batchnorm.wgsl by tests/launcher_contracts.rs.
pub const PARAMS: super::ParamsLayout = params_layout!(
    "batchnorm.wgsl",
    Params,
    batch,
    channels,
    hw,
    mode,
    eps,
    momentum,
    x_off,
    dy_off,
    out_off,
    affine_off,
    daffine_off,
    stats_off,
    running_off,
    act,
    alpha
);

/// The pipelines of batchnorm.wgsl, built once.
pub struct BatchNorm {
    stats: Kernel,
    stats_wide: Kernel,
    forward: Kernel,
    backward_params: Kernel,
    backward_params_wide: Kernel,
    backward_input: Kernel,
}

/// The operands of one batch-norm layer; `None` where an entry point does not read one.
#[derive(Clone, Copy, Default)]
pub struct BnOperands<'a> {
    pub x: Option<At<'a>>,
    pub dy: Option<At<'a>>,
    pub affine: Option<At<'a>>,
    pub stats: Option<At<'a>>,
    pub running: Option<At<'a>>,
    pub daffine: Option<At<'a>>,
    pub out: Option<At<'a>>,
}

impl BatchNorm {
    pub fn new(gpu: &Gpu) -> Result<Self, GpuError> {
        let fam = ShaderFamily::new(gpu, "batchnorm.wgsl", super::shader("batchnorm.wgsl"))?;
        Ok(BatchNorm {
            stats: fam.kernel(gpu, "batchnorm_stats")?,
            stats_wide: fam.kernel(gpu, "batchnorm_stats_wide")?,
            forward: fam.kernel(gpu, "batchnorm_forward")?,
            backward_params: fam.kernel(gpu, "batchnorm_backward_params")?,
            backward_params_wide: fam.kernel(gpu, "batchnorm_backward_params_wide")?,
            backward_input: fam.kernel(gpu, "batchnorm_backward_input")?,
        })
    }

    /// Batch mean and 1/sqrt(var + eps) into `stats`; with `update_running`, the running
    /// statistics' momentum update too.
    pub fn stats(
        &self,
        gpu: &Gpu,
        s: BatchNormSpec,
        x: At,
        stats: At,
        running: At,
        update_running: bool,
    ) -> Result<Dispatch, GpuError> {
        let ops = BnOperands {
            x: Some(x),
            stats: Some(stats),
            running: Some(running),
            ..Default::default()
        };
        let k = if wide(&s) {
            &self.stats_wide
        } else {
            &self.stats
        };
        self.bind(
            gpu,
            k,
            s,
            update_running as u32,
            ops,
            Grid::Reduce(wide(&s)),
        )
    }

    /// y = normalised x, from the batch `stats` (training) or, with `use_running`, from the
    /// running statistics (eval); act(y) where `s.act` is fused.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        gpu: &Gpu,
        s: BatchNormSpec,
        x: At,
        affine: At,
        stats: At,
        running: At,
        use_running: bool,
        y: At,
    ) -> Result<Dispatch, GpuError> {
        let ops = BnOperands {
            x: Some(x),
            affine: Some(affine),
            stats: Some(stats),
            running: Some(running),
            out: Some(y),
            ..Default::default()
        };
        self.bind(
            gpu,
            &self.forward,
            s,
            use_running as u32,
            ops,
            Grid::Elements,
        )
    }

    /// daffine = [sum dy xhat, sum dy] per channel (dy times act'(y) where `s.act` is fused; y
    /// is recomputed from x and `affine`).
    #[allow(clippy::too_many_arguments)]
    pub fn backward_params(
        &self,
        gpu: &Gpu,
        s: BatchNormSpec,
        x: At,
        dy: At,
        affine: At,
        stats: At,
        daffine: At,
    ) -> Result<Dispatch, GpuError> {
        let ops = BnOperands {
            x: Some(x),
            dy: Some(dy),
            affine: Some(affine),
            stats: Some(stats),
            daffine: Some(daffine),
            ..Default::default()
        };
        let k = if wide(&s) {
            &self.backward_params_wide
        } else {
            &self.backward_params
        };
        self.bind(gpu, k, s, 0, ops, Grid::Reduce(wide(&s)))
    }

    /// dx through the batch statistics, from the gradients `backward_params` wrote.
    #[allow(clippy::too_many_arguments)]
    pub fn backward_input(
        &self,
        gpu: &Gpu,
        s: BatchNormSpec,
        x: At,
        dy: At,
        affine: At,
        stats: At,
        daffine: At,
        dx: At,
    ) -> Result<Dispatch, GpuError> {
        let ops = BnOperands {
            x: Some(x),
            dy: Some(dy),
            affine: Some(affine),
            stats: Some(stats),
            daffine: Some(daffine),
            out: Some(dx),
            ..Default::default()
        };
        self.bind(gpu, &self.backward_input, s, 0, ops, Grid::Elements)
    }

    fn bind(
        &self,
        gpu: &Gpu,
        k: &Kernel,
        s: BatchNormSpec,
        mode: u32,
        ops: BnOperands,
        grid: Grid,
    ) -> Result<Dispatch, GpuError> {
        let name = k.name;
        if s.count() < 2 || s.channels == 0 || s.channels > 65535 {
            return Err(GpuError::Shape(format!(
                "{name}: batch norm needs at least 2 values per channel and 1..=65535 channels \
                 (as PyTorch in training mode), got {s:?}"
            )));
        }
        let n = s.len();
        let c2 = 2 * s.channels;
        let named = [
            ("x", ops.x, n),
            ("dy", ops.dy, n),
            ("affine", ops.affine, c2),
            ("stats", ops.stats, c2),
            ("running", ops.running, c2),
            ("daffine", ops.daffine, c2),
            ("out", ops.out, n),
        ];
        let mut bindings = Vec::with_capacity(8);
        for (what, at, len) in named {
            if let Some(at) = at {
                check_u32(name, &[at.off + len])?;
                gpu.expect_len(&format!("{name} {what}"), at.buf, at.off + len)?;
                bindings.push((what, at.buf));
            }
        }
        let off = |a: Option<At>| a.map_or(0, |v| v.off as u32);
        let p = Params {
            batch: s.batch as u32,
            channels: s.channels as u32,
            hw: s.hw as u32,
            mode,
            eps: s.eps,
            momentum: s.momentum,
            x_off: off(ops.x),
            dy_off: off(ops.dy),
            out_off: off(ops.out),
            affine_off: off(ops.affine),
            daffine_off: off(ops.daffine),
            stats_off: off(ops.stats),
            running_off: off(ops.running),
            act: s.act.code(),
            alpha: s.act.alpha(),
            _pad: 0,
        };
        let pb = gpu.uniform(name, &p);
        bindings.push(("p", &pb));
        let grid = match grid {
            Grid::Reduce(false) => [s.channels as u32, 1, 1],
            Grid::Reduce(true) => grid_1d(s.channels, 256),
            Grid::Elements => grid_1d(n, 256),
        };
        k.bind(gpu, &bindings, grid)
    }
}

/// How a batchnorm.wgsl entry point is dispatched: a reduction (one workgroup per channel, or
/// with `true` one lane per channel) or one lane per element.
#[derive(Clone, Copy)]
enum Grid {
    Reduce(bool),
    Elements,
}

/// Channels of at most 256 values each are reduced one lane per channel (the `_wide` entry
/// points), not one workgroup per channel.
fn wide(s: &BatchNormSpec) -> bool {
    s.count() <= 256
}
