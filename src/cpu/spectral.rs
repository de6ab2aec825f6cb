//! CPU twins of shaders/spectral.wgsl: spectral normalisation of a Linear layer's weight.

use crate::ops::SpectralSpec;

fn normalize(a: &mut [f32], eps: f32) {
    let n = a.iter().map(|x| x * x).sum::<f32>().sqrt().max(eps);
    for x in a {
        *x /= n;
    }
}

/// (W v) as a vector, W [rows, cols] row-major.
fn w_times(s: &SpectralSpec, w: &[f32], v: &[f32]) -> Vec<f32> {
    (0..s.rows)
        .map(|i| (0..s.cols).map(|j| w[i * s.cols + j] * v[j]).sum())
        .collect()
}

/// With `update`, v = normalize(W^T u), u = normalize(W v); then sigma = u^T W v,
/// W_sn = W / sigma and the bias copied. Slices are the whole buffers (offsets from `s`).
pub fn spectral_norm_forward(
    s: &SpectralSpec,
    w: &[f32],
    w_sn: &mut [f32],
    uv: &mut [f32],
    sigma: &mut [f32],
) {
    let (nw, ws) = (s.rows * s.cols, &w[s.w_off..]);
    let (u, v) = uv[s.uv_off..s.uv_off + s.rows + s.cols].split_at_mut(s.rows);
    if s.update {
        for j in 0..s.cols {
            v[j] = (0..s.rows).map(|i| ws[i * s.cols + j] * u[i]).sum();
        }
        normalize(v, s.eps);
        u.copy_from_slice(&w_times(s, ws, v));
        normalize(u, s.eps);
    }
    let sg: f32 = w_times(s, ws, v)
        .iter()
        .zip(u.iter())
        .map(|(a, b)| a * b)
        .sum();
    sigma[s.sigma_slot] = sg;
    for k in 0..nw {
        w_sn[s.w_off + k] = ws[k] / sg;
    }
    w_sn[s.w_off + nw..s.w_off + nw + s.rows].copy_from_slice(&ws[nw..nw + s.rows]);
}

/// grad (dL/dW_sn on entry) = (G - <G, W_sn> u v^T) / sigma, in place.
pub fn spectral_norm_backward(
    s: &SpectralSpec,
    w_sn: &[f32],
    uv: &[f32],
    sigma: &[f32],
    grad: &mut [f32],
) {
    let nw = s.rows * s.cols;
    let g = &mut grad[s.w_off..s.w_off + nw];
    let dot: f32 = g.iter().zip(&w_sn[s.w_off..]).map(|(a, b)| a * b).sum();
    let (u, v) = uv[s.uv_off..].split_at(s.rows);
    let sg = sigma[s.sigma_slot];
    for (row, ui) in g.chunks_exact_mut(s.cols).zip(u) {
        for (gk, vj) in row.iter_mut().zip(v) {
            *gk = (*gk - dot * ui * vj) / sg;
        }
    }
}
