//! Classifier files in safetensors with the GAN checkpoints' conventions: the network as a
//! PyTorch `nn.Sequential` state_dict (`c.0.weight` [out, in] or [out, in, kh, kw], `c.0.bias`,
//! `c.2.weight`, ...), its kind, architecture and what it was trained on in the metadata; and
//! the cache that `eval` uses so a run's classifier is trained once per data set and seed.
//! Format 2 added the convolutional classifier; a format-1 file (always an MLP) is refused by
//! `load` with that reason, and `eval`'s cache trains a new one in its place.

use super::{Classifier, ClassifierConfig};
use crate::gpu::Gpu;
use crate::graph::network::NetworkSpec;
use crate::graph::state_dict::{self, Source};
use anyhow::{bail, Context};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "shadergan-classifier-2";
/// The format of files written before the convolutional classifier.
const FORMAT_1: &str = "shadergan-classifier-1";
/// The classifier a run directory keeps for its evaluations.
pub const RUN_FILE: &str = "classifier.safetensors";

pub fn save(path: &Path, c: &Classifier) -> anyhow::Result<()> {
    let mut views: Vec<(String, TensorView)> = Vec::new();
    for e in state_dict::entries(&c.spec)? {
        let Source::Params(r) = e.source else {
            bail!("a classifier has parameters only (no batch norms)");
        };
        let data = bytemuck::cast_slice(&c.params[r]);
        let v = TensorView::new(Dtype::F32, e.shape, data).context("tensor shape and data")?;
        views.push((format!("c.{}", e.name), v));
    }
    let (kind, hidden) = match &c.spec {
        NetworkSpec::Mlp(m) => (
            "mlp",
            m.layers[..m.layers.len() - 1]
                .iter()
                .map(|l| l.out.to_string())
                .collect::<Vec<_>>(),
        ),
        NetworkSpec::Conv(_) => ("conv", Vec::new()),
    };
    let channels = c.spec.input_len() / (c.image[0] * c.image[1]).max(1);
    let meta = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("dataset".to_string(), c.dataset.clone()),
        ("seed".to_string(), c.seed.to_string()),
        ("classes".to_string(), c.classes.to_string()),
        ("kind".to_string(), kind.to_string()),
        ("input".to_string(), c.spec.input_len().to_string()),
        ("hidden".to_string(), hidden.join(",")),
        (
            "image_shape".to_string(),
            format!("{},{},{channels}", c.image[0], c.image[1]),
        ),
        ("test_accuracy".to_string(), c.test_accuracy.to_string()),
        ("recipe".to_string(), c.recipe.clone()),
        (
            "architecture".to_string(),
            state_dict::architecture(&c.spec)?,
        ),
    ]);
    let bytes = safetensors::serialize(views, Some(meta)).context("serialising the classifier")?;
    crate::io::atomic_write(path, |w| {
        std::io::Write::write_all(w, &bytes)?;
        Ok(())
    })
    .with_context(|| format!("writing classifier {}", path.display()))
}

pub fn load(path: &Path) -> anyhow::Result<Classifier> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let (_, meta) = SafeTensors::read_metadata(&bytes)
        .with_context(|| format!("{} is not a safetensors file", path.display()))?;
    let meta = meta.metadata().clone().unwrap_or_default();
    if meta.get("format").map(String::as_str) == Some(FORMAT_1) {
        bail!(
            "{} is a classifier of an earlier shadergan (format 1, an MLP); delete it and `eval` \
             trains the current one",
            path.display()
        );
    }
    if meta.get("format").map(String::as_str) != Some(FORMAT) {
        bail!(
            "{} is not a shadergan classifier (metadata 'format' is {:?}, expected {FORMAT:?})",
            path.display(),
            meta.get("format")
        );
    }
    let get = |k: &str| -> anyhow::Result<&String> {
        meta.get(k)
            .with_context(|| format!("{}: metadata {k} is missing", path.display()))
    };
    let num = |k: &str| -> anyhow::Result<usize> {
        get(k)?
            .parse()
            .with_context(|| format!("{}: metadata {k} is not a number", path.display()))
    };
    let (classes, input) = (num("classes")?, num("input")?);
    let shape: Vec<usize> = get("image_shape")?
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    if shape.len() != 3 || shape[0] * shape[1] * shape[2] != input {
        bail!(
            "{}: metadata image_shape does not fit the input",
            path.display()
        );
    }
    let hidden: Vec<usize> = match get("hidden")?.as_str() {
        "" => Vec::new(),
        h => h
            .split(',')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .with_context(|| format!("{}: metadata hidden is not a list", path.display()))?,
    };
    let cfg = ClassifierConfig {
        hidden,
        ..ClassifierConfig::new("", 0)
    };
    let spec = cfg.spec([shape[2], shape[1], shape[0]], classes);
    let kind = if matches!(spec, NetworkSpec::Conv(_)) {
        "conv"
    } else {
        "mlp"
    };
    if get("kind")? != kind {
        bail!(
            "{}: metadata kind {:?} does not fit {}x{}x{} images (a {kind} classifier)",
            path.display(),
            get("kind")?,
            shape[0],
            shape[1],
            shape[2]
        );
    }
    let st = SafeTensors::deserialize(&bytes)
        .with_context(|| format!("{} is corrupt", path.display()))?;
    let mut params = vec![0.0f32; spec.param_count()?];
    for e in state_dict::entries(&spec)? {
        let Source::Params(r) = e.source else {
            bail!("a classifier has parameters only (no batch norms)");
        };
        let len = r.len();
        params[r].copy_from_slice(&read_f32(&st, &format!("c.{}", e.name), len, path)?);
    }
    Ok(Classifier {
        spec,
        params,
        classes,
        dataset: get("dataset")?.clone(),
        seed: get("seed")?.parse().unwrap_or(0),
        test_accuracy: get("test_accuracy")?.parse().unwrap_or(0.0),
        image: [shape[0], shape[1]],
        recipe: meta.get("recipe").cloned().unwrap_or_default(),
    })
}

/// The classifier for `cfg.dataset` and `cfg.seed` at `path` if the file there was trained on
/// them with `cfg`'s recipe (steps, learning rate, shifts: a file from before a recipe changed
/// is replaced); otherwise one trained now and saved there. The bool says whether it was trained.
pub fn cached_or_train(
    gpu: &Gpu,
    cfg: &ClassifierConfig,
    path: &Path,
) -> anyhow::Result<(Classifier, bool)> {
    if let Ok(c) = load(path) {
        if c.dataset == cfg.dataset && c.seed == cfg.seed && c.recipe == cfg.recipe(&c.spec) {
            return Ok((c, false));
        }
    }
    let c = super::train(gpu, cfg, |_, _, _| {})?;
    save(path, &c)?;
    Ok((c, true))
}

/// Where a run's classifier is cached: in the run directory (or next to a checkpoint file).
pub fn run_cache_path(target: &Path) -> PathBuf {
    let dir = if target.is_dir() {
        target
    } else {
        target.parent().unwrap_or(Path::new("."))
    };
    dir.join(RUN_FILE)
}

/// Tensor `name` as `len` f32 values, or an error naming the file and what it holds instead.
fn read_f32(st: &SafeTensors, name: &str, len: usize, path: &Path) -> anyhow::Result<Vec<f32>> {
    let t = st
        .tensor(name)
        .with_context(|| format!("{}: tensor {name} is missing", path.display()))?;
    if t.dtype() != Dtype::F32 || t.data().len() != len * 4 {
        bail!(
            "{}: tensor {name} has dtype {:?} and {} bytes; expected f32 with {} elements",
            path.display(),
            t.dtype(),
            t.data().len(),
            len
        );
    }
    Ok(bytemuck::pod_collect_to_vec(t.data()))
}
