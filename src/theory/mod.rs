//! The original GAN's theory (Goodfellow et al. 2014, "Generative Adversarial Nets", section 4)
//! shown numerically with our own kernels, in 1-D where every density is known in closed form
//! (`shadergan theory <demo>`; the argument step by step is docs/theory.md):
//!
//! - [`optimal_d`]: for a fixed G, D trained alone approaches D*(x) = p_data / (p_data + p_G)
//!   (Proposition 1).
//! - [`divergence`]: at that D, V(G, D) = -log 4 + 2 JSD(P_data || P_G) (Theorem 1), for three
//!   generators at increasing distance from the data.
//! - [`saturation`]: the gradient G receives from log(1 - D(G(z))) vanishes where D is
//!   confident; that of -log D(G(z)) does not (section 3).
//! - [`k`]: Algorithm 1 with k = 1, 2, 5 discriminator steps per generator step on the ring.
//!
//! The closed forms and integrals are in [`density`]; D's training against a frozen G, the
//! schedule's own discriminator step replayed, is [`frozen`].

pub mod density;
pub mod divergence;
pub mod frozen;
pub mod k;
pub mod optimal_d;
pub mod saturation;

use std::path::Path;

/// The report every demonstration writes beside its pictures.
pub const REPORT: &str = "report.txt";

/// Writes `text` to `dir/report.txt`.
pub fn write_report(dir: &Path, text: &str) -> anyhow::Result<()> {
    crate::io::atomic_write(&dir.join(REPORT), |w| {
        w.write_all(text.as_bytes())?;
        Ok(())
    })
}

/// The rows of a table to print: all of them when there are at most `n`, else `n` evenly
/// spaced ones ending with the last.
pub fn some_rows<T>(rows: &[T], n: usize) -> Vec<&T> {
    if rows.len() <= n || n < 2 {
        return rows.iter().collect();
    }
    (0..n)
        .map(|i| &rows[i * (rows.len() - 1) / (n - 1)])
        .collect()
}

/// "N(mean, std^2)" of a linear G.
pub fn describe(g: density::LinearG) -> String {
    format!("N({}, {}^2)", g.b, g.a.abs())
}

/// A data set spec with every parameter spelled out (`gauss1d` -> its centres and std).
pub fn data_spec(spec: &str) -> String {
    crate::data::Dataset::parse(spec).map_or_else(|_| spec.to_string(), |d| d.spec())
}
