//! Image data sets: IDX files, the embedded digits, PNG/JPEG folders, and `Dataset` parsing.
//! Every error test checks that the message names the file (or line) and the problem.

mod common;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use image::{GrayImage, Luma, Rgb, RgbImage};
use shadergan::data::{
    digits, load_folder, load_idx, parse_digits_csv, write_idx, Dataset, ImageSet,
};

/// A fresh, empty folder under the system temp dir, unique to this process and call; removed
/// when the test passes.
fn temp_dir(tag: &str) -> common::TmpDir {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = common::tmp_dir(&format!("images-{n}-{tag}"));
    std::fs::create_dir_all(&*dir).unwrap();
    dir
}

/// The data set limit the loaders get: lavapipe's largest storage buffer.
const LIMIT: u64 = 128 << 20;

fn err_text<T: std::fmt::Debug>(r: anyhow::Result<T>, what: &str) -> String {
    match r {
        Ok(v) => panic!("{what}: expected an error, got {v:?}"),
        Err(e) => format!("{e:#}"),
    }
}

fn assert_mentions(msg: &str, words: &[&str]) {
    for w in words {
        assert!(msg.contains(w), "message should mention {w:?}: {msg}");
    }
}

fn scaled(v: u8) -> f32 {
    v as f32 / 255.0 * 2.0 - 1.0
}

fn check_in_range(set: &ImageSet) {
    assert_eq!(set.pixels.len(), set.len() * set.dim());
    for &v in &set.pixels {
        assert!(
            (-1.0..=1.0).contains(&v),
            "{}: pixel {v} outside [-1, 1]",
            set.source
        );
    }
}

#[test]
fn idx_round_trip_plain_and_gzip() {
    let (count, rows, cols) = (5, 7, 9);
    // 37 is odd, so the first 256 of these 315 bytes are every value, 0 and 255 included.
    let bytes: Vec<u8> = (0..count * rows * cols)
        .map(|i| (i * 37 % 256) as u8)
        .collect();
    let dir = temp_dir("idx");
    for gzip in [false, true] {
        // The gzipped one has no .gz extension: detection is by content.
        let path = dir.join(format!("t10k-images-idx3-ubyte-{gzip}"));
        write_idx(&path, count, rows, cols, &bytes, gzip).unwrap();
        let raw = std::fs::read(&path).unwrap();
        assert_eq!(raw.starts_with(&[0x1f, 0x8b]), gzip, "gzip={gzip}");
        let set = load_idx(&path, LIMIT).unwrap();
        assert_eq!(
            (set.len(), set.height, set.width, set.channels),
            (5, 7, 9, 1)
        );
        assert_eq!(set.dim(), 63);
        let want: Vec<f32> = bytes.iter().map(|&b| scaled(b)).collect();
        assert_eq!(set.pixels, want, "gzip={gzip}");
        assert_eq!(set.image(4), &want[4 * 63..]);
        assert!(set.source.contains("t10k-images-idx3-ubyte"));
        check_in_range(&set);
        // Through the Dataset spec too.
        let ds = Dataset::parse(&format!("idx:{}", path.display())).unwrap();
        assert_eq!(ds.load_images(None, 1, LIMIT).unwrap(), set);
        let msg = err_text(ds.load_images(None, 3, LIMIT), "idx with 3 channels");
        assert_mentions(&msg, &["grayscale", "1 channel"]);
    }
    let plain = std::fs::read(dir.join("t10k-images-idx3-ubyte-false")).unwrap();
    assert_eq!(
        &plain[..16],
        &[0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 7, 0, 0, 0, 9]
    );
    assert_eq!(plain.len(), 16 + 315);
}

#[test]
fn idx_errors_name_the_file_and_the_problem() {
    let dir = temp_dir("idx-bad");
    let good = dir.join("good-images-idx3-ubyte");
    write_idx(&good, 2, 3, 4, &[7; 24], false).unwrap();
    let header = std::fs::read(&good).unwrap();

    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let cases: Vec<(PathBuf, Vec<&str>)> = vec![
        (
            write(
                "wrongmagic-idx3-ubyte",
                &[&[0, 0, 8, 4], &header[4..]].concat(),
            ),
            vec!["wrongmagic-idx3-ubyte", "magic", "0x00000804", "0x00000803"],
        ),
        (
            write(
                "train-labels-idx1-ubyte",
                &[0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3],
            ),
            vec!["train-labels-idx1-ubyte", "labels", "0x00000801", "images"],
        ),
        (
            write("truncated-idx3-ubyte", &header[..header.len() - 1]),
            vec!["truncated-idx3-ubyte", "truncated", "promises", "24", "23"],
        ),
        (
            write("shortheader-idx3-ubyte", &header[..10]),
            vec!["shortheader-idx3-ubyte", "header"],
        ),
        (
            write(
                "zero-idx3-ubyte",
                &[0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 4],
            ),
            vec!["zero-idx3-ubyte", "0 images"],
        ),
        (
            write(
                "zerosize-idx3-ubyte",
                &[0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 4],
            ),
            vec!["zerosize-idx3-ubyte", "0x4", "non-zero size"],
        ),
        (
            write("extra-idx3-ubyte", &[&header[..], &[1, 2]].concat()),
            vec!["extra-idx3-ubyte", "2 unexpected bytes"],
        ),
        (
            // gzip magic, then garbage.
            write(
                "corrupt-idx3-ubyte.gz",
                &[0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7],
            ),
            vec!["corrupt-idx3-ubyte.gz", "corrupt gzip"],
        ),
        (
            dir.join("missing-idx3-ubyte"),
            vec!["missing-idx3-ubyte", "cannot read"],
        ),
    ];
    for (path, words) in cases {
        let msg = err_text(load_idx(&path, LIMIT), &path.display().to_string());
        assert_mentions(&msg, &words);
    }

    // A file cut short inside the gzip stream is corrupt gzip, not a silent short read.
    let gz = dir.join("cut-images-idx3-ubyte.gz");
    write_idx(&gz, 2, 3, 4, &[9; 24], true).unwrap();
    let bytes = std::fs::read(&gz).unwrap();
    std::fs::write(&gz, &bytes[..bytes.len() - 6]).unwrap();
    let msg = err_text(load_idx(&gz, LIMIT), "cut gzip");
    assert_mentions(&msg, &["cut-images-idx3-ubyte.gz", "gzip"]);

    let msg = err_text(
        write_idx(&dir.join("w"), 2, 3, 4, &[0; 23], false),
        "short write",
    );
    assert_mentions(&msg, &["24 bytes", "23"]);
}

#[test]
fn digits_load_and_match_the_csv() {
    let set = digits().unwrap();
    assert_eq!(set.len(), 1797);
    assert_eq!(
        (set.width, set.height, set.channels, set.dim()),
        (8, 8, 1, 64)
    );
    check_in_range(&set);
    // Both ends of the scale are used.
    assert!(set.pixels.contains(&-1.0) && set.pixels.contains(&1.0));
    // The first line of data/digits.csv.gz, read independently of the crate.
    let first_line = "0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,\
                      5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0,0";
    let want: Vec<f32> = first_line
        .split(',')
        .take(64)
        .map(|v| v.parse::<f32>().unwrap() / 16.0 * 2.0 - 1.0)
        .collect();
    assert_eq!(set.image(0), want.as_slice());
    assert_eq!(Dataset::Digits.load_images(None, 1, LIMIT).unwrap(), set);
    let msg = err_text(Dataset::Digits.load_images(None, 3, LIMIT), "digits rgb");
    assert_mentions(&msg, &["digits", "grayscale", "3"]);
}

#[test]
fn digits_csv_errors_name_the_file_and_line() {
    let good = format!("{},3", vec!["16"; 64].join(","));
    let with_nan = format!("{good}\n{},1", vec!["NaN"; 64].join(","));
    let short = format!("{good}\n\n{good}\n1,2,3");
    let word = format!("{},x", vec!["0"; 64].join(","));
    let text = format!("{},0", vec!["abc"; 64].join(","));
    let big = format!("{},0", vec!["17"; 64].join(","));
    let cases: &[(&str, &[&str])] = &[
        (&with_nan, &["mine.csv line 2", "NaN", "not a number"]),
        (&short, &["mine.csv line 4", "65", "found 3"]),
        (&word, &["mine.csv line 1", "label", "\"x\""]),
        (
            &text,
            &["mine.csv line 1", "column 1", "\"abc\"", "not a number"],
        ),
        (&big, &["mine.csv line 1", "\"17\"", "0..16"]),
        ("", &["mine.csv", "no images"]),
    ];
    for (csv, words) in cases {
        let msg = err_text(parse_digits_csv("mine.csv", csv), csv);
        assert_mentions(&msg, words);
    }
    let set = parse_digits_csv("mine.csv", &format!("{good}\n{good}\n")).unwrap();
    assert_eq!(set.len(), 2);
    assert!(set.pixels.iter().all(|&v| v == 1.0));
}

/// A 5x7 grayscale gradient and an RGB one, distinct per `k`.
fn gray(k: u32, w: u32, h: u32) -> GrayImage {
    GrayImage::from_fn(w, h, |x, y| Luma([(k * 60 + x * 20 + y * 10) as u8]))
}
fn rgb(k: u32, w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            (k * 50 + x * 30) as u8,
            (y * 30) as u8,
            (200 - k * 40) as u8,
        ])
    })
}

/// Three 5x7 PNGs (one gray, two RGB, one with an upper-case extension), one 5x7 JPEG, and
/// files the loader must skip.
fn odd_folder() -> common::TmpDir {
    let dir = temp_dir("folder");
    gray(0, 5, 7).save(dir.join("a.png")).unwrap();
    rgb(1, 5, 7).save(dir.join("b.PNG")).unwrap();
    rgb(2, 5, 7).save(dir.join("c.png")).unwrap();
    rgb(3, 5, 7).save(dir.join("d.jpg")).unwrap();
    std::fs::write(dir.join("notes.txt"), "not an image").unwrap();
    std::fs::create_dir(dir.join("sub.png")).unwrap();
    dir
}

#[test]
fn image_folder_loads_grayscale_rgb_and_resized() {
    let dir = odd_folder();
    let g = load_folder(&dir, None, 1, LIMIT).unwrap();
    assert_eq!(
        (g.len(), g.width, g.height, g.channels, g.dim()),
        (4, 5, 7, 1, 35)
    );
    check_in_range(&g);
    // Sorted by name: a.png first, exactly its (lossless) gray values.
    let want: Vec<f32> = gray(0, 5, 7).into_raw().into_iter().map(scaled).collect();
    assert_eq!(g.image(0), want.as_slice());

    let c = load_folder(&dir, None, 3, LIMIT).unwrap();
    assert_eq!(
        (c.len(), c.width, c.height, c.channels, c.dim()),
        (4, 5, 7, 3, 105)
    );
    check_in_range(&c);
    // b.PNG is second, HWC interleaved.
    let want: Vec<f32> = rgb(1, 5, 7).into_raw().into_iter().map(scaled).collect();
    assert_eq!(c.image(1), want.as_slice());
    // The gray PNG in RGB has R = G = B.
    assert!(c.image(0).chunks(3).all(|p| p[0] == p[1] && p[1] == p[2]));

    for (size, channels) in [(4, 1), (12, 3), (1, 3)] {
        let r = load_folder(&dir, Some(size), channels, LIMIT).unwrap();
        let s = size as usize;
        assert_eq!((r.len(), r.width, r.height), (4, s, s));
        assert_eq!(r.dim(), s * s * channels as usize);
        check_in_range(&r);
    }
    // Via the Dataset spec.
    let ds = Dataset::parse(&format!("images:{}", dir.display())).unwrap();
    assert!(ds.is_image());
    assert_eq!(ds.load_images(Some(6), 3, LIMIT).unwrap().dim(), 6 * 6 * 3);
}

#[test]
fn image_folder_errors_name_the_file_and_the_problem() {
    let dir = odd_folder();
    rgb(4, 6, 7).save(dir.join("e.png")).unwrap();
    let msg = err_text(load_folder(&dir, None, 1, LIMIT), "mixed sizes");
    assert_mentions(&msg, &["e.png", "6x7", "a.png", "5x7", "--image-size"]);
    // With a size given, mixed sizes are fine.
    assert_eq!(load_folder(&dir, Some(5), 1, LIMIT).unwrap().len(), 5);

    let dir = odd_folder();
    let junk: Vec<u8> = (0..200u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(dir.join("broken.png"), junk).unwrap();
    let msg = err_text(load_folder(&dir, None, 3, LIMIT), "corrupt png");
    assert_mentions(&msg, &["broken.png", "decode"]);

    let empty = temp_dir("empty");
    std::fs::write(empty.join("readme.txt"), "no pictures").unwrap();
    let msg = err_text(load_folder(&empty, None, 1, LIMIT), "empty folder");
    assert_mentions(&msg, &["no PNG or JPEG", &empty.display().to_string()]);

    let missing = empty.join("nope");
    let msg = err_text(load_folder(&missing, None, 1, LIMIT), "missing folder");
    assert_mentions(&msg, &["nope", "does not exist"]);

    let dir = odd_folder();
    let msg = err_text(load_folder(&dir, None, 2, LIMIT), "2 channels");
    assert_mentions(&msg, &["channels", "1", "3", "2"]);
    let msg = err_text(load_folder(&dir, Some(0), 1, LIMIT), "size 0");
    assert_mentions(&msg, &["image size", "0"]);
}

#[test]
fn dataset_parses_image_specs() {
    let idx = Dataset::parse("idx:/a/b:c.gz").unwrap();
    assert_eq!(
        idx,
        Dataset::Idx {
            path: PathBuf::from("/a/b:c.gz"),
            labels: None,
        }
    );
    let images = Dataset::parse("images:my dir,v2:x").unwrap();
    assert_eq!(
        images,
        Dataset::Images {
            dir: PathBuf::from("my dir,v2:x")
        }
    );
    let digits = Dataset::parse("digits").unwrap();
    assert_eq!(digits, Dataset::Digits);
    for (ds, name) in [(&digits, "digits"), (&idx, "idx"), (&images, "images")] {
        assert_eq!(ds.name(), name);
        assert!(ds.is_image());
        assert_eq!(Dataset::parse(&ds.spec()).unwrap(), *ds);
        assert_eq!(ds.dim(), 0);
        assert!(ds.bounds().is_empty() && ds.centres().is_empty() && ds.std().is_none());
        assert!(ds.mixture().is_none());
    }
    assert!(!Dataset::parse("ring").unwrap().is_image());

    let cases: &[(&str, &[&str])] = &[
        ("idx", &["idx:PATH"]),
        ("idx:", &["idx:PATH"]),
        ("images:", &["images:DIR"]),
        ("digits:n=3", &["digits", "no parameters"]),
        (
            "mnist",
            &["\"mnist\"", "digits", "idx:PATH", "images:DIR", "ring"],
        ),
    ];
    for (spec, words) in cases {
        let msg = err_text(Dataset::parse(spec), spec);
        assert_mentions(&msg, words);
    }
    let msg = err_text(
        Dataset::parse("ring").unwrap().load_images(None, 1, LIMIT),
        "ring as images",
    );
    assert_mentions(&msg, &["ring", "not images"]);
    let msg = err_text(
        Dataset::parse("images:/no/such/shadergan/dir")
            .unwrap()
            .load_images(None, 1, LIMIT),
        "missing",
    );
    assert_mentions(&msg, &["/no/such/shadergan/dir", "does not exist"]);
}

#[test]
fn image_datasets_do_not_sample() {
    struct Zero;
    impl shadergan::noise::Noise for Zero {
        fn uniform(&mut self) -> f32 {
            0.5
        }
        fn normal(&mut self) -> f32 {
            0.0
        }
    }
    for spec in ["digits", "idx:x", "images:y"] {
        assert!(Dataset::parse(spec)
            .unwrap()
            .sample(10, &mut Zero)
            .is_empty());
    }
}

/// `--image-size` applies to every image source: the embedded digits (8 x 8) and stacked digits
/// come out N x N, in range, one image per source image, and a uniform image stays uniform.
#[test]
fn image_size_resizes_digits_and_stacked_digits() {
    let digits = Dataset::parse("digits").unwrap();
    let big = digits.load_images(Some(28), 1, u64::MAX).unwrap();
    let small = digits.load_images(None, 1, u64::MAX).unwrap();
    assert_eq!((big.width, big.height, big.channels), (28, 28, 1));
    assert_eq!(big.len(), small.len());
    assert!(big.pixels.iter().all(|v| (-1.0..=1.0).contains(v)));
    // The resize keeps each image's brightness roughly (Lanczos preserves the mean).
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    for i in [0, 100, 1796] {
        let (a, b) = (mean(small.image(i)), mean(big.image(i)));
        assert!((a - b).abs() < 0.05, "image {i}: mean {a} vs {b}");
    }
    let stacked = Dataset::parse("stacked-digits:n=50").unwrap();
    let s = stacked.load_images(Some(32), 1, u64::MAX).unwrap();
    assert_eq!((s.width, s.height, s.channels, s.len()), (32, 32, 3, 50));
    // Refused before allocating when the resized set would not fit.
    let err = digits
        .load_images(Some(64), 1, 1 << 20)
        .unwrap_err()
        .to_string();
    assert!(err.contains("64x64") && err.contains("limit"), "{err}");
}
