//! The `shadergan` command line: one file per subcommand.

pub mod bench;
pub mod classifier;
pub mod eval;
pub mod sample;
pub mod theory;
pub mod train;

use crate::gpu::{adapter_report, Backend, Gpu, GpuOptions};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "shadergan",
    version,
    about = "Train GANs with hand-written WGSL compute shaders on any GPU (Vulkan, Metal, DX12, GL)",
    long_about = None
)]
pub struct Cli {
    #[command(flatten)]
    pub gpu: GpuArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Which GPU to run on (every subcommand takes these).
#[derive(Args, Debug, Clone)]
pub struct GpuArgs {
    /// Graphics API; `auto` honours WGPU_BACKEND (e.g. WGPU_BACKEND=vulkan) and otherwise tries all.
    /// OpenGL on the CPU (llvmpipe) is never used: its GLSL compiler hangs on the matmul shader.
    #[arg(long, global = true, value_enum, default_value_t = Backend::Auto)]
    pub backend: Backend,
    /// Use the adapter whose name contains this text (case-insensitive); `shadergan devices
    /// --adapter TEXT` lists the ones that match.
    #[arg(long, global = true, env = "SHADERGAN_ADAPTER")]
    pub adapter: Option<String>,
}

impl GpuArgs {
    pub fn options(&self) -> GpuOptions {
        GpuOptions {
            backend: self.backend,
            adapter: self.adapter.clone(),
        }
    }

    /// Opens the device and says which one on stderr.
    pub fn open(&self) -> anyhow::Result<Gpu> {
        let gpu = Gpu::new(&self.options())?;
        eprintln!(
            "shadergan: using {} ({:?}, {:?})",
            gpu.info.name, gpu.info.backend, gpu.info.device_type
        );
        Ok(gpu)
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List every GPU adapter (those matching --backend and --adapter) with the limits that
    /// matter for training; fails when none matches.
    Devices,
    /// Train a GAN; with no flags, trains `ring` (8 Gaussians) with good defaults.
    #[command(allow_negative_numbers = true)]
    Train(Box<train::TrainArgs>),
    /// Mode coverage of a run's generator on its mixture data set (2,500 samples); for image
    /// runs, class coverage, KL, confident share and Fréchet distance from a classifier trained
    /// by our own kernels (cached in the run directory), plus modes of 1,000 for stacked sets.
    Eval {
        /// A run directory or a checkpoint.safetensors file.
        #[arg(value_name = "RUN_OR_CHECKPOINT")]
        target: PathBuf,
        /// Image runs: generated images to classify.
        #[arg(long, default_value_t = crate::quality::SAMPLES)]
        samples: usize,
        /// Mixture runs: also score the samples discriminator rejection sampling keeps at
        /// percentile P (default: the run's `drs`; 0: G's samples only).
        #[arg(long, value_name = "P")]
        drs: Option<f32>,
    },
    /// The classifier that measures image runs, trained by our own kernels.
    Classifier {
        #[command(subcommand)]
        what: classifier::ClassifierWhat,
    },
    /// Draw samples from a checkpoint's generator as CSV.
    Sample(sample::SampleArgs),
    /// Check every kernel on this adapter against its CPU twin (odd shapes, outputs poisoned with
    /// NaN, the parity tests' tolerances), then whole MLP and DCGAN training iterations against
    /// the CPU executor; one line per family and a verdict; exit status 1 on any failure.
    Selftest {
        /// Fewer shapes per family (a few seconds on a GPU).
        #[arg(long)]
        quick: bool,
        /// Only the families whose names start with this (e.g. matmul), comma-separated.
        #[arg(long, value_delimiter = ',')]
        family: Vec<String>,
        /// Print one JSON record instead of the text report.
        #[arg(long)]
        json: bool,
    },
    /// The original GAN's theory shown numerically in 1-D (D*, the JSD identity, the saturating
    /// loss, Algorithm 1's k): pictures and a report in a run directory (docs/theory.md).
    Theory {
        #[command(subcommand)]
        what: theory::TheoryWhat,
    },
    /// Benchmarks in physical units.
    Bench {
        #[command(subcommand)]
        what: bench::BenchWhat,
    },
}

/// How the process ends: 0, or 130 for a run stopped by Ctrl-C or SIGTERM (the shell's code
/// for an interrupted command).
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Devices => {
            print!(
                "{}",
                adapter_report(cli.gpu.backend, cli.gpu.adapter.as_deref())?
            );
            let gpu = Gpu::new(&cli.gpu.options())?;
            let kernels = crate::kernels::Kernels::shared(&gpu)?;
            println!("selected: {}", gpu.info.name);
            print!(
                "{}",
                crate::kernels::matmul_choice::report(&kernels.matmul, &gpu)
            );
        }
        Command::Train(args) => {
            let gpu = cli.gpu.open()?;
            stop_on_signal()?;
            if train::run_train(&gpu, &args)?.interrupted {
                return Ok(130);
            }
        }
        Command::Eval {
            target,
            samples,
            drs,
        } => eval::run_eval(&cli.gpu.open()?, &target, samples, drs)?,
        Command::Classifier { what } => classifier::run_classifier(&cli.gpu.open()?, &what)?,
        Command::Sample(args) => sample::run_sample(&cli.gpu.open()?, &args)?,
        Command::Selftest {
            quick,
            family,
            json,
        } => {
            let gpu = cli.gpu.open()?;
            let results = crate::selftest::run(&gpu, quick, &family);
            if results.is_empty() {
                anyhow::bail!(
                    "no family starts with {}; families: {}",
                    family.join(", "),
                    crate::selftest::families()
                        .iter()
                        .map(|f| f.0)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let report = crate::selftest::report(&gpu, &results);
            if json {
                println!("{}", serde_json::to_string_pretty(&report.json)?);
            } else {
                print!("{}", report.text);
            }
            if !results.iter().all(|r| r.passed()) {
                return Ok(1);
            }
        }
        Command::Theory { what } => theory::run_theory(&cli.gpu.open()?, &what)?,
        Command::Bench { what } => bench::run_bench(&cli.gpu.open()?, what)?,
    }
    Ok(0)
}

/// The first Ctrl-C (or SIGTERM) asks the run to stop after its current submit and write its
/// checkpoint, metrics and pictures; a second one ends the process at once.
fn stop_on_signal() -> anyhow::Result<()> {
    static SIGNALS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    ctrlc::set_handler(|| {
        if SIGNALS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 0 {
            eprintln!("\nshadergan: stopped at once");
            std::process::exit(130);
        }
        eprintln!(
            "\nshadergan: stopping after the current submit and writing the checkpoint, \
             metrics and pictures (Ctrl-C again to stop at once)"
        );
        crate::run::request_stop();
    })?;
    Ok(())
}

/// A run directory or a checkpoint file.
fn checkpoint_path(p: &std::path::Path) -> PathBuf {
    if p.is_dir() {
        p.join(crate::run::dir::CHECKPOINT)
    } else {
        p.to_path_buf()
    }
}
