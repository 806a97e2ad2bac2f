//! `wasm-migrate run`: a WASI module in the embedded runtime, with WasmEdge's flags.

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;
use wasm_migrate_runtime::{
    BackendChoice, BackendKind, CacheUse, DirMapping, Ending, Message, MessageLevel, Precision,
    Preload, Preloaded, RunConfig, Runtime, RuntimeOptions, Stdio, WasmModule,
};

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

    /// Give the module a host directory: HOST, or HOST:GUEST to show it at another path.
    #[arg(long = "dir", value_name = "HOST[:GUEST]")]
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

/// `512M`, `2G`, `1GiB`, `1048576`: binary units, as memory limits are usually meant.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not a size: use e.g. 512M or 2G"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => return Err(format!("`{s}`: unknown unit `{other}`: use K, M or G")),
    };
    number
        .checked_shl(shift)
        .filter(|v| v >> shift == number)
        .ok_or_else(|| format!("`{s}` is too large"))
}

pub(crate) fn note(quiet: bool, text: &str) {
    if !quiet {
        let style = anstyle::Style::new().dimmed();
        // One write: the module's own stderr is this process's, and `serve`'s instances
        // print while this note is written; a note written in pieces could be split by theirs.
        let line = format!("{style}wasm-migrate: {text}{style:#}\n");
        let _ = anstream::stderr().write_all(line.as_bytes());
    }
}

fn warn(text: &str) {
    let style = anstyle::Style::new()
        .bold()
        .fg_color(Some(anstyle::AnsiColor::Yellow.into()));
    let _ = writeln!(anstream::stderr(), "{style}wasm-migrate:{style:#} {text}");
}

/// One preloaded model: where it runs and at which precision.
#[derive(Debug, Clone, Serialize)]
pub struct GraphInfo {
    pub name: String,
    pub backend: BackendKind,
    pub version: String,
    pub precision: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunTimings {
    pub load: f64,
    pub instantiate: f64,
    pub run: f64,
}

/// What `run --format json` prints and `wasm_migrate.run` returns: how the module ended, its
/// captured output, the backends it ran on, and the timings (milliseconds).
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub schema: &'static str,
    pub module: String,
    pub cache: CacheUse,
    pub onnx_backend: BackendKind,
    pub precision: Precision,
    pub preloaded: Vec<GraphInfo>,
    pub ending: Ending,
    pub exit_code: u8,
    pub explanation: Option<String>,
    pub stdout: String,
    pub stderr: String,
    pub nn_messages: Vec<Message>,
    pub timings_ms: RunTimings,
}

/// The module compiled and the models loaded, ready to start.
pub(crate) struct Prepared {
    pub(crate) runtime: Runtime,
    pub(crate) module: WasmModule,
    pub(crate) graphs: Vec<GraphInfo>,
    pub(crate) config: RunConfig,
    /// Loading the model(s) given with --nn-preload.
    pub(crate) model_load: Duration,
}

fn guest_env(pairs: &[String]) -> Result<Vec<(String, String)>> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => bail!("--env {pair}: expected KEY=VALUE"),
        })
        .collect()
}

pub(crate) fn prepare(args: &RunArgs, quiet: bool, stdio: Stdio) -> Result<Prepared> {
    let env = guest_env(&args.env)?;
    let dirs = args
        .dirs
        .iter()
        .map(|d| DirMapping::parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    let preloads = args
        .preloads
        .iter()
        .map(|p| {
            p.parse::<Preload>()
                .map_err(wasm_migrate_runtime::RuntimeError::BadPreload)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !(args.timeout >= 0.0 && args.timeout.is_finite()) {
        bail!(
            "--timeout {}: give a number of seconds, or 0 for no limit",
            args.timeout
        );
    }
    let choice = BackendChoice {
        onnx: args.backend,
        precision: args.precision,
    };
    let options = RuntimeOptions {
        fuel: args.fuel.is_some(),
        // With no limit the module is compiled without interruption checks, as WasmEdge
        // compiles it by default: the timing then matches a deployment's.
        wall_clock_limits: args.timeout > 0.0,
        cache: if args.no_cache {
            None
        } else {
            RuntimeOptions::default().cache
        },
        ..RuntimeOptions::default()
    };
    let runtime = Runtime::new(options)?;
    let spinner = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        crate::progress::spinner(&format!("compiling {}", args.module.display()))
    };
    let module = runtime.load(&args.module);
    spinner.finish_and_clear();
    let module = module?;
    note(
        quiet,
        &format!(
            "{} ({} KiB) {} in {:.0} ms",
            args.module.display(),
            module.size / 1024,
            match module.cache {
                CacheUse::Hit => "loaded from the cache",
                _ => "compiled",
            },
            module.load_time.as_secs_f64() * 1e3
        ),
    );
    let model_load = std::time::Instant::now();
    let preloaded = Preloaded::load(&preloads, &choice)?;
    let model_load = model_load.elapsed();
    let mut graphs: Vec<GraphInfo> = preloaded
        .graphs()
        .map(|(name, g)| GraphInfo {
            name: name.to_string(),
            backend: g.backend,
            version: g.version.clone(),
            precision: g.precision.clone(),
        })
        .collect();
    graphs.sort_by(|a, b| a.name.cmp(&b.name));
    for g in &graphs {
        note(
            quiet,
            &format!(
                "model `{}` on {} {} (CPU, precision {})",
                g.name, g.backend, g.version, g.precision
            ),
        );
    }
    let config = RunConfig {
        args: args.args.clone(),
        env,
        dirs,
        preloaded,
        backends: choice,
        timeout: (args.timeout > 0.0).then(|| Duration::from_secs_f64(args.timeout)),
        max_memory: args.max_memory,
        fuel: args.fuel,
        stdio,
        listening: None,
    };
    Ok(Prepared {
        runtime,
        module,
        graphs,
        config,
        model_load,
    })
}

/// Runs the module with its output captured, and reports how it went. Nothing is printed.
pub fn run_captured(args: &RunArgs) -> Result<RunReport> {
    let prepared = prepare(args, true, Stdio::Capture)?;
    let outcome = prepared
        .runtime
        .run(&prepared.module, &prepared.config)
        .context("the module could not start")?;
    Ok(RunReport {
        schema: "wasm-migrate.run/1",
        module: args.module.display().to_string(),
        cache: prepared.module.cache,
        onnx_backend: args.backend,
        precision: args.precision,
        preloaded: prepared.graphs,
        exit_code: (outcome.ending.exit_code() & 0xff) as u8,
        explanation: outcome.ending.explain(),
        stdout: String::from_utf8_lossy(&outcome.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&outcome.stderr).into_owned(),
        nn_messages: outcome.nn_messages,
        timings_ms: RunTimings {
            load: prepared.module.load_time.as_secs_f64() * 1e3,
            instantiate: outcome.instantiate_time.as_secs_f64() * 1e3,
            run: outcome.run_time.as_secs_f64() * 1e3,
        },
        ending: outcome.ending,
    })
}

pub fn run(args: RunArgs) -> Result<u8> {
    if args.format == RunFormat::Json {
        let report = run_captured(&args)?;
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(report.exit_code);
    }
    let prepared = prepare(&args, args.quiet, Stdio::Inherit)?;
    let outcome = prepared
        .runtime
        .run(&prepared.module, &prepared.config)
        .context("the module could not start")?;
    for message in &outcome.nn_messages {
        match message.level {
            MessageLevel::Error => warn(&format!("wasi-nn: {}", message.text)),
            MessageLevel::Note => note(args.quiet, &format!("wasi-nn: {}", message.text)),
        }
    }
    if let Some(explanation) = outcome.ending.explain() {
        warn(&explanation);
    } else if let Ending::Exited { code } = outcome.ending
        && code != 0
    {
        note(args.quiet, &format!("the module exited with code {code}"));
    }
    Ok((outcome.ending.exit_code() & 0xff) as u8)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn parses_memory_sizes() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3T").unwrap_err().contains("unknown unit"));
        assert!(parse_size("99999999999999999999G").is_err());
    }
}
