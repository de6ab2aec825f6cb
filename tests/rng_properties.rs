//! Philox4x32-10's properties: the CPU twin against Random123's known answers, the accuracy of
//! the log used by Box-Muller, no reuse of words across streams, counters and seeds, and the
//! moments of large GPU samples. (GPU-vs-CPU parity of each entry point: tests/rng_parity.rs.)
mod common;
use common::*;
use shadergan::cpu::rng as cpu;
use shadergan::kernels::rng::Rng;
use shadergan::ops::RngAddr;
use std::collections::HashSet;
use std::sync::OnceLock;

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

#[test]
fn philox_matches_random123_known_answers() {
    let kat: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
        (
            [0; 4],
            [0; 2],
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
        ),
        (
            [u32::MAX; 4],
            [u32::MAX; 2],
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
        ),
        (
            [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
            [0xa4093822, 0x299f31d0],
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
        ),
    ];
    for (ctr, key, want) in kat {
        assert_eq!(
            cpu::philox4x32_10(ctr, key),
            want,
            "ctr {ctr:08x?} key {key:08x?}"
        );
    }
    // The addressing: block 0 with everything zero is the first known answer.
    let mut w = [0u32; 4];
    cpu::rng_bits(addr(0, 0, 0), &state_words(0), &mut w);
    assert_eq!(w, kat[0].2);
}

#[test]
fn ln_unit_is_accurate_on_every_possible_u() {
    // u = (k + 0.5) 2^-23 for every k: the f32 series against f64 ln, in ulp of the result.
    let mut worst = (0.0f64, 0.0f32);
    for k in 0..1u32 << 23 {
        let u = cpu::unit(k << 9);
        let got = cpu::ln_unit(u) as f64;
        let want = (u as f64).ln();
        let ulp = (want as f32).abs() as f64 * f32::EPSILON as f64;
        let err = (got - want).abs() / ulp;
        if err > worst.0 {
            worst = (err, u);
        }
    }
    eprintln!("ln_unit: worst {:.2} ulp at u = {:e}", worst.0, worst.1);
    assert!(
        worst.0 <= 2.0,
        "ln_unit off by {} ulp at u = {:e}",
        worst.0,
        worst.1
    );
}

#[test]
fn streams_counters_and_seeds_never_share_words() {
    // 4 variants x 4096 blocks: any repeated block or any run of shared words means reuse.
    let n = 4 * 4096;
    let variants = [
        (addr(1, 0, 0), 0),
        (addr(1, 1, 0), 0),
        (addr(1, 0, 0), 1),
        (addr(2, 0, 0), 0),
    ];
    let mut blocks = HashSet::new();
    let mut words: Vec<Vec<u32>> = Vec::new();
    for (a, counter) in variants {
        let state = state_words(counter);
        let w = gpu_u32(n, &state, |st, out| {
            rng().bits(gpu(), a, st, out, OUT_OFF, n).unwrap()
        });
        for b in w.chunks(4) {
            assert!(blocks.insert(b.to_vec()), "block {b:08x?} repeats ({a:?})");
        }
        words.push(w);
    }
    let all: HashSet<u32> = words.iter().flatten().copied().collect();
    // 65536 random 32-bit words collide in pairs ~0.5 times on average.
    assert!(
        all.len() >= 4 * n - 8,
        "only {} distinct of {}",
        all.len(),
        4 * n
    );
}

fn moments(x: &[f32]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    (mean, var)
}

#[test]
fn large_gpu_samples_have_the_right_moments() {
    let n = 1 << 20;
    let nf = n as f64;
    let state = state_words(12345);
    let a = addr(2024, 7, 0);
    let z = gpu_f32(n, &state, |st, out| {
        rng()
            .normal(gpu(), a, st, out, OUT_OFF, n, 0.0, 1.0)
            .unwrap()
    });
    // Five standard errors: E z = 0 (sd 1/sqrt n), E z^2 = 1 (Var z^2 = 2).
    let (mean, var) = moments(&z);
    assert!(mean.abs() < 5.0 / nf.sqrt(), "normal mean {mean}");
    assert!(
        (var - 1.0).abs() < 5.0 * (2.0 / nf).sqrt(),
        "normal variance {var}"
    );
    // The tails: P(|z| > 2) = 0.04550, binomial sd sqrt(p (1 - p) / n).
    let p = 0.045_500_26;
    let tail = z.iter().filter(|v| v.abs() > 2.0).count() as f64 / nf;
    assert!(
        (tail - p).abs() < 5.0 * (p * (1.0 - p) / nf).sqrt(),
        "P(|z|>2) = {tail}"
    );
    // u >= 2^-24 bounds |z| by sqrt(2 ln 2^24) = 5.77.
    assert!(z.iter().all(|v| v.abs() < 5.8));

    let y = gpu_f32(n, &state, |st, out| {
        rng()
            .normal(gpu(), a, st, out, OUT_OFF, n, 3.0, 0.5)
            .unwrap()
    });
    let (mean, var) = moments(&y);
    assert!(
        (mean - 3.0).abs() < 5.0 * 0.5 / nf.sqrt(),
        "normal(3, 0.5) mean {mean}"
    );
    assert!(
        (var - 0.25).abs() < 5.0 * 0.25 * (2.0 / nf).sqrt(),
        "variance {var}"
    );

    // Uniform: E u = 1/2, Var u = 1/12, Var (u - 1/2)^2 = 1/80 - 1/144 = 1/180.
    let u = gpu_f32(n, &state, |st, out| {
        rng()
            .uniform(gpu(), a, st, out, OUT_OFF, n, 0.0, 1.0)
            .unwrap()
    });
    let (mean, var) = moments(&u);
    assert!(
        (mean - 0.5).abs() < 5.0 * (1.0 / (12.0 * nf)).sqrt(),
        "uniform mean {mean}"
    );
    assert!(
        (var - 1.0 / 12.0).abs() < 5.0 * (1.0 / (180.0 * nf)).sqrt(),
        "variance {var}"
    );
}
