//! Files: writing them so that a reader (or a kill -9) never sees half of one, and reading them
//! with a ceiling on what is read.

use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The temporary name [`atomic_write`] uses for `name`.
fn temp_name(name: &str) -> String {
    format!(".{name}.tmp")
}

/// Writes `path` through `write` into a temporary file beside it, then renames it into place,
/// so readers see the old file or the new one and never half of one. Creates missing parent
/// folders. On error the temporary file is removed and the message names `path`. The temporary
/// name is fixed (`.NAME.tmp`), so a process killed mid-write leaves at most one behind per file,
/// replaced by the next write of that file and swept by [`remove_stale_temps`].
pub fn atomic_write(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let tmp = dir.join(temp_name(&name.to_string_lossy()));
    let result = (|| -> anyhow::Result<()> {
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        write(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Removes the temporary files that writes into `dir` left behind when their process was killed:
/// `.NAME.tmp`, and `.NAME.tmpPID` from versions that put the process id in the name. Called
/// when a run directory is opened, before anything is written there.
pub fn remove_stale_temps(dir: &Path) -> anyhow::Result<usize> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix('.') else {
            continue;
        };
        let stale = match rest.rfind(".tmp") {
            Some(i) => rest[i + 4..].bytes().all(|b| b.is_ascii_digit()) && i > 0,
            None => false,
        };
        if stale && e.file_type().map(|t| t.is_file()).unwrap_or(false) {
            std::fs::remove_file(e.path()).with_context(|| {
                format!("removing the stale temporary file {}", e.path().display())
            })?;
            removed += 1;
        }
    }
    Ok(removed)
}
