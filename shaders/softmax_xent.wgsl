// softmax_xent.wgsl: softmax cross-entropy, the classifier's loss.
//   logp[r, c] = x[r, c] - m_r - log(sum_c' exp(x[r, c'] - m_r)),  m_r = max_c x[r, c]  (stable)
//   softmax_xent:          logp as above for every r < rows, and
//                          metrics[off]   (+)= scale * mean_r -logp[r, label_r]
//                          metrics[off+1] (+)= share of rows whose first argmax_c x[r, c] is label_r
//   softmax_xent_backward: grad[r, c] = scale * (exp(logp[r, c]) - [c == label_r]) / rows
// The backward reads the forward's logp (as an activation's backward reads its output y), so it
// must run after softmax_xent on the same rows. Labels are class indices stored as f32 (0.0, 1.0,
// ...) so the gather kernel that picks a minibatch of images picks its labels too; a label past
// the last class counts as the last class (the CPU twin clamps the same way).
// Bindings: 0 params, 1 logits x [rows, classes], 2 labels [rows], 3 logp [rows, classes],
//           4 grad [rows, classes] (backward), 5 metrics.
// Workgroups: the forward is one workgroup of 256 lanes, each taking whole rows in a fixed
// strided order (classes are few, 10 for digits), then a tree in workgroup memory: deterministic,
// no atomics, as bce.wgsl. A minibatch is at most a few thousand rows, so one group is enough.
// The backward is elementwise, 256 lanes per group.

struct Params {
    rows: u32,
    classes: u32,
    scale: f32,
    metrics_off: u32,
    accumulate: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<f32>;
@group(0) @binding(3) var<storage, read_write> logp: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;
@group(0) @binding(5) var<storage, read_write> metrics: array<f32>;

var<workgroup> red_loss: array<f32, 256>;
var<workgroup> red_hit: array<f32, 256>;

fn label_of(r: u32) -> u32 {
    return min(u32(max(labels[r], 0.0)), p.classes - 1u);
}

@compute @workgroup_size(256)
fn softmax_xent(@builtin(local_invocation_index) lid: u32) {
    var loss = 0.0;
    var hits = 0.0;
    let k = p.classes;
    for (var r = lid; r < p.rows; r += 256u) {
        let base = r * k;
        var m = x[base];
        var arg = 0u;
        for (var c = 1u; c < k; c++) {
            if (x[base + c] > m) {
                m = x[base + c];
                arg = c;
            }
        }
        var s = 0.0;
        for (var c = 0u; c < k; c++) {
            s += exp(x[base + c] - m);
        }
        let lse = m + log(s);
        for (var c = 0u; c < k; c++) {
            logp[base + c] = x[base + c] - lse;
        }
        let y = label_of(r);
        loss -= x[base + y] - lse;
        hits += select(0.0, 1.0, arg == y);
    }
    red_loss[lid] = loss;
    red_hit[lid] = hits;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if (lid < stride) {
            red_loss[lid] += red_loss[lid + stride];
            red_hit[lid] += red_hit[lid + stride];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        let l = p.scale * red_loss[0] / f32(p.rows);
        let a = red_hit[0] / f32(p.rows);
        let o = p.metrics_off;
        if (p.accumulate == 1u) {
            metrics[o] += l;
            metrics[o + 1u] += a;
        } else {
            metrics[o] = l;
            metrics[o + 1u] = a;
        }
    }
}

@compute @workgroup_size(256)
fn softmax_xent_backward(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) w: vec3<u32>) {
    let i = flat_index(g, w, 256u);
    if (i < p.rows * p.classes) {
        let r = i / p.classes;
        let c = i % p.classes;
        let onehot = select(0.0, 1.0, c == label_of(r));
        grad[i] = p.scale * (exp(logp[i]) - onehot) / f32(p.rows);
    }
}
