//! Launcher side of shaders/matmul_sg.wgsl, the subgroup form of the three products for CPU
//! adapters: which adapters get it ([`prefers_subgroup_form`], [`FORM_ENV`]), its entry points,
//! and which of them a product gets ([`SubgroupForm::pick`]: the 32 x 32 block with vec4 or scalar
//! loads, or a skinny kernel where N or M is at most [`SKINNY`]). `matmul::Matmul` binds
//! them with the same `Params` (`matmul::PARAMS_SG`) and checks as the tiled kernel.

use super::{groups, Kernel, ShaderFamily};
use crate::gpu::{Gpu, GpuError};
use crate::ops::Variant;
use wgpu::Buffer;

/// Side of the block of C one workgroup of the block kernel computes.
const TILE: usize = 32;
/// The subgroup width matmul_sg.wgsl is written for (its broadcasts name lanes 0..7).
pub const LANES: u32 = 8;

/// The largest N (or M) that the subgroup form computes with its skinny kernels rather than a
/// 32 x 32 block (one lane's 4 x 4 corner of C).
pub const SKINNY: usize = 4;

/// The environment variable that overrides the choice: `tiled` (never the subgroup form),
/// `subgroup` (wherever the adapter can run it, GPUs included: for trying it on a GPU with 8-lane
/// subgroups), or `auto` (the default).
pub const FORM_ENV: &str = "SHADERGAN_MATMUL";

/// Whether an adapter gets the subgroup form: by default a CPU device with `SUBGROUP` granted and
/// a fixed subgroup of [`LANES`] lanes; [`FORM_ENV`] overrides.
pub fn prefers_subgroup_form(gpu: &Gpu) -> Result<bool, GpuError> {
    let can =
        gpu.subgroups && gpu.info.subgroup_min_size == LANES && gpu.info.subgroup_max_size == LANES;
    let cpu = gpu.info.device_type == wgpu::DeviceType::Cpu;
    match std::env::var(FORM_ENV).as_deref() {
        Err(_) | Ok("" | "auto") => Ok(can && cpu),
        Ok("tiled") => Ok(false),
        Ok("subgroup") if can => Ok(true),
        Ok("subgroup") => Err(GpuError::Device(format!(
            "{FORM_ENV}=subgroup: {} has no fixed {LANES}-lane subgroups (subgroups {}, sizes \
             {}..{})",
            gpu.info.name, gpu.subgroups, gpu.info.subgroup_min_size, gpu.info.subgroup_max_size
        ))),
        Ok(other) => Err(GpuError::Device(format!(
            "{FORM_ENV}={other:?}: expected auto, tiled or subgroup"
        ))),
    }
}

/// The entry points of matmul_sg.wgsl, each list in the order AB, AtB, ABt.
pub(super) struct SubgroupForm {
    /// The 32 x 32 block products with vec4 loads.
    vec4: [Kernel; 3],
    /// The same with scalar loads.
    scalar: [Kernel; 3],
    /// The skinny products: N <= [`SKINNY`] (`narrow`) and M <= [`SKINNY`] (`short`).
    narrow: [Kernel; 3],
    short: [Kernel; 3],
    /// 16-byte buffers bound as `c4` and `e4` where C's or the epilogue operand's buffer is
    /// smaller than one vec4 (the shader then never reads or writes them).
    spare_c: Buffer,
    spare_e: Buffer,
}

impl SubgroupForm {
    pub(super) fn new(gpu: &Gpu) -> Result<Self, GpuError> {
        let sg = ShaderFamily::new(gpu, "matmul_sg.wgsl", super::shader("matmul_sg.wgsl"))?;
        let three = |names: [&'static str; 3]| -> Result<[Kernel; 3], GpuError> {
            Ok([
                sg.kernel(gpu, names[0])?,
                sg.kernel(gpu, names[1])?,
                sg.kernel(gpu, names[2])?,
            ])
        };
        Ok(SubgroupForm {
            vec4: three(["matmul_sg", "matmul_at_b_sg", "matmul_a_bt_sg"])?,
            scalar: three([
                "matmul_sg_scalar",
                "matmul_at_b_sg_scalar",
                "matmul_a_bt_sg_scalar",
            ])?,
            narrow: three([
                "matmul_narrow_sg",
                "matmul_at_b_narrow_sg",
                "matmul_a_bt_narrow_sg",
            ])?,
            short: three([
                "matmul_short_sg",
                "matmul_at_b_short_sg",
                "matmul_a_bt_short_sg",
            ])?,
            spare_c: gpu.buffer("matmul spare c4", 4)?,
            spare_e: gpu.buffer("matmul spare e4", 4)?,
        })
    }

    /// The entry point and grid for `variant` on an m x n product: a skinny kernel where N or M
    /// is at most [`SKINNY`] (whatever the loads; they choose their own), the block kernel with
    /// vec4 loads (`vec4_loads`) or scalar ones elsewhere.
    pub(super) fn pick(
        &self,
        variant: Variant,
        vec4_loads: bool,
        m: usize,
        n: usize,
    ) -> (&Kernel, [u32; 3]) {
        let v = match variant {
            Variant::AB => 0,
            Variant::AtB => 1,
            Variant::ABt => 2,
        };
        if n <= SKINNY {
            (&self.narrow[v], [1, groups(m, TILE), 1])
        } else if m <= SKINNY {
            (&self.short[v], [groups(n, TILE), 1, 1])
        } else if vec4_loads {
            (&self.vec4[v], [groups(n, TILE), groups(m, TILE), 1])
        } else {
            (&self.scalar[v], [groups(n, TILE), groups(m, TILE), 1])
        }
    }

    /// The `c4` and `e4` bindings: C and the epilogue operand (bias or Y) again, viewed as vec4s
    /// by the epilogue's whole-quad stores, or the spares where a buffer is smaller than one vec4
    /// (its shapes never take that path).
    pub(super) fn vec4_views<'a>(
        &'a self,
        c: &'a Buffer,
        e: &'a Buffer,
    ) -> [(&'static str, &'a Buffer); 2] {
        let c4 = if c.size() >= 16 { c } else { &self.spare_c };
        let e4 = if e.size() >= 16 { e } else { &self.spare_e };
        [("c4", c4), ("e4", e4)]
    }
}
