//! Services, not repositories: the folders of a repository that are services of their own,
//! each with the file that starts it (a Dockerfile or a Procfile) and its Python code.
//! `migrate` and `analyze` take one with `--service DIR`; given a repository of several
//! without it, `migrate` stops and lists them.

use std::path::{Path, PathBuf};

/// How deep below the given folder a service is looked for (`services/api/Dockerfile`).
const MAX_DEPTH: usize = 3;

/// Folders no service lives in.
const SKIPPED: &[&str] = &[
    ".git",
    ".venv",
    "venv",
    "env",
    "node_modules",
    "__pycache__",
    "site-packages",
    "migrated",
    "target",
    "build",
    "dist",
    "docs",
    "tests",
    "test",
];

/// The folders below `root` that are services of their own, relative to `root`, when
/// `root` itself is not one: each holds a Dockerfile or a Procfile and Python code, and none
/// is inside another. Empty when `root` starts a service itself or holds fewer than two.
pub fn service_folders(root: &Path) -> Vec<PathBuf> {
    if !root.is_dir() || starts_a_service(root) {
        return Vec::new();
    }
    let mut found = Vec::new();
    collect(root, root, 1, &mut found);
    if found.len() < 2 {
        return Vec::new();
    }
    found.sort();
    found
}

fn collect(root: &Path, dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut children: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.') && !SKIPPED.contains(&n))
        })
        .collect();
    children.sort();
    for child in children {
        if starts_a_service(&child) && has_python(&child, MAX_DEPTH) {
            if let Ok(relative) = child.strip_prefix(root) {
                found.push(relative.to_path_buf());
            }
        } else if depth < MAX_DEPTH {
            collect(root, &child, depth + 1, found);
        }
    }
}

/// A folder with the file that starts a service in it.
fn starts_a_service(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(|e| e.ok()).any(|e| {
            let name = e.file_name().to_string_lossy().to_ascii_lowercase();
            name == "procfile" || name == "dockerfile" || name.starts_with("dockerfile.")
        })
    })
}

fn has_python(dir: &Path, depth: usize) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.filter_map(|e| e.ok()).any(|e| {
        let path = e.path();
        if path.is_dir() {
            depth > 0 && has_python(&path, depth - 1)
        } else {
            path.extension().is_some_and(|x| x == "py")
        }
    })
}

/// `root/service`, checked: the folder must be inside `root` and exist.
pub fn pick(root: &Path, service: &Path) -> Result<PathBuf, String> {
    let picked = root.join(service);
    if !picked.is_dir() {
        let known = service_folders(root);
        let listed = if known.is_empty() {
            String::new()
        } else {
            format!(
                " (its services: {})",
                known
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(format!(
            "--service {}: no such folder in {}{listed}",
            service.display(),
            root.display()
        ));
    }
    Ok(picked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, file: &str) {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }

    #[test]
    fn a_repository_of_services_lists_each_and_one_service_lists_none() {
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        write(root, "cnn_image/Dockerfile");
        write(root, "cnn_image/app/predict.py");
        write(root, "services/text/Procfile");
        write(root, "services/text/main.py");
        // Neither a Dockerfile without Python nor Python without a start file is a service.
        write(root, "frontend/Dockerfile");
        write(root, "notebooks/explore.py");
        assert_eq!(
            service_folders(root),
            [PathBuf::from("cnn_image"), PathBuf::from("services/text")]
        );
        assert!(pick(root, Path::new("cnn_image")).is_ok());
        let missing = pick(root, Path::new("nope")).unwrap_err();
        assert!(missing.contains("cnn_image, services/text"), "{missing}");
        // A repository whose root starts the service is one service.
        write(root, "Dockerfile");
        assert!(service_folders(root).is_empty());
    }
}
