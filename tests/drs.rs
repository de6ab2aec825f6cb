//! Discriminator rejection sampling (`gan::drs`): D's logits through the forward-only network
//! match a CPU forward written here; the kept samples are G's own samples from the fixed
//! evaluation noise, a subset in order, the same every time, and richer in what D scores high;
//! the command line samples and evaluates with it and refuses it where D's logit means
//! something else. Its effect on a trained run is measured in tests/modes.rs.
mod common;
use common::*;
use shadergan::gan::config::TrainConfig;
use shadergan::gan::drs;
use shadergan::gan::generate::Forward;
use shadergan::gan::state::TrainState;

fn small() -> TrainConfig {
    TrainConfig {
        g_hidden: vec![16, 9],
        d_hidden: vec![13, 7],
        drs: 10.0,
        seed: 5,
        ..TrainConfig::default()
    }
}

fn fresh(cfg: &TrainConfig) -> TrainState {
    TrainState::fresh(cfg, &cfg.g_network(2).unwrap(), &cfg.d_network(2).unwrap()).unwrap()
}

/// D as PyTorch computes it: Linear layers (weight [out, in] then bias, in state_dict order)
/// with LeakyReLU(0.2) between them, in f64.
fn cpu_d(params: &[f32], widths: &[usize], x: &[f32]) -> Vec<f32> {
    let mut out = Vec::new();
    for row in x.chunks(widths[0]) {
        let mut h: Vec<f64> = row.iter().map(|&v| v as f64).collect();
        let mut at = 0;
        for (l, w) in widths.windows(2).enumerate() {
            let (i, o) = (w[0], w[1]);
            let weight = &params[at..at + i * o];
            let bias = &params[at + i * o..at + i * o + o];
            at += i * o + o;
            h = (0..o)
                .map(|r| {
                    let s: f64 = (0..i).map(|c| weight[r * i + c] as f64 * h[c]).sum();
                    let y = s + bias[r] as f64;
                    if l + 2 < widths.len() && y < 0.0 {
                        0.2 * y
                    } else {
                        y
                    }
                })
                .collect();
        }
        out.push(h[0] as f32);
    }
    out
}

#[test]
fn d_logits_match_a_cpu_forward_on_odd_rows() {
    let cfg = small();
    let state = fresh(&cfg);
    let d = Forward::new(gpu(), &cfg.d_network(2).unwrap(), &state.d_params, &[]).unwrap();
    for rows in [1, 37, d.chunk()] {
        let x = inputs(rows as u64, rows * 2, -3.0, 3.0);
        let got = d.run(&x).unwrap();
        assert_eq!(got.len(), rows);
        let want = cpu_d(&state.d_params, &[2, 13, 7, 1], &x);
        assert_close("D logits", &got, &want, 1e-4, 1e-5);
    }
}

#[test]
fn kept_samples_are_gs_own_in_order_and_repeatable() {
    let cfg = small();
    let state = fresh(&cfg);
    let s = drs::Sampler::new(gpu(), &cfg, &state, 2, cfg.drs).unwrap();
    let n = 700;
    let (kept, r) = s.draw(cfg.seed, n).unwrap();
    assert_eq!((r.kept, kept.len()), (n, 2 * n));
    assert!(r.drawn > n && r.drawn < 100 * n, "{r:?}");
    assert_eq!(
        s.draw(cfg.seed, n).unwrap(),
        (kept.clone(), r),
        "not repeatable"
    );
    // G's own stream, and the decisions `decide` reports for it: the kept rows are exactly
    // the rows decided "keep", in order.
    let mut all = Vec::new();
    s.generator()
        .sample_stream(cfg.seed, r.drawn, |_, c| {
            all.extend_from_slice(c);
            Ok(())
        })
        .unwrap();
    let (x, keep) = s.decide(cfg.seed, r.drawn).unwrap();
    assert_eq!(x, all, "decide draws G's evaluation stream");
    let chosen: Vec<f32> = (x.chunks(2).zip(&keep))
        .filter(|(_, &k)| k)
        .flat_map(|(row, _)| row.to_vec())
        .collect();
    assert_eq!(chosen, kept);
    assert!(keep[r.drawn - 1], "the last row drawn is the n-th kept");
    // D selects: the kept rows score higher on average than all drawn.
    let d = s.discriminator();
    let mean = |x: &[f32]| {
        let l = d.run(&x[..x.len().min(2 * d.chunk())]).unwrap();
        l.iter().sum::<f32>() / l.len() as f32
    };
    let (mk, ma) = (mean(&kept), mean(&all));
    assert!(mk > ma, "kept mean logit {mk} <= drawn {ma}");
    // A different seed draws different samples.
    assert_ne!(s.draw(cfg.seed + 1, n).unwrap().0, kept);
}

#[test]
fn cli_samples_and_evaluates_with_drs_and_refuses_it_where_d_is_not_bce() {
    let out = tmp_dir("drs_cli");
    let o = out.to_str().unwrap();
    let args = [
        &["train", "--iterations", "20", "--log-every", "10"][..],
        &SMALL_NETS,
        &["--out", o],
    ]
    .concat();
    let r = shadergan(&[&args[..], &["--drs", "10"]].concat());
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(
        stdout.contains("with discriminator rejection sampling (percentile 10"),
        "{stdout}"
    );
    let text = std::fs::read_to_string(out.join("eval.toml")).unwrap();
    let ev: shadergan::eval::MixtureEval = toml::from_str(&text).unwrap();
    let d = ev.drs.expect("eval.toml has no [drs] table");
    assert_eq!((d.coverage.samples, d.sampling.kept), (2500, 2500));
    assert!(d.sampling.drawn >= 2500, "{text}");
    let png = image::open(out.join("drs.png")).expect("drs.png");
    assert!(png.width() > 100 && png.height() > 100);

    let r = shadergan(&["sample", "--checkpoint", o, "-n", "50"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(String::from_utf8_lossy(&r.stdout).lines().count(), 51);
    assert!(String::from_utf8_lossy(&r.stderr).contains("kept 50 of"));
    // --drs 0: G's samples as drawn, the first 50 of the fixed noise.
    let r0 = shadergan(&["sample", "--checkpoint", o, "-n", "50", "--drs", "0"]);
    assert!(r0.status.success());
    assert_ne!(r0.stdout, r.stdout);
    let r = shadergan(&["eval", o, "--drs", "0"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(!String::from_utf8_lossy(&r.stdout).contains("rejection"));

    for (extra, says) in [
        (["--loss", "hinge", "--drs", "10"], "bce loss only"),
        (["--pack", "2", "--drs", "10"], "packs"),
        (["--drs", "100", "--seed", "1"], "[0, 100)"),
    ] {
        let dir = tmp_dir("drs_refused");
        let mut a: Vec<&str> = args.to_vec();
        *a.last_mut().unwrap() = dir.to_str().unwrap();
        a.extend(extra);
        let r = shadergan(&a);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(
            !r.status.success() && err.contains(says),
            "{extra:?}: {err}"
        );
    }
}
