//! Training end to end on the GPU: a short seeded run must learn the ring (a broken trainer does
//! not), a resumed run equals a straight one bit for bit, and the command line writes every file
//! it promises and refuses bad input with a clear message and a non-zero exit.
mod common;
use common::*;
use shadergan::gan::checkpoint;
use shadergan::gan::config::TrainConfig;
use shadergan::run::{read_metrics, train};

fn quick_config() -> TrainConfig {
    TrainConfig {
        iterations: 200,
        batch: 64,
        z_dim: 4,
        g_hidden: vec![32, 32],
        d_hidden: vec![32, 32],
        log_every: 50,
        checkpoint_every: 0,
        seed: 11,
        ..TrainConfig::default()
    }
}

#[test]
fn resumed_run_equals_straight_run_bit_for_bit() {
    let g = gpu();
    let straight = tmp_dir("straight");
    train(g, &quick_config(), &straight, None).unwrap();
    let half = tmp_dir("half");
    let cfg100 = TrainConfig {
        iterations: 100,
        ..quick_config()
    };
    train(g, &cfg100, &half, None).unwrap();
    let ck = checkpoint::load(
        &half.join("checkpoint.safetensors"),
        gpu().max_storage_bytes(),
    )
    .unwrap();
    assert_eq!(ck.state.iteration(), 100);
    train(g, &quick_config(), &half, Some(ck.state)).unwrap();
    let a = checkpoint::load(
        &straight.join("checkpoint.safetensors"),
        gpu().max_storage_bytes(),
    )
    .unwrap();
    let b = checkpoint::load(
        &half.join("checkpoint.safetensors"),
        gpu().max_storage_bytes(),
    )
    .unwrap();
    assert_eq!(a.state.iteration(), 200);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
    assert_eq!(
        bits(&a.state.g_params),
        bits(&b.state.g_params),
        "G weights"
    );
    assert_eq!(
        bits(&a.state.d_params),
        bits(&b.state.d_params),
        "D weights"
    );
    assert_eq!(bits(&a.state.g_adam_v), bits(&b.state.g_adam_v), "G Adam v");
    assert_eq!(bits(&a.state.d_adam_m), bits(&b.state.d_adam_m), "D Adam m");
    assert_eq!(a.state.counters, b.state.counters);
    // The resumed run kept the first half's metrics.
    let rows = read_metrics(&half.join("metrics.csv"));
    let its: Vec<u64> = rows.iter().map(|r| r.iteration).collect();
    assert_eq!(its, vec![50, 100, 150, 200]);
}

#[test]
fn short_seeded_run_learns_the_ring() {
    let g = gpu();
    let out = tmp_dir("learn");
    let cfg = TrainConfig {
        dataset: "ring:std=0.05".into(),
        iterations: 3000,
        batch: 64,
        g_hidden: vec![64, 64],
        d_hidden: vec![64, 64],
        log_every: 1000,
        lr_decay_iters: 3000,
        seed: 3,
        ..TrainConfig::default()
    };
    let s = train(g, &cfg, &out, None).unwrap();
    let r = s.report.expect("ring is a mixture").g;
    eprintln!("short run: {r}");
    // An untrained or broken generator puts its samples near the origin: 0 modes, 0% quality.
    assert!(r.modes_captured >= 7, "{r}");
    assert!(r.high_quality_fraction >= 0.4, "{r}");
}

#[test]
fn cli_train_writes_every_output_and_sample_reads_it() {
    let out = tmp_dir("cli");
    let o = out.to_str().unwrap();
    let args = [
        "train",
        "--iterations",
        "20",
        "--log-every",
        "10",
        "--out",
        o,
    ];
    let r = shadergan(&[&args[..], &SMALL_NETS].concat());
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    for f in [
        "config.toml",
        "metrics.csv",
        "loss.png",
        "evolution.gif",
        "eval.toml",
        "checkpoint.safetensors",
        "samples/step_000000.png",
        "samples/step_000010.png",
        "samples/step_000020.png",
    ] {
        assert!(out.join(f).is_file(), "{f} is missing");
    }
    let cfg = TrainConfig::from_toml_file(&out.join("config.toml")).unwrap();
    assert_eq!(
        (cfg.iterations, cfg.batch, cfg.d_hidden.clone()),
        (20, 32, vec![16])
    );
    assert_eq!(read_metrics(&out.join("metrics.csv")).len(), 2);
    for f in ["loss.png", "samples/step_000020.png", "evolution.gif"] {
        image::open(out.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    let ck = checkpoint::load(
        &out.join("checkpoint.safetensors"),
        gpu().max_storage_bytes(),
    )
    .unwrap();
    assert_eq!((ck.state.iteration(), ck.data_dim, ck.image), (20, 2, None));
    let ev = std::fs::read_to_string(out.join("eval.toml")).unwrap();
    assert!(ev.contains("modes_total"), "{ev}");

    let r = shadergan(&["sample", "--checkpoint", o, "-n", "5", "--include-noise"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let csv = String::from_utf8(r.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "z_0,z_1,z_2,z_3,z_4,z_5,z_6,z_7,x_0,x_1");
    assert_eq!(lines.len(), 6);
    for l in &lines[1..] {
        let v: Vec<f32> = l.split(',').map(|x| x.parse().unwrap()).collect();
        assert_eq!(v.len(), 10);
        assert!(v.iter().all(|x| x.is_finite()));
    }
    let r = shadergan(&["eval", o]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stdout).contains("modes captured"));
}

#[test]
fn bad_input_gets_a_clear_error_and_nonzero_exit() {
    let out = tmp_dir("bad");
    let o = out.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["train", "--batch", "0", "--out", o], "batch"),
        (&["train", "--lr-d", "-0.1", "--out", o], "lr_d"),
        (&["train", "--dataset", "nonsense", "--out", o], "nonsense"),
        (&["train", "--d-steps", "0", "--out", o], "d_steps"),
        (&["train", "--leaky-alpha", "0", "--out", o], "leaky_alpha"),
        (
            &["train", "--g-hidden", "300000000", "--out", o],
            "between 1 and 65536",
        ),
        (
            &["train", "--g-hidden", "65536,65536", "--out", o],
            "allows at most",
        ),
        (
            &["train", "--resume", "/nonexistent/run", "--iterations", "5"],
            "nonexistent",
        ),
        (
            &["sample", "--checkpoint", "/nonexistent/c.safetensors"],
            "nonexistent",
        ),
        (&["train", "--no-such-flag"], "no-such-flag"),
    ];
    for (args, needle) in cases {
        let r = shadergan(args);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success(), "{args:?} succeeded");
        assert!(
            r.status.code().is_some(),
            "{args:?} was killed (a panic abort?)"
        );
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
        assert!(
            err.contains(needle),
            "{args:?}: error does not mention {needle:?}: {err}"
        );
    }
}
