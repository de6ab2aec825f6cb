//! Image-run metrics: the Fréchet distance against closed forms, and the classifier-based
//! coverage numbers on real data and on a "generator" that repeats one real image.
mod common;
use common::*;
use nalgebra::{DMatrix, DVector};
use shadergan::classifier::{self, Classifier, ClassifierConfig};
use shadergan::data::{stacked, Dataset};
use shadergan::quality::frechet::{frechet_distance, frechet_features, Gaussian};
use shadergan::quality::{kl_divergence, Evaluator};
use std::sync::OnceLock;

fn gaussian(mean: &[f64], cov: &[f64]) -> Gaussian {
    let d = mean.len();
    Gaussian {
        mean: DVector::from_column_slice(mean),
        cov: DMatrix::from_row_slice(d, d, cov),
    }
}

#[test]
fn frechet_is_zero_for_identical_feature_sets() {
    let f = inputs(3, 500 * 7, -2.0, 2.0);
    let d = frechet_features(&f, &f, 7);
    assert!(d.abs() < 1e-9, "identical sets give {d}");
}

#[test]
fn frechet_matches_closed_forms_for_two_gaussians() {
    // Diagonal (commuting) covariances: |mu1 - mu2|^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2.
    let a = gaussian(
        &[1.0, -2.0, 0.5],
        &[4.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.25],
    );
    let b = gaussian(
        &[0.0, 0.0, 0.5],
        &[1.0, 0.0, 0.0, 0.0, 9.0, 0.0, 0.0, 0.0, 0.25],
    );
    let want = 1.0 + 4.0 + (2.0f64 - 1.0).powi(2) + (1.0f64 - 3.0).powi(2);
    let got = frechet_distance(&a, &b);
    assert!(
        (got - want).abs() < 1e-9,
        "diagonal: got {got}, want {want}"
    );
    // Non-commuting 2x2: tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)) for M = S1 S2 (both
    // eigenvalues positive), so d^2 = tr S1 + tr S2 - 2 sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)).
    let (s1, s2) = ([2.0, 0.8, 0.8, 1.0], [1.0, -0.3, -0.3, 0.5]);
    let a = gaussian(&[0.3, 0.1], &s1);
    let b = gaussian(&[-0.2, 0.4], &s2);
    let tr12 = s1[0] * s2[0] + s1[1] * s2[2] + s1[2] * s2[1] + s1[3] * s2[3];
    let det = (s1[0] * s1[3] - s1[1] * s1[2]) * (s2[0] * s2[3] - s2[1] * s2[2]);
    let want =
        0.25 + 0.09 + (s1[0] + s1[3]) + (s2[0] + s2[3]) - 2.0 * (tr12 + 2.0 * det.sqrt()).sqrt();
    let got = frechet_distance(&a, &b);
    assert!((got - want).abs() < 1e-9, "2x2: got {got}, want {want}");
    // Symmetric in its arguments.
    assert!((frechet_distance(&b, &a) - want).abs() < 1e-9);
}

#[test]
fn kl_divergence_of_histograms() {
    assert_eq!(kl_divergence(&[5, 5], &[10, 10]), 0.0);
    // All mass in one of ten equally likely classes: ln 10.
    let mut one = vec![0; 10];
    one[3] = 100;
    assert!((kl_divergence(&one, &[7; 10]) - 10f64.ln()).abs() < 1e-12);
}

/// One seeded digits classifier for every test here (trained once, a few seconds).
fn digits_classifier() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| {
        classifier::train(gpu(), &ClassifierConfig::new("digits", 1), |_, _, _| {}).unwrap()
    })
}

#[test]
fn real_digits_cover_every_class_and_one_repeated_image_covers_one() {
    let ds = Dataset::Digits;
    let ev = Evaluator::new(gpu(), &ds, digits_classifier().clone()).unwrap();
    let set = ds.load_images(None, 1, u64::MAX).unwrap();
    let real = ev.evaluate(&set.pixels).unwrap();
    eprintln!("real digits: {real}");
    assert_eq!((real.classes_covered, real.classes_total), (10, 10));
    assert!(real.kl_to_real < 0.01, "{real}");
    assert!(real.confident_share > 0.9, "{real}");
    assert!(real.frechet_floor.is_finite() && real.frechet.is_finite());
    // One real image repeated 10,000 times: one class, KL near ln(1 / its share) ~ ln 10.
    let repeated: Vec<f32> = set.image(0).repeat(10_000);
    let one = ev.evaluate(&repeated).unwrap();
    eprintln!("one repeated image: {one}");
    assert_eq!(one.classes_covered, 1, "{one}");
    assert!(one.kl_to_real > 2.0, "{one}");
    assert!(
        one.frechet > 10.0 * real.frechet.max(real.frechet_floor),
        "{one}"
    );
}

#[test]
fn stacked_digits_modes_are_counted_on_real_data() {
    let ds = Dataset::parse("stacked-digits").unwrap();
    let ev = Evaluator::new(gpu(), &ds, digits_classifier().clone()).unwrap();
    let set = ds.load_images(None, 3, u64::MAX).unwrap();
    assert_eq!((set.channels, set.len()), (3, stacked::STACKED_IMAGES));
    let real = ev.evaluate(&set.pixels).unwrap();
    eprintln!("real stacked digits: {real}");
    assert_eq!(real.modes_total, Some(1000));
    // 10,000 draws over 1,000 modes miss about 1000 e^-10 < 0.1 of them; the classifier's
    // few-percent error moves samples between modes but hardly empties any.
    assert!(real.modes_captured.unwrap() >= 990, "{real}");
    assert!(real.kl_to_uniform.unwrap() < 0.1, "{real}");
    let repeated: Vec<f32> = set.image(0).repeat(2_000);
    let one = ev.evaluate(&repeated).unwrap();
    assert_eq!(one.modes_captured, Some(1), "{one}");
    assert!(
        (one.kl_to_uniform.unwrap() - 1000f32.ln()).abs() < 1e-3,
        "{one}"
    );
}
