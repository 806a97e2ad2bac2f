//! `convert`: the model converted with the service's own Python, then (with the runtime) the
//! original's HTTP API recorded.

use std::path::PathBuf;

use serde::Serialize;
use wasm_migrate_codegen as codegen;
use wasm_migrate_plan::ConvertedModel;

use crate::progress::phase;
use crate::{Progress, Result};

#[derive(Debug, Clone, Default)]
pub struct ConvertOptions {
    pub service: PathBuf,
    /// The generated crate (default: SERVICE/migrated).
    pub out: Option<PathBuf>,
    /// The interpreter with the service's frameworks installed.
    pub python: Option<PathBuf>,
    /// Call the original to record its HTTP API (the plan's `http` section).
    pub record_api: bool,
}

/// What `convert` recorded in the plan.
#[derive(Debug, Serialize)]
pub struct Converted {
    pub schema: &'static str,
    #[serde(flatten)]
    pub model: ConvertedModel,
    /// The HTTP API, when it was asked for and the build has the runtime to observe it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<Recorded>,
}

#[cfg(feature = "runtime")]
pub use crate::record::Recorded;

/// Without the embedded runtime the API is not observed; the type still names the field.
#[cfg(not(feature = "runtime"))]
#[derive(Debug, Serialize)]
pub struct Recorded {}

pub fn convert(options: &ConvertOptions, progress: &dyn Progress) -> Result<Converted> {
    let model = phase(
        progress,
        "converting the model with the service's Python",
        || {
            codegen::convert(
                &options.service,
                options.out.as_deref(),
                options.python.as_deref(),
            )
        },
    )?;
    #[cfg(feature = "runtime")]
    let http = match options.record_api {
        true => Some(crate::record::record_api(options, progress)?),
        false => None,
    };
    #[cfg(not(feature = "runtime"))]
    let http = None;
    Ok(Converted {
        schema: "wasm-migrate.convert/1",
        model,
        http,
    })
}
