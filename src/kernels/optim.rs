//! Launcher for shaders/optim.wgsl.

use super::{grid_1d, Dispatch, Kernel, ShaderFamily};
use crate::gpu::{Gpu, GpuError};
use crate::ops::AdamConfig;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    step_slot: u32,
    decay_steps: u32,
    final_frac: f32,
}

/// Held against `Params` in optim.wgsl by tests/launcher_contracts.rs.
pub const PARAMS: super::ParamsLayout = params_layout!(
    "optim.wgsl",
    Params,
    n,
    lr,
    beta1,
    beta2,
    eps,
    step_slot,
    decay_steps,
    final_frac
);

/// The flat buffers one optimiser step works on (all `n` long).
pub struct OptimBuffers<'a> {
    pub w: &'a wgpu::Buffer,
    pub grad: &'a wgpu::Buffer,
    pub m: &'a wgpu::Buffer,
    pub v: &'a wgpu::Buffer,
}

impl<'a> OptimBuffers<'a> {
    /// The bindings of optim.wgsl by name, with the parameters `p` and the step-count `state`.
    fn named(
        &self,
        state: Option<&'a wgpu::Buffer>,
        p: &'a wgpu::Buffer,
    ) -> Vec<(&'static str, &'a wgpu::Buffer)> {
        let mut v = vec![
            ("p", p),
            ("w", self.w),
            ("grad", self.grad),
            ("m", self.m),
            ("v", self.v),
        ];
        v.extend(state.map(|s| ("state", s)));
        v
    }
}

pub struct Optim {
    adam: Kernel,
    sgd: Kernel,
    ema: Kernel,
}

impl Optim {
    pub fn new(gpu: &Gpu) -> Result<Self, GpuError> {
        let fam = ShaderFamily::new(gpu, "optim.wgsl", super::shader("optim.wgsl"))?;
        Ok(Optim {
            adam: fam.kernel(gpu, "adam")?,
            sgd: fam.kernel(gpu, "sgd_momentum")?,
            ema: fam.kernel(gpu, "ema")?,
        })
    }

    fn check(gpu: &Gpu, b: &OptimBuffers, n: usize) -> Result<(), GpuError> {
        for (what, buf) in [("w", b.w), ("grad", b.grad), ("m", b.m), ("v", b.v)] {
            gpu.expect_len(&format!("optimiser {what}"), buf, n)?;
        }
        Ok(())
    }

    /// Adam over `n` parameters; the step count is state[step_slot].
    pub fn adam(
        &self,
        gpu: &Gpu,
        cfg: AdamConfig,
        state: &wgpu::Buffer,
        step_slot: usize,
        b: OptimBuffers,
        n: usize,
    ) -> Result<Dispatch, GpuError> {
        Self::check(gpu, &b, n)?;
        gpu.expect_len("adam state", state, step_slot + 1)?;
        let p = gpu.uniform(
            "adam params",
            &Params {
                n: n as u32,
                lr: cfg.lr,
                beta1: cfg.beta1,
                beta2: cfg.beta2,
                eps: cfg.eps,
                step_slot: step_slot as u32,
                decay_steps: cfg.decay_steps,
                final_frac: cfg.final_frac,
            },
        );
        self.adam
            .bind(gpu, &b.named(Some(state), &p), grid_1d(n, 256))
    }

    /// SGD with momentum `mu` over `n` parameters (`b.v` is not used).
    pub fn sgd_momentum(
        &self,
        gpu: &Gpu,
        lr: f32,
        mu: f32,
        b: OptimBuffers,
        n: usize,
    ) -> Result<Dispatch, GpuError> {
        Self::check(gpu, &b, n)?;
        let p = gpu.uniform(
            "sgd params",
            &Params {
                n: n as u32,
                lr,
                beta1: mu,
                beta2: 0.0,
                eps: 0.0,
                step_slot: 0,
                decay_steps: 0,
                final_frac: 1.0,
            },
        );
        self.sgd.bind(gpu, &b.named(None, &p), grid_1d(n, 256))
    }

    /// avg = decay avg + (1 - decay) w over `n` weights (an exponential moving average).
    pub fn ema(
        &self,
        gpu: &Gpu,
        decay: f32,
        w: &wgpu::Buffer,
        avg: &wgpu::Buffer,
        n: usize,
    ) -> Result<Dispatch, GpuError> {
        gpu.expect_len("ema weights", w, n)?;
        gpu.expect_len("ema average", avg, n)?;
        let p = gpu.uniform(
            "ema params",
            &Params {
                n: n as u32,
                lr: 0.0,
                beta1: decay,
                beta2: 0.0,
                eps: 0.0,
                step_slot: 0,
                decay_steps: 0,
                final_frac: 1.0,
            },
        );
        self.ema
            .bind(gpu, &[("p", &p), ("w", w), ("avg", avg)], grid_1d(n, 256))
    }
}
