//! Benchmarks in physical units (GFLOP/s, GB/s), shared by `cargo bench` and `shadergan bench`.
//! Each returns a [`Report`]: the text a person reads and the JSON record a script compares.

pub mod kernels;
pub mod peak;
pub mod profile;
pub mod quality;
pub mod stacked;
pub mod startup;
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

/// A timestamp query set of `count` queries and the buffer they resolve into (8 bytes each).
pub(crate) fn timestamp_queries(
    gpu: &crate::gpu::Gpu,
    label: &str,
    count: u32,
) -> Result<(wgpu::QuerySet, wgpu::Buffer), crate::gpu::GpuError> {
    gpu.checked(label, || {
        let queries = gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some(label),
            ty: wgpu::QueryType::Timestamp,
            count,
        });
        let resolved = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: count as u64 * 8,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        (queries, resolved)
    })
}
