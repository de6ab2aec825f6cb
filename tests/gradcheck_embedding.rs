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

/// A whole discriminator with the projection's class term, on the CPU executor: D(x, y) =
/// psi(phi(x)) + E[y]^T phi(x), L = sum_r dlogit[r] D(x_r, y_r). `Network::backward_projected`
/// (the table's gradient, and the term's share of phi's gradient spliced in before the layers
/// below) against finite differences of the forward, for every parameter (the table included)
/// and every input value; for an MLP D (phi behind a leaky ReLU, the fused path it replaces) and
/// a convolutional one (phi a flattened map).
#[test]
fn projected_discriminator_backward_matches_finite_differences() {
    use shadergan::graph::convnet::{Block, ConvNetSpec};
    use shadergan::graph::cpu::CpuPlan;
    use shadergan::graph::net::{Layer, NetSpec};
    use shadergan::graph::network::NetworkSpec;
    use shadergan::graph::projection::Projection;
    use shadergan::graph::{Graph, View};
    let mlp = NetworkSpec::Mlp(NetSpec {
        input: 4,
        layers: vec![
            Layer {
                out: 5,
                act: Activation::Tanh,
            },
            Layer {
                out: 3,
                act: Activation::LeakyRelu(0.2),
            },
            Layer {
                out: 1,
                act: Activation::Identity,
            },
        ],
    });
    let conv = NetworkSpec::Conv(ConvNetSpec {
        input: [1, 4, 4],
        blocks: vec![
            Block::Conv2d {
                out_ch: 2,
                k: 4,
                stride: 2,
                pad: 1,
                bias: true,
            },
            Block::Act(Activation::Sigmoid),
            Block::Flatten,
            Block::Linear { out: 1, bias: true },
        ],
    });
    let (rows, classes) = (5, 3);
    let y = [2u32, 0, 2, 1, 0];
    let dlogit0 = [0.6f32, -0.9, 0.4, 1.1, -0.3];
    for (name, spec) in [("mlp", mlp), ("conv", conv)] {
        let own = spec.param_count().unwrap();
        let f = spec.feature_len().unwrap();
        let params: Vec<f32> = values(own + classes * f, 0.2, false)
            .into_iter()
            .map(|v| 0.8 * v)
            .collect();
        let x0 = values(rows * spec.input_len(), 1.3, true);
        let mut g = Graph::default();
        let x = g.f32_from("x", &x0);
        let dlogit = g.f32_from("dlogit", &dlogit0);
        let labels = g.u32_from("y", &y);
        let dx = g.f32("dx", x0.len());
        let net = spec
            .tensors_trailing(&mut g, "d", &params, &[], rows, classes * f)
            .unwrap();
        let proj = Projection {
            classes,
            dim: f,
            table: View {
                t: net.params(),
                off: own,
            },
            dtable: View {
                t: net.grads(),
                off: own,
            },
            labels: labels.into(),
        };
        let mut fwd = net.forward(x.into(), rows, None, true);
        fwd.push(proj.forward(&net, x.into(), rows, None));
        let mut ops = fwd.clone();
        ops.extend(net.backward_projected(x.into(), rows, None, dlogit, true, Some(dx), &proj));
        let mut cpu = CpuPlan::new(&g);
        cpu.run(&ops);
        let grads = cpu.tensors[net.grads()].f32().to_vec();
        let dxv = cpu.tensors[dx].f32().to_vec();
        let out = net.output_view(None).t;
        let loss = |p: &[f32], xin: &[f32]| -> f64 {
            let mut c = CpuPlan::new(&g);
            c.tensors[net.params()].f32_mut().copy_from_slice(p);
            c.tensors[x].f32_mut().copy_from_slice(xin);
            c.run(&fwd);
            c.tensors[out].f32()[..rows]
                .iter()
                .zip(&dlogit0)
                .map(|(a, b)| (*a as f64) * (*b as f64))
                .sum()
        };
        for (i, &gr) in grads.iter().enumerate() {
            let num = numeric(&params, i, &|p| loss(p, &x0));
            close(&format!("{name} dL/dparam[{i}]"), gr as f64, num);
        }
        for (i, &d) in dxv.iter().enumerate() {
            let num = numeric(&x0, i, &|xi| loss(&params, xi));
            close(&format!("{name} dL/dx[{i}]"), d as f64, num);
        }
    }
}
