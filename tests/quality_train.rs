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

    // A count whose images no buffer holds is refused before anything is drawn (it aborted
    // the process with a failed allocation), and eval.toml is left as it was.
    let r = shadergan(&["eval", o, "--samples", "1000000000000"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{err}");
    assert!(
        err.contains("--samples 1000000000000") && err.contains("ask for at most"),
        "{err}"
    );
    let kept: toml::Table =
        toml::from_str(&std::fs::read_to_string(out.join("eval.toml")).unwrap()).unwrap();
    assert_eq!(kept["samples"].as_integer(), Some(500));
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

/// A run trained with --image-size at a size other than its data set's is not scored: the
/// classifier reads the set at its own size, so 28 x 28 samples of the 8 x 8 digits would be
/// misread (10,000 x 784 values are 122,500 rows of 64). `eval` refuses the finished run, and
/// `--eval-every` refuses before training, naming both sizes.
#[test]
fn a_resized_run_is_refused_by_eval_and_eval_every() {
    let out = tmp_dir("quality-resized");
    let o = out.to_str().unwrap();
    let args = [
        "train",
        "--dataset",
        "digits",
        "--image-size",
        "28",
        "--iterations",
        "10",
        "--log-every",
        "10",
        "--out",
        o,
    ];
    let r = shadergan(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let r = shadergan(&["eval", o, "--samples", "100"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success(), "{err}");
    for want in ["28x28", "8x8", "--image-size"] {
        assert!(err.contains(want), "missing {want}: {err}");
    }
    assert!(!out.join("eval.toml").exists());
    let _ = std::fs::remove_dir_all(&out);

    let r = shadergan(&[&args[..], &["--eval-every", "10"]].concat());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success(), "{err}");
    assert!(err.contains("28x28") && err.contains("8x8"), "{err}");
    assert!(!out.join("checkpoint.safetensors").exists());
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn classifier_train_prints_the_test_accuracy_and_needs_labels() {
    let dir = tmp_dir("classifier-cli");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("c.safetensors");
    let r = shadergan(&[
        "classifier",
        "train",
        "--dataset",
        "digits",
        "--iterations",
        "50",
        "-o",
        out.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(text.contains("test accuracy"), "{text}");
    assert!(out.is_file());
    // IDX images without their labels file: the message says how to pass it.
    let images = dir.join("images.idx");
    shadergan::data::write_idx(&images, 2, 2, 2, &[0; 8], false).unwrap();
    let spec = format!("idx:{}", images.display());
    let r = shadergan(&["classifier", "train", "--dataset", &spec]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("labels=LABELS"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn idx_with_labels_and_stacked_specs_parse_and_load() {
    use shadergan::data::Dataset;
    let dir = tmp_dir("idx-labels");
    std::fs::create_dir_all(&dir).unwrap();
    let images = dir.join("im,ages.idx");
    shadergan::data::write_idx(&images, 3, 2, 2, &[0, 255, 0, 255].repeat(3), false).unwrap();
    let labels = dir.join("labels.idx");
    let mut bytes = vec![0, 0, 8, 1, 0, 0, 0, 3];
    bytes.extend([4u8, 0, 2]);
    std::fs::write(&labels, bytes).unwrap();
    let spec = format!("idx:{},labels={}", images.display(), labels.display());
    let ds = Dataset::parse(&spec).unwrap();
    assert_eq!(Dataset::parse(&ds.spec()).unwrap(), ds);
    let set = ds.load_labeled(u64::MAX).unwrap();
    assert_eq!(
        (set.labels, set.classes, set.images.len()),
        (vec![4, 0, 2], 5, 3)
    );
    // Stacked: three channels of the base images, the base's labels for the classifier.
    let st = Dataset::parse(&spec.replacen("idx:", "stacked-idx:", 1)).unwrap();
    assert_eq!(st.stacked_base(), Some(ds));
    let img = st.load_images(None, 1, u64::MAX).unwrap();
    assert_eq!((img.channels, img.width, img.height), (3, 2, 2));
    assert_eq!(
        Dataset::parse("stacked-digits:n=7").unwrap(),
        Dataset::StackedDigits { n: 7 }
    );
    let _ = std::fs::remove_dir_all(&dir);
}
