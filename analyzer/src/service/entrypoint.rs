//! Which module production starts, from evidence: the commands in Dockerfiles, Procfiles,
//! compose files, shell scripts and configs (`uvicorn app.main:app`, `gunicorn wsgi:app`,
//! `python -m serve`, `flask --app`, `streamlit run`, `torch-model-archiver --handler`),
//! then `uvicorn.run("main:app")` in Python, then the files that define routes or handlers.

use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::modules::ModuleIndex;
use super::torchserve_archive;
use crate::plan::{TORCHSERVE_BUILTIN_HANDLERS, TorchserveArchive};

/// Deployment files larger than this are not read for commands.
const MAX_DEPLOYMENT_FILE: u64 = 256 * 1024;

/// The module production starts, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntrypointChoice {
    /// The Python file, relative to the service root.
    pub file: String,
    /// The application object (`app` in `app.main:app`), when the evidence names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Where the choice comes from (`Dockerfile:12 CMD uvicorn app.main:app`).
    pub evidence: String,
    /// `declared` when a deployment file names it, `inferred` when chosen among files that
    /// serve or run a model.
    pub basis: EntrypointBasis,
    /// Other plausible entrypoints, with why each was not chosen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<Alternative>,
    /// The app behind the entrypoint that holds the model, when the entrypoint is a gateway
    /// calling it over HTTP: its model is the plan's, its routes and steps are not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_server: Option<String>,
    /// The model archive whose handler this is, when TorchServe serves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub torchserve: Option<TorchserveArchive>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntrypointBasis {
    /// `--entrypoint` on the command line.
    Given,
    Declared,
    Inferred,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    pub file: String,
    pub reason: String,
}

/// What one Python file offers as a candidate entrypoint.
#[derive(Debug, Default, Clone)]
pub struct FileRole {
    /// Routes or handlers it defines (Flask/FastAPI routes, a TorchServe handler, Gradio...).
    pub serves: bool,
    /// It has `if __name__ == "__main__":`.
    pub main_guard: bool,
    /// It loads or builds a model.
    pub loads_model: bool,
    /// It starts a server by module name (`uvicorn.run("app.main:app")`).
    pub starts_server: bool,
    /// It serves and makes outbound HTTP requests: a gateway in front of a model server.
    pub forwards: bool,
}

/// One command found in a deployment file.
#[derive(Debug, Clone)]
struct Evidence {
    file: usize,
    object: Option<String>,
    text: String,
    /// Lower is stronger: Dockerfile/compose 0, Procfile 1, scripts and configs 2, docs 3.
    rank: u8,
    /// A server command (`uvicorn`, `gunicorn`, `flask run`, `torchserve`), which outweighs
    /// `python script.py` in the same file: setup scripts run before the server starts.
    server: bool,
    /// A server whose API is its own and documented (TorchServe's inference API): a gateway
    /// calling it is one of its clients, not the service in front of it.
    own_api: bool,
}

/// A module one command line starts.
#[derive(Debug, Clone, PartialEq)]
struct Started {
    file: usize,
    object: Option<String>,
    server: bool,
    own_api: bool,
}

/// Finds the entrypoint among `python` files (indexed by `index`), reading deployment files
/// among `all_files` under `base`. `roles` is parallel to `index.files()`.
///
/// `reach(i)` is the set of files file i imports, at any depth. A command that starts a
/// file reaching no route, handler or model (`python utils/download.py`) is setup, not the
/// service.
pub fn find(
    base: &Path,
    all_files: &[String],
    index: &ModuleIndex,
    roles: &[FileRole],
    reach: &dyn Fn(usize) -> Vec<bool>,
) -> Option<EntrypointChoice> {
    let plausible = |i: usize| {
        reach(i)
            .iter()
            .zip(roles)
            .any(|(&r, role)| r && (role.serves || role.loads_model))
    };
    let archives = torchserve_archive::find(base, all_files);
    let mut evidence = deployment_evidence(base, all_files, index, &archives);
    let mut alternatives: Vec<Alternative> = Vec::new();
    // A file TorchServe serves (a handler, or the model file of a built-in handler) is the
    // service whatever its own code holds.
    evidence.retain(|e| {
        let keep = e.own_api || plausible(e.file);
        if !keep && !alternatives.iter().any(|a| a.file == index.file(e.file)) {
            alternatives.push(Alternative {
                file: index.file(e.file).to_string(),
                reason: format!(
                    "named by {}, but reaches no route, handler or model",
                    e.text
                ),
            });
        }
        keep
    });
    // `uvicorn.run("app.main:app")` in a file: weaker than a deployment file, stronger than
    // a guess. The file that runs it is what `python run.py` starts.
    for (i, role) in roles.iter().enumerate() {
        if role.main_guard && role.starts_server {
            evidence.push(Evidence {
                file: i,
                object: None,
                text: format!(
                    "{} starts the server in `if __name__ == \"__main__\"`",
                    index.file(i)
                ),
                rank: 4,
                server: true,
                own_api: false,
            });
        }
    }
    evidence.sort_by_key(|e| (e.rank, !e.server, penalty(index.file(e.file))));
    let model_server = put_gateway_first(&mut evidence, roles, reach);
    let chosen = if let Some(first) = evidence.first() {
        for e in &evidence[1..] {
            if e.file != first.file && !alternatives.iter().any(|a| a.file == index.file(e.file)) {
                alternatives.push(Alternative {
                    file: index.file(e.file).to_string(),
                    reason: format!("also named: {}", e.text),
                });
            }
        }
        let basis = if first.rank < 4 {
            EntrypointBasis::Declared
        } else {
            EntrypointBasis::Inferred
        };
        EntrypointChoice {
            file: index.file(first.file).to_string(),
            object: first.object.clone(),
            evidence: first.text.clone(),
            basis,
            alternatives: Vec::new(),
            model_server: model_server.map(|i| index.file(i).to_string()),
            torchserve: None,
        }
    } else {
        inferred(index, roles, reach, &mut alternatives)?
    };
    alternatives.truncate(5);
    let torchserve = archives
        .into_iter()
        .find(|a| a.service_file() == Some(chosen.file.as_str()));
    Some(EntrypointChoice {
        alternatives,
        torchserve,
        ..chosen
    })
}

/// Two apps started the same way, one holding the model and one that serves without a model
/// and calls out over HTTP: the second is the gateway clients talk to (a KServe transformer
/// in front of its predictor), so it is the entrypoint and the model server is behind it.
fn put_gateway_first(
    evidence: &mut [Evidence],
    roles: &[FileRole],
    reach: &dyn Fn(usize) -> Vec<bool>,
) -> Option<usize> {
    let first = evidence.first()?.clone();
    if first.own_api {
        return None;
    }
    let reaches_model = |i: usize| {
        reach(i)
            .iter()
            .zip(roles)
            .any(|(&r, role)| r && role.loads_model)
    };
    if !reaches_model(first.file) {
        return None;
    }
    let server_reaches = reach(first.file);
    let gateway = evidence.iter().position(|e| {
        e.rank == first.rank
            && e.server == first.server
            && e.file != first.file
            && roles[e.file].forwards
            && !server_reaches[e.file]
            && !reaches_model(e.file)
    });
    let g = gateway?;
    evidence[..=g].rotate_right(1);
    evidence[0].text = format!(
        "{}; it serves without a model and calls the model server over HTTP",
        evidence[0].text
    );
    Some(first.file)
}

/// No deployment file names a module: among the files that reach a route or handler, the
/// one no other plausible file imports (`main.py` including the routers of
/// `api/routes.py`), best named; else a file that runs a model under `__main__`.
fn inferred(
    index: &ModuleIndex,
    roles: &[FileRole],
    reach: &dyn Fn(usize) -> Vec<bool>,
    alternatives: &mut Vec<Alternative>,
) -> Option<EntrypointChoice> {
    // Whole trees (a vendored site-packages) would make this quadratic: past a few hundred
    // files only the files that serve themselves are candidates.
    const MAX_GRAPH_FILES: usize = 400;
    let reached: Vec<Vec<bool>> = if roles.len() <= MAX_GRAPH_FILES {
        (0..roles.len()).map(reach).collect()
    } else {
        Vec::new()
    };
    let serves = |i: usize| match reached.get(i) {
        Some(r) => r.iter().zip(roles).any(|(&r, role)| r && role.serves),
        None => roles[i].serves,
    };
    let reaches = |from: usize, to: usize| reached.get(from).is_some_and(|r| r[to]);
    let mut serving: Vec<usize> = (0..roles.len()).filter(|&i| serves(i)).collect();
    let why = if serving.is_empty() {
        serving = (0..roles.len())
            .filter(|&i| roles[i].main_guard && roles[i].loads_model)
            .collect();
        "runs a model under `if __name__ == \"__main__\"`"
    } else {
        "reaches the routes or handler"
    };
    let likely = |i: usize| penalty(index.file(i)) < UNLIKELY_PENALTY;
    let candidates = serving.clone();
    let imported_by_another = |i: usize| {
        candidates
            .iter()
            .any(|&j| j != i && likely(j) && reaches(j, i) && !reaches(i, j))
    };
    serving.sort_by_key(|&i| {
        (
            !likely(i),
            imported_by_another(i),
            penalty(index.file(i)),
            index.file(i).to_string(),
        )
    });
    let (&first, rest) = serving.split_first()?;
    for &i in rest {
        alternatives.push(Alternative {
            file: index.file(i).to_string(),
            reason: format!(
                "also {why}; {} was preferred by its name and place",
                index.file(first)
            ),
        });
    }
    Some(EntrypointChoice {
        file: index.file(first).to_string(),
        object: None,
        evidence: format!(
            "no deployment file names the app; {} {why}",
            index.file(first)
        ),
        basis: EntrypointBasis::Inferred,
        alternatives: Vec::new(),
        model_server: None,
        torchserve: None,
    })
}

const UNLIKELY_PENALTY: u32 = 100;

/// How unlikely a file is to be what production runs: backups, copies, demos, clients,
/// tests and deep paths sort last.
fn penalty(file: &str) -> u32 {
    let lower = file.to_ascii_lowercase();
    let stem = lower
        .rsplit('/')
        .next()
        .unwrap_or(&lower)
        .trim_end_matches(".py");
    let mut p = 10 * lower.matches('/').count() as u32;
    const UNLIKELY: &[&str] = &[
        "copy", "old", "backup", "bak", "orig", "test", "demo", "example", "client", "sample",
        "tmp", "draft", "v1", "legacy", "notebook", "bench", "train",
    ];
    if UNLIKELY.iter().any(|w| stem.contains(w))
        || lower.contains("/examples/")
        || lower.contains("/tests/")
        || lower.contains(" ")
    {
        p += UNLIKELY_PENALTY;
    }
    const LIKELY: &[&str] = &[
        "app",
        "main",
        "server",
        "serve",
        "service",
        "api",
        "wsgi",
        "asgi",
        "handler",
        "predict",
        "inference",
    ];
    if !LIKELY.contains(&stem) {
        p += 5;
    }
    p
}

/// Commands that start a Python module, found in the service's deployment files.
fn deployment_evidence(
    base: &Path,
    all_files: &[String],
    index: &ModuleIndex,
    archives: &[TorchserveArchive],
) -> Vec<Evidence> {
    let mut out = Vec::new();
    for file in all_files {
        let Some(rank) = deployment_rank(file) else {
            continue;
        };
        let path = base.join(file);
        if std::fs::metadata(&path).map_or(true, |m| m.len() > MAX_DEPLOYMENT_FILE) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if file.ends_with(".wsgi") {
            out.extend(wsgi_imports(file, &text, index));
            continue;
        }
        let flask_app = flask_app_env(&text);
        let dockerfile = is_dockerfile(file);
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.starts_with('#') && !file.ends_with(".md") {
                continue;
            }
            // `RUN python train.py` runs at build time; only CMD and ENTRYPOINT start it.
            let upper = line.get(..10).unwrap_or(line).to_ascii_uppercase();
            if dockerfile && !(upper.starts_with("CMD") || upper.starts_with("ENTRYPOINT")) {
                continue;
            }
            for started in commands_in(line, flask_app.as_deref(), index, archives) {
                out.push(Evidence {
                    file: started.file,
                    object: started.object,
                    text: format!("{file}:{} `{}`", n + 1, shorten(line)),
                    rank,
                    server: started.server,
                    own_api: started.own_api,
                });
            }
        }
    }
    out
}

fn is_dockerfile(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file).to_ascii_lowercase();
    name.starts_with("dockerfile") || name.ends_with(".dockerfile")
}

/// A mod_wsgi `.wsgi` file is Python that imports the application:
/// `from main import app as application`.
fn wsgi_imports(file: &str, text: &str, index: &ModuleIndex) -> Vec<Evidence> {
    text.lines()
        .enumerate()
        .filter_map(|(n, line)| {
            let line = line.trim();
            let module = line
                .strip_prefix("from ")
                .and_then(|r| r.split_whitespace().next())
                .or_else(|| {
                    line.strip_prefix("import ")
                        .and_then(|r| r.split_whitespace().next())
                })?;
            let i = index.find_named(module.trim_end_matches(','))?;
            Some(Evidence {
                file: i,
                object: None,
                text: format!("{file}:{} `{}`", n + 1, shorten(line)),
                rank: 1,
                server: true,
                own_api: false,
            })
        })
        .collect()
}

/// Which files hold deployment commands, and how much they weigh.
fn deployment_rank(file: &str) -> Option<u8> {
    let name = file.rsplit('/').next().unwrap_or(file).to_ascii_lowercase();
    if is_dockerfile(file) || name.starts_with("docker-compose") || name.starts_with("compose.") {
        Some(0)
    } else if name == "procfile"
        || name == "app.yaml"
        || name == "fly.toml"
        || name.ends_with(".wsgi")
    {
        Some(1)
    } else if name.ends_with(".sh")
        || name == "makefile"
        || name.ends_with(".properties")
        || name.ends_with(".service")
        || name.ends_with(".conf")
        || name.ends_with(".ini")
        || name.ends_with(".cfg")
        || name.starts_with("gunicorn")
        || name == "pyproject.toml"
        || name == ".env"
        || ((name.ends_with(".yaml") || name.ends_with(".yml")) && !name.contains("workflow"))
    {
        Some(2)
    } else if name == "readme.md" || name == "readme.rst" || name == "readme" {
        Some(3)
    } else {
        None
    }
}

fn flask_app_env(text: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r#"FLASK_APP\s*[=\s]\s*["']?([A-Za-z_][\w./]*)"#).expect("valid regex")
    });
    re.captures(text).map(|c| c[1].to_string())
}

/// The modules one command line starts, as files of the service, with the app object.
fn commands_in(
    line: &str,
    flask_app: Option<&str>,
    index: &ModuleIndex,
    archives: &[TorchserveArchive],
) -> Vec<Started> {
    let tokens: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | ',' | '"' | '\'' | '='))
        .filter(|t| !t.is_empty())
        .collect();
    let mut out = Vec::new();
    let has = |word: &str| {
        tokens
            .iter()
            .any(|t| t.rsplit('/').next() == Some(word) || t.starts_with(&format!("{word}.")))
    };
    // `uvicorn app.main:app`, `gunicorn -k uvicorn.workers.UvicornWorker wsgi:app`.
    if [
        "uvicorn",
        "gunicorn",
        "hypercorn",
        "daphne",
        "granian",
        "waitress-serve",
    ]
    .iter()
    .any(|s| has(s))
        || line.contains("wsgi_app")
    {
        for t in &tokens {
            if let Some((module, object)) = module_object(t)
                && let Some(i) = index.find_named(module)
            {
                out.push(Started {
                    file: i,
                    object: Some(object.to_string()),
                    server: true,
                    own_api: false,
                });
            }
        }
    }
    // `python -m serve`, `python3 -u src/app.py`.
    if let Some(p) = tokens.iter().position(|t| {
        t.rsplit('/')
            .next()
            .is_some_and(|n| n.starts_with("python"))
    }) {
        let mut rest = tokens[p + 1..].iter();
        while let Some(t) = rest.next() {
            if *t == "-m" {
                if let Some(m) = rest.next()
                    && let Some(i) = index.find_named(m)
                {
                    out.push(Started {
                        file: i,
                        object: None,
                        server: false,
                        own_api: false,
                    });
                }
                break;
            }
            if t.starts_with('-') {
                continue;
            }
            if t.ends_with(".py")
                && let Some(i) = index.find_path(t)
            {
                out.push(Started {
                    file: i,
                    object: None,
                    server: false,
                    own_api: false,
                });
            }
            break;
        }
    }
    // `streamlit run app.py`, `gradio app.py`, `panel serve app.py`.
    if has("streamlit") || has("gradio") || has("panel") || has("chainlit") || has("fastapi") {
        for t in tokens.iter().filter(|t| t.ends_with(".py")) {
            if let Some(i) = index.find_path(t) {
                out.push(Started {
                    file: i,
                    object: None,
                    server: true,
                    own_api: false,
                });
            }
        }
    }
    // `flask run` with FLASK_APP, or `flask --app app run`.
    if has("flask") && tokens.contains(&"run") {
        let app = tokens
            .iter()
            .position(|t| *t == "--app" || *t == "-A")
            .and_then(|p| tokens.get(p + 1).copied())
            .or(flask_app);
        if let Some(app) = app {
            let module = app.split(':').next().unwrap_or(app);
            let found = if module.ends_with(".py") {
                index.find_path(module)
            } else {
                index.find_named(module)
            };
            if let Some(i) = found {
                out.push(Started {
                    file: i,
                    object: app.split(':').nth(1).map(str::to_string),
                    server: true,
                    own_api: false,
                });
            }
        }
    }
    // `torch-model-archiver --handler handler.py`, `handler=handler.py` in a config.
    if let Some(p) = tokens
        .iter()
        .position(|t| *t == "--handler" || *t == "handler")
        && let Some(h) = tokens.get(p + 1)
    {
        let h = h.split(':').next().unwrap_or(h);
        let builtin = TORCHSERVE_BUILTIN_HANDLERS
            .iter()
            .any(|(name, _)| name == &h);
        let model_file = || {
            let p = tokens.iter().position(|t| *t == "--model-file")?;
            index.find_path(tokens.get(p + 1)?)
        };
        let found = if h.ends_with(".py") {
            index.find_path(h)
        } else if builtin {
            // TorchServe's own handler: the service's part is the model file.
            model_file()
        } else {
            index.find_named(h)
        };
        if let Some(i) = found {
            out.push(Started {
                file: i,
                object: None,
                server: true,
                own_api: builtin,
            });
        }
    }
    // `torchserve --start --models name=name.mar`: the handler of the archive it loads (the
    // model file, for a built-in handler).
    if has("torchserve")
        && let Some(archive) = torchserve_archive::started_by(&tokens, archives)
        && let Some(i) = archive.service_file().and_then(|f| index.find_path(f))
    {
        out.push(Started {
            file: i,
            object: None,
            server: true,
            own_api: true,
        });
    }
    // `python setup.py && python -m x` lists both; keep each file once, the server first.
    out.sort_by_key(|s| !s.server);
    out.dedup_by_key(|s| s.file);
    out
}

/// `app.main:app` -> (`app.main`, `app`); `main:create_app()` -> (`main`, `create_app`).
pub fn module_object(token: &str) -> Option<(&str, &str)> {
    let (module, object) = token.split_once(':')?;
    let object = object.trim_end_matches("()");
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    };
    (ident(module) && ident(object) && !object.contains('.')).then_some((module, object))
}

fn shorten(line: &str) -> String {
    if line.len() <= 100 {
        return line.to_string();
    }
    let mut end = 100;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &line[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(files: &[&str]) -> ModuleIndex {
        ModuleIndex::new(&files.iter().map(|f| f.to_string()).collect::<Vec<_>>())
    }

    fn started(line: &str, flask: Option<&str>, ix: &ModuleIndex) -> Vec<(usize, Option<String>)> {
        commands_in(line, flask, ix, &[])
            .into_iter()
            .map(|s| (s.file, s.object))
            .collect()
    }

    #[test]
    fn server_commands_name_the_module_and_object() {
        let ix = index(&["app/__init__.py", "app/main.py", "train.py"]);
        let app = Some("app".to_string());
        let line = r#"CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]"#;
        assert_eq!(started(line, None, &ix), vec![(1, app.clone())]);
        let line = "web: gunicorn --bind 0.0.0.0:8000 app.main:app";
        assert_eq!(started(line, None, &ix), vec![(1, app)]);
        assert_eq!(started("python train.py", None, &ix), vec![(2, None)]);
        assert_eq!(
            started("CMD python -m app.main", None, &ix),
            vec![(1, None)]
        );
        assert!(started("RUN pip install -r requirements.txt", None, &ix).is_empty());
        // A setup script and the server on one line: the server first.
        let line = "python train.py && uvicorn app.main:app";
        assert_eq!(started(line, None, &ix)[0].0, 1);
    }

    #[test]
    fn flask_streamlit_and_torchserve_commands_are_understood() {
        let ix = index(&["web/app.py", "ui.py", "handler.py"]);
        let line = "flask run --host 0.0.0.0";
        assert_eq!(started(line, Some("web/app.py"), &ix), vec![(0, None)]);
        assert_eq!(started("streamlit run ui.py", None, &ix), vec![(1, None)]);
        let line = "torch-model-archiver --model-name m --handler handler.py";
        assert_eq!(started(line, None, &ix), vec![(2, None)]);
    }

    #[test]
    fn a_dockerfile_is_read_for_what_it_starts_not_what_it_builds() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM python:3.11\nRUN python train.py\nCMD [\"gunicorn\", \"serve:app\"]\n",
        )
        .expect("write");
        let ix = index(&["train.py", "serve.py"]);
        let roles = vec![
            FileRole {
                loads_model: true,
                ..FileRole::default()
            },
            FileRole {
                serves: true,
                ..FileRole::default()
            },
        ];
        let e = find(dir.path(), &["Dockerfile".into()], &ix, &roles, &|_| {
            vec![true, true]
        })
        .expect("an entrypoint");
        assert_eq!(e.file, "serve.py");
        assert_eq!(e.object.as_deref(), Some("app"));
        assert_eq!(e.basis, EntrypointBasis::Declared);
        assert!(e.evidence.starts_with("Dockerfile:3"), "{}", e.evidence);
    }

    #[test]
    fn a_command_that_reaches_no_route_or_model_is_setup_not_the_service() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("entrypoint.sh"),
            "python utils/download.py\ntorchserve --start\n",
        )
        .expect("write");
        let ix = index(&["utils/download.py", "handler.py"]);
        let roles = vec![
            FileRole::default(),
            FileRole {
                serves: true,
                ..FileRole::default()
            },
        ];
        let e = find(dir.path(), &["entrypoint.sh".into()], &ix, &roles, &|i| {
            vec![i == 0, i == 1]
        })
        .expect("an entrypoint");
        assert_eq!(e.file, "handler.py");
        assert_eq!(e.alternatives[0].file, "utils/download.py");
    }

    #[test]
    fn without_evidence_the_module_that_includes_the_routes_wins() {
        let ix = index(&["api/routes.py", "main.py", "tests/test_api.py"]);
        let roles = vec![
            FileRole {
                serves: true,
                ..FileRole::default()
            },
            FileRole::default(),
            FileRole::default(),
        ];
        // main.py and the test import the routes; the routes import nothing.
        let e = find(Path::new("/nonexistent"), &[], &ix, &roles, &|i| match i {
            0 => vec![true, false, false],
            1 => vec![true, true, false],
            _ => vec![true, false, true],
        })
        .expect("an entrypoint");
        assert_eq!(e.file, "main.py");
    }

    #[test]
    fn without_evidence_the_best_named_serving_file_wins() {
        let ix = index(&["app copy.py", "app.py", "client.py"]);
        let serving = FileRole {
            serves: true,
            ..FileRole::default()
        };
        let roles = vec![serving.clone(), serving, FileRole::default()];
        let e = find(Path::new("/nonexistent"), &[], &ix, &roles, &|i| {
            (0..3).map(|j| j == i).collect()
        })
        .expect("an entrypoint");
        assert_eq!(e.file, "app.py");
        assert_eq!(e.basis, EntrypointBasis::Inferred);
        assert_eq!(e.alternatives.len(), 1);
        assert_eq!(e.alternatives[0].file, "app copy.py");
    }
}
