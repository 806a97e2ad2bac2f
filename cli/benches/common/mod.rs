//! What the benchmarks that migrate a sample share: the repository, the test venv's Python,
//! and the sample made, analyzed, generated, converted (optionally) and built.

#![allow(dead_code)] // each bench uses its own part

use std::path::{Path, PathBuf};
use std::process::Command;

use wasm_migrate_codegen::{Built, GenerateOptions};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn python() -> PathBuf {
    let python = repo().join("target/py-venv/bin/python");
    assert!(python.is_file(), "run ./scripts/setup-python first");
    python
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// `SAMPLE` copied into `work`, its model made, the plan written, the glue generated, the
/// model converted when `convert` is set, and the module built (release, shared target dir).
pub fn migrate(sample: &str, work: &Path, convert: bool) -> (PathBuf, Built) {
    let service = work.join(sample);
    copy_dir(&repo().join("samples").join(sample), &service);
    let status = Command::new(python())
        .arg(service.join("make_model.py"))
        .status()
        .unwrap();
    assert!(status.success());
    let code = wasm_migrate_cli::run([
        "wasm-migrate",
        "analyze",
        service.to_str().unwrap(),
        "--write-plan",
        "--format",
        "json",
        "--output",
        work.join("report.json").to_str().unwrap(),
    ]);
    assert!(code <= 1, "analyze failed");
    let generated = wasm_migrate_codegen::generate(
        &service,
        &GenerateOptions {
            out: None,
            target: None,
            templates: None,
            force: false,
        },
    )
    .unwrap();
    if convert {
        // As a user converts: the model, then the original's HTTP API recorded for `--serve`.
        let code = wasm_migrate_cli::run([
            "wasm-migrate",
            "convert",
            service.to_str().unwrap(),
            "--python",
            python().to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "convert failed");
    }
    // SAFETY: set before any other thread starts; the build reads it from the environment.
    unsafe { std::env::set_var("CARGO_TARGET_DIR", repo().join("target/glue-target")) };
    let built = wasm_migrate_codegen::build(&generated.out, None).unwrap();
    (service, built)
}

/// One run that must succeed; the guest's stderr is the panic message when it does not.
pub fn run_succeeding(
    runtime: &wasm_migrate_runtime::Runtime,
    module: &wasm_migrate_runtime::WasmModule,
    config: &wasm_migrate_runtime::RunConfig,
) -> wasm_migrate_runtime::RunOutcome {
    let outcome = runtime.run(module, config).unwrap();
    assert!(
        outcome.ending.success(),
        "{}",
        String::from_utf8_lossy(&outcome.stderr)
    );
    outcome
}
