//! How production starts the service's server: the declared command (`gunicorn -w 4 -b :8000
//! app:app`, `uvicorn main:app --workers 2`, `flask --app app run`), else the framework's usual
//! server. `verify --http` starts the original the same way; the migrated module listens on
//! the same port with as many instances as the original had workers.

use std::path::Path;

use crate::pipeline::ServingKind;
use crate::plan::{Entrypoint, ServerKind, ServerPlan};

use super::entrypoint::EntrypointChoice;

/// Flask's own server starts a thread per request; this many stand for "a few at once".
const FLASK_THREADS: u32 = 4;

pub(crate) fn server_plan(
    choice: Option<&EntrypointChoice>,
    entry: &Entrypoint,
    base: &Path,
) -> Option<ServerPlan> {
    let object = choice
        .and_then(|c| c.object.clone())
        .unwrap_or_else(|| "app".to_string());
    let declared = choice.and_then(|c| {
        let command = c.evidence.split('`').nth(1)?;
        from_command(command, &c.evidence)
    });
    if entry.kind == ServingKind::Torchserve {
        return torchserve(choice, entry, &object, base);
    }
    declared.or_else(|| {
        let mut plan = framework_default(entry, &object, base)?;
        // `python app.py` runs `app.run(port=8080)`: the port people reach the service on.
        let source = std::fs::read_to_string(base.join(&entry.file)).ok();
        if let Some(port) = source.as_deref().and_then(run_port) {
            plan.port = port;
            plan.evidence = format!("{}; port {port} from the entry's run call", plan.evidence);
        }
        Some(plan)
    })
}

/// TorchServe serving the handler, with the archive it loads: the command that starts it
/// (`torchserve --models digits=digits.mar`), else the archiver command that packs the handler.
fn torchserve(
    choice: Option<&EntrypointChoice>,
    entry: &Entrypoint,
    object: &str,
    base: &Path,
) -> Option<ServerPlan> {
    let mut plan = framework_default(entry, object, base)?;
    // The handler class TorchServe instantiates, not an app object.
    let module = plan.app.split(':').next().unwrap_or_default().to_string();
    plan.app = format!("{module}:{}", entry.handler);
    if let Some(choice) = choice.filter(|c| c.file == entry.file) {
        plan.archive = choice.torchserve.clone();
        if choice.evidence.contains("torchserve") {
            plan.evidence = choice.evidence.clone();
        } else if let Some(archive) = &plan.archive {
            plan.evidence = format!("{}; TorchServe serves it", archive.evidence);
        }
    }
    // `--ts-config FILE` in the command, else the service's config.properties.
    let named = plan
        .evidence
        .split_whitespace()
        .skip_while(|t| !t.contains("--ts-config"))
        .nth(1)
        .map(|t| t.trim_matches(|c: char| "\"'`,[]".contains(c)).to_string());
    let config = named
        .into_iter()
        .chain(["config.properties".to_string()])
        .find(|f| base.join(f).is_file());
    if let Some(file) = config
        && let Ok(text) = std::fs::read_to_string(base.join(&file))
    {
        read_torchserve_config(&text, &file, &mut plan);
    }
    Some(plan)
}

/// TorchServe's `config.properties`: the inference API's port and the workers per model.
fn read_torchserve_config(text: &str, file: &str, plan: &mut ServerPlan) {
    for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        match key.trim() {
            "inference_address" => {
                if let Some(port) = value.trim().rsplit(':').next().and_then(|p| p.parse().ok()) {
                    plan.port = port;
                }
            }
            "default_workers_per_model" => {
                if let Ok(workers) = value.trim().parse() {
                    plan.workers = workers;
                }
            }
            _ => continue,
        }
        plan.evidence = format!("{}; {file}: {}", plan.evidence, line);
    }
}

/// Where Python finds the entry when it runs as `python path/to/app.py`: the first folder
/// up from the file that is not a package, and the module's dotted name from there.
fn import_root(entry_file: &str, base: &Path) -> (Option<String>, String) {
    let module_path = entry_file.trim_end_matches(".py");
    let mut parts: Vec<&str> = module_path.split('/').collect();
    let mut root = parts.len() - 1;
    while root > 0
        && base
            .join(parts[..root].join("/"))
            .join("__init__.py")
            .is_file()
    {
        root -= 1;
    }
    let dir = (root > 0).then(|| parts[..root].join("/"));
    let mut module: Vec<&str> = parts.split_off(root);
    if module.last() == Some(&"__init__") {
        module.pop();
    }
    (dir, module.join("."))
}

/// The literal port of the entry's own server call (`app.run(port=8080)`,
/// `uvicorn.run(app, port=int(os.environ.get("PORT", 8000)))`): the number itself, or the
/// default of the environment variable that gives it.
fn run_port(source: &str) -> Option<u16> {
    static RUN_PORT: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let pattern = RUN_PORT.get_or_init(|| {
        regex::Regex::new(
            r#"\.run\([^)]*?\bport\s*=\s*(?:int\(\s*)?(?:os\.(?:environ\.get|getenv)\(\s*["'][A-Za-z_]+["']\s*,\s*)?["']?(\d{2,5})\b"#,
        )
        .expect("the pattern compiles")
    });
    pattern
        .captures_iter(source)
        .filter_map(|c| c[1].parse().ok())
        .next()
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
        archive: None,
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

fn framework_default(entry: &Entrypoint, object: &str, base: &Path) -> Option<ServerPlan> {
    let (app_dir, module) = import_root(&entry.file, base);
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
        app_dir,
        port: kind.default_port(),
        evidence: "default: no deployment file names a server command".to_string(),
        archive: None,
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
    fn torchserve_s_config_gives_the_port_and_the_workers() {
        let mut plan = ServerPlan {
            kind: ServerKind::Torchserve,
            app: "handler:Handler".into(),
            workers: 1,
            threads: 1,
            worker_class: None,
            app_dir: None,
            port: 8080,
            evidence: "serve.sh:2".into(),
            archive: None,
        };
        let text = "# TorchServe\ninference_address=http://0.0.0.0:9090\n\
                    management_address=http://0.0.0.0:9091\ndefault_workers_per_model=3\n";
        read_torchserve_config(text, "config.properties", &mut plan);
        assert_eq!((plan.port, plan.workers), (9090, 3));
        assert!(
            plan.evidence
                .ends_with("config.properties: default_workers_per_model=3"),
            "{}",
            plan.evidence
        );
    }

    #[test]
    fn a_command_without_a_server_is_not_one() {
        assert!(from_command("python make_model.py", "x").is_none());
    }

    #[test]
    fn the_entry_run_call_gives_the_port() {
        assert_eq!(run_port("app.run(host=\"0.0.0.0\", port=8080)"), Some(8080));
        assert_eq!(
            run_port(
                "uvicorn.run(app, host=\"0.0.0.0\", port=int(os.environ.get(\"PORT\", 8000)))"
            ),
            Some(8000)
        );
        assert_eq!(
            run_port("app.run(port=os.getenv('PORT', '7860'))"),
            Some(7860)
        );
        assert_eq!(run_port("app.run(debug=True)"), None);
        assert_eq!(run_port("app.run(port=PORT)"), None);
    }

    #[test]
    fn a_script_in_a_folder_imports_from_that_folder_and_a_package_from_above_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src/pkg")).unwrap();
        std::fs::write(dir.path().join("src/pkg/__init__.py"), "").unwrap();
        assert_eq!(import_root("app.py", dir.path()), (None, "app".into()));
        assert_eq!(
            import_root("digits/app.py", dir.path()),
            (Some("digits".into()), "app".into())
        );
        assert_eq!(
            import_root("src/pkg/api.py", dir.path()),
            (Some("src".into()), "pkg.api".into())
        );
        assert_eq!(
            import_root("src/pkg/__init__.py", dir.path()),
            (Some("src".into()), "pkg".into())
        );
    }
}
