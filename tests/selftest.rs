//! `shadergan selftest` on this adapter: every family passes (on lavapipe under CI: every kernel
//! against its CPU twin, whole MLP and DCGAN iterations against the CPU executor), every shader
//! family of `kernels::SHADERS` has a selftest family, and the command's JSON and exit status.
mod common;
use common::*;

#[test]
fn every_family_passes_on_this_adapter() {
    let results = shadergan::selftest::run(gpu(), true, &[]);
    let report = shadergan::selftest::report(gpu(), &results);
    eprintln!("{}", report.text);
    for r in &results {
        assert!(r.passed(), "{} failed:\n{}", r.family, report.text);
        if r.skipped.is_none() {
            assert!(
                r.cases > 0 && !r.covered.is_empty(),
                "{}: nothing checked",
                r.family
            );
        }
    }
    // Under CI (lavapipe with 8-lane subgroups) nothing may be skipped.
    if std::env::var_os("CI").is_some() {
        assert!(
            results.iter().all(|r| r.skipped.is_none()),
            "{}",
            report.text
        );
    }
}

/// A shader family added without a selftest family fails here, before a user meets it.
#[test]
fn every_shader_family_has_a_selftest_family() {
    let checked: Vec<&str> = shadergan::selftest::families()
        .iter()
        .filter_map(|f| f.1)
        .collect();
    for (file, _) in shadergan::kernels::SHADERS {
        assert!(checked.contains(file), "{file} has no selftest family");
    }
}

#[test]
fn the_command_prints_one_json_record_and_exits_0_when_all_pass() {
    let out = shadergan(&["selftest", "--quick", "--family", "bce,gather", "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["bench"], "selftest");
    assert_eq!(v["results"]["passed"], true);
    let fams = v["results"]["families"].as_array().unwrap();
    assert_eq!(fams.len(), 2, "{v}");
    assert_eq!(fams[0]["entries"].as_array().unwrap().len(), 2, "{v}");
    let out = shadergan(&["selftest", "--family", "nosuch"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("families: activation.wgsl"));
}
