//! What the trainer observes once per logging interval: the losses and discriminator outputs
//! that the schedule sums on the GPU, turned into means.

use super::state;
use serde::{Deserialize, Serialize};

/// One logging interval's averages (a row of `metrics.csv`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsRow {
    pub iteration: u64,
    /// D's loss: with `loss` bce, -V(G, D) as D sees it (BCE over real, target 1, plus BCE over
    /// fake, target 0); with hinge or ls, that loss's D objective.
    pub d_loss: f32,
    pub g_loss: f32,
    /// Mean D(x) over real samples and mean D(G(z)) in the discriminator steps: D's probability
    /// (sigmoid of the logit) with bce, the raw logit with hinge and ls.
    pub d_real: f32,
    pub d_fake: f32,
    /// Jensen-Shannon estimate (V + log 4) / 2 = (log 4 - D loss) / 2 from the interval's last D
    /// step (one minibatch, so noisy): 0 when D cannot tell real from generated. It holds only
    /// for the BCE loss; NaN with hinge and ls.
    #[serde(rename = "jsd_estimate")]
    pub jsd: f32,
    pub iters_per_sec: f32,
    /// Image runs with `eval_every`: the quality numbers of `crate::quality` at this interval,
    /// empty in other rows (and absent from files written before they existed).
    #[serde(default)]
    pub classes_covered: Option<u32>,
    #[serde(default)]
    pub kl_to_real: Option<f32>,
    #[serde(default)]
    pub confident_share: Option<f32>,
    #[serde(default)]
    pub frechet: Option<f32>,
    #[serde(default)]
    pub modes_captured: Option<u32>,
    #[serde(default)]
    pub kl_to_uniform: Option<f32>,
    /// Conditional runs: the share of G(z, y) the classifier assigns to y.
    #[serde(default)]
    pub conditional_accuracy: Option<f32>,
}

impl MetricsRow {
    /// Means over `iters` iterations of `d_steps` D steps each from the GPU's metric sums; `bce`:
    /// whether the loss is BCE (else the JSD estimate is NaN).
    pub fn from_sums(
        m: &[f32],
        iteration: u64,
        iters: u64,
        d_steps: usize,
        bce: bool,
        secs: f64,
    ) -> Self {
        let dn = (iters * d_steps as u64).max(1) as f32;
        let gn = iters.max(1) as f32;
        MetricsRow {
            iteration,
            d_loss: m[state::M_D_LOSS] / dn,
            g_loss: m[state::M_G_LOSS] / gn,
            d_real: m[state::M_D_REAL] / dn,
            d_fake: m[state::M_D_FAKE] / dn,
            jsd: if bce {
                ((4.0f32).ln() - m[state::M_LAST_D_LOSS]) / 2.0
            } else {
                f32::NAN
            },
            iters_per_sec: if secs > 0.0 {
                (iters as f64 / secs) as f32
            } else {
                0.0
            },
            ..MetricsRow::default()
        }
    }

    /// The row with an image evaluation's numbers in its quality columns.
    pub fn with_quality(self, q: &crate::quality::ImageReport) -> Self {
        MetricsRow {
            classes_covered: Some(q.classes_covered as u32),
            kl_to_real: Some(q.kl_to_real),
            confident_share: Some(q.confident_share),
            frechet: Some(q.frechet),
            modes_captured: q.modes_captured.map(|m| m as u32),
            kl_to_uniform: q.kl_to_uniform,
            conditional_accuracy: q.conditional.as_ref().map(|a| a.overall),
            ..self
        }
    }

    /// Whether every loss and mean is a finite number (the divergence guard's test). The JSD
    /// estimate is NaN by design for hinge and ls; for BCE it is finite whenever D's loss is.
    pub fn is_finite(&self) -> bool {
        [self.d_loss, self.g_loss, self.d_real, self.d_fake]
            .iter()
            .all(|v| v.is_finite())
            && !self.jsd.is_infinite()
    }

    pub fn summary(&self) -> String {
        let s = format!(
            "D loss {:.4}  G loss {:.4}  D(x) {:.3}  D(G(z)) {:.3}",
            self.d_loss, self.g_loss, self.d_real, self.d_fake
        );
        if self.jsd.is_nan() {
            s + " (raw logits)"
        } else {
            format!("{s}  JSD~ {:.4}", self.jsd)
        }
    }
}
