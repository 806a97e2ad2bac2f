//! The inputs a user names (files or folders), checked against what the plan's model takes.

use std::path::{Path, PathBuf};

use wasm_migrate_plan::InputKind;
use wasm_migrate_plan::MigrationPlan;

use crate::error::VerifyError;
use crate::original::ReferenceResult;
use crate::report::InputInfo;

const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff", "webp"];
const TENSOR_EXTENSIONS: &[&str] = &["npy", "npz", "json"];
const TEXT_EXTENSIONS: &[&str] = &["txt", "text"];

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn usable(path: &Path) -> bool {
    let ext = extension(path);
    [IMAGE_EXTENSIONS, TENSOR_EXTENSIONS, TEXT_EXTENSIONS]
        .iter()
        .any(|list| list.contains(&ext.as_str()))
}

/// Files given, and the usable files of folders given (sorted, not recursive).
pub fn collect(given: &[PathBuf], plan: &MigrationPlan) -> Result<Vec<InputInfo>, VerifyError> {
    let mut files = Vec::new();
    for path in given {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(crate::error::io(path))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && usable(p))
                .collect();
            if found.is_empty() {
                return Err(VerifyError::BadInput {
                    path: path.clone(),
                    reason: "holds no images, texts or .npy/.npz files".into(),
                });
            }
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(VerifyError::BadInput {
                path: path.clone(),
                reason: "no such file or folder".into(),
            });
        }
    }
    let kind = plan.input.as_ref().map(|i| i.kind);
    for file in &files {
        let ext = extension(file);
        let (fits, wanted) = match kind {
            Some(InputKind::Image) => (IMAGE_EXTENSIONS.contains(&ext.as_str()), "images"),
            Some(InputKind::Text) => (TEXT_EXTENSIONS.contains(&ext.as_str()), "text files"),
            _ => (usable(file), "images, texts or .npy/.npz files"),
        };
        if !fits {
            return Err(VerifyError::BadInput {
                path: file.clone(),
                reason: format!(
                    "the plan's model takes {wanted}, and this is a `.{ext}` file: give inputs of \
                     that kind, or leave out --inputs to use photographs"
                ),
            });
        }
    }
    Ok(files
        .iter()
        .map(|p| InputInfo::from_path(p, "user"))
        .collect())
}

/// The inputs a stored reference was made from (`--save-reference` keeps them in `inputs/`).
pub fn stored(dir: &Path, results: &[ReferenceResult]) -> Result<Vec<InputInfo>, VerifyError> {
    results
        .iter()
        .map(|r| {
            let name = Path::new(&r.input).file_name().unwrap_or_default();
            let path = dir.join("inputs").join(name);
            if !path.is_file() {
                return Err(VerifyError::BadInput {
                    path,
                    reason: "an input of the stored reference is missing (save it again with --save-reference)".into(),
                });
            }
            Ok(InputInfo::from_path(&path, "reference"))
        })
        .collect()
}
