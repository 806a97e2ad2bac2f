//! The command layer of wasm-migrate: one function per command, a plain options struct in and
//! a typed report out, each report carrying its own schema id.
//!
//! The CLI (`cli/`) parses arguments into these options and prints the reports; the Python
//! binding (`python/`) converts keyword arguments into them and wraps the reports. What a
//! command *does* — which migration path a service takes, what a default is, which exit code a
//! result gives — is decided here, once, so a notebook gets exactly what the command line gets.

pub mod artifact;
pub mod build;
pub mod convert;
mod error;
pub mod exit;
pub mod generate;
pub mod inspect;
pub mod interrupt;
pub mod package;
mod progress;
pub mod python;
pub mod services;

#[cfg(feature = "runtime")]
pub mod bench;
#[cfg(feature = "runtime")]
pub mod bundle_host;
#[cfg(feature = "runtime")]
pub mod migrate;
#[cfg(feature = "runtime")]
pub mod record;
#[cfg(feature = "runtime")]
pub mod run;
#[cfg(feature = "runtime")]
pub mod verify;

pub use artifact::{Artifact, Route};
pub use error::AppError;
pub use interrupt::Interrupt;
pub use progress::{Progress, Silent};

/// The analyzer's options as every front end runs it: the plan it writes is checked by
/// `generate`'s own dry run, so what `analyze` calls ready `generate` accepts.
pub fn analysis(options: wasm_migrate_analyzer::Options) -> wasm_migrate_analyzer::Options {
    wasm_migrate_analyzer::Options {
        plan_check: Some(std::sync::Arc::new(
            wasm_migrate_codegen::GlueCheck::default(),
        )),
        ..options
    }
}

/// The result of every command.
pub type Result<T, E = AppError> = std::result::Result<T, E>;
