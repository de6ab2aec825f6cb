//! Choosing an adapter: the ranking and the refusal of OpenGL on the CPU on made-up machines, then
//! the built binary on this one: no Vulkan driver gives the install hint within seconds instead of
//! a hang, a filter that matches nothing lists what exists without the hint, and `devices` obeys
//! `--adapter`.
mod common;

use shadergan::gpu::{choose, AdapterSummary, Gpu, GpuOptions};
use std::io::Write as _;
use std::time::Duration;
use wgpu::{Backend, DeviceType};

fn adapter(name: &str, backend: Backend, device_type: DeviceType) -> AdapterSummary {
    AdapterSummary {
        name: name.into(),
        backend,
        device_type,
    }
}

fn lavapipe() -> AdapterSummary {
    adapter(
        "llvmpipe (LLVM 15.0.6, 256 bits)",
        Backend::Vulkan,
        DeviceType::Cpu,
    )
}

fn llvmpipe_gl() -> AdapterSummary {
    adapter(
        "llvmpipe (LLVM 15.0.6, 256 bits)",
        Backend::Gl,
        DeviceType::Cpu,
    )
}

#[test]
fn ranking_prefers_discrete_then_integrated_then_cpu_and_gl_last() {
    let machine = [
        llvmpipe_gl(),
        lavapipe(),
        adapter(
            "Intel(R) UHD 630",
            Backend::Vulkan,
            DeviceType::IntegratedGpu,
        ),
        adapter("NVIDIA RTX 4090", Backend::Gl, DeviceType::DiscreteGpu),
        adapter("NVIDIA RTX 4090", Backend::Vulkan, DeviceType::DiscreteGpu),
    ];
    assert_eq!(choose(&machine, None), Ok(4));
    assert_eq!(choose(&machine[..4], None), Ok(2));
    assert_eq!(choose(&machine[..2], None), Ok(1));
    assert_eq!(choose(&machine, Some("intel")), Ok(2));
    // GL on a real GPU is allowed, when it is what was asked for.
    assert_eq!(choose(&machine[3..4], None), Ok(0));
}

#[test]
fn opengl_on_the_cpu_is_never_chosen() {
    // No Vulkan driver: llvmpipe's GL is all there is (what `--backend auto` and `--backend gl`
    // both see then), and it is refused rather than hung on.
    assert_eq!(choose(&[llvmpipe_gl()], None), Err(vec![0]));
    let softpipe = adapter("softpipe", Backend::Gl, DeviceType::Cpu);
    assert_eq!(choose(&[llvmpipe_gl(), softpipe], None), Err(vec![0, 1]));
    // With lavapipe beside it, lavapipe is chosen whatever the order.
    assert_eq!(
        choose(&[llvmpipe_gl(), lavapipe()], Some("LLVMPIPE")),
        Ok(1)
    );
}

#[test]
fn a_filter_that_matches_nothing_refuses_nothing() {
    assert_eq!(
        choose(&[lavapipe(), llvmpipe_gl()], Some("radeon")),
        Err(vec![])
    );
    assert_eq!(choose(&[], None), Err(vec![]));
}

/// No Vulkan driver, and Mesa's GL on the CPU (llvmpipe) even where a GPU could run it.
const NO_VULKAN: [(&str, &str); 2] = [
    ("VK_ICD_FILENAMES", "/nonexistent"),
    ("LIBGL_ALWAYS_SOFTWARE", "1"),
];
const QUICK: Duration = Duration::from_secs(60);

/// With no Vulkan driver, both `auto` (which used to pick llvmpipe's GL) and an explicit
/// `--backend gl` (which used to hang compiling the matmul) end within seconds with the hint.
#[test]
fn without_vulkan_train_ends_quickly_with_the_install_hint() {
    let out = common::tmp_dir("no-vulkan-run");
    let out = out.to_str().unwrap();
    let (_, devices, _, _) =
        common::shadergan_timed("no-vulkan-devices", &["devices"], &NO_VULKAN, QUICK);
    let listed = devices.lines().filter(|l| l.starts_with('[')).count();
    let gl_on_cpu = devices.matches("not used by shadergan").count();
    eprintln!("without Vulkan: {listed} adapters, {gl_on_cpu} of them OpenGL on the CPU");
    if listed > gl_on_cpu {
        // A Metal, DX12 or GPU GL adapter is still there: training may rightly run on it.
        let _ = writeln!(
            std::io::stderr(),
            "*** a usable adapter remains without Vulkan here; only checking that nothing hangs:\n{devices}"
        );
    }
    for backend in ["auto", "gl"] {
        let args = [
            "--backend",
            backend,
            "train",
            "--iterations",
            "10",
            "--out",
            out,
        ];
        let (status, _, stderr, took) =
            common::shadergan_timed("no-vulkan-train", &args, &NO_VULKAN, QUICK);
        eprintln!("--backend {backend}: {status} after {took:?}: {stderr}");
        if listed > gl_on_cpu {
            continue;
        }
        assert!(
            !status.success(),
            "--backend {backend} trained without Vulkan: {stderr}"
        );
        assert!(
            took < Duration::from_secs(20),
            "--backend {backend} took {took:?}"
        );
        assert!(stderr.contains("mesa-vulkan-drivers"), "{stderr}");
        assert!(!stderr.contains("shadergan: using"), "{stderr}");
        if gl_on_cpu > 0 {
            assert!(stderr.contains("Not using llvmpipe"), "{stderr}");
            assert!(stderr.contains("does not finish compiling"), "{stderr}");
        }
    }
}

/// The name of the adapter the GPU tests run on; fails (never skips) without one.
fn usable_adapter_name() -> String {
    match Gpu::new(&GpuOptions::default()) {
        Ok(g) => g.info.name,
        Err(e) => panic!("this test needs a usable adapter and found none: {e}"),
    }
}

/// When a usable adapter exists, asking for one that is not there lists what is, names the
/// filter, and does not tell the user to install what they have.
#[test]
fn a_backend_or_name_that_matches_nothing_lists_the_adapters_without_the_hint() {
    let present = usable_adapter_name();
    let absent_backend = if cfg!(target_os = "macos") {
        "dx12"
    } else {
        "metal"
    };
    let out = common::tmp_dir("no-match-run");
    let out = out.to_str().unwrap();
    for (flag, value) in [
        ("--backend", absent_backend),
        ("--adapter", "no-such-adapter-3f9c"),
    ] {
        let args = [flag, value, "train", "--iterations", "1", "--out", out];
        let (status, _, stderr, _) = common::shadergan_timed("no-match", &args, &[], QUICK);
        assert!(!status.success(), "{flag} {value} trained: {stderr}");
        assert!(stderr.contains("no usable GPU adapter found"), "{stderr}");
        assert!(stderr.contains(value), "{stderr}");
        assert!(stderr.contains(&present), "{stderr}");
        assert!(!stderr.contains("mesa-vulkan-drivers"), "{stderr}");
        assert!(stderr.contains("--adapter"), "{stderr}");
    }
}

#[test]
fn devices_lists_only_the_adapters_matching_the_filter() {
    let present = usable_adapter_name();
    let (status, stdout, stderr, _) = common::shadergan_timed(
        "devices-filter",
        &["devices", "--adapter", "no-such-adapter-3f9c"],
        &[],
        QUICK,
    );
    assert!(!status.success(), "listed {stdout}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("no-such-adapter-3f9c") && stderr.contains(&present),
        "{stderr}"
    );

    let filter = present.to_uppercase();
    let (status, stdout, stderr, _) = common::shadergan_timed(
        "devices-filter",
        &["devices", "--adapter", &filter],
        &[],
        QUICK,
    );
    assert!(status.success(), "{stderr}");
    let listed: Vec<&str> = stdout.lines().filter(|l| l.starts_with('[')).collect();
    assert!(!listed.is_empty(), "{stdout}");
    for line in listed {
        assert!(line.contains(&present), "{line} does not match {filter:?}");
    }
}
