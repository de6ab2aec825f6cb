//! Checkpoints in safetensors: G and D laid out as PyTorch `nn.Sequential` state_dicts (names,
//! shapes and the architecture string from graph/state_dict.rs: `g.0.weight` [out, in],
//! `g.0.bias`, ... for MLPs; Conv2d, ConvTranspose2d and BatchNorm tensors with their running
//! statistics for DCGANs), G's moving average as `g_ema.*` (same names after the prefix) when
//! the run keeps one, a spectrally normalised D under PyTorch's parametrization names
//! (`d.N.parametrizations.weight.original`, `....0._u`, `....0._v`), a conditional run's class
//! embeddings as nn.Embedding modules beside them (`g_label_emb.weight`, `d_label_emb.weight`,
//! `g_ema_label_emb.weight`; see `super::conditional`), the Adam moments, the GPU counters
//! (iteration, step counts; they address every random number) and the configuration in the
//! metadata. Written to a temporary
//! name and renamed, so a crash never leaves a corrupt or half-written checkpoint.

use super::config::{DNorm, TrainConfig};
use super::state::TrainState;
use crate::data::limit::{format_bytes, read_limited};
use crate::graph::network::NetworkSpec;
use crate::graph::state_dict::{self, Source};
use anyhow::{bail, Context};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::Path;

pub const FORMAT: &str = "shadergan-checkpoint-1";

/// A checkpoint's content.
pub struct Checkpoint {
    pub config: TrainConfig,
    pub state: TrainState,
    /// Width of a data row (G's output).
    pub data_dim: usize,
    /// For image data: width, height, channels (rows are HWC, values in [-1, 1]).
    pub image: Option<[usize; 3]>,
}

/// A batch norm's `num_batches_tracked` after `iteration` iterations of `cfg`, as PyTorch counts
/// it (one per training-mode call): per iteration G runs k + 1 times (k D steps, one G step), D
/// 2k + 1 times (the real and the generated half of each D step separately, then the G step).
fn batches_tracked(cfg: &TrainConfig, iteration: u64, generator: bool) -> i64 {
    let k = cfg.d_steps as u64;
    let per = if generator { k + 1 } else { 2 * k + 1 };
    iteration.saturating_mul(per).min(i64::MAX as u64) as i64
}

/// A D tensor's name in the file: with spectral normalisation a Linear layer's weight is stored
/// as PyTorch's parametrization holds it, `N.parametrizations.weight.original` (the unnormalised
/// W), beside `N.parametrizations.weight.0._u` and `._v` ([`spectral_entries`]).
fn d_name(cfg: &TrainConfig, name: &str) -> String {
    match (cfg.d_norm, name.strip_suffix(".weight")) {
        (DNorm::Spectral, Some(layer)) => format!("{layer}.parametrizations.weight.original"),
        _ => name.to_string(),
    }
}

/// A tensor's name, its values' range in a flat buffer, and its shape.
type Placed = (String, std::ops::Range<usize>, Vec<usize>);

/// With spectral normalisation: (name, range in `TrainState::d_sn`, shape) of each Linear layer's
/// u [out] and v [in], in layer order (the sequential index from its weight's name).
fn spectral_entries(cfg: &TrainConfig, ds: &NetworkSpec) -> anyhow::Result<Vec<Placed>> {
    if cfg.d_norm != DNorm::Spectral {
        return Ok(Vec::new());
    }
    let specs = super::spectral::layers(ds, true)?;
    let weights: Vec<String> = state_dict::entries(ds)?
        .into_iter()
        .filter_map(|e| e.name.strip_suffix(".weight").map(str::to_string))
        .collect();
    anyhow::ensure!(weights.len() == specs.len(), "one weight per Linear layer");
    let mut out = Vec::new();
    for (layer, s) in weights.iter().zip(&specs) {
        let base = format!("d.{layer}.parametrizations.weight.0");
        let u = s.uv_off..s.uv_off + s.rows;
        let v = u.end..u.end + s.cols;
        out.push((format!("{base}._u"), u, vec![s.rows]));
        out.push((format!("{base}._v"), v, vec![s.cols]));
    }
    Ok(out)
}

/// Writes `ck` to `path` atomically (temporary file in the same directory, then rename).
pub fn save(path: &Path, ck: &Checkpoint) -> anyhow::Result<()> {
    let (cfg, data_dim) = (&ck.config, ck.data_dim);
    let (gs, ds) = (cfg.g_network(data_dim)?, cfg.d_network(data_dim)?);
    let s = &ck.state;
    let tracked = [
        batches_tracked(cfg, s.iteration(), true).to_le_bytes(),
        batches_tracked(cfg, s.iteration(), false).to_le_bytes(),
    ];
    let mut raw: Vec<(String, Dtype, Vec<usize>, &[u8])> = Vec::new();
    let mut nets = vec![
        ("g", &gs, &s.g_params, &s.g_running, &tracked[0]),
        ("d", &ds, &s.d_params, &s.d_running, &tracked[1]),
    ];
    if cfg.g_ema > 0.0 {
        // A run that has not stepped yet has no average: it starts from G's weights.
        let ema = if s.g_ema.is_empty() {
            &s.g_params
        } else {
            &s.g_ema
        };
        nets.push(("g_ema", &gs, ema, &s.g_running, &tracked[0]));
    }
    let tables = super::conditional::table_entries(cfg, data_dim)?;
    for t in &tables {
        let (_, spec, params, _, _) = nets.iter().find(|n| n.0 == t.net).expect("a network");
        let own = spec.param_count()?;
        anyhow::ensure!(
            params.len() == own + t.shape[0] * t.shape[1],
            "{} does not fit its network's parameters",
            t.name
        );
        raw.push((
            t.name.to_string(),
            Dtype::F32,
            t.shape.to_vec(),
            bytes_f32(&params[own..]),
        ));
    }
    for (prefix, spec, params, running, tracked) in nets {
        for e in state_dict::entries(spec)? {
            let name = match prefix {
                "d" => format!("d.{}", d_name(cfg, &e.name)),
                _ => format!("{prefix}.{}", e.name),
            };
            match e.source {
                Source::Params(r) => raw.push((name, Dtype::F32, e.shape, bytes_f32(&params[r]))),
                Source::Running(r) => raw.push((name, Dtype::F32, e.shape, bytes_f32(&running[r]))),
                Source::BatchesTracked => raw.push((name, Dtype::I64, e.shape, tracked)),
            }
        }
    }
    anyhow::ensure!(
        cfg.d_norm == DNorm::None || !s.d_sn.is_empty(),
        "a spectrally normalised D needs its u and v vectors"
    );
    for (name, r, shape) in spectral_entries(cfg, &ds)? {
        raw.push((name, Dtype::F32, shape, bytes_f32(&s.d_sn[r])));
    }
    for (name, v) in [
        ("optim.g.adam_m", &s.g_adam_m),
        ("optim.g.adam_v", &s.g_adam_v),
        ("optim.d.adam_m", &s.d_adam_m),
        ("optim.d.adam_v", &s.d_adam_v),
    ] {
        raw.push((name.to_string(), Dtype::F32, vec![v.len()], bytes_f32(v)));
    }
    let counters: &[u8] = bytemuck::cast_slice(&s.counters);
    raw.push((
        "state.counters".into(),
        Dtype::U32,
        vec![s.counters.len()],
        counters,
    ));
    let mut views: Vec<(String, TensorView)> = Vec::new();
    for (name, dtype, shape, data) in raw {
        let v = TensorView::new(dtype, shape, data).context("tensor shape and data disagree")?;
        views.push((name, v));
    }
    let mut meta = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("config".to_string(), cfg.to_toml()),
        ("data_dim".to_string(), data_dim.to_string()),
        ("iteration".to_string(), s.iteration().to_string()),
        ("g_architecture".to_string(), state_dict::architecture(&gs)?),
        ("d_architecture".to_string(), state_dict::architecture(&ds)?),
    ]);
    if let Some([w, h, c]) = ck.image {
        meta.insert("image_shape".to_string(), format!("{w},{h},{c}"));
    }
    for t in &tables {
        let [classes, width] = t.shape;
        let module = t.name.trim_end_matches(".weight");
        meta.insert(
            format!("{module}_architecture"),
            format!("Embedding({classes}, {width})"),
        );
    }
    let bytes = safetensors::serialize(views, Some(meta)).context("serialising checkpoint")?;
    crate::io::atomic_write(path, |w| {
        std::io::Write::write_all(w, &bytes)?;
        Ok(())
    })
    .with_context(|| format!("writing checkpoint {}", path.display()))
}

fn bytes_f32(v: &[f32]) -> &[u8] {
    bytemuck::cast_slice(v)
}

/// Room for the safetensors header (tensor table and metadata, with the stored config) next to
/// the tensors; a real one is a few KiB.
const HEADER_MAX: u64 = 1 << 20;

/// The tensors a checkpoint of `gs` and `ds` holds: (name, dtype, shape), in file order.
fn expected_tensors(
    cfg: &TrainConfig,
    data_dim: usize,
    gs: &NetworkSpec,
    ds: &NetworkSpec,
) -> anyhow::Result<Vec<(String, Dtype, Vec<usize>)>> {
    let mut out = Vec::new();
    for t in super::conditional::table_entries(cfg, data_dim)? {
        out.push((t.name.to_string(), Dtype::F32, t.shape.to_vec()));
    }
    let mut nets = vec![("g", gs), ("d", ds)];
    if cfg.g_ema > 0.0 {
        nets.push(("g_ema", gs));
    }
    for (prefix, spec) in nets {
        for e in state_dict::entries(spec)? {
            let dtype = match e.source {
                Source::BatchesTracked => Dtype::I64,
                _ => Dtype::F32,
            };
            let name = match prefix {
                "d" => d_name(cfg, &e.name),
                _ => e.name,
            };
            out.push((format!("{prefix}.{name}"), dtype, e.shape));
        }
    }
    for (name, _, shape) in spectral_entries(cfg, ds)? {
        out.push((name, Dtype::F32, shape));
    }
    let (g_len, d_len) = cfg.param_lens(data_dim)?;
    for (name, len) in [("g", g_len), ("d", d_len)] {
        for moment in ["adam_m", "adam_v"] {
            let shape = vec![len];
            out.push((format!("optim.{name}.{moment}"), Dtype::F32, shape));
        }
    }
    let counters = vec![super::state::STATE_LEN];
    out.push(("state.counters".to_string(), Dtype::U32, counters));
    Ok(out)
}

/// `spec`'s parameter count, in u128 so that no stored config can overflow it. (A convolutional
/// network's sizes are bounded by the config's ceilings on channels and image sides.)
fn param_count_wide(spec: &NetworkSpec) -> anyhow::Result<u128> {
    let NetworkSpec::Mlp(spec) = spec else {
        return Ok(spec.param_count()? as u128);
    };
    let mut inp = spec.input as u128;
    let mut total = 0u128;
    for l in &spec.layers {
        total += (inp + 1) * l.out as u128;
        inp = l.out as u128;
    }
    Ok(total)
}

/// Reads a checkpoint written by [`save`]; the architecture comes from the file's own config.
///
/// Nothing in the file is trusted: the file is read only up to what a checkpoint of networks
/// that fit `max_bytes` each (the device's largest storage buffer) can take; the stored config is
/// validated and each network's parameters must fit `max_bytes`; every tensor's name, dtype and
/// shape is checked against the architecture the config implies before any is copied.
pub fn load(path: &Path, max_bytes: u64) -> anyhow::Result<Checkpoint> {
    let shown = path.display();
    // G and D with two Adam moments each, and G's moving average: seven tensors of at most one
    // storage buffer.
    let file_max = max_bytes.saturating_mul(7).saturating_add(HEADER_MAX);
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
    let (gs, ds) = (config.g_network(data_dim)?, config.d_network(data_dim)?);
    // A conditional run's class embeddings share their network's buffer.
    let c = config.conditioning(data_dim)?;
    let tables = [
        c.map_or(0, |c| c.g_table_len()),
        c.map_or(0, |c| c.d_table_len()),
    ];
    for ((name, spec), table) in [("G", &gs), ("D", &ds)].into_iter().zip(tables) {
        let need = (param_count_wide(spec)? + table as u128) * 4;
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
    let expected = expected_tensors(&config, data_dim, &gs, &ds)?;
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
                state_dict::architecture(&gs)?,
                state_dict::architecture(&ds)?
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
    // Parameters and running statistics back into their flat buffers (the entries cover both).
    let net = |prefix: &str, spec: &NetworkSpec| -> anyhow::Result<(Vec<f32>, Vec<f32>)> {
        let mut params = vec![0.0; spec.param_count()?];
        let mut running = vec![0.0; spec.buffer_count()?];
        for e in state_dict::entries(spec)? {
            let (dst, r) = match e.source {
                Source::Params(r) => (&mut params, r),
                Source::Running(r) => (&mut running, r),
                Source::BatchesTracked => continue,
            };
            let name = match prefix {
                "d" => d_name(&config, &e.name),
                _ => e.name,
            };
            dst[r].copy_from_slice(&f32s(&format!("{prefix}.{name}")));
        }
        Ok((params, running))
    };
    let ((mut gp, g_running), (mut dp, d_running)) = (net("g", &gs)?, net("d", &ds)?);
    let mut g_ema = if config.g_ema > 0.0 {
        net("g_ema", &gs)?.0
    } else {
        Vec::new()
    };
    // A conditional run's class embeddings follow each network's own parameters.
    for t in super::conditional::table_entries(&config, data_dim)? {
        let params = match t.net {
            "g" => &mut gp,
            "d" => &mut dp,
            _ => &mut g_ema,
        };
        params.extend(f32s(t.name));
    }
    let sn = spectral_entries(&config, &ds)?;
    let mut d_sn = vec![0.0; sn.last().map_or(0, |(_, r, _)| r.end)];
    for (name, r, _) in sn {
        d_sn[r].copy_from_slice(&f32s(&name));
    }
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
        g_running,
        d_running,
        g_ema,
        d_sn,
    };
    Ok(Checkpoint {
        config,
        state,
        data_dim,
        image,
    })
}
