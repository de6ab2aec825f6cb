// matmul_sg.wgsl: the products of matmul.wgsl for CPU adapters (lavapipe and other SIMD drivers
// whose subgroup is a vector register of 8 lanes), with the same epilogues (bias and activation,
// or the activation's derivative):
//   matmul_sg:      C[M,N] = act(A[M,K] * B[K,N] + bias)
//   matmul_at_b_sg: C[M,N] = act(A^T * B + bias), A stored [K,M]
//   matmul_a_bt_sg: C[M,N] = act(A * B^T + bias), B stored [N,K]
//   ..._scalar:     the same for any shape, reading A and B one f32 at a time (a GAN's first
//                   layer, where K is 1 or 2)
//   ..._narrow_sg:  the three products for N <= 4, ..._short_sg for M <= 4 (a GAN's 1- or 2-wide
//                   layers and their weight gradients; `SKINNY` in the launcher), any shape
// Bindings as matmul.wgsl (0 params, 1 a, 2 b, 3 bias, 4 c, 5 a4, 6 b4; the same launcher binds
// both families), and 7 c4, 8 e4: C's and the bias's (Y's) buffers again as vec4s, for the
// epilogue's whole-quad stores. The vec4 entry points need `MatmulShape::allows_vec4`; all need a
// subgroup of exactly 8 lanes.
//
// Why a second formulation. A CPU driver runs a workgroup as a loop over SIMD batches of 8
// invocations and, inside a loop, fetches every storage or workgroup-memory value lane by lane
// (extract the address, test the lane's mask and the buffer's bounds, load, insert), while an
// arithmetic op costs one vector instruction for all 8 lanes. Measured on lavapipe (Mesa 25.0.7,
// LLVM 15): in the tiled kernel of matmul.wgsl the reads of workgroup memory and the staging
// cost about 3x the multiply-adds, and its 16 accumulators per lane live in the coroutine frame
// that every workgroupBarrier needs, so each multiply-add also loads and stores. Here there is no
// workgroup memory and no barrier: one workgroup is one subgroup of 8 lanes computing a 32 x 32
// block of C. Per 4 steps of k, lane l loads four vec4s of op(A) (rows 8q + l for AB, rows
// 4l..4l+3 for A^T B) and one vec4 of op(B) for each of the 4 steps (its columns 4l..4l+3); every
// value of op(A) then reaches all 8 lanes by subgroupBroadcast, a register shuffle, and feeds 4
// multiply-adds per lane. So 8 vec4 loads per lane buy 512 multiply-adds per lane, against 16
// scalar loads of workgroup memory per 64 multiply-adds in the tiled kernel.
// Measured choices (lavapipe, 512^3, per core-second beside the tiled kernel in the same run):
// - this 32 x 32 block: 3.4x the tiled kernel (`bench kernels` prints both on every shape);
//   blocks of 16 x 64, 24 x 32 and 32 x 64 were within 10% of it, 8 x 32 25% slower, and
//   workgroups of 8 subgroups 1.7x slower than one subgroup;
// - every index into acc is a constant (rank1_8 called once per row group and step, written
//   out): a loop over the 4 steps indexing a[q][t] by a variable, or an epilogue indexing acc by
//   one, moves acc to memory and halves the speed;
// - the epilogue loops over a copy of acc instead: written out, it inlined the activation's exp
//   and tanh 128 times and LLVM took ~20 s to compile each kernel (1 s now);
// - the epilogue reads a lane's 4 biases once and stores a row's quad with one vec4 store where
//   C's rows and offset are multiples of 4 (four scalar stores otherwise): the grid recipe's
//   128 x 2 x 128 first layer went from 230-340 to 180-190 us a dispatch, its 128^3 products
//   about 10% faster;
// - the skinny kernels below: D's 256 x 128 x 1 output layer and its 1 x 256 x 128 weight
//   gradient went from 370-400 to 180-210 us, the grid recipe's iteration 1.2-1.5x faster;
// - reading op(A) at one address for all 8 lanes instead of the broadcasts (a value every lane
//   needs) was 2.5x slower: lavapipe fetches it lane by lane all the same.
// Each output is summed in k order by one lane, unfused on lavapipe as in matmul.wgsl, so the
// two give the same bits there (tests/matmul_parity.rs holds them to it).

struct Params {
    m: u32,
    k: u32,
    n: u32,
    act: u32,
    alpha: f32,
    epilogue: u32,
    a_off: u32,
    b_off: u32,
    c_off: u32,
    bias_off: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>; // for the _scalar entry points
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
@group(0) @binding(5) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> c4: array<vec4<f32>>; // c's buffer again
@group(0) @binding(8) var<storage, read> e4: array<vec4<f32>>; // bias's buffer again (Y)

const AB: u32 = 0u;
const AT_B: u32 = 1u;
const A_BT: u32 = 2u;

// acc[r] += op(A)[row0 + r, k] * (4 columns of op(B) at k) for the 8 rows r = base + stride * i,
// i < 8, whose op(A) value at k lane i holds in v. Called with constant base and stride, so after
// inlining every index is a constant and acc stays in registers.
fn rank1_8(acc: ptr<function, array<vec4<f32>, 32>>, base: u32, stride: u32, v: f32, b: vec4<f32>) {
    (*acc)[base] = fma(vec4(subgroupBroadcast(v, 0u)), b, (*acc)[base]);
    (*acc)[base + stride] = fma(vec4(subgroupBroadcast(v, 1u)), b, (*acc)[base + stride]);
    (*acc)[base + 2u * stride] = fma(vec4(subgroupBroadcast(v, 2u)), b, (*acc)[base + 2u * stride]);
    (*acc)[base + 3u * stride] = fma(vec4(subgroupBroadcast(v, 3u)), b, (*acc)[base + 3u * stride]);
    (*acc)[base + 4u * stride] = fma(vec4(subgroupBroadcast(v, 4u)), b, (*acc)[base + 4u * stride]);
    (*acc)[base + 5u * stride] = fma(vec4(subgroupBroadcast(v, 5u)), b, (*acc)[base + 5u * stride]);
    (*acc)[base + 6u * stride] = fma(vec4(subgroupBroadcast(v, 6u)), b, (*acc)[base + 6u * stride]);
    (*acc)[base + 7u * stride] = fma(vec4(subgroupBroadcast(v, 7u)), b, (*acc)[base + 7u * stride]);
}

// op(A) for k0..k0+3 as this lane holds it: AB and A_BT, a[q] = A[row0 + 8q + lane, k0..k0+3]
// (rows past m repeat the last row; their outputs are not written); AT_B, a[t] = A[k0 + t,
// row0 + 4 lane..+3]. Steps past k read as 0 (only where k need not be a multiple of 4).
fn load_a(variant: u32, vec4_loads: bool, row0: u32, lane: u32, k0: u32) -> array<vec4<f32>, 4> {
    var a: array<vec4<f32>, 4>;
    if (variant == AT_B) {
        let row = row0 + 4u * lane;
        for (var t = 0u; t < 4u; t++) {
            let kk = min(k0 + t, p.k - 1u);
            var v: vec4<f32>;
            if (vec4_loads) {
                v = a4[p.a_off / 4u + kk * (p.m / 4u) + min(row / 4u, p.m / 4u - 1u)];
            } else {
                v = quad(p.a_off + kk * p.m, row, p.m - 1u, true);
            }
            a[t] = select(vec4(0.0), v, k0 + t < p.k);
        }
    } else {
        for (var q = 0u; q < 4u; q++) {
            let row = min(row0 + 8u * q + lane, p.m - 1u);
            if (vec4_loads) {
                a[q] = a4[p.a_off / 4u + row * (p.k / 4u) + k0 / 4u];
            } else {
                a[q] = quad(p.a_off + row * p.k, k0, p.k - 1u, true);
            }
        }
    }
    return a;
}

// x[base + min(i + j, last)] for j < 4, from a (from_a) or b; 0 where i + j > last.
fn quad(base: u32, i: u32, last: u32, from_a: bool) -> vec4<f32> {
    return vec4(one(base, i, last, from_a), one(base, i + 1u, last, from_a),
                one(base, i + 2u, last, from_a), one(base, i + 3u, last, from_a));
}

fn one(base: u32, i: u32, last: u32, from_a: bool) -> f32 {
    let at = base + min(i, last);
    var x: f32;
    if (from_a) {
        x = a[at];
    } else {
        x = b[at];
    }
    return select(0.0, x, i <= last);
}

// op(B)[k0 + t, col0 + 4 lane..+3] for t < 4 (columns past n repeat the last quad or column;
// steps past k read as 0).
fn load_b(variant: u32, vec4_loads: bool, col0: u32, lane: u32, k0: u32) -> array<vec4<f32>, 4> {
    var b: array<vec4<f32>, 4>;
    let col = col0 + 4u * lane;
    if (variant == A_BT) { // B stored [N,K]: 4 steps of k for each of the lane's 4 columns
        let c0 = bt_col(vec4_loads, col, k0);
        let c1 = bt_col(vec4_loads, col + 1u, k0);
        let c2 = bt_col(vec4_loads, col + 2u, k0);
        let c3 = bt_col(vec4_loads, col + 3u, k0);
        b[0] = vec4(c0.x, c1.x, c2.x, c3.x);
        b[1] = vec4(c0.y, c1.y, c2.y, c3.y);
        b[2] = vec4(c0.z, c1.z, c2.z, c3.z);
        b[3] = vec4(c0.w, c1.w, c2.w, c3.w);
    } else {
        for (var t = 0u; t < 4u; t++) {
            let kk = min(k0 + t, p.k - 1u);
            var v: vec4<f32>;
            if (vec4_loads) {
                v = b4[p.b_off / 4u + kk * (p.n / 4u) + min(col / 4u, p.n / 4u - 1u)];
            } else {
                v = quad(p.b_off + kk * p.n, col, p.n - 1u, false);
            }
            b[t] = select(vec4(0.0), v, k0 + t < p.k);
        }
    }
    return b;
}

// B^T's column `col` (a stored row of B) at k0..k0+3; columns past n repeat the last one.
fn bt_col(vec4_loads: bool, col: u32, k0: u32) -> vec4<f32> {
    let row = min(col, p.n - 1u);
    if (vec4_loads) {
        return b4[p.b_off / 4u + row * (p.k / 4u) + k0 / 4u];
    }
    return quad(p.b_off + row * p.k, k0, p.k - 1u, false);
}

fn product(variant: u32, vec4_loads: bool, wg: vec3<u32>, lane: u32) {
    let row0 = wg.y * 32u;
    let col0 = wg.x * 32u;
    var acc: array<vec4<f32>, 32>;
    for (var k0 = 0u; k0 < p.k; k0 += 4u) {
        let a = load_a(variant, vec4_loads, row0, lane, k0);
        let b = load_b(variant, vec4_loads, col0, lane, k0);
        if (variant == AT_B) { // a[t][j] is row 4i + j at k0 + t, held by lane i
            rank1_8(&acc, 0u, 4u, a[0].x, b[0]); rank1_8(&acc, 1u, 4u, a[0].y, b[0]);
            rank1_8(&acc, 2u, 4u, a[0].z, b[0]); rank1_8(&acc, 3u, 4u, a[0].w, b[0]);
            rank1_8(&acc, 0u, 4u, a[1].x, b[1]); rank1_8(&acc, 1u, 4u, a[1].y, b[1]);
            rank1_8(&acc, 2u, 4u, a[1].z, b[1]); rank1_8(&acc, 3u, 4u, a[1].w, b[1]);
            rank1_8(&acc, 0u, 4u, a[2].x, b[2]); rank1_8(&acc, 1u, 4u, a[2].y, b[2]);
            rank1_8(&acc, 2u, 4u, a[2].z, b[2]); rank1_8(&acc, 3u, 4u, a[2].w, b[2]);
            rank1_8(&acc, 0u, 4u, a[3].x, b[3]); rank1_8(&acc, 1u, 4u, a[3].y, b[3]);
            rank1_8(&acc, 2u, 4u, a[3].z, b[3]); rank1_8(&acc, 3u, 4u, a[3].w, b[3]);
        } else { // a[q][t] is row 8q + i at k0 + t, held by lane i
            rank1_8(&acc, 0u, 1u, a[0].x, b[0]); rank1_8(&acc, 8u, 1u, a[1].x, b[0]);
            rank1_8(&acc, 16u, 1u, a[2].x, b[0]); rank1_8(&acc, 24u, 1u, a[3].x, b[0]);
            rank1_8(&acc, 0u, 1u, a[0].y, b[1]); rank1_8(&acc, 8u, 1u, a[1].y, b[1]);
            rank1_8(&acc, 16u, 1u, a[2].y, b[1]); rank1_8(&acc, 24u, 1u, a[3].y, b[1]);
            rank1_8(&acc, 0u, 1u, a[0].z, b[2]); rank1_8(&acc, 8u, 1u, a[1].z, b[2]);
            rank1_8(&acc, 16u, 1u, a[2].z, b[2]); rank1_8(&acc, 24u, 1u, a[3].z, b[2]);
            rank1_8(&acc, 0u, 1u, a[0].w, b[3]); rank1_8(&acc, 8u, 1u, a[1].w, b[3]);
            rank1_8(&acc, 16u, 1u, a[2].w, b[3]); rank1_8(&acc, 24u, 1u, a[3].w, b[3]);
        }
    }
    // The epilogue reads a copy, so that its loop may index by a variable while acc itself is
    // only ever indexed by constants and stays in registers; and the activation's code (exp,
    // tanh) is compiled once, not once per output, which kept LLVM busy for ~20 s a kernel.
    let out = acc;
    let col = col0 + 4u * lane;
    if (col >= p.n) {
        return;
    }
    let e = bias_quad(col);
    let quads = vec4_stores();
    for (var r = 0u; r < min(32u, p.m - row0); r++) {
        store_quad(row0 + r, col, out[r], e, quads);
    }
}

// The skinny products, where a 32 x 32 block would waste most of its multiply-adds: N <= 4
// (a layer with 1 or 2 outputs, the weight gradient of a 2-D input) and M <= 4 (the weight
// gradient of such a layer). Each lane keeps a 4 x 4 block of C in 4 vec4s and reads its operands
// itself, with no broadcasts: 16 multiply-adds of vec4 per 4 steps of k instead of 512. Each
// output is still summed in k order by one fma per step, so the bits are the block kernel's. They
// use no subgroup operation: a lane is its invocation's index in the workgroup of 8.

// N <= 4 (grid: 1 x ceil(M / 32)): lane l computes the rows row0 + 8q + l, q < 4 (AB, A_BT; as
// load_a holds them) or row0 + 4l + q (AT_B), of all n columns. op(B)'s 4 x 4 corner is the
// same for every lane.
fn product_narrow(variant: u32, wg: vec3<u32>, lane: u32) {
    let row0 = wg.y * 32u;
    var acc: array<vec4<f32>, 4>;
    var a_vec4 = p.k % 4u == 0u;
    if (variant == AT_B) {
        a_vec4 = p.m % 4u == 0u;
    }
    a_vec4 = a_vec4 && p.a_off % 4u == 0u;
    for (var k0 = 0u; k0 < p.k; k0 += 4u) {
        let a = load_a(variant, a_vec4, row0, lane, k0);
        let b = load_b(variant, false, 0u, 0u, k0);
        if (variant == AT_B) { // a[t][q] is row 4 lane + q at k0 + t
            acc[0] = fma(vec4(a[0].x), b[0], acc[0]); acc[1] = fma(vec4(a[0].y), b[0], acc[1]);
            acc[2] = fma(vec4(a[0].z), b[0], acc[2]); acc[3] = fma(vec4(a[0].w), b[0], acc[3]);
            acc[0] = fma(vec4(a[1].x), b[1], acc[0]); acc[1] = fma(vec4(a[1].y), b[1], acc[1]);
            acc[2] = fma(vec4(a[1].z), b[1], acc[2]); acc[3] = fma(vec4(a[1].w), b[1], acc[3]);
            acc[0] = fma(vec4(a[2].x), b[2], acc[0]); acc[1] = fma(vec4(a[2].y), b[2], acc[1]);
            acc[2] = fma(vec4(a[2].z), b[2], acc[2]); acc[3] = fma(vec4(a[2].w), b[2], acc[3]);
            acc[0] = fma(vec4(a[3].x), b[3], acc[0]); acc[1] = fma(vec4(a[3].y), b[3], acc[1]);
            acc[2] = fma(vec4(a[3].z), b[3], acc[2]); acc[3] = fma(vec4(a[3].w), b[3], acc[3]);
        } else { // a[q][t] is row 8q + lane at k0 + t
            acc[0] = fma(vec4(a[0].x), b[0], acc[0]); acc[1] = fma(vec4(a[1].x), b[0], acc[1]);
            acc[2] = fma(vec4(a[2].x), b[0], acc[2]); acc[3] = fma(vec4(a[3].x), b[0], acc[3]);
            acc[0] = fma(vec4(a[0].y), b[1], acc[0]); acc[1] = fma(vec4(a[1].y), b[1], acc[1]);
            acc[2] = fma(vec4(a[2].y), b[1], acc[2]); acc[3] = fma(vec4(a[3].y), b[1], acc[3]);
            acc[0] = fma(vec4(a[0].z), b[2], acc[0]); acc[1] = fma(vec4(a[1].z), b[2], acc[1]);
            acc[2] = fma(vec4(a[2].z), b[2], acc[2]); acc[3] = fma(vec4(a[3].z), b[2], acc[3]);
            acc[0] = fma(vec4(a[0].w), b[3], acc[0]); acc[1] = fma(vec4(a[1].w), b[3], acc[1]);
            acc[2] = fma(vec4(a[2].w), b[3], acc[2]); acc[3] = fma(vec4(a[3].w), b[3], acc[3]);
        }
    }
    let out = acc;
    let e = bias_quad(0u);
    let quads = vec4_stores();
    for (var q = 0u; q < 4u; q++) {
        var row = row0 + 8u * q + lane;
        if (variant == AT_B) {
            row = row0 + 4u * lane + q;
        }
        if (row < p.m) {
            store_quad(row, 0u, out[q], e, quads);
        }
    }
}

// M <= 4 (grid: ceil(N / 32) x 1): lane l computes all m rows of the columns col0 + 4l..+3, as
// load_b holds them. op(A)'s corner (rows past m repeat the last) is the same for every lane.
fn product_short(variant: u32, wg: vec3<u32>, lane: u32) {
    let col0 = wg.x * 32u;
    var acc: array<vec4<f32>, 4>;
    var b_vec4 = p.n % 4u == 0u;
    if (variant == A_BT) {
        b_vec4 = p.k % 4u == 0u;
    }
    b_vec4 = b_vec4 && p.b_off % 4u == 0u;
    for (var k0 = 0u; k0 < p.k; k0 += 4u) {
        let b = load_b(variant, b_vec4, col0, lane, k0);
        // a[r][t] = op(A)[r, k0 + t]
        var a: array<vec4<f32>, 4>;
        if (variant == AT_B) { // A stored [K, M]: a stored row holds op(A)'s column
            let t0 = quad(p.a_off + min(k0, p.k - 1u) * p.m, 0u, p.m - 1u, true);
            let t1 = quad(p.a_off + min(k0 + 1u, p.k - 1u) * p.m, 0u, p.m - 1u, true);
            let t2 = quad(p.a_off + min(k0 + 2u, p.k - 1u) * p.m, 0u, p.m - 1u, true);
            let t3 = quad(p.a_off + min(k0 + 3u, p.k - 1u) * p.m, 0u, p.m - 1u, true);
            let live = vec4(k0, k0 + 1u, k0 + 2u, k0 + 3u) < vec4(p.k); // steps past k read 0
            a[0] = select(vec4(0.0), vec4(t0.x, t1.x, t2.x, t3.x), live);
            a[1] = select(vec4(0.0), vec4(t0.y, t1.y, t2.y, t3.y), live);
            a[2] = select(vec4(0.0), vec4(t0.z, t1.z, t2.z, t3.z), live);
            a[3] = select(vec4(0.0), vec4(t0.w, t1.w, t2.w, t3.w), live);
        } else {
            a[0] = quad(p.a_off, k0, p.k - 1u, true);
            a[1] = quad(p.a_off + min(1u, p.m - 1u) * p.k, k0, p.k - 1u, true);
            a[2] = quad(p.a_off + min(2u, p.m - 1u) * p.k, k0, p.k - 1u, true);
            a[3] = quad(p.a_off + min(3u, p.m - 1u) * p.k, k0, p.k - 1u, true);
        }
        acc[0] = fma(vec4(a[0].x), b[0], acc[0]); acc[1] = fma(vec4(a[1].x), b[0], acc[1]);
        acc[2] = fma(vec4(a[2].x), b[0], acc[2]); acc[3] = fma(vec4(a[3].x), b[0], acc[3]);
        acc[0] = fma(vec4(a[0].y), b[1], acc[0]); acc[1] = fma(vec4(a[1].y), b[1], acc[1]);
        acc[2] = fma(vec4(a[2].y), b[1], acc[2]); acc[3] = fma(vec4(a[3].y), b[1], acc[3]);
        acc[0] = fma(vec4(a[0].z), b[2], acc[0]); acc[1] = fma(vec4(a[1].z), b[2], acc[1]);
        acc[2] = fma(vec4(a[2].z), b[2], acc[2]); acc[3] = fma(vec4(a[3].z), b[2], acc[3]);
        acc[0] = fma(vec4(a[0].w), b[3], acc[0]); acc[1] = fma(vec4(a[1].w), b[3], acc[1]);
        acc[2] = fma(vec4(a[2].w), b[3], acc[2]); acc[3] = fma(vec4(a[3].w), b[3], acc[3]);
    }
    let out = acc;
    let col = col0 + 4u * lane;
    if (col >= p.n) {
        return;
    }
    let e = bias_quad(col);
    let quads = vec4_stores();
    for (var r = 0u; r < min(4u, p.m); r++) {
        store_quad(r, col, out[r], e, quads);
    }
}

// The bias of the columns col..col+3, read once for all of a lane's rows (columns past n repeat
// the last; they are not written); 0 for the other epilogues.
fn bias_quad(col: u32) -> vec4<f32> {
    if (p.epilogue != EPI_BIAS) {
        return vec4(0.0);
    }
    let last = p.bias_off + p.n - 1u;
    let at = p.bias_off + col;
    return vec4(bias[at], bias[min(at + 1u, last)], bias[min(at + 2u, last)], bias[min(at + 3u, last)]);
}

// Whether C's rows and offset (and Y's, for EPI_ACT_GRAD) allow whole-quad stores.
fn vec4_stores() -> bool {
    return p.n % 4u == 0u && p.c_off % 4u == 0u
        && (p.epilogue != EPI_ACT_GRAD || p.bias_off % 4u == 0u);
}

// The epilogue of C[row, col..col+3] (those below n): one vec4 store (and one vec4 read of Y)
// where `quads`, instead of four stores that a CPU driver makes lane by lane.
fn store_quad(row: u32, col: u32, v: vec4<f32>, eb: vec4<f32>, quads: bool) {
    let at = row * p.n + col;
    if (quads) {
        var e = eb;
        if (p.epilogue == EPI_ACT_GRAD) {
            e = e4[(p.bias_off + at) / 4u];
        }
        c4[(p.c_off + at) / 4u] = matmul_epilogue4(p.epilogue, p.act, p.alpha, v, e);
        return;
    }
    for (var j = 0u; j < min(4u, p.n - col); j++) {
        var e = eb[j];
        if (p.epilogue == EPI_ACT_GRAD) {
            e = bias[p.bias_off + at + j];
        }
        c[p.c_off + at + j] = matmul_epilogue(p.epilogue, p.act, p.alpha, v[j], e);
    }
}

@compute @workgroup_size(8)
fn matmul_sg(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    product(AB, true, wg, lane);
}

@compute @workgroup_size(8)
fn matmul_sg_scalar(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    product(AB, false, wg, lane);
}

@compute @workgroup_size(8)
fn matmul_at_b_sg(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    product(AT_B, true, wg, lane);
}

@compute @workgroup_size(8)
fn matmul_at_b_sg_scalar(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    product(AT_B, false, wg, lane);
}

@compute @workgroup_size(8)
fn matmul_a_bt_sg(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    product(A_BT, true, wg, lane);
}

@compute @workgroup_size(8)
fn matmul_a_bt_sg_scalar(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    product(A_BT, false, wg, lane);
}

@compute @workgroup_size(8)
fn matmul_narrow_sg(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    product_narrow(AB, wg, lane);
}

@compute @workgroup_size(8)
fn matmul_at_b_narrow_sg(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    product_narrow(AT_B, wg, lane);
}

@compute @workgroup_size(8)
fn matmul_a_bt_narrow_sg(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    product_narrow(A_BT, wg, lane);
}

@compute @workgroup_size(8)
fn matmul_short_sg(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    product_short(AB, wg, lane);
}

@compute @workgroup_size(8)
fn matmul_at_b_short_sg(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    product_short(AT_B, wg, lane);
}

@compute @workgroup_size(8)
fn matmul_a_bt_short_sg(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    product_short(A_BT, wg, lane);
}
