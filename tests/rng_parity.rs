//! Every rng.wgsl entry point on the GPU against the CPU twin on odd sizes with poisoned outputs
//! (raw words, uniforms and indices bit for bit, normals and instance noise within the tolerances
//! below), and `tick` with carries. (Philox's known answers and statistics: tests/rng_properties.rs.)
mod common;
use common::*;
use shadergan::cpu::rng as cpu;
use shadergan::kernels::rng::Rng;
use shadergan::ops::RngAddr;
use std::sync::OnceLock;

/// GPU normals vs the CPU twin: |a - b| <= max(rtol * max(|a|, |b|), atol). ln is the same f32
/// series on both sides; the GPU's builtin cos, sin and sqrt may be a few ulp off the CPU's
/// correctly rounded ones, and cos/sin carry an absolute (not relative) error near their zeros.
const NORMAL_RTOL: f32 = 2e-6;
const NORMAL_ATOL: f32 = 2e-6;
/// (n, mean, std); the absolute tolerance scales with std.
const NORMAL_CASES: [(usize, f32, f32); 6] = [
    (1, 0.0, 1.0),
    (3, 0.0, 1.0),
    (17, 1.5, 0.5),
    (257, 0.0, 1.0),
    (1031, -3.0, 2.0),
    (65537, 0.0, 1.0),
];

fn rng() -> &'static Rng {
    static RNG: OnceLock<Rng> = OnceLock::new();
    RNG.get_or_init(|| Rng::new(gpu()).unwrap())
}

/// The state buffer of the tests: three words of junk, then the 64-bit counter at slot 3.
const SLOT: usize = 3;
fn state_words(counter: u64) -> Vec<u32> {
    vec![
        0xdead_beef,
        7,
        0x1234,
        counter as u32,
        (counter >> 32) as u32,
        99,
    ]
}

/// (seed, stream, ctr, state counter): zero, plain, a state whose low word carries into the high
/// word when ctr is added, and a sum that wraps past 2^64.
const ADDRS: [(u64, u32, u64, u64); 5] = [
    (0, 0, 0, 0),
    (0x0123_4567_89ab_cdef, 3, 10, 5),
    (42, 1, 1, 0xffff_ffff),
    (42, 1, 0x8000_0000, 0x0000_0001_8000_0000),
    (u64::MAX, u32::MAX, u64::MAX, 2),
];
const OUT_OFF: usize = 5;
const PAD: usize = 6;

fn addr(seed: u64, stream: u32, ctr: u64) -> RngAddr {
    RngAddr {
        seed,
        stream,
        ctr,
        state_slot: SLOT,
    }
}

/// Runs `make` on a poisoned u32 buffer of OUT_OFF + n + PAD words and returns the n written
/// words, checking that the padding either side was left alone.
fn gpu_u32(
    n: usize,
    state: &[u32],
    make: impl Fn(&wgpu::Buffer, &wgpu::Buffer) -> shadergan::kernels::Dispatch,
) -> Vec<u32> {
    let g = gpu();
    let total = OUT_OFF + n + PAD;
    let out = g.buffer_from("out", &vec![u32::MAX; total]).unwrap();
    let st = g.buffer_from("state", state).unwrap();
    g.run(&[make(&st, &out)]).unwrap();
    let all: Vec<u32> = g.read(&out).unwrap();
    assert!(all[..OUT_OFF]
        .iter()
        .chain(&all[OUT_OFF + n..total])
        .all(|&w| w == u32::MAX));
    all[OUT_OFF..OUT_OFF + n].to_vec()
}

fn gpu_f32(
    n: usize,
    state: &[u32],
    make: impl Fn(&wgpu::Buffer, &wgpu::Buffer) -> shadergan::kernels::Dispatch,
) -> Vec<f32> {
    let g = gpu();
    let total = OUT_OFF + n + PAD;
    let out = poisoned(g, "out", total);
    let st = g.buffer_from("state", state).unwrap();
    g.run(&[make(&st, &out)]).unwrap();
    let all: Vec<f32> = g.read(&out).unwrap();
    assert!(all[..OUT_OFF]
        .iter()
        .chain(&all[OUT_OFF + n..total])
        .all(|v| v.is_nan()));
    all[OUT_OFF..OUT_OFF + n].to_vec()
}

fn assert_same_u32(what: &str, got: &[u32], want: &[u32]) {
    let bad: Vec<String> = (0..want.len())
        .filter(|&i| got[i] != want[i])
        .take(8)
        .map(|i| format!("[{i}] got {:08x} want {:08x}", got[i], want[i]))
        .collect();
    assert!(
        bad.is_empty(),
        "{what}: words differ; first: {}",
        bad.join(", ")
    );
}

fn assert_same_f32(what: &str, got: &[f32], want: &[f32]) {
    let g: Vec<u32> = got.iter().map(|v| v.to_bits()).collect();
    let w: Vec<u32> = want.iter().map(|v| v.to_bits()).collect();
    assert_same_u32(what, &g, &w);
}

#[test]
fn bits_match_cpu_bit_for_bit() {
    for (seed, stream, ctr, counter) in ADDRS {
        let a = addr(seed, stream, ctr);
        let state = state_words(counter);
        for n in [1, 3, 4, 17, 257, 1031] {
            let got = gpu_u32(n, &state, |st, out| {
                rng().bits(gpu(), a, st, out, OUT_OFF, n).unwrap()
            });
            let mut want = vec![0; n];
            cpu::rng_bits(a, &state, &mut want);
            assert_same_u32(
                &format!("rng_bits {a:?} state {counter} n={n}"),
                &got,
                &want,
            );
        }
    }
}

#[test]
fn counter_is_ctr_plus_state_with_carry() {
    let s = state_words(0xffff_ffff);
    assert_eq!(cpu::counter(addr(0, 0, 1), &s), 0x1_0000_0000);
    assert_eq!(cpu::counter(addr(0, 0, u64::MAX), &state_words(2)), 1);
    // Moving an offset between ctr and the state gives the same numbers, on the GPU too.
    let n = 37;
    let a = addr(9, 2, 0x1_0000_0005);
    let from_ctr = gpu_u32(n, &state_words(0), |st, out| {
        rng().bits(gpu(), a, st, out, OUT_OFF, n).unwrap()
    });
    let from_state = gpu_u32(n, &state_words(0x1_0000_0005), |st, out| {
        rng()
            .bits(gpu(), addr(9, 2, 0), st, out, OUT_OFF, n)
            .unwrap()
    });
    assert_eq!(from_ctr, from_state);
}

#[test]
fn uniform_matches_cpu_bit_for_bit() {
    for (seed, stream, ctr, counter) in ADDRS {
        let a = addr(seed, stream, ctr);
        let state = state_words(counter);
        for n in [1, 3, 17, 257, 1031] {
            // lo = 0, hi = 1 is u itself: exact by construction on every device.
            let got = gpu_f32(n, &state, |st, out| {
                rng()
                    .uniform(gpu(), a, st, out, OUT_OFF, n, 0.0, 1.0)
                    .unwrap()
            });
            let mut want = vec![0.0; n];
            cpu::rng_uniform(a, &state, 0.0, 1.0, &mut want);
            assert_same_f32(&format!("rng_uniform {a:?} n={n}"), &got, &want);
            assert!(got.iter().all(|&u| u > 0.0 && u < 1.0));
            // A general interval adds one multiply and one add. They round the same on every
            // device that does not fuse them into an fma; allow the one rounding that fusing
            // could change.
            let (lo, hi) = (-2.5f32, 3.0f32);
            let got = gpu_f32(n, &state, |st, out| {
                rng()
                    .uniform(gpu(), a, st, out, OUT_OFF, n, lo, hi)
                    .unwrap()
            });
            cpu::rng_uniform(a, &state, lo, hi, &mut want);
            assert_close(
                "rng_uniform (-2.5, 3)",
                &got,
                &want,
                0.0,
                3.0 * f32::EPSILON,
            );
            let exact = got.iter().zip(&want).filter(|(a, b)| a == b).count();
            if exact != n {
                eprintln!("rng_uniform (-2.5, 3): {exact} of {n} bit-identical on this device");
            }
        }
    }
}

#[test]
fn normal_matches_cpu_within_tolerance() {
    // Largest |GPU - CPU| / std (z's own units), largest relative difference, bit-identical count.
    let (mut worst_abs, mut worst_rel, mut same, mut total) = (0.0f32, 0.0f32, 0usize, 0usize);
    for (seed, stream, ctr, counter) in ADDRS {
        let a = addr(seed, stream, ctr);
        let state = state_words(counter);
        for (n, mean, std) in NORMAL_CASES {
            let got = gpu_f32(n, &state, |st, out| {
                rng()
                    .normal(gpu(), a, st, out, OUT_OFF, n, mean, std)
                    .unwrap()
            });
            let mut want = vec![0.0; n];
            cpu::rng_normal(a, &state, mean, std, &mut want);
            let what = format!("rng_normal {a:?} n={n} mean={mean} std={std}");
            assert_close(&what, &got, &want, NORMAL_RTOL, NORMAL_ATOL * std);
            for (&g, &w) in got.iter().zip(&want) {
                worst_abs = worst_abs.max((g - w).abs() / std);
                worst_rel = worst_rel.max((g - w).abs() / g.abs().max(w.abs()).max(1e-30));
                same += (g.to_bits() == w.to_bits()) as usize;
                total += 1;
            }
        }
    }
    eprintln!(
        "rng_normal: max |GPU - CPU| / std = {worst_abs:e}, max relative {worst_rel:e}, \
         {same} of {total} bit-identical"
    );
}

/// Instance noise: x + s z on x already in the buffer (NaN padding either side), s annealed from
/// the state counter. (anneal, counter, s): before, part way, at and past the end of the decay,
/// and constant. Tolerance: the normals' on s z (|z| <= 5.77, Box-Muller's largest radius from
/// u >= 2^-24) plus the sum's rounding (|x + s z| < 6, two ulp).
#[test]
fn add_normal_matches_cpu_and_anneals() {
    let g = gpu();
    let cases: [(u32, u64, f32); 6] = [
        (100, 0, 0.5),
        (100, 25, 0.375),
        (3, 2, 1.0 / 6.0),
        (100, 100, 0.0),
        (100, 0x1_0000_0000, 0.0),
        (0, 7, 0.5),
    ];
    for (anneal, counter, s) in cases {
        let state = state_words(counter);
        let a = addr(42, 9, 3);
        let got_s = cpu::annealed_std(0.5, anneal, &state, SLOT);
        assert!(
            (got_s - s).abs() <= 1e-7,
            "anneal {anneal} at {counter}: s {got_s}, want {s}"
        );
        for n in [1, 3, 17, 1031] {
            let x = inputs(n as u64, n, -3.0, 3.0);
            let mut buf = vec![f32::NAN; OUT_OFF + n + PAD];
            buf[OUT_OFF..OUT_OFF + n].copy_from_slice(&x);
            let out = g.buffer_from("out", &buf).unwrap();
            let st = g.buffer_from("state", &state).unwrap();
            g.run(&[rng()
                .add_normal(g, a, &st, &out, OUT_OFF, OUT_OFF, n, 0.5, anneal)
                .unwrap()])
                .unwrap();
            let all: Vec<f32> = g.read(&out).unwrap();
            assert!(all[..OUT_OFF]
                .iter()
                .chain(&all[OUT_OFF + n..])
                .all(|v| v.is_nan()));
            let got = &all[OUT_OFF..OUT_OFF + n];
            let mut want = vec![0.0; n];
            cpu::rng_add_normal(a, &state, 0.5, anneal, &x, &mut want);
            // Out of place: x after the output range, which the kernel leaves as it was.
            let mut buf2 = vec![f32::NAN; OUT_OFF + 2 * n + PAD];
            buf2[OUT_OFF + n..OUT_OFF + 2 * n].copy_from_slice(&x);
            let out2 = g.buffer_from("out", &buf2).unwrap();
            g.run(&[rng()
                .add_normal(g, a, &st, &out2, OUT_OFF + n, OUT_OFF, n, 0.5, anneal)
                .unwrap()])
                .unwrap();
            let all2: Vec<f32> = g.read(&out2).unwrap();
            assert!(all2[..OUT_OFF]
                .iter()
                .chain(&all2[OUT_OFF + 2 * n..])
                .all(|v| v.is_nan()));
            assert_eq!(
                &all2[OUT_OFF + n..OUT_OFF + 2 * n],
                x.as_slice(),
                "x untouched"
            );
            assert_eq!(&all2[OUT_OFF..OUT_OFF + n], got, "out of place = in place");
            let what = format!("rng_add_normal anneal {anneal} counter {counter} n={n}");
            let atol = s * (5.77 * NORMAL_RTOL + NORMAL_ATOL) + 12.0 * f32::EPSILON;
            assert_close(&what, got, &want, 0.0, atol);
            // The noise is s times the normals of the same address, and nothing once s is 0.
            let mut z = vec![0.0; n];
            cpu::rng_normal(a, &state, 0.0, 1.0, &mut z);
            for i in 0..n {
                let noise = want[i] - x[i];
                assert!(
                    (noise - s * z[i]).abs() <= 1e-6 * (1.0 + x[i].abs()),
                    "{what}: [{i}]"
                );
            }
            if s == 0.0 {
                assert_eq!(got, x.as_slice(), "{what}: s = 0 leaves x");
            }
        }
    }
}

/// Mean and (population) variance in f64.
#[test]
fn index_matches_cpu_stays_in_range_and_covers_every_row() {
    for (seed, stream, ctr, counter) in ADDRS {
        let a = addr(seed, stream, ctr);
        let state = state_words(counter);
        for (n, n_rows) in [
            (1, 1),
            (3, 2),
            (17, 5),
            (257, 7),
            (1031, 13),
            (1031, u32::MAX),
        ] {
            let got = gpu_u32(n, &state, |st, out| {
                rng().index(gpu(), a, st, out, OUT_OFF, n, n_rows).unwrap()
            });
            let mut want = vec![0; n];
            cpu::rng_index(a, &state, n_rows, &mut want);
            assert_same_u32(
                &format!("rng_index {a:?} n={n} n_rows={n_rows}"),
                &got,
                &want,
            );
            assert!(got.iter().all(|&i| i < n_rows), "n_rows {n_rows}: {got:?}");
            if n >= 100 * n_rows as usize {
                // Every row drawn, each about n / n_rows times (5 binomial sds).
                let mut count = vec![0usize; n_rows as usize];
                got.iter().for_each(|&i| count[i as usize] += 1);
                let (nf, p) = (n as f64, 1.0 / n_rows as f64);
                let sd = (nf * p * (1.0 - p)).sqrt();
                for (row, &c) in count.iter().enumerate() {
                    assert!(c > 0, "row {row} of {n_rows} never drawn");
                    assert!(
                        (c as f64 - nf * p).abs() <= 5.0 * sd + 1e-9,
                        "row {row}: {c}"
                    );
                }
            }
        }
    }
}

#[test]
fn tick_adds_one_with_carry_and_orders_within_a_pass() {
    let g = gpu();
    let cases: [(u64, u64, u64); 4] = [
        (0, 3, 3),
        (0xffff_ffff, 1, 0x1_0000_0000),
        (0xffff_fffe, 3, 0x1_0000_0001),
        (u64::MAX, 1, 0),
    ];
    for (start, ticks, want) in cases {
        let mut cpu_state = state_words(start);
        (0..ticks).for_each(|_| cpu::tick(SLOT, &mut cpu_state));
        assert_eq!(
            cpu_state,
            state_words(want),
            "cpu tick x{ticks} from {start:x}"
        );
        let st = g.buffer_from("state", &state_words(start)).unwrap();
        let d = rng().tick(g, &st, SLOT).unwrap();
        g.run(&vec![d; ticks as usize]).unwrap();
        let got: Vec<u32> = g.read(&st).unwrap();
        assert_eq!(got, state_words(want), "gpu tick x{ticks} from {start:x}");
    }
    // tick then draw in one pass: the draw sees the advanced counter.
    let n = 19;
    let a = addr(5, 1, 0);
    let st = g.buffer_from("state", &state_words(0xffff_ffff)).unwrap();
    let out = g.buffer_from("out", &vec![u32::MAX; n]).unwrap();
    let draws = [
        rng().tick(g, &st, SLOT).unwrap(),
        rng().bits(g, a, &st, &out, 0, n).unwrap(),
    ];
    g.run(&draws).unwrap();
    let got: Vec<u32> = g.read(&out).unwrap();
    let mut want = vec![0; n];
    cpu::rng_bits(a, &state_words(0x1_0000_0000), &mut want);
    assert_same_u32("bits after tick", &got, &want);
}

#[test]
fn launchers_reject_short_buffers() {
    let g = gpu();
    let st = g.buffer_from("state", &state_words(0)).unwrap();
    let short_state = g.buffer_from("state", &[0u32; 4]).unwrap();
    let out = g.buffer("out", 10).unwrap();
    assert!(rng().bits(g, addr(0, 0, 0), &st, &out, 3, 8).is_err());
    assert!(rng()
        .normal(g, addr(0, 0, 0), &short_state, &out, 0, 4, 0.0, 1.0)
        .is_err());
    assert!(rng().index(g, addr(0, 0, 0), &st, &out, 0, 4, 0).is_err());
    assert!(rng()
        .add_normal(g, addr(0, 0, 0), &st, &out, 0, 7, 4, 1.0, 10)
        .is_err());
    assert!(rng()
        .add_normal(g, addr(0, 0, 0), &st, &out, 0, 2, 4, 1.0, 10)
        .is_err());
    assert!(rng().tick(g, &short_state, 3).is_err());
    assert!(rng()
        .uniform(g, addr(0, 0, 0), &st, &out, 2, 8, 0.0, 1.0)
        .is_ok());
}
