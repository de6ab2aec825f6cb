//! Benchmarks in physical units (GFLOP/s, GB/s), shared by `cargo bench` and `shadergan bench`.
//! Each returns a [`Report`]: the text a person reads and the JSON record a script compares.

pub mod kernels;
pub mod peak;
pub mod profile;
pub mod quality;
pub mod workloads;

use crate::gpu::Gpu;
use serde_json::{json, Value};

/// What a benchmark prints: text, and the same numbers as one JSON record.
pub struct Report {
    pub text: String,
    pub json: Value,
}

impl Report {
    /// A record of `bench` on `gpu`: the adapter, driver and backend it ran on, the timing
    /// method, and `results`.
    pub fn new(gpu: &Gpu, bench: &str, text: String, results: Value) -> Report {
        let i = &gpu.info;
        let json = json!({
            "bench": bench,
            "adapter": {
                "name": i.name,
                "vendor": i.vendor,
                "device": i.device,
                "device_type": format!("{:?}", i.device_type),
                "driver": i.driver,
                "driver_info": i.driver_info,
                "backend": format!("{:?}", i.backend),
            },
            "timestamps": gpu.timestamps,
            "timestamps_inside_passes": gpu.timestamps_inside_passes,
            "results": results,
        });
        Report { text, json }
    }
}
