//! The exit-code policy of `analyze`, shared by the command line and the Python binding:
//! which findings fail a run, for which migration path.

use crate::knowledge::MigrationPath;
use crate::report::Report;
use crate::rules::Category;

/// Exit codes that CI can trust.
pub mod exit {
    /// Nothing at or above `--fail-on` for the target path.
    pub const CLEAN: u8 = 0;
    /// Findings at or above `--fail-on`.
    pub const FINDINGS: u8 = 1;
    /// Bad usage, a path that does not exist, an unreadable rules file, an I/O error.
    pub const ERROR: u8 = 2;
    /// Some files could not be analyzed (syntax errors, unreadable, too large).
    pub const PARTIAL: u8 = 3;
}

/// The least severe category that fails a run (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum FailOn {
    Mandatory,
    Optional,
    Potential,
    /// Never exit 1 for findings.
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<Category> {
        match self {
            FailOn::Mandatory => Some(Category::Mandatory),
            FailOn::Optional => Some(Category::Optional),
            FailOn::Potential => Some(Category::Potential),
            FailOn::Never => None,
        }
    }
}

impl std::str::FromStr for FailOn {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mandatory" => Ok(FailOn::Mandatory),
            "optional" => Ok(FailOn::Optional),
            "potential" => Ok(FailOn::Potential),
            "never" => Ok(FailOn::Never),
            other => Err(format!(
                "fail_on must be 'mandatory', 'optional', 'potential' or 'never', not {other:?}"
            )),
        }
    }
}

/// The path whose findings decide the exit code (`--target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Target {
    /// The recommended path (all findings count when it is `container`).
    Auto,
    WasiNnGlue,
    PythonWasm,
    WasiPython,
}

impl Report {
    /// 1 when a finding at or above `fail_on` applies to the target; else 3 if the analysis
    /// was partial; else 0.
    pub fn exit_code(&self, fail_on: FailOn, target: Target) -> u8 {
        let path = match target {
            Target::Auto => self.recommendation.path,
            Target::WasiNnGlue => MigrationPath::WasiNnGlue,
            Target::PythonWasm => MigrationPath::PythonWasm,
            Target::WasiPython => MigrationPath::WasiPython,
        };
        let failing = fail_on.threshold().is_some_and(|t| {
            self.findings_at_least(t)
                .any(|f| path == MigrationPath::Container || f.targets.contains(&path))
        });
        if failing {
            exit::FINDINGS
        } else if self.summary.is_partial() {
            exit::PARTIAL
        } else {
            exit::CLEAN
        }
    }
}
