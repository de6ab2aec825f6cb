//! Conv2d and ConvTranspose2d as the tiled matmul (the default; graph/convnet.rs keeps the
//! direct kernels of conv.wgsl as the readable reference and selects with `direct`).
//!
//! For a Conv2d of shape s (x [N, C, H, W] -> y [N, O, OH, OW]) with P = OH OW positions and
//! Q = C KH KW taps, and its weight W stored [O, Q] (PyTorch's [O, C, KH, KW]):
//!   forward:      cols = im2col(x) [N P, Q];  t = cols W^T + bias [N P, O];  y = from_rows(t)
//!   backward:     t = to_rows(dy);  dW = t^T cols;  db = column sums of t;
//!                 dcols = t W [N P, Q];  dx = col2im(dcols)
//! A ConvTranspose2d is the adjoint of the Conv2d `s` (ConvShape::transposed) with the same
//! weight, so its passes are the same pieces read the other way:
//!   forward:      t = to_rows(x) [N P, O];  cols = t W [N P, Q];  y = col2im(cols) + bias
//!   backward:     cols = im2col(dy);  dW = t^T cols (t kept from the forward);  db = channel
//!                 sums of dy;  t = cols W^T;  dx = from_rows(t)
//! The weight gradient is computed before the input gradient, which reuses its scratch. Measured
//! on lavapipe (2 cores), the default digits DCGAN trains at 2.5-3.2 it/s this way and at 0.2 it/s
//! with the direct kernels, which read every operand from memory per output and vectorise badly.

use super::{Epilogue, Graph, Op, TensorId, View};
use crate::ops::{Activation, ConvShape, Variant};

/// Scratch of a forward-only workspace (pictures, `sample`, `eval`) is at most this many bytes
/// per buffer; the forward then runs in chunks of rows. Training workspaces hold a whole batch,
/// since the backward reads the forward's scratch.
const FORWARD_SCRATCH_BYTES: usize = 32 << 20;

/// A convolution block's scratch: im2col's matrix and the one-row-per-pixel activations.
#[derive(Clone, Copy, Debug)]
pub struct Scratch {
    pub cols: TensorId,
    pub rows: TensorId,
    /// Rows (images) per forward chunk.
    pub chunk: usize,
}

/// Positions P and taps Q of `s`, per image.
fn pq(s: &ConvShape) -> (usize, usize) {
    (s.out_h() * s.out_w(), s.in_ch * s.k_h * s.k_w)
}

/// Images per chunk for a forward-only workspace of `rows` images of the Conv2d `s`.
pub fn forward_chunk(s: &ConvShape, rows: usize) -> usize {
    let (p, q) = pq(s);
    let per_image = p * q.max(s.out_ch) * 4;
    (FORWARD_SCRATCH_BYTES / per_image.max(1)).clamp(1, rows.max(1))
}

/// Scratch for chunks of `chunk` images of the Conv2d `s` (s.batch is ignored).
pub fn scratch(g: &mut Graph, name: &str, s: &ConvShape, chunk: usize) -> Scratch {
    let (p, q) = pq(s);
    Scratch {
        cols: g.f32(&format!("{name}.cols"), chunk * p * q),
        rows: g.f32(&format!("{name}.rows"), chunk * p * s.out_ch),
        chunk,
    }
}

fn at(v: View, off: usize) -> View {
    View {
        t: v.t,
        off: v.off + off,
    }
}

/// The chunks of `n` rows: (first row, rows).
fn chunks(n: usize, chunk: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..n)
        .step_by(chunk.max(1))
        .map(move |r| (r, chunk.min(n - r)))
}

fn matmul(variant: Variant, a: View, b: View, bias: Option<View>, c: View, mkn: [usize; 3]) -> Op {
    Op::Matmul {
        variant,
        a,
        b,
        c,
        m: mkn[0],
        k: mkn[1],
        n: mkn[2],
        epi: Epilogue::Forward {
            bias,
            act: Activation::Identity,
        },
    }
}

/// Conv2d forward over s.batch images, `act` applied to each output (and bias) in the
/// matmul's epilogue (Identity: none), the same operations as the activation's own pass.
pub fn conv_forward(
    s: ConvShape,
    x: View,
    w: View,
    (bias, act): (Option<View>, Activation),
    y: View,
    sc: &Scratch,
) -> Vec<Op> {
    let (p, q) = pq(&s);
    let mut ops = Vec::new();
    for (r0, n) in chunks(s.batch, sc.chunk) {
        let c = ConvShape { batch: n, ..s };
        ops.push(Op::Im2col {
            shape: c,
            x: at(x, r0 * s.in_ch * s.h * s.w),
            cols: sc.cols.into(),
        });
        let (cols, rows) = (sc.cols.into(), sc.rows.into());
        ops.push(Op::Matmul {
            variant: Variant::ABt,
            a: cols,
            b: w,
            c: rows,
            m: n * p,
            k: q,
            n: s.out_ch,
            epi: Epilogue::Forward { bias, act },
        });
        ops.push(Op::Rows {
            back: true,
            batch: n,
            channels: s.out_ch,
            hw: p,
            a: rows,
            out: at(y, r0 * s.out_ch * p),
        });
    }
    ops
}

/// Conv2d backward after a training forward over the same s.batch images (the forward's
/// im2col is still in the scratch): weight and bias gradients if given, then the input gradient.
pub fn conv_backward(
    s: ConvShape,
    w: View,
    dy: View,
    grads: Option<(View, Option<View>)>,
    dx: Option<View>,
    sc: &Scratch,
) -> Vec<Op> {
    assert!(
        sc.chunk >= s.batch,
        "a backward needs a whole-batch scratch"
    );
    let ((p, q), o) = (pq(&s), s.out_ch);
    let (cols, rows): (View, View) = (sc.cols.into(), sc.rows.into());
    let mut ops = vec![Op::Rows {
        back: false,
        batch: s.batch,
        channels: o,
        hw: p,
        a: dy,
        out: rows,
    }];
    if let Some((dw, db)) = grads {
        ops.push(matmul(
            Variant::AtB,
            rows,
            cols,
            None,
            dw,
            [o, s.batch * p, q],
        ));
        if let Some(db) = db {
            ops.push(Op::BiasGrad {
                dz: sc.rows,
                db,
                rows: s.batch * p,
                cols: o,
            });
        }
    }
    if let Some(dx) = dx {
        ops.push(matmul(
            Variant::AB,
            rows,
            w,
            None,
            cols,
            [s.batch * p, o, q],
        ));
        ops.push(Op::Col2im {
            shape: s,
            cols,
            bias: None,
            x: dx,
        });
    }
    ops
}

/// ConvTranspose2d forward, `s` the Conv2d it is the adjoint of: x [N, O, OH, OW] ->
/// y [N, C, H, W] in `s`'s names.
pub fn convt_forward(
    s: ConvShape,
    x: View,
    w: View,
    bias: Option<View>,
    y: View,
    sc: &Scratch,
) -> Vec<Op> {
    let ((p, q), o) = (pq(&s), s.out_ch);
    let mut ops = Vec::new();
    for (r0, n) in chunks(s.batch, sc.chunk) {
        let (cols, rows): (View, View) = (sc.cols.into(), sc.rows.into());
        ops.push(Op::Rows {
            back: false,
            batch: n,
            channels: o,
            hw: p,
            a: at(x, r0 * o * p),
            out: rows,
        });
        ops.push(matmul(Variant::AB, rows, w, None, cols, [n * p, o, q]));
        ops.push(Op::Col2im {
            shape: ConvShape { batch: n, ..s },
            cols,
            bias,
            x: at(y, r0 * s.in_ch * s.h * s.w),
        });
    }
    ops
}

/// ConvTranspose2d backward after a training forward over the same images (its input, one row
/// per pixel, is still in the scratch). `db` is a channel sum of dy, done by the caller.
pub fn convt_backward(
    s: ConvShape,
    w: View,
    dy: View,
    dw: Option<View>,
    dx: Option<View>,
    sc: &Scratch,
) -> Vec<Op> {
    assert!(
        sc.chunk >= s.batch,
        "a backward needs a whole-batch scratch"
    );
    let ((p, q), o) = (pq(&s), s.out_ch);
    let (cols, rows): (View, View) = (sc.cols.into(), sc.rows.into());
    let mut ops = vec![Op::Im2col {
        shape: s,
        x: dy,
        cols,
    }];
    if let Some(dw) = dw {
        ops.push(matmul(
            Variant::AtB,
            rows,
            cols,
            None,
            dw,
            [o, s.batch * p, q],
        ));
    }
    if let Some(dx) = dx {
        ops.push(matmul(
            Variant::ABt,
            cols,
            w,
            None,
            rows,
            [s.batch * p, q, o],
        ));
        ops.push(Op::Rows {
            back: true,
            batch: s.batch,
            channels: o,
            hw: p,
            a: rows,
            out: dx,
        });
    }
    ops
}
