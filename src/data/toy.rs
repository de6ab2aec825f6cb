//! The toy data sets' side of [`Dataset`]: the mixture behind ring, grid and gauss1d, samples of
//! every 2-D and 1-D set, and a plotting box that holds them.

use super::{Dataset, Mixture};
use crate::noise::Noise;

impl Dataset {
    /// The mixture behind ring, grid and gauss1d; `None` for the others.
    pub fn mixture(&self) -> Option<Mixture> {
        match *self {
            Self::Ring { n, radius, std } => Some(Mixture::ring(n, radius, std)),
            Self::Grid { n, spacing, std } => Some(Mixture::grid(n, spacing, std)),
            Self::Gauss1d { ref centres, std } => Some(Mixture::line(centres, std)),
            Self::Spiral { .. } | Self::Moons { .. } => None,
            _ => None,
        }
    }

    /// The modes' centres; empty for spiral, moons and image sets (mode coverage does not apply).
    pub fn centres(&self) -> Vec<Vec<f32>> {
        self.mixture().map_or_else(Vec::new, |m| m.centres)
    }

    /// Standard deviation of every mode; `None` for spiral, moons and image sets.
    pub fn std(&self) -> Option<f32> {
        self.mixture().map(|m| m.std)
    }

    /// `n` samples, row-major `n x dim()`; empty for image sets (dim 0: load them instead).
    pub fn sample(&self, n: usize, rng: &mut dyn Noise) -> Vec<f32> {
        if let Some(m) = self.mixture() {
            return m.sample(n, rng);
        }
        if self.is_image() {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(2 * n);
        for _ in 0..n {
            let (x, y, noise) = match *self {
                Self::Spiral {
                    turns,
                    radius,
                    noise,
                } => {
                    // Arc length grows as t^2, so t = sqrt(u) spreads points evenly along it.
                    let t = rng.uniform().sqrt();
                    let angle = std::f32::consts::TAU * turns * t;
                    (radius * t * angle.cos(), radius * t * angle.sin(), noise)
                }
                Self::Moons { noise } => {
                    let t = std::f32::consts::PI * rng.uniform();
                    // Upper moon centred on (-0.5, -0.25); the lower one is its point reflection.
                    let sign = if rng.uniform() < 0.5 { 1.0 } else { -1.0 };
                    (sign * (t.cos() - 0.5), sign * (t.sin() - 0.25), noise)
                }
                _ => unreachable!("mixtures are sampled above"),
            };
            out.push(x + noise * rng.normal());
            out.push(y + noise * rng.normal());
        }
        out
    }

    /// One `(lo, hi)` per dimension: a plotting box holding the data with a margin; empty for
    /// image sets (dim 0).
    pub fn bounds(&self) -> Vec<(f32, f32)> {
        let widen = |half: f32, noise: f32| {
            let h = half * 1.1 + 5.0 * noise;
            (-h, h)
        };
        match (self.mixture(), self) {
            (Some(m), _) => m.bounds(),
            (None, Self::Spiral { radius, noise, .. }) => vec![widen(*radius, *noise); 2],
            (None, Self::Moons { noise }) => vec![widen(1.5, *noise), widen(0.75, *noise)],
            (None, d) if d.is_image() => Vec::new(),
            (None, _) => unreachable!("every non-mixture has its bounds above"),
        }
    }
}
