//! Mutation fuzzing of every loader that reads outside input, on stable Rust with proptest:
//! IDX files, image folders (PNG/JPEG), the digits CSV parser, TOML config files and
//! checkpoints. Each starts from a corpus of valid files and applies 1-4 mutations (bit flips,
//! byte overwrites, header-field overwrites with edge values, truncation, inserted bytes,
//! numbers in the text replaced with edge values), half the time inside the file's framing
//! (decompressed gzip, PNG chunks with fixed checksums, the safetensors JSON header) so that
//! the mutations reach the parsers behind checksums and length prefixes. No input may panic, and no loader call may
//! allocate more than `bound(input)` at its peak, measured with a per-thread counting allocator.
//!
//! `cargo test --release --test fuzz_loaders` runs a short pass (300 cases a loader, a fixed
//! seed). The long run: `FUZZ_CASES=20000 cargo test --release --test fuzz_loaders -- --ignored`
//! (FUZZ_SEED=N repeats a run, the seed is printed; FUZZ_ONLY=checkpoint runs the loaders whose
//! name contains that text). A failure prints the shrunk input.

#[path = "common/peak_alloc.rs"]
mod peak_alloc;

mod common;
use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
use shadergan::data::{load_folder, load_idx, parse_digits_csv, write_idx};
use shadergan::gan::checkpoint::{self, Checkpoint};
use shadergan::gan::config::TrainConfig;
use shadergan::gan::state::TrainState;

#[global_allocator]
static ALLOC: peak_alloc::PeakAlloc = peak_alloc::PeakAlloc;

const MIB: u64 = 1 << 20;
/// The byte limit the loaders get (a small device), so a bound violation shows quickly.
const LIMIT: u64 = MIB;

/// The most one loader call may allocate at its peak: a few times the limit (a file read up to
/// it, a decoder's buffer, the f32 copy) and a few times the input, plus slack for fixed costs.
fn bound(input_len: usize) -> u64 {
    8 * LIMIT + 4 * input_len as u64 + MIB
}

#[derive(Clone, Debug)]
enum Mutation {
    /// Flip one bit anywhere.
    Flip { at: usize, bit: u8 },
    /// Overwrite one byte anywhere.
    Set { at: usize, byte: u8 },
    /// Overwrite a 32-bit field in the first 32 bytes (IDX dims, PNG IHDR, the safetensors
    /// header length) with an edge value.
    Field { at: usize, value: u32, le: bool },
    /// Cut the input to `len % (len + 1)` bytes.
    Truncate { len: usize },
    /// Insert bytes anywhere.
    Insert { at: usize, bytes: Vec<u8> },
    /// Replace the `nth` run of ASCII digits (CSV values, TOML numbers, JSON shapes and
    /// offsets) with an edge value.
    Number { nth: usize, text: &'static str },
}

const EDGE_WORDS: &[u32] = &[
    0,
    1,
    2,
    3,
    8,
    0x7f,
    0xff,
    0x100,
    784,
    0xffff,
    0x10000,
    20000,
    60000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
];
const EDGE_NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "16",
    "17",
    "65536",
    "100000",
    "4294967295",
    "99999999999",
    "18446744073709551615",
    "18446744073709551616",
    "1e38",
    "1e309",
    "nan",
    "inf",
    "0.5",
    "",
];

/// A byte: any value, or printable ASCII (so text formats stay text and reach their parsers).
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![any::<u8>(), 0x20u8..0x7f]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        2 => (any::<usize>(), byte()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        2 => (
            any::<usize>(),
            prop::sample::select(EDGE_WORDS),
            any::<bool>()
        )
            .prop_map(|(at, value, le)| Mutation::Field { at, value, le }),
        1 => any::<usize>().prop_map(|len| Mutation::Truncate { len }),
        2 => (any::<usize>(), prop::collection::vec(byte(), 1..64))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        4 => (any::<usize>(), prop::sample::select(EDGE_NUMBERS))
            .prop_map(|(nth, text)| Mutation::Number { nth, text }),
    ]
}

fn apply(input: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut b = input.to_vec();
    for m in mutations {
        match m {
            Mutation::Flip { at, bit } if !b.is_empty() => {
                let i = at % b.len();
                b[i] ^= 1 << bit;
            }
            Mutation::Set { at, byte } if !b.is_empty() => {
                let i = at % b.len();
                b[i] = *byte;
            }
            Mutation::Field { at, value, le } if b.len() >= 4 => {
                let i = at % (b.len().min(32) - 3);
                let v = if *le {
                    value.to_le_bytes()
                } else {
                    value.to_be_bytes()
                };
                b[i..i + 4].copy_from_slice(&v);
            }
            Mutation::Truncate { len } => b.truncate(len % (b.len() + 1)),
            Mutation::Insert { at, bytes } => {
                let i = at % (b.len() + 1);
                b.splice(i..i, bytes.iter().copied());
            }
            Mutation::Number { nth, text } => {
                let mut runs = Vec::new();
                let mut i = 0;
                while i < b.len() {
                    if b[i].is_ascii_digit() {
                        let start = i;
                        while i < b.len() && b[i].is_ascii_digit() {
                            i += 1;
                        }
                        runs.push(start..i);
                    } else {
                        i += 1;
                    }
                }
                if !runs.is_empty() {
                    let r = runs[nth % runs.len()].clone();
                    b.splice(r, text.bytes());
                }
            }
            _ => {}
        }
    }
    b
}

/// `valid` (a corpus file named `name`) with `mutations` applied: to the raw bytes when their
/// count is odd; when even, inside the file's framing, so the change reaches the parser behind
/// it: a gzip file is mutated decompressed and recompressed, a PNG gets its chunk checksums
/// recomputed, a safetensors file has its JSON header (tensor table and stored config) mutated
/// and its length prefix rewritten.
fn mutate(name: &str, valid: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    if mutations.len() % 2 == 1 {
        return apply(valid, mutations);
    }
    if name.ends_with(".gz") {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(valid)
            .read_to_end(&mut plain)
            .unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&apply(&plain, mutations)).unwrap();
        return gz.finish().unwrap();
    }
    if name.ends_with(".png") {
        return fix_png_crcs(apply(valid, mutations));
    }
    if name.ends_with(".safetensors") {
        let n = u64::from_le_bytes(valid[..8].try_into().unwrap()) as usize;
        let header = apply(&valid[8..8 + n], mutations);
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend(header);
        out.extend(&valid[8 + n..]);
        return out;
    }
    apply(valid, mutations)
}

/// Rewrites the CRC of every whole chunk after the PNG signature, as far as the lengths allow.
fn fix_png_crcs(mut b: Vec<u8>) -> Vec<u8> {
    let mut at = 8;
    while at + 12 <= b.len() {
        let len = u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        let Some(end) = (at + 8).checked_add(len).filter(|&e| e + 4 <= b.len()) else {
            break;
        };
        let mut crc = flate2::Crc::new();
        crc.update(&b[at + 4..end]);
        b[end..end + 4].copy_from_slice(&crc.sum().to_be_bytes());
        at = end + 4;
    }
    b
}

/// A fresh folder for this process and `name`, removed when the test passes.
fn scratch(name: &str) -> common::TmpDir {
    let d = common::tmp_dir(&format!("fuzz-{name}"));
    std::fs::create_dir_all(&*d).unwrap();
    d
}

/// One loader: its valid inputs (file name, bytes) and how to call it on a file holding bytes.
struct Target {
    name: &'static str,
    corpus: Vec<(String, Vec<u8>)>,
    /// Loads `path` (a file named as the corpus entry, in a folder of its own).
    call: fn(&Path, &[u8]) -> anyhow::Result<()>,
}

fn idx_target() -> Target {
    let d = scratch("idx-corpus");
    let mut corpus = Vec::new();
    for (gzip, name) in [(false, "a-idx3-ubyte"), (true, "a-idx3-ubyte.gz")] {
        let bytes: Vec<u8> = (0..3 * 4 * 5).map(|i| (i * 37 % 256) as u8).collect();
        write_idx(&d.join(name), 3, 4, 5, &bytes, gzip).unwrap();
        corpus.push((name.to_string(), std::fs::read(d.join(name)).unwrap()));
    }
    Target {
        name: "idx",
        corpus,
        call: |path, _| load_idx(path, LIMIT).map(|_| ()),
    }
}

fn folder_target() -> Target {
    let d = scratch("image-corpus");
    let rgb = image::RgbImage::from_fn(7, 5, |x, y| image::Rgb([x as u8 * 30, y as u8 * 40, 90]));
    let gray = image::GrayImage::from_fn(8, 8, |x, y| image::Luma([(x * y * 4) as u8]));
    let gray16 = image::ImageBuffer::<image::Luma<u16>, _>::from_fn(4, 6, |x, y| {
        image::Luma([x as u16 * 9000 + y as u16])
    });
    rgb.save(d.join("rgb.png")).unwrap();
    gray.save(d.join("gray.png")).unwrap();
    gray16.save(d.join("gray16.png")).unwrap();
    rgb.save(d.join("rgb.jpg")).unwrap();
    gray.save(d.join("gray.jpeg")).unwrap();
    let corpus = ["rgb.png", "gray.png", "gray16.png", "rgb.jpg", "gray.jpeg"]
        .iter()
        .map(|n| (n.to_string(), std::fs::read(d.join(n)).unwrap()))
        .collect();
    Target {
        name: "image folder",
        corpus,
        call: |path, bytes| {
            let dir = path.parent().unwrap();
            // Vary the options with the input, so every path is reached.
            let size = if bytes.len() % 2 == 0 { None } else { Some(6) };
            let channels = if bytes.len() % 3 == 0 { 3 } else { 1 };
            load_folder(dir, size, channels, LIMIT).map(|_| ())
        },
    }
}

fn digits_target() -> Target {
    let line = |k: usize| {
        let mut v: Vec<String> = (0..64).map(|i| ((i * 7 + k) % 17).to_string()).collect();
        v.push((k % 10).to_string());
        v.join(",")
    };
    let text = format!("{}\n{}\n\n{}\n", line(0), line(1), line(2));
    Target {
        name: "digits csv",
        corpus: vec![("digits.csv".into(), text.into_bytes())],
        call: |_, bytes| parse_digits_csv("fuzz.csv", &String::from_utf8_lossy(bytes)).map(|_| ()),
    }
}

fn toml_target() -> Target {
    let small = "dataset = \"grid:n=3,spacing=1.5\"\nbatch = 16\ng_hidden = [4, 4]\n\
                 lr_d = 2e-4\nimage_size = 8\n";
    let corpus = vec![
        (
            "default.toml".into(),
            TrainConfig::default().to_toml().into_bytes(),
        ),
        (
            "digits.toml".into(),
            TrainConfig::defaults_for("digits").to_toml().into_bytes(),
        ),
        ("small.toml".into(), small.as_bytes().to_vec()),
    ];
    Target {
        name: "toml config",
        corpus,
        call: |path, _| TrainConfig::from_toml_file(path)?.validate(),
    }
}

fn checkpoint_target() -> Target {
    let d = scratch("checkpoint-corpus");
    let mut corpus = Vec::new();
    for (name, data_dim, image) in [
        ("toy.safetensors", 2, None),
        ("img.safetensors", 4, Some([2, 2, 1])),
    ] {
        let cfg = TrainConfig {
            z_dim: 3,
            g_hidden: vec![5],
            d_hidden: vec![4, 3],
            ..TrainConfig::default()
        };
        let (g, dn) = (
            cfg.g_network(data_dim).unwrap(),
            cfg.d_network(data_dim).unwrap(),
        );
        let state = TrainState::fresh(&cfg, &g, &dn).unwrap();
        let ck = Checkpoint {
            config: cfg,
            state,
            data_dim,
            image,
        };
        checkpoint::save(&d.join(name), &ck).unwrap();
        corpus.push((name.to_string(), std::fs::read(d.join(name)).unwrap()));
    }
    Target {
        name: "checkpoint",
        corpus,
        call: |path, _| checkpoint::load(path, LIMIT).map(|_| ()),
    }
}

fn targets() -> Vec<Target> {
    vec![
        idx_target(),
        folder_target(),
        digits_target(),
        toml_target(),
        checkpoint_target(),
    ]
}

#[derive(Default, Debug)]
struct Tally {
    cases: u64,
    loaded: u64,
    refused: u64,
    max_peak: u64,
}

/// Runs `cases` mutated inputs through `t`; panics with the shrunk input on the first finding.
fn fuzz(t: &Target, cases: u32, seed: u64) -> Tally {
    let dirs: Vec<common::TmpDir> = (0..t.corpus.len())
        .map(|i| scratch(&format!("{}-{i}", t.name.replace(' ', "-"))))
        .collect();
    // Every corpus file is valid as it stands.
    for ((name, bytes), dir) in t.corpus.iter().zip(&dirs) {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        if let Err(e) = (t.call)(&path, bytes) {
            panic!("{}: corpus file {name} does not load: {e:#}", t.name);
        }
    }
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let tally = std::cell::RefCell::new(Tally::default());
    let strategy = (0..t.corpus.len(), prop::collection::vec(mutation(), 1..=4));
    let result = runner.run(&strategy, |(which, mutations)| {
        let (name, valid) = &t.corpus[which];
        let input = mutate(name, valid, &mutations);
        let path = dirs[which].join(name);
        std::fs::write(&path, &input).unwrap();
        let (r, peak) =
            peak_alloc::peak_during(|| catch_unwind(AssertUnwindSafe(|| (t.call)(&path, &input))));
        let Ok(r) = r else {
            return Err(TestCaseError::fail(format!(
                "{}: panicked on {} bytes derived from {name}",
                t.name,
                input.len()
            )));
        };
        let limit = bound(input.len());
        prop_assert!(
            peak <= limit,
            "{}: peak allocation {peak} bytes > bound {limit} on {} bytes derived from {name}",
            t.name,
            input.len()
        );
        let mut s = tally.borrow_mut();
        s.cases += 1;
        s.max_peak = s.max_peak.max(peak);
        match r {
            Ok(()) => s.loaded += 1,
            Err(_) => s.refused += 1,
        }
        Ok(())
    });
    for d in &dirs {
        let _ = std::fs::remove_dir_all(d);
    }
    match result {
        Ok(()) => tally.into_inner(),
        Err(TestError::Fail(why, (which, mutations))) => {
            let input = mutate(&t.corpus[which].0, &t.corpus[which].1, &mutations);
            panic!(
                "{} (seed {seed}): {why}\nmutations of {}: {mutations:?}\ninput: {input:?}",
                t.name, t.corpus[which].0
            )
        }
        Err(e) => panic!("{} (seed {seed}): {e}", t.name),
    }
}

fn run_all(cases: u32, seed: u64) {
    println!("fuzzing with {cases} cases a loader, seed {seed} (FUZZ_SEED={seed} repeats it)");
    let only = std::env::var("FUZZ_ONLY").ok();
    for t in targets() {
        if only.as_ref().is_some_and(|o| !t.name.contains(o.as_str())) {
            continue;
        }
        let s = fuzz(&t, cases, seed);
        println!(
            "{:>13}: {} inputs, {} loaded, {} refused with an error, 0 panics, peak {} KiB \
             (bound {} KiB + 4x input)",
            t.name,
            s.cases,
            s.loaded,
            s.refused,
            s.max_peak / 1024,
            bound(0) / 1024
        );
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn loaders_survive_mutated_inputs_short() {
    run_all(300, 1);
}

#[test]
#[ignore = "long run: FUZZ_CASES=20000 cargo test --release --test fuzz_loaders -- --ignored"]
fn loaders_survive_mutated_inputs_long() {
    let cases = env_u64("FUZZ_CASES").unwrap_or(20_000) as u32;
    let seed = env_u64("FUZZ_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    });
    run_all(cases, seed);
}
