//! `shadergan theory <demo>`: the original GAN's theory as commands, in 1-D where every density
//! is known (see `crate::theory` and docs/theory.md). Each writes its pictures and report.txt
//! into a new run directory and prints the report.

use crate::gpu::Gpu;
use crate::run::RunDir;
use crate::theory::density::LinearG;
use crate::theory::frozen::DSetup;
use crate::theory::{self, divergence, k, optimal_d, saturation};
use anyhow::bail;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum TheoryWhat {
    /// For a frozen linear G (P_G = N(mean, std^2)), train D alone until it stops improving and
    /// draw it beside D* = p_data / (p_data + p_G), with the largest gap.
    #[command(allow_negative_numbers = true)]
    OptimalD {
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        d: DArgs,
        /// P_G's mean b (G(z) = a z + b).
        #[arg(long, default_value_t = 0.5)]
        g_mean: f32,
        /// P_G's standard deviation a.
        #[arg(long, default_value_t = 1.5)]
        g_std: f32,
    },
    /// For frozen generators at increasing distance from the data, the trained D's V(G, D)
    /// against -log 4 + 2 JSD(P_data || P_G) by numerical integration (and KL, for comparison).
    #[command(allow_negative_numbers = true)]
    Divergence {
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        d: DArgs,
        /// A generator P_G = N(MEAN, STD^2); repeat for each (default: N(0, 2.5^2), N(3, 0.5^2),
        /// N(4.5, 0.5^2)).
        #[arg(long = "generator", value_name = "MEAN,STD")]
        generators: Vec<String>,
    },
    /// The gradient G's point receives from log(1 - D(G(z))) (minimax) and -log D(G(z))
    /// (non-saturating) when D is confident, by our BCE and D backward kernels, beside the
    /// closed forms.
    #[command(allow_negative_numbers = true)]
    Saturation {
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        d: DArgs,
        /// P_G's mean (default: beside the data, where an early G is).
        #[arg(long, default_value_t = saturation::GENERATOR.b)]
        g_mean: f32,
        /// P_G's standard deviation.
        #[arg(long, default_value_t = saturation::GENERATOR.a)]
        g_std: f32,
        /// D steps before the gradients are taken ("early in training").
        #[arg(long, default_value_t = saturation::D_STEPS)]
        steps: u64,
    },
    /// The ring trained with k = 1, 2, 5 D steps per G step (Algorithm 1's k), the JSD estimate
    /// of each over the iterations on one picture; each run is a `train` run directory.
    K {
        #[command(flatten)]
        run: RunArgs,
        /// The values of k, comma separated.
        #[arg(long, value_delimiter = ',', default_values_t = k::KS)]
        d_steps: Vec<usize>,
        /// Iterations (G steps) of each run; the ring recipe's schedules scale to it.
        #[arg(long, default_value_t = k::ITERATIONS)]
        iterations: u64,
    },
}

/// Where the demonstration writes, and its seed.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Run directory (default: runs/theory-<demo>-<date>-<time>); must be new or empty.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// The data and D's training (the 1-D demonstrations).
#[derive(Args, Debug)]
pub struct DArgs {
    /// P_data: a 1-D mixture, gauss1d[:centres=-3;0;3,std=0.3].
    #[arg(long, default_value = "gauss1d")]
    pub dataset: String,
    /// D's hidden widths, comma separated.
    #[arg(long, value_delimiter = ',', default_values_t = [64, 64])]
    pub d_hidden: Vec<usize>,
    /// Real and generated rows per D step.
    #[arg(long, default_value_t = 512)]
    pub batch: usize,
    /// D's Adam learning rate (decaying linearly to 1% over --max-steps).
    #[arg(long, default_value_t = 2e-3)]
    pub lr: f32,
    /// The most D steps.
    #[arg(long, default_value_t = 4000)]
    pub max_steps: u64,
}

impl DArgs {
    fn setup(&self, g: LinearG, seed: u64) -> DSetup {
        DSetup {
            d_hidden: self.d_hidden.clone(),
            batch: self.batch,
            lr: self.lr,
            max_steps: self.max_steps,
            ..DSetup::new(&self.dataset, g, seed)
        }
    }
}

/// P_G = N(mean, std^2) as G(z) = std z + mean.
fn linear_g(mean: f32, std: f32) -> anyhow::Result<LinearG> {
    if !(mean.is_finite() && std.is_finite() && std > 0.0) {
        bail!("a generator needs a finite mean and a positive, finite std, got {mean}, {std}");
    }
    Ok(LinearG { a: std, b: mean })
}

fn parse_generator(s: &str) -> anyhow::Result<LinearG> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let [mean, std] = parts[..] else {
        bail!("--generator takes MEAN,STD (e.g. 3,0.5), got {s:?}");
    };
    let num = |v: &str| -> anyhow::Result<f32> {
        v.parse()
            .map_err(|_| anyhow::anyhow!("--generator {s:?}: {v:?} is not a number"))
    };
    linear_g(num(mean)?, num(std)?)
}

/// The run directory: `--out`, or runs/theory-<demo>-<date>-<time>.
fn out_dir(run: &RunArgs, demo: &str) -> anyhow::Result<RunDir> {
    let out = run.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(format!("theory-{demo}-{}", super::train::timestamp()))
    });
    RunDir::create(&out)
}

pub fn run_theory(gpu: &Gpu, what: &TheoryWhat) -> anyhow::Result<()> {
    let (dir, report) = match what {
        TheoryWhat::OptimalD {
            run,
            d,
            g_mean,
            g_std,
        } => {
            let setup = d.setup(linear_g(*g_mean, *g_std)?, run.seed);
            let dir = out_dir(run, "optimal-d")?;
            let r = optimal_d::run(gpu, &setup)?;
            r.draw(&dir.path)?;
            (dir, r.report())
        }
        TheoryWhat::Divergence { run, d, generators } => {
            let gens = if generators.is_empty() {
                divergence::GENERATORS.to_vec()
            } else {
                generators
                    .iter()
                    .map(|g| parse_generator(g))
                    .collect::<anyhow::Result<_>>()?
            };
            let base = d.setup(gens[0], run.seed);
            let dir = out_dir(run, "divergence")?;
            let rows = divergence::run(gpu, &base, &gens)?;
            divergence::draw(&rows, &dir.path)?;
            (dir, divergence::report(&rows))
        }
        TheoryWhat::Saturation {
            run,
            d,
            g_mean,
            g_std,
            steps,
        } => {
            let setup = d.setup(linear_g(*g_mean, *g_std)?, run.seed);
            let dir = out_dir(run, "saturation")?;
            let s = saturation::run(gpu, &setup, *steps)?;
            s.draw(&dir.path)?;
            (dir, s.report())
        }
        TheoryWhat::K {
            run,
            d_steps,
            iterations,
        } => {
            // Each run's own checks (k in range, iterations > 0) happen before its training.
            let dir = out_dir(run, "k")?;
            let runs = k::run(gpu, &dir.path, d_steps, *iterations, run.seed)?;
            k::draw(&runs, &dir.path)?;
            (dir, k::report(&runs, *iterations, run.seed))
        }
    };
    theory::write_report(&dir.path, &report)?;
    print!("{report}");
    println!(
        "wrote {}: {} and the pictures above",
        dir.path.display(),
        theory::REPORT
    );
    Ok(())
}
