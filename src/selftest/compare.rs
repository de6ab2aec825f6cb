//! The parity machinery `shadergan selftest` and `cargo test` share: seeded inputs, NaN-poisoned
//! buffers, and the closeness check in burn's form |a - b| <= max(rtol max(|a|, |b|), atol),
//! reporting the worst relative error and the first mismatches.

/// The odd sizes every elementwise kernel is checked on: not multiples of any workgroup or tile.
pub const ODD_SIZES: [usize; 7] = [1, 3, 17, 63, 65, 257, 1031];

/// Deterministic inputs in [lo, hi) from a small LCG (independent of the code under test).
pub fn inputs(seed: u64, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (s >> 40) as f32 / (1u64 << 24) as f32;
            lo + (hi - lo) * u
        })
        .collect()
}

/// `v` between `off` NaNs and 4 more: an operand at element offset `off` of its buffer, where a
/// read before it or past its end (even one multiplied by zero) gives NaN.
pub fn nan_padded(off: usize, v: &[f32]) -> Vec<f32> {
    let mut p = vec![f32::NAN; off];
    p.extend_from_slice(v);
    p.extend_from_slice(&[f32::NAN; 4]);
    p
}

/// How two arrays compare: the mismatches beyond the tolerance (index, got, want) and the worst
/// relative error |a - b| / max(|a|, |b|) over all values (0 where both are 0; infinite where
/// one is NaN and the other is not, or the lengths differ).
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    pub values: usize,
    pub mismatches: Vec<(usize, f32, f32)>,
    pub worst_rel: f64,
}

impl Comparison {
    pub fn ok(&self) -> bool {
        self.mismatches.is_empty() && self.worst_rel.is_finite()
    }

    /// One line naming `what`, the count and the first mismatches.
    pub fn describe(&self, what: &str, rtol: f32, atol: f32) -> String {
        let first: Vec<String> = self
            .mismatches
            .iter()
            .take(8)
            .map(|(i, a, b)| format!("[{i}] got {a:e} want {b:e}"))
            .collect();
        format!(
            "{what}: {} of {} values differ beyond rtol {rtol:e} / atol {atol:e}; first: {}",
            self.mismatches.len(),
            self.values,
            first.join(", ")
        )
    }
}

/// Compares `got` (at least as long as `want`) with `want`.
pub fn compare(got: &[f32], want: &[f32], rtol: f32, atol: f32) -> Comparison {
    let mut c = Comparison {
        values: want.len(),
        ..Default::default()
    };
    if got.len() < want.len() {
        c.worst_rel = f64::INFINITY;
        c.mismatches.push((got.len(), f32::NAN, f32::NAN));
        return c;
    }
    for (i, (&a, &b)) in got.iter().zip(want).enumerate() {
        let tol = (rtol * a.abs().max(b.abs())).max(atol);
        // NaN is never close to anything: an output left poisoned fails.
        let ok = (a - b).abs() <= tol || a == b;
        if !ok {
            c.mismatches.push((i, a, b));
        }
        let rel = if a == b {
            0.0
        } else if a.is_nan() || b.is_nan() || a.is_infinite() || b.is_infinite() {
            f64::INFINITY
        } else {
            ((a - b).abs() / a.abs().max(b.abs())) as f64
        };
        c.worst_rel = c.worst_rel.max(rel);
    }
    c
}
