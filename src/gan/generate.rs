//! The generator on its own: G(z) for given noise on the GPU, a chunk of rows at a time, for
//! `shadergan sample` and `shadergan eval`. The plan is built once; any number of rows streams
//! through it in bounded memory.

use super::schedule::streams;
use crate::gpu::Gpu;
use crate::graph::gpu::GpuPlan;
use crate::graph::net::{NetSpec, NetTensors};
use crate::graph::{Graph, TensorId};
use crate::kernels::Dispatch;
use crate::noise::{Noise, PhiloxNoise};

/// Rows generated per dispatch list; the plan is built once for this many and reused.
pub const CHUNK: usize = 4096;

/// G bound to the device for chunks of up to [`CHUNK`] rows.
pub struct Generator<'g> {
    gpu: &'g Gpu,
    spec: NetSpec,
    plan: GpuPlan,
    z: TensorId,
    out: TensorId,
    full: Vec<Dispatch>,
    net: NetTensors,
}

impl<'g> Generator<'g> {
    /// G with architecture `spec` and weights `params`.
    pub fn new(gpu: &'g Gpu, spec: &NetSpec, params: &[f32]) -> anyhow::Result<Self> {
        let mut g = Graph::default();
        let z = g.f32("z", CHUNK * spec.input);
        let net = NetTensors::new(&mut g, "g", spec, params, CHUNK);
        let plan = GpuPlan::new(gpu, &g)?;
        let full = plan.compile(gpu, &net.forward(z.into(), CHUNK, None))?;
        Ok(Generator {
            gpu,
            spec: spec.clone(),
            out: net.output_view(None).t,
            plan,
            z,
            full,
            net,
        })
    }

    /// Replaces G's weights (same architecture), e.g. with a training run's current ones.
    pub fn set_params(&self, params: &[f32]) {
        assert_eq!(
            params.len(),
            self.spec.param_count(),
            "Generator::set_params: weights of another architecture"
        );
        self.plan.write_f32(self.gpu, self.net.params, params);
    }

    /// G(z) for `z` of at most [`CHUNK`] rows (row-major [rows, spec.input]).
    pub fn run(&self, z: &[f32]) -> anyhow::Result<Vec<f32>> {
        let rows = z.len() / self.spec.input;
        assert!(rows <= CHUNK, "Generator::run takes at most {CHUNK} rows");
        // A shorter last chunk is bound once more (rare: once per call of `generate`).
        let tail;
        let dispatches = if rows == CHUNK {
            &self.full
        } else {
            tail = self
                .plan
                .compile(self.gpu, &self.net.forward(self.z.into(), rows, None))?;
            &tail
        };
        self.plan.write_f32(self.gpu, self.z, z);
        self.plan.run(self.gpu, &[dispatches], 1)?;
        let mut y = self.plan.read_f32(self.gpu, self.out)?;
        y.truncate(rows * self.spec.output());
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
        let mut z = Vec::with_capacity(CHUNK * self.spec.input);
        while done < n {
            let rows = (n - done).min(CHUNK);
            z.clear();
            z.extend((0..rows * self.spec.input).map(|_| noise.normal()));
            let x = self.run(&z)?;
            each(&z, &x)?;
            done += rows;
        }
        Ok(())
    }
}

/// Runs G (architecture `spec`, weights `params`) on `z` (row-major [n, spec.input]).
pub fn generate(gpu: &Gpu, spec: &NetSpec, params: &[f32], z: &[f32]) -> anyhow::Result<Vec<f32>> {
    let g = Generator::new(gpu, spec, params)?;
    let mut out = Vec::with_capacity(z.len() / spec.input * spec.output());
    for chunk in z.chunks(CHUNK * spec.input) {
        out.extend(g.run(chunk)?);
    }
    Ok(out)
}
