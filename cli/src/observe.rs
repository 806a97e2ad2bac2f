//! `convert`'s last step: the original's HTTP API, observed and recorded in the plan and in the
//! generated crate's `assets/api.json`.

use serde::Serialize;

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

impl Recorded {
    pub fn print(&self) {
        if let Some(why) = &self.skipped {
            println!("http         not recorded: {why}");
            return;
        }
        println!(
            "http         {}{}; response {}",
            self.routes.join(", "),
            self.health
                .as_ref()
                .map(|h| format!(", health {h}"))
                .unwrap_or_default(),
            if self.response_rebuilt {
                "rebuilt like the original's"
            } else {
                "as the module's own JSON"
            }
        );
        for warning in &self.warnings {
            println!("             warning: {warning}");
        }
    }
}

/// Calls the original, records its API in the plan and in the crate's `assets/api.json`.
/// An API that cannot be observed (a TorchServe handler, a script) is `skipped`, not an error.
#[cfg(feature = "runtime")]
pub fn record_api(
    service: &std::path::Path,
    out: Option<&std::path::Path>,
    python: Option<&std::path::Path>,
) -> anyhow::Result<Recorded> {
    use anyhow::Context;
    use wasm_migrate_codegen as codegen;
    use wasm_migrate_plan::LoadedPlan;
    use wasm_migrate_verify::api::{ObserveContext, observe_api};

    let mut loaded = LoadedPlan::load(service)?;
    let labels = codegen::glue_labels(service);
    let python = codegen::find_python(service, python);
    let work = tempfile::tempdir().context("cannot create a scratch directory")?;
    let spinner = crate::progress::spinner("calling the original to record its HTTP API");
    let observed = observe_api(&ObserveContext {
        python: &python,
        service,
        plan: &loaded.plan,
        work: work.path(),
        labels: &labels,
    });
    spinner.finish_and_clear();
    let observed = match observed {
        Ok(observed) => observed,
        // The model is converted either way: say why the API is not recorded, and go on.
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
    let out = out.map_or_else(
        || codegen::default_out(service),
        std::path::Path::to_path_buf,
    );
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
    warnings.extend(
        codegen::refresh_api_files(service, &out, &previous)
            .with_context(|| format!("cannot update the API files in {}", out.display()))?,
    );
    Ok(Recorded {
        warnings,
        ..recorded
    })
}
