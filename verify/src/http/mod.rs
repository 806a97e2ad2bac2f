//! `verify --http`: the original started as production starts it (its gunicorn, uvicorn or
//! Flask command from the plan, on loopback) and the migrated module under `serve`, sent the
//! same requests; status codes, content types and bodies compared (JSON structure, labels
//! exactly, numbers within the plan's tolerances). Both servers are stopped however it ends.

mod bundle;
mod compare;
mod original;
pub mod requests;
pub mod stages;
mod torchserve;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use wasm_migrate_plan::{HttpPlan, MigrationPlan, NotMigratedRoute, ServerKind, ServerPlan};
use wasm_migrate_runtime::{
    BackendChoice, BackendKind, RunConfig, Runtime, RuntimeOptions, ServeConfig, ServeControl,
    Stdio as GuestStdio,
};

pub use bundle::{BundleSetup, bundle_setup, verify_bundle};
pub use compare::compare_answers;
pub use original::{ServerProcess, free_port, run_dir, server_command, start_original, wait_ready};

use crate::compare::Tolerance;
use crate::error::{VerifyError, io};
use crate::{Progress, VerifyOptions};
use requests::{Request, request_inputs, requests};

/// How long the original may take to start answering (imports, model load).
const START_LIMIT: Duration = Duration::from_secs(180);
/// Longest wait for one answer.
const REQUEST_LIMIT: Duration = Duration::from_secs(120);
/// Longest wait for a client's next bytes, on the host and in the module.
const IO_LIMIT: Duration = Duration::from_secs(30);
const NO_SUCH_PATH: &str = "/wasm-migrate-no-such-path";

/// What a request tests: the inference route with an input, or one of the answers a client
/// relies on when something is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExchangeKind {
    Input,
    Health,
    /// A route answering recorded bytes (a front page).
    Fixed,
    MissingField,
    NotDecodable,
    NotFound,
    WrongMethod,
    TooLarge,
}

impl ExchangeKind {
    /// As reports write it (`missing-field`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExchangeKind::Input => "input",
            ExchangeKind::Health => "health",
            ExchangeKind::Fixed => "fixed",
            ExchangeKind::MissingField => "missing-field",
            ExchangeKind::NotDecodable => "not-decodable",
            ExchangeKind::NotFound => "not-found",
            ExchangeKind::WrongMethod => "wrong-method",
            ExchangeKind::TooLarge => "too-large",
        }
    }
}

impl std::fmt::Display for ExchangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request sent to both servers and what each answered.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// What was sent, in words (`POST /predict image=astronaut.jpg`).
    pub request: String,
    /// What kind of request.
    pub kind: ExchangeKind,
    pub original: Option<Answered>,
    pub migrated: Option<Answered>,
    pub agree: bool,
    /// Where and how they differ, or how close the numbers were.
    pub detail: String,
    /// The model's input and output tensors compared (a wasi-python bundle whose model runs
    /// through its `wasi_nn` module, against the original's ONNX Runtime session).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<stages::StageResult>,
    /// Why a difference is accepted as agreeing (the original crashed on a request that is
    /// not a valid input, the module refused it with a client error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<String>,
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
    /// The wasi-nn backend the module ran on; none for a wasi-python bundle.
    pub backend: Option<BackendKind>,
    /// The host whose terms the module was served on (`embedded`, `wasmedge@0.17`).
    pub host: String,
    pub instances: usize,
    pub tolerance: Tolerance,
    pub exchanges: Vec<Exchange>,
    pub agreed: usize,
    pub differed: usize,
    pub equivalent: bool,
    /// The original's routes the module does not serve (it answers them 501), and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_migrated: Vec<NotMigratedRoute>,
    pub warnings: Vec<String>,
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
    let torchserve = match server.kind {
        ServerKind::Torchserve => Some(torchserve::prepare(&server, service, &python, work, port)?),
        _ => None,
    };
    let (original, command) = match &torchserve {
        Some(launch) => {
            let mut original = start_original(&launch.command, work, work, &launch.env)?;
            launch.wait_ready(&mut original)?;
            (original, launch.command.clone())
        }
        None => {
            let command = server_command(&server, &python, port)?;
            let env = keras_compat(&plan, work)?;
            let mut original = start_original(&command, &run_dir(service, &plan), work, &env)?;
            wait_ready(&mut original, port, &http)?;
            (original, command)
        }
    };

    progress(Progress::Phase(format!(
        "starting {} under serve ({backend}, {} host)",
        module_path.display(),
        options.host
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
                ..BackendChoice::default()
            },
            stdio: GuestStdio::Capture,
            host: options.host,
            ..RunConfig::default()
        },
    };
    let exchanges = module.exchange(&requests, port, tolerance, progress);
    drop(original);
    if let Some(launch) = &torchserve {
        launch.remove_worker_socket();
    }
    let exchanges = exchanges?;
    let differed = exchanges.iter().filter(|e| !e.agree).count();
    Ok(HttpReport {
        schema: "wasm-migrate.verify-http/1",
        service: service.display().to_string(),
        original_command: command,
        module: module_path.display().to_string(),
        backend: Some(backend),
        host: options.host.to_string(),
        instances: module.instances,
        tolerance,
        agreed: exchanges.len() - differed,
        differed,
        equivalent: differed == 0,
        exchanges,
        not_migrated: http.not_migrated.clone(),
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
    for route in &http.not_migrated {
        warnings.push(format!(
            "{} {} is not migrated: {}",
            route.method, route.path, route.reason
        ));
    }
    warnings
}

/// The plan's `http` and `service.server`, which `convert` and `analyze` write.
pub fn http_sections(
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
    let server = server_section(plan)?;
    Ok((http, server))
}

/// How production starts the service: the plan's `service.server`.
fn server_section(plan: &MigrationPlan) -> Result<ServerPlan, VerifyError> {
    plan.service.server.clone().ok_or_else(|| {
        VerifyError::Usage(
            "the plan has no `service.server`: say how production starts the service \
             (kind: gunicorn | uvicorn | flask, app: module:object, port)"
                .into(),
        )
    })
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
        let host_deadlines = self.run.host.host_deadlines();
        let control = ServeControl::bind(
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            host_deadlines.then_some(IO_LIMIT),
            host_deadlines.then_some(REQUEST_LIMIT),
        )
        .map_err(|e| migrated(self.path, e))?;
        let address = control.local_addr();
        let mut run = self.run.clone();
        wasm_migrate_runtime::module_io_timeout(&mut run.env, IO_LIMIT);
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

/// A client that reports every status as an answer, each request bounded by `limit`, keeping
/// connections alive as load clients do.
pub fn agent_with_limit(limit: Duration) -> ureq::Agent {
    client(limit, true)
}

/// verify's client: each request on a connection of its own. A server may close a kept-alive
/// connection after an error, and a request sent on it then fails with a reset that says
/// nothing about the server's answer.
fn agent() -> ureq::Agent {
    client(REQUEST_LIMIT, false)
}

fn client(limit: Duration, keep_alive: bool) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(limit));
    let config = if keep_alive {
        config
    } else {
        config.max_idle_connections(0)
    };
    config.build().into()
}

/// Sends one request to `base` (`http://127.0.0.1:PORT`); the answer, or why there is none.
pub fn send(agent: &ureq::Agent, base: &str, request: &Request) -> Result<Answered, String> {
    let url = format!("{base}{}", request.path);
    let started = Instant::now();
    let response = match request.method.as_str() {
        "GET" => agent.get(&url).call(),
        "HEAD" => agent.head(&url).call(),
        "DELETE" => agent.delete(&url).call(),
        "OPTIONS" => agent.options(&url).call(),
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
        kind: request.kind,
        original: None,
        migrated: None,
        agree: false,
        detail: String::new(),
        stages: Vec::new(),
        accepted: None,
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
    if !agree && let Some(why) = accepted_difference(request.kind, &original, &migrated) {
        exchange.agree = true;
        exchange.accepted = Some(why);
    }
    exchange
}

/// The one difference verify accepts: a request that is not a valid input (an upload that
/// does not decode, a missing field) crashes the original (5xx) where the module refuses it
/// with a client error (4xx) that says why. A client gets an error from both.
pub fn accepted_difference(
    kind: ExchangeKind,
    original: &Answered,
    migrated: &Answered,
) -> Option<String> {
    let invalid_input = matches!(
        kind,
        ExchangeKind::NotDecodable | ExchangeKind::MissingField
    );
    (invalid_input
        && (500..600).contains(&original.status)
        && (400..500).contains(&migrated.status))
    .then(|| {
        format!(
            "accepted: the original failed with {} on a request that is not a valid input, \
             the module refuses it with {}",
            original.status, migrated.status
        )
    })
}

/// For a Keras service, the original's environment with `keras_compat.py` first on PYTHONPATH
/// as `sitecustomize`: its models load as the harness and convert load them (see
/// `load_keras_models_for_inference` in pyharness/src/service.py).
fn keras_compat(plan: &MigrationPlan, work: &Path) -> Result<Vec<(String, String)>, VerifyError> {
    if plan.model.as_ref().map(|m| m.framework) != Some(wasm_migrate_plan::Framework::Keras) {
        return Ok(Vec::new());
    }
    let dir = work.join("keras-compat");
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let files = [
        ("sitecustomize.py", include_str!("keras_compat.py")),
        (
            wasm_migrate_pyharness::SERVICE.file,
            wasm_migrate_pyharness::SERVICE.source,
        ),
        (
            wasm_migrate_pyharness::IMPORT_HOOK.file,
            wasm_migrate_pyharness::IMPORT_HOOK.source,
        ),
    ];
    for (name, source) in files {
        let file = dir.join(name);
        std::fs::write(&file, source).map_err(io(&file))?;
    }
    Ok(vec![original::python_path_first(&dir)])
}

#[cfg(test)]
mod accepted_tests {
    use super::*;

    fn answered(status: u16) -> Answered {
        Answered {
            status,
            content_type: "text/plain".into(),
            body: String::new(),
            seconds: 0.0,
        }
    }

    #[test]
    fn only_a_crash_on_a_bad_input_refused_by_the_module_is_accepted() {
        let crash = answered(500);
        let refused = answered(400);
        assert!(accepted_difference(ExchangeKind::NotDecodable, &crash, &refused).is_some());
        assert!(accepted_difference(ExchangeKind::MissingField, &crash, &refused).is_some());
        // A valid input must agree; a module that crashes too, or answers 200, is a difference.
        assert!(accepted_difference(ExchangeKind::Input, &crash, &refused).is_none());
        assert!(accepted_difference(ExchangeKind::NotDecodable, &crash, &answered(500)).is_none());
        assert!(accepted_difference(ExchangeKind::NotDecodable, &crash, &answered(200)).is_none());
        assert!(accepted_difference(ExchangeKind::NotDecodable, &refused, &crash).is_none());
    }
}
