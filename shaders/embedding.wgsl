// embedding.wgsl: class embeddings for conditional GANs, tables of `classes` rows of `dim` values
// (PyTorch's nn.Embedding(classes, dim).weight) read by u32 label, forward and backward:
//   embed_concat:   out[r, :] = cat(table[y[r], :], z[r, :])   ([rows, dim + z_dim]): G's input,
//                   as PyTorch-GAN's cgan builds it, torch.cat((label_emb(labels), noise), -1)
//                   (Mirza and Osindero 2014)
//   embed_backward: dtable[k, c] = sum over r = 0, 1, .. rows - 1 with y[r] = k of dx[r, c], c < dim
//                   (dx: the gradient of embed_concat's output, rows of dim + z_dim)
//   projection_forward: logit[r] += sum_c table[y[r], c] phi[r, c]: the projection
//                   discriminator's class term added to psi(phi) in place (Miyato and Koyama 2018,
//                   eq. 3: D(x, y) = psi(phi(x)) + embed(y)^T phi(x))
//   projection_backward_input: dphi[r, c] = (dphi[r, c] + dlogit[r] table[y[r], c]) * act'(h[r, c])
//                   in place: the class term's share of phi's gradient added to psi's, then through
//                   the activation whose output h is phi (identity where the caller's own
//                   activation backward follows)
//   projection_backward_table: dtable[k, c] = sum over r in order with y[r] = k of dlogit[r] phi[r, c]
// A label past the table reads (and trains) its last row, as gather.wgsl clamps indices; the CPU
// twins clamp the same way.
// Bindings: 0 params, 1 table, 2 y (u32 labels), 3 x (z, dx or phi), 4 out (G's input, dtable,
//           the logits or dphi), 5 dlogit, 6 h; each read from its *_off element on. out may not
//           alias the others.
// Workgroups: the elementwise entries and the two table sums have 256 lanes, one output element
// each; a table sum loops over the batch rows in order (a few hundred), so it needs no atomics
// and adds in the CPU twin's order. projection_forward gives each row a workgroup of 64 lanes,
// each summing a strided slice of phi (up to a few thousand values), then a tree in workgroup
// memory. Grids past 65535 groups are split into y (see flat_index).

struct Params {
    rows: u32,
    dim: u32,
    classes: u32,
    z_dim: u32,
    table_off: u32,
    y_off: u32,
    x_off: u32,
    out_off: u32,
    dlogit_off: u32,
    h_off: u32,
    act: u32,
    alpha: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<u32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read> dlogit: array<f32>;
@group(0) @binding(6) var<storage, read> h: array<f32>;

// Row r's label, clamped to the table.
fn label(r: u32) -> u32 {
    return min(y[p.y_off + r], p.classes - 1u);
}

@compute @workgroup_size(256)
fn embed_concat(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let i = flat_index(g, nw, 256u);
    let w = p.dim + p.z_dim;
    if (i >= p.rows * w) {
        return;
    }
    let r = i / w;
    let c = i % w;
    if (c < p.dim) {
        out[p.out_off + i] = table[p.table_off + label(r) * p.dim + c];
    } else {
        out[p.out_off + i] = x[p.x_off + r * p.z_dim + c - p.dim];
    }
}

@compute @workgroup_size(256)
fn embed_backward(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let i = flat_index(g, nw, 256u);
    if (i >= p.classes * p.dim) {
        return;
    }
    let k = i / p.dim;
    let c = i % p.dim;
    let w = p.dim + p.z_dim;
    var s = 0.0;
    for (var r = 0u; r < p.rows; r++) {
        if (label(r) == k) {
            s += x[p.x_off + r * w + c];
        }
    }
    out[p.out_off + i] = s;
}

var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn projection_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nw: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let r = wid.x + wid.y * nw.x;
    let live = r < p.rows;
    var s = 0.0;
    if (live) {
        let t = p.table_off + label(r) * p.dim;
        let f = p.x_off + r * p.dim;
        for (var c = lane; c < p.dim; c += 64u) {
            s += table[t + c] * x[f + c];
        }
    }
    partial[lane] = s;
    workgroupBarrier();
    for (var span = 32u; span > 0u; span >>= 1u) {
        if (lane < span) {
            partial[lane] += partial[lane + span];
        }
        workgroupBarrier();
    }
    if (live && lane == 0u) {
        out[p.out_off + r] += partial[0];
    }
}

@compute @workgroup_size(256)
fn projection_backward_input(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let i = flat_index(g, nw, 256u);
    if (i >= p.rows * p.dim) {
        return;
    }
    let r = i / p.dim;
    let c = i % p.dim;
    let sum = out[p.out_off + i] + dlogit[p.dlogit_off + r] * table[p.table_off + label(r) * p.dim + c];
    out[p.out_off + i] = sum * act_grad(p.act, p.alpha, h[p.h_off + i]);
}

@compute @workgroup_size(256)
fn projection_backward_table(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let i = flat_index(g, nw, 256u);
    if (i >= p.classes * p.dim) {
        return;
    }
    let k = i / p.dim;
    let c = i % p.dim;
    var s = 0.0;
    for (var r = 0u; r < p.rows; r++) {
        if (label(r) == k) {
            s += dlogit[p.dlogit_off + r] * x[p.x_off + r * p.dim + c];
        }
    }
    out[p.out_off + i] = s;
}
