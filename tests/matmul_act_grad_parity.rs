//! The matmul's `Epilogue::ActGrad` (C = op(A) op(B) * act'(Y), the activation's backward fused
//! into an input-gradient product; `EPI_ACT_GRAD` in shaders/common.wgsl) in every form this
//! adapter builds (tiled with scalar and vec4 loads; the subgroup form with both where it is
//! built), every variant and every activation, on odd shapes, with operands at nonzero offsets
//! between NaN padding and the output poisoned:
//! - against its CPU twin `cpu::matmul::matmul_act_grad`, to matmul_parity.rs's tolerance (rtol
//!   1e-4, atol 1e-5: a GPU may fuse the multiply-adds of the sum, which that file's header
//!   bounds; the final multiply by act' adds one rounding on both sides);
//! - against the two ops it replaces on the same adapter, the plain product and then
//!   activation.wgsl's backward, bit for bit: the product's sum is the same code, and the
//!   multiply is the same f32 multiply by the same `act_grad`, so fusing must change nothing.
mod common;
use common::*;
use shadergan::cpu;
use shadergan::gpu::GpuError;
use shadergan::kernels::activation::Activations;
use shadergan::kernels::matmul::{Epilogue, Form, Loads, Matmul, MatmulShape};
use shadergan::ops::{Activation, Variant};

const RTOL: f32 = 1e-4;
const ATOL: f32 = 1e-5;

/// Odd shapes past the tiled kernel's 64 x 64 block and 32-deep slice and the subgroup form's
/// 32 x 32 block (scalar loads), and shapes whose rows are multiples of 4 but not of the blocks
/// (vec4 loads). The GAN's own backward products are (rows, out, in) = (m, k, n) of `Variant::AB`.
const SCALAR_SHAPES: [(usize, usize, usize); 4] =
    [(1, 1, 1), (3, 17, 5), (65, 70, 33), (130, 3, 67)];
const VEC4_SHAPES: [(usize, usize, usize); 3] = [(4, 4, 4), (36, 20, 68), (132, 68, 36)];

fn forms(mm: &Matmul) -> Vec<Form> {
    let mut f = Vec::new();
    for b in mm.blocks() {
        f.extend([Form::Tiled(Loads::Scalar, b), Form::Tiled(Loads::Vec4, b)]);
    }
    if mm.has_subgroup_form() {
        f.extend([Form::Subgroup(Loads::Scalar), Form::Subgroup(Loads::Vec4)]);
    } else {
        // CI runs on lavapipe with 8-lane subgroups, where the form must be built and tested.
        assert!(
            std::env::var_os("CI").is_none(),
            "the subgroup form is not built under CI"
        );
        eprintln!("the subgroup matmul form is not built here: not tested");
    }
    f
}

/// One case: fused on the GPU, against the CPU twin and against the two unfused ops.
fn check(
    mm: &Matmul,
    acts: &Activations,
    form: Form,
    variant: Variant,
    s: MatmulShape,
    act: Activation,
    seed: u64,
) {
    let g = gpu();
    let MatmulShape { m, k, n, .. } = s;
    let a = inputs(seed, m * k, -1.0, 1.0);
    let b = inputs(seed + 1, k * n, -1.0, 1.0);
    // Y as a forward output: relu's has exact zeros, leaky's negatives, tanh's and sigmoid's
    // their ranges; act' only reads the sign or the value.
    let x = inputs(seed + 2, m * n, -2.0, 2.0);
    let mut y = vec![0.0; m * n];
    act.forward(&x, &mut y);
    let ab = g.buffer_from("a", &nan_padded(s.a_off, &a)).unwrap();
    let bb = g.buffer_from("b", &nan_padded(s.b_off, &b)).unwrap();
    let yb = g.buffer_from("y", &nan_padded(s.bias_off, &y)).unwrap();
    let cb = poisoned(g, "c", s.c_off + m * n);
    let epi = Epilogue::ActGrad { y: &yb, act };
    let d = mm
        .bind_with(g, variant, form, &ab, &bb, &cb, s, epi)
        .unwrap();
    g.run(&[d]).unwrap();
    let got: Vec<f32> = g.read(&cb).unwrap();
    let what = format!("{form:?} {variant:?} {s:?} {}", act.name());
    assert!(
        got[..s.c_off].iter().all(|v| v.is_nan()),
        "{what}: wrote before c_off"
    );
    let got = &got[s.c_off..];

    let mut want = vec![0.0; m * n];
    cpu::matmul::matmul_act_grad(variant, m, k, n, &a, &b, &y, act, &mut want);
    assert_close(&what, got, &want, RTOL, ATOL);

    // The same product with no epilogue, then the activation's own backward kernel.
    let dyb = poisoned(g, "dy", s.c_off + m * n);
    let plain = mm
        .bind_with(g, variant, form, &ab, &bb, &dyb, s, Epilogue::PLAIN)
        .unwrap();
    g.run(&[plain]).unwrap();
    let dy: Vec<f32> = g.read(&dyb).unwrap();
    let dy_only = g.buffer_from("dy", &dy[s.c_off..]).unwrap();
    let out = poisoned(g, "dz", m * n);
    let unfused = match acts
        .backward(g, act, &yb, s.bias_off, &dy_only, &out, m * n)
        .unwrap()
    {
        // The identity has no backward kernel: the gradient passes unchanged.
        None => dy[s.c_off..].to_vec(),
        Some(d) => {
            g.run(&[d]).unwrap();
            g.read(&out).unwrap()
        }
    };
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
    assert_eq!(
        bits(got),
        bits(&unfused),
        "{what}: fused and unfused differ"
    );
}

#[test]
fn act_grad_epilogue_matches_cpu_and_the_unfused_ops_bit_for_bit() {
    let g = gpu();
    let mm = Matmul::new(g).unwrap();
    let acts = Activations::new(g).unwrap();
    let mut cases = 0;
    for form in forms(&mm) {
        let shapes: &[(usize, usize, usize)] = match form {
            Form::Tiled(Loads::Scalar, _) | Form::Subgroup(Loads::Scalar) => &SCALAR_SHAPES,
            _ => &VEC4_SHAPES,
        };
        for (vi, variant) in [Variant::AB, Variant::AtB, Variant::ABt]
            .into_iter()
            .enumerate()
        {
            for (si, &(m, k, n)) in shapes.iter().enumerate() {
                for (ai, act) in ACTIVATIONS.into_iter().enumerate() {
                    let seed = 11_000 + (vi * 1000 + si * 100 + ai * 10) as u64;
                    check(
                        &mm,
                        &acts,
                        form,
                        variant,
                        MatmulShape::new(m, k, n),
                        act,
                        seed,
                    );
                    cases += 1;
                }
            }
            // Every operand inside a larger buffer (offsets that keep vec4 loads legal), Y
            // included: it is read from `bias_off`.
            let (m, k, n) = shapes[shapes.len() - 1];
            let s = MatmulShape {
                a_off: 8,
                b_off: 132,
                c_off: 65,
                bias_off: 3,
                ..MatmulShape::new(m, k, n)
            };
            check(
                &mm,
                &acts,
                form,
                variant,
                s,
                Activation::LeakyRelu(0.2),
                19_000 + vi as u64,
            );
            cases += 1;
        }
    }
    eprintln!("{cases} cases");
}

/// A Y shorter than [m, n] from its offset is refused before anything runs (the bias's check
/// reads n values; Y's must read m * n).
#[test]
fn a_short_y_is_an_error() {
    let g = gpu();
    let mm = Matmul::new(g).unwrap();
    let s = MatmulShape {
        bias_off: 2,
        ..MatmulShape::new(5, 3, 4)
    };
    let a = g.buffer_from("a", &[0.0f32; 15]).unwrap();
    let b = g.buffer_from("b", &[0.0f32; 12]).unwrap();
    let c = poisoned(g, "c", 20);
    let short = g.buffer_from("y", &[0.0f32; 21]).unwrap();
    let epi = Epilogue::ActGrad {
        y: &short,
        act: Activation::Relu,
    };
    let form = mm.choice(g, Variant::AB, &s).unwrap();
    match mm.bind_with(g, Variant::AB, form, &a, &b, &c, s, epi) {
        Err(GpuError::Shape(msg)) => assert!(msg.contains(" y"), "{msg}"),
        Err(e) => panic!("expected a shape error naming y, got {e}"),
        Ok(_) => panic!("a Y of 21 elements for 2 + 5 x 4 was accepted"),
    }
    let exact = g.buffer_from("y", &[0.0f32; 22]).unwrap();
    let epi = Epilogue::ActGrad {
        y: &exact,
        act: Activation::Relu,
    };
    assert!(mm
        .bind_with(g, Variant::AB, form, &a, &b, &c, s, epi)
        .is_ok());
}
