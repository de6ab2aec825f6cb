//! D trained alone against a frozen linear generator on the GPU: the schedule's `d_step` (the
//! very ops `train` runs for each of Algorithm 1's k discriminator steps: a minibatch of data, G
//! on fresh noise, D on both, BCE, backward, Adam) replayed with G's weights never stepped, so
//! P_G = N(b, a^2) stays known in closed form while D approaches D*.

use super::density::{self, Density, Gap, LinearG};
use crate::data::Dataset;
use crate::gan::config::TrainConfig;
use crate::gan::schedule::{GanGraph, GanInputs};
use crate::gan::state::{TrainState, METRICS_LEN, M_D_LOSS};
use crate::gan::trainer::load_data;
use crate::gpu::Gpu;
use crate::graph::gpu::GpuPlan;
use crate::graph::Op;
use crate::kernels::Dispatch;

/// How D is trained against a frozen G.
#[derive(Clone, Debug, PartialEq)]
pub struct DSetup {
    /// A `gauss1d` spec: P_data.
    pub dataset: String,
    pub g: LinearG,
    pub d_hidden: Vec<usize>,
    /// Real and generated rows per D step.
    pub batch: usize,
    /// Adam's learning rate, decaying linearly to 1% over `max_steps`.
    pub lr: f32,
    pub max_steps: u64,
    /// D steps between read-backs of D's loss and curve.
    pub chunk: u64,
    /// D has stopped improving once V(G, D) by quadrature has not risen by `tol` nats over
    /// `patience` chunks in a row.
    pub tol: f64,
    pub patience: usize,
    pub seed: u64,
}

impl DSetup {
    /// The defaults the demonstrations use (measured in docs/theory.md): D with two hidden layers
    /// of 64 (leaky ReLU 0.2, as `train`'s), 512 real and 512 generated rows a step, Adam at
    /// 2e-3 with betas (0.5, 0.999) decaying to 1% over 4,000 steps, read back every 250 steps,
    /// stopped once 4 chunks in a row gain less than 1e-3 nats over the best V so far.
    pub fn new(dataset: &str, g: LinearG, seed: u64) -> DSetup {
        DSetup {
            dataset: dataset.to_string(),
            g,
            d_hidden: vec![64, 64],
            batch: 512,
            lr: 2e-3,
            max_steps: 4000,
            chunk: 250,
            tol: 1e-3,
            patience: 4,
            seed,
        }
    }

    /// The run configuration the schedule builds from: G an MLP with no hidden layer (z_dim 1,
    /// identity output), k = 1.
    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            dataset: self.dataset.clone(),
            iterations: self.max_steps.max(1),
            batch: self.batch,
            z_dim: 1,
            g_hidden: Vec::new(),
            g_out: "identity".into(),
            d_hidden: self.d_hidden.clone(),
            d_steps: 1,
            lr_d: self.lr,
            lr_g: self.lr,
            lr_decay_iters: self.max_steps,
            lr_final_frac: 0.01,
            drs: 0.0,
            seed: self.seed,
            log_every: self.chunk.max(1),
            ..TrainConfig::defaults_for(&self.dataset)
        }
    }
}

/// Probe points over the densities' range: D's curve, its V by quadrature and its gap to D*.
pub const PROBE_POINTS: usize = 1001;

/// The CPU side of a frozen-G run: the schedule's graph for it, the closed-form densities and the
/// probe points. Callers may add tensors to `gan.graph` and ops of their own before binding.
pub struct FrozenGraph {
    pub setup: DSetup,
    pub gan: GanGraph,
    pub p: Density,
    pub q: Density,
    pub xs: Vec<f64>,
}

impl FrozenGraph {
    pub fn build(setup: &DSetup) -> anyhow::Result<FrozenGraph> {
        let cfg = setup.config();
        cfg.validate()?;
        let ds = Dataset::parse(&setup.dataset)?;
        let Some(mixture) = ds.mixture().filter(|_| ds.dim() == 1) else {
            anyhow::bail!(
                "the theory demonstrations need a 1-D mixture with known densities \
                 (gauss1d:centres=...,std=...), got {}",
                setup.dataset
            );
        };
        anyhow::ensure!(
            setup.g.a.is_finite() && setup.g.b.is_finite() && setup.g.a != 0.0,
            "G(z) = a z + b needs a finite, non-zero a and a finite b, got a = {}, b = {}",
            setup.g.a,
            setup.g.b
        );
        anyhow::ensure!(
            setup.chunk > 0 && setup.max_steps > 0 && setup.patience > 0,
            "D's training needs at least one step, one step a chunk and a patience of one chunk"
        );
        let (p, q) = (Density::of_mixture(&mixture)?, setup.g.density());
        let (lo, hi) = density::joint_range(&p, &q);
        let xs = density::grid(lo, hi, PROBE_POINTS);
        let probe: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
        let data = load_data(&cfg, &ds, u64::MAX)?;
        let mut state = TrainState::fresh(&cfg, &cfg.g_network(1)?, &cfg.d_network(1)?)?;
        state.g_params = setup.g.params();
        let gan = GanGraph::build(
            &cfg,
            &GanInputs {
                data: data.device(),
                dim: 1,
                state: &state,
                probe: &probe,
                eval_rows: 1,
                labels: &[],
                eval_labels: &[],
            },
        )?;
        Ok(FrozenGraph {
            setup: setup.clone(),
            gan,
            p,
            q,
            xs,
        })
    }
}

/// One read-back while D trains.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DProgress {
    /// D steps so far.
    pub steps: u64,
    /// V(G, D) as D's own loss measures it: minus the mean of L_D over the chunk's steps, each
    /// on a fresh minibatch (what metrics.csv's JSD estimate is made of).
    pub v_loss: f64,
    /// V(G, D) by quadrature of D's curve against the closed-form densities.
    pub v_quad: f64,
    pub gap: Gap,
}

/// A frozen-G run bound to the GPU.
pub struct FrozenG<'g> {
    gpu: &'g Gpu,
    pub graph: FrozenGraph,
    pub plan: GpuPlan,
    step: Vec<Dispatch>,
    snapshot: Vec<Dispatch>,
    extra: Vec<Dispatch>,
    pub steps_done: u64,
}

impl<'g> FrozenG<'g> {
    /// Binds the graph and `extra` ops of the caller's (run by [`FrozenG::run_extra`]).
    pub fn new(gpu: &'g Gpu, graph: FrozenGraph, extra: &[Op]) -> anyhow::Result<FrozenG<'g>> {
        let cfg = graph.setup.config();
        let data_bytes = (cfg.data_size as u64).saturating_mul(4);
        crate::gan::trainer::check_fits(gpu, &cfg, 1, data_bytes)?;
        let plan = GpuPlan::new(gpu, &graph.gan.graph)?;
        Ok(FrozenG {
            step: plan.compile(gpu, &graph.gan.d_step)?,
            snapshot: plan.compile_few_runs(gpu, &graph.gan.snapshot)?,
            extra: plan.compile(gpu, extra)?,
            plan,
            gpu,
            graph,
            steps_done: 0,
        })
    }

    /// Runs `n` D steps and returns D's mean loss over them.
    pub fn steps(&mut self, n: u64) -> anyhow::Result<f64> {
        let metrics = self.graph.gan.metrics;
        self.plan.write_f32(self.gpu, metrics, &[0.0; METRICS_LEN]);
        // At most 500 steps per submit: the recorded commands are held until submitted.
        let mut left = n;
        while left > 0 {
            let now = left.min(500);
            GpuPlan::submit(self.gpu, &[&self.step], now as usize)?;
            left -= now;
        }
        self.gpu.wait()?;
        self.steps_done += n;
        let m = self.plan.read_f32(self.gpu, metrics)?;
        Ok(m[M_D_LOSS] as f64 / n.max(1) as f64)
    }

    /// D's logits at the probe points `graph.xs`.
    pub fn logits(&self) -> anyhow::Result<Vec<f32>> {
        self.plan.run(self.gpu, &[&self.snapshot], 1)?;
        let l = self
            .plan
            .read_f32(self.gpu, self.graph.gan.probe_d.output_view(None).t)?;
        anyhow::ensure!(
            l.iter().all(|v| v.is_finite()),
            "D's output is no longer a finite number after {} steps; try a lower learning rate",
            self.steps_done
        );
        Ok(l)
    }

    /// Runs the caller's extra ops once.
    pub fn run_extra(&self) -> anyhow::Result<()> {
        Ok(self.plan.run(self.gpu, &[&self.extra], 1)?)
    }

    /// `n` D steps, then D's loss, V by quadrature and gap to D*.
    pub fn chunk(&mut self, n: u64) -> anyhow::Result<DProgress> {
        let loss = self.steps(n)?;
        let logits = self.logits()?;
        let g = &self.graph;
        Ok(DProgress {
            steps: self.steps_done,
            v_loss: -loss,
            v_quad: density::value_on_grid(&g.p, &g.q, &g.xs, &logits),
            gap: density::gap(&g.p, &g.q, &g.xs, &logits),
        })
    }

    /// Trains D until it stops improving (see [`DSetup::tol`]) or for `max_steps`; the history
    /// of read-backs.
    pub fn train_to_plateau(&mut self) -> anyhow::Result<Vec<DProgress>> {
        let s = self.graph.setup.clone();
        let (mut history, mut best, mut stale) = (Vec::new(), f64::NEG_INFINITY, 0);
        while self.steps_done < s.max_steps {
            let row = self.chunk(s.chunk.min(s.max_steps - self.steps_done))?;
            history.push(row);
            if row.v_quad > best + s.tol {
                (best, stale) = (row.v_quad, 0);
            } else {
                stale += 1;
                if stale >= s.patience {
                    break;
                }
            }
        }
        Ok(history)
    }
}
