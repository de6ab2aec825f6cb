//! Toy data sets and mode coverage. The statistical checks use N samples and bounds of 5 standard
//! errors derived from N, so they fail for a wrong mean, std or mode weight, not by chance.

use shadergan::data::Dataset;
use shadergan::eval::{evaluate, mode_coverage, ModeReport};
use shadergan::noise::Noise;

/// splitmix64 + Box-Muller: independent of the project's Philox generator.
struct TestNoise {
    state: u64,
    spare: Option<f32>,
}

impl TestNoise {
    fn new(seed: u64) -> Self {
        Self {
            state: seed,
            spare: None,
        }
    }
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl Noise for TestNoise {
    fn uniform(&mut self) -> f32 {
        // 24 bits and a half step: strictly inside (0, 1).
        ((self.next_u64() >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }
    fn normal(&mut self) -> f32 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let (u1, u2) = (self.uniform() as f64, self.uniform() as f64);
        let r = (-2.0 * u1.ln()).sqrt();
        let a = std::f64::consts::TAU * u2;
        self.spare = Some((r * a.sin()) as f32);
        (r * a.cos()) as f32
    }
}

const N: usize = 20_000;

fn parse(spec: &str) -> Dataset {
    Dataset::parse(spec).unwrap_or_else(|e| panic!("{spec:?} should parse: {e}"))
}

fn parse_err(spec: &str) -> String {
    match Dataset::parse(spec) {
        Ok(d) => panic!("{spec:?} should be rejected, parsed as {d:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn ring_has_radius_2_and_std_002_around_centres() {
    let data = Dataset::parse("ring").unwrap();
    let x = data.sample(N, &mut TestNoise::new(1));
    assert_eq!(x.len(), 2 * N);
    let radii: Vec<f64> = x
        .chunks(2)
        .map(|p| (p[0] as f64).hypot(p[1] as f64))
        .collect();
    let mean_r = radii.iter().sum::<f64>() / N as f64;
    // Radius = 2 + 0.02 z_radial to first order: standard error 0.02 / sqrt(N); bias
    // E|c + s z| - |c| ~ s^2 / (2 |c|) = 1e-4 is below the tolerance.
    let tol = 5.0 * 0.02 / (N as f64).sqrt();
    assert!(
        (mean_r - 2.0).abs() < tol,
        "mean radius {mean_r}, want 2 +- {tol}"
    );

    // Per-coordinate variance around the nearest centre from 2N squared offsets: the std
    // estimate has relative standard error 1 / (2 sqrt(N)).
    let centres = data.centres();
    let sum2: f64 = x
        .chunks(2)
        .map(|p| {
            centres
                .iter()
                .map(|c| ((p[0] - c[0]) as f64).powi(2) + ((p[1] - c[1]) as f64).powi(2))
                .fold(f64::INFINITY, f64::min)
        })
        .sum();
    let std = (sum2 / (2 * N) as f64).sqrt();
    let rel_tol = 5.0 / (2.0 * (N as f64).sqrt());
    assert!(
        (std / 0.02 - 1.0).abs() < rel_tol,
        "std around centres {std}, want 0.02 (+-{rel_tol} rel)"
    );
}

#[test]
fn ring_centres_are_at_angles_2pi_i_over_n_and_equally_weighted() {
    let data = parse("ring:n=8,radius=2,std=0.02");
    let centres = data.centres();
    assert_eq!(centres.len(), 8);
    for (i, c) in centres.iter().enumerate() {
        let a = std::f32::consts::TAU * i as f32 / 8.0;
        assert!((c[0] - 2.0 * a.cos()).abs() < 1e-6 && (c[1] - 2.0 * a.sin()).abs() < 1e-6);
    }
    let report = evaluate(&data, &data.sample(N, &mut TestNoise::new(2))).unwrap();
    // Each count is Binomial(N, 1/8).
    let (p, n) = (1.0 / 8.0, N as f64);
    let sd = (n * p * (1.0 - p)).sqrt();
    for (k, &count) in report.per_mode_counts.iter().enumerate() {
        assert!(
            (count as f64 - n * p).abs() < 5.0 * sd,
            "mode {k} got {count} of {N}, want ~{}",
            n * p
        );
    }
}

#[test]
fn grid_has_25_modes_on_minus4_to_4() {
    let data = parse("grid");
    assert_eq!(data.dim(), 2);
    assert_eq!(data.std(), Some(0.05));
    let centres = data.centres();
    assert_eq!(centres.len(), 25);
    let ticks = [-4.0, -2.0, 0.0, 2.0, 4.0];
    for y in ticks {
        for x in ticks {
            assert!(
                centres.iter().any(|c| c == &vec![x, y]),
                "no centre at ({x}, {y})"
            );
        }
    }
    assert_eq!(parse("grid:n=3,spacing=1,std=0.1").centres().len(), 9);
}

/// Samples drawn from the data set are a perfect score: all modes, and a high-quality fraction
/// equal to P(distance <= 3 std) for an isotropic Gaussian in `dim` dimensions:
/// 1-D: P(|z| <= 3) = erf(3 / sqrt 2) = 0.99730; 2-D: the distance is chi with 2 dof,
/// P(r <= 3) = 1 - exp(-9/2) = 0.98889 (so ">= 99%" would be wrong in 2-D).
/// The fraction must lie within 5 binomial standard errors of that value on both sides, so a
/// generator with too small a std fails as well as one with too large.
#[test]
fn samples_from_the_data_set_score_all_modes_and_the_3_sigma_fraction() {
    let p_1d = 0.997_300_2_f64;
    let p_2d = 1.0 - (-4.5f64).exp();
    for (spec, p) in [
        ("ring", p_2d),
        ("grid", p_2d),
        ("gauss1d", p_1d),
        ("gauss1d:centres=-2;2", p_1d),
    ] {
        let data = parse(spec);
        let report = evaluate(&data, &data.sample(N, &mut TestNoise::new(3))).unwrap();
        assert_eq!(report.samples, N);
        assert_eq!(
            report.modes_captured, report.modes_total,
            "{spec}: {report}"
        );
        let tol = 5.0 * (p * (1.0 - p) / N as f64).sqrt();
        let f = report.high_quality_fraction as f64;
        assert!(
            (f - p).abs() < tol,
            "{spec}: high-quality fraction {f}, want {p} +- {tol}"
        );
    }
}

#[test]
fn points_at_one_centre_capture_one_mode() {
    let data = parse("ring");
    let c = data.centres()[3].clone();
    let x: Vec<f32> = (0..100).flat_map(|_| c.clone()).collect();
    let report = evaluate(&data, &x).unwrap();
    assert_eq!(report.modes_captured, 1);
    assert_eq!(report.modes_total, 8);
    assert_eq!(report.high_quality_fraction, 1.0);
    assert_eq!(report.per_mode_counts[3], 100);
}

#[test]
fn far_points_are_not_high_quality() {
    let data = parse("ring");
    let x: Vec<f32> = (0..50).flat_map(|i| [10.0 + i as f32, -10.0]).collect();
    let report = evaluate(&data, &x).unwrap();
    assert_eq!(
        (report.modes_captured, report.high_quality_fraction),
        (0, 0.0)
    );
    // The origin is 2 from every centre: far beyond 3 * 0.02.
    let report = mode_coverage(&[0.0, 0.0], 2, &data.centres(), 0.02);
    assert_eq!(
        (report.modes_captured, report.high_quality_fraction),
        (0, 0.0)
    );
    // A NaN sample is never high quality; no samples gives 0, not NaN.
    assert_eq!(
        mode_coverage(&[f32::NAN, 0.0], 2, &data.centres(), 0.02).high_quality_fraction,
        0.0
    );
    assert_eq!(
        mode_coverage(&[], 2, &data.centres(), 0.02).high_quality_fraction,
        0.0
    );
}

#[test]
fn the_3_sigma_threshold_is_inclusive_and_exact() {
    let centres = vec![vec![0.0], vec![10.0]];
    let r = mode_coverage(&[0.3, -0.29, 0.31, 9.0], 1, &centres, 0.1);
    assert_eq!(r.per_mode_counts, vec![2, 0]);
    assert_eq!(r.modes_captured, 1);
    assert_eq!(r.high_quality_fraction, 0.5);
}

#[test]
fn report_display_and_toml() {
    let r = ModeReport {
        modes_captured: 8,
        modes_total: 8,
        high_quality_fraction: 0.934,
        samples: 2500,
        per_mode_counts: vec![1, 2, 3],
    };
    assert_eq!(
        r.to_string(),
        "modes captured 8/8, high-quality samples 93.4% of 2500"
    );
    // As eval.toml is written (run::dir::write_eval) and read back.
    let toml = toml::to_string(&r).unwrap();
    assert_eq!(toml::from_str::<ModeReport>(&toml).unwrap(), r);
    for line in [
        "modes_captured = 8",
        "modes_total = 8",
        "high_quality_fraction = 0.934",
        "samples = 2500",
        "per_mode_counts = [1, 2, 3]",
    ] {
        assert!(
            toml.lines().any(|l| l == line),
            "missing {line:?} in\n{toml}"
        );
    }
    let whole = ModeReport {
        high_quality_fraction: 1.0,
        ..r
    };
    assert!(
        toml::to_string(&whole)
            .unwrap()
            .contains("high_quality_fraction = 1.0\n"),
        "a TOML float needs its point"
    );
}

#[test]
fn gauss1d_is_one_dimensional() {
    let data = parse("gauss1d:centres=-2;2,std=0.3");
    assert_eq!(data.dim(), 1);
    assert_eq!(data.centres(), vec![vec![-2.0], vec![2.0]]);
    assert_eq!(data.sample(7, &mut TestNoise::new(4)).len(), 7);
    assert_eq!(data.bounds().len(), 1);
}

#[test]
fn spiral_and_moons_have_no_modes() {
    for spec in [
        "spiral",
        "moons",
        "spiral:turns=3,noise=0",
        "moons:noise=0.1",
    ] {
        let data = parse(spec);
        assert_eq!(data.dim(), 2);
        assert!(data.centres().is_empty() && data.std().is_none(), "{spec}");
        let e = evaluate(&data, &data.sample(10, &mut TestNoise::new(5)))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("not applicable") && e.contains(data.name()),
            "{spec}: {e}"
        );
    }
    // Moons is two half circles of radius 1, centred: distances from the arcs' centres are 1.
    let x = parse("moons:noise=0").sample(1000, &mut TestNoise::new(6));
    for p in x.chunks(2) {
        let d_upper = (p[0] + 0.5).hypot(p[1] + 0.25);
        let d_lower = (p[0] - 0.5).hypot(p[1] - 0.25);
        assert!(
            (d_upper - 1.0).abs() < 1e-5 || (d_lower - 1.0).abs() < 1e-5,
            "{p:?} on neither moon"
        );
    }
}

#[test]
fn every_sample_lies_inside_bounds() {
    for spec in [
        "ring",
        "grid",
        "spiral",
        "moons",
        "gauss1d",
        "gauss1d:centres=0,std=1",
    ] {
        let data = parse(spec);
        let b = data.bounds();
        assert_eq!(b.len(), data.dim());
        let x = data.sample(N, &mut TestNoise::new(7));
        for p in x.chunks(data.dim()) {
            for (v, (lo, hi)) in p.iter().zip(&b) {
                assert!(
                    lo < v && v < hi,
                    "{spec}: sample {p:?} outside bounds {b:?}"
                );
            }
        }
    }
}

#[test]
fn specs_parse_in_every_documented_form_and_round_trip() {
    assert_eq!(parse("ring"), Dataset::default());
    assert_eq!(
        parse("ring:n=8,radius=2,std=0.02"),
        Dataset::Ring {
            n: 8,
            radius: 2.0,
            std: 0.02
        }
    );
    assert_eq!(
        parse(" ring: std=0.1 , n=4 "),
        Dataset::Ring {
            n: 4,
            radius: 2.0,
            std: 0.1
        }
    );
    assert_eq!(
        parse("grid"),
        Dataset::Grid {
            n: 5,
            spacing: 2.0,
            std: 0.05
        }
    );
    assert_eq!(
        parse("spiral:turns=1.5,noise=0.1"),
        Dataset::Spiral {
            turns: 1.5,
            radius: 2.0,
            noise: 0.1
        }
    );
    assert_eq!(parse("moons"), Dataset::Moons { noise: 0.05 });
    assert_eq!(
        parse("gauss1d"),
        Dataset::Gauss1d {
            centres: vec![-3.0, 0.0, 3.0],
            std: 0.3
        }
    );
    assert_eq!(
        parse("gauss1d:centres=-2;2"),
        Dataset::Gauss1d {
            centres: vec![-2.0, 2.0],
            std: 0.3
        }
    );
    assert_eq!("grid:n=3".parse::<Dataset>().unwrap().centres().len(), 9);
    for spec in [
        "ring",
        "grid:std=0.1",
        "spiral",
        "moons",
        "gauss1d:centres=-1.5;0.25;4,std=0.2",
    ] {
        let data = parse(spec);
        assert_eq!(parse(&data.spec()), data, "{spec} -> {}", data.spec());
        assert_eq!(data.to_string(), data.spec());
        assert_eq!(data.spec().split(':').next(), Some(data.name()));
    }
}

#[test]
fn bad_specs_are_rejected_with_messages_naming_the_problem() {
    // (spec, words the message must contain)
    let cases: &[(&str, &[&str])] = &[
        (
            "rng",
            &["\"rng\"", "ring", "grid", "spiral", "moons", "gauss1d"],
        ),
        ("", &["unknown data set", "ring"]),
        ("ring:m=3", &["\"m\"", "n, radius, std"]),
        ("ring:n=0", &["n", "positive integer", "\"0\""]),
        ("ring:n=-1", &["n", "positive integer", "\"-1\""]),
        ("ring:n=2.5", &["n", "positive integer"]),
        ("ring:std=0", &["std", "positive", "\"0\""]),
        ("ring:std=-0.1", &["std", "positive", "\"-0.1\""]),
        ("ring:radius=abc", &["radius", "\"abc\""]),
        ("ring:radius=inf", &["radius", "finite"]),
        ("ring:std", &["key=value", "\"std\""]),
        ("ring:n=4,n=5", &["\"n\"", "twice"]),
        ("grid:spacing=0", &["spacing", "positive"]),
        ("grid:radius=1", &["\"radius\"", "n, spacing, std"]),
        ("spiral:noise=-1", &["noise", "\"-1\""]),
        ("spiral:turns=0", &["turns", "positive"]),
        ("moons:std=0.1", &["\"std\"", "noise"]),
        ("gauss1d:centres=", &["centres", "at least one"]),
        ("gauss1d:centres=-2;x", &["centres", "\"x\""]),
        ("gauss1d:std=nan", &["std", "finite"]),
        ("gauss1d:centers=1", &["\"centers\"", "centres, std"]),
    ];
    for (spec, words) in cases {
        let msg = parse_err(spec);
        for w in *words {
            assert!(
                msg.contains(w),
                "error for {spec:?} should mention {w:?}: {msg}"
            );
        }
        let name = spec.split(':').next().unwrap();
        if !name.is_empty() && name != "rng" {
            assert!(
                msg.starts_with(name),
                "error for {spec:?} should name the data set: {msg}"
            );
        }
    }
}
