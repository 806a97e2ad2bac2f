//! The original as TorchServe serves it: the handler packed with `torch-model-archiver` into a
//! model store of this run's own, and the real `torchserve` (a Java front end and Python
//! workers) started in the foreground with a config that binds loopback only.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use wasm_migrate_launch::{Poll, Wait};
use wasm_migrate_plan::{ServerPlan, TorchserveArchive};

use super::START_LIMIT;
use super::original::{ServerProcess, free_port};
use crate::error::{VerifyError, io};

/// What starting TorchServe needs besides the command: its environment.
pub struct TorchserveLaunch {
    pub command: Vec<String>,
    pub env: Vec<(String, String)>,
    management_port: u16,
    worker_port: u16,
    model_name: String,
}

/// Archives the handler into `WORK/model-store` and writes `WORK/config.properties`: the
/// inference API on `port`; the management, metrics and gRPC APIs and the worker's socket on
/// free loopback ports; token authorisation off (a loopback test server); one worker.
pub fn prepare(
    server: &ServerPlan,
    service: &Path,
    python: &Path,
    work: &Path,
    port: u16,
) -> Result<TorchserveLaunch, VerifyError> {
    let archive = server.archive.as_ref().ok_or_else(|| {
        VerifyError::Usage(
            "service.server.kind is torchserve but the plan names no model archive \
             (service.server.archive: model_name, handler, model_file, serialized_file): \
             analyze reads it from the service's torch-model-archiver command or .mar file"
                .into(),
        )
    })?;
    let store = work.join("model-store");
    std::fs::create_dir_all(&store).map_err(io(&store))?;
    archive_model(archive, service, python, work, &store)?;
    let management_port = free_port()?;
    let metrics_port = free_port()?;
    // Each worker listens on a Unix socket named by its port (/tmp/.ts.sock.PORT): a port of
    // this run's own keeps two TorchServes on one machine apart.
    let worker_port = free_port()?;
    // Its gRPC APIs listen too (7070 and 7071 by default): on ports of this run's own.
    let (grpc_inference, grpc_management) = (free_port()?, free_port()?);
    let config = work.join("config.properties");
    let text = format!(
        "inference_address=http://127.0.0.1:{port}\n\
         management_address=http://127.0.0.1:{management_port}\n\
         metrics_address=http://127.0.0.1:{metrics_port}\n\
         grpc_inference_address=127.0.0.1\n\
         grpc_management_address=127.0.0.1\n\
         grpc_inference_port={grpc_inference}\n\
         grpc_management_port={grpc_management}\n\
         disable_token_authorization=true\n\
         enable_envvars_config=false\n\
         default_workers_per_model=1\n\
         initial_worker_port={worker_port}\n"
    );
    std::fs::write(&config, text).map_err(io(&config))?;
    let name = &archive.model_name;
    let command = [
        python.display().to_string(),
        "-m".into(),
        "ts.model_server".into(),
        "--start".into(),
        "--foreground".into(),
        "--ncs".into(),
        "--model-store".into(),
        store.display().to_string(),
        "--models".into(),
        format!("{name}={name}.mar"),
        "--ts-config".into(),
        config.display().to_string(),
    ];
    // TorchServe keeps its pid file in the temporary folder and its logs in the working one.
    let env = vec![
        ("TMPDIR".to_string(), work.display().to_string()),
        (
            "LOG_LOCATION".to_string(),
            work.join("logs").display().to_string(),
        ),
        (
            "METRICS_LOCATION".to_string(),
            work.join("logs").display().to_string(),
        ),
    ];
    Ok(TorchserveLaunch {
        command: command.to_vec(),
        env,
        management_port,
        worker_port,
        model_name: name.clone(),
    })
}

/// `torch-model-archiver`, run with the service's Python, from the service's files.
fn archive_model(
    archive: &TorchserveArchive,
    service: &Path,
    python: &Path,
    work: &Path,
    store: &Path,
) -> Result<(), VerifyError> {
    let file = |name: &str| -> Result<PathBuf, VerifyError> {
        let path = service.join(name);
        match path.is_file() {
            true => Ok(path),
            false => Err(VerifyError::Usage(format!(
                "{}: the model archive names {name} (from {}), which is not in the service",
                service.display(),
                archive.evidence
            ))),
        }
    };
    let mut args: Vec<String> = vec![
        "-m".into(),
        "model_archiver.model_packaging".into(),
        "--model-name".into(),
        archive.model_name.clone(),
        "--version".into(),
        archive.version.clone().unwrap_or_else(|| "1.0".into()),
        "--handler".into(),
    ];
    args.push(match archive.handler.ends_with(".py") {
        true => file(&archive.handler)?.display().to_string(),
        false => archive.handler.clone(),
    });
    for (flag, name) in [
        ("--model-file", &archive.model_file),
        ("--serialized-file", &archive.serialized_file),
    ] {
        if let Some(name) = name {
            args.extend([flag.to_string(), file(name)?.display().to_string()]);
        }
    }
    if !archive.extra_files.is_empty() {
        let extra: Result<Vec<String>, VerifyError> = archive
            .extra_files
            .iter()
            .map(|f| file(f).map(|p| p.display().to_string()))
            .collect();
        args.extend(["--extra-files".into(), extra?.join(",")]);
    }
    args.extend([
        "--export-path".into(),
        store.display().to_string(),
        "--force".into(),
    ]);
    let output = Command::new(python)
        .args(&args)
        .current_dir(work)
        .output()
        .map_err(|e| VerifyError::NoPython {
            python: python.to_path_buf(),
            reason: e.to_string(),
        })?;
    if !output.status.success() {
        return Err(VerifyError::Original {
            kind: "torch-model-archiver".into(),
            message: format!(
                "archiving {} failed ({}); is torch-model-archiver installed in {}?\n{}",
                archive.model_name,
                output.status,
                python.display(),
                String::from_utf8_lossy(&output.stderr).trim_end()
            ),
        });
    }
    Ok(())
}

impl TorchserveLaunch {
    /// The worker's socket and its lock, which TorchServe leaves in /tmp (whatever TMPDIR
    /// says) once stopped.
    pub fn remove_worker_socket(&self) {
        for suffix in ["", ".lock"] {
            let _ = std::fs::remove_file(format!("/tmp/.ts.sock.{}{suffix}", self.worker_port));
        }
    }

    /// Until the management API lists a worker of the model as READY: TorchServe answers
    /// `/ping` before its workers have loaded the model.
    pub fn wait_ready(&self, original: &mut ServerProcess) -> Result<(), VerifyError> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        let url = format!(
            "http://127.0.0.1:{}/models/{}",
            self.management_port, self.model_name
        );
        original
            .wait_until(Wait::up_to(START_LIMIT), |_| {
                let body = agent
                    .get(&url)
                    .call()
                    .ok()
                    .and_then(|mut r| r.body_mut().read_to_string().ok())
                    .unwrap_or_default();
                match body.contains("\"READY\"") {
                    true => Poll::Ready(()),
                    false => Poll::NotYet {
                        why: format!("no READY worker of {} yet", self.model_name),
                        again_in: Duration::from_millis(250),
                    },
                }
            })
            .map_err(|why| VerifyError::Original {
                kind: "torchserve".into(),
                message: format!(
                    "TorchServe did not load {}: {why}; its output:\n{}",
                    self.model_name,
                    original.log_tail()
                ),
            })
    }
}
