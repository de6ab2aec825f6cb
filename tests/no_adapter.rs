//! When no adapter matches, the error names the filter and the adapters present; the install
//! hint is kept for machines with no usable adapter (tests/device_selection.rs runs that case).
use shadergan::gpu::{Backend, Gpu, GpuOptions};

#[test]
fn a_name_filter_matching_nothing_names_the_filter_and_not_the_install_hint() {
    let opts = GpuOptions {
        backend: Backend::Auto,
        adapter: Some("no-such-adapter-3f9c".into()),
    };
    let err = match Gpu::new(&opts) {
        Ok(g) => panic!("found an adapter called {:?}", g.info.name),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("no usable GPU adapter found"), "{err}");
    assert!(err.contains("no-such-adapter-3f9c"), "{err}");
    // The GPU tests need a usable adapter, so there is one here and installing one is no advice.
    assert!(!err.contains("mesa-vulkan-drivers"), "{err}");
    assert!(err.contains("Adapters present"), "{err}");
}

#[test]
fn oversized_buffer_is_refused_with_both_numbers() {
    let g = Gpu::new(&GpuOptions::default())
        .unwrap_or_else(|e| panic!("GPU tests need an adapter and found none: {e}"));
    let max = g
        .limits
        .max_storage_buffer_binding_size
        .min(g.limits.max_buffer_size);
    let err = g.check_size("huge", max + 4).unwrap_err().to_string();
    assert!(
        err.contains(&(max + 4).to_string()) && err.contains(&max.to_string()),
        "{err}"
    );
}
