//! Conditional runs (`gan::conditional`): whole D-then-G iterations on the GPU against the CPU
//! executor from the same seed, for an MLP GAN and a DCGAN on the labelled digits, with k = 2 D
//! steps (each with its own labels) and G's moving average. Tolerances as their unconditional
//! twins: tests/executor_parity.rs (rtol 1e-3, atol 1e-5) for the MLP, tests/dcgan.rs (rtol
//! 1e-3, atol 1e-4; weights after Adam steps atol = lr) for the DCGAN. The labels are integers
//! and compared exactly; the real rows' labels are checked against the images they came with.
mod common;
use common::*;
use shadergan::gan::conditional::rows_per_class;
use shadergan::gan::config::{Arch, TrainConfig};
use shadergan::gan::schedule::{DataRef, GanGraph, GanInputs};
use shadergan::gan::state::TrainState;
use shadergan::graph::cpu::CpuPlan;
use shadergan::graph::gpu::GpuPlan;

/// The first 300 digits as a run holds them (bytes) and their labels.
fn digits() -> (Vec<u8>, Vec<u32>) {
    let l = shadergan::data::Dataset::Digits
        .load_conditional(None, 1, u64::MAX)
        .unwrap();
    assert_eq!(l.classes, 10);
    let bytes = l.images.pixels[..300 * 64]
        .iter()
        .map(|v| ((v + 1.0) * 127.5).round() as u8)
        .collect();
    (bytes, l.labels[..300].to_vec())
}

fn mlp_config() -> TrainConfig {
    TrainConfig {
        dataset: "digits".into(),
        arch: Arch::Mlp,
        conditional: true,
        classes: 10,
        batch: 7,
        z_dim: 3,
        g_hidden: vec![11],
        d_hidden: vec![13, 9],
        g_out: "tanh".into(),
        d_steps: 2,
        g_ema: 0.9,
        lr_d: 1e-3,
        lr_g: 1e-3,
        seed: 11,
        ..TrainConfig::defaults_for("digits")
    }
}

fn dcgan_config() -> TrainConfig {
    TrainConfig {
        dataset: "digits".into(),
        arch: Arch::Dcgan,
        conditional: true,
        classes: 10,
        batch: 6,
        z_dim: 5,
        g_channels: 4,
        d_channels: 3,
        lr_d: 2e-4,
        lr_g: 2e-4,
        seed: 5,
        ..TrainConfig::defaults_for("digits")
    }
}

/// Runs `iters` iterations and the snapshot on both executors; `atol` for losses and gradients,
/// `w_atol` for weights.
fn iterations_match(cfg: &TrainConfig, iters: usize, atol: f32, w_atol: f32) {
    cfg.validate().unwrap();
    let g = gpu();
    let (data, labels) = digits();
    let (gs, ds) = (cfg.g_network(64).unwrap(), cfg.d_network(64).unwrap());
    let state = TrainState::fresh(cfg, &gs, &ds).unwrap();
    let c = cfg.conditioning(64).unwrap().unwrap();
    assert_eq!(
        state.g_params.len(),
        gs.param_count().unwrap() + 10 * 10,
        "G's table follows its weights"
    );
    assert_eq!(
        state.d_params.len(),
        ds.param_count().unwrap() + 10 * c.d_dim
    );
    let eval_labels = rows_per_class(20, 2, 10);
    let gan = GanGraph::build(
        cfg,
        &GanInputs {
            data: DataRef::U8(&data),
            dim: 64,
            state: &state,
            probe: &[],
            eval_rows: 20,
            labels: &labels,
            eval_labels: &eval_labels,
        },
    )
    .unwrap();
    let cond = gan.cond.as_ref().unwrap();
    let plan = GpuPlan::new(g, &gan.graph).unwrap();
    let it = plan.compile(g, &gan.iteration).unwrap();
    let snap = plan.compile(g, &gan.snapshot).unwrap();
    let mut cpu = CpuPlan::new(&gan.graph);
    for i in 0..iters {
        plan.run(g, &[&it], 1).unwrap();
        cpu.run(&gan.iteration);
        let what = |x: &str| format!("{x} after iteration {}", i + 1);
        let got = plan.read_u32(g, cond.labels).unwrap();
        assert_eq!(got, cpu.tensors[cond.labels].u32(), "{}", what("labels"));
        assert!(got.iter().all(|&l| l < 10), "{}", what("labels in range"));
        for (name, t, tol) in [
            ("metrics", gan.metrics, atol),
            ("G gradients", gan.g.grads(), atol),
            ("D gradients", gan.d.grads(), atol),
            ("G weights", gan.g.params(), w_atol),
            ("D weights", gan.d.params(), w_atol),
        ] {
            let got = plan.read_f32(g, t).unwrap();
            assert_close(&what(name), &got, cpu.tensors[t].f32(), 1e-3, tol);
        }
    }
    plan.run(g, &[&snap], 1).unwrap();
    cpu.run(&gan.snapshot);
    let t = gan.eval_g.output_view(None).t;
    assert_close(
        "samples of the fixed noise and classes",
        &plan.read_f32(g, t).unwrap(),
        cpu.tensors[t].f32(),
        1e-3,
        atol,
    );
    // The last D step's real rows carry their images' labels: find each real row in the data.
    let xd = cpu.tensors[gan.xd].f32();
    let lab = cpu.tensors[cond.labels].u32();
    for r in 0..cfg.batch {
        let row: Vec<u8> = xd[r * 64..(r + 1) * 64]
            .iter()
            .map(|v| ((v + 1.0) * 127.5).round() as u8)
            .collect();
        let found = data.chunks(64).position(|img| img == row.as_slice());
        let found = found.expect("a real row is an image of the data set");
        assert_eq!(lab[r], labels[found], "real row {r}'s label");
    }
    // Both tables learned, and the embeddings' gradients were not all zero.
    let (g_own, d_own) = (gs.param_count().unwrap(), ds.param_count().unwrap());
    let gw = cpu.tensors[gan.g.params()].f32();
    let dw = cpu.tensors[gan.d.params()].f32();
    assert!(gw[g_own..] != state.g_params[g_own..], "G's table moved");
    assert!(dw[d_own..] != state.d_params[d_own..], "D's table moved");
}

#[test]
fn whole_conditional_mlp_iterations_match_cpu_executor() {
    iterations_match(&mlp_config(), 4, 1e-5, 1e-5);
}

#[test]
fn whole_conditional_dcgan_iterations_match_cpu_executor() {
    let cfg = dcgan_config();
    iterations_match(&cfg, 3, 1e-4, cfg.lr_g);
}

/// The labels drawn for generated rows are each class about equally often (uniform on the GPU),
/// and differ between the D steps and the G step.
#[test]
fn generated_labels_are_uniform_over_the_classes() {
    let cfg = TrainConfig {
        batch: 500,
        ..mlp_config()
    };
    let g = gpu();
    let (data, labels) = digits();
    let (gs, ds) = (cfg.g_network(64).unwrap(), cfg.d_network(64).unwrap());
    let state = TrainState::fresh(&cfg, &gs, &ds).unwrap();
    let eval_labels = rows_per_class(10, 1, 10);
    let gan = GanGraph::build(
        &cfg,
        &GanInputs {
            data: DataRef::U8(&data),
            dim: 64,
            state: &state,
            probe: &[],
            eval_rows: 10,
            labels: &labels,
            eval_labels: &eval_labels,
        },
    )
    .unwrap();
    let plan = GpuPlan::new(g, &gan.graph).unwrap();
    let it = plan.compile(g, &gan.iteration).unwrap();
    let t = gan.cond.as_ref().unwrap().labels;
    let mut counts = [0usize; 10];
    for _ in 0..4 {
        plan.run(g, &[&it], 1).unwrap();
        for &l in &plan.read_u32(g, t).unwrap()[500..] {
            counts[l as usize] += 1;
        }
    }
    // 2,000 draws: 200 expected per class, sd about 13; 150..250 is about 4 sd.
    assert!(
        counts.iter().all(|&c| (150..=250).contains(&c)),
        "{counts:?}"
    );
}
