//! The embedded WebAssembly runtime of wasm-migrate: wasmtime with WASI preview 1 and the witx
//! wasi-nn ABI (`wasi_ephemeral_nn`, what WasmEdge and the `wasi-nn` 0.6 guest crate speak),
//! and three inference backends behind it: tract (pure Rust, always there), OpenVINO and ONNX
//! Runtime (native libraries found in their Python packages).
//!
//! ```no_run
//! use wasm_migrate_runtime::{BackendChoice, Preload, Preloaded, RunConfig, Runtime, RuntimeOptions};
//! let runtime = Runtime::new(RuntimeOptions::default())?;
//! let module = runtime.load("app.wasm".as_ref())?;
//! let preload: Preload = "default:onnx:cpu:model.onnx".parse().map_err(wasm_migrate_runtime::RuntimeError::BadPreload)?;
//! let choice = BackendChoice::default();
//! let config = RunConfig {
//!     args: vec!["input.npy".into()],
//!     preloaded: Preloaded::load(&[preload], &choice)?,
//!     ..RunConfig::default()
//! };
//! let outcome = runtime.run(&module, &config)?;
//! println!("{}", String::from_utf8_lossy(&outcome.stdout));
//! # Ok::<(), wasm_migrate_runtime::RuntimeError>(())
//! ```

pub mod cache;
pub mod doctor;
mod engine;
mod error;
mod host;
pub mod imports;
pub mod native;
pub mod nn;
mod preload;
pub mod python;
mod run;
mod serve;
mod sockets;

pub use cache::CacheUse;
pub use engine::{PoolOptions, Runtime, RuntimeOptions, WasmModule};
pub use error::RuntimeError;
pub use host::HostProfile;
pub use nn::diagnostics::{Level as MessageLevel, Message};
pub use nn::{
    BackendChoice, BackendKind, BackendStatus, Encoding, GraphCache, LoadedGraph, Precision,
};
pub use preload::{Preload, Preloaded};
pub use run::{DEFAULT_MAX_MEMORY, DirMapping, Ending, RunConfig, RunOutcome, Stdio};
pub use serve::{
    MODULE_IO_TIMEOUT_ENV, ReadyLine, ServeConfig, ServeControl, ServeEnd, module_io_timeout,
    unix_ms,
};
pub use sockets::Listening;

/// The wasmtime version embedded (pinned exactly in the workspace manifest).
pub const WASMTIME_VERSION: &str = "48.0.8";
