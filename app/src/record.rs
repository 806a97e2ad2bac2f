//! `convert`'s last step: the original's HTTP API, observed and recorded in the plan and in the
//! generated crate's `assets/api.json`.

use serde::Serialize;
use wasm_migrate_codegen as codegen;
use wasm_migrate_plan::LoadedPlan;
use wasm_migrate_verify::api::{ObserveContext, observe_api};

use crate::convert::ConvertOptions;
use crate::progress::phase;
use crate::{AppError, Progress, Result};

/// What was recorded, for the report.
#[derive(Debug, Serialize)]
pub struct Recorded {
    pub routes: Vec<String>,
    pub health: Option<String>,
    /// Whether the response body is rebuilt like the original's.
    pub response_rebuilt: bool,
    pub warnings: Vec<String>,
    /// Why nothing was recorded, when nothing was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// Calls the original, records its API in the plan and in the crate's `assets/api.json`.
/// An API that cannot be observed (a TorchServe handler, a script) is `skipped`, not an error:
/// the model is converted either way.
pub fn record_api(options: &ConvertOptions, progress: &dyn Progress) -> Result<Recorded> {
    let service = options.service.as_path();
    let mut loaded = LoadedPlan::load(service)?;
    let labels = codegen::glue_labels(service);
    let python = codegen::find_python(service, options.python.as_deref());
    let work = tempfile::tempdir().map_err(|source| AppError::Io {
        what: "cannot create a scratch directory".into(),
        source,
    })?;
    let observed = phase(
        progress,
        "calling the original to record its HTTP API",
        || {
            observe_api(&ObserveContext {
                python: &python,
                service,
                plan: &loaded.plan,
                work: work.path(),
                labels: &labels,
            })
        },
    );
    let observed = match observed {
        Ok(observed) => observed,
        Err(e) => {
            return Ok(Recorded {
                routes: Vec::new(),
                health: None,
                response_rebuilt: false,
                warnings: Vec::new(),
                skipped: Some(e.to_string()),
            });
        }
    };
    let http = observed.http;
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| codegen::default_out(service));
    let mut warnings = observed.warnings;
    let recorded = Recorded {
        routes: http
            .routes
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect(),
        health: http
            .health
            .as_ref()
            .map(|h| format!("{} {}", h.method, h.path)),
        response_rebuilt: http.routes.iter().all(|r| r.response.is_some()),
        warnings: Vec::new(),
        skipped: None,
    };
    let previous = loaded.text.clone();
    loaded.plan.http = Some(http);
    loaded.save()?;
    // assets/api.json, the README and the deploy files show the API just recorded.
    let refreshed = codegen::refresh_api_files(service, &out, &previous).map_err(|e| {
        AppError::Failed(format!(
            "cannot update the API files in {}: {e}",
            out.display()
        ))
    })?;
    warnings.extend(refreshed);
    Ok(Recorded {
        warnings,
        ..recorded
    })
}
