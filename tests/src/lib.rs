//! Helpers shared by the end-to-end tests: where the samples are, and how to run the
//! `wasm-migrate` binary that `cargo build` produced.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

pub fn sample(name: &str) -> PathBuf {
    repo_root().join("samples").join(name)
}

/// The `wasm-migrate` binary built next to the test executable.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> -> target/<profile>/wasm-migrate
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let bin = profile_dir.join(format!("wasm-migrate{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --workspace` before the tests (the README's test command does)",
        bin.display()
    );
    bin
}

/// Runs `wasm-migrate ARGS` with colours off.
pub fn run(args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("wasm-migrate runs")
}

/// Whether the tests run as root (permission tests cannot deny root).
pub fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}
