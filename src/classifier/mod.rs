//! The evaluation classifier, trained on a labelled image set entirely on the GPU by the same
//! executor and kernels as the GANs (convolutions or matmuls, ReLU, softmax cross-entropy, Adam),
//! so image runs can be measured without a downloaded network (see `crate::quality`). Grayscale
//! images of at least 28 x 28 get a small convolutional network, as any MNIST classifier worth
//! trusting is (two conv blocks and a linear head: 98-99% held-out on MNIST, where an MLP stops
//! near 92% on 10,000 images); smaller or colour images an MLP.
//!
//! ```text
//! split the labelled images once (seeded): 80% train, 20% held-out test
//! repeat `iterations` times:                     (one op list, recorded once, replayed)
//!     i ~ U{0..n_train} (batch rows);  x = images[i];  y = labels[i]
//!     logits = MLP(x);  L = mean_r -log softmax(logits_r)[y_r]
//!     backprop;  Adam step
//! test accuracy = share of test images whose argmax class is their label
//! ```

pub mod file;
pub mod infer;

pub use file::{cached_or_train, load, save};
pub use infer::ClassifierGpu;

use crate::data::{Dataset, LabeledImages};
use crate::gpu::Gpu;
use crate::graph::convnet::{Block, ConvNetSpec};
use crate::graph::gpu::GpuPlan;
use crate::graph::net::{Layer, NetSpec};
use crate::graph::network::{Network, NetworkSpec};
use crate::graph::{Graph, Op, RngSource, TensorId};
use crate::noise::{Noise, PhiloxNoise};
use crate::ops::{Activation, AdamConfig, XentSpec};

/// Philox streams of the classifier's random numbers (distinct from the GAN's).
mod streams {
    pub const SPLIT: u32 = 0x800;
    pub const INIT: u32 = 0x801;
    pub const INDEX: u32 = 0x802;
}

/// State slots: iteration counter (addresses the minibatch indices), Adam step count.
const SLOT_ITERATION: usize = 0;
const SLOT_STEP: usize = 2;
/// Metrics: summed loss and accuracy of the minibatches since the last read.
const M_LOSS: usize = 0;

/// How a classifier is trained.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassifierConfig {
    /// The labelled data set (for stacked sets, the base set whose channels they stack).
    pub dataset: String,
    pub seed: u64,
    /// Widths of the MLP's ReLU hidden layers; the last one is the feature layer of the Fréchet
    /// distance (the convolutional network's is its 128-wide hidden Linear layer).
    pub hidden: Vec<usize>,
    /// Adam steps; `None`: the architecture's default ([`ClassifierConfig::iterations_for`]).
    pub iterations: Option<u64>,
    pub batch: usize,
    /// Adam's learning rate; `None`: the architecture's default ([`ClassifierConfig::lr_for`]).
    pub lr: Option<f32>,
    /// Share of the images held out for the test accuracy.
    pub test_share: f32,
}

impl ClassifierConfig {
    /// Defaults that reach about 97% test accuracy on the embedded digits in a few seconds.
    pub fn new(dataset: &str, seed: u64) -> ClassifierConfig {
        ClassifierConfig {
            dataset: dataset.to_string(),
            seed,
            hidden: vec![256, 128],
            iterations: None,
            batch: 64,
            lr: None,
            test_share: 0.2,
        }
    }

    /// The network for images of `image` = (channels, height, width): the convolutional one for
    /// grayscale images of at least 28 x 28 with sides a multiple of 4, the MLP otherwise.
    pub fn spec(&self, image: [usize; 3], classes: usize) -> NetworkSpec {
        let [c, h, w] = image;
        if c == 1 && h >= 28 && w >= 28 && h % 4 == 0 && w % 4 == 0 {
            return conv_spec(image, classes);
        }
        let mut layers: Vec<Layer> = self
            .hidden
            .iter()
            .map(|&out| Layer {
                out,
                act: Activation::Relu,
            })
            .collect();
        layers.push(Layer {
            out: classes,
            act: Activation::Identity,
        });
        NetworkSpec::Mlp(NetSpec {
            input: c * h * w,
            layers,
        })
    }

    /// Adam steps for `spec`: the config's, or [`MLP_ITERATIONS`] / [`CONV_ITERATIONS`].
    pub fn iterations_for(&self, spec: &NetworkSpec) -> u64 {
        self.iterations.unwrap_or(match spec {
            NetworkSpec::Mlp(_) => MLP_ITERATIONS,
            NetworkSpec::Conv(_) => CONV_ITERATIONS,
        })
    }

    /// Adam's learning rate for `spec`: the config's, or [`MLP_LR`] / [`CONV_LR`].
    pub fn lr_for(&self, spec: &NetworkSpec) -> f32 {
        self.lr.unwrap_or(match spec {
            NetworkSpec::Mlp(_) => MLP_LR,
            NetworkSpec::Conv(_) => CONV_LR,
        })
    }

    /// What decides the weights besides the data set and seed, as the cache compares it: a
    /// cached classifier trained with another recipe is trained again.
    pub fn recipe(&self, spec: &NetworkSpec) -> String {
        let shifts = if matches!(spec, NetworkSpec::Conv(_)) {
            SHIFTS.len()
        } else {
            0
        };
        format!(
            "steps={},lr={},batch={},shifts={shifts},test_share={}",
            self.iterations_for(spec),
            self.lr_for(spec),
            self.batch,
            self.test_share
        )
    }
}

/// Adam steps and learning rate of the MLP: about 97% on the embedded digits in a few seconds.
pub const MLP_ITERATIONS: u64 = 500;
pub const MLP_LR: f32 = 1e-3;
/// Adam steps and learning rate of the convolutional classifier (batch 64: about 5 epochs of
/// mnist10k's 8,000 training images and their four one-pixel shifts, [`with_shifts`]). Measured
/// on mnist10k's 80/20 split, lavapipe, seed 1: without the shifts 1,500 steps at 1e-3 held out
/// 97.35% and 3,000 at 2e-3 97.85%; with them 3,000 at 2e-3 held out 98.35%, 98.65% and 98.45%
/// (seeds 1-3; about 60 s each alone, 150 s beside two training runs): what a small
/// convolutional network is expected to reach on MNIST.
pub const CONV_ITERATIONS: u64 = 3000;
pub const CONV_LR: f32 = 2e-3;

/// Width of the convolutional classifier's hidden Linear layer: its features.
pub const CONV_FEATURES: usize = 128;

/// The convolutional classifier, as PyTorch would write it for (1, h, w) images:
/// Conv2d(1, 16, 4, 2, 1), ReLU, Conv2d(16, 32, 4, 2, 1), ReLU, Flatten,
/// Linear(32 h/4 w/4, 128), ReLU, Linear(128, classes). Stride-2 convolutions as in DCGAN's D
/// (Radford et al. 2015), so it runs on the same kernels.
pub fn conv_spec(image: [usize; 3], classes: usize) -> NetworkSpec {
    let conv = |out_ch| Block::Conv2d {
        out_ch,
        k: 4,
        stride: 2,
        pad: 1,
        bias: true,
    };
    NetworkSpec::Conv(ConvNetSpec {
        input: image,
        blocks: vec![
            conv(16),
            Block::Act(Activation::Relu),
            conv(32),
            Block::Act(Activation::Relu),
            Block::Flatten,
            Block::Linear {
                out: CONV_FEATURES,
                bias: true,
            },
            Block::Act(Activation::Relu),
            Block::Linear {
                out: classes,
                bias: true,
            },
        ],
    })
}

/// PyTorch's default initialisation of nn.Linear and nn.Conv2d (kaiming_uniform with a = sqrt(5),
/// i.e. weights and biases from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in x kh x kw), from
/// `uniform` in [0, 1). The GANs' DCGAN init, N(0, 0.02), left the convolutional classifier at
/// 97.2% on mnist10k after 1,500 steps (97.7% after 3,000); this one is what a PyTorch user's
/// classifier starts from.
pub fn torch_default_init(
    spec: &NetworkSpec,
    mut uniform: impl FnMut() -> f32,
) -> anyhow::Result<Vec<f32>> {
    let mut params = vec![0.0f32; spec.param_count()?];
    let mut fan_in = 1;
    for e in crate::graph::state_dict::entries(spec)? {
        let crate::graph::state_dict::Source::Params(r) = e.source else {
            anyhow::bail!("a classifier has parameters only (no batch norms)");
        };
        if e.name.ends_with(".weight") {
            fan_in = e.shape[1..].iter().product::<usize>().max(1);
        }
        let bound = 1.0 / (fan_in as f32).sqrt();
        for p in &mut params[r] {
            *p = (2.0 * uniform() - 1.0) * bound;
        }
    }
    Ok(params)
}

/// A trained classifier: architecture, weights and what it was trained on.
#[derive(Clone, Debug)]
pub struct Classifier {
    pub spec: NetworkSpec,
    pub params: Vec<f32>,
    pub classes: usize,
    /// The labelled data set's spec and the seed: the cache key.
    pub dataset: String,
    pub seed: u64,
    /// Share of the held-out test images classified right.
    pub test_accuracy: f32,
    /// Width, height of the images it takes (channels: the spec's input / (width * height)).
    pub image: [usize; 2],
    /// How it was trained ([`ClassifierConfig::recipe`]; empty in files written before it).
    pub recipe: String,
}

/// The seeded train/test split of `n` images: (train indices, test indices).
pub fn split(n: usize, seed: u64, test_share: f32) -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..n).collect();
    let mut noise = PhiloxNoise::new(seed, streams::SPLIT);
    // Fisher-Yates.
    for i in (1..n).rev() {
        let j = ((noise.uniform() * (i + 1) as f32) as usize).min(i);
        idx.swap(i, j);
    }
    let test = ((n as f32 * test_share).round() as usize).min(n.saturating_sub(1));
    let train = idx.split_off(test);
    (train, idx)
}

/// Rows `idx` of a row-major `[.., dim]` array.
pub fn rows(data: &[f32], dim: usize, idx: &[usize]) -> Vec<f32> {
    idx.iter()
        .flat_map(|&i| data[i * dim..(i + 1) * dim].iter().copied())
        .collect()
}

/// The labelled images of `cfg.dataset`, split; (data set, train indices, test indices).
pub fn load_split(
    cfg: &ClassifierConfig,
    max_bytes: u64,
) -> anyhow::Result<(LabeledImages, Vec<usize>, Vec<usize>)> {
    let set = Dataset::parse(&cfg.dataset)?.load_labeled(max_bytes)?;
    let (train, test) = split(set.images.len(), cfg.seed, cfg.test_share);
    anyhow::ensure!(
        !train.is_empty() && !test.is_empty(),
        "{}: {} images are too few to hold out a test split",
        cfg.dataset,
        set.images.len()
    );
    Ok((set, train, test))
}

/// The tensors and the op list of one training step, for either executor.
pub struct ClassifierGraph {
    pub graph: Graph,
    pub net: Network,
    /// Summed [loss, accuracy] of the minibatches since it was last zeroed.
    pub metrics: TensorId,
    /// One step: minibatch, forward, loss, backward, Adam.
    pub step: Vec<Op>,
}

impl ClassifierGraph {
    /// The step over `images` (row-major [n, dim]) with f32 class `labels`, starting from the
    /// weights `init` of `spec`.
    pub fn build(
        cfg: &ClassifierConfig,
        spec: &NetworkSpec,
        init: &[f32],
        images: &[f32],
        labels: &[f32],
    ) -> anyhow::Result<ClassifierGraph> {
        let (m, n, dim, classes) = (
            cfg.batch,
            labels.len(),
            spec.input_len(),
            spec.output_len()?,
        );
        anyhow::ensure!(images.len() == n * dim, "images and labels disagree");
        let mut g = Graph::default();
        let state = g.u32_from("state", &[0; 4]);
        let metrics = g.f32("metrics", 2);
        let data = g.f32_from("train_images", images);
        let labels = g.f32_from("train_labels", labels);
        let idx = g.u32_from("minibatch_index", &vec![0; m]);
        let x = g.f32("x", m * dim);
        let y = g.f32("y", m);
        let logp = g.f32("logp", m * classes);
        let dlogits = g.f32("logit_grad", m * classes);
        let net = spec.tensors(&mut g, "c", init, &[], m)?;
        let out = net.output_view(None);
        anyhow::ensure!(out.off == 0, "the classifier's logits start their tensor");
        let logits = out.t;
        let xent = XentSpec {
            rows: m,
            classes,
            scale: 1.0,
            metrics_off: M_LOSS,
            accumulate: true,
        };
        let mut step = vec![
            Op::RngIndex {
                src: RngSource {
                    seed: cfg.seed,
                    stream: streams::INDEX,
                    state,
                    state_slot: SLOT_ITERATION,
                },
                out: idx.into(),
                n: m,
                n_rows: n,
            },
            Op::Gather {
                packed_u8: false,
                data,
                idx,
                out: x.into(),
                rows: m,
                cols: dim,
                data_rows: n,
            },
            Op::Gather {
                packed_u8: false,
                data: labels,
                idx,
                out: y.into(),
                rows: m,
                cols: 1,
                data_rows: n,
            },
        ];
        step.extend(net.forward(x.into(), m, None, true));
        step.push(Op::SoftmaxXent {
            spec: xent,
            x: logits,
            labels: y,
            logp,
            metrics,
        });
        step.push(Op::SoftmaxXentBackward {
            spec: xent,
            logp,
            labels: y,
            grad: dlogits,
        });
        step.extend(net.backward(x.into(), m, None, dlogits, true, None));
        step.push(Op::Tick {
            state,
            slot: SLOT_STEP,
        });
        step.push(Op::Adam {
            cfg: AdamConfig {
                lr: cfg.lr_for(spec),
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                decay_steps: cfg.iterations_for(spec) as u32,
                final_frac: 0.1,
            },
            state,
            step_slot: SLOT_STEP,
            w: net.params(),
            grad: net.grads(),
            m: net.adam_m(),
            v: net.adam_v(),
            n: spec.param_count()?,
        });
        step.push(Op::Tick {
            state,
            slot: SLOT_ITERATION,
        });
        Ok(ClassifierGraph {
            graph: g,
            net,
            metrics,
            step,
        })
    }
}

/// One-pixel shifts (down, up, right, left) the convolutional classifier also trains on.
pub const SHIFTS: [(isize, isize); 4] = [(1, 0), (-1, 0), (0, 1), (0, -1)];

/// `images` (row-major [n, w h], one channel) followed by as many of their [`SHIFTS`] as keep
/// the whole within `max_bytes` of f32 values, the edge each shift uncovers filled with the
/// image's darkest value; `labels` repeated to match. The convolutional classifier has no
/// pooling, so shifted copies are how it learns that a digit one pixel over is the same digit
/// (augmentation by small translations: LeCun et al. 1998, section III.C; Simard et al. 2003).
pub fn with_shifts(
    images: &[f32],
    labels: &[f32],
    [w, h]: [usize; 2],
    max_bytes: u64,
) -> (Vec<f32>, Vec<f32>) {
    let per_copy = (images.len() * 4) as u64;
    let copies = SHIFTS
        .len()
        .min((max_bytes / per_copy.max(1)).saturating_sub(1) as usize);
    let mut out = Vec::with_capacity(images.len() * (1 + copies));
    out.extend_from_slice(images);
    for &(dy, dx) in &SHIFTS[..copies] {
        for img in images.chunks_exact(w * h) {
            let dark = img.iter().copied().fold(f32::INFINITY, f32::min);
            for y in 0..h as isize {
                for x in 0..w as isize {
                    let (sy, sx) = (y - dy, x - dx);
                    let inside = (0..h as isize).contains(&sy) && (0..w as isize).contains(&sx);
                    out.push(if inside {
                        img[sy as usize * w + sx as usize]
                    } else {
                        dark
                    });
                }
            }
        }
    }
    (out, labels.repeat(1 + copies))
}

/// Trains on the GPU, then measures the held-out accuracy. `progress` sees (iteration, mean
/// loss, mean minibatch accuracy) every `log_every` iterations.
pub fn train(
    gpu: &Gpu,
    cfg: &ClassifierConfig,
    mut progress: impl FnMut(u64, f32, f32),
) -> anyhow::Result<Classifier> {
    let (set, train_idx, test_idx) = load_split(cfg, gpu.max_storage_bytes())?;
    let dim = set.images.dim();
    let im = &set.images;
    let spec = cfg.spec([im.channels, im.height, im.width], set.classes);
    let iterations = cfg.iterations_for(&spec);
    let mut noise = PhiloxNoise::new(cfg.seed, streams::INIT);
    let init = torch_default_init(&spec, || noise.uniform())?;
    let mut labels: Vec<f32> = train_idx.iter().map(|&i| set.labels[i] as f32).collect();
    let mut images = rows(&set.images.pixels, dim, &train_idx);
    if matches!(spec, NetworkSpec::Conv(_)) {
        let side = [set.images.width, set.images.height];
        (images, labels) = with_shifts(&images, &labels, side, gpu.max_storage_bytes());
    }
    let cg = ClassifierGraph::build(cfg, &spec, &init, &images, &labels)?;
    let (net, metrics) = (&cg.net, cg.metrics);
    let plan = GpuPlan::new(gpu, &cg.graph)?;
    let step = plan.compile(gpu, &cg.step)?;
    let log_every = 100u64;
    let mut done = 0u64;
    while done < iterations {
        let k = log_every.min(iterations - done);
        plan.run(gpu, &[&step], k as usize)?;
        done += k;
        let sums = plan.read_f32(gpu, metrics)?;
        plan.write_f32(gpu, metrics, &[0.0, 0.0]);
        progress(done, sums[0] / k as f32, sums[1] / k as f32);
    }
    let params = plan.read_f32(gpu, net.params())?;
    anyhow::ensure!(
        params.iter().all(|v| v.is_finite()),
        "classifier training diverged (a weight is not finite); try a lower learning rate"
    );
    let recipe = cfg.recipe(&spec);
    let mut c = Classifier {
        spec,
        params,
        classes: set.classes,
        dataset: cfg.dataset.clone(),
        seed: cfg.seed,
        test_accuracy: 0.0,
        image: [set.images.width, set.images.height],
        recipe,
    };
    let test_x = rows(&set.images.pixels, dim, &test_idx);
    let out = ClassifierGpu::new(gpu, &c)?.classify(&test_x)?;
    let right = test_idx
        .iter()
        .zip(out.predicted())
        .filter(|(&i, p)| set.labels[i] as usize == *p)
        .count();
    c.test_accuracy = right as f32 / test_idx.len() as f32;
    Ok(c)
}
