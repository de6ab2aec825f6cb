//! CPU twins of shaders/peak.wgsl (`empty` computes nothing, so it has none).

/// dst[i] = sum over j < 4 of the chain x = src[i] + j stepped x = x * a + b `iters` times,
/// per component of each vec4 (`src`, `dst` as flat f32, 4 per invocation).
pub fn fma_peak(n: usize, iters: u32, a: f32, b: f32, src: &[f32], dst: &mut [f32]) {
    for i in 0..4 * n {
        let mut acc = [0.0f32; 4];
        for (j, v) in acc.iter_mut().enumerate() {
            *v = src[i] + j as f32;
            for _ in 0..iters {
                *v = v.mul_add(a, b);
            }
        }
        dst[i] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
}

/// dst[i] = src[i] for the first n vec4s (4n f32).
pub fn copy_peak(n: usize, src: &[f32], dst: &mut [f32]) {
    dst[..4 * n].copy_from_slice(&src[..4 * n]);
}
