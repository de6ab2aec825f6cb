//! The elementwise, reduction, random-number, gather, convolution and normalisation families,
//! each as small graphs run on both executors ([`super::graph_case`]), and the few entry points
//! no op reaches (sgd_momentum, rng_bits, rng_uniform, the peak kernels) through their
//! launchers. Tolerances are the parity tests' (tests/*_parity.rs), stated at each case.

use super::compare::{inputs, ODD_SIZES};
use super::{graph_case, FamilyResult, GraphCase};
use crate::gpu::{Gpu, GpuError};
use crate::graph::{Graph, Op, RngSource, View};
use crate::kernels::Kernels;
use crate::ops::{
    Activation, AdamConfig, BatchNormSpec, BceSpec, ConvShape, EmbedSpec, LossTerm, RngAddr,
    SpectralSpec, XentSpec,
};

const NAN: f32 = f32::NAN;

fn sizes(quick: bool) -> &'static [usize] {
    if quick {
        &[17, 1031]
    } else {
        &ODD_SIZES
    }
}

fn poisoned(g: &mut Graph, name: &str, n: usize) -> usize {
    g.f32_from(name, &vec![NAN; n])
}

/// Forward and backward of every activation (elementwise; rtol 1e-5: exp and tanh may differ by
/// a few ulp; atol 1e-7: lavapipe's tanh near 0, e.g. at x = 2.3e-3, is off by 1.2e-5 relative,
/// 3e-8 absolute), with |x| = 100 among the inputs.
pub fn activation(gpu: &Gpu, quick: bool, r: &mut FamilyResult) -> Result<(), GpuError> {
    let acts = [
        Activation::Relu,
        Activation::LeakyRelu(0.2),
        Activation::Tanh,
        Activation::Sigmoid,
    ];
    for (ai, act) in acts.into_iter().enumerate() {
        for &n in sizes(quick) {
            let seed = (ai * 100 + n) as u64;
            let mut x = inputs(seed, n, -6.0, 6.0);
            if n >= 3 {
                x[..3].copy_from_slice(&[100.0, -100.0, 0.0]);
            }
            let mut g = Graph::default();
            let xt = g.f32_from("x", &x);
            let y = poisoned(&mut g, "y", n);
            let dy = g.f32_from("dy", &inputs(seed + 1, n, -1.0, 1.0));
            let dx = poisoned(&mut g, "dx", n);
            // The backward reads the CPU's forward output on both sides (as the parity test
            // does): tanh's 1 - y^2 would turn an ulp of y into a large relative error.
            let mut y_cpu = vec![0.0; n];
            act.forward(&x, &mut y_cpu);
            let y_in = g.f32_from("y in", &[&[NAN; 5][..], &y_cpu].concat());
            let ops = vec![
                Op::ActForward {
                    act,
                    x: xt.into(),
                    out: y.into(),
                    n,
                },
                Op::ActBackward {
                    act,
                    y: View { t: y_in, off: 5 },
                    dy,
                    out: dx,
                    n,
                },
            ];
            let case = GraphCase {
                what: format!("{} n={n}", act.name()),
                graph: g,
                ops,
                outputs: vec![("forward", y, 1e-5, 1e-7), ("backward", dx, 1e-5, 1e-7)],
            };
            graph_case(gpu, r, case)?;
        }
    }
    Ok(())
}

/// Every loss term's loss (a reduction: rtol 1e-4) and gradient (elementwise: rtol 1e-5), logits
/// up to |x| = 50, targets 1, 0 and 0.9.
pub fn bce(gpu: &Gpu, quick: bool, r: &mut FamilyResult) -> Result<(), GpuError> {
    let terms = [
        LossTerm::Bce,
        LossTerm::Hinge,
        LossTerm::Linear,
        LossTerm::Square,
    ];
    for (ti, term) in terms.into_iter().enumerate() {
        for &n in sizes(quick) {
            let seed = 500 + (ti * 100 + n) as u64;
            let mut x = inputs(seed, n, -8.0, 8.0);
            if n >= 2 {
                x[..2].copy_from_slice(&[50.0, -50.0]);
            }
            let y: Vec<f32> = (0..n).map(|i| [1.0, 0.0, 0.9][i % 3]).collect();
            let mut g = Graph::default();
            let (xt, yt) = (g.f32_from("x", &x), g.f32_from("y", &y));
            let metrics = poisoned(&mut g, "metrics", 3);
            let grad = poisoned(&mut g, "grad", n);
            let spec = BceSpec {
                term,
                n,
                split: n / 2,
                scale: 2.0,
                metrics_off: 0,
                accumulate: false,
            };
            let ops = vec![
                Op::BceLoss {
                    spec,
                    x: xt,
                    y: yt,
                    metrics,
                },
                Op::BceBackward {
                    spec,
                    x: xt,
                    y: yt,
                    grad,
                },
            ];
            let case = GraphCase {
                what: format!("{term:?} n={n}"),
                graph: g,
                ops,
                outputs: vec![("loss", metrics, 1e-4, 1e-6), ("grad", grad, 1e-5, 1e-9)],
            };
            graph_case(gpu, r, case)?;
        }
    }
    Ok(())
}

/// Log-softmax, its loss and accuracy (reductions: rtol 1e-4) and gradient (rtol 1e-5).
pub fn softmax_xent(gpu: &Gpu, quick: bool, r: &mut FamilyResult) -> Result<(), GpuError> {
    let shapes: &[(usize, usize)] = if quick {
        &[(17, 10)]
    } else {
        &[(1, 3), (17, 10), (65, 7), (130, 10)]
    };
    for &(rows, classes) in shapes {
        let seed = 900 + (rows * 10 + classes) as u64;
        let labels: Vec<f32> = (0..rows).map(|i| ((i * 7) % classes) as f32).collect();
        let mut g = Graph::default();
        let x = g.f32_from("x", &inputs(seed, rows * classes, -5.0, 5.0));
        let lt = g.f32_from("labels", &labels);
        let logp = poisoned(&mut g, "logp", rows * classes);
        let metrics = poisoned(&mut g, "metrics", 2);
        let grad = poisoned(&mut g, "grad", rows * classes);
        let spec = XentSpec {
            rows,
            classes,
            scale: 1.0,
            metrics_off: 0,
            accumulate: false,
        };
        let ops = vec![
            Op::SoftmaxXent {
                spec,
                x,
                labels: lt,
                logp,
                metrics,
            },
            Op::SoftmaxXentBackward {
                spec,
                logp,
                labels: lt,
                grad,
            },
        ];
        let case = GraphCase {
            what: format!("{rows}x{classes}"),
            graph: g,
            ops,
            outputs: vec![
                ("logp", logp, 1e-5, 1e-6),
                ("loss, accuracy", metrics, 1e-4, 1e-6),
                ("grad", grad, 1e-5, 1e-7),
            ],
        };
        graph_case(gpu, r, case)?;
    }
    Ok(())
}

/// Two Adam steps (the second with the learning rate decayed; the weights rtol 1e-4, the moments
/// 1e-5: a division by sqrt(v) + eps), the moving average (1e-5), and SGD with momentum through
/// its launcher.
pub fn optim(gpu: &Gpu, quick: bool, r: &mut FamilyResult) -> Result<(), GpuError> {
    for &n in sizes(quick) {
        let seed = 1300 + n as u64;
        let mut g = Graph::default();
        let w = g.f32_from("w", &inputs(seed, n, -1.0, 1.0));
        let grad = g.f32_from("grad", &inputs(seed + 1, n, -0.5, 0.5));
        let m = g.f32_from("m", &inputs(seed + 2, n, -0.1, 0.1));
        let v = g.f32_from("v", &inputs(seed + 3, n, 0.0, 0.01));
        let avg = g.f32_from("avg", &inputs(seed + 4, n, -1.0, 1.0));
        let state = g.u32_from("state", &[0, 0]);
        let cfg = AdamConfig {
            lr: 1e-2,
            beta1: 0.5,
            beta2: 0.999,
            eps: 1e-8,
            decay_steps: 3,
            final_frac: 0.1,
        };
        let step = [
            Op::Tick { state, slot: 0 },
            Op::Adam {
                cfg,
                state,
                step_slot: 0,
                w,
                grad,
                m,
                v,
                n,
            },
            Op::Ema {
                decay: 0.9,
                w,
                avg,
                n,
            },
        ];
        let ops = [step.clone(), step].concat();
        let case = GraphCase {
            what: format!("n={n}"),
            graph: g,
            ops,
            outputs: vec![
                ("adam w", w, 1e-4, 1e-7),
                ("adam m", m, 1e-5, 1e-9),
                ("adam v", v, 1e-5, 1e-12),
                ("ema", avg, 1e-5, 1e-7),
                ("step count", state, 0.0, 0.0),
            ],
        };
        graph_case(gpu, r, case)?;

        let k = Kernels::shared(gpu)?;
        let (w0, g0, m0) = (
            inputs(seed + 5, n, -1.0, 1.0),
            inputs(seed + 6, n, -1.0, 1.0),
            inputs(seed + 7, n, -0.1, 0.1),
        );
        let (wb, gb, mb) = (
            gpu.buffer_from("w", &w0)?,
            gpu.buffer_from("grad", &g0)?,
            gpu.buffer_from("m", &m0)?,
        );
        let bufs = crate::kernels::optim::OptimBuffers {
            w: &wb,
            grad: &gb,
            m: &mb,
            v: &mb,
        };
        let d = k.optim.sgd_momentum(gpu, 0.05, 0.9, bufs, n)?;
        r.cover(d.name);
        gpu.run(&[d])?;
        let (mut w1, mut m1) = (w0, m0);
        crate::cpu::optim::sgd_momentum(0.05, 0.9, &mut w1, &g0, &mut m1);
        r.close(
            &format!("sgd_momentum w n={n}"),
            &gpu.read(&wb)?,
            &w1,
            1e-5,
            1e-7,
        );
        r.close(
            &format!("sgd_momentum m n={n}"),
            &gpu.read(&mb)?,
            &m1,
            1e-5,
            1e-7,
        );
    }
    Ok(())
}

/// Philox words bit for bit, uniforms and normals (rtol 2e-6: log and cos may differ by an ulp),
/// indices exactly, instance noise half-way through its anneal, the counter's tick.
pub fn rng(gpu: &Gpu, quick: bool, r: &mut FamilyResult) -> Result<(), GpuError> {
    let k = Kernels::shared(gpu)?;
    for &n in sizes(quick) {
        let mut g = Graph::default();
        // Counter 5 + 2^32 (the high word in use), iteration 3 of an anneal over 6.
        let state = g.u32_from("state", &[5, 1, 3, 0]);
        let src = |stream| RngSource {
            seed: 0xdead_beef + n as u64,
            stream,
            state,
            state_slot: 0,
        };
        let normal = g.f32_from("normal", &[&[7.0; 3][..], &vec![NAN; n]].concat());
        // Instance noise reads x from the first half of a tensor and writes the second half.
        let x = inputs(n as u64, n, -1.0, 1.0);
        let noisy = g.f32_from("noisy", &[&x[..], &vec![NAN; n]].concat());
        let idx = g.u32_from("idx", &vec![u32::MAX; n]);
        let ops = vec![
            Op::RngNormal {
                src: src(1),
                out: View { t: normal, off: 3 },
                n,
                mean: 0.5,
                std: 2.0,
            },
            Op::RngAddNormal {
                src: RngSource {
                    state_slot: 2,
                    ..src(2)
                },
                x: noisy.into(),
                out: View { t: noisy, off: n },
                n,
                std: 0.3,
                anneal: 6,
            },
            Op::RngIndex {
                src: src(3),
                out: idx.into(),
                n,
                n_rows: 1000,
            },
            Op::Tick { state, slot: 0 },
        ];
        let case = GraphCase {
            what: format!("n={n}"),
            graph: g,
            ops,
            outputs: vec![
                ("rng_normal", normal, 2e-6, 4e-6),
                ("rng_add_normal", noisy, 2e-6, 1e-6),
                ("rng_index", idx, 0.0, 0.0),
                ("tick", state, 0.0, 0.0),
            ],
        };
        graph_case(gpu, r, case)?;

        // rng_bits and rng_uniform, which no op uses.
        let addr = RngAddr {
            seed: 42,
            stream: 7,
            ctr: 11,
            state_slot: 0,
        };
        let st = [9u32, 2];
        let sb = gpu.buffer_from("state", &st)?;
        let out = gpu.buffer_from("bits", &vec![u32::MAX; n + 2])?;
        let d = k.rng.bits(gpu, addr, &sb, &out, 2, n)?;
        r.cover(d.name);
        gpu.run(&[d])?;
        let mut want = vec![0u32; n];
        crate::cpu::rng::rng_bits(addr, &st, &mut want);
        let got: Vec<u32> = gpu.read(&out)?;
        r.exact(&format!("rng_bits n={n}"), &got[2..], &want);
        let d = k.rng.uniform(gpu, addr, &sb, &out, 2, n, -1.5, 2.5)?;
        r.cover(d.name);
        gpu.run(&[d])?;
        let mut want = vec![0.0f32; n];
        crate::cpu::rng::rng_uniform(addr, &st, -1.5, 2.5, &mut want);
        let got: Vec<f32> = gpu.read(&out)?;
        r.close(&format!("rng_uniform n={n}"), &got[2..], &want, 1e-6, 1e-6);
    }
    Ok(())
}

/// Minibatch rows gathered by index from f32 data and from packed image bytes: exact copies.
pub fn gather(gpu: &Gpu, quick: bool, r: &mut FamilyResult) -> Result<(), GpuError> {
    let shapes: &[(usize, usize)] = if quick {
        &[(17, 7)]
    } else {
        &[(1, 1), (17, 7), (65, 13)]
    };
    for &(rows, cols) in shapes {
        let data_rows = 31;
        let mut g = Graph::default();
        let data = g.f32_from("data", &inputs(rows as u64, data_rows * cols, -3.0, 3.0));
        let bytes: Vec<u8> = (0..data_rows * cols)
            .map(|i| (i * 37 % 256) as u8)
            .collect();
        let packed = g.u32_from("bytes", &crate::cpu::gather::pack_u8(&bytes));
        let idx: Vec<u32> = (0..rows)
            .map(|i| ((i * 13 + 5) % data_rows) as u32)
            .collect();
        let idx = g.u32_from("idx", &idx);
        let out = g.f32_from("out", &[&[7.0; 2][..], &vec![NAN; rows * cols]].concat());
        let out8 = poisoned(&mut g, "out_u8", rows * cols);
        let gather = |packed_u8, data, out: View| Op::Gather {
            packed_u8,
            data,
            idx,
            out,
            rows,
            cols,
            data_rows,
        };
        let labels: Vec<u32> = (0..data_rows as u32).map(|i| i * 7 % 10).collect();
        let labels = g.u32_from("labels", &labels);
        let out_u32 = g.u32_from("out_u32", &vec![u32::MAX; rows]);
        let ops = vec![
            gather(false, data, View { t: out, off: 2 }),
            gather(true, packed, out8.into()),
            Op::GatherU32 {
                data: labels,
                idx,
                out: out_u32.into(),
                rows,
                cols: 1,
                data_rows,
            },
        ];
        let case = GraphCase {
            what: format!("{rows}x{cols}"),
            graph: g,
            ops,
            outputs: vec![
                ("gather_rows", out, 0.0, 0.0),
                ("gather_rows_u8", out8, 0.0, 0.0),
            ],
        };
        graph_case(gpu, r, case)?;
    }
    Ok(())
}

/// Batch statistics (with the running update), the normalisation from them and from the running
/// statistics, and both gradients, at a channel size under and over the one-lane-per-channel
/// bound (the two reductions), with no activation and with a LeakyReLU or a ReLU taken into
/// the passes: rtol 1e-4.
pub fn batchnorm(gpu: &Gpu, quick: bool, r: &mut FamilyResult) -> Result<(), GpuError> {
    let specs: &[(usize, usize, usize, Activation)] = if quick {
        &[
            (5, 3, 7, Activation::LeakyRelu(0.2)),
            (7, 3, 49, Activation::Identity),
        ]
    } else {
        &[
            (5, 3, 7, Activation::Identity),
            (7, 3, 49, Activation::LeakyRelu(0.2)),
            (2, 5, 1, Activation::Relu),
            (64, 2, 1, Activation::LeakyRelu(0.2)),
        ]
    };
    for &(batch, c, hw, act) in specs {
        let spec = BatchNormSpec::new(batch, c, hw).with_act(act);
        let len = batch * c * hw;
        let seed = 1700 + len as u64;
        let mut g = Graph::default();
        let x = g.f32_from("x", &inputs(seed, len, -2.0, 3.0));
        let dy = g.f32_from("dy", &inputs(seed + 1, len, -1.0, 1.0));
        let affine = g.f32_from("affine", &inputs(seed + 2, 2 * c, 0.5, 1.5));
        let stats = poisoned(&mut g, "stats", 2 * c);
        let mut run0 = inputs(seed + 3, c, -0.1, 0.1);
        run0.extend(inputs(seed + 4, c, 0.8, 1.2));
        let running = g.f32_from("running", &run0);
        let y = poisoned(&mut g, "y", len);
        let y_eval = poisoned(&mut g, "y_eval", len);
        let daffine = poisoned(&mut g, "daffine", 2 * c);
        let dx = poisoned(&mut g, "dx", len);
        let (x, dy, affine, stats, running) = (
            x.into(),
            dy.into(),
            affine.into(),
            stats.into(),
            running.into(),
        );
        let forward = |use_running, y: usize| Op::BatchNormForward {
            spec,
            x,
            affine,
            stats,
            running,
            use_running,
            y: y.into(),
        };
        let ops = vec![
            Op::BatchNormStats {
                spec,
                x,
                stats,
                running,
                update_running: true,
            },
            forward(false, y),
            forward(true, y_eval),
            Op::BatchNormBackwardParams {
                spec,
                x,
                dy,
                affine,
                stats,
                daffine: daffine.into(),
            },
            Op::BatchNormBackwardInput {
                spec,
                x,
                dy,
                affine,
                stats,
                daffine: daffine.into(),
                dx: dx.into(),
            },
        ];
        let case = GraphCase {
            what: format!("{batch}x{c}x{hw} {act:?}"),
            graph: g,
            ops,
            outputs: vec![
                ("stats", stats.t, 1e-4, 1e-4),
                ("running", running.t, 1e-4, 1e-4),
                ("forward", y, 1e-4, 1e-4),
                ("forward (running)", y_eval, 1e-4, 1e-4),
                ("d affine", daffine, 1e-4, 1e-4),
                ("dx", dx, 1e-4, 1e-4),
            ],
        };
        graph_case(gpu, r, case)?;
    }
    Ok(())
}

/// Direct convolutions and their gradients (rtol 1e-5), channel sums (1e-4), and the matmul
/// form's pieces (im2col and the row copies exact, col2im 1e-6), on odd shapes with stride 2 and
/// padding.
pub fn conv(gpu: &Gpu, quick: bool, r: &mut FamilyResult) -> Result<(), GpuError> {
    let shapes: Vec<ConvShape> = {
        let s = |batch, in_ch, out_ch, h, w, k, stride, pad| ConvShape {
            batch,
            in_ch,
            out_ch,
            h,
            w,
            k_h: k,
            k_w: k,
            stride,
            pad,
        };
        let mut v = vec![s(3, 3, 5, 9, 7, 3, 2, 1)];
        if !quick {
            v.extend([s(2, 1, 4, 8, 8, 4, 2, 1), s(1, 2, 3, 5, 6, 1, 1, 0)]);
        }
        v
    };
    for (si, s) in shapes.into_iter().enumerate() {
        let seed = 2100 + si as u64 * 10;
        let (xl, yl, wl) = (s.input_len(), s.output_len(), s.weight_len());
        let mut g = Graph::default();
        let x = g.f32_from("x", &inputs(seed, xl, -1.0, 1.0));
        let w = g.f32_from("w", &inputs(seed + 1, wl, -0.5, 0.5));
        let b_out = g.f32_from("bias out", &inputs(seed + 2, s.out_ch, -0.5, 0.5));
        let b_in = g.f32_from("bias in", &inputs(seed + 3, s.in_ch, -0.5, 0.5));
        let dy = g.f32_from("dy", &inputs(seed + 4, yl, -1.0, 1.0));
        let y = poisoned(&mut g, "y", yl);
        let dx = poisoned(&mut g, "dx", xl);
        let dw = poisoned(&mut g, "dw", wl);
        let cs = poisoned(&mut g, "channel sums", s.out_ch);
        let cols = poisoned(&mut g, "cols", s.cols_len());
        let cols_in = g.f32_from("cols in", &inputs(seed + 5, s.cols_len(), -1.0, 1.0));
        let back = poisoned(&mut g, "col2im", xl);
        let hw = s.out_h() * s.out_w();
        let rows = poisoned(&mut g, "rows", yl);
        let again = poisoned(&mut g, "rows back", yl);
        let ops = vec![
            Op::Conv2d {
                shape: s,
                x: x.into(),
                w: w.into(),
                bias: Some(b_out.into()),
                y: y.into(),
            },
            Op::Conv2dInputGrad {
                shape: s,
                dy: dy.into(),
                w: w.into(),
                bias: Some(b_in.into()),
                dx: dx.into(),
            },
            Op::Conv2dWeightGrad {
                shape: s,
                dy: dy.into(),
                x: x.into(),
                dw: dw.into(),
            },
            Op::ChannelSum {
                batch: s.batch,
                channels: s.out_ch,
                hw,
                v: dy.into(),
                out: cs.into(),
            },
            Op::Im2col {
                shape: s,
                x: x.into(),
                cols: cols.into(),
            },
            Op::Col2im {
                shape: s,
                cols: cols_in.into(),
                bias: Some(b_in.into()),
                x: back.into(),
            },
            Op::Rows {
                back: false,
                batch: s.batch,
                channels: s.out_ch,
                hw,
                a: dy.into(),
                out: rows.into(),
            },
            Op::Rows {
                back: true,
                batch: s.batch,
                channels: s.out_ch,
                hw,
                a: rows.into(),
                out: again.into(),
            },
        ];
        let case = GraphCase {
            what: format!("{s:?}"),
            graph: g,
            ops,
            outputs: vec![
                ("conv2d_forward", y, 1e-5, 1e-5),
                ("conv2d_input_grad", dx, 1e-5, 1e-5),
                ("conv2d_weight_grad", dw, 1e-5, 1e-5),
                ("channel_sum", cs, 1e-4, 1e-4),
                ("im2col", cols, 0.0, 0.0),
                ("col2im", back, 1e-6, 1e-6),
                ("to_rows", rows, 0.0, 0.0),
                ("from_rows", again, 0.0, 0.0),
            ],
        };
        graph_case(gpu, r, case)?;
    }
    Ok(())
}

/// Spectral normalisation's power iteration, W / sigma and sigma (rtol 1e-4: sums over a row or
/// column), and its backward, on both sides of 256 rows and columns when not quick.
pub fn spectral(gpu: &Gpu, quick: bool, r: &mut FamilyResult) -> Result<(), GpuError> {
    let shapes: &[(usize, usize)] = if quick {
        &[(7, 5)]
    } else {
        &[(7, 5), (300, 3), (2, 259)]
    };
    for &(rows, cols) in shapes {
        let seed = 2600 + (rows * 1000 + cols) as u64;
        let spec = SpectralSpec {
            rows,
            cols,
            w_off: 0,
            uv_off: 0,
            sigma_slot: 0,
            update: true,
            eps: 1e-12,
        };
        let mut u = inputs(seed, rows, -1.0, 1.0);
        let norm = u.iter().map(|x| x * x).sum::<f32>().sqrt();
        u.iter_mut().for_each(|x| *x /= norm);
        u.extend(vec![0.0; cols]);
        let mut g = Graph::default();
        let w = g.f32_from("w", &inputs(seed + 1, rows * cols + rows, -1.0, 1.0));
        let w_sn = poisoned(&mut g, "w_sn", rows * cols + rows);
        let uv = g.f32_from("uv", &u);
        let sigma = poisoned(&mut g, "sigma", 1);
        let grad = g.f32_from("grad", &inputs(seed + 2, rows * cols + rows, -1.0, 1.0));
        let ops = vec![
            Op::SpectralNorm {
                spec,
                w,
                w_sn,
                uv,
                sigma,
            },
            Op::SpectralNormBackward {
                spec,
                w_sn,
                uv,
                sigma,
                grad,
            },
        ];
        let case = GraphCase {
            what: format!("{rows}x{cols}"),
            graph: g,
            ops,
            outputs: vec![
                ("u, v", uv, 1e-4, 1e-5),
                ("sigma", sigma, 1e-4, 1e-5),
                ("W / sigma", w_sn, 1e-4, 1e-5),
                ("backward", grad, 1e-4, 1e-5),
            ],
        };
        graph_case(gpu, r, case)?;
    }
    Ok(())
}

/// The ceilings' kernels of `bench peak`: the FMA chains (rtol 1e-5: fused or not), the copy
/// exact, and the empty dispatch.
pub fn peak(gpu: &Gpu, quick: bool, r: &mut FamilyResult) -> Result<(), GpuError> {
    use crate::kernels::peak::{Peak, FMA_A, FMA_B};
    let peak = Peak::new(gpu)?;
    for &n in sizes(quick) {
        let src = inputs(n as u64, 4 * n, -2.0, 2.0);
        let sb = gpu.buffer_from("src", &src)?;
        let db = gpu.buffer_from("dst", &vec![NAN; 4 * n])?;
        let d = peak.fma(gpu, &sb, &db, n, 37)?;
        r.cover(d.name);
        gpu.run(&[d])?;
        let mut want = vec![NAN; 4 * n];
        crate::cpu::peak::fma_peak(n, 37, FMA_A, FMA_B, &src, &mut want);
        r.close(
            &format!("fma_peak n={n}"),
            &gpu.read(&db)?,
            &want,
            1e-5,
            1e-5,
        );
        let d = peak.copy(gpu, &sb, &db, n)?;
        r.cover(d.name);
        gpu.run(&[d])?;
        r.close(&format!("copy_peak n={n}"), &gpu.read(&db)?, &src, 0.0, 0.0);
        let before: Vec<f32> = gpu.read(&db)?;
        let d = peak.empty(gpu, &db)?;
        r.cover(d.name);
        gpu.run(&[d])?;
        r.close("empty (writes nothing)", &gpu.read(&db)?, &before, 0.0, 0.0);
    }
    Ok(())
}

/// A conditional GAN's class embeddings: G's input cat(E[y], z) (exact) and its table gradient,
/// the projection discriminator's class term, its input and table gradients (sums in row order:
/// rtol 1e-5), on odd shapes with repeated and missing classes.
pub fn embedding(gpu: &Gpu, quick: bool, r: &mut FamilyResult) -> Result<(), GpuError> {
    let shapes: &[(usize, usize, usize)] = if quick {
        &[(17, 5, 7)]
    } else {
        &[(1, 1, 1), (17, 5, 7), (65, 10, 33)]
    };
    for &(rows, classes, dim) in shapes {
        let z_dim = 3;
        let spec = EmbedSpec {
            rows,
            classes,
            dim,
            z_dim,
        };
        let seed = 3100 + (rows * 100 + dim) as u64;
        let mut g = Graph::default();
        // Class classes - 1 never appears (its gradient rows stay 0).
        let labels: Vec<u32> = (0..rows)
            .map(|i| (i * 3 % classes.max(2).saturating_sub(1).max(1)) as u32)
            .collect();
        let labels = g.u32_from("labels", &labels);
        let table = g.f32_from("table", &inputs(seed, classes * dim, -1.0, 1.0));
        let z = g.f32_from("z", &inputs(seed + 1, rows * z_dim, -1.0, 1.0));
        let g_in = poisoned(&mut g, "g input", rows * (dim + z_dim));
        let dx = g.f32_from("dx", &inputs(seed + 2, rows * (dim + z_dim), -1.0, 1.0));
        let dtable = poisoned(&mut g, "dtable", classes * dim);
        let phi = g.f32_from("phi", &inputs(seed + 3, rows * dim, -1.0, 1.0));
        let logits = g.f32_from("logits", &inputs(seed + 4, rows, -1.0, 1.0));
        let dlogit = g.f32_from("dlogit", &inputs(seed + 5, rows, -1.0, 1.0));
        let h = g.f32_from("h", &inputs(seed + 6, rows * dim, -1.0, 1.0));
        let dphi = g.f32_from("dphi", &inputs(seed + 7, rows * dim, -1.0, 1.0));
        let dtable_p = poisoned(&mut g, "dtable projection", classes * dim);
        let ops = vec![
            Op::EmbedConcat {
                spec,
                table: table.into(),
                labels: labels.into(),
                z: z.into(),
                out: g_in.into(),
            },
            Op::EmbedBackward {
                spec,
                dx: dx.into(),
                labels: labels.into(),
                dtable: dtable.into(),
            },
            Op::ProjectionForward {
                spec,
                table: table.into(),
                labels: labels.into(),
                phi: phi.into(),
                logits: logits.into(),
            },
            Op::ProjectionBackwardInput {
                spec,
                act: Activation::LeakyRelu(0.2),
                table: table.into(),
                labels: labels.into(),
                dlogit: dlogit.into(),
                h: h.into(),
                dphi: dphi.into(),
            },
            Op::ProjectionBackwardTable {
                spec,
                labels: labels.into(),
                dlogit: dlogit.into(),
                phi: phi.into(),
                dtable: dtable_p.into(),
            },
        ];
        let case = GraphCase {
            what: format!("{rows} rows, {classes} classes, dim {dim}"),
            graph: g,
            ops,
            outputs: vec![
                ("embed_concat", g_in, 0.0, 0.0),
                ("embed_backward", dtable, 1e-5, 1e-6),
                ("projection_forward", logits, 1e-5, 1e-6),
                ("projection_backward_input", dphi, 1e-5, 1e-6),
                ("projection_backward_table", dtable_p, 1e-5, 1e-6),
            ],
        };
        graph_case(gpu, r, case)?;
    }
    Ok(())
}
