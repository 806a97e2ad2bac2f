//! `convert`: runs the generated `convert_model.py` with the service's own interpreter and
//! records what it wrote in the plan.

use std::path::{Path, PathBuf};
use std::process::Command;

use wasm_migrate_plan::{ConvertedModel, LoadedPlan};

use crate::error::CodegenError;
use crate::generate::default_out;

/// An interpreter the user named: a relative path made absolute, since the stages run it from
/// other folders (the service's, a scratch one); a bare name (`python3`) is left to `PATH`.
pub fn given_python(path: &Path) -> PathBuf {
    match path.components().count() > 1 {
        true => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
        false => path.to_path_buf(),
    }
}

/// The interpreter to use: the one given, the service's own venv, the active venv, python3.
pub fn find_python(service: &Path, given: Option<&Path>) -> PathBuf {
    if let Some(p) = given {
        return given_python(p);
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
    let staging = tempfile::Builder::new()
        .prefix(".model-staging-")
        .tempdir_in(&out)
        .map_err(|e| CodegenError::Convert(format!("{}: {e}", out.display())))?;
    let output = Command::new(&python)
        .arg(&script)
        .env("WASM_MIGRATE_MODEL_DIR", staging.path())
        .output()
        .map_err(|e| {
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
    publish_model(staging, &out.join("model"))?;
    loaded.plan.converted = Some(converted.clone());
    loaded.save()?;
    Ok(converted)
}

/// Swaps the staged conversion in for `model`, keeping the files of the old folder that this
/// conversion did not write. Each step is a rename: killed at any point, `model` is the old
/// folder, the new one, or absent (the old one then waits under a `.model-old-` name).
fn publish_model(staging: tempfile::TempDir, model: &Path) -> Result<(), CodegenError> {
    let failed =
        |path: &Path, e: std::io::Error| CodegenError::Convert(format!("{}: {e}", path.display()));
    let staged = staging.keep();
    if let Ok(entries) = std::fs::read_dir(model) {
        for entry in entries.flatten() {
            let kept = staged.join(entry.file_name());
            if !kept.exists() {
                std::fs::rename(entry.path(), &kept).map_err(|e| failed(&entry.path(), e))?;
            }
        }
    }
    let parent = model.parent().unwrap_or(Path::new("."));
    let old = tempfile::Builder::new()
        .prefix(".model-old-")
        .tempdir_in(parent)
        .map_err(|e| failed(parent, e))?;
    let old_model = old.path().join("model");
    if model.exists() {
        std::fs::rename(model, &old_model).map_err(|e| failed(model, e))?;
    }
    std::fs::rename(&staged, model).map_err(|e| failed(model, e))?;
    drop(old);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_model_replaces_the_old_files_it_wrote_and_keeps_the_others() {
        let glue = tempfile::tempdir().unwrap();
        let model = glue.path().join("model");
        std::fs::create_dir(&model).unwrap();
        std::fs::write(model.join("model.onnx"), "old").unwrap();
        std::fs::write(model.join("notes.txt"), "mine").unwrap();
        let staging = tempfile::Builder::new()
            .prefix(".model-staging-")
            .tempdir_in(glue.path())
            .unwrap();
        std::fs::write(staging.path().join("model.onnx"), "new").unwrap();
        publish_model(staging, &model).unwrap();
        assert_eq!(
            std::fs::read_to_string(model.join("model.onnx")).unwrap(),
            "new"
        );
        assert_eq!(
            std::fs::read_to_string(model.join("notes.txt")).unwrap(),
            "mine"
        );
        let names: Vec<String> = std::fs::read_dir(glue.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["model"], "no staging or old folder is left");
    }
}
