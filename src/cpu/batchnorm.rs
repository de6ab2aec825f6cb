//! CPU twins of shaders/batchnorm.wgsl: batch normalisation over channels with PyTorch's
//! semantics (nn.BatchNorm1d/2d in training mode normalise with the biased batch variance and
//! update the running variance with the unbiased one; eval mode uses the running statistics).
//! x is [batch, channels, hw]; `affine` is [gamma (channels), beta (channels)], PyTorch's `weight`
//! then `bias`; `stats` is [mean, 1/sqrt(var + eps)] per channel; `running` is [running_mean,
//! running_var] per channel. With `s.act` an activation that follows the layer, the forward
//! writes act(y) and the backward reads dy with respect to act(y) ([`dy_at`]).

use crate::ops::BatchNormSpec;

fn at(s: &BatchNormSpec, b: usize, c: usize, k: usize) -> usize {
    (b * s.channels + c) * s.hw + k
}

/// The gradient with respect to the layer's own output y at element i of channel c: dy[i], or with
/// a fused activation dy[i] act'(y), y recomputed as the forward computes it.
fn dy_at(
    s: &BatchNormSpec,
    x: &[f32],
    dy: &[f32],
    affine: &[f32],
    i: usize,
    c: usize,
    (mean, inv): (f32, f32),
) -> f32 {
    if s.act == crate::ops::Activation::Identity {
        return dy[i];
    }
    let y = (x[i] - mean) * inv * affine[c] + affine[s.channels + c];
    dy[i] * s.act.grad_from_output(s.act.apply(y))
}

/// Batch mean and inverse standard deviation per channel (two passes: mean, then the squared
/// deviations); with `running`, running = (1 - momentum) running + momentum batch statistic, the
/// variance's with Bessel's correction n / (n - 1).
pub fn batchnorm_stats(
    s: &BatchNormSpec,
    x: &[f32],
    stats: &mut [f32],
    running: Option<&mut [f32]>,
) {
    let n = s.count() as f32;
    let mut running = running;
    for c in 0..s.channels {
        let mut sum = 0.0f32;
        for b in 0..s.batch {
            for k in 0..s.hw {
                sum += x[at(s, b, c, k)];
            }
        }
        let mean = sum / n;
        let mut sq = 0.0f32;
        for b in 0..s.batch {
            for k in 0..s.hw {
                let d = x[at(s, b, c, k)] - mean;
                sq += d * d;
            }
        }
        let var = sq / n;
        stats[c] = mean;
        stats[s.channels + c] = 1.0 / (var + s.eps).sqrt();
        if let Some(r) = running.as_deref_mut() {
            let m = s.momentum;
            r[c] = (1.0 - m) * r[c] + m * mean;
            r[s.channels + c] = (1.0 - m) * r[s.channels + c] + m * sq / (n - 1.0);
        }
    }
}

/// y = (x - mean) / sqrt(var + eps) gamma + beta, from `stats` (training) or, with
/// `running = true`, from running statistics passed in `stats` as [running_mean, running_var].
pub fn batchnorm_forward(
    s: &BatchNormSpec,
    x: &[f32],
    affine: &[f32],
    stats: &[f32],
    running: bool,
    y: &mut [f32],
) {
    for b in 0..s.batch {
        for c in 0..s.channels {
            let (mean, inv) = if running {
                (stats[c], 1.0 / (stats[s.channels + c] + s.eps).sqrt())
            } else {
                (stats[c], stats[s.channels + c])
            };
            for k in 0..s.hw {
                let i = at(s, b, c, k);
                y[i] = s
                    .act
                    .apply((x[i] - mean) * inv * affine[c] + affine[s.channels + c]);
            }
        }
    }
}

/// d gamma = sum dy xhat, d beta = sum dy per channel, written to daffine [dgamma, dbeta].
pub fn batchnorm_backward_params(
    s: &BatchNormSpec,
    x: &[f32],
    dy: &[f32],
    affine: &[f32],
    stats: &[f32],
    daffine: &mut [f32],
) {
    for c in 0..s.channels {
        let (mean, inv) = (stats[c], stats[s.channels + c]);
        let (mut dg, mut db) = (0.0f32, 0.0f32);
        for b in 0..s.batch {
            for k in 0..s.hw {
                let i = at(s, b, c, k);
                let d = dy_at(s, x, dy, affine, i, c, (mean, inv));
                dg += d * (x[i] - mean) * inv;
                db += d;
            }
        }
        daffine[c] = dg;
        daffine[s.channels + c] = db;
    }
}

/// dx = gamma inv / n (n dy - d beta - xhat d gamma): the input gradient through the batch
/// statistics, from the parameter gradients `batchnorm_backward_params` wrote.
pub fn batchnorm_backward_input(
    s: &BatchNormSpec,
    x: &[f32],
    dy: &[f32],
    affine: &[f32],
    stats: &[f32],
    daffine: &[f32],
    dx: &mut [f32],
) {
    let n = s.count() as f32;
    for b in 0..s.batch {
        for c in 0..s.channels {
            let (mean, inv) = (stats[c], stats[s.channels + c]);
            let (dg, db) = (daffine[c], daffine[s.channels + c]);
            for k in 0..s.hw {
                let i = at(s, b, c, k);
                let xhat = (x[i] - mean) * inv;
                let d = dy_at(s, x, dy, affine, i, c, (mean, inv));
                dx[i] = affine[c] * inv / n * (n * d - db - xhat * dg);
            }
        }
    }
}
