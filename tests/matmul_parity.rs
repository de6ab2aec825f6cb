//! GPU vs CPU for every matmul.wgsl entry point (the three tiled products with scalar and with
//! vec4 loads, the naive baseline, bias_grad) on odd shapes that are not multiples of the 64x64
//! tile or its 32-deep k slice, with and without bias, with every activation, once with nonzero
//! offsets, and with the output poisoned (NaN) so an unwritten element fails. The vec4 kernels
//! run on shapes whose row lengths and offsets are multiples of 4 (the only ones they accept) and
//! must give the same bits as the scalar ones. The subgroup form (matmul_sg.wgsl, built on CPU
//! adapters with 8-lane subgroups: lavapipe) runs on shapes past its 32 x 32 block and its 4-deep
//! k step, for each variant the shapes it accepts, and must match the CPU twin to the same
//! tolerance and, on lavapipe, the tiled kernel bit for bit (both add the products in k order,
//! unfused).
//!
//! Tolerance: rtol 1e-4, atol 1e-5. Both sides add the products in k order in f32, but a GPU may
//! fuse each multiply-add (one rounding instead of two), and with K up to 257 those differences
//! walk to ~sqrt(K) * 2^-24 * |partial sums| ~ 1e-5 for inputs in [-1, 1]. Checked offline: over
//! 400 seeds of these shapes, fused against unfused sums differ by at most 0.4 of this tolerance.
//! (lavapipe lowers fma to a multiply and an add, as the CPU twin computes.) bias_grad does
//! no multiplies and must match bit for bit.
mod common;
use common::*;
use shadergan::cpu;
use shadergan::gpu::{Gpu, GpuError};
use shadergan::kernels::matmul::{Block, Form, Loads, Matmul, MatmulShape};
use shadergan::ops::{Activation, Variant};

const RTOL: f32 = 1e-4;
const ATOL: f32 = 1e-5;

const SHAPES: [(usize, usize, usize); 6] = [
    (1, 1, 1),
    (3, 17, 5),
    (17, 63, 65),
    (65, 257, 3),
    (63, 65, 257),
    (130, 70, 33),
];

/// Shapes the vec4 kernels accept for every variant (M, K, N multiples of 4) that are still not
/// multiples of the tile or the k slice.
const VEC4_SHAPES: [(usize, usize, usize); 6] = [
    (4, 4, 4),
    (12, 20, 36),
    (20, 68, 132),
    (68, 260, 4),
    (4, 36, 260),
    (132, 100, 68),
];

type CpuMatmul = fn(usize, usize, usize, &[f32], &[f32], Option<&[f32]>, Activation, &mut [f32]);

fn cpu_twin(variant: Variant) -> CpuMatmul {
    match variant {
        Variant::AB => cpu::matmul::matmul,
        Variant::AtB => cpu::matmul::matmul_at_b,
        Variant::ABt => cpu::matmul::matmul_a_bt,
    }
}

/// Which kernel to run: a tiled variant with the given loads, or the naive baseline (computes
/// `Variant::AB`).
#[derive(Clone, Copy, Debug)]
enum Which {
    Tiled(Variant, Loads),
    /// The tiled kernel with another block than the 64 one.
    Block(Variant, Loads, Block),
    Subgroup(Variant, Loads),
    Naive,
}

const TILED: [Which; 3] = [
    Which::Tiled(Variant::AB, Loads::Scalar),
    Which::Tiled(Variant::AtB, Loads::Scalar),
    Which::Tiled(Variant::ABt, Loads::Scalar),
];

const TILED_VEC4: [Which; 3] = [
    Which::Tiled(Variant::AB, Loads::Vec4),
    Which::Tiled(Variant::AtB, Loads::Vec4),
    Which::Tiled(Variant::ABt, Loads::Vec4),
];

struct Case {
    which: Which,
    shape: MatmulShape,
    bias: bool,
    act: Activation,
    seed: u64,
}

/// Runs one case on both sides; `off` elements of NaN sit before every operand and 4 after it (a
/// read past either end, even one multiplied by a zero-filled element, gives NaN). Returns the
/// GPU's output.
fn check(mm: &Matmul, case: &Case) -> Vec<f32> {
    let g = gpu();
    let MatmulShape { m, k, n, .. } = case.shape;
    let s = case.shape;
    let a = inputs(case.seed, m * k, -1.0, 1.0);
    let b = inputs(case.seed + 1, k * n, -1.0, 1.0);
    let bias = inputs(case.seed + 2, n, -1.0, 1.0);
    let ab = g.buffer_from("a", &nan_padded(s.a_off, &a)).unwrap();
    let bb = g.buffer_from("b", &nan_padded(s.b_off, &b)).unwrap();
    let biasb = g
        .buffer_from("bias", &nan_padded(s.bias_off, &bias))
        .unwrap();
    let cb = poisoned(g, "c", s.c_off + m * n);
    let bias_buf = case.bias.then_some(&biasb);
    let (d, variant) = match case.which {
        Which::Tiled(v, loads) => (
            mm.bind_loads(g, v, loads, &ab, &bb, bias_buf, &cb, s, case.act),
            v,
        ),
        Which::Block(v, loads, block) => (
            mm.bind_form(
                g,
                v,
                Form::Tiled(loads, block),
                &ab,
                &bb,
                bias_buf,
                &cb,
                s,
                case.act,
            ),
            v,
        ),
        Which::Subgroup(v, loads) => (
            mm.bind_form(
                g,
                v,
                Form::Subgroup(loads),
                &ab,
                &bb,
                bias_buf,
                &cb,
                s,
                case.act,
            ),
            v,
        ),
        Which::Naive => (
            mm.bind_naive(g, &ab, &bb, bias_buf, &cb, s, case.act),
            Variant::AB,
        ),
    };
    g.run(&[d.unwrap()]).unwrap();
    let got: Vec<f32> = g.read(&cb).unwrap();
    let mut want = vec![0.0; m * n];
    let bias_cpu = case.bias.then_some(bias.as_slice());
    cpu_twin(variant)(m, k, n, &a, &b, bias_cpu, case.act, &mut want);
    let what = format!(
        "{:?} ({m},{k},{n}) offsets ({},{},{},{}) bias {} {}",
        case.which,
        s.a_off,
        s.b_off,
        s.c_off,
        s.bias_off,
        case.bias,
        case.act.name()
    );
    assert!(
        got[..s.c_off].iter().all(|v| v.is_nan()),
        "{what}: wrote before c_off"
    );
    assert_close(&what, &got[s.c_off..], &want, RTOL, ATOL);
    got
}

#[test]
fn tiled_and_naive_match_cpu_on_odd_shapes() {
    let mm = Matmul::new(gpu()).unwrap();
    let kernels = [TILED[0], TILED[1], TILED[2], Which::Naive];
    for (wi, &which) in kernels.iter().enumerate() {
        for (si, &(m, k, n)) in SHAPES.iter().enumerate() {
            for bias in [false, true] {
                let seed = (wi * 100 + si * 10 + bias as usize) as u64;
                let case = Case {
                    which,
                    shape: MatmulShape::new(m, k, n),
                    bias,
                    act: Activation::Identity,
                    seed,
                };
                check(&mm, &case);
            }
        }
    }
}

/// Every tiled block this adapter runs (matmul.wgsl's `override`s: 32, 64 and 128) against the
/// CPU twin and against the 64 block bit for bit, in every variant, with scalar loads on the odd
/// shapes and vec4 loads on shapes that allow them, with a bias and an activation: each output
/// is summed in k order by one invocation whatever the block.
#[test]
fn every_block_matches_cpu_and_the_64_block_bit_for_bit() {
    let mm = Matmul::new(gpu()).unwrap();
    let blocks = mm.blocks();
    assert!(blocks.contains(&Block::B64), "{blocks:?}");
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
    let vec4_shapes = [(36, 68, 132), (132, 40, 20)];
    for (vi, variant) in [Variant::AB, Variant::AtB, Variant::ABt]
        .into_iter()
        .enumerate()
    {
        let scalar = SHAPES.iter().map(|&s| (s, Loads::Scalar));
        let vec4 = vec4_shapes.iter().map(|&s| (s, Loads::Vec4));
        for (si, ((m, k, n), loads)) in scalar.chain(vec4).enumerate() {
            let case = |which| Case {
                which,
                shape: MatmulShape::new(m, k, n),
                bias: si % 2 == 1,
                act: ACTIVATIONS[si % ACTIVATIONS.len()],
                seed: 20_000 + (vi * 100 + si) as u64,
            };
            let reference = bits(&check(&mm, &case(Which::Tiled(variant, loads))));
            for &block in blocks.iter().filter(|&&b| b != Block::B64) {
                let got = check(&mm, &case(Which::Block(variant, loads, block)));
                assert_eq!(
                    bits(&got),
                    reference,
                    "{variant:?} {loads:?} ({m},{k},{n}): the {block:?} block and the 64 block differ"
                );
            }
        }
    }
}

#[test]
fn fused_activations_match_cpu() {
    let mm = Matmul::new(gpu()).unwrap();
    for (ai, act) in ACTIVATIONS.into_iter().enumerate() {
        for which in TILED {
            let case = Case {
                which,
                shape: MatmulShape::new(17, 63, 65),
                bias: true,
                act,
                seed: 1000 + ai as u64,
            };
            check(&mm, &case);
        }
    }
}

#[test]
fn offsets_into_larger_buffers_are_honoured() {
    let mm = Matmul::new(gpu()).unwrap();
    let shape = MatmulShape {
        a_off: 7,
        b_off: 130,
        c_off: 65,
        bias_off: 3,
        ..MatmulShape::new(65, 70, 33)
    };
    for which in [TILED[0], TILED[1], TILED[2], Which::Naive] {
        let case = Case {
            which,
            shape,
            bias: true,
            act: Activation::LeakyRelu(0.2),
            seed: 2000,
        };
        check(&mm, &case);
    }
}

/// The vec4 kernels on every vec4 shape, with and without bias, once with every activation and
/// once with offsets that are multiples of 4 (c_off and bias_off need not be); each run is also
/// run with scalar loads and must give the same bits (same tiles, same summation order).
#[test]
fn vec4_loads_match_cpu_and_scalar_loads_bit_for_bit() {
    let mm = Matmul::new(gpu()).unwrap();
    let mut cases = Vec::new();
    for (si, &(m, k, n)) in VEC4_SHAPES.iter().enumerate() {
        for bias in [false, true] {
            let seed = 4000 + (si * 10 + bias as usize) as u64;
            cases.push((MatmulShape::new(m, k, n), bias, Activation::Identity, seed));
        }
    }
    for (ai, act) in ACTIVATIONS.into_iter().enumerate() {
        cases.push((MatmulShape::new(20, 68, 132), true, act, 5000 + ai as u64));
    }
    let offsets = MatmulShape {
        a_off: 8,
        b_off: 132,
        c_off: 65,
        bias_off: 3,
        ..MatmulShape::new(68, 100, 36)
    };
    cases.push((offsets, true, Activation::LeakyRelu(0.2), 6000));
    for (shape, bias, act, seed) in cases {
        for (vi, which) in TILED_VEC4.into_iter().enumerate() {
            let Which::Tiled(variant, _) = which else {
                unreachable!("TILED_VEC4 holds tiled kernels")
            };
            assert!(shape.allows_vec4(variant), "{shape:?} {variant:?}");
            let seed = seed + 100 * vi as u64;
            let vec4 = check(
                &mm,
                &Case {
                    which,
                    shape,
                    bias,
                    act,
                    seed,
                },
            );
            let which = Which::Tiled(variant, Loads::Scalar);
            let scalar = check(
                &mm,
                &Case {
                    which,
                    shape,
                    bias,
                    act,
                    seed,
                },
            );
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
            assert_eq!(
                bits(&vec4[shape.c_off..]),
                bits(&scalar[shape.c_off..]),
                "{variant:?} {shape:?}: vec4 and scalar loads differ"
            );
        }
    }
}

/// Shapes for the subgroup form, per variant: each accepts only vec4 loads (AB: K and N multiples
/// of 4; A^T B: M and N, any K; A B^T: K, any M and N), and these are not multiples of its 32 x 32
/// block, and for A^T B not of its 4-deep k step. The last of each has more than
/// `matmul_sg::FIXED_MACS` multiply-adds, so it runs on the pipeline fixed to its variant.
type Shape = (usize, usize, usize);
const SG_SHAPES: [(Variant, [Shape; 5]); 3] = [
    (
        Variant::AB,
        [
            (1, 4, 4),
            (37, 20, 44),
            (70, 132, 36),
            (33, 260, 68),
            (165, 164, 156),
        ],
    ),
    (
        Variant::AtB,
        [
            (4, 1, 4),
            (36, 37, 44),
            (68, 130, 36),
            (36, 257, 68),
            (164, 161, 164),
        ],
    ),
    (
        Variant::ABt,
        [
            (1, 4, 1),
            (37, 20, 45),
            (70, 132, 33),
            (33, 260, 67),
            (165, 164, 157),
        ],
    ),
];

/// The subgroup form against the CPU twin, with and without bias, every activation and offsets,
/// and against the tiled kernel bit for bit: vec4 loads on the shapes above, scalar loads on the
/// odd shapes of the tiled test. Under CI (lavapipe with 8-lane subgroups) `Matmul` must have
/// built the form; elsewhere (a GPU, or a CPU driver with wider subgroups) it may not, and the
/// test says so on stderr.
#[test]
fn subgroup_form_matches_cpu_and_tiled_bit_for_bit() {
    let g = gpu();
    let mm = Matmul::new(g).unwrap();
    if !mm.has_subgroup_form() {
        let why = format!(
            "the subgroup matmul form is not built on {} ({:?}; SUBGROUP {}, subgroup sizes \
             {}..{})",
            g.info.name,
            g.info.device_type,
            g.subgroups,
            g.info.subgroup_min_size,
            g.info.subgroup_max_size
        );
        // CI runs on lavapipe with 256-bit vectors, where the form must be built and tested.
        assert!(std::env::var_os("CI").is_none(), "{why}, under CI");
        eprintln!("{why}: not tested here");
        return;
    }
    let mut cases = Vec::new();
    for (vi, (variant, shapes)) in SG_SHAPES.into_iter().enumerate() {
        for (si, (m, k, n)) in shapes.into_iter().enumerate() {
            for bias in [false, true] {
                let seed = 7000 + (vi * 100 + si * 10 + bias as usize) as u64;
                let act = Activation::Identity;
                cases.push((variant, MatmulShape::new(m, k, n), bias, act, seed));
            }
        }
        for (ai, act) in ACTIVATIONS.into_iter().enumerate() {
            let seed = 8000 + (vi * 100 + ai) as u64;
            cases.push((
                variant,
                MatmulShape::new(shapes[2].0, shapes[2].1, shapes[2].2),
                true,
                act,
                seed,
            ));
        }
        let offsets = MatmulShape {
            a_off: 8,
            b_off: 132,
            c_off: 65,
            bias_off: 3,
            ..MatmulShape::new(shapes[1].0, shapes[1].1, shapes[1].2)
        };
        cases.push((
            variant,
            offsets,
            true,
            Activation::LeakyRelu(0.2),
            9000 + vi as u64,
        ));
    }
    for (_, shapes) in SG_SHAPES {
        let (m, k, n) = shapes[4];
        assert!((m * k * n) as u128 > shadergan::kernels::matmul_sg::FIXED_MACS);
    }
    for (variant, shape, bias, act, seed) in cases {
        assert!(shape.allows_vec4(variant), "{shape:?} {variant:?}");
        assert!(
            matches!(
                mm.choice(g, variant, &shape).unwrap(),
                Form::Subgroup(Loads::Vec4) | Form::Tiled(Loads::Vec4, _)
            ),
            "bind gives {shape:?} vec4 loads"
        );
        same_bits_as_tiled(&mm, variant, Loads::Vec4, shape, bias, act, seed);
    }
    // Scalar loads: any shape, the odd ones of the tiled test, every variant, with offsets.
    for (vi, variant) in [Variant::AB, Variant::AtB, Variant::ABt]
        .into_iter()
        .enumerate()
    {
        for (si, &(m, k, n)) in SHAPES.iter().enumerate() {
            let seed = 9100 + (vi * 100 + si) as u64;
            let act = ACTIVATIONS[si % ACTIVATIONS.len()];
            let shape = MatmulShape::new(m, k, n);
            same_bits_as_tiled(&mm, variant, Loads::Scalar, shape, si % 2 == 0, act, seed);
        }
        let offsets = MatmulShape {
            a_off: 7,
            b_off: 130,
            c_off: 65,
            bias_off: 3,
            ..MatmulShape::new(65, 70, 33)
        };
        let act = Activation::LeakyRelu(0.2);
        same_bits_as_tiled(
            &mm,
            variant,
            Loads::Scalar,
            offsets,
            true,
            act,
            9900 + vi as u64,
        );
        assert!(
            matches!(
                mm.choice(g, variant, &offsets).unwrap(),
                Form::Subgroup(Loads::Scalar) | Form::Tiled(Loads::Scalar, _)
            ),
            "bind gives {offsets:?} scalar loads"
        );
    }
}

/// Checks the subgroup form with `loads` against the CPU twin, then against the tiled kernel with
/// the same loads, bit for bit.
fn same_bits_as_tiled(
    mm: &Matmul,
    variant: Variant,
    loads: Loads,
    shape: MatmulShape,
    bias: bool,
    act: Activation,
    seed: u64,
) {
    let case = |which| Case {
        which,
        shape,
        bias,
        act,
        seed,
    };
    let sg = check(mm, &case(Which::Subgroup(variant, loads)));
    let tiled = check(mm, &case(Which::Tiled(variant, loads)));
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
    assert_eq!(
        bits(&sg[shape.c_off..]),
        bits(&tiled[shape.c_off..]),
        "{variant:?} {loads:?} {shape:?}: subgroup form and tiled kernel differ"
    );
}

/// `bind` takes vec4 loads exactly where the shape allows them, and `bind_loads` refuses them
/// where it does not: a quad would straddle two rows or start off a multiple of 4.
#[test]
fn vec4_loads_only_where_the_shape_allows() {
    let s = MatmulShape::new(3, 8, 12);
    assert!(s.allows_vec4(Variant::AB) && s.allows_vec4(Variant::ABt));
    assert!(!s.allows_vec4(Variant::AtB), "A^T stored [K,M] with M = 3");
    assert!(!MatmulShape::new(4, 6, 4).allows_vec4(Variant::AB));
    assert!(!MatmulShape::new(4, 4, 6).allows_vec4(Variant::AB));
    assert!(!MatmulShape::new(4, 6, 4).allows_vec4(Variant::ABt));
    let odd_a = MatmulShape {
        a_off: 2,
        ..MatmulShape::new(4, 4, 4)
    };
    let odd_b = MatmulShape {
        b_off: 6,
        ..MatmulShape::new(4, 4, 4)
    };
    let odd_c = MatmulShape {
        c_off: 1,
        bias_off: 3,
        ..MatmulShape::new(4, 4, 4)
    };
    for v in [Variant::AB, Variant::AtB, Variant::ABt] {
        assert!(!odd_a.allows_vec4(v) && !odd_b.allows_vec4(v), "{v:?}");
        assert!(
            odd_c.allows_vec4(v),
            "{v:?}: C and bias are read and written as scalars"
        );
    }
    let g = gpu();
    let mm = Matmul::new(g).unwrap();
    let big = g.buffer("big", 1024).unwrap();
    let act = Activation::Identity;
    expect_shape_error(
        mm.bind_loads(g, Variant::AtB, Loads::Vec4, &big, &big, None, &big, s, act),
        "vec4 with M = 3",
    );
    expect_shape_error(
        mm.bind_loads(
            g,
            Variant::AB,
            Loads::Vec4,
            &big,
            &big,
            None,
            &big,
            odd_a,
            act,
        ),
        "vec4 with a_off = 2",
    );
}

#[test]
fn bias_grad_matches_cpu() {
    let g = gpu();
    let mm = Matmul::new(g).unwrap();
    for (i, &(rows, _, cols)) in SHAPES.iter().enumerate() {
        for db_off in [0, 5] {
            let dz = inputs(3000 + i as u64, rows * cols, -1.0, 1.0);
            let dzb = g.buffer_from("dz", &dz).unwrap();
            let dbb = poisoned(g, "db", db_off + cols);
            let d = mm.bias_grad(g, &dzb, &dbb, db_off, rows, cols).unwrap();
            g.run(&[d]).unwrap();
            let got: Vec<f32> = g.read(&dbb).unwrap();
            let mut want = vec![0.0; cols];
            cpu::matmul::bias_grad(rows, cols, &dz, &mut want);
            let what = format!("bias_grad ({rows},{cols}) db_off {db_off}");
            assert!(got[..db_off].iter().all(|v| v.is_nan()), "{what}");
            // Same order of additions on both sides and no fusing: bit for bit.
            assert_eq!(&got[db_off..], &want[..], "{what}");
        }
    }
}

#[test]
fn gpu_runs_are_bit_identical() {
    let g = gpu();
    let mm = Matmul::new(g).unwrap();
    let (m, k, n) = (130, 257, 65);
    let a = g.buffer_from("a", &inputs(1, m * k, -1.0, 1.0)).unwrap();
    let b = g.buffer_from("b", &inputs(2, k * n, -1.0, 1.0)).unwrap();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let c = poisoned(g, "c", m * n);
        let d = mm
            .bind(
                g,
                Variant::AB,
                &a,
                &b,
                None,
                &c,
                MatmulShape::new(m, k, n),
                Activation::Identity,
            )
            .unwrap();
        g.run(&[d]).unwrap();
        runs.push(g.read::<u32>(&c).unwrap());
    }
    assert_eq!(runs[0], runs[1]);
}

fn expect_shape_error(r: Result<shadergan::kernels::Dispatch, GpuError>, what: &str) {
    match r {
        Err(GpuError::Shape(msg)) => assert!(!msg.is_empty()),
        Err(e) => panic!("{what}: expected a shape error, got {e}"),
        Ok(_) => panic!("{what}: a shape too large for the buffers was accepted"),
    }
}

#[test]
fn shapes_too_large_for_the_buffers_are_errors() {
    let g: &Gpu = gpu();
    let mm = Matmul::new(g).unwrap();
    let small = g.buffer("small", 16).unwrap();
    let big = g.buffer("big", 1024).unwrap();
    let act = Activation::Identity;
    let s = MatmulShape::new(8, 8, 8); // needs 64 elements per operand
    expect_shape_error(
        mm.bind(g, Variant::AB, &small, &big, None, &big, s, act),
        "a",
    );
    expect_shape_error(
        mm.bind(g, Variant::AtB, &big, &small, None, &big, s, act),
        "b",
    );
    expect_shape_error(
        mm.bind(g, Variant::ABt, &big, &big, None, &small, s, act),
        "c",
    );
    expect_shape_error(
        mm.bind(
            g,
            Variant::AB,
            &big,
            &big,
            Some(&small),
            &big,
            MatmulShape::new(1, 1, 17),
            act,
        ),
        "bias",
    );
    let off = MatmulShape { c_off: 1000, ..s };
    expect_shape_error(mm.bind_naive(g, &big, &big, None, &big, off, act), "c_off");
    let huge = MatmulShape::new(usize::MAX / 2, 4, 4);
    expect_shape_error(
        mm.bind(g, Variant::AB, &big, &big, None, &big, huge, act),
        "overflow",
    );
    expect_shape_error(
        mm.bind(
            g,
            Variant::AB,
            &big,
            &big,
            None,
            &big,
            MatmulShape::new(0, 4, 4),
            act,
        ),
        "zero",
    );
    expect_shape_error(mm.bias_grad(g, &small, &big, 0, 8, 8), "bias_grad dz");
    expect_shape_error(mm.bias_grad(g, &big, &small, 10, 8, 8), "bias_grad db");
}

/// The transposed twins equal the plain product on explicitly transposed inputs (same sums in
/// the same order, so exactly).
#[test]
fn cpu_transposed_variants_equal_matmul_on_transposed_inputs() {
    let (m, k, n) = (5, 7, 3);
    let a = inputs(1, m * k, -1.0, 1.0);
    let b = inputs(2, k * n, -1.0, 1.0);
    let bias = inputs(3, n, -1.0, 1.0);
    let transpose = |x: &[f32], rows: usize, cols: usize| {
        let mut t = vec![0.0; rows * cols];
        for i in 0..rows {
            for j in 0..cols {
                t[j * rows + i] = x[i * cols + j];
            }
        }
        t
    };
    let act = Activation::Tanh;
    let mut want = vec![0.0; m * n];
    cpu::matmul::matmul(m, k, n, &a, &b, Some(&bias), act, &mut want);
    let mut got = vec![0.0; m * n];
    cpu::matmul::matmul_at_b(
        m,
        k,
        n,
        &transpose(&a, m, k),
        &b,
        Some(&bias),
        act,
        &mut got,
    );
    assert_eq!(got, want, "matmul_at_b");
    cpu::matmul::matmul_a_bt(
        m,
        k,
        n,
        &a,
        &transpose(&b, k, n),
        Some(&bias),
        act,
        &mut got,
    );
    assert_eq!(got, want, "matmul_a_bt");
    // And a hand-worked 2x2 case: [[1,2],[3,4]] [[5,6],[7,8]] = [[19,22],[43,50]].
    let mut c = [0.0; 4];
    cpu::matmul::matmul(
        2,
        2,
        2,
        &[1., 2., 3., 4.],
        &[5., 6., 7., 8.],
        None,
        Activation::Identity,
        &mut c,
    );
    assert_eq!(c, [19., 22., 43., 50.]);
    let mut db = [0.0; 2];
    cpu::matmul::bias_grad(2, 2, &[1., 2., 3., 4.], &mut db);
    assert_eq!(db, [4., 6.]);
}
