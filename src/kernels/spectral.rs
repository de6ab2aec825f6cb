//! Launcher for shaders/spectral.wgsl.

use super::{Dispatch, Kernel, ShaderFamily};
use crate::gpu::{Gpu, GpuError};
use crate::ops::SpectralSpec;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    w_off: u32,
    uv_off: u32,
    sigma_slot: u32,
    update: u32,
    eps: f32,
    _pad: u32,
}

/// Held against `Params` in spectral.wgsl by tests/launcher_contracts.rs.
pub const PARAMS: super::ParamsLayout = params_layout!(
    "spectral.wgsl",
    Params,
    rows,
    cols,
    w_off,
    uv_off,
    sigma_slot,
    update,
    eps
);

pub struct Spectral {
    forward: Kernel,
    backward: Kernel,
}

/// The buffers of one layer's spectral normalisation.
pub struct SpectralBuffers<'a> {
    pub w_sn: &'a wgpu::Buffer,
    pub uv: &'a wgpu::Buffer,
    pub sigma: &'a wgpu::Buffer,
}

impl Spectral {
    pub fn new(gpu: &Gpu) -> Result<Self, GpuError> {
        let fam = ShaderFamily::new(gpu, "spectral.wgsl", super::shader("spectral.wgsl"))?;
        Ok(Spectral {
            forward: fam.kernel(gpu, "spectral_norm_forward")?,
            backward: fam.kernel(gpu, "spectral_norm_backward")?,
        })
    }

    fn params(gpu: &Gpu, s: &SpectralSpec) -> wgpu::Buffer {
        gpu.uniform(
            "spectral params",
            &Params {
                rows: s.rows as u32,
                cols: s.cols as u32,
                w_off: s.w_off as u32,
                uv_off: s.uv_off as u32,
                sigma_slot: s.sigma_slot as u32,
                update: s.update as u32,
                eps: s.eps,
                _pad: 0,
            },
        )
    }

    fn check(gpu: &Gpu, what: &str, s: &SpectralSpec, b: &SpectralBuffers) -> Result<(), GpuError> {
        gpu.expect_len(
            &format!("{what} w_sn"),
            b.w_sn,
            s.w_off + s.rows * (s.cols + 1),
        )?;
        gpu.expect_len(&format!("{what} uv"), b.uv, s.uv_off + s.rows + s.cols)?;
        gpu.expect_len(&format!("{what} sigma"), b.sigma, s.sigma_slot + 1)
    }

    /// (With `update`, one power iteration on u and v, then) sigma, W_sn = W / sigma and the bias.
    pub fn forward(
        &self,
        gpu: &Gpu,
        s: SpectralSpec,
        w: &wgpu::Buffer,
        b: SpectralBuffers,
    ) -> Result<Dispatch, GpuError> {
        gpu.expect_len(
            "spectral_norm_forward w",
            w,
            s.w_off + s.rows * (s.cols + 1),
        )?;
        Self::check(gpu, "spectral_norm_forward", &s, &b)?;
        let p = Self::params(gpu, &s);
        self.forward.bind(
            gpu,
            &[
                ("p", &p),
                ("w", w),
                ("w_sn", b.w_sn),
                ("uv", b.uv),
                ("sigma", b.sigma),
            ],
            [1, 1, 1],
        )
    }

    /// grad = (grad - <grad, W_sn> u v^T) / sigma over the layer's weight, in place.
    pub fn backward(
        &self,
        gpu: &Gpu,
        s: SpectralSpec,
        b: SpectralBuffers,
        grad: &wgpu::Buffer,
    ) -> Result<Dispatch, GpuError> {
        Self::check(gpu, "spectral_norm_backward", &s, &b)?;
        gpu.expect_len(
            "spectral_norm_backward grad",
            grad,
            s.w_off + s.rows * s.cols,
        )?;
        let p = Self::params(gpu, &s);
        self.backward.bind(
            gpu,
            &[
                ("p", &p),
                ("w_sn", b.w_sn),
                ("uv", b.uv),
                ("sigma", b.sigma),
                ("grad", grad),
            ],
            [1, 1, 1],
        )
    }
}
