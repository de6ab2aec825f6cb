//! One GAN iteration written out as the op list the GPU replays, run step by step on the CPU
//! executor (plain loops, no GPU needed): a way to read Algorithm 1 as the machine does.
//!
//!     cargo run --release --example one_iteration_cpu
use shadergan::data::Dataset;
use shadergan::gan::config::TrainConfig;
use shadergan::gan::schedule::{GanGraph, GanInputs};
use shadergan::gan::state::{TrainState, M_D_LOSS, M_G_LOSS};
use shadergan::graph::cpu::CpuPlan;
use shadergan::noise::PhiloxNoise;

fn main() -> anyhow::Result<()> {
    let cfg = TrainConfig {
        batch: 8,
        g_hidden: vec![16],
        d_hidden: vec![16],
        ..TrainConfig::default()
    };
    let data = Dataset::parse("ring")?.sample(256, &mut PhiloxNoise::new(cfg.seed, 1));
    let state = TrainState::fresh(&cfg, &cfg.g_network(2)?, &cfg.d_network(2)?)?;
    let inputs = GanInputs {
        data: shadergan::gan::schedule::DataRef::F32(&data),
        dim: 2,
        state: &state,
        probe: &[],
        eval_rows: 1,
        labels: &[],
        eval_labels: &[],
    };
    let gan = GanGraph::build(&cfg, &inputs)?;
    for (i, op) in gan.iteration.iter().enumerate() {
        println!("{i:3} {op:?}");
    }
    let mut cpu = CpuPlan::new(&gan.graph);
    cpu.run(&gan.iteration);
    let m = cpu.tensors[gan.metrics].f32();
    println!(
        "after one iteration: D loss (-V) {:.4}, G loss {:.4}",
        m[M_D_LOSS], m[M_G_LOSS]
    );
    Ok(())
}
