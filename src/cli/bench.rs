//! `shadergan bench`: kernels and whole training iterations in physical units.

use crate::gpu::Gpu;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum BenchWhat {
    /// Matmul (workload K shapes) and elementwise kernels: median time, GFLOP/s or GB/s.
    Kernels {
        /// Skip the largest shapes (2048^3), for slow software drivers.
        #[arg(long)]
        quick: bool,
    },
    /// Iterations per second for workloads T, M64 and M512 (benches/WORKLOADS.md), GPU and CPU executor.
    Train {
        /// Fewer timed iterations (for slow software drivers).
        #[arg(long)]
        quick: bool,
    },
}

pub fn run_bench(gpu: &Gpu, what: BenchWhat) -> anyhow::Result<()> {
    match what {
        BenchWhat::Kernels { quick } => print!("{}", crate::bench::kernels::run(gpu, quick)?),
        BenchWhat::Train { quick } => crate::bench::workloads::run(gpu, quick)?,
    }
    Ok(())
}
