//! Whole D-then-G iterations on the GPU plan against the CPU executor from the same seed: a small
//! MLP GAN on the ring (three iterations) and a small DCGAN on the embedded digits (two), every
//! kernel of a training step in the order training runs them. Tolerance rtol 1e-3, atol 1e-4
//! (tests/executor_parity.rs and tests/dcgan.rs): long reductions summed in other orders, carried
//! through Adam steps.

use super::FamilyResult;
use crate::gan::config::{Arch, TrainConfig};
use crate::gan::schedule::{DataRef, GanGraph, GanInputs};
use crate::gan::state::TrainState;
use crate::gpu::{Gpu, GpuError};
use crate::graph::cpu::CpuPlan;
use crate::graph::gpu::GpuPlan;

fn shape_err(e: anyhow::Error) -> GpuError {
    GpuError::Shape(format!("{e:#}"))
}

/// Runs `iters` iterations both ways and compares the metrics after each, then the weights,
/// gradients and Adam moments.
fn iterations(
    gpu: &Gpu,
    r: &mut FamilyResult,
    cfg: &TrainConfig,
    data: DataRef,
    dim: usize,
    iters: usize,
) -> Result<(), GpuError> {
    let (gs, ds) = (
        cfg.g_network(dim).map_err(shape_err)?,
        cfg.d_network(dim).map_err(shape_err)?,
    );
    let state = TrainState::fresh(cfg, &gs, &ds).map_err(shape_err)?;
    let inputs = GanInputs {
        data,
        dim,
        state: &state,
        probe: &[],
        eval_rows: 4,
        labels: &[],
        eval_labels: &[],
    };
    let gan = GanGraph::build(cfg, &inputs).map_err(shape_err)?;
    let plan = GpuPlan::new(gpu, &gan.graph)?;
    let it = plan.compile(gpu, &gan.iteration)?;
    for d in &it {
        r.cover(d.name);
    }
    let mut cpu = CpuPlan::new(&gan.graph);
    for i in 0..iters {
        plan.run(gpu, &[&it], 1)?;
        cpu.run(&gan.iteration);
        let got = plan.read_f32(gpu, gan.metrics)?;
        let what = format!("metrics after iteration {}", i + 1);
        r.close(&what, &got, cpu.tensors[gan.metrics].f32(), 1e-3, 1e-4);
    }
    for (what, t) in [
        ("G weights", gan.g.params()),
        ("D weights", gan.d.params()),
        ("G gradients", gan.g.grads()),
        ("D gradients", gan.d.grads()),
        ("G Adam m", gan.g.adam_m()),
        ("D Adam v", gan.d.adam_v()),
    ] {
        let got = plan.read_f32(gpu, t)?;
        r.close(what, &got, cpu.tensors[t].f32(), 1e-3, 1e-4);
    }
    let counters = plan.read_u32(gpu, gan.state)?;
    r.exact("counters", &counters, cpu.tensors[gan.state].u32());
    Ok(())
}

/// An MLP GAN on the ring, odd widths and batch.
pub fn mlp(gpu: &Gpu, _quick: bool, r: &mut FamilyResult) -> Result<(), GpuError> {
    let cfg = TrainConfig {
        batch: 33,
        z_dim: 3,
        g_hidden: vec![19, 21],
        d_hidden: vec![23, 11],
        lr_d: 1e-3,
        lr_g: 1e-3,
        seed: 7,
        data_size: 500,
        ..TrainConfig::default()
    };
    let data = crate::data::Dataset::parse(&cfg.dataset)
        .map_err(shape_err)?
        .sample(
            cfg.data_size,
            &mut crate::noise::PhiloxNoise::new(cfg.seed, 1),
        );
    iterations(gpu, r, &cfg, DataRef::F32(&data), 2, 3)
}

/// A DCGAN on the embedded 8 x 8 digits: convolutions, transposed convolutions, batch norms.
pub fn dcgan(gpu: &Gpu, _quick: bool, r: &mut FamilyResult) -> Result<(), GpuError> {
    let cfg = TrainConfig {
        dataset: "digits".into(),
        arch: Arch::Dcgan,
        batch: 6,
        z_dim: 5,
        g_channels: 4,
        d_channels: 3,
        seed: 5,
        ..TrainConfig::defaults_for("digits")
    };
    let set = crate::data::digits().map_err(shape_err)?;
    let data: Vec<u8> = set.pixels[..200 * 64]
        .iter()
        .map(|v| ((v + 1.0) * 127.5).round() as u8)
        .collect();
    iterations(gpu, r, &cfg, DataRef::U8(&data), 64, 2)
}
