//! `assets/api.json`: the HTTP API the glue's server mode serves, from the plan's `http`
//! section (observed by `convert` from the original), else from the entry point alone.

use wasm_migrate_plan::{
    DEFAULT_MAX_BODY_BYTES, HttpMethod, HttpPlan, HttpRequestShape, HttpRoute, InputKind,
    MigrationPlan, RequestKind,
};

/// The API the module serves.
pub fn api_for(plan: &MigrationPlan) -> HttpPlan {
    if let Some(http) = &plan.http {
        return http.clone();
    }
    let entry = plan.service.entrypoint.as_ref();
    let method = entry
        .and_then(|e| e.input_method())
        .unwrap_or(HttpMethod::Post);
    let path = entry
        .and_then(|e| e.route.clone())
        .unwrap_or_else(|| "/predict".into());
    let request = match plan.input.as_ref().map(|i| i.kind) {
        Some(InputKind::Text) => HttpRequestShape {
            kind: RequestKind::Json,
            field: Some("text".into()),
            raw_fallback: false,
            encoding: None,
        },
        // The first file in the form: the field name is not known until `convert` sees the
        // original answer.
        Some(InputKind::Image) => HttpRequestShape {
            kind: RequestKind::Multipart,
            field: None,
            raw_fallback: false,
            encoding: None,
        },
        _ => HttpRequestShape {
            kind: RequestKind::Raw,
            field: None,
            raw_fallback: false,
            encoding: None,
        },
    };
    HttpPlan {
        routes: vec![HttpRoute {
            method,
            path,
            request,
            response: None,
            trailer: String::new(),
            encoding: Default::default(),
            missing_field: None,
            not_decodable: None,
        }],
        health: None,
        not_found: None,
        method_not_allowed: None,
        max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        too_large: None,
        labels: Vec::new(),
        fixed: Vec::new(),
        not_migrated: Vec::new(),
    }
}

pub fn api_json(plan: &MigrationPlan) -> String {
    serde_json::to_string_pretty(&api_for(plan)).expect("serialisable") + "\n"
}

/// A `curl` line a user can paste to call the first route.
pub fn curl_example(api: &HttpPlan, port: u16) -> String {
    let Some(route) = api.routes.first() else {
        return format!("curl http://localhost:{port}/");
    };
    let url = format!("http://localhost:{port}{}", route.path);
    let field = route.request.field.as_deref().unwrap_or("file");
    match route.request.kind {
        RequestKind::Json => format!(
            "curl -H 'content-type: application/json' -d '{{\"{field}\": \"great service\"}}' {url}"
        ),
        RequestKind::Multipart => format!("curl -F {field}=@photo.jpg {url}"),
        RequestKind::Raw => format!("curl --data-binary @photo.jpg {url}"),
    }
}

/// `POST /predict (form field image), health GET /health`.
pub fn route_line(api: &HttpPlan) -> String {
    let mut parts: Vec<String> = api
        .routes
        .iter()
        .map(|r| {
            let how = match (r.request.kind, &r.request.field) {
                (RequestKind::Multipart, Some(f)) => format!("form field `{f}`"),
                (RequestKind::Multipart, None) => "a file in a form".to_string(),
                (RequestKind::Json, Some(f)) => format!("JSON key `{f}`"),
                _ => "the body".to_string(),
            };
            format!("`{} {}` with {how}", r.method, r.path)
        })
        .collect();
    if let Some(health) = &api.health {
        parts.push(format!("health `{} {}`", health.method, health.path));
    }
    parts.join(", ")
}
