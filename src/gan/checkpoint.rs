//! Checkpoints in safetensors: G and D laid out as PyTorch `nn.Sequential` state_dicts
//! (`g.0.weight` [out, in], `g.0.bias` [out], `g.2.weight`, ... with an activation module between
//! Linear layers), the Adam moments, the GPU counters (iteration, step counts; they address every
//! random number) and the configuration in the metadata. Written to a temporary name and renamed,
//! so a crash never leaves a corrupt or half-written checkpoint.

use super::config::TrainConfig;
use super::schedule::TrainState;
use crate::graph::net::NetSpec;
use anyhow::{bail, Context};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::Path;

pub const FORMAT: &str = "shadergan-checkpoint-1";

/// `nn.Sequential` description of a network, e.g. `Linear(8, 128), ReLU(), Linear(128, 2)`.
pub fn torch_architecture(spec: &NetSpec) -> String {
    let mut parts = Vec::new();
    for p in spec.layout().iter().zip(&spec.layers) {
        let (lp, layer) = p;
        parts.push(format!("Linear({}, {})", lp.inp, lp.out));
        let act = match layer.act {
            crate::ops::Activation::Identity => "Identity()".to_string(),
            crate::ops::Activation::Relu => "ReLU()".to_string(),
            crate::ops::Activation::LeakyRelu(a) => format!("LeakyReLU({a})"),
            crate::ops::Activation::Tanh => "Tanh()".to_string(),
            crate::ops::Activation::Sigmoid => "Sigmoid()".to_string(),
        };
        parts.push(act);
    }
    // A trailing Identity adds nothing: leave it out so G's state_dict keys stay 0, 2, 4, ...
    if parts.last().map(|s| s == "Identity()").unwrap_or(false) {
        parts.pop();
    }
    parts.join(", ")
}

/// A checkpoint's content.
pub struct Checkpoint {
    pub config: TrainConfig,
    pub state: TrainState,
    /// Width of a data row (G's output).
    pub data_dim: usize,
    /// For image data: width, height, channels (rows are HWC, values in [-1, 1]).
    pub image: Option<[usize; 3]>,
}

fn bytes_f32(v: &[f32]) -> &[u8] {
    bytemuck::cast_slice(v)
}

/// (name, shape, data) of each layer's weight and bias.
pub(crate) fn net_tensors<'a>(
    prefix: &str,
    spec: &NetSpec,
    params: &'a [f32],
) -> Vec<(String, Vec<usize>, &'a [f32])> {
    let mut out = Vec::new();
    for (i, p) in spec.layout().iter().enumerate() {
        let idx = 2 * i;
        out.push((
            format!("{prefix}.{idx}.weight"),
            vec![p.out, p.inp],
            &params[p.w_off..p.b_off],
        ));
        out.push((
            format!("{prefix}.{idx}.bias"),
            vec![p.out],
            &params[p.b_off..p.b_off + p.out],
        ));
    }
    out
}

/// Writes `ck` to `path` atomically (temporary file in the same directory, then rename).
pub fn save(path: &Path, ck: &Checkpoint) -> anyhow::Result<()> {
    let (cfg, data_dim) = (&ck.config, ck.data_dim);
    let (gs, ds) = (cfg.g_spec(data_dim)?, cfg.d_spec(data_dim)?);
    let s = &ck.state;
    let mut entries: Vec<(String, Vec<usize>, &[f32])> = Vec::new();
    entries.extend(net_tensors("g", &gs, &s.g_params));
    entries.extend(net_tensors("d", &ds, &s.d_params));
    for (name, v) in [
        ("optim.g.adam_m", &s.g_adam_m),
        ("optim.g.adam_v", &s.g_adam_v),
        ("optim.d.adam_m", &s.d_adam_m),
        ("optim.d.adam_v", &s.d_adam_v),
    ] {
        entries.push((name.to_string(), vec![v.len()], v));
    }
    let mut views: Vec<(String, TensorView)> = entries
        .iter()
        .map(|(n, shape, d)| {
            let v = TensorView::new(Dtype::F32, shape.clone(), bytes_f32(d))
                .expect("shape matches the data");
            (n.clone(), v)
        })
        .collect();
    let counters: &[u8] = bytemuck::cast_slice(&s.counters);
    views.push((
        "state.counters".into(),
        TensorView::new(Dtype::U32, vec![s.counters.len()], counters).expect("u32 counters"),
    ));
    let mut meta = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("config".to_string(), cfg.to_toml()),
        ("data_dim".to_string(), data_dim.to_string()),
        ("iteration".to_string(), s.iteration().to_string()),
        ("g_architecture".to_string(), torch_architecture(&gs)),
        ("d_architecture".to_string(), torch_architecture(&ds)),
    ]);
    if let Some([w, h, c]) = ck.image {
        meta.insert("image_shape".to_string(), format!("{w},{h},{c}"));
    }
    let bytes = safetensors::serialize(views, Some(meta)).context("serialising checkpoint")?;
    crate::io::atomic_write(path, |w| {
        std::io::Write::write_all(w, &bytes)?;
        Ok(())
    })
    .with_context(|| format!("writing checkpoint {}", path.display()))
}

pub(crate) fn read_f32(
    st: &SafeTensors,
    name: &str,
    len: usize,
    path: &Path,
) -> anyhow::Result<Vec<f32>> {
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

/// Reads a checkpoint written by [`save`]; the architecture comes from the file's own config.
pub fn load(path: &Path) -> anyhow::Result<Checkpoint> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let (_, meta) = SafeTensors::read_metadata(&bytes)
        .with_context(|| format!("{} is not a safetensors file", path.display()))?;
    let meta = meta.metadata().clone().unwrap_or_default();
    if meta.get("format").map(String::as_str) != Some(FORMAT) {
        bail!(
            "{} is not a shadergan checkpoint (metadata 'format' is {:?}, expected {FORMAT:?})",
            path.display(),
            meta.get("format")
        );
    }
    let config: TrainConfig = toml::from_str(meta.get("config").map(String::as_str).unwrap_or(""))
        .with_context(|| format!("{}: the stored config does not parse", path.display()))?;
    let data_dim: usize = meta
        .get("data_dim")
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("{}: metadata data_dim is missing", path.display()))?;
    let st = SafeTensors::deserialize(&bytes)
        .with_context(|| format!("{} is corrupt", path.display()))?;
    let (gs, ds) = (config.g_spec(data_dim)?, config.d_spec(data_dim)?);
    let net = |prefix: &str, spec: &NetSpec| -> anyhow::Result<Vec<f32>> {
        let mut params = vec![0.0f32; spec.param_count()];
        for (i, p) in spec.layout().iter().enumerate() {
            let w = read_f32(
                &st,
                &format!("{prefix}.{}.weight", 2 * i),
                p.out * p.inp,
                path,
            )?;
            let b = read_f32(&st, &format!("{prefix}.{}.bias", 2 * i), p.out, path)?;
            params[p.w_off..p.b_off].copy_from_slice(&w);
            params[p.b_off..p.b_off + p.out].copy_from_slice(&b);
        }
        Ok(params)
    };
    let (gp, dp) = (net("g", &gs)?, net("d", &ds)?);
    let counters = {
        let t = st
            .tensor("state.counters")
            .with_context(|| format!("{}: state.counters is missing", path.display()))?;
        if t.dtype() != Dtype::U32 {
            bail!("{}: state.counters must be u32", path.display());
        }
        bytemuck::pod_collect_to_vec::<u8, u32>(t.data())
    };
    if counters.len() != super::schedule::STATE_LEN {
        bail!("{}: state.counters has the wrong length", path.display());
    }
    let state = TrainState {
        g_adam_m: read_f32(&st, "optim.g.adam_m", gp.len(), path)?,
        g_adam_v: read_f32(&st, "optim.g.adam_v", gp.len(), path)?,
        d_adam_m: read_f32(&st, "optim.d.adam_m", dp.len(), path)?,
        d_adam_v: read_f32(&st, "optim.d.adam_v", dp.len(), path)?,
        g_params: gp,
        d_params: dp,
        counters,
    };
    let image = match meta.get("image_shape") {
        None => None,
        Some(s) => {
            let v: Vec<usize> = s.split(',').filter_map(|x| x.trim().parse().ok()).collect();
            if v.len() != 3 || v[0] * v[1] * v[2] != data_dim {
                bail!(
                    "{}: metadata image_shape {s:?} does not fit data_dim {data_dim}",
                    path.display()
                );
            }
            Some([v[0], v[1], v[2]])
        }
    };
    Ok(Checkpoint {
        config,
        state,
        data_dim,
        image,
    })
}
