//! `shadergan bench`: kernels, whole training iterations and the device's ceilings in physical
//! units; `--json` prints one record (adapter, driver, backend, numbers) instead of the text.

use crate::bench::workloads::Options;
use crate::gpu::Gpu;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum BenchWhat {
    /// Matmul (workload K shapes) and elementwise kernels: median time, GFLOP/s or GB/s.
    Kernels {
        /// Skip the largest shapes (2048^3), for slow software drivers.
        #[arg(long)]
        quick: bool,
        /// The sides of the square products to time instead of 1024 and 2048 (e.g. 1024,4096
        /// on a large GPU), comma-separated; each from 1 to 16384.
        #[arg(long, value_delimiter = ',', value_name = "N,..", value_parser = clap::value_parser!(u32).range(1..=16384))]
        size: Option<Vec<u32>>,
        /// Print one JSON record instead of the text report.
        #[arg(long)]
        json: bool,
    },
    /// The device's ceilings: FMA rate (GFLOP/s), copy bandwidth (GB/s), and the launch overhead
    /// of an empty dispatch and of a submit.
    Peak {
        /// Print one JSON record instead of the text report.
        #[arg(long)]
        json: bool,
    },
    /// Iterations per second for workloads T, M64 and M512 (benches/WORKLOADS.md), GPU and CPU
    /// executor, with the device memory of each.
    Train {
        /// Fewer timed iterations (for slow software drivers).
        #[arg(long)]
        quick: bool,
        /// Per op kind and shape: time, share of the iteration, GFLOP/s or GB/s and fraction of
        /// `bench peak` (needs timestamp queries inside passes).
        #[arg(long)]
        profile: bool,
        /// Skip the CPU executor (plain loops, about a minute at M512 on a small CPU).
        #[arg(long)]
        skip_cpu: bool,
        /// Only the workloads whose names start with this (T, M64, M512, C), comma-separated.
        #[arg(long, value_delimiter = ',')]
        workload: Vec<String>,
        /// Print one JSON record instead of the text report.
        #[arg(long)]
        json: bool,
    },
    /// What a user waits for before training starts: `train --iterations 1` in a child process
    /// with Mesa's shader cache off (every pipeline compiled as on a new machine), its wall time
    /// and peak resident memory; `--full` times the whole default ring run instead.
    Startup {
        /// Runs of each binary (the median is reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Another shadergan binary to run in turn with this one (e.g. an earlier build).
        #[arg(long, value_name = "BIN")]
        vs: Option<std::path::PathBuf>,
        /// The whole default ring run (`train` with no flags) instead of one iteration.
        #[arg(long)]
        full: bool,
        /// Print one JSON record instead of the text report.
        #[arg(long)]
        json: bool,
    },
    /// Mode coverage with each data set's defaults: trains ring and grid for seeds 1..=N and
    /// prints modes and high-quality share (mean, min), wall time and it/s, beside PacGAN's
    /// published numbers.
    Quality {
        /// Seeds per data set (default 5; 1 with --quick).
        #[arg(long)]
        seeds: Option<u64>,
        /// One seed, a few hundred iterations: checks that it runs, measures nothing.
        #[arg(long)]
        quick: bool,
        /// Only these data sets, separated by ';' (default: ring;grid); any mixture spec, e.g.
        /// ring:n=12,radius=2 (each trains with its own defaults).
        #[arg(long, value_delimiter = ';')]
        dataset: Vec<String>,
        /// The image row: a stacked set (default stacked-digits; stacked-idx:IMAGES,labels=LABELS
        /// for Stacked MNIST) trained with its defaults, modes of 1,000 and KL to uniform beside
        /// PacGAN's Table 2; without --dataset, only this row.
        #[arg(long, value_name = "SPEC", num_args = 0..=1, default_missing_value = crate::bench::stacked::DEFAULT)]
        stacked: Option<String>,
        /// Print one JSON record instead of the text report.
        #[arg(long)]
        json: bool,
    },
}

pub fn run_bench(gpu: &Gpu, what: BenchWhat) -> anyhow::Result<()> {
    let (report, json) = match what {
        BenchWhat::Kernels { quick, size, json } => {
            let sizes: Option<Vec<usize>> =
                size.map(|v| v.into_iter().map(|s| s as usize).collect());
            (
                crate::bench::kernels::run(gpu, quick, sizes.as_deref())?,
                json,
            )
        }
        BenchWhat::Peak { json } => (crate::bench::peak::run(gpu)?, json),
        BenchWhat::Startup {
            runs,
            vs,
            full,
            json,
        } => {
            let opts = crate::bench::startup::StartupOptions { runs, vs, full };
            (crate::bench::startup::run(gpu, &opts)?, json)
        }
        BenchWhat::Quality {
            seeds,
            quick,
            dataset,
            stacked,
            json,
        } => {
            let seeds = seeds.unwrap_or(if quick { 1 } else { 5 });
            (
                crate::bench::quality::run(gpu, &dataset, seeds, quick, stacked.as_deref())?,
                json,
            )
        }
        BenchWhat::Train {
            quick,
            profile,
            skip_cpu,
            workload,
            json,
        } => {
            let opts = Options {
                quick,
                profile,
                skip_cpu,
                only: workload,
            };
            (crate::bench::workloads::run(gpu, opts)?, json)
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report.json)?);
    } else {
        print!("{}", report.text);
    }
    Ok(())
}
