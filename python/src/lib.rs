//! `wasm_migrate._native`: the Python binding. A thin layer over the library calls the CLI
//! makes; the Python package (`wasm_migrate/`) re-exports it with docstrings and stubs.

mod bench;
mod migrate;

use std::path::PathBuf;

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use wasm_migrate_analyzer::error::write_atomic;
use wasm_migrate_analyzer::policy::exit;
use wasm_migrate_analyzer::render::{self, Format};
use wasm_migrate_analyzer::{AnalyzeError, Options};
use wasm_migrate_analyzer::{FailOn, Target};
use wasm_migrate_app::verify::Verified;
use wasm_migrate_app::{self as app, AppError, Silent};
use wasm_migrate_runtime::Stdio;

create_exception!(
    _native,
    WasmMigrateError,
    PyException,
    "Base class of every error wasm-migrate raises. `path` and `line` name the file (and line) when there is one."
);

/// Raises `WasmMigrateError` with `path` and `line` set from the Rust error.
fn to_py_err(py: Python<'_>, err: AnalyzeError) -> PyErr {
    let (path, line) = match err.location() {
        Some((p, l)) => (Some(p.to_path_buf()), l),
        None => (None, None),
    };
    let py_err = WasmMigrateError::new_err(err.to_string());
    let value = py_err.value(py);
    let _ = value.setattr("path", path.map(|p| p.to_string_lossy().into_owned()));
    let _ = value.setattr("line", line);
    py_err
}

fn json_to_py<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

fn parse_fail_on(value: Option<&str>) -> PyResult<FailOn> {
    match value {
        None => Ok(FailOn::Never),
        Some(name) => name.parse().map_err(WasmMigrateError::new_err),
    }
}

/// A pandas DataFrame of `rows` with `columns`; pandas is imported only when one is asked for.
fn data_frame<'py>(
    py: Python<'py>,
    rows: Bound<'py, PyList>,
    columns: &[&str],
) -> PyResult<Bound<'py, PyAny>> {
    let pandas = py.import("pandas").map_err(|_| {
        WasmMigrateError::new_err("to_pandas() needs pandas: pip install 'wasm-migrate[pandas]'")
    })?;
    pandas.call_method(
        "DataFrame",
        (rows,),
        Some(&[("columns", columns.to_vec())].into_py_dict(py)?),
    )
}

/// The analysis of one service.
#[pyclass(module = "wasm_migrate._native", frozen)]
struct Report {
    inner: wasm_migrate_analyzer::Report,
    fail_on: FailOn,
}

impl Report {
    fn json_field<'py>(
        &self,
        py: Python<'py>,
        value: &impl serde::Serialize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let text =
            serde_json::to_string(value).map_err(|e| WasmMigrateError::new_err(e.to_string()))?;
        json_to_py(py, &text)
    }

    fn render(&self, py: Python<'_>, format: Format) -> PyResult<String> {
        render::render(&self.inner, format, false).map_err(|e| to_py_err(py, e))
    }
}

#[pymethods]
impl Report {
    #[getter]
    fn findings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.json_field(py, &self.inner.findings)
    }

    #[getter]
    fn pipeline<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.json_field(py, &self.inner.pipeline)
    }

    #[getter]
    fn plan<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.json_field(py, &self.inner.plan)
    }

    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.json_field(py, &self.inner.summary)
    }

    #[getter]
    fn recommendation<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.json_field(py, &self.inner.recommendation)
    }

    #[getter]
    fn packages<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.json_field(py, &self.inner.packages)
    }

    /// The exit code the CLI would give: 0 clean, 1 findings at or above `fail_on` for the
    /// recommended path, 3 partial analysis.
    #[getter]
    fn exit_code(&self) -> u8 {
        self.inner.exit_code(self.fail_on, Target::Auto)
    }

    #[getter]
    fn failed(&self) -> bool {
        self.exit_code() == exit::FINDINGS
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.json_field(py, &self.inner)
    }

    #[pyo3(signature = (indent = Some(2)))]
    fn to_json(&self, py: Python<'_>, indent: Option<usize>) -> PyResult<String> {
        let compact = self.render(py, Format::Json)?;
        match indent {
            Some(2) => Ok(compact),
            _ => {
                let value = json_to_py(py, &compact)?;
                let text = py.import("json")?.call_method(
                    "dumps",
                    (value,),
                    Some(&[("indent", indent)].into_py_dict(py)?),
                )?;
                text.extract()
            }
        }
    }

    fn to_yaml(&self, py: Python<'_>) -> PyResult<String> {
        self.render(py, Format::Yaml)
    }

    fn to_sarif(&self, py: Python<'_>) -> PyResult<String> {
        self.render(py, Format::Sarif)
    }

    fn to_markdown(&self, py: Python<'_>) -> PyResult<String> {
        self.render(py, Format::Markdown)
    }

    #[pyo3(signature = (color = false))]
    fn to_text(&self, py: Python<'_>, color: bool) -> PyResult<String> {
        render::render(&self.inner, Format::Text, color).map_err(|e| to_py_err(py, e))
    }

    #[pyo3(signature = (compact = false))]
    fn to_html(&self, compact: bool) -> String {
        render::html::render_html(&self.inner, compact)
    }

    fn _repr_html_(&self) -> String {
        render::html::render_html(&self.inner, true)
    }

    /// One row per finding; pandas is imported only when this is called.
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rows = PyList::empty(py);
        for f in &self.inner.findings {
            let row = PyDict::new(py);
            row.set_item("rule", &f.rule)?;
            row.set_item("category", f.category.as_str())?;
            row.set_item("effort", f.effort)?;
            row.set_item("file", &f.location.file)?;
            row.set_item("line", f.location.line)?;
            row.set_item("column", f.location.column)?;
            row.set_item("message", &f.message)?;
            row.set_item("remedy", &f.remedy)?;
            let targets: Vec<&str> = f.targets.iter().map(|t| t.as_str()).collect();
            row.set_item("targets", targets.join(","))?;
            rows.append(row)?;
        }
        let columns = [
            "rule", "category", "effort", "file", "line", "column", "message", "remedy", "targets",
        ];
        data_frame(py, rows, &columns)
    }

    /// Writes the MigrationPlan as commented YAML (atomically; never over an existing file
    /// unless `force`). Returns the path written.
    #[pyo3(signature = (path = None, force = false))]
    fn write_plan(&self, py: Python<'_>, path: Option<PathBuf>, force: bool) -> PyResult<PathBuf> {
        let target = match path {
            Some(p) => wasm_migrate_plan::resolve(&p),
            None => wasm_migrate_plan::location_for(&self.inner.root),
        };
        let yaml = self
            .inner
            .plan
            .to_commented_yaml()
            .map_err(|e| to_py_err(py, e.into()))?;
        write_atomic(&target, yaml.as_bytes(), force).map_err(|e| to_py_err(py, e))?;
        Ok(target)
    }

    fn __repr__(&self) -> String {
        let s = &self.inner.summary;
        format!(
            "<wasm_migrate.Report {} -> {} (readiness {}/100): {} findings ({} mandatory), {} files>",
            self.inner.root.display(),
            self.inner.recommendation.path.as_str(),
            self.inner.recommendation.readiness,
            s.findings_mandatory + s.findings_optional + s.findings_potential,
            s.findings_mandatory,
            s.files_seen
        )
    }
}

use pyo3::types::IntoPyDict;

/// Analyzes a service directory or one Python file. Releases the GIL while it runs.
#[pyfunction]
#[pyo3(signature = (path, *, rules = None, fail_on = None, entrypoint = None))]
fn analyze(
    py: Python<'_>,
    path: PathBuf,
    rules: Option<PathBuf>,
    fail_on: Option<&str>,
    entrypoint: Option<String>,
) -> PyResult<Report> {
    let fail_on = parse_fail_on(fail_on)?;
    let options = wasm_migrate_app::analysis(Options {
        rules_dir: rules,
        entrypoint,
        ..Options::default()
    });
    let result = py.detach(|| wasm_migrate_analyzer::analyze(&path, &options));
    match result {
        Ok(inner) => Ok(Report { inner, fail_on }),
        Err(e) => Err(to_py_err(py, e)),
    }
}

/// Raises `WasmMigrateError` for a codegen error, with `path` and `line` when it names them.
fn codegen_err(py: Python<'_>, err: wasm_migrate_codegen::CodegenError) -> PyErr {
    use wasm_migrate_codegen::CodegenError as E;
    let (path, line) = match &err {
        E::PlanStep { path, line, .. } => (Some(path.clone()), Some(*line as u64)),
        E::Unsupported { path, .. }
        | E::Exists { path }
        | E::Io { path, .. }
        | E::Module { path, .. } => (Some(path.clone()), None),
        E::Plan(inner) => match inner.location() {
            Some((path, line)) => (Some(path.to_path_buf()), line.map(u64::from)),
            None => (None, None),
        },
        _ => (None, None),
    };
    let py_err = WasmMigrateError::new_err(err.to_string());
    let value = py_err.value(py);
    let _ = value.setattr("path", path.map(|p| p.to_string_lossy().into_owned()));
    let _ = value.setattr("line", line);
    py_err
}

fn to_py_value<'py>(py: Python<'py>, value: &impl serde::Serialize) -> PyResult<Bound<'py, PyAny>> {
    let text =
        serde_json::to_string(value).map_err(|e| WasmMigrateError::new_err(e.to_string()))?;
    json_to_py(py, &text)
}

fn parse_target(target: Option<&str>) -> PyResult<Option<wasm_migrate_codegen::Target>> {
    target
        .map(|t| t.parse().map_err(WasmMigrateError::new_err))
        .transpose()
}

/// Raises the command layer's error: a codegen error keeps its path and line.
fn app_err(py: Python<'_>, err: AppError) -> PyErr {
    match err {
        AppError::Codegen(e) => codegen_err(py, e),
        other => error_message(other),
    }
}

/// Writes the glue crate, deploy files and conversion script from SERVICE/wasm-migrate.yaml
/// (or, for a wasi-python plan, a bundle of the service's own Python).
#[pyfunction]
#[pyo3(signature = (service, *, out = None, target = None, templates = None, force = false, python = None))]
fn generate<'py>(
    py: Python<'py>,
    service: PathBuf,
    out: Option<PathBuf>,
    target: Option<&str>,
    templates: Option<PathBuf>,
    force: bool,
    python: Option<PathBuf>,
) -> PyResult<Bound<'py, PyAny>> {
    let options = app::generate::GenerateOptions {
        service,
        out,
        target: parse_target(target)?,
        templates,
        force,
        python,
    };
    let generated = py
        .detach(|| app::generate::generate(&options, &Silent))
        .map_err(|e| app_err(py, e))?;
    to_py_value(py, &generated)
}

/// Runs the generated convert_model.py with the service's interpreter; records the result in
/// the plan, then (unless `record_api=False`) the original's HTTP API, under `http`.
#[pyfunction]
#[pyo3(signature = (service, *, out = None, python = None, record_api = true))]
fn convert<'py>(
    py: Python<'py>,
    service: PathBuf,
    out: Option<PathBuf>,
    python: Option<PathBuf>,
    record_api: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let options = app::convert::ConvertOptions {
        service,
        out,
        python,
        record_api,
    };
    let converted = py
        .detach(|| app::convert::convert(&options, &Silent))
        .map_err(|e| app_err(py, e))?;
    to_py_value(py, &converted)
}

/// `wasm-migrate verify --http`: the original under its own server and the module under
/// `serve`, the same requests to both; the report as a dict. `like="wasmedge@0.17"` serves
/// the module on WasmEdge's terms (`verify --http --like`).
#[pyfunction]
#[pyo3(signature = (service, *, glue = None, python = None, backend = "tract", inputs = Vec::new(), count = 8, like = "embedded"))]
#[allow(clippy::too_many_arguments)]
fn verify_http<'py>(
    py: Python<'py>,
    service: PathBuf,
    glue: Option<PathBuf>,
    python: Option<PathBuf>,
    backend: &str,
    inputs: Vec<PathBuf>,
    count: usize,
    like: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let options = wasm_migrate_verify::VerifyOptions {
        glue,
        python,
        backends: app::verify::backends(&[backend.to_string()]).map_err(error_message)?,
        inputs,
        count,
        host: like
            .parse::<wasm_migrate_runtime::HostProfile>()
            .map_err(WasmMigrateError::new_err)?,
        ..wasm_migrate_verify::VerifyOptions::new(service)
    };
    let comparison = app::verify::Comparison::for_service(&options.service, true);
    let verified = py
        .detach(|| app::verify::verify(&options, comparison, &Silent))
        .map_err(error_message)?;
    to_py_value(py, &verified)
}

/// Builds a glue crate for wasm32-wasip1, checks and stamps the module (DIR/app.wasm); for a
/// wasi-python bundle, compiles its interpreter and imports the app once.
#[pyfunction]
#[pyo3(signature = (dir, *, target = None))]
fn build<'py>(py: Python<'py>, dir: PathBuf, target: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
    let options = app::build::BuildOptions {
        dir,
        target: parse_target(target)?,
        python: None,
    };
    let built = py
        .detach(|| app::build::build(&options, &Silent))
        .map_err(|e| app_err(py, e))?;
    to_py_value(py, &built)
}

/// A module's imports, exports, custom sections and a verdict per runtime (or a bundle's
/// manifest and where it runs).
#[pyfunction]
fn inspect<'py>(py: Python<'py>, module: PathBuf) -> PyResult<Bound<'py, PyAny>> {
    let inspected = app::inspect::inspect(&module).map_err(|e| app_err(py, e))?;
    to_py_value(py, &inspected)
}

fn error_message(err: impl std::fmt::Display) -> PyErr {
    WasmMigrateError::new_err(err.to_string())
}

/// `backend=` as the wrappers pass it: `None`, or a backend's name.
fn parse_backend(name: Option<&str>) -> PyResult<Option<wasm_migrate_runtime::BackendKind>> {
    name.map(str::parse).transpose().map_err(error_message)
}

/// `run`'s keyword arguments, as the Python wrapper (`wasm_migrate.run`) passes them.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct RunKwargs {
    args: Vec<String>,
    dirs: Vec<String>,
    nn_preload: Vec<String>,
    env: std::collections::BTreeMap<String, String>,
    backend: String,
    precision: String,
    timeout: f64,
    max_memory: String,
    fuel: Option<u64>,
    cache: bool,
}

/// Runs a WASI module in the embedded runtime with its output captured, as
/// `wasm-migrate run --format json` does; returns that report as a dict.
#[pyfunction]
fn run<'py>(py: Python<'py>, module: PathBuf, options: RunKwargs) -> PyResult<Bound<'py, PyAny>> {
    let RunKwargs {
        args,
        dirs,
        nn_preload,
        env,
        backend,
        precision,
        timeout,
        max_memory,
        fuel,
        cache,
    } = options;
    let options = app::run::RunOptions {
        module,
        args,
        dirs,
        dirs_read_only: false,
        preloads: nn_preload,
        env: env.into_iter().collect(),
        backend: backend.parse().map_err(error_message)?,
        precision: precision.parse().map_err(error_message)?,
        timeout: app::run::timeout_from_seconds(timeout).map_err(error_message)?,
        max_memory: app::run::parse_size(&max_memory).map_err(error_message)?,
        fuel,
        cache,
    };
    let report = py
        .detach(|| app::run::run(&options, Stdio::Capture, &Silent))
        .map_err(error_message)?;
    to_py_value(py, &report)
}

/// What this machine has for a migration (toolchain, backends, Python environments,
/// WasmEdge), as `wasm-migrate doctor --format json` prints it.
#[pyfunction]
fn doctor<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
    let report = py.detach(wasm_migrate_runtime::doctor::run);
    to_py_value(py, &report)
}

/// The result of `verify`: the original service against the migrated module, compared tensor
/// by tensor (glue) or over HTTP (a wasi-python bundle).
#[pyclass(module = "wasm_migrate._native", frozen)]
struct VerifyReport {
    inner: app::verify::Verified,
}

#[pymethods]
impl VerifyReport {
    /// `"equivalent"` or `"differ"`.
    #[getter]
    fn verdict(&self) -> &'static str {
        self.inner.verdict()
    }

    #[getter]
    fn summary(&self) -> String {
        match &self.inner {
            Verified::Tensors(report) => report.summary.clone(),
            Verified::Http(report) => {
                format!("{} of {} agree", report.agreed, report.exchanges.len())
            }
        }
    }

    /// The exit code the CLI would give: 0 equivalent, 1 differ.
    #[getter]
    fn exit_code(&self) -> u8 {
        self.inner.exit_code()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_value(py, &self.inner)
    }

    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&self.inner).map_err(error_message)
    }

    fn to_text(&self) -> String {
        match &self.inner {
            Verified::Tensors(report) => wasm_migrate_verify::render::text(report),
            Verified::Http(report) => wasm_migrate_verify::render::http_text(report),
        }
    }

    /// The page `--format html` writes (an HTTP comparison: its text report, preformatted).
    fn to_html(&self) -> String {
        match &self.inner {
            Verified::Tensors(report) => wasm_migrate_verify::render::html(report),
            Verified::Http(report) => {
                let text = wasm_migrate_verify::render::http_text(report)
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;");
                format!("<pre>{text}</pre>")
            }
        }
    }

    fn _repr_html_(&self) -> String {
        self.to_html()
    }

    /// One row per input, backend and output (over HTTP: one per exchange); pandas is
    /// imported only when this is called.
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rows = PyList::empty(py);
        match &self.inner {
            Verified::Tensors(report) => {
                for backend in &report.backends {
                    for result in &backend.results {
                        for row in verify_rows(py, backend, result)? {
                            rows.append(row)?;
                        }
                    }
                }
                data_frame(py, rows, &VERIFY_COLUMNS)
            }
            Verified::Http(report) => {
                for exchange in &report.exchanges {
                    rows.append(exchange_row(py, exchange)?)?;
                }
                data_frame(py, rows, &EXCHANGE_COLUMNS)
            }
        }
    }

    fn __repr__(&self) -> String {
        let (service, compared) = match &self.inner {
            Verified::Tensors(report) => {
                let backends: Vec<&str> =
                    report.backends.iter().map(|b| b.backend.as_str()).collect();
                (
                    report.service.clone(),
                    format!("{} inputs, {}", report.inputs.len(), backends.join(",")),
                )
            }
            Verified::Http(report) => (
                report.service.clone(),
                format!("{} exchanges over HTTP", report.exchanges.len()),
            ),
        };
        format!(
            "<wasm_migrate.VerifyReport {service}: {} on {compared}: {}>",
            self.verdict(),
            self.summary()
        )
    }
}

const EXCHANGE_COLUMNS: [&str; 6] = [
    "request",
    "kind",
    "agree",
    "original_status",
    "migrated_status",
    "detail",
];

fn exchange_row<'py>(
    py: Python<'py>,
    exchange: &wasm_migrate_verify::http::Exchange,
) -> PyResult<Bound<'py, PyDict>> {
    let row = PyDict::new(py);
    row.set_item("request", &exchange.request)?;
    row.set_item("kind", exchange.kind.as_str())?;
    row.set_item("agree", exchange.agree)?;
    row.set_item(
        "original_status",
        exchange.original.as_ref().map(|a| a.status),
    )?;
    row.set_item(
        "migrated_status",
        exchange.migrated.as_ref().map(|a| a.status),
    )?;
    row.set_item("detail", &exchange.detail)?;
    Ok(row)
}

const VERIFY_COLUMNS: [&str; 14] = [
    "input",
    "backend",
    "precision",
    "output",
    "verdict",
    "stage",
    "cause",
    "passed",
    "max_abs",
    "max_rel",
    "cosine",
    "top1_equal",
    "preprocessed_max_abs",
    "error",
];

/// The rows of one input on one backend: one per output, or one row when no output was
/// compared (the input failed).
fn verify_rows<'py>(
    py: Python<'py>,
    backend: &wasm_migrate_verify::report::BackendReport,
    result: &wasm_migrate_verify::report::InputResult,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let base = || -> PyResult<Bound<'py, PyDict>> {
        let row = PyDict::new(py);
        row.set_item("input", &result.input)?;
        row.set_item("backend", &backend.backend)?;
        row.set_item("precision", &backend.precision)?;
        row.set_item(
            "verdict",
            match result.verdict {
                wasm_migrate_verify::Verdict::Equivalent => "equivalent",
                wasm_migrate_verify::Verdict::Differ => "differ",
            },
        )?;
        let stage = result.stage.and_then(|s| serde_json::to_value(s).ok());
        row.set_item("stage", stage.as_ref().and_then(|s| s.as_str()))?;
        let cause = result
            .blame
            .as_ref()
            .and_then(|b| serde_json::to_value(b.cause).ok());
        row.set_item("cause", cause.as_ref().and_then(|c| c.as_str()))?;
        row.set_item(
            "preprocessed_max_abs",
            result.preprocessed.as_ref().map(|c| c.max_abs),
        )?;
        row.set_item("error", result.error.as_deref())?;
        Ok(row)
    };
    if result.outputs.is_empty() {
        return Ok(vec![base()?]);
    }
    result
        .outputs
        .iter()
        .map(|output| {
            let row = base()?;
            row.set_item("output", &output.name)?;
            row.set_item("passed", output.comparison.passed)?;
            row.set_item("max_abs", output.comparison.max_abs)?;
            row.set_item("max_rel", output.comparison.max_rel)?;
            row.set_item("cosine", output.comparison.cosine)?;
            row.set_item("top1_equal", output.top_k.as_ref().map(|t| t.top1_equal))?;
            Ok(row)
        })
        .collect()
}

/// `verify`'s keyword arguments, as the Python wrapper (`wasm_migrate.verify`) passes them.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct VerifyKwargs {
    backends: Vec<String>,
    glue: Option<PathBuf>,
    python: Option<PathBuf>,
    inputs: Vec<PathBuf>,
    count: usize,
    precision: String,
    save_inputs: Option<PathBuf>,
    save_reference: Option<PathBuf>,
    reference: Option<PathBuf>,
    preset: Option<String>,
    atol: Option<f64>,
    rtol: Option<f64>,
    tolerances: std::collections::BTreeMap<String, (f64, f64)>,
    top_k: usize,
    force: bool,
    model: Option<String>,
}

/// Runs the original service and the built module on the same inputs and compares them,
/// as `wasm-migrate verify` does.
#[pyfunction]
fn verify(py: Python<'_>, service: PathBuf, options: VerifyKwargs) -> PyResult<VerifyReport> {
    let VerifyKwargs {
        backends,
        glue,
        python,
        inputs,
        count,
        precision,
        save_inputs,
        save_reference,
        reference,
        preset,
        atol,
        rtol,
        tolerances,
        top_k,
        force,
        model,
    } = options;
    let options = wasm_migrate_verify::VerifyOptions {
        glue,
        python,
        backends: app::verify::backends(&backends).map_err(error_message)?,
        precision: precision.parse().map_err(error_message)?,
        inputs,
        count,
        save_inputs,
        save_reference,
        reference,
        preset,
        atol,
        rtol,
        overrides: tolerances
            .into_iter()
            .map(|(name, (atol, rtol))| (name, wasm_migrate_verify::Tolerance { atol, rtol }))
            .collect(),
        top_k,
        force,
        model,
        ..wasm_migrate_verify::VerifyOptions::new(service)
    };
    // The service's route decides: a wasi-python bundle is compared over HTTP, as the CLI does.
    let comparison = app::verify::Comparison::for_service(&options.service, false);
    let inner = py
        .detach(|| app::verify::verify(&options, comparison, &Silent))
        .map_err(error_message)?;
    Ok(VerifyReport { inner })
}

/// Runs the `wasm-migrate` command line with `argv` (program name first); returns its exit
/// code. The console script calls this, so the command is the same CLI.
#[pyfunction]
fn run_cli(py: Python<'_>, argv: Vec<String>) -> u8 {
    py.detach(|| wasm_migrate_cli::run(argv))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", wasm_migrate_analyzer::TOOL_VERSION)?;
    m.add("WasmMigrateError", m.py().get_type::<WasmMigrateError>())?;
    m.add_class::<Report>()?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(run_cli, m)?)?;
    m.add_function(wrap_pyfunction!(generate, m)?)?;
    m.add_function(wrap_pyfunction!(convert, m)?)?;
    m.add_function(wrap_pyfunction!(build, m)?)?;
    m.add_function(wrap_pyfunction!(inspect, m)?)?;
    m.add_class::<VerifyReport>()?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(doctor, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(verify_http, m)?)?;
    m.add_class::<bench::BenchReport>()?;
    m.add_class::<migrate::MigrateReport>()?;
    m.add_function(wrap_pyfunction!(migrate::migrate, m)?)?;
    m.add_function(wrap_pyfunction!(bench::bench, m)?)?;
    Ok(())
}
