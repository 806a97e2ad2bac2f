//! `run`: a WASI module in the embedded runtime, with WasmEdge's flags; and what `serve`
//! shares with it (the module compiled, the models loaded).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;
use wasm_migrate_runtime::{
    BackendChoice, BackendKind, CacheUse, DirMapping, Ending, GraphCache, Message, Precision,
    Preload, Preloaded, RunConfig, Runtime, RuntimeError, RuntimeOptions, Stdio, WasmModule,
};

use crate::progress::phase;
use crate::{AppError, Progress, Result};

/// What `run` is asked to do. [`RunOptions::new`] gives the defaults the CLI documents.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The module (.wasm, or .wat text).
    pub module: PathBuf,
    /// Arguments passed to the module.
    pub args: Vec<String>,
    /// Host directories: HOST, or HOST:GUEST, each with an optional `:ro` or `:rw`.
    pub dirs: Vec<String>,
    /// What a directory without `:ro` / `:rw` gets: read-only under `serve`.
    pub dirs_read_only: bool,
    /// `NAME:ENCODING:TARGET:PATH[:PATH]`, WasmEdge's syntax.
    pub preloads: Vec<String>,
    /// Environment variables the module sees (none otherwise).
    pub env: Vec<(String, String)>,
    /// The backend that runs ONNX models.
    pub backend: BackendKind,
    /// What OpenVINO computes float32 models in.
    pub precision: Precision,
    /// Wall-clock limit; `None` compiles without interruption checks, as WasmEdge does.
    pub timeout: Option<Duration>,
    /// Largest memory the module may grow to, in bytes.
    pub max_memory: u64,
    pub fuel: Option<u64>,
    /// Load the compiled module from the cache when it is there.
    pub cache: bool,
}

impl RunOptions {
    pub fn new(module: PathBuf) -> RunOptions {
        RunOptions {
            module,
            args: Vec::new(),
            dirs: Vec::new(),
            dirs_read_only: false,
            preloads: Vec::new(),
            env: Vec::new(),
            backend: BackendKind::Tract,
            precision: Precision::default(),
            timeout: Some(Duration::from_secs(600)),
            max_memory: 1 << 30,
            fuel: None,
            cache: true,
        }
    }
}

/// `--timeout SECS` as the CLI and Python take it: 0 is no limit.
pub fn timeout_from_seconds(seconds: f64) -> Result<Option<Duration>> {
    if !(seconds >= 0.0 && seconds.is_finite()) {
        return Err(AppError::usage(format!(
            "--timeout {seconds}: give a number of seconds, or 0 for no limit"
        )));
    }
    Ok((seconds > 0.0).then(|| Duration::from_secs_f64(seconds)))
}

/// `KEY=VALUE` pairs.
pub fn env_pairs(pairs: &[String]) -> Result<Vec<(String, String)>> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => Err(AppError::usage(format!("--env {pair}: expected KEY=VALUE"))),
        })
        .collect()
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
    /// The exit code `run` gives: the guest's own, or 124 / 134 / 137 (see `Ending`).
    pub exit_code: u8,
    pub explanation: Option<String>,
    /// Empty when the output was passed through rather than captured.
    pub stdout: String,
    pub stderr: String,
    pub nn_messages: Vec<Message>,
    pub timings_ms: RunTimings,
}

/// The module compiled and the models loaded, ready to start (`run` and `serve`).
pub struct Prepared {
    pub runtime: Runtime,
    pub module: WasmModule,
    pub graphs: Vec<GraphInfo>,
    pub config: RunConfig,
    /// Starting the engine (before the module loads).
    pub engine: Duration,
    /// Loading the model(s) given with --nn-preload, beside the engine and the module.
    pub model_load: Duration,
}

pub fn prepare(options: &RunOptions, stdio: Stdio, progress: &dyn Progress) -> Result<Prepared> {
    let dirs = options
        .dirs
        .iter()
        .map(|d| DirMapping::parse_with(d, options.dirs_read_only))
        .collect::<Result<Vec<_>, _>>()?;
    let preloads = options
        .preloads
        .iter()
        .map(|p| p.parse::<Preload>().map_err(RuntimeError::BadPreload))
        .collect::<Result<Vec<_>, _>>()?;
    let choice = BackendChoice {
        onnx: options.backend,
        precision: options.precision,
        graph_cache: match options.cache {
            true => GraphCache::On,
            false => GraphCache::Off,
        },
    };
    // The model is read and compiled (or imported from the graph cache) on its own thread
    // while the engine starts and the module loads: neither waits for the other.
    let (started, preloaded) = std::thread::scope(|scope| {
        let loading = scope.spawn(|| {
            let started = Instant::now();
            Preloaded::load(&preloads, &choice).map(|p| (p, started.elapsed()))
        });
        let started = start_engine(options, progress);
        let preloaded = loading
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (started, preloaded)
    });
    let Started {
        runtime,
        module,
        engine,
    } = started?;
    let (preloaded, model_load) = preloaded?;
    let graphs = graph_infos(&preloaded);
    for g in &graphs {
        progress.note(&format!(
            "model `{}` on {} {} (CPU, precision {})",
            g.name, g.backend, g.version, g.precision
        ));
    }
    let config = RunConfig {
        args: options.args.clone(),
        env: options.env.clone(),
        dirs,
        preloaded,
        backends: choice,
        timeout: options.timeout,
        max_memory: options.max_memory,
        fuel: options.fuel,
        stdio,
        listening: None,
        host: wasm_migrate_runtime::HostProfile::Embedded,
    };
    Ok(Prepared {
        runtime,
        module,
        graphs,
        config,
        engine,
        model_load,
    })
}

struct Started {
    runtime: Runtime,
    module: WasmModule,
    engine: Duration,
}

/// The engine, and the module compiled or loaded from the module cache.
fn start_engine(options: &RunOptions, progress: &dyn Progress) -> Result<Started> {
    let started = Instant::now();
    let runtime = Runtime::new(RuntimeOptions {
        fuel: options.fuel.is_some(),
        // With no limit the module is compiled without interruption checks, as WasmEdge
        // compiles it by default: the timing then matches a deployment's.
        wall_clock_limits: options.timeout.is_some(),
        cache: match options.cache {
            true => RuntimeOptions::default().cache,
            false => None,
        },
        ..RuntimeOptions::default()
    })?;
    let engine = started.elapsed();
    let compiling = format!("compiling {}", options.module.display());
    let module = phase(progress, &compiling, || runtime.load(&options.module))?;
    progress.note(&format!(
        "{} ({} KiB) {} in {:.0} ms",
        options.module.display(),
        module.size / 1024,
        match module.cache {
            CacheUse::Hit => "loaded from the cache",
            _ => "compiled",
        },
        module.load_time.as_secs_f64() * 1e3
    ));
    Ok(Started {
        runtime,
        module,
        engine,
    })
}

fn graph_infos(preloaded: &Preloaded) -> Vec<GraphInfo> {
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
    graphs
}

/// Runs the module to its end. With [`Stdio::Capture`] its output is in the report; with
/// [`Stdio::Inherit`] it went to this process's stdout and stderr.
pub fn run(options: &RunOptions, stdio: Stdio, progress: &dyn Progress) -> Result<RunReport> {
    let prepared = prepare(options, stdio, progress)?;
    let outcome = prepared
        .runtime
        .run(&prepared.module, &prepared.config)
        .map_err(|e| AppError::Failed(format!("the module could not start: {e}")))?;
    Ok(RunReport {
        schema: "wasm-migrate.run/1",
        module: options.module.display().to_string(),
        cache: prepared.module.cache,
        onnx_backend: options.backend,
        precision: options.precision,
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_zero_timeout_is_no_limit_and_a_negative_one_is_refused() {
        assert_eq!(timeout_from_seconds(0.0).unwrap(), None);
        assert_eq!(
            timeout_from_seconds(1.5).unwrap(),
            Some(Duration::from_millis(1500))
        );
        assert!(timeout_from_seconds(-1.0).is_err());
        assert!(timeout_from_seconds(f64::NAN).is_err());
    }

    #[test]
    fn env_pairs_need_an_equals_sign() {
        assert_eq!(
            env_pairs(&["A=1".into(), "B=x=y".into()]).unwrap(),
            vec![("A".into(), "1".into()), ("B".into(), "x=y".into())]
        );
        assert!(
            env_pairs(&["A".into()])
                .unwrap_err()
                .to_string()
                .contains("KEY=VALUE")
        );
    }
}
