//! The original's server, started as production starts it (gunicorn, uvicorn or Flask from
//! the plan's `service.server`) on loopback, as a `wasm_migrate_launch::ServerProcess`.

use std::path::{Path, PathBuf};

pub use wasm_migrate_launch::ServerProcess;
use wasm_migrate_launch::{Launch, LaunchError, Wait};

use wasm_migrate_plan::{HttpPlan, MigrationPlan, ServerKind, ServerPlan};

use super::{NO_SUCH_PATH, START_LIMIT};
use crate::error::{VerifyError, io};

pub fn free_port() -> Result<u16, VerifyError> {
    wasm_migrate_launch::free_port().map_err(|e| VerifyError::Usage(e.to_string()))
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
            // Flask has no --app-dir: a file path makes it put the file's import root on
            // sys.path, as `python dir/app.py` does, with the working folder unchanged.
            let app = match (&server.app_dir, server.app.split_once(':')) {
                (Some(dir), Some((module, attr))) => {
                    format!("{dir}/{}:{attr}", module.replace('.', "/"))
                }
                _ => server.app.clone(),
            };
            command.extend(["flask".into(), "--app".into(), app, "run".into()]);
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

/// The original's server, started with its output in `WORK/original-server.log`.
pub fn start_original(
    command: &[String],
    dir: &Path,
    work: &Path,
    env: &[(String, String)],
) -> Result<ServerProcess, VerifyError> {
    let log = work.join("original-server.log");
    let launch = Launch {
        command,
        dir,
        log: &log,
        env,
    };
    ServerProcess::start(launch).map_err(|e| match e {
        LaunchError::Start { program, source } => VerifyError::NoPython {
            python: PathBuf::from(program),
            reason: source.to_string(),
        },
        LaunchError::Log { path, source } => io(&path)(source),
        other => VerifyError::Usage(other.to_string()),
    })
}

/// `PYTHONPATH` with `dir` first (a `sitecustomize` there runs in the original's interpreter),
/// then whatever the environment had.
pub fn python_path_first(dir: &Path) -> (String, String) {
    let mut path = dir.display().to_string();
    if let Some(existing) = std::env::var_os("PYTHONPATH").filter(|p| !p.is_empty()) {
        path = format!("{path}:{}", existing.to_string_lossy());
    }
    ("PYTHONPATH".into(), path)
}

/// Until the original answers HTTP (its health route with 200, when it has one).
pub fn wait_ready(
    original: &mut ServerProcess,
    port: u16,
    http: &HttpPlan,
) -> Result<(), VerifyError> {
    let (path, needs_ok) = http
        .health
        .as_ref()
        .map_or((NO_SUCH_PATH, false), |h| (h.path.as_str(), true));
    original
        .wait_http(port, path, needs_ok, Wait::up_to(START_LIMIT))
        .map_err(|why| VerifyError::Original {
            kind: "server".into(),
            message: format!(
                "the original's server did not answer on port {port}: {why}; its output:\n{}",
                original.log_tail()
            ),
        })
}
