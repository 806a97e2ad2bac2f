//! The server processes `verify --http`, `bench` and `migrate` start: the original's server
//! (gunicorn, uvicorn, Flask) and `wasm-migrate serve`. One way to start one, one way to wait
//! until it is ready, one way to stop it:
//!
//! - [`ServerProcess::start`] runs a [`Launch`] in its own process group, its output in a log
//!   file, and asks the kernel to stop it when the thread that started it ends, so nothing
//!   outlives an interrupted run;
//! - [`ServerProcess::wait_until`] polls a probe until it says ready, and stops early when the
//!   process exits, the time is up or the run is cancelled ([`NotReady`] says which);
//!   [`ServerProcess::wait_http`] is the probe every caller needs: an answer, or a 200 from a
//!   health route;
//! - dropping it stops the whole group: SIGTERM, then SIGKILL after a grace period.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long a stopped server has to end before its group is killed.
const GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot start `{program}`: {source}")]
    Start {
        program: String,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the command to start is empty")]
    EmptyCommand,
    #[error("cannot find a free loopback port: {0}")]
    NoPort(std::io::Error),
}

/// Why a server is not ready.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotReady {
    #[error("it exited ({0}) before it was ready")]
    Exited(String),
    #[error("not ready within {} s ({last})", limit.as_secs())]
    TimedOut { limit: Duration, last: String },
    #[error("interrupted")]
    Interrupted,
}

/// A free TCP port on 127.0.0.1 (free when asked: a server should bind it soon after).
pub fn free_port() -> Result<u16, LaunchError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(LaunchError::NoPort)
}

/// What to start: the command line, where, with what more environment, its output where.
#[derive(Debug, Clone, Copy)]
pub struct Launch<'a> {
    pub command: &'a [String],
    pub dir: &'a Path,
    pub log: &'a Path,
    pub env: &'a [(String, String)],
}

/// How long to wait, how often to look, and the flag that cancels the wait.
#[derive(Debug, Clone, Copy)]
pub struct Wait<'a> {
    /// Counted from `since`.
    pub limit: Duration,
    pub since: Instant,
    pub cancel: Option<&'a AtomicBool>,
}

impl Wait<'_> {
    /// Up to `limit` from now, not cancellable.
    pub fn up_to(limit: Duration) -> Wait<'static> {
        Wait {
            limit,
            since: Instant::now(),
            cancel: None,
        }
    }
}

/// What a probe found: ready (with what it measured), or not yet, why, and when to look again.
pub enum Poll<T> {
    Ready(T),
    NotYet { why: String, again_in: Duration },
}

/// A started server: its process group goes with it when it is dropped.
pub struct ServerProcess {
    child: Child,
    log: PathBuf,
}

impl ServerProcess {
    pub fn start(launch: Launch<'_>) -> Result<ServerProcess, LaunchError> {
        use std::os::unix::process::CommandExt;
        let (program, args) = launch
            .command
            .split_first()
            .ok_or(LaunchError::EmptyCommand)?;
        let log_error = |source| LaunchError::Log {
            path: launch.log.to_path_buf(),
            source,
        };
        let file = std::fs::File::create(launch.log).map_err(log_error)?;
        let err = file.try_clone().map_err(log_error)?;
        let mut builder = Command::new(program);
        builder
            .args(args)
            .current_dir(launch.dir)
            .env("PYTHONUNBUFFERED", "1")
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .process_group(0);
        // SAFETY: prctl is async-signal-safe and touches no memory of this process. The
        // kernel sends SIGTERM when the thread that started the server ends, so a killed run
        // leaves no server behind.
        unsafe {
            builder.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = builder.spawn().map_err(|source| LaunchError::Start {
            program: program.clone(),
            source,
        })?;
        Ok(ServerProcess {
            child,
            log: launch.log.to_path_buf(),
        })
    }

    /// The server's process id, which is also its process group's.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Where its output goes.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Its exit status, once it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Everything it printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last 15 lines it printed.
    pub fn log_tail(&self) -> String {
        let text = self.output();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Polls `probe` until it is ready; stops when the process exits, the time is up or
    /// the wait is cancelled.
    pub fn wait_until<T>(
        &mut self,
        wait: Wait<'_>,
        mut probe: impl FnMut(&ServerProcess) -> Poll<T>,
    ) -> Result<T, NotReady> {
        loop {
            if wait.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(NotReady::Interrupted);
            }
            let (last, again_in) = match probe(self) {
                Poll::Ready(found) => return Ok(found),
                Poll::NotYet { why, again_in } => (why, again_in),
            };
            if let Some(status) = self.exited() {
                return Err(NotReady::Exited(status.to_string()));
            }
            if wait.since.elapsed() >= wait.limit {
                return Err(NotReady::TimedOut {
                    limit: wait.limit,
                    last,
                });
            }
            std::thread::sleep(again_in);
        }
    }

    /// Until `http://127.0.0.1:PORT{path}` answers: with 200 when `needs_ok` (a health
    /// route), else with anything (a path that does not exist answers 404 once it is up).
    pub fn wait_http(
        &mut self,
        port: u16,
        path: &str,
        needs_ok: bool,
        wait: Wait<'_>,
    ) -> Result<(), NotReady> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        let url = format!("http://127.0.0.1:{port}{path}");
        self.wait_until(wait, |_| match agent.get(&url).call() {
            Ok(mut response) => {
                let _ = response.body_mut().read_to_vec();
                let status = response.status().as_u16();
                match !needs_ok || status == 200 {
                    true => Poll::Ready(()),
                    false => Poll::NotYet {
                        why: format!("GET {path} answered {status}"),
                        again_in: Duration::from_millis(200),
                    },
                }
            }
            Err(e) => Poll::NotYet {
                why: format!("GET {path}: {e}"),
                again_in: Duration::from_millis(200),
            },
        })
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let group = self.child.id() as i32;
        // SAFETY: signalling the process group this value created; no memory is involved.
        unsafe {
            libc::killpg(group, libc::SIGTERM);
        }
        let deadline = Instant::now() + GRACE;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(script: &str, dir: &Path) -> ServerProcess {
        let command = ["sh".to_string(), "-c".to_string(), script.to_string()];
        ServerProcess::start(Launch {
            command: &command,
            dir,
            log: &dir.join("server.log"),
            env: &[("GREETING".into(), "hello".into())],
        })
        .unwrap()
    }

    #[test]
    fn a_probe_that_turns_ready_returns_what_it_found() {
        let dir = tempfile::tempdir().unwrap();
        let mut server = shell("echo $GREETING; sleep 30", dir.path());
        let found = server.wait_until(Wait::up_to(Duration::from_secs(10)), |s| {
            match s.output().lines().next() {
                Some(line) => Poll::Ready(line.to_string()),
                None => Poll::NotYet {
                    why: "nothing printed".into(),
                    again_in: Duration::from_millis(10),
                },
            }
        });
        assert_eq!(found, Ok("hello".to_string()));
    }

    #[test]
    fn a_server_that_exits_is_not_waited_for_and_its_output_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut server = shell("echo no model here >&2; exit 3", dir.path());
        let started = Instant::now();
        let never = |_: &ServerProcess| Poll::<()>::NotYet {
            why: "no".into(),
            again_in: Duration::from_millis(20),
        };
        let why = server.wait_until(Wait::up_to(Duration::from_secs(30)), never);
        assert!(
            matches!(why, Err(NotReady::Exited(ref s)) if s.contains('3')),
            "{why:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(server.log_tail(), "no model here");
    }

    #[test]
    fn the_wait_ends_at_its_limit_or_when_cancelled_with_the_last_reason() {
        let dir = tempfile::tempdir().unwrap();
        let mut server = shell("sleep 30", dir.path());
        let never = |_: &ServerProcess| Poll::<()>::NotYet {
            why: "connection refused".into(),
            again_in: Duration::from_millis(10),
        };
        let timed_out = server.wait_until(Wait::up_to(Duration::from_millis(100)), never);
        assert!(
            matches!(timed_out, Err(NotReady::TimedOut { ref last, .. }) if last == "connection refused")
        );
        let cancel = AtomicBool::new(true);
        let wait = Wait {
            limit: Duration::from_secs(30),
            since: Instant::now(),
            cancel: Some(&cancel),
        };
        assert_eq!(server.wait_until(wait, never), Err(NotReady::Interrupted));
    }

    #[test]
    fn dropping_it_stops_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        // A worker in the background, as gunicorn forks them, that ignores SIGTERM.
        let server = shell(
            "sh -c 'trap \"\" TERM; echo $$ > worker.pid; sleep 60' & sleep 60",
            dir.path(),
        );
        let pid_file = dir.path().join("worker.pid");
        let started = Instant::now();
        while !pid_file.exists() && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let worker: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        drop(server);
        std::thread::sleep(Duration::from_millis(100));
        // Gone, or a zombie waiting for whoever adopted it to reap it.
        let state = std::fs::read_to_string(format!("/proc/{worker}/stat")).unwrap_or_default();
        let running = state
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'));
        assert!(!running, "the worker {worker} outlived its server: {state}");
    }

    #[test]
    fn wait_http_needs_a_200_from_a_health_route() {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port().unwrap();
        let script = format!(
            "exec python3 -c 'import http.server as h\nclass H(h.BaseHTTPRequestHandler):\n    def do_GET(self):\n        self.send_response(200 if self.path == \"/health\" else 404); self.end_headers()\n    def log_message(self, *a): pass\nh.HTTPServer((\"127.0.0.1\", {port}), H).serve_forever()'"
        );
        let mut server = shell(&script, dir.path());
        let wait = Wait::up_to(Duration::from_secs(20));
        assert_eq!(server.wait_http(port, "/health", true, wait), Ok(()));
        let missing =
            server.wait_http(port, "/gone", true, Wait::up_to(Duration::from_millis(300)));
        assert!(
            matches!(missing, Err(NotReady::TimedOut { ref last, .. }) if last.contains("404")),
            "{missing:?}"
        );
        assert_eq!(server.wait_http(port, "/gone", false, wait), Ok(()));
    }
}
