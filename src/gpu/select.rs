//! Choosing a backend and an adapter, and describing every adapter for `shadergan devices`.

use super::GpuError;
use std::fmt::Write as _;

/// The graphics API to run on. `Auto` honours the `WGPU_BACKEND` variable (e.g. `vulkan,gl`)
/// and otherwise tries every backend compiled in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    #[default]
    Auto,
    Vulkan,
    Metal,
    Dx12,
    Gl,
}

impl Backend {
    pub fn backends(self) -> wgpu::Backends {
        match self {
            Backend::Auto => wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all()),
            Backend::Vulkan => wgpu::Backends::VULKAN,
            Backend::Metal => wgpu::Backends::METAL,
            Backend::Dx12 => wgpu::Backends::DX12,
            Backend::Gl => wgpu::Backends::GL,
        }
    }
}

/// Which adapter to use: a backend and an optional case-insensitive substring of its name.
#[derive(Clone, Debug, Default)]
pub struct GpuOptions {
    pub backend: Backend,
    pub adapter: Option<String>,
}

fn backend_names(b: wgpu::Backends) -> String {
    let all = [
        (wgpu::Backends::VULKAN, "vulkan"),
        (wgpu::Backends::METAL, "metal"),
        (wgpu::Backends::DX12, "dx12"),
        (wgpu::Backends::GL, "gl"),
    ];
    let names: Vec<&str> = all
        .iter()
        .filter(|(f, _)| b.contains(*f))
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

fn instance(backends: wgpu::Backends) -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = backends;
    wgpu::Instance::new(desc)
}

/// Every adapter the chosen backends expose.
pub fn enumerate(backend: Backend) -> Vec<wgpu::Adapter> {
    let inst = instance(backend.backends());
    pollster::block_on(inst.enumerate_adapters(backend.backends()))
}

/// Preference when no name is given: discrete, integrated, virtual, then CPU (lavapipe) GPUs;
/// Vulkan/Metal/DX12 before GL, which lacks some compute limits.
fn rank(a: &wgpu::Adapter) -> (u8, u8) {
    let info = a.get_info();
    let ty = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    };
    let be = if info.backend == wgpu::Backend::Gl {
        1
    } else {
        0
    };
    (be, ty)
}

pub(super) fn pick_adapter(opts: &GpuOptions) -> Result<wgpu::Adapter, GpuError> {
    let adapters = enumerate(opts.backend);
    let seen: Vec<String> = adapters
        .iter()
        .map(|a| {
            let i = a.get_info();
            format!("{} ({:?})", i.name, i.backend)
        })
        .collect();
    let mut matching: Vec<wgpu::Adapter> = adapters
        .into_iter()
        .filter(|a| match &opts.adapter {
            Some(n) => a.get_info().name.to_lowercase().contains(&n.to_lowercase()),
            None => true,
        })
        .collect();
    matching.sort_by_key(rank);
    matching
        .into_iter()
        .next()
        .ok_or_else(|| GpuError::NoAdapter {
            tried: backend_names(opts.backend.backends()),
            name_filter: opts.adapter.clone(),
            seen,
        })
}

/// A human-readable description of every adapter and the limits that matter to shadergan.
pub fn adapter_report(backend: Backend) -> Result<String, GpuError> {
    let adapters = enumerate(backend);
    if adapters.is_empty() {
        return Err(GpuError::NoAdapter {
            tried: backend_names(backend.backends()),
            name_filter: None,
            seen: vec![],
        });
    }
    let mut s = String::new();
    for (i, a) in adapters.iter().enumerate() {
        let info = a.get_info();
        let l = a.limits();
        let ts = a.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let _ = writeln!(s, "[{i}] {}", info.name);
        let _ = writeln!(s, "    backend:                  {:?}", info.backend);
        let _ = writeln!(s, "    device type:              {:?}", info.device_type);
        let _ = writeln!(
            s,
            "    driver:                   {} {}",
            info.driver, info.driver_info
        );
        let _ = writeln!(
            s,
            "    max storage binding:      {} bytes ({:.0} MiB)",
            l.max_storage_buffer_binding_size,
            l.max_storage_buffer_binding_size as f64 / 1048576.0
        );
        let _ = writeln!(
            s,
            "    max buffer size:          {} bytes ({:.0} MiB)",
            l.max_buffer_size,
            l.max_buffer_size as f64 / 1048576.0
        );
        let _ = writeln!(
            s,
            "    max workgroup size:       {} x {} x {}, {} invocations",
            l.max_compute_workgroup_size_x,
            l.max_compute_workgroup_size_y,
            l.max_compute_workgroup_size_z,
            l.max_compute_invocations_per_workgroup
        );
        let _ = writeln!(
            s,
            "    workgroup storage:        {} bytes",
            l.max_compute_workgroup_storage_size
        );
        let _ = writeln!(
            s,
            "    storage buffers / stage:  {}",
            l.max_storage_buffers_per_shader_stage
        );
        let _ = writeln!(
            s,
            "    timestamp queries:        {}",
            if ts { "yes" } else { "no" }
        );
    }
    Ok(s)
}
