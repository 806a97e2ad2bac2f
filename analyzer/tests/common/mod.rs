//! What the analyzer's integration tests share.

use std::fs;

use wasm_migrate_analyzer::{Options, Report, analyze};

/// Writes `files` into a fresh directory and analyzes it.
pub fn service(files: &[(&str, &str)]) -> (tempfile::TempDir, Report) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    let report = analyze(dir.path(), &Options::default()).unwrap();
    (dir, report)
}
