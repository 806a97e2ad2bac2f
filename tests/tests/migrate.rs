//! `wasm-migrate migrate`: one command from a service's code to a verified module, reusing what
//! is up to date, and stopping with the next step where a person must decide.

use std::path::{Path, PathBuf};

use serde_json::Value;
use wasm_migrate_tests::flow::{python, wm};
use wasm_migrate_tests::{copy_dir, python_env, sample};

/// A fresh copy of the service at `source` with its model made, and nothing migrated yet.
fn fresh_copy(source: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let service = dir.path().join(source.file_name().unwrap());
    copy_dir(source, &service);
    python(&[&service.join("make_model.py")]);
    (dir, service)
}

fn fresh_sample(name: &str) -> (tempfile::TempDir, PathBuf) {
    fresh_copy(&sample(name))
}

/// One of tests/services: services of the tool's own, in the shapes real ones have.
fn fresh_test_service(name: &str) -> (tempfile::TempDir, PathBuf) {
    fresh_copy(
        &wasm_migrate_tests::repo_root()
            .join("tests/services")
            .join(name),
    )
}

/// `migrate SERVICE --format json` with the test venv's Python; the exit code and the report.
fn migrate(service: &Path, extra: &[&str]) -> (Option<i32>, Value, String) {
    let venv_python = python_env().join("bin/python");
    let mut args = vec![
        "migrate",
        service.to_str().unwrap(),
        "--python",
        venv_python.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend(extra);
    let output = wm(&args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stderr}"));
    (output.status.code(), report, stderr)
}

fn status<'r>(report: &'r Value, stage: &str) -> &'r str {
    report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == stage)
        .unwrap_or_else(|| panic!("no {stage} stage in {report:#}"))["status"]
        .as_str()
        .unwrap()
}

#[test]
fn migrate_takes_a_sample_to_equivalent_and_then_reuses_what_is_up_to_date() {
    let (_dir, service) = fresh_sample("onnxruntime-service");
    let backend = ["--backend", "onnxruntime", "--count", "3"];
    let (code, report, stderr) = migrate(&service, &backend);
    assert_eq!(code, Some(0), "{report:#}\n{stderr}");
    assert_eq!(report["schema"], "wasm-migrate.migrate/1");
    assert_eq!(report["verdict"], "equivalent", "{report:#}");
    assert_eq!(report["route"], "glue");
    for stage in [
        "analyze",
        "generate",
        "convert",
        "build",
        "verify",
        "verify-http",
    ] {
        assert_eq!(status(&report, stage), "done", "{stage}: {report:#}");
    }
    assert_eq!(status(&report, "bench"), "skipped");
    // Both comparisons are in the report, each with verify's own schema.
    assert_eq!(report["verify"]["schema"], "wasm-migrate/verify");
    assert_eq!(
        report["verify_http"]["schema"],
        "wasm-migrate.verify-http/1"
    );
    assert!(service.join("wasm-migrate.yaml").is_file());

    // A second run: the plan, the glue, the model and the module are reused; verify runs.
    let (code, again, stderr) = migrate(&service, &backend);
    assert_eq!(code, Some(0), "{again:#}\n{stderr}");
    for stage in ["analyze", "generate", "convert", "build"] {
        assert_eq!(status(&again, stage), "reused", "{stage}: {again:#}");
    }
    assert_eq!(status(&again, "verify"), "done");

    // Generated code edited by hand: the module is rebuilt from it, nothing before that.
    let main = service.join("migrated/src/main.rs");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, format!("{text}\n// edited\n")).unwrap();
    let (code, edited, stderr) = migrate(&service, &backend);
    assert_eq!(code, Some(0), "{edited:#}\n{stderr}");
    assert_eq!(status(&edited, "generate"), "reused");
    assert_eq!(status(&edited, "build"), "done");
}

#[test]
fn migrate_stops_at_a_plan_generate_refuses_and_names_the_next_step() {
    let (_dir, service) = fresh_sample("onnxruntime-service");
    let s = service.to_str().unwrap();
    assert!(wm(&["analyze", s, "--write-plan"]).status.success());
    let plan_path = service.join("wasm-migrate.yaml");
    let plan = std::fs::read_to_string(&plan_path).unwrap();
    std::fs::write(
        &plan_path,
        plan.replace("symbol: cv2.INTER_LINEAR", "symbol: cv2.INTER_CUBIC"),
    )
    .unwrap();
    let (code, report, stderr) = migrate(&service, &[]);
    assert_eq!(code, Some(2), "{report:#}\n{stderr}");
    assert_eq!(report["verdict"], "not-migrated");
    // The plan the person wrote is theirs: read, never rewritten.
    assert_eq!(status(&report, "analyze"), "reused");
    assert_eq!(status(&report, "generate"), "failed");
    assert_eq!(
        std::fs::read_to_string(&plan_path).unwrap(),
        plan.replace("symbol: cv2.INTER_LINEAR", "symbol: cv2.INTER_CUBIC")
    );
    let failed = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "failed")
        .unwrap();
    assert!(
        failed["summary"].as_str().unwrap().contains("INTER_CUBIC")
            && failed["summary"]
                .as_str()
                .unwrap()
                .contains("wasm-migrate.yaml:"),
        "{failed:#}"
    );
    assert!(
        report["next_step"].as_str().unwrap().contains("plan line"),
        "{report:#}"
    );
    assert!(!service.join("migrated").exists(), "nothing half-written");
}

#[test]
fn an_unseen_style_service_migrates_untouched() {
    // tests/services/flask-grayscale: a custom nn.Module of the service's own, ImageOps.fit,
    // convert("L") to one channel, started as `python digits/app.py` (a script in a folder
    // that is not a package) on the port of its `app.run(port=8000)`. Nothing is edited.
    let (_dir, service) = fresh_test_service("flask-grayscale");
    let (code, report, stderr) = migrate(&service, &["--backend", "tract", "--count", "3"]);
    assert_eq!(code, Some(0), "{report:#}\n{stderr}");
    assert_eq!(report["verdict"], "equivalent", "{report:#}");
    assert_eq!(status(&report, "verify-http"), "done", "{report:#}");
    let plan = std::fs::read_to_string(service.join("wasm-migrate.yaml")).unwrap();
    for line in [
        "port: 8000",
        "app_dir: digits",
        "op: fit",
        "mode: L",
        "- 48",
    ] {
        assert!(plan.contains(line), "{line}:\n{plan}");
    }
    // One channel in, as the model takes it.
    assert!(
        plan.contains("shape:\n  - 1\n  - 1\n  - 48\n  - 48\n"),
        "{plan}"
    );
}

#[test]
fn a_service_taking_json_numbers_migrates_untouched() {
    // tests/services/flask-json-array: the body is `{"pixels": [...]}`, 64 numbers that the
    // route makes float64, reshapes, divides by 16 and casts to float32 before an ONNX model.
    let (_dir, service) = fresh_test_service("flask-json-array");
    let (code, report, stderr) = migrate(&service, &["--backend", "tract", "--count", "3"]);
    assert_eq!(code, Some(0), "{report:#}\n{stderr}");
    assert_eq!(report["verdict"], "equivalent", "{report:#}");
    assert_eq!(status(&report, "verify-http"), "done", "{report:#}");
    // The arrays reached the model as the service made them, bit for bit.
    for result in report["verify"]["backends"][0]["results"]
        .as_array()
        .unwrap()
    {
        assert_eq!(result["preprocessed"]["max_abs"], 0.0, "{result:#}");
        assert_eq!(result["preprocessed"]["elements"], 64, "{result:#}");
    }
    let plan = std::fs::read_to_string(service.join("wasm-migrate.yaml")).unwrap();
    for line in ["kind: tensor", "kind: json", "field: pixels", "value: 16.0"] {
        assert!(plan.contains(line), "{line}:\n{plan}");
    }
}

#[test]
fn a_tabular_service_that_documents_no_request_is_verified_on_requests_made_from_its_fields() {
    // tests/services/flask-tabular: a pickled DictVectorizer and model behind Flask, whose
    // README has no `curl` example. The requests come from the vectorizer's fields.
    let (_dir, service) = fresh_test_service("flask-tabular");
    let (code, report, stderr) = migrate(&service, &["--backend", "tract"]);
    assert_eq!(code, Some(0), "{report:#}\n{stderr}");
    assert_eq!(report["verdict"], "equivalent", "{report:#}");
    assert_eq!(report["route"], "wasi-python", "{report:#}");
    let inputs: Vec<&Value> = report["verify"]["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "input")
        .collect();
    assert!(!inputs.is_empty(), "{report:#}");
    for exchange in inputs {
        assert!(
            exchange["request"]
                .as_str()
                .unwrap()
                .contains("DictVectorizer"),
            "{exchange:#}"
        );
        // Answered by the model, not refused: the made requests are valid ones.
        assert_eq!(exchange["original"]["status"], 200, "{exchange:#}");
        assert_eq!(exchange["agree"], true, "{exchange:#}");
    }
}

#[test]
fn an_image_size_only_the_network_fixes_is_found_by_running_it() {
    // tests/services/flask-mlp: a drawing pad posts a data URL in JSON; the route opens the
    // PNG without converting it (its own channels), inverts it (`1 - to_tensor(image)`) and
    // does not resize it: only the network's first layer (28 * 28 wide) fixes the size and
    // the channels. convert finds both, and verify sends grayscale images of that size, as
    // data URLs.
    let (_dir, service) = fresh_test_service("flask-mlp");
    let (code, report, stderr) = migrate(&service, &["--backend", "tract", "--count", "3"]);
    assert_eq!(code, Some(0), "{report:#}\n{stderr}");
    assert_eq!(report["verdict"], "equivalent", "{report:#}");
    assert_eq!(status(&report, "verify-http"), "done", "{report:#}");
    let plan = std::fs::read_to_string(service.join("wasm-migrate.yaml")).unwrap();
    assert!(
        plan.contains("shape:\n      - 1\n      - 1\n      - 28\n      - 28\n"),
        "{plan}"
    );
    for result in report["verify"]["backends"][0]["results"]
        .as_array()
        .unwrap()
    {
        assert!(
            result["input"].as_str().unwrap().contains("_28x28_gray"),
            "{result:#}"
        );
    }
    assert!(plan.contains("encoding: data-url"), "{plan}");
    assert!(plan.contains("reflected: true"), "{plan}");
}

#[test]
fn every_route_is_served_or_listed_not_migrated() {
    // tests/services/flask-two-routes: two upload routes on one model (each answering its own
    // JSON), a static front page, a health route, and /stats, which changes with every
    // prediction.
    let (_dir, service) = fresh_test_service("flask-two-routes");
    let (code, report, stderr) = migrate(&service, &["--backend", "tract", "--count", "2"]);
    assert_eq!(code, Some(0), "{report:#}\n{stderr}");
    assert_eq!(report["verdict"], "equivalent", "{report:#}");
    let http = &report["verify_http"];
    let sent: Vec<&str> = http["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["agree"] == true)
        .map(|e| e["request"].as_str().unwrap())
        .collect();
    // The class names are the code's (CLASSES): found from the model's output even when the
    // app's last route is a static one.
    for request in [
        "POST /predict file=",
        "POST /predict/top3 image=",
        "GET /",
        "GET /about",
    ] {
        assert!(
            sent.iter().any(|s| s.starts_with(request)),
            "{request}: {http:#}"
        );
    }
    assert_eq!(http["not_migrated"][0]["path"], "/stats", "{http:#}");
    let plan = std::fs::read_to_string(service.join("wasm-migrate.yaml")).unwrap();
    assert!(
        plan.contains("not_migrated:\n  - method: GET\n    path: /stats"),
        "{plan}"
    );
}

/// `migrate` on a TorchServe service of tests/services, its HTTP side compared with the real
/// TorchServe: the exchanges of verify --http.
fn migrate_torchserve(name: &str, model: &str, version: &str) -> Vec<Value> {
    let (_dir, service) = fresh_test_service(name);
    let (code, report, stderr) = migrate(&service, &["--backend", "tract", "--count", "3"]);
    assert_eq!(code, Some(0), "{report:#}\n{stderr}");
    assert_eq!(report["verdict"], "equivalent", "{report:#}");
    let http = &report["verify_http"];
    assert_eq!(http["equivalent"], true, "{http:#}");
    // The original is TorchServe itself, started on the archive torch-model-archiver made.
    let command = http["original_command"].to_string();
    assert!(
        command.contains("ts.model_server") && command.contains(&format!("{model}={model}.mar")),
        "{command}"
    );
    let exchanges = http["exchanges"].as_array().unwrap().clone();
    for path in [
        format!("/predictions/{model}"),
        format!("/predictions/{model}/{version}"),
    ] {
        assert!(
            exchanges.iter().any(|e| e["kind"] == "input"
                && e["request"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("POST {path} "))),
            "no input sent to {path}: {http:#}"
        );
    }
    exchanges
}

#[test]
fn a_torchserve_handler_with_a_model_file_and_a_state_dict_answers_as_the_real_torchserve() {
    // tests/services/torchserve-digits: the Dockerfile starts TorchServe on the archive that
    // archive.sh packs (--model-file, a state_dict --serialized-file, index_to_name.json); a
    // Flask gateway in gateway/ calls it. The handler is migrated, the gateway left alone.
    let exchanges = migrate_torchserve("torchserve-digits", "digits", "1.0");
    let answer = exchanges.iter().find(|e| e["kind"] == "input").unwrap();
    // TorchServe's worker writes the handler's dict as `json.dumps(answer, indent=2)`, with
    // no media type; so does the module.
    let body = answer["migrated"]["body"].as_str().unwrap();
    assert!(
        body.starts_with("{\n  \"") && body.contains("\"digit\": "),
        "{answer:#}"
    );
    assert_eq!(answer["migrated"]["content_type"], "", "{answer:#}");
    for kind in ["health", "missing-field", "not-found"] {
        let exchange = exchanges.iter().find(|e| e["kind"] == kind).unwrap();
        assert_eq!(exchange["agree"], true, "{exchange:#}");
    }
}

#[test]
fn a_torchserve_handler_built_on_image_classifier_answers_as_the_real_torchserve() {
    // tests/services/torchserve-image-classifier: `--handler image_classifier` by name; the
    // service holds only the network, its weights and the class names. The steps and the
    // answer (the best five names with their probabilities) are TorchServe's own.
    let exchanges = migrate_torchserve("torchserve-image-classifier", "flowers", "2.1");
    let answer = exchanges.iter().find(|e| e["kind"] == "input").unwrap();
    let body: Value = serde_json::from_str(answer["migrated"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body.as_object().map(|o| o.len()), Some(5), "{answer:#}");
    assert!(body.get("daisy").is_some_and(Value::is_f64), "{answer:#}");
}

#[test]
fn a_teachable_machine_keras_service_migrates_untouched() {
    // tests/services/flask-teachable: Teachable Machine's snippet behind Flask and gunicorn
    // (Procfile): a Keras Sequential saved with RandomFlip/RandomRotation and no input shape
    // in code, ImageOps.fit with LANCZOS, a preallocated batch, labels numbered by line.
    let (_dir, service) = fresh_test_service("flask-teachable");
    let (code, report, stderr) = migrate(&service, &["--backend", "tract", "--count", "3"]);
    assert_eq!(code, Some(0), "{report:#}\n{stderr}");
    assert_eq!(report["verdict"], "equivalent", "{report:#}");
    // The module names the classes as the service does, without the line numbers.
    for result in report["verify"]["backends"][0]["results"]
        .as_array()
        .unwrap()
    {
        assert_eq!(result["labels"]["equal"], true, "{result:#}");
    }
    let plan = std::fs::read_to_string(service.join("wasm-migrate.yaml")).unwrap();
    assert!(
        plan.contains("kind: gunicorn") && plan.contains("port: 5050"),
        "{plan}"
    );
}

#[test]
fn a_step_generate_cannot_do_stops_migrate_at_analyze_with_the_plan_written() {
    // OpenCV decoding straight to grayscale reads the JPEG's luma plane, which the glue does
    // not mirror: analyze says so as a finding, and migrate stops before generating anything.
    let dir = tempfile::tempdir().unwrap();
    let service = dir.path().join("cv-gray");
    std::fs::create_dir_all(&service).unwrap();
    std::fs::write(
        service.join("requirements.txt"),
        "flask\nonnxruntime\nopencv-python-headless\nnumpy\n",
    )
    .unwrap();
    std::fs::write(
        service.join("app.py"),
        r#"import cv2
import numpy as np
import onnxruntime as ort
from flask import Flask, jsonify, request

app = Flask(__name__)
session = ort.InferenceSession("model.onnx")


@app.route("/predict", methods=["POST"])
def predict():
    data = np.frombuffer(request.files["image"].read(), np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    x = cv2.resize(image, (28, 28)).astype(np.float32) / 255.0
    return jsonify(session.run(None, {"input": x[None, None]})[0].tolist())
"#,
    )
    .unwrap();
    let analyzed = wm(&["analyze", service.to_str().unwrap(), "--format", "json"]);
    let analysis: Value = serde_json::from_slice(&analyzed.stdout).unwrap();
    let refused: Vec<&Value> = analysis["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "plan-refused-by-generate")
        .collect();
    assert_eq!(refused.len(), 1, "{analysis:#}");
    assert_eq!(refused[0]["location"]["file"], "app.py");
    assert_eq!(refused[0]["location"]["line"], 13);
    assert!(
        refused[0]["message"]
            .as_str()
            .unwrap()
            .contains("IMREAD_GRAYSCALE"),
        "{:#}",
        refused[0]
    );
    assert_ne!(
        analyzed.status.code(),
        Some(0),
        "a mandatory finding fails the run"
    );

    let (code, report, stderr) = migrate(&service, &[]);
    assert_eq!(code, Some(2), "{report:#}\n{stderr}");
    assert_eq!(status(&report, "analyze"), "failed", "{report:#}");
    assert!(
        report["next_step"].as_str().unwrap().contains("check-plan"),
        "{report:#}"
    );
    assert!(service.join("wasm-migrate.yaml").is_file());
    assert!(!service.join("migrated").exists());
}

#[test]
fn a_repository_of_services_is_listed_and_one_is_picked_with_service() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    for (file, text) in [
        ("api/Dockerfile", "CMD [\"python\", \"main.py\"]\n"),
        ("api/main.py", "print('no model here')\n"),
        ("worker/Procfile", "worker: python run.py\n"),
        ("worker/run.py", "print('nor here')\n"),
    ] {
        let path = repo.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let (code, report, stderr) = migrate(&repo, &[]);
    assert_eq!(code, Some(2), "{report:#}\n{stderr}");
    assert_eq!(status(&report, "analyze"), "failed");
    let summary = report["stages"][0]["summary"].as_str().unwrap();
    assert!(
        summary.contains("2 services") && summary.contains("api, worker"),
        "{summary}"
    );
    assert!(
        report["next_step"]
            .as_str()
            .unwrap()
            .contains("--service api"),
        "{report:#}"
    );
    // Picked: that folder is the service (here one with no model, kept on containers).
    let (code, picked, stderr) = migrate(&repo, &["--service", "worker"]);
    assert_eq!(code, Some(2), "{picked:#}\n{stderr}");
    assert!(
        picked["service"].as_str().unwrap().ends_with("worker"),
        "{picked:#}"
    );
    assert_eq!(status(&picked, "python"), "done", "{picked:#}");
    // A folder that is not there is a usage error naming the services there are.
    let output = wm(&["migrate", repo.to_str().unwrap(), "--service", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("api, worker"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every file under `dir` with its bytes, by path relative to it.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    files
}

/// What a killed migration may leave: the service's own files as they were, and each output
/// complete or absent.
fn assert_whole_or_absent(
    service: &Path,
    own: &std::collections::BTreeMap<PathBuf, Vec<u8>>,
    when: &str,
) {
    let now = snapshot(service);
    for (path, bytes) in own {
        assert!(
            now.get(path) == Some(bytes),
            "{when}: {} changed",
            path.display()
        );
    }
    if service.join("wasm-migrate.yaml").exists() {
        wasm_migrate_tests::plan_parses(&service.join("wasm-migrate.yaml"))
            .unwrap_or_else(|e| panic!("{when}: a half-written plan: {e}"));
    }
    let glue = service.join("migrated");
    if glue.exists() {
        for file in [
            "Cargo.toml",
            "src/main.rs",
            "convert_model.py",
            "deploy/run-wasmedge.sh",
        ] {
            assert!(
                glue.join(file).is_file(),
                "{when}: a partial crate lacks {file}"
            );
        }
    }
    let onnx = glue.join("model/model.onnx");
    if onnx.exists() {
        let spec = format!("model:onnx:cpu:{}", onnx.display());
        let preload: wasm_migrate_runtime::Preload = spec.parse().unwrap();
        wasm_migrate_runtime::Preloaded::load(&[preload], &Default::default())
            .unwrap_or_else(|e| panic!("{when}: a half-written model: {e}"));
    }
    let module = glue.join("app.wasm");
    if module.exists() {
        let inspected = wm(&["inspect", module.to_str().unwrap()]);
        assert!(inspected.status.success(), "{when}: a half-written module");
    }
}

#[test]
fn a_migration_killed_at_any_point_leaves_the_service_alone_and_each_output_whole_or_absent() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    // A name of its own: its crate builds in the shared glue target beside the sample's.
    let service = dir.path().join("killed-service");
    copy_dir(&sample("onnxruntime-service"), &service);
    python(&[&service.join("make_model.py")]);
    let own = snapshot(&service);
    let venv_python = python_env().join("bin/python");
    let args = [
        "migrate",
        service.to_str().unwrap(),
        "--python",
        venv_python.to_str().unwrap(),
        "--backend",
        "onnxruntime",
        "--count",
        "2",
        "--format",
        "json",
    ];
    // Killed (the whole process group, so convert's Python and build's cargo too) at points
    // spread over analyze, generate, convert and build, each run resuming the last.
    let mut rng = fastrand::Rng::with_seed(34);
    let points: Vec<u64> = [50, 400, 1_500, 4_000, 8_000, 12_000, 20_000]
        .windows(2)
        .map(|span| rng.u64(span[0]..span[1]))
        .collect();
    for after_ms in points {
        let mut child = wasm_migrate_tests::flow::wm_command(&args)
            .process_group(0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(after_ms));
        // SAFETY: the group of our own child.
        unsafe {
            libc::kill(-(child.id() as i32), libc::SIGKILL);
        }
        let _ = child.wait();
        assert_whole_or_absent(&service, &own, &format!("killed after {after_ms} ms"));
        let made: Vec<&str> = [
            ("plan", "wasm-migrate.yaml"),
            ("crate", "migrated/Cargo.toml"),
            ("model", "migrated/model/model.onnx"),
            ("module", "migrated/app.wasm"),
        ]
        .into_iter()
        .filter(|(_, file)| service.join(file).exists())
        .map(|(what, _)| what)
        .collect();
        eprintln!("killed after {after_ms} ms: {made:?} made so far");
    }
    // And the next run finishes what the killed ones began.
    let (code, report, stderr) = migrate(&service, &["--backend", "onnxruntime", "--count", "2"]);
    assert_eq!(code, Some(0), "{report:#}\n{stderr}");
    assert_eq!(report["verdict"], "equivalent", "{report:#}");
    assert_whole_or_absent(&service, &own, "after the last run");
}
