//! Launcher for shaders/rng.wgsl: Philox4x32-10 random numbers addressed by an [`RngAddr`]
//! (seed, stream, counter offset, and the state-buffer slot whose 64-bit counter `tick` advances
//! on the GPU). The CPU twins are in `cpu::rng`.

use super::{grid_1d, Dispatch, Kernel, ShaderFamily};
use crate::gpu::{Gpu, GpuError};

use crate::ops::RngAddr;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    seed_lo: u32,
    seed_hi: u32,
    stream: u32,
    state_slot: u32,
    ctr_lo: u32,
    ctr_hi: u32,
    out_off: u32,
    n: u32,
    a: f32,
    b: f32,
    n_rows: u32,
    x_off: u32,
}

/// Held against `Params` in rng.wgsl by tests/launcher_contracts.rs.
pub const PARAMS: super::ParamsLayout = params_layout!(
    "rng.wgsl", Params, seed_lo, seed_hi, stream, state_slot, ctr_lo, ctr_hi, out_off, n, a, b,
    n_rows, x_off
);

/// The random-number kernels, built once.
pub struct Rng {
    bits: Kernel,
    uniform: Kernel,
    normal: Kernel,
    index: Kernel,
    add_normal: Kernel,
    tick: Kernel,
}

/// What an output kernel writes: `n` elements of `out` from element `out_off` on (rng_add_normal
/// reads them from `x_off` on).
struct Out<'a> {
    buf: &'a wgpu::Buffer,
    off: usize,
    n: usize,
    x_off: usize,
}

impl<'a> Out<'a> {
    /// `n` elements of `buf` from `off` on, written from nothing (x_off unused).
    fn at(buf: &'a wgpu::Buffer, off: usize, n: usize) -> Self {
        Out {
            buf,
            off,
            n,
            x_off: 0,
        }
    }
}

impl Rng {
    pub fn new(gpu: &Gpu) -> Result<Self, GpuError> {
        let fam = ShaderFamily::new(gpu, "rng.wgsl", super::shader("rng.wgsl"))?;
        Ok(Rng {
            bits: fam.kernel(gpu, "rng_bits")?,
            uniform: fam.kernel(gpu, "rng_uniform")?,
            normal: fam.kernel(gpu, "rng_normal")?,
            index: fam.kernel(gpu, "rng_index")?,
            add_normal: fam.kernel(gpu, "rng_add_normal")?,
            tick: fam.kernel(gpu, "tick")?,
        })
    }

    fn check_state(
        gpu: &Gpu,
        what: &str,
        state: &wgpu::Buffer,
        slot: usize,
    ) -> Result<(), GpuError> {
        gpu.expect_len(&format!("{what} state"), state, slot + 2)
    }

    /// Binds kernel `k` writing `out` with the distribution parameters `a`, `b`, `n_rows`.
    #[allow(clippy::too_many_arguments)]
    fn launch(
        gpu: &Gpu,
        k: &Kernel,
        addr: RngAddr,
        state: &wgpu::Buffer,
        out: Out,
        a: f32,
        b: f32,
        n_rows: u32,
    ) -> Result<Dispatch, GpuError> {
        Self::check_state(gpu, k.name, state, addr.state_slot)?;
        gpu.expect_len(k.name, out.buf, out.off.max(out.x_off) + out.n)?;
        if out.off.max(out.x_off) + out.n > u32::MAX as usize {
            return Err(GpuError::Shape(format!(
                "{}: {} elements from offset {} do not fit 32-bit indices",
                k.name, out.n, out.off
            )));
        }
        let p = gpu.uniform(
            k.name,
            &Params {
                seed_lo: addr.seed as u32,
                seed_hi: (addr.seed >> 32) as u32,
                stream: addr.stream,
                state_slot: addr.state_slot as u32,
                ctr_lo: addr.ctr as u32,
                ctr_hi: (addr.ctr >> 32) as u32,
                out_off: out.off as u32,
                n: out.n as u32,
                a,
                b,
                n_rows,
                x_off: out.x_off as u32,
            },
        );
        // One invocation per Philox block of four elements.
        k.bind(
            gpu,
            &[
                ("p", &p),
                ("state", state),
                ("out_f32", out.buf),
                ("out_u32", out.buf),
            ],
            grid_1d(out.n.div_ceil(4), 256),
        )
    }

    /// out[out_off..out_off + n] = raw Philox words (u32).
    pub fn bits(
        &self,
        gpu: &Gpu,
        addr: RngAddr,
        state: &wgpu::Buffer,
        out: &wgpu::Buffer,
        out_off: usize,
        n: usize,
    ) -> Result<Dispatch, GpuError> {
        let out = Out::at(out, out_off, n);
        Self::launch(gpu, &self.bits, addr, state, out, 0.0, 0.0, 0)
    }

    /// out[out_off..out_off + n] = uniform in (lo, hi) (f32).
    #[allow(clippy::too_many_arguments)]
    pub fn uniform(
        &self,
        gpu: &Gpu,
        addr: RngAddr,
        state: &wgpu::Buffer,
        out: &wgpu::Buffer,
        out_off: usize,
        n: usize,
        lo: f32,
        hi: f32,
    ) -> Result<Dispatch, GpuError> {
        let out = Out::at(out, out_off, n);
        Self::launch(gpu, &self.uniform, addr, state, out, lo, hi, 0)
    }

    /// out[out_off..out_off + n] = mean + std * N(0, 1) (f32).
    #[allow(clippy::too_many_arguments)]
    pub fn normal(
        &self,
        gpu: &Gpu,
        addr: RngAddr,
        state: &wgpu::Buffer,
        out: &wgpu::Buffer,
        out_off: usize,
        n: usize,
        mean: f32,
        std: f32,
    ) -> Result<Dispatch, GpuError> {
        let out = Out::at(out, out_off, n);
        Self::launch(gpu, &self.normal, addr, state, out, mean, std, 0)
    }

    /// out[out_off..out_off + n] = uniform integers in [0, n_rows) (u32): minibatch indices.
    #[allow(clippy::too_many_arguments)]
    pub fn index(
        &self,
        gpu: &Gpu,
        addr: RngAddr,
        state: &wgpu::Buffer,
        out: &wgpu::Buffer,
        out_off: usize,
        n: usize,
        n_rows: u32,
    ) -> Result<Dispatch, GpuError> {
        if n_rows == 0 {
            return Err(GpuError::Shape(
                "rng_index: cannot draw indices into an empty data set (n_rows = 0)".into(),
            ));
        }
        let out = Out::at(out, out_off, n);
        Self::launch(gpu, &self.index, addr, state, out, 0.0, 0.0, n_rows)
    }

    /// buf[out_off..out_off + n] = buf[x_off..x_off + n] + s * N(0, 1) (f32; x_off = out_off is
    /// in place, other ranges may not overlap), s = std * max(0, 1 - t / anneal) with t the
    /// counter at addr.state_slot (anneal = 0: s = std): instance noise, annealed on the GPU.
    #[allow(clippy::too_many_arguments)]
    pub fn add_normal(
        &self,
        gpu: &Gpu,
        addr: RngAddr,
        state: &wgpu::Buffer,
        buf: &wgpu::Buffer,
        x_off: usize,
        out_off: usize,
        n: usize,
        std: f32,
        anneal: u32,
    ) -> Result<Dispatch, GpuError> {
        if x_off != out_off && x_off.max(out_off) < x_off.min(out_off) + n {
            return Err(GpuError::Shape(format!(
                "rng_add_normal: input {x_off}.. and output {out_off}.. overlap over {n} elements"
            )));
        }
        let out = Out {
            x_off,
            ..Out::at(buf, out_off, n)
        };
        Self::launch(gpu, &self.add_normal, addr, state, out, std, 0.0, anneal)
    }

    /// Adds one to the 64-bit counter at state[slot], state[slot + 1] (one invocation).
    pub fn tick(&self, gpu: &Gpu, state: &wgpu::Buffer, slot: usize) -> Result<Dispatch, GpuError> {
        Self::check_state(gpu, "tick", state, slot)?;
        let p = gpu.uniform(
            "tick",
            &Params {
                state_slot: slot as u32,
                ..bytemuck::Zeroable::zeroed()
            },
        );
        self.tick
            .bind(gpu, &[("p", &p), ("state", state)], [1, 1, 1])
    }
}
