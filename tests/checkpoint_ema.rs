//! Checkpoints of runs with `g_ema` and `pack` (no GPU needed): the moving average is saved as
//! `g_ema.*` beside `g.*` with the same names and shapes and read back; a packed D's first layer
//! takes `pack` rows side by side; `g_sampling` picks the average when there is one.
mod common;
use common::{tmp_dir, TmpDir};
use safetensors::SafeTensors;
use shadergan::gan::checkpoint::{self, Checkpoint};
use shadergan::gan::config::TrainConfig;
use shadergan::gan::state::TrainState;
use std::path::PathBuf;

fn config() -> TrainConfig {
    TrainConfig {
        z_dim: 4,
        g_hidden: vec![8],
        d_hidden: vec![8],
        batch: 12,
        pack: 3,
        g_ema: 0.99,
        ..TrainConfig::default()
    }
}

/// Saves a checkpoint of `cfg` and `state` (2-D data) in a fresh folder; returns the folder's
/// guard, the file and its bytes.
fn saved(name: &str, cfg: &TrainConfig, state: &TrainState) -> (TmpDir, PathBuf, Vec<u8>) {
    let dir = tmp_dir(name);
    let path = dir.join("checkpoint.safetensors");
    let ck = Checkpoint {
        config: cfg.clone(),
        state: state.clone(),
        data_dim: 2,
        image: None,
    };
    checkpoint::save(&path, &ck).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (dir, path, bytes)
}

#[test]
fn g_ema_and_pack_round_trip_through_a_checkpoint() {
    let cfg = config();
    let (g, d) = (cfg.g_network(2).unwrap(), cfg.d_network(2).unwrap());
    let mut state = TrainState::fresh(&cfg, &g, &d).unwrap();
    assert!(
        state.g_ema.is_empty(),
        "a fresh run's average starts from G's weights"
    );
    assert_eq!(state.g_sampling(), state.g_params.as_slice());
    state.g_ema = state.g_params.iter().map(|w| 0.5 * w + 0.25).collect();
    assert_eq!(state.g_sampling(), state.g_ema.as_slice());
    let (_dir, path, bytes) = saved("checkpoint_ema", &cfg, &state);
    let st = SafeTensors::deserialize(&bytes).unwrap();
    for name in ["g.0.weight", "g.2.bias", "d.0.weight"] {
        let ema = name.replacen("g.", "g_ema.", 1);
        if name.starts_with("g.") {
            assert_eq!(
                st.tensor(name).unwrap().shape(),
                st.tensor(&ema).unwrap().shape(),
                "{ema}"
            );
        }
    }
    // D's first layer: 3 samples of 2 values side by side.
    assert_eq!(st.tensor("d.0.weight").unwrap().shape(), [8, 6]);

    let back = checkpoint::load(&path, 1 << 30).unwrap();
    assert_eq!(back.config, cfg);
    assert_eq!(back.state, state);
}

#[test]
fn a_run_without_g_ema_saves_no_average() {
    let cfg = TrainConfig {
        g_ema: 0.0,
        ..config()
    };
    let (g, d) = (cfg.g_network(2).unwrap(), cfg.d_network(2).unwrap());
    let state = TrainState::fresh(&cfg, &g, &d).unwrap();
    let (_dir, path, bytes) = saved("checkpoint_no_ema", &cfg, &state);
    let st = SafeTensors::deserialize(&bytes).unwrap();
    assert!(st.names().iter().all(|n| !n.starts_with("g_ema.")));
    assert_eq!(checkpoint::load(&path, 1 << 30).unwrap().state, state);
}

/// A spectrally normalised D is saved as PyTorch's `spectral_norm` parametrization holds it:
/// `d.N.parametrizations.weight.original` (the unnormalised W) with `...weight.0._u` [out] and
/// `._v` [in] per Linear layer, biases under their plain names; u and v come back bit for bit.
/// The fresh u and v are unit vectors after PyTorch's 15 initial power iterations, so u^T W v is
/// then close to W's largest singular value.
#[test]
fn spectral_norm_round_trips_under_pytorch_parametrization_names() {
    let cfg = TrainConfig {
        d_norm: shadergan::gan::config::DNorm::Spectral,
        pack: 1,
        g_ema: 0.0,
        ..config()
    };
    let (g, d) = (cfg.g_network(2).unwrap(), cfg.d_network(2).unwrap());
    let state = TrainState::fresh(&cfg, &g, &d).unwrap();
    assert_eq!(
        state.d_sn.len(),
        (8 + 2) + (1 + 8),
        "u and v of both layers"
    );
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm(&state.d_sn[..8]) - 1.0).abs() < 1e-5);
    assert!((norm(&state.d_sn[8..10]) - 1.0).abs() < 1e-5);
    let (_dir, path, bytes) = saved("checkpoint_spectral", &cfg, &state);
    let st = SafeTensors::deserialize(&bytes).unwrap();
    for (name, shape) in [
        ("d.0.parametrizations.weight.original", &[8usize, 2][..]),
        ("d.0.parametrizations.weight.0._u", &[8]),
        ("d.0.parametrizations.weight.0._v", &[2]),
        ("d.0.bias", &[8]),
        ("d.2.parametrizations.weight.original", &[1, 8]),
        ("d.2.parametrizations.weight.0._u", &[1]),
        ("d.2.parametrizations.weight.0._v", &[8]),
        ("g.0.weight", &[8, 4]),
    ] {
        assert_eq!(st.tensor(name).unwrap().shape(), shape, "{name}");
    }
    assert!(
        st.tensor("d.0.weight").is_err(),
        "W is stored once, as the original"
    );
    let back = checkpoint::load(&path, 1 << 30).unwrap();
    assert_eq!(back.config, cfg);
    assert_eq!(back.state, state);
}
