//! CPU twins of shaders/embedding.wgsl: class embeddings read by label (a conditional G's input)
//! and the projection discriminator's class term, with their backward passes. Every slice starts
//! where the kernel's offset puts it. A label past the table reads its last row, as the shader's.

use crate::ops::{Activation, EmbedSpec};

fn label(s: &EmbedSpec, y: &[u32], r: usize) -> usize {
    (y[r] as usize).min(s.classes - 1)
}

/// out[r, :] = cat(table[y[r], :], z[r, :]) for r < rows (rows of dim + z_dim).
pub fn embed_concat(s: &EmbedSpec, table: &[f32], y: &[u32], z: &[f32], out: &mut [f32]) {
    let w = s.dim + s.z_dim;
    for r in 0..s.rows {
        let k = label(s, y, r);
        let row = &mut out[r * w..(r + 1) * w];
        row[..s.dim].copy_from_slice(&table[k * s.dim..(k + 1) * s.dim]);
        row[s.dim..].copy_from_slice(&z[r * s.z_dim..(r + 1) * s.z_dim]);
    }
}

/// dtable[k, c] = sum over r in order with y[r] = k of dx[r, c] (c < dim; dx rows of dim + z_dim).
pub fn embed_backward(s: &EmbedSpec, dx: &[f32], y: &[u32], dtable: &mut [f32]) {
    let w = s.dim + s.z_dim;
    dtable[..s.classes * s.dim].fill(0.0);
    for r in 0..s.rows {
        let k = label(s, y, r);
        for c in 0..s.dim {
            dtable[k * s.dim + c] += dx[r * w + c];
        }
    }
}

/// logit[r] += sum_c table[y[r], c] phi[r, c].
pub fn projection_forward(s: &EmbedSpec, table: &[f32], y: &[u32], phi: &[f32], logit: &mut [f32]) {
    for r in 0..s.rows {
        let k = label(s, y, r);
        let e = &table[k * s.dim..(k + 1) * s.dim];
        let f = &phi[r * s.dim..(r + 1) * s.dim];
        let dot: f32 = e.iter().zip(f).map(|(a, b)| a * b).sum();
        logit[r] += dot;
    }
}

/// dphi[r, c] = (dphi[r, c] + dlogit[r] table[y[r], c]) * act'(h[r, c]), in place.
#[allow(clippy::too_many_arguments)]
pub fn projection_backward_input(
    s: &EmbedSpec,
    act: Activation,
    table: &[f32],
    y: &[u32],
    dlogit: &[f32],
    h: &[f32],
    dphi: &mut [f32],
) {
    for (r, &d) in dlogit[..s.rows].iter().enumerate() {
        let k = label(s, y, r);
        for c in 0..s.dim {
            let i = r * s.dim + c;
            let sum = dphi[i] + d * table[k * s.dim + c];
            dphi[i] = sum * act.grad_from_output(h[i]);
        }
    }
}

/// dtable[k, c] = sum over r in order with y[r] = k of dlogit[r] phi[r, c].
pub fn projection_backward_table(
    s: &EmbedSpec,
    y: &[u32],
    dlogit: &[f32],
    phi: &[f32],
    dtable: &mut [f32],
) {
    dtable[..s.classes * s.dim].fill(0.0);
    for (r, &d) in dlogit[..s.rows].iter().enumerate() {
        let k = label(s, y, r);
        for c in 0..s.dim {
            dtable[k * s.dim + c] += d * phi[r * s.dim + c];
        }
    }
}
