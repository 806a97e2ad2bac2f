//! `wasm-migrate verify`: the original Python against the migrated module, same inputs.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use wasm_migrate_app::verify::{self as app_verify, Comparison, Verified};
use wasm_migrate_plan::write_atomic;
use wasm_migrate_runtime::Precision;
use wasm_migrate_verify::{self as verify, Tolerance, VerifyOptions};

use crate::progress::Terminal;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    /// A table per backend, the likely cause under each difference.
    Text,
    /// The whole report (schema wasm-migrate/verify, schema_version 1).
    Json,
    /// One self-contained page with error histograms; give --output to write it to a file.
    Html,
}

/// Run the original Python service and the migrated module on the same inputs; say whether
/// they agree, and if not, where they start to differ.
///
/// Python is the reference. Stage 1 compares the tensor each side fed its model (the Python
/// side is recorded as the service calls its model, without changing the service's files;
/// the module dumps its own with --dump-preprocessed). Stage 2 compares every model output:
/// max / mean / p99 absolute and relative error, mismatches, NaN/Inf, cosine, top-k, and the
/// smallest atol and rtol that would have passed.
#[derive(Args)]
#[command(after_long_help = "Examples:\n  \
wasm-migrate verify ./service                                  # 8 photographs, tract\n  \
wasm-migrate verify ./service --backend all --format html --output verify.html\n  \
wasm-migrate verify ./service --inputs ./photos --save-reference ./ref\n  \
wasm-migrate verify ./service --reference ./ref --backend openvino   # no Python needed\n  \
wasm-migrate verify ./service --backend openvino --precision device-default --preset bf16\n\n\
Tolerance presets (stage 2, |a - e| <= atol + rtol * |e|):\n  \
float32        atol 1e-5, rtol 1.3e-6   torch.testing's float32 defaults (same kernels)\n  \
cross-backend  atol 1e-4, rtol 1e-3     float32 on another backend (the plan's default)\n  \
bf16           atol 1e-5, rtol 1.6e-2   a deployment that computes in bf16 on purpose\n\
Stage 1 allows one 8-bit level of the tensor's value range.\n\n\
  wasm-migrate verify ./service --http                           # over HTTP, real servers\n\n\
Exit codes: 0 equivalent, 1 differ, 2 could not run (no interpreter, the service fails to \
import, the build or model is missing, a backend is unavailable, bad inputs).")]
pub struct VerifyArgs {
    /// The service directory holding wasm-migrate.yaml.
    pub service: PathBuf,
    /// The glue directory with app.wasm and model/ (default: SERVICE/migrated).
    #[arg(long, value_name = "DIR")]
    pub glue: Option<PathBuf>,
    /// The service's interpreter (default: SERVICE/.venv, venv or env, $VIRTUAL_ENV, python3).
    #[arg(long, value_name = "PATH", value_parser = crate::python_path)]
    pub python: Option<PathBuf>,
    /// Backends to run the module on: tract, openvino, onnxruntime, or all; repeat or
    /// separate with commas.
    #[arg(
        long = "backend",
        value_name = "BACKEND",
        value_delimiter = ',',
        default_value = "tract"
    )]
    pub backends: Vec<String>,
    /// What OpenVINO computes in: f32, or the device default (bf16 on CPUs with AMX or
    /// AVX512-BF16), which is what a WasmEdge deployment on such a CPU computes.
    #[arg(long, value_name = "PRECISION", default_value = "f32", value_parser = parse_precision)]
    pub precision: Precision,
    /// Input files or folders (images, texts, .npy/.npz). Default: photographs from
    /// skimage.data made with the service's Python.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub inputs: Vec<PathBuf>,
    /// How many photographs to make when no --inputs are given.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub count: usize,
    /// The model to compare when a request calls several (a detector, then a classifier):
    /// its attribute path (`predictor.session`), last name (`session`) or type
    /// (`InferenceSession`). Default: the first one each request calls; the report names them.
    #[arg(long, value_name = "NAME", conflicts_with = "reference")]
    pub model: Option<String>,
    /// Keep the inputs used in DIR.
    #[arg(long, value_name = "DIR")]
    pub save_inputs: Option<PathBuf>,
    /// Keep Python's recorded tensors and responses (and the inputs) in DIR, for --reference.
    #[arg(long, value_name = "DIR")]
    pub save_reference: Option<PathBuf>,
    /// Compare against a reference saved with --save-reference instead of running Python.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["inputs", "python"])]
    pub reference: Option<PathBuf>,
    /// Stage-2 tolerance preset: float32, cross-backend or bf16 (default: the plan's).
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    #[arg(long, value_name = "ATOL")]
    pub atol: Option<f64>,
    #[arg(long, value_name = "RTOL")]
    pub rtol: Option<f64>,
    /// Per-output tolerance, by output name or index: NAME=ATOL,RTOL (repeatable).
    #[arg(long = "tolerance", value_name = "NAME=ATOL,RTOL", value_parser = parse_override)]
    pub tolerances: Vec<(String, Tolerance)>,
    /// How many classes top-k agreement looks at.
    #[arg(long, value_name = "K", default_value_t = 5)]
    pub top_k: usize,
    /// Overwrite --save-inputs, --save-reference and --output.
    #[arg(long)]
    pub force: bool,
    #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
    pub format: VerifyFormat,
    /// Write the report here (atomically) instead of to stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Compare over HTTP: start the original with its own server command (the plan's
    /// `service.server`: gunicorn, uvicorn or Flask, on loopback) and the module under
    /// `serve`, send both the same requests (the inputs, the health route, a missing field,
    /// an undecodable input, an unknown path, a wrong method, an oversized body) and compare
    /// status codes, content types and bodies. Uses the first --backend.
    #[arg(long, conflicts_with_all = ["reference", "save_reference", "model"])]
    pub http: bool,
    /// With --http: serve the module on WasmEdge's terms (`wasmedge@0.14` to `wasmedge@0.17`,
    /// as `serve --like`): no host-side deadlines, WasmEdge's tensor types, a fresh inference
    /// request at every input. Default: the embedded host.
    #[arg(long, value_name = "HOST", requires = "http", default_value = "embedded",
          value_parser = |s: &str| s.parse::<wasm_migrate_runtime::HostProfile>())]
    pub like: wasm_migrate_runtime::HostProfile,
}

fn parse_precision(s: &str) -> Result<Precision, String> {
    s.parse()
}

fn parse_override(s: &str) -> Result<(String, Tolerance), String> {
    let usage = || format!("`{s}`: expected NAME=ATOL,RTOL, e.g. logits=1e-4,1e-3");
    let (name, values) = s.split_once('=').ok_or_else(usage)?;
    let (atol, rtol) = values.split_once(',').ok_or_else(usage)?;
    let atol: f64 = atol.trim().parse().map_err(|_| usage())?;
    let rtol: f64 = rtol.trim().parse().map_err(|_| usage())?;
    Ok((name.to_string(), Tolerance { atol, rtol }))
}

pub fn run(args: VerifyArgs) -> Result<u8> {
    if let Some(path) = &args.output
        && path.exists()
        && !args.force
    {
        anyhow::bail!("{}: exists; pass --force to overwrite", path.display());
    }
    let comparison = Comparison::for_service(&args.service, args.http);
    if comparison.over_http() && args.format == VerifyFormat::Html {
        anyhow::bail!(
            "verify over HTTP reports as text or json; --format html is for the tensor comparison"
        );
    }
    let options = VerifyOptions {
        glue: args.glue,
        python: args.python,
        backends: app_verify::backends(&args.backends)?,
        precision: args.precision,
        inputs: args.inputs,
        count: args.count,
        save_inputs: args.save_inputs,
        save_reference: args.save_reference,
        reference: args.reference,
        preset: args.preset,
        atol: args.atol,
        rtol: args.rtol,
        overrides: args.tolerances.into_iter().collect(),
        top_k: args.top_k,
        force: args.force,
        model: args.model,
        host: args.like,
        ..VerifyOptions::new(args.service)
    };
    let verified = app_verify::verify(&options, comparison, &Terminal::default())?;
    let text = render(&verified, args.format)?;
    match &args.output {
        Some(path) => {
            // Checked before the run too, so a long verify is not lost to an existing file.
            write_atomic(path, text.as_bytes(), args.force)?;
            eprintln!("wrote {} ({})", path.display(), summary(&verified));
        }
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(verified.exit_code())
}

fn render(verified: &Verified, format: VerifyFormat) -> Result<String> {
    Ok(match (verified, format) {
        (_, VerifyFormat::Json) => serde_json::to_string_pretty(verified)? + "\n",
        (Verified::Tensors(report), VerifyFormat::Text) => verify::render::text(report),
        (Verified::Tensors(report), VerifyFormat::Html) => verify::render::html(report),
        (Verified::Http(report), VerifyFormat::Text) => verify::render::http_text(report),
        (Verified::Http(_), VerifyFormat::Html) => anyhow::bail!(
            "verify over HTTP reports as text or json; --format html is for the tensor comparison"
        ),
    })
}

fn summary(verified: &Verified) -> String {
    match verified {
        Verified::Tensors(report) => report.summary.clone(),
        Verified::Http(report) => format!("{} of {} agree", report.agreed, report.exchanges.len()),
    }
}
