//! `wasm-migrate bench`: the original and the migrated module measured side by side.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use wasm_migrate_app::bench::BenchRequest;
use wasm_migrate_app::{AppError, exit};
use wasm_migrate_measure::{self as measure, BenchError, CostInputs};
use wasm_migrate_plan::write_atomic;
use wasm_migrate_runtime::BackendKind;

use crate::progress::Terminal;

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
    #[arg(long, value_parser = crate::python_path)]
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

    /// The cost model's headroom: the share of each node's rate kept free (0 to below 1).
    #[arg(long, default_value_t = CostInputs::default().headroom)]
    pub headroom: f64,

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
    let interrupt = wasm_migrate_app::Interrupt::catch()?;
    let request = BenchRequest {
        cancel: interrupt.flag(),
        ..request(&args)?
    };
    let report = wasm_migrate_app::bench::bench(&request, &Terminal::with_lines("bench"));
    drop(interrupt);
    let report = match report {
        Ok(report) => report,
        Err(e @ AppError::Bench(BenchError::Interrupted)) => {
            eprintln!("bench: interrupted; every server it started has been stopped");
            return Ok(e.exit_code());
        }
        Err(e @ AppError::Bench(BenchError::Side { .. })) => {
            eprintln!("error: {e}");
            return Ok(e.exit_code());
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
    Ok(exit::OK)
}

fn request(args: &BenchArgs) -> Result<BenchRequest> {
    let exe = std::env::current_exe().context("cannot find this program's path")?;
    let request = BenchRequest {
        service: args.service.clone(),
        glue: args.glue.clone(),
        python: args.python.clone(),
        inputs: args.inputs.clone(),
        backend: args.backend,
        quick: args.quick,
        starts: args.starts.map(usize::from),
        rounds: args.rounds.map(usize::from),
        requests: args.requests.map(|n| n as usize),
        instances: args.instances.iter().map(|&n| usize::from(n)).collect(),
        burst_limit: args.burst_limit,
        cost: CostInputs {
            target_rps: args.target_rps,
            node_cores: args.node_cores,
            node_memory_gib: args.node_memory_gib,
            headroom: args.headroom,
        },
        wasmedge: !args.no_wasmedge,
        host: host_command(&exe),
        host_binary: Some(exe),
        cancel: Default::default(),
    };
    // Bad flags fail here, before anything is started.
    request.options()?;
    Ok(request)
}

/// The command that is `wasm-migrate`: this binary, or, inside Python (the package's console
/// script runs the CLI in-process), that Python running the package.
pub(crate) fn host_command(exe: &Path) -> Vec<String> {
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
