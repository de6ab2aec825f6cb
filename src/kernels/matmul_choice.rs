//! Which matmul form a product gets, measured on the adapter rather than assumed.
//!
//! Products fall in three classes by their multiply-adds (`Class`). The first time a plan binds
//! a product of a class, `Matmul::choice` probes that class once: every candidate this adapter
//! can run (the tiled kernel with each block that fits its limits, and the subgroup form where
//! the adapter guarantees 8-lane subgroups) computes the class's probe product, its rows are
//! checked against a CPU sum in k order (a candidate that gives wrong numbers is never chosen,
//! and said so), and the fastest correct one is kept. The result goes to a cache file in the
//! user's cache folder ([`cache_path`]), keyed by adapter, driver, backend, shadergan version and
//! the matmul shaders' text, so later processes on the same machine pay nothing.
//! `SHADERGAN_MATMUL` ([`FORM_ENV`]) overrides: `subgroup`, `tiled` (the 64 block), `tiled-32`,
//! `tiled-64`, `tiled-128`, or `auto`.
//!
//! Every form sums each output in k order with one fma per step, so on a device that honours
//! fma (lavapipe does) they give the same bits: the choice changes speed, not results.

use super::matmul::{Block, Epilogue, Form, Loads, Matmul, MatmulShape, FORM_ENV};
use crate::gpu::{Gpu, GpuError};
use crate::ops::Variant;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A form without its loads: what the probe chooses between (the loads follow the shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pick {
    Subgroup,
    Tiled(Block),
}

impl Pick {
    pub fn form(self, loads: Loads) -> Form {
        match self {
            Pick::Subgroup => Form::Subgroup(loads),
            Pick::Tiled(b) => Form::Tiled(loads, b),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Pick::Subgroup => "subgroup",
            Pick::Tiled(b) => b.name(),
        }
    }

    /// `SHADERGAN_MATMUL`'s value: `None` for `auto` (or unset), else the form it names.
    pub fn parse_override(value: &str) -> Result<Option<Pick>, GpuError> {
        Ok(Some(match value {
            "" | "auto" => return Ok(None),
            "subgroup" => Pick::Subgroup,
            "tiled" | "tiled-64" => Pick::Tiled(Block::B64),
            "tiled-32" => Pick::Tiled(Block::B32),
            "tiled-128" => Pick::Tiled(Block::B128),
            other => {
                return Err(GpuError::Device(format!(
                    "{FORM_ENV}={other:?}: expected auto, subgroup, tiled, tiled-32, tiled-64 or \
                     tiled-128"
                )))
            }
        }))
    }
}

/// Products by multiply-adds m k n: a 2-D GAN's layers (up to about 160^3), an MLP's on images
/// (up to about 640^3), and the rest (convolutions' lowered products, 1024^3 and up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Small,
    Medium,
    Large,
}

impl Class {
    pub const ALL: [Class; 3] = [Class::Small, Class::Medium, Class::Large];

    pub fn of(s: &MatmulShape) -> Class {
        let macs = s.m as u128 * s.k as u128 * s.n as u128;
        if macs < super::matmul_sg::FIXED_MACS {
            Class::Small
        } else if macs < 1 << 28 {
            Class::Medium
        } else {
            Class::Large
        }
    }

    /// The product each class is probed on (A B, all sides multiples of 4).
    pub fn probe_shape(self) -> MatmulShape {
        match self {
            Class::Small => MatmulShape::new(128, 128, 128),
            Class::Medium => MatmulShape::new(512, 512, 512),
            Class::Large => MatmulShape::new(1024, 1024, 1024),
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Class::Small => "small",
            Class::Medium => "medium",
            Class::Large => "large",
        }
    }
}

/// What was chosen for one class, and why.
#[derive(Clone, Debug)]
pub struct Decided {
    pub pick: Pick,
    /// One line: probed (with every candidate's time), from the cache, or set by the variable.
    pub why: String,
}

/// One class's probe, as the cache file keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entry {
    key: String,
    class: String,
    pick: Pick,
    /// Microseconds per product of each correct candidate.
    times_us: BTreeMap<String, f64>,
    /// Candidates whose results were wrong on this adapter.
    wrong: Vec<String>,
}

#[derive(Default, Serialize, Deserialize)]
struct CacheFile {
    entries: Vec<Entry>,
}

/// The probe cache: `SHADERGAN_CACHE_DIR`, else the platform's user cache folder
/// (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on
/// Windows), then `shadergan/matmul-choice.json`; `None` where none is known.
pub fn cache_path() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let dir = if let Some(d) = var("SHADERGAN_CACHE_DIR") {
        d
    } else if cfg!(target_os = "macos") {
        var("HOME")?.join("Library/Caches/shadergan")
    } else if cfg!(windows) {
        var("LOCALAPPDATA")?.join("shadergan")
    } else {
        var("XDG_CACHE_HOME")
            .or_else(|| var("HOME").map(|h| h.join(".cache")))?
            .join("shadergan")
    };
    Some(dir.join("matmul-choice.json"))
}

/// The cache key of this adapter and build: what a choice depends on.
fn key(gpu: &Gpu) -> String {
    let i = &gpu.info;
    let shaders = [
        super::COMMON,
        super::shader("matmul.wgsl"),
        super::shader("matmul_sg.wgsl"),
    ];
    // FNV-1a: stable across Rust versions, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in shaders.iter().flat_map(|s| s.bytes()) {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    format!(
        "{}|{:04x}:{:04x}|{}|{}|{:?}|shadergan {}|shaders {h:016x}",
        i.name,
        i.vendor,
        i.device,
        i.driver,
        i.driver_info,
        i.backend,
        env!("CARGO_PKG_VERSION")
    )
}

/// The cache file's entries (none where it is missing or unreadable: the probe then runs again
/// and rewrites it).
fn read_cache() -> CacheFile {
    cache_path()
        .and_then(|p| crate::data::limit::read_limited(&p, "matmul choice cache", 1 << 20).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Adds `entry` to the cache file, replacing one with the same key and class. A cache that
/// cannot be written is not an error: the next process probes again.
fn write_cache(entry: Entry) {
    let Some(path) = cache_path() else {
        return;
    };
    let mut file = read_cache();
    file.entries
        .retain(|e| !(e.key == entry.key && e.class == entry.class));
    file.entries.push(entry);
    let _ = crate::io::atomic_write(&path, |w| {
        serde_json::to_writer_pretty(&mut *w, &file)?;
        Ok(())
    });
}

/// The forms this adapter can run, in the order they are tried.
pub(super) fn candidates(mm: &Matmul) -> Vec<Pick> {
    let mut c: Vec<Pick> = mm.blocks().into_iter().map(Pick::Tiled).collect();
    if mm.has_subgroup_form() {
        c.insert(0, Pick::Subgroup);
    }
    c
}

/// The form of `class` on this adapter: the variable's, the cache's, or a probe's.
pub(super) fn decide(mm: &Matmul, gpu: &Gpu, class: Class) -> Result<Decided, GpuError> {
    if let Some(pick) = Pick::parse_override(&std::env::var(FORM_ENV).unwrap_or_default())? {
        if !candidates(mm).contains(&pick) {
            return Err(GpuError::Device(format!(
                "{FORM_ENV}={}: {} cannot run it (it runs: {})",
                pick.name(),
                gpu.info.name,
                names(&candidates(mm))
            )));
        }
        let why = format!("{FORM_ENV}={}", pick.name());
        return Ok(Decided { pick, why });
    }
    let key = key(gpu);
    let where_ = cache_path().map_or("no cache folder".into(), |p| p.display().to_string());
    if let Some(e) = read_cache()
        .entries
        .into_iter()
        .find(|e| e.key == key && e.class == class.name())
        .filter(|e| candidates(mm).contains(&e.pick))
    {
        let why = format!("measured earlier ({}), cached in {where_}", times(&e));
        return Ok(Decided { pick: e.pick, why });
    }
    let entry = probe(mm, gpu, class, key)?;
    let why = format!("measured now ({}), cached in {where_}", times(&entry));
    let pick = entry.pick;
    write_cache(entry);
    Ok(Decided { pick, why })
}

/// For `shadergan devices`: the candidate forms on this adapter and what the cache holds for each
/// class, without probing anything.
pub fn report(mm: &Matmul, gpu: &Gpu) -> String {
    let mut s = format!("    matmul candidates:        {}\n", names(&candidates(mm)));
    if let Ok(v) = std::env::var(FORM_ENV) {
        s += &format!("    matmul override:          {FORM_ENV}={v}\n");
    }
    let key = key(gpu);
    let cache = read_cache();
    for c in Class::ALL {
        let line = match cache
            .entries
            .iter()
            .find(|e| e.key == key && e.class == c.name())
        {
            Some(e) => format!("{} ({})", e.pick.name(), times(e)),
            None => "not measured yet (probed when a plan first uses one)".into(),
        };
        s += &format!("    matmul {:<18} {line}\n", format!("{}:", c.name()));
    }
    let path = cache_path().map_or("none".into(), |p| p.display().to_string());
    s += &format!("    matmul choice cache:      {path}\n");
    s
}

fn names(picks: &[Pick]) -> String {
    picks
        .iter()
        .map(|p| p.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn times(e: &Entry) -> String {
    let shape = Class::ALL
        .iter()
        .find(|c| c.name() == e.class)
        .map(|c| c.probe_shape())
        .map_or(String::new(), |s| format!("{}x{}x{}: ", s.m, s.k, s.n));
    let mut t: Vec<String> = e
        .times_us
        .iter()
        .map(|(n, us)| format!("{n} {:.0} us", us))
        .collect();
    t.extend(e.wrong.iter().map(|n| format!("{n} WRONG RESULTS")));
    format!("{shape}{}", t.join(", "))
}

/// Times every candidate on the class's probe product and checks its rows against the CPU.
fn probe(mm: &Matmul, gpu: &Gpu, class: Class, key: String) -> Result<Entry, GpuError> {
    let s = class.probe_shape();
    let a_host = pattern(s.m * s.k, 1);
    let b_host = pattern(s.k * s.n, 2);
    let a = gpu.buffer_from("probe a", &a_host)?;
    let b = gpu.buffer_from("probe b", &b_host)?;
    let c = gpu.buffer("probe c", s.m * s.n)?;
    let rows = [0, s.m / 2 + 1, s.m - 1];
    let mut times_us = BTreeMap::new();
    let mut wrong = Vec::new();
    let mut best: Option<(Pick, f64)> = None;
    for pick in candidates(mm) {
        let d = mm.bind_with(
            gpu,
            Variant::AB,
            pick.form(Loads::Vec4),
            &a,
            &b,
            &c,
            s,
            Epilogue::PLAIN,
        )?;
        gpu.write(&c, &vec![f32::NAN; s.m * s.n]);
        gpu.run(std::slice::from_ref(&d))?; // compiles it, and gives the rows to check
        let correct = rows
            .iter()
            .try_fold(true, |ok, &r| -> Result<bool, GpuError> {
                let got: Vec<f32> = gpu.read_range(&c, (r * s.n * 4) as u64, (s.n * 4) as u64)?;
                Ok(ok && row_matches(&got, &a_host[r * s.k..(r + 1) * s.k], &b_host, s.n))
            })?;
        if !correct {
            wrong.push(pick.name().to_string());
            continue;
        }
        let secs = time(gpu, &d)?;
        times_us.insert(pick.name().to_string(), secs * 1e6);
        if best.is_none_or(|(_, t)| secs < t) {
            best = Some((pick, secs));
        }
    }
    let Some((pick, _)) = best else {
        return Err(GpuError::Device(format!(
            "no matmul form gave correct results on {} (tried {}); run `shadergan selftest` and \
             please report it",
            gpu.info.name,
            names(&candidates(mm))
        )));
    };
    Ok(Entry {
        key,
        class: class.name().to_string(),
        pick,
        times_us,
        wrong,
    })
}

/// Seconds per run of `d`: the faster of two submits of enough runs to take about 5 ms.
fn time(gpu: &Gpu, d: &super::Dispatch) -> Result<f64, GpuError> {
    let once = {
        let t = Instant::now();
        gpu.run(std::slice::from_ref(d))?;
        t.elapsed()
    };
    let reps = (Duration::from_millis(5).as_secs_f64() / once.as_secs_f64().max(1e-6))
        .ceil()
        .clamp(2.0, 64.0) as usize;
    let batch = vec![d.clone(); reps];
    let mut best = f64::INFINITY;
    for _ in 0..2 {
        let t = Instant::now();
        gpu.run(&batch)?;
        best = best.min(t.elapsed().as_secs_f64() / reps as f64);
    }
    Ok(best)
}

/// Whether one computed row of A B equals the CPU's sum in k order, to the parity tests'
/// tolerance (|x - y| <= max(1e-4 max(|x|, |y|), 1e-5)).
pub fn row_matches(got: &[f32], a_row: &[f32], b: &[f32], n: usize) -> bool {
    got.len() == n
        && (0..n).all(|j| {
            let want = a_row
                .iter()
                .enumerate()
                .fold(0.0f32, |acc, (kk, &x)| x.mul_add(b[kk * n + j], acc));
            let (x, y) = (got[j], want);
            (x - y).abs() <= (1e-4 * x.abs().max(y.abs())).max(1e-5)
        })
}

/// Deterministic values in [-1, 1) (a small LCG): probe operands.
fn pattern(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}
