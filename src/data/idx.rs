//! MNIST-style IDX image files (`train-images-idx3-ubyte`, plain or gzipped), as published for
//! MNIST and Fashion-MNIST.
//!
//! Layout (big-endian): magic 0x00000803 (two zero bytes, type 0x08 = u8, 3 dimensions), then
//! the image count, rows and columns as u32, then `count * rows * cols` pixel bytes, each image
//! row-major.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use flate2::{write::GzEncoder, Compression};

use super::images::{gunzip_if_gzip, scale_u8, ImageSet};

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;
const HEADER: usize = 16;

/// Loads an IDX images file; gzip is detected from the content, not the extension. Pixels are
/// scaled as v/255*2-1. The file must hold exactly what its header promises.
pub fn load_idx(path: &Path) -> Result<ImageSet> {
    let name = path.display().to_string();
    let raw = std::fs::read(path).with_context(|| format!("cannot read IDX file {name}"))?;
    let bytes = gunzip_if_gzip(&name, raw)?;
    ensure!(
        bytes.len() >= 4,
        "{name}: {} bytes is too short for an IDX file (16-byte header expected)",
        bytes.len()
    );
    let word = |i: usize| {
        let b = &bytes[4 * i..4 * i + 4];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    };
    match word(0) {
        IMAGES_MAGIC => {}
        LABELS_MAGIC => bail!(
            "{name}: this looks like an IDX labels file (magic 0x{LABELS_MAGIC:08x}, e.g. \
             train-labels-idx1-ubyte), not images; pass the images file \
             (e.g. train-images-idx3-ubyte[.gz]), whose magic is 0x{IMAGES_MAGIC:08x}"
        ),
        found => bail!(
            "{name}: wrong magic number 0x{found:08x}, expected 0x{IMAGES_MAGIC:08x} \
             (IDX images: u8 pixels, 3 dimensions); is this an MNIST *-images-idx3-ubyte file?"
        ),
    }
    ensure!(
        bytes.len() >= HEADER,
        "{name}: {} bytes is too short for the 16-byte IDX images header (truncated file?)",
        bytes.len()
    );
    let (count, rows, cols) = (word(1) as usize, word(2) as usize, word(3) as usize);
    ensure!(
        count > 0 && rows > 0 && cols > 0,
        "{name}: the header gives {count} images of {rows}x{cols}; need at least one image of \
         non-zero size"
    );
    let want = count
        .checked_mul(rows)
        .and_then(|n| n.checked_mul(cols))
        .with_context(|| format!("{name}: header size {count}x{rows}x{cols} overflows"))?;
    let have = bytes.len() - HEADER;
    ensure!(
        have >= want,
        "{name}: truncated: the header promises {count} images of {rows}x{cols} = {want} bytes, \
         but only {have} follow it (download it again)"
    );
    ensure!(
        have == want,
        "{name}: {} unexpected bytes after the {count} images of {rows}x{cols} the header \
         promises; not a well-formed IDX images file",
        have - want
    );
    Ok(ImageSet {
        width: cols,
        height: rows,
        channels: 1,
        pixels: bytes[HEADER..].iter().copied().map(scale_u8).collect(),
        source: name,
    })
}

/// Writes `count` images of `rows x cols` u8 pixels (`bytes`, row-major, image after image) as
/// an IDX images file, gzipped if `gzip`. The file appears whole or not at all.
pub fn write_idx(
    path: &Path,
    count: usize,
    rows: usize,
    cols: usize,
    bytes: &[u8],
    gzip: bool,
) -> Result<()> {
    let name = path.display();
    let want = count
        .checked_mul(rows)
        .and_then(|n| n.checked_mul(cols))
        .with_context(|| format!("{name}: size {count}x{rows}x{cols} overflows"))?;
    ensure!(
        bytes.len() == want,
        "{name}: {count} images of {rows}x{cols} need {want} bytes, got {}",
        bytes.len()
    );
    let mut header = Vec::with_capacity(HEADER);
    for v in [IMAGES_MAGIC as usize, count, rows, cols] {
        let v = u32::try_from(v)
            .with_context(|| format!("{name}: {v} does not fit the IDX header's u32"))?;
        header.extend_from_slice(&v.to_be_bytes());
    }
    crate::io::atomic_write(path, |w| {
        if gzip {
            let mut gz = GzEncoder::new(w, Compression::default());
            gz.write_all(&header)?;
            gz.write_all(bytes)?;
            gz.finish()?;
        } else {
            w.write_all(&header)?;
            w.write_all(bytes)?;
        }
        Ok(())
    })
    .with_context(|| format!("cannot write IDX file {name}"))
}

/// Loads an IDX labels file (`train-labels-idx1-ubyte`, plain or gzipped): magic 0x00000801, the
/// count as u32, then one u8 class per image.
pub fn load_idx_labels(path: &Path) -> Result<Vec<u32>> {
    let name = path.display().to_string();
    let raw = std::fs::read(path).with_context(|| format!("cannot read IDX labels {name}"))?;
    let bytes = gunzip_if_gzip(&name, raw)?;
    ensure!(
        bytes.len() >= 8,
        "{name}: {} bytes is too short for an IDX labels file (8-byte header expected)",
        bytes.len()
    );
    let word = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    match word(0) {
        LABELS_MAGIC => {}
        IMAGES_MAGIC => bail!(
            "{name}: this is an IDX images file; labels=... takes the labels file \
             (e.g. train-labels-idx1-ubyte[.gz], magic 0x{LABELS_MAGIC:08x})"
        ),
        found => bail!(
            "{name}: wrong magic number 0x{found:08x}, expected 0x{LABELS_MAGIC:08x} (IDX labels)"
        ),
    }
    let count = word(4) as usize;
    ensure!(
        bytes.len() - 8 == count,
        "{name}: the header promises {count} labels but {} bytes follow it",
        bytes.len() - 8
    );
    Ok(bytes[8..].iter().map(|&b| b as u32).collect())
}
