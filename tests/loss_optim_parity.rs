//! GPU vs CPU for bce.wgsl and optim.wgsl on odd sizes with poisoned outputs, and the extreme
//! logits. Tolerances: elementwise rtol 1e-5; the loss is a reduction whose GPU order (256 strided
//! partial sums, then a tree) differs from the CPU's sequential sum, so rtol 1e-4 there; Adam's
//! bias correction uses pow(), which the GPU computes as exp2(t log2 b): rtol 1e-4.
mod common;
use common::*;
use shadergan::cpu::{bce as cbce, optim as copt};
use shadergan::kernels::bce::Bce;
use shadergan::kernels::optim::{Optim, OptimBuffers};
use shadergan::ops::{BceSpec, LossTerm};

const TERMS: [LossTerm; 4] = [
    LossTerm::Bce,
    LossTerm::Hinge,
    LossTerm::Linear,
    LossTerm::Square,
];

fn run_bce(bce: &Bce, spec: BceSpec, x: &[f32], y: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let g = gpu();
    let xb = g.buffer_from("x", x).unwrap();
    let yb = g.buffer_from("y", y).unwrap();
    let grad = poisoned(g, "grad", spec.n);
    let mut m0 = vec![0.5f32; spec.metrics_off + 3];
    if !spec.accumulate {
        m0.fill(f32::NAN);
    }
    let metrics = g.buffer_from("metrics", &m0).unwrap();
    let d1 = bce.loss(g, spec, &xb, &yb, &metrics).unwrap();
    let d2 = bce.backward(g, spec, &xb, &yb, &grad).unwrap();
    g.run(&[d1, d2]).unwrap();
    (g.read(&metrics).unwrap(), g.read(&grad).unwrap())
}

fn cpu_bce(spec: BceSpec, x: &[f32], y: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let mut metrics = vec![0.5f32; spec.metrics_off + 3];
    let off = spec.metrics_off;
    cbce::bce_with_logits(
        spec.term,
        spec.n,
        spec.split,
        spec.scale,
        spec.accumulate,
        x,
        y,
        &mut metrics[off..],
    );
    let mut grad = vec![0.0; spec.n];
    cbce::bce_with_logits_backward(spec.term, spec.n, spec.scale, x, y, &mut grad);
    (metrics, grad)
}

#[test]
fn bce_matches_cpu_on_odd_sizes() {
    let bce = Bce::new(gpu()).unwrap();
    for (i, &n) in ODD_SIZES.iter().enumerate() {
        let x = inputs(i as u64, n, -6.0, 6.0);
        // [real; fake] with targets 0.9 (label smoothing) and 0.
        let split = n.div_ceil(2);
        let y: Vec<f32> = (0..n).map(|r| if r < split { 0.9 } else { 0.0 }).collect();
        for (term, (scale, acc)) in TERMS
            .iter()
            .flat_map(|&t| [(1.0, false), (-1.0, true), (2.0, false)].map(|c| (t, c)))
        {
            let spec = BceSpec {
                term,
                n,
                split,
                scale,
                metrics_off: 2,
                accumulate: acc,
            };
            let (gm, gg) = run_bce(&bce, spec, &x, &y);
            let (cm, cg) = cpu_bce(spec, &x, &y);
            assert_close(
                &format!("{term:?} metrics n={n}"),
                &gm[2..],
                &cm[2..],
                1e-4,
                1e-6,
            );
            assert_close(&format!("{term:?} grad n={n}"), &gg, &cg, 1e-5, 1e-9);
        }
    }
}

#[test]
fn bce_at_extreme_logits_is_finite_and_right() {
    let bce = Bce::new(gpu()).unwrap();
    let x = [
        -1000.0f32, -100.0, 100.0, 1000.0, -1000.0, -100.0, 100.0, 1000.0,
    ];
    let y = [1.0f32, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    let spec = BceSpec {
        term: LossTerm::Bce,
        n: 8,
        split: 4,
        scale: 1.0,
        metrics_off: 0,
        accumulate: false,
    };
    let (gm, gg) = run_bce(&bce, spec, &x, &y);
    let (cm, cg) = cpu_bce(spec, &x, &y);
    assert!(gm.iter().chain(&gg).all(|v| v.is_finite()), "{gm:?} {gg:?}");
    // Wrong-side logits cost |x|: (1000 + 100 + 0 + 0 + 0 + 0 + 100 + 1000) / 8.
    assert_close("bce extreme loss", &gm[..1], &[2200.0 / 8.0], 1e-6, 0.0);
    assert_close("bce extreme metrics", &gm, &cm, 1e-6, 1e-6);
    assert_close("bce extreme grad", &gg, &cg, 1e-6, 1e-9);
    // A confident right answer gives a tiny positive loss, not 0 - log(1) rounding to garbage.
    let (gm, _) = run_bce(
        &bce,
        BceSpec {
            n: 1,
            split: 1,
            ..spec
        },
        &[20.0],
        &[1.0],
    );
    assert_close("bce tiny loss", &gm[..1], &[2.0611537e-9], 1e-4, 0.0);
}

/// The hinge and least-squares losses at the same extreme logits, against closed forms: the
/// hinge's D terms are relu(1 - x) for real and relu(1 + x) for fake rows, LS's (x - y)^2 / 2,
/// and the metrics' halves hold the mean raw logit (D has no probability under these losses).
#[test]
fn hinge_and_square_at_extreme_logits_match_closed_forms() {
    let bce = Bce::new(gpu()).unwrap();
    let x = [
        -1000.0f32, -100.0, 0.5, 1000.0, -1000.0, -100.0, -0.5, 1000.0,
    ];
    let y = [1.0f32, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    let spec = |term| BceSpec {
        term,
        n: 8,
        split: 4,
        scale: 1.0,
        metrics_off: 0,
        accumulate: false,
    };
    let (gm, gg) = run_bce(&bce, spec(LossTerm::Hinge), &x, &y);
    let hinge = (1001.0 + 101.0 + 0.5 + 0.0 + 0.0 + 0.0 + 0.5 + 1001.0) / 8.0;
    assert_close("hinge loss", &gm[..1], &[hinge], 1e-6, 0.0);
    assert_close("hinge means", &gm[1..3], &[-24.875, -25.125], 1e-6, 0.0);
    let g = [-1.0f32, -1.0, -1.0, 0.0, 0.0, 0.0, 1.0, 1.0].map(|v| v / 8.0);
    assert_close("hinge grad", &gg, &g, 1e-6, 0.0);
    let (gm, gg) = run_bce(&bce, spec(LossTerm::Square), &x, &y);
    let sq: f32 = x
        .iter()
        .zip(&y)
        .map(|(a, b)| 0.5 * (a - b) * (a - b))
        .sum::<f32>()
        / 8.0;
    assert_close("square loss", &gm[..1], &[sq], 1e-6, 0.0);
    let g: Vec<f32> = x.iter().zip(&y).map(|(a, b)| (a - b) / 8.0).collect();
    assert_close("square grad", &gg, &g, 1e-6, 0.0);
    let (gm, gg) = run_bce(&bce, spec(LossTerm::Linear), &x, &y);
    let lin: f32 = x
        .iter()
        .zip(&y)
        .map(|(a, b)| -(2.0 * b - 1.0) * a)
        .sum::<f32>()
        / 8.0;
    assert_close("linear loss", &gm[..1], &[lin], 1e-6, 1e-6);
    assert!(gm.iter().chain(&gg).all(|v| v.is_finite()), "{gm:?} {gg:?}");
}

#[test]
fn adam_and_sgd_match_cpu_over_several_steps() {
    let g = gpu();
    let opt = Optim::new(g).unwrap();
    let cfg = shadergan::ops::AdamConfig {
        lr: 1e-3,
        beta1: 0.5,
        beta2: 0.999,
        eps: 1e-8,
        decay_steps: 2,
        final_frac: 0.25,
    };
    for (i, &n) in ODD_SIZES.iter().enumerate() {
        let w0 = inputs(i as u64, n, -1.0, 1.0);
        let grads: Vec<Vec<f32>> = (0..3)
            .map(|s| inputs(50 + s + i as u64, n, -2.0, 2.0))
            .collect();
        let (w, gb, m, v) = (
            g.buffer_from("w", &w0).unwrap(),
            g.buffer("g", n).unwrap(),
            g.buffer("m", n).unwrap(),
            g.buffer("v", n).unwrap(),
        );
        let state = g.buffer_from("state", &[0u32, 0, 0]).unwrap();
        let (mut cw, mut cm, mut cv) = (w0.clone(), vec![0.0; n], vec![0.0; n]);
        let d = opt
            .adam(
                g,
                cfg,
                &state,
                2,
                OptimBuffers {
                    w: &w,
                    grad: &gb,
                    m: &m,
                    v: &v,
                },
                n,
            )
            .unwrap();
        for (t, grad) in grads.iter().enumerate() {
            g.write(&gb, grad);
            g.write(&state, &[0u32, 0, t as u32 + 1]);
            g.run(std::slice::from_ref(&d)).unwrap();
            copt::adam(cfg, t as u32 + 1, &mut cw, grad, &mut cm, &mut cv);
        }
        assert_close(
            &format!("adam w n={n}"),
            &g.read(&w).unwrap(),
            &cw,
            1e-4,
            1e-7,
        );
        assert_close(
            &format!("adam m n={n}"),
            &g.read(&m).unwrap(),
            &cm,
            1e-5,
            1e-9,
        );
        assert_close(
            &format!("adam v n={n}"),
            &g.read(&v).unwrap(),
            &cv,
            1e-5,
            1e-12,
        );

        let (w, mom) = (
            g.buffer_from("w", &w0).unwrap(),
            g.buffer("mom", n).unwrap(),
        );
        let (mut cw, mut cmom) = (w0.clone(), vec![0.0; n]);
        let d = opt
            .sgd_momentum(
                g,
                0.01,
                0.9,
                OptimBuffers {
                    w: &w,
                    grad: &gb,
                    m: &mom,
                    v: &mom,
                },
                n,
            )
            .unwrap();
        for grad in &grads {
            g.write(&gb, grad);
            g.run(std::slice::from_ref(&d)).unwrap();
            copt::sgd_momentum(0.01, 0.9, &mut cw, grad, &mut cmom);
        }
        assert_close(
            &format!("sgd w n={n}"),
            &g.read(&w).unwrap(),
            &cw,
            1e-5,
            1e-7,
        );
    }
}

#[test]
fn ema_matches_cpu_over_several_steps() {
    // The average is read and written in place, so it cannot start as NaN; it starts from
    // values unlike every result instead, so an element the kernel skips fails the check.
    let g = gpu();
    let opt = Optim::new(g).unwrap();
    for (i, &n) in ODD_SIZES.iter().enumerate() {
        let avg0 = inputs(70 + i as u64, n, 10.0, 20.0);
        let ws: Vec<Vec<f32>> = (0..3)
            .map(|s| inputs(80 + s + i as u64, n, -1.0, 1.0))
            .collect();
        let (w, avg) = (
            g.buffer("w", n).unwrap(),
            g.buffer_from("avg", &avg0).unwrap(),
        );
        let mut cavg = avg0.clone();
        let d = opt.ema(g, 0.5, &w, &avg, n).unwrap();
        for wt in &ws {
            g.write(&w, wt);
            g.run(std::slice::from_ref(&d)).unwrap();
            copt::ema(0.5, wt, &mut cavg);
        }
        // Three steps of decay 0.5 leave at most 1/8 of the start (below 3.5 here).
        assert!(cavg.iter().all(|&a| a < 10.0), "every element moved");
        assert_close(
            &format!("ema avg n={n}"),
            &g.read(&avg).unwrap(),
            &cavg,
            1e-5,
            1e-7,
        );
    }
}

#[test]
fn adam_first_step_moves_each_weight_by_lr() {
    // With bias correction the first Adam step is lr * g / (|g| + eps'): about lr in size.
    let mut w = vec![0.0f32; 3];
    let (mut m, mut v) = (vec![0.0; 3], vec![0.0; 3]);
    let cfg = shadergan::ops::AdamConfig {
        lr: 0.1,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        decay_steps: 0,
        final_frac: 1.0,
    };
    copt::adam(cfg, 1, &mut w, &[3.0, -0.5, 1e-3], &mut m, &mut v);
    assert_close("adam step 1", &w, &[-0.1, 0.1, -0.1], 1e-4, 0.0);
}
