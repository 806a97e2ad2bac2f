//! The engine: one wasmtime `Engine` and `Linker` (WASI preview 1 + the witx wasi-nn ABI),
//! compiled modules from the disk cache, and `InstancePre` so each run only instantiates.

use crate::RuntimeError;
use crate::cache::{CacheUse, ModuleCache};
use crate::imports::{describe_non_wasm, is_component, who_provides};
use crate::run::HostState;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module,
    PoolingAllocationConfig,
};

/// How often the wall-clock limit is checked: a guest past its deadline stops within one tick.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Settings fixed for the life of a [`Runtime`] (they change the generated code or the allocator).
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Instantiate from a pool of pre-reserved slots: the fast path for many runs of one module.
    pub pooling: Option<PoolOptions>,
    /// Count executed instructions so a run can be given a fuel budget.
    pub fuel: bool,
    /// Compile interruption checks into the guest's loops so a run can be given a wall-clock
    /// limit ([`RunConfig::timeout`](crate::RunConfig::timeout)). They cost about a tenth of
    /// the time of tight loops (the glue's preprocessing: 17.7 ms with them, 15.8 without), and
    /// WasmEdge's AOT compiler adds none unless asked (`wasmedge compile --interruptible`), so
    /// a runtime that times a module, or runs one with no limit, can go without.
    pub wall_clock_limits: bool,
    /// Keep compiled modules here; `None` compiles every time.
    pub cache: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Instances alive at once.
    pub instances: u32,
    /// Largest linear memory an instance may grow to, in bytes.
    pub max_memory: u64,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            pooling: None,
            fuel: false,
            wall_clock_limits: true,
            cache: Some(crate::cache::cache_dir().join("modules")),
        }
    }
}

/// The embedded Wasm engine. Create one per process and reuse it: it owns compiled code and
/// the epoch thread that enforces wall-clock limits.
pub struct Runtime {
    pub(crate) engine: Engine,
    linker: Linker<HostState>,
    cache: Option<ModuleCache>,
    pub(crate) options: RuntimeOptions,
    ticker_stop: Arc<AtomicBool>,
}

/// A module compiled, checked against what this runtime provides, and ready to instantiate.
pub struct WasmModule {
    pub path: PathBuf,
    pub(crate) pre: InstancePre<HostState>,
    pub cache: CacheUse,
    /// Compiling, or loading from the cache, and linking.
    pub load_time: Duration,
    pub size: usize,
}

impl Runtime {
    pub fn new(options: RuntimeOptions) -> Result<Runtime, RuntimeError> {
        let mut config = Config::new();
        config.epoch_interruption(options.wall_clock_limits);
        config.consume_fuel(options.fuel);
        config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable);
        if let Some(pool) = options.pooling {
            let mut pooling = PoolingAllocationConfig::default();
            pooling
                .total_core_instances(pool.instances)
                .total_memories(pool.instances)
                .total_tables(pool.instances)
                .max_memory_size(pool.max_memory as usize)
                .max_memories_per_module(1)
                .max_tables_per_module(1)
                .total_component_instances(0);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
        }
        let engine = Engine::new(&config).map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let mut linker: Linker<HostState> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut HostState| &mut s.wasi)
            .map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        wasmtime_wasi_nn::witx::add_to_linker(&mut linker, |s: &mut HostState| &mut s.nn)
            .map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        crate::sockets::add_to_linker(&mut linker)
            .map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        if options.wall_clock_limits {
            spawn_epoch_ticker(engine.weak(), ticker_stop.clone());
        }
        let cache = options.cache.clone().map(ModuleCache::new);
        Ok(Runtime {
            engine,
            linker,
            cache,
            options,
            ticker_stop,
        })
    }

    /// Reads, compiles (or loads from the cache) and links a module file.
    pub fn load(&self, path: &Path) -> Result<WasmModule, RuntimeError> {
        let bytes = std::fs::read(path).map_err(|source| RuntimeError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.load_bytes(path, &bytes)
    }

    pub fn load_bytes(&self, path: &Path, bytes: &[u8]) -> Result<WasmModule, RuntimeError> {
        let start = Instant::now();
        let path_buf = path.to_path_buf();
        let is_text =
            std::str::from_utf8(bytes).is_ok_and(|t| t.trim_start().starts_with("(module"));
        if !bytes.starts_with(b"\0asm") && !is_text {
            return Err(RuntimeError::NotWasm {
                path: path_buf,
                detail: describe_non_wasm(bytes),
            });
        }
        if is_component(bytes) {
            return Err(RuntimeError::Component { path: path_buf });
        }
        let compiled = match &self.cache {
            Some(cache) if !is_text => cache.load_or_compile(&self.engine, bytes),
            _ => Module::new(&self.engine, bytes).map(|m| (m, CacheUse::Off)),
        };
        let (module, cache) = compiled.map_err(|e| RuntimeError::Invalid {
            path: path_buf.clone(),
            detail: format!("{e:#}"),
        })?;
        let pre = self.link(&path_buf, &module)?;
        Ok(WasmModule {
            path: path_buf,
            pre,
            cache,
            load_time: start.elapsed(),
            size: bytes.len(),
        })
    }

    fn link(&self, path: &Path, module: &Module) -> Result<InstancePre<HostState>, RuntimeError> {
        // The linker cannot be searched without a store, so link, and on failure find the
        // import its message names.
        self.linker.instantiate_pre(module).map_err(|e| {
            let text = format!("{e:#}");
            for import in module.imports() {
                let key = format!("`{}::{}`", import.module(), import.name());
                if text.contains(&key) && text.contains("unknown import") {
                    return RuntimeError::UnknownImport {
                        path: path.to_path_buf(),
                        module: import.module().to_string(),
                        name: import.name().to_string(),
                        hint: who_provides(import.module(), import.name()),
                    };
                }
            }
            RuntimeError::Link {
                path: path.to_path_buf(),
                detail: text,
            }
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn options(&self) -> &RuntimeOptions {
        &self.options
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

pub(crate) fn spawn_epoch_ticker(engine: wasmtime::EngineWeak, stop: Arc<AtomicBool>) {
    std::thread::Builder::new()
        .name("wasm-migrate-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                match engine.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .ok();
}
