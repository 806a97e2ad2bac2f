//! Where a plan lives, and reading and writing it: the one place every stage goes through.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::PlanError;
use crate::plan::{MigrationPlan, PLAN_FILE_NAME, PlanStep};

/// A plan as read from its file: the parsed plan, where it is, and its text (whose hash the
/// build stamps, and whose lines errors point at).
#[derive(Debug, Clone)]
pub struct LoadedPlan {
    pub plan: MigrationPlan,
    pub path: PathBuf,
    pub text: String,
}

/// Where the plan of `root` goes: `root/wasm-migrate.yaml` for a service directory, next to
/// the file for a single-file service.
pub fn location_for(root: &Path) -> PathBuf {
    let dir = if root.is_file() {
        root.parent().map(PathBuf::from).unwrap_or_default()
    } else {
        root.to_path_buf()
    };
    dir.join(PLAN_FILE_NAME)
}

/// The plan file named by `path`: a plan file itself, or a directory holding one.
pub fn resolve(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(PLAN_FILE_NAME)
    } else {
        path.to_path_buf()
    }
}

impl LoadedPlan {
    /// Reads and validates `SERVICE/wasm-migrate.yaml`.
    pub fn load(service: &Path) -> Result<LoadedPlan, PlanError> {
        let path = service.join(PLAN_FILE_NAME);
        let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => PlanError::NoPlan {
                path: path.clone(),
                service: service.display().to_string(),
            },
            _ => PlanError::io(&path, e),
        })?;
        Self::parse(path, text)
    }

    /// Validates a plan's text; errors name `path` and the line.
    pub fn parse(path: PathBuf, text: String) -> Result<LoadedPlan, PlanError> {
        let plan = MigrationPlan::from_yaml(&path, &text)?;
        Ok(LoadedPlan { plan, path, text })
    }

    /// Writes `self.plan` back as commented YAML, atomically, over its own file (a later stage
    /// recording what it did, as `convert` does).
    pub fn save(&mut self) -> Result<(), PlanError> {
        let text = self.plan.to_commented_yaml()?;
        write_atomic(&self.path, text.as_bytes(), true)?;
        self.text = text;
        Ok(())
    }
}

/// Writes a file atomically: a temporary file in the same directory, then a rename. Refuses
/// to replace an existing file unless `force`. Every file wasm-migrate writes for the user
/// (reports, plans) goes through here.
pub fn write_atomic(path: &Path, contents: &[u8], force: bool) -> Result<(), PlanError> {
    if path.exists() && !force {
        return Err(PlanError::WouldOverwrite(path.to_path_buf()));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let io = |e| PlanError::io(path, e);
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(contents)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(io)?;
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
            .map_err(io)?;
    }
    tmp.persist(path)
        .map_err(|e| PlanError::io(path, e.error))?;
    Ok(())
}

/// The 1-based line of the `index`-th item of a top-level list `key` in the plan text.
pub fn item_line(text: &str, key: &str, index: usize) -> usize {
    let mut in_list = false;
    let mut seen = 0;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with(&format!("{key}:")) {
            in_list = true;
            continue;
        }
        if !in_list {
            continue;
        }
        if line.starts_with("- ") {
            if seen == index {
                return n + 1;
            }
            seen += 1;
        } else if !line.is_empty() && !line.starts_with(' ') && !line.starts_with('#') {
            break;
        }
    }
    1
}

/// A plan step with the section it is in.
#[derive(Debug, Clone, Copy)]
pub struct StepAt<'p> {
    pub section: &'static str,
    pub index: usize,
    pub step: &'p PlanStep,
}

impl LoadedPlan {
    /// The preprocessing or postprocessing step whose list item starts at `line`.
    pub fn step_at_line(&self, line: usize) -> Option<StepAt<'_>> {
        let sections = [
            ("preprocessing", &self.plan.preprocessing),
            ("postprocessing", &self.plan.postprocessing),
        ];
        sections.into_iter().find_map(|(section, steps)| {
            let index = (0..steps.len())
                .find(|&i| line > 1 && item_line(&self.text, section, i) == line)?;
            Some(StepAt {
                section,
                index,
                step: &steps[index],
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_plan_says_how_to_write_one() {
        let dir = tempfile::tempdir().unwrap();
        let err = LoadedPlan::load(dir.path()).unwrap_err();
        assert!(matches!(err, PlanError::NoPlan { .. }));
        assert!(err.to_string().contains("--write-plan"), "{err}");
    }

    #[test]
    fn write_atomic_refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_atomic(&path, b"one", false).unwrap();
        let err = write_atomic(&path, b"two", false).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        write_atomic(&path, b"two", true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
    }

    #[test]
    fn the_plan_of_a_single_file_service_goes_next_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app.py");
        std::fs::write(&app, "").unwrap();
        assert_eq!(location_for(&app), dir.path().join(PLAN_FILE_NAME));
        assert_eq!(location_for(dir.path()), dir.path().join(PLAN_FILE_NAME));
    }
}
