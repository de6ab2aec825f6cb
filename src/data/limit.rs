//! Size ceilings for everything read from outside: a file or a decompressed stream is read only
//! up to a limit the caller gives (for data sets, the device's largest storage buffer), so a huge
//! or endless input is an error naming the file, its size and the limit, never an allocation
//! failure that aborts the process.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};

/// `bytes` for messages: `512 bytes`, `3.2 KiB`, `128.0 MiB`, `1.46 GiB`.
pub fn format_bytes(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else if b < KIB * KIB * KIB {
        format!("{:.1} MiB", b / (KIB * KIB))
    } else {
        format!("{:.2} GiB", b / (KIB * KIB * KIB))
    }
}

/// The whole of file `path` (described as `what`, e.g. "image"), if it holds at most
/// `max_bytes`. A regular file's size is checked before reading; anything else (a pipe,
/// `/dev/zero`) is read through `take(max_bytes + 1)`, so at most one byte past the limit.
pub fn read_limited(path: &Path, what: &str, max_bytes: u64) -> Result<Vec<u8>> {
    let name = path.display();
    let file = File::open(path).with_context(|| format!("cannot read {what} {name}"))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {what} {name}"))?;
    let (len, regular) = (meta.len(), meta.is_file());
    if regular && len > max_bytes {
        bail!(
            "{what} {name} is {} ({len} bytes), more than the {} limit; use a smaller file",
            format_bytes(len),
            format_bytes(max_bytes)
        );
    }
    let mut out = Vec::with_capacity(if regular { len as usize } else { 0 });
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut out)
        .with_context(|| format!("cannot read {what} {name}"))?;
    ensure!(
        out.len() as u64 <= max_bytes,
        "{what} {name} goes on past the {} limit (stopped reading there); use a smaller file",
        format_bytes(max_bytes)
    );
    Ok(out)
}

/// Everything `reader` yields, if at most `max_bytes`; reads at most one byte more. `name` and
/// `what` (e.g. "gzip data") are for messages; read errors are `what` being corrupt.
pub fn read_stream_limited(
    reader: impl Read,
    name: &str,
    what: &str,
    max_bytes: u64,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    reader
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut out)
        .with_context(|| {
            format!("{name}: corrupt {what} (the download may be incomplete; fetch it again)")
        })?;
    ensure!(
        out.len() as u64 <= max_bytes,
        "{name}: the {what} expands beyond the {} limit (stopped reading there); use a smaller \
         file",
        format_bytes(max_bytes)
    );
    Ok(out)
}
