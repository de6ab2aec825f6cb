//! Kernel benchmark (benches/WORKLOADS.md, K): the matmul `Matmul::bind` chooses for this adapter
//! (the subgroup form on CPU adapters, the tiled kernel with vec4 loads elsewhere; the report
//! names the choice) against the tiled kernel and the naive one-output-per-invocation baseline on
//! the reference shapes; every form of each variant side by side; and an elementwise kernel in
//! GB/s.
//!
//! Timing: median of 20 runs after 3 warm-ups. With `TIMESTAMP_QUERY` each run is one compute
//! pass bracketed by GPU timestamps; without it each sample is the wall clock around one submit of
//! several back-to-back dispatches and the wait for them, divided by their number. The kernels
//! compared on a shape are interleaved, so their speed-ups hold when other work shares the
//! device (on lavapipe, any other process on the CPU).
//!
//! Floors, for reading the numbers:
//! - matmul is compute-bound at these sizes: time >= 2*M*N*K / peak FLOP/s, where peak =
//!   cores * FMA pipes * f32 lanes * 2 flops * clock. For lavapipe on 2 Zen 4 cores with 256-bit
//!   vectors: 2 * 2 * 8 * 2 * ~2.6e9 ~ 166 GFLOP/s, so 1024^3 (2.1 GFLOP) takes >= 13 ms and
//!   2048^3 (17.2 GFLOP) >= 103 ms. A discrete GPU at 20-80 TFLOP/s: 0.03-0.1 ms for 1024^3.
//! - the naive kernel re-reads A and B from memory for every output: 2*M*N*K loads of 4 bytes,
//!   one per flop, so it is bound by load throughput, not by the FMA units.
//! - lavapipe issues every load from a buffer or workgroup memory lane by lane (~10 instructions
//!   a value), so there loads, not FMAs, set the pace: the tiled kernel reads 16 values per 64
//!   multiply-adds in each invocation, the naive one 2 per multiply-add, which bounds the
//!   speed-up near 8x before staging costs. The subgroup form (matmul_sg.wgsl) loads 32 values
//!   per 512 multiply-adds a lane and shares op(A) by register broadcasts instead.
//! - leaky_relu_forward moves 8 bytes per element (read x, write out): time >= 8n / bandwidth;
//!   at n = 2^22 that is 33.6 MB, ~1.7 ms at 20 GB/s (a few DRAM channels shared by 2 cores) and
//!   ~0.03 ms at 1 TB/s (discrete GPU).
//! - softmax_xent (the classifier's loss) moves (8 * classes + 4) bytes a row (read logits and
//!   the label, write logp); at 4096 x 10 that is 0.34 MB, ~17 us at 20 GB/s. It is one workgroup
//!   by design (a deterministic reduction, see its header), so it runs at a fraction of that: one
//!   core's worth of lanes on lavapipe. It is timed to show that fraction, not to chase it; at a
//!   minibatch of 64 rows it is a few microseconds of a step.

use super::Report;
use crate::gpu::{Gpu, GpuError};
use crate::kernels::activation::Activations;
use crate::kernels::matmul::{Block, Form, Loads, Matmul, MatmulShape};
use crate::kernels::Dispatch;
use crate::ops::{Activation, Variant};
use serde_json::json;
use std::fmt::Write;
use std::time::{Duration, Instant};

const RUNS: usize = 20;
const WARMUPS: usize = 3;
/// Time allowed for one kernel's timed runs; the naive baseline at 2048^3 takes many seconds a
/// run on a CPU-emulated device, so it gets fewer runs (the report says how many).
const BUDGET: Duration = Duration::from_secs(20);

/// The (M, K, N) shapes of benches/WORKLOADS.md K: the square ones, then the six that M512 runs.
const SQUARE: [usize; 2] = [1024, 2048];
const M512: [(usize, usize, usize); 6] = [
    (512, 100, 256),
    (512, 256, 512),
    (512, 512, 1024),
    (512, 1024, 784),
    (512, 784, 512),
    (512, 512, 256),
];

/// The shape on which each tiled variant's vec4 loads are timed against its scalar loads.
const VARIANTS_SHAPE: (usize, usize, usize) = (512, 512, 512);

/// Elements of the elementwise benchmark.
const ELEMENTWISE_N: usize = 1 << 22;

/// Runs the benchmark and returns the report. `quick` skips 2048^3; `sizes`, when given,
/// replaces the square products (1024 and 2048) by these sides (4096 on a large GPU).
pub fn run(gpu: &Gpu, quick: bool, sizes: Option<&[usize]>) -> Result<Report, GpuError> {
    let timer = Timer::new(gpu);
    let mut rows = Vec::new();
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "kernel benchmark on {} ({:?}); timing: {}",
        gpu.info.name,
        gpu.info.backend,
        timer.describe()
    );
    let _ = writeln!(
        w,
        "matmul C[M,N] = A[M,K] B[K,N], f32 row-major; median of {RUNS} runs after {WARMUPS} \
         warm-ups unless noted; GFLOP/s = 2*M*N*K / s"
    );
    let kernels = crate::kernels::Kernels::shared(gpu)?;
    let mm = &kernels.matmul;
    for class in crate::kernels::matmul::Class::ALL {
        mm.decided(gpu, class)?;
    }
    let _ = writeln!(
        w,
        "matmul kernel choice on this adapter: {}",
        mm.describe_choice()
    );
    let _ = writeln!(
        w,
        "{:>5} {:>5} {:>5} | {:<11} {:>9} {:>8} | {:>9} {:>8} {:>7} | {:>9} {:>8} {:>4} | {:>7}",
        "M",
        "K",
        "N",
        "chosen",
        "ms",
        "GFLOP/s",
        "tiled ms",
        "GFLOP/s",
        "chosen",
        "naive ms",
        "GFLOP/s",
        "runs",
        "speedup"
    );
    let mut shapes: Vec<(usize, usize, usize)> = match sizes {
        Some(sides) => sides.iter().map(|&s| (s, s, s)).collect(),
        None => SQUARE
            .iter()
            .filter(|&&s| !(quick && s > 1024))
            .map(|&s| (s, s, s))
            .collect(),
    };
    shapes.extend(M512);
    let mut fewer_runs = false;
    for (m, k, n) in shapes {
        let a = gpu.buffer_from("bench a", &pattern(m * k))?;
        let b = gpu.buffer_from("bench b", &pattern(k * n))?;
        let c = gpu.buffer("bench c", m * n)?;
        let shape = MatmulShape::new(m, k, n);
        let id = Activation::Identity;
        let chosen = mm.bind(gpu, Variant::AB, &a, &b, None, &c, shape, id)?;
        let tiled_form = Form::Tiled(Loads::Vec4, Block::B64);
        let tiled = mm.bind_form(gpu, Variant::AB, tiled_form, &a, &b, None, &c, shape, id)?;
        let naive = mm.bind_naive(gpu, &a, &b, None, &c, shape, id)?;
        let t = timer.medians(
            gpu,
            &[(&chosen, None), (&tiled, None), (&naive, Some(BUDGET))],
        )?;
        let [(t_chosen, _), (t_tiled, _), (t_naive, naive_runs)] = [t[0], t[1], t[2]];
        fewer_runs |= naive_runs < RUNS;
        let flop = 2.0 * (m * n * k) as f64;
        rows.push(json!({
            "kernel": chosen.name, "m": m, "k": k, "n": n,
            "ms": t_chosen * 1e3, "gflops": flop / t_chosen * 1e-9,
            "tiled_ms": t_tiled * 1e3, "naive_ms": t_naive * 1e3, "naive_runs": naive_runs,
        }));
        let _ = writeln!(
            w,
            "{m:>5} {k:>5} {n:>5} | {:<11} {:>9.3} {:>8.2} | {:>9.3} {:>8.2} {:>6.2}x | {:>9.3} \
             {:>8.2} {:>4} | {:>6.1}x",
            chosen.name,
            t_chosen * 1e3,
            flop / t_chosen * 1e-9,
            t_tiled * 1e3,
            flop / t_tiled * 1e-9,
            t_tiled / t_chosen,
            t_naive * 1e3,
            flop / t_naive * 1e-9,
            naive_runs,
            t_naive / t_chosen
        );
    }
    if fewer_runs {
        let _ = writeln!(
            w,
            "(runs < {RUNS}: the naive kernel takes seconds per run here, so it gets {} s of timed \
             runs and fewer warm-ups, never fewer than 3 runs)",
            BUDGET.as_secs()
        );
    }

    // The backward passes use the transposed variants: every form of each, side by side.
    let (m, k, n) = VARIANTS_SHAPE;
    let a = gpu.buffer_from("bench a", &pattern(m * k))?;
    let b = gpu.buffer_from("bench b", &pattern(k * n))?;
    let c = gpu.buffer("bench c", m * n)?;
    let shape = MatmulShape::new(m, k, n);
    let flop = 2.0 * (m * n * k) as f64;
    let mut forms: Vec<Form> = mm
        .blocks()
        .into_iter()
        .map(|b| Form::Tiled(Loads::Vec4, b))
        .collect();
    forms.push(Form::Tiled(Loads::Scalar, Block::B64));
    if mm.has_subgroup_form() {
        forms.insert(0, Form::Subgroup(Loads::Vec4));
        forms.push(Form::Subgroup(Loads::Scalar));
    }
    for variant in [Variant::AB, Variant::AtB, Variant::ABt] {
        let id = Activation::Identity;
        let bind = |form| mm.bind_form(gpu, variant, form, &a, &b, None, &c, shape, id);
        let ds = forms
            .iter()
            .map(|&f| bind(f))
            .collect::<Result<Vec<_>, _>>()?;
        let order: Vec<(&Dispatch, Option<Duration>)> = ds.iter().map(|d| (d, None)).collect();
        let t = timer.medians(gpu, &order)?;
        let mut line = format!("{variant:?} ({m},{k},{n}):");
        for (d, (secs, _)) in ds.iter().zip(&t) {
            rows.push(json!({
                "kernel": d.name, "m": m, "k": k, "n": n,
                "ms": secs * 1e3, "gflops": flop / secs * 1e-9,
            }));
            let _ = write!(
                line,
                " {} {:.3} ms {:.2} GFLOP/s;",
                d.name,
                secs * 1e3,
                flop / secs * 1e-9
            );
        }
        let chosen = mm.choice(gpu, variant, &shape)?;
        let _ = writeln!(w, "{line} chosen: {chosen:?}");
    }

    let acts = Activations::new(gpu)?;
    let n = ELEMENTWISE_N;
    let x = gpu.buffer_from("bench x", &pattern(n))?;
    let y = gpu.buffer("bench y", n)?;
    let d = acts
        .forward(gpu, Activation::LeakyRelu(0.2), &x, &y, n)?
        .expect("leaky_relu has a forward kernel");
    let (t, runs) = timer.medians(gpu, &[(&d, None)])?[0];
    let bytes = 8.0 * n as f64; // read x, write out
    rows.push(json!({"kernel": d.name, "n": n, "ms": t * 1e3, "gbps": bytes / t * 1e-9}));
    let _ = writeln!(
        w,
        "elementwise {} n = 2^22: {:.3} ms, {:.2} GB/s (8 bytes per element; median of {runs})",
        d.name,
        t * 1e3,
        bytes / t * 1e-9
    );

    conv_rows(gpu, &timer, w, &mut rows, mm)?;

    let xent = crate::kernels::softmax_xent::SoftmaxXent::new(gpu)?;
    let (n_rows, classes) = (4096, 10);
    let logits = gpu.buffer_from("bench logits", &pattern(n_rows * classes))?;
    let labels: Vec<f32> = (0..n_rows).map(|r| (r % classes) as f32).collect();
    let labels = gpu.buffer_from("bench labels", &labels)?;
    let logp = gpu.buffer("bench logp", n_rows * classes)?;
    let metrics = gpu.buffer("bench metrics", 2)?;
    let spec = crate::ops::XentSpec {
        rows: n_rows,
        classes,
        scale: 1.0,
        metrics_off: 0,
        accumulate: false,
    };
    let d = xent.loss(gpu, spec, &logits, &labels, &logp, &metrics)?;
    let (t, runs) = timer.medians(gpu, &[(&d, None)])?[0];
    let bytes = ((8 * classes + 4) * n_rows) as f64;
    let _ = writeln!(
        w,
        "loss {} {n_rows} x {classes}: {:.3} ms, {:.2} GB/s (one workgroup; median of {runs})",
        d.name,
        t * 1e3,
        bytes / t * 1e-9
    );
    let json = json!({"timing": timer.describe(), "rows": rows});
    Ok(Report::new(gpu, "kernels", out, json))
}

/// The convolutions of workload C (benches/WORKLOADS.md) at batch 64, forward: the direct kernel
/// (one output per lane, conv.wgsl) against the matmul form the executor uses (graph/conv_gemm.rs:
/// im2col or a copy to one row per pixel, the matmul `Matmul::bind` chooses, then the copy back
/// or col2im), whose time is the sum of its three dispatches' medians. GFLOP/s = 2 *
/// multiply-adds / s.
fn conv_rows(
    gpu: &Gpu,
    timer: &Timer,
    w: &mut String,
    rows: &mut Vec<serde_json::Value>,
    mm: &Matmul,
) -> Result<(), GpuError> {
    use crate::kernels::conv::Conv;
    use crate::kernels::At;
    use crate::ops::ConvShape;
    let conv = Conv::new(gpu)?;
    let shape = |in_ch, out_ch, side| ConvShape {
        batch: 64,
        in_ch,
        out_ch,
        h: side,
        w: side,
        k_h: 4,
        k_w: 4,
        stride: 2,
        pad: 1,
    };
    // (layer, transposed, the Conv2d it is or is the adjoint of)
    let layers = [
        ("D Conv2d(1, 64) 28x28", false, shape(1, 64, 28)),
        ("D Conv2d(64, 128) 14x14", false, shape(64, 128, 14)),
        ("G ConvT2d(128, 64) 7x7", true, shape(64, 128, 14)),
        ("G ConvT2d(64, 1) 14x14", true, shape(1, 64, 28)),
    ];
    let _ = writeln!(
        w,
        "convolutions of workload C, batch 64, forward, k4 s2 p1: direct kernel vs matmul form \
         (im2col/col2im + the chosen matmul; the sum of its dispatches' medians)"
    );
    for (name, transposed, s) in layers {
        let (p, q) = (s.out_h() * s.out_w(), s.in_ch * s.k_h * s.k_w);
        let (x_len, y_len) = if transposed {
            (s.output_len(), s.input_len())
        } else {
            (s.input_len(), s.output_len())
        };
        let x = gpu.buffer_from("bench conv x", &pattern(x_len))?;
        let wt = gpu.buffer_from("bench conv w", &pattern(s.weight_len()))?;
        let y = gpu.buffer("bench conv y", y_len)?;
        let cols = gpu.buffer("bench conv cols", s.cols_len())?;
        let tr = gpu.buffer("bench conv rows", s.batch * p * s.out_ch)?;
        let at = |b| At { buf: b, off: 0 };
        let id = Activation::Identity;
        let (direct, pieces) = if transposed {
            let direct = conv.conv2d_input_grad(gpu, s, at(&x), at(&wt), None, at(&y))?;
            let dims = [s.batch, s.out_ch, p];
            let to = conv.rows(gpu, false, dims, at(&x), at(&tr))?;
            let mmul = MatmulShape::new(s.batch * p, s.out_ch, q);
            let m = mm.bind(gpu, Variant::AB, &tr, &wt, None, &cols, mmul, id)?;
            let back = conv.col2im(gpu, s, at(&cols), None, at(&y))?;
            (direct, [to, m, back])
        } else {
            let direct = conv.conv2d(gpu, s, at(&x), at(&wt), None, at(&y))?;
            let i2c = conv.im2col(gpu, s, at(&x), at(&cols))?;
            let mmul = MatmulShape::new(s.batch * p, q, s.out_ch);
            let m = mm.bind(gpu, Variant::ABt, &cols, &wt, None, &tr, mmul, id)?;
            let dims = [s.batch, s.out_ch, p];
            let back = conv.rows(gpu, true, dims, at(&tr), at(&y))?;
            (direct, [i2c, m, back])
        };
        let t = timer.medians(
            gpu,
            &[
                (&direct, Some(BUDGET)),
                (&pieces[0], None),
                (&pieces[1], None),
                (&pieces[2], None),
            ],
        )?;
        let t_direct = t[0].0;
        let t_gemm = t[1].0 + t[2].0 + t[3].0;
        let flop = 2.0 * (s.output_len() * q) as f64;
        rows.push(json!({
            "kernel": "conv", "layer": name, "direct_ms": t_direct * 1e3, "gemm_ms": t_gemm * 1e3,
            "direct_gflops": flop / t_direct * 1e-9, "gemm_gflops": flop / t_gemm * 1e-9,
            "matmul_share": t[2].0 / t_gemm,
        }));
        let _ = writeln!(
            w,
            "{name:<24} direct {:>9.3} ms {:>6.2} GFLOP/s | matmul form {:>8.3} ms {:>6.2} \
             GFLOP/s ({:.0}% in the matmul) | {:>5.1}x",
            t_direct * 1e3,
            flop / t_direct * 1e-9,
            t_gemm * 1e3,
            flop / t_gemm * 1e-9,
            100.0 * t[2].0 / t_gemm,
            t_direct / t_gemm
        );
    }
    Ok(())
}

/// Inputs in [-0.5, 0.5): the values do not matter to the timing, only that they are normal.
pub(crate) fn pattern(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919) % 1009) as f32 / 1009.0 - 0.5)
        .collect()
}

/// GPU timestamps where the device has them, else the wall clock.
pub(crate) struct Timer {
    timestamps: bool,
}

impl Timer {
    pub(crate) fn new(gpu: &Gpu) -> Self {
        Timer {
            timestamps: gpu.timestamps,
        }
    }

    pub(crate) fn describe(&self) -> &'static str {
        if self.timestamps {
            "GPU timestamps around each dispatch"
        } else {
            "wall clock around submit + wait (no timestamp queries on this adapter)"
        }
    }

    /// Median seconds of one dispatch of each kernel, and the number of timed runs behind it:
    /// `RUNS` after `WARMUPS`, or as many (at least 3) as fit in the kernel's budget when it has
    /// one. The kernels' runs are interleaved, so a speed-up between them stays fair when
    /// something else shares the device (lavapipe shares the CPU with every other process).
    pub(crate) fn medians(
        &self,
        gpu: &Gpu,
        kernels: &[(&Dispatch, Option<Duration>)],
    ) -> Result<Vec<(f64, usize)>, GpuError> {
        let mut plan = Vec::new(); // (kernel, samples per wall-clock measurement), in run order
        let mut runs = Vec::new();
        let mut reps = Vec::new();
        for &(d, budget) in kernels {
            // Warm-ups, also the estimate that sizes the runs.
            let budget = budget.map_or(f64::INFINITY, |b| b.as_secs_f64());
            let mut once = f64::MAX;
            for w in 1..=WARMUPS {
                once = once.min(wall(gpu, d, 1)?);
                if once * w as f64 > budget / 4.0 {
                    break;
                }
            }
            runs.push(((budget / once) as usize).clamp(3, RUNS));
            // Without timestamps a sample repeats the dispatch until it lasts ~10 ms, so the
            // submit and wake-up costs (tens of microseconds) do not count as kernel time.
            reps.push(((0.01 / once).ceil() as usize).clamp(1, 64));
        }
        for round in 0..RUNS {
            for (i, &r) in runs.iter().enumerate() {
                // Spread a kernel's runs evenly over the rounds.
                if (round + 1) * r / RUNS > round * r / RUNS {
                    plan.push(i);
                }
            }
        }
        let mut samples = vec![Vec::new(); kernels.len()];
        if self.timestamps {
            let order: Vec<&Dispatch> = plan.iter().map(|&i| kernels[i].0).collect();
            for (&i, t) in plan.iter().zip(timestamped(gpu, &order)?) {
                samples[i].push(t);
            }
        } else {
            for &i in &plan {
                samples[i].push(wall(gpu, kernels[i].0, reps[i])? / reps[i] as f64);
            }
        }
        Ok(samples
            .into_iter()
            .map(|mut s| {
                s.sort_by(f64::total_cmp);
                let mid = s.len() / 2;
                let median = if s.len() % 2 == 1 {
                    s[mid]
                } else {
                    0.5 * (s[mid - 1] + s[mid])
                };
                (median, s.len())
            })
            .collect())
    }
}

/// Seconds for one submit of `reps` dispatches of `d` in one pass, and the wait for them.
fn wall(gpu: &Gpu, d: &Dispatch, reps: usize) -> Result<f64, GpuError> {
    let mut enc = gpu.device.create_command_encoder(&Default::default());
    {
        let mut pass = enc.begin_compute_pass(&Default::default());
        for _ in 0..reps {
            d.record(&mut pass);
        }
    }
    let cmd = enc.finish();
    let start = Instant::now();
    gpu.checked("benchmark submit", || gpu.queue.submit([cmd]))?;
    gpu.wait()?;
    Ok(start.elapsed().as_secs_f64())
}

/// Seconds of each dispatch in `order`, each in its own pass and submit, read from GPU
/// timestamps written at the start and end of the pass.
fn timestamped(gpu: &Gpu, order: &[&Dispatch]) -> Result<Vec<f64>, GpuError> {
    let count = 2 * order.len() as u32;
    let (queries, resolved) = super::timestamp_queries(gpu, "bench timestamps", count)?;
    for (r, d) in (0u32..).zip(order) {
        let mut enc = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("bench"),
                timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                    query_set: &queries,
                    beginning_of_pass_write_index: Some(2 * r),
                    end_of_pass_write_index: Some(2 * r + 1),
                }),
            });
            d.record(&mut pass);
        }
        if 2 * (r + 1) == count {
            enc.resolve_query_set(&queries, 0..count, &resolved, 0);
        }
        gpu.checked("benchmark submit", || gpu.queue.submit([enc.finish()]))?;
    }
    let ticks: Vec<u64> = gpu.read(&resolved)?;
    let ns_per_tick = gpu.queue.get_timestamp_period() as f64;
    Ok(ticks
        .chunks_exact(2)
        .map(|t| t[1].wrapping_sub(t[0]) as f64 * ns_per_tick * 1e-9)
        .collect())
}
