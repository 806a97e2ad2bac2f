use std::path::PathBuf;

/// Everything generate, convert, build and inspect can fail with; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// The plan is missing, unreadable or invalid (the error names the file and line).
    #[error(transparent)]
    Plan(#[from] wasm_migrate_plan::PlanError),
    #[error("{path}:{line}: {message}")]
    PlanStep {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Unsupported { path: PathBuf, message: String },
    #[error("{path} already exists; pass --force to replace it (model/ and target/ are kept)")]
    Exists { path: PathBuf },
    // Not `source`: the message already holds the cause, and anyhow would print it twice.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error("{0}")]
    Build(String),
    #[error("{path}: {message}")]
    Module { path: PathBuf, message: String },
    #[error("{0}")]
    Convert(String),
}

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> CodegenError {
    let path = path.into();
    move |error| CodegenError::Io { path, error }
}
