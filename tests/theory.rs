//! The GAN's theory against its closed forms (`shadergan theory`, docs/theory.md), and the
//! arrows on `train`'s pictures against finite differences of G's loss.
//!
//! D trained alone against a frozen linear G must approach D* = p_data / (p_data + p_G), and its
//! V(G, D) must reach -log 4 + 2 JSD(P_data || P_G): the strongest end-to-end check of the BCE
//! kernels and D's training there is. The tolerances are a few times what the measured runs
//! miss by (see each), and far below what a wrong sign or factor gives: a factor 2 in D's loss
//! doubles V (about -1.55 for -0.77), a wrong sign in the BCE gradient makes D minimise V.
mod common;
use common::*;
use shadergan::gan::config::{GLoss, TrainConfig};
use shadergan::gan::trainer::Trainer;
use shadergan::theory::density::{self, Density, LinearG};
use shadergan::theory::frozen::{DSetup, FrozenG, FrozenGraph};
use shadergan::theory::saturation;

#[test]
fn integrals_match_known_values() {
    let p = Density {
        centres: vec![-3.0, 0.0, 3.0],
        std: 0.3,
    };
    // Identical densities: JSD and KL 0, V(G, D*) = -log 4.
    assert!(
        density::jsd(&p, &p).abs() < 1e-12,
        "{}",
        density::jsd(&p, &p)
    );
    assert!(density::kl(&p, &p).abs() < 1e-12);
    assert!((density::optimal_value(&p, &p) + 4f64.ln()).abs() < 1e-12);
    // Disjoint densities: JSD log 2.
    let (a, b) = (Density::gaussian(0.0, 0.1), Density::gaussian(100.0, 0.1));
    let j = density::jsd(&a, &b);
    assert!((j - std::f64::consts::LN_2).abs() < 1e-9, "JSD {j}");
    // KL between Gaussians has a closed form: log(s2 / s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2.
    let (g1, g2) = (Density::gaussian(0.5, 1.5), Density::gaussian(-1.0, 0.7));
    let want = (0.7f64 / 1.5).ln() + (1.5f64.powi(2) + 1.5f64.powi(2)) / (2.0 * 0.49) - 0.5;
    let got = density::kl(&g1, &g2);
    assert!(
        (got - want).abs() < 1e-9 * want,
        "KL {got}, closed form {want}"
    );
    // JSD is symmetric and lies in (0, log 2).
    let (j1, j2) = (density::jsd(&p, &g1), density::jsd(&g1, &p));
    assert!((j1 - j2).abs() < 1e-12 && j1 > 0.0 && j1 < std::f64::consts::LN_2);
    // The mixture's density integrates to 1; D* is 1/2 between equal densities.
    let (lo, hi) = p.range();
    let mass = density::simpson(|x| p.pdf(x), lo, hi, density::INTERVALS);
    assert!((mass - 1.0).abs() < 1e-12, "mass {mass}");
    assert!((density::optimal_d(&p, &p, 0.3) - 0.5).abs() < 1e-15);
}

/// D against the default data with shorter training than the command's: 2,500 steps of 256
/// rows at twice the learning rate (`theory optimal-d --batch 256 --max-steps 2500 --lr 4e-3`
/// reaches a gap as small as the defaults' in about half the time).
fn setup(g: LinearG) -> DSetup {
    DSetup {
        batch: 256,
        max_steps: 2500,
        lr: 4e-3,
        ..DSetup::new("gauss1d", g, 1)
    }
}

/// Trains D to its plateau against `g`; asserts V from D's loss and by quadrature reach
/// -log 4 + 2 JSD within `v_tol`; returns the last read-back.
fn trained_d(g: LinearG, v_tol: f64) -> shadergan::theory::frozen::DProgress {
    let mut f = FrozenG::new(gpu(), FrozenGraph::build(&setup(g)).unwrap(), &[]).unwrap();
    let last = *f.train_to_plateau().unwrap().last().unwrap();
    let v_star = density::optimal_value(&f.graph.p, &f.graph.q);
    eprintln!("G {g:?}: V* {v_star:.4}, last {last:?}");
    assert!(
        (last.v_loss - v_star).abs() < v_tol,
        "V from D's loss {:.4} against -log 4 + 2 JSD = {v_star:.4} (tolerance {v_tol})",
        last.v_loss
    );
    assert!(
        (last.v_quad - v_star).abs() < v_tol,
        "V by quadrature {:.4} against {v_star:.4} (tolerance {v_tol})",
        last.v_quad
    );
    // V(G, D) <= V(G, D*) for every D; the quadrature's error is far below 1e-4.
    assert!(
        last.v_quad <= v_star + 1e-4,
        "V {} above V* {v_star}",
        last.v_quad
    );
    last
}

/// G = N(0.5, 1.5^2) against the three modes (JSD 0.306, V* = -0.775). Measured: V from D's loss
/// and by quadrature within 0.02 of V*, largest |D - D*| 0.165 (on the steep outer flank of the
/// mode at 3), mean 0.015; the tolerances are 0.04, 0.3 and 0.03.
#[test]
fn trained_d_reaches_d_star_and_v_reaches_the_jsd_identity() {
    let last = trained_d(LinearG { a: 1.5, b: 0.5 }, 0.04);
    assert!(
        last.gap.largest < 0.3 && last.gap.mean < 0.03,
        "D against D*: {:?}",
        last.gap
    );
}

/// A G beside the outermost mode (JSD 0.643, V* = -0.101): the identity at another point of
/// the line. Measured within 0.01; tolerance 0.04.
#[test]
fn v_reaches_the_jsd_identity_far_from_the_data() {
    trained_d(LinearG { a: 0.5, b: 4.5 }, 0.04);
}

/// bce.wgsl's backward and D's backward against the closed forms -D and -(1 - D) (times l'(x)
/// from D's forward in f64): measured 5e-7 and 5e-5; tolerances 1e-5 and 1e-3.
#[test]
fn saturation_gradients_match_their_closed_forms() {
    let s = saturation::run(
        gpu(),
        &DSetup::new("gauss1d", saturation::GENERATOR, 1),
        saturation::D_STEPS,
    )
    .unwrap();
    let (dl, dx) = s.deviations();
    assert!(dl[0] < 1e-5 && dl[1] < 1e-5, "dL/dl deviations {dl:?}");
    assert!(dx[0] < 1e-3 && dx[1] < 1e-3, "dL/dx deviations {dx:?}");
    let kinks = s.kink.iter().filter(|&&k| k).count();
    assert!(
        kinks * 10 < s.xs.len(),
        "{kinks} of {} points at a kink",
        s.xs.len()
    );
    // D is confident, the minimax gradient vanishes beside the non-saturating one, and both push
    // G's points towards the data (all left of them).
    let ([mm, ns], d_mean) = s.means_over_g();
    assert!(d_mean < 0.01, "mean D(G(z)) {d_mean}");
    assert!(ns > 100.0 * mm, "|grad| minimax {mm}, ns {ns}");
    let total: f64 = s.q.iter().sum();
    let push = |k: usize| (0..s.xs.len()).map(|i| -s.dx[k][i] * s.q[i]).sum::<f64>() / total;
    assert!(push(0) < 0.0 && push(1) < 0.0, "{} {}", push(0), push(1));
}

/// The arrows: the G step's gradient at each generated point against central differences of G's
/// loss through D's forward in f64 (from the weights the step used), for both BCE losses.
/// Measured agreement 3e-7 of the largest component; tolerance 1e-3.
#[test]
fn arrows_are_minus_the_gradient_of_g_loss() {
    for g_loss in [GLoss::Ns, GLoss::Minimax] {
        let cfg = TrainConfig {
            batch: 33,
            g_hidden: vec![16],
            d_hidden: vec![16, 16],
            g_loss,
            data_size: 500,
            ..TrainConfig::defaults_for("ring")
        };
        let t = Trainer::new(gpu(), &cfg, None).unwrap();
        t.submit(3).unwrap();
        gpu().wait().unwrap();
        let push = t.g_push(cfg.batch).unwrap();
        assert_eq!(push.at.len(), cfg.batch * 2);
        let spec = cfg.d_spec(2).unwrap();
        let w = t.state().unwrap().d_params;
        let m = cfg.batch as f64;
        // G's per-sample loss as a function of D's logit: ns -log sigmoid(l) = softplus(-l);
        // minimax log(1 - sigmoid(l)) = -softplus(l); L_G is their batch mean.
        let softplus = |x: f64| x.max(0.0) + (-x.abs()).exp().ln_1p();
        let loss = |p: [f64; 2]| {
            let l = logit2(&spec, &w, p);
            match g_loss {
                GLoss::Ns => softplus(-l),
                GLoss::Minimax => -softplus(l),
            }
        };
        let h = 1e-6;
        let mut got = Vec::new();
        let mut want = Vec::new();
        for i in 0..cfg.batch {
            let p = [push.at[2 * i] as f64, push.at[2 * i + 1] as f64];
            for c in 0..2 {
                let (mut a, mut b) = (p, p);
                a[c] -= h;
                b[c] += h;
                want.push(-((loss(b) - loss(a)) / (2.0 * h)) / m);
                got.push(push.push[2 * i + c] as f64);
            }
        }
        let top = want.iter().fold(0.0f64, |t, v| t.max(v.abs()));
        assert!(top > 0.0, "{g_loss:?}: every push is zero");
        let worst = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        eprintln!("{g_loss:?}: largest push {top:e}, largest difference {worst:e}");
        assert!(
            worst < 1e-3 * top,
            "{g_loss:?}: pushes differ from -dL_G/dx by {worst:e} (largest {top:e})"
        );
    }
}

/// D's logit at a 2-D point in f64 (the saturation module's 1-D reference, for two inputs).
fn logit2(spec: &shadergan::graph::net::NetSpec, w: &[f32], p: [f64; 2]) -> f64 {
    let mut h = p.to_vec();
    for (lp, layer) in spec.layout().iter().zip(&spec.layers) {
        h = (0..lp.out)
            .map(|o| {
                let row = &w[lp.w_off + o * lp.inp..lp.w_off + (o + 1) * lp.inp];
                let z = w[lp.b_off + o] as f64
                    + row.iter().zip(&h).map(|(&a, &b)| a as f64 * b).sum::<f64>();
                let alpha = layer.act.alpha() as f64;
                match layer.act {
                    shadergan::ops::Activation::Identity => z,
                    shadergan::ops::Activation::LeakyRelu(_) => z.max(0.0) + alpha * z.min(0.0),
                    a => panic!("logit2 knows identity and leaky_relu, not {a:?}"),
                }
            })
            .collect();
    }
    h[0]
}

/// Counts the pixels of the arrows' colour in a PNG.
fn arrow_pixels(path: &std::path::Path) -> usize {
    let img = image::open(path).unwrap().to_rgb8();
    img.pixels()
        .filter(|p| **p == shadergan::viz::ARROW)
        .count()
}

/// `train` draws arrows on its 2-D pictures after the first G step (none at iteration 0, when
/// there is no gradient yet), and none with --arrows 0.
#[test]
fn train_pictures_carry_arrows() {
    for (arrows, want) in [("64", true), ("0", false)] {
        let dir = tmp_dir(&format!("arrows-{arrows}"));
        let out = shadergan(
            &[
                &["train", "--iterations", "20", "--log-every", "10"],
                &SMALL_NETS[..],
                &["--arrows", arrows, "--out", dir.to_str().unwrap()],
            ]
            .concat(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let frame = |it: u32| dir.join(format!("samples/step_{it:06}.png"));
        assert_eq!(arrow_pixels(&frame(0)), 0, "arrows before any G step");
        let n = arrow_pixels(&frame(20));
        assert_eq!(n > 0, want, "--arrows {arrows}: {n} arrow pixels");
    }
}

/// `shadergan theory saturation` writes its report and pictures and prints the report; bad
/// input is a clear error with a non-zero exit and leaves no run directory.
#[test]
fn theory_command_writes_its_run_and_refuses_bad_input() {
    let dir = tmp_dir("theory-saturation");
    let out = shadergan(&["theory", "saturation", "--out", dir.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_to_string(dir.join("report.txt")).unwrap();
    assert!(stdout.contains(&report), "the report is printed");
    assert!(report.contains("mean D(G(z)) over P_G"), "{report}");
    for png in [saturation::PICTURE, saturation::VS_D_PICTURE] {
        assert!(dir.join(png).is_file(), "{png} written");
    }
    for (args, says) in [
        (&["optimal-d", "--dataset", "ring"][..], "1-D mixture"),
        (&["optimal-d", "--g-std", "0"][..], "positive, finite std"),
        (&["divergence", "--generator", "3"][..], "MEAN,STD"),
        (&["k", "--d-steps", "1,300"][..], "k = 300"),
    ] {
        let bad = tmp_dir("theory-bad");
        let out = shadergan(&[&["theory"], args, &["--out", bad.to_str().unwrap()]].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!bad.exists(), "{args:?} left a run directory");
    }
}
