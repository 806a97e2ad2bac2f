//! One run of a WASI command: a fresh store with only what the caller granted (arguments,
//! environment, preopened directories, preloaded models), limits on memory and time, and an
//! outcome that says how the guest ended and what wasi-nn reported on the way.

use crate::RuntimeError;
use crate::engine::{EPOCH_TICK, Runtime, WasmModule};
use crate::host::HostProfile;
use crate::nn::BackendChoice;
use crate::nn::diagnostics::{Capture, Message, Sink};
use crate::preload::Preloaded;
use crate::sockets::{Listening, Recycle, Sockets, Stopping};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::{ResourceLimiter, Store, Trap, WasmBacktrace};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};
use wasmtime_wasi_nn::witx::WasiNnCtx;

/// What a captured stream may hold before writes to it fail (the guest sees an I/O error).
const CAPTURE_LIMIT: usize = 256 << 20;

/// The default memory limit of a guest: far above what glue needs, far below the machine.
pub const DEFAULT_MAX_MEMORY: u64 = 1 << 30;

pub(crate) struct HostState {
    pub(crate) wasi: WasiP1Ctx,
    pub(crate) nn: WasiNnCtx,
    pub(crate) sockets: Sockets,
    pub(crate) limiter: MemoryLimiter,
}

/// A host directory the guest may see, and the path it sees it at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirMapping {
    pub host: PathBuf,
    pub guest: String,
    /// The guest may read, never create, change or delete anything under it.
    pub read_only: bool,
}

impl DirMapping {
    /// `HOST[:GUEST][:ro|:rw]`; a missing GUEST is the HOST path itself, a missing access is
    /// `read_only` (`run` gives read-write, as WasmEdge's `--dir` does; `serve` read-only).
    pub fn parse_with(spec: &str, read_only: bool) -> Result<DirMapping, RuntimeError> {
        let (spec_dirs, read_only) = match spec.rsplit_once(':') {
            Some((rest, "ro")) => (rest, true),
            Some((rest, "rw")) => (rest, false),
            _ => (spec, read_only),
        };
        let mut mapping = DirMapping::parse(spec_dirs).map_err(|e| match e {
            RuntimeError::BadDir { reason, .. } => RuntimeError::BadDir {
                spec: spec.to_string(),
                reason,
            },
            other => other,
        })?;
        mapping.read_only = read_only;
        Ok(mapping)
    }

    /// `HOST[:GUEST]`, read-write; a missing GUEST is the HOST path itself.
    pub fn parse(spec: &str) -> Result<DirMapping, RuntimeError> {
        let (host, guest) = match spec.split_once(':') {
            Some((h, g)) => (h, g.to_string()),
            None => (spec, spec.to_string()),
        };
        let bad = |reason: String| RuntimeError::BadDir {
            spec: spec.to_string(),
            reason,
        };
        if host.is_empty() || guest.is_empty() {
            return Err(bad("expected HOST[:GUEST]".into()));
        }
        let host_path = PathBuf::from(host);
        if !host_path.is_dir() {
            let swapped = std::path::Path::new(&guest).is_dir() && guest != host;
            let hint = if swapped {
                " (WasmEdge writes --dir GUEST:HOST; wasm-migrate, like wasmtime, writes HOST:GUEST: swap the two)"
            } else {
                ""
            };
            return Err(bad(format!(
                "the host directory {host} does not exist or is not a directory{hint}"
            )));
        }
        Ok(DirMapping {
            host: host_path,
            guest,
            read_only: false,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdio {
    /// Kept in the outcome (verify and benchmarks read it).
    Capture,
    /// Passed through to this process's stdin, stdout and stderr (the CLI).
    Inherit,
}

#[derive(Clone)]
pub struct RunConfig {
    /// The guest's argv after argv[0] (which is the module's file name).
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub dirs: Vec<DirMapping>,
    pub preloaded: Preloaded,
    pub backends: BackendChoice,
    /// Wall-clock limit; `None` runs until the guest ends.
    pub timeout: Option<Duration>,
    /// Largest linear memory, in bytes.
    pub max_memory: u64,
    /// Instructions the guest may execute (needs a runtime made with `fuel: true`).
    pub fuel: Option<u64>,
    pub stdio: Stdio,
    /// Under `serve`: the listener the guest's WasmEdge socket calls accept from.
    pub listening: Option<Arc<Listening>>,
    /// The host whose terms the run keeps (wasm-migrate's own, or WasmEdge's).
    pub host: HostProfile,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            args: Vec::new(),
            env: Vec::new(),
            dirs: Vec::new(),
            preloaded: Preloaded::default(),
            backends: BackendChoice::default(),
            timeout: Some(Duration::from_secs(600)),
            max_memory: DEFAULT_MAX_MEMORY,
            fuel: None,
            stdio: Stdio::Capture,
            listening: None,
            host: HostProfile::Embedded,
        }
    }
}

/// How the guest ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Ending {
    /// `_start` returned (code 0) or the guest called `proc_exit`.
    Exited {
        code: i32,
    },
    /// Stopped by the wall-clock limit.
    TimedOut {
        limit_secs: f64,
    },
    /// A memory growth past the limit was refused and the guest then failed.
    OutOfMemory {
        limit_bytes: u64,
        requested_bytes: u64,
        detail: String,
    },
    OutOfFuel {
        fuel: u64,
    },
    /// A trap: the message and the Wasm backtrace.
    Trapped {
        message: String,
        backtrace: String,
    },
    /// A host function failed in a way that is not the guest's exit (e.g. a panic in wasi-nn).
    HostFailure {
        message: String,
    },
    /// Under `serve`: stopped between two requests because the server is stopping.
    Stopped,
    /// Under `serve`: ended while idle, between two requests, to give its memory back; a
    /// fresh instance takes its place (see `sockets::Recycle`).
    Recycled,
}

impl Ending {
    pub fn success(&self) -> bool {
        matches!(self, Ending::Exited { code: 0 })
    }

    /// The process exit code a CLI should end with: the guest's own, else 125+ like shells do
    /// for signals (124 is timeout's convention).
    pub fn exit_code(&self) -> i32 {
        match self {
            Ending::Exited { code } => *code,
            Ending::Stopped | Ending::Recycled => 0,
            Ending::TimedOut { .. } => 124,
            Ending::OutOfMemory { .. } | Ending::OutOfFuel { .. } => 137,
            Ending::Trapped { .. } | Ending::HostFailure { .. } => 134,
        }
    }

    /// One paragraph for a person, or `None` for a normal exit.
    pub fn explain(&self) -> Option<String> {
        match self {
            Ending::Exited { .. } | Ending::Stopped | Ending::Recycled => None,
            Ending::TimedOut { limit_secs } => Some(format!(
                "the guest was stopped after {limit_secs} s, the wall-clock limit; raise it with --timeout SECS (0 for none) \
                 if the work is legitimately that long"
            )),
            Ending::OutOfMemory {
                limit_bytes,
                requested_bytes,
                detail,
            } => Some(format!(
                "the guest tried to grow its memory to {} MiB, past the limit of {} MiB; raise it with --max-memory \
                 ({detail})",
                requested_bytes >> 20,
                limit_bytes >> 20
            )),
            Ending::OutOfFuel { fuel } => Some(format!(
                "the guest ran out of fuel after {fuel} units; raise it with --fuel"
            )),
            Ending::Trapped { message, backtrace } => {
                Some(format!("the guest trapped: {message}\n{backtrace}"))
            }
            Ending::HostFailure { message } => Some(format!("a host function failed: {message}")),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    pub ending: Ending,
    /// Empty when the streams were inherited.
    #[serde(skip)]
    pub stdout: Vec<u8>,
    #[serde(skip)]
    pub stderr: Vec<u8>,
    /// What wasi-nn reported: failures in words, fallbacks, the precision a graph was compiled at.
    pub nn_messages: Vec<Message>,
    pub instantiate_time: Duration,
    pub run_time: Duration,
}

pub(crate) struct MemoryLimiter {
    limit: u64,
    refused: Option<u64>,
    /// Under `serve`: where the instance's linear memory is added up with the others'.
    gauge: Option<Arc<Listening>>,
    /// This instance's linear memory, as counted in the gauge.
    counted: u64,
    /// Its linear memory now.
    size: u64,
}

impl MemoryLimiter {
    pub(crate) fn size(&self) -> u64 {
        self.size
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.limit {
            self.refused = Some(desired as u64);
            return Ok(false);
        }
        self.size = desired as u64;
        if let Some(gauge) = &self.gauge {
            let grown = (desired as u64).saturating_sub(current.max(self.counted as usize) as u64);
            gauge.count_linear_memory(grown as i64);
            self.counted += grown;
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

impl Drop for MemoryLimiter {
    /// The store, and its memory, is gone.
    fn drop(&mut self) {
        if let Some(gauge) = &self.gauge {
            gauge.count_linear_memory(-(self.counted as i64));
        }
    }
}

impl Runtime {
    /// Runs the module's `_start` once in a fresh, sandboxed store.
    pub fn run(&self, module: &WasmModule, config: &RunConfig) -> Result<RunOutcome, RuntimeError> {
        if config.fuel.is_some() && !self.options.fuel {
            return Err(RuntimeError::Engine(
                "a fuel budget needs a runtime made with fuel counting on".into(),
            ));
        }
        if config.timeout.is_some() && !self.options.wall_clock_limits {
            return Err(RuntimeError::Engine(
                "a wall-clock limit needs a runtime made with wall-clock limits on \
                 (or run with no limit: timeout None)"
                    .into(),
            ));
        }
        let mut wasi = WasiCtxBuilder::new();
        // The store runs synchronously, so file reads may block this thread instead of going
        // through tokio's spawn_blocking and back (as `wasmtime run` does): reading a 164 KB
        // photograph went from 1.2 ms to 0.18 ms.
        wasi.allow_blocking_current_thread(true);
        let program = module
            .path
            .file_name()
            .map_or("app.wasm".into(), |n| n.to_string_lossy().into_owned());
        wasi.arg(&program).args(&config.args);
        for (k, v) in &config.env {
            wasi.env(k, v);
        }
        for dir in &config.dirs {
            let perms = match dir.read_only {
                true => FsPerms::ReadOnly,
                false => FsPerms::ReadWrite,
            };
            wasi.preopened_dir(&dir.host, &dir.guest, perms)
                .map_err(|e| RuntimeError::BadDir {
                    spec: format!("{}:{}", dir.host.display(), dir.guest),
                    reason: format!("{e:#}"),
                })?;
        }
        let pipes = match config.stdio {
            Stdio::Inherit => {
                wasi.inherit_stdio();
                None
            }
            Stdio::Capture => {
                let (out, err) = (
                    MemoryOutputPipe::new(CAPTURE_LIMIT),
                    MemoryOutputPipe::new(CAPTURE_LIMIT),
                );
                wasi.stdout(out.clone()).stderr(err.clone());
                Some((out, err))
            }
        };
        let nn = WasiNnCtx::new(
            config.backends.wasi_backends(),
            config.preloaded.registry(config.host).into(),
        );
        let state = HostState {
            wasi: wasi.build_p1(),
            nn,
            sockets: Sockets::new(
                config.listening.clone(),
                config.host.replaces_failed_instances(),
            ),
            limiter: MemoryLimiter {
                limit: config.max_memory,
                refused: None,
                gauge: config.listening.clone(),
                counted: 0,
                size: 0,
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        if self.options.wall_clock_limits {
            let ticks = config.timeout.map_or(u64::MAX / 2, |t| {
                (t.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
            });
            store.set_epoch_deadline(ticks);
            store.epoch_deadline_trap();
        }
        if let Some(fuel) = config.fuel {
            store
                .set_fuel(fuel)
                .map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        } else if self.options.fuel {
            store
                .set_fuel(u64::MAX)
                .map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        }

        let sink = Sink::default();
        let _capture = Capture::start(&sink);
        let start = Instant::now();
        let instance = module.pre.instantiate(&mut store);
        let instantiate_time = start.elapsed();
        let start = Instant::now();
        let result = match instance {
            Err(e) => Err(e),
            Ok(instance) => match instance.get_typed_func::<(), ()>(&mut store, "_start") {
                Err(_) => {
                    return Err(RuntimeError::Link {
                        path: module.path.clone(),
                        detail: "it exports no `_start` function: it is a library (reactor), not a WASI command"
                            .into(),
                    });
                }
                Ok(start_fn) => {
                    // A host function that panics (wasmtime-wasi-nn does on some malformed guest
                    // arguments) must end this run, not the process.
                    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        start_fn.call(&mut store, ())
                    })) {
                        Ok(result) => result,
                        Err(panic) => {
                            let message = panic
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_else(|| "a host function panicked".into());
                            return Ok(RunOutcome {
                                ending: Ending::HostFailure {
                                    message: format!(
                                        "{message} (the guest passed an argument wasi-nn cannot decode, such as \
                                         ExecutionTarget::AUTO, which the witx ABI does not define)"
                                    ),
                                },
                                stdout: Vec::new(),
                                stderr: Vec::new(),
                                nn_messages: sink.messages(),
                                instantiate_time,
                                run_time: start.elapsed(),
                            });
                        }
                    }
                }
            },
        };
        let run_time = start.elapsed();
        let refused = store.data().limiter.refused;
        let fuel_left = store.get_fuel().ok();
        let ending = match result {
            Ok(()) => Ending::Exited { code: 0 },
            Err(e) => classify(e, config, refused, fuel_left),
        };
        // A client whose request the guest was answering when it ended gets an answer.
        store.data_mut().sockets.answer_abandoned(&ending);
        drop(store);
        let (stdout, stderr) = match pipes {
            Some((out, err)) => (out.contents().to_vec(), err.contents().to_vec()),
            None => (Vec::new(), Vec::new()),
        };
        Ok(RunOutcome {
            ending,
            stdout,
            stderr,
            nn_messages: sink.messages(),
            instantiate_time,
            run_time,
        })
    }
}

fn classify(
    e: wasmtime::Error,
    config: &RunConfig,
    refused: Option<u64>,
    fuel_left: Option<u64>,
) -> Ending {
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        return Ending::Exited { code: exit.0 };
    }
    if e.downcast_ref::<Stopping>().is_some() {
        return Ending::Stopped;
    }
    if e.downcast_ref::<Recycle>().is_some() {
        return Ending::Recycled;
    }
    let trap = e.downcast_ref::<Trap>().copied();
    if trap == Some(Trap::Interrupt) {
        return Ending::TimedOut {
            limit_secs: config.timeout.map_or(0.0, |t| t.as_secs_f64()),
        };
    }
    if trap == Some(Trap::OutOfFuel) || (config.fuel.is_some() && fuel_left == Some(0)) {
        return Ending::OutOfFuel {
            fuel: config.fuel.unwrap_or(0),
        };
    }
    let backtrace = e
        .downcast_ref::<WasmBacktrace>()
        .map(|b| {
            b.to_string().replacen(
                "error while executing at wasm backtrace:",
                "wasm backtrace:",
                1,
            )
        })
        .unwrap_or_default();
    let message = trap.map_or_else(
        || format!("{e:#}"),
        |t| t.to_string().trim_start_matches("wasm trap: ").to_string(),
    );
    if let Some(requested) = refused {
        return Ending::OutOfMemory {
            limit_bytes: config.max_memory,
            requested_bytes: requested,
            detail: format!("after the refusal the guest ended with: {message}"),
        };
    }
    if trap.is_some() {
        Ending::Trapped { message, backtrace }
    } else {
        Ending::HostFailure { message }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_directory_is_read_only_by_suffix_or_by_the_caller_s_default() {
        let dir = tempfile::tempdir().unwrap();
        let host = dir.path().display().to_string();
        let parsed = |spec: &str, default| DirMapping::parse_with(spec, default).unwrap();
        assert!(parsed(&format!("{host}:/data:ro"), false).read_only);
        assert!(!parsed(&format!("{host}:/data:rw"), true).read_only);
        assert!(parsed(&format!("{host}:/data"), true).read_only);
        let plain = parsed(&host, false);
        assert!(!plain.read_only && plain.guest == host);
        assert_eq!(parsed(&format!("{host}:ro"), false).guest, host);
        let error = DirMapping::parse_with("/no/such/dir:/data:ro", true).unwrap_err();
        assert!(
            error.to_string().contains("/no/such/dir:/data:ro"),
            "{error}"
        );
    }

    use super::*;
    use crate::engine::{Runtime, RuntimeOptions};
    use std::path::Path;

    /// Runs a text module's `_start` with `config`; how it ended, and its stdout.
    fn run_wat(wat: &str, config: RunConfig, options: RuntimeOptions) -> (Ending, String) {
        let runtime = Runtime::new(RuntimeOptions {
            cache: None,
            ..options
        })
        .unwrap();
        let module = runtime
            .load_bytes(Path::new("test.wat"), wat.as_bytes())
            .unwrap();
        let outcome = runtime.run(&module, &config).unwrap();
        (
            outcome.ending,
            String::from_utf8_lossy(&outcome.stdout).into_owned(),
        )
    }

    fn run(wat: &str, config: RunConfig) -> Ending {
        run_wat(wat, config, RuntimeOptions::default()).0
    }

    const EXIT_3: &str = r#"(module
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (func (export "_start") (call $exit (i32.const 3))))"#;

    #[test]
    fn the_guests_exit_code_is_its_own() {
        let ending = run(EXIT_3, RunConfig::default());
        assert_eq!(ending, Ending::Exited { code: 3 });
        assert_eq!(ending.exit_code(), 3);
        assert!(ending.explain().is_none());
    }

    #[test]
    fn output_is_captured() {
        let hello = r#"(module
            (import "wasi_snapshot_preview1" "fd_write"
                (func $write (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "hi\n")
            (func (export "_start")
                (i32.store (i32.const 0) (i32.const 16))
                (i32.store (i32.const 4) (i32.const 3))
                (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;
        let (ending, stdout) = run_wat(hello, RunConfig::default(), RuntimeOptions::default());
        assert_eq!(ending, Ending::Exited { code: 0 });
        assert_eq!(stdout, "hi\n");
    }

    #[test]
    fn a_trap_is_named_with_its_backtrace() {
        let trap = r#"(module (memory (export "memory") 1)
            (func $inner unreachable)
            (func (export "_start") (call $inner)))"#;
        let ending = run(trap, RunConfig::default());
        let Ending::Trapped { message, backtrace } = &ending else {
            panic!("{ending:?}");
        };
        assert!(message.contains("unreachable"), "{message}");
        assert!(backtrace.contains("wasm backtrace"), "{backtrace}");
        assert_eq!(ending.exit_code(), 134);
    }

    const LOOP: &str = r#"(module (memory (export "memory") 1)
        (func (export "_start") (loop $l (br $l))))"#;

    #[test]
    fn a_guest_past_its_wall_clock_limit_is_stopped() {
        let config = RunConfig {
            timeout: Some(Duration::from_millis(200)),
            ..RunConfig::default()
        };
        let ending = run(LOOP, config);
        assert!(matches!(ending, Ending::TimedOut { .. }), "{ending:?}");
        assert_eq!(ending.exit_code(), 124);
    }

    #[test]
    fn a_guest_out_of_fuel_is_stopped_and_told() {
        let config = RunConfig {
            fuel: Some(10_000),
            ..RunConfig::default()
        };
        let options = RuntimeOptions {
            fuel: true,
            ..RuntimeOptions::default()
        };
        let (ending, _) = run_wat(LOOP, config, options);
        assert_eq!(ending, Ending::OutOfFuel { fuel: 10_000 });
        assert_eq!(ending.exit_code(), 137);
    }

    #[test]
    fn memory_past_the_limit_is_refused_and_the_ending_says_so() {
        // Grows by 64 MiB at once, past a 16 MiB limit, then traps on the refusal.
        let grow = r#"(module (memory (export "memory") 1)
            (func (export "_start")
                (if (i32.eq (memory.grow (i32.const 1024)) (i32.const -1))
                    (then unreachable))))"#;
        let config = RunConfig {
            max_memory: 16 << 20,
            ..RunConfig::default()
        };
        let ending = run(grow, config);
        let Ending::OutOfMemory {
            limit_bytes,
            requested_bytes,
            ..
        } = ending
        else {
            panic!("{ending:?}");
        };
        assert_eq!(limit_bytes, 16 << 20);
        assert!(requested_bytes > limit_bytes);
    }
}
