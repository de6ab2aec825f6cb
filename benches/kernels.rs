//! `cargo bench --bench kernels`: the matmul and elementwise kernel benchmark of benches/WORKLOADS.md (K)
//! on the default adapter. Set SHADERGAN_BENCH_QUICK=1 to skip 2048^3.
use shadergan::gpu::{Gpu, GpuOptions};

fn main() {
    let gpu = match Gpu::new(&GpuOptions::default()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("kernels bench: {e}");
            std::process::exit(1);
        }
    };
    let quick = std::env::var_os("SHADERGAN_BENCH_QUICK").is_some();
    match shadergan::bench::kernels::run(&gpu, quick, None) {
        Ok(report) => print!("{}", report.text),
        Err(e) => {
            eprintln!("kernels bench: {e}");
            std::process::exit(1);
        }
    }
}
