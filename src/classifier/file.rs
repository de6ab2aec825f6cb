//! Classifier files in safetensors with the GAN checkpoints' conventions: the network as a
//! PyTorch `nn.Sequential` state_dict (`c.0.weight` [out, in], `c.0.bias`, `c.2.weight`, ...),
//! what it was trained on in the metadata; and the cache that `eval` uses so a run's classifier
//! is trained once per data set and seed.

use super::{Classifier, ClassifierConfig};
use crate::gpu::Gpu;
use crate::graph::net::{Layer, NetSpec};
use crate::graph::state_dict::{self, Source};
use crate::ops::Activation;
use anyhow::{bail, Context};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "shadergan-classifier-1";
/// The classifier a run directory keeps for its evaluations.
pub const RUN_FILE: &str = "classifier.safetensors";

pub fn save(path: &Path, c: &Classifier) -> anyhow::Result<()> {
    let net = crate::graph::network::NetworkSpec::Mlp(c.spec.clone());
    let mut views: Vec<(String, TensorView)> = Vec::new();
    for e in state_dict::entries(&net)? {
        let Source::Params(r) = e.source else {
            bail!("an MLP classifier has parameters only");
        };
        let data = bytemuck::cast_slice(&c.params[r]);
        let v = TensorView::new(Dtype::F32, e.shape, data).context("tensor shape and data")?;
        views.push((format!("c.{}", e.name), v));
    }
    let hidden: Vec<String> = c.spec.layers[..c.spec.layers.len() - 1]
        .iter()
        .map(|l| l.out.to_string())
        .collect();
    let meta = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("dataset".to_string(), c.dataset.clone()),
        ("seed".to_string(), c.seed.to_string()),
        ("classes".to_string(), c.classes.to_string()),
        ("input".to_string(), c.spec.input.to_string()),
        ("hidden".to_string(), hidden.join(",")),
        (
            "image_shape".to_string(),
            format!("{},{},1", c.image[0], c.image[1]),
        ),
        ("test_accuracy".to_string(), c.test_accuracy.to_string()),
        (
            "architecture".to_string(),
            state_dict::mlp_architecture(&c.spec),
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
    let mut layers: Vec<Layer> = get("hidden")?
        .split(',')
        .map(|s| {
            s.parse().map(|out| Layer {
                out,
                act: Activation::Relu,
            })
        })
        .collect::<Result<_, _>>()
        .with_context(|| format!("{}: metadata hidden is not a list", path.display()))?;
    layers.push(Layer {
        out: classes,
        act: Activation::Identity,
    });
    let spec = NetSpec { input, layers };
    let st = SafeTensors::deserialize(&bytes)
        .with_context(|| format!("{} is corrupt", path.display()))?;
    let mut params = vec![0.0f32; spec.param_count()];
    for (i, p) in spec.layout().iter().enumerate() {
        let w = read_f32(&st, &format!("c.{}.weight", 2 * i), p.out * p.inp, path)?;
        let b = read_f32(&st, &format!("c.{}.bias", 2 * i), p.out, path)?;
        params[p.w_off..p.b_off].copy_from_slice(&w);
        params[p.b_off..p.b_off + p.out].copy_from_slice(&b);
    }
    let shape: Vec<usize> = get("image_shape")?
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    if shape.len() != 3 || shape[0] * shape[1] != input {
        bail!(
            "{}: metadata image_shape does not fit the input",
            path.display()
        );
    }
    Ok(Classifier {
        spec,
        params,
        classes,
        dataset: get("dataset")?.clone(),
        seed: get("seed")?.parse().unwrap_or(0),
        test_accuracy: get("test_accuracy")?.parse().unwrap_or(0.0),
        image: [shape[0], shape[1]],
    })
}

/// The classifier for `cfg.dataset` and `cfg.seed` at `path` if the file there was trained on
/// them; otherwise one trained now and saved there. The bool says whether it was trained.
pub fn cached_or_train(
    gpu: &Gpu,
    cfg: &ClassifierConfig,
    path: &Path,
) -> anyhow::Result<(Classifier, bool)> {
    if let Ok(c) = load(path) {
        if c.dataset == cfg.dataset && c.seed == cfg.seed {
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
