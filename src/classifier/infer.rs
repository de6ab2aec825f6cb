//! The classifier on the GPU for many images: class probabilities and the last hidden layer's
//! features, a chunk of rows at a time through one plan built once (as `gan::generate`).

use super::Classifier;
use crate::gpu::Gpu;
use crate::graph::gpu::GpuPlan;
use crate::graph::net::NetTensors;
use crate::graph::{Graph, TensorId};
use crate::kernels::Dispatch;

/// Rows per dispatch list.
pub const CHUNK: usize = 4096;

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
    net: NetTensors,
    full: Vec<Dispatch>,
    classes: usize,
}

impl<'g> ClassifierGpu<'g> {
    pub fn new(gpu: &'g Gpu, c: &Classifier) -> anyhow::Result<Self> {
        anyhow::ensure!(
            c.spec.layers.len() >= 2,
            "the classifier needs a hidden layer for its features"
        );
        let mut g = Graph::default();
        let x = g.f32("x", CHUNK * c.spec.input);
        let net = NetTensors::new(&mut g, "c", &c.spec, &c.params, CHUNK);
        let plan = GpuPlan::new(gpu, &g)?;
        let full = plan.compile(gpu, &net.forward(x.into(), CHUNK, None))?;
        Ok(ClassifierGpu {
            gpu,
            plan,
            x,
            net,
            full,
            classes: c.classes,
        })
    }

    /// Probabilities and features of every row of `x` (row-major [n, input]).
    pub fn classify(&self, x: &[f32]) -> anyhow::Result<Classified> {
        let input = self.net.spec.input;
        let layers = self.net.spec.layers.len();
        let feature_dim = self.net.spec.layers[layers - 2].out;
        let mut out = Classified {
            classes: self.classes,
            probs: Vec::with_capacity(x.len() / input * self.classes),
            feature_dim,
            features: Vec::with_capacity(x.len() / input * feature_dim),
        };
        for chunk in x.chunks(CHUNK * input) {
            let rows = chunk.len() / input;
            let tail;
            let dispatches = if rows == CHUNK {
                &self.full
            } else {
                tail = self
                    .plan
                    .compile(self.gpu, &self.net.forward(self.x.into(), rows, None))?;
                &tail
            };
            self.plan.write_f32(self.gpu, self.x, chunk);
            self.plan.run(self.gpu, &[dispatches], 1)?;
            let logits = self.plan.read_f32(self.gpu, self.net.ys[layers - 1])?;
            let feats = self.plan.read_f32(self.gpu, self.net.ys[layers - 2])?;
            out.features.extend_from_slice(&feats[..rows * feature_dim]);
            for row in logits[..rows * self.classes].chunks_exact(self.classes) {
                let m = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                let s: f32 = row.iter().map(|v| (v - m).exp()).sum();
                out.probs.extend(row.iter().map(|v| (v - m).exp() / s));
            }
        }
        Ok(out)
    }
}
