//! The closed forms of the 1-D demonstrations: the densities (the data's Gaussian mixture, a
//! linear G's Gaussian), the optimal discriminator D*, and the integrals of the argument by
//! numerical quadrature: KL, JSD, and V(G, D) for a discriminator known on a grid of points.
//!
//! Everything here is f64 on the CPU and works in log space, so that densities far in each
//! other's tails (a generator that misses a mode) give finite logarithms instead of 0 / 0.

/// An equal-weight mixture of Gaussians of one standard deviation on the real line: the
/// `gauss1d` data set's P_data, and (one centre) a linear generator's P_G.
#[derive(Clone, Debug, PartialEq)]
pub struct Density {
    pub centres: Vec<f64>,
    pub std: f64,
}

/// How far past its outermost centres, in standard deviations, a density's mass is counted: the
/// Gaussian's mass beyond 9 std is about 1e-19.
const TAIL_STDS: f64 = 9.0;

/// Intervals of Simpson's rule over a density's range: 20,000 over the default data and
/// generators' 20 to 30 units is a step of 1e-3 to 1.5e-3, a few hundredths of the narrowest
/// std (0.3), where the rule's error is far below f32 precision.
pub const INTERVALS: usize = 20_000;

impl Density {
    pub fn gaussian(mean: f64, std: f64) -> Density {
        Density {
            centres: vec![mean],
            std,
        }
    }

    /// A 1-D data set's mixture (`gauss1d`).
    pub fn of_mixture(m: &crate::data::Mixture) -> anyhow::Result<Density> {
        anyhow::ensure!(
            m.dim() == 1,
            "the theory demonstrations are 1-D; this mixture has dimension {}",
            m.dim()
        );
        Ok(Density {
            centres: m.centres.iter().map(|c| c[0] as f64).collect(),
            std: m.std as f64,
        })
    }

    /// log p(x), by log-sum-exp over the components.
    pub fn ln_pdf(&self, x: f64) -> f64 {
        let k = self.centres.len() as f64;
        let logs = self.centres.iter().map(|c| {
            let u = (x - c) / self.std;
            -0.5 * u * u
        });
        let top = logs.clone().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = logs.map(|l| (l - top).exp()).sum();
        top + sum.ln() - k.ln() - self.std.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
    }

    pub fn pdf(&self, x: f64) -> f64 {
        self.ln_pdf(x).exp()
    }

    /// [lo, hi] holding all but about 1e-19 of the mass.
    pub fn range(&self) -> (f64, f64) {
        let lo = self.centres.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self
            .centres
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        (lo - TAIL_STDS * self.std, hi + TAIL_STDS * self.std)
    }
}

/// A linear generator G(z) = a z + b on z ~ N(0, 1): an MLP with no hidden layer and an
/// identity output, whose P_G is exactly N(b, a^2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearG {
    pub a: f32,
    pub b: f32,
}

impl LinearG {
    pub fn density(&self) -> Density {
        Density::gaussian(self.b as f64, self.a.abs() as f64)
    }

    /// G's parameters in the network's layout (PyTorch's nn.Linear(1, 1): weight, then bias).
    pub fn params(&self) -> Vec<f32> {
        vec![self.a, self.b]
    }
}

/// The range holding both densities' mass.
pub fn joint_range(p: &Density, q: &Density) -> (f64, f64) {
    let (a, b) = (p.range(), q.range());
    (a.0.min(b.0), a.1.max(b.1))
}

/// log(e^a + e^b) without overflow or 0 * inf.
fn ln_add_exp(a: f64, b: f64) -> f64 {
    let top = a.max(b);
    if top == f64::NEG_INFINITY {
        return top;
    }
    top + ((a - top).exp() + (b - top).exp()).ln()
}

/// D*(x) = p(x) / (p(x) + q(x)), the discriminator that maximises V(G, D) for a fixed G
/// (Goodfellow et al. 2014, Proposition 1); 1 / (1 + exp(ln q - ln p)), finite wherever either
/// log-density is.
pub fn optimal_d(p: &Density, q: &Density, x: f64) -> f64 {
    1.0 / (1.0 + (q.ln_pdf(x) - p.ln_pdf(x)).exp())
}

/// The integral of `f` over [lo, hi] by composite Simpson's rule on `n` (even) intervals.
pub fn simpson(f: impl Fn(f64) -> f64, lo: f64, hi: f64, n: usize) -> f64 {
    let n = n.max(2).next_multiple_of(2);
    let h = (hi - lo) / n as f64;
    let inner: f64 = (1..n)
        .map(|i| f(lo + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 })
        .sum();
    (f(lo) + inner + f(hi)) * h / 3.0
}

/// KL(P || Q) = integral of p log(p / q), in nats: what maximum likelihood minimises over Q
/// (the expected log-likelihood of the data under Q is -KL(P || Q) minus P's entropy).
pub fn kl(p: &Density, q: &Density) -> f64 {
    let (lo, hi) = joint_range(p, q);
    simpson(
        |x| {
            let (lp, lq) = (p.ln_pdf(x), q.ln_pdf(x));
            lp.exp() * (lp - lq)
        },
        lo,
        hi,
        INTERVALS,
    )
}

/// JSD(P || Q) = KL(P || M) / 2 + KL(Q || M) / 2 with M = (P + Q) / 2, in nats: 0 for equal
/// densities, log 2 for disjoint ones.
pub fn jsd(p: &Density, q: &Density) -> f64 {
    let (lo, hi) = joint_range(p, q);
    simpson(
        |x| {
            let (lp, lq) = (p.ln_pdf(x), q.ln_pdf(x));
            let lm = ln_add_exp(lp, lq) - std::f64::consts::LN_2;
            0.5 * (lp.exp() * (lp - lm) + lq.exp() * (lq - lm))
        },
        lo,
        hi,
        INTERVALS,
    )
}

/// V(G, D*) = -log 4 + 2 JSD(P_data || P_G) (Goodfellow et al. 2014, Theorem 1).
pub fn optimal_value(p: &Density, q: &Density) -> f64 {
    -(4.0f64).ln() + 2.0 * jsd(p, q)
}

/// softplus(x) = log(1 + e^x), stable for large |x|.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// V(G, D) = E_data[log D(x)] + E_G[log(1 - D(x))] by the trapezoidal rule, for a discriminator
/// known by its logits at the evenly spaced points `xs` (D = sigmoid(logit), so log D =
/// -softplus(-logit) and log(1 - D) = -softplus(logit)). The points must span the densities'
/// mass (see [`joint_range`]).
pub fn value_on_grid(p: &Density, q: &Density, xs: &[f64], logits: &[f32]) -> f64 {
    let f = |i: usize| {
        let l = logits[i] as f64;
        p.pdf(xs[i]) * -softplus(-l) + q.pdf(xs[i]) * -softplus(l)
    };
    trapezoid(xs, f)
}

/// The integral over the evenly spaced points `xs` of the function whose values `f(i)` gives.
fn trapezoid(xs: &[f64], f: impl Fn(usize) -> f64) -> f64 {
    let n = xs.len();
    if n < 2 {
        return 0.0;
    }
    let h = (xs[n - 1] - xs[0]) / (n - 1) as f64;
    let inner: f64 = (1..n - 1).map(&f).sum();
    h * (inner + 0.5 * (f(0) + f(n - 1)))
}

/// Where the densities have mass, for the gap between D and D*: the central part of the
/// mixture M = (P + Q) / 2 that holds all but this share of its mass (half of it on each side).
/// Beyond it fewer than 1 in 200 samples of either density fall, too few for D to learn the
/// ratio of two tails from.
pub const TAIL_MASS: f64 = 0.01;

/// How a trained D compares with D* on a grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gap {
    /// max |D(x) - D*(x)| over the points where the densities have mass ([`TAIL_MASS`]).
    pub largest: f64,
    /// Where it is.
    pub at: f64,
    /// The mean of |D - D*| weighted by (p + q) / 2, over every point.
    pub mean: f64,
}

/// D = sigmoid(`logits`) at the evenly spaced points `xs` against D*.
pub fn gap(p: &Density, q: &Density, xs: &[f64], logits: &[f32]) -> Gap {
    let mass: Vec<f64> = xs.iter().map(|&x| 0.5 * (p.pdf(x) + q.pdf(x))).collect();
    let err: Vec<f64> = xs
        .iter()
        .zip(logits)
        .map(|(&x, &l)| (1.0 / (1.0 + (-l as f64).exp()) - optimal_d(p, q, x)).abs())
        .collect();
    let total = trapezoid(xs, |i| mass[i]);
    let (mut largest, mut at, mut below) = (0.0, f64::NAN, 0.0);
    for i in 0..xs.len() {
        // The mixture's mass below xs[i] (trapezoids), as a share of the whole.
        if i > 0 {
            below += 0.5 * (mass[i - 1] + mass[i]) * (xs[i] - xs[i - 1]) / total;
        }
        let inside = (TAIL_MASS / 2.0..=1.0 - TAIL_MASS / 2.0).contains(&below);
        if inside && (err[i].is_nan() || err[i] > largest) {
            (largest, at) = (err[i], xs[i]);
            if largest.is_nan() {
                break;
            }
        }
    }
    Gap {
        largest,
        at,
        mean: trapezoid(xs, |i| mass[i] * err[i]) / total,
    }
}

/// Where the picture of two densities is drawn: their centres widened by 4 std.
pub fn picture_range(p: &Density, q: &Density) -> (f64, f64) {
    let r = |d: &Density| {
        let (lo, hi) = d.range();
        let cut = (TAIL_STDS - 4.0) * d.std;
        (lo + cut, hi - cut)
    };
    let (a, b) = (r(p), r(q));
    (a.0.min(b.0), a.1.max(b.1))
}

/// `n` evenly spaced points over [lo, hi].
pub fn grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| lo + (hi - lo) * i as f64 / (n - 1).max(1) as f64)
        .collect()
}
