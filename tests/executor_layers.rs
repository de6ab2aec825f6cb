//! The GPU plan against the CPU executor on the convolutional layer ops: a DCGAN-style block
//! (Conv2d -> BatchNorm2d in training mode with the running update -> LeakyReLU ->
//! ConvTranspose2d k4 s2 p1) forward and backward, weights and biases at offsets in one flat
//! parameter tensor and gradients in one flat gradient tensor, outputs poisoned with NaN.
//! Tolerance rtol 1e-4 / atol 1e-4: the batch-norm reductions are trees on the GPU and serial
//! loops on the CPU, and the backward carries those differences through two convolutions.
mod common;
use common::*;
use shadergan::graph::cpu::CpuPlan;
use shadergan::graph::gpu::GpuPlan;
use shadergan::graph::{Graph, Op, View};
use shadergan::ops::{Activation, BatchNormSpec, ConvShape};

#[test]
fn conv_batchnorm_block_forward_and_backward_match_cpu() {
    let g = gpu();
    let (b, c, h, w) = (3, 2, 9, 8);
    // nn.Conv2d(2, 5, 3, stride 2, padding 1): 9 x 8 -> 5 x 4.
    let conv = ConvShape {
        batch: b,
        in_ch: c,
        out_ch: 5,
        h,
        w,
        k_h: 3,
        k_w: 3,
        stride: 2,
        pad: 1,
    };
    let (oh, ow) = (conv.out_h(), conv.out_w());
    let bn = BatchNormSpec::new(b, 5, oh * ow);
    // nn.ConvTranspose2d(5, 3, 4, stride 2, padding 1): 5 x 4 -> 10 x 8.
    let up = ConvShape::transposed(b, 5, 3, (oh, ow), (4, 4), 2, 1).unwrap();
    let act = Activation::LeakyRelu(0.2);

    // Flat parameters: conv weight, conv bias, BN [gamma, beta], ConvT weight, ConvT bias.
    let offs = {
        let lens = [conv.weight_len(), 5, 10, up.weight_len(), 3];
        let mut o = vec![0];
        for l in lens {
            o.push(o.last().unwrap() + l);
        }
        o
    };
    let at = |t, i: usize| View { t, off: offs[i] };
    let mut gr = Graph::default();
    let params = gr.f32_from("params", &inputs(1, offs[5], -0.5, 0.5));
    let grads = gr.f32("grads", offs[5]);
    let x = gr.f32_from("x", &inputs(2, conv.input_len(), -1.0, 1.0));
    let y1 = gr.f32("y1", conv.output_len());
    let stats = gr.f32("stats", 10);
    let running = gr.f32_from(
        "running",
        &[0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    );
    let y2 = gr.f32("y2", bn.len());
    let y3 = gr.f32("y3", bn.len());
    let y4 = gr.f32("y4", up.input_len());
    let dout = gr.f32_from("dout", &inputs(3, up.input_len(), -1.0, 1.0));
    let d3 = gr.f32("d3", bn.len());
    let d2 = gr.f32("d2", bn.len());
    let d1 = gr.f32("d1", bn.len());
    let dx = gr.f32("dx", conv.input_len());

    let ops = vec![
        Op::Conv2d {
            shape: conv,
            x: x.into(),
            w: at(params, 0),
            bias: Some(at(params, 1)),
            y: y1.into(),
        },
        Op::BatchNormStats {
            spec: bn,
            x: y1.into(),
            stats: stats.into(),
            running: running.into(),
            update_running: true,
        },
        Op::BatchNormForward {
            spec: bn,
            x: y1.into(),
            affine: at(params, 2),
            stats: stats.into(),
            running: running.into(),
            use_running: false,
            y: y2.into(),
        },
        Op::ActForward {
            act,
            x: y2.into(),
            out: y3.into(),
            n: bn.len(),
        },
        Op::Conv2dInputGrad {
            shape: up,
            dy: y3.into(),
            w: at(params, 3),
            bias: Some(at(params, 4)),
            dx: y4.into(),
        },
        // Backward, in exactly the reverse order.
        Op::Conv2dWeightGrad {
            shape: up,
            dy: y3.into(),
            x: dout.into(),
            dw: at(grads, 3),
        },
        Op::ChannelSum {
            batch: b,
            channels: 3,
            hw: up.h * up.w,
            v: dout.into(),
            out: at(grads, 4),
        },
        Op::Conv2d {
            shape: up,
            x: dout.into(),
            w: at(params, 3),
            bias: None,
            y: d3.into(),
        },
        Op::ActBackward {
            act,
            y: y3.into(),
            dy: d3,
            out: d2,
            n: bn.len(),
        },
        Op::BatchNormBackwardParams {
            spec: bn,
            x: y1.into(),
            dy: d2.into(),
            affine: at(params, 2),
            stats: stats.into(),
            daffine: at(grads, 2),
        },
        Op::BatchNormBackwardInput {
            spec: bn,
            x: y1.into(),
            dy: d2.into(),
            affine: at(params, 2),
            stats: stats.into(),
            daffine: at(grads, 2),
            dx: d1.into(),
        },
        Op::Conv2dWeightGrad {
            shape: conv,
            dy: d1.into(),
            x: x.into(),
            dw: at(grads, 0),
        },
        Op::ChannelSum {
            batch: b,
            channels: 5,
            hw: oh * ow,
            v: d1.into(),
            out: at(grads, 1),
        },
        Op::Conv2dInputGrad {
            shape: conv,
            dy: d1.into(),
            w: at(params, 0),
            bias: None,
            dx: dx.into(),
        },
        // The eval-mode forward reads the running statistics just updated.
        Op::BatchNormForward {
            spec: bn,
            x: y1.into(),
            affine: at(params, 2),
            stats: stats.into(),
            running: running.into(),
            use_running: true,
            y: y2.into(),
        },
    ];
    let plan = GpuPlan::new(g, &gr).unwrap();
    for t in [grads, y1, stats, y2, y3, y4, d3, d2, d1, dx] {
        plan.write_f32(g, t, &vec![f32::NAN; gr.tensors[t].len]);
    }
    let d = plan.compile(g, &ops).unwrap();
    plan.run(g, &[&d], 1).unwrap();
    let mut cpu = CpuPlan::new(&gr);
    cpu.run(&ops);
    for (what, t) in [
        ("conv output", y1),
        ("running statistics", running),
        ("ConvTranspose2d output", y4),
        ("parameter gradients", grads),
        ("input gradient", dx),
        ("eval-mode batch norm", y2),
    ] {
        assert_close(
            what,
            &plan.read_f32(g, t).unwrap(),
            cpu.tensors[t].f32(),
            1e-4,
            1e-4,
        );
    }
}
