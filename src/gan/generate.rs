//! The generator on its own: G(z) for given noise on the GPU, in chunks, for `shadergan sample`
//! and `shadergan eval`.

use crate::gpu::Gpu;
use crate::graph::gpu::GpuPlan;
use crate::graph::net::{NetSpec, NetTensors};
use crate::graph::Graph;

/// Rows generated per dispatch list; the plan is built once for this many and reused.
const CHUNK: usize = 4096;

/// Runs G (architecture `spec`, weights `params`) on `z` (row-major [n, spec.input]).
pub fn generate(gpu: &Gpu, spec: &NetSpec, params: &[f32], z: &[f32]) -> anyhow::Result<Vec<f32>> {
    let n = z.len() / spec.input;
    let rows = n.clamp(1, CHUNK);
    let mut g = Graph::default();
    let zt = g.f32("z", rows * spec.input);
    let net = NetTensors::new(&mut g, "g", spec, params, rows);
    let plan = GpuPlan::new(gpu, &g)?;
    let out_t = net.output_view(None).t;
    let dim = spec.output();
    let mut out = Vec::with_capacity(n * dim);
    // Bound once for full chunks, and once more for a shorter last chunk.
    let full = plan.compile(gpu, &net.forward(zt.into(), rows, None))?;
    let mut start = 0;
    while start < n {
        let r = (n - start).min(rows);
        let tail;
        let dispatches = if r == rows {
            &full
        } else {
            tail = plan.compile(gpu, &net.forward(zt.into(), r, None))?;
            &tail
        };
        plan.write_f32(gpu, zt, &z[start * spec.input..(start + r) * spec.input]);
        plan.run(gpu, &[dispatches], 1)?;
        let y = plan.read_f32(gpu, out_t)?;
        out.extend_from_slice(&y[..r * dim]);
        start += r;
    }
    Ok(out)
}
