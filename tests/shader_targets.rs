//! Portability without the hardware: every entry point of every shader family goes through naga's
//! own backends, the ones wgpu runs on each platform, to SPIR-V (Vulkan), MSL (Metal), HLSL (DX12)
//! and GLSL (GL), per entry point and with the binding layout wgpu's automatic layout gives it.
//! A translation error fails the test. The SPIR-V is then checked with `spirv-val` and the GLSL
//! with `glslangValidator` where they are installed; a missing tool is reported on stderr, and
//! fails the test when `CI` is set, so CI never skips the check silently.
//!
//! What this cannot check: that Apple's and Microsoft's compilers accept the MSL and HLSL, and
//! that the kernels run correctly on Metal, DX12 or GL (README, "Portability").
mod common;
use naga::back::{glsl, hlsl, msl, spv};
use naga::valid::ModuleInfo;
use naga::{AddressSpace, BuiltIn, Module, ResourceBinding, ShaderStage, StorageAccess};
use shadergan::kernels::{full_source, validate_wgsl, SHADERS};
use std::io::Write as _;
use std::path::Path;
use std::process::Command;

/// SPIR-V versions and the Vulkan environment each is checked in: 1.0 is what wgpu emits for a
/// Vulkan 1.0 driver, 1.6 for a Vulkan 1.3 one (lavapipe and current GPU drivers).
const SPV_TARGETS: [((u8, u8), &str); 2] = [((1, 0), "vulkan1.0"), ((1, 6), "vulkan1.3")];
/// MSL 1.2 is the oldest wgpu's Metal backend picks with writable buffers (macOS 10.12);
/// 2.1 and 3.0 turn on newer code paths in naga's writer.
const MSL_VERSIONS: [(u8, u8); 3] = [(1, 2), (2, 1), (3, 0)];
/// Shader model 5.1 is FXC's (and naga's default); 6.0 is the floor for DXC.
const HLSL_MODELS: [hlsl::ShaderModel; 2] = [hlsl::ShaderModel::V5_1, hlsl::ShaderModel::V6_0];
/// wgpu's GL backend writes the driver's own GLSL version: ES 3.1 is the oldest GLES with compute
/// shaders, 4.3 the oldest desktop GL with them, and 4.5 what it writes on any GL 4.5+ driver
/// (llvmpipe included; wgpu caps newer versions at 450).
const GLSL_VERSIONS: [glsl::Version; 3] = [
    glsl::Version::Embedded {
        version: 310,
        is_webgl: false,
    },
    glsl::Version::Desktop(430),
    glsl::Version::Desktop(450),
];

/// One entry point as wgpu's backends see it: the module compacted to that entry point (what
/// `process_overrides` hands every backend) and the buffers its automatic layout binds.
struct EntryPoint {
    family: &'static str,
    name: String,
    module: Module,
    info: ModuleInfo,
    buffers: Vec<Buffer>,
    uses_num_workgroups: bool,
    /// Subgroup operations (matmul_sg.wgsl): wgpu grants `SUBGROUP` only on Vulkan 1.1+ (SPIR-V
    /// 1.3+) and on DX12 with shader model 6.0+, so those entry points skip SPIR-V 1.0 and HLSL 5.1.
    uses_subgroups: bool,
}

#[derive(Clone, Copy)]
struct Buffer {
    binding: ResourceBinding,
    kind: BufferKind,
}

#[derive(Clone, Copy, PartialEq)]
enum BufferKind {
    Uniform,
    ReadOnly,
    ReadWrite,
}

impl EntryPoint {
    fn label(&self) -> String {
        format!("{}:{}", self.family, self.name)
    }
}

/// Every compute entry point of every family in `kernels::SHADERS`.
fn entry_points() -> Vec<EntryPoint> {
    let mut out = Vec::new();
    for &(family, source) in SHADERS {
        let (module, info) =
            validate_wgsl(family, &full_source(source)).unwrap_or_else(|e| panic!("{e}"));
        for ep in &module.entry_points {
            assert_eq!(ep.stage, ShaderStage::Compute, "{family}:{}", ep.name);
            let (m, i) = naga::back::pipeline_constants::process_overrides(
                &module,
                &info,
                Some((ShaderStage::Compute, &ep.name)),
                &Default::default(),
            )
            .unwrap_or_else(|e| panic!("{family}:{}: {e}", ep.name));
            let (m, i) = (m.into_owned(), i.into_owned());
            let index = m
                .entry_points
                .iter()
                .position(|e| e.name == ep.name)
                .expect("the compacted module keeps its entry point");
            let usage = i.get_entry_point(index);
            let mut buffers: Vec<Buffer> = m
                .global_variables
                .iter()
                .filter(|(h, _)| !usage[*h].is_empty())
                .filter_map(|(_, g)| {
                    let kind = match g.space {
                        AddressSpace::Uniform => BufferKind::Uniform,
                        AddressSpace::Storage { access }
                            if access.contains(StorageAccess::STORE) =>
                        {
                            BufferKind::ReadWrite
                        }
                        AddressSpace::Storage { .. } => BufferKind::ReadOnly,
                        _ => return None,
                    };
                    g.binding.map(|binding| Buffer { binding, kind })
                })
                .collect();
            buffers.sort_by_key(|b| (b.binding.group, b.binding.binding));
            let uses_subgroups = m.entry_points[index].function.arguments.iter().any(|a| {
                matches!(
                    a.binding,
                    Some(naga::Binding::BuiltIn(BuiltIn::SubgroupInvocationId))
                )
            });
            let uses_num_workgroups = m.entry_points[index].function.arguments.iter().any(|a| {
                matches!(
                    a.binding,
                    Some(naga::Binding::BuiltIn(BuiltIn::NumWorkGroups))
                )
            });
            out.push(EntryPoint {
                family,
                name: ep.name.clone(),
                module: m,
                info: i,
                buffers,
                uses_num_workgroups,
                uses_subgroups,
            });
        }
    }
    assert!(
        out.len() >= SHADERS.len(),
        "expected at least one entry point per family, found {}",
        out.len()
    );
    out
}

/// Whether `tool` runs. When it does not, says so loudly and fails under CI.
fn have_tool(tool: &str, package: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        // Straight to stderr: the test harness hides `eprintln!` output of tests that pass.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** {tool} NOT FOUND: the translated shaders were NOT validated with it. \
             Install it (`apt-get install {package}`); under CI this is a failure. ***\n"
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is missing and CI is set: install {package} (see .ci/run)"
        );
    }
    found
}

/// A fresh folder for this test's files, removed when the test passes.
fn scratch(name: &str) -> common::TmpDir {
    let d = common::tmp_dir(&format!("targets-{name}"));
    std::fs::create_dir_all(&*d).unwrap();
    d
}

/// Runs a validator on `path`; `Err` with its output when it rejects the file.
fn run_validator(tool: &str, args: &[&str], path: &Path) -> Result<(), String> {
    let o = Command::new(tool)
        .args(args)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("{tool} was found but does not run: {e}"));
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{tool} {} {} rejected it:\n{}{}",
            args.join(" "),
            path.display(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ))
    }
}

/// Panics with every failure at once, so one run shows all the entry points that break.
fn report(backend: &str, checked: usize, failures: Vec<String>) {
    assert!(checked > 0, "{backend}: nothing was translated");
    assert!(
        failures.is_empty(),
        "{backend}: {} of {checked} translations failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_entry_point_translates_to_spirv_and_validates() {
    let validate = have_tool("spirv-val", "spirv-tools");
    let dir = scratch("spv");
    let (mut checked, mut failures) = (0, Vec::new());
    for ep in entry_points() {
        for (version, env) in SPV_TARGETS {
            if ep.uses_subgroups && version < (1, 3) {
                continue;
            }
            checked += 1;
            let what = format!("{} (SPIR-V {}.{})", ep.label(), version.0, version.1);
            let binding_map = ep
                .buffers
                .iter()
                .map(|b| {
                    let target = spv::BindingInfo {
                        descriptor_set: b.binding.group,
                        binding: b.binding.binding,
                        binding_array_size: None,
                    };
                    (b.binding, target)
                })
                .collect();
            // As wgpu's Vulkan backend: every binding mapped, bounds checks on.
            let options = spv::Options {
                lang_version: version,
                fake_missing_bindings: false,
                binding_map,
                bounds_check_policies: naga::proc::BoundsCheckPolicies {
                    index: naga::proc::BoundsCheckPolicy::Restrict,
                    buffer: naga::proc::BoundsCheckPolicy::Restrict,
                    image_load: naga::proc::BoundsCheckPolicy::Restrict,
                    binding_array: naga::proc::BoundsCheckPolicy::Unchecked,
                },
                ..Default::default()
            };
            let pipeline = spv::PipelineOptions {
                shader_stage: ShaderStage::Compute,
                entry_point: ep.name.clone(),
            };
            match spv::write_vec(&ep.module, &ep.info, &options, Some(&pipeline)) {
                Err(e) => failures.push(format!("{what}: {e}")),
                Ok(words) if validate => {
                    let path = dir.join(format!(
                        "{}-{}-{}{}.spv",
                        ep.family, ep.name, version.0, version.1
                    ));
                    std::fs::write(&path, bytemuck::cast_slice::<u32, u8>(&words)).unwrap();
                    if let Err(e) = run_validator("spirv-val", &["--target-env", env], &path) {
                        failures.push(format!("{what}: {e}"));
                    }
                }
                Ok(_) => {}
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    report("SPIR-V", checked, failures);
}

#[test]
fn every_entry_point_translates_to_msl() {
    let (mut checked, mut failures) = (0, Vec::new());
    for ep in entry_points() {
        // As wgpu's Metal backend lays out a compute stage: buffers in binding order, then the
        // buffer of array lengths that runtime-sized storage arrays need.
        let mut resources = msl::BindingMap::default();
        for (slot, b) in ep.buffers.iter().enumerate() {
            let target = msl::BindTarget {
                buffer: Some(slot as msl::Slot),
                mutable: b.kind == BufferKind::ReadWrite,
                ..Default::default()
            };
            resources.insert(b.binding, target);
        }
        let has_storage = ep.buffers.iter().any(|b| b.kind != BufferKind::Uniform);
        let ep_resources = msl::EntryPointResources {
            resources,
            immediates_buffer: None,
            sizes_buffer: has_storage.then_some(ep.buffers.len() as msl::Slot),
        };
        for version in MSL_VERSIONS {
            checked += 1;
            let what = format!("{} (MSL {}.{})", ep.label(), version.0, version.1);
            let options = msl::Options {
                lang_version: version,
                fake_missing_bindings: false,
                per_entry_point_map: [(ep.name.clone(), ep_resources.clone())].into(),
                bounds_check_policies: naga::proc::BoundsCheckPolicies {
                    index: naga::proc::BoundsCheckPolicy::Restrict,
                    buffer: naga::proc::BoundsCheckPolicy::Restrict,
                    image_load: naga::proc::BoundsCheckPolicy::Restrict,
                    binding_array: naga::proc::BoundsCheckPolicy::Unchecked,
                },
                ..Default::default()
            };
            let pipeline = msl::PipelineOptions {
                entry_point: Some((ShaderStage::Compute, ep.name.clone())),
                vertex_pulling_transform: true,
                ..Default::default()
            };
            match msl::write_string(&ep.module, &ep.info, &options, &pipeline) {
                Err(e) => failures.push(format!("{what}: {e:?}")),
                Ok((source, info)) => match info.entry_point_names.as_slice() {
                    [Ok(name)] if source.contains(&format!("kernel void {name}(")) => {}
                    other => failures.push(format!("{what}: entry point not written: {other:?}")),
                },
            }
        }
    }
    report("MSL", checked, failures);
}

#[test]
fn every_entry_point_translates_to_hlsl() {
    let (mut checked, mut failures) = (0, Vec::new());
    for ep in entry_points() {
        // As wgpu's DX12 backend: uniform buffers take b registers, read-only storage t,
        // writable storage u, each counted from 0; the number of workgroups, which DX12 does not
        // provide, comes in a constant buffer after the others.
        let mut binding_map = hlsl::BindingMap::default();
        let (mut cbv, mut srv, mut uav) = (0u32, 0u32, 0u32);
        for b in &ep.buffers {
            let counter = match b.kind {
                BufferKind::Uniform => &mut cbv,
                BufferKind::ReadOnly => &mut srv,
                BufferKind::ReadWrite => &mut uav,
            };
            let target = hlsl::BindTarget {
                space: 0,
                register: *counter,
                ..Default::default()
            };
            binding_map.insert(b.binding, target);
            *counter += 1;
        }
        let special_constants_binding = ep.uses_num_workgroups.then_some(hlsl::BindTarget {
            space: 0,
            register: cbv,
            ..Default::default()
        });
        for model in HLSL_MODELS {
            if ep.uses_subgroups && model < hlsl::ShaderModel::V6_0 {
                continue;
            }
            checked += 1;
            let what = format!("{} (HLSL {})", ep.label(), model.to_str());
            let options = hlsl::Options {
                shader_model: model,
                binding_map: binding_map.clone(),
                fake_missing_bindings: false,
                special_constants_binding,
                ..Default::default()
            };
            let pipeline = hlsl::PipelineOptions {
                entry_point: Some((ShaderStage::Compute, ep.name.clone())),
            };
            let mut source = String::new();
            let mut writer = hlsl::Writer::new(&mut source, &options, &pipeline);
            match writer.write(&ep.module, &ep.info, None) {
                Err(e) => failures.push(format!("{what}: {e:?}")),
                Ok(info) => match info.entry_point_names.as_slice() {
                    [Ok(name)] if source.contains(&format!("void {name}(")) => {}
                    other => failures.push(format!("{what}: entry point not written: {other:?}")),
                },
            }
        }
    }
    report("HLSL", checked, failures);
}

#[test]
fn every_entry_point_translates_to_glsl_and_validates() {
    let validate = have_tool("glslangValidator", "glslang-tools");
    let dir = scratch("glsl");
    let (mut checked, mut failures) = (0, Vec::new());
    for ep in entry_points() {
        // As wgpu's GL backend: uniform and storage buffers each numbered from 0 in binding order.
        let mut binding_map = glsl::BindingMap::default();
        let (mut uniforms, mut storage) = (0u8, 0u8);
        for b in &ep.buffers {
            let counter = match b.kind {
                BufferKind::Uniform => &mut uniforms,
                _ => &mut storage,
            };
            binding_map.insert(b.binding, *counter);
            *counter += 1;
        }
        for version in GLSL_VERSIONS {
            checked += 1;
            let what = format!("{} (GLSL {version})", ep.label());
            let options = glsl::Options {
                version,
                binding_map: binding_map.clone(),
                ..Default::default()
            };
            let pipeline = glsl::PipelineOptions {
                shader_stage: ShaderStage::Compute,
                entry_point: ep.name.clone(),
                multiview: None,
            };
            // wgpu's GL backend leaves buffer bounds to the driver.
            let policies = naga::proc::BoundsCheckPolicies::default();
            let mut source = String::new();
            let written = glsl::Writer::new(
                &mut source,
                &ep.module,
                &ep.info,
                &options,
                &pipeline,
                policies,
            )
            .and_then(|mut w| w.write());
            if let Err(e) = written {
                failures.push(format!("{what}: {e}"));
                continue;
            }
            if validate {
                let tag = match version {
                    glsl::Version::Embedded { version, .. } => format!("{version}es"),
                    glsl::Version::Desktop(version) => format!("{version}"),
                };
                let path = dir.join(format!("{}-{}-{tag}.comp", ep.family, ep.name));
                std::fs::write(&path, &source).unwrap();
                if let Err(e) = run_validator("glslangValidator", &["-S", "comp"], &path) {
                    failures.push(format!("{what}: {e}"));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    report("GLSL", checked, failures);
}
