//! The plan-time matmul choice (`kernels::matmul_choice`): a class of products is probed once on
//! the adapter (every candidate form timed, its rows checked against the CPU), the result cached
//! per adapter, driver and build, and read back by the next `Matmul` without probing;
//! `SHADERGAN_MATMUL` names a form or is refused with the accepted values.
mod common;
use common::*;
use shadergan::kernels::matmul::{Class, Matmul, Pick, FORM_ENV};
use shadergan::kernels::matmul_choice::{cache_path, row_matches};

/// One test in this binary, so setting the cache folder for the process races with nothing.
#[test]
fn a_class_is_probed_once_and_then_read_from_the_cache() {
    let dir = std::env::temp_dir().join(format!("shadergan-choice-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::env::set_var("SHADERGAN_CACHE_DIR", &dir);
    std::env::remove_var(FORM_ENV);
    let g = gpu();
    let first = Matmul::new(g).unwrap();
    let d = first.decided(g, Class::Small).unwrap().clone();
    assert!(d.why.starts_with("measured now"), "{}", d.why);
    let path = cache_path().unwrap();
    assert!(path.starts_with(&dir), "{}", path.display());
    let text = std::fs::read_to_string(&path).unwrap();
    // Every candidate was timed (none gave wrong results here), the pick among them.
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    let e = &file["entries"][0];
    assert_eq!(e["class"], "small");
    let times = e["times_us"].as_object().unwrap();
    let mut expected: Vec<&str> = first.blocks().iter().map(|b| b.name()).collect();
    if first.has_subgroup_form() {
        expected.push("subgroup");
    }
    for name in &expected {
        let t = times[*name].as_f64().unwrap_or(0.0);
        assert!(t > 0.0, "{name}: {t} us in {text}");
    }
    assert!(e["wrong"].as_array().unwrap().is_empty(), "{text}");
    let fastest = times
        .iter()
        .min_by(|a, b| a.1.as_f64().unwrap().total_cmp(&b.1.as_f64().unwrap()))
        .unwrap()
        .0;
    assert_eq!(d.pick.name(), fastest, "{text}");

    // A second Matmul (a later process) reads it back and probes nothing.
    let second = Matmul::new(g).unwrap();
    let again = second.decided(g, Class::Small).unwrap();
    assert!(again.why.starts_with("measured earlier"), "{}", again.why);
    assert_eq!(again.pick, d.pick);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_variable_names_a_form_or_is_refused() {
    assert_eq!(Pick::parse_override("").unwrap(), None);
    assert_eq!(Pick::parse_override("auto").unwrap(), None);
    assert_eq!(
        Pick::parse_override("subgroup").unwrap(),
        Some(Pick::Subgroup)
    );
    assert_eq!(
        Pick::parse_override("tiled").unwrap().map(|p| p.name()),
        Some("tiled-64")
    );
    for b in ["tiled-32", "tiled-64", "tiled-128"] {
        assert_eq!(Pick::parse_override(b).unwrap().map(|p| p.name()), Some(b));
    }
    let e = Pick::parse_override("fast").unwrap_err().to_string();
    assert!(e.contains("tiled-128") && e.contains("\"fast\""), "{e}");
}

/// The probe's check against the CPU: a right row passes, one wrong value fails it.
#[test]
fn a_wrong_row_fails_the_check() {
    let n = 2;
    let a = [1.0, 2.0, 3.0];
    let b = [1.0, 0.5, -1.0, 2.0, 0.25, 4.0]; // [k, n]
    let right = [1.0 - 2.0 + 0.75, 0.5 + 4.0 + 12.0];
    assert!(row_matches(&right, &a, &b, n));
    let mut wrong = right;
    wrong[1] += 1e-2;
    assert!(!row_matches(&wrong, &a, &b, n));
    assert!(!row_matches(&[0.0, 0.0], &a, &b, n));
    assert!(!row_matches(&right[..1], &a, &b, n));
}

/// An unknown value of the variable stops a run with the accepted values, before training.
#[test]
fn an_unknown_form_stops_a_run_with_the_accepted_values() {
    let dir = std::env::temp_dir().join(format!("shadergan-bogus-{}", std::process::id()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shadergan"))
        .args(["train", "--iterations", "1", "--out"])
        .arg(&dir)
        .env(FORM_ENV, "fastest")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SHADERGAN_MATMUL") && err.contains("tiled-32"),
        "{err}"
    );
}
