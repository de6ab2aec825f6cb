//! `shadergan classifier train`: trains the evaluation classifier on a labelled image set on the
//! GPU, prints the held-out test accuracy, and saves it as safetensors.

use crate::classifier::{self, ClassifierConfig};
use crate::gpu::Gpu;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum ClassifierWhat {
    /// Train the classifier that `eval` measures image runs with (convolutional for grayscale
    /// images of 28 x 28 and more, an MLP otherwise) and report its held-out test accuracy.
    Train(ClassifierArgs),
}

#[derive(Args, Debug)]
pub struct ClassifierArgs {
    /// `digits`, `idx:IMAGES,labels=LABELS`, or a stacked set (trains on the digits it stacks).
    #[arg(long, default_value = "digits")]
    pub dataset: String,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Minibatch steps of Adam (default: 500 for the MLP, 3,000 for the convolutional network).
    #[arg(long)]
    pub iterations: Option<u64>,
    /// Adam's learning rate, decaying linearly to a tenth over the steps (default: 1e-3 for
    /// the MLP, 2e-3 for the convolutional network).
    #[arg(long)]
    pub lr: Option<f32>,
    /// Output file.
    #[arg(long, short = 'o', default_value = "classifier.safetensors")]
    pub out: PathBuf,
}

pub fn run_classifier(gpu: &Gpu, what: &ClassifierWhat) -> anyhow::Result<()> {
    let ClassifierWhat::Train(a) = what;
    let ds = crate::data::Dataset::parse(&a.dataset)?;
    let base = ds.stacked_base().unwrap_or(ds);
    let mut cfg = ClassifierConfig::new(&base.spec(), a.seed);
    if let Some(n) = a.iterations {
        anyhow::ensure!(n > 0, "--iterations must be at least 1");
        cfg.iterations = Some(n);
    }
    if let Some(lr) = a.lr {
        anyhow::ensure!(
            lr.is_finite() && lr > 0.0,
            "--lr must be a positive number, not {lr}"
        );
        cfg.lr = Some(lr);
    }
    let t0 = std::time::Instant::now();
    let c = classifier::train(gpu, &cfg, |it, loss, acc| {
        eprintln!(
            "iteration {it:>6}  loss {loss:.4}  minibatch accuracy {:.1}%",
            100.0 * acc
        )
    })?;
    classifier::save(&a.out, &c)?;
    println!(
        "{}: test accuracy {:.2}% ({} classes, {:.1} s); saved {}",
        cfg.dataset,
        100.0 * c.test_accuracy,
        c.classes,
        t0.elapsed().as_secs_f64(),
        a.out.display()
    );
    Ok(())
}
