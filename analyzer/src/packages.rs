//! Imports against declared dependencies and the knowledge base: which distributions the
//! service uses, which imports have no declared dependency, which dependencies are never
//! imported, and which packages cannot move to a path.

use std::collections::BTreeMap;

use crate::knowledge::{KnowledgeBase, MigrationPath, PathStatus, normalize_name};
use crate::manifest::Dependency;
use crate::report::{Finding, Location, PackageUse};
use crate::rules::Category;

/// A third-party import seen in the code.
#[derive(Debug, Clone)]
pub(crate) struct ThirdPartyImport {
    /// The full dotted module (`google.protobuf.message`).
    pub module: String,
    pub location: Location,
    /// Inside `try: ... except`: an optional import.
    pub guarded: bool,
}

/// Distributions that services declare but never import: servers, plugins, CLIs.
const USED_WITHOUT_IMPORT: &[&str] = &[
    "uvicorn",
    "gunicorn",
    "hypercorn",
    "waitress",
    "python-multipart",
    "torchserve",
    "torch-model-archiver",
    "pytest",
    "httpx",
    "black",
    "ruff",
    "mypy",
    "setuptools",
    "wheel",
    "pip",
    "onnx",
    "onnxscript",
    "openvino-dev",
];

/// The distribution an import resolves to: longest dotted prefix in the knowledge base, else
/// the top-level name itself.
fn distribution_for(kb: &KnowledgeBase, module: &str) -> (String, bool) {
    let mut candidate = module;
    loop {
        if let Some(p) = kb.package_for_import(candidate) {
            return (normalize_name(&p.name), true);
        }
        match candidate.rfind('.') {
            Some(i) => candidate = &candidate[..i],
            None => break,
        }
    }
    let top = module.split('.').next().unwrap_or(module);
    (normalize_name(top), false)
}

pub(crate) fn package_uses(
    kb: &KnowledgeBase,
    imports: &[ThirdPartyImport],
    dependencies: &[Dependency],
    has_manifest: bool,
) -> (Vec<PackageUse>, Vec<Finding>) {
    let mut uses: BTreeMap<String, PackageUse> = BTreeMap::new();
    let mut guarded_only: BTreeMap<String, bool> = BTreeMap::new();
    let new_use = |dist: &str| {
        let package = kb.package(dist);
        PackageUse {
            distribution: dist.to_string(),
            imports: Vec::new(),
            declared: Vec::new(),
            first_import: None,
            import_count: 0,
            known: package.is_some(),
            implementation: package.map(|p| p.implementation),
            category: package.map(|p| p.category.clone()),
            status: package
                .map(|p| {
                    [
                        MigrationPath::WasiNnGlue,
                        MigrationPath::PythonWasm,
                        MigrationPath::WasiPython,
                    ]
                    .into_iter()
                    .filter_map(|path| p.status_for(path).map(|s| (path, s)))
                    .collect()
                })
                .unwrap_or_default(),
            replacement: package.map(|p| p.replacement.clone()),
            link: package.map(|p| p.link.clone()),
        }
    };
    for import in imports {
        let (dist, _) = distribution_for(kb, &import.module);
        let entry = uses.entry(dist.clone()).or_insert_with(|| new_use(&dist));
        let top = import.module.split('.').next().unwrap_or("").to_string();
        if !entry.imports.contains(&top) {
            entry.imports.push(top);
        }
        entry.import_count += 1;
        if entry
            .first_import
            .as_ref()
            .is_none_or(|l| import.location < *l)
        {
            entry.first_import = Some(import.location.clone());
        }
        let only_guarded = guarded_only.entry(dist).or_insert(true);
        *only_guarded &= import.guarded;
    }
    for dep in dependencies {
        let canonical = kb.canonical(&dep.name);
        let entry = uses
            .entry(canonical.clone())
            .or_insert_with(|| new_use(&canonical));
        entry.declared.push(dep.clone());
    }

    let mut findings = Vec::new();
    for (dist, u) in &uses {
        let imported = u.import_count > 0;
        let declared = !u.declared.is_empty();
        if imported
            && !declared
            && has_manifest
            && !guarded_only.get(dist).copied().unwrap_or(false)
        {
            findings.push(Finding {
                rule: "undeclared-import".into(),
                category: Category::Optional,
                effort: 1,
                targets: vec![MigrationPath::PythonWasm, MigrationPath::WasiPython],
                message: format!(
                    "`{}` is imported but no manifest declares `{dist}`",
                    u.imports.join("`, `")
                ),
                remedy: format!("Add `{dist}` (pinned) to the service's requirements so conversion and packaging install it."),
                links: vec![],
                location: u.first_import.clone().unwrap_or_else(|| Location::new("", 1, 1)),
                snippet: None,
                outside_serving_path: false,
            });
        }
        let runtime_only = USED_WITHOUT_IMPORT.contains(&dist.as_str());
        let prod_declarations: Vec<&Dependency> = u
            .declared
            .iter()
            .filter(|d| !d.dev && !d.constraint_only)
            .collect();
        if declared
            && !imported
            && !runtime_only
            && let Some(dep) = prod_declarations.first()
        {
            findings.push(Finding {
                rule: "unused-dependency".into(),
                category: Category::Potential,
                effort: 1,
                targets: vec![MigrationPath::PythonWasm, MigrationPath::WasiPython],
                message: format!("`{}` is declared but never imported", dep.name),
                remedy: "Remove it if the service does not need it: every package bundled into a Python-in-Wasm module adds size and start-up time.".into(),
                links: vec![],
                location: Location::new(dep.file.to_string_lossy().replace('\\', "/"), dep.line, 1),
                snippet: None,
                outside_serving_path: false,
            });
        }
        if !imported {
            continue;
        }
        let location = u
            .first_import
            .clone()
            .unwrap_or_else(|| Location::new("", 1, 1));
        if !u.known {
            findings.push(Finding {
                rule: "unknown-package".into(),
                category: Category::Potential,
                effort: 2,
                targets: vec![MigrationPath::WasiNnGlue, MigrationPath::PythonWasm, MigrationPath::WasiPython],
                message: format!("`{dist}` is not in the package knowledge base: whether it can move is unknown"),
                remedy: "Check whether it is pure Python and what it is used for; describe it in a packages YAML file passed with --rules DIR.".into(),
                links: vec![],
                location,
                snippet: None,
                outside_serving_path: false,
            });
            continue;
        }
        let blocked: Vec<MigrationPath> = u
            .status
            .iter()
            .filter(|(_, s)| **s == PathStatus::Unsupported)
            .map(|(p, _)| *p)
            .collect();
        if !blocked.is_empty() {
            let names: Vec<&str> = blocked.iter().map(|p| p.label()).collect();
            findings.push(Finding {
                rule: "unsupported-package".into(),
                category: Category::Mandatory,
                effort: 5,
                targets: blocked,
                message: format!("`{dist}` cannot run on {}", names.join(", ")),
                remedy: u.replacement.clone().unwrap_or_default(),
                links: u.link.iter().cloned().collect(),
                location,
                snippet: None,
                outside_serving_path: false,
            });
        }
    }
    (uses.into_values().collect(), findings)
}
