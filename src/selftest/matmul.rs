//! The matmul families: every form this adapter can run (the tiled kernel with each block, the
//! subgroup form where the adapter guarantees 8-lane subgroups), in every variant, with vec4 and
//! scalar loads, every epilogue (plain, bias and activation, the activation's backward), on odd
//! and skinny shapes and at offsets between NaN padding, against the CPU twin (rtol 1e-4, atol
//! 1e-5, tests/matmul_parity.rs's tolerance); the form `Matmul::bind` picks for each shape is
//! among them. Plus the naive kernel and the bias gradient.

use super::compare::{inputs, nan_padded};
use super::FamilyResult;
use crate::gpu::{Gpu, GpuError};
use crate::kernels::matmul::{Epilogue, Form, Loads, Matmul, MatmulShape};
use crate::kernels::Kernels;
use crate::ops::{Activation, Variant};

const RTOL: f32 = 1e-4;
const ATOL: f32 = 1e-5;
const VARIANTS: [Variant; 3] = [Variant::AB, Variant::AtB, Variant::ABt];
const ACTS: [Activation; 4] = [
    Activation::Relu,
    Activation::LeakyRelu(0.2),
    Activation::Tanh,
    Activation::Sigmoid,
];

/// (m, k, n) of one product.
type Mkn = (usize, usize, usize);

/// Shapes for scalar loads (odd; skinny: N or M of 1 to 3) and for vec4 loads (multiples of 4).
fn shapes(quick: bool) -> (Vec<Mkn>, Vec<Mkn>) {
    let mut scalar = vec![(3, 17, 5), (65, 70, 33), (70, 17, 2), (1, 33, 37)];
    let mut vec4 = vec![(36, 20, 68), (4, 8, 36), (36, 12, 4)];
    if !quick {
        scalar.extend([(1, 1, 1), (130, 3, 67), (33, 2, 1)]);
        vec4.extend([(132, 68, 36), (256, 128, 4)]);
    }
    (scalar, vec4)
}

#[derive(Clone, Copy, Debug)]
enum Epi {
    Plain,
    Bias(Activation),
    ActGrad(Activation),
}

/// Runs `form` on one case and compares it with the CPU twin.
#[allow(clippy::too_many_arguments)]
fn case(
    gpu: &Gpu,
    mm: &Matmul,
    r: &mut FamilyResult,
    form: Form,
    variant: Variant,
    s: MatmulShape,
    epi: Epi,
    seed: u64,
) -> Result<(), GpuError> {
    let (m, k, n) = (s.m, s.k, s.n);
    let a = inputs(seed, m * k, -1.0, 1.0);
    let b = inputs(seed + 1, k * n, -1.0, 1.0);
    let e = match epi {
        Epi::ActGrad(act) => {
            // Y, a forward output of `act`: in its range.
            let z = inputs(seed + 2, m * n, -2.0, 2.0);
            z.iter().map(|&v| act.apply(v)).collect()
        }
        _ => inputs(seed + 2, n, -1.0, 1.0),
    };
    let ab = gpu.buffer_from("a", &nan_padded(s.a_off, &a))?;
    let bb = gpu.buffer_from("b", &nan_padded(s.b_off, &b))?;
    let eb = gpu.buffer_from("bias", &nan_padded(s.bias_off, &e))?;
    let cb = gpu.buffer_from("c", &vec![f32::NAN; s.c_off + m * n])?;
    let gepi = match epi {
        Epi::Plain => Epilogue::PLAIN,
        Epi::Bias(act) => Epilogue::Forward {
            bias: Some(&eb),
            act,
        },
        Epi::ActGrad(act) => Epilogue::ActGrad { y: &eb, act },
    };
    let d = mm.bind_with(gpu, variant, form, &ab, &bb, &cb, s, gepi)?;
    r.cover(d.name);
    gpu.run(&[d])?;
    let got: Vec<f32> = gpu.read(&cb)?;
    let mut want = vec![0.0; m * n];
    let twin = match variant {
        Variant::AB => crate::cpu::matmul::matmul,
        Variant::AtB => crate::cpu::matmul::matmul_at_b,
        Variant::ABt => crate::cpu::matmul::matmul_a_bt,
    };
    match epi {
        Epi::Plain => twin(m, k, n, &a, &b, None, Activation::Identity, &mut want),
        Epi::Bias(act) => twin(m, k, n, &a, &b, Some(&e), act, &mut want),
        Epi::ActGrad(act) => {
            crate::cpu::matmul::matmul_act_grad(variant, m, k, n, &a, &b, &e, act, &mut want)
        }
    }
    let what = format!("{form:?} {variant:?} ({m},{k},{n}) at {s:?} {epi:?}");
    r.close(&what, &got[s.c_off..], &want, RTOL, ATOL);
    if got[..s.c_off].iter().any(|v| !v.is_nan()) {
        r.failures.push(format!("{what}: wrote before c_off"));
    }
    Ok(())
}

/// Every shape and epilogue in `form` (its loads), and the form `bind` picks for the same.
fn forms(
    gpu: &Gpu,
    mm: &Matmul,
    r: &mut FamilyResult,
    quick: bool,
    form_of: impl Fn(Loads) -> Form,
) -> Result<(), GpuError> {
    let (scalar, vec4) = shapes(quick);
    let mut seed = 40_000;
    for (vi, variant) in VARIANTS.into_iter().enumerate() {
        let all = scalar
            .iter()
            .map(|&s| (s, Loads::Scalar))
            .chain(vec4.iter().map(|&s| (s, Loads::Vec4)));
        for (si, ((m, k, n), loads)) in all.enumerate() {
            let act = ACTS[(vi + si) % ACTS.len()];
            let epis = [Epi::Plain, Epi::Bias(act), Epi::ActGrad(act)];
            let plain = MatmulShape::new(m, k, n);
            // Offsets that keep vec4 legal for vec4 shapes; odd ones otherwise.
            let offsets = match loads {
                Loads::Vec4 => [8, 4, 12, 4],
                Loads::Scalar => [7, 5, 3, 1],
            };
            let at = MatmulShape {
                a_off: offsets[0],
                b_off: offsets[1],
                c_off: offsets[2],
                bias_off: offsets[3],
                ..plain
            };
            for (ei, epi) in epis.into_iter().enumerate() {
                seed += 10;
                let s = if ei == 1 { at } else { plain };
                case(gpu, mm, r, form_of(loads), variant, s, epi, seed)?;
            }
            // What a plan gets for this shape.
            seed += 10;
            let chosen = mm.choice(gpu, variant, &plain)?;
            case(gpu, mm, r, chosen, variant, plain, Epi::Bias(act), seed)?;
        }
    }
    Ok(())
}

fn matmul(gpu: &Gpu) -> Result<std::sync::Arc<Kernels>, GpuError> {
    Kernels::shared(gpu)
}

/// matmul.wgsl: the tiled kernel with every block this adapter runs, the naive kernel and the
/// bias gradient.
pub fn tiled(gpu: &Gpu, quick: bool, r: &mut FamilyResult) -> Result<(), GpuError> {
    let k = matmul(gpu)?;
    let mm = &k.matmul;
    for block in mm.blocks() {
        forms(gpu, mm, r, quick, |loads| Form::Tiled(loads, block))?;
    }
    // The naive kernel (the benchmark's baseline; A B only).
    let (m, kk, n) = (17, 63, 65);
    let (a, b) = (inputs(1, m * kk, -1.0, 1.0), inputs(2, kk * n, -1.0, 1.0));
    let (ab, bb) = (gpu.buffer_from("a", &a)?, gpu.buffer_from("b", &b)?);
    let cb = gpu.buffer_from("c", &vec![f32::NAN; m * n])?;
    let act = Activation::Tanh;
    let d = mm.bind_naive(gpu, &ab, &bb, None, &cb, MatmulShape::new(m, kk, n), act)?;
    r.cover(d.name);
    gpu.run(&[d])?;
    let mut want = vec![0.0; m * n];
    crate::cpu::matmul::matmul(m, kk, n, &a, &b, None, act, &mut want);
    r.close(
        "matmul_naive (17,63,65)",
        &gpu.read(&cb)?,
        &want,
        RTOL,
        ATOL,
    );
    // Column sums (a bias's gradient), rows in order.
    for &(rows, cols) in &[(37, 19), (1, 300)] {
        let dz = inputs(3, rows * cols, -1.0, 1.0);
        let dzb = gpu.buffer_from("dz", &dz)?;
        let db = gpu.buffer_from("db", &vec![f32::NAN; cols + 3])?;
        let d = mm.bias_grad(gpu, &dzb, &db, 3, rows, cols)?;
        r.cover(d.name);
        gpu.run(&[d])?;
        let mut want = vec![0.0; cols];
        crate::cpu::matmul::bias_grad(rows, cols, &dz, &mut want);
        let got: Vec<f32> = gpu.read(&db)?;
        r.close(
            &format!("bias_grad {rows}x{cols}"),
            &got[3..],
            &want,
            RTOL,
            ATOL,
        );
    }
    Ok(())
}

/// matmul_sg.wgsl, where the adapter can run it.
pub fn subgroup(gpu: &Gpu, quick: bool, r: &mut FamilyResult) -> Result<(), GpuError> {
    let k = matmul(gpu)?;
    let mm = &k.matmul;
    if !mm.has_subgroup_form() {
        r.skipped = Some(format!(
            "needs SUBGROUP with subgroups of exactly 8 lanes (this adapter: SUBGROUP {}, sizes \
             {}..{})",
            gpu.subgroups, gpu.info.subgroup_min_size, gpu.info.subgroup_max_size
        ));
        return Ok(());
    }
    forms(gpu, mm, r, quick, Form::Subgroup)
}
