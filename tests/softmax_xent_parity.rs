//! GPU vs CPU for softmax_xent.wgsl on odd row counts and class counts with NaN-poisoned outputs,
//! and at extreme logits. Tolerances: log-softmax and the gradient are per element (exp and log
//! differ by a few ulp between drivers): rtol 1e-5, atol 1e-6; the loss is a reduction summed in a
//! different order on the GPU (256 strided partial sums, then a tree): rtol 1e-4. The accuracy is
//! a count of exact argmax comparisons, so it must match exactly.
mod common;
use common::*;
use shadergan::cpu::softmax_xent as cx;
use shadergan::kernels::softmax_xent::SoftmaxXent;
use shadergan::ops::XentSpec;

/// (metrics, logp, grad) from the GPU; metrics start at 0.5 (accumulate) or NaN (overwrite).
fn run_gpu(k: &SoftmaxXent, s: XentSpec, x: &[f32], labels: &[f32]) -> [Vec<f32>; 3] {
    let g = gpu();
    let n = s.rows * s.classes;
    let xb = g.buffer_from("x", x).unwrap();
    let lb = g.buffer_from("labels", labels).unwrap();
    let logp = poisoned(g, "logp", n);
    let grad = poisoned(g, "grad", n);
    let fill = if s.accumulate { 0.5 } else { f32::NAN };
    let metrics = g
        .buffer_from("metrics", &vec![fill; s.metrics_off + 2])
        .unwrap();
    let d1 = k.loss(g, s, &xb, &lb, &logp, &metrics).unwrap();
    let d2 = k.backward(g, s, &logp, &lb, &grad).unwrap();
    g.run(&[d1, d2]).unwrap();
    [
        g.read(&metrics).unwrap(),
        g.read(&logp).unwrap(),
        g.read(&grad).unwrap(),
    ]
}

fn run_cpu(s: XentSpec, x: &[f32], labels: &[f32]) -> [Vec<f32>; 3] {
    let n = s.rows * s.classes;
    let mut metrics = vec![0.5f32; s.metrics_off + 2];
    let (mut logp, mut grad) = (vec![0.0; n], vec![0.0; n]);
    let off = s.metrics_off;
    cx::softmax_xent(
        s.rows,
        s.classes,
        s.scale,
        s.accumulate,
        x,
        labels,
        &mut logp,
        &mut metrics[off..],
    );
    cx::softmax_xent_backward(s.rows, s.classes, s.scale, &logp, labels, &mut grad);
    [metrics, logp, grad]
}

#[test]
fn softmax_xent_matches_cpu_on_odd_sizes() {
    let k = SoftmaxXent::new(gpu()).unwrap();
    for (i, &rows) in ODD_SIZES.iter().enumerate() {
        for classes in [1, 3, 10, 17] {
            let x = inputs(i as u64 * 31 + classes as u64, rows * classes, -8.0, 8.0);
            let labels: Vec<f32> = (0..rows).map(|r| ((r * 7) % classes) as f32).collect();
            for (scale, accumulate) in [(1.0, false), (0.5, true)] {
                let s = XentSpec {
                    rows,
                    classes,
                    scale,
                    metrics_off: 1,
                    accumulate,
                };
                let [gm, gl, gg] = run_gpu(&k, s, &x, &labels);
                let [cm, cl, cg] = run_cpu(s, &x, &labels);
                let what = |t: &str| format!("softmax_xent {t} rows={rows} classes={classes}");
                assert_close(&what("loss"), &gm[1..2], &cm[1..2], 1e-4, 1e-6);
                assert_eq!(gm[2], cm[2], "{}", what("accuracy"));
                assert_close(&what("logp"), &gl, &cl, 1e-5, 1e-6);
                assert_close(&what("grad"), &gg, &cg, 1e-5, 1e-7);
            }
        }
    }
}

#[test]
fn softmax_xent_at_extreme_logits_is_finite_and_right() {
    let k = SoftmaxXent::new(gpu()).unwrap();
    // Row 0 confidently right, row 1 confidently wrong by 1000, row 2 a tie (first argmax wins,
    // and it is not the label), row 3 a label past the last class (read as the last class).
    let x = [
        1000.0f32, -1000.0, 0.0, //
        1000.0, -1000.0, 0.0, //
        5.0, 5.0, 5.0, //
        -3.0, 0.0, 90.0,
    ];
    let labels = [0.0f32, 1.0, 2.0, 7.0];
    let s = XentSpec {
        rows: 4,
        classes: 3,
        scale: 1.0,
        metrics_off: 0,
        accumulate: false,
    };
    let [gm, gl, gg] = run_gpu(&k, s, &x, &labels);
    let [cm, cl, cg] = run_cpu(s, &x, &labels);
    assert!(gl.iter().chain(&gg).chain(&gm).all(|v| v.is_finite()));
    // Loss: 0 + 2000 + ln 3 + ~0, over 4 rows; right: rows 0 and 3.
    assert_close(
        "extreme loss",
        &gm[..1],
        &[(2000.0 + 3f32.ln()) / 4.0],
        1e-5,
        0.0,
    );
    assert_eq!(gm[1], 0.5, "extreme accuracy");
    assert_close("extreme metrics", &gm, &cm, 1e-6, 1e-6);
    assert_close("extreme logp", &gl, &cl, 1e-6, 1e-6);
    assert_close("extreme grad", &gg, &cg, 1e-6, 1e-9);
}
