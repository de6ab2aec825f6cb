//! CPU twins of shaders/gather.wgsl.

/// out[r * cols + c] = data[min(idx[r], data_rows - 1) * cols + c] for r < rows, c < cols
/// (`out` starts at the GPU kernel's `out_off`). An index past the data set reads its last row,
/// as the shader does.
pub fn gather_rows(
    rows: usize,
    cols: usize,
    data_rows: usize,
    data: &[f32],
    idx: &[u32],
    out: &mut [f32],
) {
    assert!(data_rows > 0, "gather_rows: empty data set");
    for r in 0..rows {
        let src = (idx[r] as usize).min(data_rows - 1);
        out[r * cols..(r + 1) * cols].copy_from_slice(&data[src * cols..(src + 1) * cols]);
    }
}
