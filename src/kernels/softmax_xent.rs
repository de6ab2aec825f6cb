//! Launcher for shaders/softmax_xent.wgsl.

use super::{grid_1d, Dispatch, Kernel, ShaderFamily};
use crate::gpu::{Gpu, GpuError};
use crate::ops::XentSpec;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    classes: u32,
    scale: f32,
    metrics_off: u32,
    accumulate: u32,
    _pad: [u32; 3],
}

/// Held against `Params` in softmax_xent.wgsl by tests/launcher_contracts.rs.
pub const PARAMS: super::ParamsLayout = params_layout!(
    "softmax_xent.wgsl",
    Params,
    rows,
    classes,
    scale,
    metrics_off,
    accumulate
);

pub struct SoftmaxXent {
    loss: Kernel,
    backward: Kernel,
}

impl SoftmaxXent {
    pub fn new(gpu: &Gpu) -> Result<Self, GpuError> {
        let fam = ShaderFamily::new(gpu, "softmax_xent.wgsl", super::shader("softmax_xent.wgsl"))?;
        Ok(SoftmaxXent {
            loss: fam.kernel(gpu, "softmax_xent")?,
            backward: fam.kernel(gpu, "softmax_xent_backward")?,
        })
    }

    fn params(gpu: &Gpu, s: &XentSpec) -> Result<wgpu::Buffer, GpuError> {
        if s.rows == 0 || s.classes == 0 {
            return Err(GpuError::Shape(format!(
                "softmax_xent: {} rows of {} classes; both must be positive",
                s.rows, s.classes
            )));
        }
        Ok(gpu.uniform(
            "softmax_xent params",
            &Params {
                rows: s.rows as u32,
                classes: s.classes as u32,
                scale: s.scale,
                metrics_off: s.metrics_off as u32,
                accumulate: s.accumulate as u32,
                _pad: [0; 3],
            },
        ))
    }

    /// logp = log-softmax(x) per row; the mean loss and the accuracy into `metrics`.
    pub fn loss(
        &self,
        gpu: &Gpu,
        s: XentSpec,
        x: &wgpu::Buffer,
        labels: &wgpu::Buffer,
        logp: &wgpu::Buffer,
        metrics: &wgpu::Buffer,
    ) -> Result<Dispatch, GpuError> {
        let n = s.rows * s.classes;
        gpu.expect_len("softmax_xent x", x, n)?;
        gpu.expect_len("softmax_xent labels", labels, s.rows)?;
        gpu.expect_len("softmax_xent logp", logp, n)?;
        gpu.expect_len("softmax_xent metrics", metrics, s.metrics_off + 2)?;
        let p = Self::params(gpu, &s)?;
        self.loss.bind(
            gpu,
            &[
                ("p", &p),
                ("x", x),
                ("labels", labels),
                ("logp", logp),
                ("metrics", metrics),
            ],
            [1, 1, 1],
        )
    }

    /// grad = scale * (softmax - onehot(label)) / rows, from the forward's logp.
    pub fn backward(
        &self,
        gpu: &Gpu,
        s: XentSpec,
        logp: &wgpu::Buffer,
        labels: &wgpu::Buffer,
        grad: &wgpu::Buffer,
    ) -> Result<Dispatch, GpuError> {
        let n = s.rows * s.classes;
        gpu.expect_len("softmax_xent_backward logp", logp, n)?;
        gpu.expect_len("softmax_xent_backward labels", labels, s.rows)?;
        gpu.expect_len("softmax_xent_backward grad", grad, n)?;
        let p = Self::params(gpu, &s)?;
        self.backward.bind(
            gpu,
            &[
                ("p", &p),
                ("logp", logp),
                ("labels", labels),
                ("grad", grad),
            ],
            grid_1d(n, 256),
        )
    }
}
