"""The notebook API on the bundled samples, against the installed wheel."""

import json
import pathlib
import sysconfig
import threading
import time

import pytest

import wasm_migrate
from wasm_migrate import WasmMigrateError


def test_analyze_reports_the_pipeline_and_the_recommendation(samples):
    report = wasm_migrate.analyze(samples / "torchvision-flask")
    assert report.recommendation["path"] == "wasi-nn-glue"
    assert report.plan["model"]["framework"] == "pytorch"
    assert report.plan["model"]["artifact"] == "model/resnet18.pt"
    ops = [s["op"] for s in report.plan["preprocessing"]]
    assert ops == ["open", "convert", "Resize", "CenterCrop", "ToTensor", "Normalize", "unsqueeze"]
    normalize = next(s for s in report.pipeline["preprocessing"] if s["op"] == "Normalize")
    assert normalize["params"]["mean"] == [0.485, 0.456, 0.406]
    assert report.summary["files_parsed"] >= 2
    assert all(f["location"]["line"] >= 1 for f in report.findings)
    assert "wasi-nn-glue" in repr(report)


def test_to_dict_json_yaml_sarif_markdown_agree(samples):
    report = wasm_migrate.analyze(samples / "blocked-monolith")
    as_dict = report.to_dict()
    assert as_dict == json.loads(report.to_json())
    assert as_dict["schema_version"] == "1.0"
    assert json.loads(report.to_json(indent=None)) == as_dict
    rules = {f["rule"] for f in report.findings}
    assert "process-subprocess" in rules
    sarif = json.loads(report.to_sarif())
    assert sarif["version"] == "2.1.0"
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == rules
    assert "process-subprocess" in report.to_markdown()
    assert "process-subprocess" in report.to_yaml()
    assert "\x1b" not in report.to_text() and "\x1b" in report.to_text(color=True)


def test_html_for_notebooks_is_compact_and_self_contained(samples):
    report = wasm_migrate.analyze(samples / "blocked-monolith")
    html = report._repr_html_()
    assert html.startswith('<div class="wasm-migrate-report')
    assert "<svg" in html and "process-subprocess" in html
    assert "<html" not in html and "<script src" not in html
    assert "<html" in report.to_html()


def test_to_pandas_has_one_row_per_finding(samples):
    pandas = pytest.importorskip("pandas")
    report = wasm_migrate.analyze(samples / "blocked-monolith")
    frame = report.to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert len(frame) == len(report.findings)
    assert list(frame.columns[:5]) == ["rule", "category", "effort", "file", "line"]
    assert (frame[frame.rule == "process-subprocess"].line == 49).all()


def test_fail_on_matches_the_cli_exit_codes(samples):
    blocked = wasm_migrate.analyze(samples / "blocked-monolith", fail_on="mandatory")
    assert blocked.failed and blocked.exit_code == 1
    clean = wasm_migrate.analyze(samples / "torchvision-flask", fail_on="mandatory")
    assert not clean.failed and clean.exit_code == 0
    assert not wasm_migrate.analyze(samples / "blocked-monolith").failed
    with pytest.raises(WasmMigrateError, match="fail_on"):
        wasm_migrate.analyze(samples / "blocked-monolith", fail_on="sometimes")


def test_write_plan_never_overwrites_without_force(samples, tmp_path):
    report = wasm_migrate.analyze(samples / "onnxruntime-service")
    target = tmp_path / "plan.yaml"
    written = report.write_plan(target)
    assert str(written) == str(target)
    text = target.read_text()
    assert "framework: onnx" in text and text.startswith("# wasm-migrate migration plan")
    target.write_text("edited")
    with pytest.raises(WasmMigrateError, match="--force") as caught:
        report.write_plan(target)
    assert caught.value.path == str(target)
    assert target.read_text() == "edited"
    report.write_plan(target, force=True)
    assert "framework: onnx" in target.read_text()


def test_errors_share_one_base_class_and_name_the_file(tmp_path):
    with pytest.raises(WasmMigrateError, match="no such file") as caught:
        wasm_migrate.analyze(tmp_path / "missing")
    assert caught.value.path.endswith("missing")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yaml").write_text("- id: x\n  category: sometimes\n")
    (tmp_path / "app.py").write_text("print(1)\n")
    with pytest.raises(WasmMigrateError) as caught:
        wasm_migrate.analyze(tmp_path / "app.py", rules=rules)
    assert caught.value.path.endswith("bad.yaml")
    assert caught.value.line == 2


def test_analyze_releases_the_gil():
    stdlib = sysconfig.get_paths()["stdlib"]
    ticks = 0
    done = threading.Event()

    def count():
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    started = time.perf_counter()
    try:
        report = wasm_migrate.analyze(stdlib)
    finally:
        done.set()
        counter.join()
    elapsed = time.perf_counter() - started
    assert report.summary["files_parsed"] > 100
    # The counter thread kept running while Rust worked: at least a tick per 10 ms.
    assert ticks >= elapsed * 100 * 0.5, (ticks, elapsed)


def test_help_teaches():
    doc = wasm_migrate.analyze.__doc__
    assert "fail_on" in doc and "Example" in doc
    assert wasm_migrate.__version__


def test_generate_convert_build_inspect_run_and_verify_from_python(samples, tmp_path, monkeypatch):
    import json
    import shutil
    import subprocess
    import sys

    import numpy as np
    import skimage.data
    from PIL import Image

    repo = pathlib.Path(__file__).resolve().parents[2]
    service = tmp_path / "svc"
    shutil.copytree(samples / "onnxruntime-service", service)
    subprocess.run([sys.executable, str(service / "make_model.py")], check=True, capture_output=True)
    wasm_migrate.analyze(service).write_plan()

    generated = wasm_migrate.generate(service)
    out = generated["out"]
    assert (tmp_path / "svc" / "migrated" / "src" / "main.rs").is_file()
    assert generated["manifest"]["kind"] == "image"
    with pytest.raises(WasmMigrateError, match="--force"):
        wasm_migrate.generate(service)

    converted = wasm_migrate.convert(service, python=sys.executable)
    assert {a["format"] for a in converted["artifacts"]} >= {"onnx"}
    # The original's API, recorded for the module's server mode.
    assert converted["http"]["routes"] == ["POST /infer"], converted["http"]
    assert converted["http"]["health"] == "GET /health"
    assert converted["http"]["response_rebuilt"], converted["http"]

    # The tests' shared glue target and profile (tests/src/lib.rs, TEST_GLUE_PROFILE): the
    # same profile reuses the dependencies the Rust tests built.
    monkeypatch.setenv("CARGO_TARGET_DIR", str(repo / "target" / "glue-target"))
    monkeypatch.setenv("CARGO_PROFILE_RELEASE_LTO", "off")
    monkeypatch.setenv("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
    monkeypatch.setenv("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1")
    built = wasm_migrate.build(out)
    assert built["size"] > 0
    inspection = wasm_migrate.inspect(built["module"])
    assert inspection["stamp"]["target"] == "wasmedge@0.14"
    assert {v["runtime"]: v["compatible"] for v in inspection["verdicts"]}["wasmtime"]

    # run: the module on a photograph, output captured.
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.ascontiguousarray(skimage.data.coffee()[:300, :420])).save(photos / "coffee.png")
    model = pathlib.Path(out) / "model" / "model.onnx"
    ran = wasm_migrate.run(
        built["module"],
        ["/photos/coffee.png"],
        dirs=[f"{photos}:/photos"],
        nn_preload=[f"model:onnx:cpu:{model}"],
    )
    assert ran["exit_code"] == 0, ran["stderr"]
    assert ran["preloaded"][0]["backend"] == "tract"
    answer = json.loads(ran["stdout"].splitlines()[0])
    assert answer["top_k"][0]["index"] in range(answer["outputs"][0]["shape"][-1])
    with pytest.raises(WasmMigrateError, match="missing.wasm"):
        wasm_migrate.run(tmp_path / "missing.wasm")

    # verify: the service's own Python against the module, as a report object.
    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)  # where ONNX Runtime's library is found
    result = wasm_migrate.verify(service, backends=["tract", "onnxruntime"], count=2, python=sys.executable)
    assert result.verdict == "equivalent", result.to_text()
    assert result.exit_code == 0
    report = result.to_dict()
    assert report["schema"] == "wasm-migrate/verify"
    assert [b["backend"] for b in report["backends"]] == ["tract", "onnxruntime"]
    outputs = len(report["backends"][0]["results"][0]["outputs"])
    frame = result.to_pandas()
    assert len(frame) == 2 * 2 * outputs
    assert set(frame["backend"]) == {"tract", "onnxruntime"}
    assert frame["passed"].all() and (frame["max_abs"] <= 1e-3).all()
    html = result._repr_html_()
    assert html.startswith("<!DOCTYPE html>") and "Stage 1" in html
    assert "equivalent" in repr(result)
    with pytest.raises(WasmMigrateError, match="pytorch"):
        wasm_migrate.verify(service, backends=["pytorch"])

    # verify_http: the original under gunicorn (its Procfile) and the module under serve.
    http = wasm_migrate.verify_http(service, python=sys.executable, count=2)
    assert http["equivalent"], http
    assert "gunicorn" in http["original_command"]
    assert {e["kind"] for e in http["exchanges"]} >= {"input", "health", "not-found"}

    # bench: the smallest run; the module is served by this Python running the package's CLI.
    bench = wasm_migrate.bench(
        service, python=sys.executable, backend="onnxruntime", starts=1, rounds=1, requests=4, instances=[1]
    )
    measured = bench.to_dict()
    migrated = next(s for s in measured["sides"] if s["side"] == "migrated")
    assert migrated["command"][:3] == [sys.executable, "-m", "wasm_migrate._cli"], migrated["command"]
    assert migrated["cold_start"]["median_ms"] > migrated["cold_start"]["warm_instance"]["median_ms"] > 0
    assert {c["what"] for c in bench.claims} >= {"cold start, fresh process to first answer", "density, instances per GiB"}
    assert bench._repr_html_().count("<svg") == 4
    assert "The article's claims" in bench.to_text() and "cold start" in repr(bench)
    with pytest.raises(WasmMigrateError, match="no such service"):
        wasm_migrate.bench(tmp_path / "nowhere")


def test_doctor_reports_the_backends():
    report = wasm_migrate.doctor()
    checks = {c["name"]: c for c in report["checks"]}
    # tract is compiled in; the test venv has ONNX Runtime and OpenVINO.
    assert checks["tract"]["state"] == "ok"
    assert checks["wasm32-wasip1"]["state"] in ("ok", "missing")
    assert {b["backend"] for b in report["backends"]} == {"tract", "openvino", "onnxruntime"}


def test_generate_names_the_plan_line_of_a_step_without_rust(samples, tmp_path):
    import shutil
    import subprocess
    import sys

    service = tmp_path / "svc"
    shutil.copytree(samples / "onnxruntime-service", service)
    subprocess.run([sys.executable, str(service / "make_model.py")], check=True, capture_output=True)
    plan_path = wasm_migrate.analyze(service).write_plan()
    text = pathlib.Path(plan_path).read_text()
    pathlib.Path(plan_path).write_text(text.replace("cv2.INTER_LINEAR", "cv2.INTER_CUBIC"))
    with pytest.raises(WasmMigrateError) as error:
        wasm_migrate.generate(service)
    assert "INTER_CUBIC" in str(error.value)
    assert error.value.path.endswith("wasm-migrate.yaml")
    lines = pathlib.Path(plan_path).read_text().splitlines()
    assert "op: resize" in lines[error.value.line]  # the item's line, then its op on the next

    # migrate stops at the same line, and says what to do next, as a report.
    migration = wasm_migrate.migrate(service, python=sys.executable)
    assert migration.verdict == "not-migrated" and migration.exit_code == 2
    assert "plan line" in migration.next_step
    failed = [s for s in migration.stages if s["status"] == "failed"]
    assert [s["stage"] for s in failed] == ["generate"] and "INTER_CUBIC" in failed[0]["summary"]
    assert migration.to_dict()["schema"] == "wasm-migrate.migrate/1"
    page = migration._repr_html_()
    assert page.startswith("<!DOCTYPE html>") and 'id="next-step"' in page
    assert "not migrated" in migration.to_text() and "not-migrated" in repr(migration)
    with pytest.raises(WasmMigrateError, match="not a directory"):
        wasm_migrate.migrate(tmp_path / "nowhere")


def test_generate_packages_a_wasi_python_service_and_names_what_stops_it(samples, tmp_path):
    import shutil
    import subprocess
    import sys

    service = tmp_path / "iris"
    shutil.copytree(samples / "sklearn-service", service, ignore=shutil.ignore_patterns("model"))
    subprocess.run([sys.executable, str(service / "make_model.py")], check=True, capture_output=True)
    report = wasm_migrate.analyze(service)
    assert report.recommendation["path"] == "wasi-python"
    report.write_plan()

    written = wasm_migrate.generate(service, python=sys.executable)
    manifest = written["manifest"]
    assert {d["name"].lower() for d in manifest["bundled"]} >= {"flask", "werkzeug"}
    assert "scikit-learn" in {d["name"].lower() for d in manifest["provided"]}
    assert (service / "migrated" / "wasm-migrate-bundle.json").is_file()
    assert (service / "migrated" / "service" / "model" / "iris.joblib").is_file()

    # A module the app imports, with a syntax error.
    (service / "broken.py").write_text("def broken(:\n")
    app = service / "app.py"
    app.write_text("import broken\n" + app.read_text())
    with pytest.raises(WasmMigrateError, match=r"broken\.py:1.*syntax error"):
        wasm_migrate.generate(service, python=sys.executable, force=True)
