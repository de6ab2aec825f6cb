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

/// Image bytes packed four to a little-endian u32 word, as gather_rows_u8 reads them (the last
/// word padded with zeros).
pub fn pack_u8(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks(4)
        .map(|c| {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(w)
        })
        .collect()
}

/// A byte expanded as gather_rows_u8 does: 0 -> -1, 255 -> 1.
pub fn expand_u8(byte: u8) -> f32 {
    byte as f32 * (2.0 / 255.0) - 1.0
}

/// gather_rows on image bytes packed by [`pack_u8`], each expanded by [`expand_u8`].
pub fn gather_rows_u8(
    rows: usize,
    cols: usize,
    data_rows: usize,
    data: &[u32],
    idx: &[u32],
    out: &mut [f32],
) {
    assert!(data_rows > 0, "gather_rows_u8: empty data set");
    for r in 0..rows {
        let src = (idx[r] as usize).min(data_rows - 1);
        for c in 0..cols {
            let b = src * cols + c;
            out[r * cols + c] = expand_u8((data[b / 4] >> (8 * (b % 4))) as u8);
        }
    }
}

/// gather_rows on u32 words (a minibatch's labels): out[r * cols + c] = data[min(idx[r],
/// data_rows - 1) * cols + c].
pub fn gather_rows_u32(
    rows: usize,
    cols: usize,
    data_rows: usize,
    data: &[u32],
    idx: &[u32],
    out: &mut [u32],
) {
    assert!(data_rows > 0, "gather_rows_u32: empty data set");
    for r in 0..rows {
        let src = (idx[r] as usize).min(data_rows - 1);
        out[r * cols..(r + 1) * cols].copy_from_slice(&data[src * cols..(src + 1) * cols]);
    }
}
