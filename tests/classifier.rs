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
    // Measured 0.942 on lavapipe (seed 1); the MLP reaches 0.917 after its 500 steps.
    assert!(c.test_accuracy >= 0.93, "test accuracy {}", c.test_accuracy);

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

/// The default convolutional classifier on mnist10k (1,500 steps, about 30 s on lavapipe):
/// measured 97.35%, 97.05% and 97.25% held-out for seeds 1-3; PyTorch with the same network,
/// split size and schedule gave 96.8-97.4%. `cargo test --release --test classifier -- --ignored`
#[test]
#[ignore]
fn mnist_convolutional_classifier_reaches_97_percent() {
    for seed in 1..=3 {
        let c = classifier::train(
            gpu(),
            &ClassifierConfig::new(&mnist10k(), seed),
            |_, _, _| {},
        )
        .unwrap();
        eprintln!("seed {seed}: {:.4}", c.test_accuracy);
        assert!(c.test_accuracy >= 0.965, "seed {seed}: {}", c.test_accuracy);
    }
}
