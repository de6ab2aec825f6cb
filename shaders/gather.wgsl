// gather.wgsl: a minibatch of rows picked by index (indices from rng.wgsl's rng_index).
//   gather_rows: out[out_off + r * cols + c] = data[min(idx[r], data_rows - 1) * cols + c]
//                for r < rows, c < cols
//   gather_rows_u8: the same from image bytes packed four to a u32 (little-endian: byte b of
//                the set is bits 8 (b % 4) .. of word b / 4), each expanded as
//                f32(byte) * (2 / 255) - 1, so 0 -> -1 and 255 -> 1: a 60,000-image MNIST is
//                47 MB on the device this way instead of 188 MB as f32.
//   gather_rows_u32: the same copy of u32 words (data_u32 to out_u32): a minibatch's class labels
//                picked with the indices that picked its images.
// An index past the data set reads its last row instead of memory outside it (rng_index never
// produces one; the CPU twin clamps the same way, so the two still agree if a caller does).
// Bindings: 0 params {rows, cols, data_rows, out_off}, 1 data (f32, data_rows x cols row-major;
//           gather_rows_u8: 4 data_u8, the packed bytes; gather_rows_u32: 5 data_u32), 2 idx (u32,
//           rows), 3 out (f32; gather_rows_u32: 6 out_u32). out may not alias data.
// Workgroup: 256 lanes, one output element each, so a row of any width is copied by consecutive
// lanes (coalesced reads of data); grids past 65535 groups are split into y (see flat_index).

struct Params {
    rows: u32,
    cols: u32,
    data_rows: u32,
    out_off: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> data: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> data_u8: array<u32>;
@group(0) @binding(5) var<storage, read> data_u32: array<u32>;
@group(0) @binding(6) var<storage, read_write> out_u32: array<u32>;

@compute @workgroup_size(256)
fn gather_rows(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let i = flat_index(g, nw, 256u);
    if (i >= p.rows * p.cols) {
        return;
    }
    let r = i / p.cols;
    let c = i % p.cols;
    let src = min(idx[r], p.data_rows - 1u);
    out[p.out_off + i] = data[src * p.cols + c];
}

@compute @workgroup_size(256)
fn gather_rows_u8(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let i = flat_index(g, nw, 256u);
    if (i >= p.rows * p.cols) {
        return;
    }
    let r = i / p.cols;
    let c = i % p.cols;
    let b = min(idx[r], p.data_rows - 1u) * p.cols + c;
    let byte = (data_u8[b / 4u] >> (8u * (b % 4u))) & 0xffu;
    out[p.out_off + i] = f32(byte) * (2.0 / 255.0) - 1.0;
}

@compute @workgroup_size(256)
fn gather_rows_u32(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let i = flat_index(g, nw, 256u);
    if (i >= p.rows * p.cols) {
        return;
    }
    let r = i / p.cols;
    let c = i % p.cols;
    out_u32[p.out_off + i] = data_u32[min(idx[r], p.data_rows - 1u) * p.cols + c];
}
