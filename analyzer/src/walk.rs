//! Finding the files of a service the way git would: `.gitignore` respected, virtual
//! environments, site-packages, build and cache folders skipped, symlink loops reported.

use std::path::{Path, PathBuf};

use ignore::WalkBuilder;

/// Folder names never analyzed.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    "site-packages",
    "dist-packages",
    "node_modules",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".eggs",
    "build",
    "dist",
    ".ipynb_checkpoints",
    ".cache",
];

/// The files of a service.
#[derive(Debug, Default)]
pub struct ServiceFiles {
    /// Every regular file (absolute or as given), in a stable order.
    pub all: Vec<PathBuf>,
    /// Problems met while walking (symlink loops, unreadable folders), with the path.
    pub problems: Vec<(PathBuf, String)>,
}

pub fn walk(root: &Path) -> ServiceFiles {
    let mut out = ServiceFiles::default();
    if root.is_file() {
        out.all.push(root.to_path_buf());
        return out;
    }
    let walker = WalkBuilder::new(root)
        .follow_links(true)
        .require_git(false)
        .hidden(true)
        .filter_entry(|entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if !is_dir {
                return true;
            }
            let name = entry.file_name().to_string_lossy();
            if entry.depth() > 0
                && (SKIPPED_DIRS.contains(&name.as_ref())
                    || name.ends_with(".egg-info")
                    || entry.path().join("pyvenv.cfg").exists())
            {
                return false;
            }
            true
        })
        .build();
    for entry in walker {
        match entry {
            Ok(e) => {
                if e.file_type().is_some_and(|t| t.is_file()) {
                    out.all.push(e.into_path());
                } else if e.path_is_symlink() && !e.path().exists() {
                    out.problems
                        .push((e.path().to_path_buf(), "broken symbolic link".to_string()));
                }
            }
            Err(err) => {
                let path = error_path(&err).unwrap_or_else(|| root.to_path_buf());
                out.problems.push((path, describe(&err)));
            }
        }
    }
    out.all.sort();
    out
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } => error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        ignore::Error::WithLineNumber { err, .. } => error_path(err),
        _ => None,
    }
}

fn describe(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => describe(err),
        ignore::Error::Loop { ancestor, .. } => {
            format!("symbolic link loop back to {}", ancestor.display())
        }
        ignore::Error::Io(e) => e.to_string(),
        other => other.to_string(),
    }
}
