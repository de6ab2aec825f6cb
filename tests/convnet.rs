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
use shadergan::graph::Graph;
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
    let net = ConvNetTensors::new(&mut graph, "net", spec, &params, &running, rows).unwrap();
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
