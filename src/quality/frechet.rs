//! The Fréchet distance between Gaussians fitted to two sets of features, the FID of Heusel et
//! al. 2017 ("GANs trained by a two time-scale update rule converge to a local Nash
//! equilibrium", NeurIPS) with our classifier's last hidden layer in place of Inception's pool3:
//!
//! ```text
//! d^2 = |mu_1 - mu_2|^2 + tr(S_1 + S_2 - 2 (S_1 S_2)^{1/2})
//! ```
//!
//! S_1 S_2 is not symmetric, so its square root is taken through the symmetric product that
//! has the same eigenvalues: with R = S_1^{1/2} (symmetric eigendecomposition of S_1),
//! tr((S_1 S_2)^{1/2}) = tr((R S_2 R)^{1/2}) = sum_i sqrt(lambda_i(R S_2 R)), both matrices
//! positive semi-definite, so eigenvalues that round below zero are clamped to 0. The
//! eigendecompositions are nalgebra's (f64), not a hand-written solver.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// Mean and covariance (divided by n - 1, as numpy.cov) of a feature set.
#[derive(Clone, Debug)]
pub struct Gaussian {
    pub mean: DVector<f64>,
    pub cov: DMatrix<f64>,
}

impl Gaussian {
    /// Fits `features` (row-major [n, dim], n >= 2).
    pub fn fit(features: &[f32], dim: usize) -> Gaussian {
        assert!(
            dim > 0 && features.len().is_multiple_of(dim),
            "features are not [n, {dim}]"
        );
        let n = features.len() / dim;
        assert!(
            n >= 2,
            "a covariance needs at least 2 feature rows, got {n}"
        );
        let x = DMatrix::from_row_slice(n, dim, features).map(|v| v as f64);
        let mean = x.row_mean().transpose();
        let mut centred = x;
        for mut row in centred.row_iter_mut() {
            row -= mean.transpose();
        }
        let cov = centred.transpose() * &centred / (n as f64 - 1.0);
        Gaussian { mean, cov }
    }
}

/// sqrt of a symmetric positive semi-definite matrix through its eigendecomposition.
fn sqrt_psd(m: &DMatrix<f64>) -> DMatrix<f64> {
    let sym = (m + m.transpose()) * 0.5;
    let e = SymmetricEigen::new(sym);
    let roots = e.eigenvalues.map(|l| l.max(0.0).sqrt());
    &e.eigenvectors * DMatrix::from_diagonal(&roots) * e.eigenvectors.transpose()
}

/// The squared Fréchet distance d^2 between two Gaussians (clamped at 0 against rounding).
pub fn frechet_distance(a: &Gaussian, b: &Gaussian) -> f64 {
    assert_eq!(a.mean.len(), b.mean.len(), "features of different widths");
    let r = sqrt_psd(&a.cov);
    let inner = &r * &b.cov * &r;
    let sym = (&inner + inner.transpose()) * 0.5;
    let tr_sqrt: f64 = SymmetricEigen::new(sym)
        .eigenvalues
        .iter()
        .map(|l| l.max(0.0).sqrt())
        .sum();
    let d = (&a.mean - &b.mean).norm_squared() + a.cov.trace() + b.cov.trace() - 2.0 * tr_sqrt;
    d.max(0.0)
}

/// The squared Fréchet distance between the Gaussians fitted to two feature sets.
pub fn frechet_features(a: &[f32], b: &[f32], dim: usize) -> f64 {
    frechet_distance(&Gaussian::fit(a, dim), &Gaussian::fit(b, dim))
}
