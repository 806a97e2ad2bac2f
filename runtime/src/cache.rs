//! Compiled modules on disk, so a second run of the same module does not compile it again.
//!
//! The key is the module's SHA-256 together with the engine's compatibility hash (wasmtime's
//! version and every setting that changes generated code), so a changed module, a newer
//! wasmtime or another configuration never picks up a stale artifact.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::{Engine, Module};

/// Where wasm-migrate keeps its caches: `$WASM_MIGRATE_CACHE_DIR`, else the XDG cache home.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WASM_MIGRATE_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("wasm-migrate");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(home).join(".cache").join("wasm-migrate");
    }
    std::env::temp_dir().join("wasm-migrate-cache")
}

/// Whether a module came from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheUse {
    Hit,
    /// Compiled now, and stored for next time.
    Miss,
    /// Compiled now; caching is off or the cache directory cannot be written.
    Off,
}

#[derive(Debug, Clone)]
pub struct ModuleCache {
    dir: PathBuf,
}

impl ModuleCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn key(engine: &Engine, bytes: &[u8]) -> String {
        let mut engine_hash = std::hash::DefaultHasher::new();
        engine
            .precompile_compatibility_hash()
            .hash(&mut engine_hash);
        let mut digest = Sha256::new();
        digest.update(bytes);
        digest.update(engine_hash.finish().to_le_bytes());
        digest
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The compiled module for `bytes`: from the cache when present and loadable, else compiled
    /// and stored. A cache that cannot be read or written never fails the run.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
    ) -> wasmtime::Result<(Module, CacheUse)> {
        let path = self.dir.join(format!("{}.cwasm", Self::key(engine, bytes)));
        if path.is_file() {
            // SAFETY: the file is one this cache wrote (atomically, under a key that includes the
            // engine's compatibility hash); wasmtime checks its header and version again. The cache
            // directory is as trusted as the binary: anyone who can write it can run code as the user.
            if let Ok(module) = unsafe { Module::deserialize_file(engine, &path) } {
                return Ok((module, CacheUse::Hit));
            }
        }
        let module = Module::new(engine, bytes)?;
        let stored = module
            .serialize()
            .ok()
            .and_then(|compiled| self.store(&path, &compiled).ok());
        Ok((
            module,
            if stored.is_some() {
                CacheUse::Miss
            } else {
                CacheUse::Off
            },
        ))
    }

    fn store(&self, path: &Path, compiled: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        std::io::Write::write_all(&mut tmp, compiled)?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}
