//! The generator on its own: G(z) for given noise on the GPU, a chunk of rows at a time, for
//! `shadergan sample` and `shadergan eval`. The plan is built once; any number of rows streams
//! through it in bounded memory.

use super::schedule::streams;
use crate::gpu::Gpu;
use crate::graph::gpu::GpuPlan;
use crate::graph::network::{Network, NetworkSpec};
use crate::graph::{Graph, TensorId};
use crate::kernels::Dispatch;
use crate::noise::{Noise, PhiloxNoise};

/// Rows generated per dispatch list; the plan is built once for this many and reused.
pub const CHUNK: usize = 4096;

/// G bound to the device for chunks of up to [`CHUNK`] rows.
pub struct Generator<'g> {
    gpu: &'g Gpu,
    z_dim: usize,
    dim: usize,
    param_count: usize,
    plan: GpuPlan,
    z: TensorId,
    out: TensorId,
    full: Vec<Dispatch>,
    net: Network,
}

impl<'g> Generator<'g> {
    /// G with architecture `spec`, weights `params` and batch norms' running statistics
    /// `running` (empty for MLPs), in eval mode.
    pub fn new(
        gpu: &'g Gpu,
        spec: &NetworkSpec,
        params: &[f32],
        running: &[f32],
    ) -> anyhow::Result<Self> {
        let mut g = Graph::default();
        let z_dim = spec.input_len();
        let z = g.f32("z", CHUNK * z_dim);
        let net = spec.tensors(&mut g, "g", params, running, CHUNK)?;
        let plan = GpuPlan::new(gpu, &g)?;
        let full = plan.compile(gpu, &net.forward(z.into(), CHUNK, None, false))?;
        Ok(Generator {
            gpu,
            z_dim,
            dim: spec.output_len()?,
            param_count: params.len(),
            out: net.output_view(None).t,
            plan,
            z,
            full,
            net,
        })
    }

    /// Replaces G's weights and batch norms' running statistics (same architecture), e.g. with
    /// a training run's current ones.
    pub fn set_weights(&self, params: &[f32], running: &[f32]) {
        assert_eq!(
            params.len(),
            self.param_count,
            "Generator::set_weights: weights of another architecture"
        );
        self.plan.write_f32(self.gpu, self.net.params(), params);
        if let Some(r) = self.net.running() {
            self.plan.write_f32(self.gpu, r, running);
        }
    }

    /// G(z) for `z` of at most [`CHUNK`] rows (row-major [rows, z_dim]).
    pub fn run(&self, z: &[f32]) -> anyhow::Result<Vec<f32>> {
        let rows = z.len() / self.z_dim;
        assert!(rows <= CHUNK, "Generator::run takes at most {CHUNK} rows");
        // A shorter last chunk is bound once more (rare: once per call of `generate`).
        let tail;
        let dispatches = if rows == CHUNK {
            &self.full
        } else {
            tail = self.plan.compile(
                self.gpu,
                &self.net.forward(self.z.into(), rows, None, false),
            )?;
            &tail
        };
        self.plan.write_f32(self.gpu, self.z, z);
        self.plan.run(self.gpu, &[dispatches], 1)?;
        let mut y = self.plan.read_f32(self.gpu, self.out)?;
        y.truncate(rows * self.dim);
        Ok(y)
    }

    /// Draws `n` samples from the fixed-noise stream of `seed` (the noise of pictures, evaluation
    /// and `sample`), handing each chunk's (z, x) to `each` in order.
    pub fn sample_stream(
        &self,
        seed: u64,
        n: usize,
        mut each: impl FnMut(&[f32], &[f32]) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut noise = PhiloxNoise::new(seed, streams::EVAL_NOISE);
        let mut done = 0;
        let mut z = Vec::with_capacity(CHUNK * self.z_dim);
        while done < n {
            let rows = (n - done).min(CHUNK);
            z.clear();
            z.extend((0..rows * self.z_dim).map(|_| noise.normal()));
            let x = self.run(&z)?;
            each(&z, &x)?;
            done += rows;
        }
        Ok(())
    }
}

/// Runs G (architecture `spec`, weights `params`, running statistics `running`) on `z`
/// (row-major [n, input]).
pub fn generate(
    gpu: &Gpu,
    spec: &NetworkSpec,
    params: &[f32],
    running: &[f32],
    z: &[f32],
) -> anyhow::Result<Vec<f32>> {
    let g = Generator::new(gpu, spec, params, running)?;
    let mut out = Vec::with_capacity(z.len() / g.z_dim * g.dim);
    for chunk in z.chunks(CHUNK * g.z_dim) {
        out.extend(g.run(chunk)?);
    }
    Ok(out)
}
