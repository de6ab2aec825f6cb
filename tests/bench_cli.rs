//! `shadergan bench peak --json`: one JSON record naming the adapter, driver and backend, with
//! positive ceilings (the record a script compares across machines).
mod common;
use common::*;

#[test]
fn bench_peak_json_names_the_adapter_and_has_positive_ceilings() {
    let out = shadergan(&["bench", "peak", "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench peak --json failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("bench peak --json is not JSON ({e}):\n{stdout}"));
    assert_eq!(v["bench"], "peak");
    for key in ["name", "driver", "driver_info", "backend", "device_type"] {
        assert!(v["adapter"][key].is_string(), "no adapter.{key} in {v}");
    }
    for key in ["gflops", "gbps", "dispatch_us", "submit_us", "roundtrip_us"] {
        let x = v["results"][key].as_f64().unwrap_or(0.0);
        assert!(x > 0.0, "results.{key} = {x} in {v}");
    }
}

/// `bench startup --runs 1 --vs BIN --json`: a child `train --iterations 1` per binary, each
/// with a positive wall time and peak resident memory (both runs are this build, so their
/// times are the same order of magnitude).
#[test]
fn bench_startup_times_a_first_run_of_each_binary() {
    let bin = env!("CARGO_BIN_EXE_shadergan");
    let out = shadergan(&["bench", "startup", "--runs", "1", "--vs", bin, "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench startup --json failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("bench startup --json is not JSON ({e}):\n{stdout}"));
    assert_eq!(v["bench"], "startup");
    let runs = v["results"]["runs"].as_array().expect("a runs list");
    assert_eq!(runs.len(), 2, "{v}");
    for r in runs {
        let s = r["median_seconds"].as_f64().unwrap_or(0.0);
        assert!(s > 0.0 && s < 600.0, "median_seconds {s} in {v}");
        let rss = r["peak_rss_bytes"].as_u64().unwrap_or(0);
        assert!(rss > 10_000_000, "peak_rss_bytes {rss} in {v}");
    }
}

/// A binary that is not there is an error naming it, not a panic.
#[test]
fn bench_startup_names_a_missing_binary() {
    let out = shadergan(&[
        "bench",
        "startup",
        "--runs",
        "1",
        "--vs",
        "/no/such/shadergan",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/no/such/shadergan"), "{err}");
}

/// `bench kernels --size 1024,4096` replaces the square products (the device check asks for
/// 4096 on a GPU); a side of 0 or past 16384 is refused by the parser, before any device work.
#[test]
fn bench_kernels_takes_square_sizes() {
    use clap::Parser;
    use shadergan::cli::{bench::BenchWhat, Cli, Command};
    let parse =
        |args: &[&str]| Cli::try_parse_from(["shadergan", "bench", "kernels"].iter().chain(args));
    match parse(&["--size", "1024,4096"]).unwrap().command {
        Command::Bench {
            what: BenchWhat::Kernels { size, .. },
        } => assert_eq!(size, Some(vec![1024, 4096])),
        other => panic!("parsed as {other:?}"),
    }
    for bad in ["0", "16385", "1024,x"] {
        assert!(parse(&["--size", bad]).is_err(), "--size {bad} accepted");
    }
}
