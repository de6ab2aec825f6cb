//! Mode coverage of generated samples against a Gaussian mixture, the metric of the unrolled-GAN
//! (Metz et al. 2017) and VEEGAN (Srivastava et al. 2017) papers: a sample is high quality if it
//! lies within 3 std of its nearest centre; a mode is captured if it is the nearest centre of at
//! least one high-quality sample.
//!
//! Samples drawn from the mixture itself score P(|z| <= 3) = 99.73% in 1-D but only
//! P(chi_2 <= 3) = 1 - exp(-9/2) = 98.89% in 2-D, so "high quality" near 99% is a perfect score.

use std::fmt;

use anyhow::{bail, Result};

use crate::data::Dataset;

/// Written as `eval.toml` in a run directory (serde, in field order).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModeReport {
    pub modes_captured: usize,
    pub modes_total: usize,
    /// High-quality samples over all samples; 0 when there are no samples.
    pub high_quality_fraction: f32,
    pub samples: usize,
    /// High-quality samples per mode, in the order of the centres.
    pub per_mode_counts: Vec<usize>,
}

/// Scores `samples` (row-major `n x dim`) against the modes `centres` (each of length `dim`),
/// all of standard deviation `std`.
pub fn mode_coverage(samples: &[f32], dim: usize, centres: &[Vec<f32>], std: f32) -> ModeReport {
    assert!(dim > 0, "mode_coverage: dim must be positive");
    assert_eq!(
        samples.len() % dim,
        0,
        "mode_coverage: samples.len() is not a multiple of dim"
    );
    assert!(
        centres.iter().all(|c| c.len() == dim),
        "mode_coverage: a centre is not of length dim"
    );
    let threshold2 = (3.0 * std) * (3.0 * std);
    let mut per_mode_counts = vec![0usize; centres.len()];
    let mut high_quality = 0usize;
    for x in samples.chunks_exact(dim) {
        let dist2 = |c: &Vec<f32>| c.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum::<f32>();
        let mut best = None::<(usize, f32)>;
        for (k, c) in centres.iter().enumerate() {
            let d2 = dist2(c);
            if best.is_none_or(|(_, b)| d2 < b) {
                best = Some((k, d2));
            }
        }
        // A NaN sample compares false here, so it is never high quality.
        if let Some((k, _)) = best.filter(|&(_, d2)| d2 <= threshold2) {
            per_mode_counts[k] += 1;
            high_quality += 1;
        }
    }
    let n = samples.len() / dim;
    ModeReport {
        modes_captured: per_mode_counts.iter().filter(|&&c| c > 0).count(),
        modes_total: centres.len(),
        high_quality_fraction: if n == 0 {
            0.0
        } else {
            high_quality as f32 / n as f32
        },
        samples: n,
        per_mode_counts,
    }
}

/// Mode coverage of `samples` against the modes of `data`; an error for spiral and moons.
pub fn evaluate(data: &Dataset, samples: &[f32]) -> Result<ModeReport> {
    let Some(m) = data.mixture() else {
        bail!(
            "mode coverage is not applicable to {}: it is not a mixture of Gaussians, so it has \
             no modes; use ring, grid or gauss1d to measure mode collapse",
            data.name()
        );
    };
    Ok(mode_coverage(samples, data.dim(), &m.centres, m.std))
}

impl fmt::Display for ModeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "modes captured {}/{}, high-quality samples {:.1}% of {}",
            self.modes_captured,
            self.modes_total,
            100.0 * self.high_quality_fraction,
            self.samples
        )
    }
}

/// What eval.toml holds for a mixture run: the coverage of G's samples as drawn, and, when the
/// run samples with discriminator rejection sampling (`drs`), the coverage of the samples DRS
/// keeps, in a `[drs]` table.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MixtureEval {
    #[serde(flatten)]
    pub g: ModeReport,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drs: Option<DrsEval>,
}

/// The samples discriminator rejection sampling kept: how many of how many, and their coverage.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DrsEval {
    #[serde(flatten)]
    pub sampling: DrsReport,
    #[serde(flatten)]
    pub coverage: ModeReport,
}

/// How many samples discriminator rejection sampling (`gan::drs`) drew and kept.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DrsReport {
    /// The percentile of F that set gamma.
    pub percentile: f32,
    /// Samples drawn from G after the burn-in, and kept.
    pub drawn: usize,
    pub kept: usize,
}

impl DrsReport {
    pub fn acceptance(&self) -> f64 {
        self.kept as f64 / self.drawn.max(1) as f64
    }
}

impl MixtureEval {
    /// The coverage of what the run samples: DRS's kept samples when on, else G's.
    pub fn sampled(&self) -> &ModeReport {
        self.drs.as_ref().map_or(&self.g, |d| &d.coverage)
    }
}

impl fmt::Display for MixtureEval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "G: {}", self.g)?;
        if let Some(d) = &self.drs {
            write!(
                f,
                "; with discriminator rejection sampling (percentile {}, {} of {} kept, {:.0}%): \
                 modes captured {}/{}, high-quality samples {:.1}%",
                d.sampling.percentile,
                d.sampling.kept,
                d.sampling.drawn,
                100.0 * d.sampling.acceptance(),
                d.coverage.modes_captured,
                d.coverage.modes_total,
                100.0 * d.coverage.high_quality_fraction
            )?;
        }
        Ok(())
    }
}
