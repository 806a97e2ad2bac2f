use std::path::PathBuf;

use thiserror::Error;
use wasm_migrate_verify::VerifyError;

#[derive(Debug, Error)]
pub enum BenchError {
    /// The service, its plan or its build is not ready (verify's errors say which).
    #[error(transparent)]
    Verify(#[from] VerifyError),

    #[error("{0}")]
    Usage(String),

    /// One side could not start or stopped answering.
    #[error("the {side} side: {message}")]
    Side { side: String, message: String },

    #[error("interrupted: every server bench started has been stopped")]
    Interrupted,

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> BenchError + '_ {
    move |source| BenchError::Io {
        path: path.to_path_buf(),
        source,
    }
}
