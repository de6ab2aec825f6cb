//! `shadergan bench train`: iterations per second for the fixed workloads of benches/WORKLOADS.md
//! (T: toy 2-D, launch-bound; M64 / M512: MNIST-sized MLPs, compute-bound at batch 512) on the GPU
//! plan and, in the same run, on the CPU executor.
//!
//! Protocol (benches/WORKLOADS.md): warm up 20 iterations, time 200 end to end with the device
//! synchronised at the end. The CPU executor is plain loops (it is the test oracle, not a fast
//! CPU trainer), so it is timed over fewer iterations; the count is printed with each number.

use crate::gan::config::TrainConfig;
use crate::gan::schedule::{GanGraph, GanInputs, TrainState};
use crate::gpu::Gpu;
use crate::graph::cpu::CpuPlan;
use crate::graph::gpu::GpuPlan;
use crate::noise::{Noise, PhiloxNoise};
use std::time::Instant;

struct Workload {
    name: &'static str,
    cfg: TrainConfig,
    data: Vec<f32>,
    dim: usize,
}

fn workloads() -> anyhow::Result<Vec<Workload>> {
    let t = TrainConfig {
        dataset: "ring".into(),
        batch: 256,
        z_dim: 16,
        g_hidden: vec![256, 256],
        d_hidden: vec![256, 256],
        g_act: "relu".into(),
        d_act: "leaky_relu".into(),
        g_out: "identity".into(),
        lr_d: 1e-4,
        lr_g: 1e-4,
        ..TrainConfig::default()
    };
    let ring = crate::data::Dataset::parse("ring")?.sample(65536, &mut PhiloxNoise::new(1, 7));
    let m = |batch| TrainConfig {
        batch,
        z_dim: 100,
        g_hidden: vec![256, 512, 1024],
        d_hidden: vec![512, 256],
        g_act: "leaky_relu".into(),
        d_act: "leaky_relu".into(),
        g_out: "tanh".into(),
        lr_d: 2e-4,
        lr_g: 2e-4,
        ..TrainConfig::default()
    };
    // No MNIST is bundled: 784-dim vectors in [-1, 1] have the same cost.
    let mut noise = PhiloxNoise::new(1, 8);
    let mnist_like: Vec<f32> = (0..4096 * 784)
        .map(|_| 2.0 * noise.uniform() - 1.0)
        .collect();
    Ok(vec![
        Workload {
            name: "T (toy2d, batch 256)",
            cfg: t,
            data: ring,
            dim: 2,
        },
        Workload {
            name: "M64 (mnist-mlp, batch 64)",
            cfg: m(64),
            data: mnist_like.clone(),
            dim: 784,
        },
        Workload {
            name: "M512 (mnist-mlp, batch 512)",
            cfg: m(512),
            data: mnist_like,
            dim: 784,
        },
    ])
}

/// Multiply-adds of one iteration (k = 1), for GFLOP/s: forward 2*m*in*out per layer and row
/// block, backward twice that (input and weight gradients), D seeing 2m rows in its step.
fn flops_per_iteration(cfg: &TrainConfig, dim: usize) -> anyhow::Result<f64> {
    let macs = |spec: &crate::graph::net::NetSpec| -> f64 {
        spec.layout().iter().map(|p| (p.inp * p.out) as f64).sum()
    };
    let (g, d) = (macs(&cfg.g_spec(dim)?), macs(&cfg.d_spec(dim)?));
    let m = cfg.batch as f64;
    // D step: G fwd (m), D fwd (2m), D bwd (2m, both gradients). G step: G fwd, D fwd, D bwd
    // (input gradient only), G bwd (both).
    let d_step = g * m + d * 2.0 * m + 2.0 * d * 2.0 * m;
    let g_step = g * m + d * m + d * m + 2.0 * g * m;
    Ok(2.0 * (d_step + g_step))
}

pub fn run(gpu: &Gpu, quick: bool) -> anyhow::Result<()> {
    let (warm, timed) = if quick { (3, 20) } else { (20, 200) };
    println!(
        "adapter: {} ({:?})\nprotocol: {warm} warm-up + {timed} timed iterations on the GPU \
         (device synchronised at the end); CPU executor: 1 warm-up + the count shown",
        gpu.info.name, gpu.info.backend
    );
    println!(
        "{:<30} {:>12} {:>12} {:>14} {:>16}",
        "workload", "GPU it/s", "GPU GFLOP/s", "CPU exec it/s", "GPU / CPU exec"
    );
    for w in workloads()? {
        let state = TrainState::fresh(&w.cfg, &w.cfg.g_network(w.dim)?, &w.cfg.d_network(w.dim)?)?;
        let gan = GanGraph::build(
            &w.cfg,
            &GanInputs {
                data: &w.data,
                dim: w.dim,
                state: &state,
                probe: &[],
                eval_rows: 1,
            },
        )?;
        let plan = GpuPlan::new(gpu, &gan.graph)?;
        let it = plan.compile(gpu, &gan.iteration)?;
        plan.run(gpu, &[&it], warm)?;
        let per_submit = 10;
        let t0 = Instant::now();
        let mut done = 0;
        while done < timed {
            let n = per_submit.min(timed - done);
            GpuPlan::submit(gpu, &[&it], n)?;
            done += n;
        }
        gpu.wait()?;
        let gpu_its = timed as f64 / t0.elapsed().as_secs_f64();
        let gflops = gpu_its * flops_per_iteration(&w.cfg, w.dim)? / 1e9;

        let mut cpu = CpuPlan::new(&gan.graph);
        cpu.run(&gan.iteration);
        let cpu_n = if w.dim == 2 {
            20
        } else if w.cfg.batch <= 64 {
            3
        } else {
            1
        };
        let t0 = Instant::now();
        for _ in 0..cpu_n {
            cpu.run(&gan.iteration);
        }
        let cpu_its = cpu_n as f64 / t0.elapsed().as_secs_f64();
        println!(
            "{:<30} {:>12.2} {:>12.2} {:>10.3} ({cpu_n:>2}) {:>15.1}x",
            w.name,
            gpu_its,
            gflops,
            cpu_its,
            gpu_its / cpu_its
        );
    }
    Ok(())
}
