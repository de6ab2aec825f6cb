//! `shadergan bench peak`: the device's own ceilings, measured by shaders/peak.wgsl, so that every
//! other number can be read as a fraction of what this device does.
//!
//! - FMA rate: `fma_peak`, 65,536 invocations x 1,024 steps x 16 multiply-adds = 2.1 GFLOP with
//!   one 16-byte load and store per invocation. Floor: time >= flops / peak; lavapipe on 2 Zen 4
//!   cores with 256-bit vectors: 2 cores * 2 FMA pipes * 8 lanes * 2 flops * ~2.6 GHz ~ 166
//!   GFLOP/s, so >= 13 ms; a 20-80 TFLOP/s GPU: 0.03-0.1 ms.
//! - Copy bandwidth: `copy_peak`, 2^21 vec4s = 32 MiB read and 32 MiB written. Floor: time >=
//!   64 MiB / bandwidth; ~3 ms at 20 GB/s (a few DRAM channels), ~0.07 ms at 1 TB/s.
//! - Launch overhead: `empty` (one invocation doing nothing). Per dispatch: one pass of
//!   [`DISPATCHES`] of them, submitted and waited for, divided by their number. Per submit: a
//!   submit of one empty dispatch followed by a wait, and [`SUBMITS`] submits followed by one
//!   wait (what the training loop does), each divided by the count. Medians of [`SAMPLES`].
//!
//! Timing of the two kernels is that of `bench kernels` (GPU timestamps where the adapter has
//! them, median of 20 runs after 3 warm-ups); launch overheads are always wall clock, since they
//! are what the host sees.

use super::kernels::{pattern, Timer};
use super::Report;
use crate::gpu::{Gpu, GpuError};
use crate::kernels::peak::Peak;
use serde::Serialize;
use std::fmt::Write;
use std::time::Instant;

const FMA_N: usize = 65536;
const FMA_ITERS: u32 = 1024;
const COPY_N: usize = 1 << 21;
const DISPATCHES: usize = 1000;
const SUBMITS: usize = 200;
const SAMPLES: usize = 7;

/// The measured ceilings of one device.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct PeakNumbers {
    /// fp32 multiply-add rate, 2 flops each.
    pub gflops: f64,
    /// Bytes read plus bytes written per second, in GB/s (1e9).
    pub gbps: f64,
    /// Microseconds per empty dispatch inside one pass.
    pub dispatch_us: f64,
    /// Microseconds per submit of one empty dispatch, many submits in flight, one wait.
    pub submit_us: f64,
    /// Microseconds for one submit and the wait for it (a synchronous round trip).
    pub roundtrip_us: f64,
}

/// Measures the ceilings (a few seconds on a CPU adapter).
pub fn measure(gpu: &Gpu) -> Result<PeakNumbers, GpuError> {
    let peak = Peak::new(gpu)?;
    let timer = Timer::new(gpu);
    let src = gpu.buffer_from("peak src", &pattern(4 * FMA_N))?;
    let dst = gpu.buffer("peak dst", 4 * FMA_N)?;
    let fma = peak.fma(gpu, &src, &dst, FMA_N, FMA_ITERS)?;
    let csrc = gpu.buffer_from("copy src", &pattern(4 * COPY_N))?;
    let cdst = gpu.buffer("copy dst", 4 * COPY_N)?;
    let copy = peak.copy(gpu, &csrc, &cdst, COPY_N)?;
    let t = timer.medians(gpu, &[(&fma, None), (&copy, None)])?;
    let flops = 32.0 * FMA_N as f64 * FMA_ITERS as f64;
    let bytes = 32.0 * COPY_N as f64;

    let empty = peak.empty(gpu, &dst)?;
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let submit = |n_dispatch: usize| -> wgpu::CommandBuffer {
        let mut enc = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            for _ in 0..n_dispatch {
                empty.record(&mut pass);
            }
        }
        enc.finish()
    };
    let (mut per_dispatch, mut per_submit, mut roundtrip) = (vec![], vec![], vec![]);
    gpu.run(std::slice::from_ref(&empty))?; // warm-up
    for _ in 0..SAMPLES {
        let t0 = Instant::now();
        gpu.queue.submit([submit(DISPATCHES)]);
        gpu.wait()?;
        per_dispatch.push(t0.elapsed().as_secs_f64() / DISPATCHES as f64);

        let t0 = Instant::now();
        for _ in 0..SUBMITS {
            gpu.queue.submit([submit(1)]);
        }
        gpu.wait()?;
        per_submit.push(t0.elapsed().as_secs_f64() / SUBMITS as f64);

        let t0 = Instant::now();
        for _ in 0..SUBMITS / 4 {
            gpu.queue.submit([submit(1)]);
            gpu.wait()?;
        }
        roundtrip.push(t0.elapsed().as_secs_f64() / (SUBMITS / 4) as f64);
    }
    Ok(PeakNumbers {
        gflops: flops / t[0].0 * 1e-9,
        gbps: bytes / t[1].0 * 1e-9,
        dispatch_us: median(per_dispatch) * 1e6,
        submit_us: median(per_submit) * 1e6,
        roundtrip_us: median(roundtrip) * 1e6,
    })
}

/// Measures and reports.
pub fn run(gpu: &Gpu) -> Result<Report, GpuError> {
    let p = measure(gpu)?;
    let json = serde_json::to_value(p).expect("numbers serialise");
    Ok(Report::new(gpu, "peak", describe(gpu, &p), json))
}

/// The text report of [`measure`].
pub fn describe(gpu: &Gpu, p: &PeakNumbers) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "peak on {} ({:?}, {}); kernels timed by {}",
        gpu.info.name,
        gpu.info.backend,
        gpu.info.driver_info,
        Timer::new(gpu).describe()
    );
    let _ = writeln!(
        w,
        "fma_peak   {:>10.2} GFLOP/s  ({FMA_N} invocations x {FMA_ITERS} steps x 16 fp32 FMAs)",
        p.gflops
    );
    let _ = writeln!(
        w,
        "copy_peak  {:>10.2} GB/s     ({} MiB read + {} MiB written, vec4 loads and stores)",
        p.gbps,
        (COPY_N * 16) >> 20,
        (COPY_N * 16) >> 20
    );
    let _ = writeln!(
        w,
        "dispatch   {:>10.2} us       (per empty dispatch, {DISPATCHES} in one pass)",
        p.dispatch_us
    );
    let _ = writeln!(
        w,
        "submit     {:>10.2} us       (per submit of one empty dispatch, {SUBMITS} then one wait)",
        p.submit_us
    );
    let _ = writeln!(
        w,
        "round trip {:>10.2} us       (submit one empty dispatch and wait for it)",
        p.roundtrip_us
    );
    let _ = writeln!(
        w,
        "machine balance: {:.1} flops per byte (kernels below that are bound by memory)",
        p.gflops / p.gbps
    );
    out
}
