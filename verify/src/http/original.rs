//! The original's server, started as production starts it (gunicorn, uvicorn or Flask from
//! the plan's `service.server`) on loopback, in its own process group, stopped on drop.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wasm_migrate_plan::{HttpPlan, MigrationPlan, ServerKind, ServerPlan};

use super::{NO_SUCH_PATH, START_LIMIT};
use crate::error::{VerifyError, io};

pub fn free_port() -> Result<u16, VerifyError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| VerifyError::Usage(format!("cannot find a free loopback port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| VerifyError::Usage(format!("cannot find a free loopback port: {e}")))
}

/// Where production runs the server from: the plan's workdir (gunicorn's `--chdir` and
/// uvicorn's `--app-dir` are passed as options).
pub fn run_dir(service: &Path, plan: &MigrationPlan) -> PathBuf {
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
    match server.kind {
        ServerKind::Gunicorn => {
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
        ServerKind::Uvicorn => {
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
        ServerKind::Flask => {
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
        other @ ServerKind::Torchserve => {
            return Err(VerifyError::Usage(format!(
                "verify --http starts gunicorn, uvicorn or Flask servers; service.server.kind is `{other}` \
                 (TorchServe needs Java and its model archive): compare the models with `verify` instead"
            )));
        }
    }
    Ok(command)
}

/// A server process (the original's, or a host serving the module) in its own process
/// group, so its workers go with it when it is dropped.
pub struct ServerProcess {
    child: Child,
    log: PathBuf,
}

impl ServerProcess {
    pub fn start(
        command: &[String],
        dir: &Path,
        work: &Path,
    ) -> Result<ServerProcess, VerifyError> {
        let log = work.join("original-server.log");
        Self::start_with(command, dir, &log, &[]).map_err(|e| match e {
            VerifyError::Usage(reason) => VerifyError::NoPython {
                python: PathBuf::from(&command[0]),
                reason,
            },
            other => other,
        })
    }

    /// Started with more environment, its output in `log`. It dies with this process (the
    /// kernel sends it SIGTERM when the thread that started it ends), so an interrupted
    /// run leaves no server behind even when this process is killed.
    pub fn start_with(
        command: &[String],
        dir: &Path,
        log: &Path,
        env: &[(String, String)],
    ) -> Result<ServerProcess, VerifyError> {
        use std::os::unix::process::CommandExt;
        let file = std::fs::File::create(log).map_err(io(log))?;
        let err = file.try_clone().map_err(io(log))?;
        let mut builder = Command::new(&command[0]);
        builder
            .args(&command[1..])
            .current_dir(dir)
            .env("PYTHONUNBUFFERED", "1")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .process_group(0);
        // SAFETY: prctl is async-signal-safe and touches no memory of this process.
        unsafe {
            builder.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = builder
            .spawn()
            .map_err(|e| VerifyError::Usage(format!("cannot start `{}`: {e}", command[0])))?;
        Ok(ServerProcess {
            child,
            log: log.to_path_buf(),
        })
    }

    /// The server's process id, which is also its process group's.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its exit status, once it has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last lines it printed.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Until it answers HTTP (its health route with 200, when it has one).
    pub fn wait_ready(&mut self, port: u16, http: &HttpPlan) -> Result<(), VerifyError> {
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

impl Drop for ServerProcess {
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
