//! The run directory: every file a run leaves behind, written atomically, and nothing else. The
//! trainer hands it what it observed; it never touches the GPU.
//!
//! ```text
//! config.toml              the resolved configuration
//! metrics.csv              one MetricsRow per logging interval (kept across --resume)
//! samples/step_NNNNNN.png  one picture per logging interval
//! loss.png, evolution.gif  drawn from the two above at the end (and on Ctrl-C)
//! checkpoint.safetensors   weights, Adam state, counters, config
//! eval.toml                mode coverage (mixtures) or classifier-based quality (images)
//! drs.png                  2-D runs with drs: G's samples kept and rejected by DRS
//! classifier.safetensors   image runs: the evaluation classifier, cached by data set and seed
//! quality.png              image runs with --eval-every: coverage and Fréchet over training
//! ```

use super::pictures;
use crate::gan::checkpoint::{self, Checkpoint};
use crate::gan::config::TrainConfig;
use crate::gan::metrics::MetricsRow;
use crate::io::{atomic_write, remove_stale_temps};
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

pub const CONFIG: &str = "config.toml";
pub const METRICS: &str = "metrics.csv";
pub const CHECKPOINT: &str = "checkpoint.safetensors";
pub const EVAL: &str = "eval.toml";
pub const LOSS_PNG: &str = "loss.png";
pub const GIF: &str = "evolution.gif";
pub const QUALITY_PNG: &str = "quality.png";
pub const SAMPLES: &str = "samples";
pub const DRS_PNG: &str = "drs.png";

/// An open run directory and the metrics history it holds.
pub struct RunDir {
    pub path: PathBuf,
    history: Vec<MetricsRow>,
}

impl RunDir {
    /// A directory for a new run: `path` must not exist yet or be empty, so that no file of
    /// another run is overwritten or mixed into this one's pictures.
    pub fn create(path: &Path) -> anyhow::Result<RunDir> {
        if path.join(CHECKPOINT).exists() {
            bail!(
                "{} already holds a run; use --resume {} to continue it or choose another --out",
                path.display(),
                path.display()
            );
        }
        if let Ok(mut entries) = std::fs::read_dir(path) {
            if entries.next().is_some() {
                bail!(
                    "{} exists and is not empty; choose another --out (a new run never writes \
                     into a folder that holds other files)",
                    path.display()
                );
            }
        } else if path.exists() {
            bail!("{} exists and is not a folder", path.display());
        }
        Self::open(path, Vec::new())
    }

    /// The directory of a resumed run at iteration `start`: the metrics history up to `start` is
    /// kept, read from `path` or, when it has none yet, from `from` (the run being continued).
    pub fn resume(path: &Path, from: &Path, start: u64) -> anyhow::Result<RunDir> {
        let own = path.join(METRICS);
        let source = if own.exists() {
            own
        } else {
            from.join(METRICS)
        };
        let history = read_metrics(&source)
            .into_iter()
            .filter(|r| r.iteration <= start)
            .collect();
        Self::open(path, history)
    }

    /// Folders are made by the first write, so a run refused before it starts leaves none.
    fn open(path: &Path, history: Vec<MetricsRow>) -> anyhow::Result<RunDir> {
        remove_stale_temps(path)?;
        remove_stale_temps(&path.join(SAMPLES))?;
        Ok(RunDir {
            path: path.to_path_buf(),
            history,
        })
    }

    pub fn history(&self) -> &[MetricsRow] {
        &self.history
    }

    pub fn write_config(&self, cfg: &TrainConfig) -> anyhow::Result<()> {
        atomic_write(&self.path.join(CONFIG), |w| {
            w.write_all(cfg.to_toml().as_bytes())?;
            Ok(())
        })
    }

    /// Adds one interval's metrics and rewrites metrics.csv.
    pub fn record(&mut self, row: MetricsRow) -> anyhow::Result<()> {
        self.history.push(row);
        write_metrics(&self.path.join(METRICS), &self.history)
    }

    /// samples/step_NNNNNN.png for iteration `it`.
    pub fn frame(&self, it: u64) -> PathBuf {
        self.path.join(SAMPLES).join(format!("step_{it:06}.png"))
    }

    pub fn save_checkpoint(&self, ck: &Checkpoint) -> anyhow::Result<()> {
        checkpoint::save(&self.path.join(CHECKPOINT), ck)
    }

    pub fn write_eval(&self, report: &impl serde::Serialize) -> anyhow::Result<()> {
        write_eval(&self.path.join(EVAL), report)
    }

    /// loss.png from the history and evolution.gif from the frames.
    pub fn draw_summary(&self, title: &str) -> anyhow::Result<()> {
        pictures::loss_picture(&self.path.join(LOSS_PNG), &self.history, title)?;
        pictures::evolution_gif(&self.path.join(GIF), &self.path.join(SAMPLES))
    }

    /// quality.png from the history's quality columns (image runs with eval_every).
    pub fn draw_quality(&self, classes: usize, title: &str) -> anyhow::Result<()> {
        pictures::quality_picture(&self.path.join(QUALITY_PNG), &self.history, classes, title)
    }
}

/// eval.toml: a mode report (or an image report) as TOML.
pub fn write_eval(path: &Path, report: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = toml::to_string(report).context("serialising the evaluation")?;
    atomic_write(path, |w| {
        w.write_all(text.as_bytes())?;
        Ok(())
    })
}

/// Reads metrics.csv rows (a missing or unreadable file is an empty history).
pub fn read_metrics(path: &Path) -> Vec<MetricsRow> {
    let Ok(mut r) = csv::Reader::from_path(path) else {
        return Vec::new();
    };
    r.deserialize().filter_map(Result::ok).collect()
}

fn write_metrics(path: &Path, rows: &[MetricsRow]) -> anyhow::Result<()> {
    atomic_write(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        for r in rows {
            csv.serialize(r)?;
        }
        csv.flush()?;
        Ok(())
    })
}
