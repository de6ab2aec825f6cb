//! GPU vs CPU for every activation entry point, forward and backward, on odd sizes with poisoned
//! outputs; plus the extreme inputs. Elementwise: rtol 1e-5 (tanh/exp differ by a few ulp).
mod common;
use common::*;
use shadergan::kernels::activation::Activations;
use shadergan::ops::Activation;

const ACTS: [Activation; 4] = [
    Activation::Relu,
    Activation::LeakyRelu(0.2),
    Activation::Tanh,
    Activation::Sigmoid,
];

fn check(acts: &Activations, act: Activation, x: &[f32], dy: &[f32]) {
    let g = gpu();
    let n = x.len();
    let xb = g.buffer_from("x", x).unwrap();
    let yb = poisoned(g, "y", n);
    let d = acts.forward(g, act, &xb, &yb, n).unwrap().unwrap();
    g.run(&[d]).unwrap();
    let y_gpu: Vec<f32> = g.read(&yb).unwrap();
    let mut y = vec![0.0; n];
    act.forward(x, &mut y);
    assert_close(
        &format!("{}_forward n={n}", act.name()),
        &y_gpu,
        &y,
        1e-5,
        1e-30,
    );

    let dyb = g.buffer_from("dy", dy).unwrap();
    // y is read from an offset, as for a generator output inside D's input buffer.
    let mut y_padded = vec![f32::NAN; 5];
    y_padded.extend_from_slice(&y);
    let yb_exact = g.buffer_from("y", &y_padded).unwrap();
    let dxb = poisoned(g, "dx", n);
    let d = acts
        .backward(g, act, &yb_exact, 5, &dyb, &dxb, n)
        .unwrap()
        .unwrap();
    g.run(&[d]).unwrap();
    let dx_gpu: Vec<f32> = g.read(&dxb).unwrap();
    let mut dx = vec![0.0; n];
    act.backward(&y, dy, &mut dx);
    assert_close(
        &format!("{}_backward n={n}", act.name()),
        &dx_gpu,
        &dx,
        1e-5,
        1e-30,
    );
}

#[test]
fn activations_match_cpu_on_odd_sizes() {
    let acts = Activations::new(gpu()).unwrap();
    for act in ACTS {
        for (i, &n) in ODD_SIZES.iter().enumerate() {
            let x = inputs(i as u64, n, -4.0, 4.0);
            let dy = inputs(100 + i as u64, n, -1.0, 1.0);
            check(&acts, act, &x, &dy);
        }
    }
}

#[test]
fn activations_at_extreme_inputs_are_finite_and_saturate() {
    let acts = Activations::new(gpu()).unwrap();
    let x = [
        -1000.0f32, -100.0, -90.0, -10.5, 0.0, 10.5, 90.0, 100.0, 1000.0,
    ];
    let dy = [1.0f32; 9];
    for act in ACTS {
        check(&acts, act, &x, &dy);
    }
    let g = gpu();
    let xb = g.buffer_from("x", &x).unwrap();
    let yb = poisoned(g, "y", x.len());
    for act in [Activation::Sigmoid, Activation::Tanh] {
        let d = acts.forward(g, act, &xb, &yb, x.len()).unwrap().unwrap();
        g.run(&[d]).unwrap();
        let y: Vec<f32> = g.read(&yb).unwrap();
        assert!(y.iter().all(|v| v.is_finite()), "{}: {y:?}", act.name());
        let lo = if act == Activation::Sigmoid {
            0.0
        } else {
            -1.0
        };
        assert_eq!(y[0], lo, "{} at -1000", act.name());
        assert_eq!(y[8], 1.0, "{} at 1000", act.name());
    }
}

#[test]
fn identity_needs_no_dispatch() {
    let g = gpu();
    let acts = Activations::new(g).unwrap();
    let b = g.buffer("b", 4).unwrap();
    assert!(acts
        .forward(g, Activation::Identity, &b, &b, 4)
        .unwrap()
        .is_none());
}

/// The forward reads from x's offset and writes from out's offset, leaving the rest alone (a
/// generator's last activation writes the generated half of D's input).
#[test]
fn forward_at_offsets_writes_only_its_span() {
    use shadergan::kernels::At;
    let g = gpu();
    let acts = Activations::new(g).unwrap();
    let n = 37;
    let x = inputs(7, n + 4, -3.0, 3.0);
    let xb = g.buffer_from("x", &x).unwrap();
    let ob = poisoned(g, "out", n + 9);
    let d = acts
        .forward_at(
            g,
            Activation::Tanh,
            At { buf: &xb, off: 4 },
            At { buf: &ob, off: 6 },
            n,
        )
        .unwrap()
        .unwrap();
    g.run(&[d]).unwrap();
    let got: Vec<f32> = g.read(&ob).unwrap();
    let mut want = vec![0.0; n];
    Activation::Tanh.forward(&x[4..], &mut want);
    assert_close(
        "tanh_forward at offsets",
        &got[6..6 + n],
        &want,
        1e-5,
        1e-30,
    );
    assert!(got[..6].iter().chain(&got[6 + n..]).all(|v| v.is_nan()));
}
