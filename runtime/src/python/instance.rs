//! One warm interpreter: a store with the grants the caller made, `_initialize` run once, and
//! `turn` for each piece of source after that.

use super::engine::{PythonEngine, PythonModule};
use crate::RuntimeError;
use crate::engine::EPOCH_TICK;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wasmtime::{Caller, Linker, Memory, ResourceLimiter, Store, TypedFunc};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

/// What the guest's `_host.call(frame)` reaches. Returns the answer, or `None` when the host
/// failed (the guest sees -2 and raises).
pub trait GuestHost: Send {
    fn call(&mut self, frame: &[u8]) -> Option<Vec<u8>>;
}

/// A host directory the guest sees at `guest`.
#[derive(Debug, Clone)]
pub struct Mount {
    pub host: PathBuf,
    pub guest: String,
    pub writable: bool,
}

pub struct InstanceConfig {
    pub mounts: Vec<Mount>,
    pub env: Vec<(String, String)>,
    /// The largest the guest's memory may grow to, in bytes.
    pub max_memory: u64,
    /// Keep the guest's stdout and stderr for [`TurnOutcome`] instead of passing them through.
    pub capture: bool,
    pub host: Box<dyn GuestHost>,
}

/// How a turn ended. `value` is the reactor's own: 0 when the source ran, non-zero when it
/// raised (the traceback went to the guest's stderr).
#[derive(Debug)]
pub struct TurnOutcome {
    pub value: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

struct GuestState {
    wasi: WasiP1Ctx,
    host: Box<dyn GuestHost>,
    limiter: Limiter,
}

struct Limiter {
    max: u64,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired as u64 <= self.max)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

/// A warm interpreter. Not `Sync`: one turn at a time. Run it on a thread with
/// [`super::THREAD_STACK`] of stack: the Wasm stack lives on the native one.
pub struct PythonInstance {
    store: Store<GuestState>,
    turn: TypedFunc<(i32, i32), i32>,
    alloc: TypedFunc<i32, i32>,
    memory: Memory,
    pipes: Option<(MemoryOutputPipe, MemoryOutputPipe)>,
    seen: (usize, usize),
    /// Set once a turn trapped or exited: the interpreter's state is then unknown.
    broken: Option<String>,
    pub start_time: Duration,
}

/// The guest's streams, kept for turns that capture them.
const CAPTURE_LIMIT: usize = 64 << 20;

impl PythonInstance {
    /// Instantiates the reactor and runs `_initialize` (the interpreter's start-up), unless
    /// the module is a snapshot, whose memory is an initialized interpreter's.
    pub fn new(
        engine: &PythonEngine,
        module: &PythonModule,
        config: InstanceConfig,
    ) -> Result<PythonInstance, RuntimeError> {
        let start = Instant::now();
        let mut wasi = WasiCtxBuilder::new();
        wasi.allow_blocking_current_thread(true);
        wasi.arg("/usr/local/bin/python.wasm");
        for (k, v) in &config.env {
            wasi.env(k, v);
        }
        for mount in &config.mounts {
            let perms = if mount.writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            wasi.preopened_dir(&mount.host, &mount.guest, perms)
                .map_err(|e| RuntimeError::BadDir {
                    spec: format!("{}:{}", mount.host.display(), mount.guest),
                    reason: format!("{e:#}"),
                })?;
        }
        let pipes = if config.capture {
            let pipes = (
                MemoryOutputPipe::new(CAPTURE_LIMIT),
                MemoryOutputPipe::new(CAPTURE_LIMIT),
            );
            wasi.stdout(pipes.0.clone()).stderr(pipes.1.clone());
            Some(pipes)
        } else {
            wasi.inherit_stdio();
            None
        };
        let state = GuestState {
            wasi: wasi.build_p1(),
            host: config.host,
            limiter: Limiter {
                max: config.max_memory,
            },
        };
        let mut store = Store::new(&engine.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(u64::MAX / 2);
        store.epoch_deadline_trap();
        let linker = linker(engine, &module.path)?;
        let fail = |e: wasmtime::Error| RuntimeError::Python(describe_trap(&e));
        let instance = linker
            .instantiate(&mut store, &module.module)
            .map_err(|e| RuntimeError::Link {
                path: module.path.clone(),
                detail: format!("{e:#}"),
            })?;
        let turn = instance.get_typed_func(&mut store, "turn").map_err(fail)?;
        let alloc = instance
            .get_typed_func(&mut store, "host_alloc")
            .map_err(fail)?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| RuntimeError::Python("the reactor exports no memory".into()))?;
        if !module.initialized {
            let init = instance
                .get_typed_func::<(), ()>(&mut store, "_initialize")
                .map_err(fail)?;
            init.call(&mut store, ()).map_err(fail)?;
        }
        Ok(PythonInstance {
            store,
            turn,
            alloc,
            memory,
            pipes,
            seen: (0, 0),
            broken: None,
            start_time: start.elapsed(),
        })
    }

    /// Runs `source` in the interpreter's `__main__`, stopping it after `timeout`. A trap,
    /// an exit or the timeout leaves the instance broken: every later turn fails at once.
    pub fn turn(&mut self, source: &str, timeout: Duration) -> Result<TurnOutcome, RuntimeError> {
        if let Some(why) = &self.broken {
            return Err(RuntimeError::Python(format!(
                "this interpreter stopped earlier ({why}); start a new one"
            )));
        }
        let start = Instant::now();
        let ticks = (timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        self.store.set_epoch_deadline(ticks);
        let result = self.enter(source.as_bytes());
        self.store.set_epoch_deadline(u64::MAX / 2);
        let (stdout, stderr) = self.take_output();
        match result {
            Ok(value) => Ok(TurnOutcome {
                value,
                stdout,
                stderr,
                elapsed: start.elapsed(),
            }),
            Err(e) => {
                let why = if matches!(
                    e.downcast_ref::<wasmtime::Trap>(),
                    Some(wasmtime::Trap::Interrupt)
                ) {
                    format!("it ran past its {:.1} s limit", timeout.as_secs_f64())
                } else {
                    describe_trap(&e)
                };
                self.broken = Some(why.clone());
                let tail = String::from_utf8_lossy(&stderr);
                let tail = tail.trim_end();
                Err(RuntimeError::Python(if tail.is_empty() {
                    why
                } else {
                    format!(
                        "{why}; the guest's stderr ended with:\n{}",
                        last_lines(tail, 20)
                    )
                }))
            }
        }
    }

    fn enter(&mut self, source: &[u8]) -> wasmtime::Result<i32> {
        let len = i32::try_from(source.len())
            .map_err(|_| wasmtime::Error::msg("the source is larger than 2 GiB"))?;
        let ptr = self.alloc.call(&mut self.store, len)?;
        let at = ptr as u32 as usize;
        if ptr == 0 || at + source.len() > self.memory.data_size(&self.store) {
            return Err(wasmtime::Error::msg(
                "the guest could not allocate room for the source (out of memory)",
            ));
        }
        self.memory.write(&mut self.store, at, source)?;
        self.turn.call(&mut self.store, (ptr, len))
    }

    fn take_output(&mut self) -> (Vec<u8>, Vec<u8>) {
        let Some((out, err)) = &self.pipes else {
            return (Vec::new(), Vec::new());
        };
        let (out, err) = (out.contents(), err.contents());
        let new = (
            out.get(self.seen.0..).unwrap_or_default().to_vec(),
            err.get(self.seen.1..).unwrap_or_default().to_vec(),
        );
        self.seen = (out.len(), err.len());
        new
    }

    /// Why this instance can no longer run turns, if it cannot.
    pub fn broken(&self) -> Option<&str> {
        self.broken.as_deref()
    }

    /// The guest's linear memory now, in bytes.
    pub fn memory_size(&self) -> usize {
        self.memory.data_size(&self.store)
    }

    /// The guest's linear memory, as it is between turns.
    pub(crate) fn memory_data(&self) -> &[u8] {
        self.memory.data(&self.store)
    }

    /// `wasm` (the module this instance was made from) with this instance's memory as its
    /// start: see [`super::snapshot`]. Only between turns, and not once a turn failed.
    pub fn snapshot(&self, wasm: &[u8]) -> Result<Vec<u8>, RuntimeError> {
        if let Some(why) = &self.broken {
            return Err(RuntimeError::Python(format!(
                "no snapshot of an interpreter that stopped ({why})"
            )));
        }
        super::snapshot::write(wasm, self.memory_data())
            .map_err(|e| RuntimeError::Python(format!("no snapshot: {e}")))
    }
}

fn linker(
    engine: &PythonEngine,
    path: &std::path::Path,
) -> Result<Linker<GuestState>, RuntimeError> {
    let mut linker: Linker<GuestState> = Linker::new(&engine.engine);
    let link = |e: wasmtime::Error| RuntimeError::Link {
        path: path.to_path_buf(),
        detail: format!("{e:#}"),
    };
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut GuestState| &mut s.wasi)
        .map_err(link)?;
    linker.func_wrap("host", "call", host_call).map_err(link)?;
    Ok(linker)
}

/// Host failed: the guest's `_host.call` raises.
const HOST_FAULT: i32 = -2;

fn host_call(
    mut caller: Caller<'_, GuestState>,
    ptr: i32,
    len: i32,
    out_ptr_ptr: i32,
    out_len_ptr: i32,
) -> wasmtime::Result<i32> {
    let Some(memory) = caller.get_export("memory").and_then(|e| e.into_memory()) else {
        return Ok(HOST_FAULT);
    };
    let Some(alloc) = caller.get_export("host_alloc").and_then(|e| e.into_func()) else {
        return Ok(HOST_FAULT);
    };
    let alloc = alloc.typed::<i32, i32>(&caller)?;
    let (ptr, len) = (ptr as u32 as usize, len as u32 as usize);
    let (out_ptr_ptr, out_len_ptr) = (out_ptr_ptr as u32 as usize, out_len_ptr as u32 as usize);
    let size = memory.data_size(&caller);
    if ptr + len > size || out_ptr_ptr + 4 > size || out_len_ptr + 4 > size {
        return Ok(HOST_FAULT);
    }
    let frame = memory.data(&caller)[ptr..ptr + len].to_vec();
    let Some(answer) = caller.data_mut().host.call(&frame) else {
        return Ok(HOST_FAULT);
    };
    let Ok(answer_len) = i32::try_from(answer.len()) else {
        return Ok(HOST_FAULT);
    };
    let at = alloc.call(&mut caller, answer_len)? as u32 as usize;
    if at == 0 || at + answer.len() > memory.data_size(&caller) {
        return Ok(HOST_FAULT);
    }
    memory.write(&mut caller, at, &answer)?;
    memory.write(&mut caller, out_ptr_ptr, &(at as u32).to_le_bytes())?;
    memory.write(&mut caller, out_len_ptr, &(answer_len as u32).to_le_bytes())?;
    Ok(0)
}

fn describe_trap(e: &wasmtime::Error) -> String {
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        return format!("the interpreter exited with status {}", exit.0);
    }
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => format!("the interpreter trapped: {trap}"),
        None => format!("{e:#}"),
    }
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
