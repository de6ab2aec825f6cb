//! The `shadergan` command line.

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
    /// Mode coverage of a run's generator on its mixture data set (2,500 samples).
    Eval {
        /// A run directory or a checkpoint.safetensors file.
        #[arg(value_name = "RUN_OR_CHECKPOINT")]
        target: PathBuf,
    },
    /// Draw samples from a checkpoint's generator as CSV.
    Sample(train::SampleArgs),
    /// Benchmarks in physical units.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(Subcommand, Debug)]
pub enum BenchWhat {
    /// Matmul (workload K shapes) and elementwise kernels: median time, GFLOP/s or GB/s.
    Kernels {
        /// Skip the largest shapes (2048^3), for slow software drivers.
        #[arg(long)]
        quick: bool,
    },
    /// Iterations per second for workloads T, M64 and M512 (WORKLOADS.md), GPU and CPU executor.
    Train {
        /// Fewer timed iterations (for slow software drivers).
        #[arg(long)]
        quick: bool,
    },
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Devices => {
            print!(
                "{}",
                adapter_report(cli.gpu.backend, cli.gpu.adapter.as_deref())?
            );
            Ok(())
        }
        Command::Train(args) => train::run_train(&cli.gpu.open()?, &args),
        Command::Eval { target } => train::run_eval(&cli.gpu.open()?, &target),
        Command::Sample(args) => train::run_sample(&cli.gpu.open()?, &args),
        Command::Bench { what } => match what {
            BenchWhat::Kernels { quick } => {
                let gpu = cli.gpu.open()?;
                print!("{}", crate::bench::kernels::run(&gpu, quick)?);
                Ok(())
            }
            BenchWhat::Train { quick } => {
                let gpu = cli.gpu.open()?;
                crate::bench::train::run(&gpu, quick)
            }
        },
    }
}
