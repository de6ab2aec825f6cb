//! GPU vs CPU for spectral.wgsl on odd shapes (rows and columns on both sides of the 256 lanes),
//! with W_sn, sigma and the gradient's untouched neighbours checked and outputs NaN-poisoned, and
//! the power iteration against a matrix whose spectral norm is known. Tolerances: the kernel sums
//! in 256 strided partial sums and a tree, the twin sequentially, and one power iteration feeds
//! the next value, so rtol 1e-4 / atol 1e-6 on u, v, sigma and W_sn; gradients rtol 1e-4 with an
//! absolute floor of 1e-4 of the largest (the backward's subtraction cancels).
mod common;
use common::*;
use shadergan::cpu::spectral as csn;
use shadergan::kernels::spectral::{Spectral, SpectralBuffers};
use shadergan::ops::SpectralSpec;

const SHAPES: [(usize, usize); 7] = [
    (1, 3),
    (3, 1),
    (17, 63),
    (65, 17),
    (257, 3),
    (2, 301),
    (300, 129),
];

fn spec(rows: usize, cols: usize, update: bool) -> SpectralSpec {
    SpectralSpec {
        rows,
        cols,
        w_off: 5,
        uv_off: 2,
        sigma_slot: 1,
        update,
        eps: 1e-12,
    }
}

/// A unit vector of `n` values (seeded).
fn unit(seed: u64, n: usize) -> Vec<f32> {
    let v = inputs(seed, n, -1.0, 1.0);
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / norm).collect()
}

#[test]
fn spectral_norm_forward_and_backward_match_cpu_on_odd_shapes() {
    let g = gpu();
    let k = Spectral::new(g).unwrap();
    for (n, &(rows, cols)) in SHAPES.iter().enumerate() {
        for update in [true, false] {
            let s = spec(rows, cols, update);
            let len = s.w_off + rows * (cols + 1) + 4;
            let w = inputs(n as u64, len, -0.5, 0.5);
            let mut uv = vec![0.25f32; s.uv_off + rows + cols + 3];
            uv[s.uv_off..s.uv_off + rows].copy_from_slice(&unit(10 + n as u64, rows));
            uv[s.uv_off + rows..s.uv_off + rows + cols].copy_from_slice(&unit(20 + n as u64, cols));
            let g0 = inputs(30 + n as u64, len, -1.0, 1.0);

            let (wb, uvb) = (
                g.buffer_from("w", &w).unwrap(),
                g.buffer_from("uv", &uv).unwrap(),
            );
            let wsn = poisoned(g, "w_sn", len);
            let sigma = poisoned(g, "sigma", 3);
            let grad = g.buffer_from("grad", &g0).unwrap();
            let bufs = || SpectralBuffers {
                w_sn: &wsn,
                uv: &uvb,
                sigma: &sigma,
            };
            let d1 = k.forward(g, s, &wb, bufs()).unwrap();
            let d2 = k.backward(g, s, bufs(), &grad).unwrap();
            g.run(&[d1, d2]).unwrap();

            let (mut cwsn, mut cuv, mut csig) =
                (vec![f32::NAN; len], uv.clone(), vec![f32::NAN; 3]);
            csn::spectral_norm_forward(&s, &w, &mut cwsn, &mut cuv, &mut csig);
            let mut cg = g0.clone();
            csn::spectral_norm_backward(&s, &cwsn, &cuv, &csig, &mut cg);

            let what = format!("{rows}x{cols} update {update}");
            let layer = s.w_off..s.w_off + rows * (cols + 1);
            assert_close(
                &format!("{what} uv"),
                &g.read(&uvb).unwrap(),
                &cuv,
                1e-4,
                1e-6,
            );
            assert_close(
                &format!("{what} sigma"),
                &g.read(&sigma).unwrap()[1..2],
                &csig[1..2],
                1e-4,
                0.0,
            );
            let gw = g.read(&wsn).unwrap();
            assert_close(
                &format!("{what} w_sn"),
                &gw[layer.clone()],
                &cwsn[layer],
                1e-4,
                1e-6,
            );
            // Only the layer's weight block of the gradient changes. G - <G, W_sn> u v^T cancels,
            // and <G, W_sn> sums the whole block in another order: an absolute floor of 1e-4 of
            // the largest value.
            let big = cg.iter().fold(0.0f32, |a, v| a.max(v.abs()));
            assert_close(
                &format!("{what} grad"),
                &g.read(&grad).unwrap(),
                &cg,
                1e-4,
                1e-4 * big,
            );
            assert_eq!(cg[..s.w_off], g0[..s.w_off]);
            assert_eq!(cg[s.w_off + rows * cols..], g0[s.w_off + rows * cols..]);
        }
    }
}

/// W = diag(3, 1) padded to 3 x 2 has spectral norm 3: a few power iterations on the GPU from a
/// generic u find it, and W_sn then has spectral norm 1.
#[test]
fn power_iteration_finds_the_largest_singular_value() {
    let g = gpu();
    let k = Spectral::new(g).unwrap();
    let s = SpectralSpec {
        w_off: 0,
        uv_off: 0,
        sigma_slot: 0,
        ..spec(3, 2, true)
    };
    let w = [3.0f32, 0.0, 0.0, 1.0, 0.0, 0.0, 0.1, 0.2, 0.3];
    let uv = [0.6f32, 0.8, 0.0, 0.0, 0.0];
    let (wb, uvb) = (
        g.buffer_from("w", &w).unwrap(),
        g.buffer_from("uv", &uv).unwrap(),
    );
    let (wsn, sigma) = (poisoned(g, "w_sn", 9), poisoned(g, "sigma", 1));
    let bufs = SpectralBuffers {
        w_sn: &wsn,
        uv: &uvb,
        sigma: &sigma,
    };
    let d = k.forward(g, s, &wb, bufs).unwrap();
    for _ in 0..12 {
        g.run(std::slice::from_ref(&d)).unwrap();
    }
    assert_close("sigma", &g.read(&sigma).unwrap(), &[3.0], 1e-5, 0.0);
    let got = g.read(&wsn).unwrap();
    assert_close(
        "w_sn",
        &got,
        &[1.0, 0.0, 0.0, 1.0 / 3.0, 0.0, 0.0, 0.1, 0.2, 0.3],
        1e-5,
        1e-7,
    );
}
