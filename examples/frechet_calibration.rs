//! What a Fréchet distance from `eval` looks like: real held-out images, degraded in ways a
//! person can picture, scored by a run's classifier as if a generator had drawn them. The
//! unchanged images give the floor that `eval.toml` reports; the rest put a generator's
//! distance on a scale of noise, blur, grey backgrounds and lost variety.
//!
//!     cargo run --release --example frechet_calibration -- RUN_DIR DATASET
//!
//! RUN_DIR holds `classifier.safetensors` (any image run evaluated once); DATASET is the run's
//! labelled set, e.g. `idx:IMAGES,labels=LABELS`.
use shadergan::classifier;
use shadergan::data::Dataset;
use shadergan::gpu::{Backend, Gpu, GpuOptions};
use shadergan::noise::{Noise, PhiloxNoise};
use shadergan::quality::Evaluator;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() == 3,
        "usage: frechet_calibration RUN_DIR DATASET"
    );
    let run = std::path::Path::new(&args[1]);
    let ds = Dataset::parse(&args[2])?;
    let gpu = Gpu::new(&GpuOptions {
        backend: Backend::Auto,
        adapter: None,
    })?;
    let clf = classifier::load(&run.join("classifier.safetensors"))?;
    let seed = clf.seed;
    let eval = Evaluator::new(&gpu, &ds, clf)?;
    let labeled = ds.load_labeled(gpu.max_storage_bytes())?;
    let dim = labeled.images.dim();
    let side = (dim as f64).sqrt() as usize;
    anyhow::ensure!(side * side == dim, "square grayscale images only");
    let (_, test) = classifier::split(labeled.images.len(), seed, 0.2);
    let real = classifier::rows(&labeled.images.pixels, dim, &test);
    let mut rng = PhiloxNoise::new(7, 3);

    let mut rows: Vec<(String, Vec<f32>)> =
        vec![("held-out real images (the floor)".into(), real.clone())];
    for s in [0.05f32, 0.1, 0.2, 0.4] {
        let x = real
            .iter()
            .map(|v| (v + s * rng.normal()).clamp(-1.0, 1.0))
            .collect();
        rows.push((format!("Gaussian noise, std {s} (pixels in [-1, 1])"), x));
    }
    for lift in [0.1f32, 0.2, 0.4] {
        let x = real.iter().map(|v| v.max(-1.0 + lift)).collect();
        rows.push((format!("background lifted from -1 to {}", -1.0 + lift), x));
    }
    for r in [1usize, 2] {
        rows.push((format!("box blur, radius {r} px"), blur(&real, side, r)));
    }
    for keep in [500usize, 100, 20] {
        let n = real.len() / dim;
        let x = (0..n)
            .flat_map(|i| real[(i % keep) * dim..(i % keep + 1) * dim].iter().copied())
            .collect();
        rows.push((format!("only {keep} distinct images, repeated"), x));
    }
    println!(
        "| real held-out images ({} of them), changed | Fréchet | x floor | confident |",
        test.len()
    );
    println!("| --- | ---: | ---: | ---: |");
    let mut floor = f32::NAN;
    for (name, x) in rows {
        let r = eval.evaluate(&x)?;
        if floor.is_nan() {
            floor = r.frechet;
        }
        println!(
            "| {name} | {:.1} | {:.1} | {:.1}% |",
            r.frechet,
            r.frechet / floor,
            100.0 * r.confident_share
        );
    }
    Ok(())
}

/// Mean over the (2r + 1)^2 window, clipped at the edges.
fn blur(x: &[f32], side: usize, r: usize) -> Vec<f32> {
    let dim = side * side;
    let mut out = vec![0f32; x.len()];
    for (img, o) in x.chunks(dim).zip(out.chunks_mut(dim)) {
        for y in 0..side {
            for xx in 0..side {
                let (mut s, mut c) = (0f32, 0f32);
                for yy in y.saturating_sub(r)..(y + r + 1).min(side) {
                    for xi in xx.saturating_sub(r)..(xx + r + 1).min(side) {
                        s += img[yy * side + xi];
                        c += 1.0;
                    }
                }
                o[y * side + xx] = s / c;
            }
        }
    }
    out
}
