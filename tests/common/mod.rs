//! Shared test helpers: the GPU (or a loud failure with the install hint), seeded inputs, and a
//! closeness check in burn's form |a - b| <= max(rtol * max(|a|, |b|), atol) that prints the first
//! mismatches.
#![allow(dead_code)]

use shadergan::gpu::{Gpu, GpuOptions};
use shadergan::ops::Activation;
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

/// Every activation the shaders know, in the order of their codes (`Activation::code`).
pub const ACTIVATIONS: [Activation; 5] = [
    Activation::Identity,
    Activation::Relu,
    Activation::LeakyRelu(0.2),
    Activation::Tanh,
    Activation::Sigmoid,
];

/// `v` between `off` NaNs and 4 more: an operand at element offset `off` of its buffer, where a
/// read before it or past its end (even one multiplied by zero) gives NaN.
pub fn nan_padded(off: usize, v: &[f32]) -> Vec<f32> {
    let mut p = vec![f32::NAN; off];
    p.extend_from_slice(v);
    p.extend_from_slice(&[f32::NAN; 4]);
    p
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

/// A fresh, empty folder for one test's files (not created: tests that need it to be absent, as
/// `train --out` does, get it so). Removed when the value is dropped, unless the test is failing:
/// then it stays for a look, and its name is in the panic's stack of calls.
pub fn tmp_dir(name: &str) -> TmpDir {
    let d = std::env::temp_dir().join(format!("shadergan-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    TmpDir(d)
}

/// The path [`tmp_dir`] gives; derefs to it.
pub struct TmpDir(std::path::PathBuf);

impl std::ops::Deref for TmpDir {
    type Target = std::path::PathBuf;
    fn deref(&self) -> &std::path::PathBuf {
        &self.0
    }
}

impl AsRef<std::path::Path> for TmpDir {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// `train` flags for networks small enough that a command-line run takes a second or two.
pub const SMALL_NETS: [&str; 6] = ["--batch", "32", "--g-hidden", "16,16", "--d-hidden", "16"];

/// Runs the `shadergan` binary built for this test run.
pub fn shadergan(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_shadergan"))
        .args(args)
        .output()
        .expect("the shadergan binary runs")
}

/// Runs the `shadergan` binary with extra environment variables and returns its output and how
/// long it ran. Kills it and fails the test when it runs past `limit`: some tests look for hangs.
pub fn shadergan_timed(
    name: &str,
    args: &[&str],
    env: &[(&str, &str)],
    limit: std::time::Duration,
) -> (
    std::process::ExitStatus,
    String,
    String,
    std::time::Duration,
) {
    let dir = tmp_dir(name);
    std::fs::create_dir_all(&dir).unwrap();
    let (out_path, err_path) = (dir.join("stdout"), dir.join("stderr"));
    let start = std::time::Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_shadergan"))
        .args(args)
        .envs(env.iter().copied())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("the shadergan binary runs");
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "shadergan {args:?} with {env:?} still ran after {limit:?} (a hang); stderr:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let elapsed = start.elapsed();
    let stdout = std::fs::read_to_string(&out_path).unwrap();
    let stderr = std::fs::read_to_string(&err_path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (status, stdout, stderr, elapsed)
}
