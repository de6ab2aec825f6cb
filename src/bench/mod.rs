//! Benchmarks in physical units (GFLOP/s, GB/s), shared by `cargo bench` and `shadergan bench`.

pub mod kernels;
pub mod workloads;
