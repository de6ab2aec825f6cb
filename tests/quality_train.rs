//! Image quality over training and in `eval`: a short stacked-digits run with --eval-every puts
//! the quality columns in metrics.csv, draws quality.png and writes eval.toml; `eval` reuses the
//! run's cached classifier; metrics.csv files written before the columns existed still read.
mod common;
use common::*;
use shadergan::run::read_metrics;

#[test]
fn stacked_run_with_eval_every_records_quality_and_eval_reuses_the_classifier() {
    let out = tmp_dir("quality-run");
    let o = out.to_str().unwrap();
    let r = shadergan(&[
        "train",
        "--dataset",
        "stacked-digits:n=2000",
        "--iterations",
        "20",
        "--log-every",
        "10",
        "--eval-every",
        "10",
        "--g-hidden",
        "32",
        "--d-hidden",
        "32",
        "--z-dim",
        "8",
        "--out",
        o,
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let rows = read_metrics(&out.join("metrics.csv"));
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert!(row.frechet.unwrap().is_finite(), "{row:?}");
        assert!(row.classes_covered.unwrap() <= 10);
        assert!(row.modes_captured.unwrap() <= 1000);
    }
    assert!(out.join("quality.png").is_file());
    assert!(out.join("classifier.safetensors").is_file());
    let eval: toml::Table =
        toml::from_str(&std::fs::read_to_string(out.join("eval.toml")).unwrap()).unwrap();
    assert_eq!(eval["modes_total"].as_integer(), Some(1000));
    assert_eq!(eval["samples"].as_integer(), Some(10_000));

    let r = shadergan(&["eval", o, "--samples", "500"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{err}");
    assert!(
        err.contains("reused"),
        "the cached classifier is reused: {err}"
    );
    let text = String::from_utf8_lossy(&r.stdout);
    assert!(text.contains("stacked modes") && text.contains("of 1000") || text.contains("/1000"));
    let eval: toml::Table =
        toml::from_str(&std::fs::read_to_string(out.join("eval.toml")).unwrap()).unwrap();
    assert_eq!(eval["samples"].as_integer(), Some(500));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn metrics_files_without_quality_columns_still_read() {
    let dir = tmp_dir("old-metrics");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("metrics.csv");
    std::fs::write(
        &path,
        "iteration,d_loss,g_loss,d_real,d_fake,jsd_estimate,iters_per_sec\n\
         200,1.2,0.8,0.6,0.4,0.1,50.0\n",
    )
    .unwrap();
    let rows = read_metrics(&path);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].iteration, 200);
    assert_eq!((rows[0].frechet, rows[0].modes_captured), (None, None));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn eval_every_must_be_a_multiple_of_log_every_and_needs_images() {
    let out = tmp_dir("quality-bad");
    let o = out.to_str().unwrap();
    let r = shadergan(&[
        "train",
        "--dataset",
        "digits",
        "--log-every",
        "10",
        "--eval-every",
        "15",
        "--out",
        o,
    ]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("multiple of log_every"));
    let r = shadergan(&[
        "train",
        "--dataset",
        "ring",
        "--iterations",
        "10",
        "--log-every",
        "10",
        "--eval-every",
        "10",
        "--out",
        o,
    ]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("eval_every measures image runs"));
    assert!(!out.join("checkpoint.safetensors").exists());
}
