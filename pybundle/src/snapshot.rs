//! Whether a bundle's instances start from a snapshot of the imported app, and what they
//! started from (the host that makes and loads snapshots is `host::snapshot`).

use serde::Serialize;

/// `WASM_MIGRATE_PYTHON_SNAPSHOT=off` starts every instance by importing the app.
pub const ENV_VAR: &str = "WASM_MIGRATE_PYTHON_SNAPSHOT";

/// Whether instances start from a snapshot of the imported app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnapshotUse {
    /// Made on the bundle's first start (and by `build`), then loaded from the cache.
    #[default]
    On,
    Off,
}

impl SnapshotUse {
    /// [`ENV_VAR`]: `off`, `0`, `false` or `no` turn snapshots off.
    pub fn from_env() -> SnapshotUse {
        match std::env::var(ENV_VAR).map(|v| v.to_ascii_lowercase()) {
            Ok(v) if matches!(v.as_str(), "off" | "0" | "false" | "no") => SnapshotUse::Off,
            _ => SnapshotUse::On,
        }
    }
}

/// What this host's instances start from, for reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "snapshot")]
pub enum SnapshotState {
    /// Turned off: each instance imports the app.
    Off,
    /// Loaded from the cache.
    Loaded { load_ms: f64 },
    /// Made now: the app imported once, the memory written and compiled.
    Made { make_ms: f64, memory_mib: f64 },
    /// The app's state is not all in memory; each instance imports the app.
    Refused { why: String },
}
