//! A conditional run's checkpoint (no GPU needed): the class embeddings are the state_dicts of
//! nn.Embedding(classes, width) modules, `g_label_emb.weight` [classes, classes] and
//! `d_label_emb.weight` [classes, width of phi] (`g_ema_label_emb.weight` with a moving average),
//! beside the unchanged nn.Sequential names; the metadata names their constructors; the Adam
//! moments cover the tables; every value round-trips. PyTorch's own strict load and G's outputs
//! are checked by tests/torch/conditional_load.py (see `torch_loads_conditional_checkpoints`).
mod common;
use common::*;
use safetensors::SafeTensors;
use shadergan::gan::checkpoint::{self, Checkpoint};
use shadergan::gan::config::{Arch, TrainConfig};
use shadergan::gan::state::TrainState;

fn saved(cfg: &TrainConfig, dim: usize, image: [usize; 3]) -> (TmpDir, Vec<u8>, TrainState) {
    let (g, d) = (cfg.g_network(dim).unwrap(), cfg.d_network(dim).unwrap());
    let mut state = TrainState::fresh(cfg, &g, &d).unwrap();
    if cfg.g_ema > 0.0 {
        // A fresh run's average is G's weights (and is read back as such).
        state.g_ema = state.g_params.clone();
    }
    let dir = tmp_dir(&format!("cond_ck_{:?}", cfg.arch));
    std::fs::create_dir_all(&*dir).unwrap();
    let path = dir.join("checkpoint.safetensors");
    let ck = Checkpoint {
        config: cfg.clone(),
        state: state.clone(),
        data_dim: dim,
        image: Some(image),
    };
    checkpoint::save(&path, &ck).unwrap();
    let back = checkpoint::load(&path, u64::MAX).unwrap();
    let s = &back.state;
    for (what, a, b) in [
        ("g", &s.g_params, &state.g_params),
        ("d", &s.d_params, &state.d_params),
        ("g_ema", &s.g_ema, &state.g_ema),
        ("g_adam_m", &s.g_adam_m, &state.g_adam_m),
        ("d_running", &s.d_running, &state.d_running),
    ] {
        assert_eq!(a.len(), b.len(), "{what}'s length");
        assert!(a == b, "{what} round-trips");
    }
    assert!(back.state == state, "every value round-trips");
    let bytes = std::fs::read(&path).unwrap();
    (dir, bytes, state)
}

#[test]
fn class_embeddings_are_nn_embedding_state_dicts() {
    // The 28 x 28 DCGAN of workload C: D's last Linear reads 128 x 7 x 7 = 6272 features.
    let dcgan = TrainConfig {
        dataset: "digits".into(),
        arch: Arch::Dcgan,
        conditional: true,
        classes: 10,
        z_dim: 100,
        ..TrainConfig::defaults_for("digits")
    };
    let (_dir, bytes, state) = saved(&dcgan, 784, [28, 28, 1]);
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let shape = |n: &str| st.tensor(n).unwrap().shape().to_vec();
    assert_eq!(shape("g_label_emb.weight"), [10, 10]);
    assert_eq!(shape("d_label_emb.weight"), [10, 6272]);
    // G's first Linear reads the embedding, then z: cat(label_emb(y), z).
    assert_eq!(shape("g.0.weight"), [6272, 110]);
    assert_eq!(shape("d.6.weight"), [1, 6272]);
    assert_eq!(shape("optim.d.adam_m"), [state.d_params.len()]);
    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = meta.metadata().clone().unwrap();
    assert_eq!(meta["g_label_emb_architecture"], "Embedding(10, 10)");
    assert_eq!(meta["d_label_emb_architecture"], "Embedding(10, 6272)");
    assert!(meta["g_architecture"].starts_with("Linear(110, 6272, bias=False)"));
    // The tables are the tails of the flat buffers: G's N(0, 1), D's Xavier-uniform.
    let d_table = &state.d_params[state.d_params.len() - 62_720..];
    let bound = (6.0f32 / 6282.0).sqrt();
    assert!(d_table.iter().all(|v| v.abs() <= bound));
    let g_table = &state.g_params[state.g_params.len() - 100..];
    let var = g_table.iter().map(|v| v * v).sum::<f32>() / 100.0;
    assert!((0.6..1.5).contains(&var), "{var}");

    let mlp = TrainConfig {
        arch: Arch::Mlp,
        g_ema: 0.99,
        g_hidden: vec![32],
        d_hidden: vec![24, 16],
        g_out: "tanh".into(),
        ..dcgan
    };
    let (_dir, bytes, _) = saved(&mlp, 64, [8, 8, 1]);
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let shape = |n: &str| st.tensor(n).unwrap().shape().to_vec();
    assert_eq!(shape("g_label_emb.weight"), [10, 10]);
    assert_eq!(shape("g_ema_label_emb.weight"), [10, 10]);
    assert_eq!(shape("d_label_emb.weight"), [10, 16]);
    assert_eq!(shape("g.0.weight"), [32, 110]);
}

/// Runs tests/torch/conditional_load.py on a conditional DCGAN and MLP (with G's moving average)
/// trained for a few iterations: strict load_state_dict of every module, and G(z, y) in eval mode
/// against `shadergan sample --include-noise` (HWC rows) to 1e-4. Needs python3 with torch:
/// `cargo test --release --test conditional_checkpoint -- --ignored`.
#[test]
#[ignore]
fn torch_loads_conditional_checkpoints() {
    for (name, extra) in [
        ("dcgan", &["--g-channels", "8", "--d-channels", "8"][..]),
        ("mlp", &["--arch", "mlp", "--g-ema", "0.9"][..]),
    ] {
        let out = tmp_dir(&format!("cond_torch_{name}"));
        let o = out.to_str().unwrap();
        let mut a = vec![
            "train",
            "--dataset",
            "digits",
            "--conditional",
            "--iterations",
            "20",
            "--batch",
            "16",
            "--log-every",
            "10",
            "--out",
            o,
        ];
        a.extend(extra);
        assert!(shadergan(&a).status.success());
        let csv = out.join("s.csv");
        let c = csv.to_str().unwrap();
        let r = shadergan(&[
            "sample",
            "--checkpoint",
            o,
            "--include-noise",
            "-n",
            "20",
            "-o",
            c,
        ]);
        assert!(r.status.success());
        let r = std::process::Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/torch/conditional_load.py"
            ))
            .arg(out.join("checkpoint.safetensors"))
            .arg(&csv)
            .output()
            .expect("python3 runs");
        let text = String::from_utf8_lossy(&r.stdout);
        assert!(
            r.status.success(),
            "{name}: {text}{}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert!(text.contains("All keys matched successfully"), "{text}");
    }
}
