//! `wasm-migrate run`: a WASI module in the embedded runtime, with WasmEdge's flags.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use wasm_migrate_app::run::{self as app_run, RunOptions, RunReport, parse_size};
use wasm_migrate_runtime::{BackendKind, Ending, MessageLevel, Precision, Stdio};

use crate::progress::{Terminal, note};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunFormat {
    /// The guest's own stdout and stderr, streamed; notes from wasm-migrate on stderr.
    Text,
    /// One JSON object: how the guest ended, its captured output, the backends and timings.
    Json,
}

/// Run a WASI module (wasm32-wasip1) with wasi-nn in the embedded runtime.
///
/// The flags are WasmEdge's where it has them, so a command line moves between `wasmedge` and
/// `wasm-migrate run` unchanged. The module sees nothing of this machine unless a flag grants
/// it: no directories, no environment variables, a memory limit and a wall-clock limit.
#[derive(Args)]
#[command(after_long_help = "Examples:\n  \
wasm-migrate run app.wasm --nn-preload default:openvino:cpu:model.xml:model.bin -- cat.jpg\n  \
wasm-migrate run app.wasm --dir ./models:/models --backend onnxruntime -- /models/model.onnx input.npy\n  \
wasm-migrate run app.wasm --nn-preload cnn:onnx:cpu:cnn.onnx --format json -- input.npy\n\n\
Exit codes: the guest's own exit code; 124 when stopped by --timeout; 134 on a trap; 137 when \
memory or fuel ran out; 2 when the module or a flag is wrong (nothing ran).")]
pub struct RunArgs {
    /// The module to run (.wasm, or .wat text).
    pub module: PathBuf,

    /// Arguments passed to the module (after `--`).
    #[arg(last = true)]
    pub args: Vec<String>,

    /// Give the module a host directory: HOST, or HOST:GUEST to show it at another path;
    /// read-write, as WasmEdge's --dir, unless it ends with `:ro`.
    #[arg(long = "dir", value_name = "HOST[:GUEST][:ro]")]
    pub dirs: Vec<String>,

    /// Load a model before the module starts; the module reaches it with load_by_name(NAME).
    /// WasmEdge's syntax: ENCODING is openvino (two paths: .xml and .bin) or onnx (one path);
    /// TARGET is cpu, gpu, tpu or auto (the embedded backends run on the CPU).
    #[arg(long = "nn-preload", value_name = "NAME:ENCODING:TARGET:PATH[:PATH]")]
    pub preloads: Vec<String>,

    /// Set an environment variable in the module (none are passed otherwise).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,

    /// The backend that runs ONNX models. OpenVINO IR always runs on openvino.
    #[arg(long, value_name = "BACKEND", default_value = "tract", value_parser = parse_backend)]
    pub backend: BackendKind,

    /// What OpenVINO computes float32 models in: f32, or the device's default (bf16 on CPUs
    /// with AVX512-BF16/AMX, which is what a WasmEdge deployment on such a CPU computes).
    #[arg(long, value_name = "PRECISION", default_value = "f32", value_parser = parse_precision)]
    pub precision: Precision,

    /// Stop the module after this many seconds. 0: no limit, and the module is compiled without
    /// the interruption checks a limit needs (as WasmEdge compiles it), which runs tight loops
    /// about a tenth faster.
    #[arg(long, value_name = "SECS", default_value_t = 600.0)]
    pub timeout: f64,

    /// Largest memory the module may grow to, e.g. 512M, 2G (bytes without a suffix).
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub max_memory: u64,

    /// Stop the module after this much fuel (roughly, Wasm instructions).
    #[arg(long, value_name = "UNITS")]
    pub fuel: Option<u64>,

    /// Compile the module even when a compiled copy is cached.
    #[arg(long)]
    pub no_cache: bool,

    #[arg(long, value_enum, default_value_t = RunFormat::Text)]
    pub format: RunFormat,

    /// Do not print wasm-migrate's notes (backends, precision); errors are still printed.
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_backend(s: &str) -> Result<BackendKind, String> {
    s.parse()
}

fn parse_precision(s: &str) -> Result<Precision, String> {
    s.parse()
}

fn warn(text: &str) {
    let style = anstyle::Style::new()
        .bold()
        .fg_color(Some(anstyle::AnsiColor::Yellow.into()));
    let _ = writeln!(anstream::stderr(), "{style}wasm-migrate:{style:#} {text}");
}

impl RunArgs {
    /// The command layer's options.
    pub fn options(&self) -> Result<RunOptions> {
        Ok(RunOptions {
            module: self.module.clone(),
            args: self.args.clone(),
            dirs: self.dirs.clone(),
            dirs_read_only: false,
            preloads: self.preloads.clone(),
            env: app_run::env_pairs(&self.env)?,
            backend: self.backend,
            precision: self.precision,
            timeout: app_run::timeout_from_seconds(self.timeout)?,
            max_memory: self.max_memory,
            fuel: self.fuel,
            cache: !self.no_cache,
        })
    }
}

pub fn run(args: RunArgs) -> Result<u8> {
    let options = args.options()?;
    if args.format == RunFormat::Json {
        let report = app_run::run(&options, Stdio::Capture, &wasm_migrate_app::Silent)?;
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(report.exit_code);
    }
    let report = app_run::run(&options, Stdio::Inherit, &Terminal::new(args.quiet))?;
    print_ending(&report, args.quiet);
    Ok(report.exit_code)
}

/// wasi-nn's messages, and how the module ended when that needs saying.
fn print_ending(report: &RunReport, quiet: bool) {
    for message in &report.nn_messages {
        match message.level {
            MessageLevel::Error => warn(&format!("wasi-nn: {}", message.text)),
            MessageLevel::Note => note(quiet, &format!("wasi-nn: {}", message.text)),
        }
    }
    if let Some(explanation) = &report.explanation {
        warn(explanation);
    } else if let Ending::Exited { code } = report.ending
        && code != 0
    {
        note(quiet, &format!("the module exited with code {code}"));
    }
}
