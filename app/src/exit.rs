//! Exit codes that CI can trust, the same for every command (each command's `--help` says
//! which it gives). `analyze` adds its own partial-analysis code (3).

/// The command did what it was asked, and the result is good (equivalent, written, measured).
pub const OK: u8 = 0;
/// It ran, and the answer is no: the two sides differ, or a side failed while measured.
pub const FAILED: u8 = 1;
/// It could not run: bad usage, a missing plan or build, an I/O error.
pub const ERROR: u8 = 2;
/// Interrupted by SIGINT or SIGTERM, after stopping everything it started.
pub const INTERRUPTED: u8 = 130;
