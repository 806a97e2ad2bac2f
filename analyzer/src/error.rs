//! Errors that stop an analysis. Problems inside the service (syntax errors, unreadable files,
//! malformed manifests) are findings, not errors.

use std::path::{Path, PathBuf};

use thiserror::Error;

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
            AnalyzeError::Serialize(_) => None,
        }
    }
}

/// A YAML error with the line serde-saphyr located it at.
pub(crate) fn yaml_error(path: &Path, error: &serde_saphyr::Error) -> AnalyzeError {
    let message = error.to_string();
    let line = line_from_message(&message);
    AnalyzeError::InvalidYaml {
        path: path.to_path_buf(),
        line,
        message: first_line(&message),
    }
}

/// The first line of serde-saphyr's message, without its own `error:` and location prefix
/// (the file and line are given by the caller).
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

/// Writes a file atomically: a temporary file in the same directory, then a rename. Refuses
/// to replace an existing file unless `force`.
pub fn write_atomic(path: &Path, contents: &[u8], force: bool) -> Result<(), AnalyzeError> {
    use std::io::Write;
    if path.exists() && !force {
        return Err(AnalyzeError::WouldOverwrite(path.to_path_buf()));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| AnalyzeError::io(path, e))?;
    tmp.write_all(contents)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| AnalyzeError::io(path, e))?;
    // Temporary files are created 0600; the result should have the usual permissions (those
    // of the file it replaces, else rw-r--r--).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o644);
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| AnalyzeError::io(path, e))?;
    }
    tmp.persist(path)
        .map_err(|e| AnalyzeError::io(path, e.error))?;
    Ok(())
}
