//! `shadergan theory divergence`: at the optimal discriminator the game's value is a divergence,
//! V(G, D*) = -log 4 + 2 JSD(P_data || P_G) (Goodfellow et al. 2014, Theorem 1). For three frozen
//! linear generators at increasing distance from the data, D is trained to a plateau and its
//! V(G, D), from its own loss and by quadrature, is set beside the right-hand side computed by
//! numerical integration of the closed-form densities; KL(P_data || P_G), what maximum likelihood
//! minimises, is printed beside it.

use super::density::{self, LinearG};
use super::frozen::DSetup;
use super::optimal_d::{self, OptimalD};
use crate::gpu::Gpu;
use crate::viz::{self, Plot, Series, Style};
use std::fmt::Write as _;
use std::path::Path;

/// The default generators, as P_G = N(mean, std^2): wide over all three of the default data's
/// modes, on one mode, and beside the outermost one (docs/theory.md lists their JSDs).
pub const GENERATORS: [LinearG; 3] = [
    LinearG { a: 2.5, b: 0.0 },
    LinearG { a: 0.5, b: 3.0 },
    LinearG { a: 0.5, b: 4.5 },
];

pub const PICTURE: &str = "divergence.png";
pub const DENSITIES_PICTURE: &str = "generators.png";

/// One generator's row.
pub struct Row {
    pub d: OptimalD,
    pub kl: f64,
}

/// D trained to a plateau against each generator of `gens` on `base`'s data and settings.
pub fn run(gpu: &Gpu, base: &DSetup, gens: &[LinearG]) -> anyhow::Result<Vec<Row>> {
    anyhow::ensure!(!gens.is_empty(), "divergence needs at least one generator");
    gens.iter()
        .map(|&g| {
            let d = optimal_d::run(gpu, &DSetup { g, ..base.clone() })?;
            Ok(Row {
                kl: density::kl(&d.p, &d.q),
                d,
            })
        })
        .collect()
}

pub fn report(rows: &[Row]) -> String {
    let mut r = String::new();
    let s = &rows[0].d.setup;
    let _ = writeln!(
        r,
        "divergence: V(G, D) at the trained D against -log 4 + 2 JSD(P_data || P_G) \
         (Goodfellow et al. 2014, Theorem 1)"
    );
    let _ = writeln!(
        r,
        "P_data = {} (equal weights)",
        super::data_spec(&s.dataset)
    );
    let _ = writeln!(
        r,
        "{}; each D trained until it stopped improving\n",
        optimal_d::setup_line(s)
    );
    let _ = writeln!(
        r,
        "{:<3} {:<14} {:>8} {:>7} {:>11} {:>10} {:>10} {:>9} {:>6}",
        "G", "P_G", "KL(P||G)", "JSD", "-log4+2JSD", "V D's loss", "V quadr.", "max|D-D*|", "steps"
    );
    for (i, row) in rows.iter().enumerate() {
        let last = row.d.last();
        let _ = writeln!(
            r,
            "G{:<2} {:<14} {:>8.3} {:>7.4} {:>11.4} {:>10.4} {:>10.4} {:>9.4} {:>6}",
            i + 1,
            super::describe(row.d.setup.g),
            row.kl,
            row.d.jsd,
            row.d.v_star,
            last.v_loss,
            last.v_quad,
            last.gap.largest,
            last.steps
        );
    }
    let worst = rows
        .iter()
        .map(|row| (row.d.last().v_loss - row.d.v_star).abs())
        .fold(0.0, f64::max);
    let _ = writeln!(
        r,
        "\nlargest |V from D's loss - (-log 4 + 2 JSD)|: {worst:.4} nats. V(G, D) <= V(G, D*) for \
         every D, so the quadrature's V lies below the closed form by what D lacks; V from D's \
         loss is the mean over the last chunk's minibatches, as metrics.csv's JSD estimate \
         (log 4 - L_D) / 2 reads it."
    );
    let _ = writeln!(
        r,
        "JSD is at most log 2 = {:.4}; KL(P_data || P_G) has no bound and grows fastest for a \
         G that misses modes.",
        std::f64::consts::LN_2
    );
    let _ = writeln!(
        r,
        "pictures: {PICTURE} (V against JSD), {DENSITIES_PICTURE} (P_data, each P_G and its D)"
    );
    r
}

pub fn draw(rows: &[Row], dir: &Path) -> anyhow::Result<()> {
    let line: Vec<(f64, f64)> = density::grid(0.0, std::f64::consts::LN_2, 401)
        .into_iter()
        .map(|j| (j, -(4.0f64).ln() + 2.0 * j))
        .collect();
    let dots = |f: fn(&OptimalD) -> f64| -> Vec<(f64, f64)> {
        rows.iter().map(|row| (row.d.jsd, f(&row.d))).collect()
    };
    viz::line_plot(
        &dir.join(PICTURE),
        &Plot {
            title: "V(G, D) = -log 4 + 2 JSD at the optimal D",
            x_label: "JSD(P_data || P_G), nats",
            y_label: "V(G, D)",
            series: vec![
                Series {
                    label: "-log 4 + 2 JSD",
                    points: line,
                    color: viz::REAL,
                    style: Style::Line,
                    right: false,
                },
                Series {
                    label: "V from D's loss",
                    points: dots(|d| d.last().v_loss),
                    color: viz::D_CURVE,
                    style: Style::Ring,
                    right: false,
                },
                Series {
                    label: "V by quadrature",
                    points: dots(|d| d.last().v_quad),
                    color: viz::PALETTE[1],
                    style: Style::Dots,
                    right: false,
                },
            ],
            ..Plot::default()
        },
    )?;
    // P_data once, then each P_G and its trained D in the generator's colour, over the range
    // that holds all of them.
    let (lo, hi) = rows
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), row| {
            let (a, b) = density::picture_range(&row.d.p, &row.d.q);
            (lo.min(a), hi.max(b))
        });
    let shown = |x: &&f64| (lo..=hi).contains(*x);
    let first = &rows[0].d;
    let labels: Vec<(String, String)> = (1..=rows.len())
        .map(|i| (format!("p_G{i}"), format!("D vs G{i}")))
        .collect();
    let mut series = vec![Series {
        label: "p_data",
        points: first
            .xs
            .iter()
            .filter(shown)
            .map(|&x| (x, first.p.pdf(x)))
            .collect(),
        color: viz::REAL,
        style: Style::Filled,
        right: false,
    }];
    for (i, (row, (pl, dl))) in rows.iter().zip(&labels).enumerate() {
        let color = [viz::FAKE, viz::PALETTE[2], viz::PALETTE[4]][i % 3];
        let d = &row.d;
        series.push(Series {
            label: pl,
            points: d
                .xs
                .iter()
                .filter(shown)
                .map(|&x| (x, d.q.pdf(x)))
                .collect(),
            color,
            style: Style::Line,
            right: false,
        });
        series.push(Series {
            label: dl,
            points: d
                .xs
                .iter()
                .zip(&d.logits)
                .filter(|(x, _)| shown(x))
                .map(|(&x, &l)| (x, 1.0 / (1.0 + (-l as f64).exp())))
                .collect(),
            color,
            style: Style::Dashed,
            right: true,
        });
    }
    viz::line_plot(
        &dir.join(DENSITIES_PICTURE),
        &Plot {
            title: "P_data, three generators, and the D trained against each",
            x_label: "x",
            y_label: "density",
            right_label: "D(x)",
            right_range: Some([0.0, 1.0]),
            series,
            ..Plot::default()
        },
    )
}
