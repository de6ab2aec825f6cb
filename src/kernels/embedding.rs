//! Launcher for shaders/embedding.wgsl: class embeddings read by label and the projection
//! discriminator's class term, forward and backward. The CPU twins are in `cpu::embedding`.

use super::{check_u32, grid_1d, At, Dispatch, Kernel, ShaderFamily};
use crate::gpu::{Gpu, GpuError};
use crate::ops::{Activation, EmbedSpec};

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    dim: u32,
    classes: u32,
    z_dim: u32,
    table_off: u32,
    y_off: u32,
    x_off: u32,
    out_off: u32,
    dlogit_off: u32,
    h_off: u32,
    act: u32,
    alpha: f32,
}

/// Held against `Params` in embedding.wgsl by tests/launcher_contracts.rs.
pub const PARAMS: super::ParamsLayout = params_layout!(
    "embedding.wgsl",
    Params,
    rows,
    dim,
    classes,
    z_dim,
    table_off,
    y_off,
    x_off,
    out_off,
    dlogit_off,
    h_off,
    act,
    alpha
);

/// Lanes of projection_forward's workgroup, one workgroup per row.
const PROJECTION_WG: usize = 64;

/// The embedding kernels, built once.
pub struct Embedding {
    concat: Kernel,
    backward: Kernel,
    projection: Kernel,
    projection_input: Kernel,
    projection_table: Kernel,
}

/// The operands of one launch, each at its element offset (None: not read by that entry point).
#[derive(Default)]
struct Operands<'a> {
    table: Option<At<'a>>,
    y: Option<At<'a>>,
    x: Option<(At<'a>, usize)>,
    out: Option<(At<'a>, usize)>,
    dlogit: Option<At<'a>>,
    h: Option<At<'a>>,
}

impl Embedding {
    pub fn new(gpu: &Gpu) -> Result<Self, GpuError> {
        let fam = ShaderFamily::new(gpu, "embedding.wgsl", super::shader("embedding.wgsl"))?;
        Ok(Embedding {
            concat: fam.kernel(gpu, "embed_concat")?,
            backward: fam.kernel(gpu, "embed_backward")?,
            projection: fam.kernel(gpu, "projection_forward")?,
            projection_input: fam.kernel(gpu, "projection_backward_input")?,
            projection_table: fam.kernel(gpu, "projection_backward_table")?,
        })
    }

    /// Checks every operand's length (x and out carry theirs), then binds `k` over `grid`.
    fn launch(
        gpu: &Gpu,
        k: &Kernel,
        s: EmbedSpec,
        act: Activation,
        o: Operands,
        grid: [u32; 3],
    ) -> Result<Dispatch, GpuError> {
        if s.rows == 0 || s.classes == 0 || s.dim == 0 {
            return Err(GpuError::Shape(format!(
                "{}: {} rows into a table of {} x {} has nothing to compute",
                k.name, s.rows, s.classes, s.dim
            )));
        }
        let (w, t) = (s.dim + s.z_dim, s.table_len());
        check_u32(k.name, &[s.rows * w, t])?;
        let off = |a: &Option<At>| a.as_ref().map_or(0, |a| a.off);
        let xo = o.x.as_ref().map_or(0, |(a, _)| a.off);
        let oo = o.out.as_ref().map_or(0, |(a, _)| a.off);
        check_u32(
            k.name,
            &[off(&o.table), off(&o.y), xo, oo, off(&o.dlogit), off(&o.h)],
        )?;
        let mut bound: Vec<(&str, &wgpu::Buffer)> = Vec::new();
        let need = |name: &'static str, a: At<'_>, len: usize| -> Result<(), GpuError> {
            gpu.expect_len(&format!("{} {name}", k.name), a.buf, a.off + len)
        };
        if let Some(a) = o.table {
            need("table", a, t)?;
        }
        if let Some(a) = o.y {
            need("y", a, s.rows)?;
        }
        if let Some((a, len)) = o.x {
            need("x", a, len)?;
        }
        if let Some((a, len)) = o.out {
            need("out", a, len)?;
        }
        if let Some(a) = o.dlogit {
            need("dlogit", a, s.rows)?;
        }
        if let Some(a) = o.h {
            need("h", a, s.rows * s.dim)?;
        }
        let p = gpu.uniform(
            k.name,
            &Params {
                rows: s.rows as u32,
                dim: s.dim as u32,
                classes: s.classes as u32,
                z_dim: s.z_dim as u32,
                table_off: off(&o.table) as u32,
                y_off: off(&o.y) as u32,
                x_off: xo as u32,
                out_off: oo as u32,
                dlogit_off: off(&o.dlogit) as u32,
                h_off: off(&o.h) as u32,
                act: act.code(),
                alpha: act.alpha(),
            },
        );
        bound.push(("p", &p));
        for (name, a) in [
            ("table", o.table),
            ("y", o.y),
            ("x", o.x.map(|(a, _)| a)),
            ("out", o.out.map(|(a, _)| a)),
            ("dlogit", o.dlogit),
            ("h", o.h),
        ] {
            if let Some(a) = a {
                bound.push((name, a.buf));
            }
        }
        k.bind(gpu, &bound, grid)
    }

    /// out[r, :] = cat(table[y[r], :], z[r, :]): `rows` rows of dim + z_dim.
    pub fn concat(
        &self,
        gpu: &Gpu,
        s: EmbedSpec,
        table: At,
        y: At,
        z: At,
        out: At,
    ) -> Result<Dispatch, GpuError> {
        let n = s.rows * (s.dim + s.z_dim);
        let o = Operands {
            table: Some(table),
            y: Some(y),
            x: Some((z, s.rows * s.z_dim)),
            out: Some((out, n)),
            ..Default::default()
        };
        Self::launch(
            gpu,
            &self.concat,
            s,
            Activation::Identity,
            o,
            grid_1d(n, 256),
        )
    }

    /// dtable[k, c] = sum over r in order with y[r] = k of dx[r, c] (dx rows of dim + z_dim).
    pub fn backward(
        &self,
        gpu: &Gpu,
        s: EmbedSpec,
        dx: At,
        y: At,
        dtable: At,
    ) -> Result<Dispatch, GpuError> {
        let o = Operands {
            y: Some(y),
            x: Some((dx, s.rows * (s.dim + s.z_dim))),
            out: Some((dtable, s.table_len())),
            ..Default::default()
        };
        let grid = grid_1d(s.table_len(), 256);
        Self::launch(gpu, &self.backward, s, Activation::Identity, o, grid)
    }

    /// logit[r] += <table[y[r]], phi[r]> (s.z_dim must be 0).
    pub fn projection_forward(
        &self,
        gpu: &Gpu,
        s: EmbedSpec,
        table: At,
        y: At,
        phi: At,
        logit: At,
    ) -> Result<Dispatch, GpuError> {
        let o = Operands {
            table: Some(table),
            y: Some(y),
            x: Some((phi, s.rows * s.dim)),
            out: Some((logit, s.rows)),
            ..Default::default()
        };
        let grid = grid_1d(s.rows * PROJECTION_WG, PROJECTION_WG);
        Self::launch(gpu, &self.projection, s, Activation::Identity, o, grid)
    }

    /// dphi[r, c] = (dphi[r, c] + dlogit[r] table[y[r], c]) * act'(h[r, c]), in place.
    #[allow(clippy::too_many_arguments)]
    pub fn projection_backward_input(
        &self,
        gpu: &Gpu,
        s: EmbedSpec,
        act: Activation,
        table: At,
        y: At,
        dlogit: At,
        h: At,
        dphi: At,
    ) -> Result<Dispatch, GpuError> {
        let n = s.rows * s.dim;
        let o = Operands {
            table: Some(table),
            y: Some(y),
            out: Some((dphi, n)),
            dlogit: Some(dlogit),
            h: Some(h),
            ..Default::default()
        };
        Self::launch(gpu, &self.projection_input, s, act, o, grid_1d(n, 256))
    }

    /// dtable[k, c] = sum over r in order with y[r] = k of dlogit[r] phi[r, c].
    pub fn projection_backward_table(
        &self,
        gpu: &Gpu,
        s: EmbedSpec,
        y: At,
        dlogit: At,
        phi: At,
        dtable: At,
    ) -> Result<Dispatch, GpuError> {
        let o = Operands {
            y: Some(y),
            x: Some((phi, s.rows * s.dim)),
            out: Some((dtable, s.table_len())),
            dlogit: Some(dlogit),
            ..Default::default()
        };
        let grid = grid_1d(s.table_len(), 256);
        Self::launch(
            gpu,
            &self.projection_table,
            s,
            Activation::Identity,
            o,
            grid,
        )
    }
}
