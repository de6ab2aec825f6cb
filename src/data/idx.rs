//! MNIST-style IDX image files (`train-images-idx3-ubyte`, plain or gzipped), as published for
//! MNIST and Fashion-MNIST.
//!
//! Layout (big-endian): magic 0x00000803 (two zero bytes, type 0x08 = u8, 3 dimensions), then
//! the image count, rows and columns as u32, then `count * rows * cols` pixel bytes, each image
//! row-major.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use flate2::{read::GzDecoder, write::GzEncoder, Compression};

use super::images::{scale_u8, ImageSet};
use super::limit::format_bytes;

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;
const HEADER: usize = 16;
/// Bytes past the promised images that are counted (without keeping them) for the message; an
/// endless or hugely expanding stream stops here.
const TRAILING_SCAN: u64 = 1 << 20;

/// Loads an IDX images file; gzip is detected from the content, not the extension. Pixels are
/// scaled as v/255*2-1. The file must hold exactly what its header promises.
///
/// The file is streamed: the header is read and checked first, and the images it promises must
/// fit `max_bytes` as f32 values (the device's largest storage buffer) before their bytes are
/// read, so a huge, endless (`/dev/zero`) or hugely expanding gzip file costs no more memory
/// than the limit.
pub fn load_idx(path: &Path, max_bytes: u64) -> Result<ImageSet> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).with_context(|| format!("cannot read IDX file {name}"))?;
    let mut file = BufReader::new(file);
    let gzip = file
        .fill_buf()
        .with_context(|| format!("cannot read IDX file {name}"))?
        .starts_with(&[0x1f, 0x8b]);
    let mut input: Box<dyn Read> = if gzip {
        Box::new(GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let failed = || {
        if gzip {
            format!("{name}: corrupt gzip data (the download may be incomplete; fetch it again)")
        } else {
            format!("cannot read IDX file {name}")
        }
    };

    let mut header = Vec::with_capacity(HEADER);
    input
        .by_ref()
        .take(HEADER as u64)
        .read_to_end(&mut header)
        .with_context(failed)?;
    ensure!(
        header.len() >= 4,
        "{name}: {} bytes is too short for an IDX file (16-byte header expected)",
        header.len()
    );
    let word = |i: usize| {
        let b = &header[4 * i..4 * i + 4];
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
        header.len() >= HEADER,
        "{name}: {} bytes is too short for the 16-byte IDX images header (truncated file?)",
        header.len()
    );
    let (count, rows, cols) = (word(1) as u64, word(2) as u64, word(3) as u64);
    ensure!(
        count > 0 && rows > 0 && cols > 0,
        "{name}: the header gives {count} images of {rows}x{cols}; need at least one image of \
         non-zero size"
    );
    // Three u32 factors and the f32 size fit u128 without overflow.
    let want = count as u128 * rows as u128 * cols as u128;
    let f32_bytes = want * 4;
    if f32_bytes > max_bytes as u128 {
        bail!(
            "{name}: the header promises {count} images of {rows}x{cols} = {} as f32 values, more \
             than the {} limit for a data set (one storage buffer on this device); use a file \
             with fewer or smaller images",
            format_bytes(f32_bytes.min(u64::MAX as u128) as u64),
            format_bytes(max_bytes)
        );
    }
    let want = want as u64;
    let mut body = Vec::with_capacity(want as usize);
    input
        .by_ref()
        .take(want)
        .read_to_end(&mut body)
        .with_context(failed)?;
    let have = body.len() as u64;
    ensure!(
        have == want,
        "{name}: truncated: the header promises {count} images of {rows}x{cols} = {want} bytes, \
         but only {have} follow it (download it again)"
    );
    let extra =
        std::io::copy(&mut input.take(TRAILING_SCAN), &mut std::io::sink()).with_context(failed)?;
    if extra >= TRAILING_SCAN {
        let promised = format_bytes(HEADER as u64 + want);
        let scanned = format_bytes(TRAILING_SCAN);
        if gzip {
            bail!(
                "{name}: the gzip data expands beyond the {promised} the header promises \
                 ({count} images of {rows}x{cols}; stopped reading {scanned} past them); not a \
                 well-formed IDX images file"
            );
        }
        bail!(
            "{name}: more than {scanned} of unexpected bytes after the {count} images of \
             {rows}x{cols} the header promises (stopped reading there); not a well-formed IDX \
             images file"
        );
    }
    ensure!(
        extra == 0,
        "{name}: {extra} unexpected bytes after the {count} images of {rows}x{cols} the header \
         promises; not a well-formed IDX images file"
    );
    Ok(ImageSet {
        width: cols as usize,
        height: rows as usize,
        channels: 1,
        pixels: body.into_iter().map(scale_u8).collect(),
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

/// The most bytes an IDX labels file may hold (plain or expanded): one per image, for far more
/// images than any image limit admits.
pub const MAX_LABELS_BYTES: u64 = 64 << 20;

/// Loads an IDX labels file (`train-labels-idx1-ubyte`, plain or gzipped): magic 0x00000801, the
/// count as u32, then one u8 class per image. Reads at most [`MAX_LABELS_BYTES`].
pub fn load_idx_labels(path: &Path) -> Result<Vec<u32>> {
    let name = path.display().to_string();
    let raw = super::limit::read_limited(path, "IDX labels", MAX_LABELS_BYTES)?;
    let bytes = super::images::gunzip_if_gzip(&name, raw, MAX_LABELS_BYTES)?;
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
