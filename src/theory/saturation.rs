//! `shadergan theory saturation`: why G minimises -log D(G(z)) rather than log(1 - D(G(z)))
//! (Goodfellow et al. 2014, section 3: "Early in learning, when G is poor, D can reject samples
//! with high confidence ... log(1 - D(G(z))) saturates"). D is trained briefly against a frozen G
//! far from the data, so it is confident; then the gradient each loss sends to a generated point
//! x is computed by the G step's own kernels: bce.wgsl's backward (G's target and sign, as
//! `LossTerms` gives them to the schedule) and D's backward to its input.
//!
//! With D(x) = sigmoid(l(x)), per sample:
//!   minimax  L = log(1 - D):  dL/dl = -D,        -dL/dx = D l'(x)
//!   ns       L = -log D:      dL/dl = -(1 - D),  -dL/dx = (1 - D) l'(x)
//! so where D(x) -> 0 the minimax push vanishes and the non-saturating one tends to l'(x). The
//! closed forms are drawn beside the kernels' values, with D(x) and l'(x) (by central
//! differences) from D's forward pass in f64 on the CPU.

use super::density::LinearG;
use super::frozen::{DSetup, FrozenG, FrozenGraph};
use crate::gan::config::GLoss;
use crate::gan::schedule::LossTerms;
use crate::gpu::Gpu;
use crate::graph::net::NetSpec;
use crate::graph::network::Network;
use crate::graph::{Op, TensorId};
use crate::ops::{Activation, BceSpec};
use crate::viz::{self, Plot, Series, Style};
use std::fmt::Write as _;
use std::path::Path;

/// The default generator: N(6, 0.5^2), beside the default data's outermost mode at 3, where a G
/// early in training is: D tells its samples from the data with confidence.
pub const GENERATOR: LinearG = LinearG { a: 0.5, b: 6.0 };
/// D's steps before the gradients are taken: "early in training".
pub const D_STEPS: u64 = 500;
/// The step of the central differences of D's logit (in f64, where a logit of about 30 rounds
/// to a few 1e-15, so a slope is good to about 1e-8).
pub const H: f64 = 1e-6;
/// One-sided slopes of D's logit over h that differ by more than this share mark a kink (D is
/// piecewise linear through its leaky ReLUs), where a central difference is no derivative.
pub const KINK: f64 = 1e-6;

pub const PICTURE: &str = "saturation.png";
pub const VS_D_PICTURE: &str = "saturation_vs_d.png";

/// G's gradients at each probe point, per sample (the batch mean's gradient times the batch).
pub struct Saturation {
    pub setup: DSetup,
    pub d_steps: u64,
    pub xs: Vec<f64>,
    /// D(x) and l'(x) (central differences) from D's forward in f64 on the CPU.
    pub d: Vec<f64>,
    pub slope: Vec<f64>,
    /// Whether D's logit has a kink within h of the point (see [`KINK`]).
    pub kink: Vec<bool>,
    /// dL/dl from bce.wgsl's backward, and dL/dx from D's backward, for [minimax, ns].
    pub dl: [Vec<f64>; 2],
    pub dx: [Vec<f64>; 2],
    /// p_G at each point.
    pub q: Vec<f64>,
}

/// The losses in the order of every pair: minimax, then non-saturating.
pub const LOSSES: [(GLoss, &str); 2] = [(GLoss::Minimax, "minimax"), (GLoss::Ns, "ns")];

/// The ops of one loss's G-step gradient at `n` points: bce.wgsl's backward with G's term,
/// target and sign, then D's backward to its input.
struct Grad {
    dlogits: TensorId,
    dx: TensorId,
}

pub fn run(gpu: &Gpu, setup: &DSetup, d_steps: u64) -> anyhow::Result<Saturation> {
    anyhow::ensure!(d_steps > 0, "saturation needs at least one D step");
    let mut fg = FrozenGraph::build(setup)?;
    let cfg = setup.config();
    let xs = fg.xs.clone();
    let n = xs.len();
    let Network::Mlp(d) = fg.gan.d.clone() else {
        anyhow::bail!("the theory demonstrations use an MLP discriminator");
    };
    let gr = &mut fg.gan.graph;
    let pts: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
    let pts_t = gr.f32_from("theory.points", &pts);
    let dw = d.with_train_workspace(gr, "theory.d", n);
    let mut ops = dw.forward(pts_t.into(), n, None);
    let logits = dw.output_view(None).t;
    let mut grads = Vec::new();
    for (loss, name) in LOSSES {
        let terms = LossTerms::of(&crate::gan::config::TrainConfig {
            g_loss: loss,
            ..cfg.clone()
        });
        let targets = gr.f32_from(&format!("theory.{name}.targets"), &vec![terms.g_target; n]);
        let g = Grad {
            dlogits: gr.f32(&format!("theory.{name}.dlogits"), n),
            dx: gr.f32(&format!("theory.{name}.dx"), n),
        };
        let spec = BceSpec {
            term: terms.g_term,
            n,
            split: n,
            scale: terms.g_scale,
            metrics_off: 0,
            accumulate: false,
        };
        ops.push(Op::BceBackward {
            spec,
            x: logits,
            y: targets,
            grad: g.dlogits,
        });
        ops.extend(dw.backward(pts_t.into(), n, None, g.dlogits, false, Some(g.dx)));
        grads.push(g);
    }
    let mut f = FrozenG::new(gpu, fg, &ops)?;
    f.steps(d_steps)?;
    f.run_extra()?;
    let read = |t: TensorId| -> anyhow::Result<Vec<f64>> {
        let v = f.plan.read_f32(gpu, t)?;
        anyhow::ensure!(
            v.iter().all(|x| x.is_finite()),
            "a gradient is not a finite number; try a lower learning rate"
        );
        // Per sample: the backward of a mean over n rows carries 1 / n.
        Ok(v[..n].iter().map(|&g| g as f64 * n as f64).collect())
    };
    // The closed forms' D(x) and l'(x): D's forward in f64 on the CPU from its trained weights.
    let w = f.plan.read_f32(gpu, d.params)?;
    let l = |x: f64| logit_f64(&d.spec, &w, x);
    let (mut slope, mut kink) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for &x in &xs {
        let (lm, l0, lp) = (l(x - H), l(x), l(x + H));
        let (left, right) = ((l0 - lm) / H, (lp - l0) / H);
        slope.push((lp - lm) / (2.0 * H));
        kink.push((left - right).abs() > KINK * left.abs().max(right.abs()).max(1.0));
    }
    let q = f.graph.q.clone();
    Ok(Saturation {
        setup: setup.clone(),
        d_steps,
        d: xs.iter().map(|&x| 1.0 / (1.0 + (-l(x)).exp())).collect(),
        slope,
        kink,
        dl: [read(grads[0].dlogits)?, read(grads[1].dlogits)?],
        dx: [read(grads[0].dx)?, read(grads[1].dx)?],
        q: xs.iter().map(|&x| q.pdf(x)).collect(),
        xs,
    })
}

/// D's logit at `x` in f64 from its weights `w` (each layer's weight [out, in], then its bias,
/// as `NetSpec::layout` lays them out): the closed forms' reference, apart from the kernels.
pub fn logit_f64(spec: &NetSpec, w: &[f32], x: f64) -> f64 {
    let mut h = vec![x];
    for (p, layer) in spec.layout().iter().zip(&spec.layers) {
        h = (0..p.out)
            .map(|o| {
                let row = &w[p.w_off + o * p.inp..p.w_off + (o + 1) * p.inp];
                let z = w[p.b_off + o] as f64
                    + row.iter().zip(&h).map(|(&a, &b)| a as f64 * b).sum::<f64>();
                match layer.act {
                    Activation::Identity => z,
                    Activation::Relu => z.max(0.0),
                    Activation::LeakyRelu(a) => z.max(0.0) + a as f64 * z.min(0.0),
                    Activation::Tanh => z.tanh(),
                    Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
                }
            })
            .collect();
    }
    h[0]
}

impl Saturation {
    /// The closed forms at point i for [minimax, ns]: dL/dl, and -dL/dx with the
    /// central-difference slope.
    pub fn closed_dl(&self, i: usize) -> [f64; 2] {
        [-self.d[i], -(1.0 - self.d[i])]
    }

    pub fn closed_dx(&self, i: usize) -> [f64; 2] {
        let [a, b] = self.closed_dl(i);
        [a * self.slope[i], b * self.slope[i]]
    }

    /// The mean over P_G (weights p_G on the even grid) of |dL/dx| for [minimax, ns], and of D.
    pub fn means_over_g(&self) -> ([f64; 2], f64) {
        let total: f64 = self.q.iter().sum();
        let mean = |f: &dyn Fn(usize) -> f64| {
            (0..self.xs.len()).map(|i| self.q[i] * f(i)).sum::<f64>() / total
        };
        (
            [
                mean(&|i| self.dx[0][i].abs()),
                mean(&|i| self.dx[1][i].abs()),
            ],
            mean(&|i| self.d[i]),
        )
    }

    /// The largest |kernel - closed form| of dL/dl over every point, and of dL/dx relative to
    /// the closed form's |dL/dx| plus 1e-3 of its largest, over the points without a kink, for
    /// [minimax, ns] (NaN propagates).
    pub fn deviations(&self) -> ([f64; 2], [f64; 2]) {
        let mut dl = [0.0f64; 2];
        let mut dx = [0.0f64; 2];
        let mut top = [0.0f64; 2];
        for i in 0..self.xs.len() {
            for (k, t) in top.iter_mut().enumerate() {
                *t = t.max(self.closed_dx(i)[k].abs());
            }
        }
        let worse = |a: f64, b: f64| if b.is_nan() || b > a { b } else { a };
        for i in 0..self.xs.len() {
            let (cl, cx) = (self.closed_dl(i), self.closed_dx(i));
            for k in 0..2 {
                dl[k] = worse(dl[k], (self.dl[k][i] - cl[k]).abs());
                if !self.kink[i] {
                    let scale = cx[k].abs() + 1e-3 * top[k];
                    dx[k] = worse(dx[k], (self.dx[k][i] - cx[k]).abs() / scale);
                }
            }
        }
        (dl, dx)
    }

    pub fn report(&self) -> String {
        let s = &self.setup;
        let mut r = String::new();
        let _ = writeln!(
            r,
            "saturation: the gradient G's loss sends to a generated point when D is confident \
             (Goodfellow et al. 2014, section 3)"
        );
        let _ = writeln!(
            r,
            "P_data = {}; G frozen at P_G = {}; D trained {} steps ({})",
            super::data_spec(&s.dataset),
            super::describe(s.g),
            self.d_steps,
            super::optimal_d::setup_line(s)
        );
        let ([mm, ns], d_mean) = self.means_over_g();
        let _ = writeln!(
            r,
            "D is confident: mean D(G(z)) over P_G = {d_mean:.2e}\n\nmean |dL_G/dx| over P_G, \
             per sample: minimax log(1 - D) {mm:.3e}, non-saturating -log D {ns:.3e} (ratio \
             {:.0})\n",
            ns / mm
        );
        let _ = writeln!(
            r,
            "{:>7} {:>9} {:>9} | {:>11} {:>11} | {:>11} {:>11}",
            "x", "D(x)", "l'(x)", "mm kernel", "mm closed", "ns kernel", "ns closed"
        );
        let _ = writeln!(
            r,
            "{:>29} | -dL/dx, minimax          | -dL/dx, non-saturating",
            ""
        );
        let (lo, hi) = (
            (s.g.b - 2.0 * s.g.a.abs()) as f64,
            (s.g.b + 2.0 * s.g.a.abs()) as f64,
        );
        let inside: Vec<usize> = (0..self.xs.len())
            .filter(|&i| self.xs[i] >= lo && self.xs[i] <= hi)
            .collect();
        for &i in super::some_rows(&inside, 9) {
            let (k, c) = ([-self.dx[0][i], -self.dx[1][i]], self.closed_dx(i));
            let _ = writeln!(
                r,
                "{:>7.3} {:>9.2e} {:>9.3} | {:>11.3e} {:>11.3e} | {:>11.3e} {:>11.3e}",
                self.xs[i], self.d[i], self.slope[i], k[0], -c[0], k[1], -c[1]
            );
        }
        let (dl, dx) = self.deviations();
        let kinks = self.kink.iter().filter(|&&k| k).count();
        let _ = writeln!(
            r,
            "\nkernels against closed forms: largest |dL/dl difference| over all {} points: \
             minimax {:.1e}, ns {:.1e}; largest |dL/dx difference| relative to |dL/dx| (plus \
             1e-3 of its largest) over the {} points without a kink of D's logit within h: \
             minimax {:.1e}, ns {:.1e} (D and l'(x) from D's forward in f64, l' by central differences with h = {H:e})",
            self.xs.len(),
            dl[0],
            dl[1],
            self.xs.len() - kinks,
            dx[0],
            dx[1]
        );
        let _ = writeln!(
            r,
            "pictures: {PICTURE} (-dL/dx over P_G's range, with D(x)), {VS_D_PICTURE} \
             (|dL/dl| against D(G(z)))"
        );
        r
    }

    pub fn draw(&self, dir: &Path) -> anyhow::Result<()> {
        let g = self.setup.g;
        let (lo, hi) = (
            (g.b - 3.0 * g.a.abs()) as f64,
            (g.b + 3.0 * g.a.abs()) as f64,
        );
        let idx: Vec<usize> = (0..self.xs.len())
            .filter(|&i| self.xs[i] >= lo && self.xs[i] <= hi)
            .collect();
        let on = |f: &dyn Fn(usize) -> f64| idx.iter().map(|&i| (self.xs[i], f(i))).collect();
        let colors = [viz::PALETTE[4], viz::FAKE];
        let mut series = Vec::new();
        for (k, (_, name)) in LOSSES.iter().enumerate() {
            let label = match *name {
                "minimax" => ["minimax log(1-D), kernels", "minimax, closed form"],
                _ => ["ns -log D, kernels", "ns, closed form"],
            };
            series.push(Series {
                label: label[0],
                points: on(&|i| -self.dx[k][i]),
                color: colors[k],
                style: Style::Line,
                right: false,
            });
            series.push(Series {
                label: label[1],
                points: on(&|i| -self.closed_dx(i)[k]),
                color: viz::REAL,
                style: Style::Dashed,
                right: false,
            });
        }
        series.push(Series {
            label: "D(x)",
            points: on(&|i| self.d[i]),
            color: viz::D_CURVE,
            style: Style::Line,
            right: true,
        });
        let title = format!(
            "the push -dL_G/dx on G's points, D after {} steps",
            self.d_steps
        );
        viz::line_plot(
            &dir.join(PICTURE),
            &Plot {
                title: &title,
                x_label: "generated point x",
                y_label: "-dL_G/dx",
                right_label: "D(x)",
                series,
                ..Plot::default()
            },
        )?;
        // |dL/dl| against D: the closed forms as lines, the kernels at every 8th point.
        let ds = super::density::grid(0.0, 1.0, 201);
        let mut series: Vec<Series> = ["minimax: |dL/dl| = D", "ns: |dL/dl| = 1 - D"]
            .iter()
            .enumerate()
            .map(|(k, label)| Series {
                label,
                points: ds
                    .iter()
                    .map(|&d| (d, if k == 0 { d } else { 1.0 - d }))
                    .collect(),
                color: colors[k],
                style: Style::Line,
                right: false,
            })
            .collect();
        series.push(Series {
            label: "bce.wgsl backward",
            points: (0..2)
                .flat_map(|k| {
                    (0..self.xs.len())
                        .step_by(8)
                        .map(move |i| (self.d[i], self.dl[k][i].abs()))
                })
                .collect(),
            color: viz::REAL,
            style: Style::Ring,
            right: false,
        });
        viz::line_plot(
            &dir.join(VS_D_PICTURE),
            &Plot {
                title: "G's gradient at D's logit against D(G(z))",
                x_label: "D(G(z))",
                y_label: "|dL_G/dl|",
                y_range: Some([0.0, 1.05]),
                series,
                ..Plot::default()
            },
        )
    }
}
