//! analyze -> generate -> convert -> build -> run on the samples, against the Python service.
//!
//! Each sample is copied to a temporary directory, its own script makes the model (seeded
//! weights), the real frameworks in the test venv convert it, the glue is built for
//! wasm32-wasip1 (one shared target directory, so dependencies build once) and run in the
//! embedded runtime on several backends. `tests/generate/reference.py` runs the service's own
//! code on the same photographs; the preprocessed tensors and the logits must agree.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use wasm_migrate_tests::flow::{assert_lint_clean, migrate, ok, python, wm, wm_shipped_profile};
use wasm_migrate_tests::{copy_dir, read_npy_f32, repo_root, sample};

/// The glue's outputs (first output per input) and the dumped preprocessed tensors.
fn run_glue(service: &Path, backend: &str, inputs: usize) -> Vec<(Vec<f32>, usize)> {
    let glue = service.join("migrated");
    let refs = service.join("refs");
    let (preload, backend_flag) = match backend {
        "openvino" => (
            format!(
                "model:openvino:cpu:{}:{}",
                glue.join("model/model.xml").display(),
                glue.join("model/model.bin").display()
            ),
            "openvino",
        ),
        other => (
            format!("model:onnx:cpu:{}", glue.join("model/model.onnx").display()),
            other,
        ),
    };
    let dump = format!("/refs/wasm_{backend}_pre.npy");
    let guest_inputs: Vec<String> = (0..inputs)
        .map(|i| format!("/refs/input_{i}.png"))
        .collect();
    let mut args = vec![
        "run".to_string(),
        "-q".into(),
        "--backend".into(),
        backend_flag.into(),
        "--dir".into(),
        format!("{}:/refs", refs.display()),
        "--nn-preload".into(),
        preload,
        glue.join("app.wasm").display().to_string(),
        "--".into(),
        "--dump-preprocessed".into(),
        dump,
    ];
    args.extend(guest_inputs);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let stdout = ok(wm(&args), &format!("run on {backend}"));
    stdout
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("one JSON object per input");
            let data: Vec<f32> = v["outputs"][0]["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
            let top1 = v["top_k"][0]["index"].as_u64().unwrap() as usize;
            (data, top1)
        })
        .collect()
}

fn argmax(v: &[f32]) -> usize {
    (0..v.len()).fold(0, |best, i| if v[i] > v[best] { i } else { best })
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The whole flow for one sample; `max_pre_diff` is the preprocessing target for its resize.
fn glue_matches_python(
    name: &str,
    backends: &[&str],
    max_pre_diff: f32,
) -> (tempfile::TempDir, PathBuf) {
    let (dir, service) = migrate(name);
    let refs = service.join("refs");
    python(&[
        &repo_root().join("tests/generate/reference.py"),
        Path::new(name),
        &service,
        &refs,
    ]);
    let inputs = 3;
    for backend in backends {
        let results = run_glue(&service, backend, inputs);
        assert_eq!(results.len(), inputs, "{backend}: one result per input");
        for (i, (data, top1)) in results.iter().enumerate() {
            let (_, expected) = read_npy_f32(&refs.join(format!("input_{i}_out.npy")));
            let (_, python_pre) = read_npy_f32(&refs.join(format!("input_{i}_pre.npy")));
            let dump = if i == 0 {
                refs.join(format!("wasm_{backend}_pre.npy"))
            } else {
                refs.join(format!("wasm_{backend}_pre.npy.{i}"))
            };
            let (_, wasm_pre) = read_npy_f32(&dump);
            let pre_diff = max_abs_diff(&wasm_pre, &python_pre);
            let out_diff = max_abs_diff(data, &expected);
            println!(
                "{name} {backend} input {i}: preprocessed max abs diff {pre_diff:e}, logits {out_diff:e}"
            );
            assert!(
                pre_diff <= max_pre_diff,
                "{name} {backend} input {i}: preprocessing differs by {pre_diff}"
            );
            assert!(
                out_diff <= 1e-3,
                "{name} {backend} input {i}: logits differ by {out_diff}"
            );
            assert_eq!(
                *top1,
                argmax(&expected),
                "{name} {backend} input {i}: top-1"
            );
        }
    }
    (dir, service)
}

#[test]
fn torchvision_flask_glue_matches_python_on_three_backends() {
    // PIL resize and torchvision's chain are reproduced exactly.
    glue_matches_python(
        "torchvision-flask",
        &["openvino", "tract", "onnxruntime"],
        0.0,
    );
}

#[test]
fn onnxruntime_service_glue_matches_python_on_three_backends() {
    // OpenCV's INTER_LINEAR: at most one level (1/255) before normalisation by std 0.25.
    glue_matches_python(
        "onnxruntime-service",
        &["onnxruntime", "tract", "openvino"],
        1.0 / 255.0 / 0.25 + 1e-6,
    );
}

#[test]
fn generated_crate_is_clippy_clean_and_deploy_files_hold_what_the_shim_reads() {
    let (dir, service) = migrate("torchvision-flask");
    let glue = service.join("migrated");
    assert_lint_clean(&glue);
    shipped_profile_computes_what_the_test_profile_does(&glue, dir.path());

    let yaml = std::fs::read_to_string(glue.join("deploy/kubernetes.yaml")).unwrap();
    let docs: Vec<serde_json::Value> =
        serde_saphyr::from_str_multiple(&yaml).expect("deploy YAML parses");
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["RuntimeClass", "Deployment", "Service"]);
    assert_eq!(docs[0]["handler"], "wasmedge");
    let pod = &docs[1]["spec"]["template"]["spec"];
    assert_eq!(pod["runtimeClassName"], "wasmedge");
    let env = pod["containers"][0]["env"].as_array().unwrap();
    let preload = env
        .iter()
        .find(|e| e["name"] == "WASMEDGE_WASINN_PRELOAD")
        .expect("the shim's preload variable")["value"]
        .as_str()
        .unwrap();
    // NAME:ENCODING:TARGET:PATH[:PATH], with the paths under the model volume's mount.
    let parts: Vec<&str> = preload.split(':').collect();
    assert_eq!(&parts[..3], ["model", "openvino", "cpu"]);
    assert!(
        parts[3..].iter().all(|p| p.starts_with("/model/")),
        "{preload}"
    );
    assert!(env.iter().any(|e| e["name"] == "WASMEDGE_PLUGIN_PATH"));
    let mounts = pod["containers"][0]["volumeMounts"].as_array().unwrap();
    assert!(mounts.iter().any(|m| m["mountPath"] == "/model"));
    // The pod serves: the module in server mode on the original's port (its
    // `app.run(port=8080)`, not Flask's default 5000), probed
    // on the original's health route, behind a Service on the same port.
    let container = &pod["containers"][0];
    assert_eq!(container["args"], serde_json::json!(["--serve"]));
    assert_eq!(container["ports"][0]["containerPort"], 8080);
    assert!(
        env.iter()
            .any(|e| e["name"] == "PORT" && e["value"] == "8080")
    );
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/health");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/health");
    assert!(container["resources"]["requests"]["memory"].is_string());
    assert_eq!(docs[2]["spec"]["ports"][0]["port"], 8080);
    let readme = std::fs::read_to_string(glue.join("README.md")).unwrap();
    assert!(
        readme.contains("curl -F image=@photo.jpg http://localhost:8080/predict"),
        "{readme}"
    );

    let dockerfile = std::fs::read_to_string(glue.join("deploy/Dockerfile")).unwrap();
    assert!(dockerfile.contains("FROM scratch"));
    // The image holds the AOT-compiled module, with its own socket deadline.
    assert!(
        dockerfile.contains("COPY app_aot.wasm /app.wasm"),
        "{dockerfile}"
    );
    assert!(
        dockerfile.contains("ENV IO_TIMEOUT_SECS=30"),
        "{dockerfile}"
    );
    // A stop drains: a preStop sleep (no shell in a Wasm pod) within the grace period.
    assert_eq!(
        container["lifecycle"]["preStop"]["sleep"]["seconds"], 10,
        "{container:#}"
    );
    assert!(
        pod["terminationGracePeriodSeconds"].as_u64().unwrap() > 10,
        "{pod:#}"
    );
    assert!(
        env.iter()
            .any(|e| e["name"] == "IO_TIMEOUT_SECS" && e["value"] == "30")
    );
    assert!(dockerfile.contains("module.wasm.image/variant=\"compat-smart\""));
    assert!(dockerfile.contains("DEPRECATED"));
    let script = std::fs::read_to_string(glue.join("deploy/run-wasmedge.sh")).unwrap();
    assert!(script.contains("wasmedge compile app.wasm app_aot.wasm"));
    assert!(script.contains("--nn-preload model:openvino:cpu:model/model.xml:model/model.bin"));
    assert!(script.contains("app_aot.wasm --serve"));
    assert!(dockerfile.contains("CMD [\"--serve\"]") && dockerfile.contains("EXPOSE 8080"));
    run_wasmedge_sh_picks_flags_by_version_and_refuses_an_unloaded_plugin(&glue);

    // The stamp and the verdicts.
    let inspect = ok(
        wm(&[
            "inspect",
            glue.join("app.wasm").to_str().unwrap(),
            "--format",
            "json",
        ]),
        "inspect",
    );
    let report: Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(report["stamp"]["target"], "wasmedge@0.14");
    assert_eq!(report["stamp"]["input_types"], serde_json::json!(["f32"]));
    assert!(
        report["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["compatible"] == true)
    );
    let modules: Vec<&str> = report["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["module"].as_str().unwrap())
        .collect();
    assert!(modules.contains(&"wasi_ephemeral_nn"));

    // The OCI archive, read back by skopeo (Debian's package; .ci/run installs it).
    let archive = ok(
        wm(&[
            "package",
            "--oci",
            glue.to_str().unwrap(),
            "--tag",
            "svc:0.1.0",
            "--format",
            "json",
        ]),
        "package --oci",
    );
    let archive: Value = serde_json::from_str(&archive).unwrap();
    let path = archive["archive"].as_str().unwrap();
    let skopeo = Command::new("skopeo")
        .args(["inspect", "--raw"])
        .arg(format!("oci-archive:{path}"))
        .output()
        .expect("skopeo is installed (apt-get install skopeo)");
    let manifest: Value = serde_json::from_str(&ok(skopeo, "skopeo inspect --raw")).unwrap();
    assert_eq!(
        manifest["annotations"]["module.wasm.image/variant"],
        "compat-smart"
    );
    let skopeo = Command::new("skopeo")
        .args(["inspect", "--config"])
        .arg(format!("oci-archive:{path}"))
        .output()
        .unwrap();
    let config: Value = serde_json::from_str(&ok(skopeo, "skopeo inspect --config")).unwrap();
    assert_eq!(config["os"], "wasi");
    assert_eq!(config["architecture"], "wasm");
    assert_eq!(
        config["config"]["Entrypoint"],
        serde_json::json!(["/app.wasm"])
    );
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["--serve"]));
    assert!(
        config["config"]["ExposedPorts"]["8080/tcp"].is_object(),
        "{config}"
    );
    // Without --force an existing archive is kept.
    let again = wm(&["package", "--oci", glue.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));

    // The plan records what convert wrote, with f32 weights.
    let plan = std::fs::read_to_string(service.join("wasm-migrate.yaml")).unwrap();
    assert!(plan.contains("converted:"));
    assert!(!plan.contains("weights: f16"));
}

/// The tests build glue without fat LTO (`flow::wm`); the crate's own release profile, as
/// users build it, must give the same module behaviour: the same JSON for the same image.
fn shipped_profile_computes_what_the_test_profile_does(glue: &Path, scratch: &Path) {
    let photo = scratch.join("gradient.png");
    image::RgbImage::from_fn(333, 250, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 251) as u8])
    })
    .save(&photo)
    .unwrap();
    // The module's answer without its own timings.
    let run = |module: &Path| -> Value {
        let preload = format!("model:onnx:cpu:{}", glue.join("model/model.onnx").display());
        let stdout = ok(
            wm(&[
                "run",
                "-q",
                "--dir",
                &format!("{}:/in", scratch.display()),
                "--nn-preload",
                &preload,
                module.to_str().unwrap(),
                "--",
                "/in/gradient.png",
            ]),
            "run",
        );
        let mut answer: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
        answer.as_object_mut().unwrap().remove("timing_ms");
        answer
    };
    let test_module = scratch.join("test-profile.wasm");
    std::fs::copy(glue.join("app.wasm"), &test_module).unwrap();
    let expected = run(&test_module);
    ok(
        wm_shipped_profile(&["build", glue.to_str().unwrap()]),
        "build with the shipped profile",
    );
    let shipped = std::fs::read(glue.join("app.wasm")).unwrap();
    assert_ne!(
        shipped,
        std::fs::read(&test_module).unwrap(),
        "the shipped profile built a module of its own"
    );
    assert_eq!(run(&glue.join("app.wasm")), expected);
}

/// Writes the sample's plan with `edit` applied, then runs generate and returns stderr.
fn generate_with_plan_edit(
    name: &str,
    make_model: bool,
    edit: impl Fn(&str) -> String,
) -> (Output, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let service = dir.path().join(name);
    copy_dir(&sample(name), &service);
    if make_model {
        python(&[&service.join("make_model.py")]);
    } else {
        // A sample may ship its model (onnxruntime-service does, for the README's first run).
        let _ = std::fs::remove_dir_all(service.join("model"));
    }
    ok(
        wm(&["analyze", service.to_str().unwrap(), "--write-plan"]),
        "analyze",
    );
    let plan_path = service.join("wasm-migrate.yaml");
    let plan = std::fs::read_to_string(&plan_path).unwrap();
    std::fs::write(&plan_path, edit(&plan)).unwrap();
    let output = wm(&["generate", service.to_str().unwrap()]);
    (output, service, dir)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect(needle) + 1
}

/// `deploy/run-wasmedge.sh` under a stand-in `wasmedge` that answers `--version` as WasmEdge
/// does and records how it was started: the exit code, the recorded command, stderr.
fn run_wasmedge_sh(
    glue: &Path,
    version_output: &str,
    args: &[&str],
) -> (Option<i32>, String, String) {
    let bin = tempfile::tempdir().unwrap();
    let calls = bin.path().join("calls");
    let fake = bin.path().join("wasmedge");
    std::fs::write(
        &fake,
        format!(
            "#!/usr/bin/env bash\n\
             case \"$1\" in\n\
               --version) printf '%s' '{version_output}' ;;\n\
               compile) cp \"$2\" \"$3\" ;;\n\
               *) echo \"$*\" >> '{}' ;;\n\
             esac\n",
            calls.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = std::process::Command::new("bash")
        .arg(glue.join("deploy/run-wasmedge.sh"))
        .args(args)
        .env("PATH", path)
        .output()
        .unwrap();
    (
        output.status.code(),
        std::fs::read_to_string(&calls).unwrap_or_default(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn run_wasmedge_sh_picks_flags_by_version_and_refuses_an_unloaded_plugin(glue: &Path) {
    let plugin = "/opt/we/plugin/libwasmedgePluginWasiNN.so (plugin \"wasi_nn\") version 0.1.0.0\n";
    // 0.17 runs an AOT module's native code only with --run-mode aot.
    let (code, calls, stderr) = run_wasmedge_sh(
        glue,
        &format!("/opt/we/bin/wasmedge version 0.17.1\n{plugin}"),
        &[],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(calls.starts_with("--run-mode aot "), "{calls}");
    assert!(
        calls.trim_end().ends_with("app_aot.wasm --serve"),
        "{calls}"
    );
    // The module's own socket deadline: WasmEdge sets none.
    assert!(calls.contains("--env IO_TIMEOUT_SECS=30 "), "{calls}");
    // --compile writes the AOT module for deploy/Dockerfile and runs nothing.
    let _ = std::fs::remove_file(glue.join("app_aot.wasm"));
    let (code, calls, stderr) = run_wasmedge_sh(
        glue,
        &format!("wasmedge version 0.17.1\n{plugin}"),
        &["--compile"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(calls.is_empty(), "{calls}");
    assert!(glue.join("app_aot.wasm").is_file());
    // 0.14 has no such flag and uses the native code by itself.
    let (code, calls, stderr) =
        run_wasmedge_sh(glue, &format!("wasmedge version 0.14.1\n{plugin}"), &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!calls.contains("--run-mode"), "{calls}");
    // A plugin file WasmEdge could not load is no plugin: its own reason is shown.
    let (code, calls, stderr) = run_wasmedge_sh(
        glue,
        "libopenvino_c.so.2540: cannot open shared object file\nwasmedge version 0.17.1\n",
        &[],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(calls.is_empty(), "{calls}");
    assert!(
        stderr.contains("did not load its wasi-nn plugin")
            && stderr.contains("libopenvino_c.so.2540"),
        "{stderr}"
    );
}

#[test]
fn bad_plans_fail_naming_the_plan_line() {
    // A step with no Rust equivalent: INTER_CUBIC.
    let (output, service, _dir) = generate_with_plan_edit("onnxruntime-service", true, |p| {
        p.replace("symbol: cv2.INTER_LINEAR", "symbol: cv2.INTER_CUBIC")
    });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let plan = std::fs::read_to_string(service.join("wasm-migrate.yaml")).unwrap();
    // The error points at the list item of the resize step.
    let resize_item = line_of(&plan, "op: resize") - 1;
    assert!(
        stderr.contains(&format!("wasm-migrate.yaml:{resize_item}:")),
        "{stderr}"
    );
    assert!(stderr.contains("INTER_CUBIC"), "{stderr}");
    assert!(!service.join("migrated").exists(), "nothing half-written");

    // An unknown step.
    let (output, service, _dir) = generate_with_plan_edit("onnxruntime-service", true, |p| {
        p.replace(
            "- library: numpy\n  op: astype",
            "- library: numpy\n  op: fft2",
        )
    });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let plan = std::fs::read_to_string(service.join("wasm-migrate.yaml")).unwrap();
    let item = line_of(&plan, "op: fft2") - 1;
    assert!(
        stderr.contains(&format!("wasm-migrate.yaml:{item}:")),
        "{stderr}"
    );
    assert!(stderr.contains("numpy.fft2"), "{stderr}");

    // The model file does not exist (the sample's model script was not run).
    let (output, _service, _dir) =
        generate_with_plan_edit("onnxruntime-service", false, |p| p.to_string());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("model/classifier.onnx` does not exist"),
        "{stderr}"
    );
}

#[test]
fn generate_keeps_existing_output_unless_forced() {
    let (output, service, _dir) =
        generate_with_plan_edit("onnxruntime-service", true, |p| p.to_string());
    ok(output, "first generate");
    let main_rs = service.join("migrated/src/main.rs");
    std::fs::write(&main_rs, "// edited by hand\n").unwrap();
    let again = wm(&["generate", service.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(&main_rs).unwrap(),
        "// edited by hand\n"
    );
    ok(
        wm(&["generate", service.to_str().unwrap(), "--force"]),
        "generate --force",
    );
    assert!(
        std::fs::read_to_string(&main_rs)
            .unwrap()
            .contains("wasi-nn glue")
    );
}

#[test]
fn wasmedge_014_refuses_non_f32_inputs_unless_forced() {
    let (output, service, _dir) = generate_with_plan_edit("onnxruntime-service", true, |p| {
        p.replace("dtype: f32", "dtype: u8")
    });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("only f32"), "{stderr}");
    let forced = wm(&["generate", service.to_str().unwrap(), "--force"]);
    ok(forced, "generate --force");
}
