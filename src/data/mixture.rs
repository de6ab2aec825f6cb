//! Isotropic Gaussian mixtures with equal weights: the ring, the grid and the 1-D mixture are all
//! one of these, so sampling and mode evaluation are written once.

use crate::noise::Noise;

/// Equal-weight mixture of isotropic Gaussians `N(centre_k, std^2 I)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Mixture {
    /// One centre per mode; all of the same length (the dimension).
    pub centres: Vec<Vec<f32>>,
    pub std: f32,
}

impl Mixture {
    /// `n` Gaussians on a circle of `radius` around the origin, centre `i` at angle `2 pi i / n`.
    pub fn ring(n: usize, radius: f32, std: f32) -> Self {
        let centres = (0..n)
            .map(|i| {
                let angle = std::f64::consts::TAU * i as f64 / n as f64;
                vec![
                    (radius as f64 * angle.cos()) as f32,
                    (radius as f64 * angle.sin()) as f32,
                ]
            })
            .collect();
        Self { centres, std }
    }

    /// `n x n` Gaussians on a square lattice with `spacing`, centred on the origin
    /// (n = 5, spacing 2 gives {-4, -2, 0, 2, 4}^2). Row-major in y, then x.
    pub fn grid(n: usize, spacing: f32, std: f32) -> Self {
        let coord = |i: usize| (i as f32 - (n as f32 - 1.0) / 2.0) * spacing;
        let centres = (0..n)
            .flat_map(|iy| (0..n).map(move |ix| vec![coord(ix), coord(iy)]))
            .collect();
        Self { centres, std }
    }

    /// Gaussians on the real line.
    pub fn line(centres: &[f32], std: f32) -> Self {
        Self {
            centres: centres.iter().map(|&c| vec![c]).collect(),
            std,
        }
    }

    pub fn dim(&self) -> usize {
        self.centres.first().map_or(0, Vec::len)
    }

    /// `n` samples, row-major `n x dim`: pick a mode uniformly, then add `std` times N(0, I).
    pub fn sample(&self, n: usize, rng: &mut dyn Noise) -> Vec<f32> {
        assert!(
            !self.centres.is_empty(),
            "Mixture::sample on a mixture with no centres"
        );
        let k = self.centres.len();
        let mut out = Vec::with_capacity(n * self.dim());
        for _ in 0..n {
            // uniform() is in (0, 1), so the floor is in 0..k; min() guards f32 rounding up to 1.
            let mode = ((rng.uniform() * k as f32) as usize).min(k - 1);
            for &c in &self.centres[mode] {
                out.push(c + self.std * rng.normal());
            }
        }
        out
    }

    /// One `(lo, hi)` per dimension: the centres' box widened by 5 std (no sample of a sane
    /// count lands outside) plus 10% of the extent so plots do not touch the edge.
    pub fn bounds(&self) -> Vec<(f32, f32)> {
        (0..self.dim())
            .map(|d| {
                let lo = self
                    .centres
                    .iter()
                    .map(|c| c[d])
                    .fold(f32::INFINITY, f32::min);
                let hi = self
                    .centres
                    .iter()
                    .map(|c| c[d])
                    .fold(f32::NEG_INFINITY, f32::max);
                let margin = 5.0 * self.std + 0.1 * (hi - lo).max(1.0);
                (lo - margin, hi + margin)
            })
            .collect()
    }
}
