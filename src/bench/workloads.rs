//! `shadergan bench train`: iterations per second for the fixed workloads of benches/WORKLOADS.md
//! (T: toy 2-D, launch-bound; M64 / M512: MNIST-sized MLPs, compute-bound at batch 512; C: a
//! 28 x 28 DCGAN) on the GPU
//! plan and, in the same run, on the CPU executor.
//!
//! Protocol (benches/WORKLOADS.md): warm up 20 iterations, time 200 end to end with the device
//! synchronised at the end. The CPU executor is plain loops (it is the test oracle, not a fast
//! CPU trainer), so it is timed over fewer iterations; the count is printed with each number.

use crate::gan::config::{Arch, TrainConfig};
use crate::gan::schedule::{DataRef, GanGraph, GanInputs};
use crate::gan::state::TrainState;
use crate::gpu::Gpu;
use crate::graph::convnet::Block;
use crate::graph::cpu::CpuPlan;
use crate::graph::gpu::GpuPlan;
use crate::graph::network::NetworkSpec;
use crate::noise::{Noise, PhiloxNoise};
use std::fmt::Write;
use std::time::Instant;

use super::{profile, Report};
use serde_json::json;

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
    // C: DCGAN on 28 x 28 x 1 (gan/dcgan.rs builds exactly the networks WORKLOADS.md lists).
    let c = TrainConfig {
        dataset: "digits".into(),
        arch: Arch::Dcgan,
        channels: 1,
        batch: 64,
        z_dim: 100,
        g_channels: 64,
        d_channels: 64,
        lr_d: 2e-4,
        lr_g: 2e-4,
        ..TrainConfig::default()
    };
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
            data: mnist_like.clone(),
            dim: 784,
        },
        Workload {
            name: "C (dcgan-28, batch 64)",
            cfg: c,
            data: mnist_like,
            dim: 784,
        },
    ])
}

/// Multiply-adds per row of a network's forward: in*out per Linear layer; per output value
/// in_ch*k*k for a Conv2d; per input value out_ch*k*k for a ConvTranspose2d.
fn macs_per_row(spec: &NetworkSpec) -> anyhow::Result<f64> {
    Ok(match spec {
        NetworkSpec::Mlp(s) => s.layout().iter().map(|p| (p.inp * p.out) as f64).sum(),
        NetworkSpec::Conv(s) => {
            let mut macs = 0.0;
            for (b, p) in s.blocks.iter().zip(s.plan()?) {
                let inp: usize = p.inp.iter().product();
                let out: usize = p.out.iter().product();
                macs += match *b {
                    Block::Linear { .. } => (inp * out) as f64,
                    Block::Conv2d { k, .. } => (out * p.inp[0] * k * k) as f64,
                    Block::ConvTranspose2d { k, .. } => (inp * p.out[0] * k * k) as f64,
                    _ => 0.0,
                };
            }
            macs
        }
    })
}

/// Multiply-adds of one iteration (k = 1), for GFLOP/s: forward 2*m*macs per row, backward twice
/// that (input and weight gradients), D seeing 2m rows in its step.
fn flops_per_iteration(cfg: &TrainConfig, dim: usize) -> anyhow::Result<f64> {
    let g = macs_per_row(&cfg.g_network(dim)?)?;
    let d = macs_per_row(&cfg.d_network(dim)?)?;
    let m = cfg.batch as f64;
    // D step: G fwd (m), D fwd (2m), D bwd (2m, both gradients). G step: G fwd, D fwd, D bwd
    // (input gradient only), G bwd (both).
    let d_step = g * m + d * 2.0 * m + 2.0 * d * 2.0 * m;
    let g_step = g * m + d * m + d * m + 2.0 * g * m;
    Ok(2.0 * (d_step + g_step))
}

/// What `bench train` measures besides it/s.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// 3 warm-up and 20 timed iterations instead of 20 and 200.
    pub quick: bool,
    /// The roofline table per workload (needs timestamp queries inside passes).
    pub profile: bool,
    /// Skip the CPU executor (plain loops: a minute at M512).
    pub skip_cpu: bool,
    /// Only these workloads (names as in WORKLOADS.md: T, M64, M512, C); empty: all.
    pub only: Vec<String>,
}

pub fn run(gpu: &Gpu, opts: Options) -> anyhow::Result<Report> {
    let (warm, timed) = if opts.quick { (3, 20) } else { (20, 200) };
    let mut text = String::new();
    let w = &mut text;
    writeln!(
        w,
        "adapter: {} ({:?}, {})\nprotocol: {warm} warm-up + {timed} timed iterations on the GPU \
         (device synchronised at the end); CPU executor: 1 warm-up + the count shown",
        gpu.info.name, gpu.info.backend, gpu.info.driver_info
    )?;
    let peak = if opts.profile && gpu.timestamps_inside_passes {
        let p = super::peak::measure(gpu)?;
        writeln!(
            w,
            "profile: GPU timestamps between the dispatches of each iteration's one pass; peak \
             {:.1} GFLOP/s, {:.1} GB/s (bench peak)",
            p.gflops, p.gbps
        )?;
        Some(p)
    } else {
        if opts.profile {
            writeln!(
                w,
                "profile: unavailable, the adapter lacks TIMESTAMP_QUERY_INSIDE_PASSES"
            )?;
        }
        None
    };
    let header = format!(
        "{:<30} {:>10} {:>12} {:>11} {:>14} {:>16}",
        "workload", "GPU it/s", "GPU GFLOP/s", "device MiB", "CPU exec it/s", "GPU / CPU exec"
    );
    writeln!(w, "{header}")?;
    let mut records = Vec::new();
    let chosen = workloads()?.into_iter().filter(|wl| {
        let short = wl.name.split(' ').next().unwrap_or("");
        opts.only.is_empty() || opts.only.iter().any(|o| o.eq_ignore_ascii_case(short))
    });
    for wl in chosen {
        let state = TrainState::fresh(
            &wl.cfg,
            &wl.cfg.g_network(wl.dim)?,
            &wl.cfg.d_network(wl.dim)?,
        )?;
        let gan = GanGraph::build(
            &wl.cfg,
            &GanInputs {
                data: DataRef::F32(&wl.data),
                dim: wl.dim,
                state: &state,
                probe: &[],
                eval_rows: 1,
                labels: &[],
                eval_labels: &[],
            },
        )?;
        let plan = GpuPlan::new(gpu, &gan.graph)?;
        // Device memory: every tensor's buffer (the data set included), not the small uniforms.
        let device_bytes: u64 = plan.buffers.iter().map(|b| b.size()).sum();
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
        let gflops = gpu_its * flops_per_iteration(&wl.cfg, wl.dim)? / 1e9;

        let cpu_its = if opts.skip_cpu {
            None
        } else {
            let mut cpu = CpuPlan::new(&gan.graph);
            cpu.run(&gan.iteration);
            let cpu_n = if wl.dim == 2 {
                20
            } else if wl.cfg.batch <= 64 {
                3
            } else {
                1
            };
            let t0 = Instant::now();
            for _ in 0..cpu_n {
                cpu.run(&gan.iteration);
            }
            Some((cpu_n, cpu_n as f64 / t0.elapsed().as_secs_f64()))
        };
        let mib = device_bytes as f64 / (1 << 20) as f64;
        match cpu_its {
            Some((n, c)) => writeln!(
                w,
                "{:<30} {:>10.2} {:>12.2} {:>11.1} {:>10.3} ({n:>2}) {:>15.1}x",
                wl.name,
                gpu_its,
                gflops,
                mib,
                c,
                gpu_its / c
            )?,
            None => writeln!(
                w,
                "{:<30} {:>10.2} {:>12.2} {:>11.1} {:>14} {:>16}",
                wl.name, gpu_its, gflops, mib, "-", "-"
            )?,
        }
        let mut record = json!({
            "workload": wl.name,
            "gpu_its": gpu_its,
            "gpu_gflops": gflops,
            "device_bytes": device_bytes,
            "cpu_exec_its": cpu_its.map(|c| c.1),
            "dispatches_per_iteration": it.len(),
        });
        if let Some(peak) = &peak {
            // The iteration's ops one by one, so every dispatch keeps its op's shape.
            let mut costs = Vec::new();
            let mut list = Vec::new();
            for op in &gan.iteration {
                for d in plan.compile(gpu, std::slice::from_ref(op))? {
                    costs.push(profile::cost(op, d.name));
                    list.push(d);
                }
            }
            let iters = if opts.quick { 3 } else { 10 };
            profile::dispatch_times(gpu, &list, 1)?; // warm-up
            let secs = profile::dispatch_times(gpu, &list, iters)?;
            let p = profile::table(&costs, &secs, peak, iters, 1.0 / gpu_its);
            w.push_str(&profile::describe(&p, peak));
            record["profile"] = serde_json::to_value(&p)?;
        }
        records.push(record);
    }
    let json = json!({
        "warmup": warm,
        "timed": timed,
        "peak": peak,
        "workloads": records,
    });
    Ok(Report::new(gpu, "train", text, json))
}
