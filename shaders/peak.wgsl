// peak.wgsl: the device's own ceilings, for reading every other benchmark as a fraction of them.
//   fma_peak:  per invocation i < n: four vec4 chains acc_j = src[i] + j, each stepped
//              acc_j = fma(acc_j, a, b) `iters` times, then dst[i] = acc_0 + acc_1 + acc_2 + acc_3.
//              16 independent multiply-adds per step and lane (enough to hide FMA latency on a
//              GPU core or a CPU SIMD unit); one load and one store for 32 * iters flops, so the
//              FMA units, not memory, set the pace. With a = 0.999, b = 0.001 the chains approach
//              1, so no value overflows whatever `iters` is.
//   copy_peak: dst[i] = src[i] for i < n, a vec4 at a time: 32 bytes moved per invocation, no
//              arithmetic, so memory bandwidth sets the pace.
//   empty:     does nothing (its one access never happens): the cost of a dispatch itself.
// Bindings: 0 params {n, iters, a, b}, 1 src (vec4, read), 2 dst (vec4, read_write).
// Workgroup: 256 lanes in a row; grids past 65535 groups split into y (see flat_index).

struct Params {
    n: u32,
    iters: u32,
    a: f32,
    b: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(256)
fn fma_peak(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let i = flat_index(g, nw, 256u);
    if (i >= p.n) {
        return;
    }
    let x = src[i];
    var acc0 = x;
    var acc1 = x + vec4(1.0);
    var acc2 = x + vec4(2.0);
    var acc3 = x + vec4(3.0);
    let a = vec4(p.a);
    let b = vec4(p.b);
    // Four steps per trip: lavapipe pays for every loop trip (a mask test across its lanes), so
    // a loop of single steps measured 11 GFLOP/s where this one measured 37-46.
    var t = 0u;
    for (; t + 4u <= p.iters; t += 4u) {
        acc0 = fma(fma(fma(fma(acc0, a, b), a, b), a, b), a, b);
        acc1 = fma(fma(fma(fma(acc1, a, b), a, b), a, b), a, b);
        acc2 = fma(fma(fma(fma(acc2, a, b), a, b), a, b), a, b);
        acc3 = fma(fma(fma(fma(acc3, a, b), a, b), a, b), a, b);
    }
    for (; t < p.iters; t++) {
        acc0 = fma(acc0, a, b);
        acc1 = fma(acc1, a, b);
        acc2 = fma(acc2, a, b);
        acc3 = fma(acc3, a, b);
    }
    dst[i] = (acc0 + acc1) + (acc2 + acc3);
}

@compute @workgroup_size(256)
fn copy_peak(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let i = flat_index(g, nw, 256u);
    if (i >= p.n) {
        return;
    }
    dst[i] = src[i];
}

@compute @workgroup_size(1)
fn empty() {
    if (p.n == 0xffffffffu) { // never true: the launcher refuses n = u32::MAX
        dst[0] = vec4(0.0);
    }
}
