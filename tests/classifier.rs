//! The evaluation classifier: trained on the GPU from a fixed seed it classifies the held-out
//! embedded digits well; its file round-trips with PyTorch-style names; the cache reuses it.
mod common;
use common::*;
use shadergan::classifier::{self, ClassifierConfig, ClassifierGpu};

/// Test accuracy of the seeded default digits MLP. Measured 0.97 or more on lavapipe; the bound
/// leaves room for another driver's rounding.
const DIGITS_ACCURACY: f32 = 0.95;

/// `c` saved into a new folder named after `what`: (folder, file, the file's bytes).
fn saved(c: &classifier::Classifier, what: &str) -> (TmpDir, std::path::PathBuf, Vec<u8>) {
    let dir = tmp_dir(what);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.safetensors");
    classifier::save(&path, c).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (dir, path, bytes)
}

#[test]
fn digits_classifier_reaches_the_stated_accuracy_and_round_trips() {
    let g = gpu();
    let cfg = ClassifierConfig::new("digits", 1);
    let t0 = std::time::Instant::now();
    let mut last = (0.0, 0.0);
    let c = classifier::train(g, &cfg, |_, loss, acc| last = (loss, acc)).unwrap();
    eprintln!(
        "digits classifier: test accuracy {:.4}, last train loss {:.4} acc {:.4}, {:.1} s",
        c.test_accuracy,
        last.0,
        last.1,
        t0.elapsed().as_secs_f64()
    );
    assert!(
        c.test_accuracy >= DIGITS_ACCURACY,
        "test accuracy {} below {DIGITS_ACCURACY}",
        c.test_accuracy
    );
    // The split holds out 20% of the 1,797 digits, disjoint from the training rows.
    let (train, test) = classifier::split(1797, 1, 0.2);
    assert_eq!((train.len(), test.len()), (1438, 359));
    assert!(test.iter().all(|i| !train.contains(i)));

    let (dir, path, bytes) = saved(&c, "classifier");
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    assert_eq!(
        names,
        [
            "c.0.bias",
            "c.0.weight",
            "c.2.bias",
            "c.2.weight",
            "c.4.bias",
            "c.4.weight"
        ]
    );
    assert_eq!(st.tensor("c.0.weight").unwrap().shape(), [256, 64]);
    let back = classifier::load(&path).unwrap();
    assert_eq!(back.params, c.params);
    assert_eq!(back.spec, c.spec);
    assert_eq!((back.dataset.as_str(), back.seed), ("digits", 1));

    // The cache returns the file for the same data set and seed without training.
    let (cached, trained) = classifier::cached_or_train(g, &cfg, &path).unwrap();
    assert!(!trained);
    assert_eq!(cached.params, c.params);
    // ... but not for another recipe (here 50 steps): a cached file from before a recipe
    // changed is trained again, and the file says how.
    assert_eq!(back.recipe, cfg.recipe(&c.spec));
    let shorter = ClassifierConfig {
        iterations: Some(50),
        ..cfg.clone()
    };
    let (retrained, trained) = classifier::cached_or_train(g, &shorter, &path).unwrap();
    assert!(trained);
    assert!(
        retrained.recipe.starts_with("steps=50,"),
        "{}",
        retrained.recipe
    );
    assert_eq!(classifier::load(&path).unwrap().recipe, retrained.recipe);

    // Features are the last hidden layer (128 wide), probabilities sum to 1.
    let x = shadergan::data::digits().unwrap().pixels[..5 * 64].to_vec();
    let out = ClassifierGpu::new(g, &c).unwrap().classify(&x).unwrap();
    assert_eq!((out.features.len(), out.probs.len()), (5 * 128, 5 * 10));
    for p in out.probs.chunks(10) {
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Real MNIST (10,000 digits, IDX gzip), which tests read from the shared data folder.
fn mnist10k() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist10k");
    let (images, labels) = (
        dir.join("mnist10k-images-idx3-ubyte.gz"),
        dir.join("mnist10k-labels-idx1-ubyte.gz"),
    );
    assert!(
        images.is_file() && labels.is_file(),
        "{} must hold mnist10k (see the brief's shared material)",
        dir.display()
    );
    format!("idx:{},labels={}", images.display(), labels.display())
}

/// Grayscale images of 28 x 28 get the convolutional classifier: 400 steps on mnist10k already
/// classify well above the MLP's level (the MLP reaches 91.7% after its 500); its file names
/// the modules as nn.Sequential does (Conv2d weights [out, in, kh, kw]) and round-trips, its
/// features are the 128-wide hidden layer, and a classifier file of the earlier format is
/// refused with that reason (eval's cache then trains a new one).
#[test]
fn mnist_gets_the_convolutional_classifier() {
    let g = gpu();
    let cfg = ClassifierConfig {
        iterations: Some(400),
        ..ClassifierConfig::new(&mnist10k(), 1)
    };
    let t0 = std::time::Instant::now();
    let c = classifier::train(g, &cfg, |_, _, _| {}).unwrap();
    eprintln!(
        "mnist10k conv classifier, 400 steps: {:.4} in {:.1} s",
        c.test_accuracy,
        t0.elapsed().as_secs_f64()
    );
    assert!(
        matches!(c.spec, shadergan::graph::network::NetworkSpec::Conv(_)),
        "{:?}",
        c.spec
    );
    // Measured 0.968 on lavapipe (seed 1; 0.942 before the shifted copies and 2e-3); the MLP
    // reaches 0.917 after its 500 steps.
    assert!(c.test_accuracy >= 0.95, "test accuracy {}", c.test_accuracy);

    let (dir, path, bytes) = saved(&c, "conv-classifier");
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    assert_eq!(
        names,
        [
            "c.0.bias",
            "c.0.weight",
            "c.2.bias",
            "c.2.weight",
            "c.5.bias",
            "c.5.weight",
            "c.7.bias",
            "c.7.weight"
        ]
    );
    assert_eq!(st.tensor("c.0.weight").unwrap().shape(), [16, 1, 4, 4]);
    assert_eq!(st.tensor("c.5.weight").unwrap().shape(), [128, 1568]);
    let back = classifier::load(&path).unwrap();
    assert_eq!((back.params == c.params, &back.spec), (true, &c.spec));

    let (set, _, test) = classifier::load_split(&cfg, 1 << 30).unwrap();
    let x = classifier::rows(&set.images.pixels, 784, &test[..5]);
    let out = ClassifierGpu::new(g, &back).unwrap().classify(&x).unwrap();
    assert_eq!((out.features.len(), out.probs.len()), (5 * 128, 5 * 10));

    // A format-1 file (an MLP classifier of an earlier build) is refused, naming why.
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut meta = meta.metadata().clone().unwrap();
    meta.insert("format".into(), "shadergan-classifier-1".into());
    let views: Vec<(String, safetensors::tensor::TensorView)> = st.tensors().into_iter().collect();
    let old = safetensors::serialize(views, Some(meta)).unwrap();
    std::fs::write(&path, old).unwrap();
    let err = classifier::load(&path).unwrap_err().to_string();
    assert!(err.contains("format 1"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The default convolutional classifier on mnist10k (3,000 Adam steps at 2e-3 on the training
/// images and their four one-pixel shifts, about 60 s each on lavapipe): measured 98.35%,
/// 98.65% and 98.45% held-out for seeds 1-3 (without the shifts 97.85% on seed 1; at 1,500
/// steps and 1e-3, 97.35/97.05/97.25%). The issue asks 98%.
/// `cargo test --release --test classifier -- --ignored`
#[test]
#[ignore]
fn mnist_convolutional_classifier_reaches_98_percent() {
    for seed in 1..=3 {
        let t0 = std::time::Instant::now();
        let c = classifier::train(
            gpu(),
            &ClassifierConfig::new(&mnist10k(), seed),
            |_, _, _| {},
        )
        .unwrap();
        let s = t0.elapsed().as_secs_f64();
        eprintln!("seed {seed}: {:.4} in {s:.1} s", c.test_accuracy);
        assert!(c.test_accuracy >= 0.98, "seed {seed}: {}", c.test_accuracy);
    }
}

/// The shifted copies: down, up, right, left by one pixel, the uncovered edge filled with the
/// image's darkest value, the labels repeated; only as many copies as fit the byte limit.
#[test]
fn shifted_copies_move_each_image_by_one_pixel() {
    // One image 3 wide and 2 high: rows [1 2 3] and [4 5 6]; its darkest value is 1.
    let img = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let (x, y) = classifier::with_shifts(&img, &[7.0], [3, 2], u64::MAX);
    assert_eq!(y, [7.0; 5]);
    assert_eq!(&x[..6], &img, "the original first");
    assert_eq!(&x[6..12], &[1.0, 1.0, 1.0, 1.0, 2.0, 3.0], "down");
    assert_eq!(&x[12..18], &[4.0, 5.0, 6.0, 1.0, 1.0, 1.0], "up");
    assert_eq!(&x[18..24], &[1.0, 1.0, 2.0, 1.0, 4.0, 5.0], "right");
    assert_eq!(&x[24..30], &[2.0, 3.0, 1.0, 5.0, 6.0, 1.0], "left");
    // Room for the original and two copies only (3 images of 6 f32 values).
    let (x, y) = classifier::with_shifts(&img, &[7.0], [3, 2], 3 * 24);
    assert_eq!((x.len(), y.len()), (18, 3));
    // Not even the original fits: it is still returned whole (the graph's own limit decides).
    let (x, _) = classifier::with_shifts(&img, &[7.0], [3, 2], 8);
    assert_eq!(x.len(), 6);
}
