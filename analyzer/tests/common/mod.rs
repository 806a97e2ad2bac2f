//! What the analyzer's integration tests share.

use std::fs;

use wasm_migrate_analyzer::{Options, Report, analyze};

/// Writes `files` into a fresh directory and analyzes it.
#[allow(dead_code)] // Not every test binary that includes this module writes services.
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

/// The plan's preprocessing chain as `library op` strings.
#[allow(dead_code)] // Not every test binary that includes this module compares chains.
pub fn chain(report: &Report) -> Vec<String> {
    report
        .plan
        .preprocessing
        .iter()
        .map(|s| format!("{:?} {}", s.library, s.op).to_lowercase())
        .collect()
}
