//! Errors that stop an analysis. Problems inside the service (syntax errors, unreadable files,
//! malformed manifests) are findings, not errors.

use std::path::{Path, PathBuf};

use thiserror::Error;
use wasm_migrate_plan::PlanError;

#[derive(Debug, Error)]
pub enum AnalyzeError {
    #[error("{}: no such file or directory", .0.display())]
    NotFound(PathBuf),
    #[error("{}: not a Python file: give a service directory or one `.py` file", .0.display())]
    NotPython(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    InvalidYaml {
        path: PathBuf,
        line: Option<u32>,
        message: String,
    },
    #[error("{}{}: invalid rule: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    InvalidRule {
        path: PathBuf,
        line: Option<u32>,
        message: String,
    },
    #[error("{}{}: invalid plan: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    InvalidPlan {
        path: PathBuf,
        line: Option<u32>,
        message: String,
    },
    #[error("{}: already exists (pass --force to overwrite it)", .0.display())]
    WouldOverwrite(PathBuf),
    #[error(
        "--entrypoint {given}: no such Python file in the service (its Python files include {known})"
    )]
    EntrypointNotFound { given: String, known: String },
    #[error("could not serialize the report: {0}")]
    Serialize(String),
}

impl AnalyzeError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        AnalyzeError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The file and line the error points at, when it has them.
    pub fn location(&self) -> Option<(&Path, Option<u32>)> {
        match self {
            AnalyzeError::NotFound(p)
            | AnalyzeError::NotPython(p)
            | AnalyzeError::WouldOverwrite(p) => Some((p, None)),
            AnalyzeError::Io { path, .. } => Some((path, None)),
            AnalyzeError::InvalidYaml { path, line, .. }
            | AnalyzeError::InvalidRule { path, line, .. }
            | AnalyzeError::InvalidPlan { path, line, .. } => Some((path, *line)),
            AnalyzeError::Serialize(_) | AnalyzeError::EntrypointNotFound { .. } => None,
        }
    }
}

/// A YAML error with the line serde-saphyr located it at.
pub(crate) fn yaml_error(path: &Path, error: &serde_saphyr::Error) -> AnalyzeError {
    let (line, message) = wasm_migrate_plan::error::yaml_message(&error.to_string());
    AnalyzeError::InvalidYaml {
        path: path.to_path_buf(),
        line,
        message,
    }
}

impl From<PlanError> for AnalyzeError {
    fn from(error: PlanError) -> Self {
        match error {
            PlanError::NoPlan { path, .. } => AnalyzeError::NotFound(path),
            PlanError::Io { path, error } => AnalyzeError::Io {
                path,
                source: error,
            },
            PlanError::InvalidYaml {
                path,
                line,
                message,
            } => AnalyzeError::InvalidYaml {
                path,
                line,
                message,
            },
            PlanError::Invalid {
                path,
                line,
                message,
            } => AnalyzeError::InvalidPlan {
                path,
                line,
                message,
            },
            PlanError::WouldOverwrite(path) => AnalyzeError::WouldOverwrite(path),
            PlanError::Serialize(message) => AnalyzeError::Serialize(message),
        }
    }
}

/// Writes a file atomically, refusing to replace one unless `force`: the plan crate's
/// [`wasm_migrate_plan::write_atomic`], with the analyzer's error type.
pub fn write_atomic(path: &Path, contents: &[u8], force: bool) -> Result<(), AnalyzeError> {
    Ok(wasm_migrate_plan::write_atomic(path, contents, force)?)
}
