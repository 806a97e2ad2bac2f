//! One error type for the command layer: each crate's error, and bad options.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum AppError {
    /// An option the caller gave is wrong (the message names it and says what is expected).
    #[error("{0}")]
    Usage(String),
    /// A step failed; the message says which and why.
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Plan(#[from] wasm_migrate_plan::PlanError),
    #[error(transparent)]
    Codegen(#[from] wasm_migrate_codegen::CodegenError),
    #[error(transparent)]
    Bundle(#[from] wasm_migrate_pybundle::BundleError),
    #[cfg(feature = "runtime")]
    #[error(transparent)]
    Runtime(#[from] wasm_migrate_runtime::RuntimeError),
    #[cfg(feature = "runtime")]
    #[error(transparent)]
    Verify(#[from] wasm_migrate_verify::VerifyError),
    #[cfg(feature = "runtime")]
    #[error(transparent)]
    Bench(#[from] wasm_migrate_measure::BenchError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl AppError {
    pub(crate) fn usage(message: impl Into<String>) -> AppError {
        AppError::Usage(message.into())
    }

    /// The exit code a command that failed with this error gives.
    pub fn exit_code(&self) -> u8 {
        match self {
            #[cfg(feature = "runtime")]
            AppError::Bench(wasm_migrate_measure::BenchError::Interrupted) => {
                crate::exit::INTERRUPTED
            }
            #[cfg(feature = "runtime")]
            AppError::Bench(wasm_migrate_measure::BenchError::Side { .. }) => crate::exit::FAILED,
            _ => crate::exit::ERROR,
        }
    }
}
