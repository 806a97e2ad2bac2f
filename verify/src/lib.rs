//! `wasm-migrate verify`: runs the original Python service and the migrated Wasm module on the
//! same inputs and says, per input and output, whether they agree, and if not, which stage
//! (preprocessing, model, precision, labels) and which plan step is the likely cause.
//!
//! Python is always the reference. Stage 1 compares the tensor fed to the model (the
//! harness records it as the service calls its model; the glue dumps it); stage 2 compares
//! each model output.

pub mod api;
pub mod compare;
pub mod diagnose;
mod error;
pub mod http;
mod inputs;
mod migrated;
pub use migrated::preload_spec;
mod original;
pub mod render;
pub mod report;
mod tensor_file;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use wasm_migrate_plan::{Dtype, Layout, MigrationPlan};
use wasm_migrate_runtime::{BackendKind, HostProfile, Precision, Runtime, RuntimeOptions};

pub use compare::{Comparison, Tolerance};
pub use diagnose::{Blame, Cause};
pub use error::VerifyError;
pub use original::HARNESS;
pub use report::{Stage, Verdict, VerifyReport};

use crate::migrated::MigratedRun;
use crate::original::{Recorded, Reference, ReferenceResult};
use crate::report::{
    BackendReport, InputInfo, InputResult, LabelCheck, OriginalSide, OutputResult, Timing, TopK,
    WallTime,
};
use crate::tensor_file::Tensor;

/// Tolerance presets for stage 2 (model outputs).
pub const PRESETS: &[(&str, Tolerance, &str)] = &[
    (
        "float32",
        Tolerance {
            atol: 1e-5,
            rtol: 1.3e-6,
        },
        "torch.testing's float32 defaults: the same kernels on both sides",
    ),
    (
        "cross-backend",
        Tolerance {
            atol: 1e-4,
            rtol: 1e-3,
        },
        "float32 on different backends (PyTorch vs OpenVINO vs ONNX Runtime vs tract): sums are \
         reordered and fused, so a few ulps per layer add up; the default",
    ),
    (
        "bf16",
        Tolerance {
            atol: 1e-5,
            rtol: 1.6e-2,
        },
        "torch.testing's bfloat16 defaults: for a deployment that computes in bf16 on purpose",
    ),
];

pub fn preset(name: &str) -> Option<Tolerance> {
    PRESETS.iter().find(|p| p.0 == name).map(|p| p.1)
}

#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub service: PathBuf,
    /// The glue directory (default: SERVICE/migrated) holding app.wasm and model/.
    pub glue: Option<PathBuf>,
    pub python: Option<PathBuf>,
    pub backends: Vec<BackendKind>,
    /// What OpenVINO computes in (f32 unless asked for the device default).
    pub precision: Precision,
    /// Files or folders; empty: photographs made by the harness.
    pub inputs: Vec<PathBuf>,
    /// How many inputs to make when none are given.
    pub count: usize,
    pub save_inputs: Option<PathBuf>,
    pub save_reference: Option<PathBuf>,
    pub reference: Option<PathBuf>,
    /// Stage-2 preset (`float32`, `cross-backend`, `bf16`; default: the plan's).
    pub preset: Option<String>,
    pub atol: Option<f64>,
    pub rtol: Option<f64>,
    /// Per-output tolerances, by output name (`output0`) or index (`0`).
    pub overrides: BTreeMap<String, Tolerance>,
    pub top_k: usize,
    /// Overwrite --save-inputs / --save-reference directories.
    pub force: bool,
    /// The model to compare when the service calls several per request (its attribute path,
    /// last name or type); default: the first one called.
    pub model: Option<String>,
    /// `--http`: the host whose terms the module is served on (WasmEdge's, to prove it
    /// behaves there; see `wasm-migrate serve --like`).
    pub host: HostProfile,
}

impl VerifyOptions {
    pub fn new(service: impl Into<PathBuf>) -> Self {
        VerifyOptions {
            service: service.into(),
            glue: None,
            python: None,
            backends: vec![BackendKind::Tract],
            precision: Precision::F32,
            inputs: Vec::new(),
            count: 8,
            save_inputs: None,
            save_reference: None,
            reference: None,
            preset: None,
            atol: None,
            rtol: None,
            overrides: BTreeMap::new(),
            top_k: 5,
            model: None,
            force: false,
            host: HostProfile::Embedded,
        }
    }
}

/// What verify is doing, for a progress display.
#[derive(Debug, Clone)]
pub enum Progress {
    Phase(String),
    Step { done: usize, total: usize },
}

fn stage2_tolerance(
    options: &VerifyOptions,
    plan: &MigrationPlan,
) -> Result<(String, Tolerance), VerifyError> {
    let (name, mut tolerance) = match &options.preset {
        Some(name) => (
            name.clone(),
            preset(name).ok_or_else(|| {
                VerifyError::Usage(format!(
                    "unknown tolerance preset `{name}`: choose {}",
                    PRESETS.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
                ))
            })?,
        ),
        None => (
            plan.tolerances.preset.to_string(),
            preset(plan.tolerances.preset.as_str()).unwrap_or(Tolerance {
                atol: plan.tolerances.atol,
                rtol: plan.tolerances.rtol,
            }),
        ),
    };
    let mut name = name;
    if let Some(atol) = options.atol {
        tolerance.atol = atol;
        name = "custom".into();
    }
    if let Some(rtol) = options.rtol {
        tolerance.rtol = rtol;
        name = "custom".into();
    }
    Ok((name, tolerance))
}

/// Stage 1's tolerance: one 8-bit level in the tensor's own units, whatever the scaling;
/// exact for integer tensors (token ids, masks).
fn stage1_tolerance(expected: &Tensor) -> Tolerance {
    if expected.dtype.starts_with("int") {
        return Tolerance {
            atol: 0.0,
            rtol: 0.0,
        };
    }
    let (lo, hi) = expected
        .data
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let range = if hi > lo { (hi - lo) as f64 } else { 1.0 };
    Tolerance {
        atol: (range / 255.0 * 1.001).max(1e-6),
        rtol: 0.0,
    }
}

fn copy_into(files: &[PathBuf], dir: &Path, force: bool) -> Result<(), VerifyError> {
    if dir.exists() && !force && std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(VerifyError::Usage(format!(
            "{}: exists and is not empty; pass --force to overwrite",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(error::io(dir))?;
    for file in files {
        let name = file.file_name().unwrap_or_default();
        let target = dir.join(name);
        let staged = dir.join(format!(".{}.partial", name.to_string_lossy()));
        std::fs::copy(file, &staged).map_err(error::io(file))?;
        std::fs::rename(&staged, &target).map_err(error::io(&target))?;
    }
    Ok(())
}

/// The glue directory (`--glue`, else SERVICE/migrated) and its built `app.wasm`.
pub fn built_module(options: &VerifyOptions) -> Result<(PathBuf, PathBuf), VerifyError> {
    let glue = options
        .glue
        .clone()
        .unwrap_or_else(|| wasm_migrate_codegen::default_out(&options.service));
    let module_path = glue.join("app.wasm");
    if !module_path.is_file() {
        return Err(VerifyError::Migrated {
            path: module_path,
            reason: format!(
                "the build is missing: run `wasm-migrate build {}` first",
                glue.display()
            ),
        });
    }
    Ok((glue, module_path))
}

/// Runs both sides and compares them. Errors are the could-not-run cases (exit 2); a
/// difference is a report whose verdict is `Differ`.
pub fn verify(
    options: &VerifyOptions,
    progress: &dyn Fn(Progress),
) -> Result<VerifyReport, VerifyError> {
    let started = Instant::now();
    let service = options.service.as_path();
    if !service.is_dir() {
        return Err(VerifyError::Usage(format!(
            "{}: no such service directory",
            service.display()
        )));
    }
    let plan = wasm_migrate_plan::LoadedPlan::load(service)?.plan;
    let (glue, module_path) = built_module(options)?;
    if options.backends.is_empty() {
        return Err(VerifyError::Usage("no backend to verify on".into()));
    }
    let (preset_name, outputs_tolerance) = stage2_tolerance(options, &plan)?;
    // Per-output tolerances: the plan's, then the command line's over them.
    let mut overrides: BTreeMap<String, Tolerance> = plan
        .tolerances
        .outputs
        .iter()
        .map(|(k, t)| {
            (
                k.clone(),
                Tolerance {
                    atol: t.atol,
                    rtol: t.rtol,
                },
            )
        })
        .collect();
    overrides.extend(options.overrides.clone());
    let options = &VerifyOptions {
        overrides: overrides.clone(),
        ..options.clone()
    };
    let work_dir = tempfile::tempdir().map_err(error::io(&std::env::temp_dir()))?;
    let work = work_dir.path();
    let python = wasm_migrate_codegen::find_python(service, options.python.as_deref());
    let mut warnings = Vec::new();

    // Inputs and the reference.
    let python_started = Instant::now();
    let (inputs, reference) = match &options.reference {
        Some(dir) => {
            progress(Progress::Phase(format!(
                "reading the stored reference in {}",
                dir.display()
            )));
            let reference = Reference::load(dir)?;
            let inputs = inputs::stored(dir, &reference.summary.results)?;
            (inputs, reference)
        }
        None => {
            let inputs = if options.inputs.is_empty() {
                progress(Progress::Phase(format!(
                    "making {} inputs with {}",
                    options.count,
                    python.display()
                )));
                let dir = work.join("inputs");
                let kind = original::inputs_kind(&plan)?;
                let (source, paths) =
                    original::make_inputs(&python, work, options.count, &dir, &kind)?;
                if source == "random" {
                    warnings.push(
                        "scikit-image is not installed in the service's Python: the inputs are \
                         seeded random pixels, which can raise false alarms (a near-tie in the \
                         scores flips top-1); give real inputs with --inputs"
                            .to_string(),
                    );
                }
                paths
                    .iter()
                    .map(|p| InputInfo::from_path(p, &source))
                    .collect()
            } else {
                inputs::collect(&options.inputs, &plan)?
            };
            let paths: Vec<PathBuf> = inputs.iter().map(|i| PathBuf::from(&i.path)).collect();
            progress(Progress::Phase(format!(
                "running the original service with {}",
                python.display()
            )));
            let reference = original::run_reference(
                &original::ReferenceRun {
                    python: &python,
                    service,
                    plan: &plan,
                    inputs: &paths,
                    work,
                    model: options.model.as_deref(),
                    observe_api: false,
                },
                &|d, t| progress(Progress::Step { done: d, total: t }),
            )?;
            (inputs, reference)
        }
    };
    let python_wall = python_started.elapsed().as_secs_f64();
    if let Some(warning) = several_models_warning(&reference.summary, options.model.as_deref()) {
        warnings.push(warning);
    }
    let paths: Vec<PathBuf> = inputs.iter().map(|i| PathBuf::from(&i.path)).collect();
    if let Some(dir) = &options.save_inputs {
        copy_into(&paths, dir, options.force)?;
    }
    if let Some(dir) = &options.save_reference {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&reference.dir)
            .map_err(error::io(&reference.dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        copy_into(&files, dir, options.force)?;
        copy_into(&paths, &dir.join("inputs"), true)?;
    }

    // The migrated side.
    let runtime = Runtime::new(RuntimeOptions::default()).map_err(|e| VerifyError::Migrated {
        path: module_path.clone(),
        reason: e.to_string(),
    })?;
    let load_started = Instant::now();
    let module = runtime
        .load(&module_path)
        .map_err(|e| VerifyError::Migrated {
            path: module_path.clone(),
            reason: e.to_string(),
        })?;
    let compile_s = load_started.elapsed().as_secs_f64();
    let module_runs = migrated::ModuleRuns {
        runtime: &runtime,
        module: &module,
        plan: &plan,
        glue: &glue,
        precision: options.precision,
        inputs: &paths,
        work,
    };
    let mut runs = Vec::new();
    for &backend in &options.backends {
        progress(Progress::Phase(format!("running the module on {backend}")));
        let run = migrated::run_backend(&module_runs, backend, &|d, t| {
            progress(Progress::Step { done: d, total: t })
        })?;
        runs.push(run);
    }

    // The comparison.
    progress(Progress::Phase("comparing".into()));
    let compare_started = Instant::now();
    let mut recorded = Vec::with_capacity(paths.len());
    for index in 0..paths.len() {
        recorded.push(reference.recorded(index)?);
    }
    let comparing = Comparing {
        plan: &plan,
        layout: plan.input.as_ref().and_then(|i| i.layout),
        tolerance: outputs_tolerance,
        options,
        compile_s,
        reference: &reference.summary.results,
        recorded: &recorded,
        inputs: &inputs,
    };
    let backends: Vec<BackendReport> = runs
        .iter()
        .map(|run| backend_report(run, &comparing))
        .collect();
    let compare_s = compare_started.elapsed().as_secs_f64();

    let service_names_classes = reference
        .summary
        .results
        .iter()
        .any(|r| !r.labels.is_empty());
    let module_names_classes = runs
        .iter()
        .flat_map(|run| &run.results)
        .any(|m| m.top1_label.is_some());
    if service_names_classes && !module_names_classes && !paths.is_empty() {
        warnings.push(
            "the service answers with class names but the migrated module has no labels: add \
             `labels:` (a file of class names) to the plan and generate again"
                .into(),
        );
    }

    let verdict = if backends.iter().all(|b| b.verdict == Verdict::Equivalent) {
        Verdict::Equivalent
    } else {
        Verdict::Differ
    };
    let summary = summarize(&backends, verdict);
    let model_seconds: Vec<f64> = reference
        .summary
        .results
        .iter()
        .map(|r| r.model_seconds)
        .collect();
    let python_inference_s: f64 = model_seconds.iter().sum();
    let wasm_inference_s: f64 = runs
        .iter()
        .flat_map(|r| &r.results)
        .filter_map(|r| r.inference_s)
        .sum();
    let report = VerifyReport {
        schema: report::SCHEMA.into(),
        schema_version: report::SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        service: service.display().to_string(),
        module: module_path.display().to_string(),
        verdict,
        summary,
        warnings,
        tolerances: report::Tolerances {
            preprocessed: Tolerance {
                atol: 1.0 / 255.0,
                rtol: 0.0,
            },
            preset: preset_name,
            outputs: outputs_tolerance,
            overrides: overrides.clone(),
        },
        inputs,
        original: OriginalSide {
            python: match &options.reference {
                Some(dir) => format!("reference {}", dir.display()),
                None => reference.summary.python.clone(),
            },
            versions: reference.summary.versions.clone(),
            watched: reference.summary.watched.clone(),
            timing: Timing::from_inferences(reference.summary.load_seconds, &model_seconds),
        },
        backends,
        wall_time: WallTime {
            total_s: started.elapsed().as_secs_f64(),
            python_startup_s: if options.reference.is_some() {
                0.0
            } else {
                (python_wall - python_inference_s).max(0.0)
            },
            python_inference_s,
            wasm_load_s: compile_s + runs.iter().map(|r| r.load_s).sum::<f64>(),
            wasm_inference_s,
            compare_s,
        },
    };
    Ok(report)
}

fn summarize(backends: &[BackendReport], verdict: Verdict) -> String {
    if verdict == Verdict::Equivalent {
        let results = backends.first().map_or(&[][..], |b| &b.results[..]);
        // Inputs both sides refused carry no tensors to compare.
        let refused = results
            .iter()
            .filter(|r| r.preprocessed.is_none() && r.outputs.is_empty());
        let refused = refused.count();
        let names: Vec<&str> = backends.iter().map(|b| b.backend.as_str()).collect();
        let compared = results.len() - refused;
        let also = match refused {
            0 => String::new(),
            n => format!("; {n} more refused by both"),
        };
        return format!(
            "equivalent: {compared} input(s) agree on {} at stage 1 (preprocessing) and stage 2 \
             (outputs){also}",
            names.join(", ")
        );
    }
    for b in backends {
        for r in &b.results {
            if let Some(error) = &r.error {
                return format!("differ: {} on {}: {error}", r.input, b.backend);
            }
            match (r.stage, &r.blame) {
                (Some(Stage::Preprocessing), Some(blame)) => {
                    return format!(
                        "differ at stage 1: the preprocessing differs, before the model ({}): {}",
                        blame.step.as_deref().unwrap_or("no step identified"),
                        blame.reason
                    );
                }
                (Some(stage), _) => {
                    return format!(
                        "differ at {}: {}",
                        match stage {
                            Stage::Preprocessing => "stage 1",
                            Stage::Model | Stage::Precision => "stage 2",
                            Stage::Labels => "the labels",
                        },
                        r.explanation.clone().unwrap_or_default()
                    );
                }
                (None, _) => {}
            }
        }
    }
    "differ".into()
}

fn tensor_top_k(t: &Tensor, k: usize) -> Option<Vec<usize>> {
    // Classifier scores: one row (batch 1) of more than one class.
    let rows = t.shape.iter().rev().skip(1).product::<usize>();
    let classes = *t.shape.last()?;
    (rows == 1 && classes > 1).then(|| compare::top_k(&t.data, k.min(classes)))
}

/// What every comparison of one verify run shares: the plan, the tolerances, and Python's
/// side for each input.
struct Comparing<'a> {
    plan: &'a MigrationPlan,
    layout: Option<Layout>,
    /// Stage 2's, before per-output overrides.
    tolerance: Tolerance,
    options: &'a VerifyOptions,
    compile_s: f64,
    reference: &'a [ReferenceResult],
    recorded: &'a [Option<Recorded>],
    inputs: &'a [InputInfo],
}

fn backend_report(run: &MigratedRun, ctx: &Comparing<'_>) -> BackendReport {
    // The precision the backend computes in, as it names it (`f32`, `bf16`, `f16`).
    let computed = run.precision.parse::<Dtype>().ok();
    let below_f32 = matches!(computed, Some(Dtype::Bf16 | Dtype::F16)) || run.weights != Dtype::F32;
    let results: Vec<InputResult> = (0..ctx.inputs.len())
        .map(|i| compare_input(ctx, run, i, below_f32))
        .collect();
    let seconds: Vec<f64> = run.results.iter().filter_map(|r| r.inference_s).collect();
    BackendReport {
        backend: run.backend.to_string(),
        version: run.version.clone(),
        precision: run.precision.clone(),
        model: run.model.clone(),
        weights: run.weights.to_string(),
        verdict: if results.iter().all(|r| r.verdict == Verdict::Equivalent) {
            Verdict::Equivalent
        } else {
            Verdict::Differ
        },
        timing: Timing::from_inferences(ctx.compile_s + run.load_s, &seconds),
        results,
    }
}

/// Says which model was compared when a request called several.
fn several_models_warning(
    summary: &original::ReferenceSummary,
    chosen: Option<&str>,
) -> Option<String> {
    let mut called: Vec<&str> = Vec::new();
    for name in summary.results.iter().flat_map(|r| &r.models_called) {
        if !called.contains(&name.as_str()) {
            called.push(name);
        }
    }
    if called.len() < 2 {
        return None;
    }
    let compared = match chosen {
        Some(name) => format!("`{name}`, as --model asks"),
        None => format!(
            "`{}`, the first called; choose another with --model NAME",
            called[0]
        ),
    };
    Some(format!(
        "the service calls {} models per request ({}); compared {compared}",
        called.len(),
        called.join(", ")
    ))
}

/// A Python traceback's last line names the exception.
fn last_line(message: &str) -> &str {
    let line = message.lines().rev().find(|l| !l.trim().is_empty());
    line.unwrap_or(message).trim()
}

/// Input `index` on one backend: stage 1, stage 2 and the labels, with the blame.
fn compare_input(
    ctx: &Comparing<'_>,
    run: &MigratedRun,
    index: usize,
    below_f32: bool,
) -> InputResult {
    let info = &ctx.inputs[index];
    let reference = ctx.reference.get(index);
    let recorded = ctx.recorded.get(index).and_then(Option::as_ref);
    let migrated = run.results.get(index);
    let (plan, options, tolerance) = (ctx.plan, ctx.options, ctx.tolerance);
    let mut result = InputResult {
        input: info.name.clone(),
        verdict: Verdict::Differ,
        error: None,
        preprocessed: None,
        outputs: Vec::new(),
        labels: None,
        stage: None,
        blame: None,
        explanation: None,
    };
    let python_error = reference.and_then(|r| r.error.clone());
    let migrated_error = migrated.and_then(|m| m.error.as_deref());
    if let (Some(original), Some(module)) = (&python_error, migrated_error) {
        // A truncated or non-image upload: both sides refuse it, which is what clients see.
        result.verdict = Verdict::Equivalent;
        result.explanation = Some(format!(
            "refused by both: the original with `{}`; the module with `{}`",
            last_line(original),
            module.lines().next().unwrap_or(module).trim()
        ));
        return result;
    }
    let (Some(recorded), Some(migrated)) = (recorded, migrated) else {
        result.error = Some(match python_error {
            Some(e) => format!("the original service failed on it: {e}"),
            None => "the original service did not call its model".into(),
        });
        return result;
    };
    if let Some(e) = &migrated.error {
        result.error = Some(format!("the migrated module failed on it: {e}"));
        return result;
    }
    // Stage 1.
    let mut stage1_ok = true;
    if let (Some(expected), Some(actual)) = (recorded.fed.first(), &migrated.fed) {
        let t = stage1_tolerance(expected);
        let mut c = compare::compare(
            &expected.shape,
            &expected.data,
            &actual.shape,
            &actual.data,
            t,
        );
        c.dtype = format!("{} vs {}", expected.dtype, actual.dtype);
        if expected.dtype == actual.dtype {
            c.dtype = expected.dtype.clone();
        }
        stage1_ok = c.passed;
        if !c.passed {
            let mut blame = diagnose::diagnose(
                expected.view(),
                actual.view(),
                &diagnose::Stage1Context {
                    atol: t.atol,
                    layout: ctx.layout,
                    steps: &plan.preprocessing,
                },
            );
            let jpeg = info.name.to_ascii_lowercase().ends_with(".jpg")
                || info.name.to_ascii_lowercase().ends_with(".jpeg");
            if jpeg && blame.cause == Cause::Resampling && c.max_abs <= 8.0 * t.atol {
                blame.cause = Cause::Decoding;
                blame.step = plan
                    .preprocessing
                    .first()
                    .map(|s| format!("{}.{} ({})", s.library.as_str(), s.op, s.at));
                blame.reason = format!(
                    "values differ by at most {:.1} pixel levels on a JPEG input: the glue decodes \
                     JPEG as PIL does (libjpeg-turbo's accurate integer IDCT, fancy upsampling), \
                     and the service decodes it otherwise (tf.io.decode_jpeg's default fast \
                     IDCT, OpenCV's CMYK conversion, a draft() scale); PNG inputs show whether \
                     anything else differs",
                    c.max_abs / t.atol
                );
            }
            result.stage = Some(Stage::Preprocessing);
            result.explanation = Some(format!("the preprocessing differs: {}", blame.reason));
            result.blame = Some(blame);
        }
        result.preprocessed = Some(c);
    }
    // Stage 2.
    let mut stage2_ok = true;
    for (k, expected) in recorded.outputs.iter().enumerate() {
        let Some((name, actual)) = migrated.outputs.get(k) else {
            stage2_ok = false;
            result.explanation.get_or_insert(format!(
                "Python's model has output {k} but the module printed {} output(s)",
                migrated.outputs.len()
            ));
            continue;
        };
        let t = options
            .overrides
            .get(name)
            .or_else(|| options.overrides.get(&k.to_string()))
            .copied()
            .unwrap_or(tolerance);
        let c = compare::compare(
            &expected.shape,
            &expected.data,
            &actual.shape,
            &actual.data,
            t,
        );
        stage2_ok &= c.passed;
        let top_k = match (
            tensor_top_k(expected, options.top_k),
            tensor_top_k(actual, options.top_k),
        ) {
            (Some(e), Some(a)) => Some(TopK {
                k: e.len(),
                top1_equal: e.first() == a.first(),
                overlap: e.iter().filter(|i| a.contains(i)).count(),
                expected: e,
                actual: a,
            }),
            _ => None,
        };
        result.outputs.push(OutputResult {
            name: name.clone(),
            comparison: c,
            top_k,
        });
    }
    // Labels: the service's first class name against the module's top-1 label.
    if let (Some(expected), Some(actual)) = (
        reference.and_then(|r| r.labels.first()),
        migrated.top1_label.as_ref(),
    ) {
        result.labels = Some(LabelCheck {
            expected: expected.clone(),
            actual: Some(actual.clone()),
            equal: expected == actual,
        });
    }
    let labels_ok = result.labels.as_ref().is_none_or(|l| l.equal);
    if stage1_ok && !stage2_ok {
        let worst = result
            .outputs
            .iter()
            .map(|o| o.comparison.max_abs)
            .fold(0.0, f64::max);
        if below_f32 {
            result.stage = Some(Stage::Precision);
            result.explanation = Some(format!(
                "the preprocessed tensors agree but the outputs differ by up to {}: {} ran \
                 at {} with {} weights, below the float32 the model was made in. This is a precision \
                 difference, not a preprocessing or model error: rerun with --precision f32 to \
                 check the rest, or accept it with --preset bf16",
                crate::render::num(worst),
                run.backend,
                run.precision,
                run.weights
            ));
        } else {
            result.stage = Some(Stage::Model);
            result.explanation = Some(format!(
                "the preprocessed tensors agree but the outputs differ by up to {} at \
                 float32: the converted model computes something else (exported in training mode, \
                 with dropout or batch-norm statistics live? another checkpoint? an unsupported op?)",
                crate::render::num(worst)
            ));
        }
    } else if stage1_ok && stage2_ok && !labels_ok {
        let l = result.labels.as_ref();
        result.stage = Some(Stage::Labels);
        result.explanation = Some(format!(
            "the outputs agree but the module names class `{}` where the service says `{}`: the \
             label file is offset or in another order",
            l.and_then(|l| l.actual.clone()).unwrap_or_default(),
            l.map(|l| l.expected.clone()).unwrap_or_default()
        ));
    }
    if stage1_ok && stage2_ok && labels_ok {
        result.verdict = Verdict::Equivalent;
    }
    result
}
