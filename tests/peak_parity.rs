//! peak.wgsl against its CPU twins on odd sizes with poisoned outputs: fma_peak within a stated
//! tolerance (WGSL lets `fma` be fused or not, so the chains may round differently), copy_peak
//! bit for bit; `empty` runs and writes nothing.
mod common;
use common::*;
use shadergan::cpu;
use shadergan::kernels::peak::{Peak, FMA_A, FMA_B};

#[test]
fn fma_peak_matches_cpu_on_odd_sizes() {
    let g = gpu();
    let peak = Peak::new(g).unwrap();
    for &n in &ODD_SIZES {
        for iters in [0, 1, 37] {
            let src = inputs(n as u64, 4 * n, -2.0, 2.0);
            let sb = g.buffer_from("src", &src).unwrap();
            let db = poisoned(g, "dst", 4 * n);
            g.run(&[peak.fma(g, &sb, &db, n, iters).unwrap()]).unwrap();
            let got: Vec<f32> = g.read(&db).unwrap();
            let mut want = vec![f32::NAN; 4 * n];
            cpu::peak::fma_peak(n, iters, FMA_A, FMA_B, &src, &mut want);
            // Each step contracts toward 1 by a factor 0.999, so rounding differences between a
            // fused and an unfused multiply-add stay a few ulps of the result.
            assert_close(
                &format!("fma_peak n={n} iters={iters}"),
                &got,
                &want,
                1e-5,
                1e-5,
            );
        }
    }
}

#[test]
fn copy_peak_is_exact_and_empty_writes_nothing() {
    let g = gpu();
    let peak = Peak::new(g).unwrap();
    for &n in &ODD_SIZES {
        let src = inputs(n as u64 + 1, 4 * n, -3.0, 3.0);
        let sb = g.buffer_from("src", &src).unwrap();
        let db = poisoned(g, "dst", 4 * n + 4);
        g.run(&[peak.copy(g, &sb, &db, n).unwrap()]).unwrap();
        let got: Vec<f32> = g.read(&db).unwrap();
        let mut want = vec![f32::NAN; 4 * n];
        cpu::peak::copy_peak(n, &src, &mut want);
        let same = got[..4 * n]
            .iter()
            .zip(&want)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "copy_peak n={n}: not a bit-exact copy");
        assert!(
            got[4 * n..].iter().all(|v| v.is_nan()),
            "copy_peak n={n}: wrote past n"
        );
    }
    let db = poisoned(g, "dst", 4);
    g.run(&[peak.empty(g, &db).unwrap()]).unwrap();
    let got: Vec<f32> = g.read(&db).unwrap();
    assert!(got.iter().all(|v| v.is_nan()), "empty wrote {got:?}");
}
