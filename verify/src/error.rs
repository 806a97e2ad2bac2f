//! Why verify could not run (exit code 2), each naming what to fix.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Plan(#[from] wasm_migrate_plan::PlanError),

    #[error("{0}")]
    Usage(String),

    #[error(
        "cannot run the service's Python `{python}`: {reason} (pass --python PATH, or create a venv in the service)"
    )]
    NoPython { python: PathBuf, reason: String },

    /// The harness reported the service could not start (import error, missing model,
    /// entry point not found).
    #[error("the original service could not run ({kind}): {message}")]
    Original { kind: String, message: String },

    #[error("the migrated module {path} could not run: {reason}")]
    Migrated { path: PathBuf, reason: String },

    #[error("backend {backend} is not available here: {reason}")]
    BackendUnavailable { backend: String, reason: String },

    #[error("{path}: {reason}")]
    BadTensor { path: PathBuf, reason: String },

    #[error("{path}: {reason}")]
    BadInput { path: PathBuf, reason: String },

    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> VerifyError + '_ {
    move |error| VerifyError::Io {
        path: path.to_path_buf(),
        error,
    }
}
