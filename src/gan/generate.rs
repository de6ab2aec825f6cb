//! A trained network on its own, a chunk of rows at a time on the GPU: G(z) for `shadergan
//! sample` and `shadergan eval` ([`Generator`]), and D's logits for discriminator rejection
//! sampling (`super::drs`), both through [`Forward`]. The plan is built once; any number of rows
//! streams through it in bounded memory.

use super::state::streams;
use crate::gpu::Gpu;
use crate::graph::gpu::GpuPlan;
use crate::graph::network::{Network, NetworkSpec};
use crate::graph::{Graph, TensorId};
use crate::kernels::Dispatch;
use crate::noise::{Noise, PhiloxNoise};

/// Rows generated per dispatch list at most; the plan is built once for a chunk and reused.
pub const CHUNK: usize = 4096;

/// A network (G or D) bound to the device in eval mode for chunks of up to [`CHUNK`] rows (fewer
/// where a layer's activations for that many would not fit one storage buffer, e.g. a 28 x 28
/// DCGAN on lavapipe).
pub struct Forward<'g> {
    gpu: &'g Gpu,
    /// Rows per chunk.
    chunk: usize,
    /// Values per input row (G: z_dim) and per output row (G: the data's dimension; D: 1).
    z_dim: usize,
    dim: usize,
    param_count: usize,
    plan: GpuPlan,
    z: TensorId,
    out: TensorId,
    full: Vec<Dispatch>,
    net: Network,
}

impl<'g> Forward<'g> {
    /// The network with architecture `spec`, weights `params` and batch norms' running
    /// statistics `running` (empty for MLPs), in eval mode.
    pub fn new(
        gpu: &'g Gpu,
        spec: &NetworkSpec,
        params: &[f32],
        running: &[f32],
    ) -> anyhow::Result<Self> {
        let mut g = Graph::default();
        let z_dim = spec.input_len();
        let widest = (spec.layer_widths()?.into_iter())
            .chain([z_dim])
            .max()
            .unwrap_or(1);
        let fit = gpu.max_storage_bytes() / (widest as u64 * 4);
        let chunk = (fit as usize).clamp(1, CHUNK);
        let z = g.f32("input", chunk * z_dim);
        // The weights with a forward-only workspace (no gradients; bounded convolution scratch).
        let net = spec
            .tensors(&mut g, "net", params, running, 1)?
            .with_workspace(&mut g, "net_eval", chunk);
        let plan = GpuPlan::new(gpu, &g)?;
        let full = plan.compile_few_runs(gpu, &net.forward(z.into(), chunk, None, false))?;
        Ok(Forward {
            gpu,
            chunk,
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
            "Forward::set_weights: weights of another architecture"
        );
        self.plan.write_f32(self.gpu, self.net.params(), params);
        if let Some(r) = self.net.running() {
            self.plan.write_f32(self.gpu, r, running);
        }
    }

    /// Rows per call of [`Self::run`] at most.
    pub fn chunk(&self) -> usize {
        self.chunk
    }

    /// Values per input row.
    pub fn input_len(&self) -> usize {
        self.z_dim
    }

    /// The network on `z`, at most [`Self::chunk`] rows (row-major [rows, input_len]).
    pub fn run(&self, z: &[f32]) -> anyhow::Result<Vec<f32>> {
        let rows = z.len() / self.z_dim;
        let chunk = self.chunk;
        assert!(rows <= chunk, "Forward::run takes at most {chunk} rows");
        // A shorter last chunk is bound once more (rare: once per call of `generate`).
        let tail;
        let dispatches = if rows == chunk {
            &self.full
        } else {
            tail = self.plan.compile_few_runs(
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
}

/// G bound to the device: a [`Forward`] that also draws its own noise, and for a conditional
/// run builds its input rows cat(E_G[y], z) from its class-embedding table on the host (the table
/// is a few hundred values; the rows go to the device with the noise, as z alone would).
pub struct Generator<'g> {
    net: Forward<'g>,
    labels: Option<LabelTable>,
}

/// A conditional G's class embedding: `classes` rows of `dim` values.
struct LabelTable {
    table: std::cell::RefCell<Vec<f32>>,
    classes: usize,
    dim: usize,
}

impl<'g> std::ops::Deref for Generator<'g> {
    type Target = Forward<'g>;
    fn deref(&self) -> &Forward<'g> {
        &self.net
    }
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
        Ok(Generator {
            net: Forward::new(gpu, spec, params, running)?,
            labels: None,
        })
    }

    /// The generator of a run configured by `cfg` on rows of `data_dim` values: a conditional
    /// run's `params` end with its class embedding (see `super::conditional`).
    pub fn for_run(
        gpu: &'g Gpu,
        cfg: &super::config::TrainConfig,
        data_dim: usize,
        params: &[f32],
        running: &[f32],
    ) -> anyhow::Result<Self> {
        let spec = cfg.g_network(data_dim)?;
        let Some(c) = cfg.conditioning(data_dim)? else {
            return Self::new(gpu, &spec, params, running);
        };
        let own = spec.param_count()?;
        anyhow::ensure!(
            params.len() == own + c.g_table_len(),
            "a conditional G has {own} weights and a {} x {} class embedding, not {} values",
            c.classes,
            c.g_dim,
            params.len()
        );
        Ok(Generator {
            net: Forward::new(gpu, &spec, &params[..own], running)?,
            labels: Some(LabelTable {
                table: std::cell::RefCell::new(params[own..].to_vec()),
                classes: c.classes,
                dim: c.g_dim,
            }),
        })
    }

    /// The classes a conditional G draws (None for an unconditional one).
    pub fn classes(&self) -> Option<usize> {
        self.labels.as_ref().map(|l| l.classes)
    }

    /// Values of noise per sample.
    pub fn z_dim(&self) -> usize {
        self.net.z_dim - self.labels.as_ref().map_or(0, |l| l.dim)
    }

    /// Replaces G's weights (with a conditional G's class embedding after them) and running
    /// statistics (same architecture), e.g. with a training run's current ones.
    pub fn set_weights(&self, params: &[f32], running: &[f32]) {
        match &self.labels {
            None => self.net.set_weights(params, running),
            Some(l) => {
                let own = self.net.param_count;
                self.net.set_weights(&params[..own], running);
                l.table.borrow_mut().copy_from_slice(&params[own..]);
            }
        }
    }

    /// Draws `n` samples from the fixed-noise stream of `seed` (the noise of pictures, evaluation
    /// and `sample`), handing each chunk's (z, x) to `each` in order. A conditional G draws the
    /// classes in turn (sample i of class i mod classes).
    pub fn sample_stream(
        &self,
        seed: u64,
        n: usize,
        mut each: impl FnMut(&[f32], &[f32]) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let noise = PhiloxNoise::new(seed, streams::EVAL_NOISE);
        self.stream(noise, n, None, |z, _, x| each(z, x))
    }

    /// [`Self::sample_stream`] with sample i of class `label(i)` (a conditional G only), handing
    /// each chunk's (z, y, x) to `each`.
    pub fn sample_labeled(
        &self,
        seed: u64,
        n: usize,
        label: &dyn Fn(usize) -> u32,
        each: impl FnMut(&[f32], &[u32], &[f32]) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.labels.is_some(),
            "this generator was not trained with classes (train with --conditional)"
        );
        let noise = PhiloxNoise::new(seed, streams::EVAL_NOISE);
        self.stream(noise, n, Some(label), each)
    }

    /// Draws `n` samples from `noise`, handing each chunk's (z, x) to `each` in order.
    pub fn stream_from(
        &self,
        noise: PhiloxNoise,
        n: usize,
        mut each: impl FnMut(&[f32], &[f32]) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.stream(noise, n, None, |z, _, x| each(z, x))
    }

    /// The samples of `noise`, of classes `label(i)` (default: in turn) for a conditional G.
    fn stream(
        &self,
        mut noise: PhiloxNoise,
        n: usize,
        label: Option<&dyn Fn(usize) -> u32>,
        mut each: impl FnMut(&[f32], &[u32], &[f32]) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let (chunk, z_dim) = (self.net.chunk, self.z_dim());
        let mut done = 0;
        let mut z = Vec::with_capacity(chunk * z_dim);
        let (mut y, mut input) = (Vec::new(), Vec::new());
        while done < n {
            let rows = (n - done).min(chunk);
            z.clear();
            z.extend((0..rows * z_dim).map(|_| noise.normal()));
            let x = match &self.labels {
                None => self.net.run(&z)?,
                Some(l) => {
                    y.clear();
                    y.extend((done..done + rows).map(|i| match label {
                        Some(f) => f(i),
                        None => (i % l.classes) as u32,
                    }));
                    if let Some(bad) = y.iter().find(|&&k| k as usize >= l.classes) {
                        anyhow::bail!("class {bad} is not one of the run's {}", l.classes);
                    }
                    let s = crate::ops::EmbedSpec {
                        rows,
                        classes: l.classes,
                        dim: l.dim,
                        z_dim,
                    };
                    input.resize(rows * (l.dim + z_dim), 0.0);
                    let table = l.table.borrow();
                    crate::cpu::embedding::embed_concat(&s, &table, &y, &z, &mut input);
                    self.net.run(&input)?
                }
            };
            each(&z, &y, &x)?;
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
    for chunk in z.chunks(g.chunk * g.z_dim) {
        out.extend(g.run(chunk)?);
    }
    Ok(out)
}
