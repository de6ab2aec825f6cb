//! CPU twins of shaders/rng.wgsl: Philox4x32-10 with a u64 multiply, addressed exactly as the
//! shader does, so GPU and CPU runs draw the same noise and the same minibatches. Raw words,
//! uniforms and indices are bit-identical to the GPU's; normals differ only by the GPU's `cos`,
//! `sin` and `sqrt` (ln is computed by the same f32 operations on both sides).

use crate::ops::RngAddr;
use std::f32::consts::{LN_2, SQRT_2};

const PHILOX_M0: u32 = 0xD251_1F53;
const PHILOX_M1: u32 = 0xCD9E_8D57;
const PHILOX_W0: u32 = 0x9E37_79B9;
const PHILOX_W1: u32 = 0xBB67_AE85;

fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = a as u64 * b as u64;
    ((p >> 32) as u32, p as u32)
}

/// The Philox4x32 bijection with 10 rounds (Random123's `philox4x32_R(10, ...)`).
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (ctr, key);
    for round in 0..10 {
        if round > 0 {
            k = [k[0].wrapping_add(PHILOX_W0), k[1].wrapping_add(PHILOX_W1)];
        }
        let (hi0, lo0) = mulhilo(PHILOX_M0, c[0]);
        let (hi1, lo1) = mulhilo(PHILOX_M1, c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// The 64-bit counter an op at `addr` uses now: addr.ctr plus the one in `state`.
pub fn counter(addr: RngAddr, state: &[u32]) -> u64 {
    let s = state[addr.state_slot] as u64 | (state[addr.state_slot + 1] as u64) << 32;
    addr.ctr.wrapping_add(s)
}

/// The four words of block `b` (elements 4b..4b+3).
pub fn block(addr: RngAddr, state: &[u32], b: u32) -> [u32; 4] {
    let c = counter(addr, state);
    let key = [addr.seed as u32, (addr.seed >> 32) as u32];
    philox4x32_10([b, addr.stream, c as u32, (c >> 32) as u32], key)
}

/// Calls `f(element, word)` for each of `n` elements, one Philox block per four.
fn for_each_word(addr: RngAddr, state: &[u32], n: usize, mut f: impl FnMut(usize, u32)) {
    for b in 0..n.div_ceil(4) {
        let w = block(addr, state, b as u32);
        for (j, &word) in w.iter().enumerate().take(n - 4 * b) {
            f(4 * b + j, word);
        }
    }
}

/// A word's top 23 bits as (k + 0.5) / 2^23: exact in f32 and strictly inside (0, 1).
pub fn unit(w: u32) -> f32 {
    ((w >> 9) as f32 + 0.5) * (1.0 / 8_388_608.0)
}

/// ln u for u in (0, 1), in the shader's f32 operations (see `ln_unit` in rng.wgsl for why the
/// builtin log is not used): u = m 2^e with m in [sqrt(1/2), sqrt(2)], ln m = 2 atanh(s),
/// s = (m - 1) / (m + 1), odd series to s^9.
pub fn ln_unit(u: f32) -> f32 {
    let bits = u.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x7f_ffff) | 0x3f80_0000);
    if m > SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let poly = 2.0 + s2 * (0.666_666_7 + s2 * (0.4 + s2 * (0.285_714_3 + s2 * 0.222_222_22)));
    e as f32 * LN_2 + s * poly
}

/// Two standard normals from two words (Box-Muller), in the shader's order of f32 operations;
/// cos and sin are taken in f64 and rounded once (the GPU's builtins differ by a few ulp).
pub fn box_muller(w1: u32, w2: u32) -> [f32; 2] {
    let r = (-2.0 * ln_unit(unit(w1))).sqrt();
    let t = std::f32::consts::PI * (2.0 * unit(w2) - 1.0);
    [r * (t as f64).cos() as f32, r * (t as f64).sin() as f32]
}

/// out = raw words.
pub fn rng_bits(addr: RngAddr, state: &[u32], out: &mut [u32]) {
    for_each_word(addr, state, out.len(), |i, w| out[i] = w);
}

/// out = lo + (hi - lo) * u with u uniform in (0, 1).
pub fn rng_uniform(addr: RngAddr, state: &[u32], lo: f32, hi: f32, out: &mut [f32]) {
    for_each_word(addr, state, out.len(), |i, w| {
        out[i] = lo + (hi - lo) * unit(w)
    });
}

/// out = mean + std * N(0, 1); elements (4b, 4b+1) come from words (w0, w1), (4b+2, 4b+3) from
/// (w2, w3).
pub fn rng_normal(addr: RngAddr, state: &[u32], mean: f32, std: f32, out: &mut [f32]) {
    let n = out.len();
    for b in 0..n.div_ceil(4) {
        let w = block(addr, state, b as u32);
        let [z0, z1] = box_muller(w[0], w[1]);
        let [z2, z3] = box_muller(w[2], w[3]);
        for (j, z) in [z0, z1, z2, z3].into_iter().enumerate().take(n - 4 * b) {
            out[4 * b + j] = mean + std * z;
        }
    }
}

/// rng_add_normal's scale: `std` * max(0, 1 - t / anneal) with t the counter at `slot` of
/// `state` (anneal = 0: `std`, constant).
pub fn annealed_std(std: f32, anneal: u32, state: &[u32], slot: usize) -> f32 {
    if anneal == 0 {
        return std;
    }
    let t = state[slot] as f32 + 4_294_967_296.0 * state[slot + 1] as f32;
    std * (1.0 - t / anneal as f32).max(0.0)
}

/// out = x + s * N(0, 1) with s = [`annealed_std`] at the op's state slot (instance noise), the
/// normals drawn as `rng_normal`'s; out = x once s is 0.
pub fn rng_add_normal(
    addr: RngAddr,
    state: &[u32],
    std: f32,
    anneal: u32,
    x: &[f32],
    out: &mut [f32],
) {
    let s = annealed_std(std, anneal, state, addr.state_slot);
    let mut z = vec![0.0; out.len()];
    if s != 0.0 {
        rng_normal(addr, state, 0.0, 1.0, &mut z);
    }
    for ((o, x), z) in out.iter_mut().zip(x).zip(z) {
        *o = x + s * z;
    }
}

/// out = floor(w * n_rows / 2^32), uniform in [0, n_rows) up to a bias of n_rows / 2^32.
pub fn rng_index(addr: RngAddr, state: &[u32], n_rows: u32, out: &mut [u32]) {
    for_each_word(addr, state, out.len(), |i, w| out[i] = mulhilo(w, n_rows).0);
}

/// Adds one to the 64-bit counter at state[slot] (low word), state[slot + 1] (high word).
pub fn tick(slot: usize, state: &mut [u32]) {
    state[slot] = state[slot].wrapping_add(1);
    if state[slot] == 0 {
        state[slot + 1] = state[slot + 1].wrapping_add(1);
    }
}
