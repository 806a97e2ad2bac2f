//! `convert`: runs the generated `convert_model.py` with the service's own interpreter and
//! records what it wrote in the plan.

use std::path::{Path, PathBuf};
use std::process::Command;

use wasm_migrate_plan::{ConvertedModel, LoadedPlan};

use crate::error::CodegenError;
use crate::generate::default_out;

/// The interpreter to use: the one given, the service's own venv, the active venv, python3.
pub fn find_python(service: &Path, given: Option<&Path>) -> PathBuf {
    if let Some(p) = given {
        return p.to_path_buf();
    }
    for venv in [".venv", "venv", "env"] {
        let python = service.join(venv).join("bin/python");
        if python.is_file() {
            return python;
        }
    }
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        let python = Path::new(&venv).join("bin/python");
        if python.is_file() {
            return python;
        }
    }
    PathBuf::from("python3")
}

pub fn convert(
    service: &Path,
    out: Option<&Path>,
    python: Option<&Path>,
) -> Result<ConvertedModel, CodegenError> {
    let mut loaded = LoadedPlan::load(service)?;
    let out = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_out(service));
    let script = out.join("convert_model.py");
    if !script.is_file() {
        return Err(CodegenError::Convert(format!(
            "{}: missing; run `wasm-migrate generate {}` first",
            script.display(),
            service.display()
        )));
    }
    let python = find_python(service, python);
    let output = Command::new(&python).arg(&script).output().map_err(|e| {
        CodegenError::Convert(format!(
            "cannot run {}: {e} (pass --python PATH)",
            python.display()
        ))
    })?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let tail: Vec<&str> = stderr
            .lines()
            .rev()
            .take(12)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let hint = if stderr.contains("ModuleNotFoundError") {
            "the interpreter lacks a package the service or the conversion needs: install it there, or pass --python"
        } else if stderr.contains("FileNotFoundError") {
            "a file the service loads at import time is missing: run the service's model script first"
        } else {
            "fix the error above, or edit convert_model.py"
        };
        return Err(CodegenError::Convert(format!(
            "{} {} failed:\n{}\n{hint}",
            python.display(),
            script.display(),
            tail.join("\n")
        )));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| CodegenError::Convert(format!("{} printed no summary", script.display())))?;
    let converted: ConvertedModel = serde_json::from_str(summary).map_err(|e| {
        CodegenError::Convert(format!("{}: unreadable summary: {e}", script.display()))
    })?;
    loaded.plan.converted = Some(converted.clone());
    loaded.save()?;
    Ok(converted)
}
