//! Launcher for shaders/gather.wgsl.

use super::{grid_1d, Dispatch, Kernel, ShaderFamily};
use crate::gpu::{Gpu, GpuError};

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    data_rows: u32,
    out_off: u32,
}

/// Held against `Params` in gather.wgsl by tests/launcher_contracts.rs.
pub const PARAMS: super::ParamsLayout =
    params_layout!("gather.wgsl", Params, rows, cols, data_rows, out_off);

/// Minibatch gathering: rows of a data set picked by a u32 index buffer.
pub struct Gather {
    rows: Kernel,
    rows_u8: Kernel,
    rows_u32: Kernel,
}

impl Gather {
    pub fn new(gpu: &Gpu) -> Result<Self, GpuError> {
        let fam = ShaderFamily::new(gpu, "gather.wgsl", super::shader("gather.wgsl"))?;
        Ok(Gather {
            rows: fam.kernel(gpu, "gather_rows")?,
            rows_u8: fam.kernel(gpu, "gather_rows_u8")?,
            rows_u32: fam.kernel(gpu, "gather_rows_u32")?,
        })
    }

    /// out[out_off + r * cols + c] = data[min(idx[r], data_rows - 1) * cols + c] for r < rows;
    /// with `packed_u8`, `data` holds the set's bytes four to a u32 word and each is expanded to
    /// [-1, 1] (gather_rows_u8).
    #[allow(clippy::too_many_arguments)]
    pub fn bind(
        &self,
        gpu: &Gpu,
        packed_u8: bool,
        data: &wgpu::Buffer,
        idx: &wgpu::Buffer,
        out: &wgpu::Buffer,
        out_off: usize,
        rows: usize,
        cols: usize,
        data_rows: usize,
    ) -> Result<Dispatch, GpuError> {
        if data_rows == 0 {
            return Err(GpuError::Shape(
                "gather_rows: the data set has no rows to gather from".into(),
            ));
        }
        let n = rows * cols;
        if out_off + n > u32::MAX as usize || data_rows * cols > u32::MAX as usize {
            return Err(GpuError::Shape(format!(
                "gather_rows: {rows} x {cols} from {data_rows} rows does not fit 32-bit indices"
            )));
        }
        let data_len = if packed_u8 {
            (data_rows * cols).div_ceil(4)
        } else {
            data_rows * cols
        };
        gpu.expect_len("gather_rows data", data, data_len)?;
        gpu.expect_len("gather_rows idx", idx, rows)?;
        gpu.expect_len("gather_rows out", out, out_off + n)?;
        let p = gpu.uniform(
            "gather params",
            &Params {
                rows: rows as u32,
                cols: cols as u32,
                data_rows: data_rows as u32,
                out_off: out_off as u32,
            },
        );
        let (kernel, data_name) = if packed_u8 {
            (&self.rows_u8, "data_u8")
        } else {
            (&self.rows, "data")
        };
        kernel.bind(
            gpu,
            &[("p", &p), (data_name, data), ("idx", idx), ("out", out)],
            grid_1d(n, 256),
        )
    }

    /// out[out_off + r * cols + c] = data[min(idx[r], data_rows - 1) * cols + c] on u32 words
    /// (gather_rows_u32: a minibatch's labels, picked with its images' indices).
    #[allow(clippy::too_many_arguments)]
    pub fn bind_u32(
        &self,
        gpu: &Gpu,
        data: &wgpu::Buffer,
        idx: &wgpu::Buffer,
        out: &wgpu::Buffer,
        out_off: usize,
        rows: usize,
        cols: usize,
        data_rows: usize,
    ) -> Result<Dispatch, GpuError> {
        if data_rows == 0 {
            return Err(GpuError::Shape(
                "gather_rows_u32: the data set has no rows to gather from".into(),
            ));
        }
        let n = rows * cols;
        if out_off + n > u32::MAX as usize || data_rows * cols > u32::MAX as usize {
            return Err(GpuError::Shape(format!(
                "gather_rows_u32: {rows} x {cols} from {data_rows} rows does not fit 32-bit indices"
            )));
        }
        gpu.expect_len("gather_rows_u32 data", data, data_rows * cols)?;
        gpu.expect_len("gather_rows_u32 idx", idx, rows)?;
        gpu.expect_len("gather_rows_u32 out", out, out_off + n)?;
        let p = gpu.uniform(
            "gather params",
            &Params {
                rows: rows as u32,
                cols: cols as u32,
                data_rows: data_rows as u32,
                out_off: out_off as u32,
            },
        );
        self.rows_u32.bind(
            gpu,
            &[
                ("p", &p),
                ("data_u32", data),
                ("idx", idx),
                ("out_u32", out),
            ],
            grid_1d(n, 256),
        )
    }
}
