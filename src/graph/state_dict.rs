//! A network's tensors as PyTorch names and shapes them: the `state_dict` of the `nn.Sequential`
//! that [`architecture`] describes. Module i of the sequence is block i (an MLP layer is a
//! Linear module followed by its activation module, so its weights are `2i.weight`); views and
//! activations have no tensors. Checkpoints and classifier files are written and checked from
//! this one list.
//!
//! Shapes follow PyTorch's modules: Linear weight [out, in]; Conv2d weight [out, in, kh, kw];
//! ConvTranspose2d weight [in, out, kh, kw]; BatchNorm weight, bias, running_mean and
//! running_var [c] and num_batches_tracked, an i64 scalar.

use super::convnet::{Block, ConvNetSpec};
use super::net::NetSpec;
use super::network::NetworkSpec;
use crate::ops::Activation;
use std::ops::Range;

/// Where an entry's values are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A range of the network's flat parameters.
    Params(Range<usize>),
    /// A range of the network's running statistics.
    Running(Range<usize>),
    /// A batch norm's `num_batches_tracked` (i64, shape []): the number of training forwards.
    BatchesTracked,
}

/// One tensor of the state_dict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The name without a prefix, e.g. `3.weight`.
    pub name: String,
    pub shape: Vec<usize>,
    pub source: Source,
}

/// The state_dict's tensors in module order.
pub fn entries(spec: &NetworkSpec) -> anyhow::Result<Vec<Entry>> {
    Ok(match spec {
        NetworkSpec::Mlp(s) => mlp_entries(s),
        NetworkSpec::Conv(s) => conv_entries(s)?,
    })
}

fn mlp_entries(spec: &NetSpec) -> Vec<Entry> {
    let mut out = Vec::new();
    for (i, p) in spec.layout().iter().enumerate() {
        out.push(Entry {
            name: format!("{}.weight", 2 * i),
            shape: vec![p.out, p.inp],
            source: Source::Params(p.w_off..p.b_off),
        });
        out.push(Entry {
            name: format!("{}.bias", 2 * i),
            shape: vec![p.out],
            source: Source::Params(p.b_off..p.b_off + p.out),
        });
    }
    out
}

fn conv_entries(spec: &ConvNetSpec) -> anyhow::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for (i, (b, p)) in spec.blocks.iter().zip(spec.plan()?).enumerate() {
        let mut push = |what: &str, shape: Vec<usize>, source: Source| {
            out.push(Entry {
                name: format!("{i}.{what}"),
                shape,
                source,
            })
        };
        let weight = Source::Params(p.w_off..p.w_off + p.w_len);
        let bias = Source::Params(p.b_off..p.b_off + p.b_len);
        let in_ch = p.inp[0];
        match *b {
            Block::Linear { out, bias: has } => {
                push("weight", vec![out, p.inp.iter().product()], weight);
                if has {
                    push("bias", vec![out], bias);
                }
            }
            Block::Conv2d {
                out_ch,
                k,
                bias: has,
                ..
            } => {
                push("weight", vec![out_ch, in_ch, k, k], weight);
                if has {
                    push("bias", vec![out_ch], bias);
                }
            }
            Block::ConvTranspose2d {
                out_ch,
                k,
                bias: has,
                ..
            } => {
                push("weight", vec![in_ch, out_ch, k, k], weight);
                if has {
                    push("bias", vec![out_ch], bias);
                }
            }
            Block::BatchNorm => {
                let r = p.buf_off;
                push("weight", vec![in_ch], weight);
                push("bias", vec![in_ch], bias);
                push("running_mean", vec![in_ch], Source::Running(r..r + in_ch));
                push(
                    "running_var",
                    vec![in_ch],
                    Source::Running(r + in_ch..r + 2 * in_ch),
                );
                push("num_batches_tracked", vec![], Source::BatchesTracked);
            }
            Block::Act(_) | Block::Unflatten { .. } | Block::Flatten => {}
        }
    }
    Ok(out)
}

fn activation(a: Activation) -> String {
    match a {
        Activation::Identity => "Identity()".to_string(),
        Activation::Relu => "ReLU()".to_string(),
        Activation::LeakyRelu(a) => format!("LeakyReLU({a})"),
        Activation::Tanh => "Tanh()".to_string(),
        Activation::Sigmoid => "Sigmoid()".to_string(),
    }
}

/// The arguments of an `nn.Sequential` that builds the network with `torch.nn`, e.g.
/// `Linear(8, 128), ReLU(), Linear(128, 2)`.
pub fn architecture(spec: &NetworkSpec) -> anyhow::Result<String> {
    Ok(match spec {
        NetworkSpec::Mlp(s) => mlp_architecture(s),
        NetworkSpec::Conv(s) => conv_architecture(s)?,
    })
}

/// See [`architecture`].
pub fn mlp_architecture(spec: &NetSpec) -> String {
    let mut parts = Vec::new();
    for (p, layer) in spec.layout().iter().zip(&spec.layers) {
        parts.push(format!("Linear({}, {})", p.inp, p.out));
        parts.push(activation(layer.act));
    }
    // A trailing Identity adds nothing: leave it out so the keys stay 0, 2, 4, ...
    if parts.last().is_some_and(|s| s == "Identity()") {
        parts.pop();
    }
    parts.join(", ")
}

fn conv_architecture(spec: &ConvNetSpec) -> anyhow::Result<String> {
    let no_bias = |has: bool| if has { "" } else { ", bias=False" };
    let mut parts = Vec::new();
    // Whether rows are flat here (after a Linear or a Flatten): a batch norm there is
    // BatchNorm1d over features, else BatchNorm2d over channels.
    let mut flat = spec.input[1] * spec.input[2] == 1;
    for (b, p) in spec.blocks.iter().zip(spec.plan()?) {
        let in_ch = p.inp[0];
        match b {
            Block::Linear { .. } | Block::Flatten => flat = true,
            Block::Conv2d { .. } | Block::ConvTranspose2d { .. } | Block::Unflatten { .. } => {
                flat = false
            }
            Block::BatchNorm | Block::Act(_) => {}
        }
        parts.push(match *b {
            Block::Linear { out, bias } => {
                let inp: usize = p.inp.iter().product();
                format!("Linear({inp}, {out}{})", no_bias(bias))
            }
            Block::Conv2d {
                out_ch,
                k,
                stride,
                pad,
                bias,
            } => format!(
                "Conv2d({in_ch}, {out_ch}, {k}, {stride}, {pad}{})",
                no_bias(bias)
            ),
            Block::ConvTranspose2d {
                out_ch,
                k,
                stride,
                pad,
                bias,
            } => format!(
                "ConvTranspose2d({in_ch}, {out_ch}, {k}, {stride}, {pad}{})",
                no_bias(bias)
            ),
            Block::BatchNorm if flat => format!("BatchNorm1d({in_ch})"),
            Block::BatchNorm => format!("BatchNorm2d({in_ch})"),
            Block::Act(a) => activation(a),
            Block::Unflatten { c, h, w } => format!("Unflatten(1, ({c}, {h}, {w}))"),
            Block::Flatten => "Flatten()".to_string(),
        });
    }
    Ok(parts.join(", "))
}
