//! Choosing a backend and an adapter, and describing every adapter for `shadergan devices`.

use super::error::{CPU_GL, INSTALL_HINT};
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

/// What choosing an adapter looks at, apart from `wgpu::Adapter` so that the choice can be tested
/// on machines made up in a test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: wgpu::Backend,
    pub device_type: wgpu::DeviceType,
}

impl AdapterSummary {
    pub fn of(adapter: &wgpu::Adapter) -> AdapterSummary {
        let info = adapter.get_info();
        AdapterSummary {
            name: info.name,
            backend: info.backend,
            device_type: info.device_type,
        }
    }

    /// OpenGL on the CPU (Mesa's llvmpipe or softpipe): never used, see [`super::error::CPU_GL`].
    pub fn is_cpu_gl(&self) -> bool {
        self.backend == wgpu::Backend::Gl && self.device_type == wgpu::DeviceType::Cpu
    }

    /// Whether `filter` (case-insensitive) is part of the name; no filter matches everything.
    pub fn matches(&self, filter: Option<&str>) -> bool {
        filter.is_none_or(|f| self.name.to_lowercase().contains(&f.to_lowercase()))
    }

    /// "name (Backend, DeviceType)", as error messages list adapters.
    pub fn describe(&self) -> String {
        format!("{} ({:?}, {:?})", self.name, self.backend, self.device_type)
    }
}

/// Preference when no name is given: discrete, integrated, virtual, then CPU (lavapipe) GPUs;
/// Vulkan/Metal/DX12 before GL, which lacks some compute limits.
fn rank(a: &AdapterSummary) -> (u8, u8) {
    let ty = match a.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    };
    let be = if a.backend == wgpu::Backend::Gl { 1 } else { 0 };
    (be, ty)
}

/// The index in `present` (the adapters of the requested backends) of the best-ranked adapter
/// whose name matches `filter`, never one that is OpenGL on the CPU. Otherwise the indices of the
/// matching adapters refused for being OpenGL on the CPU (empty when nothing matched at all).
pub fn choose(present: &[AdapterSummary], filter: Option<&str>) -> Result<usize, Vec<usize>> {
    let matching = || (0..present.len()).filter(|&i| present[i].matches(filter));
    matching()
        .filter(|&i| !present[i].is_cpu_gl())
        .min_by_key(|&i| rank(&present[i]))
        .ok_or_else(|| matching().collect())
}

/// The error for "nothing to run on": what was asked for, every adapter on the machine (all
/// backends, not only the requested ones), and the install hint only when none of them is usable.
fn no_adapter(backend: Backend, filter: Option<&str>, refused: Vec<String>) -> GpuError {
    let everywhere: Vec<AdapterSummary> = enumerate_everywhere(backend);
    GpuError::NoAdapter {
        tried: backend_names(backend.backends()),
        name_filter: filter.map(str::to_string),
        seen: everywhere
            .iter()
            .map(|a| {
                if a.is_cpu_gl() {
                    format!("{} [not usable]", a.describe())
                } else {
                    a.describe()
                }
            })
            .collect(),
        refused_cpu_gl: refused,
        install_hint: everywhere.iter().all(AdapterSummary::is_cpu_gl),
    }
}

/// Every adapter of every backend compiled in (only on the error path: creating a GL instance
/// that was not asked for costs time and may print driver warnings).
fn enumerate_everywhere(backend: Backend) -> Vec<AdapterSummary> {
    let all = wgpu::Backends::all();
    let adapters = if backend.backends() == all {
        enumerate(backend)
    } else {
        let inst = instance(all);
        pollster::block_on(inst.enumerate_adapters(all))
    };
    adapters.iter().map(AdapterSummary::of).collect()
}

pub(super) fn pick_adapter(opts: &GpuOptions) -> Result<wgpu::Adapter, GpuError> {
    let mut adapters = enumerate(opts.backend);
    let present: Vec<AdapterSummary> = adapters.iter().map(AdapterSummary::of).collect();
    match choose(&present, opts.adapter.as_deref()) {
        Ok(i) => Ok(adapters.swap_remove(i)),
        Err(refused) => {
            let refused = refused.iter().map(|&i| present[i].describe()).collect();
            Err(no_adapter(opts.backend, opts.adapter.as_deref(), refused))
        }
    }
}

/// A human-readable description of every adapter whose name matches `filter` and the limits that
/// matter to shadergan; an error when none matches.
pub fn adapter_report(backend: Backend, filter: Option<&str>) -> Result<String, GpuError> {
    let adapters: Vec<wgpu::Adapter> = enumerate(backend)
        .into_iter()
        .filter(|a| AdapterSummary::of(a).matches(filter))
        .collect();
    if adapters.is_empty() {
        return Err(no_adapter(backend, filter, vec![]));
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
        if AdapterSummary::of(a).is_cpu_gl() {
            let _ = writeln!(s, "    not used by shadergan:    {CPU_GL}");
        }
    }
    if adapters.iter().all(|a| AdapterSummary::of(a).is_cpu_gl()) {
        if enumerate_everywhere(backend)
            .iter()
            .all(AdapterSummary::is_cpu_gl)
        {
            let _ = writeln!(s, "No adapter above is usable. {INSTALL_HINT}");
        } else {
            let _ = writeln!(
                s,
                "No adapter above is usable; `shadergan devices` without --backend and \
                 --adapter lists the others."
            );
        }
    }
    Ok(s)
}
