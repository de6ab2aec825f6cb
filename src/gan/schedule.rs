//! One training iteration of Goodfellow et al. (2014), Algorithm 1, as an op list:
//!
//! ```text
//! for j in 0..k:                                   (discriminator: ascend V(G, D))
//!     x ~ P_data (m rows, by random index into the device-resident data set)
//!     z ~ N(0, I) (m rows);  x~ = G(z)
//!     logits = D([x; x~])                          (2m rows, one pass)
//!     L_D = BCE(logits, [1; 0]) * 2 = -V(G, D)     (the mean over each half, summed; `loss`
//!           hinge: relu(1 - x) and relu(1 + x); ls: (x - 1)^2 / 2 and x^2 / 2, likewise)
//!     backprop through D;  Adam step on D
//! z ~ N(0, I) (m new rows);  x~ = G(z);  logits = D(x~)   (generator: descend)
//!     L_G = -log D(x~)   (ns)   or   log(1 - D(x~))   (minimax);  hinge: -x;  ls: (x - 1)^2 / 2
//!     backprop through D to its input only (D's weights and Adam state untouched),
//!     then through G;  Adam step on G
//! advance the iteration counter
//! ```
//!
//! With `instance_noise` s0 > 0 (Sønderby et al. 2017), x and x~ above are replaced by x + s e
//! and x~ + s e', e, e' ~ N(0, I), in D's steps and in G's, s = s0 max(0, 1 - t / T) at iteration
//! t (T = `instance_noise_iters`): D then compares the two distributions blurred by the same
//! Gaussian, whose supports overlap, so its gradient reaches generated samples far from any data.
//! G's step writes G's output to its own rows and D reads a noisy copy.
//!
//! A `conditional` run (see `super::conditional`) gives every row a class: the real rows their
//! own labels, gathered with their images' indices; the generated rows labels drawn uniformly;
//! G reads cat(E_G[y], z), and D's logit gains the projection term E_D[y]^T phi(x).
//!
//! With `pack` M > 1 (PacGAN, Lin et al. 2018) D reads each half of its input as m / M rows of M
//! samples side by side (row-major, so no copy), and every loss above is over packs.
//!
//! Every random number is addressed by (seed, stream, iteration counter held on the GPU), so the
//! whole list is recorded once and replayed with no CPU write between iterations.

use super::conditional::CondGraph;
use super::config::{DNorm, GLoss, Loss, TrainConfig};
use super::spectral::DSpectral;
use super::state::{
    fixed_noise, streams, TrainState, METRICS_LEN, M_D_LOSS, M_G_LOSS, M_LAST_D_LOSS, SLOT_D_STEP,
    SLOT_G_STEP, SLOT_ITERATION,
};
use crate::graph::network::Network;
use crate::graph::{Graph, Op, RngSource, TensorId, View};
use crate::ops::{BceSpec, LossTerm};

/// The tensors and op lists of a GAN run.
pub struct GanGraph {
    pub graph: Graph,
    pub g: Network,
    pub d: Network,
    pub state: TensorId,
    pub metrics: TensorId,
    /// D's input, [2m, dim]: real rows then generated rows.
    pub xd: TensorId,
    /// A conditional run's labels, G input and class embeddings.
    pub cond: Option<CondGraph>,
    /// The moving average of G's weights (`g_ema` > 0).
    pub g_ema: Option<TensorId>,
    /// D's spectral normalisation (`d_norm` spectral).
    pub d_sn: Option<DSpectral>,
    /// Fixed noise for pictures and evaluation, its generator workspace and output.
    pub eval_z: TensorId,
    pub eval_g: Network,
    pub eval_rows: usize,
    /// Points at which D is evaluated for the heat map, and D's workspace for them.
    pub probe_x: TensorId,
    pub probe_d: Network,
    pub probe_rows: usize,
    /// One full iteration.
    pub iteration: Vec<Op>,
    /// One discriminator step alone (the iteration's first, j = 0), then the iteration counter's
    /// tick so the next one draws new numbers: Algorithm 1's inner loop against a frozen G, for
    /// `crate::theory`. `train` never runs it.
    pub d_step: Vec<Op>,
    /// dL_G/dx~ of the last G step, [m, dim]: the gradient of G's loss with respect to each of
    /// its m generated points, which sit, clean of instance noise, at `g_out` (the arrows on
    /// `train`'s pictures read both at the logging interval). With instance noise D saw, and the
    /// gradient was taken at, the noisy copy; the noise is added, so it is also the gradient with
    /// respect to the clean point.
    pub fake_grad: TensorId,
    pub g_out: View,
    /// G on the fixed noise, D on the probe points (pictures; run at the logging interval).
    pub snapshot: Vec<Op>,
    pub dim: usize,
}

/// A data set's values as the device holds them, row-major [rows, dim].
#[derive(Clone, Copy, Debug)]
pub enum DataRef<'a> {
    F32(&'a [f32]),
    /// Image bytes (0 -> -1, 255 -> 1), a quarter of the memory; the gather expands them.
    U8(&'a [u8]),
}

impl DataRef<'_> {
    pub fn len(&self) -> usize {
        match self {
            DataRef::F32(v) => v.len(),
            DataRef::U8(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Everything the graph needs that is not in the config.
pub struct GanInputs<'a> {
    /// The data set.
    pub data: DataRef<'a>,
    pub dim: usize,
    pub state: &'a TrainState,
    /// Points at which to evaluate D for pictures (row-major [.., dim]); may be empty.
    pub probe: &'a [f32],
    /// Rows of fixed noise for pictures and evaluation.
    pub eval_rows: usize,
    /// Conditional runs: the data set's labels (one per row of `data`), and the class of each
    /// row of fixed noise (`eval_rows` of them).
    pub labels: &'a [u32],
    pub eval_labels: &'a [u32],
}

/// A configuration's losses as the per-row terms bce.wgsl applies: D's term (targets
/// [real_label; 0], scale 2, so that with BCE D's loss is -V(G, D)), and G's term with its
/// target and sign.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossTerms {
    pub d_term: LossTerm,
    pub g_term: LossTerm,
    pub g_target: f32,
    pub g_scale: f32,
}

impl LossTerms {
    pub fn of(cfg: &TrainConfig) -> LossTerms {
        let (d_term, g_term, g_target, g_scale) = match (cfg.loss, cfg.g_loss) {
            // G minimises -log D(G(z)): BCE against target 1.
            (Loss::Bce, GLoss::Ns) => (LossTerm::Bce, LossTerm::Bce, 1.0, 1.0),
            // G minimises log(1 - D(G(z))) = -BCE against target 0.
            (Loss::Bce, GLoss::Minimax) => (LossTerm::Bce, LossTerm::Bce, 0.0, -1.0),
            (Loss::Hinge, _) => (LossTerm::Hinge, LossTerm::Linear, 1.0, 1.0),
            (Loss::Ls, _) => (LossTerm::Square, LossTerm::Square, 1.0, 1.0),
        };
        LossTerms {
            d_term,
            g_term,
            g_target,
            g_scale,
        }
    }
}

impl GanGraph {
    pub fn build(cfg: &TrainConfig, inp: &GanInputs) -> anyhow::Result<GanGraph> {
        cfg.validate()?;
        let (m, dim, k) = (cfg.batch, inp.dim, cfg.d_steps);
        // PacGAN: D's rows are packs of `pack` consecutive samples (a free reshape of the
        // row-major [m, dim] halves into [m / pack, pack * dim]); mp packs per half.
        let mp = m / cfg.pack;
        let data_rows = inp.data.len() / dim;
        anyhow::ensure!(data_rows > 0, "the data set is empty");
        let g_spec = cfg.g_network(dim)?;
        let d_spec = cfg.d_network(dim)?;
        let conditioning = cfg.conditioning_of(&d_spec)?;
        let (g_own, d_own) = (g_spec.param_count()?, d_spec.param_count()?);
        let (g_len, d_len) = cfg.param_lens(dim)?;
        let s = inp.state;
        anyhow::ensure!(
            s.g_params.len() == g_len
                && s.d_params.len() == d_len
                && s.g_running.len() == g_spec.buffer_count()?
                && s.d_running.len() == d_spec.buffer_count()?
                && (s.g_ema.is_empty() || s.g_ema.len() == s.g_params.len()),
            "the saved weights do not fit the configured architecture"
        );

        let mut gr = Graph::default();
        let state = gr.u32_from("state", &s.counters);
        let metrics = gr.f32("metrics", METRICS_LEN);
        let (data, packed_u8) = match inp.data {
            DataRef::F32(v) => (gr.f32_from("data", v), false),
            DataRef::U8(v) => (gr.u32_from("data", &crate::cpu::gather::pack_u8(v)), true),
        };
        let idx = gr.u32_from("minibatch_index", &vec![0; m]);
        let z = gr.f32("z", m * cfg.z_dim);
        // D's input [real; generated], then, with instance noise, G's own output for its G step
        // (D reads a noisy copy of it; G's backward reads the clean values).
        let instance_noise = cfg.instance_noise > 0.0;
        let xd_rows = if instance_noise { 3 * m } else { 2 * m };
        let xd = gr.f32("d_input", xd_rows * dim);
        let dlogits = gr.f32("d_logit_grad", 2 * mp);
        let dx_fake = gr.f32("d_input_grad", m * dim);
        let mut t_d = vec![cfg.real_label; mp];
        t_d.extend(std::iter::repeat_n(0.0, mp));
        let targets_d = gr.f32_from("d_targets", &t_d);
        let LossTerms {
            d_term,
            g_term,
            g_target,
            g_scale,
        } = LossTerms::of(cfg);
        let targets_g = gr.f32_from("g_targets", &vec![g_target; mp]);

        let g =
            g_spec.tensors_trailing(&mut gr, "g", &s.g_params, &s.g_running, m, g_len - g_own)?;
        let mut d = d_spec.tensors_trailing(
            &mut gr,
            "d",
            &s.d_params,
            &s.d_running,
            2 * mp,
            d_len - d_own,
        )?;
        let cond = match conditioning {
            Some(c) => Some(CondGraph::new(
                &mut gr, c, inp.labels, m, cfg.z_dim, &g, g_own, &d, d_own,
            )?),
            None => None,
        };
        // G's input: z, or for a conditional run cat(E_G[y], z).
        let g_input: View = cond.as_ref().map_or(z, |c| c.g_in).into();
        let proj_d = cond.as_ref().map(|c| c.projection(0));
        let proj_g = cond.as_ref().map(|c| c.projection(m));
        // D's batch norms normalise the real and the generated half of its input separately, as
        // the PyTorch DCGAN example's two D calls do: statistics over a mixed batch would let D
        // score a sample by the company it keeps, and the G step (generated rows only) would
        // see another D than the D step trained.
        d.split_batch_norm(mp);
        // Spectral normalisation: D's passes read W / sigma from their own buffer; Adam steps W.
        let d_sn = match cfg.d_norm {
            DNorm::None => None,
            DNorm::Spectral => Some(DSpectral::new(&mut gr, &d_spec, &s.d_sn)?),
        };
        let d_params = d.params();
        // The network as checkpoints see it (W); `d` below is the one the passes run (W_sn).
        let d_weights = d.clone();
        let d = match &d_sn {
            Some(sn) => d.with_params(sn.w_sn),
            None => d,
        };
        let sn_forward = |update: bool| -> Vec<Op> {
            d_sn.as_ref()
                .map(|sn| sn.forward(d_params, update))
                .unwrap_or_default()
        };
        for (t, v) in [
            (g.adam_m(), &s.g_adam_m),
            (g.adam_v(), &s.g_adam_v),
            (d.adam_m(), &s.d_adam_m),
            (d.adam_v(), &s.d_adam_v),
        ] {
            gr.init[t] = Some(v.iter().map(|x| x.to_bits()).collect());
        }

        let src = |stream: u32| RngSource {
            seed: cfg.seed,
            stream,
            state,
            state_slot: SLOT_ITERATION,
        };
        let fake = View {
            t: xd,
            off: m * dim,
        };
        let logits = d.output_view(None).t;
        // Instance noise: out = x + noise on `n` values of D's input, from its own stream.
        let noise = |stream: u32, x: View, out: View, n: usize| -> Option<Op> {
            instance_noise.then(|| Op::RngAddNormal {
                src: src(stream),
                x,
                out,
                n,
                std: cfg.instance_noise,
                anneal: cfg.instance_noise_iters as u32,
            })
        };
        // One discriminator step, Algorithm 1's inner loop body; step j draws from its own streams.
        let d_step = |j: u32| -> anyhow::Result<Vec<Op>> {
            let mut ops = Vec::new();
            ops.push(Op::RngIndex {
                src: src(streams::REAL_INDEX + j),
                out: idx.into(),
                n: m,
                n_rows: data_rows,
            });
            ops.push(Op::Gather {
                packed_u8,
                data,
                idx,
                out: xd.into(),
                rows: m,
                cols: dim,
                data_rows,
            });
            if let Some(c) = &cond {
                ops.push(c.real_labels(idx));
                ops.push(c.draw_labels(src(streams::D_LABELS + j)));
            }
            ops.push(Op::RngNormal {
                src: src(streams::D_NOISE + j),
                out: z.into(),
                n: m * cfg.z_dim,
                mean: 0.0,
                std: 1.0,
            });
            ops.extend(cond.as_ref().map(|c| c.g_input(z)));
            ops.extend(g.forward(g_input, m, Some(fake), true));
            ops.extend(noise(
                streams::D_INSTANCE_NOISE + j,
                xd.into(),
                xd.into(),
                2 * m * dim,
            ));
            ops.extend(sn_forward(true));
            ops.extend(d.forward(xd.into(), 2 * mp, None, true));
            ops.extend(proj_d.map(|p| p.forward(&d, xd.into(), 2 * mp, None)));
            let spec = BceSpec {
                term: d_term,
                n: 2 * mp,
                split: mp,
                scale: 2.0,
                metrics_off: M_D_LOSS,
                accumulate: true,
            };
            ops.push(Op::BceLoss {
                spec,
                x: logits,
                y: targets_d,
                metrics,
            });
            if j + 1 == k as u32 {
                ops.push(Op::BceLoss {
                    spec: BceSpec {
                        metrics_off: M_LAST_D_LOSS,
                        accumulate: false,
                        ..spec
                    },
                    x: logits,
                    y: targets_d,
                    metrics,
                });
            }
            ops.push(Op::BceBackward {
                spec,
                x: logits,
                y: targets_d,
                grad: dlogits,
            });
            ops.extend(match &proj_d {
                Some(p) => d.backward_projected(xd.into(), 2 * mp, None, dlogits, true, None, p),
                None => d.backward(xd.into(), 2 * mp, None, dlogits, true, None),
            });
            if let Some(sn) = &d_sn {
                ops.extend(sn.backward(d.grads()));
            }
            ops.push(Op::Tick {
                state,
                slot: SLOT_D_STEP,
            });
            ops.push(Op::Adam {
                cfg: cfg.adam_d(),
                state,
                step_slot: SLOT_D_STEP,
                w: d_params,
                grad: d.grads(),
                m: d.adam_m(),
                v: d.adam_v(),
                n: d_len,
            });
            Ok(ops)
        };
        let mut ops = Vec::new();
        for j in 0..k as u32 {
            ops.extend(d_step(j)?);
        }
        let mut d_only = d_step(0)?;
        d_only.push(Op::Tick {
            state,
            slot: SLOT_ITERATION,
        });
        if let Some(c) = &cond {
            ops.push(c.draw_labels(src(streams::G_LABELS)));
        }
        ops.push(Op::RngNormal {
            src: src(streams::G_NOISE),
            out: z.into(),
            n: m * cfg.z_dim,
            mean: 0.0,
            std: 1.0,
        });
        ops.extend(cond.as_ref().map(|c| c.g_input(z)));
        let g_out = match instance_noise {
            true => View {
                t: xd,
                off: 2 * m * dim,
            },
            false => fake,
        };
        ops.extend(g.forward(g_input, m, Some(g_out), true));
        ops.extend(noise(streams::G_INSTANCE_NOISE, g_out, fake, m * dim));
        ops.extend(sn_forward(true));
        ops.extend(d.forward(fake, mp, None, true));
        ops.extend(proj_g.map(|p| p.forward(&d, fake, mp, None)));
        let spec = BceSpec {
            term: g_term,
            n: mp,
            split: mp,
            scale: g_scale,
            metrics_off: M_G_LOSS,
            accumulate: true,
        };
        ops.push(Op::BceLoss {
            spec,
            x: logits,
            y: targets_g,
            metrics,
        });
        ops.push(Op::BceBackward {
            spec,
            x: logits,
            y: targets_g,
            grad: dlogits,
        });
        ops.extend(match &proj_g {
            Some(p) => d.backward_projected(fake, mp, None, dlogits, false, Some(dx_fake), p),
            None => d.backward(fake, mp, None, dlogits, false, Some(dx_fake)),
        });
        let dg_in = cond.as_ref().map(|c| c.dg_in);
        ops.extend(g.backward(g_input, m, Some(g_out), dx_fake, true, dg_in));
        ops.extend(cond.as_ref().map(|c| c.g_table_grad()));
        ops.push(Op::Tick {
            state,
            slot: SLOT_G_STEP,
        });
        ops.push(Op::Adam {
            cfg: cfg.adam_g(),
            state,
            step_slot: SLOT_G_STEP,
            w: g.params(),
            grad: g.grads(),
            m: g.adam_m(),
            v: g.adam_v(),
            n: g_len,
        });
        // G's moving average, after G's step (Yazici et al. 2019): it starts from G's weights.
        let g_ema = (cfg.g_ema > 0.0).then(|| {
            let start = if s.g_ema.is_empty() {
                &s.g_params
            } else {
                &s.g_ema
            };
            gr.f32_from("g_ema.params", start)
        });
        if let Some(avg) = g_ema {
            ops.push(Op::Ema {
                decay: cfg.g_ema,
                w: g.params(),
                avg,
                n: g_len,
            });
        }
        ops.push(Op::Tick {
            state,
            slot: SLOT_ITERATION,
        });

        // Pictures and evaluation: G (or its moving average) on fixed noise, D on probe points.
        let eval_rows = inp.eval_rows.max(1);
        let ez = fixed_noise(cfg.seed, eval_rows * cfg.z_dim);
        let eval_z = gr.f32_from("eval_z", &ez);
        let mut eval_g = g.with_workspace(&mut gr, "g_eval", eval_rows);
        if let Some(avg) = g_ema {
            eval_g = eval_g.with_params(avg);
        }
        // A conditional G draws the fixed noise as the classes `eval_labels` name.
        let mut snapshot = Vec::new();
        let eval_input: View = match &cond {
            Some(c) => {
                anyhow::ensure!(
                    inp.eval_labels.len() == eval_rows,
                    "{} evaluation labels for {eval_rows} rows",
                    inp.eval_labels.len()
                );
                let labels = gr.u32_from("eval_labels", inp.eval_labels);
                let input = gr.f32("g_eval_input", eval_rows * (c.c.g_dim + cfg.z_dim));
                let table = View {
                    t: eval_g.params(),
                    off: g_own,
                };
                snapshot.push(c.eval_input(eval_rows, table, labels, eval_z, input));
                input.into()
            }
            None => eval_z.into(),
        };
        // With packing, D judges a probe point x as the pack (x, x, ..., x).
        let probe_rows = (inp.probe.len() / dim).max(1);
        let probe_x = if inp.probe.is_empty() {
            gr.f32("probe_x", dim * cfg.pack)
        } else {
            let packed: Vec<f32> = inp
                .probe
                .chunks_exact(dim)
                .flat_map(|x| x.repeat(cfg.pack))
                .collect();
            gr.f32_from("probe_x", &packed)
        };
        let probe_d = d.with_workspace(&mut gr, "d_probe", probe_rows);
        snapshot.extend(eval_g.forward(eval_input, eval_rows, None, false));
        snapshot.extend(sn_forward(false));
        snapshot.extend(probe_d.forward(probe_x.into(), probe_rows, None, false));

        Ok(GanGraph {
            graph: gr,
            g,
            d: d_weights,
            state,
            metrics,
            xd,
            cond,
            g_ema,
            d_sn,
            eval_z,
            eval_g,
            eval_rows,
            probe_x,
            probe_d,
            probe_rows,
            iteration: ops,
            d_step: d_only,
            fake_grad: dx_fake,
            g_out,
            snapshot,
            dim,
        })
    }
}
