//! Checkpoints in safetensors: G and D laid out as PyTorch `nn.Sequential` state_dicts
//! (`g.0.weight` [out, in], `g.0.bias` [out], `g.2.weight`, ... with an activation module between
//! Linear layers), the Adam moments, the GPU counters (iteration, step counts; they address every
//! random number) and the configuration in the metadata. Written to a temporary name and renamed,
//! so a crash never leaves a corrupt or half-written checkpoint.

use super::config::TrainConfig;
use super::schedule::TrainState;
use crate::data::limit::{format_bytes, read_limited};
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

/// Room for the safetensors header (tensor table and metadata, with the stored config) next to
/// the tensors; a real one is a few KiB.
const HEADER_MAX: u64 = 1 << 20;

/// The tensors a checkpoint of `gs` and `ds` holds: (name, dtype, shape), in file order.
fn expected_tensors(gs: &NetSpec, ds: &NetSpec) -> Vec<(String, Dtype, Vec<usize>)> {
    let mut out = Vec::new();
    for (prefix, spec) in [("g", gs), ("d", ds)] {
        for (i, p) in spec.layout().iter().enumerate() {
            let idx = 2 * i;
            out.push((
                format!("{prefix}.{idx}.weight"),
                Dtype::F32,
                vec![p.out, p.inp],
            ));
            out.push((format!("{prefix}.{idx}.bias"), Dtype::F32, vec![p.out]));
        }
    }
    for (name, spec) in [("g", gs), ("d", ds)] {
        for moment in ["adam_m", "adam_v"] {
            let shape = vec![spec.param_count()];
            out.push((format!("optim.{name}.{moment}"), Dtype::F32, shape));
        }
    }
    let counters = vec![super::schedule::STATE_LEN];
    out.push(("state.counters".to_string(), Dtype::U32, counters));
    out
}

/// `spec`'s parameter count, in u128 so that no stored config can overflow it.
fn param_count_wide(spec: &NetSpec) -> u128 {
    let mut inp = spec.input as u128;
    let mut total = 0u128;
    for l in &spec.layers {
        total += (inp + 1) * l.out as u128;
        inp = l.out as u128;
    }
    total
}

/// Reads a checkpoint written by [`save`]; the architecture comes from the file's own config.
///
/// Nothing in the file is trusted: the file is read only up to what a checkpoint of networks
/// that fit `max_bytes` each (the device's largest storage buffer) can take; the stored config is
/// validated and each network's parameters must fit `max_bytes`; every tensor's name, dtype and
/// shape is checked against the architecture the config implies before any is copied.
pub fn load(path: &Path, max_bytes: u64) -> anyhow::Result<Checkpoint> {
    let shown = path.display();
    // G and D with two Adam moments each: six tensors of at most one storage buffer.
    let file_max = max_bytes.saturating_mul(6).saturating_add(HEADER_MAX);
    let bytes = read_limited(path, "checkpoint", file_max)?;
    let (_, meta) = SafeTensors::read_metadata(&bytes)
        .with_context(|| format!("{shown} is not a safetensors file"))?;
    let meta = meta.metadata().clone().unwrap_or_default();
    if meta.get("format").map(String::as_str) != Some(FORMAT) {
        bail!(
            "{shown} is not a shadergan checkpoint (metadata 'format' is {:?}, expected {FORMAT:?})",
            meta.get("format")
        );
    }
    let config: TrainConfig = toml::from_str(meta.get("config").map(String::as_str).unwrap_or(""))
        .with_context(|| format!("{shown}: the stored config does not parse"))?;
    config
        .validate()
        .with_context(|| format!("{shown}: the stored config is not valid"))?;
    let data_dim: usize = meta
        .get("data_dim")
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("{shown}: metadata data_dim is missing"))?;
    // One row of data must fit a buffer; this also keeps the sizes below far from overflow.
    if data_dim == 0 || data_dim as u64 > max_bytes / 4 {
        bail!(
            "{shown}: metadata data_dim {data_dim} is outside 1..={} (one row of {} per storage \
             buffer on this device)",
            max_bytes / 4,
            format_bytes(max_bytes)
        );
    }
    let (gs, ds) = (config.g_spec(data_dim)?, config.d_spec(data_dim)?);
    for (name, spec) in [("G", &gs), ("D", &ds)] {
        let need = param_count_wide(spec) * 4;
        if need > max_bytes as u128 {
            bail!(
                "{shown}: the stored config gives {name} {} parameters ({}), more than the {} one \
                 storage buffer holds on this device; this checkpoint needs a device with larger \
                 buffers",
                need / 4,
                format_bytes(need.min(u64::MAX as u128) as u64),
                format_bytes(max_bytes)
            );
        }
    }
    let image = match meta.get("image_shape") {
        None => None,
        Some(s) => {
            let v: Vec<usize> = s.split(',').filter_map(|x| x.trim().parse().ok()).collect();
            let product = v.iter().try_fold(1usize, |a, &b| a.checked_mul(b));
            if v.len() != 3 || product != Some(data_dim) {
                bail!("{shown}: metadata image_shape {s:?} does not fit data_dim {data_dim}");
            }
            Some([v[0], v[1], v[2]])
        }
    };
    let st = SafeTensors::deserialize(&bytes).with_context(|| format!("{shown} is corrupt"))?;
    let expected = expected_tensors(&gs, &ds);
    for (name, dtype, shape) in &expected {
        let t = st
            .tensor(name)
            .with_context(|| format!("{shown}: tensor {name} is missing"))?;
        if t.dtype() != *dtype || t.shape() != shape.as_slice() {
            bail!(
                "{shown}: tensor {name} is {:?} {:?}; the stored config (G: {}; D: {}) needs \
                 {dtype:?} {shape:?}",
                t.dtype(),
                t.shape(),
                torch_architecture(&gs),
                torch_architecture(&ds)
            );
        }
    }
    if let Some(extra) = st
        .names()
        .into_iter()
        .find(|n| !expected.iter().any(|(e, _, _)| e == *n))
    {
        bail!("{shown}: unexpected tensor {extra}; not a checkpoint of the stored config");
    }
    // Every shape is checked: from here on, the copies cannot fail or run past a tensor.
    let f32s = |name: &str| -> Vec<f32> {
        let t = st.tensor(name).expect("checked above");
        bytemuck::pod_collect_to_vec(t.data())
    };
    let net = |prefix: &str, spec: &NetSpec| -> Vec<f32> {
        let mut params = Vec::with_capacity(spec.param_count());
        for i in 0..spec.layers.len() {
            params.extend(f32s(&format!("{prefix}.{}.weight", 2 * i)));
            params.extend(f32s(&format!("{prefix}.{}.bias", 2 * i)));
        }
        params
    };
    let (gp, dp) = (net("g", &gs), net("d", &ds));
    let counters = {
        let t = st.tensor("state.counters").expect("checked above");
        bytemuck::pod_collect_to_vec::<u8, u32>(t.data())
    };
    let state = TrainState {
        g_adam_m: f32s("optim.g.adam_m"),
        g_adam_v: f32s("optim.g.adam_v"),
        d_adam_m: f32s("optim.d.adam_m"),
        d_adam_v: f32s("optim.d.adam_v"),
        g_params: gp,
        d_params: dp,
        counters,
        g_running: Vec::new(),
        d_running: Vec::new(),
    };
    Ok(Checkpoint {
        config,
        state,
        data_dim,
        image,
    })
}
