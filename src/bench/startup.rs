//! `shadergan bench startup`: what a user waits for before training starts, as a user sees it.
//! Runs `shadergan train --iterations 1` (the default ring run cut to one iteration: device,
//! pipelines, one iteration, the evaluation, pictures and files) in a child process with Mesa's
//! shader cache off (`MESA_SHADER_CACHE_DISABLE=true`, so a CPU driver compiles every pipeline as
//! on a new machine), and reports its wall time and peak resident memory; `--full` runs the
//! whole default ring run instead. `--vs BIN` alternates the runs with another build of
//! shadergan, so two versions are compared in the same minutes.

use super::Report;
use crate::gpu::Gpu;
use anyhow::{bail, Context};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What `bench startup` runs.
pub struct StartupOptions {
    /// Runs of each binary.
    pub runs: usize,
    /// Another shadergan binary, run in turn with this one.
    pub vs: Option<PathBuf>,
    /// The whole default ring run instead of one iteration.
    pub full: bool,
}

/// One child run: wall seconds and peak resident set size in bytes (where the OS reports it).
struct Measured {
    seconds: f64,
    peak_rss: Option<u64>,
}

pub fn run(gpu: &Gpu, opts: &StartupOptions) -> anyhow::Result<Report> {
    if opts.runs == 0 {
        bail!("--runs must be at least 1");
    }
    if let Some(vs) = opts.vs.as_ref().filter(|v| !v.is_file()) {
        bail!("--vs {}: no such program", vs.display());
    }
    let me = std::env::current_exe().context("finding this program's path")?;
    let mut bins = vec![me];
    bins.extend(opts.vs.clone());
    let scratch = std::env::temp_dir().join(format!("shadergan-startup-{}", std::process::id()));
    let mut results: Vec<Vec<Measured>> = bins.iter().map(|_| Vec::new()).collect();
    for r in 0..opts.runs {
        for (i, bin) in bins.iter().enumerate() {
            let out = scratch.join(format!("run-{i}-{r}"));
            let m = measure(bin, &gpu.info.name, &out, opts.full);
            let _ = std::fs::remove_dir_all(&out);
            results[i].push(m?);
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);

    let what = if opts.full {
        "the default ring run (train)"
    } else {
        "a first one-iteration run (train --iterations 1)"
    };
    let mut text = format!(
        "{what}, Mesa shader cache off, {} run(s) each, alternated\n{:<48} {:>9} {:>9} {:>13}\n",
        opts.runs, "binary", "median s", "min s", "peak RSS MB"
    );
    let mut records = Vec::new();
    for (bin, ms) in bins.iter().zip(&results) {
        let mut secs: Vec<f64> = ms.iter().map(|m| m.seconds).collect();
        secs.sort_by(f64::total_cmp);
        let median = secs[secs.len() / 2];
        let rss = ms.iter().filter_map(|m| m.peak_rss).max();
        let rss_mb = rss.map(|b| b as f64 / 1e6);
        text += &format!(
            "{:<48} {:>9.2} {:>9.2} {:>13}\n",
            shorten(bin),
            median,
            secs[0],
            rss_mb.map_or("-".into(), |v| format!("{v:.0}"))
        );
        records.push(json!({
            "binary": bin.display().to_string(),
            "seconds": secs,
            "median_seconds": median,
            "peak_rss_bytes": rss,
        }));
    }
    let results = json!({ "full": opts.full, "runs": records });
    Ok(Report::new(gpu, "startup", text, results))
}

/// The last 48 characters of a path.
fn shorten(p: &Path) -> String {
    let s = p.display().to_string();
    let n = s.chars().count();
    if n <= 48 {
        s
    } else {
        format!("...{}", s.chars().skip(n - 45).collect::<String>())
    }
}

/// Runs `bin train` into `out` on the adapter named `adapter` and measures it.
fn measure(bin: &Path, adapter: &str, out: &Path, full: bool) -> anyhow::Result<Measured> {
    let mut cmd = std::process::Command::new(bin);
    cmd.arg("train").arg("--out").arg(out);
    if !full {
        cmd.args(["--iterations", "1"]);
    }
    cmd.env("MESA_SHADER_CACHE_DISABLE", "true")
        .env("SHADERGAN_ADAPTER", adapter)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let t = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let (status, stderr, peak_rss) = wait_measured(child)?;
    let seconds = t.elapsed().as_secs_f64();
    if !status.success() {
        bail!(
            "{} train failed ({status}): {}",
            bin.display(),
            String::from_utf8_lossy(&stderr).trim()
        );
    }
    Ok(Measured { seconds, peak_rss })
}

/// Waits for the child and reads its peak resident set size (wait4's rusage on Unix).
#[cfg(unix)]
fn wait_measured(
    child: std::process::Child,
) -> anyhow::Result<(std::process::ExitStatus, Vec<u8>, Option<u64>)> {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let mut child = child;
    let mut stderr = Vec::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_end(&mut stderr)?;
    }
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data that wait4 fills; pid is our own child, not yet reaped.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r != pid {
        bail!(
            "waiting for the child failed: {}",
            std::io::Error::last_os_error()
        );
    }
    // ru_maxrss is in kilobytes on Linux, in bytes on macOS.
    let scale = if cfg!(target_os = "macos") { 1 } else { 1024 };
    let rss = usage.ru_maxrss as u64 * scale;
    Ok((
        std::process::ExitStatus::from_raw(status),
        stderr,
        Some(rss),
    ))
}

#[cfg(not(unix))]
fn wait_measured(
    child: std::process::Child,
) -> anyhow::Result<(std::process::ExitStatus, Vec<u8>, Option<u64>)> {
    let out = child.wait_with_output()?;
    Ok((out.status, out.stderr, None))
}
