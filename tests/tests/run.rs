//! `wasm-migrate run` and `doctor` on real guests (tests/guests, built for wasm32-wasip1) and
//! real models (tests/models/make_models.py): outputs against onnxruntime's reference, every
//! tensor type through the ABI, and every error a user will meet.

use std::process::Output;
use std::time::{Duration, Instant};
use wasm_migrate_tests::{guest, read_npy_f32, run_in_env, run_with, test_models};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn model_file(name: &str) -> String {
    test_models()
        .join(name)
        .to_str()
        .expect("utf-8 path")
        .to_string()
}

fn guest_path(name: &str) -> String {
    guest(name).to_str().expect("utf-8 path").to_string()
}

/// `wasm-migrate run GUEST FLAGS -- GUEST_ARGS`.
fn run_guest(name: &str, flags: &[String], guest_args: &[String]) -> Output {
    let mut args = vec!["run".to_string(), guest_path(name)];
    args.extend(flags.iter().cloned());
    args.push("--".into());
    args.extend(guest_args.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_in_env(&args)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn preload(name: &str, encoding: &str, files: &[&str]) -> String {
    let paths: Vec<String> = files.iter().map(|f| model_file(f)).collect();
    format!("--nn-preload={name}:{encoding}:cpu:{}", paths.join(":"))
}

/// The run-model guest's output for `model`'s input.
fn model_output(model: &str, flags: &[String], how: &[String]) -> Vec<f32> {
    let mut guest_args = how.to_vec();
    guest_args.extend([
        "--input".to_string(),
        model_file(&format!("{model}_input.npy")),
    ]);
    // The guest reads its input through WASI: the models directory is granted at its own path.
    let mut flags = flags.to_vec();
    flags.push(format!("--dir={}", test_models().display()));
    let out = run_guest("run-model", &flags, &guest_args);
    assert!(
        out.status.success(),
        "run failed ({flags:?}): {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let json: serde_json::Value =
        serde_json::from_str(stdout(&out).trim()).expect("the guest prints JSON");
    json["output"]
        .as_array()
        .expect("output")
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

fn assert_matches_reference(model: &str, got: &[f32], what: &str) {
    let (_, expected) = read_npy_f32(&test_models().join(format!("{model}_expected.npy")));
    assert_eq!(got.len(), expected.len(), "{what}: output length");
    let max = got
        .iter()
        .zip(&expected)
        .map(|(a, e)| (a - e).abs())
        .fold(0f32, f32::max);
    assert!(
        max <= 1e-4,
        "{what}: max abs diff {max} > 1e-4\n got {got:?}\nwant {expected:?}"
    );
}

#[test]
fn preloaded_onnx_models_match_onnxruntime_python_on_every_backend() {
    for model in ["cnn", "mlp"] {
        for backend in ["tract", "onnxruntime", "openvino"] {
            let flags = vec![
                preload(model, "onnx", &[&format!("{model}.onnx")]),
                format!("--backend={backend}"),
            ];
            let got = model_output(model, &flags, &strings(&["--preloaded", model]));
            assert_matches_reference(model, &got, &format!("{model} on {backend}"));
        }
    }
}

#[test]
fn openvino_ir_matches_onnxruntime_python_at_f32() {
    for model in ["cnn", "mlp"] {
        let flags = vec![preload(
            model,
            "openvino",
            &[&format!("{model}.xml"), &format!("{model}.bin")],
        )];
        let got = model_output(model, &flags, &strings(&["--preloaded", model]));
        assert_matches_reference(model, &got, &format!("{model} as OpenVINO IR"));
    }
}

#[test]
fn guests_load_models_from_preopened_directories() {
    let dir = format!("--dir={}:/models", test_models().display());
    let got = model_output(
        "cnn",
        std::slice::from_ref(&dir),
        &strings(&["--load", "onnx", "/models/cnn.onnx"]),
    );
    assert_matches_reference("cnn", &got, "cnn loaded by the guest on tract");
    let got = model_output(
        "mlp",
        &[dir],
        &strings(&["--load", "openvino", "/models/mlp.xml", "/models/mlp.bin"]),
    );
    assert_matches_reference("mlp", &got, "mlp IR loaded by the guest on openvino");
}

#[test]
fn the_sandbox_grants_no_files_and_no_environment_by_default() {
    let input = model_file("cnn_input.npy");
    let out = run_guest(
        "run-model",
        &[],
        &strings(&["--load", "onnx", &model_file("cnn.onnx"), "--input", &input]),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot read"),
        "the guest could read a host file: {}",
        stderr(&out)
    );

    let out = run_guest(
        "hello",
        &strings(&["--env=GREETING=hi"]),
        &strings(&["a", "b"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "hello a b");
}

#[test]
fn every_tensor_type_round_trips_through_the_abi() {
    let types = ["f16", "f32", "f64", "u8", "i32", "i64"];
    for backend in ["tract", "onnxruntime"] {
        let mut flags: Vec<String> = types
            .iter()
            .map(|t| {
                preload(
                    &format!("identity_{t}"),
                    "onnx",
                    &[&format!("identity_{t}.onnx")],
                )
            })
            .collect();
        flags.push(format!("--backend={backend}"));
        let out = run_guest("tensor-types", &flags, &strings(&types));
        let lines: Vec<serde_json::Value> = stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(
            lines.len(),
            types.len(),
            "{backend}: {}\n{}",
            stdout(&out),
            stderr(&out)
        );
        for (line, ty) in lines.iter().zip(types) {
            assert_eq!(line["type"], ty);
            assert_eq!(
                line["ok"],
                true,
                "{backend}: {ty} did not round-trip: {line}\n{}",
                stderr(&out)
            );
        }
        assert!(out.status.success());
    }
}

#[test]
fn openvino_round_trips_every_type_its_cpu_plugin_keeps() {
    // OpenVINO's CPU plugin computes i64 as i32 (values outside the i32 range do not come back);
    // the other five types must round-trip exactly.
    let types = ["f16", "f32", "f64", "u8", "i32"];
    let mut flags: Vec<String> = types
        .iter()
        .map(|t| {
            preload(
                &format!("identity_{t}"),
                "onnx",
                &[&format!("identity_{t}.onnx")],
            )
        })
        .collect();
    flags.push("--backend=openvino".into());
    let out = run_guest("tensor-types", &flags, &strings(&types));
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(
        stdout(&out).matches("\"ok\":true").count(),
        types.len(),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_mislabelled_tensor_type_is_refused_with_both_types_named() {
    // The guest says u8 for a model that takes f32: what a wrong enum number looks like.
    let out = run_guest(
        "misbehave",
        &[preload("mlp", "onnx", &["mlp.onnx"])],
        &strings(&["wrong-type", "mlp"]),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(
            "input 0 (features) expects f32 [1, 16], got u8 [1, 16]: the element type differs"
        ),
        "{err}"
    );
}

#[test]
fn a_wrong_shape_is_refused_with_the_expected_shape() {
    for backend in ["tract", "onnxruntime", "openvino"] {
        let flags = vec![
            preload("mlp", "onnx", &["mlp.onnx"]),
            format!("--backend={backend}"),
        ];
        let out = run_guest("misbehave", &flags, &strings(&["wrong-shape", "mlp"]));
        assert_eq!(out.status.code(), Some(1), "{backend}");
        let err = stderr(&out);
        assert!(
            err.contains("expects f32 [1, 16], got f32 [1, 5]: the shape differs"),
            "{backend}: {err}"
        );
    }
}

#[test]
fn an_output_buffer_too_small_is_explained() {
    let out = run_guest(
        "misbehave",
        &[preload("mlp", "onnx", &["mlp.onnx"])],
        &strings(&["small-buffer", "mlp"]),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("the output is 16 bytes, larger than the buffer the guest passed"),
        "{err}"
    );
}

#[test]
fn a_graph_that_was_not_preloaded_is_named() {
    let out = run_guest("misbehave", &[], &strings(&["missing-graph", "resnet"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no graph named \"resnet\" was preloaded"),
        "{err}"
    );
    assert!(err.contains("--nn-preload resnet:"), "{err}");
}

#[test]
fn a_guest_that_loops_forever_is_stopped_by_the_timeout() {
    let start = Instant::now();
    let out = run_guest("misbehave", &strings(&["--timeout=1"]), &strings(&["spin"]));
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "the timeout did not stop the guest in time"
    );
    assert_eq!(out.status.code(), Some(124));
    assert!(
        stderr(&out).contains("stopped after 1 s, the wall-clock limit"),
        "{}",
        stderr(&out)
    );
    // No limit: the module is compiled without interruption checks and runs as usual.
    let out = run_guest("hello", &strings(&["--timeout=0"]), &strings(&["a"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "hello a");
}

#[test]
fn a_guest_allocating_past_the_memory_limit_is_stopped_and_told_why() {
    let out = run_guest(
        "misbehave",
        &strings(&["--max-memory=64M"]),
        &strings(&["alloc", "200"]),
    );
    assert_eq!(out.status.code(), Some(137), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("past the limit of 64 MiB"),
        "{}",
        stderr(&out)
    );
    // Under the limit the same guest succeeds.
    let out = run_guest(
        "misbehave",
        &strings(&["--max-memory=512M"]),
        &strings(&["alloc", "200"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_trap_reports_the_wasm_backtrace() {
    let out = run_guest("misbehave", &[], &strings(&["trap"]));
    assert_eq!(out.status.code(), Some(134));
    let err = stderr(&out);
    assert!(
        err.contains("the guest trapped: wasm `unreachable` instruction executed"),
        "{err}"
    );
    assert!(
        err.contains("explode"),
        "the backtrace names the guest's functions: {err}"
    );
}

#[test]
fn files_that_are_not_modules_are_refused_with_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let elf = dir.path().join("app.wasm");
    std::fs::write(&elf, b"\x7fELF\x02\x01\x01\x00rest").unwrap();
    let out = run_in_env(&["run", elf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a WebAssembly module") && stderr(&out).contains("ELF"),
        "{}",
        stderr(&out)
    );

    let truncated = dir.path().join("truncated.wasm");
    std::fs::write(&truncated, &std::fs::read(guest("hello")).unwrap()[..100]).unwrap();
    let out = run_in_env(&["run", truncated.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a valid WebAssembly module"),
        "{}",
        stderr(&out)
    );

    let component = dir.path().join("component.wasm");
    std::fs::write(&component, b"\0asm\x0d\x00\x01\x00").unwrap();
    let out = run_in_env(&["run", component.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is a WebAssembly component, not a core module"),
        "{}",
        stderr(&out)
    );

    let out = run_in_env(&["run", dir.path().join("missing.wasm").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
}

#[test]
fn an_import_this_runtime_lacks_is_named_with_who_provides_it() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("ggml.wat");
    std::fs::write(
        &module,
        r#"(module
             (import "wasi_ephemeral_nn" "load_by_name_with_config" (func (param i32 i32 i32 i32 i32) (result i32)))
             (func (export "_start")))"#,
    )
    .unwrap();
    let out = run_in_env(&["run", module.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("imports `wasi_ephemeral_nn::load_by_name_with_config`"),
        "{err}"
    );
    assert!(err.contains("WasmEdge extension"), "{err}");
}

#[test]
fn bad_preloads_and_models_are_refused_before_the_guest_starts() {
    let hello = guest_path("hello");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            strings(&["--nn-preload=model.onnx"]),
            "expected NAME:ENCODING:TARGET:PATH",
        ),
        (
            strings(&["--nn-preload=m:keras:cpu:m.h5"]),
            "unknown encoding `keras`",
        ),
        (
            strings(&["--nn-preload=m:pytorch:cpu:m.pt"]),
            "convert the model to ONNX",
        ),
        (
            strings(&["--nn-preload=m:onnx:cpu:/no/such/model.onnx"]),
            "model file /no/such/model.onnx",
        ),
        (
            strings(&["--backend=pytorch"]),
            "PyTorch (TorchScript) models are not run by the embedded runtime",
        ),
        (strings(&["--dir=/no/such/dir"]), "does not exist"),
        (strings(&["--max-memory=lots"]), "is not a size"),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["run".to_string(), hello.clone()];
        args.extend(flags.clone());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run_in_env(&args);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{flags:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_model_the_backend_rejects_is_named_with_the_backends_reason() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.onnx");
    std::fs::write(&bad, b"this is not protobuf").unwrap();
    for backend in ["tract", "onnxruntime", "openvino"] {
        let spec = format!("--nn-preload=m:onnx:cpu:{}", bad.display());
        let out = run_in_env(&[
            "run",
            &guest_path("hello"),
            &spec,
            &format!("--backend={backend}"),
        ]);
        assert_eq!(out.status.code(), Some(2), "{backend}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!("the {backend} backend rejected the model")),
            "{backend}: {err}"
        );
    }
}

#[test]
fn a_second_run_loads_the_compiled_module_from_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let run = || {
        let out = run_with(
            &["run", &guest_path("hello"), "--format=json"],
            &[("WASM_MIGRATE_CACHE_DIR", cache_dir)],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        json["cache"].as_str().unwrap().to_string()
    };
    assert_eq!(run(), "miss");
    assert_eq!(run(), "hit");
    // A corrupt cache entry is recompiled, not trusted.
    for entry in std::fs::read_dir(cache.path().join("modules"))
        .unwrap()
        .flatten()
    {
        std::fs::write(entry.path(), b"garbage").unwrap();
    }
    assert_eq!(run(), "miss");
}

#[test]
fn json_output_reports_the_ending_backends_and_precision() {
    let flags = vec![
        preload("mlp", "openvino", &["mlp.xml", "mlp.bin"]),
        "--format=json".to_string(),
        format!("--dir={}", test_models().display()),
    ];
    let out = run_guest(
        "run-model",
        &flags,
        &strings(&[
            "--preloaded",
            "mlp",
            "--input",
            &model_file("mlp_input.npy"),
        ]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["ending"]["status"], "exited");
    assert_eq!(json["exit_code"], 0);
    assert_eq!(json["preloaded"][0]["backend"], "openvino");
    assert_eq!(json["preloaded"][0]["precision"], "f32");
    assert!(json["stdout"].as_str().unwrap().contains("\"output\""));
}

#[test]
fn openvino_at_the_device_default_reports_the_precision_it_used() {
    let doctor = run_in_env(&["doctor", "--format=json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&doctor)).unwrap();
    let openvino = report["backends"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["backend"] == "openvino")
        .unwrap();
    let flags = vec![
        preload("mlp", "openvino", &["mlp.xml", "mlp.bin"]),
        "--precision=device-default".to_string(),
        "--format=json".to_string(),
        format!("--dir={}", test_models().display()),
    ];
    let out = run_guest(
        "run-model",
        &flags,
        &strings(&[
            "--preloaded",
            "mlp",
            "--input",
            &model_file("mlp_input.npy"),
        ]),
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let used = json["preloaded"][0]["precision"]
        .as_str()
        .unwrap()
        .to_string();
    // The CPU's own default, as doctor reports it (bf16 on this project's AMD EPYC machines).
    assert!(
        openvino["default_precision"]
            .as_str()
            .unwrap()
            .contains(&format!("default is {used}")),
        "{used} vs {openvino}"
    );
}

#[test]
fn doctor_reports_each_backend_and_the_fix_for_what_is_missing() {
    let out = run_in_env(&["doctor", "--format=json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let backend = |name: &str| {
        report["backends"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["backend"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(backend("tract")["available"], true);
    assert_eq!(
        backend("onnxruntime")["available"],
        true,
        "{}",
        backend("onnxruntime")
    );
    assert_eq!(
        backend("openvino")["available"],
        true,
        "{}",
        backend("openvino")
    );
    assert!(
        backend("onnxruntime")["version"]
            .as_str()
            .unwrap()
            .starts_with("1.")
    );
    assert!(report["pythons"].as_array().unwrap().iter().any(|p| {
        p["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|pkg| pkg[0] == "onnxruntime")
    }));

    // Without a Python environment that has them, the native backends say why and what to do.
    let out = run_with(
        &["doctor", "--format=json"],
        &[("VIRTUAL_ENV", "/nonexistent"), ("PATH", "/usr/bin:/bin")],
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let ort = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "onnxruntime")
        .unwrap()
        .clone();
    if ort["state"] == "missing" {
        assert!(
            ort["fix"]
                .as_str()
                .unwrap()
                .contains("pip install onnxruntime"),
            "{ort}"
        );
    }

    let out = run_in_env(&["doctor", "--require=tract,wasm32-wasip1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = run_in_env(&["doctor", "--require=pytorch"]);
    assert_eq!(out.status.code(), Some(1));
    let out = run_in_env(&["doctor", "--require=nonsense"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The sandbox guest's lines, by attempt: `Ok(what)` when allowed, `Err(why)` when denied.
fn sandbox_attempts(output: &Output) -> std::collections::HashMap<String, Result<String, String>> {
    stdout(output)
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(' ')?;
            let result = match rest.strip_prefix("denied: ") {
                Some(why) => Err(why.to_string()),
                None => Ok(rest
                    .strip_prefix("allowed")
                    .unwrap_or(rest)
                    .trim()
                    .to_string()),
            };
            Some((name.to_string(), result))
        })
        .collect()
}

#[test]
fn a_module_sees_only_what_it_is_given_and_the_host_survives_every_attempt() {
    let granted = tempfile::tempdir().unwrap();
    std::fs::write(granted.path().join("granted.txt"), "hello").unwrap();
    let dir = format!("{}:/data", granted.path().display());
    let check = |output: &Output, env_names: &str| {
        let attempts = sandbox_attempts(output);
        assert_eq!(attempts["read-granted"], Ok("hello".into()), "{attempts:?}");
        assert!(attempts["write-granted"].is_err(), "{attempts:?}");
        for escape in [
            "read-etc-passwd",
            "write-outside",
            "escape-with-dotdot",
            "env-home",
            "connect-out",
        ] {
            assert!(attempts[escape].is_err(), "{escape}: {attempts:?}");
        }
        assert_eq!(
            attempts["env-names"],
            Ok(env_names.to_string()),
            "{attempts:?}"
        );
        assert!(!granted.path().join("written.txt").exists());
    };
    // `run` with the directory read-only (`:ro`), one variable given.
    let run = run_guest(
        "sandbox",
        &strings(&["--dir", &format!("{dir}:ro"), "--env", "ALLOWED=1"]),
        &strings(&["/data"]),
    );
    assert!(run.status.success(), "{}", stderr(&run));
    check(&run, "ALLOWED");
    let attempts = sandbox_attempts(&run);
    // No listener under `run`: the socket is refused at once.
    assert!(
        attempts["connect-out"]
            .as_ref()
            .unwrap_err()
            .contains("errno 58")
    );
    // `serve`: directories are read-only by default, the environment is what serve sets, a
    // socket opens (to listen) but never connects out. The probe serves nothing, so serve ends
    // with its reason once it has run.
    let serve = run_in_env(&[
        "serve",
        &guest_path("sandbox"),
        "--port",
        "0",
        "--dir",
        &dir,
    ]);
    assert_eq!(serve.status.code(), Some(1), "{}", stderr(&serve));
    check(&serve, "HOST,IO_TIMEOUT_SECS,PORT");
    let attempts = sandbox_attempts(&serve);
    assert!(
        attempts["connect-out"]
            .as_ref()
            .unwrap_err()
            .contains("sock_connect errno 58")
    );
}
