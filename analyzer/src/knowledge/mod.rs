//! The package knowledge base: what each Python distribution is, which import names it
//! provides, and whether it can move to each migration path.
//!
//! The data lives in `analyzer/data/packages/*.yaml`, compiled into the binary; users add or
//! override entries with `--rules DIR` (any `packages*.yaml` file in that directory).

use std::collections::BTreeMap;
use std::path::Path;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::{AnalyzeError, yaml_error};

pub use wasm_migrate_plan::MigrationPath;

/// Whether a distribution can be used on one migration path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathStatus {
    /// Works as it is on this path.
    Supported,
    /// Its job is done by something else on this path (see `replacement`).
    Replace,
    /// Not needed at all on this path (e.g. a web framework when the host serves requests).
    Drop,
    /// Cannot run on this path and has no drop-in replacement.
    Unsupported,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Implementation {
    /// Pure Python: runs on any CPython, including Python-in-Wasm.
    Pure,
    /// Contains compiled extensions or bundles native libraries.
    Native,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplacementKind {
    /// A wasi-nn backend on the host runs what this library ran.
    WasiNnBackend,
    /// A Rust crate in the glue does what this library did.
    RustCrate,
    /// The host runtime or platform provides it (HTTP serving, metrics, secrets...).
    HostCapability,
    /// Nothing replaces it.
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathStatuses {
    pub wasi_nn_glue: PathStatus,
    pub python_wasm: PathStatus,
    pub wasi_python: PathStatus,
}

/// One distribution in the knowledge base.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// The distribution name as published on PyPI.
    pub name: String,
    /// Top-level import names this distribution provides. Empty for a `variant_of` entry.
    #[serde(default)]
    pub imports: Vec<String>,
    /// Another distribution providing the same import names (opencv-python-headless is a
    /// variant of opencv-python); it inherits their imports, keeping import names unambiguous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_of: Option<String>,
    pub implementation: Implementation,
    pub category: String,
    pub status: PathStatuses,
    pub replacement_kind: ReplacementKind,
    /// What replaces it, in words a user can act on.
    pub replacement: String,
    /// A Rust crate that does the same job in glue code, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust_crate: Option<String>,
    pub link: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Package {
    pub fn status_for(&self, path: MigrationPath) -> Option<PathStatus> {
        match path {
            MigrationPath::WasiNnGlue => Some(self.status.wasi_nn_glue),
            MigrationPath::PythonWasm => Some(self.status.python_wasm),
            MigrationPath::WasiPython => Some(self.status.wasi_python),
            MigrationPath::Container => None,
        }
    }
}

/// PEP 503 normalisation: lower case, runs of `-`, `_` and `.` become one `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last_sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !last_sep {
                out.push('-');
            }
            last_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            last_sep = false;
        }
    }
    out
}

const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "frameworks.yaml",
        include_str!("../../data/packages/frameworks.yaml"),
    ),
    (
        "preprocessing.yaml",
        include_str!("../../data/packages/preprocessing.yaml"),
    ),
    (
        "serving.yaml",
        include_str!("../../data/packages/serving.yaml"),
    ),
    (
        "utilities.yaml",
        include_str!("../../data/packages/utilities.yaml"),
    ),
];

/// The loaded knowledge base, indexed by normalised distribution name and by import name.
#[derive(Debug, Clone, Default)]
pub struct KnowledgeBase {
    packages: BTreeMap<String, Package>,
    by_import: FxHashMap<String, String>,
}

impl KnowledgeBase {
    /// The knowledge base compiled into the binary.
    pub fn builtin() -> Result<Self, AnalyzeError> {
        let mut kb = KnowledgeBase::default();
        for (name, text) in BUILTIN_FILES {
            kb.add_yaml(Path::new(&format!("<builtin>/packages/{name}")), text)?;
        }
        Ok(kb)
    }

    /// Adds (or overrides, by distribution name) the entries of one YAML file.
    pub fn add_yaml(&mut self, path: &Path, text: &str) -> Result<(), AnalyzeError> {
        let entries: Vec<Package> =
            serde_saphyr::from_str(text).map_err(|e| yaml_error(path, &e))?;
        for package in entries {
            self.packages.insert(normalize_name(&package.name), package);
        }
        self.reindex();
        Ok(())
    }

    fn reindex(&mut self) {
        self.by_import.clear();
        for (key, package) in &self.packages {
            if package.variant_of.is_none() {
                for import in &package.imports {
                    self.by_import.insert(import.clone(), key.clone());
                }
            }
        }
    }

    pub fn packages(&self) -> impl Iterator<Item = &Package> {
        self.packages.values()
    }

    pub fn len(&self) -> usize {
        self.packages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }

    /// Looks a distribution up by any spelling of its name.
    pub fn package(&self, distribution: &str) -> Option<&Package> {
        self.packages.get(&normalize_name(distribution))
    }

    /// The distribution that provides a top-level import name.
    pub fn package_for_import(&self, top_level: &str) -> Option<&Package> {
        self.by_import
            .get(top_level)
            .and_then(|key| self.packages.get(key))
    }

    /// The import names a distribution provides, following `variant_of`.
    pub fn imports_of(&self, distribution: &str) -> Vec<String> {
        match self.package(distribution) {
            Some(p) => match &p.variant_of {
                Some(base) => self
                    .package(base)
                    .map(|b| b.imports.clone())
                    .unwrap_or_default(),
                None => p.imports.clone(),
            },
            None => Vec::new(),
        }
    }

    /// The canonical distribution a (possibly variant) distribution stands for.
    pub fn canonical(&self, distribution: &str) -> String {
        match self
            .package(distribution)
            .and_then(|p| p.variant_of.clone())
        {
            Some(base) => normalize_name(&base),
            None => normalize_name(distribution),
        }
    }

    /// Every problem with the data: duplicate names, ambiguous import names, dangling variants.
    pub fn consistency_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen_imports: BTreeMap<&str, &str> = BTreeMap::new();
        for package in self.packages.values() {
            match &package.variant_of {
                Some(base) => {
                    if !package.imports.is_empty() {
                        problems.push(format!(
                            "{}: a variant_of entry must not list its own imports",
                            package.name
                        ));
                    }
                    match self.package(base) {
                        None => problems.push(format!(
                            "{}: variant_of names unknown distribution {base}",
                            package.name
                        )),
                        Some(b) if b.variant_of.is_some() => problems.push(format!(
                            "{}: variant_of {base}, which is itself a variant",
                            package.name
                        )),
                        Some(_) => {}
                    }
                }
                None => {
                    if package.imports.is_empty() {
                        problems.push(format!("{}: no import names", package.name));
                    }
                }
            }
            for import in &package.imports {
                if let Some(other) = seen_imports.insert(import, &package.name) {
                    problems.push(format!(
                        "import name {import} is provided by both {other} and {}: mark one as variant_of the other",
                        package.name
                    ));
                }
            }
            if package.link.is_empty() || !package.link.starts_with("https://") {
                problems.push(format!("{}: link must be an https URL", package.name));
            }
            if package.replacement.trim().is_empty() {
                problems.push(format!("{}: replacement is empty", package.name));
            }
            if package.implementation == Implementation::Native
                && package.status.python_wasm == PathStatus::Supported
            {
                problems.push(format!(
                    "{}: native packages cannot be supported on python.wasm (no C extensions)",
                    package.name
                ));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_pep_503() {
        assert_eq!(normalize_name("Pillow"), "pillow");
        assert_eq!(
            normalize_name("opencv_python__Headless"),
            "opencv-python-headless"
        );
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
    }
}
