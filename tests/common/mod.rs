//! Shared test helpers: the GPU (or a loud failure with the install hint), seeded inputs, and a
//! closeness check in burn's form |a - b| <= max(rtol * max(|a|, |b|), atol) that prints the first
//! mismatches.
#![allow(dead_code, unused_imports)]

use shadergan::gpu::{Gpu, GpuOptions};
// Seeded inputs, NaN padding, the odd sizes and the comparison: the library's, which `shadergan
// selftest` uses on a user's adapter.
use shadergan::ops::Activation;
pub use shadergan::selftest::compare::{compare, inputs, nan_padded, ODD_SIZES};
use std::sync::OnceLock;

/// The one GPU the tests share. Fails the test, never skips it, when there is no adapter.
pub fn gpu() -> &'static Gpu {
    static GPU: OnceLock<Gpu> = OnceLock::new();
    GPU.get_or_init(|| match Gpu::new(&GpuOptions::default()) {
        Ok(g) => g,
        Err(e) => panic!("GPU tests need an adapter and found none: {e}"),
    })
}

/// Every activation the shaders know, in the order of their codes (`Activation::code`).
pub const ACTIVATIONS: [Activation; 5] = [
    Activation::Identity,
    Activation::Relu,
    Activation::LeakyRelu(0.2),
    Activation::Tanh,
    Activation::Sigmoid,
];

/// A buffer of `n` NaNs: an element the kernel fails to write stays NaN and fails the check.
pub fn poisoned(g: &Gpu, label: &str, n: usize) -> wgpu::Buffer {
    g.buffer_from(label, &vec![f32::NAN; n]).unwrap()
}

/// Asserts every element is close (the comparison `shadergan selftest` makes); prints up to 8
/// mismatches with their indices.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], rtol: f32, atol: f32) {
    let c = compare(got, want, rtol, atol);
    assert!(c.ok(), "{}", c.describe(what, rtol, atol));
}

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
