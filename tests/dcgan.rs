//! DCGAN (`--arch dcgan`): the networks built for each supported image size, clear errors for
//! the others, and whole D-then-G iterations on the GPU against the CPU executor from the same
//! seed. Convolution sums and batch-norm trees differ in order between the two, so losses,
//! gradients and running statistics agree to rtol 1e-3 / atol 1e-4; weights after Adam steps are
//! compared to atol = lr, since Adam moves a weight whose gradient is near zero by about +-lr
//! with the sign rounding decides.
mod common;
use common::*;
use shadergan::gan::config::{Arch, TrainConfig};
use shadergan::gan::dcgan;
use shadergan::gan::schedule::{DataRef, GanGraph, GanInputs};
use shadergan::gan::state::TrainState;
use shadergan::graph::convnet::Block;
use shadergan::graph::cpu::CpuPlan;
use shadergan::graph::gpu::GpuPlan;
use shadergan::graph::network::NetworkSpec;

#[test]
fn networks_for_each_size_and_a_clear_error_otherwise() {
    for (side, channels) in [(8, 1), (28, 1), (32, 3), (64, 3)] {
        let g = dcgan::generator(100, side, channels, 64).unwrap();
        assert_eq!(
            g.output_shape().unwrap(),
            [channels, side, side],
            "G for {side}"
        );
        let d = dcgan::discriminator(side, channels, 64, 0.2).unwrap();
        assert_eq!(d.output_shape().unwrap(), [1, 1, 1], "D for {side}");
        // Batch norm on every D block but the first (Radford et al. 2015, section 3).
        let bns = d.blocks.iter().filter(|b| **b == Block::BatchNorm).count();
        let convs = d
            .blocks
            .iter()
            .filter(|b| matches!(b, Block::Conv2d { .. }))
            .count();
        assert_eq!(bns + 1, convs);
    }
    // 28 x 28 with 64 channels is workload C of benches/WORKLOADS.md: G 100 -> 128 x 7 x 7 ->
    // ConvT(128 -> 64) -> ConvT(64 -> 1); D Conv(1 -> 64) -> Conv(64 -> 128) -> Linear(6272, 1).
    let g = dcgan::generator(100, 28, 1, 64).unwrap();
    assert_eq!(
        g.blocks[0],
        Block::Linear {
            out: 128 * 7 * 7,
            bias: false
        }
    );
    assert_eq!(g.blocks[3], Block::Unflatten { c: 128, h: 7, w: 7 });
    let d = dcgan::discriminator(28, 1, 64, 0.2).unwrap();
    assert_eq!(d.plan().unwrap().last().unwrap().inp, [128 * 7 * 7, 1, 1]);
    let err = dcgan::side(30 * 30, 1).unwrap_err().to_string();
    assert!(err.contains("8, 28, 32, 64") && err.contains("30"), "{err}");
    let cfg = TrainConfig {
        arch: Arch::Dcgan,
        ..TrainConfig::default()
    };
    let err = cfg.validate().unwrap_err().to_string();
    assert!(err.contains("not an image data set"), "{err}");
}

#[test]
fn whole_dcgan_iterations_match_cpu_executor() {
    let g = gpu();
    let cfg = TrainConfig {
        dataset: "digits".into(),
        arch: Arch::Dcgan,
        batch: 6,
        z_dim: 5,
        g_channels: 4,
        d_channels: 3,
        lr_d: 2e-4,
        lr_g: 2e-4,
        seed: 5,
        ..TrainConfig::defaults_for("digits")
    };
    cfg.validate().unwrap();
    let set = shadergan::data::Dataset::parse("digits")
        .unwrap()
        .load_images(None, 1, u64::MAX)
        .unwrap();
    // As a training run holds images: bytes, expanded by the gather (gather_rows_u8).
    let data: Vec<u8> = set.pixels[..200 * 64]
        .iter()
        .map(|v| ((v + 1.0) * 127.5).round() as u8)
        .collect();
    let (gs, ds) = (cfg.g_network(64).unwrap(), cfg.d_network(64).unwrap());
    assert!(matches!(gs, NetworkSpec::Conv(_)) && matches!(ds, NetworkSpec::Conv(_)));
    let state = TrainState::fresh(&cfg, &gs, &ds).unwrap();
    let gan = GanGraph::build(
        &cfg,
        &GanInputs {
            data: DataRef::U8(&data),
            dim: 64,
            state: &state,
            probe: &[],
            eval_rows: 4,
            labels: &[],
            eval_labels: &[],
        },
    )
    .unwrap();
    let plan = GpuPlan::new(g, &gan.graph).unwrap();
    let it = plan.compile(g, &gan.iteration).unwrap();
    let snap = plan.compile(g, &gan.snapshot).unwrap();
    let mut cpu = CpuPlan::new(&gan.graph);
    // The first iteration's gradients (G's from the generator step, D's from the generator
    // step's backward through D) from identical weights.
    plan.run(g, &[&it], 1).unwrap();
    cpu.run(&gan.iteration);
    for (what, t) in [
        ("G gradients", gan.g.grads()),
        ("D gradients", gan.d.grads()),
    ] {
        assert_close(
            what,
            &plan.read_f32(g, t).unwrap(),
            cpu.tensors[t].f32(),
            1e-3,
            1e-4,
        );
    }
    for i in 1..3 {
        plan.run(g, &[&it], 1).unwrap();
        cpu.run(&gan.iteration);
        assert_close(
            &format!("metrics after iteration {}", i + 1),
            &plan.read_f32(g, gan.metrics).unwrap(),
            cpu.tensors[gan.metrics].f32(),
            1e-3,
            1e-4,
        );
    }
    plan.run(g, &[&snap], 1).unwrap();
    cpu.run(&gan.snapshot);
    for (what, t) in [("G weights", gan.g.params()), ("D weights", gan.d.params())] {
        let got = plan.read_f32(g, t).unwrap();
        assert_close(what, &got, cpu.tensors[t].f32(), 0.0, cfg.lr_g);
    }
    let running = |n: &shadergan::graph::network::Network| n.running().unwrap();
    for (what, t) in [
        ("G running statistics", running(&gan.g)),
        ("D running statistics", running(&gan.d)),
        ("eval-mode samples", gan.eval_g.output_view(None).t),
    ] {
        assert_close(
            what,
            &plan.read_f32(g, t).unwrap(),
            cpu.tensors[t].f32(),
            1e-3,
            1e-4,
        );
    }
    assert!(cpu.tensors[gan.g.params()].f32() != state.g_params.as_slice());
    assert!(cpu.tensors[running(&gan.d)].f32() != state.d_running.as_slice());
}
