//! The `wasm-migrate` binary: everything lives in the library, shared with the Python package.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(wasm_migrate_cli::run(std::env::args_os()))
}
