// common.wgsl: helpers shared by every shader family; the Rust loader prepends this file to each
// family's source (WGSL has no #include). Activation codes match `cpu::Activation::code`:
//   0 identity, 1 relu, 2 leaky_relu(alpha), 3 tanh, 4 sigmoid.
// Derivatives are written in terms of the forward output y, so a layer only keeps y
// (leaky_relu needs alpha > 0 for that, which the configuration checks).

// Flat index of a 1-D launch that may be split into a 2-D grid of 1-D workgroups of `wg` lanes.
fn flat_index(gid: vec3<u32>, nwg: vec3<u32>, wg: u32) -> u32 {
    return gid.x + gid.y * nwg.x * wg;
}

// Stable logistic: never evaluates exp of a large positive number.
fn sigmoid_stable(x: f32) -> f32 {
    if (x >= 0.0) {
        return 1.0 / (1.0 + exp(-x));
    }
    let e = exp(x);
    return e / (1.0 + e);
}

// tanh(x) rounds to +-1 in f32 for |x| > 9.1; some drivers' tanh returns NaN for large |x|.
fn tanh_stable(x: f32) -> f32 {
    if (abs(x) > 10.0) {
        return sign(x);
    }
    return tanh(x);
}

fn act_apply(kind: u32, alpha: f32, x: f32) -> f32 {
    switch kind {
        case 1u: { return max(x, 0.0); }
        case 2u: { return select(alpha * x, x, x > 0.0); }
        case 3u: { return tanh_stable(x); }
        case 4u: { return sigmoid_stable(x); }
        default: { return x; }
    }
}

// d act / dx, from the forward output y.
fn act_grad(kind: u32, alpha: f32, y: f32) -> f32 {
    switch kind {
        case 1u: { return select(0.0, 1.0, y > 0.0); }
        case 2u: { return select(alpha, 1.0, y > 0.0); }
        case 3u: { return 1.0 - y * y; }
        case 4u: { return y * (1.0 - y); }
        default: { return 1.0; }
    }
}

// The epilogue of matmul.wgsl and matmul_sg.wgsl on one sum v (their Params.epilogue; e is read
// through their `bias` binding):
//   EPI_ACT:      act(v)
//   EPI_BIAS:     act(v + e), e = bias[j]
//   EPI_ACT_GRAD: v * act'(e), e = Y[i, j], the forward output of the layer below: an input
//                 gradient dZ W leaves the product as that layer's dZ, the activation's backward
//                 fused (the same operations as activation.wgsl's backward, so the same bits).
const EPI_ACT: u32 = 0u;
const EPI_BIAS: u32 = 1u;
const EPI_ACT_GRAD: u32 = 2u;

fn matmul_epilogue(mode: u32, kind: u32, alpha: f32, v: f32, e: f32) -> f32 {
    if (mode == EPI_ACT_GRAD) {
        return v * act_grad(kind, alpha, e);
    }
    if (mode == EPI_BIAS) {
        return act_apply(kind, alpha, v + e);
    }
    return act_apply(kind, alpha, v);
}

// matmul_epilogue on four sums at once (matmul_sg.wgsl's quads): the same operations on each
// component, so the same bits, with the activation's code (exp, tanh) compiled once for the
// four instead of four times.
fn matmul_epilogue4(mode: u32, kind: u32, alpha: f32, v: vec4<f32>, e: vec4<f32>) -> vec4<f32> {
    if (mode == EPI_ACT_GRAD) {
        return v * act_grad4(kind, alpha, e);
    }
    if (mode == EPI_BIAS) {
        return act_apply4(kind, alpha, v + e);
    }
    return act_apply4(kind, alpha, v);
}

// act_apply, act_grad, sigmoid_stable and tanh_stable on four values: each component takes
// the same operations as the scalar function does (both branches computed, one selected).
fn act_apply4(kind: u32, alpha: f32, x: vec4<f32>) -> vec4<f32> {
    switch kind {
        case 1u: { return max(x, vec4(0.0)); }
        case 2u: { return select(alpha * x, x, x > vec4(0.0)); }
        case 3u: { return select(tanh(x), sign(x), abs(x) > vec4(10.0)); }
        case 4u: {
            let e = exp(x);
            return select(e / (1.0 + e), 1.0 / (1.0 + exp(-x)), x >= vec4(0.0));
        }
        default: { return x; }
    }
}

fn act_grad4(kind: u32, alpha: f32, y: vec4<f32>) -> vec4<f32> {
    switch kind {
        case 1u: { return select(vec4(0.0), vec4(1.0), y > vec4(0.0)); }
        case 2u: { return select(vec4(alpha), vec4(1.0), y > vec4(0.0)); }
        case 3u: { return 1.0 - y * y; }
        case 4u: { return y * (1.0 - y); }
        default: { return vec4(1.0); }
    }
}
