//! The MigrationPlan (`wasm-migrate.yaml`): the one contract between analyze and every later
//! stage. Analyze writes it with comments, a person may edit it, later stages read it back.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::PlanError;
use crate::http::{HttpPlan, ServerPlan};
use crate::kinds::{Framework, InputKind, MigrationPath, ServingKind, StepLibrary};
use crate::names::{Dtype, HttpMethod, ModelFormat, NnBackend, TargetRuntime, TolerancePreset};
use crate::value::Value;

pub const PLAN_FILE_NAME: &str = "wasm-migrate.yaml";
pub const PLAN_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationPlan {
    pub version: u32,
    pub service: ServicePlan,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelPlan>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<InputPlan>,
    #[serde(default)]
    pub preprocessing: Vec<PlanStep>,
    #[serde(default)]
    pub postprocessing: Vec<PlanStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<String>,
    pub target: TargetPlan,
    pub tolerances: Tolerances,
    /// What `wasm-migrate convert` produced; absent until it has run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converted: Option<ConvertedModel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpPlan>,
}

/// The model files `convert` wrote, as it found them after writing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvertedModel {
    /// The interpreter that ran `convert_model.py`, and the framework versions it had.
    pub python: String,
    #[serde(default)]
    pub versions: BTreeMap<String, String>,
    pub artifacts: Vec<ConvertedArtifact>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvertedArtifact {
    /// `onnx`, `openvino`, `torchscript` or `tflite`.
    pub format: ModelFormat,
    /// Relative to the generated crate.
    pub files: Vec<String>,
    /// `f32` unless a smaller precision was asked for.
    pub weights: Dtype,
    #[serde(default)]
    pub inputs: Vec<TensorInfo>,
    #[serde(default)]
    pub outputs: Vec<TensorInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorInfo {
    pub name: String,
    /// `-1` for a dynamic dimension.
    pub shape: Vec<i64>,
    pub dtype: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicePlan {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Entrypoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerPlan>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entrypoint {
    pub kind: ServingKind,
    /// The Python file, relative to the service root.
    pub file: String,
    /// Function or class name.
    pub handler: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<HttpMethod>,
    /// The directory production runs the service from, relative to the service root, when
    /// it is not the root (a Dockerfile's `WORKDIR` holding `COPY backend/ .`): relative
    /// paths in the service resolve from there, and `convert` and `verify` start there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<String>,
}

impl Entrypoint {
    /// The method a client sends the input with: the route's first that carries a body
    /// (`methods=["GET", "POST"]` is a form page on GET and the upload on POST), else its
    /// first, else POST.
    pub fn input_method(&self) -> Option<HttpMethod> {
        let carries_body =
            |m: &&HttpMethod| matches!(m, HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch);
        self.methods
            .iter()
            .find(carries_body)
            .or(self.methods.first())
            .copied()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPlan {
    pub framework: Framework,
    /// The artifact the service loads, relative to the service root (or a hub id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// Where the service loads it (`app.py:31`).
    pub loaded_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    Nchw,
    Nhwc,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputPlan {
    pub kind: InputKind,
    /// The shape of the tensor fed to the model, when known (batch first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<Layout>,
    pub dtype: Dtype,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanStep {
    pub library: StepLibrary,
    pub op: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Value>,
    /// Where the service does it (`app.py:24`).
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetPlan {
    pub path: MigrationPath,
    /// `wasmedge` or `wasmtime`.
    pub runtime: TargetRuntime,
    pub runtime_version: String,
    /// The wasi-nn backend: `openvino`, `onnx`, `pytorch`, `tensorflowlite`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<NnBackend>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tolerances {
    /// `float32` (torch.testing defaults), `cross-backend` (different kernels, same precision)
    /// or `custom` (the atol / rtol below are used as written).
    pub preset: TolerancePreset,
    pub atol: f64,
    pub rtol: f64,
    /// Per-output tolerances by output name or index, over the preset (`verify --tolerance`
    /// overrides these in turn).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, OutputTolerance>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputTolerance {
    pub atol: f64,
    pub rtol: f64,
}

impl Tolerances {
    /// Different backends (PyTorch vs OpenVINO vs ONNX Runtime) reorder float32 sums, so the
    /// cross-backend preset is looser than torch's same-kernel float32 defaults.
    pub fn cross_backend() -> Self {
        Tolerances {
            preset: TolerancePreset::CrossBackend,
            atol: 1e-4,
            rtol: 1e-3,
            outputs: BTreeMap::new(),
        }
    }
}

impl MigrationPlan {
    /// The array a client sends to a tensor route, as `verify` makes it: flat, with as many
    /// numbers as the service's first reshape takes (NumPy reshapes any nesting of them);
    /// without a reshape, the `input.shape` the model takes. `None` when neither is known.
    pub fn client_array_shape(&self) -> Option<Vec<usize>> {
        let positive = |sizes: &[i64]| -> Option<Vec<usize>> {
            sizes
                .iter()
                .map(|&d| usize::try_from(d).ok().filter(|&d| d > 0))
                .collect()
        };
        let model_shape = self
            .input
            .as_ref()
            .and_then(|i| i.shape.as_deref())
            .and_then(positive);
        let Some(reshape) = self.preprocessing.iter().find(|s| s.is_reshape()) else {
            return model_shape;
        };
        let sizes = reshape.new_shape();
        let count = sizes
            .as_deref()
            .and_then(positive)
            .or(model_shape)
            .map(|s| s.iter().product::<usize>())?;
        Some(vec![count])
    }

    /// The size (width, height) an upload must already have because no step resizes or crops
    /// it (the service hands the model its pixels as they come): the sides of `input.shape`,
    /// else of the converted model's input. `None` when a step sets the size or none is known.
    pub fn fixed_upload_size(&self) -> Option<(usize, usize)> {
        if self.preprocessing.iter().any(PlanStep::sets_image_size) {
            return None;
        }
        let shape = self.model_input_shape()?;
        let (h, w) = match (shape.len(), self.channels_first(&shape)) {
            (4, true) => (shape[2], shape[3]),
            (4, false) | (3, _) => (shape[1], shape[2]),
            _ => return None,
        };
        Some((usize::try_from(w).ok()?, usize::try_from(h).ok()?)).filter(|&(w, h)| w > 0 && h > 0)
    }

    /// The tensor the model takes: `input.shape`, else the converted model's first input
    /// when all its sides are known.
    pub fn model_input_shape(&self) -> Option<Vec<i64>> {
        let input = self.input.as_ref()?;
        let converted = || {
            let artifact = self.converted.as_ref()?.artifacts.first()?;
            let shape = &artifact.inputs.first()?.shape;
            shape.iter().all(|&n| n > 0).then(|| shape.clone())
        };
        input.shape.clone().or_else(converted)
    }

    /// The channels of the image the model takes: 1 for `(1, H, W)`, else the channel axis
    /// of `(1, C, H, W)` or `(1, H, W, C)` by the plan's layout.
    pub fn model_image_channels(&self) -> Option<usize> {
        let shape = self.model_input_shape()?;
        let channels = match (shape.len(), self.channels_first(&shape)) {
            (3, _) => 1,
            (4, true) => shape[1],
            (4, false) => shape[3],
            _ => return None,
        };
        usize::try_from(channels).ok()
    }

    fn channels_first(&self, shape: &[i64]) -> bool {
        match self.input.as_ref().and_then(|i| i.layout) {
            Some(layout) => layout == crate::Layout::Nchw,
            None => shape.len() == 4 && matches!(shape[1], 1 | 3),
        }
    }

    /// Whether the service hands on the upload in the mode PIL opened it: `Image.open` and no
    /// conversion (`convert`, a grayscale step, OpenCV's decoding), so a grayscale file keeps
    /// its one channel.
    pub fn keeps_opened_mode(&self) -> bool {
        use crate::KnownOp::{Grayscale, OpencvCvtColor, PilConvert};
        use crate::OpencvReadFlag;
        // OpenCV's `IMREAD_UNCHANGED` keeps the file's channels too; its other flags do not.
        let decoded_as_is = self.preprocessing.iter().any(|s| {
            (s.library == crate::StepLibrary::Pil && s.op == "open")
                || OpencvReadFlag::of(s) == Some(OpencvReadFlag::Unchanged)
        });
        let converted = self.preprocessing.iter().any(|s| {
            let opencv_converts =
                OpencvReadFlag::of(s).is_some_and(|flag| flag != OpencvReadFlag::Unchanged);
            opencv_converts || matches!(s.known(), Some(Grayscale | OpencvCvtColor | PilConvert))
        });
        decoded_as_is && !converted
    }

    /// Writes the plan as commented YAML.
    pub fn to_commented_yaml(&self) -> Result<String, PlanError> {
        let mut out = String::new();
        out.push_str(
            "# wasm-migrate migration plan, written by `wasm-migrate analyze --write-plan`.\n\
             # Edit it freely: `generate`, `build` and `verify` read this file and nothing else\n\
             # from the analysis. `wasm-migrate analyze --write-plan --force` rewrites it.\n\n",
        );
        section(&mut out, "Plan format version.", "version", &self.version)?;
        section(
            &mut out,
            "The service and the entry point that `verify` calls (a Flask/FastAPI route, a\n\
             TorchServe handler class or a plain script). `server` is how production starts it\n\
             (kind: gunicorn | uvicorn | flask, app, workers, threads, port): `verify --http`\n\
             starts the original that way, and the module serves on that port.",
            "service",
            &self.service,
        )?;
        if let Some(model) = &self.model {
            section(
                &mut out,
                "The model the service loads. `artifact` is relative to the service root;\n\
                 `generate` converts it for the target backend.",
                "model",
                model,
            )?;
        }
        if let Some(input) = &self.input {
            section(
                &mut out,
                "The tensor the model receives. Change `shape` if the detected one is wrong.",
                "input",
                input,
            )?;
        }
        section(
            &mut out,
            "Preprocessing, in order, with every parameter as the Python code passes it.\n\
             The generated glue reproduces these steps with matching numerics; `verify`\n\
             compares the preprocessed tensor first.",
            "preprocessing",
            &self.preprocessing,
        )?;
        section(
            &mut out,
            "Postprocessing applied to the model's outputs.",
            "postprocessing",
            &self.postprocessing,
        )?;
        if let Some(labels) = &self.labels {
            section(&mut out, "Label file for top-k output.", "labels", labels)?;
        }
        section(
            &mut out,
            "Where the service goes. path: wasi-nn-glue | python-wasm | wasi-python | container;\n\
             runtime: wasmedge | wasmtime; backend: openvino | onnx | pytorch | tensorflowlite.",
            "target",
            &self.target,
        )?;
        section(
            &mut out,
            "How close the migrated outputs must be to Python's: |a - e| <= atol + rtol * |e|.\n\
             preset: float32 | cross-backend | bf16 | custom; `outputs` maps an output name or\n\
             index to its own atol / rtol.",
            "tolerances",
            &self.tolerances,
        )?;
        if let Some(http) = &self.http {
            section(
                &mut out,
                "Written by `wasm-migrate convert`, from the original answering requests: the\n\
                 API the migrated module serves (routes, request fields, the response rebuilt from\n\
                 the model's output, and the original's answers to bad requests).",
                "http",
                http,
            )?;
        }
        if let Some(converted) = &self.converted {
            section(
                &mut out,
                "Written by `wasm-migrate convert`: the converted model files (relative to the\n\
                 generated crate), their tensors and weight precision.",
                "converted",
                converted,
            )?;
        }
        Ok(out)
    }

    /// Reads and validates a plan; errors name the file and line.
    pub fn from_yaml(path: &Path, text: &str) -> Result<Self, PlanError> {
        let plan: MigrationPlan =
            serde_saphyr::from_str(text).map_err(|e| crate::error::yaml_error(path, &e))?;
        plan.validate(path, text)?;
        Ok(plan)
    }

    fn validate(&self, path: &Path, text: &str) -> Result<(), PlanError> {
        let invalid = |key: &str, message: String| PlanError::Invalid {
            path: path.to_path_buf(),
            line: line_of_key(text, key),
            message,
        };
        // For a bad value inside a list, the line holding the value itself.
        let invalid_value = |key: &str, value: &str, message: String| PlanError::Invalid {
            path: path.to_path_buf(),
            line: line_of_value(text, key, value),
            message,
        };
        if self.version != PLAN_VERSION {
            return Err(invalid(
                "version",
                format!(
                    "version {} is not supported (expected {PLAN_VERSION})",
                    self.version
                ),
            ));
        }
        let per_output = self
            .tolerances
            .outputs
            .values()
            .flat_map(|t| [("atol", t.atol), ("rtol", t.rtol)]);
        for (key, value) in [
            ("atol", self.tolerances.atol),
            ("rtol", self.tolerances.rtol),
        ]
        .into_iter()
        .chain(per_output)
        {
            if !(value.is_finite() && value >= 0.0) {
                return Err(invalid(
                    key,
                    format!("tolerances.{key} must be a finite number >= 0, got {value}"),
                ));
            }
        }
        if let Some(input) = &self.input
            && let Some(shape) = &input.shape
            && shape.iter().any(|d| *d <= 0)
        {
            return Err(invalid(
                "shape",
                format!("input.shape {shape:?} has a dimension <= 0"),
            ));
        }
        if let Some(input) = &self.input
            && let (Some(shape), Some(layout)) = (&input.shape, input.layout)
            && shape.len() != 4
        {
            return Err(invalid(
                "layout",
                format!("input.layout {layout:?} needs a 4-dimensional shape, got {shape:?}"),
            ));
        }
        if self.service.name.trim().is_empty() {
            return Err(invalid("name", "service.name is empty".to_string()));
        }
        if self.target.path == MigrationPath::WasiNnGlue && self.model.is_none() {
            return Err(invalid(
                "path",
                "target.path is wasi-nn-glue but the plan has no `model` section".to_string(),
            ));
        }
        for step in self.preprocessing.iter().chain(&self.postprocessing) {
            let well_formed = step.at.rsplit_once(':').is_some_and(|(file, line)| {
                !file.is_empty() && line.parse::<u32>().is_ok_and(|l| l > 0)
            });
            if !well_formed {
                return Err(invalid_value(
                    "at",
                    &step.at,
                    format!("step `{}`: `at: {}` is not FILE:LINE", step.op, step.at),
                ));
            }
        }
        Ok(())
    }
}

fn section<T: Serialize>(
    out: &mut String,
    comment: &str,
    key: &str,
    value: &T,
) -> Result<(), PlanError> {
    for line in comment.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    let mut map = BTreeMap::new();
    map.insert(key, value);
    let yaml = serde_saphyr::to_string(&map).map_err(|e| PlanError::Serialize(e.to_string()))?;
    out.push_str(&yaml);
    if !yaml.ends_with('\n') {
        out.push('\n');
    }
    out.push('\n');
    Ok(())
}

/// The 1-based line, at or after `key:`, that holds `value`.
fn line_of_value(text: &str, key: &str, value: &str) -> Option<u32> {
    let start = line_of_key(text, key).unwrap_or(1) as usize - 1;
    text.lines()
        .enumerate()
        .skip(start)
        .find(|(_, l)| !l.trim_start().starts_with('#') && l.contains(value))
        .map(|(i, _)| i as u32 + 1)
        .or(Some(start as u32 + 1))
}

/// The 1-based line where `key:` first appears, for messages about a value.
fn line_of_key(text: &str, key: &str) -> Option<u32> {
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches("- ");
            t.starts_with(key) && t[key.len()..].trim_start().starts_with(':')
        })
        .map(|i| i as u32 + 1)
}

impl PlanStep {
    /// NumPy's or torch's `reshape` (torch's `view` too).
    pub fn is_reshape(&self) -> bool {
        matches!(self.library, StepLibrary::Numpy | StepLibrary::Torch)
            && matches!(self.op.as_str(), "reshape" | "view")
    }

    /// A reshape's new shape, when its sizes are whole numbers (`-1` included): as one list
    /// (`newshape`), or spread over the arguments as the analyzer records a method's.
    pub fn new_shape(&self) -> Option<Vec<i64>> {
        let whole = |v: &Value| match v {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            _ => None,
        };
        match ["newshape", "shape", "arg1", "arg0"]
            .iter()
            .find_map(|n| self.params.get(*n))?
        {
            Value::List(items) => items.iter().map(whole).collect(),
            other => whole(other).map(|i| vec![i]),
        }
    }

    /// Whether the step decides the image's size: a resize, a crop, a fit, a letterbox, a
    /// processor or a loader with a target size.
    pub fn sets_image_size(&self) -> bool {
        use crate::KnownOp::*;
        let known = matches!(
            self.known(),
            Some(
                TorchvisionResize
                    | TorchvisionCrop
                    | PilResize
                    | OpencvResize
                    | PilFit
                    | TensorflowResize
                    | ProcessorCall
            )
        );
        let loaded_at_size = self.known() == Some(crate::KnownOp::KerasLoadImage)
            && self.params.contains_key("target_size");
        let op = self.op.to_ascii_lowercase();
        let named = [
            "resize",
            "crop",
            "fit",
            "thumbnail",
            "letterbox",
            "paste",
            "pad",
        ]
        .iter()
        .any(|word| op.contains(word));
        known || loaded_at_size || named
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(input_shape: &str, preprocessing: &str) -> MigrationPlan {
        let text = format!(
            "version: 1\nservice:\n  name: s\nmodel:\n  framework: onnx\n  loaded_at: main.py:1\ninput:\n  kind: tensor\n  dtype: f32\n{input_shape}\
             preprocessing:{preprocessing}target:\n  path: wasi-nn-glue\n  runtime: wasmedge\n  runtime_version: \"0.14\"\n\
             tolerances:\n  preset: cross-backend\n  atol: 0.0001\n  rtol: 0.001\n"
        );
        MigrationPlan::from_yaml(Path::new("wasm-migrate.yaml"), &text).expect("a plan")
    }

    #[test]
    fn a_client_sends_as_many_numbers_as_the_first_reshape_takes() {
        let reshape = "\n- library: numpy\n  op: reshape\n  params:\n    newshape: [1, 1, 32, 32]\n  at: a.py:1\n";
        assert_eq!(plan("", reshape).client_array_shape(), Some(vec![1024]));
        // A -1 leaves the count to the model's shape.
        let open =
            "\n- library: numpy\n  op: reshape\n  params:\n    newshape: [1, -1]\n  at: a.py:1\n";
        let shape = "  shape: [1, 4]\n";
        assert_eq!(plan(shape, open).client_array_shape(), Some(vec![4]));
        assert_eq!(plan("", open).client_array_shape(), None);
    }

    #[test]
    fn an_upload_no_step_resizes_must_have_the_models_size() {
        let image = |steps: &str| {
            let mut plan = plan("  shape: [1, 1, 28, 20]\n  layout: nchw\n", steps);
            plan.input.as_mut().unwrap().kind = InputKind::Image;
            plan
        };
        let open = "\n- library: pil\n  op: open\n  at: a.py:1\n";
        assert_eq!(image(open).fixed_upload_size(), Some((20, 28)));
        let resized = format!(
            "{open}- library: pil\n  op: resize\n  params:\n    size: [28, 28]\n  at: a.py:2\n"
        );
        assert_eq!(image(&resized).fixed_upload_size(), None);
    }

    #[test]
    fn an_upload_opened_and_not_converted_keeps_its_mode_and_the_model_says_its_channels() {
        let open = "\n- library: pil\n  op: open\n  at: a.py:1\n";
        let gray = plan("  shape: [1, 28, 28]\n", open);
        assert!(gray.keeps_opened_mode());
        assert_eq!(gray.model_image_channels(), Some(1));
        let nhwc = plan("  shape: [1, 28, 28, 3]\n  layout: nhwc\n", open);
        assert_eq!(nhwc.model_image_channels(), Some(3));
        assert_eq!(
            plan("  shape: [1, 1, 28, 28]\n", open).model_image_channels(),
            Some(1)
        );
        let converted =
            format!("{open}- library: pil\n  op: convert\n  params:\n    mode: L\n  at: a.py:2\n");
        assert!(!plan("", &converted).keeps_opened_mode());
        let opencv = "\n- library: opencv\n  op: imdecode\n  at: a.py:1\n";
        assert!(!plan("", opencv).keeps_opened_mode());
        let unchanged =
            "\n- library: opencv\n  op: imdecode\n  params:\n    flags: -1\n  at: a.py:1\n";
        assert!(plan("", unchanged).keeps_opened_mode());
        assert_eq!(plan("", open).model_image_channels(), None);
    }

    #[test]
    fn the_input_goes_with_the_first_method_that_carries_a_body() {
        let entry = |methods: &[HttpMethod]| Entrypoint {
            kind: crate::ServingKind::Flask,
            file: "app.py".into(),
            handler: "predict".into(),
            route: None,
            methods: methods.to_vec(),
            workdir: None,
        };
        let (get, post) = (HttpMethod::Get, HttpMethod::Post);
        assert_eq!(entry(&[get, post]).input_method(), Some(post));
        assert_eq!(entry(&[get]).input_method(), Some(get));
        assert_eq!(entry(&[]).input_method(), None);
    }

    #[test]
    fn without_a_reshape_a_client_sends_the_models_shape() {
        let shape = "  shape: [1, 4]\n";
        assert_eq!(plan(shape, " []\n").client_array_shape(), Some(vec![1, 4]));
        assert_eq!(plan("", " []\n").client_array_shape(), None);
    }
}
