// activation.wgsl: elementwise activations, forward and backward.
//   *_forward:  out[i] = f(x[i])
//   *_backward: out[i] = dy[i] * f'(.) where f' is computed from the forward output y[i]
//               (bound to `x`), so a layer stores only its output.
// Bindings: 0 params {n, alpha, x_off, out_off}, 1 x (forward input, or forward output y for
//           backward), 2 dy, 3 out. x is read from element x_off on and the forward writes out from
//           out_off on (a network's last output may live inside a larger buffer, e.g. the
//           generated half of D's input). Output may not alias the inputs.
// Workgroup: 256 lanes, one element each (the WebGPU default invocation limit); grids larger
// than 65535 groups are split into y (see flat_index).

struct Params {
    n: u32,
    alpha: f32,
    x_off: u32,
    out_off: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn forward(kind: u32, i: u32) {
    if (i < p.n) {
        out[p.out_off + i] = act_apply(kind, p.alpha, x[p.x_off + i]);
    }
}

fn backward(kind: u32, i: u32) {
    if (i < p.n) {
        out[i] = dy[i] * act_grad(kind, p.alpha, x[p.x_off + i]);
    }
}

@compute @workgroup_size(256)
fn relu_forward(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) w: vec3<u32>) {
    forward(1u, flat_index(g, w, 256u));
}

@compute @workgroup_size(256)
fn relu_backward(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) w: vec3<u32>) {
    backward(1u, flat_index(g, w, 256u));
}

@compute @workgroup_size(256)
fn leaky_relu_forward(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) w: vec3<u32>) {
    forward(2u, flat_index(g, w, 256u));
}

@compute @workgroup_size(256)
fn leaky_relu_backward(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) w: vec3<u32>) {
    backward(2u, flat_index(g, w, 256u));
}

@compute @workgroup_size(256)
fn tanh_forward(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) w: vec3<u32>) {
    forward(3u, flat_index(g, w, 256u));
}

@compute @workgroup_size(256)
fn tanh_backward(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) w: vec3<u32>) {
    backward(3u, flat_index(g, w, 256u));
}

@compute @workgroup_size(256)
fn sigmoid_forward(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) w: vec3<u32>) {
    forward(4u, flat_index(g, w, 256u));
}

@compute @workgroup_size(256)
fn sigmoid_backward(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) w: vec3<u32>) {
    backward(4u, flat_index(g, w, 256u));
}
