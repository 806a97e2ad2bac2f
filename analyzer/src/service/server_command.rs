//! How production starts the service's server: the declared command (`gunicorn -w 4 -b :8000
//! app:app`, `uvicorn main:app --workers 2`, `flask --app app run`), else the framework's usual
//! server. `verify --http` starts the original the same way; the migrated module listens on
//! the same port with as many instances as the original had workers.

use crate::pipeline::ServingKind;
use crate::plan::{Entrypoint, ServerKind, ServerPlan};

use super::entrypoint::EntrypointChoice;

/// Flask's own server starts a thread per request; this many stand for "a few at once".
const FLASK_THREADS: u32 = 4;

pub(crate) fn server_plan(
    choice: Option<&EntrypointChoice>,
    entry: &Entrypoint,
) -> Option<ServerPlan> {
    let object = choice
        .and_then(|c| c.object.clone())
        .unwrap_or_else(|| "app".to_string());
    let declared = choice.and_then(|c| {
        let command = c.evidence.split('`').nth(1)?;
        from_command(command, &c.evidence)
    });
    declared.or_else(|| framework_default(entry, &object))
}

/// The server a command line starts, with the options that matter here.
fn from_command(command: &str, evidence: &str) -> Option<ServerPlan> {
    let tokens: Vec<String> = command
        .split(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | ','))
        .map(|t| t.trim_matches(|c| c == '"' || c == '\''))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let position = |name: &str| {
        tokens
            .iter()
            .position(|t| t == name || t.rsplit('/').next() == Some(name))
    };
    let (kind, rest) = [ServerKind::Gunicorn, ServerKind::Uvicorn, ServerKind::Flask]
        .into_iter()
        .find_map(|kind| position(kind.as_str()).map(|p| (kind, &tokens[p + 1..])))?;
    let mut plan = ServerPlan {
        kind,
        app: String::new(),
        workers: 1,
        threads: if kind == ServerKind::Flask {
            FLASK_THREADS
        } else {
            1
        },
        worker_class: None,
        app_dir: None,
        port: kind.default_port(),
        evidence: evidence.to_string(),
    };
    let mut factory = false;
    let mut args = rest.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next().cloned());
        match flag {
            "-w" | "--workers" => plan.workers = value()?.parse().ok().unwrap_or(1),
            "--threads" => plan.threads = value()?.parse().ok().unwrap_or(1),
            "-k" | "--worker-class" => plan.worker_class = value(),
            "--app-dir" | "--chdir" => plan.app_dir = value(),
            "--app" => plan.app = value()?,
            "-b" | "--bind" => {
                if let Some(port) = value()?.rsplit(':').next().and_then(|p| p.parse().ok()) {
                    plan.port = port;
                }
            }
            "-p" | "--port" => {
                if let Ok(port) = value()?.parse() {
                    plan.port = port;
                }
            }
            // Options with a value that says nothing here.
            "-c" | "--config" | "--host" | "-h" | "--log-level" | "--timeout" | "-t"
            | "--access-logfile" | "--error-logfile" | "--root-path" | "--env-file" => {
                value();
            }
            "--factory" => factory = true,
            "run" if kind == ServerKind::Flask => {}
            positional if !positional.starts_with('-') && plan.app.is_empty() => {
                plan.app = positional.to_string();
            }
            _ => {}
        }
    }
    if plan.app.is_empty() {
        return None;
    }
    if factory && !plan.app.ends_with(')') {
        plan.app.push_str("()");
    }
    Some(plan)
}

fn framework_default(entry: &Entrypoint, object: &str) -> Option<ServerPlan> {
    let module = entry
        .file
        .trim_end_matches(".py")
        .trim_end_matches("/__init__")
        .replace('/', ".");
    let (kind, threads) = match entry.kind {
        ServingKind::Flask => (ServerKind::Flask, FLASK_THREADS),
        ServingKind::Fastapi => (ServerKind::Uvicorn, 1),
        ServingKind::Torchserve => (ServerKind::Torchserve, 1),
        ServingKind::Script => return None,
    };
    Some(ServerPlan {
        kind,
        app: format!("{module}:{object}"),
        workers: 1,
        threads,
        worker_class: None,
        app_dir: None,
        port: kind.default_port(),
        evidence: "default: no deployment file names a server command".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(command: &str) -> ServerPlan {
        from_command(command, "test").expect("a server command")
    }

    #[test]
    fn gunicorn_options_and_app_are_read() {
        let plan = parse("gunicorn -w 4 --threads=2 -b 0.0.0.0:9000 --chdir src wsgi:app");
        assert_eq!(plan.kind, ServerKind::Gunicorn);
        assert_eq!(plan.app, "wsgi:app");
        assert_eq!((plan.workers, plan.threads, plan.port), (4, 2, 9000));
        assert_eq!(plan.app_dir.as_deref(), Some("src"));
        assert_eq!(plan.concurrency(), 8);
    }

    #[test]
    fn exec_form_uvicorn_with_a_factory() {
        let plan = parse(
            r#"CMD ["uvicorn", "pkg.api:create_app", "--factory", "--port", "8080", "--workers", "3"]"#,
        );
        assert_eq!(plan.kind, ServerKind::Uvicorn);
        assert_eq!(plan.app, "pkg.api:create_app()");
        assert_eq!((plan.workers, plan.port), (3, 8080));
    }

    #[test]
    fn flask_run_names_its_app_with_a_flag() {
        let plan = parse("flask --app scorer run --port 7000");
        assert_eq!((plan.app.as_str(), plan.port), ("scorer", 7000));
        assert_eq!(plan.threads, FLASK_THREADS);
    }

    #[test]
    fn a_command_without_a_server_is_not_one() {
        assert!(from_command("python make_model.py", "x").is_none());
    }
}
