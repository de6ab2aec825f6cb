//! A run under hostile but fair use: divergence stops with a message and keeps the last good
//! checkpoint, Ctrl-C keeps the work, a new run never writes into another run's folder, a refused
//! resume changes no file, killed writes leave no temporary files for good, and `sample` streams.
mod common;
use common::*;
use shadergan::gan::checkpoint;
use shadergan::run::read_metrics;
use std::path::Path;
use std::process::{Command, Stdio};

fn train(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["train", "--out", out.to_str().unwrap()];
    args.extend(SMALL_NETS);
    args.extend(extra);
    shadergan(&args)
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_clean_failure(o: &std::process::Output, needle: &str) {
    let err = stderr(o);
    assert!(!o.status.success(), "succeeded: {err}");
    assert_eq!(o.status.code(), Some(1), "not a clean exit: {err}");
    assert!(!err.contains("panicked"), "panicked: {err}");
    assert!(
        err.contains(needle),
        "error does not mention {needle:?}: {err}"
    );
}

#[test]
fn divergence_stops_with_the_iteration_and_keeps_the_good_checkpoint() {
    let out = tmp_dir("diverge");
    let r = train(&out, &["--iterations", "100", "--log-every", "50"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let ck_path = out.join("checkpoint.safetensors");
    let good = std::fs::read(&ck_path).unwrap();

    // Resumed with absurd learning rates, held constant (the first run's decay, scaled to its
    // 100 iterations, has ended): training must stop, not overwrite the checkpoint.
    let r = shadergan(&[
        "train",
        "--resume",
        out.to_str().unwrap(),
        "--iterations",
        "2000",
        "--log-every",
        "50",
        "--checkpoint-every",
        "50",
        "--lr-d",
        "1e6",
        "--lr-g",
        "1e6",
        "--lr-decay-iters",
        "0",
    ]);
    assert_clean_failure(&r, "diverged by iteration");
    let err = stderr(&r);
    assert!(err.contains("lower learning rates"), "{err}");
    assert!(err.contains("last good checkpoint is kept"), "{err}");
    assert_eq!(
        std::fs::read(&ck_path).unwrap(),
        good,
        "the good checkpoint changed"
    );
    let ck = checkpoint::load(&ck_path, u64::MAX).unwrap();
    assert!(ck.state.g_params.iter().all(|v| v.is_finite()));
    // The metrics show what happened, up to the interval that diverged.
    let rows = read_metrics(&out.join("metrics.csv"));
    assert!(
        !rows.last().unwrap().is_finite() || rows.len() > 2,
        "{rows:?}"
    );

    // A run that diverges before its first checkpoint writes none.
    let fresh = tmp_dir("diverge-fresh");
    let r = train(
        &fresh,
        &["--iterations", "2000", "--lr-d", "1e6", "--lr-g", "1e6"],
    );
    assert_clean_failure(&r, "diverged by iteration");
    assert!(stderr(&r).contains("no checkpoint had been written yet"));
    assert!(!fresh.join("checkpoint.safetensors").exists());
}

#[test]
fn eval_refuses_a_generator_that_outputs_nan() {
    let out = tmp_dir("nan-eval");
    let r = train(&out, &["--iterations", "10", "--log-every", "10"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let path = out.join("checkpoint.safetensors");
    let mut ck = checkpoint::load(&path, u64::MAX).unwrap();
    ck.state.g_params.iter_mut().for_each(|v| *v = f32::NAN);
    checkpoint::save(&path, &ck).unwrap();
    let r = shadergan(&["eval", out.to_str().unwrap()]);
    assert_clean_failure(&r, "not a finite number");
}

#[test]
fn sigint_finishes_the_submit_and_writes_everything() {
    let out = tmp_dir("sigint");
    let mut args = vec!["train", "--out", out.to_str().unwrap()];
    args.extend(SMALL_NETS);
    args.extend([
        "--iterations",
        "1000000",
        "--log-every",
        "50",
        "--checkpoint-every",
        "0",
    ]);
    let child = Command::new(env!("CARGO_BIN_EXE_shadergan"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run is under way (its first metrics row), then interrupt it.
    let metrics = out.join("metrics.csv");
    let t0 = std::time::Instant::now();
    while read_metrics(&metrics).is_empty() {
        assert!(t0.elapsed().as_secs() < 120, "the run never logged");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let o = child.wait_with_output().unwrap();
    let (so, se) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(130), "{so}\n{se}");
    assert!(so.contains("stopped at iteration"), "{so}");
    let ck = checkpoint::load(&out.join("checkpoint.safetensors"), u64::MAX).unwrap();
    let at = ck.state.iteration();
    assert!(at > 0 && at < 1_000_000);
    // The last metrics row, the last picture and the checkpoint are all from the stop.
    assert_eq!(read_metrics(&metrics).last().unwrap().iteration, at);
    assert!(out.join(format!("samples/step_{at:06}.png")).is_file());
    for f in ["loss.png", "evolution.gif", "eval.toml", "config.toml"] {
        assert!(out.join(f).is_file(), "{f} missing after Ctrl-C");
    }
    // And the run continues from there.
    let r = shadergan(&[
        "train",
        "--resume",
        out.to_str().unwrap(),
        "--iterations",
        &(at + 20).to_string(),
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
}

#[test]
fn a_new_run_never_writes_into_a_folder_with_files() {
    let out = tmp_dir("occupied");
    std::fs::create_dir_all(out.join("samples")).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    std::fs::write(out.join("samples/step_009999.png"), "old frame").unwrap();
    let r = train(&out, &["--iterations", "10"]);
    assert_clean_failure(&r, "not empty");
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(!out.join("config.toml").exists());
    // A refused run leaves no folder behind either.
    let never = tmp_dir("never");
    let r = train(&never, &["--iterations", "10", "--d-steps", "0"]);
    assert_clean_failure(&r, "d_steps");
    assert!(!never.exists());
}

#[test]
fn a_refused_resume_changes_no_file() {
    let out = tmp_dir("refused");
    let r = train(&out, &["--iterations", "20", "--log-every", "10"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let before: Vec<Vec<u8>> = ["config.toml", "metrics.csv", "checkpoint.safetensors"]
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect();
    let o = out.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["train", "--resume", o, "--iterations", "10"],
            "already at iteration 20",
        ),
        (
            vec!["train", "--resume", o, "--iterations", "40", "--batch", "7"],
            "--resume keeps",
        ),
    ] {
        assert_clean_failure(&shadergan(&args), needle);
    }
    let after: Vec<Vec<u8>> = ["config.toml", "metrics.csv", "checkpoint.safetensors"]
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect();
    assert!(
        before == after,
        "a refused --resume changed the run's files"
    );
}

#[test]
fn resume_into_another_folder_keeps_the_history_and_stale_temps_go() {
    let a = tmp_dir("resume-a");
    let b = tmp_dir("resume-b");
    let r = train(&a, &["--iterations", "20", "--log-every", "10"]);
    assert!(r.status.success(), "{}", stderr(&r));
    // What a process killed mid-write leaves behind (old and new temporary names).
    for stale in [".checkpoint.safetensors.tmp12345", ".metrics.csv.tmp"] {
        std::fs::write(a.join(stale), "half a file").unwrap();
    }
    std::fs::write(a.join("samples/.step_000010.png.tmp999"), "x").unwrap();
    let r = shadergan(&[
        "train",
        "--resume",
        a.to_str().unwrap(),
        "--out",
        b.to_str().unwrap(),
        "--iterations",
        "40",
        "--log-every",
        "10",
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let its: Vec<u64> = read_metrics(&b.join("metrics.csv"))
        .iter()
        .map(|r| r.iteration)
        .collect();
    assert_eq!(its, vec![10, 20, 30, 40]);
    // Resuming in place sweeps the temporary files.
    let r = shadergan(&[
        "train",
        "--resume",
        a.to_str().unwrap(),
        "--iterations",
        "30",
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let leftovers: Vec<String> = [a.clone(), a.join("samples")]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Peak resident memory of a finished child, from /proc while it runs (Linux).
#[cfg(target_os = "linux")]
fn peak_rss_kib(args: &[&str]) -> (u64, std::process::ExitStatus) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shadergan"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_file) {
            if let Some(l) = s.lines().find(|l| l.starts_with("VmHWM:")) {
                let kib: u64 = l.split_whitespace().nth(1).unwrap().parse().unwrap();
                peak = peak.max(kib);
            }
        }
        if let Some(st) = child.try_wait().unwrap() {
            return (peak, st);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[cfg(target_os = "linux")]
#[test]
fn sample_streams_in_bounded_memory() {
    let out = tmp_dir("stream");
    let r = train(&out, &["--iterations", "10", "--log-every", "10"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let o = out.to_str().unwrap();
    let csv = out.join("s.csv");
    let c = csv.to_str().unwrap();
    let (small, st) = peak_rss_kib(&["sample", "--checkpoint", o, "-n", "1000", "-o", c]);
    assert!(st.success());
    // 2,000,000 rows with noise: 20 floats a row, 160 MB as f32 held at once, more as text.
    let (large, st) = peak_rss_kib(&[
        "sample",
        "--checkpoint",
        o,
        "-n",
        "2000000",
        "--include-noise",
        "-o",
        c,
    ]);
    assert!(st.success());
    let rows = std::fs::read_to_string(&csv).unwrap().lines().count();
    assert_eq!(rows, 2_000_001);
    eprintln!("peak RSS: -n 1000 {small} KiB, -n 2000000 {large} KiB");
    assert!(
        large < small + 40 * 1024,
        "sample -n 2000000 peaked at {large} KiB against {small} KiB for -n 1000"
    );
    // One picture of 200,000 images is refused with the way out.
    let r = shadergan(&[
        "sample",
        "--checkpoint",
        o,
        "-n",
        "200000",
        "--grid",
        "g.png",
    ]);
    assert_clean_failure(&r, "--grid draws at most");
}
