//! CPU twins of shaders/bce.wgsl: the GAN's losses on logits (BCE, hinge, linear, square terms).

use super::activation::sigmoid_stable;
use crate::ops::LossTerm;

/// One row's BCE in the stable form max(x, 0) - x y + log1p(exp(-|x|)).
pub fn bce_term(x: f32, y: f32) -> f32 {
    x.max(0.0) - x * y + (-x.abs()).exp().ln_1p()
}

/// One row's loss under `term`; hinge and linear read the target y as the sign t = 2y - 1.
pub fn loss_term(term: LossTerm, x: f32, y: f32) -> f32 {
    let t = 2.0 * y - 1.0;
    match term {
        LossTerm::Bce => bce_term(x, y),
        LossTerm::Hinge => (1.0 - t * x).max(0.0),
        LossTerm::Linear => -t * x,
        LossTerm::Square => 0.5 * (x - y) * (x - y),
    }
}

/// d loss_term / dx (the hinge's kink at t x = 1 takes the zero side).
pub fn loss_grad(term: LossTerm, x: f32, y: f32) -> f32 {
    let t = 2.0 * y - 1.0;
    match term {
        LossTerm::Bce => sigmoid_stable(x) - y,
        LossTerm::Hinge => {
            if 1.0 - t * x > 0.0 {
                -t
            } else {
                0.0
            }
        }
        LossTerm::Linear => -t,
        LossTerm::Square => x - y,
    }
}

/// What the metrics report of a logit: D's probability for BCE, the raw output otherwise.
pub fn readout(term: LossTerm, x: f32) -> f32 {
    match term {
        LossTerm::Bce => sigmoid_stable(x),
        _ => x,
    }
}

/// metrics[0] (+)= scale * mean loss, metrics[1] (+)= mean readout over rows [0, split),
/// metrics[2] (+)= mean readout over rows [split, n). `metrics` starts at the kernel's
/// `metrics_off`.
#[allow(clippy::too_many_arguments)]
pub fn bce_with_logits(
    term: LossTerm,
    n: usize,
    split: usize,
    scale: f32,
    accumulate: bool,
    x: &[f32],
    y: &[f32],
    metrics: &mut [f32],
) {
    let split = split.min(n);
    let loss: f32 = (0..n).map(|i| loss_term(term, x[i], y[i])).sum::<f32>() * scale / n as f32;
    let mean = |r: std::ops::Range<usize>| {
        let len = r.len();
        if len == 0 {
            0.0
        } else {
            r.map(|i| readout(term, x[i])).sum::<f32>() / len as f32
        }
    };
    let vals = [loss, mean(0..split), mean(split..n)];
    for (m, v) in metrics.iter_mut().zip(vals) {
        if accumulate {
            *m += v;
        } else {
            *m = v;
        }
    }
}

/// grad[i] = scale * loss_grad(x_i, y_i) / n.
pub fn bce_with_logits_backward(
    term: LossTerm,
    n: usize,
    scale: f32,
    x: &[f32],
    y: &[f32],
    grad: &mut [f32],
) {
    for i in 0..n {
        grad[i] = scale * loss_grad(term, x[i], y[i]) / n as f32;
    }
}
