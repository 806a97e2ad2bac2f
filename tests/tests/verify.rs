//! `wasm-migrate verify` on the samples: correct migrations pass on several backends, and
//! deliberately wrong ones are caught and blamed on the stage (and step) that is wrong.
//!
//! Each sample is migrated once (see `flow::migrate`); wrong migrations are made by editing
//! the plan or the generated crate, rebuilding, and verifying against a reference saved from
//! the first run, so Python runs once per sample.

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use wasm_migrate_tests::flow::{
    assert_lint_clean, migrate, migrate_edited, migrate_fixture, migrate_fixture_edited, ok,
    python, wm,
};

/// `verify SERVICE ARGS --format json`: the exit code and the report (Null when none).
fn verify(service: &Path, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["verify", service.to_str().unwrap(), "--format", "json"];
    all.extend_from_slice(args);
    let output: Output = wm(&all);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output.status.code().unwrap_or(-1), report, stderr)
}

/// A first verify run on `count` photographs (or texts), keeping Python's side in `reference`.
fn verify_saving_reference(
    service: &Path,
    backends: &str,
    count: usize,
    reference: &Path,
) -> (i32, Value, String) {
    let count = count.to_string();
    let reference = reference.to_str().unwrap();
    let args = [
        "--backend",
        backends,
        "--count",
        &count,
        "--save-reference",
        reference,
    ];
    verify(service, &args)
}

/// The report says equivalent on every backend asked for, stage 1 within `max_stage1` and
/// every output within tolerance with the same top-1.
fn assert_equivalent(report: &Value, backends: &[&str], max_stage1: f64) {
    assert_equivalent_from(report, backends, max_stage1, "skimage.data");
}

fn assert_equivalent_from(report: &Value, backends: &[&str], max_stage1: f64, source: &str) {
    assert_eq!(report["schema"], "wasm-migrate/verify");
    assert_eq!(report["verdict"], "equivalent", "{report:#}");
    let names: Vec<&str> = report["backends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["backend"].as_str().unwrap())
        .collect();
    assert_eq!(names, backends);
    for backend in report["backends"].as_array().unwrap() {
        // The backend, its version and the precision it ran at are stated.
        assert!(!backend["version"].as_str().unwrap().is_empty());
        assert!(["f32", "model"].contains(&backend["precision"].as_str().unwrap()));
        for result in backend["results"].as_array().unwrap() {
            let stage1 = result["preprocessed"]["max_abs"].as_f64().unwrap();
            assert!(
                stage1 <= max_stage1,
                "stage 1 differs by {stage1}: {result:#}"
            );
            for output in result["outputs"].as_array().unwrap() {
                let c = &output["comparison"];
                assert!(c["passed"].as_bool().unwrap());
                assert!(c["max_abs"].as_f64().unwrap() <= 1e-3);
                assert!(c["cosine"].as_f64().unwrap() > 0.999_999);
                assert_eq!(output["top_k"]["top1_equal"], true);
            }
        }
    }
    let inputs = report["inputs"].as_array().unwrap();
    assert!(!inputs.is_empty());
    assert!(inputs.iter().all(|i| i["source"] == source));
}

/// A differing report, and the stage (and cause) its first difference is blamed on.
fn assert_blamed(
    (code, report, stderr): (i32, Value, String),
    stage: &str,
    cause: Option<&str>,
    step: Option<&str>,
) {
    assert_eq!(code, 1, "exit 1 (differ) expected:\n{stderr}\n{report:#}");
    assert_eq!(report["verdict"], "differ");
    let first = report["backends"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["verdict"] == "differ")
        .expect("a differing input");
    assert_eq!(first["stage"], stage, "{first:#}");
    if let Some(cause) = cause {
        assert_eq!(first["blame"]["cause"], cause, "{first:#}");
    }
    if let Some(step) = step {
        let blamed = first["blame"]["step"].as_str().unwrap_or_default();
        assert!(blamed.contains(step), "blamed `{blamed}`, expected {step}");
    }
    let summary = report["summary"].as_str().unwrap();
    if stage == "preprocessing" {
        assert!(summary.contains("stage 1"), "{summary}");
    }
}

/// Edits a file of the migrated service; the text to replace must be there.
fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{}: no `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn regenerate_and_build(service: &Path) {
    let s = service.to_str().unwrap();
    ok(wm(&["generate", s, "--force"]), "generate --force");
    let glue = service.join("migrated");
    ok(wm(&["build", glue.to_str().unwrap()]), "build");
}

#[test]
fn torchvision_flask_passes_and_wrong_migrations_are_blamed_on_the_right_stage() {
    let (dir, service) = migrate("torchvision-flask");
    let reference = dir.path().join("reference");
    let reference_arg = reference.to_str().unwrap();
    let html = dir.path().join("verify.html");

    // The correct migration: PIL and torchvision's chain are reproduced exactly.
    let (code, report, stderr) =
        verify_saving_reference(&service, "tract,openvino", 3, Path::new(reference_arg));
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_equivalent(&report, &["tract", "openvino"], 0.0);
    assert!(
        report["original"]["watched"][0]
            .as_str()
            .unwrap()
            .contains("torch")
    );
    // Against the stored reference: no Python, same verdict; HTML with histograms.
    let stored = wm(&[
        "verify",
        service.to_str().unwrap(),
        "--reference",
        reference_arg,
        "--format",
        "html",
        "--output",
        html.to_str().unwrap(),
    ]);
    ok(stored, "verify --reference --format html");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Stage 1") && page.contains("<svg") && page.contains("equivalent"));
    assert!(!page.contains("<script"), "self-contained, no scripts");

    // OpenVINO at its device default: bf16 on CPUs that have it, reported as precision.
    let (code, report, stderr) = verify(
        &service,
        &[
            "--reference",
            reference_arg,
            "--backend",
            "openvino",
            "--precision",
            "device-default",
        ],
    );
    if report["backends"][0]["precision"] == "bf16" {
        assert_blamed((code, report, stderr), "precision", None, None);
    } else {
        assert_eq!(code, 0, "f32 device: {stderr}");
    }

    let against_reference = |backend: &str| {
        verify(
            &service,
            &["--reference", reference_arg, "--backend", backend],
        )
    };
    let plan = service.join("wasm-migrate.yaml");
    let original_plan = std::fs::read_to_string(&plan).unwrap();

    // Per-output tolerances: the plan's (far too tight here) apply, the command line's win.
    edit(
        &plan,
        "  rtol: 0.001\n",
        "  rtol: 0.001\n  outputs:\n    output0:\n      atol: 1.0e-12\n      rtol: 0.0\n",
    );
    let (code, report, _) = against_reference("tract");
    assert_eq!(code, 1);
    assert_eq!(report["tolerances"]["overrides"]["output0"]["atol"], 1e-12);
    let (code, _, stderr) = verify(
        &service,
        &[
            "--reference",
            reference_arg,
            "--tolerance",
            "output0=1e-4,1e-3",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    std::fs::write(&plan, &original_plan).unwrap();

    // A wrong Normalize constant.
    edit(&plan, "- 0.485", "- 0.5");
    regenerate_and_build(&service);
    assert_blamed(
        against_reference("tract"),
        "preprocessing",
        Some("normalization"),
        Some("Normalize"),
    );

    // Nearest where the service resizes bilinearly.
    std::fs::write(&plan, &original_plan).unwrap();
    edit(
        &plan,
        "InterpolationMode.BILINEAR",
        "InterpolationMode.NEAREST",
    );
    regenerate_and_build(&service);
    assert_blamed(
        against_reference("tract"),
        "preprocessing",
        Some("resampling"),
        Some("Resize"),
    );

    // A bilinear resize that ignores antialiasing (OpenCV's, where torchvision uses PIL's).
    std::fs::write(&plan, &original_plan).unwrap();
    regenerate_and_build(&service);
    edit(
        &service.join("migrated/src/main.rs"),
        "crop::resize_and_center_crop(&image, width, height, Filter::Bilinear, 224, 224)",
        "crop::center_crop(\n        &cv_resize::resize(&image, width, height, Interpolation::Linear),\n        224,\n        224,\n    )",
    );
    ok(
        wm(&["build", service.join("migrated").to_str().unwrap()]),
        "build",
    );
    assert_blamed(
        against_reference("tract"),
        "preprocessing",
        Some("resampling"),
        Some("Resize"),
    );

    // Labels one off: a header line in the label file.
    let labels = service.join("labels.txt");
    let original_labels = std::fs::read_to_string(&labels).unwrap();
    std::fs::write(&labels, format!("background\n{original_labels}")).unwrap();
    regenerate_and_build(&service);
    assert_blamed(against_reference("tract"), "labels", None, None);

    // The model exported in training mode: batch-norm on batch statistics. (tract refuses
    // training-mode BatchNormalization; ONNX Runtime runs it.)
    std::fs::write(&labels, original_labels).unwrap();
    regenerate_and_build(&service);
    python(&[
        &wasm_migrate_tests::repo_root().join("tests/verify/export_train_mode.py"),
        &service,
    ]);
    assert_blamed(against_reference("onnxruntime"), "model", None, None);
}

#[test]
fn onnxruntime_service_passes_and_a_missing_colour_conversion_is_blamed() {
    let (dir, service) = migrate("onnxruntime-service");
    let reference = dir.path().join("reference");
    // OpenCV INTER_LINEAR: at most one 8-bit level.
    let (code, report, stderr) =
        verify_saving_reference(&service, "onnxruntime,tract", 3, &reference);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_equivalent(
        &report,
        &["onnxruntime", "tract"],
        1.0 / 255.0 / 0.25 + 1e-6,
    );
    assert!(
        report["original"]["watched"][0]
            .as_str()
            .unwrap()
            .contains("onnxruntime")
    );

    // The glue keeps OpenCV's BGR order: the cvtColor step left out of the plan.
    let plan = service.join("wasm-migrate.yaml");
    let text = std::fs::read_to_string(&plan).unwrap();
    // Drop the step entirely: from its `- library` line to the next item.
    let start = text.find("- library: opencv\n  op: cvtColor").unwrap();
    let end = start + text[start..].find("\n- ").unwrap() + 1;
    std::fs::write(&plan, format!("{}{}", &text[..start], &text[end..])).unwrap();
    regenerate_and_build(&service);
    assert_blamed(
        verify(
            &service,
            &[
                "--reference",
                reference.to_str().unwrap(),
                "--backend",
                "onnxruntime",
            ],
        ),
        "preprocessing",
        Some("channel-order"),
        None,
    );
}

#[test]
fn torchserve_handler_passes_on_two_backends() {
    let (_dir, service) = migrate("torchserve-handler");
    let (code, report, stderr) = verify(
        &service,
        &["--backend", "openvino,onnxruntime", "--count", "3"],
    );
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_equivalent(&report, &["openvino", "onnxruntime"], 0.0);
    // The handler's own postprocess names classes from index_to_name.json; the glue agrees.
    for result in report["backends"][0]["results"].as_array().unwrap() {
        assert_eq!(result["labels"]["equal"], true, "{result:#}");
    }
}

#[test]
fn services_that_cannot_run_exit_2_saying_what_to_fix() {
    let (dir, service) = migrate("onnxruntime-service");
    let expect_2 = |args: &[&str], needle: &str| {
        let (code, _, stderr) = verify(&service, args);
        assert_eq!(code, 2, "exit 2 expected for {args:?}:\n{stderr}");
        assert!(stderr.contains(needle), "`{needle}` not in:\n{stderr}");
    };
    // Inputs of the wrong kind, and inputs that do not exist.
    let readme = service.join("README.md");
    expect_2(
        &["--inputs", readme.to_str().unwrap()],
        "the plan's model takes images",
    );
    expect_2(
        &["--inputs", "/no/such/photo.png"],
        "no such file or folder",
    );
    // An unavailable backend name and a missing build.
    expect_2(&["--backend", "pytorch"], "pytorch");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    expect_2(
        &["--glue", empty.to_str().unwrap()],
        "run `wasm-migrate build",
    );
    // An entry point that does not exist.
    let plan = service.join("wasm-migrate.yaml");
    let original_plan = std::fs::read_to_string(&plan).unwrap();
    edit(&plan, "handler: infer", "handler: no_such_view");
    expect_2(&[], "no_such_view");
    std::fs::write(&plan, &original_plan).unwrap();
    // A missing model: the service fails at import, with its traceback.
    let model = service.join("model/classifier.onnx");
    let kept = dir.path().join("classifier.onnx");
    std::fs::rename(&model, &kept).unwrap();
    expect_2(&[], "importing service.py failed");
    std::fs::rename(&kept, &model).unwrap();
    // A service that does not import at all.
    let source = service.join("service.py");
    edit(
        &source,
        "import cv2\n",
        "import cv2\nimport no_such_module\n",
    );
    expect_2(&[], "No module named 'no_such_module'");
    // A missing interpreter.
    expect_2(
        &["--python", "/no/such/python"],
        "cannot run the service's Python",
    );
}

#[test]
fn hf_text_classifier_passes_and_a_different_tokenizer_is_blamed() {
    // The default target (WasmEdge 0.14): the token ids go as one f32 tensor.
    let (dir, service) = migrate("hf-text-classifier");
    let reference = dir.path().join("reference");
    let (code, report, stderr) =
        verify_saving_reference(&service, "tract,openvino", 10, &reference);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    // Token ids are compared exactly (one of the sentences is truncated to max_length).
    assert_equivalent_from(&report, &["tract", "openvino"], 0.0, "sentences");
    assert_eq!(report["tolerances"]["preset"], "cross-backend");
    for result in report["backends"][0]["results"].as_array().unwrap() {
        assert_eq!(result["preprocessed"]["dtype"], "int64");
        // The service answers with id2label's names; the module's top-1 label is the same.
        assert_eq!(result["labels"]["equal"], true, "{result:#}");
    }

    // A tokenizer that no longer lowercases: ids differ for capitalised words. The rebuild
    // lints the text template's crate too (clippy as the build's rustc wrapper).
    edit(
        &service.join("migrated/assets/tokenizer.json"),
        "\"lowercase\": true",
        "\"lowercase\": false",
    );
    assert_lint_clean(&service.join("migrated"));
    assert_blamed(
        verify(
            &service,
            &[
                "--reference",
                reference.to_str().unwrap(),
                "--backend",
                "tract",
            ],
        ),
        "preprocessing",
        Some("tokenization"),
        Some("tokenizer.__call__"),
    );
}

#[test]
fn keras_fastapi_passes_on_openvino_and_tract_and_a_wrong_preprocess_input_mode_is_blamed() {
    // Keras converts to OpenVINO IR and, through tf2onnx, to ONNX for tract.
    let (dir, service) = migrate("keras-fastapi");
    let reference = dir.path().join("reference");
    let (code, report, stderr) = verify_saving_reference(&service, "openvino,tract", 3, &reference);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_equivalent(&report, &["openvino", "tract"], 0.0);
    assert!(
        report["original"]["watched"][0]
            .as_str()
            .unwrap()
            .contains("keras")
    );
    // The service names classes from a list in its code, which the plan cannot carry.
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("no labels")
    );

    // MobileNetV2's preprocess_input is mode "tf" ([-1, 1]); "torch" is ImageNet's mean/std.
    edit(
        &service.join("wasm-migrate.yaml"),
        "mode: tf",
        "mode: torch",
    );
    regenerate_and_build(&service);
    assert_blamed(
        verify(
            &service,
            &[
                "--reference",
                reference.to_str().unwrap(),
                "--backend",
                "openvino",
            ],
        ),
        "preprocessing",
        Some("normalization"),
        Some("preprocess_input"),
    );
}

#[test]
fn keras_with_tf_image_resize_matches_tensorflow_exactly() {
    // The keras-fastapi service resizing with tf.image.resize instead of PIL.
    let (_dir, service) = migrate_edited("keras-fastapi", &[], |service| {
        edit(
            &service.join("main.py"),
            "    image = image.resize(INPUT_SIZE, Image.BILINEAR)\n    x = np.asarray(image, dtype=np.float32)\n",
            "    x = tf.image.resize(np.asarray(image), (160, 160)).numpy()\n",
        );
    });
    let plan = std::fs::read_to_string(service.join("wasm-migrate.yaml")).unwrap();
    assert!(plan.contains("op: image.resize"), "{plan}");
    let (code, report, stderr) = verify(&service, &["--backend", "openvino,tract", "--count", "2"]);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_equivalent(&report, &["openvino", "tract"], 0.0);
}

#[test]
fn a_package_service_holding_its_session_in_an_object_of_a_submodule_verifies() {
    // The onnxruntime sample laid out as a package started by gunicorn (`scene.app:app`),
    // its settings in another module and its session held by an object of `scene.model`.
    let (_dir, service) = migrate_edited("onnxruntime-service", &[], |service| {
        let source = std::fs::read_to_string(service.join("service.py")).unwrap();
        std::fs::remove_file(service.join("service.py")).unwrap();
        let package = service.join("scene");
        std::fs::create_dir(&package).unwrap();
        let write = |name: &str, text: &str| std::fs::write(package.join(name), text).unwrap();
        write("__init__.py", "");
        write(
            "settings.py",
            "MODEL_PATH = \"model/classifier.onnx\"\nINPUT_W = 128\nINPUT_H = 96\n",
        );
        write(
            "model.py",
            "import onnxruntime as ort\n\nfrom .settings import MODEL_PATH\n\n\n\
             class Scorer:\n    def __init__(self):\n        self.session = ort.InferenceSession(MODEL_PATH, providers=[\"CPUExecutionProvider\"])\n\n\
             \x20   def logits(self, x):\n        return self.session.run(None, {\"input\": x})[0]\n\n\nscorer = Scorer()\n",
        );
        let app = source
            .replace(
                "MODEL_PATH = \"model/classifier.onnx\"\nINPUT_W = 128\nINPUT_H = 96\n",
                "",
            )
            .replace(
                "session = ort.InferenceSession(MODEL_PATH, providers=[\"CPUExecutionProvider\"])\n",
                "",
            )
            .replace("import onnxruntime as ort\n", "")
            .replace(
                "from flask import Flask, jsonify, request\n",
                "from flask import Flask, jsonify, request\n\nfrom .model import scorer\nfrom .settings import INPUT_H, INPUT_W\n",
            )
            .replace(
                "    (logits,) = session.run(None, {\"input\": x})\n",
                "    logits = scorer.logits(x)\n",
            );
        assert!(
            app.contains("scorer.logits(x)"),
            "the sample changed: {app}"
        );
        write("app.py", &app);
        std::fs::write(
            service.join("Dockerfile"),
            "FROM python:3.11-slim\nCOPY . /srv\nWORKDIR /srv\nCMD [\"gunicorn\", \"scene.app:app\"]\n",
        )
        .unwrap();
    });
    let (code, report, stderr) = verify(&service, &["--backend", "tract", "--count", "2"]);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_equivalent(&report, &["tract"], 1.0 / 255.0 / 0.25 + 1e-6);
    // Watched where the service holds it, not in the entry module's globals.
    let watched = report["original"]["watched"].to_string();
    assert!(watched.contains("scorer.session"), "{watched}");
}

#[test]
fn a_session_built_on_the_first_request_is_watched_by_its_type() {
    // The onnxruntime sample with its session made lazily by the first request: at import
    // time there is no model object to watch.
    let (_dir, service) = migrate_edited("onnxruntime-service", &[], |service| {
        let path = service.join("service.py");
        edit(
            &path,
            "session = ort.InferenceSession(MODEL_PATH, providers=[\"CPUExecutionProvider\"])\n",
            "_session = None\n\n\ndef get_session():\n    global _session\n    if _session is None:\n        _session = ort.InferenceSession(MODEL_PATH, providers=[\"CPUExecutionProvider\"])\n    return _session\n",
        );
        edit(
            &path,
            "    (logits,) = session.run(None, {\"input\": x})\n",
            "    (logits,) = get_session().run(None, {\"input\": x})\n",
        );
    });
    let (code, report, stderr) = verify(&service, &["--backend", "tract", "--count", "2"]);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_equivalent(&report, &["tract"], 1.0 / 255.0 / 0.25 + 1e-6);
    let watched = report["original"]["watched"].to_string();
    assert!(
        watched.contains("onnxruntime.InferenceSession.run"),
        "{watched}"
    );
}

/// JPEGs among the inputs, and stage 1 within `max_stage1` on each, on every backend.
fn assert_jpegs_within(report: &Value, max_stage1: f64) {
    let mut jpegs = 0;
    for backend in report["backends"].as_array().unwrap() {
        for result in backend["results"].as_array().unwrap() {
            if result["input"].as_str().unwrap().ends_with(".jpg") {
                jpegs += 1;
                let stage1 = result["preprocessed"]["max_abs"].as_f64().unwrap();
                assert!(stage1 <= max_stage1, "{result:#}");
            }
        }
    }
    assert!(jpegs > 0, "no JPEG inputs: {report:#}");
}

#[test]
fn a_fastapi_package_with_a_src_layout_and_a_lazy_model_verifies_on_three_backends() {
    // tests/services/fastapi-package: `uvicorn catdog.api.main:app --app-dir src`, the route on
    // an APIRouter in another module than the app, the model built by an lru_cache getter
    // that the lifespan warms up, the transform in its own module.
    let (_dir, service) = migrate_fixture("fastapi-package");
    let (code, report, stderr) = verify(
        &service,
        &["--backend", "tract,openvino,onnxruntime", "--count", "4"],
    );
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_equivalent(&report, &["tract", "openvino", "onnxruntime"], 0.0);
    assert_jpegs_within(&report, 0.0);
}

#[test]
fn a_flask_app_factory_with_a_blueprint_and_a_first_request_session_verifies_on_three_backends() {
    // tests/services/flask-factory: `gunicorn "scorer:create_app()"`, no app at import time,
    // the view on a blueprint under /api, the session a singleton made by the first request,
    // constants in a config class, and ImageOps.exif_transpose before the NumPy arithmetic.
    let (_dir, service) = migrate_fixture("flask-factory");
    let (code, report, stderr) = verify(
        &service,
        &["--backend", "tract,openvino,onnxruntime", "--count", "4"],
    );
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    let one_level = 1.0 / 255.0 / 0.25 + 1e-6;
    assert_equivalent(&report, &["tract", "openvino", "onnxruntime"], one_level);
    assert_jpegs_within(&report, one_level);

    // Uploads a client may send: photographs with EXIF orientations (the service turns them
    // upright with exif_transpose, the glue too), a cut-off JPEG and a file that is no image,
    // which both sides refuse.
    let inputs = tempfile::tempdir().unwrap();
    let script = r#"
import sys, skimage.data
from PIL import Image
out = sys.argv[1]
image = Image.fromarray(skimage.data.coffee()[:300, :451])
for orientation in (3, 6, 8):
    exif = Image.Exif()
    exif[0x0112] = orientation
    image.save(f"{out}/oriented_{orientation}.jpg", quality=88, exif=exif)
data = open(f"{out}/oriented_3.jpg", "rb").read()
open(f"{out}/truncated.jpg", "wb").write(data[: len(data) // 2])
open(f"{out}/not_an_image.png", "wb").write(b"a text file named like a picture")
"#;
    let made = std::process::Command::new(wasm_migrate_tests::python_env().join("bin/python"))
        .args(["-c", script, inputs.path().to_str().unwrap()])
        .status()
        .unwrap();
    assert!(made.success());
    let (code, report, stderr) = verify(
        &service,
        &[
            "--backend",
            "tract",
            "--inputs",
            inputs.path().to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    for result in report["backends"][0]["results"].as_array().unwrap() {
        let input = result["input"].as_str().unwrap();
        assert_eq!(result["verdict"], "equivalent", "{result:#}");
        if input.starts_with("oriented") {
            assert!(result["preprocessed"]["max_abs"].as_f64().unwrap() <= one_level);
        } else {
            let explanation = result["explanation"].as_str().unwrap();
            assert!(explanation.starts_with("refused by both"), "{result:#}");
        }
    }
    assert!(
        report["summary"]
            .as_str()
            .unwrap()
            .ends_with("2 more refused by both"),
        "{report:#}"
    );
}

#[test]
fn a_keras_model_loaded_in_the_lifespan_is_watched_by_its_type() {
    // The keras-fastapi sample with its model loaded by the lifespan into `app.state`: no
    // module holds it at import time, so verify watches keras.Model calls themselves.
    let (_dir, service) = migrate_edited("keras-fastapi", &[], |service| {
        let main = service.join("main.py");
        let source = std::fs::read_to_string(&main).unwrap();
        let edited = source
            .replace(
                "import io\n",
                "import io\nfrom contextlib import asynccontextmanager\n",
            )
            .replace(
                "from fastapi import FastAPI, File, HTTPException, UploadFile",
                "from fastapi import FastAPI, File, HTTPException, Request, UploadFile",
            )
            .replace(
                "model = tf.keras.models.load_model(MODEL_PATH)\n\napp = FastAPI(title=\"flower classifier\")",
                "@asynccontextmanager\nasync def lifespan(app):\n    app.state.model = tf.keras.models.load_model(MODEL_PATH)\n    yield\n\n\napp = FastAPI(title=\"flower classifier\", lifespan=lifespan)",
            )
            .replace(
                "async def predict(file: UploadFile = File(...)) -> dict:",
                "async def predict(request: Request, file: UploadFile = File(...)) -> dict:",
            )
            .replace(
                "logits = model(x, training=False)",
                "logits = request.app.state.model(x, training=False)",
            );
        assert!(
            edited.contains("request.app.state.model(x"),
            "the sample changed"
        );
        assert!(edited.contains("lifespan=lifespan"), "the sample changed");
        std::fs::write(&main, edited).unwrap();
    });
    let (code, report, stderr) = verify(&service, &["--backend", "tract", "--count", "2"]);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_equivalent(&report, &["tract"], 0.0);
    let watched = report["original"]["watched"].to_string();
    assert!(watched.contains("keras.Model"), "{watched}");
}

#[test]
fn a_service_calling_two_models_says_which_it_compares_and_takes_model_name() {
    // torchvision-flask with a weightless "gate" model called before the classifier: the
    // first model a request calls is not always the one the plan migrates.
    let (_dir, service) = migrate_edited("torchvision-flask", &[], |service| {
        let path = service.join("app.py");
        edit(
            &path,
            "model.eval()\n",
            "model.eval()\ngate = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())\n",
        );
        edit(
            &path,
            "        logits = model(batch)\n",
            "        brightness = gate(batch)\n        logits = model(batch) + 0 * brightness.mean()\n",
        );
    });
    let (code, report, stderr) = verify(&service, &["--count", "1", "--model", "model"]);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_equivalent(&report, &["tract"], 0.0);
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("calls 2 models per request (gate, model)")
            && warnings.contains("`model`, as --model asks"),
        "{warnings}"
    );
    // Without --model the first one called is compared, and the report says how to choose.
    let (code, report, _) = verify(&service, &["--count", "1"]);
    assert_ne!(code, 0, "{report:#}");
    assert!(
        report["warnings"]
            .to_string()
            .contains("`gate`, the first called; choose another with --model NAME"),
        "{report:#}"
    );
    // A name the service never calls is refused with the names it does call.
    let (code, _, stderr) = verify(&service, &["--count", "1", "--model", "detector"]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("the service called gate, model"),
        "{stderr}"
    );
}

#[test]
fn a_torch_model_the_lifespan_puts_in_app_state_is_converted_and_verified() {
    // tests/services/fastapi-package with no cached getter: the lifespan loads the model into
    // `app.state`, the route reads it from the request. convert runs the lifespan to find it.
    let (_dir, service) = migrate_fixture_edited("fastapi-package", |service| {
        let src = service.join("src/catdog");
        edit(&src.join("model.py"), "@lru_cache(maxsize=1)\n", "");
        edit(
            &src.join("api/main.py"),
            "    get_model()  # load once, before the first request\n",
            "    app.state.model = get_model()\n",
        );
        let routes = src.join("api/routes.py");
        edit(
            &routes,
            "from fastapi import APIRouter,",
            "from fastapi import APIRouter, Request,",
        );
        edit(
            &routes,
            "async def classify(file: UploadFile = File(...)):",
            "async def classify(request: Request, file: UploadFile = File(...)):",
        );
        edit(
            &routes,
            "get_model()(batch)",
            "request.app.state.model(batch)",
        );
        edit(&routes, "from ..model import get_model\n", "");
    });
    let plan = std::fs::read_to_string(service.join("wasm-migrate.yaml")).unwrap();
    assert!(plan.contains("converted:"), "{plan}");
    let (code, report, stderr) = verify(&service, &["--backend", "tract", "--count", "2"]);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_equivalent(&report, &["tract"], 0.0);
}

#[test]
fn a_classic_flask_package_with_a_model_built_on_the_first_request_converts_and_verifies() {
    // tests/services/flask-classic: `@app.route` on the app imported from the package, the
    // model a class attribute that `Classifier.load()` fills on the first request: convert
    // builds it by calling the getter, verify watches it by type.
    let (_dir, service) = migrate_fixture("flask-classic");
    let plan = std::fs::read_to_string(service.join("wasm-migrate.yaml")).unwrap();
    assert!(plan.contains("handler: classify"), "{plan}");
    let (code, report, stderr) = verify(
        &service,
        &["--backend", "tract,onnxruntime", "--count", "3"],
    );
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_equivalent(&report, &["tract", "onnxruntime"], 0.0);
    assert_jpegs_within(&report, 0.0);
}

#[test]
fn a_service_run_from_a_subdirectory_converts_and_verifies_from_there() {
    // tests/services/fastapi-workdir: the Dockerfile copies backend/ to its WORKDIR and starts
    // `uvicorn main:app`, so the service opens model/ and labels.txt relative to backend/.
    let (_dir, service) = migrate_fixture("fastapi-workdir");
    let plan = std::fs::read_to_string(service.join("wasm-migrate.yaml")).unwrap();
    assert!(plan.contains("workdir: backend"), "{plan}");
    assert!(
        plan.contains("artifact: backend/model/squeeze.pt"),
        "{plan}"
    );
    let (code, report, stderr) = verify(&service, &["--backend", "tract", "--count", "3"]);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_equivalent(&report, &["tract"], 0.0);
    // The labels came from backend/labels.txt into the glue: the top-1 names agree.
    for result in report["backends"][0]["results"].as_array().unwrap() {
        assert_eq!(result["labels"]["equal"], true, "{result:#}");
    }
}

#[test]
fn a_model_a_before_request_hook_loads_into_a_registry_is_converted_and_verified() {
    // tests/services/flask-classic with the model loaded by a `before_request` hook into a
    // module-level dict on the first request (Flask 2.3 dropped before_first_request).
    let (_dir, service) = migrate_fixture_edited("flask-classic", |service| {
        let webapp = service.join("webapp");
        std::fs::write(
            webapp.join("model.py"),
            "import torch\nimport torchvision\n\nMODEL_PATH = \"model/squeeze.pt\"\nMODELS = {}\n\n\n\
             def warm_up():\n    if \"squeeze\" not in MODELS:\n        net = torchvision.models.squeezenet1_1(weights=None, num_classes=6)\n\
             \x20       net.load_state_dict(torch.load(MODEL_PATH, map_location=\"cpu\", weights_only=True))\n\
             \x20       MODELS[\"squeeze\"] = net.eval()\n",
        )
        .unwrap();
        let routes = webapp.join("routes.py");
        edit(
            &routes,
            "from webapp.model import Classifier\n",
            "from webapp.model import MODELS, warm_up\n\n\n@app.before_request\ndef ensure_models():\n    warm_up()\n",
        );
        edit(&routes, "Classifier.load()(", "MODELS[\"squeeze\"](");
    });
    let (code, report, stderr) = verify(&service, &["--backend", "tract", "--count", "2"]);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_equivalent(&report, &["tract"], 0.0);
}

#[test]
fn a_keras_2_training_configuration_keras_3_refuses_loads_for_inference() {
    // A model saved with a loss object as Keras 2 wrote it (`reduction: "auto"`): Keras 3's
    // load_model refuses it, and the services that load it fail to import under the test
    // venv. After pyharness's `load_keras_models_for_inference` (which the harness, convert
    // and verify --http's original run for a Keras service) it loads, without compiling,
    // through every name a service calls it by, and the note says why.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("wasm_migrate_service.py"),
        include_str!("../../pyharness/src/service.py"),
    )
    .unwrap();
    let script = dir.path().join("check.py");
    std::fs::write(
        &script,
        r#"
import json, sys
import h5py, keras, tensorflow as tf
sys.path.insert(0, sys.argv[1])
path = sys.argv[1] + "/legacy.h5"
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy())
model.save(path)
with h5py.File(path, "r+") as f:
    config = json.loads(f.attrs["training_config"])
    config["loss"]["config"]["reduction"] = "auto"
    f.attrs["training_config"] = json.dumps(config)
try:
    keras.models.load_model(path)
    sys.exit("Keras 3 loaded a Keras 2 loss config: the check proves nothing")
except ValueError:
    pass
from wasm_migrate_service import load_keras_models_for_inference
load_keras_models_for_inference()
for load in (keras.models.load_model, keras.saving.load_model, tf.keras.models.load_model):
    loaded = load(path)
    assert loaded.get_weights()[0].tolist() == model.get_weights()[0].tolist()
print("loaded")
"#,
    )
    .unwrap();
    let output = std::process::Command::new(wasm_migrate_tests::python_env().join("bin/python"))
        .arg(&script)
        .arg(dir.path())
        .output()
        .expect("python runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout.trim(), "loaded", "{stderr}");
    assert!(
        stderr.contains("refused its training configuration") && stderr.contains("compile=False"),
        "{stderr}"
    );
}
