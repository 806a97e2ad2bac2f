//! The phases of one analysis, in the order `analyze_with` runs them: collect the tree,
//! parse every file, read again the files that use the service's values, merge the files'
//! facts, link the pipeline across files, the library findings, the plan.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::packages::{self, ThirdPartyImport};
use crate::pipeline::{self, Pipeline};
use crate::report::{self, FileStatus, FileSummary, Finding, Location, Summary};
use crate::rules::Category;
use crate::{
    AnalyzeError, FileContext, FileResult, Knowledge, analyze_file, analyzer_finding, apply_mounts,
    hidden_finding, local_modules, manifest, plan, plan_builder, resolve_workdir, service, walk,
};

/// The service's files, found before any is parsed, and the indexes built from their names.
pub(crate) struct ServiceTree {
    /// The path analyzed: the service's folder or one file.
    pub(crate) root: PathBuf,
    /// The folder paths are relative to.
    pub(crate) base: PathBuf,
    pub(crate) walked: walk::ServiceFiles,
    /// Every file, relative and `/`-separated.
    pub(crate) all_files: Vec<String>,
    pub(crate) manifests: manifest::Manifests,
    pub(crate) python_files: Vec<PathBuf>,
    /// `python_files`, relative.
    pub(crate) python_relative: Vec<String>,
    pub(crate) local_modules: rustc_hash::FxHashSet<String>,
    pub(crate) module_index: service::modules::ModuleIndex,
}

impl ServiceTree {
    /// Walks the tree, reads the manifests and names the Python files.
    pub(crate) fn collect(path: &Path) -> Result<Self, AnalyzeError> {
        if !path.exists() {
            return Err(AnalyzeError::NotFound(path.to_path_buf()));
        }
        if path.is_file() && !path.extension().is_some_and(|e| e == "py" || e == "pyi") {
            return Err(AnalyzeError::NotPython(path.to_path_buf()));
        }
        let root = path.to_path_buf();
        let base = if root.is_file() {
            root.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            root.clone()
        };
        if root.is_dir() {
            std::fs::read_dir(&root).map_err(|e| AnalyzeError::io(&root, e))?;
        }
        let walked = walk::walk(&root);
        let relative = |p: &Path| relative_to(&base, p);
        let all_files: Vec<String> = walked.all.iter().map(|p| relative(p)).collect();
        let manifest_paths: Vec<PathBuf> = walked
            .all
            .iter()
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| manifest::is_manifest(&n.to_string_lossy()))
            })
            .cloned()
            .collect();
        let manifests = manifest::read_manifests(&base, &manifest_paths);
        let python_files: Vec<PathBuf> = walked
            .all
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "py" || e == "pyi"))
            .cloned()
            .collect();
        let local_modules = local_modules(&all_files);
        let python_relative: Vec<String> = python_files.iter().map(|p| relative(p)).collect();
        let module_index = service::modules::ModuleIndex::new(&python_relative);
        Ok(ServiceTree {
            root,
            base,
            walked,
            all_files,
            manifests,
            python_files,
            python_relative,
            local_modules,
            module_index,
        })
    }

    /// What the analyzer itself met: paths it could not read, manifests it could not parse.
    pub(crate) fn analyzer_findings(&self) -> Vec<Finding> {
        let mut findings = Vec::new();
        for (path, problem) in &self.walked.problems {
            let path = relative_to(&self.base, path);
            findings.push(analyzer_finding(
                "file-skipped",
                Category::Potential,
                format!("{path}: {problem}"),
                "Fix or remove the path; the rest of the service was analyzed.",
                Location::new(path, 1, 1),
            ));
        }
        for problem in &self.manifests.problems {
            findings.push(analyzer_finding(
                "manifest-problem",
                Category::Optional,
                problem.message.clone(),
                "Fix the manifest: dependencies it declares may be missing from the analysis.",
                Location::new(
                    problem.file.to_string_lossy().replace('\\', "/"),
                    problem.line.unwrap_or(1),
                    1,
                ),
            ));
        }
        findings
    }
}

/// `path` relative to `base`, `/`-separated.
pub(crate) fn relative_to(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// One pass over every file, in parallel, which also collects what each module defines for
/// the others.
pub(crate) fn parse_files(
    tree: &ServiceTree,
    context: &FileContext<'_>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<FileResult> {
    let done = AtomicUsize::new(0);
    let total = tree.python_files.len();
    tree.python_files
        .par_iter()
        .zip(&tree.python_relative)
        .map(|(file, rel)| {
            let result = analyze_file(file, rel, context);
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            result
        })
        .collect()
}

/// Files whose pipeline may use values of the service's other modules (`from .settings
/// import SIZE`) are walked again with those values; the rest of a large tree is not.
/// Returns the graph of the service's imports.
pub(crate) fn reread_with_service_values(
    tree: &ServiceTree,
    context: &FileContext<'_>,
    results: &mut [FileResult],
) -> service::reach::ImportGraph {
    let exports = results
        .iter_mut()
        .map(|r| std::mem::take(&mut r.exports))
        .collect();
    let graph = {
        let imports: Vec<_> = results.iter().map(|r| r.local_imports.clone()).collect();
        let starts: Vec<_> = results.iter().map(|r| r.starts.clone()).collect();
        service::reach::ImportGraph::new(&tree.module_index, &imports, &starts)
    };
    // Parameters whose value the service's calls may give (`Predictor(path, SIZE)`): the
    // files that call those functions are read again for those calls' arguments only.
    let call_args = callers_of_wanted(results, &graph)
        .par_iter()
        .flat_map_iter(|(i, names)| {
            service::arguments::scan(
                &tree.python_files[*i],
                &tree.python_relative[*i],
                context.options.max_file_size,
                names,
            )
        })
        .collect();
    let imported = service::values::ServiceValues::new(&tree.module_index, exports, call_args);
    let context = FileContext {
        imported: Some(&imported),
        ..*context
    };
    let again: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].uses_service_values())
        .collect();
    let redone: Vec<(usize, FileResult)> = again
        .par_iter()
        .map(|&i| {
            let (file, rel) = (&tree.python_files[i], &tree.python_relative[i]);
            (i, analyze_file(file, rel, &context))
        })
        .collect();
    for (i, result) in redone {
        results[i] = result;
    }
    graph
}

/// The files that call a function whose parameters the pipeline wants the values of, with
/// those functions' names. Callers are the defining file and the files that import it.
pub(crate) fn callers_of_wanted(
    results: &[FileResult],
    graph: &service::reach::ImportGraph,
) -> Vec<(usize, rustc_hash::FxHashSet<String>)> {
    let wanted = service::arguments::wanted_callees(results.iter().map(|r| &r.pipeline));
    (0..results.len())
        .filter_map(|i| {
            let names: rustc_hash::FxHashSet<String> = wanted
                .iter()
                .filter(|(name, def)| {
                    (i == *def || graph.edges()[i].binary_search(def).is_ok())
                        && results[i].calls.calls(name)
                })
                .map(|(name, _)| name.clone())
                .collect();
            (!names.is_empty()).then_some((i, names))
        })
        .collect()
}

/// The files' results put together: one pipeline, one list of imports and findings.
pub(crate) struct Merged {
    pub(crate) pipeline: Pipeline,
    /// Third-party imports, each with whether its file is outside the serving path.
    pub(crate) imports: Vec<(bool, ThirdPartyImport)>,
    pub(crate) files: Vec<FileSummary>,
    pub(crate) summary: Summary,
    pub(crate) findings: Vec<Finding>,
    pub(crate) main_guards: Vec<Location>,
    pub(crate) imported_calls: std::collections::BTreeMap<String, (Location, String)>,
    pub(crate) calls: Vec<pipeline::detect::CallsByName>,
}

pub(crate) fn merge_files(
    tree: &ServiceTree,
    mut results: Vec<FileResult>,
    outside_serving_path: &[String],
) -> Merged {
    let mut merged = Merged {
        pipeline: Pipeline::default(),
        imports: Vec::new(),
        files: Vec::with_capacity(results.len()),
        summary: Summary {
            files_seen: tree.all_files.len() as u32,
            manifests: tree.manifests.files.len() as u32,
            files_failed: tree.walked.problems.len() as u32,
            ..Summary::default()
        },
        findings: Vec::new(),
        main_guards: Vec::new(),
        imported_calls: Default::default(),
        calls: results
            .iter_mut()
            .map(|r| std::mem::take(&mut r.calls))
            .collect(),
    };
    for r in results {
        merged.add(r, outside_serving_path);
    }
    merged
}

impl Merged {
    fn add(&mut self, r: FileResult, outside_serving_path: &[String]) {
        for (name, call) in r.imported_calls {
            self.imported_calls.entry(name).or_insert(call);
        }
        match r.summary.status {
            FileStatus::Parsed => self.summary.files_parsed += 1,
            FileStatus::SyntaxErrors => {
                self.summary.files_parsed += 1;
                self.summary.files_failed += 1;
            }
            FileStatus::Skipped => self.summary.files_failed += 1,
        }
        self.summary.python_lines += u64::from(r.summary.lines);
        self.files.push(r.summary);
        self.findings.extend(r.findings);
        self.imports.extend(
            r.imports
                .into_iter()
                .map(|i| (outside_serving_path.contains(&i.location.file), i)),
        );
        let (pipeline, from) = (&mut self.pipeline, r.pipeline);
        pipeline.models.extend(from.models);
        pipeline.preprocessing.extend(from.preprocessing);
        pipeline.postprocessing.extend(from.postprocessing);
        pipeline.serving.extend(from.serving);
        pipeline.hidden.extend(from.hidden);
        pipeline.data_classes.extend(from.data_classes);
        pipeline.inference.extend(from.inference);
        pipeline.mounts.extend(from.mounts);
        for label in from.label_files {
            if !pipeline.label_files.contains(&label) {
                pipeline.label_files.push(label);
            }
        }
        if let Some(g) = r.main_guard {
            self.main_guards.push(g);
        }
    }

    /// What one file's pipeline leaves to the others: compositions applied in another
    /// module, routers mounted elsewhere, the architecture of a model loaded as weights.
    pub(crate) fn link_pipeline(&mut self) {
        let pipeline = &mut self.pipeline;
        // A composition defined in one module and applied in another (`from transforms import
        // eval_tf; eval_tf(image)`) runs where it is applied.
        for step in &mut pipeline.preprocessing {
            if step.composition_unused
                && let Some((at, scope)) = step
                    .composed_in
                    .as_ref()
                    .and_then(|v| self.imported_calls.get(v))
            {
                step.composition_unused = false;
                step.applied_at = Some(at.clone());
                step.scope = scope.clone();
            }
        }
        apply_mounts(pipeline);
        // `model = resnet18(); model.load_state_dict(torch.load(PATH))`: the load names the
        // artifact, the constructor the architecture.
        let architectures: Vec<(String, pipeline::Framework, String)> = pipeline
            .models
            .iter()
            .filter_map(|m| {
                m.architecture
                    .clone()
                    .map(|a| (m.location.file.clone(), m.framework, a))
            })
            .collect();
        for m in pipeline
            .models
            .iter_mut()
            .filter(|m| m.architecture.is_none())
        {
            if let Some((_, _, arch)) = architectures
                .iter()
                .find(|(f, fw, _)| *f == m.location.file && *fw == m.framework)
            {
                m.architecture = Some(arch.clone());
            }
        }
    }

    /// A plain script, with no route: its `if __name__ == "__main__":` is the entry point.
    pub(crate) fn script_entrypoint(
        &mut self,
        entrypoint: Option<&service::entrypoint::EntrypointChoice>,
    ) {
        let pipeline = &mut self.pipeline;
        if !pipeline.serving.is_empty() {
            return;
        }
        let model_files: Vec<&str> = pipeline
            .models
            .iter()
            .map(|m| m.location.file.as_str())
            .collect();
        let guards = &self.main_guards;
        let chosen = guards
            .iter()
            .find(|g| entrypoint.is_some_and(|e| e.file == g.file))
            .or_else(|| {
                guards
                    .iter()
                    .find(|g| model_files.contains(&g.file.as_str()))
            })
            .or(guards.first());
        if let Some(g) = chosen {
            pipeline.serving.push(pipeline::Endpoint {
                kind: pipeline::ServingKind::Script,
                methods: Vec::new(),
                path: None,
                handler: "__main__".into(),
                handler_methods: Vec::new(),
                location: g.clone(),
                router: None,
            });
        }
    }
}

impl Merged {
    /// A TorchServe archive whose handler is a built-in one (`--handler image_classifier`):
    /// its class is the endpoint, `BaseHandler.initialize` loads the model, and for
    /// `image_classifier` the steps are TorchServe's own; the service's part is the model file.
    pub(crate) fn builtin_torchserve_handler(
        &mut self,
        entrypoint: Option<&service::entrypoint::EntrypointChoice>,
    ) {
        let Some(choice) = entrypoint else {
            return;
        };
        let Some(archive) = &choice.torchserve else {
            return;
        };
        let Some(class) = archive.builtin_handler() else {
            return;
        };
        let pipeline = &mut self.pipeline;
        if pipeline
            .serving
            .iter()
            .any(|e| e.kind == pipeline::ServingKind::Torchserve)
        {
            return;
        }
        let location = report::Location::new(choice.file.clone(), 1, 1);
        pipeline.serving.insert(
            0,
            pipeline::Endpoint {
                kind: pipeline::ServingKind::Torchserve,
                methods: Vec::new(),
                path: None,
                handler: class.to_string(),
                handler_methods: Vec::new(),
                location: location.clone(),
                router: None,
            },
        );
        pipeline.models.insert(
            0,
            pipeline::ModelLoad {
                framework: pipeline::Framework::Pytorch,
                call: "ts.torch_handler.base_handler.BaseHandler.initialize".to_string(),
                artifact: archive.serialized_file.clone(),
                architecture: None,
                params: Default::default(),
                location: location.clone(),
            },
        );
        if class == "ImageClassifier" {
            let scope = format!("{class}.preprocess");
            let topk = Some(crate::python::Value::Int(5));
            pipeline::detect::image_classifier_pipeline(pipeline, &scope, &location, topk);
        }
    }
}

/// The packages the service uses, and the findings about libraries: steps hidden in a
/// library call, packages with no WebAssembly build.
pub(crate) fn library_findings(
    knowledge: &Knowledge,
    tree: &ServiceTree,
    merged: &mut Merged,
    outside_serving_path: &[String],
) -> (Vec<report::PackageUse>, Vec<Finding>) {
    // The serving path's imports first, so that a package's finding points at the import
    // production runs.
    let mut imports = std::mem::take(&mut merged.imports);
    imports.sort_by_key(|(outside, _)| *outside);
    let imports: Vec<ThirdPartyImport> = imports.into_iter().map(|(_, i)| i).collect();
    // One finding per library: the steps are the same wherever it is called.
    let mut hidden_libraries = std::collections::BTreeSet::new();
    let mut findings: Vec<Finding> = merged
        .pipeline
        .hidden
        .iter()
        .filter(|h| hidden_libraries.insert(h.library.clone()))
        .map(hidden_finding)
        .collect();
    let (packages, mut package_findings) = packages::package_uses(
        &knowledge.packages,
        &imports,
        &tree.manifests.dependencies,
        !tree.manifests.files.is_empty(),
    );
    for f in &mut package_findings {
        f.outside_serving_path = outside_serving_path.contains(&f.location.file);
    }
    findings.extend(package_findings);
    (packages, findings)
}

/// Findings in file order, each once, counted by category into the summary.
pub(crate) fn sort_and_count(findings: &mut Vec<Finding>, summary: &mut Summary) {
    findings.sort_by(|a, b| {
        (
            &a.location.file,
            a.location.line,
            a.location.column,
            &a.rule,
        )
            .cmp(&(
                &b.location.file,
                b.location.line,
                b.location.column,
                &b.rule,
            ))
    });
    // Service-wide hits (a `.cu` file, a manifest line) are found once per Python file.
    findings.dedup_by(|a, b| a.rule == b.rule && a.location == b.location);
    for f in findings.iter() {
        if f.outside_serving_path {
            summary.findings_outside_serving_path += 1;
            continue;
        }
        match f.category {
            Category::Mandatory => summary.findings_mandatory += 1,
            Category::Optional => summary.findings_optional += 1,
            Category::Potential => summary.findings_potential += 1,
        }
    }
}

/// The migration plan for the recommended path, with the service's working directory and
/// server command.
pub(crate) fn plan_for(
    base: &Path,
    pipeline: &mut Pipeline,
    recommendation: &report::Recommendation,
    entrypoint: Option<&service::entrypoint::EntrypointChoice>,
) -> plan::MigrationPlan {
    let service_name = base
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "service".into());
    let mut plan = plan_builder::build_plan(&service_name, pipeline, recommendation);
    resolve_workdir(base, &mut plan);
    plan.service.server = plan
        .service
        .entrypoint
        .as_ref()
        .and_then(|entry| service::server_command::server_plan(entrypoint, entry, base));
    plan
}
