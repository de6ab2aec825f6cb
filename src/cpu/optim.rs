//! CPU twins of shaders/optim.wgsl.

use crate::ops::AdamConfig;

/// One Adam step with bias correction; `t` is the 1-based step count (read from the GPU state
/// buffer on the device).
pub fn adam(cfg: AdamConfig, t: u32, w: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
    let t = t.max(1);
    let lr = cfg.lr_at(t);
    let t = t as f32;
    let bc1 = 1.0 - cfg.beta1.powf(t);
    let bc2 = 1.0 - cfg.beta2.powf(t);
    for i in 0..w.len() {
        let g = grad[i];
        m[i] = cfg.beta1 * m[i] + (1.0 - cfg.beta1) * g;
        v[i] = cfg.beta2 * v[i] + (1.0 - cfg.beta2) * g * g;
        w[i] -= (lr / bc1) * m[i] / (v[i].sqrt() / bc2.sqrt() + cfg.eps);
    }
}

/// One SGD step with momentum `mu` (dampening 0): m = mu m + g; w -= lr m.
pub fn sgd_momentum(lr: f32, mu: f32, w: &mut [f32], grad: &[f32], m: &mut [f32]) {
    for i in 0..w.len() {
        m[i] = mu * m[i] + grad[i];
        w[i] -= lr * m[i];
    }
}

/// One step of an exponential moving average of the weights: avg = decay avg + (1 - decay) w.
pub fn ema(decay: f32, w: &[f32], avg: &mut [f32]) {
    for i in 0..w.len() {
        avg[i] = decay * avg[i] + (1.0 - decay) * w[i];
    }
}
