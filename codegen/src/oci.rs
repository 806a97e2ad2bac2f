//! `package --oci`: the module as an OCI image layout archive (`oci-archive:` for skopeo,
//! podman and containerd's import), built here without Docker.
//!
//! The image is what `FROM scratch` + `COPY app.wasm /app.wasm` gives: one tar layer holding
//! the module, platform wasi/wasm, entrypoint `/app.wasm`, and crun's
//! `module.wasm.image/variant=compat-smart` annotation, which runwasi's shims accept too.

use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::{CodegenError, io};
use crate::generate::hex;

const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";
const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

#[derive(Debug, Clone, serde::Serialize)]
pub struct Packaged {
    pub archive: PathBuf,
    pub reference: String,
    pub manifest_digest: String,
    pub size: u64,
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

fn tar_bytes(entries: &[(&str, &[u8])]) -> Result<Vec<u8>, std::io::Error> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o755);
        // A fixed time keeps the layer digest reproducible.
        header.set_mtime(0);
        header.set_cksum();
        builder.append_data(&mut header, name, *data)?;
    }
    builder.into_inner()
}

/// The port the generated crate beside `module` serves on (its manifest), else 8080.
fn server_port(module: &Path) -> u16 {
    module
        .parent()
        .map(|dir| dir.join(crate::MANIFEST_FILE))
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|manifest| manifest["server_port"].as_u64())
        .and_then(|port| u16::try_from(port).ok())
        .unwrap_or(8080)
}

/// Packages `module` (a built app.wasm) as `reference` into the archive `out`.
pub fn package_oci(
    module: &Path,
    out: &Path,
    reference: &str,
    force: bool,
) -> Result<Packaged, CodegenError> {
    let wasm = std::fs::read(module).map_err(io(module))?;
    if !wasm.starts_with(b"\0asm") {
        return Err(CodegenError::Module {
            path: module.to_path_buf(),
            message: "not a WebAssembly module; run `wasm-migrate build` first".into(),
        });
    }
    if out.exists() && !force {
        return Err(CodegenError::Exists {
            path: out.to_path_buf(),
        });
    }
    let tar_error = |e: std::io::Error| CodegenError::Io {
        path: out.to_path_buf(),
        error: e,
    };
    let layer = tar_bytes(&[("app.wasm", &wasm)]).map_err(tar_error)?;
    let layer_digest = digest(&layer);
    let port = server_port(module);
    let config = serde_json::to_vec(&json!({
        "architecture": "wasm",
        "os": "wasi",
        // The module serves the original's API unless given files as the command.
        "config": {
            "Entrypoint": ["/app.wasm"],
            "Cmd": ["--serve"],
            "Env": [format!("PORT={port}")],
            "ExposedPorts": {format!("{port}/tcp"): {}},
        },
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    }))
    .expect("serialisable");
    let config_digest = digest(&config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": LAYER_MEDIA_TYPE, "digest": layer_digest, "size": layer.len()}],
        "annotations": {"module.wasm.image/variant": "compat-smart"},
    }))
    .expect("serialisable");
    let manifest_digest = digest(&manifest);
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": MANIFEST_MEDIA_TYPE,
            "digest": manifest_digest,
            "size": manifest.len(),
            "platform": {"architecture": "wasm", "os": "wasi"},
            "annotations": {"org.opencontainers.image.ref.name": reference},
        }],
    }))
    .expect("serialisable");
    let blob = |d: &str| format!("blobs/sha256/{}", d.trim_start_matches("sha256:"));
    let (layer_path, config_path, manifest_path) = (
        blob(&layer_digest),
        blob(&config_digest),
        blob(&manifest_digest),
    );
    let archive = tar_bytes(&[
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        ("index.json", &index),
        (&manifest_path, &manifest),
        (&config_path, &config),
        (&layer_path, &layer),
    ])
    .map_err(tar_error)?;
    // Like every file written for the user: atomically, rw-r--r-- (not the temporary file's
    // 0600), so the runtimes that import it, under another user, can read it.
    wasm_migrate_plan::write_atomic(out, &archive, true)?;
    Ok(Packaged {
        archive: out.to_path_buf(),
        reference: reference.to_string(),
        manifest_digest,
        size: archive.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_is_a_tar_of_the_image_layout_readable_by_all() {
        let dir = tempfile::tempdir().unwrap();
        let module = dir.path().join("app.wasm");
        std::fs::write(&module, b"\0asm\x01\0\0\0").unwrap();
        let out = dir.path().join("image.tar");
        let packaged = package_oci(&module, &out, "app:latest", false).expect("packages");
        assert_eq!(packaged.size, std::fs::metadata(&out).unwrap().len());
        let mut archive = tar::Archive::new(std::fs::File::open(&out).unwrap());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names[..2], ["oci-layout", "index.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644, "{mode:o}");
        }
        // An archive already there is kept unless forced.
        let error = package_oci(&module, &out, "app:latest", false).unwrap_err();
        assert!(matches!(error, CodegenError::Exists { .. }), "{error}");
        package_oci(&module, &out, "app:latest", true).expect("replaces");
    }
}
