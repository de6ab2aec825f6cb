//! A multilayer perceptron as a list of `Linear(out) + activation` layers, its flat parameter
//! layout (PyTorch's: each layer's weight [out, in] then its bias [out]) and the ops of its
//! forward pass and of its backward pass, which visits the layers in exactly the reverse order.

use super::projection::Projection;
use super::{Epilogue, Graph, Op, TensorId, View};
use crate::ops::{Activation, Variant};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Layer {
    pub out: usize,
    pub act: Activation,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NetSpec {
    pub input: usize,
    pub layers: Vec<Layer>,
}

/// Where one layer's parameters sit in the flat buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerParams {
    pub inp: usize,
    pub out: usize,
    pub w_off: usize,
    pub b_off: usize,
}

impl NetSpec {
    pub fn output(&self) -> usize {
        self.layers.last().map(|l| l.out).unwrap_or(self.input)
    }

    pub fn layout(&self) -> Vec<LayerParams> {
        let mut off = 0;
        let mut inp = self.input;
        self.layers
            .iter()
            .map(|l| {
                let p = LayerParams {
                    inp,
                    out: l.out,
                    w_off: off,
                    b_off: off + l.out * inp,
                };
                off += l.out * inp + l.out;
                inp = l.out;
                p
            })
            .collect()
    }

    pub fn param_count(&self) -> usize {
        self.layout().last().map(|p| p.b_off + p.out).unwrap_or(0)
    }

    /// PyTorch's default for nn.Linear: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)), drawn from
    /// `uniform` (values in (0, 1)) in parameter order.
    pub fn init(&self, mut uniform: impl FnMut() -> f32) -> Vec<f32> {
        let mut w = vec![0.0; self.param_count()];
        for p in self.layout() {
            let bound = 1.0 / (p.inp as f32).sqrt();
            for v in &mut w[p.w_off..p.b_off + p.out] {
                *v = bound * (2.0 * uniform() - 1.0);
            }
        }
        w
    }
}

/// The tensors one network owns: flat params, grads and Adam moments, and per-layer workspaces
/// sized for `rows` rows.
#[derive(Clone, Debug)]
pub struct NetTensors {
    pub spec: NetSpec,
    pub params: TensorId,
    pub grads: TensorId,
    pub adam_m: TensorId,
    pub adam_v: TensorId,
    /// Output of each layer (after its activation).
    pub ys: Vec<TensorId>,
    /// Gradient with respect to each layer's pre-activation. The layer above writes it with the
    /// activation's backward fused into its input-gradient product; the last layer's is the
    /// loss's gradient run through the activation's backward (unused when that is the identity:
    /// the loss's gradient serves).
    pub dzs: Vec<TensorId>,
    pub rows: usize,
}

impl NetTensors {
    pub fn new(g: &mut Graph, name: &str, spec: &NetSpec, init: &[f32], rows: usize) -> Self {
        Self::with_trailing(g, name, spec, init, rows, 0)
    }

    /// [`Self::new`] with `trailing` more parameters after the network's own in the flat
    /// buffers (a conditional run's class embeddings), stepped by the same Adam dispatch; the
    /// layers never read them.
    pub fn with_trailing(
        g: &mut Graph,
        name: &str,
        spec: &NetSpec,
        init: &[f32],
        rows: usize,
        trailing: usize,
    ) -> Self {
        let n = spec.param_count() + trailing;
        assert_eq!(
            init.len(),
            n,
            "{name}: initial parameters have the wrong length"
        );
        let per_layer = |g: &mut Graph, what: &str| -> Vec<TensorId> {
            spec.layers
                .iter()
                .enumerate()
                .map(|(i, l)| g.f32(&format!("{name}.{what}{i}"), rows * l.out))
                .collect()
        };
        NetTensors {
            spec: spec.clone(),
            params: g.f32_from(&format!("{name}.params"), init),
            grads: g.f32(&format!("{name}.grads"), n),
            adam_m: g.f32(&format!("{name}.adam_m"), n),
            adam_v: g.f32(&format!("{name}.adam_v"), n),
            ys: per_layer(g, "y"),
            dzs: per_layer(g, "dz"),
            rows,
        }
    }

    /// The same parameters with a workspace of its own for `rows` rows (evaluation, pictures).
    pub fn with_workspace(&self, g: &mut Graph, name: &str, rows: usize) -> NetTensors {
        let per_layer = |g: &mut Graph, what: &str| -> Vec<TensorId> {
            self.spec
                .layers
                .iter()
                .enumerate()
                .map(|(i, l)| g.f32(&format!("{name}.{what}{i}"), rows * l.out))
                .collect()
        };
        NetTensors {
            ys: per_layer(g, "y"),
            dzs: Vec::new(),
            rows,
            ..self.clone()
        }
    }

    /// The same parameters, gradients and Adam moments with forward and backward workspaces of
    /// its own for `rows` rows: a second batch through the same network, e.g. an input gradient
    /// at points of one's choosing (`crate::theory`).
    pub fn with_train_workspace(&self, g: &mut Graph, name: &str, rows: usize) -> NetTensors {
        let dzs = self
            .spec
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| g.f32(&format!("{name}.dz{i}"), rows * l.out))
            .collect();
        NetTensors {
            dzs,
            ..self.with_workspace(g, name, rows)
        }
    }

    fn y(&self, l: usize, out: Option<View>) -> View {
        match out {
            Some(v) if l + 1 == self.spec.layers.len() => v,
            _ => self.ys[l].into(),
        }
    }

    fn x(&self, l: usize, input: View) -> View {
        if l == 0 {
            input
        } else {
            self.ys[l - 1].into()
        }
    }

    /// Forward over `rows` rows of `input`; the last layer writes to `out` if given (e.g. the
    /// generated half of D's input), else to its own workspace.
    pub fn forward(&self, input: View, rows: usize, out: Option<View>) -> Vec<Op> {
        assert!(
            rows <= self.rows || rows == 0,
            "forward over more rows than the workspace"
        );
        let params = self.params;
        self.spec
            .layout()
            .iter()
            .zip(&self.spec.layers)
            .enumerate()
            .map(|(l, (p, layer))| Op::Matmul {
                variant: Variant::ABt,
                a: self.x(l, input),
                b: View {
                    t: params,
                    off: p.w_off,
                },
                c: self.y(l, out),
                m: rows,
                k: p.inp,
                n: p.out,
                epi: Epilogue::Forward {
                    bias: Some(View {
                        t: params,
                        off: p.b_off,
                    }),
                    act: layer.act,
                },
            })
            .collect()
    }

    /// The last layer's output view (what `forward` wrote).
    pub fn output_view(&self, out: Option<View>) -> View {
        self.y(self.spec.layers.len() - 1, out)
    }

    /// What the last layer reads: phi(x), the features a projection discriminator's class term
    /// multiplies (the input itself when there is one layer).
    pub fn features(&self, input: View) -> View {
        self.x(self.spec.layers.len() - 1, input)
    }

    /// Backward from `dout` (gradient of the loss with respect to the last layer's output), in
    /// exactly the reverse order of `forward`. With `param_grads` the weight and bias gradients
    /// are written to `grads`; with `input_grad` the gradient with respect to the input is.
    /// Each hidden layer's activation backward is fused into the product that computes the
    /// gradient reaching it (`Epilogue::ActGrad`); only the last layer's is an op of its own.
    pub fn backward(
        &self,
        input: View,
        rows: usize,
        out: Option<View>,
        dout: TensorId,
        param_grads: bool,
        input_grad: Option<TensorId>,
    ) -> Vec<Op> {
        self.backward_with(input, rows, out, dout, param_grads, input_grad, None)
    }

    /// [`Self::backward`] of a network whose logit `dout` is the gradient of also carries a
    /// projection's class term: the term's share of the features' gradient is added right after
    /// the last layer's input gradient, before the activation below it (so that layer's product
    /// is not fused with it). The table's own gradient is the caller's
    /// ([`Projection::table_grad`]).
    #[allow(clippy::too_many_arguments)]
    pub fn backward_with(
        &self,
        input: View,
        rows: usize,
        out: Option<View>,
        dout: TensorId,
        param_grads: bool,
        input_grad: Option<TensorId>,
        proj: Option<&Projection>,
    ) -> Vec<Op> {
        let mut ops = Vec::new();
        let layout = self.spec.layout();
        let Some(last) = self.spec.layers.len().checked_sub(1) else {
            return ops;
        };
        let act = |l: usize| self.spec.layers[l].act;
        // dZ of the last layer: the loss's gradient through its activation.
        let mut dz = if act(last) == Activation::Identity {
            dout
        } else {
            ops.push(Op::ActBackward {
                act: act(last),
                y: self.y(last, out),
                dy: dout,
                out: self.dzs[last],
                n: rows * layout[last].out,
            });
            self.dzs[last]
        };
        for l in (0..=last).rev() {
            let p = layout[l];
            if param_grads {
                // dW[out, in] = dZ^T X, with dZ stored [rows, out].
                ops.push(Op::Matmul {
                    variant: Variant::AtB,
                    a: dz.into(),
                    b: self.x(l, input),
                    c: View {
                        t: self.grads,
                        off: p.w_off,
                    },
                    m: p.out,
                    k: rows,
                    n: p.inp,
                    epi: Epilogue::PLAIN,
                });
                ops.push(Op::BiasGrad {
                    dz,
                    db: View {
                        t: self.grads,
                        off: p.b_off,
                    },
                    rows,
                    cols: p.out,
                });
            }
            // dX[rows, in] = dZ W, with W stored [out, in]: into the input's gradient below the
            // first layer, else into the layer below's dZ, times its activation's derivative.
            let projecting = proj.filter(|_| l == last);
            let (dx, epi) = if l > 0 {
                let epi = match act(l - 1) {
                    _ if projecting.is_some() => Epilogue::PLAIN,
                    Activation::Identity => Epilogue::PLAIN,
                    a => Epilogue::ActGrad {
                        y: self.y(l - 1, out),
                        act: a,
                    },
                };
                (self.dzs[l - 1], epi)
            } else if let Some(dx) = input_grad {
                (dx, Epilogue::PLAIN)
            } else {
                break;
            };
            ops.push(Op::Matmul {
                variant: Variant::AB,
                a: dz.into(),
                b: View {
                    t: self.params,
                    off: p.w_off,
                },
                c: dx.into(),
                m: rows,
                k: p.out,
                n: p.inp,
                epi,
            });
            if let Some(pr) = projecting {
                let (below, h) = match l {
                    0 => (Activation::Identity, input),
                    _ => (act(l - 1), self.y(l - 1, out)),
                };
                ops.push(pr.input_grad(below, h, dout.into(), dx.into(), rows));
            }
            dz = dx;
        }
        ops
    }
}
