//! `shadergan theory optimal-d`: for a fixed G the best discriminator is
//! D*(x) = p_data(x) / (p_data(x) + p_G(x)) (Goodfellow et al. 2014, Proposition 1). G is frozen
//! at G(z) = a z + b, so P_G = N(b, a^2) exactly; D is trained alone on the `gauss1d` mixture
//! until it stops improving, and its curve is drawn beside the closed-form D*.

use super::density::{self, Density};
use super::frozen::{DProgress, DSetup, FrozenG, FrozenGraph};
use crate::gpu::Gpu;
use crate::viz::{self, Plot, Series, Style};
use std::fmt::Write as _;
use std::path::Path;

/// A trained D against its D*.
pub struct OptimalD {
    pub setup: DSetup,
    pub history: Vec<DProgress>,
    pub p: Density,
    pub q: Density,
    pub xs: Vec<f64>,
    /// D's logits at `xs` at the end.
    pub logits: Vec<f32>,
    pub jsd: f64,
    /// V(G, D*) = -log 4 + 2 JSD.
    pub v_star: f64,
    pub seconds: f64,
}

pub const PICTURE: &str = "optimal_d.png";
pub const TRAINING_PICTURE: &str = "d_training.png";

/// Trains D against the frozen G of `setup` until it stops improving.
pub fn run(gpu: &Gpu, setup: &DSetup) -> anyhow::Result<OptimalD> {
    let t0 = std::time::Instant::now();
    let mut f = FrozenG::new(gpu, FrozenGraph::build(setup)?, &[])?;
    let history = f.train_to_plateau()?;
    let logits = f.logits()?;
    let g = f.graph;
    Ok(OptimalD {
        setup: setup.clone(),
        history,
        jsd: density::jsd(&g.p, &g.q),
        v_star: density::optimal_value(&g.p, &g.q),
        p: g.p,
        q: g.q,
        xs: g.xs,
        logits,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

impl OptimalD {
    /// The last read-back.
    pub fn last(&self) -> DProgress {
        *self.history.last().expect("D trains at least one chunk")
    }

    pub fn report(&self) -> String {
        let s = &self.setup;
        let last = self.last();
        let mut r = String::new();
        let _ = writeln!(
            r,
            "optimal-d: D trained alone against a frozen G (Goodfellow et al. 2014, Proposition 1)"
        );
        let _ = writeln!(
            r,
            "P_data = {} (equal weights)",
            super::data_spec(&s.dataset)
        );
        let _ = writeln!(
            r,
            "G(z) = a z + b, z ~ N(0, 1), a = {}, b = {}: P_G = {}",
            s.g.a,
            s.g.b,
            super::describe(s.g)
        );
        let _ = writeln!(r, "{}", setup_line(s));
        let stopped = if last.steps < s.max_steps {
            format!(
                "D stopped improving after {} steps (V by quadrature rose by less than {:e} nats \
                 over {} chunks of {} steps)",
                last.steps, s.tol, s.patience, s.chunk
            )
        } else {
            format!("D trained the most steps, {}", s.max_steps)
        };
        let _ = writeln!(r, "{stopped}; {:.1} s in all\n", self.seconds);
        let _ = writeln!(
            r,
            "{:>6}  {:>15}  {:>15}  {:>16}",
            "steps", "V from D's loss", "V by quadrature", "largest |D - D*|"
        );
        for h in super::some_rows(&self.history, 12) {
            let _ = writeln!(
                r,
                "{:>6}  {:>15.4}  {:>15.4}  {:>16.4}",
                h.steps, h.v_loss, h.v_quad, h.gap.largest
            );
        }
        let _ = writeln!(
            r,
            "\nJSD(P_data || P_G) = {:.4} nats; V(G, D*) = -log 4 + 2 JSD = {:.4}",
            self.jsd, self.v_star
        );
        let _ = writeln!(
            r,
            "largest |D(x) - D*(x)| over the central {}% of the mass of (P_data + P_G) / 2: \
             {:.4} at x = {:.3}; mean |D - D*| weighted by (p_data + p_G) / 2: {:.4}",
            100.0 - density::TAIL_MASS * 100.0,
            last.gap.largest,
            last.gap.at,
            last.gap.mean
        );
        let _ = writeln!(
            r,
            "pictures: {PICTURE} (P_data, P_G, D and D*), {TRAINING_PICTURE} (V over D's steps)"
        );
        r
    }

    pub fn draw(&self, dir: &Path) -> anyhow::Result<()> {
        let title = format!(
            "D against D* = p_data / (p_data + p_G), {} steps",
            self.last().steps
        );
        viz::line_plot(
            &dir.join(PICTURE),
            &Plot {
                title: &title,
                x_label: "x",
                y_label: "density",
                right_label: "D(x)",
                right_range: Some([0.0, 1.0]),
                series: curves(&self.p, &self.q, &self.xs, &self.logits, "D (trained)"),
                ..Plot::default()
            },
        )?;
        let steps: Vec<u64> = self.history.iter().map(|h| h.steps).collect();
        viz::loss_curves(
            &dir.join(TRAINING_PICTURE),
            &steps,
            &[
                (
                    "V(G, D) from D's loss",
                    self.history.iter().map(|h| h.v_loss as f32).collect(),
                ),
                (
                    "V(G, D) by quadrature",
                    self.history.iter().map(|h| h.v_quad as f32).collect(),
                ),
                (
                    "V(G, D*) = -log 4 + 2 JSD",
                    vec![self.v_star as f32; steps.len()],
                ),
            ],
            "D trained alone: V(G, D) rises to V(G, D*)",
        )
    }
}

/// The line describing D's training.
pub fn setup_line(s: &DSetup) -> String {
    let widths: Vec<String> = s.d_hidden.iter().map(|w| w.to_string()).collect();
    format!(
        "D: MLP 1-{}-1 (leaky ReLU 0.2), {} real and {} generated rows a step, Adam lr {:e} \
         decaying to 1% over {} steps, seed {}",
        widths.join("-"),
        s.batch,
        s.batch,
        s.lr,
        s.max_steps,
        s.seed
    )
}

/// P_data and P_G (left axis), D = sigmoid(`logits`) and D* (right axis) at `xs`.
pub fn curves<'a>(
    p: &Density,
    q: &Density,
    xs: &[f64],
    logits: &[f32],
    d_label: &'a str,
) -> Vec<Series<'a>> {
    let (lo, hi) = density::picture_range(p, q);
    let shown = |x: &f64| (lo..=hi).contains(x);
    let on = |f: &dyn Fn(f64) -> f64| {
        xs.iter()
            .filter(|x| shown(x))
            .map(|&x| (x, f(x)))
            .collect::<Vec<_>>()
    };
    vec![
        Series {
            label: "p_data",
            points: on(&|x| p.pdf(x)),
            color: viz::REAL,
            style: Style::Filled,
            right: false,
        },
        Series {
            label: "p_G",
            points: on(&|x| q.pdf(x)),
            color: viz::FAKE,
            style: Style::Filled,
            right: false,
        },
        Series {
            label: "D*",
            points: on(&|x| density::optimal_d(p, q, x)),
            color: viz::PALETTE[1],
            style: Style::Line,
            right: true,
        },
        Series {
            label: d_label,
            points: xs
                .iter()
                .zip(logits)
                .filter(|(x, _)| shown(x))
                .map(|(&x, &l)| (x, 1.0 / (1.0 + (-l as f64).exp())))
                .collect(),
            color: viz::D_CURVE,
            style: Style::Dashed,
            right: true,
        },
    ]
}
