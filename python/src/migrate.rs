//! `wasm_migrate.migrate`: the whole migration, with the report as an object that renders as
//! its HTML page in Jupyter.

use std::path::PathBuf;

use pyo3::prelude::*;
use wasm_migrate_app::migrate::{self as app_migrate, MigrateOptions, MigrationReport};

use crate::{error_message, to_py_value};

/// What `migrate` did: its stages, the verdict, the next step when it stopped.
#[pyclass(module = "wasm_migrate._native", frozen)]
pub struct MigrateReport {
    inner: MigrationReport,
}

#[pymethods]
impl MigrateReport {
    /// `"equivalent"`, `"differ"` or `"not-migrated"`.
    #[getter]
    fn verdict(&self) -> PyResult<String> {
        let value = serde_json::to_value(self.inner.verdict).map_err(error_message)?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// The exit code the CLI would give: 0 equivalent, 1 differ, 2 stopped.
    #[getter]
    fn exit_code(&self) -> u8 {
        self.inner.exit_code()
    }

    /// What a person must do for the migration to go on, when it stopped.
    #[getter]
    fn next_step(&self) -> Option<String> {
        self.inner.next_step.clone()
    }

    /// One dict per stage: `stage`, `status`, `summary`, `seconds`.
    #[getter]
    fn stages<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_value(py, &self.inner.stages)
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_value(py, &self.inner)
    }

    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&self.inner).map_err(error_message)
    }

    fn to_text(&self) -> String {
        app_migrate::render::text(&self.inner)
    }

    /// The page `migrate --format html` writes.
    fn to_html(&self) -> String {
        app_migrate::render::html(&self.inner)
    }

    fn _repr_html_(&self) -> String {
        self.to_html()
    }

    fn __repr__(&self) -> PyResult<String> {
        Ok(format!(
            "<wasm_migrate.MigrateReport {}: {} ({} stages)>",
            self.inner.service,
            self.verdict()?,
            self.inner.stages.len()
        ))
    }
}

/// `migrate`'s keyword arguments, as the Python wrapper (`wasm_migrate.migrate`) passes them.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct MigrateKwargs {
    python: Option<PathBuf>,
    backend: Option<String>,
    inputs: Vec<PathBuf>,
    count: usize,
    bench: bool,
    fresh: bool,
    service_dir: Option<PathBuf>,
}

/// `wasm-migrate migrate`: see `wasm_migrate.migrate` for the arguments.
#[pyfunction]
pub fn migrate(
    py: Python<'_>,
    service: PathBuf,
    options: MigrateKwargs,
) -> PyResult<MigrateReport> {
    let (host, host_binary) = crate::bench::host(py)?;
    let options = MigrateOptions {
        python: options.python,
        backend: crate::parse_backend(options.backend.as_deref())?,
        inputs: options.inputs,
        count: options.count,
        bench: options.bench,
        fresh: options.fresh,
        host,
        host_binary,
        service_dir: options.service_dir,
        ..MigrateOptions::new(service)
    };
    let inner = py
        .detach(|| app_migrate::migrate(&options, &wasm_migrate_app::Silent))
        .map_err(error_message)?;
    Ok(MigrateReport { inner })
}
