// optim.wgsl: optimisers over one flat parameter buffer (all of a network's weights and biases),
// so a network's update is one dispatch.
//   adam (with bias correction, as torch.optim.Adam):
//     m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//     p -= (lr_t / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//     lr_t = lr * (1 - (1 - final_frac) * min(t, decay_steps) / decay_steps)  (linear decay to
//     final_frac * lr over decay_steps steps, then constant; decay_steps = 0: constant lr)
//   sgd_momentum (as torch.optim.SGD with momentum, dampening 0):
//     m = mu m + g;  p -= lr m
//   ema (an exponential moving average of the weights, e.g. G's for sampling; Yazici et al. 2019):
//     avg = decay avg + (1 - decay) w   (decay in `beta1`; w is only read)
// The step count t is read from the GPU state buffer at `step_slot` (the schedule advances it
// with rng.wgsl's `tick` before the update), so consecutive steps inside one submit need no CPU
// write.
// Bindings: 0 params, 1 state (u32), 2 params buffer w, 3 grads, 4 m (first moment / momentum),
// 5 v (second moment), 6 avg (the moving average). Workgroup: 256 lanes, one parameter each.

struct Params {
    n: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    step_slot: u32,
    decay_steps: u32,
    final_frac: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> state: array<u32>;
@group(0) @binding(2) var<storage, read_write> w: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> m: array<f32>;
@group(0) @binding(5) var<storage, read_write> v: array<f32>;
@group(0) @binding(6) var<storage, read_write> avg: array<f32>;

@compute @workgroup_size(256)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg, 256u);
    if (i >= p.n) {
        return;
    }
    let step = max(state[p.step_slot], 1u);
    let t = f32(step);
    var lr = p.lr;
    if (p.decay_steps > 0u) {
        lr = p.lr * (1.0 - (1.0 - p.final_frac) * f32(min(step, p.decay_steps)) / f32(p.decay_steps));
    }
    let g = grad[i];
    let mi = p.beta1 * m[i] + (1.0 - p.beta1) * g;
    let vi = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    let bc1 = 1.0 - pow(p.beta1, t);
    let bc2 = 1.0 - pow(p.beta2, t);
    w[i] -= (lr / bc1) * mi / (sqrt(vi) / sqrt(bc2) + p.eps);
}

@compute @workgroup_size(256)
fn sgd_momentum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg, 256u);
    if (i >= p.n) {
        return;
    }
    // beta1 holds the momentum mu.
    let mi = p.beta1 * m[i] + grad[i];
    m[i] = mi;
    w[i] -= p.lr * mi;
}

@compute @workgroup_size(256)
fn ema(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg, 256u);
    if (i >= p.n) {
        return;
    }
    // beta1 holds the decay.
    avg[i] = p.beta1 * avg[i] + (1.0 - p.beta1) * w[i];
}
