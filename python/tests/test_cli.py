"""The console script the wheel installs: the same CLI, exit codes preserved, Ctrl-C works."""

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time

import pytest

CLI = shutil.which("wasm-migrate", path=os.path.dirname(sys.executable))


def run(*args):
    assert CLI, "the wheel installs a wasm-migrate script next to the interpreter"
    return subprocess.run([CLI, *args], capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})


def test_analyze_json(samples):
    out = run("analyze", str(samples / "keras-fastapi"), "--format", "json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["plan"]["model"]["framework"] == "keras"
    assert "files seen" in out.stderr


def test_exit_codes_are_preserved(samples, tmp_path):
    assert run("analyze", str(samples / "blocked-monolith"), "-q").returncode == 1
    missing = run("analyze", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert "nope" in missing.stderr
    assert run("analyze", "--format", "pdf", ".").returncode == 2
    helped = run("analyze", "--help")
    assert helped.returncode == 0 and "--fail-on" in helped.stdout


def test_ctrl_c_stops_a_long_analysis(tmp_path):
    # Fifty views of the standard library: tens of millions of lines, far longer than a second.
    stdlib = sysconfig.get_paths()["stdlib"]
    for i in range(50):
        os.symlink(stdlib, tmp_path / f"copy{i}")
    proc = subprocess.Popen([CLI, "analyze", str(tmp_path), "-q", "-f", "json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)
    assert proc.poll() is None, "the analysis finished before Ctrl-C could be tested"
    started = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("Ctrl-C did not stop wasm-migrate")
    assert code == -signal.SIGINT
    assert time.perf_counter() - started < 5
