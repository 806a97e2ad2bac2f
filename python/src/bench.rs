//! `wasm_migrate.bench`: the CLI's `bench`, with the report as an object that renders as its
//! HTML page in Jupyter.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use pyo3::prelude::*;
use wasm_migrate_measure::{self as measure, BenchOptions, Budget, CostInputs};

use crate::{error_message, to_py_value};

/// What `bench` measured: the figures of both sides, ratios, the article's claims and the
/// cost model.
#[pyclass(module = "wasm_migrate._native", frozen)]
pub struct BenchReport {
    inner: measure::BenchReport,
}

#[pymethods]
impl BenchReport {
    /// The article's claims next to the measured figures, one dict per claim.
    #[getter]
    fn claims<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_value(py, &self.inner.claims)
    }

    #[getter]
    fn ratios<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_value(py, &self.inner.ratios)
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_value(py, &self.inner)
    }

    fn to_json(&self) -> String {
        measure::render::json(&self.inner)
    }

    fn to_text(&self) -> String {
        measure::render::text(&self.inner)
    }

    /// The page `bench --format html` writes.
    fn to_html(&self) -> String {
        measure::render::html(&self.inner)
    }

    fn _repr_html_(&self) -> String {
        self.to_html()
    }

    fn __repr__(&self) -> String {
        let cold = |name: &str| {
            self.inner
                .side(name)
                .map_or(0.0, |s| s.cold_start.median_ms)
        };
        format!(
            "<wasm_migrate.BenchReport {}: cold start {:.0} ms -> {:.0} ms, {} claim(s) hold>",
            self.inner.service,
            cold("original"),
            cold("migrated"),
            self.inner
                .claims
                .iter()
                .filter(|c| c.holds == Some(true))
                .count()
        )
    }
}

/// The host that serves the module: this Python running the package's CLI.
fn host(py: Python<'_>) -> PyResult<(Vec<String>, Option<PathBuf>)> {
    let sys = py.import("sys")?;
    let executable: String = sys.getattr("executable")?.extract()?;
    let native: Option<PathBuf> = py
        .import("wasm_migrate._native")?
        .getattr("__file__")
        .ok()
        .and_then(|f| f.extract().ok());
    Ok((
        vec![executable, "-m".into(), "wasm_migrate._cli".into()],
        native,
    ))
}

/// `wasm-migrate bench`: see `wasm_migrate.bench` for the arguments.
#[pyfunction]
#[pyo3(signature = (service, *, glue = None, python = None, backend = None, inputs = Vec::new(),
    quick = false, starts = None, rounds = None, requests = None, instances = None,
    target_rps = 500.0, node_cores = 4, node_memory_gib = 16.0, wasmedge = true))]
#[allow(clippy::too_many_arguments)]
pub fn bench(
    py: Python<'_>,
    service: PathBuf,
    glue: Option<PathBuf>,
    python: Option<PathBuf>,
    backend: Option<&str>,
    inputs: Vec<PathBuf>,
    quick: bool,
    starts: Option<usize>,
    rounds: Option<usize>,
    requests: Option<usize>,
    instances: Option<Vec<usize>>,
    target_rps: f64,
    node_cores: u32,
    node_memory_gib: f64,
    wasmedge: bool,
) -> PyResult<BenchReport> {
    let mut budget = if quick {
        Budget::quick()
    } else {
        Budget::standard()
    };
    budget.starts = starts.unwrap_or(budget.starts).max(1);
    budget.rounds = rounds.unwrap_or(budget.rounds).max(1);
    budget.requests = requests.unwrap_or(budget.requests).max(1);
    if let Some(instances) = instances.filter(|i| !i.is_empty()) {
        budget.instances = instances;
    }
    let backend = backend
        .map(str::parse::<wasm_migrate_runtime::BackendKind>)
        .transpose()
        .map_err(error_message)?;
    let (host, host_binary) = host(py)?;
    let options = BenchOptions {
        service,
        glue,
        python,
        inputs,
        backend,
        host,
        host_binary,
        budget,
        cost: CostInputs {
            target_rps,
            node_cores,
            node_memory_gib,
        },
        wasmedge,
        cancel: Arc::new(AtomicBool::new(false)),
    };
    let report = py
        .detach(|| measure::bench(&options, &|_| {}))
        .map_err(error_message)?;
    Ok(BenchReport { inner: report })
}
