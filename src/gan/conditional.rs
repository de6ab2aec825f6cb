//! Conditional generation, "draw me a 7" (`conditional` runs).
//!
//! ```text
//! G(z, y) = G_net(cat(E_G[y], z))            E_G: nn.Embedding(classes, classes), as PyTorch-GAN's
//!                                            cgan (Mirza and Osindero 2014), whose generator
//!                                            starts torch.cat((self.label_emb(labels), noise), -1)
//! D(x, y) = psi(phi(x)) + E_D[y]^T phi(x)    the projection discriminator (Miyato and Koyama
//!                                            2018, eq. 3): phi(x) what D's last Linear layer psi
//!                                            reads, E_D: nn.Embedding(classes, width of phi)
//! ```
//!
//! Real rows carry their own labels (gathered with the indices that picked their images);
//! generated rows get labels drawn uniformly on the GPU from their own Philox streams. Each
//! table sits after its network's own parameters in the flat buffers (one Adam dispatch per
//! network, as before), and checkpoints store them as `g_label_emb.weight`,
//! `d_label_emb.weight` (and `g_ema_label_emb.weight`): the state_dicts of the nn.Embedding
//! modules beside the `g`, `d` and `g_ema` nn.Sequential ones.
//!
//! The projection rather than cgan's concatenation of the label with D's input: Miyato and
//! Koyama compare the two (their figure 1 (b) against (d)) and the projection wins on every
//! measure they report (CIFAR-10, CIFAR-100, ImageNet); it needs no extra input channels for a
//! convolutional D, so the MLP and the DCGAN D take the same term.

use super::config::TrainConfig;
use super::state::streams;
use crate::graph::network::{Network, NetworkSpec};
use crate::graph::projection::Projection;
use crate::graph::{Graph, Op, RngSource, TensorId, View};
use crate::noise::{Noise, PhiloxNoise};
use crate::ops::EmbedSpec;

/// The class embeddings of a conditional run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conditioning {
    pub classes: usize,
    /// Values of G's embedding (cgan's choice: as many as there are classes).
    pub g_dim: usize,
    /// Values of D's embedding: the width of phi(x).
    pub d_dim: usize,
}

impl Conditioning {
    pub fn g_table_len(&self) -> usize {
        self.classes * self.g_dim
    }

    pub fn d_table_len(&self) -> usize {
        self.classes * self.d_dim
    }

    /// Fresh tables: G's N(0, 1), nn.Embedding's own initialisation (which cgan keeps); D's
    /// Xavier-uniform, U(-b, b) with b = sqrt(6 / (classes + d_dim)), as the PyTorch ports of
    /// the projection discriminator initialise their `l_y` (torch.nn.init.xavier_uniform_).
    /// Each from its own Philox stream, so the networks' own weights are those of a
    /// non-conditional run with the same seed and shapes.
    pub fn init_tables(&self, seed: u64) -> (Vec<f32>, Vec<f32>) {
        let mut g = PhiloxNoise::new(seed, streams::G_LABEL_INIT);
        let g_table = (0..self.g_table_len()).map(|_| g.normal()).collect();
        let mut d = PhiloxNoise::new(seed, streams::D_LABEL_INIT);
        let b = (6.0 / (self.classes + self.d_dim) as f32).sqrt();
        let d_table = (0..self.d_table_len())
            .map(|_| b * (2.0 * d.uniform() - 1.0))
            .collect();
        (g_table, d_table)
    }
}

impl TrainConfig {
    /// Values before z in G's input rows: the label embedding's width (0 for unconditional runs).
    pub fn g_label_dim(&self) -> usize {
        if self.conditional {
            self.classes
        } else {
            0
        }
    }

    /// The class embeddings of a conditional run on rows of `data_dim` values (None for an
    /// unconditional one); an error while the class count is not known yet.
    pub fn conditioning(&self, data_dim: usize) -> anyhow::Result<Option<Conditioning>> {
        if !self.conditional {
            return Ok(None);
        }
        self.conditioning_of(&self.d_network(data_dim)?)
    }

    /// [`Self::conditioning`] for the discriminator `d` this configuration built.
    pub fn conditioning_of(&self, d: &NetworkSpec) -> anyhow::Result<Option<Conditioning>> {
        if !self.conditional {
            return Ok(None);
        }
        anyhow::ensure!(
            self.classes >= 2,
            "a conditional run's networks need its class count, which comes from the data set's \
             labels (none set yet)"
        );
        anyhow::ensure!(
            d.output_len()? == 1,
            "a projection discriminator needs one logit per row"
        );
        Ok(Some(Conditioning {
            classes: self.classes,
            g_dim: self.classes,
            d_dim: d.feature_len()?,
        }))
    }

    /// G's and D's flat parameter lengths: each network's own, then its class embedding.
    pub fn param_lens(&self, data_dim: usize) -> anyhow::Result<(usize, usize)> {
        let (g, d) = (self.g_network(data_dim)?, self.d_network(data_dim)?);
        let c = self.conditioning(data_dim)?;
        Ok((
            g.param_count()? + c.map_or(0, |c| c.g_table_len()),
            d.param_count()? + c.map_or(0, |c| c.d_table_len()),
        ))
    }
}

/// The labels of `n` samples drawn for pictures and evaluation: `per_class` of class 0, then of
/// class 1, ... (one row of a picture per class), cycling through the classes past the last.
pub fn rows_per_class(n: usize, per_class: usize, classes: usize) -> Vec<u32> {
    (0..n)
        .map(|i| ((i / per_class.max(1)) % classes.max(1)) as u32)
        .collect()
}

/// A conditional run's tensors in the GAN's graph and the ops that read them.
pub struct CondGraph {
    pub c: Conditioning,
    /// The data set's labels (u32, one per image), on the device beside the images.
    pub data_labels: TensorId,
    pub data_rows: usize,
    /// The labels of D's input rows (u32, [real; generated]); G reads the generated half.
    pub labels: TensorId,
    /// G's input cat(E_G[y], z), [m, g_dim + z_dim], and its gradient.
    pub g_in: TensorId,
    pub dg_in: TensorId,
    /// The tables, after each network's own parameters, and their gradients.
    pub g_table: View,
    pub g_dtable: View,
    pub d_table: View,
    pub d_dtable: View,
    pub m: usize,
    pub z_dim: usize,
}

impl CondGraph {
    /// The tensors for batches of `m` (G's and D's parameter tensors already hold the tables
    /// after `g_own` and `d_own` values of their own).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        gr: &mut Graph,
        c: Conditioning,
        data_labels: &[u32],
        m: usize,
        z_dim: usize,
        g: &Network,
        g_own: usize,
        d: &Network,
        d_own: usize,
    ) -> anyhow::Result<CondGraph> {
        anyhow::ensure!(
            !data_labels.is_empty(),
            "a conditional run needs the data set's labels"
        );
        if let Some(&bad) = data_labels.iter().find(|&&l| l as usize >= c.classes) {
            anyhow::bail!("label {bad} is outside the run's {} classes", c.classes);
        }
        let w = c.g_dim + z_dim;
        let at = |t, off| View { t, off };
        Ok(CondGraph {
            data_labels: gr.u32_from("data_labels", data_labels),
            data_rows: data_labels.len(),
            labels: gr.u32_from("d_labels", &vec![0; 2 * m]),
            g_in: gr.f32("g_input", m * w),
            dg_in: gr.f32("g_input_grad", m * w),
            g_table: at(g.params(), g_own),
            g_dtable: at(g.grads(), g_own),
            d_table: at(d.params(), d_own),
            d_dtable: at(d.grads(), d_own),
            c,
            m,
            z_dim,
        })
    }

    /// The generated half of D's rows' labels.
    pub fn generated(&self) -> View {
        View {
            t: self.labels,
            off: self.m,
        }
    }

    /// The real rows' labels, picked by the images' indices `idx`.
    pub fn real_labels(&self, idx: TensorId) -> Op {
        Op::GatherU32 {
            data: self.data_labels,
            idx,
            out: self.labels.into(),
            rows: self.m,
            cols: 1,
            data_rows: self.data_rows,
        }
    }

    /// Uniform labels for the generated rows, from `src`.
    pub fn draw_labels(&self, src: RngSource) -> Op {
        Op::RngIndex {
            src,
            out: self.generated(),
            n: self.m,
            n_rows: self.c.classes,
        }
    }

    fn g_spec(&self, rows: usize) -> EmbedSpec {
        EmbedSpec {
            rows,
            classes: self.c.classes,
            dim: self.c.g_dim,
            z_dim: self.z_dim,
        }
    }

    /// G's input cat(E_G[y], z) for the generated rows' labels.
    pub fn g_input(&self, z: TensorId) -> Op {
        Op::EmbedConcat {
            spec: self.g_spec(self.m),
            table: self.g_table,
            labels: self.generated(),
            z: z.into(),
            out: self.g_in.into(),
        }
    }

    /// E_G's gradient from G's input gradient.
    pub fn g_table_grad(&self) -> Op {
        Op::EmbedBackward {
            spec: self.g_spec(self.m),
            dx: self.dg_in.into(),
            labels: self.generated(),
            dtable: self.g_dtable,
        }
    }

    /// D's class term over rows from `first` on (0: D's step over [real; generated]; m: G's
    /// step over the generated rows).
    pub fn projection(&self, first: usize) -> Projection {
        Projection {
            classes: self.c.classes,
            dim: self.c.d_dim,
            table: self.d_table,
            dtable: self.d_dtable,
            labels: View {
                t: self.labels,
                off: first,
            },
        }
    }

    /// G's input for `rows` rows of evaluation noise `z` and labels `labels`, into `out`, from
    /// the table at `table` (G's own, or its moving average's).
    pub fn eval_input(
        &self,
        rows: usize,
        table: View,
        labels: TensorId,
        z: TensorId,
        out: TensorId,
    ) -> Op {
        Op::EmbedConcat {
            spec: self.g_spec(rows),
            table,
            labels: labels.into(),
            z: z.into(),
            out: out.into(),
        }
    }
}

/// One class embedding as a checkpoint holds it: the nn.Embedding module's tensor name, the
/// network whose flat parameters end with it (`g`, `d` or `g_ema`), and its shape.
pub struct TableEntry {
    pub name: &'static str,
    pub net: &'static str,
    pub shape: [usize; 2],
}

/// The class embeddings a checkpoint of `cfg` holds (none for an unconditional run), each the
/// state_dict of an nn.Embedding(classes, width) module beside the nn.Sequential ones:
/// `g_label_emb.weight`, `d_label_emb.weight` and, with a moving average of G,
/// `g_ema_label_emb.weight`.
pub fn table_entries(cfg: &TrainConfig, data_dim: usize) -> anyhow::Result<Vec<TableEntry>> {
    let Some(c) = cfg.conditioning(data_dim)? else {
        return Ok(Vec::new());
    };
    let mut out = vec![
        TableEntry {
            name: "g_label_emb.weight",
            net: "g",
            shape: [c.classes, c.g_dim],
        },
        TableEntry {
            name: "d_label_emb.weight",
            net: "d",
            shape: [c.classes, c.d_dim],
        },
    ];
    if cfg.g_ema > 0.0 {
        out.push(TableEntry {
            name: "g_ema_label_emb.weight",
            net: "g_ema",
            shape: [c.classes, c.g_dim],
        });
    }
    Ok(out)
}
