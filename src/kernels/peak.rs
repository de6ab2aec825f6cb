//! Launcher for shaders/peak.wgsl: the FMA-bound and copy-bound kernels behind `bench peak`, and
//! the empty dispatch that measures launch overhead.

use super::{grid_1d, Dispatch, Kernel, ShaderFamily};
use crate::gpu::{Gpu, GpuError};
use wgpu::Buffer;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    iters: u32,
    a: f32,
    b: f32,
}

/// Held against `Params` in peak.wgsl by tests/launcher_contracts.rs.
pub const PARAMS: super::ParamsLayout = params_layout!("peak.wgsl", Params, n, iters, a, b);

/// Multiplier and addend of the FMA chains: they converge to 1, so any `iters` stays finite.
pub const FMA_A: f32 = 0.999;
pub const FMA_B: f32 = 0.001;

/// The pipelines of peak.wgsl, built once.
pub struct Peak {
    fma: Kernel,
    copy: Kernel,
    empty: Kernel,
}

impl Peak {
    pub fn new(gpu: &Gpu) -> Result<Self, GpuError> {
        let fam = ShaderFamily::new(gpu, "peak.wgsl", super::shader("peak.wgsl"))?;
        Ok(Peak {
            fma: fam.kernel(gpu, "fma_peak")?,
            copy: fam.kernel(gpu, "copy_peak")?,
            empty: fam.kernel(gpu, "empty")?,
        })
    }

    /// `n` invocations of `iters` steps of 16 FMAs each (32 * n * iters flops), reading and
    /// writing one vec4 each: `src` and `dst` hold at least 4n f32.
    pub fn fma(
        &self,
        gpu: &Gpu,
        src: &Buffer,
        dst: &Buffer,
        n: usize,
        iters: u32,
    ) -> Result<Dispatch, GpuError> {
        self.bind(gpu, &self.fma, src, dst, n, iters)
    }

    /// dst = src over n vec4s (32 n bytes moved).
    pub fn copy(
        &self,
        gpu: &Gpu,
        src: &Buffer,
        dst: &Buffer,
        n: usize,
    ) -> Result<Dispatch, GpuError> {
        self.bind(gpu, &self.copy, src, dst, n, 0)
    }

    /// One workgroup of one invocation that does nothing; `dst` is bound but never written.
    pub fn empty(&self, gpu: &Gpu, dst: &Buffer) -> Result<Dispatch, GpuError> {
        gpu.expect_len("empty dst", dst, 4)?;
        let p = gpu.uniform(
            "empty params",
            &Params {
                n: 0,
                iters: 0,
                a: 0.0,
                b: 0.0,
            },
        );
        self.empty.bind(gpu, &[("p", &p), ("dst", dst)], [1, 1, 1])
    }

    fn bind(
        &self,
        gpu: &Gpu,
        k: &Kernel,
        src: &Buffer,
        dst: &Buffer,
        n: usize,
        iters: u32,
    ) -> Result<Dispatch, GpuError> {
        if n == 0 || n >= u32::MAX as usize {
            return Err(GpuError::Shape(format!("{}: n = {n} out of range", k.name)));
        }
        gpu.expect_len(&format!("{} src", k.name), src, 4 * n)?;
        gpu.expect_len(&format!("{} dst", k.name), dst, 4 * n)?;
        let p = gpu.uniform(
            k.name,
            &Params {
                n: n as u32,
                iters,
                a: FMA_A,
                b: FMA_B,
            },
        );
        k.bind(
            gpu,
            &[("p", &p), ("src", src), ("dst", dst)],
            grid_1d(n, 256),
        )
    }
}
