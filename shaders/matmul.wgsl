// matmul.wgsl: dense row-major f32 matrix products, with bias and activation fused.
//   matmul:       C[M,N] = act(A[M,K] * B[K,N] + bias)
//   matmul_at_b:  C[M,N] = act(A^T * B + bias), A stored [K,M]   (weight gradients: X^T dZ)
//   matmul_a_bt:  C[M,N] = act(A * B^T + bias), B stored [N,K]   (input gradients: dZ W^T)
//   matmul_vec4, matmul_at_b_vec4, matmul_a_bt_vec4: the same, reading A and B a vec4 at a time
//                 (only for shapes whose stored row lengths and offsets are multiples of 4)
//   matmul_naive: as matmul, one output per invocation from global memory (benchmark baseline)
//   bias_grad:    db[j] = sum_i dz[i*N + j], column sums of dz[M,N] (a = dz, c = db)
// Epilogue (Params.epilogue, matmul_epilogue in common.wgsl): act(C) (EPI_ACT), act(C + bias)
// with bias[bias_off + j] (EPI_BIAS), or C * act'(Y) with Y[i,j] = bias[bias_off + i*N + j]
// (EPI_ACT_GRAD: an input gradient times the derivative of the layer below, from that layer's
// output; it saves the activation's backward a pass over memory and a dispatch: six of the grid
// recipe's iteration on lavapipe, about 7% of workload T's kernel time, with no change in the
// grid's wall time measurable on a machine whose speed moved 10% from run to run).
// A, B, C are read/written from element a_off, b_off, c_off, so a network's output can live
// inside a larger buffer (G's samples in the second half of D's input). C may not alias A or B.
// Bindings: 0 params, 1 a (read), 2 b (read), 3 bias (read), 4 c (read_write); 5 and 6 are a's
// and b's buffers again as array<vec4<f32>> (a binding has one type), used only by the _vec4s.
// Tiled kernels: a WG x WG workgroup computes an 8 WG x 8 WG block of C, each invocation an 8x8
// register tile of 16 vec4s (every value read from workgroup memory feeds 8 multiply-adds). K is
// walked in BK slices staged in workgroup memory (2 * BK * 8 WG * 4 B: 16 KiB for the 64 block,
// the WebGPU default limit) and zero-filled past the edges, so any M, K, N >= 1 works. WG and BK
// are `override`s, one pipeline per block (`Block` in the launcher: 32, 64 and 128, the blocks
// the plan-time probe of kernels/matmul_choice.rs times on the adapter). The 64 block was chosen
// on lavapipe over 16x16 workgroups with 4x4 tiles (half the speed: lavapipe pays for every
// load lane by lane). Vec4 loads stage the same tiles with a quarter of the global loads:
// 1.1-1.2x on lavapipe (bench kernels). On lavapipe the probe picks matmul_sg.wgsl (3-4x this
// kernel; its header says why). Tried on lavapipe and
// measured slower in the same runs, so not kept: a barrier-free kernel without workgroup memory
// or subgroup operations (8 rows x 8 columns a lane, op(A) at addresses shared by all lanes,
// op(B) a vec4 per lane, k 4 at a time) at 0.6-0.8x of this one (lavapipe fetches even those
// shared addresses lane by lane inside a loop), and BK = 64 (half the barriers, 32 KiB) with no
// change. Fully unrolling `accumulate` (constant indices) did not help either: this kernel's
// time goes to workgroup-memory reads. Each output is summed in k order by one invocation: no
// atomics, the same bits on every run and with either loads. bias_grad: 256 invocations in a
// row, one column each, rows in order.

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
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
@group(0) @binding(5) var<storage, read> a4: array<vec4<f32>>; // a's buffer, for the _vec4 kernels
@group(0) @binding(6) var<storage, read> b4: array<vec4<f32>>; // b's buffer, likewise

// The block, set per pipeline (`Block` in the launcher): the workgroup is WG x WG invocations,
// each an 8 x 8 register tile, so a BM x BN = 8 WG x 8 WG block of C; k is staged in slices of BK
// (2 BK BM 4 bytes of workgroup memory: 16 KiB at most, the least WebGPU, GLES 3.1 and Vulkan
// guarantee). Every block sums each output in k order, so every block gives the same bits.
override WG: u32 = 8u;
override BK: u32 = 32u;
override BM: u32 = 8u * WG;
override BN: u32 = 8u * WG;
const AB: u32 = 0u;
const AT_B: u32 = 1u;
const A_BT: u32 = 2u;

// op(A)[row0 + r, k0 + kk] is component r % 4 of tile_a[kk * BM / 4 + r / 4];
// op(B)[k0 + kk, col0 + j] is component j % 4 of tile_b[kk * BN / 4 + j / 4].
var<workgroup> tile_a: array<vec4<f32>, BK * BM / 4u>;
var<workgroup> tile_b: array<vec4<f32>, BK * BN / 4u>;

// op(A)[row, kk] and op(B)[kk, col], zero outside the matrices.
fn load_a(variant: u32, row: u32, kk: u32) -> f32 {
    if (row >= p.m || kk >= p.k) {
        return 0.0;
    }
    if (variant == AT_B) {
        return a[p.a_off + kk * p.m + row];
    }
    return a[p.a_off + row * p.k + kk];
}

fn load_b(variant: u32, kk: u32, col: u32) -> f32 {
    if (col >= p.n || kk >= p.k) {
        return 0.0;
    }
    if (variant == A_BT) {
        return b[p.b_off + col * p.k + kk];
    }
    return b[p.b_off + kk * p.n + col];
}

fn finish(row: u32, col: u32, acc: f32) {
    if (row < p.m && col < p.n) {
        var e = 0.0;
        if (p.epilogue == EPI_BIAS) {
            e = bias[p.bias_off + col];
        } else if (p.epilogue == EPI_ACT_GRAD) {
            e = bias[p.bias_off + row * p.n + col];
        }
        c[p.c_off + row * p.n + col] = matmul_epilogue(p.epilogue, p.act, p.alpha, acc, e);
    }
}

// Loads op(A) and op(B) for the k slice from k0 into the tiles, one element at a time;
// consecutive invocations read consecutive addresses of each matrix as it is stored.
fn stage(variant: u32, t: u32, row0: u32, col0: u32, k0: u32) {
    for (var e = t; e < BK * BM; e += WG * WG) { // one loop for both tiles: BM == BN
        var r = e / BK;
        var kk = e % BK;
        if (variant == AT_B) {
            r = e % BM;
            kk = e / BM;
        }
        tile_a[kk * BM / 4u + r / 4u][r % 4u] = load_a(variant, row0 + r, k0 + kk);
        var j = e % BN;
        var kb = e / BN;
        if (variant == A_BT) {
            j = e / BK;
            kb = e % BK;
        }
        tile_b[kb * BN / 4u + j / 4u][j % 4u] = load_b(variant, k0 + kb, col0 + j);
    }
}

// As stage, four consecutive elements of a stored row at a time (the _vec4 entry points).
// The launcher picks these only where every stored row length and offset is a multiple of 4, so
// a quad starts on a multiple of 4, never straddles two rows, and is wholly inside or outside.
// A quad along k lands in four tile vec4s; one along m or n is one tile vec4.
fn stage_vec4(variant: u32, t: u32, row0: u32, col0: u32, k0: u32) {
    for (var e = t; e < BK * BM / 4u; e += WG * WG) {
        if (variant == AT_B) { // A stored [K,M]: quad q of row k0 + kk
            let q = e % (BM / 4u);
            let kk = e / (BM / 4u);
            var v = vec4(0.0);
            if (row0 + 4u * q < p.m && k0 + kk < p.k) {
                v = a4[(p.a_off + (k0 + kk) * p.m + row0) / 4u + q];
            }
            tile_a[kk * BM / 4u + q] = v;
        } else { // A stored [M,K]: quad q of row row0 + r
            let q = e % (BK / 4u);
            let r = e / (BK / 4u);
            var v = vec4(0.0);
            if (row0 + r < p.m && k0 + 4u * q < p.k) {
                v = a4[(p.a_off + (row0 + r) * p.k + k0) / 4u + q];
            }
            for (var i = 0u; i < 4u; i++) {
                tile_a[(4u * q + i) * BM / 4u + r / 4u][r % 4u] = v[i];
            }
        }
        if (variant == A_BT) { // B stored [N,K]: quad q of row col0 + j
            let q = e % (BK / 4u);
            let j = e / (BK / 4u);
            var v = vec4(0.0);
            if (col0 + j < p.n && k0 + 4u * q < p.k) {
                v = b4[(p.b_off + (col0 + j) * p.k + k0) / 4u + q];
            }
            for (var i = 0u; i < 4u; i++) {
                tile_b[(4u * q + i) * BN / 4u + j / 4u][j % 4u] = v[i];
            }
        } else { // B stored [K,N]: quad q of row k0 + kb
            let q = e % (BN / 4u);
            let kb = e / (BN / 4u);
            var v = vec4(0.0);
            if (col0 + 4u * q < p.n && k0 + kb < p.k) {
                v = b4[(p.b_off + (k0 + kb) * p.n + col0) / 4u + q];
            }
            tile_b[kb * BN / 4u + q] = v;
        }
    }
}

// Invocation (x, y) owns rows 4 * (y + WG * u) + r and columns 4 * (x + WG * v) + j of the block
// (u, v in {0, 1}; r, j < 4): acc[4 * (2 * u + v) + r][j]. Adds the staged slice in kk order.
fn accumulate(l: vec3<u32>, acc: ptr<function, array<vec4<f32>, 16>>) {
    for (var kk = 0u; kk < BK; kk++) {
        let a0 = tile_a[kk * BM / 4u + l.y];
        let a1 = tile_a[kk * BM / 4u + l.y + WG];
        let b0 = tile_b[kk * BN / 4u + l.x];
        let b1 = tile_b[kk * BN / 4u + l.x + WG];
        for (var r = 0u; r < 4u; r++) {
            (*acc)[r] = fma(vec4(a0[r]), b0, (*acc)[r]);
            (*acc)[4u + r] = fma(vec4(a0[r]), b1, (*acc)[4u + r]);
            (*acc)[8u + r] = fma(vec4(a1[r]), b0, (*acc)[8u + r]);
            (*acc)[12u + r] = fma(vec4(a1[r]), b1, (*acc)[12u + r]);
        }
    }
}

fn write_out(l: vec3<u32>, row0: u32, col0: u32, acc: ptr<function, array<vec4<f32>, 16>>) {
    for (var q = 0u; q < 16u; q++) {
        let row = row0 + 4u * (l.y + WG * (q / 8u)) + q % 4u;
        let col = col0 + 4u * (l.x + WG * ((q / 4u) % 2u));
        for (var j = 0u; j < 4u; j++) {
            finish(row, col + j, (*acc)[q][j]);
        }
    }
}

// The two staging paths share everything else, so they give the same bits.
fn tiled(variant: u32, l: vec3<u32>, wg: vec3<u32>) {
    var acc: array<vec4<f32>, 16>;
    for (var k0 = 0u; k0 < p.k; k0 += BK) {
        stage(variant, l.y * WG + l.x, wg.y * BM, wg.x * BN, k0);
        workgroupBarrier();
        accumulate(l, &acc);
        workgroupBarrier();
    }
    write_out(l, wg.y * BM, wg.x * BN, &acc);
}

fn tiled_vec4(variant: u32, l: vec3<u32>, wg: vec3<u32>) {
    var acc: array<vec4<f32>, 16>;
    for (var k0 = 0u; k0 < p.k; k0 += BK) {
        stage_vec4(variant, l.y * WG + l.x, wg.y * BM, wg.x * BN, k0);
        workgroupBarrier();
        accumulate(l, &acc);
        workgroupBarrier();
    }
    write_out(l, wg.y * BM, wg.x * BN, &acc);
}

@compute @workgroup_size(WG, WG)
fn matmul(@builtin(local_invocation_id) l: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    tiled(AB, l, wg);
}

@compute @workgroup_size(WG, WG)
fn matmul_at_b(@builtin(local_invocation_id) l: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    tiled(AT_B, l, wg);
}

@compute @workgroup_size(WG, WG)
fn matmul_a_bt(@builtin(local_invocation_id) l: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    tiled(A_BT, l, wg);
}

@compute @workgroup_size(WG, WG)
fn matmul_vec4(@builtin(local_invocation_id) l: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    tiled_vec4(AB, l, wg);
}

@compute @workgroup_size(WG, WG)
fn matmul_at_b_vec4(@builtin(local_invocation_id) l: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    tiled_vec4(AT_B, l, wg);
}

@compute @workgroup_size(WG, WG)
fn matmul_a_bt_vec4(@builtin(local_invocation_id) l: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    tiled_vec4(A_BT, l, wg);
}

@compute @workgroup_size(16, 16)
fn matmul_naive(@builtin(global_invocation_id) g: vec3<u32>) {
    let row = g.y;
    let col = g.x;
    if (row >= p.m || col >= p.n) {
        return;
    }
    var acc = 0.0;
    for (var kk = 0u; kk < p.k; kk++) {
        acc = fma(a[p.a_off + row * p.k + kk], b[p.b_off + kk * p.n + col], acc);
    }
    finish(row, col, acc);
}

@compute @workgroup_size(256)
fn bias_grad(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) w: vec3<u32>) {
    let j = flat_index(g, w, 256u);
    if (j >= p.n) {
        return;
    }
    var s = 0.0;
    for (var i = 0u; i < p.m; i++) {
        s += a[p.a_off + i * p.n + j];
    }
    c[p.c_off + j] = s;
}
