// conv.wgsl: 2-D convolution in NCHW layout with PyTorch's semantics (nn.Conv2d: zero padding,
// output size floor((h + 2 pad - k) / stride) + 1), its two gradients, and per-channel sums.
// With s = stride, q = pad, and tap (oh, ow, i, j) -> (oh s - q + i, ow s - q + j) when inside:
//   conv2d_forward:     out[n,o,oh,ow] = bias[o] + sum_{c,i,j} b[o,c,i,j] a[n,c,tap]
//                       (a = x [N,C,H,W], b = w [O,C,KH,KW], out = y [N,O,OH,OW])
//   conv2d_input_grad:  out[n,c,h,w] = bias[c] + sum_{o,i,j: tap(oh,ow,i,j) = (h,w)} b[o,c,i,j]
//                       a[n,o,oh,ow]   (a = dy, b = w, out = dx; bias only for ConvTranspose2d)
//   conv2d_weight_grad: out[o,c,i,j] = sum_{n,oh,ow} a[n,o,oh,ow] b[n,c,tap]
//                       (a = dy, b = x, out = dw)
//   channel_sum:        out[c] = sum_{n,k < h w} a[n,c,k]   (bias gradient; channels = in_ch)
// ConvTranspose2d(C -> O) is the adjoint of the Conv2d(O -> C) that maps its output back to its
// input, and its weight [C,O,KH,KW] is that Conv2d's weight: its forward is conv2d_input_grad
// (with bias), its input gradient conv2d_forward, its weight gradient conv2d_weight_grad with
// a = x and b = dy. Each sum runs in the CPU twin's order (src/cpu/conv.rs) except channel_sum's
// tree.
// Bindings: 0 params, 1 a, 2 b, 3 bias, 4 out (every operand at its element offset).
// Workgroup: 256 lanes, one output element each (the direct form: every operand read from
// memory, no tiles; the matmul-based forms are measured against it in `bench kernels`);
// channel_sum: one workgroup per channel, a tree over 256 lanes.

struct Params {
    batch: u32,
    in_ch: u32,
    out_ch: u32,
    h: u32,
    w: u32,
    out_h: u32,
    out_w: u32,
    k_h: u32,
    k_w: u32,
    stride: u32,
    pad: u32,
    has_bias: u32,
    a_off: u32,
    b_off: u32,
    bias_off: u32,
    out_off: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

// Input row (or column) under output position `o` and tap `k`, or -1 in the padding.
fn tap(o: u32, k: u32, size: u32) -> i32 {
    let v = i32(o * p.stride + k) - i32(p.pad);
    if (v < 0 || v >= i32(size)) {
        return -1;
    }
    return v;
}

// Output position whose tap `k` lands on input position `x`, or -1 if none does.
fn untap(x: u32, k: u32, out_size: u32) -> i32 {
    let t = i32(x + p.pad) - i32(k);
    if (t < 0 || t % i32(p.stride) != 0 || t / i32(p.stride) >= i32(out_size)) {
        return -1;
    }
    return t / i32(p.stride);
}

@compute @workgroup_size(256)
fn conv2d_forward(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let i = flat_index(g, nw, 256u);
    if (i >= p.batch * p.out_ch * p.out_h * p.out_w) {
        return;
    }
    let ow = i % p.out_w;
    let oh = (i / p.out_w) % p.out_h;
    let o = (i / (p.out_w * p.out_h)) % p.out_ch;
    let n = i / (p.out_w * p.out_h * p.out_ch);
    var acc = 0.0;
    if (p.has_bias != 0u) {
        acc = bias[p.bias_off + o];
    }
    for (var c = 0u; c < p.in_ch; c++) {
        for (var ki = 0u; ki < p.k_h; ki++) {
            let y = tap(oh, ki, p.h);
            if (y < 0) {
                continue;
            }
            for (var kj = 0u; kj < p.k_w; kj++) {
                let x = tap(ow, kj, p.w);
                if (x < 0) {
                    continue;
                }
                acc += b[p.b_off + ((o * p.in_ch + c) * p.k_h + ki) * p.k_w + kj]
                    * a[p.a_off + ((n * p.in_ch + c) * p.h + u32(y)) * p.w + u32(x)];
            }
        }
    }
    out[p.out_off + i] = acc;
}

@compute @workgroup_size(256)
fn conv2d_input_grad(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let i = flat_index(g, nw, 256u);
    if (i >= p.batch * p.in_ch * p.h * p.w) {
        return;
    }
    let x = i % p.w;
    let y = (i / p.w) % p.h;
    let c = (i / (p.w * p.h)) % p.in_ch;
    let n = i / (p.w * p.h * p.in_ch);
    var acc = 0.0;
    if (p.has_bias != 0u) {
        acc = bias[p.bias_off + c];
    }
    for (var o = 0u; o < p.out_ch; o++) {
        for (var ki = 0u; ki < p.k_h; ki++) {
            let oh = untap(y, ki, p.out_h);
            if (oh < 0) {
                continue;
            }
            for (var kj = 0u; kj < p.k_w; kj++) {
                let ow = untap(x, kj, p.out_w);
                if (ow < 0) {
                    continue;
                }
                acc += b[p.b_off + ((o * p.in_ch + c) * p.k_h + ki) * p.k_w + kj]
                    * a[p.a_off + ((n * p.out_ch + o) * p.out_h + u32(oh)) * p.out_w + u32(ow)];
            }
        }
    }
    out[p.out_off + i] = acc;
}

@compute @workgroup_size(256)
fn conv2d_weight_grad(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let i = flat_index(g, nw, 256u);
    if (i >= p.out_ch * p.in_ch * p.k_h * p.k_w) {
        return;
    }
    let kj = i % p.k_w;
    let ki = (i / p.k_w) % p.k_h;
    let c = (i / (p.k_w * p.k_h)) % p.in_ch;
    let o = i / (p.k_w * p.k_h * p.in_ch);
    var acc = 0.0;
    for (var n = 0u; n < p.batch; n++) {
        for (var oh = 0u; oh < p.out_h; oh++) {
            let y = tap(oh, ki, p.h);
            if (y < 0) {
                continue;
            }
            for (var ow = 0u; ow < p.out_w; ow++) {
                let x = tap(ow, kj, p.w);
                if (x < 0) {
                    continue;
                }
                acc += a[p.a_off + ((n * p.out_ch + o) * p.out_h + oh) * p.out_w + ow]
                    * b[p.b_off + ((n * p.in_ch + c) * p.h + u32(y)) * p.w + u32(x)];
            }
        }
    }
    out[p.out_off + i] = acc;
}

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn channel_sum(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wg: vec3<u32>) {
    let c = wg.x;
    let hw = p.h * p.w;
    var acc = 0.0;
    for (var k = lane; k < p.batch * hw; k += 256u) {
        let n = k / hw;
        acc += a[p.a_off + (n * p.in_ch + c) * hw + k % hw];
    }
    partial[lane] = acc;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lane < s) {
            partial[lane] += partial[lane + s];
        }
        workgroupBarrier();
    }
    if (lane == 0u) {
        out[p.out_off + c] = partial[0];
    }
}

// The matmul form (graph/convnet.rs lowers Conv2d and ConvTranspose2d onto the tiled matmul
// with these): with P = out_h out_w output positions and Q = in_ch k_h k_w taps,
//   im2col:    out[(n P + oh out_w + ow) Q + (c k_h + i) k_w + j] = a[n, c, tap(oh, ow, i, j)]
//              (0 in the padding): one row per output position, one column per tap
//   col2im:    out[n, c, y, x] = bias[c] + sum_{i,j: untap} a[(n P + oh out_w + ow) Q + ...],
//              im2col's adjoint as a gather (no atomics; i, then j, in the CPU twin's order)
//   to_rows:   out[(n hw + k) in_ch + c] = a[(n in_ch + c) hw + k]   (NCHW -> one row per pixel)
//   from_rows: out[(n in_ch + c) hw + k] = a[(n hw + k) in_ch + c]   (the inverse)
// with hw = h w for to_rows and from_rows. A lane writes a run of outputs, so that the integer
// divisions that locate it (which a CPU driver runs lane by lane, tens of cycles each) are done
// once per run: im2col one output row's k_h k_w taps of one channel, col2im one image row (its
// taps stepped through without dividing), to_rows one pixel's channels, from_rows one channel's
// pixels. Measured on lavapipe (workload C, the four kernels were 35% of an iteration at 0.1-0.4
// GB/s with one lane per element). They copy and sum the same values in the same order, so the
// bits are the same.

@compute @workgroup_size(256)
fn im2col(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    // Lane = (channel, output row), rows fastest: neighbouring lanes read neighbouring pixels.
    let i = flat_index(g, nw, 256u);
    let rows = p.batch * p.out_h * p.out_w;
    if (i >= rows * p.in_ch) {
        return;
    }
    let row = i % rows;
    let c = i / rows;
    let ow = row % p.out_w;
    let oh = (row / p.out_w) % p.out_h;
    let n = row / (p.out_w * p.out_h);
    let plane = p.a_off + (n * p.in_ch + c) * p.h * p.w;
    let taps = p.in_ch * p.k_h * p.k_w;
    var at = p.out_off + row * taps + c * p.k_h * p.k_w;
    for (var ki = 0u; ki < p.k_h; ki++) {
        let y = tap(oh, ki, p.h);
        for (var kj = 0u; kj < p.k_w; kj++) {
            let x = tap(ow, kj, p.w);
            var v = 0.0;
            if (y >= 0 && x >= 0) {
                v = a[plane + u32(y) * p.w + u32(x)];
            }
            out[at] = v;
            at++;
        }
    }
}

@compute @workgroup_size(256)
fn col2im(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    // Lane = one image row (n, c, y); it walks x, keeping the first tap kj0 = (x + pad) mod
    // stride and its output column ow0 = (x + pad - kj0) / stride up to date without dividing.
    let i = flat_index(g, nw, 256u);
    if (i >= p.batch * p.in_ch * p.h) {
        return;
    }
    let y = i % p.h;
    let c = (i / p.h) % p.in_ch;
    let n = i / (p.h * p.in_ch);
    let taps = p.in_ch * p.k_h * p.k_w;
    var b0 = 0.0;
    if (p.has_bias != 0u) {
        b0 = bias[p.bias_off + c];
    }
    // Only the taps with (y + pad - ki) a multiple of the stride land on this row: ki from
    // ki0 in steps of the stride, output row oh0 down by one each step (increasing ki, then kj,
    // as the CPU twin visits them).
    let ty = y + p.pad;
    let ki0 = ty % p.stride;
    let oh0 = (ty - ki0) / p.stride;
    let base = p.a_off + n * p.out_h * p.out_w * taps + c * p.k_h * p.k_w;
    var kj0 = p.pad % p.stride;
    var ow0 = (p.pad - kj0) / p.stride;
    var at = p.out_off + ((n * p.in_ch + c) * p.h + y) * p.w;
    for (var x = 0u; x < p.w; x++) {
        let tx = x + p.pad;
        var acc = b0;
        var oh = oh0;
        for (var ki = ki0; ki < p.k_h && ki <= ty; ki += p.stride) {
            if (oh < p.out_h) {
                var ow = ow0;
                for (var kj = kj0; kj < p.k_w && kj <= tx; kj += p.stride) {
                    if (ow < p.out_w) {
                        let row = oh * p.out_w + ow;
                        acc += a[base + row * taps + ki * p.k_w + kj];
                    }
                    ow--;
                }
            }
            oh--;
        }
        out[at] = acc;
        at++;
        kj0++;
        if (kj0 == p.stride) {
            kj0 = 0u;
            ow0++;
        }
    }
}

@compute @workgroup_size(256)
fn to_rows(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    // Lane = one pixel (n, k): its in_ch channels.
    let i = flat_index(g, nw, 256u);
    let hw = p.h * p.w;
    if (i >= p.batch * hw) {
        return;
    }
    let k = i % hw;
    let n = i / hw;
    var src = p.a_off + n * p.in_ch * hw + k;
    var dst = p.out_off + i * p.in_ch;
    for (var c = 0u; c < p.in_ch; c++) {
        out[dst] = a[src];
        src += hw;
        dst++;
    }
}

@compute @workgroup_size(256)
fn from_rows(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    // Lane = one channel of one image (n, c): its hw pixels.
    let i = flat_index(g, nw, 256u);
    let hw = p.h * p.w;
    if (i >= p.batch * p.in_ch) {
        return;
    }
    let c = i % p.in_ch;
    let n = i / p.in_ch;
    var src = p.a_off + n * hw * p.in_ch + c;
    var dst = p.out_off + i * hw;
    for (var k = 0u; k < hw; k++) {
        out[dst] = a[src];
        src += p.in_ch;
        dst++;
    }
}
