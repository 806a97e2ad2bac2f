//! What the later stages can do with a plan: the one capability model that `analyze`'s verdict,
//! `check-plan` and `generate`'s acceptance are computed from.
//!
//! The facts that are plain data live here: which runtime decodes which tensor types, which
//! input kinds have a glue template, which frameworks `convert` converts. What only running a
//! stage can tell (a step's parameters compile to Rust, the tokenizer file is there) is asked
//! of the stage through [`PlanCheck`], which `generate` implements with its own dry run; the
//! analyzer takes a `PlanCheck` and turns every [`Refusal`] into a finding, so a plan that
//! `analyze` calls ready is one that `generate` accepts.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Dtype, Framework, InputKind, LoadedPlan, MigrationPlan, TargetRuntime};

/// Where a module will run; decides which tensor types it may feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuntimeTarget {
    #[serde(rename = "wasmedge@0.14")]
    WasmEdge014,
    #[serde(rename = "wasmedge@0.15")]
    WasmEdge015,
    #[serde(rename = "wasmtime")]
    Wasmtime,
}

impl RuntimeTarget {
    pub fn name(self) -> &'static str {
        match self {
            RuntimeTarget::WasmEdge014 => "wasmedge@0.14",
            RuntimeTarget::WasmEdge015 => "wasmedge@0.15",
            RuntimeTarget::Wasmtime => "wasmtime",
        }
    }

    /// Input tensor types the runtime decodes the way the wasi-nn spec numbers them.
    pub fn legal_input_types(self) -> &'static [Dtype] {
        match self {
            // WasmEdge <= 0.14.1 numbers TensorType differently: only f32 agrees (PR #4069).
            RuntimeTarget::WasmEdge014 => &[Dtype::F32],
            // Measured on 0.14.1 to 0.17.1: no WasmEdge takes i64 (`Unknown tensor type 5`).
            RuntimeTarget::WasmEdge015 => {
                &[Dtype::F16, Dtype::F32, Dtype::F64, Dtype::U8, Dtype::I32]
            }
            RuntimeTarget::Wasmtime => &[
                Dtype::F16,
                Dtype::F32,
                Dtype::F64,
                Dtype::U8,
                Dtype::I32,
                Dtype::I64,
            ],
        }
    }

    pub fn from_plan(plan: &MigrationPlan) -> RuntimeTarget {
        match (plan.target.runtime, plan.target.runtime_version.as_str()) {
            (TargetRuntime::Wasmtime, _) => RuntimeTarget::Wasmtime,
            (_, v) if v.starts_with("0.14") || v.starts_with("0.13") => RuntimeTarget::WasmEdge014,
            _ => RuntimeTarget::WasmEdge015,
        }
    }
}

impl std::str::FromStr for RuntimeTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "wasmedge@0.14" | "wasmedge" => Ok(RuntimeTarget::WasmEdge014),
            "wasmedge@0.15" => Ok(RuntimeTarget::WasmEdge015),
            "wasmtime" => Ok(RuntimeTarget::Wasmtime),
            other => Err(format!(
                "unknown target `{other}` (wasmedge@0.14, wasmedge@0.15, wasmtime)"
            )),
        }
    }
}

/// Whether WasmEdge `version` runs an AOT module's native code only in its AOT run mode
/// (`--run-mode aot`, from 0.17.0; WasmEdge/WasmEdge#5169): the deploy files and `bench` ask.
pub fn wasmedge_needs_aot_run_mode(version: &str) -> bool {
    let mut parts = version.trim().split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => major > 0 || minor >= 17,
        _ => false,
    }
}

/// The glue template that serves an input kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlueKind {
    /// Image files in, the service's preprocessing in Rust.
    Image,
    /// UTF-8 text in, the service's tokenizer embedded.
    Text,
    /// float32 `.npy` tensors in.
    Tensor,
}

impl GlueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GlueKind::Image => "image",
            GlueKind::Text => "text",
            GlueKind::Tensor => "tensor",
        }
    }

    /// The tensor type the glue hands to `set_input`: f32 for every kind. Text goes as one
    /// f32 tensor of stacked token ids that the converted graph casts back, because no
    /// WasmEdge takes i64 tensors and its OpenVINO backend keeps one input.
    pub fn fed_type(self) -> Dtype {
        Dtype::F32
    }

    /// The type a target must decode for a plan's `input.dtype`: text's own single f32
    /// tensor whatever the plan says (convert makes the graph take that), else the plan's.
    pub fn judged_type(self, planned: Dtype) -> Dtype {
        match self {
            GlueKind::Text => self.fed_type(),
            GlueKind::Image | GlueKind::Tensor => planned,
        }
    }
}

impl InputKind {
    /// The glue template for the kind, or why there is none.
    pub fn glue(self) -> Result<GlueKind, &'static str> {
        match self {
            InputKind::Image => Ok(GlueKind::Image),
            InputKind::Text => Ok(GlueKind::Text),
            InputKind::Tensor => Ok(GlueKind::Tensor),
            InputKind::Tabular => Err(
                "tabular rows have no glue template: a scikit-learn or pandas service runs on the \
                 Python-in-Wasm path (target.path: wasi-python)",
            ),
        }
    }
}

/// How `convert` turns a framework's model into what a wasi-nn backend loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// Exported to ONNX with torch (a traced or scripted module, a Hugging Face model), then
    /// to OpenVINO IR.
    TorchOnnx,
    /// The ONNX file as it is, and OpenVINO IR from it.
    Onnx,
    /// A Keras or TensorFlow SavedModel to OpenVINO IR, ONNX and TFLite.
    Keras,
}

impl Framework {
    /// What `convert` does with the framework's model, or why it cannot.
    pub fn conversion(self) -> Result<Conversion, &'static str> {
        match self {
            Framework::Pytorch | Framework::Torchscript | Framework::Transformers => {
                Ok(Conversion::TorchOnnx)
            }
            Framework::Onnx => Ok(Conversion::Onnx),
            Framework::Keras | Framework::Tensorflow => Ok(Conversion::Keras),
            Framework::SentenceTransformers => Err(
                "a sentence-transformers model is a pipeline of modules (transformer, pooling, \
                 normalize) that convert does not export yet",
            ),
            Framework::Tflite => Err("convert does not take a TFLite model yet"),
            Framework::Openvino => Err("convert does not take OpenVINO IR as the source yet"),
            Framework::Sklearn => {
                Err("a scikit-learn model runs on no wasi-nn backend (target.path: wasi-python)")
            }
        }
    }
}

/// The stage that refuses a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusingStage {
    Generate,
    Convert,
}

impl RefusingStage {
    pub fn as_str(self) -> &'static str {
        match self {
            RefusingStage::Generate => "generate",
            RefusingStage::Convert => "convert",
        }
    }
}

/// What a stage cannot do with a plan, said where the plan can be changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub stage: RefusingStage,
    /// The plan line at fault, when it is one line.
    pub line: Option<usize>,
    pub message: String,
}

/// A stage's dry run on a plan. `generate` implements it; the analyzer calls it on the plan it
/// is about to write.
pub trait PlanCheck: Send + Sync + std::fmt::Debug {
    /// Everything the stage would refuse in `plan` for the service at `service`; empty when
    /// it would accept the plan as written.
    fn refusals(&self, service: &Path, plan: &LoadedPlan) -> Vec<Refusal>;
}

/// The refusals that follow from the plan's data alone: the model's conversion, the input
/// kind's template and the fed type on the target.
pub fn data_refusals(plan: &MigrationPlan) -> Vec<Refusal> {
    let mut out = Vec::new();
    let refuse = |stage, message: String| Refusal {
        stage,
        line: None,
        message,
    };
    if let Some(model) = &plan.model
        && let Err(why) = model.framework.conversion()
    {
        out.push(refuse(
            RefusingStage::Convert,
            format!("model.framework `{}`: {why}", model.framework.as_str()),
        ));
    }
    // torch exports a graph by running the model on an example input, which needs the size.
    // For an image into an nn.Module, convert finds the one size the model runs on (a head of
    // fixed width after its convolutions or a flatten); a TorchScript archive or an array
    // input needs it written.
    let framework = plan.model.as_ref().map(|m| m.framework);
    let probed = framework == Some(Framework::Pytorch)
        && plan
            .input
            .as_ref()
            .is_some_and(|i| i.kind == InputKind::Image);
    let traced = matches!(framework, Some(Framework::Pytorch | Framework::Torchscript));
    if traced
        && !probed
        && let Some(input) = &plan.input
        && input.kind != InputKind::Text
        && input.shape.is_none()
    {
        out.push(refuse(
            RefusingStage::Convert,
            "input.shape is not known: the preprocessing does not fix the input's size, and \
             torch exports the model by running it on an example of that shape; write the shape \
             the model takes (`shape: [1, 3, 224, 224]`)"
                .to_string(),
        ));
    }
    if let Some(input) = &plan.input {
        match input.kind.glue() {
            Err(why) => out.push(refuse(
                RefusingStage::Generate,
                format!("input.kind: {why}"),
            )),
            Ok(glue) => {
                let target = RuntimeTarget::from_plan(plan);
                let fed = glue.judged_type(input.dtype);
                if !target.legal_input_types().contains(&fed) {
                    out.push(refuse(
                        RefusingStage::Generate,
                        format!(
                            "input.dtype `{fed}` is not decoded correctly by {}: only f32 means \
                             the same on every WasmEdge (0.14 numbers tensor types differently, \
                             none takes i64); feed f32, or target wasmtime",
                            target.name()
                        ),
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_aot_run_mode_is_needed_from_wasmedge_0_17() {
        assert!(!wasmedge_needs_aot_run_mode("0.14.1"));
        assert!(!wasmedge_needs_aot_run_mode("0.16.4"));
        assert!(wasmedge_needs_aot_run_mode("0.17.0"));
        assert!(wasmedge_needs_aot_run_mode("1.0"));
        assert!(!wasmedge_needs_aot_run_mode("latest"));
    }

    use super::*;

    #[test]
    fn no_wasmedge_takes_i64_and_every_runtime_takes_f32() {
        for target in [RuntimeTarget::WasmEdge014, RuntimeTarget::WasmEdge015] {
            assert!(
                !target.legal_input_types().contains(&Dtype::I64),
                "{target:?}"
            );
        }
        for target in [
            RuntimeTarget::WasmEdge014,
            RuntimeTarget::WasmEdge015,
            RuntimeTarget::Wasmtime,
        ] {
            assert!(
                target.legal_input_types().contains(&Dtype::F32),
                "{target:?}"
            );
            assert_eq!(target.name().parse::<RuntimeTarget>(), Ok(target));
        }
    }

    #[test]
    fn every_framework_the_glue_path_takes_has_a_conversion() {
        let converted = [
            Framework::Pytorch,
            Framework::Torchscript,
            Framework::Transformers,
            Framework::Onnx,
            Framework::Keras,
            Framework::Tensorflow,
        ];
        for framework in converted {
            assert!(framework.conversion().is_ok(), "{framework:?}");
        }
        for framework in [Framework::Sklearn, Framework::SentenceTransformers] {
            assert!(framework.conversion().is_err(), "{framework:?}");
        }
    }
}
