//! The chain of trust starts here: every CPU backward against central finite differences of the
//! CPU forward. The forward runs in f32; differences are taken in f64 over a step h = 2^-8 (an
//! exact f32 offset) so the truncation error is ~h^2 f''' and the rounding error ~1e-7 / h;
//! tolerance rtol 1e-2 / atol 2e-4 covers both with margin while still catching a wrong sign,
//! factor or branch (each would be off by O(1)).
use shadergan::cpu::{bce, Activation};

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
    for scale in [1.0f32, -1.0, 2.0] {
        let loss = |x: &[f32]| {
            let mut m = [0.0f32; 3];
            bce::bce_with_logits(n, 3, scale, false, x, &y, &mut m);
            m[0] as f64
        };
        let mut grad = vec![0.0; n];
        bce::bce_with_logits_backward(n, scale, &x, &y, &mut grad);
        for i in 0..n {
            let (mut xp, mut xm) = (x, x);
            xp[i] += H;
            xm[i] -= H;
            let num = (loss(&xp) - loss(&xm)) / (2.0 * H as f64);
            close(&format!("bce d/dx[{i}] scale {scale}"), grad[i] as f64, num);
        }
    }
}
