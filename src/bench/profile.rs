//! `shadergan bench train --profile`: where an iteration's time goes. Every dispatch of one
//! iteration is bracketed by GPU timestamps written inside the iteration's one compute pass
//! (`TIMESTAMP_QUERY_INSIDE_PASSES`), so the pass is recorded exactly as training records it;
//! dispatches are grouped by op kind and shape, and each group is given its rate (GFLOP/s for
//! matmuls, GB/s for the rest) and that rate as a fraction of `bench peak`'s ceilings (a roofline
//! table). The sum of op times is set against the wall time of an iteration, so the time spent
//! outside kernels (recording, submitting, the driver) is a number too.
//!
//! Bytes counted per op (f32 = 4 bytes; the minimum each must move): matmul A, B, C and bias once;
//! bias_grad dz + db; activation backward y, dy, dz; BCE logits, targets, out; Adam w, grad, m,
//! v read and w, m, v written (28 bytes a parameter); RNG its output; gather the rows read and
//! written. A matmul's flops are 2*m*k*n; its roofline fraction is against the FMA peak.

use super::peak::PeakNumbers;
use crate::gpu::{Gpu, GpuError};
use crate::graph::{Epilogue, Op};
use crate::kernels::Dispatch;
use serde::Serialize;

/// One op of the iteration list, as the profile names and costs it.
#[derive(Clone, Debug)]
pub struct OpCost {
    /// Entry point and shape, e.g. `matmul_a_bt_vec4 512x784x512`.
    pub label: String,
    pub flops: f64,
    pub bytes: f64,
}

/// What `op` computes and moves (see the module comment for the counting).
pub fn cost(op: &Op, entry: &str) -> OpCost {
    let f = |v: usize| v as f64 * 4.0;
    let (label, flops, bytes) = match *op {
        Op::Matmul { m, k, n, epi, .. } => (
            format!("{entry} {m}x{k}x{n}"),
            2.0 * (m * k * n) as f64,
            f(m * k
                + k * n
                + m * n
                + match epi {
                    Epilogue::Forward { bias, .. } => bias.map_or(0, |_| n),
                    Epilogue::ActGrad { .. } => m * n,
                }),
        ),
        Op::BiasGrad { rows, cols, .. } => {
            (format!("{entry} {rows}x{cols}"), 0.0, f(rows * cols + cols))
        }
        Op::ActBackward { n, .. } => (format!("{entry} n={n}"), 0.0, f(3 * n)),
        Op::BceLoss { spec, .. } | Op::BceBackward { spec, .. } => {
            (format!("{entry} n={}", spec.n), 0.0, f(3 * spec.n))
        }
        Op::Adam { n, .. } => (format!("{entry} n={n}"), 0.0, f(7 * n)),
        // W^T u, W v and u^T W v (a multiply-add per weight each; only the last without the
        // power iteration), then W / sigma: W read that many times, W_sn written once.
        Op::SpectralNorm { spec: s, .. } => {
            let (nw, passes) = (s.rows * s.cols, if s.update { 3 } else { 1 });
            (
                format!("{entry} {}x{}", s.rows, s.cols),
                (2 * passes * nw + nw) as f64,
                f((passes + 2) * nw),
            )
        }
        // <G, W_sn>, then G - dot u v^T over sigma: G read twice and written, W_sn read.
        Op::SpectralNormBackward { spec: s, .. } => {
            let nw = s.rows * s.cols;
            (
                format!("{entry} {}x{}", s.rows, s.cols),
                (5 * nw) as f64,
                f(4 * nw),
            )
        }
        // Reads w and avg, writes avg; two flops a weight, bound by memory.
        Op::Ema { n, .. } => (format!("{entry} n={n}"), 2.0 * n as f64, f(3 * n)),
        Op::Tick { .. } => (entry.to_string(), 0.0, f(2)),
        Op::RngNormal { n, .. } | Op::RngIndex { n, .. } => (format!("{entry} n={n}"), 0.0, f(n)),
        Op::RngAddNormal { n, .. } => (format!("{entry} n={n}"), 0.0, f(2 * n)),
        Op::Gather { rows, cols, .. } => (
            format!("{entry} {rows}x{cols}"),
            0.0,
            f(2 * rows * cols + rows),
        ),
        Op::GatherU32 { rows, cols, .. } => (
            format!("{entry} {rows}x{cols}"),
            0.0,
            f(2 * rows * cols + rows),
        ),
        // G's input rows written once, the embeddings and noise they copy read once.
        Op::EmbedConcat { spec: s, .. } => (
            format!("{entry} {}x({}+{})", s.rows, s.dim, s.z_dim),
            0.0,
            f(2 * s.rows * (s.dim + s.z_dim) + s.rows),
        ),
        // Each table element reads every row's label; the embedding columns of dx read once.
        Op::EmbedBackward { spec: s, .. } => (
            format!("{entry} {}x{} over {} rows", s.classes, s.dim, s.rows),
            (s.rows * s.dim) as f64,
            f(s.rows * s.dim + s.table_len() + s.rows),
        ),
        // A multiply-add per feature: phi and the rows' embeddings read, the logits updated.
        Op::ProjectionForward { spec: s, .. } => (
            format!("{entry} {}x{}", s.rows, s.dim),
            2.0 * (s.rows * s.dim) as f64,
            f(2 * s.rows * s.dim + 3 * s.rows),
        ),
        // dphi read and written, the embedding and h read: three flops an element.
        Op::ProjectionBackwardInput { spec: s, .. } => (
            format!("{entry} {}x{}", s.rows, s.dim),
            3.0 * (s.rows * s.dim) as f64,
            f(4 * s.rows * s.dim + 2 * s.rows),
        ),
        Op::ProjectionBackwardTable { spec: s, .. } => (
            format!("{entry} {}x{} over {} rows", s.classes, s.dim, s.rows),
            2.0 * (s.rows * s.dim) as f64,
            f(s.rows * s.dim + s.table_len() + 2 * s.rows),
        ),
        Op::SoftmaxXent { spec, .. } | Op::SoftmaxXentBackward { spec, .. } => {
            let n = spec.rows * spec.classes;
            (
                format!("{entry} {}x{}", spec.rows, spec.classes),
                0.0,
                f(2 * n + spec.rows),
            )
        }
        Op::ActForward { n, .. } => (format!("{entry} n={n}"), 0.0, f(2 * n)),
        // A convolution, its input gradient and its weight gradient each do one multiply-add per
        // (output element, input channel, in-image tap); taps in the padding are counted too.
        Op::Conv2d { shape: s, .. }
        | Op::Conv2dInputGrad { shape: s, .. }
        | Op::Conv2dWeightGrad { shape: s, .. } => (
            format!(
                "{entry} {}x{}x{}x{} k{} s{} -> {}",
                s.batch, s.in_ch, s.h, s.w, s.k_h, s.stride, s.out_ch
            ),
            2.0 * (s.output_len() * s.in_ch * s.k_h * s.k_w) as f64,
            f(s.input_len() + s.weight_len() + s.output_len()),
        ),
        Op::Im2col { shape: s, .. } | Op::Col2im { shape: s, .. } => (
            format!(
                "{entry} {}x{}x{}x{} k{} s{}",
                s.batch, s.in_ch, s.h, s.w, s.k_h, s.stride
            ),
            0.0,
            f(s.input_len() + s.cols_len()),
        ),
        Op::Rows {
            batch,
            channels,
            hw,
            ..
        } => (
            format!("{entry} {batch}x{channels}x{hw}"),
            0.0,
            f(2 * batch * channels * hw),
        ),
        Op::ChannelSum {
            batch,
            channels,
            hw,
            ..
        } => (
            format!("{entry} {batch}x{channels}x{hw}"),
            0.0,
            f(batch * channels * hw + channels),
        ),
        Op::BatchNormStats { spec, .. } | Op::BatchNormBackwardParams { spec, .. } => (
            format!("{entry} {}x{}x{}", spec.batch, spec.channels, spec.hw),
            0.0,
            f(2 * spec.len()),
        ),
        Op::BatchNormForward { spec, .. } | Op::BatchNormBackwardInput { spec, .. } => (
            format!("{entry} {}x{}x{}", spec.batch, spec.channels, spec.hw),
            0.0,
            f(3 * spec.len()),
        ),
    };
    OpCost {
        label,
        flops,
        bytes,
    }
}

/// One row of the roofline table: every dispatch with the same label, per iteration.
#[derive(Clone, Debug, Serialize)]
pub struct ProfileRow {
    pub op: String,
    pub calls: usize,
    pub ms: f64,
    pub share: f64,
    /// GFLOP/s for matmuls, GB/s otherwise.
    pub rate: f64,
    pub unit: &'static str,
    /// `rate` over the matching ceiling of `bench peak`.
    pub of_peak: f64,
}

/// The profile of one workload.
#[derive(Clone, Debug, Serialize)]
pub struct Profile {
    pub rows: Vec<ProfileRow>,
    pub iterations: usize,
    /// Sum of the dispatches' times in one iteration.
    pub kernels_ms: f64,
    /// Wall time of one iteration in the timed (unprofiled) run.
    pub wall_ms: f64,
}

/// Seconds of each dispatch of `list`, averaged over `iters` iterations, each recorded into one
/// pass with a timestamp before the first dispatch and after every dispatch.
pub fn dispatch_times(gpu: &Gpu, list: &[Dispatch], iters: usize) -> Result<Vec<f64>, GpuError> {
    let count = list.len() as u32 + 1;
    let (queries, resolved) = super::timestamp_queries(gpu, "profile timestamps", count)?;
    let ns_per_tick = gpu.queue.get_timestamp_period() as f64;
    let mut sums = vec![0.0; list.len()];
    for _ in 0..iters {
        gpu.checked("profiled iteration", || {
            let mut enc = gpu.device.create_command_encoder(&Default::default());
            {
                let mut pass = enc.begin_compute_pass(&Default::default());
                pass.write_timestamp(&queries, 0);
                for (i, d) in (1u32..).zip(list) {
                    d.record(&mut pass);
                    pass.write_timestamp(&queries, i);
                }
            }
            enc.resolve_query_set(&queries, 0..count, &resolved, 0);
            gpu.queue.submit([enc.finish()]);
        })?;
        let ticks: Vec<u64> = gpu.read(&resolved)?;
        for (s, t) in sums.iter_mut().zip(ticks.windows(2)) {
            *s += t[1].wrapping_sub(t[0]) as f64 * ns_per_tick * 1e-9;
        }
    }
    Ok(sums.into_iter().map(|s| s / iters as f64).collect())
}

/// Groups per-dispatch times by label into the roofline table, largest share first.
pub fn table(
    costs: &[OpCost],
    secs: &[f64],
    peak: &PeakNumbers,
    iterations: usize,
    wall_s: f64,
) -> Profile {
    let mut rows: Vec<(String, usize, f64, f64, f64)> = Vec::new(); // label, calls, s, flops, bytes
    for (c, &s) in costs.iter().zip(secs) {
        match rows.iter_mut().find(|r| r.0 == c.label) {
            Some(r) => {
                r.1 += 1;
                r.2 += s;
                r.3 += c.flops;
                r.4 += c.bytes;
            }
            None => rows.push((c.label.clone(), 1, s, c.flops, c.bytes)),
        }
    }
    let total: f64 = secs.iter().sum();
    let mut out: Vec<ProfileRow> = rows
        .into_iter()
        .map(|(op, calls, s, flops, bytes)| {
            let s = s.max(1e-12);
            let (rate, unit, of_peak) = if flops > 0.0 {
                let r = flops / s * 1e-9;
                (r, "GFLOP/s", r / peak.gflops)
            } else {
                let r = bytes / s * 1e-9;
                (r, "GB/s", r / peak.gbps)
            };
            ProfileRow {
                op,
                calls,
                ms: s * 1e3,
                share: s / total,
                rate,
                unit,
                of_peak,
            }
        })
        .collect();
    out.sort_by(|a, b| b.ms.total_cmp(&a.ms));
    Profile {
        rows: out,
        iterations,
        kernels_ms: total * 1e3,
        wall_ms: wall_s * 1e3,
    }
}

/// The table as text.
pub fn describe(p: &Profile, peak: &PeakNumbers) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "  per iteration (mean of {} profiled), against peak {:.1} GFLOP/s and {:.1} GB/s:",
        p.iterations, peak.gflops, peak.gbps
    );
    let _ = writeln!(
        s,
        "  {:<34} {:>5} {:>9} {:>6} {:>10} {:<7} {:>7}",
        "op", "calls", "ms", "share", "rate", "", "of peak"
    );
    for r in &p.rows {
        let _ = writeln!(
            s,
            "  {:<34} {:>5} {:>9.3} {:>5.1}% {:>10.2} {:<7} {:>6.1}%",
            r.op,
            r.calls,
            r.ms,
            100.0 * r.share,
            r.rate,
            r.unit,
            100.0 * r.of_peak
        );
    }
    let _ = writeln!(
        s,
        "  kernels {:.3} ms of {:.3} ms wall per iteration: {:.3} ms ({:.1}%) outside kernels",
        p.kernels_ms,
        p.wall_ms,
        p.wall_ms - p.kernels_ms,
        100.0 * (p.wall_ms - p.kernels_ms) / p.wall_ms
    );
    s
}
