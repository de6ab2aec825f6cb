//! Launcher for shaders/matmul.wgsl: the three tiled products (with fused bias and activation),
//! each with scalar or vec4 loads of A and B, the naive baseline the benchmark compares against,
//! and the bias gradient.

use super::{grid_1d, groups, Dispatch, Kernel, ShaderFamily};
use crate::gpu::{Gpu, GpuError};
use crate::ops::{Activation, Variant};
use wgpu::Buffer;

/// Side of the block of C one tiled workgroup computes (BM = BN in matmul.wgsl).
const TILE: usize = 64;
/// Side of the naive kernel's workgroup (one output per invocation).
const NAIVE_WG: usize = 16;

/// How a tiled kernel reads A and B into workgroup memory. Both sum in the same order, so they
/// give the same bits; [`Matmul::bind`] picks `Vec4` wherever [`MatmulShape::allows_vec4`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loads {
    /// One f32 at a time: any shape.
    Scalar,
    /// Four consecutive f32 of a stored row at a time.
    Vec4,
}

/// The sizes of one product C[m,n] = op(A) op(B), and where each operand starts in its buffer
/// (in f32 elements).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MatmulShape {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub a_off: usize,
    pub b_off: usize,
    pub c_off: usize,
    pub bias_off: usize,
}

impl MatmulShape {
    /// C[m,n] = A[m,k] B[k,n] with every operand at the start of its buffer.
    pub fn new(m: usize, k: usize, n: usize) -> Self {
        MatmulShape {
            m,
            k,
            n,
            ..Default::default()
        }
    }

    /// Whether A and B, as `variant` stores them, have row lengths and offsets that are all
    /// multiples of 4, so a vec4 load never straddles two rows or runs past the end.
    pub fn allows_vec4(&self, variant: Variant) -> bool {
        let (a_row, b_row) = match variant {
            Variant::AB => (self.k, self.n),
            Variant::AtB => (self.m, self.n),
            Variant::ABt => (self.k, self.k),
        };
        [a_row, b_row, self.a_off, self.b_off]
            .iter()
            .all(|v| v % 4 == 0)
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    m: u32,
    k: u32,
    n: u32,
    act: u32,
    alpha: f32,
    has_bias: u32,
    a_off: u32,
    b_off: u32,
    c_off: u32,
    bias_off: u32,
    _pad: [u32; 2],
}

/// Held against `Params` in matmul.wgsl by tests/launcher_contracts.rs.
pub const PARAMS: super::ParamsLayout = params_layout!(
    "matmul.wgsl",
    Params,
    m,
    k,
    n,
    act,
    alpha,
    has_bias,
    a_off,
    b_off,
    c_off,
    bias_off
);

/// The pipelines of matmul.wgsl, built once.
pub struct Matmul {
    ab: Kernel,
    at_b: Kernel,
    a_bt: Kernel,
    ab_vec4: Kernel,
    at_b_vec4: Kernel,
    a_bt_vec4: Kernel,
    naive: Kernel,
    bias_grad: Kernel,
}

impl Matmul {
    pub fn new(gpu: &Gpu) -> Result<Self, GpuError> {
        let fam = ShaderFamily::new(gpu, "matmul.wgsl", super::shader("matmul.wgsl"))?;
        Ok(Matmul {
            ab: fam.kernel(gpu, "matmul")?,
            at_b: fam.kernel(gpu, "matmul_at_b")?,
            a_bt: fam.kernel(gpu, "matmul_a_bt")?,
            ab_vec4: fam.kernel(gpu, "matmul_vec4")?,
            at_b_vec4: fam.kernel(gpu, "matmul_at_b_vec4")?,
            a_bt_vec4: fam.kernel(gpu, "matmul_a_bt_vec4")?,
            naive: fam.kernel(gpu, "matmul_naive")?,
            bias_grad: fam.kernel(gpu, "bias_grad")?,
        })
    }

    /// C = act(op(A) op(B) + bias) with the tiled kernel of `variant`, vec4 loads where the shape
    /// allows them. `bias` (length n from `shape.bias_off`) is optional.
    #[allow(clippy::too_many_arguments)]
    pub fn bind(
        &self,
        gpu: &Gpu,
        variant: Variant,
        a: &Buffer,
        b: &Buffer,
        bias: Option<&Buffer>,
        c: &Buffer,
        shape: MatmulShape,
        act: Activation,
    ) -> Result<Dispatch, GpuError> {
        let loads = if shape.allows_vec4(variant) {
            Loads::Vec4
        } else {
            Loads::Scalar
        };
        self.bind_loads(gpu, variant, loads, a, b, bias, c, shape, act)
    }

    /// As [`Matmul::bind`] with the given loads (tests and benchmarks compare the two); `Vec4`
    /// on a shape that does not allow it is an error.
    #[allow(clippy::too_many_arguments)]
    pub fn bind_loads(
        &self,
        gpu: &Gpu,
        variant: Variant,
        loads: Loads,
        a: &Buffer,
        b: &Buffer,
        bias: Option<&Buffer>,
        c: &Buffer,
        shape: MatmulShape,
        act: Activation,
    ) -> Result<Dispatch, GpuError> {
        let kernel = match (loads, variant) {
            (Loads::Scalar, Variant::AB) => &self.ab,
            (Loads::Scalar, Variant::AtB) => &self.at_b,
            (Loads::Scalar, Variant::ABt) => &self.a_bt,
            (Loads::Vec4, Variant::AB) => &self.ab_vec4,
            (Loads::Vec4, Variant::AtB) => &self.at_b_vec4,
            (Loads::Vec4, Variant::ABt) => &self.a_bt_vec4,
        };
        if loads == Loads::Vec4 && !shape.allows_vec4(variant) {
            return Err(GpuError::Shape(format!(
                "{}: vec4 loads need row lengths and offsets that are multiples of 4, got {shape:?}",
                kernel.name
            )));
        }
        let grid = [groups(shape.n, TILE), groups(shape.m, TILE), 1];
        self.bind_kernel(gpu, kernel, a, b, bias, c, shape, act, grid)
    }

    /// As [`Matmul::bind`] for `Variant::AB`, with the naive kernel (benchmark baseline only).
    #[allow(clippy::too_many_arguments)]
    pub fn bind_naive(
        &self,
        gpu: &Gpu,
        a: &Buffer,
        b: &Buffer,
        bias: Option<&Buffer>,
        c: &Buffer,
        shape: MatmulShape,
        act: Activation,
    ) -> Result<Dispatch, GpuError> {
        let grid = [groups(shape.n, NAIVE_WG), groups(shape.m, NAIVE_WG), 1];
        self.bind_kernel(gpu, &self.naive, a, b, bias, c, shape, act, grid)
    }

    /// db[db_off + j] = sum over `rows` rows of dz[i * cols + j], for j < cols.
    pub fn bias_grad(
        &self,
        gpu: &Gpu,
        dz: &Buffer,
        db: &Buffer,
        db_off: usize,
        rows: usize,
        cols: usize,
    ) -> Result<Dispatch, GpuError> {
        let k = &self.bias_grad;
        check_dims(k.name, &[rows, cols])?;
        gpu.expect_len("bias_grad dz", dz, span(k.name, 0, rows, cols)?)?;
        gpu.expect_len("bias_grad db", db, span(k.name, db_off, 1, cols)?)?;
        let p = Params {
            m: to_u32(k.name, rows)?,
            n: to_u32(k.name, cols)?,
            c_off: to_u32(k.name, db_off)?,
            ..bytemuck::Zeroable::zeroed()
        };
        let pb = gpu.uniform("bias_grad params", &p);
        k.bind(gpu, &[("p", &pb), ("a", dz), ("c", db)], grid_1d(cols, 256))
    }

    #[allow(clippy::too_many_arguments)]
    fn bind_kernel(
        &self,
        gpu: &Gpu,
        kernel: &Kernel,
        a: &Buffer,
        b: &Buffer,
        bias: Option<&Buffer>,
        c: &Buffer,
        s: MatmulShape,
        act: Activation,
        grid: [u32; 3],
    ) -> Result<Dispatch, GpuError> {
        let name = kernel.name;
        check_dims(name, &[s.m, s.k, s.n])?;
        // Both layouts of an operand hold the same number of elements.
        gpu.expect_len(&format!("{name} a"), a, span(name, s.a_off, s.m, s.k)?)?;
        gpu.expect_len(&format!("{name} b"), b, span(name, s.b_off, s.k, s.n)?)?;
        gpu.expect_len(&format!("{name} c"), c, span(name, s.c_off, s.m, s.n)?)?;
        if let Some(bias) = bias {
            gpu.expect_len(
                &format!("{name} bias"),
                bias,
                span(name, s.bias_off, 1, s.n)?,
            )?;
        }
        let p = Params {
            m: to_u32(name, s.m)?,
            k: to_u32(name, s.k)?,
            n: to_u32(name, s.n)?,
            act: act.code(),
            alpha: act.alpha(),
            has_bias: bias.is_some() as u32,
            a_off: to_u32(name, s.a_off)?,
            b_off: to_u32(name, s.b_off)?,
            c_off: to_u32(name, s.c_off)?,
            bias_off: to_u32(name, s.bias_off)?,
            _pad: [0; 2],
        };
        let pb = gpu.uniform(name, &p);
        // Without a bias the shader never reads `bias`, but the layout still needs a read-only
        // buffer there: A serves (C would conflict with its read_write use). `a4` and `b4` are A
        // and B again, as the vec4 kernels read them.
        let bindings = [
            ("p", &pb),
            ("a", a),
            ("b", b),
            ("bias", bias.unwrap_or(a)),
            ("c", c),
            ("a4", a),
            ("b4", b),
        ];
        kernel.bind(gpu, &bindings, grid)
    }
}

fn check_dims(name: &str, dims: &[usize]) -> Result<(), GpuError> {
    if dims.contains(&0) {
        return Err(GpuError::Shape(format!(
            "{name}: every dimension must be at least 1, got {dims:?}"
        )));
    }
    Ok(())
}

/// off + rows * cols: the elements a buffer must hold, or an error where that overflows.
fn span(name: &str, off: usize, rows: usize, cols: usize) -> Result<usize, GpuError> {
    rows.checked_mul(cols)
        .and_then(|e| e.checked_add(off))
        .ok_or_else(|| {
            GpuError::Shape(format!(
                "{name}: {rows} x {cols} elements from offset {off} overflow"
            ))
        })
}

/// Offsets and sizes travel as u32; element indices past 2^32 cannot be addressed by the shader.
fn to_u32(name: &str, v: usize) -> Result<u32, GpuError> {
    u32::try_from(v).map_err(|_| GpuError::Shape(format!("{name}: {v} does not fit in 32 bits")))
}
