//! The HTTP side: one listener, one thread per instance (each with the stack a reactor
//! needs), each taking the next request and answering it in a turn of its own interpreter.

use super::{BundleHost, Reply, Request, Warm};
use crate::BundleError;
use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;
use wasm_migrate_runtime::python::THREAD_STACK;

pub struct ServeOptions {
    pub address: SocketAddr,
    pub instances: usize,
    /// Longest a request may run in the guest; past it the instance is replaced and the
    /// client gets 504.
    pub request_timeout: Duration,
    /// Longest the app's import may take when an instance starts.
    pub start_timeout: Duration,
    /// Largest request body read, in bytes.
    pub max_body: usize,
    /// Set to stop: instances finish the request in hand and end.
    pub stop: Arc<AtomicBool>,
}

/// How a serve ended, and what it did.
#[derive(Debug)]
pub struct Served {
    pub requests: u64,
    pub replaced: u64,
}

/// Listens, starts the instances, calls `ready(address, first instance's start time)` once
/// every instance has imported the app, and serves until `stop` is set.
pub fn serve(
    host: Arc<BundleHost>,
    options: ServeOptions,
    ready: impl FnOnce(SocketAddr, Duration),
) -> Result<Served, BundleError> {
    let server = tiny_http::Server::http(options.address).map_err(|e| BundleError::Io {
        path: options.address.to_string().into(),
        source: std::io::Error::other(format!("cannot listen: {e}")),
    })?;
    let address = server.server_addr().to_ip().unwrap_or(options.address);
    let server = Arc::new(server);
    let options = Arc::new(options);
    let counters = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
    let (started_tx, started_rx) = mpsc::channel::<Result<Duration, BundleError>>();
    let mut workers = Vec::new();
    for i in 0..options.instances {
        let (host, server, options, counters) = (
            host.clone(),
            server.clone(),
            options.clone(),
            counters.clone(),
        );
        let started = started_tx.clone();
        let worker = std::thread::Builder::new()
            .name(format!("wasm-migrate-python-{i}"))
            .stack_size(THREAD_STACK)
            .spawn(move || {
                let warm = match host.start(options.start_timeout) {
                    Ok(warm) => {
                        let _ = started.send(Ok(warm.start_time));
                        warm
                    }
                    Err(e) => {
                        let _ = started.send(Err(e));
                        return;
                    }
                };
                worker_loop(&host, &server, &options, &counters, warm);
            })
            .map_err(|e| BundleError::io(Path::new("serve"), e))?;
        workers.push(worker);
    }
    drop(started_tx);
    let mut first = None;
    for _ in 0..options.instances {
        match started_rx.recv() {
            Ok(Ok(time)) => {
                first.get_or_insert(time);
            }
            Ok(Err(e)) => {
                options.stop.store(true, Ordering::SeqCst);
                server.unblock();
                return Err(e);
            }
            Err(_) => break,
        }
    }
    ready(address, first.unwrap_or_default());
    for worker in workers {
        let _ = worker.join();
    }
    Ok(Served {
        requests: counters.0.load(Ordering::SeqCst),
        replaced: counters.1.load(Ordering::SeqCst),
    })
}

fn worker_loop(
    host: &BundleHost,
    server: &tiny_http::Server,
    options: &ServeOptions,
    counters: &(AtomicU64, AtomicU64),
    mut warm: Warm,
) {
    while !options.stop.load(Ordering::SeqCst) {
        let request = match server.recv_timeout(Duration::from_millis(100)) {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(_) => break,
        };
        counters.0.fetch_add(1, Ordering::SeqCst);
        // A client that went away before its answer is no error of the service's.
        let broken = match read_request(request, options) {
            (http, Err(reply)) => {
                let _ = respond(http, reply);
                None
            }
            (http, Ok(req)) => match warm.handle(req, options.request_timeout) {
                Ok(reply) => {
                    let _ = respond(http, reply);
                    None
                }
                Err(why) => {
                    let status = if why.contains("past its") { 504 } else { 500 };
                    eprintln!("wasm-migrate: an instance stopped ({why}); starting another");
                    let _ = respond(http, Reply::error(status, &why));
                    Some(why)
                }
            },
        };
        if broken.is_some() {
            counters.1.fetch_add(1, Ordering::SeqCst);
            match host.start(options.start_timeout) {
                Ok(fresh) => warm = fresh,
                Err(e) => {
                    eprintln!("wasm-migrate: cannot start a replacement instance: {e}");
                    return;
                }
            }
        }
    }
}

/// The request's parts, or the answer to give when it cannot be read.
fn read_request(
    mut http: tiny_http::Request,
    options: &ServeOptions,
) -> (tiny_http::Request, Result<Request, Reply>) {
    let mut body = Vec::new();
    let read = http
        .as_reader()
        .take(options.max_body as u64 + 1)
        .read_to_end(&mut body);
    let result = match read {
        Err(e) => Err(Reply::error(
            400,
            &format!("cannot read the request body: {e}"),
        )),
        Ok(_) if body.len() > options.max_body => Err(Reply::error(
            413,
            &format!("the request body is larger than {} bytes", options.max_body),
        )),
        Ok(_) => {
            let url = http.url().to_string();
            let (path, query) = url.split_once('?').unwrap_or((&url, ""));
            Ok(Request {
                method: http.method().as_str().to_string(),
                path: percent_decode(path),
                query: query.to_string(),
                headers: http
                    .headers()
                    .iter()
                    .map(|h| (h.field.as_str().to_string(), h.value.as_str().to_string()))
                    .collect(),
                body,
                port: options.address.port(),
                remote: http
                    .remote_addr()
                    .map_or_else(|| "127.0.0.1".into(), |a| a.ip().to_string()),
            })
        }
    };
    (http, result)
}

fn respond(http: tiny_http::Request, reply: Reply) -> std::io::Result<()> {
    let mut response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    for (name, value) in &reply.headers {
        if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            continue; // tiny_http sets the length from the body
        }
        if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(header);
        }
    }
    http.respond(response)
}

/// `PATH_INFO` is decoded, as WSGI servers pass it (UTF-8 bytes as Latin-1 code points).
fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out.into_iter().map(char::from).collect()
}
