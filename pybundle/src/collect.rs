//! Runs `collect.py` with the service's interpreter: syntax, imports and the distributions
//! they come from, as that environment has them installed.

use crate::BundleError;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Run after the shared requirements module (names, markers, closure), which it calls.
const SCRIPT: &str = include_str!("collect.py");

#[derive(Debug, Deserialize)]
pub(crate) struct Collected {
    /// Set instead of the rest when the request itself was wrong.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub served: Vec<String>,
    #[serde(default)]
    pub syntax: Vec<SyntaxError>,
    #[serde(default)]
    pub imports: Vec<Import>,
    /// Top-level module -> the distributions that install it.
    #[serde(default)]
    pub modules: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub unresolved: Vec<String>,
    #[serde(default)]
    pub dists: Vec<Dist>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SyntaxError {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Import {
    pub module: String,
    pub file: String,
    pub line: u32,
    pub guarded: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Dist {
    pub name: String,
    pub version: Option<String>,
    pub location: Option<PathBuf>,
    pub files: Vec<String>,
    pub native: Vec<String>,
    pub requires: Vec<String>,
}

/// The app's module, where the server looks for it, and the names the service provides.
pub(crate) struct AppModule<'a> {
    pub module: &'a str,
    /// Folders relative to the service root, first first (`""` is the root).
    pub bases: Vec<String>,
    pub local: Vec<String>,
    /// Pickled files (joblib, .pkl) whose class references are imports too.
    pub pickles: Vec<String>,
}

pub(crate) fn collect(
    python: &Path,
    root: &Path,
    files: &[String],
    app: &AppModule<'_>,
    guest_python: &str,
) -> Result<Collected, BundleError> {
    let request = serde_json::json!({
        "root": root,
        "files": files,
        "local": app.local,
        "entry": app.module,
        "pickles": app.pickles,
        "bases": app.bases,
        "guest_python": guest_python,
    });
    let fail = |detail: String| BundleError::Python {
        python: python.to_path_buf(),
        detail,
    };
    let script = wasm_migrate_pyharness::inline(wasm_migrate_pyharness::REQUIREMENTS, SCRIPT);
    let out = Command::new(python)
        .args(["-I", "-c", &script, &request.to_string()])
        .output()
        .map_err(|e| {
            fail(format!(
                "cannot run it to read the service's dependencies: {e}"
            ))
        })?;
    if !out.status.success() {
        return Err(fail(format!(
            "reading the service's dependencies failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let collected: Collected = serde_json::from_slice(&out.stdout)
        .map_err(|e| fail(format!("its dependency report is not JSON: {e}")))?;
    match collected.error {
        Some(e) => Err(BundleError::NoApp(e)),
        None => Ok(collected),
    }
}
