//! Finds the native inference libraries that pip installs, so OpenVINO and ONNX Runtime work
//! wherever their Python packages are, without touching the user's site-packages.
//!
//! Where to look, in order: the variable the library's own Rust crate reads
//! (`OPENVINO_INSTALL_DIR`, `ORT_DYLIB_PATH`), then the site-packages of the active virtual
//! environment (`VIRTUAL_ENV`, `CONDA_PREFIX`), of `./.venv` and `./venv`, and last of the
//! `python3` on PATH (asked for its `sys.path` once per process).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A native library found on this machine, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundLibrary {
    pub path: PathBuf,
    pub found_via: String,
}

/// Site-packages directories of one environment root (a venv or conda prefix).
fn env_site_packages(root: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let lib = root.join("lib");
    if let Ok(entries) = std::fs::read_dir(&lib) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with("python3") {
                dirs.push(entry.path().join("site-packages"));
            }
        }
    }
    // Windows layout, and conda's.
    dirs.push(root.join("Lib").join("site-packages"));
    dirs.sort();
    dirs
}

fn python_sys_path() -> &'static [PathBuf] {
    static PATHS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let output = Command::new("python3")
            .args(["-c", "import sys\nfor p in sys.path: print(p)"])
            .stderr(std::process::Stdio::null())
            .output();
        match output {
            Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| !l.is_empty())
                .map(PathBuf::from)
                .collect(),
            _ => Vec::new(),
        }
    })
}

/// Every directory a Python package may be found in, each with a label for messages.
pub fn site_packages() -> Vec<(PathBuf, String)> {
    let mut dirs = environment_site_packages();
    for dir in python_sys_path() {
        dirs.push((dir.clone(), "python3's sys.path".to_string()));
    }
    dirs.retain(|(d, _)| d.is_dir());
    dirs.dedup_by(|a, b| a.0 == b.0);
    dirs
}

/// The site-packages of the active environment and of `./.venv` and `./venv`: found without
/// starting Python.
fn environment_site_packages() -> Vec<(PathBuf, String)> {
    let mut dirs = Vec::new();
    for var in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        if let Some(root) = std::env::var_os(var) {
            for dir in env_site_packages(Path::new(&root)) {
                dirs.push((dir, format!("${var}")));
            }
        }
    }
    for local in [".venv", "venv"] {
        for dir in env_site_packages(Path::new(local)) {
            dirs.push((dir, format!("./{local}")));
        }
    }
    dirs.retain(|(d, _)| d.is_dir());
    dirs
}

/// The first library `find` sees in a site-packages directory, with the directory's label.
/// The environments come first; `python3` is started (about 100 ms, once per process) only
/// when none of them has it, which keeps it out of a server's start. On failure, where it
/// looked.
fn search_site_packages(
    find: impl Fn(&Path) -> Option<PathBuf>,
) -> Result<(PathBuf, String), String> {
    let quick = environment_site_packages();
    if let Some(found) = quick
        .iter()
        .find_map(|(dir, via)| Some((find(dir)?, via.clone())))
    {
        return Ok(found);
    }
    let dirs = site_packages();
    dirs.iter()
        .find_map(|(dir, via)| Some((find(dir)?, via.clone())))
        .ok_or_else(|| where_looked(&dirs))
}

/// The newest file in `dir` whose name is `stem` followed by a version suffix (`.so.2641`,
/// `.so.1.32.0`) or nothing.
fn versioned_library(dir: &Path, stem: &str) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n == stem
                    || n.strip_prefix(stem)
                        .is_some_and(|rest| rest.starts_with('.'))
            })
        })
        .collect();
    found.sort();
    found.pop()
}

fn where_looked(dirs: &[(PathBuf, String)]) -> String {
    if dirs.is_empty() {
        return "no Python environment was found (no $VIRTUAL_ENV, ./.venv or python3 on PATH)"
            .to_string();
    }
    let listed: Vec<String> = dirs
        .iter()
        .map(|(d, via)| format!("{} ({via})", d.display()))
        .collect();
    format!("looked in {}", listed.join(", "))
}

/// `libopenvino_c` from the `openvino` Python package. `None` with `OPENVINO_INSTALL_DIR` set:
/// the openvino crate then finds the library itself.
pub fn find_openvino() -> Result<Option<FoundLibrary>, String> {
    if std::env::var_os("OPENVINO_INSTALL_DIR").is_some() {
        return Ok(None);
    }
    match search_site_packages(|dir| {
        versioned_library(&dir.join("openvino").join("libs"), "libopenvino_c.so")
    }) {
        Ok((path, via)) => Ok(Some(FoundLibrary {
            path,
            found_via: format!("the openvino Python package in {via}"),
        })),
        Err(looked) => Err(format!(
            "the `openvino` Python package was not found: {looked}. Install it with `pip install \
             openvino` in that environment, or set OPENVINO_INSTALL_DIR to an OpenVINO installation"
        )),
    }
}

/// `libonnxruntime` from `ORT_DYLIB_PATH` or the `onnxruntime` Python package.
pub fn find_onnxruntime() -> Result<FoundLibrary, String> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(format!(
                "ORT_DYLIB_PATH is set to {}, which is not a file",
                path.display()
            ));
        }
        return Ok(FoundLibrary {
            path,
            found_via: "ORT_DYLIB_PATH".to_string(),
        });
    }
    match search_site_packages(|dir| {
        versioned_library(&dir.join("onnxruntime").join("capi"), "libonnxruntime.so")
    }) {
        Ok((path, via)) => Ok(FoundLibrary {
            path,
            found_via: format!("the onnxruntime Python package in {via}"),
        }),
        Err(looked) => Err(format!(
            "the `onnxruntime` Python package was not found: {looked}. Install it with `pip \
             install onnxruntime` in that environment, or set ORT_DYLIB_PATH to libonnxruntime.so"
        )),
    }
}

/// The version in a library's file name: `libonnxruntime.so.1.32.0` gives `1.32.0`.
pub fn version_from_file_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let (_, version) = name.split_once(".so.")?;
    Some(version.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_versioned_library_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "libonnxruntime.so.1.32.0",
            "libonnxruntime_providers_shared.so",
            "other.so",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let found = versioned_library(dir.path(), "libonnxruntime.so").unwrap();
        assert!(found.ends_with("libonnxruntime.so.1.32.0"));
        assert_eq!(version_from_file_name(&found).as_deref(), Some("1.32.0"));
        assert!(versioned_library(dir.path(), "libopenvino_c.so").is_none());
    }

    #[test]
    fn finds_site_packages_of_an_env_root() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("lib/python3.11/site-packages");
        std::fs::create_dir_all(&site).unwrap();
        assert!(env_site_packages(dir.path()).contains(&site));
    }
}
