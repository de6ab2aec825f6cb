//! `shadergan selftest`: every entry point of every shader family on the selected adapter against
//! its CPU twin, on odd shapes with outputs poisoned with NaN first, at the tolerances the parity
//! tests use; then whole MLP and DCGAN iterations against the CPU executor. A user runs it on
//! their own GPU (drivers differ: a matmul that returns zeros past some size, results that depend
//! on an assumed subgroup size, missing timestamp queries); `cargo test` runs it on lavapipe
//! (tests/selftest.rs), and the parity tests share its comparison ([`compare`]).
//!
//! Most families are checked through the two executors: a small graph of the family's ops runs on
//! the GPU plan and on the CPU executor, and every output is compared ([`graph_case`]); the
//! dispatches the GPU plan compiled name the entry points it covered. The matmul family binds
//! every form this adapter can run directly. A family whose entry point no case reached fails:
//! coverage is checked against the shader's own entry points, read by naga.

pub mod compare;
mod families;
mod iteration;
mod matmul;

use crate::gpu::{Gpu, GpuError};
use crate::graph::cpu::CpuPlan;
use crate::graph::gpu::GpuPlan;
use crate::graph::{Dtype, Graph, Op, TensorId};
use compare::compare;
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Instant;

/// What one family's checks found.
#[derive(Clone, Debug, Default)]
pub struct FamilyResult {
    /// The shader file, or "mlp iteration" / "dcgan iteration".
    pub family: String,
    /// Entry points the cases dispatched.
    pub covered: BTreeSet<String>,
    /// Entry points of the family no case reached (a failure).
    pub missed: Vec<String>,
    pub cases: usize,
    /// Worst relative error over every compared value.
    pub worst_rel: f64,
    pub failures: Vec<String>,
    /// Why the family was not run on this adapter (then it neither passes nor fails).
    pub skipped: Option<String>,
    pub seconds: f64,
}

impl FamilyResult {
    pub fn passed(&self) -> bool {
        self.skipped.is_some() || (self.failures.is_empty() && self.missed.is_empty())
    }

    /// Records one comparison of `got` against `want`.
    pub fn close(&mut self, what: &str, got: &[f32], want: &[f32], rtol: f32, atol: f32) {
        let c = compare(got, want, rtol, atol);
        self.cases += 1;
        self.worst_rel = self.worst_rel.max(c.worst_rel);
        if !c.ok() {
            self.failures.push(c.describe(what, rtol, atol));
        }
    }

    /// Records one exact comparison of words (random bits, indices, counters).
    pub fn exact(&mut self, what: &str, got: &[u32], want: &[u32]) {
        self.cases += 1;
        let bad =
            got.len() < want.len() || got.iter().zip(want).filter(|(a, b)| a != b).count() > 0;
        if bad {
            let n = got.iter().zip(want).filter(|(a, b)| a != b).count();
            self.failures
                .push(format!("{what}: {n} of {} words differ", want.len()));
            self.worst_rel = f64::INFINITY;
        }
    }

    pub fn cover(&mut self, entry: &str) {
        self.covered.insert(entry.to_string());
    }
}

/// One graph case: ops over a graph's tensors, and the tensors to compare afterwards with their
/// tolerances (u32 tensors exactly).
pub(crate) struct GraphCase {
    pub what: String,
    pub graph: Graph,
    pub ops: Vec<Op>,
    pub outputs: Vec<(&'static str, TensorId, f32, f32)>,
}

/// Runs a case on both executors and compares its outputs; the GPU plan's dispatches name the
/// entry points covered.
pub(crate) fn graph_case(gpu: &Gpu, r: &mut FamilyResult, case: GraphCase) -> Result<(), GpuError> {
    let plan = GpuPlan::new(gpu, &case.graph)?;
    let d = plan.compile(gpu, &case.ops)?;
    for x in &d {
        r.cover(x.name);
    }
    plan.run(gpu, &[&d], 1)?;
    let mut cpu = CpuPlan::new(&case.graph);
    cpu.run(&case.ops);
    for (name, t, rtol, atol) in case.outputs {
        let what = format!("{} {name}", case.what);
        match case.graph.tensors[t].dtype {
            Dtype::F32 => r.close(
                &what,
                &plan.read_f32(gpu, t)?,
                cpu.tensors[t].f32(),
                rtol,
                atol,
            ),
            Dtype::U32 => r.exact(&what, &plan.read_u32(gpu, t)?, cpu.tensors[t].u32()),
        }
    }
    Ok(())
}

/// A family's check: the adapter, whether to run the short version, and the result to fill.
type Check = fn(&Gpu, bool, &mut FamilyResult) -> Result<(), GpuError>;

/// Every family, in the order they run: the shader file (whose entry points must all be
/// covered) or a whole-iteration check (`None`), and its check.
pub fn families() -> Vec<(&'static str, Option<&'static str>, Check)> {
    vec![
        (
            "activation.wgsl",
            Some("activation.wgsl"),
            families::activation,
        ),
        ("bce.wgsl", Some("bce.wgsl"), families::bce),
        (
            "softmax_xent.wgsl",
            Some("softmax_xent.wgsl"),
            families::softmax_xent,
        ),
        ("optim.wgsl", Some("optim.wgsl"), families::optim),
        ("rng.wgsl", Some("rng.wgsl"), families::rng),
        ("gather.wgsl", Some("gather.wgsl"), families::gather),
        (
            "batchnorm.wgsl",
            Some("batchnorm.wgsl"),
            families::batchnorm,
        ),
        ("conv.wgsl", Some("conv.wgsl"), families::conv),
        ("spectral.wgsl", Some("spectral.wgsl"), families::spectral),
        (
            "embedding.wgsl",
            Some("embedding.wgsl"),
            families::embedding,
        ),
        ("peak.wgsl", Some("peak.wgsl"), families::peak),
        ("matmul.wgsl", Some("matmul.wgsl"), matmul::tiled),
        ("matmul_sg.wgsl", Some("matmul_sg.wgsl"), matmul::subgroup),
        ("mlp iteration", None, iteration::mlp),
        ("dcgan iteration", None, iteration::dcgan),
    ]
}

/// The entry points a shader family declares, read by naga.
fn entry_points(file: &str) -> Vec<String> {
    let src = crate::kernels::full_source(crate::kernels::shader(file));
    match crate::kernels::validate_wgsl(file, &src) {
        Ok((module, _)) => module.entry_points.iter().map(|e| e.name.clone()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Runs the families whose names start with `only` (all when empty); `quick` runs fewer shapes.
pub fn run(gpu: &Gpu, quick: bool, only: &[String]) -> Vec<FamilyResult> {
    let mut out = Vec::new();
    for (name, file, check) in families() {
        if !only.is_empty() && !only.iter().any(|o| name.starts_with(o.as_str())) {
            continue;
        }
        let t = Instant::now();
        let mut r = FamilyResult {
            family: name.to_string(),
            ..Default::default()
        };
        if let Err(e) = check(gpu, quick, &mut r) {
            r.failures.push(format!("the check stopped: {e}"));
        }
        if let (Some(file), None) = (file, &r.skipped) {
            r.missed = entry_points(file)
                .into_iter()
                .filter(|e| !r.covered.contains(e))
                .collect();
        }
        r.seconds = t.elapsed().as_secs_f64();
        out.push(r);
    }
    out
}

/// The report: one line per family and a verdict, as text and as one JSON record.
pub fn report(gpu: &Gpu, results: &[FamilyResult]) -> crate::bench::Report {
    let mut text = format!(
        "selftest on {} ({:?}, {} {})\n{:<18} {:>7} {:>6} {:>11} {:>7}  result\n",
        gpu.info.name,
        gpu.info.backend,
        gpu.info.driver,
        gpu.info.driver_info,
        "family",
        "entries",
        "cases",
        "worst rel",
        "s"
    );
    for r in results {
        let verdict = match (&r.skipped, r.passed()) {
            (Some(why), _) => format!("skipped: {why}"),
            (None, true) => "pass".to_string(),
            (None, false) => "FAIL".to_string(),
        };
        text += &format!(
            "{:<18} {:>7} {:>6} {:>11.2e} {:>7.1}  {verdict}\n",
            r.family,
            r.covered.len(),
            r.cases,
            r.worst_rel,
            r.seconds
        );
        for m in &r.missed {
            text += &format!("    not covered by any case: {m}\n");
        }
        for f in r.failures.iter().take(5) {
            text += &format!("    {f}\n");
        }
        if r.failures.len() > 5 {
            text += &format!("    ... and {} more\n", r.failures.len() - 5);
        }
    }
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| !r.passed())
        .map(|r| r.family.as_str())
        .collect();
    let verdict = if failed.is_empty() {
        format!("selftest PASSED: {} families", results.len())
    } else {
        format!("selftest FAILED: {}", failed.join(", "))
    };
    text += &verdict;
    text.push('\n');
    let records: Vec<_> = results
        .iter()
        .map(|r| {
            json!({
                "family": r.family,
                "entries": r.covered.iter().collect::<Vec<_>>(),
                "missed": r.missed,
                "cases": r.cases,
                "worst_rel": if r.worst_rel.is_finite() { json!(r.worst_rel) } else { json!(null) },
                "failures": r.failures,
                "skipped": r.skipped,
                "passed": r.passed(),
                "seconds": r.seconds,
            })
        })
        .collect();
    let results = json!({ "passed": failed.is_empty(), "families": records });
    crate::bench::Report::new(gpu, "selftest", text, results)
}
