//! `build`: `cargo build --release --target wasm32-wasip1` on a glue crate, then the module
//! is checked against the target runtime and stamped.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

use crate::error::{CodegenError, io};
use crate::generate::{GlueManifest, MANIFEST_FILE, Target};
use crate::module::{self, BuildStamp, Inspection};

pub const WASM_TARGET: &str = "wasm32-wasip1";

#[derive(Debug, Clone, Serialize)]
pub struct Built {
    /// `DIR/app.wasm`.
    pub module: PathBuf,
    pub size: u64,
    pub inspection: Inspection,
    pub target: Target,
}

/// Whether the Rust standard library for wasm32-wasip1 is installed.
pub fn wasm_target_installed() -> bool {
    let Ok(out) = Command::new("rustc").args(["--print", "sysroot"]).output() else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Path::new(&sysroot)
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .is_dir()
}

/// Builds the crate in `dir`. Cargo's own progress goes to stderr as it runs.
pub fn build(dir: &Path, target: Option<Target>) -> Result<Built, CodegenError> {
    let manifest_path = dir.join("Cargo.toml");
    if !manifest_path.is_file() {
        return Err(CodegenError::Build(format!(
            "{}: no Cargo.toml; point build at a crate written by `wasm-migrate generate`",
            dir.display()
        )));
    }
    let glue: Option<GlueManifest> = std::fs::read_to_string(dir.join(MANIFEST_FILE))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let target = target
        .or(glue.as_ref().map(|g| g.target))
        .unwrap_or(Target::WasmEdge014);
    if !wasm_target_installed() {
        return Err(CodegenError::Build(format!(
            "the Rust target {WASM_TARGET} is not installed; add it with `rustup target add {WASM_TARGET}`"
        )));
    }
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // Cargo reads `.cargo/config.toml` from the directory it runs in, not from the manifest's:
    // the glue's (simd128, which makes decoding and resizing about 2x faster) only applies when
    // cargo runs inside the crate. A relative target dir keeps meaning what it meant here.
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    cargo.current_dir(absolute(dir));
    let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(target_dir) => {
            let target_dir = absolute(Path::new(&target_dir));
            cargo.env("CARGO_TARGET_DIR", &target_dir);
            target_dir
        }
        None => absolute(dir).join("target"),
    };
    // Glue crates of the same name built into one target dir (a shared CARGO_TARGET_DIR, as in
    // the tests) write the same output file. Cargo locks the build but not the read after it,
    // so another build could replace the module before it is read: both happen under this lock.
    std::fs::create_dir_all(&target_dir).map_err(io(&target_dir))?;
    let lock_path = target_dir.join(".wasm-migrate-build.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io(&lock_path))?;
    lock.lock().map_err(io(&lock_path))?;
    let mut child = cargo
        .args([
            "build",
            "--release",
            "--target",
            WASM_TARGET,
            "--message-format=json-render-diagnostics",
        ])
        .arg("--manifest-path")
        .arg(absolute(&manifest_path))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| CodegenError::Build(format!("cannot run cargo: {e}")))?;
    let mut wasm = None;
    let stdout = child.stdout.take().expect("piped");
    for line in std::io::BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if message["reason"] == "compiler-artifact"
            && let Some(exe) = message["executable"].as_str()
        {
            wasm = Some(PathBuf::from(exe));
        }
    }
    let status = child
        .wait()
        .map_err(|e| CodegenError::Build(format!("cargo: {e}")))?;
    if !status.success() {
        return Err(CodegenError::Build(format!(
            "cargo build failed for {} (the errors are above)",
            manifest_path.display()
        )));
    }
    let wasm = wasm.ok_or_else(|| CodegenError::Build("cargo built no executable".into()))?;
    let bytes = std::fs::read(&wasm).map_err(io(&wasm))?;
    drop(lock);
    // What the glue feeds, from its manifest (a crate generated before the manifest said:
    // f32, as its image templates did); inspect's verdicts are judged against it.
    let input_types = glue
        .as_ref()
        .map(|g| {
            g.input_types
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
        })
        .filter(|types| !types.is_empty())
        .unwrap_or_else(|| vec!["f32".into()]);
    let stamp = BuildStamp {
        tool: "wasm-migrate".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        plan_sha256: glue.as_ref().map(|g| g.plan_sha256.clone()),
        target: target.name().into(),
        input_types,
    };
    let stamped = module::add_stamp(&wasm, &bytes, &stamp)?;
    // Stamping keeps the imports, so one inspection serves the check and the report.
    let inspection = module::inspect(&wasm, &stamped)?;
    let disallowed: Vec<String> = inspection
        .imports
        .iter()
        .filter(|i| i.module != "wasi_snapshot_preview1" && i.module != "wasi_ephemeral_nn")
        .map(|i| format!("{}::{}", i.module, i.name))
        .collect();
    if !disallowed.is_empty() {
        return Err(CodegenError::Module {
            path: wasm,
            message: format!(
                "imports what {} does not provide: {} (only wasi_snapshot_preview1 and wasi_ephemeral_nn)",
                target.name(),
                disallowed.join(", ")
            ),
        });
    }
    let out = dir.join("app.wasm");
    // Atomically, rw-r--r-- (a module is shipped and mounted), as every output is written.
    wasm_migrate_plan::write_atomic(&out, &stamped, true)?;
    Ok(Built {
        size: stamped.len() as u64,
        module: out,
        inspection,
        target,
    })
}
