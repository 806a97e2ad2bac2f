//! `assets/api.json`: the HTTP API the glue's server mode serves, from the plan's `http`
//! section (observed by `convert` from the original), else from the entry point alone.

use wasm_migrate_plan::{
    DEFAULT_MAX_BODY_BYTES, HttpPlan, HttpRequestShape, HttpRoute, InputKind, MigrationPlan,
};

/// The API the module serves.
pub fn api_for(plan: &MigrationPlan) -> HttpPlan {
    if let Some(http) = &plan.http {
        return http.clone();
    }
    let entry = plan.service.entrypoint.as_ref();
    let method = entry
        .and_then(|e| e.methods.first().cloned())
        .unwrap_or_else(|| "POST".into());
    let path = entry
        .and_then(|e| e.route.clone())
        .unwrap_or_else(|| "/predict".into());
    let request = match plan.input.as_ref().map(|i| i.kind) {
        Some(InputKind::Text) => HttpRequestShape {
            kind: "json".into(),
            field: Some("text".into()),
        },
        // The first file in the form: the field name is not known until `convert` sees the
        // original answer.
        Some(InputKind::Image) => HttpRequestShape {
            kind: "multipart".into(),
            field: None,
        },
        _ => HttpRequestShape {
            kind: "raw".into(),
            field: None,
        },
    };
    HttpPlan {
        routes: vec![HttpRoute {
            method,
            path,
            request,
            response: None,
            missing_field: None,
            not_decodable: None,
        }],
        health: None,
        not_found: None,
        method_not_allowed: None,
        max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        too_large: None,
    }
}

pub fn api_json(plan: &MigrationPlan) -> String {
    serde_json::to_string_pretty(&api_for(plan)).expect("serialisable") + "\n"
}
