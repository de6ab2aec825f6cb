//! GPU vs CPU for every batchnorm.wgsl entry point on odd shapes (channels 1/3/17, hw 1 for
//! BatchNorm1d and odd image sizes for BatchNorm2d, counts past one workgroup's 256 lanes), every
//! operand at an offset, outputs poisoned with NaN. The GPU reduces with trees (or, for at most
//! 256 values a channel, serially one lane per channel) and the CPU twin serially, so sums of up to ~10^4 terms agree to rtol 1e-4 / atol 1e-4; elementwise results
//! follow at the same tolerance.
mod common;
use common::*;
use shadergan::cpu::batchnorm as cpu;
use shadergan::kernels::batchnorm::BatchNorm;
use shadergan::kernels::At;
use shadergan::ops::{Activation, BatchNormSpec};

const OFF: usize = 5;

fn padded(g: &shadergan::gpu::Gpu, label: &str, v: &[f32]) -> wgpu::Buffer {
    let mut p = vec![f32::NAN; OFF];
    p.extend_from_slice(v);
    p.push(f32::NAN);
    g.buffer_from(label, &p).unwrap()
}

fn at(buf: &wgpu::Buffer) -> At<'_> {
    At { buf, off: OFF }
}

fn read(g: &shadergan::gpu::Gpu, b: &wgpu::Buffer, n: usize) -> Vec<f32> {
    let all: Vec<f32> = g.read(b).unwrap();
    assert!(
        all[..OFF].iter().chain(&all[OFF + n..]).all(|v| v.is_nan()),
        "wrote outside"
    );
    all[OFF..OFF + n].to_vec()
}

#[test]
fn batchnorm_entry_points_match_cpu() {
    let g = gpu();
    let k = BatchNorm::new(g).unwrap();
    let leaky = Activation::LeakyRelu(0.2);
    for (t, s) in [
        BatchNormSpec::new(3, 1, 5),
        BatchNormSpec::new(64, 17, 1).with_act(leaky),
        BatchNormSpec::new(3, 3, 63).with_act(Activation::Relu),
        BatchNormSpec::new(5, 17, 49),
        BatchNormSpec::new(65, 3, 257).with_act(leaky),
        // Past one workgroup of channels with few values each (the one-lane-per-channel
        // reductions, n <= 256), and just past that bound (the trees); with an activation
        // taken into the passes, and a tanh, which the networks do not fuse but the kernels
        // take all the same.
        BatchNormSpec::new(4, 600, 1).with_act(Activation::Relu),
        BatchNormSpec::new(3, 17, 86).with_act(Activation::Tanh),
        BatchNormSpec::new(3, 17, 86),
    ]
    .into_iter()
    .enumerate()
    {
        let t = t as u64;
        let c2 = 2 * s.channels;
        // An offset mean, so the two-pass variance is tested where one pass would cancel.
        let x = inputs(t, s.len(), 2.0, 4.0);
        let dy = inputs(10 + t, s.len(), -1.0, 1.0);
        let affine = inputs(20 + t, c2, -1.5, 1.5);
        let running0 = inputs(30 + t, c2, 0.5, 1.0);
        let (xb, dyb, ab) = (
            padded(g, "x", &x),
            padded(g, "dy", &dy),
            padded(g, "affine", &affine),
        );
        let (sb, rb) = (
            poisoned(g, "stats", OFF + c2 + 1),
            padded(g, "running", &running0),
        );

        let d = k.stats(g, s, at(&xb), at(&sb), at(&rb), true).unwrap();
        g.run(&[d]).unwrap();
        let mut stats = vec![0.0; c2];
        let mut running = running0.clone();
        cpu::batchnorm_stats(&s, &x, &mut stats, Some(&mut running));
        let name = format!("{s:?}");
        assert_close(
            &format!("batchnorm_stats {name}"),
            &read(g, &sb, c2),
            &stats,
            1e-4,
            1e-4,
        );
        assert_close(
            &format!("running {name}"),
            &read(g, &rb, c2),
            &running,
            1e-4,
            1e-4,
        );
        // The CPU stats go to the GPU for the next kernels, so each is checked on its own.
        let sb = padded(g, "stats", &stats);

        for use_running in [false, true] {
            let yb = poisoned(g, "y", OFF + s.len() + 1);
            let d = k
                .forward(
                    g,
                    s,
                    at(&xb),
                    at(&ab),
                    at(&sb),
                    at(&rb),
                    use_running,
                    at(&yb),
                )
                .unwrap();
            g.run(&[d]).unwrap();
            let mut y = vec![0.0; s.len()];
            let source = if use_running { &running } else { &stats };
            cpu::batchnorm_forward(&s, &x, &affine, source, use_running, &mut y);
            let what = format!("batchnorm_forward running={use_running} {name}");
            assert_close(&what, &read(g, &yb, s.len()), &y, 1e-4, 1e-4);
        }

        let db = poisoned(g, "daffine", OFF + c2 + 1);
        let d = k
            .backward_params(g, s, at(&xb), at(&dyb), at(&ab), at(&sb), at(&db))
            .unwrap();
        g.run(&[d]).unwrap();
        let mut daffine = vec![0.0; c2];
        cpu::batchnorm_backward_params(&s, &x, &dy, &affine, &stats, &mut daffine);
        let what = format!("batchnorm_backward_params {name}");
        assert_close(&what, &read(g, &db, c2), &daffine, 1e-4, 1e-4);

        let db = padded(g, "daffine", &daffine);
        let dxb = poisoned(g, "dx", OFF + s.len() + 1);
        let d = k
            .backward_input(g, s, at(&xb), at(&dyb), at(&ab), at(&sb), at(&db), at(&dxb))
            .unwrap();
        g.run(&[d]).unwrap();
        let mut dx = vec![0.0; s.len()];
        cpu::batchnorm_backward_input(&s, &x, &dy, &affine, &stats, &daffine, &mut dx);
        let what = format!("batchnorm_backward_input {name}");
        assert_close(&what, &read(g, &dxb, s.len()), &dx, 1e-4, 1e-4);
    }
}

/// The CPU twin with an activation in its passes is, bit for bit, the activation's own twin
/// around the plain batch norm: act(y) forward; backward, dy act'(act(y)) fed to the plain
/// kernels. So the fused kernels, held to this twin above, compute what the separate passes do.
#[test]
fn fused_activation_twin_is_the_separate_passes() {
    for act in [
        Activation::Relu,
        Activation::LeakyRelu(0.2),
        Activation::Tanh,
    ] {
        let plain = BatchNormSpec::new(5, 3, 7);
        let s = plain.with_act(act);
        let x = inputs(1, s.len(), -2.0, 3.0);
        let dy = inputs(2, s.len(), -1.0, 1.0);
        let affine = inputs(3, 6, -1.5, 1.5);
        let mut stats = vec![0.0; 6];
        cpu::batchnorm_stats(&s, &x, &mut stats, None);
        let (mut y, mut y_act) = (vec![0.0; s.len()], vec![0.0; s.len()]);
        cpu::batchnorm_forward(&plain, &x, &affine, &stats, false, &mut y);
        cpu::batchnorm_forward(&s, &x, &affine, &stats, false, &mut y_act);
        let a: Vec<f32> = y.iter().map(|&v| act.apply(v)).collect();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&y_act), bits(&a), "{act:?} forward");
        assert!(
            a.iter().any(|&v| v > 0.0) && y.iter().any(|&v| v < 0.0),
            "both branches"
        );
        let dy_y: Vec<f32> = dy
            .iter()
            .zip(&a)
            .map(|(d, &o)| d * act.grad_from_output(o))
            .collect();
        let (mut dp_f, mut dp_s) = (vec![0.0; 6], vec![0.0; 6]);
        cpu::batchnorm_backward_params(&s, &x, &dy, &affine, &stats, &mut dp_f);
        cpu::batchnorm_backward_params(&plain, &x, &dy_y, &affine, &stats, &mut dp_s);
        assert_eq!(bits(&dp_f), bits(&dp_s), "{act:?} backward_params");
        let (mut dx_f, mut dx_s) = (vec![0.0; s.len()], vec![0.0; s.len()]);
        cpu::batchnorm_backward_input(&s, &x, &dy, &affine, &stats, &dp_f, &mut dx_f);
        cpu::batchnorm_backward_input(&plain, &x, &dy_y, &affine, &stats, &dp_s, &mut dx_s);
        assert_eq!(bits(&dx_f), bits(&dx_s), "{act:?} backward_input");
    }
}

#[test]
fn one_value_per_channel_is_refused_as_pytorch_does() {
    let g = gpu();
    let k = BatchNorm::new(g).unwrap();
    let b = g.buffer("b", 8).unwrap();
    let at0 = At::from(&b);
    let err = match k.stats(g, BatchNormSpec::new(1, 2, 1), at0, at0, at0, true) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("batch 1 x hw 1 was accepted"),
    };
    assert!(err.contains("at least 2 values per channel"), "{err}");
}
