//! Mode coverage of seeded runs with each mixture's recipe (`TrainConfig::defaults_for`), scored
//! like `shadergan eval` (2,500 samples, 3 std), for G's samples and for those discriminator
//! rejection sampling keeps. The default suite runs shortened versions (`TrainConfig::scaled_to`:
//! iterations, the learning-rate decay and the instance noise's anneal together, about 25 s each
//! on lavapipe with the subgroup matmul); the full-length runs, which the README's
//! `bench quality` table and ablation measure, are `--ignored`
//! (`cargo test --release --test modes -- --ignored`, about 50 minutes on 2 cores).
//!
//! Measured on lavapipe, 2 cores of an Intel Xeon, seed 1: ring 2,000 iterations 8/8, 71.2% (with
//! DRS 78.2%), 24 s; grid 2,000 iterations 24/25, 5.2%, 24 s.
mod common;
use common::*;
use shadergan::bench::quality::{run_one, SeedResult};
use shadergan::gan::config::TrainConfig;

fn short(dataset: &str, iterations: u64) -> TrainConfig {
    TrainConfig::defaults_for(dataset).scaled_to(iterations)
}

fn run(cfg: &TrainConfig) -> SeedResult {
    let r = run_one(gpu(), cfg).unwrap();
    eprintln!(
        "{} z_dim {} seed {}, {} iterations: G {}/{} modes, {:.1}% high quality; DRS {:?}; \
         {:.1} s",
        cfg.dataset,
        cfg.z_dim,
        cfg.seed,
        cfg.iterations,
        r.modes,
        r.modes_total,
        r.high_quality,
        r.drs,
        r.seconds
    );
    r
}

#[test]
fn ring_recipe_covers_the_ring_in_2000_iterations_and_drs_sharpens_it() {
    let r = run(&short("ring", 2000));
    assert_eq!(r.modes, 8, "{r:?}");
    // Measured 71.2%; the bound leaves room for another CPU's lavapipe (a broken trainer scores
    // far below it).
    assert!(r.high_quality >= 60.0, "{r:?}");
    // Measured 78.2% with DRS, 7 points above G's own samples.
    let d = r.drs.expect("the ring's recipe samples with DRS");
    assert_eq!(d.modes, 8, "{r:?}");
    assert!(d.high_quality >= r.high_quality + 3.0, "{r:?}");
}

#[test]
fn grid_recipe_spreads_over_the_grid_in_2000_iterations() {
    let r = run(&short("grid", 2000));
    // Measured 24; the bound leaves room for another CPU's lavapipe.
    assert!(r.modes >= 18, "{r:?}");
}

/// The grid's recipe, and the same with the ring's 8-D noise (at the ring's former 8,000
/// iterations, which is what `train --dataset grid` did before): 24/25 and 94.4% against 17/25
/// and 58.4% (seed 1), the second a loop through the outer 16 modes.
#[test]
#[ignore = "about 5 minutes on lavapipe; run with --ignored"]
fn grid_recipe_covers_the_grid_and_8d_noise_does_not() {
    let cfg = TrainConfig::defaults_for("grid");
    let with = run(&cfg);
    let without = run(&TrainConfig {
        z_dim: 8,
        iterations: 8000,
        lr_decay_iters: 8000,
        ..cfg
    });
    assert!(with.modes >= 24 && with.high_quality >= 88.0, "{with:?}");
    assert!(
        without.modes <= 20 && without.high_quality < 70.0,
        "{without:?}"
    );
}

/// The grid's recipe on seed 2, with and without its instance noise (measured: 25/25 and 94.7%
/// high quality with it, 19/25 and 94.8% without, a column and more lost). A test that fails if
/// the noise is switched off by mistake; another CPU's lavapipe may draw other numbers, so beyond
/// this machine it is a measurement, not a promise.
#[test]
#[ignore = "about 9 minutes on lavapipe; run with --ignored"]
fn grid_seed_2_needs_its_instance_noise() {
    let cfg = TrainConfig {
        seed: 2,
        ..TrainConfig::defaults_for("grid")
    };
    let with = run(&cfg);
    let without = run(&TrainConfig {
        instance_noise: 0.0,
        ..cfg
    });
    assert_eq!(with.modes, 25, "{with:?}");
    assert!(without.modes <= 23, "{without:?}");
}

/// Five seeds of a recipe: at least `min_modes` on every seed, and the mean high quality of the
/// samples DRS keeps.
fn five_seeds(dataset: &str, min_modes: usize, drs_mean_hq: f64) {
    let base = TrainConfig::defaults_for(dataset);
    let runs: Vec<SeedResult> = (1..=5)
        .map(|seed| {
            run(&TrainConfig {
                seed,
                ..base.clone()
            })
        })
        .collect();
    assert!(runs.iter().all(|r| r.modes >= min_modes), "{runs:?}");
    let drs: Vec<f64> = runs.iter().map(|r| r.drs.unwrap().high_quality).collect();
    let hq = drs.iter().sum::<f64>() / drs.len() as f64;
    assert!(
        hq >= drs_mean_hq,
        "mean high quality with DRS {hq:.1}%: {runs:?}"
    );
}

/// The README's grid rows: the default run for seeds 1..=5. Measured: 25/25 on every seed; high
/// quality 94.6% mean for G, 97.4% with DRS (the targets: 25/25 on every seed, 95%).
#[test]
#[ignore = "about 25 minutes on lavapipe; run with --ignored"]
fn grid_defaults_on_five_seeds() {
    five_seeds("grid", 25, 96.0);
}

/// The README's ring rows: the default run for seeds 1..=5. Measured: 8/8 on every seed; high
/// quality 95.4% mean for G, 98.1% with DRS.
#[test]
#[ignore = "about 10 minutes on lavapipe; run with --ignored"]
fn ring_defaults_cover_every_mode_on_five_seeds() {
    five_seeds("ring", 8, 97.5);
}
