//! Conditional runs end to end: a seeded digits DCGAN with `--conditional` resumes bit for bit,
//! draws its training snapshots one row per class, `sample --class K` and `sample --grid` draw
//! what they are asked for (and refuse a class out of range or a checkpoint without classes),
//! `eval` reports the conditional accuracy per class, a folder of class folders trains with its
//! sorted folder names as classes, and sets without labels are refused with a clear error.
mod common;
use common::*;
use shadergan::gan::checkpoint;
use shadergan::gan::state::TrainState;

/// A small conditional digits DCGAN (8 x 8 images, 10 classes).
fn args<'a>(out: &'a str, iterations: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--dataset",
        "digits",
        "--conditional",
        "--iterations",
        iterations,
        "--batch",
        "16",
        "--z-dim",
        "8",
        "--g-channels",
        "8",
        "--d-channels",
        "8",
        "--log-every",
        "20",
        "--seed",
        "3",
        "--out",
        out,
    ]
}

fn ok(r: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&r.stderr).to_string();
    assert!(r.status.success(), "{err}");
    String::from_utf8_lossy(&r.stdout).to_string()
}

fn fails(r: &std::process::Output, words: &[&str]) {
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success(), "should fail: {err}");
    assert!(!err.contains("panicked"), "a panic, not an error: {err}");
    for w in words {
        assert!(err.contains(w), "the error should mention {w:?}: {err}");
    }
}

/// Width and height of a grid of `cols` x `rows` tiles of 8 x 8 pixels (viz::image_grid: scale 8,
/// a 2-pixel gap around and between tiles).
fn grid_size(cols: u32, rows: u32) -> (u32, u32) {
    (2 + cols * 66, 2 + rows * 66)
}

#[test]
fn conditional_digits_run_resumes_bit_for_bit_and_samples_each_class() {
    let (straight, half) = (tmp_dir("cond_straight"), tmp_dir("cond_half"));
    let (s, h) = (straight.to_str().unwrap(), half.to_str().unwrap());
    ok(&shadergan(&args(s, "40")));
    ok(&shadergan(&args(h, "20")));
    let mut resume = args(h, "40");
    resume.retain(|a| !["--out", h].contains(a));
    resume.extend(["--resume", h]);
    ok(&shadergan(&resume));
    let load = |d: &TmpDir| checkpoint::load(&d.join("checkpoint.safetensors"), u64::MAX).unwrap();
    let (a, b) = (load(&straight), load(&half));
    let bits = |s: &TrainState| {
        [
            &s.g_params,
            &s.d_params,
            &s.g_running,
            &s.d_adam_v,
            &s.g_adam_m,
        ]
        .map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>())
    };
    assert_eq!(bits(&a.state), bits(&b.state), "resumed vs straight");
    assert!(a.config.conditional && a.config.classes == 10);
    let config = std::fs::read_to_string(straight.join("config.toml")).unwrap();
    assert!(config.contains("classes = 10"), "{config}");

    // The snapshots: 8 samples of each of the 10 classes, one row per class.
    let frame = straight.join("samples/step_000040.png");
    assert_eq!(image::image_dimensions(&frame).unwrap(), grid_size(8, 10));

    // sample --class: every CSV row is of that class.
    let csv = straight.join("sevens.csv");
    let c = csv.to_str().unwrap();
    ok(&shadergan(&[
        "sample",
        "--checkpoint",
        s,
        "--class",
        "7",
        "-n",
        "5",
        "-o",
        c,
    ]));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("class,x_0,"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r.starts_with("7,")), "{text}");
    // Without --class the samples go through the classes in turn.
    let out = ok(&shadergan(&["sample", "--checkpoint", s, "-n", "12"]));
    let classes: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(
        classes,
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "1"]
    );

    // sample --grid: one row per class, -n / classes samples in each.
    let grid = straight.join("grid.png");
    let gp = grid.to_str().unwrap();
    ok(&shadergan(&[
        "sample",
        "--checkpoint",
        s,
        "-n",
        "25",
        "--grid",
        gp,
    ]));
    assert_eq!(image::image_dimensions(&grid).unwrap(), grid_size(2, 10));

    fails(
        &shadergan(&["sample", "--checkpoint", s, "--class", "10"]),
        &["--class 10", "0 to 9"],
    );

    // eval: the share of each class's samples the classifier gives that class.
    let out = ok(&shadergan(&["eval", s, "--samples", "300"]));
    assert!(out.contains("conditional accuracy"), "{out}");
    let eval: toml::Table =
        toml::from_str(&std::fs::read_to_string(straight.join("eval.toml")).unwrap()).unwrap();
    let cond = eval["conditional"].as_table().unwrap();
    assert_eq!(cond["per_class"].as_array().unwrap().len(), 10);
    assert_eq!(
        cond["samples"].as_array().unwrap()[0].as_integer(),
        Some(30)
    );
    let overall = cond["overall"].as_float().unwrap();
    assert!((0.0..=1.0).contains(&overall), "{overall}");
}

#[test]
fn class_of_an_unconditional_checkpoint_is_an_error() {
    let out = tmp_dir("cond_plain");
    let o = out.to_str().unwrap();
    let mut a = vec!["train", "--iterations", "5", "--log-every", "5", "--out", o];
    a.extend(SMALL_NETS);
    ok(&shadergan(&a));
    fails(
        &shadergan(&["sample", "--checkpoint", o, "--class", "1"]),
        &["not trained with classes", "--conditional"],
    );
}

#[test]
fn sets_without_labels_are_refused() {
    let dir = tmp_dir("cond_flat");
    std::fs::create_dir_all(&*dir).unwrap();
    write_png(&dir.join("a.png"), 0);
    let flat = format!("images:{}", dir.display());
    for (set, words) in [
        ("ring", &["not a labelled image set"][..]),
        ("stacked-digits:n=100", &["three digits", "class"][..]),
        ("idx:some-images-idx3-ubyte", &["no labels", "labels="][..]),
        (flat.as_str(), &["directly", "subfolder"][..]),
    ] {
        let out = tmp_dir("cond_refused");
        let o = out.to_str().unwrap();
        let r = shadergan(&[
            "train",
            "--dataset",
            set,
            "--conditional",
            "--iterations",
            "2",
            "--out",
            o,
        ]);
        fails(&r, words);
    }
    let out = tmp_dir("cond_pack");
    fails(
        &shadergan(&[
            "train",
            "--dataset",
            "digits",
            "--arch",
            "mlp",
            "--conditional",
            "--pack",
            "2",
            "--out",
            out.to_str().unwrap(),
        ]),
        &["--pack 1"],
    );
}

/// An 8 x 8 grayscale PNG of one shade.
fn write_png(path: &std::path::Path, shade: u8) {
    image::GrayImage::from_pixel(8, 8, image::Luma([shade]))
        .save(path)
        .unwrap();
}

/// images:DIR with one subfolder per class: the sorted folder names are the classes, each image
/// carries its folder's class, and a conditional MLP run trains on it.
#[test]
fn a_folder_of_class_folders_is_a_labelled_set() {
    let dir = tmp_dir("cond_folders");
    for (class, shades) in [
        ("zebra", [250u8, 240]),
        ("ant", [10, 20]),
        ("cat", [128, 100]),
    ] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for (i, s) in shades.iter().enumerate() {
            write_png(&dir.join(class).join(format!("{i}.png")), *s);
        }
    }
    std::fs::create_dir_all(dir.join(".hidden")).unwrap();
    let set = shadergan::data::Dataset::parse(&format!("images:{}", dir.display())).unwrap();
    let l = set.load_conditional(None, 1, u64::MAX).unwrap();
    assert_eq!(l.classes, 3);
    // ant (0): 10, 20; cat (1): 128, 100; zebra (2): 250, 240, in file-name order.
    assert_eq!(l.labels, [0, 0, 1, 1, 2, 2]);
    let first: Vec<u8> = (0..6)
        .map(|i| ((l.images.pixels[i * 64] + 1.0) * 127.5).round() as u8)
        .collect();
    assert_eq!(first, [10, 20, 128, 100, 250, 240]);
    // Unconditional runs read the same images.
    assert_eq!(set.load_images(None, 1, u64::MAX).unwrap(), l.images);

    let out = tmp_dir("cond_folders_run");
    let o = out.to_str().unwrap();
    let spec = format!("images:{}", dir.display());
    let mut a = vec![
        "train",
        "--dataset",
        &spec,
        "--conditional",
        "--arch",
        "mlp",
        "--iterations",
        "4",
        "--log-every",
        "2",
        "--out",
        o,
    ];
    a.extend(SMALL_NETS);
    ok(&shadergan(&a));
    let ck = checkpoint::load(&out.join("checkpoint.safetensors"), u64::MAX).unwrap();
    assert_eq!(ck.config.classes, 3);
    // An empty class folder would shift the labels after it: refused.
    std::fs::create_dir_all(dir.join("dog")).unwrap();
    let Err(err) = set.load_conditional(None, 1, u64::MAX) else {
        panic!("an empty class folder should be an error");
    };
    assert!(err.to_string().contains("dog"), "{err}");
}
