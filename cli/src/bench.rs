//! `wasm-migrate bench`: the original and the migrated module measured side by side.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use wasm_migrate_analyzer::error::write_atomic;
use wasm_migrate_measure::{
    self as measure, BenchError, BenchOptions, Budget, CostInputs, Progress,
};
use wasm_migrate_runtime::BackendKind;

/// Measure the original service and the migrated module side by side, on this machine: cold
/// start, latency, memory per instance, density, size, and a cost model, next to the claims of
/// the article users migrate for.
///
/// The original starts as production starts it (its gunicorn, uvicorn or Flask command from
/// the plan, on loopback, in its own interpreter); the module is served by `wasm-migrate serve`
/// (and by `wasmedge` too when it is on PATH). Latency is measured in rounds that alternate
/// the two sides, so the machine's drift falls on both; ratios are medians of per-round
/// ratios. Every load is bounded in requests and time, and every server bench starts is
/// stopped however it ends, Ctrl-C included.
///
/// Needs what `verify --http` needs: the plan's `service.server` and `http` sections
/// (`convert` records them) and the built module.
#[derive(Args)]
#[command(after_long_help = "Examples:\n  \
wasm-migrate bench samples/torchvision-flask --quick\n  \
wasm-migrate bench ./service --format html --output bench.html\n  \
wasm-migrate bench ./service --json bench.json --html bench.html --target-rps 2000\n\n\
Exit codes: 0 measured; 1 a side failed while it was measured (its output is shown); 2 the \
service is not ready (no plan, no build, no server section) or a flag is wrong; 130 interrupted.")]
pub struct BenchArgs {
    /// The service directory (with its wasm-migrate.yaml plan).
    pub service: PathBuf,

    /// The glue directory holding app.wasm (default: SERVICE/migrated).
    #[arg(long)]
    pub glue: Option<PathBuf>,

    /// The service's Python (default: SERVICE/.venv, as `verify` finds it).
    #[arg(long)]
    pub python: Option<PathBuf>,

    /// Inputs to send (files or folders); default: photographs or texts made with the
    /// service's Python.
    #[arg(long = "input", value_name = "PATH")]
    pub inputs: Vec<PathBuf>,

    /// The backend the module's model runs on (default: OpenVINO, else ONNX Runtime, else tract).
    #[arg(long, value_parser = |s: &str| s.parse::<BackendKind>())]
    pub backend: Option<BackendKind>,

    /// A short run (2 starts, 3 rounds of 12 requests, 1 and 2 instances): every figure, less
    /// confidence.
    #[arg(long)]
    pub quick: bool,

    /// Fresh starts per side for the cold start.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub starts: Option<u16>,

    /// Steady-state rounds (each runs both sides, in alternating order).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub rounds: Option<u16>,

    /// Requests per side, per round, at each concurrency.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub requests: Option<u32>,

    /// Instance counts for the memory curve, e.g. 1,2,4.
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u16).range(1..=64))]
    pub instances: Vec<u16>,

    /// Longest one burst of requests may take, in seconds.
    #[arg(long, value_name = "SECS")]
    pub burst_limit: Option<f64>,

    /// The cost model's target rate, requests per second.
    #[arg(long, default_value_t = CostInputs::default().target_rps)]
    pub target_rps: f64,

    /// The cost model's node: cores.
    #[arg(long, default_value_t = CostInputs::default().node_cores)]
    pub node_cores: u32,

    /// The cost model's node: memory in GiB.
    #[arg(long, default_value_t = CostInputs::default().node_memory_gib)]
    pub node_memory_gib: f64,

    /// Do not run the module under `wasmedge` even when it is on PATH.
    #[arg(long)]
    pub no_wasmedge: bool,

    #[arg(long, value_enum, default_value_t = BenchFormat::Text)]
    pub format: BenchFormat,

    /// Write the report (in --format) to FILE instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,

    /// Also write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Also write the HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Overwrite existing output files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchFormat {
    Text,
    Json,
    Html,
}

pub fn run(args: BenchArgs) -> Result<u8> {
    let outputs: Vec<&Path> = [&args.output, &args.json, &args.html]
        .into_iter()
        .flatten()
        .map(PathBuf::as_path)
        .collect();
    for path in &outputs {
        if path.exists() && !args.force {
            bail!("{}: exists; pass --force to overwrite", path.display());
        }
    }
    let options = options(&args)?;
    let cancel = options.cancel.clone();
    let registered = [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM]
        .iter()
        .map(|&signal| signal_hook::flag::register(signal, cancel.clone()))
        .collect::<Result<Vec<_>, _>>()
        .context("cannot install the SIGINT/SIGTERM handlers")?;
    let report = with_progress(|progress| measure::bench(&options, progress));
    for id in registered {
        signal_hook::low_level::unregister(id);
    }
    let report = match report {
        Ok(report) => report,
        Err(BenchError::Interrupted) => {
            eprintln!("bench: interrupted; every server it started has been stopped");
            return Ok(130);
        }
        Err(e @ BenchError::Side { .. }) => {
            eprintln!("error: {e}");
            return Ok(1);
        }
        Err(e) => return Err(e.into()),
    };
    let rendered = |format: BenchFormat| match format {
        BenchFormat::Text => measure::render::text(&report),
        BenchFormat::Json => measure::render::json(&report) + "\n",
        BenchFormat::Html => measure::render::html(&report),
    };
    for (path, format) in [
        (&args.json, BenchFormat::Json),
        (&args.html, BenchFormat::Html),
    ] {
        if let Some(path) = path {
            write_atomic(path, rendered(format).as_bytes(), args.force)?;
            eprintln!("wrote {}", path.display());
        }
    }
    match &args.output {
        Some(path) => {
            write_atomic(path, rendered(args.format).as_bytes(), args.force)?;
            eprintln!("wrote {}", path.display());
        }
        None => std::io::stdout().write_all(rendered(args.format).as_bytes())?,
    }
    Ok(0)
}

fn options(args: &BenchArgs) -> Result<BenchOptions> {
    let mut budget = if args.quick {
        Budget::quick()
    } else {
        Budget::standard()
    };
    if let Some(starts) = args.starts {
        budget.starts = usize::from(starts);
    }
    if let Some(rounds) = args.rounds {
        budget.rounds = usize::from(rounds);
    }
    if let Some(requests) = args.requests {
        budget.requests = requests as usize;
    }
    if !args.instances.is_empty() {
        budget.instances = args.instances.iter().map(|&n| usize::from(n)).collect();
        budget.instances.sort_unstable();
        budget.instances.dedup();
    }
    if let Some(limit) = args.burst_limit {
        if !(limit > 0.0 && limit.is_finite()) {
            bail!("--burst-limit {limit}: give a positive number of seconds");
        }
        budget.burst_limit = Duration::from_secs_f64(limit);
    }
    let cost = CostInputs {
        target_rps: args.target_rps,
        node_cores: args.node_cores,
        node_memory_gib: args.node_memory_gib,
    };
    if !(cost.target_rps > 0.0 && cost.node_memory_gib > 0.0 && cost.node_cores > 0) {
        bail!("--target-rps, --node-cores and --node-memory-gib must be positive");
    }
    let exe = std::env::current_exe().context("cannot find this program's path")?;
    Ok(BenchOptions {
        service: args.service.clone(),
        glue: args.glue.clone(),
        python: args.python.clone(),
        inputs: args.inputs.clone(),
        backend: args.backend,
        host: host_command(&exe),
        host_binary: Some(exe),
        budget,
        cost,
        wasmedge: !args.no_wasmedge,
        cancel: Arc::new(AtomicBool::new(false)),
    })
}

/// The command that is `wasm-migrate`: this binary, or, inside Python (the package's console
/// script runs the CLI in-process), that Python running the package.
fn host_command(exe: &Path) -> Vec<String> {
    let name = exe.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with("python") {
        return vec![
            exe.display().to_string(),
            "-m".into(),
            "wasm_migrate._cli".into(),
        ];
    }
    vec![exe.display().to_string()]
}

/// A spinner on a terminal; elsewhere (CI logs) one line per phase.
fn with_progress<T>(work: impl FnOnce(&dyn Fn(Progress)) -> T) -> T {
    if std::io::stderr().is_terminal() {
        let spinner = crate::progress::spinner("bench");
        let phase = std::sync::Mutex::new(String::new());
        let result = work(&|event| match event {
            Progress::Phase(message) => {
                spinner.set_message(message.clone());
                *phase.lock().unwrap_or_else(|e| e.into_inner()) = message;
            }
            Progress::Step { done, total } => {
                let phase = phase.lock().unwrap_or_else(|e| e.into_inner());
                spinner.set_message(format!("{phase}: {done}/{total}"));
            }
        });
        spinner.finish_and_clear();
        return result;
    }
    work(&|event| {
        if let Progress::Phase(message) = event {
            eprintln!("bench: {message}");
        }
    })
}
