//! The shortest complete use of the library: open a GPU, train a GAN on the 8-Gaussian ring,
//! and print how many modes the generator captured.
//!
//!     cargo run --release --example train_ring
//!
//! Read next: src/gan/schedule.rs (one iteration of Algorithm 1 as a list of kernel launches),
//! then src/graph/net.rs (forward, and backward in exactly the reverse order).
use shadergan::gan::config::TrainConfig;
use shadergan::gpu::{Gpu, GpuOptions};
use shadergan::run::train;

fn main() -> anyhow::Result<()> {
    let gpu = Gpu::new(&GpuOptions::default())?;
    println!("GPU: {} ({:?})", gpu.info.name, gpu.info.backend);
    let cfg = TrainConfig {
        iterations: 3000,
        lr_decay_iters: 3000,
        ..TrainConfig::default()
    };
    let out = std::env::temp_dir().join("shadergan-example-ring");
    let _ = std::fs::remove_dir_all(&out);
    let summary = train(&gpu, &cfg, &out, None)?;
    println!(
        "{:.1} it/s; {}",
        summary.iterations as f64 / summary.seconds,
        summary.last.summary()
    );
    if let Some(report) = summary.report {
        println!("{report}");
    }
    println!("pictures in {}", out.display());
    Ok(())
}
