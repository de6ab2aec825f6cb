//! The class-embedding twins' backward passes (`cpu::embedding`) against central finite
//! differences of their forwards, in the form of tests/gradcheck.rs: f32 forwards, differences in
//! f64 over h = 2^-8, tolerance rtol 1e-2 / atol 2e-4 (a wrong sign, factor, row or branch is off
//! by O(1)). Labels repeat, so a table row that sums several batch rows is checked too.
use shadergan::cpu::embedding as e;
use shadergan::ops::{Activation, EmbedSpec};

const H: f32 = 1.0 / 256.0;

fn close(what: &str, analytic: f64, numeric: f64) {
    let tol = (1e-2 * analytic.abs().max(numeric.abs())).max(2e-4);
    assert!(
        (analytic - numeric).abs() <= tol,
        "{what}: analytic {analytic:e} vs finite difference {numeric:e}"
    );
}

/// Values in (-1, 1) from a sine, away from 0 by more than 2h where `away` asks (the kinks of
/// relu and leaky_relu).
fn values(n: usize, phase: f32, away: bool) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let v = (1.7 * i as f32 + phase).sin();
            if away && v.abs() < 0.05 {
                v + 0.1
            } else {
                v
            }
        })
        .collect()
}

/// d/dv of `f` at v[i] by central differences.
fn numeric(v: &[f32], i: usize, f: &dyn Fn(&[f32]) -> f64) -> f64 {
    let (mut up, mut down) = (v.to_vec(), v.to_vec());
    up[i] += H;
    down[i] -= H;
    (f(&up) - f(&down)) / (2.0 * H as f64)
}

/// L = sum out[r, c] w[r, c] over G's input rows: embed_backward with dx = w gives dL/dtable.
#[test]
fn embed_backward_matches_finite_differences() {
    let s = EmbedSpec {
        rows: 7,
        classes: 4,
        dim: 3,
        z_dim: 2,
    };
    let y = [2u32, 0, 2, 3, 2, 0, 9];
    let z = values(s.rows * s.z_dim, 0.3, false);
    let w = values(s.rows * (s.dim + s.z_dim), 1.1, false);
    let loss = |table: &[f32]| -> f64 {
        let mut out = vec![0.0; s.rows * (s.dim + s.z_dim)];
        e::embed_concat(&s, table, &y, &z, &mut out);
        out.iter().zip(&w).map(|(a, b)| (a * b) as f64).sum()
    };
    let table = values(s.table_len(), 0.7, false);
    let mut dtable = vec![f32::NAN; s.table_len()];
    e::embed_backward(&s, &w, &y, &mut dtable);
    for (i, &d) in dtable.iter().enumerate() {
        let num = numeric(&table, i, &loss);
        close(&format!("dtable[{i}]"), d as f64, num);
    }
    // Class 1 has no rows: its gradient is exactly zero.
    assert!(dtable[3..6].iter().all(|&v| v == 0.0));
}

/// D(x, y) = <w, phi> + <table[y], phi> with phi = act(a), and L = sum dlogit[r] D_r:
/// projection_backward_input (dphi from psi's backward, dlogit[r] w, on entry) gives dL/da, and
/// projection_backward_table gives dL/dtable.
#[test]
fn projection_backward_matches_finite_differences() {
    let s = EmbedSpec {
        rows: 6,
        classes: 3,
        dim: 5,
        z_dim: 0,
    };
    let y = [1u32, 1, 0, 2, 1, 7];
    let dlogit = [0.7f32, -0.4, 0.9, -1.2, 0.3, 0.5];
    let w = values(s.dim, 2.0, false);
    let table = values(s.table_len(), 0.4, false);
    let a = values(s.rows * s.dim, 0.9, true);
    for act in [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu(0.2),
        Activation::Tanh,
        Activation::Sigmoid,
    ] {
        let loss = |a: &[f32], table: &[f32]| -> f64 {
            let phi: Vec<f32> = a.iter().map(|&v| act.apply(v)).collect();
            let mut logit: Vec<f32> = (0..s.rows)
                .map(|r| (0..s.dim).map(|c| w[c] * phi[r * s.dim + c]).sum())
                .collect();
            e::projection_forward(&s, table, &y, &phi, &mut logit);
            logit.iter().zip(&dlogit).map(|(l, d)| (l * d) as f64).sum()
        };
        let h: Vec<f32> = a.iter().map(|&v| act.apply(v)).collect();
        let mut da: Vec<f32> = (0..s.rows * s.dim)
            .map(|i| dlogit[i / s.dim] * w[i % s.dim])
            .collect();
        e::projection_backward_input(&s, act, &table, &y, &dlogit, &h, &mut da);
        for (i, &d) in da.iter().enumerate() {
            let num = numeric(&a, i, &|a| loss(a, &table));
            close(&format!("{} da[{i}]", act.name()), d as f64, num);
        }
        let mut dtable = vec![f32::NAN; s.table_len()];
        e::projection_backward_table(&s, &y, &dlogit, &h, &mut dtable);
        for (i, &d) in dtable.iter().enumerate() {
            let num = numeric(&table, i, &|t| loss(&a, t));
            close(&format!("{} dtable[{i}]", act.name()), d as f64, num);
        }
    }
}
