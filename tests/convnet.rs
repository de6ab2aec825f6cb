//! Convolutional networks as op lists (graph/convnet.rs): shapes and the PyTorch parameter
//! layout, the whole backward of a small generator and discriminator of DCGAN's shape against
//! finite differences of the forward (CPU executor; h = 2^-8, rtol 1e-2 / atol 2e-4 as
//! tests/gradcheck.rs), and the GPU plan against the CPU executor on the same lists (rtol 1e-4 /
//! atol 1e-4, as tests/executor_layers.rs).
mod common;
use common::*;
use shadergan::graph::convnet::{Block, ConvNetSpec, ConvNetTensors};
use shadergan::graph::cpu::CpuPlan;
use shadergan::graph::gpu::GpuPlan;
use shadergan::graph::{Graph, Op};
use shadergan::ops::Activation;

/// G: z 3 -> Linear(3, 4*2*2) -> BN1d -> ReLU -> Unflatten(4, 2, 2) -> ConvT(4, 3, k4 s2 p1)
/// -> BN2d -> ReLU -> ConvT(3, 1, k4 s2 p1) -> Tanh: 1 x 8 x 8.
fn small_g() -> ConvNetSpec {
    ConvNetSpec {
        input: [3, 1, 1],
        blocks: vec![
            Block::Linear {
                out: 16,
                bias: true,
            },
            Block::BatchNorm,
            Block::Act(Activation::Relu),
            Block::Unflatten { c: 4, h: 2, w: 2 },
            Block::ConvTranspose2d {
                out_ch: 3,
                k: 4,
                stride: 2,
                pad: 1,
                bias: false,
            },
            Block::BatchNorm,
            Block::Act(Activation::Relu),
            Block::ConvTranspose2d {
                out_ch: 1,
                k: 4,
                stride: 2,
                pad: 1,
                bias: true,
            },
            Block::Act(Activation::Tanh),
        ],
    }
}

/// D: 1 x 8 x 8 -> Conv(1, 3, k4 s2 p1) -> LeakyReLU -> Conv(3, 5, k4 s2 p1) -> BN2d ->
/// LeakyReLU -> Flatten -> Linear(5*2*2, 1).
fn small_d() -> ConvNetSpec {
    ConvNetSpec {
        input: [1, 8, 8],
        blocks: vec![
            Block::Conv2d {
                out_ch: 3,
                k: 4,
                stride: 2,
                pad: 1,
                bias: true,
            },
            Block::Act(Activation::LeakyRelu(0.2)),
            Block::Conv2d {
                out_ch: 5,
                k: 4,
                stride: 2,
                pad: 1,
                bias: true,
            },
            Block::BatchNorm,
            Block::Act(Activation::LeakyRelu(0.2)),
            Block::Flatten,
            Block::Linear { out: 1, bias: true },
        ],
    }
}

#[test]
fn shapes_and_pytorch_parameter_layout() {
    let g = small_g();
    assert_eq!(g.output_shape().unwrap(), [1, 8, 8]);
    let plans = g.plan().unwrap();
    // nn.Sequential order: 0.weight [16, 3], 0.bias [16], 1.weight [16], 1.bias [16],
    // 4.weight [4, 3, 4, 4] (ConvTranspose2d: [in, out, kh, kw]), 5.weight [3], ...
    assert_eq!((plans[0].w_len, plans[0].b_len), (48, 16));
    assert_eq!(
        (plans[1].w_off, plans[1].w_len, plans[1].b_len),
        (64, 16, 16)
    );
    // ConvTranspose2d without bias (a batch norm follows): no 4.bias.
    assert_eq!(
        (plans[4].w_off, plans[4].w_len, plans[4].b_len),
        (96, 4 * 3 * 16, 0)
    );
    assert_eq!(plans[5].w_off, 96 + 4 * 3 * 16);
    assert_eq!(g.buffer_count().unwrap(), 2 * 16 + 2 * 3);
    assert_eq!(small_d().output_shape().unwrap(), [1, 1, 1]);
    // A block that does not fit is named.
    let bad = ConvNetSpec {
        input: [1, 2, 2],
        blocks: vec![Block::Conv2d {
            out_ch: 1,
            k: 5,
            stride: 1,
            pad: 0,
            bias: true,
        }],
    };
    assert!(bad.plan().unwrap_err().to_string().contains("block 0"));
}

fn lcg(seed: u32, n: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2654435761).wrapping_add(11);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1664525).wrapping_add(1013904223);
            (s >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
        })
        .collect()
}

/// One network's training forward and backward for `rows` rows of random input.
struct Case {
    graph: Graph,
    net: ConvNetTensors,
    x: usize,
    dx: usize,
    ops: Vec<shadergan::graph::Op>,
    fwd: Vec<shadergan::graph::Op>,
    dout0: Vec<f32>,
    x0: Vec<f32>,
    params: Vec<f32>,
}

fn case(spec: &ConvNetSpec, rows: usize, scale: f32) -> Case {
    case_with(spec, rows, scale, false, true)
}

/// [`case`] with the convolutions by the direct kernels when `direct`, and batch norms and
/// Conv2d layers taking the next activation into their passes when `fuse` (the default).
fn case_with(spec: &ConvNetSpec, rows: usize, scale: f32, direct: bool, fuse: bool) -> Case {
    let in_len: usize = spec.input.iter().product();
    let out_len: usize = spec.output_shape().unwrap().iter().product();
    let params: Vec<f32> = lcg(1, spec.param_count().unwrap())
        .iter()
        .map(|v| v * scale)
        .collect();
    let x0 = lcg(2, rows * in_len);
    let dout0 = lcg(3, rows * out_len);
    let mut graph = Graph::default();
    let x = graph.f32_from("x", &x0);
    let dout = graph.f32_from("dout", &dout0);
    let dx = graph.f32("dx", rows * in_len);
    let running = spec.init_buffers().unwrap();
    let mut net = ConvNetTensors::new(&mut graph, "net", spec, &params, &running, rows).unwrap();
    if direct || !fuse {
        net.set_forms(&mut graph, "net", direct, fuse);
    }
    let fwd = net.forward(x.into(), rows, None, true);
    let mut ops = fwd.clone();
    ops.extend(net.backward(x.into(), rows, None, dout, true, Some(dx)));
    Case {
        graph,
        net,
        x,
        dx,
        ops,
        fwd,
        dout0,
        x0,
        params,
    }
}

#[test]
fn whole_network_backward_matches_finite_differences() {
    const H: f32 = 1.0 / 256.0;
    // Tanh in place of ReLU and LeakyReLU: a finite difference straddling a kink (which batch
    // norm's outputs near 0 make likely) is not a derivative; the ReLU backwards have their own
    // checks in tests/gradcheck.rs, and the GPU test below runs the real networks.
    let smooth = |mut spec: ConvNetSpec| {
        for b in &mut spec.blocks {
            if let Block::Act(a) = b {
                *a = Activation::Tanh;
            }
        }
        spec
    };
    for (spec, scale) in [(smooth(small_g()), 0.5), (smooth(small_d()), 0.5)] {
        let c = case(&spec, 3, scale);
        let mut cpu = CpuPlan::new(&c.graph);
        cpu.run(&c.ops);
        let grads = cpu.tensors[c.net.grads].f32().to_vec();
        let dx = cpu.tensors[c.dx].f32().to_vec();
        let y = c.net.output_view(None).t;
        let loss = |p: &[f32], xin: &[f32]| -> f64 {
            let mut k = CpuPlan::new(&c.graph);
            k.tensors[c.net.params].f32_mut().copy_from_slice(p);
            k.tensors[c.x].f32_mut().copy_from_slice(xin);
            k.run(&c.fwd);
            k.tensors[y]
                .f32()
                .iter()
                .zip(&c.dout0)
                .map(|(a, b)| *a as f64 * *b as f64)
                .sum()
        };
        let close = |what: String, a: f64, n: f64| {
            let tol = (1e-2 * a.abs().max(n.abs())).max(2e-4);
            assert!(
                (a - n).abs() <= tol,
                "{what}: analytic {a:e} vs finite difference {n:e}"
            );
        };
        for i in 0..c.params.len() {
            let (mut pp, mut pm) = (c.params.clone(), c.params.clone());
            pp[i] += H;
            pm[i] -= H;
            let num = (loss(&pp, &c.x0) - loss(&pm, &c.x0)) / (2.0 * H as f64);
            close(
                format!("{:?} dparam[{i}]", spec.blocks),
                grads[i] as f64,
                num,
            );
        }
        for i in (0..c.x0.len()).step_by(3) {
            let (mut xp, mut xm) = (c.x0.clone(), c.x0.clone());
            xp[i] += H;
            xm[i] -= H;
            let num = (loss(&c.params, &xp) - loss(&c.params, &xm)) / (2.0 * H as f64);
            close(format!("dx[{i}]"), dx[i] as f64, num);
        }
    }
}

#[test]
fn gpu_plan_matches_cpu_executor() {
    let g = gpu();
    for spec in [small_g(), small_d()] {
        let mut c = case(&spec, 5, 1.0);
        // The eval-mode forward (pictures) after the training step, on its own workspace.
        let eval = c.net.with_workspace(&mut c.graph, "eval", 5);
        let mut ops = c.ops.clone();
        ops.extend(eval.forward(c.x.into(), 5, None, false));
        let plan = GpuPlan::new(g, &c.graph).unwrap();
        for t in [c.net.grads, c.dx] {
            plan.write_f32(g, t, &vec![f32::NAN; c.graph.tensors[t].len]);
        }
        let d = plan.compile(g, &ops).unwrap();
        plan.run(g, &[&d], 1).unwrap();
        let mut cpu = CpuPlan::new(&c.graph);
        cpu.run(&ops);
        for (what, t) in [
            ("output", c.net.output_view(None).t),
            ("parameter gradients", c.net.grads),
            ("input gradient", c.dx),
            ("running statistics", c.net.running),
            ("eval-mode output", eval.output_view(None).t),
        ] {
            assert_close(
                &format!("{what} of {:?}", spec.blocks),
                &plan.read_f32(g, t).unwrap(),
                cpu.tensors[t].f32(),
                1e-4,
                1e-4,
            );
        }
    }
}

/// The matmul form (graph/conv_gemm.rs, the default) and the direct kernels give the same
/// training forward and backward (CPU executor; the sums run in other orders: rtol/atol 1e-5).
#[test]
fn matmul_form_matches_direct_kernels() {
    for spec in [small_g(), small_d()] {
        let run = |direct: bool| {
            let c = case_with(&spec, 3, 1.0, direct, true);
            let mut cpu = CpuPlan::new(&c.graph);
            cpu.run(&c.ops);
            let y = c.net.output_view(None).t;
            [y, c.net.grads, c.dx, c.net.running].map(|t| cpu.tensors[t].f32().to_vec())
        };
        let (gemm, direct) = (run(false), run(true));
        for (what, (a, b)) in ["output", "parameter gradients", "input gradient", "running"]
            .iter()
            .zip(gemm.iter().zip(&direct))
        {
            assert_close(&format!("{what} of {:?}", spec.blocks), a, b, 1e-5, 1e-5);
        }
    }
}

/// Activations in the passes of the batch norm or the convolution before them (the default)
/// and every activation as its own passes give the same training forward, backward and eval
/// forward: the same bits on the CPU executor (the fused forms compute act(y) and act'(act(y))
/// from the same y), and on the GPU within rtol/atol 1e-6 (a driver may contract y's
/// multiply-add into an fma in one kernel and not in the other; on lavapipe they agree). Both
/// networks have batch norms followed by ReLU and LeakyReLU, G's first one a BatchNorm1d (the
/// one-lane-per-channel reductions), and D a Conv2d followed by LeakyReLU.
#[test]
fn fused_activations_match_separate_passes() {
    let g = gpu();
    for spec in [small_g(), small_d()] {
        let run = |fuse: bool| {
            let mut c = case_with(&spec, 5, 1.0, false, fuse);
            let fused = c
                .ops
                .iter()
                .filter(|op| matches!(op, Op::ActForward { .. } | Op::ActBackward { .. }))
                .count();
            let eval = c.net.with_workspace(&mut c.graph, "eval", 5);
            let mut ops = c.ops.clone();
            ops.extend(eval.forward(c.x.into(), 5, None, false));
            let outs = [
                c.net.output_view(None).t,
                c.net.grads,
                c.dx,
                c.net.running,
                eval.output_view(None).t,
            ];
            let mut cpu = CpuPlan::new(&c.graph);
            cpu.run(&ops);
            let on_cpu = outs.map(|t| cpu.tensors[t].f32().to_vec());
            let plan = GpuPlan::new(g, &c.graph).unwrap();
            for t in [c.net.grads, c.dx] {
                plan.write_f32(g, t, &vec![f32::NAN; c.graph.tensors[t].len]);
            }
            let d = plan.compile(g, &ops).unwrap();
            plan.run(g, &[&d], 1).unwrap();
            let on_gpu = outs.map(|t| plan.read_f32(g, t).unwrap());
            (fused, on_cpu, on_gpu)
        };
        let ((n_fused, cpu_f, gpu_f), (n_sep, cpu_s, gpu_s)) = (run(true), run(false));
        // Every activation after a batch norm leaves the op list, its forward and its backward
        // pass, and one after a Conv2d its forward pass (G's Tanh, after a transposed
        // convolution, stays): 2 x 2 in G, 2 x 1 + 1 in D.
        let pairs = |first: fn(&Block) -> bool| {
            spec.blocks
                .windows(2)
                .filter(|w| first(&w[0]) && matches!(w[1], Block::Act(_)))
                .count()
        };
        let bn = pairs(|b| *b == Block::BatchNorm);
        let conv = pairs(|b| matches!(b, Block::Conv2d { .. }));
        assert!(bn >= 1);
        assert_eq!(
            n_sep - n_fused,
            2 * bn + conv,
            "activation passes removed in {:?}",
            spec.blocks
        );
        let names = [
            "output",
            "parameter gradients",
            "input gradient",
            "running",
            "eval output",
        ];
        for (i, what) in names.iter().enumerate() {
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&cpu_f[i]),
                bits(&cpu_s[i]),
                "CPU executor: {what} of {:?}",
                spec.blocks
            );
            assert_close(
                &format!("GPU: {what} of {:?}", spec.blocks),
                &gpu_f[i],
                &gpu_s[i],
                1e-6,
                1e-6,
            );
        }
    }
}

/// A forward-only workspace runs convolutions in chunks of images when the scratch for all of
/// them would be large; chunks of 2 give the same bits as one pass over 5 images.
#[test]
fn forward_in_chunks_matches_one_pass() {
    use shadergan::graph::conv_gemm;
    use shadergan::ops::ConvShape;
    let s = ConvShape {
        batch: 5,
        in_ch: 3,
        out_ch: 4,
        h: 7,
        w: 6,
        k_h: 3,
        k_w: 3,
        stride: 2,
        pad: 1,
    };
    let mut g = Graph::default();
    let x = g.f32_from("x", &lcg(4, s.input_len()));
    let dy = g.f32_from("dy", &lcg(5, s.output_len()));
    let w = g.f32_from("w", &lcg(6, s.weight_len()));
    let bias_o = g.f32_from("bias_o", &lcg(7, s.out_ch));
    let bias_c = g.f32_from("bias_c", &lcg(8, s.in_ch));
    let [y1, y2] = ["y1", "y2"].map(|n| g.f32(n, s.output_len()));
    let [t1, t2] = ["t1", "t2"].map(|n| g.f32(n, s.input_len()));
    let whole = conv_gemm::scratch(&mut g, "whole", &s, 5);
    let chunked = conv_gemm::scratch(&mut g, "chunked", &s, 2);
    let mut ops = Vec::new();
    for (sc, y, t) in [(&whole, y1, t1), (&chunked, y2, t2)] {
        let (b_o, b_c) = (Some(bias_o.into()), Some(bias_c.into()));
        ops.extend(conv_gemm::conv_forward(
            s,
            x.into(),
            w.into(),
            (b_o, Activation::Identity),
            y.into(),
            sc,
        ));
        ops.extend(conv_gemm::convt_forward(
            s,
            dy.into(),
            w.into(),
            b_c,
            t.into(),
            sc,
        ));
    }
    let mut cpu = CpuPlan::new(&g);
    cpu.run(&ops);
    assert_eq!(cpu.tensors[y1].f32(), cpu.tensors[y2].f32(), "Conv2d");
    assert_eq!(
        cpu.tensors[t1].f32(),
        cpu.tensors[t2].f32(),
        "ConvTranspose2d"
    );
    assert!(cpu.tensors[y1]
        .f32()
        .iter()
        .all(|v| v.is_finite() && *v != 0.0));
}

/// D's batch norms in groups of m rows: one pass over [real; generated] is two independent
/// passes, one per half (PyTorch DCGAN's two D calls): outputs and input gradients per half,
/// parameter gradients summed, running statistics updated by the first half, then the second.
#[test]
fn batch_norm_groups_normalise_each_half_on_its_own() {
    let spec = small_d();
    let (m, in_len) = (3, 64);
    let params = lcg(1, spec.param_count().unwrap());
    let (x0, dout0) = (lcg(2, 2 * m * in_len), lcg(3, 2 * m));
    let running0 = spec.init_buffers().unwrap();
    // (output, parameter gradients, input gradient, running statistics) over `rows` rows.
    let pass = |x0: &[f32], dout0: &[f32], running: &[f32], rows: usize, groups: bool| {
        let mut g = Graph::default();
        let x = g.f32_from("x", x0);
        let dout = g.f32_from("dout", dout0);
        let dx = g.f32("dx", rows * in_len);
        let mut net = ConvNetTensors::new(&mut g, "d", &spec, &params, running, rows).unwrap();
        if groups {
            net.bn_group_rows = Some(m);
        }
        let mut ops = net.forward(x.into(), rows, None, true);
        ops.extend(net.backward(x.into(), rows, None, dout, true, Some(dx)));
        let mut cpu = CpuPlan::new(&g);
        cpu.run(&ops);
        let y = net.output_view(None).t;
        [y, net.grads, dx, net.running].map(|t| cpu.tensors[t].f32().to_vec())
    };
    let both = pass(&x0, &dout0, &running0, 2 * m, true);
    let a = pass(&x0[..m * in_len], &dout0[..m], &running0, m, false);
    let b = pass(&x0[m * in_len..], &dout0[m..], &a[3], m, false);
    let cat = |i: usize| [a[i].clone(), b[i].clone()].concat();
    assert_close("output", &both[0], &cat(0), 1e-6, 1e-6);
    assert_close("input gradient", &both[2], &cat(2), 1e-6, 1e-6);
    let sum: Vec<f32> = a[1].iter().zip(&b[1]).map(|(u, v)| u + v).collect();
    assert_close("parameter gradients", &both[1], &sum, 1e-5, 1e-6);
    assert_close("running statistics", &both[3], &b[3], 1e-6, 1e-6);
    // Statistics over the mixed batch would differ: the check above can fail.
    let mixed = pass(&x0, &dout0, &running0, 2 * m, false);
    assert!(mixed[0]
        .iter()
        .zip(&both[0])
        .any(|(u, v)| (u - v).abs() > 1e-3));
}
