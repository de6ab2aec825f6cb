//! Rust launchers for the WGSL kernels. A [`Kernel`] is one compute pipeline, built once; binding
//! it to buffers gives a [`Dispatch`], which a plan keeps and records into a compute pass as often
//! as it likes without allocating.
//!
//! Every shader family declares its bindings once at the top of its file; each entry point uses a
//! subset of them. wgpu's automatic layout keeps only the used ones, so a [`Kernel`] asks naga which
//! bindings its entry point touches and passes exactly those.
//!
//! Adding a kernel family or an op: see the checklist in CONTRIBUTING.md (what to add where, and
//! which test or compiler error catches each place you forget).

/// The layout of a launcher's `Params` as Rust lays it out: its size and the byte offset of every
/// named field. The WGSL `Params` of the family must match it field for field (padding aside);
/// `tests/launcher_contracts.rs` holds each one against naga's reflection of the shader.
#[derive(Debug)]
pub struct ParamsLayout {
    pub family: &'static str,
    pub size: usize,
    pub fields: &'static [(&'static str, usize)],
}

/// `params_layout!("x.wgsl", Params, field, ...)`: a [`ParamsLayout`] from the struct itself.
macro_rules! params_layout {
    ($family:expr, $ty:ty, $($field:ident),+ $(,)?) => {
        $crate::kernels::ParamsLayout {
            family: $family,
            size: ::std::mem::size_of::<$ty>(),
            fields: &[$((stringify!($field), ::std::mem::offset_of!($ty, $field))),+],
        }
    };
}

pub mod activation;
pub mod batchnorm;
pub mod bce;
pub mod conv;
pub mod embedding;
pub mod gather;
pub mod matmul;
pub mod matmul_choice;
pub mod matmul_sg;
pub mod optim;
pub mod peak;
pub mod rng;
pub mod softmax_xent;
pub mod spectral;

use crate::gpu::{Gpu, GpuError};
use std::sync::{Arc, OnceLock};

/// Every kernel family's pipelines, built once per device.
pub struct Kernels {
    pub act: activation::Activations,
    pub matmul: matmul::Matmul,
    pub batchnorm: batchnorm::BatchNorm,
    pub bce: bce::Bce,
    pub conv: conv::Conv,
    pub embed: embedding::Embedding,
    pub optim: optim::Optim,
    pub rng: rng::Rng,
    pub gather: gather::Gather,
    pub xent: softmax_xent::SoftmaxXent,
    pub spectral: spectral::Spectral,
}

impl Kernels {
    /// The device's kernels, made once and shared by every plan on it: pipelines are built when a
    /// kernel is first bound, once per process.
    pub fn shared(gpu: &Gpu) -> Result<Arc<Kernels>, GpuError> {
        gpu.shared(Kernels::new)
    }

    pub fn new(gpu: &Gpu) -> Result<Kernels, GpuError> {
        Ok(Kernels {
            act: activation::Activations::new(gpu)?,
            matmul: matmul::Matmul::new(gpu)?,
            batchnorm: batchnorm::BatchNorm::new(gpu)?,
            bce: bce::Bce::new(gpu)?,
            conv: conv::Conv::new(gpu)?,
            embed: embedding::Embedding::new(gpu)?,
            optim: optim::Optim::new(gpu)?,
            rng: rng::Rng::new(gpu)?,
            gather: gather::Gather::new(gpu)?,
            xent: softmax_xent::SoftmaxXent::new(gpu)?,
            spectral: spectral::Spectral::new(gpu)?,
        })
    }
}

/// Every launcher's uniform layout, one per family.
pub const PARAMS_LAYOUTS: &[ParamsLayout] = &[
    activation::PARAMS,
    batchnorm::PARAMS,
    bce::PARAMS,
    conv::PARAMS,
    embedding::PARAMS,
    gather::PARAMS,
    matmul::PARAMS,
    matmul::PARAMS_SG,
    optim::PARAMS,
    peak::PARAMS,
    rng::PARAMS,
    softmax_xent::PARAMS,
    spectral::PARAMS,
];

/// Helpers every shader family may call (activation functions), prepended to each family's source.
pub const COMMON: &str = include_str!("../../shaders/common.wgsl");

/// Every shader family: (file name, source without the common prelude).
pub const SHADERS: &[(&str, &str)] = &[
    (
        "activation.wgsl",
        include_str!("../../shaders/activation.wgsl"),
    ),
    (
        "batchnorm.wgsl",
        include_str!("../../shaders/batchnorm.wgsl"),
    ),
    ("bce.wgsl", include_str!("../../shaders/bce.wgsl")),
    ("conv.wgsl", include_str!("../../shaders/conv.wgsl")),
    (
        "embedding.wgsl",
        include_str!("../../shaders/embedding.wgsl"),
    ),
    ("gather.wgsl", include_str!("../../shaders/gather.wgsl")),
    ("matmul.wgsl", include_str!("../../shaders/matmul.wgsl")),
    (
        "matmul_sg.wgsl",
        include_str!("../../shaders/matmul_sg.wgsl"),
    ),
    ("optim.wgsl", include_str!("../../shaders/optim.wgsl")),
    ("peak.wgsl", include_str!("../../shaders/peak.wgsl")),
    ("rng.wgsl", include_str!("../../shaders/rng.wgsl")),
    (
        "softmax_xent.wgsl",
        include_str!("../../shaders/softmax_xent.wgsl"),
    ),
    ("spectral.wgsl", include_str!("../../shaders/spectral.wgsl")),
];

/// The source of the family in `file` (without the prelude). Panics on a name not in [`SHADERS`]:
/// that is a programmer error.
pub fn shader(file: &str) -> &'static str {
    SHADERS
        .iter()
        .find(|(n, _)| *n == file)
        .map(|(_, s)| *s)
        .unwrap_or_else(|| panic!("no shader family named {file}"))
}

/// The full source of a family as compiled: the common prelude, then the family's file.
pub fn full_source(family_source: &str) -> String {
    format!("{COMMON}\n{family_source}")
}

/// Parses and validates a WGSL source with naga, returning the module and its analysis.
pub fn validate_wgsl(
    name: &str,
    source: &str,
) -> Result<(naga::Module, naga::valid::ModuleInfo), String> {
    let module = naga::front::wgsl::parse_str(source)
        .map_err(|e| format!("{name}: {}", e.emit_to_string(source)))?;
    // Subgroup operations are allowed here; a family that uses them is only built where the
    // device granted `SUBGROUP` (wgpu validates again against the device's own features).
    let mut validator = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::SUBGROUP,
    );
    validator
        .subgroup_stages(naga::valid::ShaderStages::COMPUTE)
        .subgroup_operations(naga::valid::SubgroupOperationSet::all());
    let info = validator
        .validate(&module)
        .map_err(|e| format!("{name}: {}", e.emit_to_string(source)))?;
    Ok((module, info))
}

/// One compiled shader family: a module and its naga reflection, from which kernels are made.
pub struct ShaderFamily {
    name: &'static str,
    module: wgpu::ShaderModule,
    naga: naga::Module,
    info: naga::valid::ModuleInfo,
}

impl ShaderFamily {
    pub fn new(gpu: &Gpu, name: &'static str, source: &str) -> Result<ShaderFamily, GpuError> {
        Self::build(gpu, name, source, false)
    }

    /// [`Self::new`] without the bounds checks wgpu adds to the shader: the clamp of every
    /// index into an array, vector or buffer that is not a constant (wgpu's
    /// `ShaderRuntimeChecks::bounds_checks`; a driver with robust buffer access still bounds
    /// the buffer reads and writes itself, lavapipe among them). Loop bounding and the integer
    /// division checks stay.
    ///
    /// # Safety
    /// Every index in the family's entry points must be in range for every `Params` its
    /// launcher can bind: an index past an array's end reads or writes memory that is not the
    /// array's. The caller states why in a `SAFETY` comment.
    pub unsafe fn new_unclamped(
        gpu: &Gpu,
        name: &'static str,
        source: &str,
    ) -> Result<ShaderFamily, GpuError> {
        Self::build(gpu, name, source, true)
    }

    fn build(
        gpu: &Gpu,
        name: &'static str,
        source: &str,
        unclamped: bool,
    ) -> Result<ShaderFamily, GpuError> {
        let src = full_source(source);
        let (naga, info) = validate_wgsl(name, &src).map_err(|message| GpuError::Wgpu {
            what: format!("shader {name}"),
            message,
        })?;
        let module = gpu.checked(name, || {
            let desc = wgpu::ShaderModuleDescriptor {
                label: Some(name),
                source: wgpu::ShaderSource::Wgsl(src.as_str().into()),
            };
            if unclamped {
                let checks = wgpu::ShaderRuntimeChecks {
                    bounds_checks: false,
                    ..wgpu::ShaderRuntimeChecks::checked()
                };
                // SAFETY: the contract of `new_unclamped`, whose callers answer for their
                // shader's indices; naga still validates the module.
                unsafe { gpu.device.create_shader_module_trusted(desc, checks) }
            } else {
                gpu.device.create_shader_module(desc)
            }
        })?;
        Ok(ShaderFamily {
            name,
            module,
            naga,
            info,
        })
    }

    /// The kernel of `entry`: its bindings are read from the module now, its pipeline is built
    /// when it is first bound (see [`Kernel`]).
    pub fn kernel(&self, gpu: &Gpu, entry: &'static str) -> Result<Kernel, GpuError> {
        self.kernel_with(gpu, entry, &[])
    }

    /// The kernel of `entry` with its pipeline-overridable constants (`override` in WGSL) set to
    /// `constants`: one pipeline per set (matmul.wgsl's blocks).
    pub fn kernel_with(
        &self,
        _gpu: &Gpu,
        entry: &'static str,
        constants: &'static [(&'static str, f64)],
    ) -> Result<Kernel, GpuError> {
        let index = self
            .naga
            .entry_points
            .iter()
            .position(|e| e.name == entry)
            .ok_or_else(|| GpuError::Shape(format!("{} has no entry point {entry}", self.name)))?;
        let ep_info = self.info.get_entry_point(index);
        let mut used: Vec<(u32, String)> = Vec::new();
        let mut declared: Vec<String> = Vec::new();
        for (h, g) in self.naga.global_variables.iter() {
            let (Some(b), Some(name)) = (&g.binding, &g.name) else {
                continue;
            };
            declared.push(name.clone());
            if !ep_info[h].is_empty() {
                used.push((b.binding, name.clone()));
            }
        }
        used.sort_unstable();
        Ok(Kernel {
            name: entry,
            constants,
            module: self.module.clone(),
            pipeline: OnceLock::new(),
            used,
            declared,
        })
    }
}

/// One entry point and the bindings it uses. Its compute pipeline is built the first time the
/// kernel is bound, so a plan pays only for the kernels it uses: a CPU driver compiles each
/// pipeline with LLVM (lavapipe: 20 ms to 2.5 s a pipeline, at its first dispatch), and a
/// device's [`Kernels`] are shared by every plan on it ([`Kernels::shared`]), so no pipeline is
/// built or compiled twice in a process.
pub struct Kernel {
    pub name: &'static str,
    /// Values of the family's `override` constants for this pipeline.
    constants: &'static [(&'static str, f64)],
    module: wgpu::ShaderModule,
    pipeline: OnceLock<(wgpu::ComputePipeline, wgpu::BindGroupLayout)>,
    /// (binding number, variable name) of every binding the entry point touches.
    used: Vec<(u32, String)>,
    /// The names of every binding the family declares.
    declared: Vec<String>,
}

impl Kernel {
    /// Whether the family declares a binding of this name.
    pub fn declares(&self, name: &str) -> bool {
        self.declared.iter().any(|d| d == name)
    }

    /// The pipeline and its bind group layout, built on first use.
    fn pipeline(
        &self,
        gpu: &Gpu,
    ) -> Result<&(wgpu::ComputePipeline, wgpu::BindGroupLayout), GpuError> {
        if let Some(p) = self.pipeline.get() {
            return Ok(p);
        }
        let pipeline = gpu.checked(self.name, || {
            gpu.device
                .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(self.name),
                    layout: None,
                    module: &self.module,
                    entry_point: Some(self.name),
                    compilation_options: wgpu::PipelineCompilationOptions {
                        constants: self.constants,
                        ..Default::default()
                    },
                    cache: None,
                })
        })?;
        let layout = pipeline.get_bind_group_layout(0);
        // Two threads building the same pipeline at once keep the first; both are valid.
        Ok(self.pipeline.get_or_init(|| (pipeline, layout)))
    }

    /// Binds `buffers`, each named as its variable in the family's file (`("a", &a)`), and fixes
    /// the grid. Bindings this entry point does not use are skipped, so a launcher may name every
    /// buffer of the family. Done once, when a plan is built. A name the family does not declare,
    /// or a used binding left without a buffer, is a launcher bug and panics with both names.
    pub fn bind(
        &self,
        gpu: &Gpu,
        buffers: &[(&str, &wgpu::Buffer)],
        workgroups: [u32; 3],
    ) -> Result<Dispatch, GpuError> {
        for (name, _) in buffers {
            assert!(
                self.declared.iter().any(|d| d == name),
                "{}: the shader declares no binding named {name:?} (it has {:?})",
                self.name,
                self.declared
            );
        }
        let max = gpu.limits.max_compute_workgroups_per_dimension;
        if workgroups.iter().any(|&w| w > max) {
            return Err(GpuError::Shape(format!(
                "{} needs {workgroups:?} workgroups but the device allows {max} per dimension",
                self.name
            )));
        }
        let (pipeline, layout) = self.pipeline(gpu)?;
        let entries: Vec<wgpu::BindGroupEntry> = self
            .used
            .iter()
            .map(|(b, name)| {
                let (_, buf) = buffers.iter().find(|(n, _)| n == name).unwrap_or_else(|| {
                    panic!("{}: binding {b} ({name}) was not given a buffer", self.name)
                });
                wgpu::BindGroupEntry {
                    binding: *b,
                    resource: buf.as_entire_binding(),
                }
            })
            .collect();
        let bind_group = gpu.checked(self.name, || {
            gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(self.name),
                layout,
                entries: &entries,
            })
        })?;
        Ok(Dispatch {
            name: self.name,
            pipeline: pipeline.clone(),
            bind_group,
            workgroups,
        })
    }
}

/// A kernel bound to its buffers with a fixed grid: what a plan stores and replays.
#[derive(Clone, Debug)]
pub struct Dispatch {
    pub name: &'static str,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    pub workgroups: [u32; 3],
}

impl Dispatch {
    /// Records this dispatch; allocates nothing.
    pub fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        let [x, y, z] = self.workgroups;
        pass.dispatch_workgroups(x, y, z);
    }
}

/// A buffer and the element offset an operand starts at.
#[derive(Clone, Copy)]
pub struct At<'a> {
    pub buf: &'a wgpu::Buffer,
    pub off: usize,
}

impl<'a> From<&'a wgpu::Buffer> for At<'a> {
    fn from(buf: &'a wgpu::Buffer) -> Self {
        At { buf, off: 0 }
    }
}

/// Offsets and sizes travel as u32.
pub fn check_u32(name: &str, values: &[usize]) -> Result<(), GpuError> {
    match values.iter().find(|&&v| v > u32::MAX as usize) {
        Some(v) => Err(GpuError::Shape(format!(
            "{name}: {v} elements do not fit 32-bit indices"
        ))),
        None => Ok(()),
    }
}

/// Workgroups needed to cover `n` items with groups of `size`.
pub fn groups(n: usize, size: usize) -> u32 {
    n.div_ceil(size).max(1) as u32
}

/// Splits a 1-D grid that may exceed the per-dimension limit into x and y (kernels index with
/// `gid.x + gid.y * num_workgroups.x * WG`).
pub fn grid_1d(n: usize, wg: usize) -> [u32; 3] {
    let g = groups(n, wg);
    if g <= 65535 {
        [g, 1, 1]
    } else {
        [65535, g.div_ceil(65535), 1]
    }
}

impl Gpu {
    /// Records `dispatches` into one compute pass, submits once and waits; errors from wgpu are
    /// returned. For tests and tools: the trainer records its own passes.
    pub fn run(&self, dispatches: &[Dispatch]) -> Result<(), GpuError> {
        self.checked("dispatch", || {
            let mut enc = self.device.create_command_encoder(&Default::default());
            {
                let mut pass = enc.begin_compute_pass(&Default::default());
                for d in dispatches {
                    d.record(&mut pass);
                }
            }
            self.queue.submit([enc.finish()]);
        })?;
        self.wait()
    }

    /// Checks that `buffer` holds at least `len` elements of 4 bytes.
    pub fn expect_len(
        &self,
        what: &str,
        buffer: &wgpu::Buffer,
        len: usize,
    ) -> Result<(), GpuError> {
        if buffer.size() < (len * 4) as u64 {
            return Err(GpuError::Shape(format!(
                "{what}: buffer of {} bytes is smaller than the {} elements the shape needs",
                buffer.size(),
                len
            )));
        }
        Ok(())
    }
}
