//! `package --oci`: a built module as an OCI image layout archive.

use std::path::{Path, PathBuf};

use wasm_migrate_codegen::{Packaged, package_oci};

use crate::Result;

#[derive(Debug, Clone)]
pub struct PackageOptions {
    /// The built glue crate (holding app.wasm), or a .wasm file.
    pub dir: PathBuf,
    /// The archive to write (default: beside the module, app.oci.tar).
    pub output: Option<PathBuf>,
    /// The image reference recorded in the archive.
    pub tag: String,
    pub force: bool,
}

pub fn package(options: &PackageOptions) -> Result<Packaged> {
    let module = if options.dir.is_dir() {
        module_in(&options.dir)
    } else {
        options.dir.clone()
    };
    let out = options.output.clone().unwrap_or_else(|| {
        module
            .parent()
            .unwrap_or(Path::new("."))
            .join("app.oci.tar")
    });
    Ok(package_oci(&module, &out, &options.tag, options.force)?)
}

/// The module a folder ships: `app_aot.wasm` (`deploy/run-wasmedge.sh --compile`) when it is
/// at least as new as `app.wasm`, as `deploy/Dockerfile` copies it, else `app.wasm`.
fn module_in(dir: &Path) -> std::path::PathBuf {
    let (plain, aot) = (dir.join("app.wasm"), dir.join("app_aot.wasm"));
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(&plain), modified(&aot)) {
        (Some(plain_at), Some(aot_at)) if aot_at >= plain_at => aot,
        (None, Some(_)) => aot,
        _ => plain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aot_module_is_shipped_unless_the_plain_one_is_newer() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.wasm"), b"\0asm").unwrap();
        assert_eq!(module_in(dir.path()), dir.path().join("app.wasm"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.path().join("app_aot.wasm"), b"\0asm").unwrap();
        assert_eq!(module_in(dir.path()), dir.path().join("app_aot.wasm"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.path().join("app.wasm"), b"\0asm").unwrap();
        assert_eq!(module_in(dir.path()), dir.path().join("app.wasm"));
    }
}
