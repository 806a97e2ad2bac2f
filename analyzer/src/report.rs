//! The result of analyzing a service: findings, dependencies, the detected inference pipeline
//! and the recommendation. This is the versioned schema of `--format json|yaml`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::knowledge::{Implementation, MigrationPath, PathStatus};
use crate::manifest::Dependency;
use crate::pipeline::Pipeline;
use crate::plan::MigrationPlan;
use crate::rules::Category;

/// Bumped on any incompatible change of the JSON / YAML report; documented in docs/report-schema.md.
pub const REPORT_SCHEMA_VERSION: &str = "1.0";

/// A place in a file of the service. Lines and columns are 1-based; columns count characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    /// Relative to the service root, `/`-separated.
    pub file: String,
    pub line: u32,
    pub column: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u32>,
}

impl Location {
    pub fn new(file: impl Into<String>, line: u32, column: u32) -> Self {
        Location {
            file: file.into(),
            line,
            column,
            end_line: None,
            end_column: None,
        }
    }
}

/// One problem or note about the service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule that produced it: a code rule id, or one of the analyzer's own
    /// (`syntax-error`, `file-skipped`, `manifest-problem`, `unsupported-package`,
    /// `unknown-package`, `undeclared-import`, `unused-dependency`).
    pub rule: String,
    pub category: Category,
    pub effort: u32,
    /// Migration paths this finding stands in the way of.
    pub targets: Vec<MigrationPath>,
    pub message: String,
    pub remedy: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    pub location: Location,
    /// The source line(s) the finding points at, for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    /// In a file the serving path does not reach (training, export, clients, backups): shown
    /// apart, and never part of the verdict or the exit code.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub outside_serving_path: bool,
}

/// How a Python import was classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportKind {
    Stdlib,
    Local,
    ThirdParty,
}

/// One distribution the service uses: declared, imported, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageUse {
    /// Normalised distribution name.
    pub distribution: String,
    /// Top-level import names seen in the code.
    pub imports: Vec<String>,
    /// Where it is declared (manifest entries).
    pub declared: Vec<Dependency>,
    /// First place it is imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_import: Option<Location>,
    /// Number of import statements that use it.
    pub import_count: u32,
    /// Whether the knowledge base knows it.
    pub known: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation: Option<Implementation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Status on each migration path, from the knowledge base.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status: BTreeMap<MigrationPath, PathStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// What happened to each file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileStatus {
    Parsed,
    /// Parsed with syntax errors: what parsed was still analyzed.
    SyntaxErrors,
    /// Not analyzed: unreadable, binary, not UTF-8 or too large.
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSummary {
    pub file: String,
    pub status: FileStatus,
    pub lines: u32,
}

/// Counts and timing, always printed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub files_seen: u32,
    pub files_parsed: u32,
    /// Files with syntax errors or skipped.
    pub files_failed: u32,
    pub python_lines: u64,
    pub manifests: u32,
    pub findings_mandatory: u32,
    pub findings_optional: u32,
    pub findings_potential: u32,
    /// Findings in files the serving path does not reach (not counted above).
    #[serde(default)]
    pub findings_outside_serving_path: u32,
    pub elapsed_ms: u64,
}

impl Summary {
    pub fn is_partial(&self) -> bool {
        self.files_failed > 0
    }
}

/// Why a path was (not) recommended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathAssessment {
    pub path: MigrationPath,
    /// Sum of effort points of the mandatory findings that block this path.
    pub effort: u32,
    /// 0 (far from ready) .. 100 (nothing in the way).
    pub readiness: u32,
    pub blockers: Vec<String>,
    pub viable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub path: MigrationPath,
    /// One paragraph: why this path.
    pub rationale: String,
    /// Total effort points of all findings.
    pub effort_total: u32,
    /// Readiness of the recommended path, 0..100.
    pub readiness: u32,
    /// Rule ids of the findings that decided it.
    pub deciding_findings: Vec<String>,
    pub paths: Vec<PathAssessment>,
}

/// The whole analysis of one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: String,
    pub tool_version: String,
    /// The path the user gave.
    pub root: PathBuf,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub packages: Vec<PackageUse>,
    pub pipeline: Pipeline,
    pub recommendation: Recommendation,
    pub plan: MigrationPlan,
    /// The module production starts, and why; absent when nothing serves or runs a model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<crate::service::entrypoint::EntrypointChoice>,
    /// Python files the serving path does not reach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outside_serving_path: Vec<String>,
    pub files: Vec<FileSummary>,
}

impl Report {
    /// Findings at or above a category (mandatory > optional > potential).
    pub fn findings_at_least(&self, category: Category) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(move |f| f.category <= category && !f.outside_serving_path)
    }
}
