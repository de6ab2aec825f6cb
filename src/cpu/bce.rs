//! CPU twins of shaders/bce.wgsl: binary cross-entropy with logits.

use super::activation::sigmoid_stable;

/// One row's loss in the stable form max(x, 0) - x y + log1p(exp(-|x|)).
pub fn bce_term(x: f32, y: f32) -> f32 {
    x.max(0.0) - x * y + (-x.abs()).exp().ln_1p()
}

/// metrics[0] (+)= scale * mean loss, metrics[1] (+)= mean sigmoid over rows [0, split),
/// metrics[2] (+)= mean sigmoid over rows [split, n). `metrics` starts at the kernel's
/// `metrics_off`.
pub fn bce_with_logits(
    n: usize,
    split: usize,
    scale: f32,
    accumulate: bool,
    x: &[f32],
    y: &[f32],
    metrics: &mut [f32],
) {
    let split = split.min(n);
    let loss: f32 = (0..n).map(|i| bce_term(x[i], y[i])).sum::<f32>() * scale / n as f32;
    let mean = |r: std::ops::Range<usize>| {
        let len = r.len();
        if len == 0 {
            0.0
        } else {
            r.map(|i| sigmoid_stable(x[i])).sum::<f32>() / len as f32
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

/// grad[i] = scale * (sigmoid(x_i) - y_i) / n.
pub fn bce_with_logits_backward(n: usize, scale: f32, x: &[f32], y: &[f32], grad: &mut [f32]) {
    for i in 0..n {
        grad[i] = scale * (sigmoid_stable(x[i]) - y[i]) / n as f32;
    }
}
