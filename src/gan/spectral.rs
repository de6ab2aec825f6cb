//! Spectral normalisation of an MLP discriminator (Miyato et al. 2018), as the schedule uses it:
//! D's forward and backward read a second flat buffer, `w_sn`, that holds every Linear layer's
//! W / sigma(W) and its bias; D's Adam updates the unnormalised W. Each training forward runs one
//! power iteration per layer first, evaluation reuses u and v, and the backward maps dL/dW_sn to
//! dL/dW with u and v held fixed: PyTorch's `torch.nn.utils.parametrizations.spectral_norm`.

use crate::graph::network::NetworkSpec;
use crate::graph::{Graph, Op, TensorId};
use crate::noise::{Noise, PhiloxNoise};
use crate::ops::SpectralSpec;

/// torch.nn.utils.parametrizations.spectral_norm's default eps.
pub const EPS: f32 = 1e-12;
/// Power iterations PyTorch runs when it registers the parametrization.
pub const INIT_ITERATIONS: usize = 15;

/// One spec per Linear layer of D, in layer order: u then v of each layer laid end to end in the
/// u/v buffer, sigma slot = layer index.
pub fn layers(d: &NetworkSpec, update: bool) -> anyhow::Result<Vec<SpectralSpec>> {
    let NetworkSpec::Mlp(spec) = d else {
        anyhow::bail!("spectral normalisation is built for an MLP discriminator");
    };
    let mut uv_off = 0;
    Ok(spec
        .layout()
        .iter()
        .enumerate()
        .map(|(l, p)| {
            let s = SpectralSpec {
                rows: p.out,
                cols: p.inp,
                w_off: p.w_off,
                uv_off,
                sigma_slot: l,
                update,
                eps: EPS,
            };
            uv_off += p.out + p.inp;
            s
        })
        .collect())
}

/// Values of the u/v buffer.
pub fn uv_len(specs: &[SpectralSpec]) -> usize {
    specs.iter().map(|s| s.rows + s.cols).sum()
}

/// Fresh u and v as PyTorch makes them: N(0, I) (from Philox `stream`), normalised, then
/// [`INIT_ITERATIONS`] power iterations on D's initial weights.
pub fn init_uv(
    d: &NetworkSpec,
    d_params: &[f32],
    seed: u64,
    stream: u32,
) -> anyhow::Result<Vec<f32>> {
    let specs = layers(d, true)?;
    let mut noise = PhiloxNoise::new(seed, stream);
    let mut uv: Vec<f32> = (0..uv_len(&specs)).map(|_| noise.normal()).collect();
    for s in &specs {
        for part in [
            s.uv_off..s.uv_off + s.rows,
            s.uv_off + s.rows..s.uv_off + s.rows + s.cols,
        ] {
            let n = uv[part.clone()]
                .iter()
                .map(|x| x * x)
                .sum::<f32>()
                .sqrt()
                .max(EPS);
            uv[part].iter_mut().for_each(|x| *x /= n);
        }
    }
    let mut w_sn = vec![0.0; d_params.len()];
    let mut sigma = vec![0.0; specs.len()];
    for _ in 0..INIT_ITERATIONS {
        for s in &specs {
            crate::cpu::spectral::spectral_norm_forward(
                s, d_params, &mut w_sn, &mut uv, &mut sigma,
            );
        }
    }
    Ok(uv)
}

/// The tensors of D's spectral normalisation.
#[derive(Clone, Debug)]
pub struct DSpectral {
    pub w_sn: TensorId,
    pub uv: TensorId,
    pub sigma: TensorId,
    pub specs: Vec<SpectralSpec>,
}

impl DSpectral {
    pub fn new(g: &mut Graph, d: &NetworkSpec, uv: &[f32]) -> anyhow::Result<DSpectral> {
        let specs = layers(d, true)?;
        anyhow::ensure!(
            uv.len() == uv_len(&specs),
            "the saved spectral-norm vectors do not fit D ({} values for {})",
            uv.len(),
            uv_len(&specs)
        );
        Ok(DSpectral {
            w_sn: g.f32("d.sn_params", d.param_count()?),
            uv: g.f32_from("d.sn_uv", uv),
            sigma: g.f32("d.sn_sigma", specs.len()),
            specs,
        })
    }

    /// W_sn from D's weights `w`: a training forward (`update`: one power iteration each) or an
    /// evaluation.
    pub fn forward(&self, w: TensorId, update: bool) -> Vec<Op> {
        self.specs
            .iter()
            .map(|&s| Op::SpectralNorm {
                spec: SpectralSpec { update, ..s },
                w,
                w_sn: self.w_sn,
                uv: self.uv,
                sigma: self.sigma,
            })
            .collect()
    }

    /// dL/dW_sn in `grad` to dL/dW, layer by layer in reverse order.
    pub fn backward(&self, grad: TensorId) -> Vec<Op> {
        self.specs
            .iter()
            .rev()
            .map(|&spec| Op::SpectralNormBackward {
                spec,
                w_sn: self.w_sn,
                uv: self.uv,
                sigma: self.sigma,
                grad,
            })
            .collect()
    }
}
