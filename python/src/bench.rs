//! `wasm_migrate.bench`: the CLI's `bench`, with the report as an object that renders as its
//! HTML page in Jupyter.

use std::path::PathBuf;

use pyo3::prelude::*;
use wasm_migrate_app::bench::BenchRequest;
use wasm_migrate_measure::{self as measure, CostInputs};

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
pub(crate) fn host(py: Python<'_>) -> PyResult<(Vec<String>, Option<PathBuf>)> {
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

/// `bench`'s keyword arguments, as the Python wrapper (`wasm_migrate.bench`) passes them.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct BenchKwargs {
    glue: Option<PathBuf>,
    python: Option<PathBuf>,
    backend: Option<String>,
    inputs: Vec<PathBuf>,
    quick: bool,
    starts: Option<usize>,
    rounds: Option<usize>,
    requests: Option<usize>,
    instances: Vec<usize>,
    target_rps: f64,
    node_cores: u32,
    node_memory_gib: f64,
    headroom: f64,
    wasmedge: bool,
}

/// `wasm-migrate bench`: see `wasm_migrate.bench` for the arguments.
#[pyfunction]
pub fn bench(py: Python<'_>, service: PathBuf, options: BenchKwargs) -> PyResult<BenchReport> {
    let (host, host_binary) = host(py)?;
    let request = BenchRequest {
        service,
        glue: options.glue,
        python: options.python,
        inputs: options.inputs,
        backend: crate::parse_backend(options.backend.as_deref())?,
        quick: options.quick,
        starts: options.starts,
        rounds: options.rounds,
        requests: options.requests,
        instances: options.instances,
        burst_limit: None,
        cost: CostInputs {
            target_rps: options.target_rps,
            node_cores: options.node_cores,
            node_memory_gib: options.node_memory_gib,
            headroom: options.headroom,
        },
        wasmedge: options.wasmedge,
        host,
        host_binary,
        cancel: Default::default(),
    };
    let report = py
        .detach(|| wasm_migrate_app::bench::bench(&request, &wasm_migrate_app::Silent))
        .map_err(error_message)?;
    Ok(BenchReport { inner: report })
}
