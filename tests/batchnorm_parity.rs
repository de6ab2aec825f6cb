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
use shadergan::ops::BatchNormSpec;

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
    for (t, s) in [
        BatchNormSpec::new(3, 1, 5),
        BatchNormSpec::new(64, 17, 1),
        BatchNormSpec::new(3, 3, 63),
        BatchNormSpec::new(5, 17, 49),
        BatchNormSpec::new(65, 3, 257),
        // Past one workgroup of channels with few values each (the one-lane-per-channel
        // reductions, n <= 256), and just past that bound (the trees).
        BatchNormSpec::new(4, 600, 1),
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
            .backward_params(g, s, at(&xb), at(&dyb), at(&sb), at(&db))
            .unwrap();
        g.run(&[d]).unwrap();
        let mut daffine = vec![0.0; c2];
        cpu::batchnorm_backward_params(&s, &x, &dy, &stats, &mut daffine);
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
