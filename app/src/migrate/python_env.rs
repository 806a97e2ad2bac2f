//! The original's Python for `migrate`: the service's own venv, else a venv made from its
//! requirements file in the cache (once per distinct file, reused after), else the active
//! venv, else `python3`.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::progress::phase;
use crate::{AppError, Progress, Result};

/// The files a service's requirements are read from, in order of preference.
const REQUIREMENTS: [&str; 2] = ["requirements.txt", "requirements/prod.txt"];

/// The interpreter, and how it was chosen (for the report).
pub(super) fn service_python(service: &Path, progress: &dyn Progress) -> Result<(PathBuf, String)> {
    for venv in [".venv", "venv", "env"] {
        let python = service.join(venv).join("bin/python");
        if python.is_file() {
            return Ok((python, format!("the service's {venv}")));
        }
    }
    if let Some(requirements) = REQUIREMENTS
        .iter()
        .map(|r| service.join(r))
        .find(|r| r.is_file())
    {
        let python = requirements_venv(&requirements, progress)?;
        return Ok((
            python,
            format!("a cached venv made from {}", requirements.display()),
        ));
    }
    let python = wasm_migrate_codegen::find_python(service, None);
    Ok((
        python,
        "the active Python (the service has no requirements file)".into(),
    ))
}

/// A venv with `requirements` installed, kept in the cache under the file's hash: made once
/// (pip's own progress goes to stderr), then reused. A venv whose install failed is removed.
pub fn requirements_venv(requirements: &Path, progress: &dyn Progress) -> Result<PathBuf> {
    let text = std::fs::read(requirements).map_err(|source| AppError::Io {
        what: format!("cannot read {}", requirements.display()),
        source,
    })?;
    let key: String = Sha256::digest(&text)
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    let venv = wasm_migrate_runtime::cache::cache_dir()
        .join("venvs")
        .join(key);
    let python = venv.join("bin/python");
    let complete = venv.join(".complete");
    if complete.is_file() && python.is_file() {
        return Ok(python);
    }
    let _ = std::fs::remove_dir_all(&venv);
    let made = phase(
        progress,
        &format!(
            "installing {} into a cached venv (once; later runs reuse it)",
            requirements.display()
        ),
        || make_venv(&venv, requirements),
    );
    if let Err(e) = made {
        let _ = std::fs::remove_dir_all(&venv);
        return Err(e);
    }
    std::fs::write(&complete, b"").map_err(|source| AppError::Io {
        what: format!("cannot write {}", complete.display()),
        source,
    })?;
    Ok(python)
}

fn make_venv(venv: &Path, requirements: &Path) -> Result<()> {
    run(
        Command::new("python3").arg("-m").arg("venv").arg(venv),
        "python3 -m venv",
    )?;
    run(
        Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(requirements),
        &format!("pip install -r {}", requirements.display()),
    )
}

fn run(command: &mut Command, what: &str) -> Result<()> {
    let status = command.status().map_err(|source| AppError::Io {
        what: format!("cannot run {what}"),
        source,
    })?;
    if !status.success() {
        return Err(AppError::Failed(format!(
            "{what} failed ({status}); pass the service's interpreter with --python"
        )));
    }
    Ok(())
}
