//! `verify --http`: the original started as production starts it (its gunicorn, uvicorn or
//! Flask command from the plan, on loopback) and the migrated module under `serve`, sent the
//! same requests; status codes, content types and bodies compared (JSON structure, labels
//! exactly, numbers within the plan's tolerances). Both servers are stopped however it ends.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use wasm_migrate_plan::{HttpPlan, InputKind, MigrationPlan, ServerPlan};
use wasm_migrate_runtime::{
    BackendChoice, BackendKind, RunConfig, Runtime, RuntimeOptions, ServeConfig, ServeControl,
    Stdio as GuestStdio,
};

use crate::compare::Tolerance;
use crate::error::{VerifyError, io};
use crate::{Progress, VerifyOptions};

/// How long the original may take to start answering (imports, model load).
const START_LIMIT: Duration = Duration::from_secs(180);
/// Longest wait for one answer.
const REQUEST_LIMIT: Duration = Duration::from_secs(120);
const NO_SUCH_PATH: &str = "/wasm-migrate-no-such-path";

/// One request sent to both servers and what each answered.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// What was sent, in words (`POST /predict image=astronaut.jpg`).
    pub request: String,
    /// What kind of request: `input`, `health`, `missing-field`, `not-decodable`,
    /// `not-found`, `wrong-method`, `too-large`.
    pub kind: String,
    pub original: Option<Answered>,
    pub migrated: Option<Answered>,
    pub agree: bool,
    /// Where and how they differ, or how close the numbers were.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Answered {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct HttpReport {
    pub schema: &'static str,
    pub service: String,
    /// The original's command line, as run.
    pub original_command: Vec<String>,
    pub module: String,
    pub backend: BackendKind,
    pub instances: usize,
    pub tolerance: Tolerance,
    pub exchanges: Vec<Exchange>,
    pub agreed: usize,
    pub differed: usize,
    pub equivalent: bool,
    pub warnings: Vec<String>,
}

/// What to request, before it is sent.
struct Request {
    kind: &'static str,
    describe: String,
    method: String,
    path: String,
    content_type: Option<String>,
    body: Vec<u8>,
    /// Sent to the module only: the original has no such limit to compare with.
    module_only: bool,
    /// Fields of the answer that report time: any number there agrees.
    time_paths: Vec<String>,
}

pub fn verify_http(
    options: &VerifyOptions,
    progress: &dyn Fn(Progress),
) -> Result<HttpReport, VerifyError> {
    let service = options.service.as_path();
    let plan = wasm_migrate_plan::LoadedPlan::load(service)?.plan;
    let (glue, module_path) = crate::built_module(options)?;
    let (http, server) = http_sections(&plan, service, &glue)?;
    let backend = *options.backends.first().unwrap_or(&BackendKind::Tract);
    let tolerance = Tolerance {
        atol: options.atol.unwrap_or(plan.tolerances.atol),
        rtol: options.rtol.unwrap_or(plan.tolerances.rtol),
    };
    let work_dir = tempfile::tempdir().map_err(io(&std::env::temp_dir()))?;
    let work = work_dir.path();
    let python = wasm_migrate_codegen::find_python(service, options.python.as_deref());
    let inputs = request_inputs(options, &plan, &python, work, progress)?;
    let requests = requests(&http, &plan, &inputs)?;

    progress(Progress::Phase(format!(
        "starting the original: {} {}",
        server.kind, server.app
    )));
    let port = free_port()?;
    let command = server_command(&server, &python, port)?;
    let mut original = OriginalServer::start(&command, &run_dir(service, &plan), work)?;
    original.wait_ready(port, &http)?;

    progress(Progress::Phase(format!(
        "starting {} under serve ({backend})",
        module_path.display()
    )));
    let (preloaded, _) = crate::migrated::preload_model(&plan, &glue, backend, options.precision)?;
    let module = ModuleSide {
        path: &module_path,
        instances: server.concurrency().clamp(1, 16) as usize,
        run: RunConfig {
            args: vec!["--serve".into()],
            preloaded,
            backends: BackendChoice {
                onnx: backend,
                precision: options.precision,
            },
            stdio: GuestStdio::Capture,
            ..RunConfig::default()
        },
    };
    let exchanges = module.exchange(&requests, port, tolerance, progress)?;
    drop(original);
    let differed = exchanges.iter().filter(|e| !e.agree).count();
    Ok(HttpReport {
        schema: "wasm-migrate.verify-http/1",
        service: service.display().to_string(),
        original_command: command,
        module: module_path.display().to_string(),
        backend,
        instances: module.instances,
        tolerance,
        agreed: exchanges.len() - differed,
        differed,
        equivalent: differed == 0,
        exchanges,
        warnings: http_warnings(&http),
    })
}

/// What the recorded API leaves to the module's own choice.
fn http_warnings(http: &HttpPlan) -> Vec<String> {
    let mut warnings = Vec::new();
    if http.routes.iter().any(|r| r.response.is_none()) {
        warnings.push(
            "the plan's http section has no response template: the module answers its own JSON \
             (outputs and top-k), not the original's; see `wasm-migrate convert`'s warning"
                .into(),
        );
    }
    if http.health.is_none() {
        warnings.push("the original has no health route: deployments probe the port".into());
    }
    warnings
}

/// The plan's `http` and `service.server`, which `convert` and `analyze` write.
fn http_sections(
    plan: &MigrationPlan,
    service: &Path,
    glue: &Path,
) -> Result<(HttpPlan, ServerPlan), VerifyError> {
    let http = plan.http.clone().ok_or_else(|| {
        VerifyError::Usage(format!(
            "{}: the plan has no `http` section: run `wasm-migrate convert {}` (it records the \
             original's API), then `wasm-migrate build {}`",
            service.join(wasm_migrate_plan::PLAN_FILE_NAME).display(),
            service.display(),
            glue.display()
        ))
    })?;
    let server = plan.service.server.clone().ok_or_else(|| {
        VerifyError::Usage(
            "the plan has no `service.server`: say how production starts the service \
             (kind: gunicorn | uvicorn | flask, app: module:object, port)"
                .into(),
        )
    })?;
    Ok((http, server))
}

/// The module's side: served in this process while the requests go out.
struct ModuleSide<'a> {
    path: &'a Path,
    instances: usize,
    run: RunConfig,
}

impl ModuleSide<'_> {
    /// Serves the module, sends every request to both servers, and stops it.
    fn exchange(
        &self,
        requests: &[Request],
        original_port: u16,
        tolerance: Tolerance,
        progress: &dyn Fn(Progress),
    ) -> Result<Vec<Exchange>, VerifyError> {
        let runtime =
            Runtime::new(RuntimeOptions::default()).map_err(|e| migrated(self.path, e))?;
        let module = runtime
            .load(self.path)
            .map_err(|e| migrated(self.path, e))?;
        let control = ServeControl::bind(
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            Some(Duration::from_secs(30)),
            Some(REQUEST_LIMIT),
        )
        .map_err(|e| migrated(self.path, e))?;
        let address = control.local_addr();
        let mut run = self.run.clone();
        run.env.push(("HOST".into(), address.ip().to_string()));
        run.env.push(("PORT".into(), address.port().to_string()));
        let config = ServeConfig {
            run,
            instances: self.instances,
        };
        std::thread::scope(|scope| {
            let serving = scope.spawn(|| runtime.serve(&module, &config, &control));
            let stop = StopOnDrop(&control);
            if !control.wait_ready(START_LIMIT) {
                drop(stop);
                let ends = serving.join().ok().and_then(Result::ok).unwrap_or_default();
                let why = ends.first().map_or(String::new(), |e| {
                    let stderr = String::from_utf8_lossy(&e.stderr).trim().to_string();
                    format!("{stderr} {}", e.ending.explain().unwrap_or_default())
                });
                return Err(migrated(
                    self.path,
                    format!("it did not start serving: {}", why.trim()),
                ));
            }
            let bases = (
                format!("http://127.0.0.1:{original_port}"),
                format!("http://{address}"),
            );
            let agent = agent();
            let mut exchanges = Vec::new();
            for (index, request) in requests.iter().enumerate() {
                let original = (!request.module_only).then(|| send(&agent, &bases.0, request));
                let migrated = send(&agent, &bases.1, request);
                exchanges.push(exchange(request, original, migrated, tolerance));
                progress(Progress::Step {
                    done: index + 1,
                    total: requests.len(),
                });
            }
            Ok(exchanges)
        })
    }
}

fn migrated(path: &Path, e: impl std::fmt::Display) -> VerifyError {
    VerifyError::Migrated {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

struct StopOnDrop<'a>(&'a ServeControl);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// The inputs: the user's, else photographs (or texts) made with the service's Python.
fn request_inputs(
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
    let kind = match plan.input.as_ref().map(|i| i.kind) {
        Some(InputKind::Text) => "text",
        _ => "image",
    };
    let dir = work.join("inputs");
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    Ok(crate::original::make_inputs(python, work, options.count, &dir, kind)?.1)
}

/// Every request: the inputs on the inference route, then the health route and bad requests.
fn requests(
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
    let body_of = |bytes: Vec<u8>, name: &str| -> (Option<String>, Vec<u8>) {
        match route.request.kind.as_str() {
            "json" => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                (
                    Some("application/json".into()),
                    serde_json::json!({ field.clone(): text })
                        .to_string()
                        .into_bytes(),
                )
            }
            "multipart" => multipart(&field, name, &bytes),
            _ => (Some("application/octet-stream".into()), bytes),
        }
    };
    let on_route = |kind: &'static str,
                    describe: String,
                    (content_type, body): (Option<String>, Vec<u8>)| Request {
        kind,
        describe: format!("{} {} {describe}", route.method, route.path),
        method: route.method.clone(),
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
        let mut request = on_route("input", format!("{field}={name}"), body_of(bytes, &name));
        request.time_paths = time_paths.clone();
        requests.push(request);
    }
    if route.request.raw_fallback
        && let Some(input) = inputs.first()
    {
        let bytes = std::fs::read(input).map_err(io(input))?;
        let name = input.file_name().unwrap_or_default().to_string_lossy();
        requests.push(on_route(
            "input",
            format!("<{name} as the body>"),
            (Some("application/octet-stream".into()), bytes),
        ));
    }
    if let Some(health) = &http.health {
        requests.push(Request {
            kind: "health",
            describe: format!("{} {}", health.method, health.path),
            method: health.method.clone(),
            path: health.path.clone(),
            content_type: None,
            body: Vec::new(),
            module_only: false,
            time_paths: Vec::new(),
        });
    }
    let missing = match route.request.kind.as_str() {
        "json" => (Some("application/json".into()), b"{}".to_vec()),
        "multipart" => multipart("wasm_migrate_other", "other.txt", b"x"),
        _ => (Some("application/octet-stream".into()), Vec::new()),
    };
    requests.push(on_route(
        "missing-field",
        "without the field".into(),
        missing,
    ));
    if !text {
        requests.push(on_route(
            "not-decodable",
            format!("{field}=not-an-image.jpg"),
            body_of(b"this is not an image".to_vec(), "not-an-image.jpg"),
        ));
    }
    requests.push(Request {
        kind: "not-found",
        describe: format!("GET {NO_SUCH_PATH}"),
        method: "GET".into(),
        path: NO_SUCH_PATH.into(),
        content_type: None,
        body: Vec::new(),
        module_only: false,
        time_paths: Vec::new(),
    });
    if route.method != "GET" {
        requests.push(Request {
            kind: "wrong-method",
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
        "too-large",
        format!("{field}=<{} bytes>", limit + 1),
        body_of(vec![0u8; limit as usize + 1], "large.jpg"),
    );
    oversized.module_only = http.too_large.is_none();
    requests.push(oversized);
    Ok(requests)
}

/// A `multipart/form-data` body with one file field.
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

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(REQUEST_LIMIT))
        .build()
        .into()
}

fn send(agent: &ureq::Agent, base: &str, request: &Request) -> Result<Answered, String> {
    let url = format!("{base}{}", request.path);
    let started = Instant::now();
    let response = match request.method.as_str() {
        "GET" | "HEAD" | "DELETE" | "OPTIONS" => {
            let mut builder = agent.get(&url);
            if request.method != "GET" {
                builder = agent.delete(&url);
            }
            builder.call()
        }
        _ => {
            let mut builder = match request.method.as_str() {
                "PUT" => agent.put(&url),
                "PATCH" => agent.patch(&url),
                _ => agent.post(&url),
            };
            if let Some(content_type) = &request.content_type {
                builder = builder.header("content-type", content_type);
            }
            builder.send(&request.body[..])
        }
    };
    let mut response = response.map_err(|e| format!("no answer: {e}"))?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .map_err(|e| format!("the answer's body could not be read: {e}"))?;
    Ok(Answered {
        status,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn exchange(
    request: &Request,
    original: Option<Result<Answered, String>>,
    migrated: Result<Answered, String>,
    tolerance: Tolerance,
) -> Exchange {
    let mut exchange = Exchange {
        request: request.describe.clone(),
        kind: request.kind.to_string(),
        original: None,
        migrated: None,
        agree: false,
        detail: String::new(),
    };
    let migrated = match migrated {
        Ok(answer) => answer,
        Err(why) => {
            exchange.detail = format!("the module: {why}");
            return exchange;
        }
    };
    exchange.migrated = Some(migrated.clone());
    let Some(original) = original else {
        // The module's own limit: a clear refusal is what is checked.
        exchange.agree = migrated.status == 413;
        exchange.detail = match exchange.agree {
            true => {
                "the module refuses it with 413 (the original has no body limit to compare)".into()
            }
            false => format!("the module answered {} instead of 413", migrated.status),
        };
        return exchange;
    };
    let original = match original {
        Ok(answer) => answer,
        Err(why) => {
            exchange.detail = format!("the original: {why}");
            return exchange;
        }
    };
    exchange.original = Some(original.clone());
    let (agree, detail) = compare_answers(&original, &migrated, tolerance, &request.time_paths);
    exchange.agree = agree;
    exchange.detail = detail;
    exchange
}

fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether two answers agree: status, media type, and body (JSON compared by structure, with
/// numbers within `tolerance`; anything else byte for byte).
pub fn compare_answers(
    original: &Answered,
    migrated: &Answered,
    tolerance: Tolerance,
    time_paths: &[String],
) -> (bool, String) {
    if original.status != migrated.status {
        return (
            false,
            format!("status {} vs {}", original.status, migrated.status),
        );
    }
    if media_type(&original.content_type) != media_type(&migrated.content_type) {
        return (
            false,
            format!(
                "content type `{}` vs `{}`",
                original.content_type, migrated.content_type
            ),
        );
    }
    match (
        serde_json::from_str::<Value>(&original.body),
        serde_json::from_str::<Value>(&migrated.body),
    ) {
        (Ok(a), Ok(b)) => {
            let mut worst = 0f64;
            match json_difference(
                &a,
                &b,
                "",
                &JsonRules {
                    tolerance,
                    time_paths,
                },
                &mut worst,
            ) {
                Some(difference) => (false, difference),
                None if worst > 0.0 => (
                    true,
                    format!("numbers within tolerance (max |diff| {worst:.2e})"),
                ),
                None => (true, "identical".into()),
            }
        }
        _ if original.body == migrated.body => (true, "identical".into()),
        _ => (false, "the bodies differ".into()),
    }
}

/// How two JSON bodies are compared: numbers within `tolerance`, any number at `time_paths`.
struct JsonRules<'a> {
    tolerance: Tolerance,
    time_paths: &'a [String],
}

fn json_difference(
    a: &Value,
    b: &Value,
    path: &str,
    rules: &JsonRules,
    worst: &mut f64,
) -> Option<String> {
    let at = |p: &str| {
        if p.is_empty() {
            "the body".to_string()
        } else {
            format!("`{}`", p.trim_start_matches('.'))
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let missing: Vec<&String> = x.keys().filter(|k| !y.contains_key(*k)).collect();
            let extra: Vec<&String> = y.keys().filter(|k| !x.contains_key(*k)).collect();
            if !missing.is_empty() || !extra.is_empty() {
                return Some(format!(
                    "{}: keys {missing:?} missing, {extra:?} extra",
                    at(path)
                ));
            }
            x.iter()
                .find_map(|(k, v)| json_difference(v, &y[k], &format!("{path}.{k}"), rules, worst))
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{}: {} items vs {}", at(path), x.len(), y.len()));
            }
            x.iter().zip(y).enumerate().find_map(|(i, (v, w))| {
                json_difference(v, w, &format!("{path}[{i}]"), rules, worst)
            })
        }
        (Value::Number(_), Value::Number(_)) if rules.time_paths.iter().any(|p| p == path) => None,
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            let diff = (x - y).abs();
            *worst = worst.max(diff);
            let tolerance = rules.tolerance;
            (diff > tolerance.atol + tolerance.rtol * x.abs())
                .then(|| format!("{}: {x} vs {y}", at(path)))
        }
        (x, y) if x == y => None,
        (x, y) => Some(format!("{}: {x} vs {y}", at(path))),
    }
}

fn free_port() -> Result<u16, VerifyError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| VerifyError::Usage(format!("cannot find a free loopback port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| VerifyError::Usage(format!("cannot find a free loopback port: {e}")))
}

/// Where production runs the server from: the plan's workdir (gunicorn's `--chdir` and
/// uvicorn's `--app-dir` are passed as options).
fn run_dir(service: &Path, plan: &MigrationPlan) -> PathBuf {
    plan.service
        .entrypoint
        .as_ref()
        .and_then(|e| e.workdir.as_deref())
        .map_or_else(|| service.to_path_buf(), |w| service.join(w))
}

/// The original's server, as the plan says production starts it, on 127.0.0.1:`port`.
pub fn server_command(
    server: &ServerPlan,
    python: &Path,
    port: u16,
) -> Result<Vec<String>, VerifyError> {
    let python = python.display().to_string();
    let bind = format!("127.0.0.1:{port}");
    let mut command = vec![python, "-m".into()];
    match server.kind.as_str() {
        "gunicorn" => {
            command.extend([
                "gunicorn".into(),
                "--workers".into(),
                server.workers.to_string(),
            ]);
            command.extend([
                "--threads".into(),
                server.threads.to_string(),
                "--bind".into(),
                bind,
            ]);
            if let Some(class) = &server.worker_class {
                command.extend(["--worker-class".into(), class.clone()]);
            }
            if let Some(dir) = &server.app_dir {
                command.extend(["--chdir".into(), dir.clone()]);
            }
            command.push(server.app.clone());
        }
        "uvicorn" => {
            let (app, factory) = match server.app.strip_suffix("()") {
                Some(app) => (app.to_string(), true),
                None => (server.app.clone(), false),
            };
            command.extend(["uvicorn".into(), app, "--host".into(), "127.0.0.1".into()]);
            command.extend([
                "--port".into(),
                port.to_string(),
                "--workers".into(),
                server.workers.to_string(),
            ]);
            if factory {
                command.push("--factory".into());
            }
            if let Some(dir) = &server.app_dir {
                command.extend(["--app-dir".into(), dir.clone()]);
            }
        }
        "flask" => {
            command.extend([
                "flask".into(),
                "--app".into(),
                server.app.clone(),
                "run".into(),
            ]);
            command.extend([
                "--host".into(),
                "127.0.0.1".into(),
                "--port".into(),
                port.to_string(),
            ]);
            command.push("--with-threads".into());
        }
        other => {
            return Err(VerifyError::Usage(format!(
                "verify --http starts gunicorn, uvicorn or Flask servers; service.server.kind is `{other}` \
                 (TorchServe needs Java and its model archive): compare the models with `verify` instead"
            )));
        }
    }
    Ok(command)
}

/// The original's server process (its own process group, so its workers go with it).
struct OriginalServer {
    child: Child,
    log: PathBuf,
}

impl OriginalServer {
    fn start(command: &[String], dir: &Path, work: &Path) -> Result<OriginalServer, VerifyError> {
        use std::os::unix::process::CommandExt;
        let log = work.join("original-server.log");
        let file = std::fs::File::create(&log).map_err(io(&log))?;
        let err = file.try_clone().map_err(io(&log))?;
        let child = Command::new(&command[0])
            .args(&command[1..])
            .current_dir(dir)
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|e| VerifyError::NoPython {
                python: PathBuf::from(&command[0]),
                reason: e.to_string(),
            })?;
        Ok(OriginalServer { child, log })
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Until it answers HTTP (its health route with 200, when it has one).
    fn wait_ready(&mut self, port: u16, http: &HttpPlan) -> Result<(), VerifyError> {
        let started = Instant::now();
        let path = http
            .health
            .as_ref()
            .map_or(NO_SUCH_PATH, |h| h.path.as_str());
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        let mut child_state = None;
        while started.elapsed() < START_LIMIT {
            if let Ok(mut response) = agent.get(&format!("http://127.0.0.1:{port}{path}")).call() {
                let _ = response.body_mut().read_to_vec();
                if http.health.is_none() || response.status().as_u16() == 200 {
                    return Ok(());
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                child_state = Some(format!("it exited: {status}"));
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(VerifyError::Original {
            kind: "server".into(),
            message: format!(
                "the original's server did not answer on port {port} within {} s ({}); its output:\n{}",
                START_LIMIT.as_secs(),
                child_state.unwrap_or_else(|| "still starting".into()),
                self.log_tail()
            ),
        })
    }
}

impl Drop for OriginalServer {
    fn drop(&mut self) {
        let group = self.child.id() as i32;
        // SAFETY: signalling a process group we created; no memory is involved.
        unsafe {
            libc::killpg(group, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                // Workers that outlive their master.
                unsafe {
                    libc::killpg(group, libc::SIGKILL);
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        unsafe {
            libc::killpg(group, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}
