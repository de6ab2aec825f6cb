//! Shared test helpers: the GPU (or a loud failure with the install hint), seeded inputs, and a
//! closeness check in burn's form |a - b| <= max(rtol * max(|a|, |b|), atol) that prints the first
//! mismatches.
#![allow(dead_code)]

use shadergan::gpu::{Gpu, GpuOptions};
use std::sync::OnceLock;

/// The one GPU the tests share. Fails the test, never skips it, when there is no adapter.
pub fn gpu() -> &'static Gpu {
    static GPU: OnceLock<Gpu> = OnceLock::new();
    GPU.get_or_init(|| match Gpu::new(&GpuOptions::default()) {
        Ok(g) => g,
        Err(e) => panic!("GPU tests need an adapter and found none: {e}"),
    })
}

/// Deterministic inputs in [lo, hi) from a small LCG (independent of the code under test).
pub fn inputs(seed: u64, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (s >> 40) as f32 / (1u64 << 24) as f32;
            lo + (hi - lo) * u
        })
        .collect()
}

/// A buffer of `n` NaNs: an element the kernel fails to write stays NaN and fails the check.
pub fn poisoned(g: &Gpu, label: &str, n: usize) -> wgpu::Buffer {
    g.buffer_from(label, &vec![f32::NAN; n]).unwrap()
}

/// Asserts every element is close; prints up to 8 mismatches with their indices.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], rtol: f32, atol: f32) {
    assert!(
        got.len() >= want.len(),
        "{what}: got {} values, want {}",
        got.len(),
        want.len()
    );
    let mut bad = Vec::new();
    for (i, (&a, &b)) in got.iter().zip(want).enumerate() {
        let tol = (rtol * a.abs().max(b.abs())).max(atol);
        let ok = (a - b).abs() <= tol || (a == b);
        if !ok || a.is_nan() != b.is_nan() {
            bad.push((i, a, b));
        }
    }
    if !bad.is_empty() {
        let first: Vec<String> = bad
            .iter()
            .take(8)
            .map(|(i, a, b)| format!("[{i}] got {a:e} want {b:e}"))
            .collect();
        panic!(
            "{what}: {} of {} values differ beyond rtol {rtol:e} / atol {atol:e}; first: {}",
            bad.len(),
            want.len(),
            first.join(", ")
        );
    }
}

/// The odd sizes every kernel is checked on: not multiples of any workgroup or tile size.
pub const ODD_SIZES: [usize; 7] = [1, 3, 17, 63, 65, 257, 1031];

/// A fresh, empty folder for one test's files.
pub fn tmp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("shadergan-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Runs the `shadergan` binary built for this test run.
pub fn shadergan(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_shadergan"))
        .args(args)
        .output()
        .expect("the shadergan binary runs")
}
