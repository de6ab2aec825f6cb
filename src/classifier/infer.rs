//! The classifier on the GPU for many images: class probabilities and the last hidden layer's
//! features, a chunk of rows at a time through one plan built once (as `gan::generate`).

use super::Classifier;
use crate::gpu::Gpu;
use crate::graph::gpu::GpuPlan;
use crate::graph::network::Network;
use crate::graph::{Graph, TensorId, View};
use crate::kernels::Dispatch;

/// Rows per dispatch list: the MLP's, and the convolutional network's, whose im2col scratch
/// for 4,096 rows of 28 x 28 (196 MiB) would pass lavapipe's 128 MiB storage buffers.
pub const CHUNK: usize = 4096;
pub const CONV_CHUNK: usize = 512;

/// What the classifier says about `n` images.
pub struct Classified {
    pub classes: usize,
    /// Softmax probabilities, row-major [n, classes].
    pub probs: Vec<f32>,
    /// Width of a feature row.
    pub feature_dim: usize,
    /// The last hidden layer's output, row-major [n, feature_dim].
    pub features: Vec<f32>,
}

impl Classified {
    /// The most probable class of each row (the first on ties).
    pub fn predicted(&self) -> Vec<usize> {
        self.probs
            .chunks_exact(self.classes)
            .map(|p| {
                let mut best = 0;
                for (c, &v) in p.iter().enumerate() {
                    if v > p[best] {
                        best = c;
                    }
                }
                best
            })
            .collect()
    }
}

pub struct ClassifierGpu<'g> {
    gpu: &'g Gpu,
    plan: GpuPlan,
    x: TensorId,
    net: Network,
    chunk: usize,
    full: Vec<Dispatch>,
    classes: usize,
    input: usize,
    feature_dim: usize,
    /// The logits and the features (what the last layer reads) in the plan's tensors.
    logits: View,
    features: View,
}

impl<'g> ClassifierGpu<'g> {
    pub fn new(gpu: &'g Gpu, c: &Classifier) -> anyhow::Result<Self> {
        let (input, feature_dim) = (c.spec.input_len(), c.spec.feature_len()?);
        anyhow::ensure!(
            c.spec.layer_widths()?.len() >= 2 && feature_dim > 0,
            "the classifier needs a hidden layer for its features"
        );
        let chunk = match c.spec {
            crate::graph::network::NetworkSpec::Mlp(_) => CHUNK,
            crate::graph::network::NetworkSpec::Conv(_) => CONV_CHUNK,
        };
        let mut g = Graph::default();
        let x = g.f32("x", chunk * input);
        let net = c.spec.tensors(&mut g, "c", &c.params, &[], chunk)?;
        let plan = GpuPlan::new(gpu, &g)?;
        let full = plan.compile_few_runs(gpu, &net.forward(x.into(), chunk, None, false))?;
        let (logits, features) = (net.output_view(None), net.features(x.into()));
        Ok(ClassifierGpu {
            gpu,
            plan,
            x,
            net,
            chunk,
            full,
            classes: c.classes,
            input,
            feature_dim,
            logits,
            features,
        })
    }

    /// Probabilities and features of every row of `x` (row-major [n, input]).
    pub fn classify(&self, x: &[f32]) -> anyhow::Result<Classified> {
        let (input, feature_dim) = (self.input, self.feature_dim);
        let mut out = Classified {
            classes: self.classes,
            probs: Vec::with_capacity(x.len() / input * self.classes),
            feature_dim,
            features: Vec::with_capacity(x.len() / input * feature_dim),
        };
        for chunk in x.chunks(self.chunk * input) {
            let rows = chunk.len() / input;
            let tail;
            let dispatches = if rows == self.chunk {
                &self.full
            } else {
                tail = self.plan.compile_few_runs(
                    self.gpu,
                    &self.net.forward(self.x.into(), rows, None, false),
                )?;
                &tail
            };
            self.plan.write_f32(self.gpu, self.x, chunk);
            self.plan.run(self.gpu, &[dispatches], 1)?;
            let logits = self.plan.read_f32(self.gpu, self.logits.t)?;
            let feats = self.plan.read_f32(self.gpu, self.features.t)?;
            let f0 = self.features.off;
            out.features
                .extend_from_slice(&feats[f0..f0 + rows * feature_dim]);
            let l0 = self.logits.off;
            for row in logits[l0..l0 + rows * self.classes].chunks_exact(self.classes) {
                let m = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                let s: f32 = row.iter().map(|v| (v - m).exp()).sum();
                out.probs.extend(row.iter().map(|v| (v - m).exp() / s));
            }
        }
        Ok(out)
    }
}
