//! A conditional run's accuracy: the share of G(z, y) that the evaluation classifier assigns to
//! y, per class and overall (the "classification accuracy" of conditional GANs' evaluations, e.g.
//! Odena et al. 2017, "Conditional image synthesis with auxiliary classifier GANs", section 4.1).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Shares of generated images classified as the class they were drawn for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConditionalAccuracy {
    /// Over every sample.
    pub overall: f32,
    /// Class k's share (NaN for a class with no samples).
    pub per_class: Vec<f32>,
    /// Samples drawn for each class.
    pub samples: Vec<usize>,
}

impl ConditionalAccuracy {
    /// From the classes the samples were drawn for and the classes the classifier predicts.
    pub fn measure(asked: &[u32], predicted: &[usize], classes: usize) -> ConditionalAccuracy {
        assert_eq!(asked.len(), predicted.len(), "one prediction per sample");
        let (mut hits, mut samples) = (vec![0usize; classes], vec![0usize; classes]);
        for (&y, &p) in asked.iter().zip(predicted) {
            let y = y as usize;
            assert!(y < classes, "class {y} of {classes}");
            samples[y] += 1;
            hits[y] += (p == y) as usize;
        }
        let share = |h: usize, n: usize| {
            if n == 0 {
                f32::NAN
            } else {
                h as f32 / n as f32
            }
        };
        ConditionalAccuracy {
            overall: share(hits.iter().sum(), asked.len()),
            per_class: hits
                .iter()
                .zip(&samples)
                .map(|(&h, &n)| share(h, n))
                .collect(),
            samples,
        }
    }
}

impl fmt::Display for ConditionalAccuracy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conditional accuracy {:.1}% (", 100.0 * self.overall)?;
        for (k, a) in self.per_class.iter().enumerate() {
            let sep = if k == 0 { "" } else { " " };
            write!(f, "{sep}{k}: {:.0}%", 100.0 * a)?;
        }
        write!(f, ")")
    }
}
