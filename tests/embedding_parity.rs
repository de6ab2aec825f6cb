//! embedding.wgsl against its CPU twins (`cpu::embedding`) on odd shapes, every operand at an
//! odd element offset with NaN around it (a read outside its range turns the result NaN) and
//! the output poisoned with NaN (an element not written stays NaN), labels including ones past
//! the table (both sides clamp them to its last row).
//!
//! Tolerances: embed_concat copies and embed_backward adds in the twin's row order, so both are
//! bit for bit. projection_forward sums phi in another order (64 strided partial sums, then a
//! tree), so a row may differ by a few roundings of its terms: |got - want| <= 8 eps (|logit| +
//! sum_c |e_c phi_c|), eps = 2^-23, far below the size of any one term a wrong index would add.
//! The backward entries may fuse a multiply and an add (FMA), one rounding per step of their sum:
//! |got - want| <= 4 eps (sum of |terms|) per element.
mod common;
use common::*;
use shadergan::cpu::embedding as twin;
use shadergan::gpu::Gpu;
use shadergan::kernels::embedding::Embedding;
use shadergan::kernels::At;
use shadergan::ops::EmbedSpec;

/// (rows, classes, dim, z_dim): odd sizes around the workgroups (64, 256) and the table sizes a
/// conditional run has (10 classes; the MLP D's 128 and the 28 x 28 DCGAN D's 6272 features
/// stand in as 257 and 1031).
const SHAPES: [(usize, usize, usize, usize); 6] = [
    (1, 1, 1, 1),
    (3, 2, 17, 5),
    (17, 10, 63, 7),
    (65, 3, 257, 1),
    (257, 7, 65, 3),
    (33, 10, 1031, 64),
];

const OFF: usize = 5;
const EPS: f32 = f32::EPSILON;

/// Labels in [0, classes + 2): a few past the table.
fn labels(seed: u64, rows: usize, classes: usize) -> Vec<u32> {
    inputs(seed, rows, 0.0, (classes + 2) as f32)
        .into_iter()
        .map(|v| v as u32)
        .collect()
}

/// A buffer holding `v` at element OFF, NaN around it.
fn at_off(g: &Gpu, label: &str, v: &[f32]) -> wgpu::Buffer {
    g.buffer_from(label, &nan_padded(OFF, v)).unwrap()
}

fn labels_buf(g: &Gpu, y: &[u32]) -> wgpu::Buffer {
    let mut v = vec![u32::MAX; OFF];
    v.extend_from_slice(y);
    v.extend_from_slice(&[u32::MAX; 4]);
    g.buffer_from("y", &v).unwrap()
}

fn at(buf: &wgpu::Buffer) -> At<'_> {
    At { buf, off: OFF }
}

/// The `n` values from OFF of `buf`, checking the NaN padding around them is untouched.
fn read_out(g: &Gpu, what: &str, buf: &wgpu::Buffer, n: usize) -> Vec<f32> {
    let v: Vec<f32> = g.read(buf).unwrap();
    assert!(
        v[..OFF].iter().chain(&v[OFF + n..]).all(|x| x.is_nan()),
        "{what}: wrote outside its range"
    );
    v[OFF..OFF + n].to_vec()
}

fn assert_bits(what: &str, got: &[f32], want: &[f32]) {
    let bad: Vec<usize> = (0..want.len())
        .filter(|&i| got[i].to_bits() != want[i].to_bits())
        .collect();
    assert!(
        bad.is_empty(),
        "{what}: {} of {} values differ, first at {:?} (got {:?}, want {:?})",
        bad.len(),
        want.len(),
        &bad[..bad.len().min(8)],
        bad.first().map(|&i| got[i]),
        bad.first().map(|&i| want[i])
    );
}

/// |got - want| <= tol[i] for every element (NaN never passes).
fn assert_within(what: &str, got: &[f32], want: &[f32], tol: &[f32]) {
    let bad: Vec<(usize, f32, f32)> = (0..want.len())
        .filter(|&i| (got[i] - want[i]).abs() > tol[i] || got[i].is_nan() != want[i].is_nan())
        .map(|i| (i, got[i], want[i]))
        .collect();
    assert!(
        bad.is_empty(),
        "{what}: {} of {} values differ beyond their bound; first: {:?}",
        bad.len(),
        want.len(),
        &bad[..bad.len().min(8)]
    );
}

fn clamp(y: u32, classes: usize) -> usize {
    (y as usize).min(classes - 1)
}

#[test]
fn embed_concat_and_backward_match_cpu_bit_for_bit() {
    let g = gpu();
    let k = Embedding::new(g).unwrap();
    for (i, &(rows, classes, dim, z_dim)) in SHAPES.iter().enumerate() {
        let s = EmbedSpec {
            rows,
            classes,
            dim,
            z_dim,
        };
        let what = format!("{rows} rows, table {classes} x {dim}, z {z_dim}");
        let seed = 10 * i as u64;
        let table = inputs(seed, classes * dim, -2.0, 2.0);
        let z = inputs(seed + 1, rows * z_dim, -3.0, 3.0);
        let y = labels(seed + 2, rows, classes);
        let w = dim + z_dim;
        let (tb, zb, yb) = (
            at_off(g, "table", &table),
            at_off(g, "z", &z),
            labels_buf(g, &y),
        );
        let ob = poisoned(g, "out", OFF + rows * w + 4);
        let d = k.concat(g, s, at(&tb), at(&yb), at(&zb), at(&ob)).unwrap();
        g.run(&[d]).unwrap();
        let got = read_out(g, &format!("embed_concat {what}"), &ob, rows * w);
        let mut want = vec![f32::NAN; rows * w];
        twin::embed_concat(&s, &table, &y, &z, &mut want);
        // The twin against the definition: each row is its label's embedding, then its noise.
        for r in 0..rows {
            let e = clamp(y[r], classes);
            assert_eq!(&want[r * w..r * w + dim], &table[e * dim..(e + 1) * dim]);
            assert_eq!(
                &want[r * w + dim..(r + 1) * w],
                &z[r * z_dim..(r + 1) * z_dim]
            );
        }
        assert_bits(&format!("embed_concat {what}"), &got, &want);

        let dx = inputs(seed + 3, rows * w, -1.0, 1.0);
        let dxb = at_off(g, "dx", &dx);
        let db = poisoned(g, "dtable", OFF + classes * dim + 4);
        let d = k.backward(g, s, at(&dxb), at(&yb), at(&db)).unwrap();
        g.run(&[d]).unwrap();
        let got = read_out(g, &format!("embed_backward {what}"), &db, classes * dim);
        let mut want = vec![f32::NAN; classes * dim];
        twin::embed_backward(&s, &dx, &y, &mut want);
        assert_bits(&format!("embed_backward {what}"), &got, &want);
    }
}

#[test]
fn projection_matches_cpu_for_every_activation() {
    let g = gpu();
    let k = Embedding::new(g).unwrap();
    for (i, &(rows, classes, dim, _)) in SHAPES.iter().enumerate() {
        let s = EmbedSpec {
            rows,
            classes,
            dim,
            z_dim: 0,
        };
        let what = format!("{rows} rows, table {classes} x {dim}");
        let seed = 100 + 10 * i as u64;
        let table = inputs(seed, classes * dim, -1.0, 1.0);
        let phi = inputs(seed + 1, rows * dim, -2.0, 2.0);
        let y = labels(seed + 2, rows, classes);
        let logit0 = inputs(seed + 3, rows, -3.0, 3.0);
        let (tb, pb, yb) = (
            at_off(g, "table", &table),
            at_off(g, "phi", &phi),
            labels_buf(g, &y),
        );

        // Forward, in place on the logits.
        let lb = at_off(g, "logits", &logit0);
        let d = k
            .projection_forward(g, s, at(&tb), at(&yb), at(&pb), at(&lb))
            .unwrap();
        g.run(&[d]).unwrap();
        let got = read_out(g, &format!("projection_forward {what}"), &lb, rows);
        let mut want = logit0.clone();
        twin::projection_forward(&s, &table, &y, &phi, &mut want);
        let tol: Vec<f32> = (0..rows)
            .map(|r| {
                let e = clamp(y[r], classes) * dim;
                let terms: f32 = (0..dim)
                    .map(|c| (table[e + c] * phi[r * dim + c]).abs())
                    .sum();
                8.0 * EPS * (logit0[r].abs() + terms)
            })
            .collect();
        assert_within(&format!("projection_forward {what}"), &got, &want, &tol);

        // The table's gradient.
        let dlogit = inputs(seed + 4, rows, -1.0, 1.0);
        let dlb = at_off(g, "dlogit", &dlogit);
        let db = poisoned(g, "dtable", OFF + classes * dim + 4);
        let d = k
            .projection_backward_table(g, s, at(&yb), at(&dlb), at(&pb), at(&db))
            .unwrap();
        g.run(&[d]).unwrap();
        let got = read_out(
            g,
            &format!("projection_backward_table {what}"),
            &db,
            classes * dim,
        );
        let mut want = vec![f32::NAN; classes * dim];
        twin::projection_backward_table(&s, &y, &dlogit, &phi, &mut want);
        let mut tol = vec![0.0f32; classes * dim];
        for r in 0..rows {
            let e = clamp(y[r], classes) * dim;
            for c in 0..dim {
                tol[e + c] += 4.0 * EPS * (dlogit[r] * phi[r * dim + c]).abs();
            }
        }
        assert_within(
            &format!("projection_backward_table {what}"),
            &got,
            &want,
            &tol,
        );

        // The input's gradient, in place, through each activation.
        for act in ACTIVATIONS {
            let h: Vec<f32> = phi.iter().map(|&v| act.apply(v)).collect();
            let dphi0 = inputs(seed + 5, rows * dim, -1.0, 1.0);
            let hb = at_off(g, "h", &h);
            let gb = at_off(g, "dphi", &dphi0);
            let d = k
                .projection_backward_input(g, s, act, at(&tb), at(&yb), at(&dlb), at(&hb), at(&gb))
                .unwrap();
            g.run(&[d]).unwrap();
            let what = format!("projection_backward_input {} {what}", act.name());
            let got = read_out(g, &what, &gb, rows * dim);
            let mut want = dphi0.clone();
            twin::projection_backward_input(&s, act, &table, &y, &dlogit, &h, &mut want);
            let tol: Vec<f32> = (0..rows * dim)
                .map(|j| {
                    let (r, c) = (j / dim, j % dim);
                    let e = clamp(y[r], classes) * dim;
                    let sum = dphi0[j].abs() + (dlogit[r] * table[e + c]).abs();
                    4.0 * EPS * sum * act.grad_from_output(h[j]).abs()
                })
                .collect();
            assert_within(&what, &got, &want, &tol);
        }
    }
}

/// More rows than one grid dimension holds (projection_forward runs a workgroup per row): the
/// grid splits into y and every row is still added once.
#[test]
fn projection_forward_covers_rows_past_one_grid_dimension() {
    let g = gpu();
    let k = Embedding::new(g).unwrap();
    let s = EmbedSpec {
        rows: 70_001,
        classes: 3,
        dim: 2,
        z_dim: 0,
    };
    let table = [1.0f32, 2.0, -1.0, 0.5, 0.25, 4.0];
    let phi = inputs(7, s.rows * 2, -1.0, 1.0);
    let y = labels(8, s.rows, 3);
    let (tb, pb, yb) = (
        at_off(g, "table", &table),
        at_off(g, "phi", &phi),
        labels_buf(g, &y),
    );
    let lb = at_off(g, "logits", &vec![0.0; s.rows]);
    let d = k
        .projection_forward(g, s, at(&tb), at(&yb), at(&pb), at(&lb))
        .unwrap();
    assert!(
        d.workgroups[1] > 1,
        "the grid should split: {:?}",
        d.workgroups
    );
    g.run(&[d]).unwrap();
    let got = read_out(g, "projection_forward 70,001 rows", &lb, s.rows);
    let mut want = vec![0.0; s.rows];
    twin::projection_forward(&s, &table, &y, &phi, &mut want);
    // Two products per row: the tree adds them in the twin's order, exactly.
    assert_bits("projection_forward 70,001 rows", &got, &want);
}

#[test]
fn embedding_rejects_bad_shapes() {
    let g = gpu();
    let k = Embedding::new(g).unwrap();
    let s = EmbedSpec {
        rows: 4,
        classes: 3,
        dim: 5,
        z_dim: 2,
    };
    let b = |n: usize| g.buffer("b", n).unwrap();
    let (table, y, z, out) = (b(15), b(4), b(8), b(28));
    let a = |buf| At { buf, off: 0 };
    assert!(k.concat(g, s, a(&table), a(&y), a(&z), a(&out)).is_ok());
    let short = b(27);
    assert!(
        k.concat(g, s, a(&table), a(&y), a(&z), a(&short)).is_err(),
        "out too short"
    );
    let small_table = b(14);
    assert!(
        k.concat(g, s, a(&small_table), a(&y), a(&z), a(&out))
            .is_err(),
        "table too short"
    );
    let no_classes = EmbedSpec { classes: 0, ..s };
    assert!(
        k.concat(g, no_classes, a(&table), a(&y), a(&z), a(&out))
            .is_err(),
        "an empty table"
    );
    let dtable = b(14);
    assert!(
        k.backward(g, s, a(&out), a(&y), a(&dtable)).is_err(),
        "dtable too short"
    );
}
