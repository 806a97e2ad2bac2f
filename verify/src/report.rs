//! The verify report: what `--format json` prints (schema `wasm-migrate/verify`, versioned),
//! and what the text and HTML renderings show.

use serde::{Deserialize, Serialize};

use crate::compare::{Comparison, Tolerance};
use crate::diagnose::Blame;

pub const SCHEMA: &str = "wasm-migrate/verify";
/// Bumped when a field changes meaning or goes away; new fields do not bump it.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Equivalent,
    Differ,
}

/// Which stage a difference is blamed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Stage 1: the tensor fed to the model.
    Preprocessing,
    /// Stage 2 with stage 1 equal, at the float32 precision the model was exported in.
    Model,
    /// Stage 2 with stage 1 equal, on a backend that computed below float32 (bf16) or with
    /// weights stored below it.
    Precision,
    /// Outputs equal, labels not.
    Labels,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputInfo {
    pub name: String,
    pub path: String,
    /// `user`, `skimage.data`, `random` or `reference`.
    pub source: String,
}

impl InputInfo {
    pub fn from_path(path: &std::path::Path, source: &str) -> InputInfo {
        InputInfo {
            name: path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            path: path.display().to_string(),
            source: source.to_string(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Importing the service (Python) or compiling the module and loading the model (Wasm).
    pub load_s: f64,
    pub first_inference_s: Option<f64>,
    /// Over the inferences after the first.
    pub mean_inference_s: Option<f64>,
    pub p99_inference_s: Option<f64>,
}

impl Timing {
    pub fn from_inferences(load_s: f64, seconds: &[f64]) -> Timing {
        let rest = seconds.get(1..).unwrap_or_default();
        let mut sorted = rest.to_vec();
        sorted.sort_by(f64::total_cmp);
        Timing {
            load_s,
            first_inference_s: seconds.first().copied(),
            mean_inference_s: (!rest.is_empty())
                .then(|| rest.iter().sum::<f64>() / rest.len() as f64),
            p99_inference_s: sorted
                .get(((sorted.len() as f64 - 1.0) * 0.99).round().max(0.0) as usize)
                .copied(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OriginalSide {
    /// The interpreter, or `reference DIR` when stored outputs were used.
    pub python: String,
    pub versions: std::collections::BTreeMap<String, String>,
    /// The model objects the harness watched (`model (torch: ResNet)`).
    pub watched: Vec<String>,
    pub timing: Timing,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopK {
    pub k: usize,
    pub expected: Vec<usize>,
    pub actual: Vec<usize>,
    pub top1_equal: bool,
    /// How many of Python's top k are in the migrated top k.
    pub overlap: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputResult {
    pub name: String,
    pub comparison: Comparison,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<TopK>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelCheck {
    /// The first label the service's response names.
    pub expected: String,
    pub actual: Option<String>,
    pub equal: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputResult {
    pub input: String,
    pub verdict: Verdict,
    /// Set when the input could not be compared (the service or the module failed on it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preprocessed: Option<Comparison>,
    pub outputs: Vec<OutputResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<LabelCheck>,
    /// The stage blamed for a difference, and for preprocessing the likely step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blame: Option<Blame>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendReport {
    pub backend: String,
    pub version: String,
    /// What the backend computed in: `f32`, `bf16`, or `model` (the model's own types).
    pub precision: String,
    /// The model files it ran, and their weight precision.
    pub model: Vec<String>,
    pub weights: String,
    pub verdict: Verdict,
    pub timing: Timing,
    pub results: Vec<InputResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tolerances {
    /// Stage 1: `atol` is one 8-bit level in the tensor's units (its range / 255).
    pub preprocessed: Tolerance,
    pub preset: String,
    pub outputs: Tolerance,
    /// Per-output overrides (`--tolerance NAME=ATOL,RTOL`).
    pub overrides: std::collections::BTreeMap<String, Tolerance>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WallTime {
    pub total_s: f64,
    pub python_startup_s: f64,
    pub python_inference_s: f64,
    pub wasm_load_s: f64,
    pub wasm_inference_s: f64,
    pub compare_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub schema: String,
    pub schema_version: u32,
    pub tool_version: String,
    pub service: String,
    pub module: String,
    pub verdict: Verdict,
    /// One line: what was found, and where to look first.
    pub summary: String,
    pub warnings: Vec<String>,
    pub tolerances: Tolerances,
    pub inputs: Vec<InputInfo>,
    pub original: OriginalSide,
    pub backends: Vec<BackendReport>,
    pub wall_time: WallTime,
}

impl VerifyReport {
    /// `(stage, step or cause)` of the first difference, for the summary line and for tests.
    pub fn first_blame(&self) -> Option<(Stage, Option<&Blame>)> {
        self.backends
            .iter()
            .flat_map(|b| &b.results)
            .find_map(|r| r.stage.map(|s| (s, r.blame.as_ref())))
    }
}
