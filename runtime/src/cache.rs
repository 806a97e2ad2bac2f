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
        let key = Self::key(engine, bytes);
        let path = self.dir.join(format!("{key}.cwasm"));
        if let Some(module) = Self::cached(engine, &path) {
            return Ok((module, CacheUse::Hit));
        }
        // Processes that start the same module at once (a deployment's replicas, parallel
        // tests) compile it once: the others wait on the key's lock and then load the result.
        // Compiling python.wasm takes minutes, so a second compile beside the first costs both.
        let _lock = self.lock(&key);
        if let Some(module) = Self::cached(engine, &path) {
            return Ok((module, CacheUse::Hit));
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

    fn cached(engine: &Engine, path: &Path) -> Option<Module> {
        if !path.is_file() {
            return None;
        }
        // SAFETY: the file is one this cache wrote (atomically, under a key that includes the
        // engine's compatibility hash); wasmtime checks its header and version again. The cache
        // directory is as trusted as the binary: anyone who can write it can run code as the user.
        unsafe { Module::deserialize_file(engine, path) }.ok()
    }

    /// An exclusive lock on `key`, held until the returned file is dropped (closing it releases
    /// the lock, and so does the process ending). None when the cache cannot be written: the
    /// module is then compiled without waiting for anyone.
    fn lock(&self, key: &str) -> Option<std::fs::File> {
        use std::os::fd::AsRawFd;
        std::fs::create_dir_all(&self.dir).ok()?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(format!("{key}.lock")))
            .ok()?;
        // SAFETY: flock on a file descriptor this function owns; it blocks until the lock is
        // free and has no other effect.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0;
        locked.then_some(file)
    }

    fn store(&self, path: &Path, compiled: &[u8]) -> std::io::Result<()> {
        write_atomically(path, compiled)
    }
}

/// Writes `bytes` to `path` through a temporary file beside it, renamed into place: a reader
/// sees the whole file or none. Creates the folder.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODULE: &str = "(module (func (export \"f\") (result i32) i32.const 7))";

    #[test]
    fn a_module_is_compiled_once_and_then_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ModuleCache::new(dir.path());
        let engine = Engine::default();
        // wasmtime's `wat` feature compiles the text form.
        let bytes = MODULE.as_bytes();
        let (_, first) = cache.load_or_compile(&engine, bytes).unwrap();
        let (_, second) = cache.load_or_compile(&engine, bytes).unwrap();
        assert_eq!((first, second), (CacheUse::Miss, CacheUse::Hit));
    }

    #[test]
    fn compiles_started_together_wait_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let bytes = MODULE.as_bytes();
        let uses: Vec<CacheUse> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        let cache = ModuleCache::new(dir.path());
                        cache.load_or_compile(&engine, bytes).unwrap().1
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // flock locks belong to the open file, so threads exclude each other as processes do.
        assert_eq!(
            uses.iter().filter(|u| **u == CacheUse::Miss).count(),
            1,
            "{uses:?}"
        );
        assert_eq!(
            uses.iter().filter(|u| **u == CacheUse::Hit).count(),
            3,
            "{uses:?}"
        );
    }
}
