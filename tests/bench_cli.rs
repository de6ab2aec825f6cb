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
