// batchnorm.wgsl: batch normalisation over channels (nn.BatchNorm1d/2d) for x [N, C, HW]
// (HW = 1 for a linear layer's features). With n = N HW values per channel:
//   batchnorm_stats:           mean = sum x / n; var = sum (x - mean)^2 / n (two passes);
//                              stats = [mean (C), 1/sqrt(var + eps) (C)]; with mode 1 also
//                              running = (1 - m) running + m [mean, var n / (n - 1)]
//   batchnorm_forward:         y = (x - mean) inv gamma + beta; mode 0 from stats (training),
//                              mode 1 from running = [mean, var] (eval, as model.eval())
//   batchnorm_backward_params: daffine = [sum dy xhat, sum dy] per channel, xhat = (x - mean) inv
//   batchnorm_backward_input:  dx = gamma inv / n (n dy - dbeta - xhat dgamma)
// With Params.act an activation (common.wgsl's codes; 0: none) that follows the layer is
// taken into the same passes: the forward writes act(y), and the two backward kernels read the
// gradient with respect to act(y) and multiply it by act'(y) as they read it (`dy_at`), y
// recomputed from x by the forward's own operations, so every value is what the separate
// activation.wgsl passes give. Measured on workload C (AMD EPYC, Zen 4): see
// docs/performance.md, "Batch norm and its activation in one pass".
// affine = [gamma, beta] (PyTorch's weight, bias) and daffine sit at offsets in a network's flat
// parameter and gradient buffers. The CPU twin is src/cpu/batchnorm.rs (serial sums; these are
// trees, so parity is to a tolerance).
// Bindings: 0 params, 1 x, 2 dy, 3 affine, 4 stats, 5 running, 6 daffine, 7 out (y or dx).
// Workgroup: 256 lanes; the reductions take one workgroup per channel (a channel's n values are
// strided over the lanes, then a tree), the elementwise kernels one element per lane. For
// n <= 256 (BatchNorm1d after a Linear layer: n = batch) the `_wide` reductions take one lane
// per channel and sum serially, in the CPU twin's order: a tree over 256 lanes for 64 values
// left most lanes idle (7% of workload C's iteration for G's 6,272 features on lavapipe).

struct Params {
    batch: u32,
    channels: u32,
    hw: u32,
    mode: u32,
    eps: f32,
    momentum: f32,
    x_off: u32,
    dy_off: u32,
    out_off: u32,
    affine_off: u32,
    daffine_off: u32,
    stats_off: u32,
    running_off: u32,
    act: u32,
    alpha: f32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> affine: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> running: array<f32>;
@group(0) @binding(6) var<storage, read_write> daffine: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;

var<workgroup> part_a: array<f32, 256>;
var<workgroup> part_b: array<f32, 256>;

// A walk over a channel's n values, the k-th being x[b, c, j] with (b, j) = (k / hw, k % hw),
// taking `step` values at a time without dividing at each step: lavapipe divides a vector of u32
// one lane at a time (only the walk's start, and the uniform step, divide here). Measured on
// workload C's shapes (AMD EPYC, Zen 4; the two builds in turn): the 256-lane trees 1.19-1.30x,
// the one-lane-per-channel sums 1.4-1.8x, against a division and a remainder per value. The
// values and their order are unchanged, so are the sums.
struct Walk {
    b: u32,
    j: u32,
    db: u32,
    dj: u32,
}

fn walk_from(k: u32, step: u32) -> Walk {
    return Walk(k / p.hw, k % p.hw, step / p.hw, step % p.hw);
}

fn walk_next(w: Walk) -> Walk {
    let j = w.j + w.dj;
    let wrap = j >= p.hw;
    return Walk(w.b + w.db + select(0u, 1u, wrap), select(j, j - p.hw, wrap), w.db, w.dj);
}

// Index of the walk's current value of channel c.
fn walk_at(c: u32, w: Walk) -> u32 {
    return (w.b * p.channels + c) * p.hw + w.j;
}

// The gradient with respect to the batch norm's own output y at element i: dy, or with a fused
// activation dy act'(y), y recomputed exactly as batchnorm_forward computes it from its channel's
// statistics and [gamma, beta] `ab` (read once per channel by the reductions).
fn dy_at(i: u32, mean: f32, inv: f32, ab: vec2<f32>) -> f32 {
    let d = dy[p.dy_off + i];
    if (p.act == 0u) {
        return d;
    }
    let y = (x[p.x_off + i] - mean) * inv * ab.x + ab.y;
    return d * act_grad(p.act, p.alpha, act_apply(p.act, p.alpha, y));
}

// Channel c's [gamma, beta] where an activation is fused (the backward kernels read them only
// then).
fn gamma_beta(c: u32) -> vec2<f32> {
    if (p.act == 0u) {
        return vec2<f32>(0.0);
    }
    return vec2<f32>(affine[p.affine_off + c], affine[p.affine_off + p.channels + c]);
}

fn reduce(lane: u32) {
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lane < s) {
            part_a[lane] += part_a[lane + s];
            part_b[lane] += part_b[lane + s];
        }
        workgroupBarrier();
    }
}

@compute @workgroup_size(256)
fn batchnorm_stats(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wg: vec3<u32>) {
    let c = wg.x;
    let n = p.batch * p.hw;
    var sum = 0.0;
    var w = walk_from(lane, 256u);
    for (var k = lane; k < n; k += 256u) {
        sum += x[p.x_off + walk_at(c, w)];
        w = walk_next(w);
    }
    part_a[lane] = sum;
    part_b[lane] = 0.0;
    workgroupBarrier();
    reduce(lane);
    let mean = part_a[0] / f32(n);
    workgroupBarrier();
    var sq = 0.0;
    w = walk_from(lane, 256u);
    for (var k = lane; k < n; k += 256u) {
        let d = x[p.x_off + walk_at(c, w)] - mean;
        sq += d * d;
        w = walk_next(w);
    }
    part_a[lane] = sq;
    workgroupBarrier();
    reduce(lane);
    if (lane == 0u) {
        let var_b = part_a[0] / f32(n);
        stats[p.stats_off + c] = mean;
        stats[p.stats_off + p.channels + c] = 1.0 / sqrt(var_b + p.eps);
        if (p.mode == 1u) {
            let m = p.momentum;
            let r = p.running_off;
            running[r + c] = (1.0 - m) * running[r + c] + m * mean;
            running[r + p.channels + c] = (1.0 - m) * running[r + p.channels + c]
                + m * part_a[0] / f32(n - 1u);
        }
    }
}

@compute @workgroup_size(256)
fn batchnorm_forward(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let i = flat_index(g, nw, 256u);
    if (i >= p.batch * p.channels * p.hw) {
        return;
    }
    let c = (i / p.hw) % p.channels;
    var mean: f32;
    var inv: f32;
    if (p.mode == 1u) {
        mean = running[p.running_off + c];
        inv = 1.0 / sqrt(running[p.running_off + p.channels + c] + p.eps);
    } else {
        mean = stats[p.stats_off + c];
        inv = stats[p.stats_off + p.channels + c];
    }
    let y = (x[p.x_off + i] - mean) * inv * affine[p.affine_off + c]
        + affine[p.affine_off + p.channels + c];
    out[p.out_off + i] = act_apply(p.act, p.alpha, y);
}

@compute @workgroup_size(256)
fn batchnorm_backward_params(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wg: vec3<u32>) {
    let c = wg.x;
    let n = p.batch * p.hw;
    let mean = stats[p.stats_off + c];
    let inv = stats[p.stats_off + p.channels + c];
    let ab = gamma_beta(c);
    var dg = 0.0;
    var db = 0.0;
    var w = walk_from(lane, 256u);
    for (var k = lane; k < n; k += 256u) {
        let i = walk_at(c, w);
        let d = dy_at(i, mean, inv, ab);
        dg += d * (x[p.x_off + i] - mean) * inv;
        db += d;
        w = walk_next(w);
    }
    part_a[lane] = dg;
    part_b[lane] = db;
    workgroupBarrier();
    reduce(lane);
    if (lane == 0u) {
        daffine[p.daffine_off + c] = part_a[0];
        daffine[p.daffine_off + p.channels + c] = part_b[0];
    }
}

@compute @workgroup_size(256)
fn batchnorm_backward_input(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let i = flat_index(g, nw, 256u);
    if (i >= p.batch * p.channels * p.hw) {
        return;
    }
    let c = (i / p.hw) % p.channels;
    let n = f32(p.batch * p.hw);
    let mean = stats[p.stats_off + c];
    let inv = stats[p.stats_off + p.channels + c];
    let xhat = (x[p.x_off + i] - mean) * inv;
    let dg = daffine[p.daffine_off + c];
    let db = daffine[p.daffine_off + p.channels + c];
    out[p.out_off + i] = affine[p.affine_off + c] * inv / n * (n * dy_at(i, mean, inv, gamma_beta(c)) - db - xhat * dg);
}

@compute @workgroup_size(256)
fn batchnorm_stats_wide(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let c = flat_index(g, nw, 256u);
    if (c >= p.channels) {
        return;
    }
    let n = p.batch * p.hw;
    var sum = 0.0;
    var w = walk_from(0u, 1u);
    for (var k = 0u; k < n; k++) {
        sum += x[p.x_off + walk_at(c, w)];
        w = walk_next(w);
    }
    let mean = sum / f32(n);
    var sq = 0.0;
    w = walk_from(0u, 1u);
    for (var k = 0u; k < n; k++) {
        let d = x[p.x_off + walk_at(c, w)] - mean;
        sq += d * d;
        w = walk_next(w);
    }
    stats[p.stats_off + c] = mean;
    stats[p.stats_off + p.channels + c] = 1.0 / sqrt(sq / f32(n) + p.eps);
    if (p.mode == 1u) {
        let m = p.momentum;
        let r = p.running_off;
        running[r + c] = (1.0 - m) * running[r + c] + m * mean;
        running[r + p.channels + c] = (1.0 - m) * running[r + p.channels + c]
            + m * sq / f32(n - 1u);
    }
}

@compute @workgroup_size(256)
fn batchnorm_backward_params_wide(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let c = flat_index(g, nw, 256u);
    if (c >= p.channels) {
        return;
    }
    let n = p.batch * p.hw;
    let mean = stats[p.stats_off + c];
    let inv = stats[p.stats_off + p.channels + c];
    let ab = gamma_beta(c);
    var dg = 0.0;
    var db = 0.0;
    var w = walk_from(0u, 1u);
    for (var k = 0u; k < n; k++) {
        let i = walk_at(c, w);
        let d = dy_at(i, mean, inv, ab);
        dg += d * (x[p.x_off + i] - mean) * inv;
        db += d;
        w = walk_next(w);
    }
    daffine[p.daffine_off + c] = dg;
    daffine[p.daffine_off + p.channels + c] = db;
}
