//! `generate`: glue for a glue plan, a bundle for a wasi-python plan.

use std::path::PathBuf;

use serde::Serialize;
use wasm_migrate_codegen as codegen;
use wasm_migrate_pybundle::{BundleOptions, Interpreter, Written, write_bundle};

use crate::progress::phase;
use crate::{Progress, Result, Route};

/// What `generate` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct GenerateOptions {
    /// The service directory holding wasm-migrate.yaml.
    pub service: PathBuf,
    /// Where to write (default: SERVICE/migrated).
    pub out: Option<PathBuf>,
    /// The runtime the module is for (default: the plan's target). Glue only.
    pub target: Option<codegen::Target>,
    /// Templates replacing the built-in ones by relative name. Glue only.
    pub templates: Option<PathBuf>,
    /// Replace an existing output directory.
    pub force: bool,
    /// The service's interpreter, whose installed packages a bundle packs.
    pub python: Option<PathBuf>,
}

/// What was written.
#[derive(Debug, Serialize)]
#[serde(tag = "schema")]
pub enum Generated {
    #[serde(rename = "wasm-migrate.generate/1")]
    Glue(codegen::Generated),
    #[serde(rename = "wasm-migrate.generate-bundle/1")]
    Bundle(Written),
}

pub fn generate(options: &GenerateOptions, progress: &dyn Progress) -> Result<Generated> {
    match Route::of_service(&options.service) {
        Route::WasiPython => bundle(options, progress).map(Generated::Bundle),
        Route::Glue => {
            let generated = codegen::generate(
                &options.service,
                &codegen::GenerateOptions {
                    out: options.out.clone(),
                    target: options.target,
                    templates: options.templates.clone(),
                    force: options.force,
                },
            )?;
            Ok(Generated::Glue(generated))
        }
    }
}

fn bundle(options: &GenerateOptions, progress: &dyn Progress) -> Result<Written> {
    let python = codegen::find_python(&options.service, options.python.as_deref());
    let interpreter = Interpreter::find(&crate::python::pythons(Some(&python)))?;
    let written = phase(
        progress,
        "packaging the service's Python for wasi-python",
        || {
            write_bundle(
                &options.service,
                &BundleOptions {
                    out: options.out.clone(),
                    force: options.force,
                    python,
                    interpreter,
                },
            )
        },
    )?;
    Ok(written)
}
