//! The inference pipeline of a service as found in its code: how the model is loaded, the
//! preprocessing chain, the postprocessing and the serving layer.

pub(crate) mod detect;
pub mod libraries;
pub(crate) mod recommend;
pub mod tables;

pub(crate) use detect::PipelineDetector;

use std::collections::BTreeMap;
use wasm_migrate_plan::KnownOp;

use serde::{Deserialize, Serialize};

use crate::python::Value;
use crate::report::Location;

pub use wasm_migrate_plan::{Framework, InputKind, ServingKind, StepLibrary};

/// A call that loads or builds a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelLoad {
    pub framework: Framework,
    /// The qualified function called (`torch.jit.load`).
    pub call: String,
    /// The artifact path or hub id, when it resolves to a literal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
    /// The architecture, when the call names one (`resnet18`, `MobileNetV2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// Literal keyword arguments of the call (`num_classes: 10`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Value>,
    pub location: Location,
}

/// One step of the preprocessing or postprocessing chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub library: StepLibrary,
    /// The operation, named as the library names it (`Resize`, `convert`, `astype`,
    /// `preprocess_input`, `cvtColor`, `softmax`).
    pub op: String,
    /// Every argument with its resolved value: positional ones as `arg0`, `arg1`...
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Value>,
    /// The function the step is in (`predict`, `ImageClassifierHandler.preprocess`,
    /// `<module>`), to tell chains apart.
    pub scope: String,
    /// For a step inside `transform = Compose([...])`: the composition's variable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composed_in: Option<String>,
    /// Whether that composition is never applied anywhere in the service.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub composition_unused: bool,
    /// Where the composition is applied (`transform(image)`), which decides the step's place
    /// in the chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<Location>,
    pub location: Location,
    /// Where the step runs in execution order, outermost call first: the route's call of a
    /// helper, the helper's call of a method, the step itself. Filled service-wide.
    #[serde(skip)]
    pub order: Vec<OrderKey>,
    /// The function the step is written in, when `scope` is where it is applied instead (a
    /// composition built in `__init__` and applied in `predict`).
    #[serde(skip)]
    pub written_in: Option<String>,
}

impl Step {
    /// A step written at `location` in `scope`, before placement puts it in execution order.
    pub fn new(
        library: StepLibrary,
        op: &str,
        params: BTreeMap<String, Value>,
        scope: String,
        location: Location,
    ) -> Self {
        Step {
            library,
            op: op.to_string(),
            params,
            scope,
            composed_in: None,
            composition_unused: false,
            applied_at: None,
            location,
            order: Vec::new(),
            written_in: None,
        }
    }

    /// Where the step runs: where its composition is applied, else where it is written.
    pub fn runs_at(&self) -> &Location {
        self.applied_at.as_ref().unwrap_or(&self.location)
    }

    /// Training-time augmentation: random by design, never part of inference.
    pub fn is_augmentation(&self) -> bool {
        tables::tables().augmentation.covers(self.library, &self.op)
    }
}

impl Step {
    /// What the step is, where a stage gives it a meaning (`wasm_migrate_plan::KnownOp`).
    pub fn known(&self) -> Option<KnownOp> {
        KnownOp::of(self.library, &self.op)
    }

    /// Whether the step is `op`.
    pub fn is(&self, op: KnownOp) -> bool {
        self.known() == Some(op)
    }

    pub fn param(&self, name: &str) -> Option<&Value> {
        self.params.get(name)
    }
}

/// An HTTP route or handler entry point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub kind: ServingKind,
    /// HTTP methods (`POST`), empty for handlers and scripts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    /// The route path (`/predict`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The handler function or class (`predict`, `ImageClassifierHandler`).
    pub handler: String,
    /// For TorchServe handler classes: the methods defined (initialize, preprocess...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handler_methods: Vec<String>,
    pub location: Location,
    /// The router or blueprint the route is on (`routes.router`: the module's file stem and
    /// the variable), whose mount prefix the service may add elsewhere.
    #[serde(skip)]
    pub router: Option<String>,
}

/// `app.include_router(router, prefix="/api")`, `app.register_blueprint(bp, url_prefix=...)`:
/// a prefix added to every route of a router where the app mounts it.
#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    /// The router as named at the mount (`catdog.api.routes.router`, or `bp`).
    pub target: String,
    pub prefix: String,
    pub file: String,
}

/// A position in a file, in execution order: end line, end column, then the start reversed
/// (see `detect::order_key`).
pub type OrderKey = (u32, u32, u32, u32);

/// Everything detected about the inference path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    pub models: Vec<ModelLoad>,
    pub preprocessing: Vec<Step>,
    pub postprocessing: Vec<Step>,
    pub serving: Vec<Endpoint>,
    /// Label files the code reads (`labels.txt`, `index_to_name.json`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub label_files: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_kind: Option<InputKind>,
    /// Steps a library does inside a call the service makes, which the plan cannot list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hidden: Vec<HiddenSteps>,
    /// Functions whose callers' arguments would name what this file leaves open (a model's
    /// architecture passed in as a parameter: `def load_model(name): timm.create_model(name)`).
    #[serde(skip)]
    pub wants_arguments_of: Vec<String>,
    /// Training-data classes (`torch.utils.data.Dataset`, `keras.utils.Sequence`
    /// subclasses) by file and name: their steps feed training or evaluation, unless the
    /// serving path calls them.
    #[serde(skip)]
    pub data_classes: Vec<(String, String)>,
    /// Where the service calls its model (`model(x)`, `session.run(...)`), placed like the
    /// steps: what a handler does after it is not preprocessing.
    #[serde(skip)]
    pub inference: Vec<InferenceCall>,
    #[serde(skip)]
    pub mounts: Vec<Mount>,
}

/// A call of the served model, in the function it runs in.
#[derive(Debug, Clone, PartialEq)]
pub struct InferenceCall {
    pub location: Location,
    pub scope: String,
    pub order: Vec<OrderKey>,
}

/// Preprocessing or postprocessing done inside a library call (`YOLO(...)(image)`,
/// `SentenceTransformer.encode`): what the knowledge base knows of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HiddenSteps {
    /// The library that hides them (`ultralytics`, `sentence-transformers`).
    pub library: String,
    /// What it does, as the knowledge base knows it, or what it depends on.
    pub steps: String,
    pub location: Location,
}

impl Pipeline {
    /// The framework of the first model found.
    pub fn framework(&self) -> Option<Framework> {
        self.models.first().map(|m| m.framework)
    }
}
