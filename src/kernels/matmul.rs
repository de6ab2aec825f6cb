//! Launcher for shaders/matmul.wgsl: the three tiled products (with fused bias and activation),
//! each with scalar or vec4 loads of A and B, the naive baseline the benchmark compares against,
//! and the bias gradient; and, with its entry point and choice in `matmul_sg.rs`, for
//! shaders/matmul_sg.wgsl: the same three products in the form that suits CPU adapters (one
//! subgroup of 8 lanes per 32 x 32 block, no workgroup memory, a skinny body for N or M of at
//! most [`SKINNY`]), all in one entry point so that a plan compiles one pipeline for them.
//!
//! Which form a product gets is decided once, when the plan binds it ([`Matmul::bind`]): the
//! subgroup form on a CPU adapter whose subgroups are exactly 8 lanes and that granted `SUBGROUP`
//! (lavapipe on x86 with 256-bit vectors), with vec4 loads where the shape allows them; the
//! tiled kernel everywhere else, that is on every GPU (it was chosen on GPU-like hardware, and
//! nothing here has measured the subgroup form on one). A CPU driver with wider subgroups (16
//! lanes with 512-bit vectors) also keeps the tiled kernel. [`FORM_ENV`] overrides the choice;
//! [`Matmul::choice`] says which form a product gets, and `bench kernels` prints it.

pub use super::matmul_choice::{Class, Decided, Pick};
pub use super::matmul_sg::SKINNY;

/// The environment variable that overrides the measured choice (`matmul_choice`): `auto`,
/// `subgroup`, `tiled` (the 64 block), `tiled-32`, `tiled-64` or `tiled-128`.
pub const FORM_ENV: &str = "SHADERGAN_MATMUL";

use super::matmul_sg::SubgroupForm;
use super::{grid_1d, groups, Dispatch, Kernel, ShaderFamily};
use crate::gpu::{Gpu, GpuError};
use crate::ops::{Activation, Variant};
use std::sync::OnceLock;
use wgpu::Buffer;

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

/// The block of C a tiled workgroup computes (matmul.wgsl's `override`s): WG x WG invocations,
/// each an 8 x 8 register tile, k staged in slices of BK. Every block sums each output in k
/// order, so all give the same bits; which is fastest depends on the device and the shape
/// (`matmul_choice` measures it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Block {
    /// 32 x 32 (WG 4, BK 32: 8 KiB of workgroup memory): more workgroups for small products.
    B32,
    /// 64 x 64 (WG 8, BK 32: 16 KiB): the block chosen on lavapipe before the probe existed.
    B64,
    /// 128 x 128 (WG 16, BK 16: 16 KiB): the usual block of GPU kernels for large products.
    B128,
}

impl Block {
    pub const ALL: [Block; 3] = [Block::B32, Block::B64, Block::B128];

    /// WG and BK, the values of matmul.wgsl's `override`s.
    fn constants(self) -> &'static [(&'static str, f64)] {
        match self {
            Block::B32 => &[("WG", 4.0), ("BK", 32.0)],
            Block::B64 => &[("WG", 8.0), ("BK", 32.0)],
            Block::B128 => &[("WG", 16.0), ("BK", 16.0)],
        }
    }

    /// The side of the block of C.
    pub fn side(self) -> usize {
        match self {
            Block::B32 => 32,
            Block::B64 => 64,
            Block::B128 => 128,
        }
    }

    /// Invocations per workgroup and bytes of workgroup memory.
    fn needs(self) -> (u32, u32) {
        let wg = self.side() as u32 / 8;
        let bk = self.constants()[1].1 as u32;
        (wg * wg, 2 * bk * self.side() as u32 * 4)
    }

    /// Whether the device runs this block.
    pub fn fits(self, limits: &wgpu::Limits) -> bool {
        let (inv, bytes) = self.needs();
        inv <= limits.max_compute_invocations_per_workgroup
            && self.side() as u32 / 8 <= limits.max_compute_workgroup_size_x
            && self.side() as u32 / 8 <= limits.max_compute_workgroup_size_y
            && bytes <= limits.max_compute_workgroup_storage_size
    }

    pub fn name(self) -> &'static str {
        match self {
            Block::B32 => "tiled-32",
            Block::B64 => "tiled-64",
            Block::B128 => "tiled-128",
        }
    }
}

/// The formulation of a product: the tiled kernel of matmul.wgsl with a block, or the subgroup
/// form of matmul_sg.wgsl, each with vec4 or scalar loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Tiled(Loads, Block),
    Subgroup(Loads),
}

/// The six tiled entry points of one block: scalar then vec4 loads, each AB, AtB, ABt.
struct TiledKernels {
    block: Block,
    scalar: [Kernel; 3],
    vec4: [Kernel; 3],
}

impl TiledKernels {
    fn new(gpu: &Gpu, fam: &ShaderFamily, block: Block) -> Result<Self, GpuError> {
        let c = block.constants();
        let k = |name| fam.kernel_with(gpu, name, c);
        Ok(TiledKernels {
            block,
            scalar: [k("matmul")?, k("matmul_at_b")?, k("matmul_a_bt")?],
            vec4: [
                k("matmul_vec4")?,
                k("matmul_at_b_vec4")?,
                k("matmul_a_bt_vec4")?,
            ],
        })
    }
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

/// matmul_sg.wgsl's `Params`: these fields, then the variant, the loads and the quads.
pub const PARAMS_SG: super::ParamsLayout = super::matmul_sg::PARAMS;

/// The pipelines of matmul.wgsl, built once.
pub struct Matmul {
    /// The tiled kernels of each block (pipelines built when first bound).
    tiled: Vec<TiledKernels>,
    naive: Kernel,
    bias_grad: Kernel,
    /// matmul_sg.wgsl's kernel, where this adapter can run it.
    subgroup: Option<SubgroupForm>,
    /// The form of each product class, decided when a plan first binds one.
    decided: [OnceLock<Decided>; 3],
    /// One vec4 bound as `a4` or `b4` in place of an operand smaller than one (e.g. the two
    /// parameters of a linear 1-D generator): wgpu refuses to bind a buffer shorter than the
    /// vec4 array's element, and no shape of such an operand takes the vec4 loads.
    spare_quad: Buffer,
}

impl Matmul {
    pub fn new(gpu: &Gpu) -> Result<Self, GpuError> {
        let fam = ShaderFamily::new(gpu, "matmul.wgsl", super::shader("matmul.wgsl"))?;
        let subgroup = if super::matmul_sg::can_run(gpu) {
            Some(SubgroupForm::new(gpu)?)
        } else {
            None
        };
        let tiled = Block::ALL
            .into_iter()
            .filter(|b| b.fits(&gpu.limits))
            .map(|b| TiledKernels::new(gpu, &fam, b))
            .collect::<Result<_, _>>()?;
        Ok(Matmul {
            tiled,
            naive: fam.kernel(gpu, "matmul_naive")?,
            bias_grad: fam.kernel(gpu, "bias_grad")?,
            subgroup,
            decided: Default::default(),
            spare_quad: gpu.buffer("matmul spare a4/b4", 4)?,
        })
    }

    /// Whether the subgroup form was built for this adapter.
    pub fn has_subgroup_form(&self) -> bool {
        self.subgroup.is_some()
    }

    /// The tiled blocks this adapter runs.
    pub fn blocks(&self) -> Vec<Block> {
        self.tiled.iter().map(|t| t.block).collect()
    }

    /// The form [`Matmul::bind`] gives `variant` on `shape`: the one measured fastest on this
    /// adapter for the shape's class (probed the first time; see `matmul_choice`), with vec4
    /// loads where the shape allows them.
    pub fn choice(
        &self,
        gpu: &Gpu,
        variant: Variant,
        shape: &MatmulShape,
    ) -> Result<Form, GpuError> {
        let loads = if shape.allows_vec4(variant) {
            Loads::Vec4
        } else {
            Loads::Scalar
        };
        Ok(self.decided(gpu, Class::of(shape))?.pick.form(loads))
    }

    /// What was chosen for `class`, deciding it now if no plan has yet.
    pub fn decided(&self, gpu: &Gpu, class: Class) -> Result<&Decided, GpuError> {
        let slot = &self.decided[class.index()];
        if let Some(d) = slot.get() {
            return Ok(d);
        }
        let d = super::matmul_choice::decide(self, gpu, class)?;
        Ok(slot.get_or_init(|| d))
    }

    /// For reports: the forms this adapter can run, and what each class decided so far got.
    pub fn describe_choice(&self) -> String {
        let names: Vec<&str> = super::matmul_choice::candidates(self)
            .iter()
            .map(|p| p.name())
            .collect();
        let mut s = format!(
            "candidates {} (vec4 loads where rows and offsets are multiples of 4)",
            names.join(", ")
        );
        for c in Class::ALL {
            if let Some(d) = self.decided[c.index()].get() {
                s += &format!("\n  {} products: {} ({})", c.name(), d.pick.name(), d.why);
            }
        }
        s
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
        let form = self.choice(gpu, variant, &shape)?;
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
        self.bind_replayed(gpu, variant, form, a, b, c, shape, epi, true)
    }

    /// [`Self::bind_with`], saying whether the dispatch is replayed many times (a training loop)
    /// or a few (sampling, evaluation): only the former may take a subgroup pipeline fixed to
    /// its variant, whose compile pays back over many runs ([`super::matmul_sg::FIXED_MACS`]).
    #[allow(clippy::too_many_arguments)]
    pub fn bind_replayed(
        &self,
        gpu: &Gpu,
        variant: Variant,
        form: Form,
        a: &Buffer,
        b: &Buffer,
        c: &Buffer,
        shape: MatmulShape,
        epi: Epilogue,
        replayed: bool,
    ) -> Result<Dispatch, GpuError> {
        let loads = match form {
            Form::Tiled(loads, block) => {
                let Some(t) = self.tiled.iter().find(|t| t.block == block) else {
                    return Err(GpuError::Shape(format!(
                        "the {} block does not fit {}'s workgroup limits",
                        block.name(),
                        gpu.info.name
                    )));
                };
                let v = super::matmul_sg::variant_code(variant) as usize;
                let kernel = match loads {
                    Loads::Scalar => &t.scalar[v],
                    Loads::Vec4 => &t.vec4[v],
                };
                check_vec4(kernel.name, loads, variant, &shape)?;
                let side = block.side();
                let grid = [groups(shape.n, side), groups(shape.m, side), 1];
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
        let (kernel, grid) = sg.pick(variant, loads == Loads::Vec4, &shape, replayed);
        check_vec4(kernel.name, loads, variant, &shape)?;
        let operand = check_operands(gpu, kernel.name, a, b, c, &shape, &epi)?;
        let base = params(kernel.name, &shape, &epi)?;
        let p = super::matmul_sg::Params {
            m: base.m,
            k: base.k,
            n: base.n,
            act: base.act,
            alpha: base.alpha,
            epilogue: base.epilogue,
            a_off: base.a_off,
            b_off: base.b_off,
            c_off: base.c_off,
            bias_off: base.bias_off,
            variant: super::matmul_sg::variant_code(variant),
            loads: (loads == Loads::Vec4) as u32,
            quads: 4,
            _pad: [0; 3],
        };
        let pb = gpu.uniform(kernel.name, &p);
        let e = operand.map_or(a, |(e, ..)| e);
        let mut bindings = vec![("p", &pb), ("a", a), ("b", b), ("bias", e), ("c", c)];
        bindings.extend([("a4", self.quad(a)), ("b4", self.quad(b))]);
        bindings.extend(sg.vec4_views(c, e));
        kernel.bind(gpu, &bindings, grid)
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
        self.bind_with(
            gpu,
            variant,
            Form::Tiled(loads, Block::B64),
            a,
            b,
            c,
            shape,
            epi,
        )
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
        let operand = check_operands(gpu, kernel.name, a, b, c, &s, &epi)?;
        let pb = gpu.uniform(kernel.name, &params(kernel.name, &s, &epi)?);
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
        kernel.bind(gpu, &bindings, grid)
    }
}

/// Checks every operand's buffer against the shape; returns the epilogue's operand (bias or Y)
/// with its name and the rows and columns it reads.
fn check_operands<'a>(
    gpu: &Gpu,
    name: &str,
    a: &Buffer,
    b: &Buffer,
    c: &Buffer,
    s: &MatmulShape,
    epi: &Epilogue<'a>,
) -> Result<Option<(&'a Buffer, &'static str, usize, usize)>, GpuError> {
    check_dims(name, &[s.m, s.k, s.n])?;
    // Both layouts of an operand hold the same number of elements.
    gpu.expect_len(&format!("{name} a"), a, span(name, s.a_off, s.m, s.k)?)?;
    gpu.expect_len(&format!("{name} b"), b, span(name, s.b_off, s.k, s.n)?)?;
    gpu.expect_len(&format!("{name} c"), c, span(name, s.c_off, s.m, s.n)?)?;
    let operand = epi.operand(s);
    if let Some((e, what, rows, cols)) = operand {
        gpu.expect_len(
            &format!("{name} {what}"),
            e,
            span(name, s.bias_off, rows, cols)?,
        )?;
    }
    Ok(operand)
}

/// The `Params` both families start with.
fn params(name: &str, s: &MatmulShape, epi: &Epilogue) -> Result<Params, GpuError> {
    Ok(Params {
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
    })
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
