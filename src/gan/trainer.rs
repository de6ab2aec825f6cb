//! The device side of a run: the GAN's graph bound to the GPU once, then "submit N iterations"
//! and, once per logging interval, "observe" (metrics, a snapshot of G and D, the weights). It
//! writes no file: the run directory (`crate::run`) records what it observes.

use super::conditional::rows_per_class;
use super::config::{Arch, TrainConfig};
use super::metrics::MetricsRow;
use super::schedule::{DataRef, GanGraph, GanInputs};
use super::state::{self, TrainState};
use crate::data::Dataset;
use crate::gpu::Gpu;
use crate::graph::gpu::GpuPlan;
use crate::noise::PhiloxNoise;

/// Rows of fixed noise used for pictures and the final evaluation (the evaluation's 2,500).
pub const EVAL_ROWS: usize = 2500;
/// Heat-map resolution for 2-D data, and probe points for 1-D data.
pub const HEAT_N: usize = 64;
pub const PROBE_1D: usize = 256;
/// Images in each sample grid (8 x 8), from fixed noise.
pub const GRID_IMAGES: usize = 64;
/// Columns of a sample grid; a conditional run's grid has one row of them per class, for at most
/// [`PICTURE_CLASSES`] classes (the first ones).
pub const GRID_COLUMNS: usize = 8;
pub const PICTURE_CLASSES: usize = 16;

/// The rows a run trains on.
pub struct TrainData {
    /// Toy data sets: row-major [n, dim] (empty for images).
    pub rows: Vec<f32>,
    /// Image data sets: row-major [n, dim] bytes, 0 -> -1 and 255 -> 1 (the 8 bits an image
    /// has; the device keeps them so and the gather expands them).
    pub bytes: Vec<u8>,
    pub dim: usize,
    /// Image data: width, height, channels.
    pub image: Option<[usize; 3]>,
    /// Conditional runs: each row's class (empty otherwise), and the number of classes.
    pub labels: Vec<u32>,
    pub classes: usize,
}

impl TrainData {
    /// The values as the device holds them.
    pub fn device(&self) -> DataRef<'_> {
        match self.image {
            Some(_) => DataRef::U8(&self.bytes),
            None => DataRef::F32(&self.rows),
        }
    }
}

/// Loads an image data set (at most `max_bytes` on the device: one byte a value), or draws
/// `data_size` points from a parametric one (seeded).
pub fn load_data(cfg: &TrainConfig, ds: &Dataset, max_bytes: u64) -> anyhow::Result<TrainData> {
    if ds.is_image() {
        // The loaders' limit counts f32 values; the device holds bytes.
        let limit = max_bytes.saturating_mul(4);
        let (set, labels, classes) = if cfg.conditional {
            let l = ds.load_conditional(cfg.image_size, cfg.channels, limit)?;
            (l.images, l.labels, l.classes)
        } else {
            (
                ds.load_images(cfg.image_size, cfg.channels, limit)?,
                Vec::new(),
                0,
            )
        };
        let (image, dim) = ([set.width, set.height, set.channels], set.dim());
        // Convolutions read NCHW rows; the data sets and pictures keep HWC.
        let rows = match cfg.arch {
            Arch::Dcgan => super::dcgan::hwc_to_chw(&set.pixels, image),
            Arch::Mlp => set.pixels,
        };
        let bytes = rows
            .iter()
            .map(|v| ((v + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8)
            .collect();
        return Ok(TrainData {
            dim,
            image: Some(image),
            rows: Vec::new(),
            bytes,
            labels,
            classes,
        });
    }
    let rows = ds.sample(
        cfg.data_size,
        &mut PhiloxNoise::new(cfg.seed, state::streams::DATA),
    );
    Ok(TrainData {
        rows,
        bytes: Vec::new(),
        dim: ds.dim(),
        image: None,
        labels: Vec::new(),
        classes: 0,
    })
}

/// The visual probe: grid points for a 2-D heat map, a line of points for 1-D data, none for
/// images.
fn probe_points(ds: &Dataset) -> Vec<f32> {
    let b = ds.bounds();
    if ds.is_image() {
        Vec::new()
    } else if ds.dim() == 2 {
        crate::viz::Heatmap::grid_points(HEAT_N, HEAT_N, [b[0].0, b[0].1, b[1].0, b[1].1])
            .into_iter()
            .flatten()
            .collect()
    } else {
        (0..PROBE_1D)
            .map(|i| b[0].0 + (b[0].1 - b[0].0) * i as f32 / (PROBE_1D - 1) as f32)
            .collect()
    }
}

/// Fails before anything is allocated when a network's parameters, a layer's activations or
/// the data set (`data_bytes` on the device) would not fit one storage buffer of the device
/// (both sizes in the message).
pub fn check_fits(gpu: &Gpu, cfg: &TrainConfig, dim: usize, data_bytes: u64) -> anyhow::Result<()> {
    // The rows of the largest workspace: D's batch, the evaluation noise, the heat-map probe;
    // for images the 64-image grid (sample and eval chunk to what fits, see Generator).
    let is_image = crate::data::Dataset::parse(&cfg.dataset).is_ok_and(|d| d.is_image());
    let rows = if is_image {
        (2 * cfg.batch).max(GRID_IMAGES).max(picture_rows(cfg))
    } else {
        (2 * cfg.batch).max(EVAL_ROWS).max(HEAT_N * HEAT_N)
    };
    for (name, spec) in [("G", cfg.g_network(dim)?), ("D", cfg.d_network(dim)?)] {
        gpu.check_size(
            &format!("{name} parameters"),
            spec.param_count()? as u64 * 4,
        )?;
        for (i, w) in spec.layer_widths()?.into_iter().enumerate() {
            gpu.check_size(
                &format!("{name} layer {i} activations ({rows} rows x {w})"),
                rows as u64 * w as u64 * 4,
            )?;
        }
    }
    gpu.check_size("data set", data_bytes)?;
    Ok(())
}

/// The rows of a conditional run's sample grid: [`GRID_COLUMNS`] of each of its first classes
/// (0 for other runs).
pub fn picture_rows(cfg: &TrainConfig) -> usize {
    match cfg.conditional {
        true => GRID_COLUMNS * cfg.classes.min(PICTURE_CLASSES),
        false => 0,
    }
}

/// What G and D look like at one moment, on fixed inputs.
pub struct Snapshot {
    /// G on the fixed evaluation noise, row-major [rows, dim].
    pub samples: Vec<f32>,
    /// sigmoid(D) on the probe points (a 2-D grid or a 1-D line; none for images).
    pub d: Vec<f32>,
}

/// G's last step as its generated points felt it: where each point was (clean of instance
/// noise) and minus the gradient of G's loss with respect to it, the way the step pushed it.
pub struct GPush {
    /// Row-major [rows, dim].
    pub at: Vec<f32>,
    /// -dL_G/dx~ at each point, row-major [rows, dim]; L_G is the batch's mean loss.
    pub push: Vec<f32>,
}

/// A run in progress: the device plan and where its files go.
pub struct Trainer<'g> {
    gpu: &'g Gpu,
    pub cfg: TrainConfig,
    pub dataset: Dataset,
    pub gan: GanGraph,
    pub plan: GpuPlan,
    iteration: Vec<crate::kernels::Dispatch>,
    snapshot: Vec<crate::kernels::Dispatch>,
    pub data: TrainData,
    pub probe: Vec<f32>,
}

impl<'g> Trainer<'g> {
    /// Builds the graph and binds every dispatch (the only place that allocates).
    /// A conditional run's configuration comes back with `classes` set from the data set.
    pub fn new(gpu: &'g Gpu, cfg: &TrainConfig, state: Option<TrainState>) -> anyhow::Result<Self> {
        cfg.validate()?;
        let mut cfg = cfg.clone();
        let dataset = Dataset::parse(&cfg.dataset)?;
        // Toy sets are checked before they are drawn, so an impossible size fails fast; image
        // sets only know their size once loaded.
        if !dataset.is_image() {
            let bytes = (cfg.data_size as u64).saturating_mul(dataset.dim() as u64 * 4);
            check_fits(gpu, &cfg, dataset.dim(), bytes)?;
        }
        let data = load_data(&cfg, &dataset, gpu.max_storage_bytes())?;
        let dim = data.dim;
        if cfg.conditional {
            anyhow::ensure!(
                cfg.classes == 0 || cfg.classes == data.classes,
                "the run has {} classes but {} has {}; a resumed run needs the data set it \
                 started with",
                cfg.classes,
                cfg.dataset,
                data.classes
            );
            cfg.classes = data.classes;
        }
        let cfg = &cfg;
        if dataset.is_image() {
            check_fits(gpu, cfg, dim, data.bytes.len() as u64)?;
        }
        let state = match state {
            Some(s) => s,
            None => TrainState::fresh(cfg, &cfg.g_network(dim)?, &cfg.d_network(dim)?)?,
        };
        let probe = probe_points(&dataset);
        let eval_rows = match (dataset.is_image(), cfg.conditional) {
            (true, true) => picture_rows(cfg),
            (true, false) => GRID_IMAGES,
            (false, _) => EVAL_ROWS,
        };
        let eval_labels = match cfg.conditional {
            true => rows_per_class(eval_rows, GRID_COLUMNS, cfg.classes),
            false => Vec::new(),
        };
        let gan = GanGraph::build(
            cfg,
            &GanInputs {
                data: data.device(),
                dim,
                state: &state,
                probe: &probe,
                eval_rows,
                labels: &data.labels,
                eval_labels: &eval_labels,
            },
        )?;
        let plan = GpuPlan::new(gpu, &gan.graph)?;
        let iteration = plan.compile(gpu, &gan.iteration)?;
        let snapshot = plan.compile_few_runs(gpu, &gan.snapshot)?;
        Ok(Trainer {
            gpu,
            cfg: cfg.clone(),
            dataset,
            gan,
            plan,
            iteration,
            snapshot,
            data,
            probe,
        })
    }

    /// Records and submits `n` iterations without waiting.
    pub fn submit(&self, n: u64) -> anyhow::Result<()> {
        Ok(GpuPlan::submit(self.gpu, &[&self.iteration], n as usize)?)
    }

    /// Reads the summed metrics, zeroes them, and turns them into means over `iters`.
    pub fn take_metrics(
        &self,
        iteration: u64,
        iters: u64,
        secs: f64,
    ) -> anyhow::Result<MetricsRow> {
        let m = self.plan.read_f32(self.gpu, self.gan.metrics)?;
        self.plan
            .write_f32(self.gpu, self.gan.metrics, &[0.0; state::METRICS_LEN]);
        Ok(MetricsRow::from_sums(
            &m,
            iteration,
            iters,
            self.cfg.d_steps,
            self.cfg.loss == crate::gan::config::Loss::Bce,
            secs,
        ))
    }

    /// The iteration the device's counters say the run is at.
    pub fn iteration(&self) -> anyhow::Result<u64> {
        let c = self.plan.read_u32(self.gpu, self.gan.state)?;
        Ok(c[0] as u64 | (c[1] as u64) << 32)
    }

    /// The current weights, moments and counters (for checkpoints and tests).
    pub fn state(&self) -> anyhow::Result<TrainState> {
        let (p, g) = (&self.plan, self.gpu);
        let (gn, dn) = (&self.gan.g, &self.gan.d);
        let running = |n: &crate::graph::network::Network| -> anyhow::Result<Vec<f32>> {
            Ok(match n.running() {
                Some(t) => p.read_f32(g, t)?,
                None => Vec::new(),
            })
        };
        Ok(TrainState {
            g_params: p.read_f32(g, gn.params())?,
            d_params: p.read_f32(g, dn.params())?,
            g_adam_m: p.read_f32(g, gn.adam_m())?,
            g_adam_v: p.read_f32(g, gn.adam_v())?,
            d_adam_m: p.read_f32(g, dn.adam_m())?,
            d_adam_v: p.read_f32(g, dn.adam_v())?,
            counters: p.read_u32(g, self.gan.state)?,
            g_running: running(gn)?,
            d_running: running(dn)?,
            g_ema: match self.gan.g_ema {
                Some(t) => p.read_f32(g, t)?,
                None => Vec::new(),
            },
            d_sn: match &self.gan.d_sn {
                Some(sn) => p.read_f32(g, sn.uv)?,
                None => Vec::new(),
            },
        })
    }

    /// The first `rows` (at most the batch) of the last G step's points and pushes: read back
    /// from the buffers that step's backward left (`GanGraph::fake_grad`, `g_out`), so only at a
    /// logging interval, after at least one iteration.
    pub fn g_push(&self, rows: usize) -> anyhow::Result<GPush> {
        let n = rows.min(self.cfg.batch) * self.gan.dim;
        let off = self.gan.g_out.off;
        let xd = self.plan.read_f32(self.gpu, self.gan.g_out.t)?;
        let grad = self.plan.read_f32(self.gpu, self.gan.fake_grad)?;
        Ok(GPush {
            at: xd[off..off + n].to_vec(),
            push: grad[..n].iter().map(|g| -g).collect(),
        })
    }

    /// G on the fixed evaluation noise ([EVAL_ROWS, dim], or [GRID_IMAGES, dim] for images) and
    /// sigmoid(D) on the probe points.
    pub fn snapshot(&self) -> anyhow::Result<Snapshot> {
        self.plan.run(self.gpu, &[&self.snapshot], 1)?;
        let samples = self
            .plan
            .read_f32(self.gpu, self.gan.eval_g.output_view(None).t)?;
        let logits = self
            .plan
            .read_f32(self.gpu, self.gan.probe_d.output_view(None).t)?;
        let d: Vec<f32> = logits
            .iter()
            .map(|&l| crate::cpu::activation::sigmoid_stable(l))
            .collect();
        let samples = match (self.cfg.arch, self.data.image) {
            (Arch::Dcgan, Some(shape)) => super::dcgan::chw_to_hwc(&samples, shape),
            _ => samples,
        };
        Ok(Snapshot { samples, d })
    }
}
