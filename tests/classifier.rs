//! The evaluation classifier: trained on the GPU from a fixed seed it classifies the held-out
//! embedded digits well; its file round-trips with PyTorch-style names; the cache reuses it.
mod common;
use common::*;
use shadergan::classifier::{self, ClassifierConfig, ClassifierGpu};

/// Test accuracy of the seeded default digits MLP. Measured 0.97 or more on lavapipe; the bound
/// leaves room for another driver's rounding.
const DIGITS_ACCURACY: f32 = 0.95;

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

    let dir = tmp_dir("classifier");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.safetensors");
    classifier::save(&path, &c).unwrap();
    let bytes = std::fs::read(&path).unwrap();
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
