//! Discriminator rejection sampling (DRS; Azadi, Olsson, Darrell, Goodfellow and Odena,
//! "Discriminator Rejection Sampling", ICLR 2019, arXiv:1810.06758): after training, keep each
//! of G's samples with a probability read from D's logit, so that the kept ones are closer to
//! the data than G's own.
//!
//! The maths. D trained with the BCE loss towards its optimum D*(x) = p_data / (p_data + p_G)
//! (Goodfellow et al. 2014, Proposition 1) has the logit l(x) = log(p_data(x) / p_G(x)).
//! Rejection sampling from p_G that keeps x with probability p_data / (M p_G) = exp(l(x) - l*),
//! l* = max l, draws exactly from p_data. D is not optimal and l* is not known, so the paper's
//! practical algorithm keeps x with probability sigmoid(F(x)), where
//!
//!   F(x) = l(x) - l* - log(1 - exp(l(x) - l* - eps)) - gamma.
//!
//! With gamma = 0, sigmoid(F) is exp(l - l*) up to eps: the exact test. l* is the largest logit
//! of a burn-in of G's samples, eps = 1e-6 keeps the log finite, and gamma, the P-th percentile
//! of F over the burn-in (`drs` = P), shifts the test in logit space: a higher P keeps fewer.
//! Logits above l* (samples D likes more than any in the burn-in) are clamped to l*, where the
//! paper raises l* instead; one calibration for the whole stream keeps the result independent of
//! the order of the samples.
//!
//! On the toy mixtures D at the end of training is near 0.5 on G's modes and far below it on the
//! bridges G leaves between them, so DRS removes most bridge samples (docs/mode-coverage.md).
//! It needs D's logit to estimate log(p_data / p_G), so it is refused where D is trained or
//! built otherwise (hinge, LS, packs, spectral norm, DCGAN; `TrainConfig::check_drs`).

use super::config::TrainConfig;
use super::generate::{Forward, Generator};
use super::state::{streams, TrainState};
pub use crate::eval::DrsReport;
use crate::eval::{DrsEval, MixtureEval};
use crate::gpu::Gpu;
use crate::noise::{Noise, PhiloxNoise};
use anyhow::{bail, ensure};

/// Samples of the burn-in that sets l* and gamma.
pub const BURN_IN: usize = 10_000;
/// The eps of F (the paper's value).
pub const EPS: f64 = 1e-6;
/// Sampling stops with an error when fewer than one sample in this many is kept.
pub const MAX_DRAWS_PER_KEPT: usize = 1000;

/// l* and gamma, from a burn-in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calibration {
    pub l_star: f32,
    pub gamma: f64,
}

/// F(x) + gamma: l - l* - log(1 - exp(l - l* - eps)), with l clamped to l*.
fn f_ungated(l: f32, l_star: f32) -> f64 {
    let d = (l.min(l_star) - l_star) as f64;
    // 1 - exp(u) = -expm1(u), exact for u near 0.
    d - (-(d - EPS).exp_m1()).ln()
}

impl Calibration {
    /// l* = the largest finite logit of the burn-in; gamma = the `percentile`-th percentile
    /// (nearest rank, in [0, 100)) of F over the burn-in.
    pub fn from_burn_in(logits: &[f32], percentile: f32) -> anyhow::Result<Calibration> {
        ensure!(
            (0.0..100.0).contains(&percentile),
            "the DRS percentile must be in [0, 100), got {percentile}"
        );
        let finite: Vec<f32> = logits.iter().copied().filter(|l| l.is_finite()).collect();
        let Some(l_star) = finite.iter().copied().reduce(f32::max) else {
            bail!(
                "D's logits on G's samples are not finite numbers, so the run diverged; \
                 discriminator rejection sampling needs a trained D (sample without it: --drs 0)"
            );
        };
        let mut f: Vec<f64> = finite.iter().map(|&l| f_ungated(l, l_star)).collect();
        f.sort_by(f64::total_cmp);
        let rank = ((percentile as f64 / 100.0) * f.len() as f64) as usize;
        Ok(Calibration {
            l_star,
            gamma: f[rank.min(f.len() - 1)],
        })
    }

    /// F(x) for D's logit `l`.
    pub fn f(&self, l: f32) -> f64 {
        f_ungated(l, self.l_star) - self.gamma
    }

    /// sigmoid(F(x)): the probability of keeping a sample of logit `l`; 0 for a NaN logit.
    pub fn keep_probability(&self, l: f32) -> f64 {
        if l.is_nan() {
            return 0.0;
        }
        let f = self.f(l);
        if f >= 0.0 {
            1.0 / (1.0 + (-f).exp())
        } else {
            let e = f.exp();
            e / (1.0 + e)
        }
    }
}

/// D's logits for rows `x` (row-major [rows, input_len]), in chunks of what `d` takes.
fn logits(d: &Forward, x: &[f32]) -> anyhow::Result<Vec<f32>> {
    let mut out = Vec::with_capacity(x.len() / d.input_len());
    for chunk in x.chunks(d.chunk() * d.input_len()) {
        out.extend(d.run(chunk)?);
    }
    Ok(out)
}

/// A run's G and D with a DRS calibration: draws G's samples from the fixed evaluation noise of
/// a seed and decides each. Sampling the same seed twice gives the same samples and decisions;
/// the kept samples are a subset of what `Generator::sample_stream` gives, in the same order.
pub struct Sampler<'g> {
    g: Generator<'g>,
    d: Forward<'g>,
    cal: Calibration,
    percentile: f32,
}

/// One chunk of G's samples: noise, samples and whether DRS keeps each.
struct Chunk {
    z: Vec<f32>,
    x: Vec<f32>,
    keep: Vec<bool>,
}

impl<'g> Sampler<'g> {
    /// The run's G (its sampling weights) and D bound to the device, calibrated at `percentile`
    /// on a burn-in of [`BURN_IN`] samples from a stream of the run's seed.
    pub fn new(
        gpu: &'g Gpu,
        cfg: &TrainConfig,
        state: &TrainState,
        data_dim: usize,
        percentile: f32,
    ) -> anyhow::Result<Self> {
        TrainConfig {
            drs: percentile,
            ..cfg.clone()
        }
        .check_drs()?;
        let g = Generator::new(
            gpu,
            &cfg.g_network(data_dim)?,
            state.g_sampling(),
            &state.g_running,
        )?;
        let d = Forward::new(
            gpu,
            &cfg.d_network(data_dim)?,
            &state.d_params,
            &state.d_running,
        )?;
        let mut burn = Vec::with_capacity(BURN_IN);
        g.stream_from(
            PhiloxNoise::new(cfg.seed, streams::DRS_BURN_IN),
            BURN_IN,
            |_, x| {
                burn.extend(logits(&d, x)?);
                Ok(())
            },
        )?;
        let cal = Calibration::from_burn_in(&burn, percentile)?;
        Ok(Sampler {
            g,
            d,
            cal,
            percentile,
        })
    }

    /// Calls `each` on chunks of G's samples from the evaluation noise of `seed` with DRS's
    /// decisions, while it returns true.
    fn chunks(
        &self,
        seed: u64,
        mut each: impl FnMut(&Chunk) -> anyhow::Result<bool>,
    ) -> anyhow::Result<()> {
        let mut noise = PhiloxNoise::new(seed, streams::EVAL_NOISE);
        // One uniform per drawn sample, kept or not, so the test of a sample never depends on
        // the others.
        let mut accept = PhiloxNoise::new(seed, streams::DRS_ACCEPT);
        let rows = self.g.chunk();
        let mut c = Chunk {
            z: Vec::with_capacity(rows * self.g.input_len()),
            x: Vec::new(),
            keep: Vec::with_capacity(rows),
        };
        loop {
            c.z.clear();
            c.z.extend((0..rows * self.g.input_len()).map(|_| noise.normal()));
            c.x = self.g.run(&c.z)?;
            c.keep.clear();
            for l in logits(&self.d, &c.x)? {
                c.keep
                    .push((accept.uniform() as f64) < self.cal.keep_probability(l));
            }
            if !each(&c)? {
                return Ok(());
            }
        }
    }

    /// Draws until `n` samples are kept, handing each chunk's kept (z, x) rows to `each` in
    /// order; an error when fewer than one in [`MAX_DRAWS_PER_KEPT`] is kept.
    pub fn sample(
        &self,
        seed: u64,
        n: usize,
        mut each: impl FnMut(&[f32], &[f32]) -> anyhow::Result<()>,
    ) -> anyhow::Result<DrsReport> {
        let (z_dim, dim) = (self.g.input_len(), self.d.input_len());
        let mut report = DrsReport {
            percentile: self.percentile,
            drawn: 0,
            kept: 0,
        };
        if n == 0 {
            return Ok(report);
        }
        let limit = n.max(self.g.chunk()).saturating_mul(MAX_DRAWS_PER_KEPT);
        let (mut kz, mut kx) = (Vec::new(), Vec::new());
        self.chunks(seed, |c| {
            kz.clear();
            kx.clear();
            for (i, &keep) in c.keep.iter().enumerate() {
                report.drawn += 1;
                if keep {
                    kz.extend_from_slice(&c.z[i * z_dim..(i + 1) * z_dim]);
                    kx.extend_from_slice(&c.x[i * dim..(i + 1) * dim]);
                    report.kept += 1;
                    if report.kept == n {
                        break;
                    }
                }
            }
            if !kx.is_empty() {
                each(&kz, &kx)?;
            }
            if report.kept < n && report.drawn >= limit {
                bail!(
                    "discriminator rejection sampling kept {} of {} samples (percentile {}); D \
                     rejects nearly all of G's samples, so the run is far from converged: train \
                     longer, lower the percentile, or sample without it (--drs 0)",
                    report.kept,
                    report.drawn,
                    self.percentile
                );
            }
            Ok(report.kept < n)
        })?;
        Ok(report)
    }

    /// `n` samples kept by DRS (rows [n, data_dim]) and the report.
    pub fn draw(&self, seed: u64, n: usize) -> anyhow::Result<(Vec<f32>, DrsReport)> {
        let mut x = Vec::with_capacity(n * self.d.input_len());
        let r = self.sample(seed, n, |_, chunk| {
            x.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok((x, r))
    }

    /// The first `n` samples G draws (rows [n, data_dim]), each with DRS's decision: what
    /// [`Self::sample`] keeps and what it throws away, for a picture.
    pub fn decide(&self, seed: u64, n: usize) -> anyhow::Result<(Vec<f32>, Vec<bool>)> {
        let dim = self.d.input_len();
        let (mut x, mut keep) = (Vec::with_capacity(n * dim), Vec::with_capacity(n));
        self.chunks(seed, |c| {
            let take = (n - keep.len()).min(c.keep.len());
            x.extend_from_slice(&c.x[..take * dim]);
            keep.extend_from_slice(&c.keep[..take]);
            Ok(keep.len() < n)
        })?;
        Ok((x, keep))
    }

    /// G alone, for sampling without DRS from the same weights.
    pub fn generator(&self) -> &Generator<'g> {
        &self.g
    }

    /// D, bound for chunks of rows.
    pub fn discriminator(&self) -> &Forward<'g> {
        &self.d
    }
}

/// The evaluation of a mixture run: the coverage of `g_samples` (G's samples on the fixed
/// evaluation noise), and, with a DRS `sampler`, of as many samples kept from the same noise.
pub fn evaluate(
    dataset: &str,
    seed: u64,
    sampler: Option<&Sampler>,
    g_samples: &[f32],
) -> anyhow::Result<MixtureEval> {
    let ds = crate::data::Dataset::parse(dataset)?;
    let g = crate::eval::evaluate(&ds, g_samples)?;
    let drs = match sampler {
        Some(s) => {
            let (x, sampling) = s.draw(seed, g.samples)?;
            let coverage = crate::eval::evaluate(&ds, &x)?;
            Some(DrsEval { sampling, coverage })
        }
        None => None,
    };
    Ok(MixtureEval { g, drs })
}

/// The run's DRS sampler when its configuration asks for one (`drs` > 0).
pub fn sampler_for<'g>(
    gpu: &'g Gpu,
    cfg: &TrainConfig,
    state: &TrainState,
    data_dim: usize,
) -> anyhow::Result<Option<Sampler<'g>>> {
    if cfg.drs == 0.0 {
        return Ok(None);
    }
    Ok(Some(Sampler::new(gpu, cfg, state, data_dim, cfg.drs)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With gamma = 0 the test is exact rejection sampling: keep with exp(l - l*).
    #[test]
    fn gamma_zero_is_the_exact_rejection_test() {
        let cal = Calibration {
            l_star: 1.5,
            gamma: 0.0,
        };
        for l in [-6.0f32, -2.0, -0.5, 0.0, 1.0, 1.4] {
            let want = ((l - 1.5) as f64).exp();
            let got = cal.keep_probability(l);
            assert!((got - want).abs() < 1e-5, "l {l}: {got} vs {want}");
        }
        // At and above l*, F is log(1 / eps): kept with probability 1 - 1e-6.
        assert!((cal.keep_probability(1.5) - 1.0).abs() < 2e-6);
        assert_eq!(cal.keep_probability(9.0), cal.keep_probability(1.5));
        assert_eq!(cal.keep_probability(f32::NAN), 0.0);
        assert!(cal.keep_probability(-1e30) == 0.0);
    }

    #[test]
    fn gamma_is_the_percentile_of_f_and_raises_the_bar() {
        let logits: Vec<f32> = (0..1000).map(|i| -(i as f32) / 100.0).collect();
        let c0 = Calibration::from_burn_in(&logits, 0.0).unwrap();
        assert_eq!(c0.l_star, 0.0);
        // The lowest F belongs to the lowest logit.
        assert_eq!(c0.gamma, f_ungated(-9.99, 0.0));
        let c50 = Calibration::from_burn_in(&logits, 50.0).unwrap();
        assert_eq!(c50.gamma, f_ungated(-4.99, 0.0));
        // Half the burn-in has F above gamma: kept with probability above one half.
        let above = logits.iter().filter(|&&l| c50.keep_probability(l) > 0.5);
        assert_eq!(above.count(), 499);
        assert!(Calibration::from_burn_in(&logits, 100.0).is_err());
        assert!(Calibration::from_burn_in(&[f32::NAN, f32::INFINITY], 5.0).is_err());
    }

    /// The recovery the method rests on: G = N(0, 1), data = N(1, 1), and D's logit the true
    /// log(p_data / p_G) = x - 1/2. Rejection with gamma = 0 must recover the data's mean and
    /// standard deviation.
    #[test]
    fn exact_logits_recover_the_data_distribution() {
        let mut noise = PhiloxNoise::new(7, 1);
        let xs: Vec<f32> = (0..400_000).map(|_| noise.normal()).collect();
        let logit = |x: f32| x.min(4.0) - 0.5;
        let cal = Calibration {
            l_star: logit(4.0),
            gamma: 0.0,
        };
        let mut u = PhiloxNoise::new(7, 2);
        let kept: Vec<f64> = (xs.iter())
            .filter(|&&x| (u.uniform() as f64) < cal.keep_probability(logit(x)))
            .map(|&x| x as f64)
            .collect();
        let n = kept.len() as f64;
        let mean = kept.iter().sum::<f64>() / n;
        let sd = (kept.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt();
        // About exp(-3.5) of the draws are kept (the clamp at 4 moves 0.13% of the data's mass).
        assert!(n > 10_000.0, "kept {n}");
        // Standard errors at n ~ 12,000: 0.01 for both.
        assert!((mean - 1.0).abs() < 0.04, "mean {mean}");
        assert!((sd - 1.0).abs() < 0.04, "sd {sd}");
    }
}
