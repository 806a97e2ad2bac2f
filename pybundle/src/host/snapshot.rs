//! Bundles whose instances start from a snapshot: the interpreter with the app imported,
//! written as a module once per bundle (`wasm_migrate_runtime::python::snapshot`) and kept
//! in the cache, so an instance starts in milliseconds instead of importing numpy, the
//! service's stack and the app again (seconds).
//!
//! What each instance must not share with the others, and how it gets its own:
//! - random state: `random` and `numpy.random` are seeded again from the host's entropy in
//!   each instance's first turn ([`RESEED`]);
//! - files: no snapshot is made when the import left a file open or wrote to /tmp (each
//!   instance has a /tmp of its own, which starts empty) ([`check_source`]);
//! - graphs and execution contexts the import opened through `wasi_nn`: the host records
//!   them and opens them again, in the same order, for each instance ([`NnStep`]);
//! - clocks: read through WASI at each call; a value the app computed at import keeps the
//!   time of the snapshot.
//!
//! Shared: CPython's string-hash secret, drawn once when the snapshot is made, as if every
//! instance of the bundle ran with the same `PYTHONHASHSEED`. A new bundle draws a new one.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasm_migrate_runtime::python::{PythonEngine, PythonModule};

use crate::{BundleError, Interpreter};

/// Bumped when what a snapshot holds, or how the host uses it, changes.
const FORMAT: &str = "wasm-migrate python snapshot 1";

/// A graph or execution context the import opened through `wasi_nn`, opened again for every
/// instance in the same order, so the handles the snapshot's memory holds are valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum NnStep {
    Load(String),
    Context(usize),
}

/// A snapshot ready to instantiate.
pub(crate) struct Snapshot {
    pub(crate) module: PythonModule,
    pub(crate) journal: Vec<NnStep>,
}

/// What is kept beside the compiled snapshot.
#[derive(Serialize, Deserialize)]
struct Kept {
    format: String,
    journal: Vec<NnStep>,
}

/// Raises in the guest when the import left state outside memory: a file open past the
/// preopened folders (0-2 are stdio, then one per mount), or files in /tmp.
pub(crate) fn check_source(mounts: usize) -> String {
    const CHECK: &str = r#"import os as _os
_open = []
for _fd in range(FIRST, FIRST + 64):
    try:
        _os.fstat(_fd)
        _open.append(_fd)
    except OSError:
        pass
_tmp = _os.listdir('/tmp')
if _open or _tmp:
    raise RuntimeError(f'the app left state outside memory: open files {_open}, files in /tmp {_tmp}')
del _os, _open, _fd, _tmp
"#;
    CHECK.replace("FIRST", &(3 + mounts).to_string())
}

/// The first turn of an instance started from a snapshot: its own random state.
pub(crate) const RESEED: &str = "import sys as _s\n\
for _n in ('random', 'numpy.random'):\n    \
    _m = _s.modules.get(_n)\n    \
    if _m is not None:\n        \
        _m.seed()\n\
del _s, _n, _m\n";

/// Where a bundle's snapshot is kept: its key covers the interpreter, the bundle's files
/// (names, sizes and modification times), the host's protocol and the engine.
pub(crate) fn paths(
    cache: &Path,
    engine: &PythonEngine,
    interpreter: &Interpreter,
    bundle: &Path,
) -> Result<(PathBuf, PathBuf), BundleError> {
    let mut digest = Sha256::new();
    digest.update(FORMAT.as_bytes());
    digest.update(crate::protocol::VERSION.to_le_bytes());
    digest.update(engine.compatibility_hash().to_le_bytes());
    stamp(&mut digest, &interpreter.wasm, &interpreter.wasm)?;
    stamp(
        &mut digest,
        &interpreter.stdlib_zip,
        &interpreter.stdlib_zip,
    )?;
    for file in files_sorted(bundle)? {
        stamp(&mut digest, bundle, &file)?;
    }
    let key: String = digest
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = cache.join("python-snapshots");
    Ok((
        dir.join(format!("{key}.cwasm")),
        dir.join(format!("{key}.json")),
    ))
}

fn stamp(digest: &mut Sha256, root: &Path, file: &Path) -> Result<(), BundleError> {
    let meta = std::fs::metadata(file).map_err(|e| BundleError::io(file, e))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let name = file.strip_prefix(root).unwrap_or(file);
    digest.update(name.to_string_lossy().as_bytes());
    digest.update([0]);
    digest.update(meta.len().to_le_bytes());
    digest.update(modified.to_le_bytes());
    Ok(())
}

fn files_sorted(dir: &Path) -> Result<Vec<PathBuf>, BundleError> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| BundleError::io(&d, e))? {
            let path = entry.map_err(|e| BundleError::io(&d, e))?.path();
            match path.is_dir() {
                true => stack.push(path),
                false => files.push(path),
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The snapshot kept at `compiled` and `kept`, if there is one this engine can load.
pub(crate) fn load(
    engine: &PythonEngine,
    label: &Path,
    compiled: &Path,
    kept: &Path,
) -> Option<(Snapshot, Duration)> {
    let start = Instant::now();
    let kept: Kept = serde_json::from_slice(&std::fs::read(kept).ok()?).ok()?;
    if kept.format != FORMAT {
        return None;
    }
    let module = engine.load_compiled(label, compiled)?;
    module.initialized.then_some(())?;
    Some((
        Snapshot {
            module,
            journal: kept.journal,
        },
        start.elapsed(),
    ))
}

/// Writes the journal, then compiles `wasm` (the snapshot's bytes) into `compiled`: a
/// compiled snapshot on disk always has its journal beside it.
pub(crate) fn store(
    engine: &PythonEngine,
    label: &Path,
    wasm: &[u8],
    journal: Vec<NnStep>,
    compiled: &Path,
    kept: &Path,
) -> Result<Snapshot, BundleError> {
    let text = serde_json::to_vec(&Kept {
        format: FORMAT.into(),
        journal: journal.clone(),
    })
    .map_err(|e| BundleError::io(kept, std::io::Error::other(e)))?;
    wasm_migrate_runtime::cache::write_atomically(kept, &text)
        .map_err(|e| BundleError::io(kept, e))?;
    let module =
        engine
            .compile_to(label, wasm, compiled)
            .map_err(|e| BundleError::BadInterpreter {
                path: label.to_path_buf(),
                detail: format!("the snapshot did not compile: {e}"),
            })?;
    Ok(Snapshot { module, journal })
}
