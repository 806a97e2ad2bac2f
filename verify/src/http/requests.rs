//! What `verify --http` sends: the inputs on the inference route, then the health route and
//! the bad requests whose answers the original recorded.

use std::path::{Path, PathBuf};

use wasm_migrate_plan::{
    FieldEncoding, HttpMethod, HttpPlan, InputKind, MigrationPlan, RequestKind,
};

use super::{ExchangeKind, NO_SUCH_PATH};
use crate::error::{VerifyError, io};
use crate::{Progress, VerifyOptions};

/// What to request, before it is sent.
pub struct Request {
    pub kind: ExchangeKind,
    pub describe: String,
    pub method: String,
    pub path: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// Sent to the module only: the original has no such limit to compare with.
    pub module_only: bool,
    /// Fields of the answer that report time: any number there agrees.
    pub time_paths: Vec<String>,
}

/// The inputs: the user's, else photographs (or texts) made with the service's Python.
pub fn request_inputs(
    options: &VerifyOptions,
    plan: &MigrationPlan,
    python: &Path,
    work: &Path,
    progress: &dyn Fn(Progress),
) -> Result<Vec<PathBuf>, VerifyError> {
    if !options.inputs.is_empty() {
        return Ok(crate::inputs::collect(&options.inputs, plan)?
            .into_iter()
            .map(|i| PathBuf::from(i.path))
            .collect());
    }
    progress(Progress::Phase(format!("making {} inputs", options.count)));
    let kind = crate::original::inputs_kind(plan)?;
    let dir = work.join("inputs");
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    Ok(crate::original::make_inputs(python, work, options.count, &dir, &kind)?.1)
}

/// An array input (`.npy`, or a `.json` file of numbers) as the JSON numbers a client sends.
fn array_json(path: &Path, bytes: &[u8]) -> Result<serde_json::Value, VerifyError> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        return serde_json::from_slice(bytes).map_err(|e| VerifyError::BadInput {
            path: path.to_path_buf(),
            reason: format!("not JSON: {e}"),
        });
    }
    let tensor = crate::tensor_file::parse_npy(path, bytes)?;
    Ok(nested(&tensor.shape, &tensor.data))
}

/// Values in row-major order as nested JSON lists of `shape`.
fn nested(shape: &[usize], values: &[f32]) -> serde_json::Value {
    match shape.split_first() {
        None => values
            .first()
            .map_or(serde_json::Value::Null, |&v| serde_json::Value::from(v)),
        Some((&len, rest)) => {
            let step = rest.iter().product::<usize>();
            serde_json::Value::Array(
                (0..len)
                    .map(|i| nested(rest, &values[i * step..(i + 1) * step]))
                    .collect(),
            )
        }
    }
}

/// Every request: the inputs on the inference route, then the health route and bad requests.
pub fn requests(
    http: &HttpPlan,
    plan: &MigrationPlan,
    inputs: &[PathBuf],
) -> Result<Vec<Request>, VerifyError> {
    let route = http
        .routes
        .first()
        .ok_or_else(|| VerifyError::Usage("the plan's http section has no route".into()))?;
    let field = route.request.field.clone().unwrap_or_else(|| "file".into());
    let text = plan.input.as_ref().map(|i| i.kind) == Some(InputKind::Text);
    // A JSON route's value under its field (the whole body without one).
    let json_body = |value: serde_json::Value| -> (Option<String>, Vec<u8>) {
        let body = match &route.request.field {
            Some(field) => serde_json::json!({ field.clone(): value }),
            None => value,
        };
        (
            Some("application/json".into()),
            body.to_string().into_bytes(),
        )
    };
    let body_of = |bytes: Vec<u8>, name: &str| -> (Option<String>, Vec<u8>) {
        match route.request.kind {
            RequestKind::Json => {
                json_body(serde_json::Value::String(match route.request.encoding {
                    Some(encoding) => encoded_file(encoding, name, &bytes),
                    None => String::from_utf8_lossy(&bytes).into_owned(),
                }))
            }
            RequestKind::Multipart => multipart(&field, name, &bytes),
            RequestKind::Raw => (Some("application/octet-stream".into()), bytes),
        }
    };
    let on_route = |kind: ExchangeKind,
                    describe: String,
                    (content_type, body): (Option<String>, Vec<u8>)| Request {
        kind,
        describe: format!("{} {} {describe}", route.method, route.path),
        method: route.method.to_string(),
        path: route.path.clone(),
        content_type,
        body,
        module_only: false,
        time_paths: Vec::new(),
    };
    let time_paths = route
        .response
        .as_ref()
        .map(crate::api::time_paths)
        .unwrap_or_default();
    let mut requests = Vec::new();
    for input in inputs {
        let bytes = std::fs::read(input).map_err(io(input))?;
        let name = input
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        // An array input goes as the JSON numbers a client sends.
        let body = match (route.request.kind, text) {
            (RequestKind::Json, false) if route.request.encoding.is_none() => {
                json_body(array_json(input, &bytes)?)
            }
            _ => body_of(bytes, &name),
        };
        let mut request = on_route(ExchangeKind::Input, format!("{field}={name}"), body);
        request.time_paths = time_paths.clone();
        requests.push(request);
    }
    if route.request.raw_fallback
        && let Some(input) = inputs.first()
    {
        let bytes = std::fs::read(input).map_err(io(input))?;
        let name = input.file_name().unwrap_or_default().to_string_lossy();
        requests.push(on_route(
            ExchangeKind::Input,
            format!("<{name} as the body>"),
            (Some("application/octet-stream".into()), bytes),
        ));
    }
    // Every other route (`/predictions/{model}/{version}`, a second upload route): the first
    // input once on each, in the form that route takes.
    if let Some(input) = inputs.first() {
        let bytes = std::fs::read(input).map_err(io(input))?;
        let name = input.file_name().unwrap_or_default().to_string_lossy();
        for other in &http.routes[1..] {
            let (content_type, body) = match (&other.request, other.request == route.request) {
                (_, true) => body_of(bytes.clone(), &name),
                (shape, false) if shape.kind == RequestKind::Multipart => {
                    multipart(shape.field.as_deref().unwrap_or("file"), &name, &bytes)
                }
                _ => continue,
            };
            let other_field = other.request.field.as_deref().unwrap_or("file");
            requests.push(Request {
                kind: ExchangeKind::Input,
                describe: format!("{} {} {other_field}={name}", other.method, other.path),
                method: other.method.to_string(),
                path: other.path.clone(),
                content_type,
                body,
                module_only: false,
                time_paths: other
                    .response
                    .as_ref()
                    .map(crate::api::time_paths)
                    .unwrap_or_default(),
            });
        }
    }
    for fixed in &http.fixed {
        requests.push(Request {
            kind: ExchangeKind::Fixed,
            describe: format!("{} {}", fixed.method, fixed.path),
            method: fixed.method.to_string(),
            path: fixed.path.clone(),
            content_type: None,
            body: Vec::new(),
            module_only: false,
            time_paths: Vec::new(),
        });
    }
    if let Some(health) = &http.health {
        requests.push(Request {
            kind: ExchangeKind::Health,
            describe: format!("{} {}", health.method, health.path),
            method: health.method.to_string(),
            path: health.path.clone(),
            content_type: None,
            body: Vec::new(),
            module_only: false,
            time_paths: Vec::new(),
        });
    }
    let missing = match route.request.kind {
        RequestKind::Json => (Some("application/json".into()), b"{}".to_vec()),
        RequestKind::Multipart => multipart("wasm_migrate_other", "other.txt", b"x"),
        RequestKind::Raw => (Some("application/octet-stream".into()), Vec::new()),
    };
    requests.push(on_route(
        ExchangeKind::MissingField,
        "without the field".into(),
        missing,
    ));
    // What a JSON route of numbers or text cannot decode is not recorded (the harness sends
    // no such probe); a file in a JSON string can be one that is not an image.
    if route.request.kind != RequestKind::Json || route.request.encoding.is_some() {
        requests.push(on_route(
            ExchangeKind::NotDecodable,
            format!("{field}=not-an-image.jpg"),
            body_of(b"this is not an image".to_vec(), "not-an-image.jpg"),
        ));
    }
    requests.push(Request {
        kind: ExchangeKind::NotFound,
        describe: format!("GET {NO_SUCH_PATH}"),
        method: "GET".into(),
        path: NO_SUCH_PATH.into(),
        content_type: None,
        body: Vec::new(),
        module_only: false,
        time_paths: Vec::new(),
    });
    if route.method != HttpMethod::Get {
        requests.push(Request {
            kind: ExchangeKind::WrongMethod,
            describe: format!("GET {}", route.path),
            method: "GET".into(),
            path: route.path.clone(),
            content_type: None,
            body: Vec::new(),
            module_only: false,
            time_paths: Vec::new(),
        });
    }
    // The original's own limit is compared; without one, the module's is checked alone.
    let limit = http.max_body_bytes;
    let mut oversized = on_route(
        ExchangeKind::TooLarge,
        format!("{field}=<{} bytes>", limit + 1),
        body_of(vec![0u8; limit as usize + 1], "large.jpg"),
    );
    oversized.module_only = http.too_large.is_none();
    requests.push(oversized);
    Ok(requests)
}

/// A `multipart/form-data` body with one file field.
/// A file as a JSON route's string holds it: base64, or a data URL of the file's type.
pub fn encoded_file(encoding: FieldEncoding, file_name: &str, bytes: &[u8]) -> String {
    use base64::Engine;
    let base64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    match encoding {
        FieldEncoding::Base64 => base64,
        FieldEncoding::DataUrl => {
            let png = file_name.to_ascii_lowercase().ends_with(".png");
            let media = if png { "image/png" } else { "image/jpeg" };
            format!("data:{media};base64,{base64}")
        }
    }
}

fn multipart(field: &str, file_name: &str, bytes: &[u8]) -> (Option<String>, Vec<u8>) {
    let boundary = "wasm-migrate-boundary-7d1f3c2b9a";
    let mut body = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\n\
         content-type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (
        Some(format!("multipart/form-data; boundary={boundary}")),
        body,
    )
}
