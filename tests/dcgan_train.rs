//! DCGAN runs end to end: checkpoints name and shape every tensor as PyTorch's nn.Sequential
//! state_dict of the same modules would (the list below is written from torch.nn's modules:
//! Linear weight [out, in], ConvTranspose2d weight [in, out, kh, kw], Conv2d weight [out, in, kh,
//! kw], BatchNorm weight/bias/running_mean/running_var [c] and num_batches_tracked, an int64
//! scalar; module indices count activations and views), and round-trip every value; a short
//! seeded digits run moves G's pixel statistics towards the data's, and a resumed run equals a
//! straight one bit for bit.
mod common;
use common::*;
use safetensors::tensor::{Dtype, SafeTensors};
use shadergan::gan::checkpoint::{self, Checkpoint};
use shadergan::gan::config::{Arch, TrainConfig};
use shadergan::gan::generate::generate;
use shadergan::gan::state::{fixed_noise, TrainState};
use shadergan::run::train;

/// Workload C's networks (benches/WORKLOADS.md).
fn workload_c() -> TrainConfig {
    TrainConfig {
        dataset: "digits".into(),
        arch: Arch::Dcgan,
        batch: 4,
        z_dim: 100,
        g_channels: 64,
        d_channels: 64,
        channels: 1,
        ..TrainConfig::defaults_for("digits")
    }
}

#[test]
fn checkpoint_is_a_pytorch_state_dict_of_the_architecture_it_names() {
    let cfg = workload_c();
    let (g, d) = (cfg.g_network(784).unwrap(), cfg.d_network(784).unwrap());
    let mut state = TrainState::fresh(&cfg, &g, &d).unwrap();
    state.counters[0] = 10; // iteration 10
    for (i, v) in state.g_running.iter_mut().enumerate() {
        *v = i as f32 * 0.5;
    }
    for (i, v) in state.d_running.iter_mut().enumerate() {
        *v = -(i as f32);
    }
    let dir = tmp_dir("dcgan_ck");
    let path = dir.join("checkpoint.safetensors");
    let ck = Checkpoint {
        config: cfg.clone(),
        state: state.clone(),
        data_dim: 784,
        image: Some([28, 28, 1]),
    };
    checkpoint::save(&path, &ck).unwrap();

    let bytes = std::fs::read(&path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let bn = |i: usize, c: usize| -> Vec<(String, Vec<usize>)> {
        ["weight", "bias", "running_mean", "running_var"]
            .iter()
            .map(|t| (format!("{i}.{t}"), vec![c]))
            .chain([(format!("{i}.num_batches_tracked"), vec![])])
            .collect()
    };
    let mut want_g = vec![("0.weight".to_string(), vec![6272, 100])];
    want_g.extend(bn(1, 6272));
    want_g.push(("4.weight".into(), vec![128, 64, 4, 4]));
    want_g.extend(bn(5, 64));
    want_g.extend([
        ("7.weight".into(), vec![64, 1, 4, 4]),
        ("7.bias".into(), vec![1]),
    ]);
    let mut want_d = vec![
        ("0.weight".to_string(), vec![64, 1, 4, 4]),
        ("0.bias".into(), vec![64]),
        ("2.weight".into(), vec![128, 64, 4, 4]),
    ];
    want_d.extend(bn(3, 128));
    want_d.extend([
        ("6.weight".into(), vec![1, 6272]),
        ("6.bias".into(), vec![1]),
    ]);
    for (prefix, want) in [("g", &want_g), ("d", &want_d)] {
        let mut got: Vec<(String, Vec<usize>)> = st
            .tensors()
            .into_iter()
            .filter_map(|(n, t)| {
                let n = n.strip_prefix(&format!("{prefix}."))?.to_string();
                Some((n, t.shape().to_vec()))
            })
            .collect();
        got.sort();
        let mut want = want.clone();
        want.sort();
        assert_eq!(got, want, "{prefix}'s state_dict");
    }
    let tracked = |name: &str| {
        let t = st.tensor(name).unwrap();
        assert_eq!(t.dtype(), Dtype::I64, "{name}");
        i64::from_le_bytes(t.data().try_into().unwrap())
    };
    // k = 1: G trains twice per iteration (D step, G step), D three times (real, generated, G step).
    assert_eq!(tracked("g.1.num_batches_tracked"), 20);
    assert_eq!(tracked("d.3.num_batches_tracked"), 30);
    // BN 1's running_mean is the first 6272 running values, its running_var the next.
    let rv = st.tensor("g.1.running_var").unwrap();
    let rv: Vec<f32> = bytemuck::pod_collect_to_vec(rv.data());
    assert_eq!(rv[0], 6272.0 * 0.5);

    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = meta.metadata().clone().unwrap();
    assert_eq!(
        meta["g_architecture"],
        "Linear(100, 6272, bias=False), BatchNorm1d(6272), ReLU(), Unflatten(1, (128, 7, 7)), \
         ConvTranspose2d(128, 64, 4, 2, 1, bias=False), BatchNorm2d(64), ReLU(), \
         ConvTranspose2d(64, 1, 4, 2, 1), Tanh()"
    );
    assert_eq!(
        meta["d_architecture"],
        "Conv2d(1, 64, 4, 2, 1), LeakyReLU(0.2), Conv2d(64, 128, 4, 2, 1, bias=False), \
         BatchNorm2d(128), LeakyReLU(0.2), Flatten(), Linear(6272, 1)"
    );

    let back = checkpoint::load(&path, u64::MAX).unwrap();
    assert!(back.state == state, "every value round-trips");
}

/// Per-pixel mean and standard deviation of rows of `dim` values.
fn pixel_stats(rows: &[f32], dim: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (rows.len() / dim) as f64;
    let mut mean = vec![0.0; dim];
    let mut sq = vec![0.0; dim];
    for r in rows.chunks(dim) {
        for (k, &v) in r.iter().enumerate() {
            mean[k] += v as f64 / n;
            sq[k] += (v as f64).powi(2) / n;
        }
    }
    let std = mean
        .iter()
        .zip(&sq)
        .map(|(m, s)| (s - m * m).max(0.0).sqrt())
        .collect();
    (mean, std)
}

/// Root-mean-square distance between the pixel statistics of `a` and `b`.
fn stats_distance(a: &[f32], b: &[f32], dim: usize) -> f64 {
    let ((ma, sa), (mb, sb)) = (pixel_stats(a, dim), pixel_stats(b, dim));
    let d2: f64 = (0..dim)
        .map(|k| (ma[k] - mb[k]).powi(2) + (sa[k] - sb[k]).powi(2))
        .sum();
    (d2 / dim as f64).sqrt()
}

fn short_run(iterations: u64) -> TrainConfig {
    TrainConfig {
        arch: Arch::Dcgan,
        iterations,
        batch: 32,
        z_dim: 16,
        g_channels: 16,
        d_channels: 16,
        log_every: 50,
        checkpoint_every: 0,
        seed: 5,
        ..TrainConfig::defaults_for("digits")
    }
}

#[test]
fn short_digits_run_learns_and_resumes_bit_for_bit() {
    let gpu = gpu();
    let straight = tmp_dir("dcgan_straight");
    train(gpu, &short_run(300), &straight, None).unwrap();
    let ck = checkpoint::load(&straight.join("checkpoint.safetensors"), u64::MAX).unwrap();

    // G's samples, before and after, against the real digits' pixel statistics. A wrong
    // gradient anywhere in G or D leaves G's statistics where the initialisation put them.
    // Measured (seed 5, lavapipe): 0.847 at initialisation, 0.484 after 300 iterations.
    let cfg = short_run(300);
    let (gs, ds) = (cfg.g_network(64).unwrap(), cfg.d_network(64).unwrap());
    let fresh = TrainState::fresh(&cfg, &gs, &ds).unwrap();
    let z = fixed_noise(99, 2000 * cfg.z_dim);
    let before = generate(gpu, &gs, &fresh.g_params, &fresh.g_running, &z).unwrap();
    let after = generate(gpu, &gs, &ck.state.g_params, &ck.state.g_running, &z).unwrap();
    let real = shadergan::data::Dataset::parse("digits")
        .unwrap()
        .load_images(None, 1, u64::MAX)
        .unwrap()
        .pixels;
    let (d0, d1) = (
        stats_distance(&before, &real, 64),
        stats_distance(&after, &real, 64),
    );
    eprintln!("pixel-statistics distance to the digits: {d0:.3} at initialisation, {d1:.3} after");
    assert!(
        d1 < 0.7 * d0,
        "G did not move towards the data: {d0} -> {d1}"
    );

    let half = tmp_dir("dcgan_half");
    train(gpu, &short_run(150), &half, None).unwrap();
    let mid = checkpoint::load(&half.join("checkpoint.safetensors"), u64::MAX).unwrap();
    train(gpu, &short_run(300), &half, Some(mid.state)).unwrap();
    let resumed = checkpoint::load(&half.join("checkpoint.safetensors"), u64::MAX).unwrap();
    let bits = |s: &TrainState| {
        [
            &s.g_params,
            &s.d_params,
            &s.g_running,
            &s.d_running,
            &s.g_adam_v,
        ]
        .map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>())
    };
    assert_eq!(bits(&ck.state), bits(&resumed.state), "resumed vs straight");
}

/// `sample` and `eval` run G in chunks of as many rows as its widest layer lets one storage
/// buffer hold (at most 4096): a 28 x 28 DCGAN's 64 x 14 x 14 maps take 196 MiB for 4096 rows,
/// more than lavapipe's 128 MiB.
#[test]
fn generator_chunks_to_what_a_storage_buffer_holds() {
    use shadergan::gan::generate::{Generator, CHUNK};
    let gpu = gpu();
    let cfg = workload_c();
    let (gs, ds) = (cfg.g_network(784).unwrap(), cfg.d_network(784).unwrap());
    let widest = gs.layer_widths().unwrap().into_iter().max().unwrap() as u64 * 4;
    let state = TrainState::fresh(&cfg, &gs, &ds).unwrap();
    let g = Generator::new(gpu, &gs, &state.g_params, &state.g_running).unwrap();
    let (chunk, max) = (g.chunk() as u64, gpu.max_storage_bytes());
    assert!(chunk * widest <= max, "{chunk} rows of {widest} bytes");
    assert!(
        chunk == CHUNK as u64 || (chunk + 1) * widest > max,
        "{chunk} rows: too few"
    );
    let z = fixed_noise(1, 3 * cfg.z_dim);
    let x = g.run(&z).unwrap();
    assert_eq!(x.len(), 3 * 784);
    assert!(x.iter().all(|v| v.is_finite() && v.abs() <= 1.0));
}
