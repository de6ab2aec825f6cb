//! The chain of trust starts here: every CPU backward against central finite differences of the
//! CPU forward. The forward runs in f32; differences are taken in f64 over a step h = 2^-8 (an
//! exact f32 offset) so the truncation error is ~h^2 f''' and the rounding error ~1e-7 / h;
//! tolerance rtol 1e-2 / atol 2e-4 covers both with margin while still catching a wrong sign,
//! factor or branch (each would be off by O(1)).
use shadergan::cpu::bce;
use shadergan::ops::{Activation, LossTerm};

const H: f32 = 1.0 / 256.0;

fn close(what: &str, analytic: f64, numeric: f64) {
    let tol = (1e-2 * analytic.abs().max(numeric.abs())).max(2e-4);
    assert!(
        (analytic - numeric).abs() <= tol,
        "{what}: analytic {analytic:e} vs finite difference {numeric:e}"
    );
}

/// Points away from the kinks of relu/leaky_relu (|x| > 2h).
fn points() -> Vec<f32> {
    vec![-3.1, -1.3, -0.4, -0.05, 0.07, 0.6, 1.7, 2.9]
}

#[test]
fn activation_backward_matches_finite_differences() {
    for act in [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu(0.2),
        Activation::Tanh,
        Activation::Sigmoid,
    ] {
        for x in points() {
            let dy = 0.7f32;
            let y = act.apply(x);
            let mut dx = [0.0f32];
            act.backward(&[y], &[dy], &mut dx);
            let num =
                dy as f64 * (act.apply(x + H) as f64 - act.apply(x - H) as f64) / (2.0 * H as f64);
            close(&format!("{} at {x}", act.name()), dx[0] as f64, num);
        }
    }
}

#[test]
fn bce_backward_matches_finite_differences() {
    let x = [-5.0f32, -0.3, 0.2, 4.0, 1.5, -2.5];
    let y = [1.0f32, 0.9, 0.0, 0.0, 1.0, 0.0];
    let n = x.len();
    // x t stays away from the hinge's kink at 1 (t = 2y - 1).
    for (term, scale) in [
        LossTerm::Bce,
        LossTerm::Hinge,
        LossTerm::Linear,
        LossTerm::Square,
    ]
    .into_iter()
    .flat_map(|t| [1.0f32, -1.0, 2.0].map(|s| (t, s)))
    {
        let loss = |x: &[f32]| {
            let mut m = [0.0f32; 3];
            bce::bce_with_logits(term, n, 3, scale, false, x, &y, &mut m);
            m[0] as f64
        };
        let mut grad = vec![0.0; n];
        bce::bce_with_logits_backward(term, n, scale, &x, &y, &mut grad);
        for i in 0..n {
            let (mut xp, mut xm) = (x, x);
            xp[i] += H;
            xm[i] -= H;
            let num = (loss(&xp) - loss(&xm)) / (2.0 * H as f64);
            close(
                &format!("{term:?} d/dx[{i}] scale {scale}"),
                grad[i] as f64,
                num,
            );
        }
    }
}

/// A whole network's backward (the ops `NetTensors::backward` emits, run by the CPU executor:
/// activation backward, weight gradient A^T B, bias gradient, input gradient A B) against finite
/// differences of its forward, for the scalar loss L = sum(dout * y).
#[test]
fn network_backward_matches_finite_differences() {
    use shadergan::graph::cpu::CpuPlan;
    use shadergan::graph::net::{Layer, NetSpec, NetTensors};
    use shadergan::graph::Graph;
    let spec = NetSpec {
        input: 3,
        layers: vec![
            Layer {
                out: 5,
                act: Activation::LeakyRelu(0.2),
            },
            Layer {
                out: 4,
                act: Activation::Tanh,
            },
            Layer {
                out: 2,
                act: Activation::Sigmoid,
            },
        ],
    };
    let rows = 4;
    let lcg = |seed: u32, n: usize| -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1664525).wrapping_add(1013904223);
                (s >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
            })
            .collect()
    };
    let params = lcg(1, spec.param_count());
    let x0 = lcg(2, rows * 3);
    let dout0 = lcg(3, rows * 2);
    let mut g = Graph::default();
    let x = g.f32_from("x", &x0);
    let dout = g.f32_from("dout", &dout0);
    let dx = g.f32("dx", rows * 3);
    let net = NetTensors::new(&mut g, "net", &spec, &params, rows);
    let fwd = net.forward(x.into(), rows, None);
    let mut ops = fwd.clone();
    ops.extend(net.backward(x.into(), rows, None, dout, true, Some(dx)));
    let mut cpu = CpuPlan::new(&g);
    cpu.run(&ops);
    let grads = cpu.tensors[net.grads].f32().to_vec();
    let dxv = cpu.tensors[dx].f32().to_vec();
    let y = *net.ys.last().unwrap();
    let loss = |p: &[f32], xin: &[f32]| -> f64 {
        let mut c = CpuPlan::new(&g);
        c.tensors[net.params].f32_mut().copy_from_slice(p);
        c.tensors[x].f32_mut().copy_from_slice(xin);
        c.run(&fwd);
        c.tensors[y]
            .f32()
            .iter()
            .zip(&dout0)
            .map(|(a, b)| (*a as f64) * (*b as f64))
            .sum()
    };
    for i in 0..params.len() {
        let (mut pp, mut pm) = (params.clone(), params.clone());
        pp[i] += H;
        pm[i] -= H;
        let num = (loss(&pp, &x0) - loss(&pm, &x0)) / (2.0 * H as f64);
        close(&format!("dL/dparam[{i}]"), grads[i] as f64, num);
    }
    for i in 0..x0.len() {
        let (mut xp, mut xm) = (x0.clone(), x0.clone());
        xp[i] += H;
        xm[i] -= H;
        let num = (loss(&params, &xp) - loss(&params, &xm)) / (2.0 * H as f64);
        close(&format!("dL/dx[{i}]"), dxv[i] as f64, num);
    }
}

#[test]
fn softmax_xent_backward_matches_finite_differences() {
    use shadergan::cpu::softmax_xent as cx;
    let (rows, classes) = (3, 4);
    let x = [
        -2.0f32, 0.5, 1.5, -0.3, //
        3.0, 2.9, -1.0, 0.0, //
        0.1, -0.2, 0.3, 4.0,
    ];
    let labels = [2.0f32, 0.0, 1.0];
    for scale in [1.0f32, 0.5] {
        let loss = |x: &[f32]| {
            let (mut logp, mut m) = (vec![0.0; rows * classes], [0.0f32; 2]);
            cx::softmax_xent(rows, classes, scale, false, x, &labels, &mut logp, &mut m);
            m[0] as f64
        };
        let mut logp = vec![0.0; rows * classes];
        cx::softmax_xent(
            rows,
            classes,
            scale,
            false,
            &x,
            &labels,
            &mut logp,
            &mut [0.0; 2],
        );
        let mut grad = vec![0.0; rows * classes];
        cx::softmax_xent_backward(rows, classes, scale, &logp, &labels, &mut grad);
        for i in 0..rows * classes {
            let (mut xp, mut xm) = (x, x);
            xp[i] += H;
            xm[i] -= H;
            let num = (loss(&xp) - loss(&xm)) / (2.0 * H as f64);
            close(
                &format!("softmax_xent d/dx[{i}] scale {scale}"),
                grad[i] as f64,
                num,
            );
        }
    }
}

/// Spectral normalisation's backward: L(W) = sum(G0 * W_sn(W)) with u and v held fixed (the
/// evaluation forward, which does not iterate), against finite differences in every weight; the
/// bias passes through unchanged. u and v come from a few power iterations first, as in training.
#[test]
fn spectral_norm_backward_matches_finite_differences() {
    use shadergan::cpu::spectral::{spectral_norm_backward, spectral_norm_forward};
    use shadergan::ops::SpectralSpec;
    let (rows, cols) = (4, 3);
    let s = SpectralSpec {
        rows,
        cols,
        w_off: 1,
        uv_off: 0,
        sigma_slot: 0,
        update: true,
        eps: 1e-12,
    };
    let len = 1 + rows * (cols + 1);
    let w: Vec<f32> = (0..len)
        .map(|i| ((i * 7 % 11) as f32 - 5.0) / 6.0)
        .collect();
    let g0: Vec<f32> = (0..len)
        .map(|i| ((i * 5 % 13) as f32 - 6.0) / 7.0)
        .collect();
    let mut uv = vec![0.5f32; rows + cols];
    let (mut wsn, mut sigma) = (vec![0.0; len], vec![0.0; 1]);
    for _ in 0..3 {
        spectral_norm_forward(&s, &w, &mut wsn, &mut uv, &mut sigma);
    }
    let fixed = SpectralSpec { update: false, ..s };
    let loss = |w: &[f32]| {
        let (mut wsn, mut uv, mut sigma) = (vec![0.0; len], uv.clone(), vec![0.0; 1]);
        spectral_norm_forward(&fixed, w, &mut wsn, &mut uv, &mut sigma);
        (s.w_off..len)
            .map(|k| g0[k] as f64 * wsn[k] as f64)
            .sum::<f64>()
    };
    let mut grad = g0.clone();
    spectral_norm_backward(&s, &wsn, &uv, &sigma, &mut grad);
    for k in s.w_off..len {
        let (mut wp, mut wm) = (w.clone(), w.clone());
        wp[k] += H;
        wm[k] -= H;
        let num = (loss(&wp) - loss(&wm)) / (2.0 * H as f64);
        close(&format!("spectral d/dw[{k}]"), grad[k] as f64, num);
    }
}
