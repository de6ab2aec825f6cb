//! Image-run quality, measured with our own classifier (`crate::classifier`):
//!
//! - class coverage: the class histogram of N generated images (default 10,000), the classes
//!   holding at least [`COVERED_SHARE`] of them, KL(generated || real class histogram), and the
//!   share of confident samples (top class probability at least [`CONFIDENT_P`]);
//! - the Fréchet distance between classifier features of generated and real images
//!   ([`frechet`]), with the real test split against the real training split as its floor;
//! - for stacked sets (three digits as channels), the Stacked MNIST numbers of Metz et al.
//!   (Unrolled GAN), Srivastava et al. (VEEGAN) and Lin et al. (PacGAN): each channel is
//!   classified, and a mode (one of 1,000 digit triples) counts as captured when at least one
//!   sample lands in it; the KL divergence of the mode histogram to the uniform one.

pub mod conditional;
pub mod frechet;
pub mod run_report;

use crate::classifier::{Classifier, ClassifierGpu};
use crate::data::{stacked, Dataset};
use crate::gpu::Gpu;
use frechet::Gaussian;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Generated images an evaluation classifies by default.
pub const SAMPLES: usize = 10_000;
/// A class is covered when at least this share of the samples fall in it (a tenth of the share
/// of a uniform 10-class histogram).
pub const COVERED_SHARE: f32 = 0.01;
/// A sample is confident when its top class probability is at least this.
pub const CONFIDENT_P: f32 = 0.9;

/// What `eval` reports for an image run (written to eval.toml).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageReport {
    pub samples: usize,
    pub classes_total: usize,
    /// Classes holding at least `covered_share` of the (per-channel) samples.
    pub classes_covered: usize,
    pub covered_share: f32,
    /// KL(generated || real) of the class histograms, in nats.
    pub kl_to_real: f32,
    /// Share of samples (channels, for stacked sets) whose top probability >= `confident_p`.
    pub confident_share: f32,
    pub confident_p: f32,
    /// Squared Fréchet distance of classifier features to the real reference features.
    pub frechet: f32,
    /// The same for real held-out images: what a perfect generator would score.
    pub frechet_floor: f32,
    pub classifier_test_accuracy: f32,
    /// The classifier's architecture as PyTorch's nn.Sequential arguments (convolutional for
    /// grayscale images of 28 x 28 and more, an MLP otherwise); empty in older eval.toml files.
    #[serde(default)]
    pub classifier: String,
    /// Stacked sets: digit triples with at least one sample, of `modes_total`.
    pub modes_captured: Option<usize>,
    pub modes_total: Option<usize>,
    /// Stacked sets: KL(mode histogram || uniform), in nats.
    pub kl_to_uniform: Option<f32>,
    /// Samples per class (summed over channels for stacked sets).
    pub class_counts: Vec<usize>,
    /// Conditional runs: the share of samples classified as the class they were drawn for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditional: Option<conditional::ConditionalAccuracy>,
}

impl ImageReport {
    /// A report of nothing (NaN numbers): what a diverged generator's interval records.
    pub fn nan() -> ImageReport {
        ImageReport {
            samples: 0,
            classes_total: 0,
            classes_covered: 0,
            covered_share: COVERED_SHARE,
            kl_to_real: f32::NAN,
            confident_share: f32::NAN,
            confident_p: CONFIDENT_P,
            frechet: f32::NAN,
            frechet_floor: f32::NAN,
            classifier_test_accuracy: f32::NAN,
            classifier: String::new(),
            modes_captured: None,
            modes_total: None,
            kl_to_uniform: None,
            class_counts: Vec::new(),
            conditional: None,
        }
    }
}

/// Share-normalised histogram with a floor so that an empty class does not make KL infinite.
fn shares(counts: &[usize]) -> Vec<f64> {
    let n: usize = counts.iter().sum();
    counts.iter().map(|&c| c as f64 / n.max(1) as f64).collect()
}

/// KL(p || q) in nats over histograms of counts; q's empty bins are floored at 1e-12 so a class
/// the reference lacks gives a large, finite number.
pub fn kl_divergence(p: &[usize], q: &[usize]) -> f64 {
    let (p, q) = (shares(p), shares(q));
    p.iter()
        .zip(&q)
        .filter(|(&a, _)| a > 0.0)
        .map(|(&a, &b)| a * (a / b.max(1e-12)).ln())
        .sum()
}

/// Counts of each of `classes` classes among `predicted`.
pub fn histogram(predicted: &[usize], classes: usize) -> Vec<usize> {
    let mut h = vec![0; classes];
    for &p in predicted {
        h[p] += 1;
    }
    h
}

/// The classifier bound to the device, the real reference, and the real floor for one data set.
pub struct Evaluator<'g> {
    clf: ClassifierGpu<'g>,
    pub classifier: Classifier,
    /// Channels per image: 1, or 3 for stacked sets (each a digit).
    channels: usize,
    real_counts: Vec<usize>,
    reference: Gaussian,
    floor: f32,
}

impl<'g> Evaluator<'g> {
    /// Classifies the real images once: the reference histogram and features, and the floor.
    pub fn new(gpu: &'g Gpu, ds: &Dataset, classifier: Classifier) -> anyhow::Result<Self> {
        let clf = ClassifierGpu::new(gpu, &classifier)?;
        let labeled = ds.load_labeled(gpu.max_storage_bytes())?;
        let real_counts = histogram(
            &labeled
                .labels
                .iter()
                .map(|&l| l as usize)
                .collect::<Vec<_>>(),
            classifier.classes,
        );
        let channels = if ds.stacked_base().is_some() { 3 } else { 1 };
        let (reference, floor) = if channels == 1 {
            // Reference: the classifier's training split; floor: its held-out test split.
            let (train, test) =
                crate::classifier::split(labeled.images.len(), classifier.seed, 0.2);
            let dim = labeled.images.dim();
            let f = |idx: &[usize]| -> anyhow::Result<Vec<f32>> {
                let x = crate::classifier::rows(&labeled.images.pixels, dim, idx);
                Ok(clf.classify(&x)?.features)
            };
            let (ftrain, ftest) = (f(&train)?, f(&test)?);
            let fd = clf_feature_dim(&classifier);
            let reference = Gaussian::fit(&ftrain, fd);
            let floor = frechet::frechet_distance(&Gaussian::fit(&ftest, fd), &reference);
            (reference, floor as f32)
        } else {
            // Stacked: the first half of the stacked set is the reference, the second the floor.
            let set = ds.load_images(None, 3, gpu.max_storage_bytes())?;
            let half = set.len() / 2;
            let d = set.dim();
            let a = stacked_features(&clf, &set.pixels[..half * d], d)?;
            let b = stacked_features(&clf, &set.pixels[half * d..], d)?;
            let fd = 3 * clf_feature_dim(&classifier);
            let reference = Gaussian::fit(&a, fd);
            let floor = frechet::frechet_distance(&Gaussian::fit(&b, fd), &reference);
            (reference, floor as f32)
        };
        Ok(Evaluator {
            clf,
            classifier,
            channels,
            real_counts,
            reference,
            floor,
        })
    }

    /// An error unless a run's images, [width, height, channels], are what the classifier reads:
    /// the labelled set at its own size. A run trained with `--image-size` at another size
    /// would otherwise be scored on misread rows (a digits run at 28 x 28 read as 12 rows of
    /// 8 x 8 per image).
    pub fn expect_image(&self, [w, h, c]: [usize; 3]) -> anyhow::Result<()> {
        let [cw, ch] = self.classifier.image;
        anyhow::ensure!(
            [w, h, c] == [cw, ch, self.channels],
            "the run's images are {w}x{h} with {c} channel(s) but its data set's are {cw}x{ch} \
             with {} (it was trained with --image-size); the classifier reads images at the \
             data set's own size, so a run at another size cannot be evaluated: train without \
             --image-size to measure it",
            self.channels
        );
        Ok(())
    }

    /// Scores `images` (row-major HWC, the data set's shape), e.g. a generator's samples.
    pub fn evaluate(&self, images: &[f32]) -> anyhow::Result<ImageReport> {
        self.evaluate_labeled(images, None)
    }

    /// [`Self::evaluate`] of a conditional G's samples, drawn for the classes `asked`: adds the
    /// share the classifier assigns to the class asked for.
    pub fn evaluate_labeled(
        &self,
        images: &[f32],
        asked: Option<&[u32]>,
    ) -> anyhow::Result<ImageReport> {
        let c = &self.classifier;
        let per = c.spec.input_len();
        let dim = per * self.channels;
        anyhow::ensure!(
            !images.is_empty() && images.len().is_multiple_of(dim),
            "{} values are not whole images of {dim}",
            images.len()
        );
        anyhow::ensure!(
            images.iter().all(|v| v.is_finite()),
            "an image to evaluate holds a value that is not a finite number (a diverged generator?)"
        );
        let n = images.len() / dim;
        let mut preds: Vec<Vec<usize>> = Vec::new();
        let mut confident = 0usize;
        let mut features = vec![Vec::new(); n];
        for ch in 0..self.channels {
            let x = if self.channels == 1 {
                images.to_vec()
            } else {
                stacked::channel(images, dim, self.channels, ch)
            };
            let out = self.clf.classify(&x)?;
            confident += out
                .probs
                .chunks_exact(c.classes)
                .filter(|p| p.iter().any(|&v| v >= CONFIDENT_P))
                .count();
            for (i, f) in out.features.chunks_exact(out.feature_dim).enumerate() {
                features[i].extend_from_slice(f);
            }
            preds.push(out.predicted());
        }
        let all: Vec<usize> = preds.iter().flatten().copied().collect();
        let counts = histogram(&all, c.classes);
        let covered = counts
            .iter()
            .filter(|&&k| k as f32 >= COVERED_SHARE * all.len() as f32)
            .count();
        let flat: Vec<f32> = features.concat();
        let fd = if n >= 2 {
            let g = Gaussian::fit(&flat, flat.len() / n);
            frechet::frechet_distance(&g, &self.reference) as f32
        } else {
            f32::NAN
        };
        let (mut modes_captured, mut modes_total, mut kl_to_uniform) = (None, None, None);
        if self.channels == 3 {
            let k = c.classes;
            let modes: Vec<usize> = (0..n)
                .map(|i| (preds[0][i] * k + preds[1][i]) * k + preds[2][i])
                .collect();
            let mh = histogram(&modes, k * k * k);
            modes_captured = Some(mh.iter().filter(|&&m| m > 0).count());
            modes_total = Some(k * k * k);
            kl_to_uniform = Some(kl_divergence(&mh, &vec![1; k * k * k]) as f32);
        }
        let conditional = match asked {
            Some(y) => {
                anyhow::ensure!(
                    self.channels == 1 && y.len() == n,
                    "the conditional accuracy needs one class per single-channel image"
                );
                anyhow::ensure!(
                    y.iter().all(|&k| (k as usize) < c.classes),
                    "a class asked for is not one of the classifier's {}",
                    c.classes
                );
                Some(conditional::ConditionalAccuracy::measure(
                    y, &preds[0], c.classes,
                ))
            }
            None => None,
        };
        Ok(ImageReport {
            samples: n,
            classes_total: c.classes,
            classes_covered: covered,
            covered_share: COVERED_SHARE,
            kl_to_real: kl_divergence(&counts, &self.real_counts) as f32,
            confident_share: confident as f32 / all.len() as f32,
            confident_p: CONFIDENT_P,
            frechet: fd,
            frechet_floor: self.floor,
            classifier_test_accuracy: c.test_accuracy,
            classifier: crate::graph::state_dict::architecture(&c.spec)?,
            modes_captured,
            modes_total,
            kl_to_uniform,
            class_counts: counts,
            conditional,
        })
    }
}

fn clf_feature_dim(c: &Classifier) -> usize {
    c.spec.feature_len().unwrap_or(0)
}

/// Per image, the features of its three channels side by side.
fn stacked_features(clf: &ClassifierGpu, pixels: &[f32], dim: usize) -> anyhow::Result<Vec<f32>> {
    let n = pixels.len() / dim;
    let mut rows = vec![Vec::new(); n];
    for ch in 0..3 {
        let out = clf.classify(&stacked::channel(pixels, dim, 3, ch))?;
        for (i, f) in out.features.chunks_exact(out.feature_dim).enumerate() {
            rows[i].extend_from_slice(f);
        }
    }
    Ok(rows.concat())
}

impl fmt::Display for ImageReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "classes covered {}/{} (>= {:.0}% of samples), KL(generated || real) {:.4}, \
             confident {:.1}% (p >= {}), Fréchet {:.3} (real floor {:.3})",
            self.classes_covered,
            self.classes_total,
            100.0 * self.covered_share,
            self.kl_to_real,
            100.0 * self.confident_share,
            self.confident_p,
            self.frechet,
            self.frechet_floor
        )?;
        if let (Some(m), Some(t), Some(kl)) =
            (self.modes_captured, self.modes_total, self.kl_to_uniform)
        {
            write!(f, ", stacked modes {m}/{t}, KL to uniform {kl:.4}")?;
        }
        if let Some(a) = &self.conditional {
            write!(f, ", {a}")?;
        }
        write!(
            f,
            "; {} samples, {} classifier test accuracy {:.1}%",
            self.samples,
            if self.classifier.starts_with("Conv2d") {
                "convolutional"
            } else {
                "MLP"
            },
            100.0 * self.classifier_test_accuracy
        )
    }
}

/// The evaluator of a run on `ds` with seed `seed`: its classifier read from `cache` when that
/// file was trained on the same labelled set and seed, else trained now (a few seconds) and
/// saved there. The bool says whether it was trained.
pub fn for_run<'g>(
    gpu: &'g Gpu,
    ds: &Dataset,
    seed: u64,
    cache: &std::path::Path,
) -> anyhow::Result<(Evaluator<'g>, bool)> {
    let base = ds.stacked_base().unwrap_or_else(|| ds.clone());
    let cfg = crate::classifier::ClassifierConfig::new(&base.spec(), seed);
    let (c, trained) = crate::classifier::cached_or_train(gpu, &cfg, cache)?;
    Ok((Evaluator::new(gpu, ds, c)?, trained))
}
