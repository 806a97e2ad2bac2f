//! Why a plan could not be read or written; each error names the file, and the line when
//! there is one.

use std::path::{Path, PathBuf};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum PlanError {
    #[error(
        "{}: no migration plan there; run `wasm-migrate analyze {service} --write-plan` first",
        path.display()
    )]
    NoPlan { path: PathBuf, service: String },
    // Not `source`: the message already holds the cause, and anyhow would print it twice.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    InvalidYaml {
        path: PathBuf,
        line: Option<u32>,
        message: String,
    },
    #[error("{}{}: invalid plan: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: Option<u32>,
        message: String,
    },
    #[error("{}: already exists (pass --force to overwrite it)", .0.display())]
    WouldOverwrite(PathBuf),
    #[error("could not serialize the plan: {0}")]
    Serialize(String),
}

impl PlanError {
    pub(crate) fn io(path: &Path, error: std::io::Error) -> Self {
        PlanError::Io {
            path: path.to_path_buf(),
            error,
        }
    }

    /// The file and line the error points at, when it has them.
    pub fn location(&self) -> Option<(&Path, Option<u32>)> {
        match self {
            PlanError::NoPlan { path, .. }
            | PlanError::Io { path, .. }
            | PlanError::WouldOverwrite(path) => Some((path, None)),
            PlanError::InvalidYaml { path, line, .. } | PlanError::Invalid { path, line, .. } => {
                Some((path, *line))
            }
            PlanError::Serialize(_) => None,
        }
    }
}

/// A YAML error with the line serde-saphyr located it at.
pub(crate) fn yaml_error(path: &Path, error: &serde_saphyr::Error) -> PlanError {
    let (line, message) = yaml_message(&error.to_string());
    PlanError::InvalidYaml {
        path: path.to_path_buf(),
        line,
        message,
    }
}

/// serde-saphyr's message as a line number and the message's first line, without its own
/// `error:` and location prefix (the caller names the file and line). The analyzer's rule
/// files use it too.
pub fn yaml_message(message: &str) -> (Option<u32>, String) {
    (line_from_message(message), first_line(message))
}

fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message).trim();
    let line = line.strip_prefix("error:").unwrap_or(line).trim_start();
    match line
        .strip_prefix("line ")
        .and_then(|rest| rest.split_once(": "))
    {
        Some((_, text)) => text.to_string(),
        None => line.to_string(),
    }
}

/// serde-saphyr writes locations as `line N column M`.
fn line_from_message(message: &str) -> Option<u32> {
    let idx = message.find("line ")?;
    let digits: String = message[idx + 5..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}
