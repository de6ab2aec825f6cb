// spectral.wgsl: spectral normalisation of one Linear layer's weight (Miyato et al. 2018,
// "Spectral Normalization for Generative Adversarial Networks", Algorithm 1), as PyTorch's
// torch.nn.utils.parametrizations.spectral_norm computes it for a weight W [rows, cols]:
//   spectral_norm_forward, with update = 1 (a training forward): one power iteration
//       v = normalize(W^T u),  u = normalize(W v)      normalize(a) = a / max(||a||, eps)
//     then (update = 0 too, as PyTorch's eval mode, which reuses the stored u and v)
//       sigma = u^T W v,  W_sn = W / sigma,  and the layer's bias [rows] copied after W_sn
//   spectral_norm_backward: with u and v held fixed (PyTorch runs the iteration under no_grad),
//       dL/dW = (G - <G, W_sn> u v^T) / sigma,  G = dL/dW_sn   (in place in `grad`)
// u (rows) and v (cols) are held at uv[uv_off..], uv[uv_off + rows..] and updated in place;
// sigma goes to sigma[sigma_slot] for the backward. W, W_sn and the gradient sit at `w_off` of the
// network's flat parameter, normalised-parameter and gradient buffers ([W; b], PyTorch's layout).
// Bindings: 0 params, 1 w, 2 w_sn, 3 uv, 4 sigma, 5 grad.
// Workgroup: one workgroup of 256 lanes per layer (each lane a strided slice of rows or columns,
// then a tree in workgroup memory: deterministic, no atomics); an MLP's D has a few layers of at
// most a few hundred units, so one workgroup each is enough.

struct Params {
    rows: u32,
    cols: u32,
    w_off: u32,
    uv_off: u32,
    sigma_slot: u32,
    update: u32,
    eps: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> w_sn: array<f32>;
@group(0) @binding(3) var<storage, read_write> uv: array<f32>;
@group(0) @binding(4) var<storage, read_write> sigma: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;

var<workgroup> red: array<f32, 256>;

// The sum of every lane's `val`; called by all lanes.
fn workgroup_sum(lid: u32, val: f32) -> f32 {
    red[lid] = val;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if (lid < stride) {
            red[lid] += red[lid + stride];
        }
        workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
}

// (W v)[i] with v from uv.
fn w_times_v(i: u32) -> f32 {
    let v0 = p.uv_off + p.rows;
    var t = 0.0;
    for (var j = 0u; j < p.cols; j++) {
        t += w[p.w_off + i * p.cols + j] * uv[v0 + j];
    }
    return t;
}

@compute @workgroup_size(256)
fn spectral_norm_forward(@builtin(local_invocation_index) lid: u32) {
    let u0 = p.uv_off;
    let v0 = p.uv_off + p.rows;
    if (p.update == 1u) {
        var ss = 0.0;
        for (var j = lid; j < p.cols; j += 256u) {
            var t = 0.0;
            for (var i = 0u; i < p.rows; i++) {
                t += w[p.w_off + i * p.cols + j] * uv[u0 + i];
            }
            uv[v0 + j] = t;
            ss += t * t;
        }
        let nv = max(sqrt(workgroup_sum(lid, ss)), p.eps);
        for (var j = lid; j < p.cols; j += 256u) {
            uv[v0 + j] = uv[v0 + j] / nv;
        }
        storageBarrier();
        ss = 0.0;
        for (var i = lid; i < p.rows; i += 256u) {
            let t = w_times_v(i);
            uv[u0 + i] = t;
            ss += t * t;
        }
        let nu = max(sqrt(workgroup_sum(lid, ss)), p.eps);
        for (var i = lid; i < p.rows; i += 256u) {
            uv[u0 + i] = uv[u0 + i] / nu;
        }
        storageBarrier();
    }
    var s = 0.0;
    for (var i = lid; i < p.rows; i += 256u) {
        s += uv[u0 + i] * w_times_v(i);
    }
    let sg = workgroup_sum(lid, s);
    if (lid == 0u) {
        sigma[p.sigma_slot] = sg;
    }
    let nw = p.rows * p.cols;
    for (var k = lid; k < nw; k += 256u) {
        w_sn[p.w_off + k] = w[p.w_off + k] / sg;
    }
    for (var k = lid; k < p.rows; k += 256u) {
        w_sn[p.w_off + nw + k] = w[p.w_off + nw + k];
    }
}

@compute @workgroup_size(256)
fn spectral_norm_backward(@builtin(local_invocation_index) lid: u32) {
    let nw = p.rows * p.cols;
    var d = 0.0;
    for (var k = lid; k < nw; k += 256u) {
        d += grad[p.w_off + k] * w_sn[p.w_off + k];
    }
    let dot = workgroup_sum(lid, d);
    let sg = sigma[p.sigma_slot];
    let u0 = p.uv_off;
    let v0 = p.uv_off + p.rows;
    for (var k = lid; k < nw; k += 256u) {
        let i = k / p.cols;
        let j = k % p.cols;
        grad[p.w_off + k] = (grad[p.w_off + k] - dot * uv[u0 + i] * uv[v0 + j]) / sg;
    }
}
