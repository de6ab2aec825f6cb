//! Launcher for shaders/bce.wgsl.

use super::{grid_1d, Dispatch, Kernel, ShaderFamily};
use crate::gpu::{Gpu, GpuError};
use crate::ops::BceSpec;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    split: u32,
    scale: f32,
    metrics_off: u32,
    accumulate: u32,
    term: u32,
    _pad: [u32; 2],
}

/// Held against `Params` in bce.wgsl by tests/launcher_contracts.rs.
pub const PARAMS: super::ParamsLayout = params_layout!(
    "bce.wgsl",
    Params,
    n,
    split,
    scale,
    metrics_off,
    accumulate,
    term
);

pub struct Bce {
    loss: Kernel,
    backward: Kernel,
}

impl Bce {
    pub fn new(gpu: &Gpu) -> Result<Self, GpuError> {
        let fam = ShaderFamily::new(gpu, "bce.wgsl", super::shader("bce.wgsl"))?;
        Ok(Bce {
            loss: fam.kernel(gpu, "bce_with_logits")?,
            backward: fam.kernel(gpu, "bce_with_logits_backward")?,
        })
    }

    fn params(gpu: &Gpu, s: &BceSpec) -> wgpu::Buffer {
        gpu.uniform(
            "bce params",
            &Params {
                n: s.n as u32,
                split: s.split as u32,
                scale: s.scale,
                metrics_off: s.metrics_off as u32,
                accumulate: s.accumulate as u32,
                term: s.term.code(),
                _pad: [0; 2],
            },
        )
    }

    /// The mean loss and the per-half mean of D's readout (sigmoid(x) for BCE), into `metrics`.
    pub fn loss(
        &self,
        gpu: &Gpu,
        s: BceSpec,
        x: &wgpu::Buffer,
        y: &wgpu::Buffer,
        metrics: &wgpu::Buffer,
    ) -> Result<Dispatch, GpuError> {
        gpu.expect_len("bce_with_logits x", x, s.n)?;
        gpu.expect_len("bce_with_logits y", y, s.n)?;
        gpu.expect_len("bce_with_logits metrics", metrics, s.metrics_off + 3)?;
        let p = Self::params(gpu, &s);
        self.loss.bind(
            gpu,
            &[("p", &p), ("x", x), ("y", y), ("metrics", metrics)],
            [1, 1, 1],
        )
    }

    /// grad = scale * dl/dx / n (for BCE: scale * (sigmoid(x) - y) / n).
    pub fn backward(
        &self,
        gpu: &Gpu,
        s: BceSpec,
        x: &wgpu::Buffer,
        y: &wgpu::Buffer,
        grad: &wgpu::Buffer,
    ) -> Result<Dispatch, GpuError> {
        for (what, b) in [("x", x), ("y", y), ("grad", grad)] {
            gpu.expect_len(&format!("bce_with_logits_backward {what}"), b, s.n)?;
        }
        let p = Self::params(gpu, &s);
        self.backward.bind(
            gpu,
            &[("p", &p), ("x", x), ("y", y), ("grad", grad)],
            grid_1d(s.n, 256),
        )
    }
}
