//! The `wasm-migrate` binary: everything lives in the library, shared with the Python package.

use std::process::ExitCode;

/// `analyze` builds and drops a syntax tree per file on every core; glibc's allocator spent a
/// quarter of its time in malloc and free (docs/decisions.md, "Analyzer throughput").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    ExitCode::from(wasm_migrate_cli::run(std::env::args_os()))
}
