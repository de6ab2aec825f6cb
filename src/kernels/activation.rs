//! Launcher for shaders/activation.wgsl.

use super::{grid_1d, At, Dispatch, Kernel, ShaderFamily};
use crate::gpu::{Gpu, GpuError};
use crate::ops::Activation;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    alpha: f32,
    x_off: u32,
    out_off: u32,
}

/// Held against `Params` in activation.wgsl by tests/launcher_contracts.rs.
pub const PARAMS: super::ParamsLayout =
    params_layout!("activation.wgsl", Params, n, alpha, x_off, out_off);

/// The forward and backward kernels of every activation (identity needs none).
pub struct Activations {
    forward: [Kernel; 4],
    backward: [Kernel; 4],
}

const NAMES: [(&str, &str); 4] = [
    ("relu_forward", "relu_backward"),
    ("leaky_relu_forward", "leaky_relu_backward"),
    ("tanh_forward", "tanh_backward"),
    ("sigmoid_forward", "sigmoid_backward"),
];

impl Activations {
    pub fn new(gpu: &Gpu) -> Result<Self, GpuError> {
        let fam = ShaderFamily::new(gpu, "activation.wgsl", super::shader("activation.wgsl"))?;
        let mk = |f: fn(&(&'static str, &'static str)) -> &'static str| -> Result<[Kernel; 4], GpuError> {
            Ok([
                fam.kernel(gpu, f(&NAMES[0]))?,
                fam.kernel(gpu, f(&NAMES[1]))?,
                fam.kernel(gpu, f(&NAMES[2]))?,
                fam.kernel(gpu, f(&NAMES[3]))?,
            ])
        };
        Ok(Activations {
            forward: mk(|n| n.0)?,
            backward: mk(|n| n.1)?,
        })
    }

    fn pick(set: &[Kernel; 4], act: Activation) -> Option<&Kernel> {
        match act.code() {
            0 => None,
            c => Some(&set[c as usize - 1]),
        }
    }

    fn params(gpu: &Gpu, act: Activation, n: usize, x_off: usize, out_off: usize) -> wgpu::Buffer {
        gpu.uniform(
            "activation params",
            &Params {
                n: n as u32,
                alpha: act.alpha(),
                x_off: x_off as u32,
                out_off: out_off as u32,
            },
        )
    }

    /// out[..n] = act(x[..n]). `None` for the identity.
    pub fn forward(
        &self,
        gpu: &Gpu,
        act: Activation,
        x: &wgpu::Buffer,
        out: &wgpu::Buffer,
        n: usize,
    ) -> Result<Option<Dispatch>, GpuError> {
        self.forward_at(gpu, act, x.into(), out.into(), n)
    }

    /// out[out.off..out.off + n] = act(x[x.off..x.off + n]). `None` for the identity.
    pub fn forward_at(
        &self,
        gpu: &Gpu,
        act: Activation,
        x: At,
        out: At,
        n: usize,
    ) -> Result<Option<Dispatch>, GpuError> {
        let Some(k) = Self::pick(&self.forward, act) else {
            return Ok(None);
        };
        gpu.expect_len(k.name, x.buf, x.off + n)?;
        gpu.expect_len(k.name, out.buf, out.off + n)?;
        let p = Self::params(gpu, act, n, x.off, out.off);
        k.bind(
            gpu,
            &[("p", &p), ("x", x.buf), ("out", out.buf)],
            grid_1d(n, 256),
        )
        .map(Some)
    }

    /// out[..n] = dy[..n] * act'(from y[y_off..y_off + n]). `None` for the identity (the
    /// gradient passes unchanged).
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        gpu: &Gpu,
        act: Activation,
        y: &wgpu::Buffer,
        y_off: usize,
        dy: &wgpu::Buffer,
        out: &wgpu::Buffer,
        n: usize,
    ) -> Result<Option<Dispatch>, GpuError> {
        let Some(k) = Self::pick(&self.backward, act) else {
            return Ok(None);
        };
        gpu.expect_len(k.name, y, y_off + n)?;
        gpu.expect_len(k.name, dy, n)?;
        gpu.expect_len(k.name, out, n)?;
        let p = Self::params(gpu, act, n, y_off, 0);
        k.bind(
            gpu,
            &[("p", &p), ("x", y), ("dy", dy), ("out", out)],
            grid_1d(n, 256),
        )
        .map(Some)
    }
}
