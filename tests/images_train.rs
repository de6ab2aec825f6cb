//! Image GANs end to end: a short digits run writes its sample grid, checkpoints round-trip to
//! identical generator outputs, `sample --grid/--dir` read any architecture from the file, and a
//! data set too large for the device is refused with both sizes.
mod common;
use common::*;
use shadergan::gan::checkpoint::{self, Checkpoint};
use shadergan::gan::config::TrainConfig;
use shadergan::gan::generate::generate;
use shadergan::gan::state::fixed_noise;
use shadergan::gan::trainer::{check_fits, Trainer, GRID_IMAGES};

#[test]
fn digits_run_writes_grids_and_sample_reads_the_architecture_from_the_file() {
    let out = tmp_dir("digits");
    let o = out.to_str().unwrap();
    let r = shadergan(&[
        "train",
        "--dataset",
        "digits",
        "--iterations",
        "20",
        "--log-every",
        "10",
        "--g-hidden",
        "32",
        "--d-hidden",
        "48,16",
        "--z-dim",
        "10",
        "--out",
        o,
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let cfg = TrainConfig::from_toml_file(&out.join("config.toml")).unwrap();
    // Image defaults: tanh output, LeakyReLU 0.2, Adam 2e-4 / (0.5, 0.999).
    assert_eq!(cfg.g_out, "tanh");
    assert_eq!(
        (cfg.lr_d, cfg.lr_g, cfg.beta1, cfg.beta2),
        (2e-4, 2e-4, 0.5, 0.999)
    );
    assert_eq!(cfg.d_act, "leaky_relu");
    for f in ["samples/step_000010.png", "samples/step_000020.png"] {
        let img = image::open(out.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        // An 8 x 8 grid of 8 x 8 digits scaled 8x with 2-pixel gaps.
        assert_eq!(
            (img.width(), img.height()),
            (8 * 64 + 9 * 2, 8 * 64 + 9 * 2),
            "{f}"
        );
    }
    assert!(out.join("evolution.gif").is_file() && out.join("loss.png").is_file());
    assert!(
        !out.join("eval.toml").exists(),
        "digits has no modes to evaluate"
    );
    let ck = checkpoint::load(
        &out.join("checkpoint.safetensors"),
        gpu().max_storage_bytes(),
    )
    .unwrap();
    assert_eq!((ck.data_dim, ck.image), (64, Some([8, 8, 1])));

    let grid = out.join("grid.png");
    let dir = out.join("pngs");
    let r = shadergan(&[
        "sample",
        "--checkpoint",
        o,
        "-n",
        "9",
        "--grid",
        grid.to_str().unwrap(),
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let g = image::open(&grid).unwrap();
    assert_eq!((g.width(), g.height()), (3 * 64 + 4 * 2, 3 * 64 + 4 * 2));
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files, 9);
    let one = image::open(dir.join("sample_000000.png")).unwrap();
    assert_eq!((one.width(), one.height()), (8, 8));
}

#[test]
fn checkpoint_round_trip_gives_identical_generator_outputs() {
    let g = gpu();
    let cfg = TrainConfig {
        dataset: "digits".into(),
        ..TrainConfig::defaults_for("digits")
    };
    let t = Trainer::new(g, &cfg, None).unwrap();
    t.submit(3).unwrap();
    let state = t.state().unwrap();
    let dir = tmp_dir("ck");
    let path = dir.join("c.safetensors");
    let ck = Checkpoint {
        config: cfg.clone(),
        state: state.clone(),
        data_dim: 64,
        image: Some([8, 8, 1]),
    };
    checkpoint::save(&path, &ck).unwrap();
    let back = checkpoint::load(&path, gpu().max_storage_bytes()).unwrap();
    assert_eq!(back.state, state, "every tensor survives the round trip");
    assert_eq!(back.config, cfg);
    let spec = cfg.g_network(64).unwrap();
    let z = fixed_noise(cfg.seed, GRID_IMAGES * spec.input_len());
    let before = generate(g, &spec, &state.g_params, &state.g_running, &z).unwrap();
    let after = generate(g, &spec, &back.state.g_params, &back.state.g_running, &z).unwrap();
    assert_eq!(before.len(), GRID_IMAGES * 64);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&before), bits(&after));
    // The trainer's own picture of the same noise is the same computation.
    let snap = t.snapshot().unwrap().samples;
    assert_eq!(bits(&snap), bits(&before));
    assert!(
        before.iter().all(|v| (-1.0..=1.0).contains(v)),
        "tanh output"
    );
}

#[test]
fn a_data_set_larger_than_the_device_allows_is_refused_with_both_sizes() {
    let g = gpu();
    let max = g
        .limits
        .max_storage_buffer_binding_size
        .min(g.limits.max_buffer_size);
    let cfg = TrainConfig::defaults_for("digits");
    let rows = (max / 4 / 64 + 1) as usize;
    let err = check_fits(g, &cfg, 64, rows as u64 * 64 * 4)
        .unwrap_err()
        .to_string();
    assert!(err.contains("data set"), "{err}");
    assert!(err.contains(&max.to_string()), "{err}");
    assert!(err.contains(&(rows as u64 * 64 * 4).to_string()), "{err}");
}

#[test]
fn sample_grid_of_a_vector_checkpoint_is_a_clear_error() {
    let out = tmp_dir("vec");
    let o = out.to_str().unwrap();
    let r = shadergan(&["train", "--iterations", "2", "--log-every", "1", "--out", o]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let r = shadergan(&["sample", "--checkpoint", o, "--grid", "/tmp/x.png"]);
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("image checkpoint"), "{err}");
}

/// A full MNIST-sized set (60,000 x 28 x 28) trains on a device whose storage buffers hold 128
/// MiB (lavapipe): the device keeps one byte per pixel (47 MB; 188 MB as f32 would not fit), and
/// the gather expands them.
#[test]
fn sixty_thousand_28x28_images_fit_as_bytes() {
    let dir = tmp_dir("mnist_sized");
    let n = 60_000;
    let pixels: Vec<u8> = (0..n * 784).map(|i| ((i * 31) % 251) as u8).collect();
    let path = dir.join("images-idx3-ubyte.gz");
    shadergan::data::write_idx(&path, n, 28, 28, &pixels, true).unwrap();
    let out = dir.join("run");
    let r = shadergan(&[
        "train",
        "--dataset",
        &format!("idx:{}", path.display()),
        "--iterations",
        "2",
        "--log-every",
        "1",
        "--batch",
        "8",
        "--g-channels",
        "4",
        "--d-channels",
        "4",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(out.join("checkpoint.safetensors").is_file());
    // On a device with lavapipe's buffers the same set as f32 is refused: the bytes are what fit.
    let g = gpu();
    if g.max_storage_bytes() < (n * 784 * 4) as u64 {
        let cfg = TrainConfig::defaults_for("digits");
        assert!(check_fits(g, &cfg, 784, (n * 784 * 4) as u64).is_err());
        assert!(check_fits(g, &cfg, 784, (n * 784) as u64).is_ok());
    }
}
