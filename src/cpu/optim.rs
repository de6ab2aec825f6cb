//! CPU twins of shaders/optim.wgsl.

/// Adam hyper-parameters (torch.optim.Adam's meaning).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    /// Linear learning-rate decay to `final_frac * lr` over `decay_steps` steps, then constant
    /// (0: constant learning rate).
    pub decay_steps: u32,
    pub final_frac: f32,
}

impl AdamConfig {
    /// The learning rate at (1-based) step `t`.
    pub fn lr_at(&self, t: u32) -> f32 {
        if self.decay_steps == 0 {
            return self.lr;
        }
        let done = t.min(self.decay_steps) as f32 / self.decay_steps as f32;
        self.lr * (1.0 - (1.0 - self.final_frac) * done)
    }
}

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
