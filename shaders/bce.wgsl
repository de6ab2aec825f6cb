// bce.wgsl: the GAN's losses on D's logits: binary cross-entropy (the paper's), and the terms of
// the hinge loss and the least-squares loss, chosen per launch by `term` (ops.rs, LossTerm).
//   term 0, bce:     l_i = max(x_i, 0) - x_i y_i + log1p(exp(-|x_i|))   (= -y log s(x) - (1-y) log(1-s(x)))
//                    dl/dx = sigmoid(x_i) - y_i
//   term 1, hinge:   l_i = max(0, 1 - t_i x_i), t_i = 2 y_i - 1 (so relu(1 - x) for y = 1,
//                    relu(1 + x) for y = 0; Lim and Ye 2017, Miyato et al. 2018); dl/dx = -t_i or 0
//   term 2, linear:  l_i = -t_i x_i (the hinge loss's generator: -D(G(z)) for y = 1); dl/dx = -t_i
//   term 3, square:  l_i = (x_i - y_i)^2 / 2 (LSGAN, Mao et al. 2017, on raw logits); dl/dx = x_i - y_i
//   bce_with_logits:          metrics[off]   (+)= scale * mean_i l_i
//                             metrics[off+1] (+)= mean of r(x_i) over rows [0, split)
//                             metrics[off+2] (+)= mean of r(x_i) over rows [split, n)
//                             with r = sigmoid for bce (D's probability), r(x) = x for the others
//   bce_with_logits_backward: grad[i] = scale * dl/dx_i / n
// Targets come per row, so one dispatch scores [real; fake] with targets 1 and 0 (or 0.9 for
// label smoothing). `scale` = -1 turns the loss into log(1 - D(G(z))) for the minimax generator
// loss (target 0). `accumulate` = 1 adds to the metrics instead of overwriting, so a logging
// interval's values are summed on the GPU and read back once.
// Bindings: 0 params, 1 logits x, 2 targets y, 3 grad (backward), 4 metrics.
// Workgroups: the loss is one workgroup of 256 lanes, each summing a strided slice in a fixed
// order, then a tree in workgroup memory: deterministic, no atomics. Batches are at most a few
// thousand rows, so one workgroup is enough. The backward is elementwise, 256 lanes per group.

struct Params {
    n: u32,
    split: u32,
    scale: f32,
    metrics_off: u32,
    accumulate: u32,
    term: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> metrics: array<f32>;

var<workgroup> red_loss: array<f32, 256>;
var<workgroup> red_s0: array<f32, 256>;
var<workgroup> red_s1: array<f32, 256>;

// log(1 + t) accurate for small t (WGSL has no log1p): the rounding error of 1 + t is undone by
// rescaling with the exact t / (u - 1).
fn log1p_accurate(t: f32) -> f32 {
    let u = 1.0 + t;
    if (u == 1.0) {
        return t;
    }
    return log(u) * t / (u - 1.0);
}

fn bce_term(xi: f32, yi: f32) -> f32 {
    return max(xi, 0.0) - xi * yi + log1p_accurate(exp(-abs(xi)));
}

fn loss_term(xi: f32, yi: f32) -> f32 {
    let t = 2.0 * yi - 1.0;
    switch p.term {
        case 1u: { return max(0.0, 1.0 - t * xi); }
        case 2u: { return -t * xi; }
        case 3u: { return 0.5 * (xi - yi) * (xi - yi); }
        default: { return bce_term(xi, yi); }
    }
}

fn loss_grad(xi: f32, yi: f32) -> f32 {
    let t = 2.0 * yi - 1.0;
    switch p.term {
        case 1u: { return select(0.0, -t, 1.0 - t * xi > 0.0); }
        case 2u: { return -t; }
        case 3u: { return xi - yi; }
        default: { return sigmoid_stable(xi) - yi; }
    }
}

// What the metrics report of one logit: D's probability for bce, the raw output otherwise.
fn readout(xi: f32) -> f32 {
    return select(xi, sigmoid_stable(xi), p.term == 0u);
}

@compute @workgroup_size(256)
fn bce_with_logits(@builtin(local_invocation_index) lid: u32) {
    var loss = 0.0;
    var s0 = 0.0;
    var s1 = 0.0;
    for (var i = lid; i < p.n; i += 256u) {
        loss += loss_term(x[i], y[i]);
        let s = readout(x[i]);
        if (i < p.split) {
            s0 += s;
        } else {
            s1 += s;
        }
    }
    red_loss[lid] = loss;
    red_s0[lid] = s0;
    red_s1[lid] = s1;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if (lid < stride) {
            red_loss[lid] += red_loss[lid + stride];
            red_s0[lid] += red_s0[lid + stride];
            red_s1[lid] += red_s1[lid + stride];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        let n0 = min(p.split, p.n);
        let n1 = p.n - n0;
        let l = p.scale * red_loss[0] / f32(p.n);
        let m0 = select(0.0, red_s0[0] / f32(n0), n0 > 0u);
        let m1 = select(0.0, red_s1[0] / f32(n1), n1 > 0u);
        let o = p.metrics_off;
        if (p.accumulate == 1u) {
            metrics[o] += l;
            metrics[o + 1u] += m0;
            metrics[o + 2u] += m1;
        } else {
            metrics[o] = l;
            metrics[o + 1u] = m0;
            metrics[o + 2u] = m1;
        }
    }
}

@compute @workgroup_size(256)
fn bce_with_logits_backward(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) w: vec3<u32>) {
    let i = flat_index(g, w, 256u);
    if (i < p.n) {
        grad[i] = p.scale * loss_grad(x[i], y[i]) / f32(p.n);
    }
}
