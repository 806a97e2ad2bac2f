"""Move Python inference services off Linux containers onto WebAssembly runtimes.

The whole migration in one call, as ``wasm-migrate migrate`` does; the report renders as its
HTML page in Jupyter::

    >>> report = wasm_migrate.migrate("samples/onnxruntime-service")
    >>> report.verdict, report.next_step

The same analysis as the ``wasm-migrate`` command, for notebooks and scripts::

    >>> import wasm_migrate
    >>> report = wasm_migrate.analyze("samples/torchvision-flask")
    >>> report.recommendation["path"]
    'wasi-nn-glue'
    >>> [step["op"] for step in report.plan["preprocessing"]][:3]
    ['open', 'convert', 'Resize']

From a written plan, ``generate``, ``convert``, ``build`` and ``inspect`` do what the commands
of the same names do and return their JSON output as dicts. ``run`` and ``doctor`` use the
embedded runtime, and ``verify`` returns a :class:`VerifyReport` that renders as the same page
as ``verify --format html``::

    >>> result = wasm_migrate.verify("service", backends=["tract", "openvino"])
    >>> result.verdict, result.to_pandas()[["input", "backend", "max_abs"]]

In Jupyter, a report renders as an HTML summary with the detected pipeline drawn as a
diagram. Every error is a :class:`WasmMigrateError`.
"""

import os

from wasm_migrate._native import (
    BenchReport,
    MigrateReport,
    Report,
    VerifyReport,
    WasmMigrateError,
    __version__,
    build,
    convert,
    doctor,
    generate,
    inspect,
    verify_http,
)
from wasm_migrate._native import bench as _bench
from wasm_migrate._native import migrate as _migrate
from wasm_migrate._native import analyze as _analyze
from wasm_migrate._native import run as _run
from wasm_migrate._native import verify as _verify

__all__ = [
    "BenchReport",
    "MigrateReport",
    "Report",
    "VerifyReport",
    "WasmMigrateError",
    "__version__",
    "analyze",
    "bench",
    "build",
    "convert",
    "doctor",
    "generate",
    "inspect",
    "migrate",
    "run",
    "verify",
    "verify_http",
]


def analyze(path, *, rules=None, fail_on=None, entrypoint=None):
    """Analyze a Python inference service (a directory or one ``.py`` file).

    Parses every Python file and dependency manifest, flags what cannot run under
    WASI/WasmEdge, finds the model loading, preprocessing chain and serving layer, and
    recommends a migration path. The GIL is released while the analysis runs.

    Args:
        path: The service directory or Python file (``str`` or ``os.PathLike``).
        rules: A directory of extra rules (``*.yaml``) and package entries
            (``packages*.yaml``), as the CLI's ``--rules``.
        fail_on: ``"mandatory"``, ``"optional"``, ``"potential"`` or ``None``: sets
            :attr:`Report.failed` and :attr:`Report.exit_code` as the CLI's ``--fail-on``.
        entrypoint: The file production starts (``"app/main.py"``), as the CLI's
            ``--entrypoint``, when the one found from the Dockerfile, Procfile or server
            command is not the one to migrate.

    Returns:
        A :class:`Report`.

    Raises:
        WasmMigrateError: the path does not exist, or a rules file is invalid (``path`` and
            ``line`` say where).

    Example::

        >>> report = wasm_migrate.analyze("samples/blocked-monolith", fail_on="mandatory")
        >>> report.recommendation["path"], report.failed
        ('container', True)
        >>> sorted({f["rule"] for f in report.findings})[:2]
        ['cuda-device-string', 'cuda-method-call']
    """
    if entrypoint is not None:
        entrypoint = os.fspath(entrypoint)
    return _analyze(path, rules=rules, fail_on=fail_on, entrypoint=entrypoint)


def run(
    module,
    args=(),
    *,
    dirs=(),
    nn_preload=(),
    env=None,
    backend="tract",
    precision="f32",
    timeout=600.0,
    max_memory="1G",
    fuel=None,
    cache=True,
):
    """Run a WASI module (wasm32-wasip1, wasi-nn) in the embedded runtime, output captured.

    The same as ``wasm-migrate run --format json MODULE --dir ... --nn-preload ... -- ARGS``.
    The GIL is released while the module runs.

    Args:
        module: The ``.wasm`` (or ``.wat``) file.
        args: The module's own arguments.
        dirs: Host directories to grant, ``"HOST"`` or ``"HOST:GUEST"``.
        nn_preload: Models to load first, WasmEdge's ``NAME:ENCODING:TARGET:PATH[:PATH]``.
        env: Variables the module sees (none otherwise).
        backend: What runs ONNX models: ``"tract"``, ``"onnxruntime"`` or ``"openvino"``.
        precision: OpenVINO's precision: ``"f32"`` or ``"device-default"``.
        timeout: Wall-clock limit in seconds (0: none).
        max_memory: Largest linear memory, e.g. ``"512M"``.
        fuel: Instruction budget, or ``None``.
        cache: Use the compiled-module cache.

    Returns:
        A dict: ``ending`` (how the module stopped), ``exit_code``, ``explanation``, ``stdout``,
        ``stderr``, ``preloaded`` (backend, version and precision of each model),
        ``nn_messages`` and ``timings_ms``.

    Raises:
        WasmMigrateError: the module or a model cannot be loaded, or an argument is wrong.
    """
    options = {
        "args": [str(a) for a in args],
        "dirs": [str(d) for d in dirs],
        "nn_preload": [str(p) for p in nn_preload],
        "env": {str(k): str(v) for k, v in (env or {}).items()},
        "backend": backend,
        "precision": precision,
        "timeout": float(timeout),
        "max_memory": str(max_memory),
        "fuel": fuel,
        "cache": cache,
    }
    return _run(module, options)


def verify(
    service,
    *,
    backends=("tract",),
    glue=None,
    python=None,
    inputs=(),
    count=8,
    precision="f32",
    save_inputs=None,
    save_reference=None,
    reference=None,
    preset=None,
    atol=None,
    rtol=None,
    tolerances=None,
    top_k=5,
    force=False,
    model=None,
):
    """Run the original service and its migrated module on the same inputs and compare them.

    The same as ``wasm-migrate verify``: Python is the reference; stage 1 compares the tensor
    each side fed its model, stage 2 every output. The GIL is released while it runs.

    Args:
        service: The service directory holding ``wasm-migrate.yaml`` (built with ``build``).
        backends: Backends for the module: ``"tract"``, ``"openvino"``, ``"onnxruntime"`` or
            ``"all"``.
        glue: The glue directory (default ``SERVICE/migrated``).
        python: The service's interpreter (default: as ``convert`` finds it).
        inputs: Image, text or ``.npy`` files or folders; default: ``count`` photographs.
        precision: OpenVINO's precision: ``"f32"`` or ``"device-default"``.
        save_inputs, save_reference: Directories to keep the inputs / Python's side in.
        reference: Compare against a saved reference instead of running Python.
        preset: ``"float32"``, ``"cross-backend"`` or ``"bf16"`` (default: the plan's).
        atol, rtol: Stage-2 tolerances over the preset's.
        tolerances: Per output, ``{"logits": (atol, rtol)}``.
        top_k: How many classes top-k agreement looks at.
        force: Overwrite ``save_inputs`` / ``save_reference``.
        model: The model to compare when a request calls several (its attribute path, last
            name or type); default: the first one called.

    Returns:
        A :class:`VerifyReport`: ``verdict``, ``summary``, ``to_dict()``, ``to_pandas()`` (one
        row per input, backend and output), and the HTML page in a notebook.

    Raises:
        WasmMigrateError: it could not run (no build, no interpreter, the service fails to
            import, a backend is missing); the message says what to fix.
    """
    if isinstance(backends, str):
        backends = [backends]
    options = {
        "backends": list(backends),
        "glue": glue,
        "python": python,
        "inputs": list(inputs),
        "count": count,
        "precision": precision,
        "save_inputs": save_inputs,
        "save_reference": save_reference,
        "reference": reference,
        "preset": preset,
        "atol": atol,
        "rtol": rtol,
        "tolerances": {str(k): (float(a), float(r)) for k, (a, r) in (tolerances or {}).items()},
        "top_k": top_k,
        "force": force,
        "model": model,
    }
    return _verify(service, options)


def bench(
    service,
    *,
    glue=None,
    python=None,
    backend=None,
    inputs=(),
    quick=False,
    starts=None,
    rounds=None,
    requests=None,
    instances=None,
    target_rps=500.0,
    node_cores=4,
    node_memory_gib=16.0,
    headroom=0.2,
    wasmedge=True,
):
    """Measure the original service and the migrated module side by side, as
    ``wasm-migrate bench`` does: cold start, latency (alternating rounds), memory against
    instance count, deployable size and a cost model, next to the article's claims.

    The original starts with its own server command; the module is served by this Python
    running the package's CLI (``python -m wasm_migrate._cli serve``). Every server started
    is stopped before this returns. The GIL is released while it runs.

    Returns a :class:`BenchReport`, which renders as the ``--format html`` page in Jupyter;
    ``.claims``, ``.ratios``, ``.to_dict()``, ``.to_text()``, ``.to_json()``, ``.to_html()``.
    """
    options = {
        "glue": None if glue is None else os.fspath(glue),
        "python": None if python is None else os.fspath(python),
        "backend": backend,
        "inputs": [os.fspath(p) for p in inputs],
        "quick": quick,
        "starts": starts,
        "rounds": rounds,
        "requests": requests,
        "instances": [] if instances is None else list(instances),
        "target_rps": float(target_rps),
        "node_cores": int(node_cores),
        "node_memory_gib": float(node_memory_gib),
        "headroom": float(headroom),
        "wasmedge": wasmedge,
    }
    return _bench(os.fspath(service), options)


def migrate(
    service,
    *,
    python=None,
    backend=None,
    inputs=(),
    count=8,
    bench=False,
    fresh=False,
    service_dir=None,
):
    """Migrate a service in one call, as ``wasm-migrate migrate`` does: analyze it (when it has
    no plan), generate, convert, build, then verify the module against the original, tensor
    by tensor and over HTTP; ``bench=True`` measures both sides too.

    What is up to date is reused; where a person must decide, it stops and ``next_step`` says
    what to do. ``python`` is the service's interpreter (default: its venv, else a cached venv
    made from its requirements.txt). ``backend`` is ``"tract"``, ``"openvino"`` or
    ``"onnxruntime"`` (default: the fastest installed). ``service_dir`` picks the service's
    folder when ``service`` is a repository holding several (it stops and lists them
    otherwise). The GIL is released while it runs.

    Returns a :class:`MigrateReport`: ``.verdict`` (``"equivalent"``, ``"differ"`` or
    ``"not-migrated"``), ``.exit_code``, ``.stages``, ``.next_step``, ``.to_dict()``,
    ``.to_json()``, ``.to_text()``, ``.to_html()``; it renders as the page in Jupyter.
    """
    options = {
        "python": None if python is None else os.fspath(python),
        "backend": backend,
        "inputs": [os.fspath(p) for p in inputs],
        "count": int(count),
        "bench": bool(bench),
        "fresh": bool(fresh),
        "service_dir": None if service_dir is None else os.fspath(service_dir),
    }
    return _migrate(os.fspath(service), options)
