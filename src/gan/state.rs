//! What persists between iterations and how the schedule addresses it: the slots of the GPU's
//! counter and metrics tensors, the Philox stream of every op that draws numbers, the fixed
//! evaluation noise, and [`TrainState`], the weights, Adam moments, counters and running
//! statistics a run starts from and a checkpoint saves.

use super::config::{DNorm, TrainConfig};
use crate::graph::network::NetworkSpec;
use crate::noise::{Noise, PhiloxNoise};

/// Slots of the u32 state tensor; each counter is 64 bits (lo, hi).
pub const SLOT_ITERATION: usize = 0;
pub const SLOT_D_STEP: usize = 2;
pub const SLOT_G_STEP: usize = 4;
pub const STATE_LEN: usize = 6;

/// Slots of the metrics tensor (sums over the logging interval). Each loss writes three slots:
/// the loss, then the mean of sigmoid(logit) over each half of its rows.
pub const M_D_LOSS: usize = 0;
pub const M_D_REAL: usize = 1;
pub const M_D_FAKE: usize = 2;
pub const M_G_LOSS: usize = 3;
pub const M_G_FAKE: usize = 4;
/// The last D step's loss alone (overwritten, not summed): the JSD estimate uses it, since it
/// is the value of V for the most recent discriminator.
pub const M_LAST_D_LOSS: usize = 6;
pub const METRICS_LEN: usize = 9;

/// Philox streams: each op that draws numbers has its own.
pub mod streams {
    pub const REAL_INDEX: u32 = 0x100;
    pub const D_NOISE: u32 = 0x200;
    pub const G_NOISE: u32 = 0x300;
    pub const EVAL_NOISE: u32 = 0x400;
    pub const G_INIT: u32 = 0x500;
    pub const D_INIT: u32 = 0x501;
    pub const DATA: u32 = 0x600;
    pub const D_SPECTRAL_INIT: u32 = 0x502;
    /// Discriminator rejection sampling: the burn-in's noise, and the uniforms of the accept test.
    pub const DRS_BURN_IN: u32 = 0x700;
    pub const DRS_ACCEPT: u32 = 0x701;
    /// Instance noise on D's input: D step j uses D_INSTANCE_NOISE + j.
    pub const D_INSTANCE_NOISE: u32 = 0x800;
    pub const G_INSTANCE_NOISE: u32 = 0x900;
    /// Conditional runs: the class embeddings' initialisation, and the labels of generated rows
    /// (D step j uses D_LABELS + j).
    pub const G_LABEL_INIT: u32 = 0x503;
    pub const D_LABEL_INIT: u32 = 0x504;
    pub const D_LABELS: u32 = 0xa00;
    pub const G_LABELS: u32 = 0xb00;
}

/// The fixed noise of pictures, evaluation and `shadergan sample`: N(0, I) from the seed's
/// evaluation stream, the same for every run with that seed.
pub fn fixed_noise(seed: u64, n: usize) -> Vec<f32> {
    let mut noise = PhiloxNoise::new(seed, streams::EVAL_NOISE);
    (0..n).map(|_| noise.normal()).collect()
}

/// Initial (or checkpointed) values of everything that persists between iterations.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainState {
    pub g_params: Vec<f32>,
    pub d_params: Vec<f32>,
    pub g_adam_m: Vec<f32>,
    pub g_adam_v: Vec<f32>,
    pub d_adam_m: Vec<f32>,
    pub d_adam_v: Vec<f32>,
    /// The counters (iteration, D steps, G steps), as the state tensor holds them.
    pub counters: Vec<u32>,
    /// Batch norms' running statistics (empty for MLPs).
    pub g_running: Vec<f32>,
    pub d_running: Vec<f32>,
    /// The moving average of G's weights (`g_ema` > 0), laid out like `g_params`; empty when
    /// off, or when it has not started yet (it then starts from `g_params`).
    pub g_ema: Vec<f32>,
    /// Spectral normalisation of D (`d_norm` spectral): each Linear layer's u then v, in layer
    /// order; empty when off.
    pub d_sn: Vec<f32>,
}

impl TrainState {
    /// Fresh weights drawn from Philox (PyTorch's nn.Linear initialisation for MLPs, DCGAN's for
    /// convolutional networks), zero moments, and fresh running statistics.
    pub fn fresh(
        cfg: &TrainConfig,
        g: &NetworkSpec,
        d: &NetworkSpec,
    ) -> anyhow::Result<TrainState> {
        let init = |spec: &NetworkSpec, stream: u32| {
            let noise = std::cell::RefCell::new(PhiloxNoise::new(cfg.seed, stream));
            spec.init(
                || noise.borrow_mut().uniform(),
                || noise.borrow_mut().normal(),
            )
        };
        let (mut gp, mut dp) = (init(g, streams::G_INIT)?, init(d, streams::D_INIT)?);
        let d_sn = match cfg.d_norm {
            DNorm::None => Vec::new(),
            DNorm::Spectral => {
                super::spectral::init_uv(d, &dp, cfg.seed, streams::D_SPECTRAL_INIT)?
            }
        };
        // A conditional run's class embeddings follow each network's own parameters.
        if let Some(c) = cfg.conditioning_of(d)? {
            let (gt, dt) = c.init_tables(cfg.seed);
            gp.extend(gt);
            dp.extend(dt);
        }
        Ok(TrainState {
            d_sn,
            g_running: g.init_buffers()?,
            d_running: d.init_buffers()?,
            g_adam_m: vec![0.0; gp.len()],
            g_adam_v: vec![0.0; gp.len()],
            d_adam_m: vec![0.0; dp.len()],
            d_adam_v: vec![0.0; dp.len()],
            g_params: gp,
            d_params: dp,
            counters: vec![0; STATE_LEN],
            g_ema: Vec::new(),
        })
    }

    pub fn iteration(&self) -> u64 {
        self.counters[SLOT_ITERATION] as u64 | (self.counters[SLOT_ITERATION + 1] as u64) << 32
    }

    /// The weights G samples with: the moving average when there is one, else G's own.
    pub fn g_sampling(&self) -> &[f32] {
        if self.g_ema.is_empty() {
            &self.g_params
        } else {
            &self.g_ema
        }
    }
}
