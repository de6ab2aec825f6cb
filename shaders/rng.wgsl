// rng.wgsl: counter-based random numbers, Philox4x32-10 (Salmon et al. 2011, "Parallel random
// numbers: as easy as 1, 2, 3"), and `tick`, which advances counters on the GPU.
//   c     = params.ctr + (state[slot] | state[slot + 1] << 32)     (64-bit add with carry)
//   block b: w0..w3 = philox(counter = (b, stream, c_lo, c_hi), key = (seed_lo, seed_hi))
//            gives elements 4b..4b+3 of out[out_off .. out_off + n]
//   rng_bits:    out = w
//   rng_uniform: u = (f32(w >> 9) + 0.5) * 2^-23, exact and strictly inside (0, 1);
//                out = lo + (hi - lo) * u
//   rng_normal:  Box-Muller on (u(w0), u(w1)) and (u(w2), u(w3)): r = sqrt(-2 ln u1) (ln_unit),
//                t = pi * (2 u2 - 1) in (-pi, pi); z0 = r cos t, z1 = r sin t; out = mean + std z
//   rng_index:   out = mulhi(w, n_rows) = floor(w * n_rows / 2^32), in [0, n_rows)
//   rng_add_normal: out = x + s z, x = out_f32 from x_off on (x_off = out_off: in place), z as
//                rng_normal's, s = a max(0, 1 - t / n_rows) with t the state counter alone
//                (without ctr); n_rows = 0: s = a. This is instance noise on D's input
//                (Sonderby et al. 2017, ICLR, arXiv:1610.04490; Arjovsky and Bottou 2017,
//                arXiv:1701.04862), annealed linearly to 0 over n_rows iterations with no CPU
//                write; once s is 0 it copies x and draws nothing.
//   tick:        state[slot], state[slot + 1] += 1 (64-bit, with carry); one invocation
// The trainer records `tick` before an iteration's ops, so every iteration draws new numbers
// with no CPU write; each op has its own stream. WGSL has no 64-bit multiply: mulhi is built from
// 16-bit halves. The CPU twin (src/cpu/rng.rs) gives the same words bit for bit.
// Bindings: 0 params, 1 state (u32; tick writes it, the others read it), 2 out (f32),
//           3 out (u32).
// Workgroup: 256 lanes, one Philox block (4 outputs) each: one call serves four elements, and the
// grid is split into y past 65535 groups (see flat_index).

struct Params {
    seed_lo: u32,
    seed_hi: u32,
    stream: u32,
    state_slot: u32,
    ctr_lo: u32,
    ctr_hi: u32,
    out_off: u32,
    n: u32,
    // lo and hi for rng_uniform, mean and std for rng_normal.
    a: f32,
    b: f32,
    n_rows: u32,
    // rng_add_normal's input offset.
    x_off: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> state: array<u32>;
@group(0) @binding(2) var<storage, read_write> out_f32: array<f32>;
@group(0) @binding(3) var<storage, read_write> out_u32: array<u32>;

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;
const PI: f32 = 3.14159265358979;

// High 32 bits of the 64-bit product a * b (the low half is a * b, which wraps).
fn mulhi(a: u32, b: u32) -> u32 {
    let al = a & 0xffffu;
    let ah = a >> 16u;
    let bl = b & 0xffffu;
    let bh = b >> 16u;
    let lh = al * bh;
    let hl = ah * bl;
    let mid = ((al * bl) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
    return ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

fn philox4x32_10(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    var c = ctr;
    var k = key;
    for (var i = 0u; i < 10u; i++) {
        if (i > 0u) {
            k = k + vec2<u32>(PHILOX_W0, PHILOX_W1);
        }
        let hi0 = mulhi(PHILOX_M0, c.x);
        let hi1 = mulhi(PHILOX_M1, c.z);
        c = vec4<u32>(hi1 ^ c.y ^ k.x, PHILOX_M1 * c.z, hi0 ^ c.w ^ k.y, PHILOX_M0 * c.x);
    }
    return c;
}

// The four words of block b (elements 4b..4b+3).
fn block(b: u32) -> vec4<u32> {
    let s_lo = state[p.state_slot];
    let s_hi = state[p.state_slot + 1u];
    let lo = p.ctr_lo + s_lo;
    let hi = p.ctr_hi + s_hi + select(0u, 1u, lo < s_lo);
    return philox4x32_10(vec4<u32>(b, p.stream, lo, hi), vec2<u32>(p.seed_lo, p.seed_hi));
}

fn unit(w: u32) -> f32 {
    return (f32(w >> 9u) + 0.5) * (1.0 / 8388608.0);
}

// ln u for u = unit(w), to a few ulp relative everywhere. The builtin log is only held to an
// absolute error (2^-21 near 1 in Vulkan): where u1 is near 1, r = sqrt(-2 ln u1) is small and
// would be off by far more than its own size. u = m 2^e with m in [sqrt(1/2), sqrt(2)] (exact,
// by the bits); ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, odd series to s^9 (the
// next term is below 2^-28 of the sum).
fn ln_unit(u: f32) -> f32 {
    let bits = bitcast<u32>(u);
    var e = i32((bits >> 23u) & 0xffu) - 127;
    var m = bitcast<f32>((bits & 0x7fffffu) | 0x3f800000u);
    if (m > 1.4142135) {
        m = m * 0.5;
        e = e + 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let poly = 2.0 + s2 * (0.6666667 + s2 * (0.4 + s2 * (0.2857143 + s2 * 0.22222222)));
    return f32(e) * 0.6931472 + s * poly;
}

// Two standard normals from two words.
fn box_muller(w1: u32, w2: u32) -> vec2<f32> {
    let r = sqrt(-2.0 * ln_unit(unit(w1)));
    let t = PI * (2.0 * unit(w2) - 1.0);
    return vec2<f32>(r * cos(t), r * sin(t));
}

@compute @workgroup_size(256)
fn rng_bits(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let b = flat_index(g, nw, 256u);
    if (4u * b >= p.n) {
        return;
    }
    let w = block(b);
    for (var j = 0u; j < 4u; j++) {
        if (4u * b + j < p.n) {
            out_u32[p.out_off + 4u * b + j] = w[j];
        }
    }
}

@compute @workgroup_size(256)
fn rng_uniform(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let b = flat_index(g, nw, 256u);
    if (4u * b >= p.n) {
        return;
    }
    let w = block(b);
    for (var j = 0u; j < 4u; j++) {
        if (4u * b + j < p.n) {
            out_f32[p.out_off + 4u * b + j] = p.a + (p.b - p.a) * unit(w[j]);
        }
    }
}

@compute @workgroup_size(256)
fn rng_normal(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let b = flat_index(g, nw, 256u);
    if (4u * b >= p.n) {
        return;
    }
    let w = block(b);
    let z01 = box_muller(w.x, w.y);
    let z23 = box_muller(w.z, w.w);
    let z = vec4<f32>(z01, z23);
    for (var j = 0u; j < 4u; j++) {
        if (4u * b + j < p.n) {
            out_f32[p.out_off + 4u * b + j] = p.a + p.b * z[j];
        }
    }
}

@compute @workgroup_size(256)
fn rng_index(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let b = flat_index(g, nw, 256u);
    if (4u * b >= p.n) {
        return;
    }
    let w = block(b);
    for (var j = 0u; j < 4u; j++) {
        if (4u * b + j < p.n) {
            out_u32[p.out_off + 4u * b + j] = mulhi(w[j], p.n_rows);
        }
    }
}

// rng_add_normal's scale at the current state counter.
fn annealed_std() -> f32 {
    if (p.n_rows == 0u) {
        return p.a;
    }
    let t = f32(state[p.state_slot]) + 4294967296.0 * f32(state[p.state_slot + 1u]);
    return p.a * max(0.0, 1.0 - t / f32(p.n_rows));
}

@compute @workgroup_size(256)
fn rng_add_normal(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let b = flat_index(g, nw, 256u);
    if (4u * b >= p.n) {
        return;
    }
    let s = annealed_std();
    var z = vec4<f32>(0.0);
    if (s != 0.0) {
        let w = block(b);
        z = vec4<f32>(box_muller(w.x, w.y), box_muller(w.z, w.w));
    }
    for (var j = 0u; j < 4u; j++) {
        if (4u * b + j < p.n) {
            out_f32[p.out_off + 4u * b + j] = out_f32[p.x_off + 4u * b + j] + s * z[j];
        }
    }
}

@compute @workgroup_size(1)
fn tick() {
    let lo = state[p.state_slot] + 1u;
    state[p.state_slot] = lo;
    if (lo == 0u) {
        state[p.state_slot + 1u] = state[p.state_slot + 1u] + 1u;
    }
}
