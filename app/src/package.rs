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
        options.dir.join("app.wasm")
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
