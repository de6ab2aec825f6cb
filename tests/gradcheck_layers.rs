//! The convolution and batch-norm CPU twins: known answers worked by hand from PyTorch's
//! definitions (nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d in training mode), the adjoint
//! identity that ties the two convolutions, and every
//! backward against central finite differences (f64 differences over h = 2^-8; rtol 1e-2 /
//! atol 2e-4, as tests/gradcheck.rs) on odd channel counts, strides 1 and 2, padding 0/1/2,
//! kernels 3/4/5, batches 1 and 3 and non-square images.
// Index loops read best here: the same index walks the analytic and the perturbed vectors.
#![allow(clippy::needless_range_loop)]
use shadergan::cpu::{batchnorm as bn, conv};
use shadergan::ops::{Activation, BatchNormSpec, ConvShape};

const H: f32 = 1.0 / 256.0;

fn close(what: &str, analytic: f64, numeric: f64) {
    let tol = (1e-2 * analytic.abs().max(numeric.abs())).max(2e-4);
    assert!(
        (analytic - numeric).abs() <= tol,
        "{what}: analytic {analytic:e} vs finite difference {numeric:e}"
    );
}

fn lcg(seed: u32, n: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2654435761).wrapping_add(7);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1664525).wrapping_add(1013904223);
            (s >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
        })
        .collect()
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
}

fn shape(
    b: usize,
    c: usize,
    o: usize,
    hw: (usize, usize),
    k: (usize, usize),
    s: usize,
    p: usize,
) -> ConvShape {
    ConvShape {
        batch: b,
        in_ch: c,
        out_ch: o,
        h: hw.0,
        w: hw.1,
        k_h: k.0,
        k_w: k.1,
        stride: s,
        pad: p,
    }
}

/// The shapes every check runs on.
fn shapes() -> Vec<ConvShape> {
    vec![
        shape(1, 1, 1, (5, 5), (3, 3), 1, 0),
        shape(3, 3, 5, (7, 6), (3, 3), 1, 1),
        shape(1, 2, 3, (8, 7), (4, 4), 2, 1),
        shape(3, 1, 2, (9, 6), (5, 5), 2, 2),
        shape(1, 3, 1, (6, 9), (4, 3), 2, 0),
        shape(3, 2, 3, (7, 7), (5, 4), 1, 2),
    ]
}

#[test]
fn conv2d_known_answer() {
    // 1 x 1 x 3 x 3 input 1..9, kernel [[1, 0], [0, -1]], bias 0.5, stride 1, no padding:
    // y[i][j] = x[i][j] - x[i+1][j+1] + 0.5 = -4 + 0.5 everywhere.
    let s = shape(1, 1, 1, (3, 3), (2, 2), 1, 0);
    let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    let mut y = vec![f32::NAN; 4];
    conv::conv2d_forward(&s, &x, &[1.0, 0.0, 0.0, -1.0], Some(&[0.5]), &mut y);
    assert_eq!(y, vec![-3.5; 4]);
    // Stride 2, padding 1, 3x3 ones: each output sums the in-image part of its window.
    let s = shape(1, 1, 1, (3, 3), (3, 3), 2, 1);
    assert_eq!((s.out_h(), s.out_w()), (2, 2));
    let mut y = vec![f32::NAN; 4];
    conv::conv2d_forward(&s, &x, &[1.0; 9], None, &mut y);
    // Windows: rows/cols {-1,0,1} and {1,2,3}: top-left 1+2+4+5, top-right 2+3+5+6, ...
    assert_eq!(y, vec![12.0, 16.0, 24.0, 28.0]);
}

#[test]
fn conv_transpose2d_known_answer() {
    // nn.ConvTranspose2d(1, 1, 2, stride=2) on [[1, 2], [3, 4]] with weight [[1, 0], [0, 1]]
    // places a scaled copy of the kernel per input pixel: a 4 x 4 output.
    let s = ConvShape::transposed(1, 1, 1, (2, 2), (2, 2), 2, 0).unwrap();
    assert_eq!((s.h, s.w), (4, 4));
    let mut y = vec![f32::NAN; 16];
    conv::conv_transpose2d_forward(
        &s,
        &[1.0, 2.0, 3.0, 4.0],
        &[1.0, 0.0, 0.0, 1.0],
        None,
        &mut y,
    );
    #[rustfmt::skip]
    let want = vec![
        1.0, 0.0, 2.0, 0.0,
        0.0, 1.0, 0.0, 2.0,
        3.0, 0.0, 4.0, 0.0,
        0.0, 3.0, 0.0, 4.0,
    ];
    assert_eq!(y, want);
    // padding=1 crops one pixel from every side of that: (2 - 1) * 2 - 2 + 2 = 2.
    let s = ConvShape::transposed(1, 1, 1, (2, 2), (2, 2), 2, 1).unwrap();
    let mut y = vec![f32::NAN; 4];
    conv::conv_transpose2d_forward(
        &s,
        &[1.0, 2.0, 3.0, 4.0],
        &[1.0, 0.0, 0.0, 1.0],
        Some(&[0.25]),
        &mut y,
    );
    assert_eq!(y, vec![1.25, 0.25, 0.25, 4.25]);
    // DCGAN's up-sampling block k4 s2 p1 doubles the size: 7 -> 14 -> 28.
    let s = ConvShape::transposed(64, 128, 64, (7, 7), (4, 4), 2, 1).unwrap();
    assert_eq!((s.h, s.w, s.out_h(), s.out_w()), (14, 14, 7, 7));
}

/// <conv(x), r> = <x, conv^T(r)>: the input gradient is the adjoint of the forward, on shapes
/// whose output size floors (stride 2 with a remainder).
#[test]
fn input_grad_is_the_adjoint_of_forward() {
    for s in shapes() {
        let x = lcg(1, s.input_len());
        let w = lcg(2, s.weight_len());
        let r = lcg(3, s.output_len());
        let mut y = vec![0.0; s.output_len()];
        conv::conv2d_forward(&s, &x, &w, None, &mut y);
        let mut xt = vec![0.0; s.input_len()];
        conv::conv2d_input_grad(&s, &r, &w, None, &mut xt);
        let (a, b) = (dot(&y, &r), dot(&x, &xt));
        assert!(
            (a - b).abs() <= 1e-4 * a.abs().max(1.0),
            "{s:?}: {a} vs {b}"
        );
    }
}

#[test]
fn conv2d_backward_matches_finite_differences() {
    for s in shapes() {
        let x = lcg(4, s.input_len());
        let w = lcg(5, s.weight_len());
        let bias = lcg(6, s.out_ch);
        let r = lcg(7, s.output_len());
        let loss = |x: &[f32], w: &[f32], b: &[f32]| {
            let mut y = vec![0.0; s.output_len()];
            conv::conv2d_forward(&s, x, w, Some(b), &mut y);
            dot(&y, &r)
        };
        let (mut dx, mut dw, mut db) = (
            vec![f32::NAN; s.input_len()],
            vec![f32::NAN; s.weight_len()],
            vec![f32::NAN; s.out_ch],
        );
        conv::conv2d_input_grad(&s, &r, &w, None, &mut dx);
        conv::conv2d_weight_grad(&s, &r, &x, &mut dw);
        conv::channel_sum(s.batch, s.out_ch, s.out_h() * s.out_w(), &r, &mut db);
        let fd = |v: &[f32], i: usize, f: &dyn Fn(&[f32]) -> f64| {
            let (mut p, mut m) = (v.to_vec(), v.to_vec());
            p[i] += H;
            m[i] -= H;
            (f(&p) - f(&m)) / (2.0 * H as f64)
        };
        for i in (0..x.len()).step_by(7) {
            close(
                &format!("{s:?} dx[{i}]"),
                dx[i] as f64,
                fd(&x, i, &|v| loss(v, &w, &bias)),
            );
        }
        for i in (0..w.len()).step_by(3) {
            close(
                &format!("{s:?} dw[{i}]"),
                dw[i] as f64,
                fd(&w, i, &|v| loss(&x, v, &bias)),
            );
        }
        for i in 0..s.out_ch {
            close(
                &format!("{s:?} db[{i}]"),
                db[i] as f64,
                fd(&bias, i, &|v| loss(&x, &w, v)),
            );
        }
    }
}

#[test]
fn conv_transpose2d_backward_matches_finite_differences() {
    for (b, c, o, hw, k, st, p) in [
        (1, 3, 2, (3, 4), (4, 4), 2, 1),
        (3, 1, 3, (4, 3), (3, 3), 1, 1),
        (1, 2, 1, (3, 3), (5, 5), 2, 2),
        (3, 3, 3, (2, 5), (4, 3), 2, 0),
    ] {
        // nn.ConvTranspose2d(c, o, k, st, p) on b x c x hw.
        let s = ConvShape::transposed(b, c, o, hw, k, st, p).unwrap();
        let x = lcg(8, s.output_len());
        let w = lcg(9, s.weight_len());
        let bias = lcg(10, s.in_ch);
        let r = lcg(11, s.input_len());
        let loss = |x: &[f32], w: &[f32], bb: &[f32]| {
            let mut y = vec![0.0; s.input_len()];
            conv::conv_transpose2d_forward(&s, x, w, Some(bb), &mut y);
            dot(&y, &r)
        };
        let (mut dx, mut dw, mut db) = (
            vec![f32::NAN; s.output_len()],
            vec![f32::NAN; s.weight_len()],
            vec![f32::NAN; s.in_ch],
        );
        conv::conv_transpose2d_input_grad(&s, &r, &w, &mut dx);
        conv::conv_transpose2d_weight_grad(&s, &r, &x, &mut dw);
        conv::channel_sum(b, s.in_ch, s.h * s.w, &r, &mut db);
        let fd = |v: &[f32], i: usize, f: &dyn Fn(&[f32]) -> f64| {
            let (mut pp, mut m) = (v.to_vec(), v.to_vec());
            pp[i] += H;
            m[i] -= H;
            (f(&pp) - f(&m)) / (2.0 * H as f64)
        };
        for i in (0..x.len()).step_by(5) {
            close(
                &format!("{s:?} dx[{i}]"),
                dx[i] as f64,
                fd(&x, i, &|v| loss(v, &w, &bias)),
            );
        }
        for i in (0..w.len()).step_by(3) {
            close(
                &format!("{s:?} dw[{i}]"),
                dw[i] as f64,
                fd(&w, i, &|v| loss(&x, v, &bias)),
            );
        }
        for i in 0..s.in_ch {
            close(
                &format!("{s:?} db[{i}]"),
                db[i] as f64,
                fd(&bias, i, &|v| loss(&x, &w, v)),
            );
        }
    }
}

#[test]
fn batchnorm_known_answer_with_pytorch_semantics() {
    // One channel, values 1..4 over batch 2 x hw 2: mean 2.5, biased variance 1.25 (used to
    // normalise), unbiased 5/3 (used for the running variance); momentum 0.1 from (0, 1).
    let s = BatchNormSpec::new(2, 1, 2);
    let x = [1.0f32, 2.0, 3.0, 4.0];
    let mut stats = [0.0f32; 2];
    let mut running = [0.0f32, 1.0];
    bn::batchnorm_stats(&s, &x, &mut stats, Some(&mut running));
    assert_eq!(stats[0], 2.5);
    assert!((stats[1] - 1.0 / (1.25f32 + 1e-5).sqrt()).abs() < 1e-6);
    assert!((running[0] - 0.25).abs() < 1e-7);
    assert!(
        (running[1] - (0.9 + 0.1 * 5.0 / 3.0)).abs() < 1e-6,
        "{running:?}"
    );
    let mut y = [0.0f32; 4];
    bn::batchnorm_forward(&s, &x, &[2.0, 0.5], &stats, false, &mut y);
    for (yi, xi) in y.iter().zip(x) {
        let want = (xi - 2.5) / (1.25f32 + 1e-5).sqrt() * 2.0 + 0.5;
        assert!((yi - want).abs() < 1e-6);
    }
    // Eval mode normalises with the running statistics instead.
    bn::batchnorm_forward(&s, &x, &[1.0, 0.0], &running, true, &mut y);
    assert!((y[0] - (1.0 - 0.25) / (running[1] + 1e-5).sqrt()).abs() < 1e-6);
}

#[test]
fn batchnorm_backward_matches_finite_differences() {
    for s in [
        BatchNormSpec::new(3, 1, 5),
        BatchNormSpec::new(2, 3, 7),
        BatchNormSpec::new(5, 4, 1),
        BatchNormSpec::new(3, 5, 6),
        // With an activation taken into the passes (a smooth one: a kink is no derivative).
        BatchNormSpec::new(3, 5, 6).with_act(Activation::Tanh),
    ] {
        let x = lcg(12, s.len());
        let affine = lcg(13, 2 * s.channels);
        let r = lcg(14, s.len());
        let loss = |x: &[f32], affine: &[f32]| {
            let mut stats = vec![0.0; 2 * s.channels];
            bn::batchnorm_stats(&s, x, &mut stats, None);
            let mut y = vec![0.0; s.len()];
            bn::batchnorm_forward(&s, x, affine, &stats, false, &mut y);
            dot(&y, &r)
        };
        let mut stats = vec![0.0; 2 * s.channels];
        bn::batchnorm_stats(&s, &x, &mut stats, None);
        let mut daffine = vec![f32::NAN; 2 * s.channels];
        bn::batchnorm_backward_params(&s, &x, &r, &affine, &stats, &mut daffine);
        let mut dx = vec![f32::NAN; s.len()];
        bn::batchnorm_backward_input(&s, &x, &r, &affine, &stats, &daffine, &mut dx);
        let fd = |v: &[f32], i: usize, f: &dyn Fn(&[f32]) -> f64| {
            let (mut p, mut m) = (v.to_vec(), v.to_vec());
            p[i] += H;
            m[i] -= H;
            (f(&p) - f(&m)) / (2.0 * H as f64)
        };
        for i in 0..x.len() {
            close(
                &format!("{s:?} dx[{i}]"),
                dx[i] as f64,
                fd(&x, i, &|v| loss(v, &affine)),
            );
        }
        for i in 0..affine.len() {
            close(
                &format!("{s:?} d affine[{i}]"),
                daffine[i] as f64,
                fd(&affine, i, &|v| loss(&x, v)),
            );
        }
    }
}
