//! The Python that wasm-migrate runs with the *service's* interpreter, one copy of each piece
//! (docs/decisions.md, "One Python harness"). The scripts that use them (verify's harness and
//! tensor probe, bench's load probe and deployable, the bundle's collect.py, the generated
//! convert_model.py) stay in their crates; what they share lives here:
//!
//! - [`SERVICE`]: importing the service as production does and starting it (app discovery,
//!   FastAPI lifespans, Flask hooks, lazy getters);
//! - [`IMPORT_HOOK`]: calling back when a named module has been imported (the probes that
//!   wrap a framework's functions inside the service's own server);
//! - [`REQUIREMENTS`]: PEP 503 names, markers and the closure of installed requirements.
//!
//! A script run from a file gets a module written beside it under [`Module::file`] and
//! imports it; a script run with `python -c`, or one that must stay a single file, gets the
//! source inlined ([`inline`], or a template include).

/// One shared Python module.
#[derive(Debug, Clone, Copy)]
pub struct Module {
    /// The file name it is written under beside a script that imports it.
    pub file: &'static str,
    pub source: &'static str,
}

/// Imports the service as production does and starts it: see `service.py`.
pub const SERVICE: Module = Module {
    file: "wasm_migrate_service.py",
    source: include_str!("service.py"),
};

/// Calls back when a named module has been imported (also when it already was): see
/// `import_hook.py`. Also runs the environment's own `sitecustomize` that a probe shadows.
pub const IMPORT_HOOK: Module = Module {
    file: "wasm_migrate_import_hook.py",
    source: include_str!("import_hook.py"),
};

/// Package names (PEP 503), requirement markers and the closure of a service's installed
/// requirements: see `requirements.py`.
pub const REQUIREMENTS: Module = Module {
    file: "wasm_migrate_requirements.py",
    source: include_str!("requirements.py"),
};

/// `script` with `module`'s source before it, for a script run with `python -c` (which has
/// no folder to import a module from): the script calls the module's functions by name.
pub fn inline(module: Module, script: &str) -> String {
    format!(
        "# ---- {} (shared: pyharness/src) ----\n{}\n# ---- the script ----\n{}",
        module.file, module.source, script
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_files_are_importable_names() {
        for module in [SERVICE, IMPORT_HOOK, REQUIREMENTS] {
            let stem = module.file.strip_suffix(".py").unwrap();
            assert!(stem.starts_with("wasm_migrate_"), "{stem}");
            assert!(
                stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{stem}"
            );
            assert!(!module.source.trim().is_empty());
        }
    }

    #[test]
    fn inline_keeps_both_sources() {
        let text = inline(REQUIREMENTS, "print(normalise('A_B'))\n");
        assert!(text.contains("def normalise("));
        assert!(text.ends_with("print(normalise('A_B'))\n"));
    }
}
