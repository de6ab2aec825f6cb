//! Hostile inputs (issue 8, cases 3, 4 and 10): every size a user controls has a ceiling checked
//! before allocating, streams stop at their limit, and checkpoints are checked tensor by tensor.
//! Each case must end in a one-line error that names the input, the size and the limit, and
//! (measured with a counting allocator) take far less memory than the input claims.

mod common;
#[path = "common/peak_alloc.rs"]
mod peak_alloc;

use std::io::Write;
use std::path::Path;

use common::{shadergan, tmp_dir, TmpDir};
use flate2::{write::GzEncoder, Compression};
use safetensors::tensor::{SafeTensors, TensorView};
use shadergan::data::{load_folder, load_idx, Dataset};
use shadergan::gan::checkpoint::{self, Checkpoint};
use shadergan::gan::config::TrainConfig;
use shadergan::gan::state::TrainState;

#[global_allocator]
static ALLOC: peak_alloc::PeakAlloc = peak_alloc::PeakAlloc;

/// The limit the loaders get here: lavapipe's largest storage buffer.
const LIMIT: u64 = 128 << 20;
const MIB: u64 = 1 << 20;

fn err_text<T>(r: anyhow::Result<T>, what: &str) -> String {
    match r {
        Ok(_) => panic!("{what}: expected an error"),
        Err(e) => format!("{e:#}"),
    }
}

fn assert_mentions(msg: &str, words: &[&str]) {
    for w in words {
        assert!(msg.contains(w), "message should mention {w:?}: {msg}");
    }
    assert!(!msg.contains('\n'), "message should be one line: {msg}");
}

/// Runs `f`, which must fail, and checks it allocated at most `max_peak` bytes.
fn fails_within<T>(what: &str, max_peak: u64, f: impl FnOnce() -> anyhow::Result<T>) -> String {
    let (r, peak) = peak_alloc::peak_during(f);
    assert!(
        peak <= max_peak,
        "{what}: peak allocation {peak} bytes, bound {max_peak}"
    );
    err_text(r, what)
}

fn dir(name: &str) -> TmpDir {
    let d = tmp_dir(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn idx_header(count: u32, rows: u32, cols: u32) -> Vec<u8> {
    [0x803, count, rows, cols]
        .iter()
        .flat_map(|v: &u32| v.to_be_bytes())
        .collect()
}

fn gzip_to(path: &Path, parts: &[&[u8]], zeros: usize) {
    let mut gz = GzEncoder::new(std::fs::File::create(path).unwrap(), Compression::fast());
    for p in parts {
        gz.write_all(p).unwrap();
    }
    let block = vec![0u8; 1 << 16];
    let mut left = zeros;
    while left > 0 {
        let k = left.min(block.len());
        gz.write_all(&block[..k]).unwrap();
        left -= k;
    }
    gz.finish().unwrap();
}

#[test]
fn toy_specs_have_stated_ranges() {
    let cases: &[(&str, &[&str])] = &[
        ("ring:n=99999999999", &["ring", "n", "1000", "99999999999"]),
        ("grid:n=100000", &["grid", "n", "100", "100000"]),
        ("ring:radius=1e38", &["ring", "radius", "1000", "1e38"]),
        ("ring:std=1e30", &["ring", "std", "100"]),
        (
            "grid:n=100,spacing=100",
            &["grid", "(n-1)*spacing/2", "1000"],
        ),
        ("spiral:turns=1e9", &["spiral", "turns", "100"]),
        ("moons:noise=1e20", &["moons", "noise", "100"]),
        ("gauss1d:centres=1e38", &["gauss1d", "centres", "1000"]),
    ];
    for (spec, words) in cases {
        let (r, peak) = peak_alloc::peak_during(|| Dataset::parse(spec));
        assert!(peak < MIB, "{spec}: peak {peak} bytes");
        assert_mentions(&err_text(r, spec), words);
    }
    let many = format!("gauss1d:centres={}", vec!["1"; 1001].join(";"));
    assert_mentions(
        &err_text(Dataset::parse(&many), "1001 centres"),
        &["at most 1000"],
    );
    // The largest accepted values still give finite centres and bounds.
    for spec in [
        "ring:n=1000,radius=1000,std=100",
        "grid:n=100,spacing=20,std=100",
    ] {
        let d = Dataset::parse(spec).unwrap();
        assert!(d
            .bounds()
            .iter()
            .all(|(a, b)| a.is_finite() && b.is_finite()));
    }
}

#[test]
fn idx_header_claiming_huge_images_is_refused_before_reading() {
    let d = dir("idx-huge");
    // 60000 x 28 x 28 promised (180 MiB as f32), only the header present.
    let path = d.join("huge-images-idx3-ubyte");
    std::fs::write(&path, idx_header(60000, 28, 28)).unwrap();
    let msg = fails_within("huge header", MIB, || load_idx(&path, LIMIT));
    assert_mentions(
        &msg,
        &[
            "huge-images-idx3-ubyte",
            "60000 images of 28x28",
            "128.0 MiB",
        ],
    );
    // u32::MAX everywhere must not overflow anything.
    std::fs::write(&path, idx_header(u32::MAX, u32::MAX, u32::MAX)).unwrap();
    let msg = fails_within("max header", MIB, || load_idx(&path, LIMIT));
    assert_mentions(&msg, &["4294967295 images", "limit"]);
}

#[test]
fn gzip_of_a_valid_idx_larger_than_the_limit_is_refused_from_its_header() {
    let d = dir("idx-gz-big");
    // 4000 images of 28x28: 3.0 MiB of pixels, 12 MiB as f32; the limit passed is 4 MiB.
    let path = d.join("big-images-idx3-ubyte.gz");
    gzip_to(&path, &[&idx_header(4000, 28, 28)], 4000 * 784);
    let msg = fails_within("gzipped big idx", MIB, || load_idx(&path, 4 * MIB));
    assert_mentions(
        &msg,
        &["big-images-idx3-ubyte.gz", "4000 images", "4.0 MiB"],
    );
    // The same file fits a larger limit.
    assert_eq!(load_idx(&path, 16 * MIB).unwrap().len(), 4000);
}

#[test]
fn gzip_bomb_stops_at_the_limit_and_says_so() {
    let d = dir("idx-bomb");
    // A valid 1-image header and body, then 64 MiB of zeros (a ~0.3 MB file).
    let path = d.join("bomb-images-idx3-ubyte.gz");
    gzip_to(&path, &[&idx_header(1, 2, 2), &[1, 2, 3, 4]], 64 << 20);
    let msg = fails_within("gzip bomb", 4 * MIB, || load_idx(&path, 4 * MIB));
    assert_mentions(&msg, &["bomb-images-idx3-ubyte.gz", "expands beyond"]);
    assert!(!msg.contains("corrupt"), "not a corrupt file: {msg}");
    // A zero-filled bomb (no header) stops at the magic number.
    let zeros = d.join("zeros-idx3-ubyte.gz");
    gzip_to(&zeros, &[], 64 << 20);
    let msg = fails_within("zero bomb", MIB, || load_idx(&zeros, 4 * MIB));
    assert_mentions(&msg, &["zeros-idx3-ubyte.gz", "wrong magic"]);
}

#[test]
fn endless_and_oversized_idx_inputs_stop_early() {
    let msg = fails_within("/dev/zero", MIB, || load_idx(Path::new("/dev/zero"), LIMIT));
    assert_mentions(&msg, &["/dev/zero", "wrong magic"]);
    // A valid header and body followed by 8 MiB of junk: counted up to 1 MiB, never kept.
    let d = dir("idx-tail");
    let path = d.join("tail-images-idx3-ubyte");
    let mut bytes = idx_header(1, 2, 2);
    bytes.extend([0u8; 4 + (8 << 20)]);
    std::fs::write(&path, bytes).unwrap();
    let msg = fails_within("long tail", MIB, || load_idx(&path, LIMIT));
    assert_mentions(
        &msg,
        &[
            "tail-images-idx3-ubyte",
            "more than 1.0 MiB of unexpected bytes",
        ],
    );
}

/// A PNG whose header declares `w x h` (8-bit grayscale) with an empty image data chunk: the
/// size must be refused from the header, before any decoding.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend(kind);
        out.extend(data);
        out.extend(crc.sum().to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

#[test]
fn png_declaring_20000_squared_is_refused_from_its_header() {
    let d = dir("png-huge");
    std::fs::write(d.join("huge.png"), png_claiming(20000, 20000)).unwrap();
    let msg = fails_within("20000x20000 png", MIB, || load_folder(&d, None, 1, LIMIT));
    assert_mentions(&msg, &["huge.png", "20000x20000", "1.49 GiB", "128.0 MiB"]);
    assert!(!msg.contains("G parameters"), "{msg}");
}

#[test]
fn image_size_and_folder_totals_are_bounded() {
    let d = dir("png-small");
    image::GrayImage::from_pixel(4, 4, image::Luma([7]))
        .save(d.join("a.png"))
        .unwrap();
    let msg = fails_within("image size 100000", MIB, || {
        load_folder(&d, Some(100000), 1, LIMIT)
    });
    assert_mentions(
        &msg,
        &["1 images of 100000x100000x1", "37.25 GiB", "128.0 MiB"],
    );
    let cfg = TrainConfig {
        dataset: format!("images:{}", d.display()),
        image_size: Some(100000),
        ..TrainConfig::default()
    };
    assert_mentions(
        &err_text(cfg.validate(), "config"),
        &["image_size", "4096", "100000"],
    );
    // A file larger than the limit is refused from its size, before it is read.
    std::fs::write(d.join("b.png"), vec![0u8; 2 << 20]).unwrap();
    let msg = fails_within("big file", MIB, || load_folder(&d, None, 1, MIB));
    assert_mentions(&msg, &["b.png", "2.0 MiB", "1.0 MiB"]);
}

#[test]
fn config_sizes_are_bounded() {
    let base = TrainConfig::default();
    let cases: Vec<(TrainConfig, &[&str])> = vec![
        (
            TrainConfig {
                g_hidden: vec![100000, 100000],
                ..base.clone()
            },
            &["g_hidden", "65536", "100000"],
        ),
        (
            TrainConfig {
                d_hidden: vec![8; 65],
                ..base.clone()
            },
            &["d_hidden", "65 layers", "64"],
        ),
        (
            TrainConfig {
                z_dim: 1 << 40,
                ..base.clone()
            },
            &["z_dim", "65536"],
        ),
        (
            TrainConfig {
                iters_per_submit: 1 << 40,
                ..base.clone()
            },
            &["iters_per_submit", "10000"],
        ),
        (
            TrainConfig {
                dataset: "grid:n=100000".into(),
                ..base.clone()
            },
            &["grid", "100000"],
        ),
    ];
    for (cfg, words) in cases {
        assert_mentions(&err_text(cfg.validate(), "config"), words);
    }
    // A config file that never ends is read only up to its 1 MiB ceiling (the buffer grows by
    // doubling, so old and new blocks peak at 3 MiB).
    let msg = fails_within("/dev/zero config", 4 * MIB, || {
        TrainConfig::from_toml_file(Path::new("/dev/zero"))
    });
    assert_mentions(&msg, &["config file /dev/zero", "1.0 MiB"]);
}

/// A small valid checkpoint (2-D data, G 4 -> 8 -> 2, D 2 -> 8 -> 1), written without a GPU.
fn small_checkpoint(path: &Path) {
    let cfg = TrainConfig {
        z_dim: 4,
        g_hidden: vec![8],
        d_hidden: vec![8],
        ..TrainConfig::default()
    };
    let (g, d) = (cfg.g_network(2).unwrap(), cfg.d_network(2).unwrap());
    let state = TrainState::fresh(&cfg, &g, &d).unwrap();
    let ck = Checkpoint {
        config: cfg,
        state,
        data_dim: 2,
        image: None,
    };
    checkpoint::save(path, &ck).unwrap();
}

/// Rewrites the checkpoint at `path` with `meta` changed and `shape` changing each tensor's shape.
fn rewrite_checkpoint(
    path: &Path,
    meta: impl Fn(&mut std::collections::HashMap<String, String>),
    shape: impl Fn(&str, Vec<usize>) -> Vec<usize>,
) {
    let bytes = std::fs::read(path).unwrap();
    let (_, m) = SafeTensors::read_metadata(&bytes).unwrap();
    let mut m = m.metadata().clone().unwrap();
    meta(&mut m);
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let views: Vec<(String, TensorView)> = st
        .tensors()
        .into_iter()
        .map(|(name, t)| {
            let s = shape(&name, t.shape().to_vec());
            (name, TensorView::new(t.dtype(), s, t.data()).unwrap())
        })
        .collect();
    let out = safetensors::serialize(views, Some(m)).unwrap();
    std::fs::write(path, out).unwrap();
}

#[test]
fn checkpoint_with_hostile_stored_config_is_refused() {
    let d = dir("ck-config");
    let path = d.join("checkpoint.safetensors");
    for (hidden, words) in [
        (
            "[100000, 100000]",
            &["stored config", "g_hidden", "65536"][..],
        ),
        // Within the width ceiling, but 3.6e9 parameters: more than one buffer holds.
        (
            "[60000, 60000]",
            &["stored config gives G", "parameters", "128.0 MiB"][..],
        ),
    ] {
        small_checkpoint(&path);
        rewrite_checkpoint(
            &path,
            |m| {
                let c = m["config"].replace("g_hidden = [8]", &format!("g_hidden = {hidden}"));
                m.insert("config".into(), c);
            },
            |_, s| s,
        );
        let msg = fails_within(hidden, 2 * MIB, || checkpoint::load(&path, LIMIT));
        assert_mentions(&msg, &["checkpoint.safetensors"]);
        assert_mentions(&msg, words);
    }
    // A data_dim no buffer could hold.
    small_checkpoint(&path);
    rewrite_checkpoint(
        &path,
        |m| {
            m.insert("data_dim".into(), "18446744073709551615".into());
        },
        |_, s| s,
    );
    let msg = fails_within("data_dim", 2 * MIB, || checkpoint::load(&path, LIMIT));
    assert_mentions(&msg, &["data_dim 18446744073709551615"]);
}

#[test]
fn checkpoint_tensor_shapes_are_checked() {
    let d = dir("ck-shape");
    let path = d.join("checkpoint.safetensors");
    small_checkpoint(&path);
    assert!(checkpoint::load(&path, LIMIT).is_ok());
    // A transposed weight has the right byte count but the wrong shape.
    rewrite_checkpoint(
        &path,
        |_| {},
        |name, s| {
            if name == "g.0.weight" {
                vec![s[1], s[0]]
            } else {
                s
            }
        },
    );
    let msg = err_text(checkpoint::load(&path, LIMIT), "transposed");
    assert_mentions(&msg, &["g.0.weight", "[4, 8]", "needs F32 [8, 4]"]);
    // A moment with a different shape of the same size is refused too.
    small_checkpoint(&path);
    rewrite_checkpoint(
        &path,
        |_| {},
        |name, s| {
            if name == "optim.d.adam_v" {
                vec![1, s[0]]
            } else {
                s
            }
        },
    );
    let msg = err_text(checkpoint::load(&path, LIMIT), "reshaped moment");
    assert_mentions(&msg, &["optim.d.adam_v", "[1, 33]", "needs F32 [33]"]);
    // Networks larger than the device's buffers are refused from the stored config.
    let msg = err_text(checkpoint::load(&path, 16), "tiny limit");
    assert_mentions(&msg, &["G 58 parameters (232 bytes)", "16 bytes"]);
    // A file larger than seven such buffers (G, D, their Adam moments, G's average) plus a
    // header is refused from its size.
    let mut big = std::fs::read(&path).unwrap();
    big.resize(3 << 20, b' ');
    std::fs::write(&path, big).unwrap();
    let msg = fails_within("big file", MIB, || checkpoint::load(&path, 16));
    assert_mentions(&msg, &["checkpoint", "3.0 MiB", "1.0 MiB"]);
}

/// The binary turns each hostile input into a one-line error and exit status 1 (not an abort).
#[test]
fn binary_exits_with_an_error_on_hostile_inputs() {
    let d = dir("cli");
    let png_dir = d.join("png");
    std::fs::create_dir_all(&png_dir).unwrap();
    std::fs::write(png_dir.join("huge.png"), png_claiming(20000, 20000)).unwrap();
    let good = d.join("good.safetensors");
    small_checkpoint(&good);
    let ck = d.join("transposed.safetensors");
    small_checkpoint(&ck);
    rewrite_checkpoint(
        &ck,
        |_| {},
        |n, s| {
            if n == "g.0.weight" {
                vec![s[1], s[0]]
            } else {
                s
            }
        },
    );
    let out = d.join("run");
    let out = out.to_str().unwrap();
    let images = format!("images:{}", png_dir.display());
    let cases: Vec<(Vec<&str>, &[&str])> = vec![
        (
            vec!["train", "--dataset", "ring:n=99999999999", "--out", out],
            &["n must be a positive integer no larger than 1000"],
        ),
        (
            vec!["train", "--dataset", "grid:n=100000", "--out", out],
            &["grid", "no larger than 100"],
        ),
        (
            vec!["train", "--dataset", "ring:radius=1e38", "--out", out],
            &["radius", "at most 1000"],
        ),
        (
            vec![
                "train",
                "--dataset",
                &images,
                "--image-size",
                "100000",
                "--out",
                out,
            ],
            &["image_size", "4096"],
        ),
        (
            vec!["train", "--dataset", &images, "--out", out],
            &["huge.png", "20000x20000", "limit"],
        ),
        (
            vec!["train", "--dataset", "idx:/dev/zero", "--out", out],
            &["/dev/zero", "wrong magic"],
        ),
        (
            vec!["sample", "--checkpoint", ck.to_str().unwrap(), "-n", "2"],
            &["g.0.weight", "[4, 8]", "[8, 4]"],
        ),
        (
            vec![
                "sample",
                "--checkpoint",
                good.to_str().unwrap(),
                "-n",
                "99999999999",
            ],
            &[
                "-n must be at least 1 and at most 4294967296",
                "99999999999",
            ],
        ),
    ];
    for (args, words) in cases {
        let r = shadergan(&args);
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(1), "{args:?}: {err}");
        let line = err
            .lines()
            .find(|l| l.starts_with("shadergan: error:"))
            .unwrap_or_else(|| panic!("{args:?}: no error line in {err}"));
        assert_mentions(line, words);
    }
}
