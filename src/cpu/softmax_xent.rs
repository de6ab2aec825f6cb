//! CPU twins of shaders/softmax_xent.wgsl: softmax cross-entropy over class logits.

/// The class a stored f32 label names: truncated, clamped to `[0, classes)` as the kernel does.
pub fn label_of(label: f32, classes: usize) -> usize {
    (label.max(0.0) as usize).min(classes - 1)
}

/// logp[r, :] = log-softmax of x[r, :]; metrics[0] (+)= scale * mean_r -logp[r, label_r],
/// metrics[1] (+)= share of rows whose first argmax is the label. `metrics` starts at the
/// kernel's `metrics_off`.
#[allow(clippy::too_many_arguments)]
pub fn softmax_xent(
    rows: usize,
    classes: usize,
    scale: f32,
    accumulate: bool,
    x: &[f32],
    labels: &[f32],
    logp: &mut [f32],
    metrics: &mut [f32],
) {
    let (mut loss, mut hits) = (0.0f32, 0.0f32);
    for r in 0..rows {
        let row = &x[r * classes..(r + 1) * classes];
        let mut arg = 0;
        for c in 1..classes {
            if row[c] > row[arg] {
                arg = c;
            }
        }
        let m = row[arg];
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f32>().ln();
        for c in 0..classes {
            logp[r * classes + c] = row[c] - lse;
        }
        let y = label_of(labels[r], classes);
        loss -= row[y] - lse;
        hits += (arg == y) as u32 as f32;
    }
    let vals = [scale * loss / rows as f32, hits / rows as f32];
    for (m, v) in metrics.iter_mut().zip(vals) {
        if accumulate {
            *m += v;
        } else {
            *m = v;
        }
    }
}

/// grad[r, c] = scale * (exp(logp[r, c]) - [c == label_r]) / rows.
pub fn softmax_xent_backward(
    rows: usize,
    classes: usize,
    scale: f32,
    logp: &[f32],
    labels: &[f32],
    grad: &mut [f32],
) {
    for (r, &label) in labels[..rows].iter().enumerate() {
        let y = label_of(label, classes);
        for c in 0..classes {
            let i = r * classes + c;
            let onehot = if c == y { 1.0 } else { 0.0 };
            grad[i] = scale * (logp[i].exp() - onehot) / rows as f32;
        }
    }
}
