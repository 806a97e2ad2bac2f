//! The original's HTTP API as its clients see it, observed by calling it (`convert` records it
//! in the plan's `http` section; the glue's server mode serves it): the route and the request
//! field, the health route, the answers to bad requests, and the response body as a template
//! over the model's output, inferred from what the original answered and checked by rendering
//! it with the glue's own code (`templates/glue/respond.rs`) against every observation.

use std::path::Path;
use wasm_migrate_plan::KnownOp;

use serde_json::{Map, Value, json};
use wasm_migrate_plan::{
    DEFAULT_MAX_BODY_BYTES, HttpAnswer, HttpFixedRoute, HttpMethod, HttpPlan, HttpRequestShape,
    HttpRoute, MigrationPlan, NotMigratedRoute, RequestKind,
};

use crate::error::VerifyError;
use crate::original;

#[path = "../../templates/glue/respond.rs"]
#[allow(dead_code)]
mod respond;

/// Photographs (or texts) the original answers while being observed.
const OBSERVED_INPUTS: usize = 3;

pub struct ObserveContext<'a> {
    pub python: &'a Path,
    pub service: &'a Path,
    pub plan: &'a MigrationPlan,
    /// A scratch directory.
    pub work: &'a Path,
    /// The labels the glue embeds (the plan's label file, or the model config's id2label).
    pub labels: &'a [String],
}

pub struct ObservedApi {
    pub http: HttpPlan,
    /// What could not be observed or rebuilt, for the user.
    pub warnings: Vec<String>,
}

/// Calls the original on a few inputs and on bad requests, and describes its API.
pub fn observe_api(cx: &ObserveContext) -> Result<ObservedApi, VerifyError> {
    let dir = cx.work.join("api-inputs");
    std::fs::create_dir_all(&dir).map_err(crate::error::io(&dir))?;
    let kind = original::inputs_kind(cx.plan)?;
    let (_, paths) = original::make_inputs(cx.python, cx.work, OBSERVED_INPUTS, &dir, &kind)?;
    let reference = original::run_reference(
        &original::ReferenceRun {
            python: cx.python,
            service: cx.service,
            plan: cx.plan,
            inputs: &paths,
            work: cx.work,
            model: None,
            observe_api: true,
        },
        &|_, _| {},
    )?;
    let Some(api) = reference.summary.api.clone() else {
        return Err(VerifyError::Usage(
            "the entry point is not a Flask or FastAPI route, so it has no HTTP API to observe"
                .into(),
        ));
    };
    let mut warnings = Vec::new();
    let mut observations = Vec::new();
    for (index, result) in reference.summary.results.iter().enumerate() {
        let logits = reference
            .recorded(index)?
            .and_then(|r| r.outputs.first().cloned());
        match (result.status, logits) {
            (Some(200), Some(logits)) => observations.push(Observation {
                response: result.response.clone(),
                logits: logits.data,
                filename: Path::new(&result.input)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned()),
            }),
            (status, _) => warnings.push(format!(
                "{}: the original answered {} ({}); it is not used to learn the response",
                result.input,
                status.map_or("nothing".into(), |s| format!("HTTP {s}")),
                result
                    .error
                    .as_deref()
                    .unwrap_or("no model output recorded")
            )),
        }
    }
    let softmax = cx
        .plan
        .postprocessing
        .iter()
        .any(|s| s.is(KnownOp::Softmax));
    // Without a label file, the class names the harness found in the service's code.
    let found: Vec<String> = match cx.labels.is_empty() {
        true => api["labels"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|l| l.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        false => Vec::new(),
    };
    let labels = if found.is_empty() {
        cx.labels
    } else {
        &found[..]
    };
    let response = match infer_response(&observations, labels, softmax) {
        Ok(template) => Some(template),
        Err(why) => {
            warnings.push(format!(
                "the response body could not be rebuilt from the model's output ({why}); the module \
                 answers its own JSON (outputs and top-k) instead"
            ));
            None
        }
    };
    let mut http = http_plan(&api, response);
    other_routes(&api, labels, softmax, &mut http);
    http.labels = found;
    // What the original wrote after its JSON (every answer of one server ends alike).
    let trailer = reference
        .summary
        .results
        .iter()
        .find(|r| r.status == Some(200) && r.response.get("$text").is_none())
        .map(|r| r.trailer.clone());
    if let Some(trailer) = trailer {
        for route in &mut http.routes {
            route.trailer = trailer.clone();
        }
    }
    Ok(ObservedApi { http, warnings })
}

fn answer(value: &Value) -> Option<HttpAnswer> {
    Some(HttpAnswer {
        status: u16::try_from(value.get("status")?.as_u64()?).ok()?,
        content_type: value["content_type"].as_str().unwrap_or("").to_string(),
        body: value["body"].as_str().unwrap_or("").to_string(),
    })
}

/// The plan's `http` section from the harness's probes.
fn http_plan(api: &Value, response: Option<Value>) -> HttpPlan {
    let route = &api["route"];
    let request = &route["request"];
    // An answer that succeeded to a bad request says nothing about errors.
    let error_answer = |key: &str| answer(&api[key]).filter(|a| a.status >= 400);
    let first = HttpRoute {
        method: route["method"]
            .as_str()
            .and_then(|m| m.parse().ok())
            .unwrap_or(HttpMethod::Post),
        path: route["path"].as_str().unwrap_or("/").to_string(),
        request: HttpRequestShape {
            kind: request["kind"]
                .as_str()
                .and_then(|k| k.parse().ok())
                .unwrap_or(RequestKind::Multipart),
            field: request["field"].as_str().map(str::to_string),
            raw_fallback: request["raw_fallback"].as_bool().unwrap_or(false),
            encoding: request["encoding"].as_str().and_then(|e| e.parse().ok()),
        },
        response,
        trailer: String::new(),
        encoding: route["encoding"]
            .as_str()
            .and_then(|e| e.parse().ok())
            .unwrap_or_default(),
        missing_field: error_answer("missing_field"),
        not_decodable: error_answer("not_decodable"),
    };
    // Other paths to the same route (TorchServe's `/predictions/{model}/{version}`).
    let also = route["also_paths"].as_array().into_iter().flatten();
    let routes = std::iter::once(first.clone())
        .chain(also.filter_map(Value::as_str).map(|path| HttpRoute {
            path: path.to_string(),
            ..first.clone()
        }))
        .collect();
    HttpPlan {
        routes,
        health: api.get("health").and_then(|h| {
            Some(HttpFixedRoute {
                method: h["method"].as_str()?.parse().ok()?,
                path: h["path"].as_str()?.to_string(),
                answer: answer(&h["answer"])?,
            })
        }),
        not_found: error_answer("not_found"),
        method_not_allowed: error_answer("method_not_allowed"),
        max_body_bytes: api["max_body_bytes"]
            .as_u64()
            .unwrap_or(DEFAULT_MAX_BODY_BYTES),
        too_large: None,
        labels: Vec::new(),
        fixed: api["fixed"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| {
                Some(HttpFixedRoute {
                    method: f["method"].as_str()?.parse().ok()?,
                    path: f["path"].as_str()?.to_string(),
                    answer: answer(&f["answer"])?,
                })
            })
            .collect(),
        not_migrated: not_migrated(&api["not_migrated"]),
    }
}

fn not_migrated(listed: &Value) -> Vec<NotMigratedRoute> {
    listed
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some(NotMigratedRoute {
                method: r["method"].as_str()?.parse().ok()?,
                path: r["path"].as_str()?.to_string(),
                reason: r["reason"].as_str()?.to_string(),
            })
        })
        .collect()
}

/// The app's other inference routes, each with the response template learned from its own
/// answers; one whose answers cannot be rebuilt from the model's output is not migrated.
fn other_routes(api: &Value, labels: &[String], softmax: bool, http: &mut HttpPlan) {
    for route in api["other_routes"].as_array().into_iter().flatten() {
        let (Some(method), Some(path)) = (
            route["method"].as_str().and_then(|m| m.parse().ok()),
            route["path"].as_str(),
        ) else {
            continue;
        };
        let observations: Vec<Observation> = route["observations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|o| o["status"] == 200)
            .map(|o| Observation {
                response: o["response"].clone(),
                logits: o["outputs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x.as_f64().map(|x| x as f32))
                    .collect(),
                filename: o["input"]
                    .as_str()
                    .and_then(|p| Path::new(p).file_name())
                    .map(|n| n.to_string_lossy().into_owned()),
            })
            .collect();
        match infer_response(&observations, labels, softmax) {
            Ok(template) => http.routes.push(HttpRoute {
                method,
                path: path.to_string(),
                request: HttpRequestShape {
                    kind: RequestKind::Multipart,
                    field: route["request"]["field"].as_str().map(str::to_string),
                    raw_fallback: false,
                    encoding: None,
                },
                response: Some(template),
                trailer: route["trailer"].as_str().unwrap_or_default().to_string(),
                encoding: Default::default(),
                missing_field: None,
                not_decodable: None,
            }),
            Err(why) => http.not_migrated.push(NotMigratedRoute {
                method,
                path: path.to_string(),
                reason: format!("its answer could not be rebuilt from the model's output: {why}"),
            }),
        }
    }
}

/// The model's output as the response template sees it.
struct Output<'a> {
    logits: &'a [f32],
    scores: Vec<f32>,
    ranked: Vec<usize>,
    labels: &'a [String],
    filename: Option<&'a str>,
}

/// One answer of the original: its body, the model's output behind it, the upload's name.
pub struct Observation {
    pub response: Value,
    pub logits: Vec<f32>,
    pub filename: Option<String>,
}

/// A response template that renders every observed response from its model output.
pub fn infer_response(
    observations: &[Observation],
    labels: &[String],
    softmax: bool,
) -> Result<Value, String> {
    let first = observations
        .first()
        .ok_or("the original answered no request with the model's output")?;
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    let learn = |o: &Observation| {
        let mut output = output(&o.logits, softmax, labels, &label_refs);
        output.filename = o.filename.as_deref();
        infer(&o.response, &output, output.ranked[0])
    };
    // Learned from every observation and unified: a score that happens to end in 0 says less
    // about its rounding than the others do.
    let template = observations
        .iter()
        .skip(1)
        .try_fold(learn(first), |t, o| unify(&t, &learn(o)))
        .map(|t| finish(&t))
        .unwrap_or_else(|| finish(&learn(first)));
    if !has_placeholder(&template) {
        return Err(
            "no part of the response is the model's output (labels, indices or scores)".into(),
        );
    }
    for o in observations {
        let rendered = respond::Classes {
            filename: o.filename.as_deref(),
            ..respond::Classes::new(&o.logits, softmax, &label_refs)
        }
        .render(&template)?;
        if let Some(path) = first_difference(&o.response, &rendered, "") {
            return Err(format!(
                "`{path}` is not rebuilt from the model's output alike for every input"
            ));
        }
    }
    Ok(template)
}

fn output<'a>(
    logits: &'a [f32],
    softmax: bool,
    labels: &'a [String],
    refs: &'a [&'a str],
) -> Output<'a> {
    let classes = respond::Classes::new(logits, softmax, refs);
    Output {
        logits,
        scores: classes.scores,
        ranked: classes.ranked,
        labels,
        filename: None,
    }
}

fn has_placeholder(template: &Value) -> bool {
    match template {
        Value::Object(map) => {
            map.contains_key("$") || map.contains_key("$each") || map.values().any(has_placeholder)
        }
        Value::Array(items) => items.iter().any(has_placeholder),
        _ => false,
    }
}

/// Digits of Python's `round(x, digits)` that turn `exact` into `observed`: `Some(None)` when
/// it is not rounded, else the range of digit counts that all give it (`0.17529` is
/// `0.1752904` rounded to 5 or 6 digits).
fn rounding(observed: f64, exact: f32) -> Option<Option<(u64, u64)>> {
    let exact = f64::from(exact);
    if observed == exact {
        return Some(None);
    }
    let digits: Vec<u64> = (1..=12u64)
        .filter(|&n| format!("{exact:.*}", n as usize).parse::<f64>().ok() == Some(observed))
        .collect();
    match (digits.first(), digits.last()) {
        (Some(&lo), Some(&hi)) => Some(Some((lo, hi))),
        // Computed another way (in float64, say): the same number, not rounded.
        _ => ((observed - exact).abs() <= 1e-5 * exact.abs().max(1e-12)).then_some(None),
    }
}

/// While learning, a rounding is a range (`round_digits: [lo, hi]`); `finish` picks one.
fn placeholder(name: &str, round: Option<(u64, u64)>) -> Value {
    match round {
        Some((lo, hi)) => json!({"$": name, "round_digits": [lo, hi]}),
        None => json!({"$": name}),
    }
}

/// One template that both describe, or `None`: equal, except that roundings intersect.
fn unify(a: &Value, b: &Value) -> Option<Value> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            if x.len() != y.len() {
                return None;
            }
            let mut merged = Map::new();
            for (k, v) in x {
                let w = y.get(k)?;
                let value = match k.as_str() {
                    "round_digits" => {
                        let range = |v: &Value| Some((v.get(0)?.as_u64()?, v.get(1)?.as_u64()?));
                        let ((lo1, hi1), (lo2, hi2)) = (range(v)?, range(w)?);
                        let (lo, hi) = (lo1.max(lo2), hi1.min(hi2));
                        if lo > hi {
                            return None;
                        }
                        json!([lo, hi])
                    }
                    _ => unify(v, w)?,
                };
                merged.insert(k.clone(), value);
            }
            Some(Value::Object(merged))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .map(|(v, w)| unify(v, w))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        (x, y) => (x == y).then(|| x.clone()),
    }
}

/// The template the glue reads: each rounding range becomes its largest digit count.
fn finish(template: &Value) -> Value {
    match template {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match k.as_str() {
                    "round_digits" => (
                        "round".to_string(),
                        v.get(1).cloned().unwrap_or(Value::Null),
                    ),
                    _ => (k.clone(), finish(v)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(finish).collect()),
        other => other.clone(),
    }
}

/// The template of one value of the response, for class `current`.
fn infer(value: &Value, out: &Output, current: usize) -> Value {
    match value {
        Value::String(s) if out.filename == Some(s.as_str()) => json!({"$": "filename"}),
        Value::String(s) if out.labels.get(current) == Some(s) => json!({"$": "label"}),
        // `str(np.argmax(...))` without labels: what the label placeholder renders then.
        Value::String(s) if out.labels.is_empty() && *s == current.to_string() => {
            json!({"$": "label"})
        }
        Value::Number(n) if n.as_u64() == Some(current as u64) && n.is_u64() => {
            json!({"$": "index"})
        }
        Value::Number(n) if !n.is_u64() && !n.is_i64() => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            [("score", &out.scores[..]), ("logit", out.logits)]
                .iter()
                .find_map(|(name, values)| {
                    rounding(x, *values.get(current)?).map(|r| placeholder(name, r))
                })
                .unwrap_or_else(|| value.clone())
        }
        Value::Array(items) => infer_array(items, out, current),
        Value::Object(map) => infer_object(map, out, current),
        literal => literal.clone(),
    }
}

fn infer_array(items: &[Value], out: &Output, current: usize) -> Value {
    let n = out.scores.len();
    // Every class's score or output, in index order.
    if items.len() == n && items.iter().all(Value::is_f64) {
        for (name, values) in [("scores", &out.scores[..]), ("logits", out.logits)] {
            let whole =
                items
                    .iter()
                    .zip(values)
                    .try_fold(placeholder(name, None), |t, (item, &v)| {
                        let r = rounding(item.as_f64().unwrap_or(f64::NAN), v)?;
                        unify(&t, &placeholder(name, r)).or_else(|| {
                            // The first rounded one sets the range for the rest.
                            (t == placeholder(name, None) && r.is_some())
                                .then(|| placeholder(name, r))
                        })
                    });
            if let Some(whole) = whole {
                return whole;
            }
        }
    }
    // One item per class: the best K first, or every class in index order.
    if !items.is_empty() && items.len() <= n {
        for (each, classes) in [
            ("top", out.ranked[..items.len()].to_vec()),
            ("class", (0..items.len()).collect::<Vec<_>>()),
        ] {
            if each == "class" && items.len() != n {
                continue;
            }
            let templates: Vec<Value> = items
                .iter()
                .zip(&classes)
                .map(|(item, &c)| infer(item, out, c))
                .collect();
            if has_placeholder(&templates[0])
                && let Some(item) = templates[1..]
                    .iter()
                    .try_fold(templates[0].clone(), |t, u| unify(&t, u))
            {
                let mut map = Map::new();
                map.insert("$each".into(), json!(each));
                if each == "top" {
                    map.insert("k".into(), json!(items.len()));
                }
                map.insert("item".into(), item);
                return Value::Object(map);
            }
        }
    }
    Value::Array(items.iter().map(|v| infer(v, out, current)).collect())
}

fn infer_object(map: &Map<String, Value>, out: &Output, current: usize) -> Value {
    // A text answer (`return str(index)`): its body rebuilt as text, its media type kept.
    if let Some(Value::String(text)) = map.get("$text") {
        let body = match text.trim().parse::<usize>() {
            Ok(index) if index == current => json!({"$": "index"}),
            _ => infer(&Value::String(text.trim().to_string()), out, current),
        };
        let mut answer = map.clone();
        answer.insert("$text".into(), body);
        return Value::Object(answer);
    }
    // An object keyed by label (`{"cat": 0.9, "dog": 0.1}`): every class, or the best K.
    let class_of = |key: &str| out.labels.iter().position(|l| l == key);
    if !map.is_empty() && map.keys().all(|k| class_of(k).is_some()) {
        let templates: Vec<Value> = map
            .iter()
            .map(|(k, v)| infer(v, out, class_of(k).unwrap_or(0)))
            .collect();
        if has_placeholder(&templates[0])
            && let Some(value) = templates[1..]
                .iter()
                .try_fold(templates[0].clone(), |t, u| unify(&t, u))
        {
            let each = if map.len() == out.scores.len() {
                "class"
            } else {
                "top"
            };
            let mut object = Map::new();
            object.insert("$each".into(), json!(each));
            if each == "top" {
                object.insert("k".into(), json!(map.len()));
            }
            object.insert("key".into(), json!("label"));
            object.insert("value".into(), value);
            return Value::Object(object);
        }
    }
    Value::Object(
        map.iter()
            .map(|(k, v)| {
                let template = infer(v, out, current);
                // A number the model does not explain, under a name that says it is a time.
                let timed = match (&template == v && v.is_number(), time_field(k)) {
                    (true, Some(placeholder)) => placeholder,
                    _ => template,
                };
                (k.clone(), timed)
            })
            .collect(),
    )
}

/// The placeholder for a field that reports time (`latency_ms`, `inference_time`, `took`,
/// `timestamp`), which differs on every request.
fn time_field(key: &str) -> Option<Value> {
    let key = key.to_ascii_lowercase();
    if key.contains("timestamp") || key == "ts" || key.ends_with("_at") {
        return Some(json!({"$": "timestamp"}));
    }
    let timed = ["time", "latency", "elapsed", "duration", "took", "seconds"]
        .iter()
        .any(|word| key.contains(word));
    let unit = if key.contains("ms") || key.contains("milli") {
        "ms"
    } else {
        "s"
    };
    timed.then(|| json!({"$": "elapsed", "unit": unit}))
}

/// Paths (`a.b`) of the fields a template fills with times: they differ between any two
/// answers, so `verify --http` checks only that both are numbers there.
pub fn time_paths(template: &Value) -> Vec<String> {
    fn walk(value: &Value, path: &str, out: &mut Vec<String>) {
        if let Value::Object(map) = value {
            if matches!(
                map.get("$").and_then(Value::as_str),
                Some("elapsed" | "timestamp")
            ) {
                out.push(path.to_string());
                return;
            }
            if map.contains_key("$") || map.contains_key("$each") {
                return;
            }
            for (k, v) in map {
                walk(v, &format!("{path}.{k}"), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(template, "", &mut out);
    out
}

/// The first path where `rendered` differs from what the original answered.
fn first_difference(expected: &Value, rendered: &Value, path: &str) -> Option<String> {
    match (expected, rendered) {
        (Value::Object(a), Value::Object(b)) => {
            if a.len() != b.len() {
                return Some(path_or_root(path));
            }
            a.iter().find_map(|(k, v)| match b.get(k) {
                Some(w) => first_difference(v, w, &format!("{path}.{k}")),
                None => Some(format!("{path}.{k}")),
            })
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Some(path_or_root(path));
            }
            a.iter()
                .zip(b)
                .enumerate()
                .find_map(|(i, (v, w))| first_difference(v, w, &format!("{path}[{i}]")))
        }
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            let close = a == b || (a - b).abs() <= 1e-6 * a.abs().max(b.abs());
            (!close).then(|| path_or_root(path))
        }
        // A time (rendered without a clock while learning): any number.
        (Value::Number(_), Value::Null) => None,
        (a, b) => (a != b).then(|| path_or_root(path)),
    }
}

fn path_or_root(path: &str) -> String {
    if path.is_empty() {
        "(the whole body)".into()
    } else {
        path.trim_start_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        ["cat", "dog", "ship"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn softmax(logits: &[f32]) -> Vec<f32> {
        respond::softmax_of(logits)
    }

    fn observation(response: Value, logits: &[f32]) -> Observation {
        Observation {
            response,
            logits: logits.to_vec(),
            filename: Some("cat.jpg".into()),
        }
    }

    #[test]
    fn each_route_gets_its_own_answer_and_the_rest_are_fixed_or_listed() {
        let observed = |response: Value, logits: [f32; 3]| json!({"input": "/x/cat.jpg", "status": 200, "response": response, "outputs": logits});
        let api = json!({
            "route": {"method": "POST", "path": "/predict",
                      "request": {"kind": "multipart", "field": "file"}},
            "other_routes": [
                {"method": "POST", "path": "/predict/best", "request": {"kind": "multipart", "field": "image"},
                 "observations": [observed(json!({"best": "cat"}), [3.0, 0.0, 0.0]),
                                  observed(json!({"best": "ship"}), [0.0, 0.0, 3.0])]},
                {"method": "POST", "path": "/predict/debug", "request": {"kind": "multipart", "field": "image"},
                 "observations": [observed(json!({"note": "fixed text"}), [3.0, 0.0, 0.0])]}
            ],
            "fixed": [{"method": "GET", "path": "/", "answer":
                       {"status": 200, "content_type": "text/html", "body": "<h1>hi</h1>"}}],
            "not_migrated": [{"method": "GET", "path": "/stats", "reason": "it changes"}]
        });
        let mut http = http_plan(&api, Some(json!({"$": "label"})));
        other_routes(&api, &labels(), false, &mut http);
        let paths: Vec<&str> = http.routes.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["/predict", "/predict/best"]);
        assert_eq!(http.routes[1].request.field.as_deref(), Some("image"));
        assert_eq!(
            http.routes[1].response,
            Some(json!({"best": {"$": "label"}}))
        );
        assert_eq!(http.fixed[0].answer.body, "<h1>hi</h1>");
        let left: Vec<&str> = http.not_migrated.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(left, ["/stats", "/predict/debug"]);
        assert!(http.not_migrated[1].reason.contains("model's output"));
    }

    #[test]
    fn a_reported_time_is_the_request_s_own() {
        let a = observation(
            json!({"label": "cat", "latency_ms": 12.5}),
            &[3.0, 0.0, 0.0],
        );
        let b = observation(
            json!({"label": "dog", "latency_ms": 9.75}),
            &[0.0, 3.0, 0.0],
        );
        let template = infer_response(&[a, b], &labels(), true).expect("learned");
        assert_eq!(
            template["latency_ms"],
            json!({"$": "elapsed", "unit": "ms"})
        );
        assert_eq!(time_paths(&template), vec![".latency_ms".to_string()]);
    }

    #[test]
    fn a_text_answer_of_the_index_is_rebuilt_as_text_with_its_media_type() {
        let text = |body: &str| json!({"$text": body, "content_type": "text/html; charset=utf-8"});
        let a = observation(text("0"), &[3.0, 0.0, 0.0]);
        let b = observation(text("2"), &[0.0, 1.0, 3.0]);
        let template = infer_response(&[a, b], &labels(), false).expect("learned");
        assert_eq!(template["$text"], json!({"$": "index"}));
        assert_eq!(template["content_type"], "text/html; charset=utf-8");
        let rendered = respond::Classes::new(&[0.0, 3.0, 0.0], false, &["cat", "dog", "bird"])
            .render(&template)
            .unwrap();
        assert_eq!(rendered["$text"], "1");
        // A label answered as text.
        let a = observation(text("cat"), &[3.0, 0.0, 0.0]);
        let b = observation(text("ship"), &[0.0, 1.0, 3.0]);
        let template = infer_response(&[a, b], &labels(), false).expect("learned");
        assert_eq!(template["$text"], json!({"$": "label"}));
    }

    #[test]
    fn without_labels_the_index_as_a_string_is_the_label_placeholder() {
        let a = observation(json!({"label": "0", "status": true}), &[3.0, 0.0, 0.0]);
        let b = observation(json!({"label": "2", "status": true}), &[0.0, 1.0, 3.0]);
        let template = infer_response(&[a, b], &[], false).expect("learned");
        assert_eq!(template, json!({"label": {"$": "label"}, "status": true}));
        let rendered = respond::Classes::new(&[0.0, 3.0, 0.0], false, &[])
            .render(&template)
            .unwrap();
        assert_eq!(rendered["label"], "1");
        // With labels, a digit string is not the index.
        let a = observation(json!({"label": "0"}), &[3.0, 0.0, 0.0]);
        assert!(infer_response(&[a], &labels(), false).is_err());
    }

    #[test]
    fn an_echoed_file_name_is_the_upload_s() {
        let mut a = observation(
            json!({"filename": "a.jpg", "label": "cat"}),
            &[3.0, 0.0, 0.0],
        );
        a.filename = Some("a.jpg".into());
        let mut b = observation(
            json!({"filename": "b.png", "label": "dog"}),
            &[0.0, 3.0, 0.0],
        );
        b.filename = Some("b.png".into());
        let template = infer_response(&[a, b], &labels(), true).expect("learned");
        assert_eq!(template["filename"], json!({"$": "filename"}));
    }

    #[test]
    fn a_top_k_list_with_rounded_scores_is_learned() {
        let observations: Vec<Observation> = [[2.0f32, 0.5, -1.0], [-0.3, 1.7, 0.2]]
            .iter()
            .map(|logits| {
                let p = softmax(logits);
                let mut order: Vec<usize> = (0..3).collect();
                order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
                let predictions: Vec<Value> = order[..2]
                    .iter()
                    .map(|&i| {
                        let score: f64 = format!("{:.6}", f64::from(p[i])).parse().unwrap();
                        json!({"label": labels()[i], "index": i, "score": score})
                    })
                    .collect();
                observation(
                    json!({"predictions": predictions, "model": "resnet"}),
                    logits,
                )
            })
            .collect();
        let template = infer_response(&observations, &labels(), true).expect("learned");
        assert_eq!(
            template,
            json!({"model": "resnet", "predictions": {"$each": "top", "k": 2, "item":
                {"label": {"$": "label"}, "index": {"$": "index"}, "score": {"$": "score", "round": 6}}}})
        );
    }

    #[test]
    fn best_label_and_a_score_per_label_are_learned() {
        let logits = vec![0.1f32, 0.9, -0.4];
        let p = softmax(&logits);
        let scores: Map<String, Value> = labels()
            .iter()
            .zip(&p)
            .map(|(l, &s)| (l.clone(), json!(f64::from(s))))
            .collect();
        let response = json!({"label": "dog", "score": f64::from(p[1]), "scores": scores});
        let template =
            infer_response(&[observation(response, &logits)], &labels(), true).expect("learned");
        assert_eq!(template["label"], json!({"$": "label"}));
        assert_eq!(template["score"], json!({"$": "score"}));
        assert_eq!(template["scores"]["$each"], json!("class"));
    }

    #[test]
    fn a_field_the_model_does_not_explain_is_refused() {
        let a = observation(
            json!({"label": "cat", "request_id": "a1"}),
            &[3.0, 0.0, 0.0],
        );
        let b = observation(
            json!({"label": "dog", "request_id": "b2"}),
            &[0.0, 3.0, 0.0],
        );
        let why = infer_response(&[a, b], &labels(), true).unwrap_err();
        assert!(why.contains("request_id"), "{why}");
    }

    #[test]
    fn a_response_without_model_output_is_refused() {
        let a = observation(json!({"status": "ok"}), &[1.0, 0.0, 0.0]);
        assert!(infer_response(&[a], &labels(), true).is_err());
    }
}
