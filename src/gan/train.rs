//! The training loop: build the plan once, then record `iters_per_submit` iterations per submit
//! and read nothing back except the metrics (and the picture snapshot) at the logging interval.

use super::checkpoint::{self, Checkpoint};
use super::config::TrainConfig;
use super::schedule::{self, GanGraph, GanInputs, TrainState};
use super::PhiloxNoise;
use crate::data::Dataset;
use crate::gpu::Gpu;
use crate::graph::gpu::GpuPlan;
use crate::viz;
use anyhow::Context;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Rows of fixed noise used for pictures and the final evaluation (the evaluation's 2,500).
pub const EVAL_ROWS: usize = 2500;
/// Heat-map resolution for 2-D data, and probe points for 1-D data.
pub const HEAT_N: usize = 64;
pub const PROBE_1D: usize = 256;
/// Images in each sample grid (8 x 8), from fixed noise.
pub const GRID_IMAGES: usize = 64;

/// One logging interval's averages.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MetricsRow {
    pub iteration: u64,
    /// -V(G, D) as D sees it: BCE over real (target 1) plus BCE over fake (target 0).
    pub d_loss: f32,
    pub g_loss: f32,
    /// Mean D(x) over real samples and mean D(G(z)) in the discriminator steps.
    pub d_real: f32,
    pub d_fake: f32,
    /// Jensen-Shannon estimate (V + log 4) / 2 = (log 4 - D loss) / 2 from the interval's last D
    /// step (one minibatch, so noisy): 0 when D cannot tell real from generated.
    pub jsd: f32,
    pub iters_per_sec: f32,
}

pub const CSV_HEADER: &str = "iteration,d_loss,g_loss,d_real,d_fake,jsd_estimate,iters_per_sec";

impl MetricsRow {
    fn csv(&self) -> String {
        format!(
            "{},{},{},{},{},{},{}",
            self.iteration,
            self.d_loss,
            self.g_loss,
            self.d_real,
            self.d_fake,
            self.jsd,
            self.iters_per_sec
        )
    }

    fn parse(line: &str) -> Option<MetricsRow> {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 7 {
            return None;
        }
        let p = |i: usize| f[i].trim().parse::<f32>().ok();
        Some(MetricsRow {
            iteration: f[0].trim().parse().ok()?,
            d_loss: p(1)?,
            g_loss: p(2)?,
            d_real: p(3)?,
            d_fake: p(4)?,
            jsd: p(5)?,
            iters_per_sec: p(6)?,
        })
    }

    pub fn summary(&self) -> String {
        format!(
            "D loss {:.4}  G loss {:.4}  D(x) {:.3}  D(G(z)) {:.3}  JSD~ {:.4}",
            self.d_loss, self.g_loss, self.d_real, self.d_fake, self.jsd
        )
    }
}

/// What a finished run reports.
pub struct TrainSummary {
    pub out: PathBuf,
    pub iterations: u64,
    pub seconds: f64,
    pub last: MetricsRow,
    pub report: Option<crate::eval::ModeReport>,
}

/// Reads metrics.csv rows (resume keeps the history).
pub fn read_metrics(path: &Path) -> Vec<MetricsRow> {
    std::fs::read_to_string(path)
        .map(|t| t.lines().skip(1).filter_map(MetricsRow::parse).collect())
        .unwrap_or_default()
}

/// The rows a run trains on.
pub struct TrainData {
    /// Row-major [n, dim].
    pub rows: Vec<f32>,
    pub dim: usize,
    /// Image data: width, height, channels.
    pub image: Option<[usize; 3]>,
}

/// Loads an image data set (at most `max_bytes` as f32), or draws `data_size` points from a
/// parametric one (seeded).
pub fn load_data(cfg: &TrainConfig, ds: &Dataset, max_bytes: u64) -> anyhow::Result<TrainData> {
    if ds.is_image() {
        let set = ds.load_images(cfg.image_size, cfg.channels, max_bytes)?;
        return Ok(TrainData {
            dim: set.dim(),
            image: Some([set.width, set.height, set.channels]),
            rows: set.pixels,
        });
    }
    let rows = ds.sample(
        cfg.data_size,
        &mut PhiloxNoise::new(cfg.seed, schedule::streams::DATA),
    );
    Ok(TrainData {
        rows,
        dim: ds.dim(),
        image: None,
    })
}

/// The visual probe: grid points for a 2-D heat map, a line of points for 1-D data, none for
/// images.
fn probe_points(ds: &Dataset) -> Vec<f32> {
    let b = ds.bounds();
    if ds.is_image() {
        Vec::new()
    } else if ds.dim() == 2 {
        viz::Heatmap::grid_points(HEAT_N, HEAT_N, [b[0].0, b[0].1, b[1].0, b[1].1])
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
/// the data set would not fit one storage buffer of the device (both sizes in the message).
pub fn check_fits(gpu: &Gpu, cfg: &TrainConfig, dim: usize, data_len: usize) -> anyhow::Result<()> {
    let rows = (2 * cfg.batch).max(EVAL_ROWS).max(HEAT_N * HEAT_N);
    for (name, spec) in [("G", cfg.g_spec(dim)?), ("D", cfg.d_spec(dim)?)] {
        let params = spec
            .layout()
            .iter()
            .map(|p| (p.inp as u64 + 1) * p.out as u64)
            .sum::<u64>();
        gpu.check_size(&format!("{name} parameters"), params * 4)?;
        for (i, l) in spec.layers.iter().enumerate() {
            gpu.check_size(
                &format!("{name} layer {i} activations ({rows} rows x {})", l.out),
                rows as u64 * l.out as u64 * 4,
            )?;
        }
    }
    gpu.check_size("data set", data_len as u64 * 4)?;
    Ok(())
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
    probe: Vec<f32>,
}

impl<'g> Trainer<'g> {
    /// Builds the graph and binds every dispatch (the only place that allocates).
    pub fn new(gpu: &'g Gpu, cfg: &TrainConfig, state: Option<TrainState>) -> anyhow::Result<Self> {
        cfg.validate()?;
        let dataset = Dataset::parse(&cfg.dataset)?;
        // Toy sets are checked before they are drawn, so an impossible size fails fast; image
        // sets only know their size once loaded.
        if !dataset.is_image() {
            check_fits(gpu, cfg, dataset.dim(), cfg.data_size * dataset.dim())?;
        }
        let data = load_data(cfg, &dataset, gpu.max_storage_bytes())?;
        let dim = data.dim;
        if dataset.is_image() {
            check_fits(gpu, cfg, dim, data.rows.len())?;
        }
        let state = match state {
            Some(s) => s,
            None => TrainState::fresh(cfg, &cfg.g_spec(dim)?, &cfg.d_spec(dim)?),
        };
        let probe = probe_points(&dataset);
        let gan = GanGraph::build(
            cfg,
            &GanInputs {
                data: &data.rows,
                dim,
                state: &state,
                probe: &probe,
                eval_rows: if dataset.is_image() {
                    GRID_IMAGES
                } else {
                    EVAL_ROWS
                },
            },
        )?;
        let plan = GpuPlan::new(gpu, &gan.graph)?;
        let iteration = plan.compile(gpu, &gan.iteration)?;
        let snapshot = plan.compile(gpu, &gan.snapshot)?;
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
            .write_f32(self.gpu, self.gan.metrics, &[0.0; schedule::METRICS_LEN]);
        let dn = (iters * self.cfg.d_steps as u64).max(1) as f32;
        let gn = iters.max(1) as f32;
        let d_loss = m[schedule::M_D_LOSS] / dn;
        Ok(MetricsRow {
            iteration,
            d_loss,
            g_loss: m[schedule::M_G_LOSS] / gn,
            d_real: m[schedule::M_D_REAL] / dn,
            d_fake: m[schedule::M_D_FAKE] / dn,
            jsd: ((4.0f32).ln() - m[schedule::M_LAST_D_LOSS]) / 2.0,
            iters_per_sec: if secs > 0.0 {
                (iters as f64 / secs) as f32
            } else {
                0.0
            },
        })
    }

    /// The current weights, moments and counters (for checkpoints and tests).
    pub fn state(&self) -> anyhow::Result<TrainState> {
        let (p, g) = (&self.plan, self.gpu);
        Ok(TrainState {
            g_params: p.read_f32(g, self.gan.g.params)?,
            d_params: p.read_f32(g, self.gan.d.params)?,
            g_adam_m: p.read_f32(g, self.gan.g.adam_m)?,
            g_adam_v: p.read_f32(g, self.gan.g.adam_v)?,
            d_adam_m: p.read_f32(g, self.gan.d.adam_m)?,
            d_adam_v: p.read_f32(g, self.gan.d.adam_v)?,
            counters: p.read_u32(g, self.gan.state)?,
        })
    }

    /// G on the fixed evaluation noise ([EVAL_ROWS, dim]) and sigmoid(D) on the probe points.
    pub fn snapshot(&self) -> anyhow::Result<(Vec<f32>, Vec<f32>)> {
        self.plan.run(self.gpu, &[&self.snapshot], 1)?;
        let samples = self
            .plan
            .read_f32(self.gpu, self.gan.eval_g.output_view(None).t)?;
        let logits = self
            .plan
            .read_f32(self.gpu, *self.gan.probe_d.ys.last().expect("D has layers"))?;
        let d: Vec<f32> = logits
            .iter()
            .map(|&l| crate::cpu::activation::sigmoid_stable(l))
            .collect();
        Ok((samples, d))
    }

    /// Writes samples/step_NNNNNN.png: real and generated points over D's heat map (2-D), or
    /// the densities and D(x) as curves (1-D).
    pub fn picture(&self, path: &Path, iteration: u64) -> anyhow::Result<()> {
        let (samples, d) = self.snapshot()?;
        if let Some([w, h, c]) = self.data.image {
            let images: Vec<Vec<f32>> = samples.chunks(w * h * c).map(|x| x.to_vec()).collect();
            let scale = viz::grid_scale(w, h);
            return viz::image_grid(path, &images, w as u32, h as u32, c as u32, 8, scale);
        }
        let b = self.dataset.bounds();
        let title = format!("{}  iteration {iteration}", self.dataset.name());
        let data = &self.data.rows;
        let n_real = 1000.min(data.len() / self.gan.dim);
        if self.gan.dim == 2 {
            let pts = |v: &[f32]| -> Vec<[f32; 2]> { v.chunks(2).map(|c| [c[0], c[1]]).collect() };
            let bounds = [b[0].0, b[0].1, b[1].0, b[1].1];
            let heat = viz::Heatmap {
                nx: HEAT_N,
                ny: HEAT_N,
                bounds,
                values: d,
            };
            viz::scatter_2d(
                path,
                &pts(&data[..n_real * 2]),
                &pts(&samples[..1000.min(samples.len() / 2) * 2]),
                Some(&heat),
                &title,
                bounds,
            )
        } else {
            let curve: Vec<(f32, f32)> = self.probe.iter().copied().zip(d).collect();
            viz::density_1d(
                path,
                &data[..n_real.max(1)],
                &samples,
                &curve,
                [b[0].0, b[0].1],
                &title,
            )
        }
    }
}

/// Trains into `out` (created if needed): pictures, metrics, checkpoints, evaluation.
pub fn train(
    gpu: &Gpu,
    cfg: &TrainConfig,
    out: &Path,
    resume: Option<TrainState>,
) -> anyhow::Result<TrainSummary> {
    let t = Trainer::new(gpu, cfg, resume)?;
    let samples_dir = out.join("samples");
    std::fs::create_dir_all(&samples_dir)
        .with_context(|| format!("creating the run directory {}", samples_dir.display()))?;
    viz::atomic_write(&out.join("config.toml"), |w| {
        w.write_all(cfg.to_toml().as_bytes())?;
        Ok(())
    })?;
    let metrics_path = out.join("metrics.csv");
    let ckpt_path = out.join("checkpoint.safetensors");
    let start = {
        let c = t.plan.read_u32(gpu, t.gan.state)?;
        c[0] as u64 | (c[1] as u64) << 32
    };
    anyhow::ensure!(
        start < cfg.iterations,
        "the run is already at iteration {start}; pass --iterations larger than that to continue"
    );
    let mut history: Vec<MetricsRow> = read_metrics(&metrics_path)
        .into_iter()
        .filter(|r| r.iteration <= start)
        .collect();

    let total = cfg.iterations - start;
    let bar = progress_bar(total);
    let t0 = Instant::now();
    let (mut it, mut last_log, mut t_log) = (start, start, Instant::now());
    let mut last = MetricsRow::default();
    if start == 0 {
        t.picture(&samples_dir.join("step_000000.png"), 0)?;
    }
    while it < cfg.iterations {
        let next_log = (it / cfg.log_every + 1) * cfg.log_every;
        let mut stop = next_log.min(cfg.iterations);
        if let Some(k) = it.checked_div(cfg.checkpoint_every) {
            stop = stop.min((k + 1) * cfg.checkpoint_every);
        }
        let n = cfg.iters_per_submit.min(stop - it);
        t.submit(n)?;
        it += n;
        if it % cfg.log_every == 0 || it == cfg.iterations {
            gpu.wait()?;
            let secs = t_log.elapsed().as_secs_f64();
            last = t.take_metrics(it, it - last_log, secs)?;
            (last_log, t_log) = (it, Instant::now());
            history.push(last);
            write_metrics(&metrics_path, &history)?;
            t.picture(&samples_dir.join(format!("step_{it:06}.png")), it)?;
            report_progress(&bar, it - start, &last);
        }
        if (cfg.checkpoint_every > 0 && it % cfg.checkpoint_every == 0) || it == cfg.iterations {
            let ck = Checkpoint {
                config: cfg.clone(),
                state: t.state()?,
                data_dim: t.gan.dim,
                image: t.data.image,
            };
            checkpoint::save(&ckpt_path, &ck)?;
        }
    }
    gpu.wait()?;
    let seconds = t0.elapsed().as_secs_f64();
    if let Some(b) = &bar {
        b.finish_and_clear();
    }

    let steps: Vec<u64> = history.iter().map(|r| r.iteration).collect();
    let series = |f: fn(&MetricsRow) -> f32| history.iter().map(f).collect::<Vec<f32>>();
    viz::loss_curves(
        &out.join("loss.png"),
        &steps,
        &[
            ("D loss (-V)", series(|r| r.d_loss)),
            ("G loss", series(|r| r.g_loss)),
            ("D(x)", series(|r| r.d_real)),
            ("D(G(z))", series(|r| r.d_fake)),
            ("JSD estimate", series(|r| r.jsd)),
        ],
        &format!("{} losses", t.dataset.name()),
    )?;
    let mut frames: Vec<PathBuf> = std::fs::read_dir(&samples_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().map(|e| e == "png").unwrap_or(false))
        .collect();
    frames.sort();
    viz::write_gif(&out.join("evolution.gif"), &frames, 200)?;

    let report = if t.dataset.centres().is_empty() {
        None
    } else {
        let (samples, _) = t.snapshot()?;
        let r = crate::eval::evaluate(&t.dataset, &samples)?;
        viz::atomic_write(&out.join("eval.toml"), |w| {
            w.write_all(r.to_toml_string().as_bytes())?;
            Ok(())
        })?;
        Some(r)
    };
    Ok(TrainSummary {
        out: out.to_path_buf(),
        iterations: cfg.iterations - start,
        seconds,
        last,
        report,
    })
}

fn write_metrics(path: &Path, rows: &[MetricsRow]) -> anyhow::Result<()> {
    viz::atomic_write(path, |w| {
        writeln!(w, "{CSV_HEADER}")?;
        for r in rows {
            writeln!(w, "{}", r.csv())?;
        }
        Ok(())
    })
}

fn progress_bar(total: u64) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new(total);
    b.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} it  ETA {eta}  {msg}")
            .expect("valid template"),
    );
    Some(b)
}

fn report_progress(bar: &Option<indicatif::ProgressBar>, done: u64, m: &MetricsRow) {
    match bar {
        Some(b) => {
            b.set_position(done);
            b.set_message(format!("{:.1} it/s  {}", m.iters_per_sec, m.summary()));
        }
        None => eprintln!(
            "iteration {:>7}  {}  ({:.1} it/s)",
            m.iteration,
            m.summary(),
            m.iters_per_sec
        ),
    }
}
