//! What `migrate` already did for the plan as it is now, kept beside the output
//! (`migrated/.wasm-migrate-stages.json`), so a second run redoes only what changed.
//!
//! The key is the plan without the sections `convert` writes (`converted`, `http`): those
//! change when convert runs, and must not make the output they came from look stale. A new
//! version of the tool, or a build whose templates or vendored operations differ, is a new key. `generate` replaces the output folder, stamp included,
//! so everything after it runs again.

use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasm_migrate_plan::LoadedPlan;

const FILE: &str = ".wasm-migrate-stages.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum Step {
    Generated,
    Converted,
    Built,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Record {
    key: String,
    done: Vec<Step>,
}

/// The plan's key, and what the plan says `convert` wrote.
pub(super) struct Stamp {
    key: String,
    converted_files: Vec<String>,
}

impl Stamp {
    pub(super) fn current(loaded: &LoadedPlan) -> Stamp {
        let mut core = loaded.plan.clone();
        let converted_files = core
            .converted
            .take()
            .map(|c| c.artifacts.into_iter().flat_map(|a| a.files).collect())
            .unwrap_or_default();
        core.http = None;
        let mut digest = Sha256::new();
        digest.update(env!("CARGO_PKG_VERSION"));
        digest.update(wasm_migrate_codegen::templates::fingerprint());
        digest.update(serde_json::to_vec(&core).unwrap_or_default());
        let key = digest
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Stamp {
            key,
            converted_files,
        }
    }

    fn read(&self, out: &Path) -> Vec<Step> {
        std::fs::read(out.join(FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Record>(&bytes).ok())
            .filter(|record| record.key == self.key)
            .map(|record| record.done)
            .unwrap_or_default()
    }

    /// Records `step` as done for this plan. A stamp that cannot be written only means the
    /// next run redoes the step.
    pub(super) fn mark(&self, out: &Path, step: Step) {
        let mut done = self.read(out);
        if !done.contains(&step) {
            done.push(step);
        }
        let record = Record {
            key: self.key.clone(),
            done,
        };
        if let Ok(bytes) = serde_json::to_vec_pretty(&record) {
            let _ = wasm_migrate_plan::write_atomic(&out.join(FILE), &bytes, true);
        }
    }

    pub(super) fn generated(&self, out: &Path) -> bool {
        self.read(out).contains(&Step::Generated)
    }

    /// Converted for this plan, and every file the plan records is still there.
    pub(super) fn converted(&self, out: &Path) -> bool {
        self.generated(out)
            && self.read(out).contains(&Step::Converted)
            && !self.converted_files.is_empty()
            && self.converted_files.iter().all(|f| out.join(f).is_file())
    }

    /// Built for this plan, and no source of the crate is newer than the module (a person
    /// may edit the generated code).
    pub(super) fn built(&self, out: &Path) -> bool {
        if !(self.generated(out) && self.read(out).contains(&Step::Built)) {
            return false;
        }
        if crate::Artifact::of(out) == crate::Artifact::Bundle {
            return true;
        }
        let Some(module) = modified(&out.join("app.wasm")) else {
            return false;
        };
        newest_source(&out.join("src")).is_none_or(|source| source <= module)
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The newest modification time of the files under `dir`.
fn newest_source(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Some(time) = modified(&path) {
                newest = newest.max(Some(time));
            }
        }
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(service: &Path, extra: &str) -> LoadedPlan {
        let text = format!(
            "version: 1\nservice:\n  name: svc\ntarget:\n  path: wasi-python\n  runtime: wasmedge\n  \
             runtime_version: '0.14'\ntolerances:\n  preset: cross-backend\n  atol: 0.0001\n  \
             rtol: 0.001\n{extra}"
        );
        let path = service.join("wasm-migrate.yaml");
        LoadedPlan::parse(path, text).unwrap()
    }

    #[test]
    fn steps_are_kept_for_the_plan_they_were_done_for() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("migrated");
        std::fs::create_dir_all(&out).unwrap();
        let stamp = Stamp::current(&plan(dir.path(), ""));
        assert!(!stamp.generated(&out));
        stamp.mark(&out, Step::Generated);
        assert!(stamp.generated(&out));
        // The same plan with what convert records: the same key.
        let converted = "converted:\n  python: /usr/bin/python3\n  artifacts: []\n";
        assert!(Stamp::current(&plan(dir.path(), converted)).generated(&out));
        // Another plan: nothing is reused.
        let edited = plan(dir.path(), "labels: labels.txt\n");
        assert!(!Stamp::current(&edited).generated(&out));
    }

    #[test]
    fn a_module_older_than_an_edited_source_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("migrated");
        std::fs::create_dir_all(out.join("src")).unwrap();
        std::fs::write(out.join("src/main.rs"), "fn main() {}").unwrap();
        std::fs::write(out.join("app.wasm"), b"\0asm").unwrap();
        let stamp = Stamp::current(&plan(dir.path(), ""));
        stamp.mark(&out, Step::Generated);
        stamp.mark(&out, Step::Built);
        assert!(stamp.built(&out));
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        let file = std::fs::File::options()
            .write(true)
            .open(out.join("src/main.rs"))
            .unwrap();
        file.set_modified(later).unwrap();
        assert!(!stamp.built(&out));
    }
}
