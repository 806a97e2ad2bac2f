//! Static analysis of Python inference services for migration to WebAssembly.
//!
//! ```no_run
//! let report = wasm_migrate_analyzer::analyze(
//!     std::path::Path::new("samples/torchvision-flask"),
//!     &wasm_migrate_analyzer::Options::default(),
//! ).unwrap();
//! println!("{}", report.recommendation.path.label());
//! ```

pub mod error;
pub mod knowledge;
pub mod manifest;
mod packages;
pub mod pipeline;
pub mod plan;
mod plan_builder;
pub mod policy;
pub mod python;
pub mod refusals;
pub mod render;
pub mod report;
pub mod rules;
pub mod service;
pub mod source;
pub mod walk;

mod phases;

use std::path::{Path, PathBuf};
use std::time::Instant;

pub use error::AnalyzeError;
pub use knowledge::{KnowledgeBase, MigrationPath};
pub use policy::{FailOn, Target};
pub use report::{Finding, Report};
pub use rules::{Category, RuleSet};

use packages::ThirdPartyImport;
use phases::{
    Merged, ServiceTree, library_findings, merge_files, parse_files, plan_for,
    reread_with_service_values, sort_and_count,
};
use pipeline::{Pipeline, PipelineDetector};
use python::{ImportSite, Observer, ParsedModule};
use report::{FileStatus, FileSummary, Location};
use rules::{RuleObserver, ServiceFacts};

pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Default limit on the size of one Python file: bigger ones are generated code or data.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// How to analyze.
#[derive(Debug, Clone)]
pub struct Options {
    /// A directory of user rules (`*.yaml`) and package entries (`packages*.yaml`).
    pub rules_dir: Option<PathBuf>,
    /// Python files larger than this are skipped with a finding.
    pub max_file_size: u64,
    /// The module production starts, relative to the service root (`app/main.py`), when
    /// the evidence in the service picks another or none.
    pub entrypoint: Option<String>,
    /// The later stages' dry run on the plan (`generate`'s, from the codegen crate): what it
    /// refuses becomes findings, so the verdict never promises what they refuse. None: the
    /// plan is judged on what the analysis alone knows.
    pub plan_check: Option<std::sync::Arc<dyn wasm_migrate_plan::PlanCheck>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rules_dir: None,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            entrypoint: None,
            plan_check: None,
        }
    }
}

/// The rules and package knowledge, loaded once and shared across analyses.
pub struct Knowledge {
    pub rules: RuleSet,
    pub packages: KnowledgeBase,
}

impl Knowledge {
    /// The compiled-in data plus the user's `--rules DIR`.
    pub fn load(rules_dir: Option<&Path>) -> Result<Self, AnalyzeError> {
        let mut packages = KnowledgeBase::builtin()?;
        let Some(dir) = rules_dir else {
            return Ok(Knowledge {
                rules: RuleSet::builtin()?,
                packages,
            });
        };
        if !dir.is_dir() {
            return Err(AnalyzeError::NotFound(dir.to_path_buf()));
        }
        let mut rule_files = Vec::new();
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| AnalyzeError::io(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        entries.sort();
        for path in entries {
            let text = std::fs::read_to_string(&path).map_err(|e| AnalyzeError::io(&path, e))?;
            let is_packages = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("packages"));
            if is_packages {
                packages.add_yaml(&path, &text)?;
            } else {
                rule_files.push((path, text));
            }
        }
        Ok(Knowledge {
            rules: RuleSet::with_user_rules(&rule_files)?,
            packages,
        })
    }
}

/// Analyzes a service directory or a single Python file.
pub fn analyze(path: &Path, options: &Options) -> Result<Report, AnalyzeError> {
    let knowledge = Knowledge::load(options.rules_dir.as_deref())?;
    analyze_with(path, options, &knowledge, &|_, _| {})
}

/// Where one Python file ended up.
struct FileResult {
    summary: FileSummary,
    /// First call of each name imported with `from x import name`, with its scope.
    imported_calls: std::collections::BTreeMap<String, (Location, String)>,
    findings: Vec<Finding>,
    imports: Vec<ThirdPartyImport>,
    /// Imports of the service's own modules, for the serving path.
    local_imports: Vec<service::reach::ImportRef>,
    /// Modules this file starts by name (`uvicorn.run("app.main:app")`).
    starts: Vec<String>,
    pipeline: Pipeline,
    main_guard: Option<Location>,
    /// What the module defines for the service's other modules (first walk only).
    exports: python::ModuleExports,
    /// Its calls by the callee's last name, for placing steps done in helpers.
    calls: pipeline::detect::CallsByName,
}

impl FileResult {
    /// Whether the file's pipeline facts may change with the values of the service's other
    /// modules: it finds a model, a step or a route, and imports modules of the service.
    fn uses_service_values(&self) -> bool {
        let p = &self.pipeline;
        let has_pipeline = !(p.models.is_empty()
            && p.preprocessing.is_empty()
            && p.postprocessing.is_empty()
            && p.serving.is_empty()
            && p.hidden.is_empty());
        // A parameter's value may come from the service's calls of its function.
        let unresolved = p
            .preprocessing
            .iter()
            .flat_map(|s| s.params.values())
            .any(|v| !v.is_literal());
        has_pipeline
            && (!self.local_imports.is_empty() || unresolved || !p.wants_arguments_of.is_empty())
    }
}

/// Analyzes with preloaded knowledge, reporting `(files done, files total)` as it goes.
pub fn analyze_with(
    path: &Path,
    options: &Options,
    knowledge: &Knowledge,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Report, AnalyzeError> {
    let started = Instant::now();
    let tree = ServiceTree::collect(path)?;
    let facts = ServiceFacts::new(
        &knowledge.rules,
        &tree.base,
        &tree.all_files,
        &tree.manifests.dependencies,
    );
    let context = FileContext {
        options,
        knowledge,
        facts: &facts,
        local: &tree.local_modules,
        imported: None,
    };
    let mut results = parse_files(&tree, &context, progress);
    let graph = reread_with_service_values(&tree, &context, &mut results);
    let entrypoint = choose_entrypoint(
        &tree.base,
        &tree.all_files,
        &tree.module_index,
        &graph,
        &results,
        options,
    )?;
    let outside_serving_path = mark_serving_path(
        &tree.module_index,
        &graph,
        entrypoint.as_ref(),
        &mut results,
    );
    let mut findings = rules::service_findings(&knowledge.rules, &facts);
    findings.extend(tree.analyzer_findings());
    let mut merged = merge_files(&tree, results, &outside_serving_path);
    merged.link_pipeline();
    merged.script_entrypoint(entrypoint.as_ref());
    merged.builtin_torchserve_handler(entrypoint.as_ref());
    service::hf_config::expand_image_processors(&tree.base, &mut merged.pipeline);
    findings.append(&mut merged.findings);
    let (packages, library_findings) =
        library_findings(knowledge, &tree, &mut merged, &outside_serving_path);
    findings.extend(library_findings);
    sort_and_count(&mut findings, &mut merged.summary);
    merged.files.sort_by(|a, b| a.file.cmp(&b.file));
    let call_graph = service::placement::CallGraph::new(
        &tree.module_index,
        &merged.calls,
        &graph,
        entrypoint.as_ref().map(|e| e.file.as_str()),
    );
    place_steps(&call_graph, &mut merged.pipeline);
    let Merged {
        mut pipeline,
        mut summary,
        files,
        ..
    } = merged;
    let has_code = summary.python_lines > 0;
    let mut recommendation = pipeline::recommend::recommend(&findings, &pipeline, has_code);
    let mut plan = plan_for(
        &tree.base,
        &mut pipeline,
        &recommendation,
        entrypoint.as_ref(),
    );
    // What generate would refuse in the plan blocks the path the plan is for: the path is
    // chosen again with those findings, and the plan written for the new choice.
    if let Some(check) = &options.plan_check {
        // What the service imports when it starts: from the module the server loads (the
        // app, which may mount the route's router) and from the route's own file.
        let starts: Vec<usize> = [
            entrypoint.as_ref().map(|e| e.file.as_str()),
            plan.service.entrypoint.as_ref().map(|e| e.file.as_str()),
        ]
        .into_iter()
        .flatten()
        .filter_map(|file| tree.module_index.index_of(file))
        .collect();
        let reached: Vec<Vec<bool>> = starts.iter().map(|&i| graph.reachable(i)).collect();
        let reaches = |file: &str| match tree.module_index.index_of(file) {
            Some(i) if !reached.is_empty() => reached.iter().any(|r| r[i]),
            // A file the index does not know (or no entry point) is not judged here.
            _ => true,
        };
        let also: Vec<_> = refusals::model_outside_entry(&plan, reaches)
            .into_iter()
            .chain(refusals::service_does_not_import(&findings, reaches))
            .collect();
        let refused = refusals::refusal_findings(check.as_ref(), &tree.base, &plan, also);
        if !refused.is_empty() {
            summary.findings_mandatory += refused.len() as u32;
            findings.extend(refused);
            recommendation = pipeline::recommend::recommend(&findings, &pipeline, has_code);
            plan = plan_for(
                &tree.base,
                &mut pipeline,
                &recommendation,
                entrypoint.as_ref(),
            );
        }
    }
    // Found once the plan is chosen; they name what generation needs, not what blocks a path.
    let mut late = unresolved_findings(&plan);
    late.extend(no_model_finding(
        &recommendation,
        &pipeline,
        entrypoint.as_ref(),
    ));
    summary.findings_mandatory += late.len() as u32;
    findings.extend(late);
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(Report {
        schema_version: report::REPORT_SCHEMA_VERSION.to_string(),
        tool_version: TOOL_VERSION.to_string(),
        root: tree.root,
        summary,
        findings,
        packages,
        pipeline,
        recommendation,
        plan,
        entrypoint,
        outside_serving_path,
        files,
    })
}

/// Steps hidden in a library on the serving path: the plan cannot list them, so it is
/// incomplete until they are written out.
fn hidden_finding(hidden: &pipeline::HiddenSteps) -> Finding {
    Finding {
        rule: "preprocessing-hidden".into(),
        category: Category::Mandatory,
        effort: 3,
        targets: vec![MigrationPath::WasiNnGlue],
        message: format!(
            "preprocessing hidden in {}: the plan is incomplete. The library does: {}",
            hidden.library, hidden.steps
        ),
        remedy: "Write these steps out in wasm-migrate.yaml (preprocessing/postprocessing), or in the service with the libraries the glue mirrors (PIL, OpenCV, numpy, torchvision), then run `wasm-migrate check-plan`.".into(),
        links: Vec::new(),
        location: hidden.location.clone(),
        snippet: None,
        outside_serving_path: false,
    }
}

/// The glue path's `no-wasi-nn-model` blocker, said as a finding with its reason.
fn no_model_finding(
    recommendation: &report::Recommendation,
    pipeline: &Pipeline,
    entrypoint: Option<&service::entrypoint::EntrypointChoice>,
) -> Option<Finding> {
    let glue = recommendation
        .paths
        .iter()
        .find(|p| p.path == MigrationPath::WasiNnGlue)?;
    // An empty service has no model to miss; `no-python-code` already says why.
    if !glue.blockers.iter().any(|b| b == "no-wasi-nn-model")
        || glue.blockers.iter().any(|b| b == "no-python-code")
    {
        return None;
    }
    let found: Vec<&str> = pipeline
        .models
        .iter()
        .map(|m| m.framework.as_str())
        .collect();
    let message = if found.is_empty() {
        "no model load was found on the serving path, so there is nothing for a wasi-nn backend to run".to_string()
    } else {
        format!(
            "the serving path loads {} model(s) ({}), none of which a wasi-nn backend runs",
            found.len(),
            found.join(", ")
        )
    };
    let file = entrypoint
        .map(|e| e.file.clone())
        .or_else(|| pipeline.models.first().map(|m| m.location.file.clone()))
        .unwrap_or_else(|| ".".to_string());
    Some(Finding {
        rule: "no-wasi-nn-model".into(),
        // The recommendation already weighs it; a finding of its own says why, without
        // failing a run the recommended path is not blocked on.
        category: Category::Optional,
        effort: 0,
        targets: vec![MigrationPath::WasiNnGlue],
        message,
        remedy: "If the model is loaded in a way the analysis does not know (a wrapper, a registry), say so in wasm-migrate.yaml (`model:`); a scikit-learn model runs on the Python-in-Wasm path; otherwise keep the service on containers.".into(),
        links: Vec::new(),
        location: Location::new(file, 1, 1),
        snippet: None,
        outside_serving_path: false,
    })
}

/// A plan parameter that stayed an expression (`size=self.size` with no single value): the
/// plan says `unresolved` and names it, never drops it.
fn unresolved_findings(plan: &plan::MigrationPlan) -> Vec<Finding> {
    let mut out = Vec::new();
    for step in plan.preprocessing.iter().chain(&plan.postprocessing) {
        for (key, value) in &step.params {
            let python::Value::Expr { expr } = value else {
                continue;
            };
            let (file, line) = step.at.rsplit_once(':').unwrap_or((&step.at, "1"));
            out.push(Finding {
                rule: "unresolved-parameter".into(),
                category: Category::Mandatory,
                effort: 1,
                targets: vec![MigrationPath::WasiNnGlue],
                message: format!(
                    "`{}` parameter `{key}` is `{expr}`, which the analysis could not resolve to a value: the plan lists it as unresolved",
                    step.op
                ),
                remedy: format!(
                    "Write the value into wasm-migrate.yaml (`{key}:` of the `{}` step), or make it a constant the service defines, then run `wasm-migrate check-plan`.",
                    step.op
                ),
                links: Vec::new(),
                location: Location::new(file, line.parse().unwrap_or(1), 1),
                snippet: None,
                outside_serving_path: false,
            });
        }
    }
    out
}

/// Puts every step and model call where it runs: a step in a helper runs where the route
/// calls the helper (see `service::placement`). Steps then sort in execution order.
fn place_steps(graph: &service::placement::CallGraph<'_>, pipeline: &mut Pipeline) {
    let steps = || {
        pipeline
            .preprocessing
            .iter()
            .chain(&pipeline.postprocessing)
    };
    let placed: Vec<service::placement::Placement> = steps()
        .map(|s| graph.place(s.runs_at(), &s.scope))
        .collect();
    // A class or closure built at import time (`classifier = Classifier()`) runs its steps
    // when the handler calls it, after the handler has decoded the request: they go after
    // the entrypoint's last decoding step, as that step is placed.
    let decoded = graph.entry_file().and_then(|entry| {
        steps()
            .zip(&placed)
            .filter(|(s, p)| p.location.file == entry && is_decoding(&s.op))
            .map(|(_, p)| p)
            .max_by(|a, b| a.order.cmp(&b.order))
            .cloned()
    });
    let after_decoding = |mut placed: service::placement::Placement| {
        if graph.at_entry_module_level(&placed)
            && placed.hops > 0
            && let Some(decoded) = &decoded
        {
            let own = placed.order.last().copied();
            placed.order = decoded.order.clone();
            placed.order.extend(own);
            placed.location = decoded.location.clone();
            placed.scope = decoded.scope.clone();
        }
        placed
    };
    // A training-data class's steps (a Dataset's `__getitem__`) that the entrypoint never
    // reaches are training or evaluation input, when the entrypoint reaches other steps.
    let in_data_class = |s: &pipeline::Step| {
        let class = s.written_in.as_ref().unwrap_or(&s.scope).split('.').next();
        pipeline
            .data_classes
            .iter()
            .any(|(file, c)| *file == s.location.file && Some(c.as_str()) == class)
    };
    let reached =
        |p: &service::placement::Placement| graph.entry_file() == Some(p.location.file.as_str());
    let drop: Vec<bool> = pipeline
        .preprocessing
        .iter()
        .zip(&placed)
        .map(|(s, p)| in_data_class(s) && !reached(p))
        .collect();
    let others_reached = pipeline
        .preprocessing
        .iter()
        .zip(&placed)
        .zip(&drop)
        .any(|((_, p), d)| !d && reached(p));
    let mut placed = placed;
    if others_reached && drop.iter().any(|d| *d) {
        let mut keep = drop.iter().map(|d| !d);
        pipeline
            .preprocessing
            .retain(|_| keep.next().unwrap_or(true));
        let mut keep = drop.iter().chain(std::iter::repeat(&false)).map(|d| !d);
        placed.retain(|_| keep.next().unwrap_or(true));
    }
    for (step, placed) in pipeline
        .preprocessing
        .iter_mut()
        .chain(pipeline.postprocessing.iter_mut())
        .zip(placed)
    {
        let placed = after_decoding(placed);
        if placed.hops > 0 {
            step.applied_at = Some(placed.location);
            step.scope = placed.scope;
        }
        step.order = placed.order;
    }
    for call in &mut pipeline.inference {
        let placed = after_decoding(graph.place(&call.location, &call.scope));
        call.location = placed.location;
        call.scope = placed.scope;
        call.order = placed.order;
    }
    // Stable: steps at the same place keep the order their file gave them.
    let key = |s: &pipeline::Step| (s.runs_at().file.clone(), s.order.clone());
    pipeline.preprocessing.sort_by_cached_key(key);
    pipeline.postprocessing.sort_by_cached_key(key);
    drop_repeated_runs(&mut pipeline.preprocessing);
}

/// Two functions that build the same chain (one per model variant: production, staging,
/// fallback) give it twice in a row; the input goes through one of them, so the plan
/// keeps one.
fn drop_repeated_runs(steps: &mut Vec<pipeline::Step>) {
    let same = |a: &pipeline::Step, b: &pipeline::Step| {
        a.library == b.library && a.op == b.op && a.params == b.params
    };
    let mut start = 0;
    while start < steps.len() {
        let longest = (2..=(steps.len() - start) / 2).rev().find(|&len| {
            let (first, second) = steps[start..start + 2 * len].split_at(len);
            first.iter().zip(second).all(|(a, b)| same(a, b))
                && first[0].location != second[0].location
        });
        if let Some(len) = longest {
            steps.drain(start + len..start + 2 * len);
        }
        start += 1;
    }
}

/// Steps that turn request bytes into an image: nothing can be transformed before them.
fn is_decoding(op: &str) -> bool {
    matches!(
        op,
        "open" | "convert" | "imdecode" | "frombuffer" | "imread" | "asarray"
    )
}

/// What every file's analysis shares.
#[derive(Clone, Copy)]
struct FileContext<'a> {
    options: &'a Options,
    knowledge: &'a Knowledge,
    facts: &'a ServiceFacts<'a>,
    local: &'a rustc_hash::FxHashSet<String>,
    /// The other modules' values: none on the first walk, which collects them.
    imported: Option<&'a service::values::ServiceValues<'a>>,
}

/// The entrypoint given with `--entrypoint`, or found from the service's evidence.
fn choose_entrypoint(
    base: &Path,
    all_files: &[String],
    index: &service::modules::ModuleIndex,
    graph: &service::reach::ImportGraph,
    results: &[FileResult],
    options: &Options,
) -> Result<Option<service::entrypoint::EntrypointChoice>, AnalyzeError> {
    if let Some(given) = &options.entrypoint {
        let wanted = given.trim_start_matches("./").replace('\\', "/");
        let Some(i) = index.find_path(&wanted) else {
            let mut known: Vec<&str> = index.files().iter().map(String::as_str).take(5).collect();
            if index.files().len() > 5 {
                known.push("...");
            }
            return Err(AnalyzeError::EntrypointNotFound {
                given: given.clone(),
                known: known.join(", "),
            });
        };
        return Ok(Some(service::entrypoint::EntrypointChoice {
            file: index.file(i).to_string(),
            object: None,
            evidence: "given with --entrypoint".into(),
            basis: service::entrypoint::EntrypointBasis::Given,
            alternatives: Vec::new(),
            model_server: None,
            torchserve: service::torchserve_archive::find(base, all_files)
                .into_iter()
                .find(|a| a.service_file() == Some(index.file(i))),
        }));
    }
    let roles: Vec<service::entrypoint::FileRole> = results
        .iter()
        .map(|r| service::entrypoint::FileRole {
            serves: !r.pipeline.serving.is_empty(),
            main_guard: r.main_guard.is_some(),
            loads_model: !r.pipeline.models.is_empty(),
            starts_server: !r.starts.is_empty(),
            forwards: !r.pipeline.serving.is_empty()
                && r.findings.iter().any(|f| f.rule == "download-http-request"),
        })
        .collect();
    let reach = |i: usize| graph.reachable(i);
    Ok(service::entrypoint::find(
        base, all_files, index, &roles, &reach,
    ))
}

/// Keeps the pipeline of the files the entrypoint reaches and marks the other files'
/// findings as outside the serving path; returns those files. Without an entrypoint, or
/// when the reached files load no model that others do, training, export and test scripts
/// (by name) are what is left out.
fn mark_serving_path(
    index: &service::modules::ModuleIndex,
    graph: &service::reach::ImportGraph,
    entrypoint: Option<&service::entrypoint::EntrypointChoice>,
    results: &mut [FileResult],
) -> Vec<String> {
    let model_server = entrypoint
        .and_then(|e| e.model_server.as_deref())
        .and_then(|file| index.index_of(file))
        .map(|server| graph.reachable(server));
    let entry_reached = entrypoint
        .and_then(|e| index.index_of(&e.file))
        .map(|entry| graph.reachable(entry));
    let reached = entry_reached
        .clone()
        .map(|mut reached| {
            // A gateway's model server counts for its model only (below).
            for (r, &m) in reached.iter_mut().zip(model_server.iter().flatten()) {
                *r |= m;
            }
            reached
        })
        .filter(|reached| {
            let loads = |on: bool| {
                results
                    .iter()
                    .zip(reached)
                    .any(|(r, &rch)| rch == on && !r.pipeline.models.is_empty())
            };
            loads(true) || !loads(false)
        });
    let mut outside = Vec::new();
    for (i, r) in results.iter_mut().enumerate() {
        let off = match &reached {
            Some(reached) => !reached[i],
            None => is_offline_script(index.file(i)),
        };
        // The model server's HTTP layer and unused loads go away with the merge; its model
        // stays.
        let server_only =
            !off && model_server.is_some() && !entry_reached.as_ref().is_some_and(|entry| entry[i]);
        if off || server_only {
            outside.push(index.file(i).to_string());
            for f in r.findings.iter_mut().filter(|f| f.rule != "syntax-error") {
                f.outside_serving_path = true;
            }
            let models = if server_only {
                std::mem::take(&mut r.pipeline.models)
            } else {
                Vec::new()
            };
            r.pipeline = Pipeline {
                models,
                ..Pipeline::default()
            };
            r.main_guard = None;
        }
    }
    outside
}

fn analyzer_finding(
    rule: &str,
    category: Category,
    message: String,
    remedy: &str,
    location: Location,
) -> Finding {
    Finding {
        rule: rule.to_string(),
        category,
        effort: 1,
        targets: vec![
            MigrationPath::WasiNnGlue,
            MigrationPath::PythonWasm,
            MigrationPath::WasiPython,
        ],
        message,
        remedy: remedy.to_string(),
        links: Vec::new(),
        location,
        snippet: None,
        outside_serving_path: false,
    }
}

/// Top-level module names the service itself provides (files and packages at the root or
/// under `src/`), so that `import utils` is not mistaken for a third-party package.
fn local_modules(files: &[String]) -> rustc_hash::FxHashSet<String> {
    let mut out = rustc_hash::FxHashSet::default();
    for f in files {
        if !(f.ends_with(".py") || f.ends_with(".pyi") || f.ends_with(".so")) {
            continue;
        }
        let parts: Vec<&str> = f.split('/').collect();
        // Every directory level may be on sys.path in a service (scripts run from their folder).
        for (i, part) in parts.iter().enumerate() {
            let name = if i + 1 == parts.len() {
                part.split('.').next().unwrap_or(part)
            } else {
                part
            };
            if !name.is_empty() {
                out.insert(name.to_string());
            }
        }
    }
    out
}

/// Collects the imports of one file: third-party ones for the packages, the service's own
/// for the serving path, and modules started by name (`uvicorn.run("app.main:app")`).
struct ImportCollector<'a> {
    local: &'a rustc_hash::FxHashSet<String>,
    file: &'a str,
    out: Vec<ThirdPartyImport>,
    local_imports: Vec<service::reach::ImportRef>,
    starts: Vec<String>,
}

impl Observer for ImportCollector<'_> {
    fn call(&mut self, site: &python::CallSite<'_, '_>) {
        let starts_server = site
            .qualified
            .as_deref()
            .is_some_and(|q| matches!(q, "uvicorn.run" | "hypercorn.run" | "granian.Granian"));
        if starts_server
            && let Some(python::Value::Str(target)) = site.arg(Some(0), None)
            && let Some((module, _)) = service::entrypoint::module_object(&target)
        {
            self.starts.push(module.to_string());
        }
    }

    fn import(&mut self, _ctx: &python::Context<'_>, site: &ImportSite) {
        let top = site.module.split('.').next().unwrap_or("");
        if site.level > 0 || self.local.contains(top) {
            self.local_imports
                .push((site.module.clone(), site.names.clone(), site.level));
        }
        if site.level > 0 || site.module.is_empty() {
            return;
        }
        // setup.py imports its build backend, which is not a runtime dependency.
        if python::is_stdlib(top) || self.local.contains(top) || self.file.ends_with("setup.py") {
            return;
        }
        let module = match site.names.first() {
            // `from google import protobuf` names the subpackage the import really needs.
            Some(n) if site.names.len() == 1 && n != "*" && !site.module.contains('.') => {
                format!("{}.{n}", site.module)
            }
            _ => site.module.clone(),
        };
        self.out.push(ThirdPartyImport {
            module,
            location: Location::new(self.file, site.line, site.column),
            guarded: site.guarded,
        });
    }
}

fn analyze_file(path: &Path, relative: &str, context: &FileContext<'_>) -> FileResult {
    let FileContext {
        options,
        knowledge,
        facts,
        local,
        imported,
    } = *context;
    let skipped = |reason: String| FileResult {
        summary: FileSummary {
            file: relative.to_string(),
            status: FileStatus::Skipped,
            lines: 0,
        },
        findings: vec![analyzer_finding(
            "file-skipped",
            Category::Potential,
            format!("{relative} was not analyzed: {reason}"),
            "Check the file; if it is generated or vendored, add it to .gitignore.",
            Location::new(relative, 1, 1),
        )],
        imports: Vec::new(),
        local_imports: Vec::new(),
        starts: Vec::new(),
        imported_calls: Default::default(),
        exports: python::ModuleExports::default(),
        pipeline: Pipeline::default(),
        main_guard: None,
        calls: Default::default(),
    };
    let text = match source::read_python(path, options.max_file_size) {
        Ok(t) => t,
        Err(reason) => return skipped(reason.to_string()),
    };
    // Deeply nested code is parsed and walked on a fresh thread with a large stack: the
    // parser grows its stack itself, but dropping a deep tree recurses too.
    let work = || {
        let module = ParsedModule::parse(&text);
        let errors = module.syntax_errors();
        let mut rules = RuleObserver::new(&knowledge.rules, facts, relative);
        let mut detector = PipelineDetector::default();
        let mut collector = ImportCollector {
            local,
            file: relative,
            out: Vec::new(),
            local_imports: Vec::new(),
            starts: Vec::new(),
        };
        let values = imported.map(|v| v as &dyn python::ImportedValues);
        python::visit_module_in(
            &module,
            relative,
            values,
            &mut [&mut rules, &mut detector, &mut collector],
        );
        let exports = if imported.is_none() {
            python::module_exports(&module, relative)
        } else {
            python::ModuleExports::default()
        };
        let mut findings = rules.findings();
        if let Some(first) = errors.first() {
            findings.push(Finding {
                rule: "syntax-error".into(),
                category: Category::Optional,
                effort: 1,
                targets: vec![
                    MigrationPath::WasiNnGlue,
                    MigrationPath::PythonWasm,
                    MigrationPath::WasiPython,
                ],
                message: if errors.len() == 1 {
                    format!("syntax error: {}", first.message)
                } else {
                    format!(
                        "syntax error: {} (and {} more)",
                        first.message,
                        errors.len() - 1
                    )
                },
                remedy:
                    "Fix the syntax error; the parts of the file that parsed were still analyzed."
                        .into(),
                links: Vec::new(),
                location: Location::new(relative, first.line, first.column),
                snippet: None,
                outside_serving_path: false,
            });
        }
        let pipeline::detect::FileFacts {
            pipeline,
            main_guard,
            imported_calls,
            calls,
        } = detector.finish();
        FileResult {
            summary: FileSummary {
                file: relative.to_string(),
                status: if errors.is_empty() {
                    FileStatus::Parsed
                } else {
                    FileStatus::SyntaxErrors
                },
                lines: module.line_count(),
            },
            findings,
            imports: collector.out,
            local_imports: collector.local_imports,
            starts: collector.starts,
            imported_calls,
            exports,
            pipeline,
            main_guard,
            calls,
        }
    };
    if looks_deeply_nested(&text) {
        std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(512 * 1024 * 1024)
                .spawn_scoped(s, work)
                .ok()
                .and_then(|h| h.join().ok())
        })
        .unwrap_or_else(|| skipped("the file is nested too deeply to analyze".into()))
    } else {
        work()
    }
}

/// Tests, training, model-making and export scripts: code that runs before deployment or in
/// CI, never in the service's request path.
pub fn is_offline_script(relative: &str) -> bool {
    let mut parts: Vec<&str> = relative.split('/').collect();
    let file = parts.pop().unwrap_or("");
    if parts.iter().any(|d| {
        matches!(
            *d,
            "tests" | "test" | "testing" | "notebooks" | "training" | "scripts"
        )
    }) {
        return true;
    }
    let stem = file.trim_end_matches(".py");
    stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_train")
        || stem.ends_with("_training")
        || stem == "conftest"
        || [
            "train",
            "make_model",
            "export",
            "convert",
            "finetune",
            "fine_tune",
        ]
        .iter()
        .any(|p| stem.starts_with(p))
}

/// A cheap over-estimate of bracket nesting, to decide whether a file needs a big stack.
fn looks_deeply_nested(text: &str) -> bool {
    let mut depth: i64 = 0;
    let mut max = 0;
    for b in text.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
    }
    max > 200 || text.len() > 1_000_000
}

/// A service run from a subdirectory (`WORKDIR /app` + `COPY backend/ .`, then `uvicorn
/// main:app`) names its files relative to that directory. When the model artifact is not
/// under the root but is under a directory between the root and the entry file, that
/// directory is where production runs: the plan says so and names the files from the root.
fn resolve_workdir(base: &Path, plan: &mut plan::MigrationPlan) {
    let Some(entry) = plan.service.entrypoint.as_mut() else {
        return;
    };
    let Some(artifact) = plan.model.as_mut().and_then(|m| m.artifact.as_mut()) else {
        return;
    };
    let relative = Path::new(artifact.as_str());
    if relative.is_absolute() || artifact.contains("://") || base.join(relative).exists() {
        return;
    }
    let workdir = Path::new(&entry.file)
        .ancestors()
        .skip(1)
        .filter(|dir| !dir.as_os_str().is_empty())
        .find(|dir| base.join(dir).join(relative).exists());
    let Some(workdir) = workdir.map(|d| d.to_string_lossy().replace('\\', "/")) else {
        return;
    };
    *artifact = format!("{workdir}/{artifact}");
    if let Some(labels) = plan.labels.as_mut()
        && !base.join(labels.as_str()).exists()
        && base.join(&workdir).join(labels.as_str()).exists()
    {
        *labels = format!("{workdir}/{labels}");
    }
    entry.workdir = Some(workdir);
}

/// Each route on a router or blueprint gets the prefix the app mounts it under, so the plan's
/// path is the one clients call (`/api/v1/classify`).
fn apply_mounts(pipeline: &mut pipeline::Pipeline) {
    for endpoint in &mut pipeline.serving {
        let (Some(router), Some(path)) = (&endpoint.router, &mut endpoint.path) else {
            continue;
        };
        let variable = router.rsplit('.').next().unwrap_or(router);
        let mounted = pipeline.mounts.iter().find(|m| {
            // Imported (`catdog.api.routes.router` ends with `routes.router`), or a router
            // of the module that mounts it.
            m.target == *router
                || m.target.ends_with(&format!(".{router}"))
                || (m.target == variable && m.file == endpoint.location.file)
        });
        if let Some(mount) = mounted {
            *path = format!("{}{path}", mount.prefix.trim_end_matches('/'));
        }
    }
}

#[cfg(test)]
mod offline_tests {
    use super::is_offline_script;

    #[test]
    fn training_and_test_scripts_are_offline_and_serving_files_are_not() {
        for file in [
            "train.py",
            "mnist_training.py",
            "model_train.py",
            "scripts/serve.py",
            "tests/test_app.py",
            "make_model.py",
        ] {
            assert!(is_offline_script(file), "{file}");
        }
        for file in ["app.py", "handler.py", "app/predict.py", "constrained.py"] {
            assert!(!is_offline_script(file), "{file}");
        }
    }
}
