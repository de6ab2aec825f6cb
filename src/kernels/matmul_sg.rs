//! Launcher side of shaders/matmul_sg.wgsl, the subgroup form of the three products for CPU
//! adapters: which adapters can run it ([`can_run`]), and its one entry
//! point, which takes the variant, the loads and the body (the 32 x 32 block, or a skinny body
//! where N or M is at most [`SKINNY`]) from its `Params`. `matmul::Matmul` binds it with the same
//! checks as the tiled kernel.

use super::matmul::MatmulShape;
use super::{groups, Kernel, ShaderFamily};
use crate::gpu::{Gpu, GpuError};
use crate::ops::Variant;
use wgpu::Buffer;

/// Side of the block of C one workgroup computes.
const TILE: usize = 32;
/// The subgroup width matmul_sg.wgsl is written for (its broadcasts name lanes 0..7).
pub const LANES: u32 = 8;

/// The largest N (or M) that the subgroup form computes with its skinny body rather than a
/// 32 x 32 block (one lane's 4 x 4 corner of C); `SKINNY` in matmul_sg.wgsl.
pub const SKINNY: usize = 4;

/// The products that get a pipeline fixed to their variant, in plans replayed many times (a
/// training loop; see [`SubgroupForm::pick`]): more than this many multiply-adds (an MLP's on
/// images, a convolution's lowered products), where the time saved pays for about a second of
/// LLVM at the first dispatch. A 2-D GAN's products stay on the shared pipeline: the default ring
/// run's largest are 256 x 128 x 128 = 2^22, where the fixed pipelines' compile made its first
/// one-iteration run 4.1-4.3 s against 2.6 s without them (`bench startup`, shader cache off,
/// AMD EPYC Zen 4); what they would save over its iterations was not measured.
pub const FIXED_MACS: u128 = 1 << 22;

/// Whether an adapter can run the subgroup form: `SUBGROUP` granted and subgroups of exactly
/// [`LANES`] lanes, as the broadcasts need (no form assumes a size the adapter does not
/// guarantee). Whether it is chosen is measured (`matmul_choice`).
pub fn can_run(gpu: &Gpu) -> bool {
    gpu.subgroups && gpu.info.subgroup_min_size == LANES && gpu.info.subgroup_max_size == LANES
}

/// matmul_sg.wgsl's `Params`: matmul.wgsl's fields, then the variant, the loads and the quads
/// (always 4; see `four()` in the shader).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct Params {
    pub m: u32,
    pub k: u32,
    pub n: u32,
    pub act: u32,
    pub alpha: f32,
    pub epilogue: u32,
    pub a_off: u32,
    pub b_off: u32,
    pub c_off: u32,
    pub bias_off: u32,
    pub variant: u32,
    pub loads: u32,
    pub quads: u32,
    pub _pad: [u32; 3],
}

/// Held against `Params` in matmul_sg.wgsl by tests/launcher_contracts.rs.
pub const PARAMS: super::ParamsLayout = params_layout!(
    "matmul_sg.wgsl",
    Params,
    m,
    k,
    n,
    act,
    alpha,
    epilogue,
    a_off,
    b_off,
    c_off,
    bias_off,
    variant,
    loads,
    quads
);

/// `Params.variant` of each product (AB, AT_B, A_BT in the shader).
pub(super) fn variant_code(v: Variant) -> u32 {
    match v {
        Variant::AB => 0,
        Variant::AtB => 1,
        Variant::ABt => 2,
    }
}

/// The `override` constants of the pipeline fixed to each variant (AB, AT_B, A_BT).
const FIXED: [&[(&str, f64)]; 3] = [
    &[("FIXED", 1.0), ("FIXED_VARIANT", 0.0)],
    &[("FIXED", 1.0), ("FIXED_VARIANT", 1.0)],
    &[("FIXED", 1.0), ("FIXED_VARIANT", 2.0)],
];

/// The entry point of matmul_sg.wgsl, and the spares of its vec4 views.
pub(super) struct SubgroupForm {
    /// The pipeline that reads the variant, the loads and the body from `Params`.
    kernel: Kernel,
    /// One pipeline per variant for block-bodied products with vec4 loads and more than
    /// [`FIXED_MACS`] multiply-adds (see [`SubgroupForm::pick`]).
    fixed: [Kernel; 3],
    /// 16-byte buffers bound as `c4` and `e4` where C's or the epilogue operand's buffer is
    /// smaller than one vec4 (the shader then never reads or writes them).
    spare_c: Buffer,
    spare_e: Buffer,
}

impl SubgroupForm {
    pub(super) fn new(gpu: &Gpu) -> Result<Self, GpuError> {
        // SAFETY: every index in matmul_sg.wgsl is in range by construction, so wgpu's clamps
        // are dead weight there (without them 1.24-1.26x on products with K = 128; see the
        // shader's header). Private arrays: `acc` only by constants
        // (rank4_8's base < 4, plus 4 i for i < 8: < 32), its copy `out` by i < rows <= TILE =
        // 32, a load's quads by q < 4; vector components by j < four() <= 4. Buffers: every
        // read clamps its row to `outer_last` and its column to the row's length, every store is
        // below m rows and n columns, and `check_operands` has checked each buffer holds its
        // operand's span from its offset (vec4 bindings are used only where rows and offsets
        // are multiples of 4).
        let sg = unsafe {
            ShaderFamily::new_unclamped(gpu, "matmul_sg.wgsl", super::shader("matmul_sg.wgsl"))?
        };
        let fixed = |v: usize| sg.kernel_with(gpu, "matmul_sg", FIXED[v]);
        Ok(SubgroupForm {
            kernel: sg.kernel(gpu, "matmul_sg")?,
            fixed: [fixed(0)?, fixed(1)?, fixed(2)?],
            spare_c: gpu.buffer("matmul spare c4", 4)?,
            spare_e: gpu.buffer("matmul spare e4", 4)?,
        })
    }

    /// The pipeline and grid of a product: one 8-lane workgroup per 32 x 32 block of C (a skinny
    /// product, N or M at most [`SKINNY`], is one row or column of them). Block-bodied products
    /// with vec4 loads and more than [`FIXED_MACS`] multiply-adds get the pipeline fixed to their
    /// variant (1.13x at 1024^3, 1.14-1.27x on the M512 shapes on Zen 4, and compiled only where a plan has such a
    /// product); the rest share the one that reads everything from `Params`.
    /// `replayed`: the product's plan runs many times (a training loop), not a few (sampling and
    /// evaluation, [`crate::graph::gpu::GpuPlan::compile_few_runs`]), where a fixed pipeline's compile
    /// would not pay back.
    pub(super) fn pick(
        &self,
        variant: Variant,
        vec4: bool,
        shape: &MatmulShape,
        replayed: bool,
    ) -> (&Kernel, [u32; 3]) {
        let (m, n) = (shape.m, shape.n);
        let kernel = if takes_fixed(vec4, shape, replayed) {
            &self.fixed[variant_code(variant) as usize]
        } else {
            &self.kernel
        };
        (kernel, [groups(n, TILE), groups(m, TILE), 1])
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

/// Whether a product takes a pipeline fixed to its variant (see [`SubgroupForm::pick`]).
fn takes_fixed(vec4: bool, shape: &MatmulShape, replayed: bool) -> bool {
    let (m, n) = (shape.m, shape.n);
    let macs = m as u128 * shape.k as u128 * n as u128;
    replayed && vec4 && m > SKINNY && n > SKINNY && macs > FIXED_MACS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default ring run's largest product (256 x 128 x 128 = 2^22) and sampling's chunks
    /// stay on the shared pipeline: fixed ones there made its cold start 4.1 s, not 2.6 s.
    #[test]
    fn fixed_pipelines_only_for_large_replayed_block_products() {
        let ring = MatmulShape::new(256, 128, 128);
        assert!(!takes_fixed(true, &ring, true));
        let sampling = MatmulShape::new(4096, 128, 128);
        assert!(takes_fixed(true, &sampling, true));
        assert!(!takes_fixed(true, &sampling, false));
        let conv = MatmulShape::new(3136, 128, 1024);
        assert!(takes_fixed(true, &conv, true));
        assert!(!takes_fixed(false, &conv, true));
        assert!(!takes_fixed(true, &MatmulShape::new(1 << 20, 64, 4), true));
    }
}
