//! A module that serves HTTP with WasmEdge's socket calls, run as a server: several instances
//! accept from one listener (the pre-fork model of gunicorn's workers), an instance that fails
//! a request is replaced, and stopping lets every request in flight finish.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::engine::{Runtime, WasmModule};
use crate::error::RuntimeError;
use crate::run::{Ending, RunConfig};
use crate::sockets::Listening;

/// The environment variable the generated glue reads for the deadline it sets on its own
/// client sockets (seconds), so it holds on hosts that set none (WasmEdge).
pub const MODULE_IO_TIMEOUT_ENV: &str = "IO_TIMEOUT_SECS";

/// Gives the module `io_timeout` as its own socket deadline, unless `env` already sets one.
pub fn module_io_timeout(env: &mut Vec<(String, String)>, io_timeout: Duration) {
    if !env.iter().any(|(key, _)| key == MODULE_IO_TIMEOUT_ENV) {
        env.push((
            MODULE_IO_TIMEOUT_ENV.into(),
            io_timeout.as_secs_f64().to_string(),
        ));
    }
}

/// The accept queue `serve` asks for.
const LISTEN_BACKLOG: libc::c_int = 4096;

/// How `serve` runs the module.
#[derive(Clone)]
pub struct ServeConfig {
    /// What each instance gets (arguments, environment, models, memory limit, stdio).
    /// `timeout` bounds the start: from instantiation to the first accept.
    pub run: RunConfig,
    /// Instances serving at once: requests in flight.
    pub instances: usize,
}

/// The bound listener, shared with the instances, and the handle that stops them.
#[derive(Clone)]
pub struct ServeControl {
    listening: Arc<Listening>,
    instances: Arc<AtomicUsize>,
}

/// How one instance slot ended.
#[derive(Debug, Clone)]
pub struct ServeEnd {
    pub instance: usize,
    pub ending: Ending,
    /// The last run's standard error, when captured.
    pub stderr: Vec<u8>,
    /// Times the slot's instance was replaced after failing a request.
    pub restarts: u32,
}

impl ServeControl {
    /// Binds `addr` (port 0: any free port). `io_timeout` bounds each read and write of a
    /// connection; `request_timeout` bounds the guest's work on one request.
    pub fn bind(
        addr: SocketAddr,
        io_timeout: Option<Duration>,
        request_timeout: Option<Duration>,
    ) -> Result<ServeControl, RuntimeError> {
        let listener = TcpListener::bind(addr).map_err(|e| RuntimeError::Serve {
            message: format!("cannot listen on {addr}: {e}"),
        })?;
        // std listens with a backlog of 128: a burst of more connections than that would see
        // SYNs dropped and retried a second later. Listening again only raises the queue (the
        // kernel caps it at net.core.somaxconn).
        // SAFETY: a valid, bound socket of ours.
        unsafe {
            libc::listen(std::os::fd::AsRawFd::as_raw_fd(&listener), LISTEN_BACKLOG);
        }
        Ok(ServeControl {
            listening: Arc::new(Listening::new(listener, io_timeout, request_timeout)),
            instances: Arc::new(AtomicUsize::new(0)),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listening
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Instances waiting for a connection (all of them, when idle).
    pub fn ready_instances(&self) -> usize {
        self.listening.waiting()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.listening.accepted()
    }

    /// When an instance was first ready (this process's clock, and the machine's in
    /// milliseconds since the Unix epoch).
    pub fn first_ready(&self) -> Option<(std::time::Instant, f64)> {
        self.listening.first_ready()
    }

    /// Idle instances replaced so far to give their memory back.
    pub fn recycled(&self) -> u64 {
        self.listening.recycled()
    }

    /// The running instances' linear memory, in bytes, added up.
    pub fn linear_memory_bytes(&self) -> u64 {
        self.listening.linear_memory_bytes()
    }

    pub fn stopping(&self) -> bool {
        self.listening.stopping()
    }

    /// Stops accepting; `serve` returns once every request in flight, and every client
    /// already queued, is answered.
    pub fn stop(&self) {
        self.listening.stop();
    }

    /// Waits until at least one instance is ready, or `serve` ended, or `limit` passed.
    pub fn wait_ready(&self, limit: Duration) -> bool {
        self.listening.wait_ready(limit)
    }
}

/// Set in the environment of an instance that replaces an idle one (the glue then does not
/// announce itself again).
pub const RECYCLED_VAR: &str = "WASM_MIGRATE_RECYCLED";

impl Runtime {
    /// Serves until `control.stop()`. An instance that ends while serving (a trap, the request
    /// timeout) is replaced; one that ends before accepting anything stops the server, since
    /// the module cannot serve (no model, bad arguments): its ending says why.
    pub fn serve(
        &self,
        module: &WasmModule,
        config: &ServeConfig,
        control: &ServeControl,
    ) -> Result<Vec<ServeEnd>, RuntimeError> {
        let instances = config.instances.max(1);
        control.instances.store(instances, Ordering::SeqCst);
        let mut run = config.run.clone();
        run.listening = Some(control.listening.clone());
        std::thread::scope(|scope| {
            let slots: Vec<_> = (0..instances)
                .map(|instance| {
                    let run = &run;
                    scope.spawn(move || self.serve_slot(module, run, control, instance))
                })
                .collect();
            slots
                .into_iter()
                .map(|slot| {
                    slot.join().unwrap_or_else(|_| {
                        control.stop();
                        Err(RuntimeError::Serve {
                            message: "an instance's thread panicked".into(),
                        })
                    })
                })
                .collect()
        })
    }

    fn serve_slot(
        &self,
        module: &WasmModule,
        run: &RunConfig,
        control: &ServeControl,
        instance: usize,
    ) -> Result<ServeEnd, RuntimeError> {
        let mut restarts = 0;
        // What an instance started in place of an idle one runs with: the module's notes at
        // start (where it serves) were said by the first.
        let mut recycled = run.clone();
        recycled
            .env
            .push((RECYCLED_VAR.to_string(), "1".to_string()));
        let mut current = run;
        loop {
            let accepted_before = control.accepted();
            let outcome = match self.run(module, current) {
                Ok(outcome) => outcome,
                Err(e) => {
                    control.stop();
                    return Err(e);
                }
            };
            let end = ServeEnd {
                instance,
                ending: outcome.ending,
                stderr: outcome.stderr,
                restarts,
            };
            if matches!(end.ending, Ending::Stopped) || control.stopping() {
                return Ok(end);
            }
            if matches!(end.ending, Ending::Recycled) {
                current = &recycled;
                continue;
            }
            if control.accepted() == accepted_before {
                // It never got to serve: every instance would end the same way.
                control.stop();
                return Ok(end);
            }
            if !run.host.replaces_failed_instances() {
                // As on WasmEdge: the process is gone, and so is the server.
                control.stop();
                return Ok(end);
            }
            restarts += 1;
            let why = match &end.ending {
                Ending::TimedOut { .. } => {
                    Some("a request took longer than the request timeout".to_string())
                }
                other => other.explain(),
            };
            if let Some(why) = why {
                eprintln!(
                    "serve: instance {instance} ended while serving ({why}); starting a new one"
                );
            }
        }
    }
}

/// The line `serve --ready-json` prints on stdout once it serves (a module or a bundle alike),
/// and what `bench` reads back.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReadyLine {
    /// Always [`ReadyLine::EVENT`]: other JSON lines on the same stdout are not this one.
    pub event: String,
    /// Where it listens, `IP:PORT`.
    pub address: String,
    pub instances: u16,
    /// Loading (or compiling) the module, or the bundle's interpreter.
    pub module_load_ms: f64,
    /// Loading the model, or importing a bundle's app.
    pub model_load_ms: f64,
    /// Process start until the first instance listened.
    pub ready_ms: f64,
    /// Starting the engine, before the module loads (the model loads beside both).
    #[serde(default)]
    pub engine_ms: f64,
    /// The first instance created until it listened: instantiation and the module's own start.
    #[serde(default)]
    pub instance_ms: f64,
    /// When it became ready, in milliseconds since the Unix epoch: another process on the
    /// same machine sets this against its own clock (when it started this one).
    #[serde(default)]
    pub ready_unix_ms: f64,
}

/// Now, in milliseconds since the Unix epoch.
pub fn unix_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

impl ReadyLine {
    pub const EVENT: &'static str = "serving";

    /// The ready line among `output`'s lines, if one is there yet.
    pub fn find(output: &str) -> Option<ReadyLine> {
        output
            .lines()
            .filter_map(|line| serde_json::from_str::<ReadyLine>(line).ok())
            .find(|ready| ready.event == ReadyLine::EVENT)
    }
}

#[cfg(test)]
mod ready_tests {
    use super::ReadyLine;

    #[test]
    fn the_ready_line_is_found_among_other_output() {
        let line = ReadyLine {
            event: ReadyLine::EVENT.into(),
            address: "127.0.0.1:5000".into(),
            instances: 2,
            module_load_ms: 1.0,
            model_load_ms: 2.0,
            ready_ms: 3.0,
            ..ReadyLine::default()
        };
        let output = format!(
            "{{\"label\": \"cat\"}}\nnot json\n{}\n",
            serde_json::to_string(&line).unwrap()
        );
        assert_eq!(ReadyLine::find(&output), Some(line));
        assert_eq!(ReadyLine::find("{\"event\": \"other\"}\n"), None);
    }
}
