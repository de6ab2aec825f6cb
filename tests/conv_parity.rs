//! GPU vs CPU for every conv.wgsl entry point (and the ConvTranspose2d forms built from them) on
//! odd shapes: odd channel counts, strides 1 and 2, padding 0/1/2, kernels 3/4/5, batches 1 and
//! 3, non-square images, every operand at an offset inside a larger buffer, outputs poisoned with
//! NaN. The direct sums run in the CPU twin's order, so rtol 1e-5 (FMA contraction only); the
//! channel sums' tree order gets rtol 1e-4 over atol 1e-4 of sums of up to ~10^3 terms in [-1, 1].
mod common;
use common::*;
use shadergan::cpu::conv as cpu;
use shadergan::kernels::conv::Conv;
use shadergan::kernels::At;
use shadergan::ops::ConvShape;

const OFF: usize = 3;

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

fn shapes() -> Vec<ConvShape> {
    vec![
        shape(1, 1, 1, (5, 5), (3, 3), 1, 0),
        shape(3, 3, 5, (7, 6), (3, 3), 1, 1),
        shape(1, 2, 3, (8, 7), (4, 4), 2, 1),
        shape(3, 1, 2, (9, 6), (5, 5), 2, 2),
        shape(3, 3, 17, (6, 9), (4, 3), 2, 0),
        shape(3, 5, 3, (17, 15), (5, 4), 1, 2),
        // DCGAN's first D block on 28 x 28 digits, at batch 3.
        shape(3, 1, 64, (28, 28), (4, 4), 2, 1),
    ]
}

/// `v` at element OFF of a buffer padded with NaN on both sides.
fn at_offset(label: &str, v: &[f32]) -> wgpu::Buffer {
    let mut padded = vec![f32::NAN; OFF];
    padded.extend_from_slice(v);
    padded.extend_from_slice(&[f32::NAN; 2]);
    gpu().buffer_from(label, &padded).unwrap()
}

fn at(buf: &wgpu::Buffer) -> At<'_> {
    At { buf, off: OFF }
}

/// Runs one dispatch into a poisoned output of `n` elements at OFF and returns those elements.
fn run_into(n: usize, bind: impl FnOnce(At) -> shadergan::kernels::Dispatch) -> Vec<f32> {
    let g = gpu();
    let out = poisoned(g, "out", OFF + n + 2);
    let d = bind(at(&out));
    g.run(&[d]).unwrap();
    let all: Vec<f32> = g.read(&out).unwrap();
    assert!(
        all[..OFF].iter().chain(&all[OFF + n..]).all(|v| v.is_nan()),
        "wrote outside"
    );
    all[OFF..OFF + n].to_vec()
}

#[test]
fn conv2d_entry_points_match_cpu() {
    let g = gpu();
    let k = Conv::new(g).unwrap();
    for (t, s) in shapes().into_iter().enumerate() {
        let t = t as u64;
        let x = inputs(t, s.input_len(), -1.0, 1.0);
        let w = inputs(10 + t, s.weight_len(), -1.0, 1.0);
        let bias = inputs(20 + t, s.out_ch, -1.0, 1.0);
        let dy = inputs(30 + t, s.output_len(), -1.0, 1.0);
        let (xb, wb, bb, dyb) = (
            at_offset("x", &x),
            at_offset("w", &w),
            at_offset("bias", &bias),
            at_offset("dy", &dy),
        );

        let got = run_into(s.output_len(), |o| {
            k.conv2d(g, s, at(&xb), at(&wb), Some(at(&bb)), o).unwrap()
        });
        let mut want = vec![0.0; s.output_len()];
        cpu::conv2d_forward(&s, &x, &w, Some(&bias), &mut want);
        assert_close(&format!("conv2d_forward {s:?}"), &got, &want, 1e-5, 1e-5);

        let got = run_into(s.input_len(), |o| {
            k.conv2d_input_grad(g, s, at(&dyb), at(&wb), None, o)
                .unwrap()
        });
        let mut want = vec![0.0; s.input_len()];
        cpu::conv2d_input_grad(&s, &dy, &w, None, &mut want);
        assert_close(&format!("conv2d_input_grad {s:?}"), &got, &want, 1e-5, 1e-5);

        let got = run_into(s.weight_len(), |o| {
            k.conv2d_weight_grad(g, s, at(&dyb), at(&xb), o).unwrap()
        });
        let mut want = vec![0.0; s.weight_len()];
        cpu::conv2d_weight_grad(&s, &dy, &x, &mut want);
        assert_close(
            &format!("conv2d_weight_grad {s:?}"),
            &got,
            &want,
            1e-5,
            1e-5,
        );

        let hw = s.out_h() * s.out_w();
        let got = run_into(s.out_ch, |o| {
            k.channel_sum(g, s.batch, s.out_ch, hw, at(&dyb), o)
                .unwrap()
        });
        let mut want = vec![0.0; s.out_ch];
        cpu::channel_sum(s.batch, s.out_ch, hw, &dy, &mut want);
        assert_close(&format!("channel_sum {s:?}"), &got, &want, 1e-4, 1e-4);
    }
}

/// The matmul form's pieces: im2col, col2im (with a bias, as ConvTranspose2d's forward uses it)
/// and the NCHW <-> row-per-pixel copies. Copies are exact; col2im sums at most KH KW terms in
/// the CPU twin's order.
#[test]
fn matmul_form_entry_points_match_cpu() {
    let g = gpu();
    let k = Conv::new(g).unwrap();
    for (t, s) in shapes().into_iter().enumerate() {
        let t = t as u64;
        let x = inputs(40 + t, s.input_len(), -1.0, 1.0);
        let cols = inputs(50 + t, s.cols_len(), -1.0, 1.0);
        let bias = inputs(60 + t, s.in_ch, -1.0, 1.0);
        let (xb, colsb, bb) = (
            at_offset("x", &x),
            at_offset("cols", &cols),
            at_offset("bias", &bias),
        );

        let got = run_into(s.cols_len(), |o| k.im2col(g, s, at(&xb), o).unwrap());
        let mut want = vec![f32::NAN; s.cols_len()];
        cpu::im2col(&s, &x, &mut want);
        assert_close(&format!("im2col {s:?}"), &got, &want, 0.0, 0.0);

        let got = run_into(s.input_len(), |o| {
            k.col2im(g, s, at(&colsb), Some(at(&bb)), o).unwrap()
        });
        let mut want = vec![f32::NAN; s.input_len()];
        cpu::col2im(&s, &cols, Some(&bias), &mut want);
        assert_close(&format!("col2im {s:?}"), &got, &want, 1e-6, 1e-6);

        let dims = [s.batch, s.in_ch, s.h * s.w];
        for back in [false, true] {
            let got = run_into(s.input_len(), |o| {
                k.rows(g, back, dims, at(&xb), o).unwrap()
            });
            let mut want = vec![f32::NAN; s.input_len()];
            let f = if back { cpu::from_rows } else { cpu::to_rows };
            f(dims[0], dims[1], dims[2], &x, &mut want);
            assert_close(&format!("rows back={back} {s:?}"), &got, &want, 0.0, 0.0);
        }
    }
}

/// im2col and col2im are adjoint: <im2col(x), c> = <x, col2im(c)> (CPU twins, f64 sums).
#[test]
fn col2im_is_the_adjoint_of_im2col() {
    for (t, s) in shapes().into_iter().enumerate() {
        let t = t as u64;
        let x = inputs(70 + t, s.input_len(), -1.0, 1.0);
        let c = inputs(80 + t, s.cols_len(), -1.0, 1.0);
        let (mut ax, mut ac) = (vec![0.0; s.cols_len()], vec![0.0; s.input_len()]);
        cpu::im2col(&s, &x, &mut ax);
        cpu::col2im(&s, &c, None, &mut ac);
        let dot = |a: &[f32], b: &[f32]| -> f64 {
            a.iter().zip(b).map(|(u, v)| *u as f64 * *v as f64).sum()
        };
        let (l, r) = (dot(&ax, &c), dot(&x, &ac));
        assert!(
            (l - r).abs() <= 1e-4 * l.abs().max(1.0),
            "{s:?}: {l} vs {r}"
        );
    }
}

#[test]
fn conv_transpose2d_matches_cpu() {
    let g = gpu();
    let k = Conv::new(g).unwrap();
    // nn.ConvTranspose2d(c, o, k, s, p) on b x c x h x w, including DCGAN's k4 s2 p1 blocks.
    for (t, (b, c, o, hw, ks, st, p)) in [
        (1, 3, 2, (3, 4), (4, 4), 2, 1),
        (3, 1, 3, (4, 3), (3, 3), 1, 1),
        (1, 2, 1, (3, 3), (5, 5), 2, 2),
        (3, 5, 3, (7, 7), (4, 4), 2, 1),
        (3, 17, 1, (14, 14), (4, 4), 2, 1),
    ]
    .into_iter()
    .enumerate()
    {
        let t = t as u64;
        let s = ConvShape::transposed(b, c, o, hw, ks, st, p).unwrap();
        let x = inputs(40 + t, s.output_len(), -1.0, 1.0);
        let w = inputs(50 + t, s.weight_len(), -1.0, 1.0);
        let bias = inputs(60 + t, s.in_ch, -1.0, 1.0);
        let dy = inputs(70 + t, s.input_len(), -1.0, 1.0);
        let (xb, wb, bb, dyb) = (
            at_offset("x", &x),
            at_offset("w", &w),
            at_offset("bias", &bias),
            at_offset("dy", &dy),
        );
        let got = run_into(s.input_len(), |y| {
            k.conv_transpose2d(g, s, at(&xb), at(&wb), Some(at(&bb)), y)
                .unwrap()
        });
        let mut want = vec![0.0; s.input_len()];
        cpu::conv_transpose2d_forward(&s, &x, &w, Some(&bias), &mut want);
        assert_close(&format!("conv_transpose2d {s:?}"), &got, &want, 1e-5, 1e-5);

        let got = run_into(s.output_len(), |dx| {
            k.conv_transpose2d_input_grad(g, s, at(&dyb), at(&wb), dx)
                .unwrap()
        });
        let mut want = vec![0.0; s.output_len()];
        cpu::conv_transpose2d_input_grad(&s, &dy, &w, &mut want);
        assert_close(
            &format!("conv_transpose2d_input_grad {s:?}"),
            &got,
            &want,
            1e-5,
            1e-5,
        );

        let got = run_into(s.weight_len(), |dw| {
            k.conv_transpose2d_weight_grad(g, s, at(&dyb), at(&xb), dw)
                .unwrap()
        });
        let mut want = vec![0.0; s.weight_len()];
        cpu::conv_transpose2d_weight_grad(&s, &dy, &x, &mut want);
        assert_close(
            &format!("conv_transpose2d_weight_grad {s:?}"),
            &got,
            &want,
            1e-5,
            1e-5,
        );
    }
}

#[test]
fn a_kernel_that_does_not_fit_is_an_error() {
    let g = gpu();
    let k = Conv::new(g).unwrap();
    let s = shape(1, 1, 1, (2, 2), (3, 3), 1, 0);
    let b = g.buffer("b", 16).unwrap();
    let err = match k.conv2d(g, s, (&b).into(), (&b).into(), None, (&b).into()) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a 3x3 kernel on a 2x2 image without padding was accepted"),
    };
    assert!(err.contains("kernel must fit"), "{err}");
}
