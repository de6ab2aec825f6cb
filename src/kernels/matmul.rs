//! Launcher for shaders/matmul.wgsl: the three tiled products (with fused bias and activation),
//! each with scalar or vec4 loads of A and B, the naive baseline the benchmark compares against,
//! and the bias gradient; and, with its entry points and choice in `matmul_sg.rs`, for
//! shaders/matmul_sg.wgsl: the same three products in the form that suits CPU adapters (one
//! subgroup of 8 lanes per 32 x 32 block, no workgroup memory), and its skinny kernels for N or M
//! of at most [`SKINNY`], which that form uses for them whatever the loads.
//!
//! Which form a product gets is decided once, when the plan binds it ([`Matmul::bind`]): the
//! subgroup form on a CPU adapter whose subgroups are exactly 8 lanes and that granted `SUBGROUP`
//! (lavapipe on x86 with 256-bit vectors), with vec4 loads where the shape allows them; the
//! tiled kernel everywhere else, that is on every GPU (it was chosen on GPU-like hardware, and
//! nothing here has measured the subgroup form on one). A CPU driver with wider subgroups (16
//! lanes with 512-bit vectors) also keeps the tiled kernel. [`FORM_ENV`] overrides the choice;
//! [`Matmul::choice`] says which form a product gets, and `bench kernels` prints it.

pub use super::matmul_sg::{prefers_subgroup_form, FORM_ENV, SKINNY};

use super::matmul_sg::SubgroupForm;
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

/// The formulation of a product: the tiled kernel of matmul.wgsl or the subgroup form of
/// matmul_sg.wgsl, each with vec4 or scalar loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Tiled(Loads),
    Subgroup(Loads),
}

/// The sizes of one product C[m,n] = op(A) op(B), and where each operand starts in its buffer
/// (in f32 elements; `bias_off` is where the epilogue's operand starts, the bias or Y).
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

/// What a product does to each sum before storing it (`Params.epilogue`; `matmul_epilogue` in
/// common.wgsl says the same in WGSL).
#[derive(Clone, Copy)]
pub enum Epilogue<'a> {
    /// act(sum + bias[j]), the bias (n values from `shape.bias_off`) optional: a Linear layer's
    /// forward, or a plain product with no bias and `Activation::Identity`.
    Forward {
        bias: Option<&'a Buffer>,
        act: Activation,
    },
    /// sum * act'(Y[i, j]), Y the [m, n] forward output of the layer below, from `shape.bias_off`
    /// (`Activation::grad_from_output`): an input gradient dZ W that leaves the product as the
    /// layer below's dZ, with the activation's backward fused.
    ActGrad { y: &'a Buffer, act: Activation },
}

impl<'a> Epilogue<'a> {
    /// The product alone: no bias, no activation.
    pub const PLAIN: Epilogue<'static> = Epilogue::Forward {
        bias: None,
        act: Activation::Identity,
    };

    fn code(&self) -> u32 {
        match self {
            Epilogue::Forward { bias: None, .. } => 0,
            Epilogue::Forward { bias: Some(_), .. } => 1,
            Epilogue::ActGrad { .. } => 2,
        }
    }

    fn act(&self) -> Activation {
        match *self {
            Epilogue::Forward { act, .. } | Epilogue::ActGrad { act, .. } => act,
        }
    }

    /// The buffer the shader reads through its `bias` binding, its name, and the rows and
    /// columns it reads there.
    fn operand(&self, s: &MatmulShape) -> Option<(&'a Buffer, &'static str, usize, usize)> {
        match *self {
            Epilogue::Forward { bias, .. } => bias.map(|b| (b, "bias", 1, s.n)),
            Epilogue::ActGrad { y, .. } => Some((y, "y", s.m, s.n)),
        }
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
    epilogue: u32,
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
    epilogue,
    a_off,
    b_off,
    c_off,
    bias_off
);

/// matmul_sg.wgsl declares the same `Params`.
pub const PARAMS_SG: super::ParamsLayout = super::ParamsLayout {
    family: "matmul_sg.wgsl",
    ..PARAMS
};

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
    /// matmul_sg.wgsl's kernels, where this adapter gets them (see the module doc).
    subgroup: Option<SubgroupForm>,
    /// One vec4 bound as `a4` or `b4` in place of an operand smaller than one (e.g. the two
    /// parameters of a linear 1-D generator): wgpu refuses to bind a buffer shorter than the
    /// vec4 array's element, and no shape of such an operand takes the vec4 loads.
    spare_quad: Buffer,
}

impl Matmul {
    pub fn new(gpu: &Gpu) -> Result<Self, GpuError> {
        let fam = ShaderFamily::new(gpu, "matmul.wgsl", super::shader("matmul.wgsl"))?;
        let subgroup = if prefers_subgroup_form(gpu)? {
            Some(SubgroupForm::new(gpu)?)
        } else {
            None
        };
        Ok(Matmul {
            ab: fam.kernel(gpu, "matmul")?,
            at_b: fam.kernel(gpu, "matmul_at_b")?,
            a_bt: fam.kernel(gpu, "matmul_a_bt")?,
            ab_vec4: fam.kernel(gpu, "matmul_vec4")?,
            at_b_vec4: fam.kernel(gpu, "matmul_at_b_vec4")?,
            a_bt_vec4: fam.kernel(gpu, "matmul_a_bt_vec4")?,
            naive: fam.kernel(gpu, "matmul_naive")?,
            bias_grad: fam.kernel(gpu, "bias_grad")?,
            subgroup,
            spare_quad: gpu.buffer("matmul spare a4/b4", 4)?,
        })
    }

    /// Whether the subgroup form was built for this adapter.
    pub fn has_subgroup_form(&self) -> bool {
        self.subgroup.is_some()
    }

    /// The form [`Matmul::bind`] gives `variant` on `shape`.
    pub fn choice(&self, variant: Variant, shape: &MatmulShape) -> Form {
        let loads = if shape.allows_vec4(variant) {
            Loads::Vec4
        } else {
            Loads::Scalar
        };
        if self.has_subgroup_form() {
            Form::Subgroup(loads)
        } else {
            Form::Tiled(loads)
        }
    }

    /// One line for reports: which form each product gets on this adapter, and why.
    pub fn describe_choice(&self) -> &'static str {
        if self.has_subgroup_form() {
            "subgroup form (matmul_sg.wgsl: CPU adapter, 8-lane subgroups), vec4 loads where rows \
             and offsets are multiples of 4, scalar elsewhere; N or M <= 4 by its skinny kernels"
        } else {
            "tiled (matmul.wgsl): vec4 loads where rows and offsets are multiples of 4, scalar \
             elsewhere"
        }
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
        let form = self.choice(variant, &shape);
        let epi = Epilogue::Forward { bias, act };
        self.bind_with(gpu, variant, form, a, b, c, shape, epi)
    }

    /// As [`Matmul::bind`] in the given form (tests and benchmarks compare them). The subgroup
    /// form where this adapter lacks it, or vec4 loads on a shape that does not allow them, is
    /// an error.
    #[allow(clippy::too_many_arguments)]
    pub fn bind_form(
        &self,
        gpu: &Gpu,
        variant: Variant,
        form: Form,
        a: &Buffer,
        b: &Buffer,
        bias: Option<&Buffer>,
        c: &Buffer,
        shape: MatmulShape,
        act: Activation,
    ) -> Result<Dispatch, GpuError> {
        let epi = Epilogue::Forward { bias, act };
        self.bind_with(gpu, variant, form, a, b, c, shape, epi)
    }

    /// C = epilogue(op(A) op(B)) in the given form: what every other `bind_*` of a product
    /// comes to.
    #[allow(clippy::too_many_arguments)]
    pub fn bind_with(
        &self,
        gpu: &Gpu,
        variant: Variant,
        form: Form,
        a: &Buffer,
        b: &Buffer,
        c: &Buffer,
        shape: MatmulShape,
        epi: Epilogue,
    ) -> Result<Dispatch, GpuError> {
        let loads = match form {
            Form::Tiled(loads) => {
                let kernel = match (loads, variant) {
                    (Loads::Scalar, Variant::AB) => &self.ab,
                    (Loads::Scalar, Variant::AtB) => &self.at_b,
                    (Loads::Scalar, Variant::ABt) => &self.a_bt,
                    (Loads::Vec4, Variant::AB) => &self.ab_vec4,
                    (Loads::Vec4, Variant::AtB) => &self.at_b_vec4,
                    (Loads::Vec4, Variant::ABt) => &self.a_bt_vec4,
                };
                check_vec4(kernel.name, loads, variant, &shape)?;
                let grid = [groups(shape.n, TILE), groups(shape.m, TILE), 1];
                return self.bind_kernel(gpu, kernel, a, b, c, shape, epi, grid);
            }
            Form::Subgroup(loads) => loads,
        };
        let Some(sg) = &self.subgroup else {
            return Err(GpuError::Shape(format!(
                "the subgroup matmul form is not built on {} (it needs a CPU adapter with \
                 {}-lane subgroups)",
                gpu.info.name,
                super::matmul_sg::LANES
            )));
        };
        let (kernel, grid) = sg.pick(variant, loads == Loads::Vec4, shape.m, shape.n);
        check_vec4(kernel.name, loads, variant, &shape)?;
        self.bind_kernel(gpu, kernel, a, b, c, shape, epi, grid)
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
        let epi = Epilogue::Forward { bias, act };
        self.bind_with(gpu, variant, Form::Tiled(loads), a, b, c, shape, epi)
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
        let epi = Epilogue::Forward { bias, act };
        self.bind_kernel(gpu, &self.naive, a, b, c, shape, epi, grid)
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
        c: &Buffer,
        s: MatmulShape,
        epi: Epilogue,
        grid: [u32; 3],
    ) -> Result<Dispatch, GpuError> {
        let name = kernel.name;
        check_dims(name, &[s.m, s.k, s.n])?;
        // Both layouts of an operand hold the same number of elements.
        gpu.expect_len(&format!("{name} a"), a, span(name, s.a_off, s.m, s.k)?)?;
        gpu.expect_len(&format!("{name} b"), b, span(name, s.b_off, s.k, s.n)?)?;
        gpu.expect_len(&format!("{name} c"), c, span(name, s.c_off, s.m, s.n)?)?;
        let operand = epi.operand(&s);
        if let Some((e, what, rows, cols)) = operand {
            gpu.expect_len(
                &format!("{name} {what}"),
                e,
                span(name, s.bias_off, rows, cols)?,
            )?;
        }
        let p = Params {
            m: to_u32(name, s.m)?,
            k: to_u32(name, s.k)?,
            n: to_u32(name, s.n)?,
            act: epi.act().code(),
            alpha: epi.act().alpha(),
            epilogue: epi.code(),
            a_off: to_u32(name, s.a_off)?,
            b_off: to_u32(name, s.b_off)?,
            c_off: to_u32(name, s.c_off)?,
            bias_off: to_u32(name, s.bias_off)?,
            _pad: [0; 2],
        };
        let pb = gpu.uniform(name, &p);
        // Without a bias or Y the shader never reads `bias`, but the layout still needs a
        // read-only buffer there: A serves (C would conflict with its read_write use). `a4` and
        // `b4` are A and B again, as the vec4 kernels read them.
        let bindings = [
            ("p", &pb),
            ("a", a),
            ("b", b),
            ("bias", operand.map_or(a, |(e, ..)| e)),
            ("c", c),
            ("a4", self.quad(a)),
            ("b4", self.quad(b)),
        ];
        let Some(sg) = self.subgroup.as_ref().filter(|_| kernel.declares("c4")) else {
            return kernel.bind(gpu, &bindings, grid);
        };
        let mut all = bindings.to_vec();
        all.extend(sg.vec4_views(c, operand.map_or(a, |(e, ..)| e)));
        kernel.bind(gpu, &all, grid)
    }
}

impl Matmul {
    /// `x` as the vec4 bindings see it, or the spare where it is shorter than one vec4.
    fn quad<'a>(&'a self, x: &'a Buffer) -> &'a Buffer {
        if x.size() >= 16 {
            x
        } else {
            &self.spare_quad
        }
    }
}

fn check_vec4(
    name: &str,
    loads: Loads,
    variant: Variant,
    shape: &MatmulShape,
) -> Result<(), GpuError> {
    if loads == Loads::Vec4 && !shape.allows_vec4(variant) {
        return Err(GpuError::Shape(format!(
            "{name}: vec4 loads need row lengths and offsets that are multiples of 4, got {shape:?}"
        )));
    }
    Ok(())
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
