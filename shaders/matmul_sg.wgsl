// matmul_sg.wgsl: the products of matmul.wgsl for CPU adapters (lavapipe and other SIMD drivers
// whose subgroup is a vector register of 8 lanes), with the same epilogues (bias and activation,
// or the activation's derivative), all in ONE entry point, `matmul_sg`:
//   Params.variant AB:   C[M,N] = act(A[M,K] * B[K,N] + bias)
//   Params.variant AT_B: C[M,N] = act(A^T * B + bias), A stored [K,M]
//   Params.variant A_BT: C[M,N] = act(A * B^T + bias), B stored [N,K]
// on any shape: a 32 x 32 block of C per workgroup, or, where N <= 4 or M <= 4 (a GAN's 1- or
// 2-wide layers and their weight gradients; `SKINNY` in the launcher), a skinny body that keeps
// a 4 x 4 corner of C a lane. Operands are read a vec4 at a time where Params.loads allows it and
// the stored rows and offsets are multiples of 4, one f32 at a time otherwise.
// Bindings as matmul.wgsl (0 params, 1 a, 2 b, 3 bias, 4 c, 5 a4, 6 b4; the same launcher binds
// both families), and 7 c4, 8 e4: C's and the bias's (Y's) buffers again as vec4s, for the
// epilogue's whole-quad stores. Needs a subgroup of exactly 8 lanes.
//
// Why a second formulation. A CPU driver runs a workgroup as a loop over SIMD batches of 8
// invocations and, inside a loop, fetches every storage or workgroup-memory value lane by lane
// (extract the address, test the lane's mask and the buffer's bounds, load, insert), while an
// arithmetic op costs one vector instruction for all 8 lanes. Measured on lavapipe (Mesa 25.0.7,
// LLVM 15): in the tiled kernel of matmul.wgsl the reads of workgroup memory and the staging
// cost about 3x the multiply-adds, and its 16 accumulators per lane live in the coroutine frame
// that every workgroupBarrier needs, so each multiply-add also loads and stores. Here there is no
// workgroup memory and no barrier: one workgroup is one subgroup of 8 lanes computing a 32 x 32
// block of C. Per 4 steps of k, lane l loads four quads of op(A) (its rows 4l..4l+3) and four of
// op(B) (its columns 4l..4l+3); every value of op(A) then reaches all 8 lanes by
// subgroupBroadcast, a register shuffle, and feeds 4 multiply-adds per lane. So 8 vec4 loads per
// lane buy 512 multiply-adds per lane, against 16 scalar loads of workgroup memory per 64
// multiply-adds in the tiled kernel.
//
// Why one entry point. lavapipe compiles a pipeline with LLVM at its first dispatch, and the
// time grows with the code of each place that touches a buffer (a vec4 load expands to a
// per-lane, per-component sequence with bounds tests, ~25 ms of LLVM each). The twelve entry
// points this file had (three variants x vec4 or scalar loads, and six skinny kernels) took
// 0.8-1.1 s each, and the default ring run compiled eleven of them, plus again for each
// network it built for evaluation, before it finished: 16 s of a 17 s one-iteration run with
// Mesa's shader cache off. Here the variant, the loads and the body are uniform branches read
// from Params, one pipeline (about 1.8 s) serves every product of a process (2.7 s for that
// run, with the kernels shared). What it costs at run time was measured at each step
// (1024^3 and 512^3 beside the twelve-kernel file, same run): rolled loops over the quads (one
// load site each) compiled fastest but ran at half the speed, their quads in memory; a vec4 or
// scalar choice inside the loop ran at 0.85x; two copies of the k loop, one per kind of load,
// with the loop over the quads unrolled, run at 0.96-1.0x.
//
// Measured choices (lavapipe, 512^3, per core-second beside the tiled kernel in the same run):
// - this 32 x 32 block: 3.4x the tiled kernel (`bench kernels` prints both on every shape);
//   blocks of 16 x 64, 24 x 32 and 32 x 64 were within 10% of it, 8 x 32 25% slower, and
//   workgroups of 8 subgroups 1.7x slower than one subgroup;
// - every index into acc is a constant (rank4_8 called once per row group, written out): a loop
//   indexing acc by a variable moves acc to memory and halves the speed;
// - each accumulator takes its four steps of k in a row (rank4_8, steps4) rather than all 32
//   rows one step at a time: acc's 128 vectors a lane do not fit the 32 registers, and LLVM
//   spills them to the stack, where each is now loaded, masked and stored once per four steps
//   instead of once per step: 1.09-1.10x on 1024^3 and every M512 shape (AMD EPYC, Zen 4; the
//   same bits). Blocks of 64 x 32 and 32 x 64 with this order were 0.8-0.9x (their 256 spilled
//   vectors a lane cost more than the loads they save);
// - where the time goes (Zen 4, GALLIVM_DEBUG=asm): the loop's body is about 5,100 instructions
//   per 4 steps of k, 1,024 of them the multiplies and adds; lavapipe reads every component of
//   every lane's vec4 separately, with a bounds test and a branch each, about 3,500
//   instructions. With op(B)'s loads replaced by constants the product ran at 2x, so the
//   loads, not the arithmetic, set the speed. Reading op(A) at addresses the same for all 8
//   lanes, without broadcasts, ran at 0.2x (the Intel measurement below found 0.4x);
// - the epilogue loops over a copy of acc instead, which may live in memory;
// - the epilogue reads a lane's 4 biases once and stores a row's quad with one vec4 store where
//   C's rows and offset are multiples of 4 (four scalar stores otherwise): the grid recipe's
//   128 x 2 x 128 first layer went from 230-340 to 180-190 us a dispatch;
// - the skinny bodies: D's 256 x 128 x 1 output layer and its 1 x 256 x 128 weight gradient went
//   from 370-400 to 180-210 us, the grid recipe's iteration 1.2-1.5x faster;
// - reading op(A) at one address for all 8 lanes instead of the broadcasts (a value every lane
//   needs) was 2.5x slower: lavapipe fetches it lane by lane all the same;
// - the module is built without wgpu's index clamps (`ShaderFamily::new_unclamped`; every
//   index here is in range by construction, argued where the launcher builds it): the products
//   with K = 128 of workload C (3136 x 128 x 1024, 6272 x 128 x 1024) ran 1.24-1.26x, the
//   M512 shapes 1.04-1.15x, 1024^3 1.02-1.09x (Intel Xeon, AVX-512): a cost per block more
//   than per step of k, but which of the clamps (the epilogue's `out[i]`, the accumulators'
//   `base + 4 i` before inlining, the vector components) was not isolated. `four()` is
//   min(p.quads, 4) so that the vector indices stay in range whatever Params holds.
// Each output is summed in k order by one lane with one fma per step, unfused on lavapipe as in
// matmul.wgsl, so the two give the same bits there (tests/matmul_parity.rs holds them to it).

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
    variant: u32,
    loads: u32,
    quads: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
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
// Params.loads: vec4 loads wherever the shape allows them (else one f32 at a time).
const LOADS_VEC4: u32 = 1u;
// The skinny bound (N or M at most this many) and the block's side.
const SKINNY: u32 = 4u;
const TILE: u32 = 32u;

// One pipeline per variant for the block body with vec4 loads (`FIXED` true, the launcher's
// `SubgroupForm::fixed`, for products of at least 2^22 multiply-adds): the variant is then a
// constant, and the skinny bodies and the scalar-load loop are dead code that the driver drops.
// Measured (AMD EPYC, Zen 4; `bench kernels --quick`, the builds in turn): 1.13x at 1024^3 and
// 1.14-1.27x on the M512 shapes against the pipeline that reads them from Params, whose one
// compile (about 1.8 s of LLVM on lavapipe) still serves every smaller product, so a 2-D run's
// cold start is unchanged.
override FIXED: bool = false;
override FIXED_VARIANT: u32 = 0u;

fn variant() -> u32 {
    return select(p.variant, FIXED_VARIANT, FIXED);
}

// One operand as stored: a row-major matrix from element `off` with rows of `len` values.
// quad(...) reads the four values at `inner`..`inner + 3` of stored row `outer`, where `outer`
// past `outer_last` is clamped (zero_outer false) or reads 0 (zero_outer true), and likewise
// for the values past the row's end (zero_inner). Clamped rows and columns are never stored;
// zeros are the steps of k past its end. `vec4_ok`: `len`, `off` and `inner` are multiples of 4
// and the row is read whole by one vec4 (only when zero_inner's steps cannot pass the end).
struct Stored {
    off: u32,
    len: u32,
    outer_last: u32,
    zero_outer: bool,
    zero_inner: bool,
    vec4_ok: bool,
}

// A whole quad, one vec4 load: `len`, the offset and `inner` are multiples of 4.
fn quad_vec4(from_a: bool, s: Stored, outer: u32, inner: u32) -> vec4<f32> {
    let at = (s.off + min(outer, s.outer_last) * s.len) / 4u + min(inner / 4u, s.len / 4u - 1u);
    var v: vec4<f32>;
    if (from_a) {
        v = a4[at];
    } else {
        v = b4[at];
    }
    return select(vec4(0.0), v, !s.zero_outer || outer <= s.outer_last);
}

// A quad one f32 at a time, in a loop that stays rolled (one load site for the four).
fn quad_scalar(from_a: bool, s: Stored, outer: u32, inner: u32) -> vec4<f32> {
    let base = s.off + min(outer, s.outer_last) * s.len;
    var v: vec4<f32>;
    for (var j = 0u; j < four(); j++) {
        let at = base + min(inner + j, s.len - 1u);
        var x: f32;
        if (from_a) {
            x = a[at];
        } else {
            x = b[at];
        }
        v[j] = select(x, 0.0, s.zero_inner && inner + j >= s.len);
    }
    return select(vec4(0.0), v, !s.zero_outer || outer <= s.outer_last);
}

// The four quads of one operand for 4 steps of k: quad q is stored row `outer + q` (when the
// stored rows are steps of k, outer is k0) from `inner`, read whole (`vec4`) or one f32 at a
// time. The loop over q is unrolled so that the quads stay in registers (rolled, with the quads
// in an array indexed by q, the speed at 512^3 halved); each scalar quad reads its four values
// in a rolled loop.
fn quads(vec4_loads: bool, from_a: bool, s: Stored, outer: u32, inner: u32) -> array<vec4<f32>, 4> {
    var r: array<vec4<f32>, 4>;
    for (var q = 0u; q < 4u; q++) {
        if (vec4_loads) {
            r[q] = quad_vec4(from_a, s, outer + q, inner);
        } else {
            r[q] = quad_scalar(from_a, s, outer + q, inner);
        }
    }
    return r;
}

// The values in a quad: always 4, read from Params so that the compiler keeps the loops over
// them (scalar loads, the bias, the epilogue's scalar stores) rolled, with one load site each;
// with every such loop unrolled this file took LLVM 8.6 s to compile on lavapipe, not ~2 s.
fn four() -> u32 {
    return min(p.quads, 4u);
}

fn vec4_ok(len: u32, off: u32) -> bool {
    return p.loads == LOADS_VEC4 && len % 4u == 0u && off % 4u == 0u;
}

// op(A) as stored: AB and A_BT [M, K] (a row of op(A) is a stored row), AT_B [K, M].
fn stored_a() -> Stored {
    if (variant() == AT_B) {
        return Stored(p.a_off, p.m, p.k - 1u, true, false, vec4_ok(p.m, p.a_off));
    }
    return Stored(p.a_off, p.k, p.m - 1u, false, true, vec4_ok(p.k, p.a_off));
}

// op(B) as stored: AB and AT_B [K, N] (a row of op(B) is a stored row), A_BT [N, K].
fn stored_b() -> Stored {
    if (variant() == A_BT) {
        return Stored(p.b_off, p.k, p.n - 1u, false, true, vec4_ok(p.k, p.b_off));
    }
    return Stored(p.b_off, p.n, p.k - 1u, true, false, vec4_ok(p.n, p.b_off));
}

fn transpose4(x: array<vec4<f32>, 4>) -> array<vec4<f32>, 4> {
    return array<vec4<f32>, 4>(
        vec4(x[0].x, x[1].x, x[2].x, x[3].x), vec4(x[0].y, x[1].y, x[2].y, x[3].y),
        vec4(x[0].z, x[1].z, x[2].z, x[3].z), vec4(x[0].w, x[1].w, x[2].w, x[3].w));
}

// op(A)[row + j, k0 + t] as r[t][j], for t, j < 4.
fn load_a(vec4_loads: bool, s: Stored, row: u32, k0: u32) -> array<vec4<f32>, 4> {
    if (variant() == AT_B) { // stored row k0 + t holds op(A)[row.., k0 + t]
        return quads(vec4_loads, true, s, k0, row);
    }
    // stored row row + j holds op(A)[row + j, k0..]
    return transpose4(quads(vec4_loads, true, s, row, k0));
}

// op(B)[k0 + t, col + j] as r[t][j], for t, j < 4.
fn load_b(vec4_loads: bool, s: Stored, col: u32, k0: u32) -> array<vec4<f32>, 4> {
    if (variant() == A_BT) { // stored row col + j holds op(B)[k0.., col + j]
        return transpose4(quads(vec4_loads, false, s, col, k0));
    }
    // stored row k0 + t holds op(B)[k0 + t, col..]
    return quads(vec4_loads, false, s, k0, col);
}

// The four steps of k for the rows `base + 4 i` (i < 8) of the block: lane i holds those rows'
// op(A) values in `v` (v[t] at step k0 + t), and every lane adds them times its own 4 columns
// of op(B) (b[t]) to acc[base + 4 i] in k order. Called with constant base, so after inlining
// every index is a constant.
fn rank4_8(acc: ptr<function, array<vec4<f32>, 32>>, base: u32, v: vec4<f32>, b: array<vec4<f32>, 4>) {
    (*acc)[base] = steps4((*acc)[base], subgroupBroadcast(v, 0u), b);
    (*acc)[base + 4u] = steps4((*acc)[base + 4u], subgroupBroadcast(v, 1u), b);
    (*acc)[base + 8u] = steps4((*acc)[base + 8u], subgroupBroadcast(v, 2u), b);
    (*acc)[base + 12u] = steps4((*acc)[base + 12u], subgroupBroadcast(v, 3u), b);
    (*acc)[base + 16u] = steps4((*acc)[base + 16u], subgroupBroadcast(v, 4u), b);
    (*acc)[base + 20u] = steps4((*acc)[base + 20u], subgroupBroadcast(v, 5u), b);
    (*acc)[base + 24u] = steps4((*acc)[base + 24u], subgroupBroadcast(v, 6u), b);
    (*acc)[base + 28u] = steps4((*acc)[base + 28u], subgroupBroadcast(v, 7u), b);
}

// x + a[0] b[0] + a[1] b[1] + a[2] b[2] + a[3] b[3], one fma per step in k order.
fn steps4(x: vec4<f32>, a: vec4<f32>, b: array<vec4<f32>, 4>) -> vec4<f32> {
    let y = fma(vec4(a.y), b[1], fma(vec4(a.x), b[0], x));
    return fma(vec4(a.w), b[3], fma(vec4(a.z), b[2], y));
}

// One step of a skinny body: acc[j] += op(A)[row j, k] * (4 columns of op(B) at k).
fn skinny_step(acc: ptr<function, array<vec4<f32>, 32>>, at: vec4<f32>, bt: vec4<f32>) {
    (*acc)[0] = fma(vec4(at.x), bt, (*acc)[0]);
    (*acc)[1] = fma(vec4(at.y), bt, (*acc)[1]);
    (*acc)[2] = fma(vec4(at.z), bt, (*acc)[2]);
    (*acc)[3] = fma(vec4(at.w), bt, (*acc)[3]);
}

// Four steps of k of the block or of a skinny body.
fn step4(acc: ptr<function, array<vec4<f32>, 32>>, block: bool, at: array<vec4<f32>, 4>, bt: array<vec4<f32>, 4>) {
    if (block) {
        // Row j of each lane's quad: its op(A) values at the four steps.
        rank4_8(acc, 0u, vec4(at[0].x, at[1].x, at[2].x, at[3].x), bt);
        rank4_8(acc, 1u, vec4(at[0].y, at[1].y, at[2].y, at[3].y), bt);
        rank4_8(acc, 2u, vec4(at[0].z, at[1].z, at[2].z, at[3].z), bt);
        rank4_8(acc, 3u, vec4(at[0].w, at[1].w, at[2].w, at[3].w), bt);
    } else {
        skinny_step(acc, at[0], bt[0]);
        skinny_step(acc, at[1], bt[1]);
        skinny_step(acc, at[2], bt[2]);
        skinny_step(acc, at[3], bt[3]);
    }
}

@compute @workgroup_size(8)
fn matmul_sg(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    // Which body: N <= 4 (narrow: lane l computes rows 4l..4l+3 of the 32-row block, all n
    // columns; op(B)'s corner is the same for every lane), M <= 4 (short: lane l computes all
    // m rows of its columns 4l..4l+3; op(A)'s corner is the same for every lane), or the block.
    let narrow = !FIXED && p.n <= SKINNY;
    let is_short = !FIXED && !narrow && p.m <= SKINNY;
    let block = !narrow && !is_short;
    let row0 = wg.y * TILE;
    let col0 = wg.x * TILE;
    let a_row = select(row0 + 4u * lane, 0u, is_short);
    let b_col = select(col0 + 4u * lane, 0u, narrow);
    let sa = stored_a();
    let sb = stored_b();
    var acc: array<vec4<f32>, 32>;
    // Two copies of the loop: one reading both operands a vec4 at a time, one reading them one
    // f32 at a time (a choice inside the loop kept the quads out of registers: 0.85x at 512^3).
    if (FIXED || (sa.vec4_ok && sb.vec4_ok)) {
        for (var k0 = 0u; k0 < p.k; k0 += 4u) {
            step4(&acc, block, load_a(true, sa, a_row, k0), load_b(true, sb, b_col, k0));
        }
    } else {
        for (var k0 = 0u; k0 < p.k; k0 += 4u) {
            step4(&acc, block, load_a(false, sa, a_row, k0), load_b(false, sb, b_col, k0));
        }
    }
    // The epilogue reads a copy, so that its loop may index by a variable while acc itself is
    // only ever indexed by constants and stays in registers.
    let out = acc;
    // acc[i] is C's row `first + i` at the lane's columns `col`..`col + 3`.
    var first = row0;
    var rows = min(TILE, p.m - min(row0, p.m));
    var col = b_col;
    if (narrow) {
        first = a_row;
        rows = min(4u, p.m - min(a_row, p.m));
    } else if (is_short) {
        rows = p.m;
    }
    if (col >= p.n) {
        return;
    }
    let e = bias_quad(col);
    let quads = vec4_stores();
    for (var i = 0u; i < rows; i++) {
        store_quad(first + i, col, out[i], e, quads);
    }
}

// The bias of the columns col..col+3, read once for all of a lane's rows (columns past n repeat
// the last; they are not written); 0 for the other epilogues.
fn bias_quad(col: u32) -> vec4<f32> {
    var e = vec4(0.0);
    if (p.epilogue == EPI_BIAS) {
        for (var j = 0u; j < four(); j++) {
            e[j] = bias[p.bias_off + min(col + j, p.n - 1u)];
        }
    }
    return e;
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
    let count = min(4u, p.n - col);
    var e = eb;
    if (p.epilogue == EPI_ACT_GRAD) {
        if (quads) {
            e = e4[(p.bias_off + at) / 4u];
        } else {
            for (var j = 0u; j < count; j++) {
                e[j] = bias[p.bias_off + at + j];
            }
        }
    }
    let r = epi4(v, e);
    if (quads) {
        c4[(p.c_off + at) / 4u] = r;
    } else {
        for (var j = 0u; j < count; j++) {
            c[p.c_off + at + j] = r[j];
        }
    }
}

fn epi4(v: vec4<f32>, e: vec4<f32>) -> vec4<f32> {
    if (p.epilogue == EPI_ACT_GRAD) {
        return v * act_grad4(p.act, p.alpha, e);
    }
    return act_apply4(p.act, p.alpha, select(v, v + e, p.epilogue == EPI_BIAS));
}
