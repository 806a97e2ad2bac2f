//! Finding the inference pipeline in one file: model loading, preprocessing, postprocessing
//! and serving, with every parameter resolved.

use std::collections::BTreeMap;

use super::{
    Endpoint, Framework, HiddenSteps, ModelLoad, Mount, Pipeline, ServingKind, Step, StepLibrary,
    libraries,
};
use crate::python::{
    AspectSide, BinOpSite, CallSite, ClassSite, Context, FunctionSite, ImportSite, Observer,
    SliceCrop, Value,
};
use crate::report::Location;

/// Positional parameter names of torchvision transforms (v1 and v2 agree on these).
fn torchvision_params(op: &str) -> &'static [&'static str] {
    match op {
        "Resize" | "resize" => &["size", "interpolation", "max_size", "antialias"],
        "CenterCrop" | "center_crop" => &["size"],
        "Normalize" | "normalize" => &["mean", "std", "inplace"],
        "Grayscale" => &["num_output_channels"],
        "Pad" | "pad" => &["padding", "fill", "padding_mode"],
        "ConvertImageDtype" | "convert_image_dtype" => &["dtype"],
        "ToDtype" => &["dtype", "scale"],
        "RandomResizedCrop" => &["size", "scale", "ratio", "interpolation", "antialias"],
        _ => &[],
    }
}

/// Keras application modules and the `preprocess_input` mode each uses.
fn keras_preprocess_mode(module: &str) -> &'static str {
    match module {
        "mobilenet"
        | "mobilenet_v2"
        | "inception_v3"
        | "xception"
        | "nasnet"
        | "inception_resnet_v2"
        | "resnet_v2" => "tf",
        "resnet" | "resnet50" | "vgg16" | "vgg19" => "caffe",
        "densenet" => "torch",
        // These models carry their own preprocessing; preprocess_input passes through.
        "efficientnet" | "efficientnet_v2" | "convnext" | "regnet" | "mobilenet_v3" => {
            "passthrough"
        }
        _ => "caffe",
    }
}

// Called for every call in every file: no allocation.
fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text.as_bytes()[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

fn contains_ignore_case(text: &str, needle: &str) -> bool {
    text.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// What one file contributes to the service's pipeline.
pub(crate) struct FileFacts {
    pub pipeline: Pipeline,
    pub main_guard: Option<Location>,
    pub imported_calls: BTreeMap<String, (Location, String)>,
    /// Calls by the callee's last name (`predict` for `predictor.predict(x)`), with their
    /// scopes: how steps in a helper find where the helper runs.
    pub calls: CallsByName,
}

/// Call sites by the callee's last name, each with the scope it is in. Kept compact (no
/// file name or scope string per call): every call of every file passes through it.
#[derive(Debug, Default)]
pub(crate) struct CallsByName {
    /// The scopes calls are in, each once.
    scopes: Vec<String>,
    scope_ids: rustc_hash::FxHashMap<String, u32>,
    by_name: rustc_hash::FxHashMap<String, Vec<(CallSpan, u32)>>,
}

/// Where a call is in its file: line, column, end line, end column.
pub(crate) type CallSpan = (u32, u32, u32, u32);

impl CallsByName {
    pub(crate) fn record(&mut self, name: &str, span: CallSpan, scope: &str) {
        // Calls come function by function: the last scope is almost always the one.
        let scope = match self.scopes.last() {
            Some(last) if last == scope => (self.scopes.len() - 1) as u32,
            _ => match self.scope_ids.get(scope) {
                Some(&i) => i,
                None => {
                    self.scopes.push(scope.to_string());
                    let i = (self.scopes.len() - 1) as u32;
                    self.scope_ids.insert(scope.to_string(), i);
                    i
                }
            },
        };
        match self.by_name.get_mut(name) {
            Some(sites) if sites.len() >= CALLS_PER_NAME => {}
            Some(sites) => sites.push((span, scope)),
            None => {
                self.by_name.insert(name.to_string(), vec![(span, scope)]);
            }
        }
    }

    /// Whether `name` is called.
    pub(crate) fn calls(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// The calls of `name` in file `file`, each with its scope.
    pub(crate) fn calls_of<'s>(
        &'s self,
        file: &'s str,
        name: &str,
    ) -> impl Iterator<Item = (Location, &'s str)> + 's {
        self.by_name.get(name).into_iter().flatten().map(
            move |&((line, column, end_line, end_column), scope)| {
                let location = Location {
                    file: file.to_string(),
                    line,
                    column,
                    end_line: Some(end_line),
                    end_column: Some(end_column),
                };
                (location, self.scopes[scope as usize].as_str())
            },
        )
    }
}

/// The most call sites kept per name: the first ones are the ones placement uses.
const CALLS_PER_NAME: usize = 8;

/// Methods that run a model on their receiver (`model.predict(x)`, `session.run(...)`).
const INFERENCE_METHODS: &[&str] = &[
    "predict",
    "predict_proba",
    "predict_on_batch",
    "run",
    "invoke",
    "infer",
    "infer_new_request",
    "forward",
    "generate",
    "encode",
    "decision_function",
];

/// Top-level modules whose callables are APIs (`keras.Model`, `torch.nn.Module`), never a
/// model the service holds.
const FRAMEWORK_MODULES: &[&str] = &[
    "torch",
    "torchvision",
    "tensorflow",
    "keras",
    "tf_keras",
    "transformers",
    "onnxruntime",
    "openvino",
    "sklearn",
    "timm",
    "ultralytics",
    "numpy",
    "cv2",
    "PIL",
    "joblib",
    "pickle",
    "sentence_transformers",
    "mlflow",
    "tflite_runtime",
    "fastapi",
    "flask",
    "starlette",
];

/// Whether a name reads as a model held by the service (`model`, `ort_session`,
/// `self.classifier`), not as a function that loads or makes one.
fn names_a_model(name: &str) -> bool {
    let name = name.trim_start_matches('_');
    const VERBS: &[&str] = &[
        "load_",
        "get_",
        "build_",
        "create_",
        "make_",
        "init_",
        "train_",
        "save_",
        "export_",
        "set_",
        "setup_",
        "download_",
        "fetch_",
        "update_",
        "reload_",
        "prepare_",
        "warm",
    ];
    // Bytes, not `str` slices: a name may hold non-ASCII letters (`pöstal`).
    let bytes = name.as_bytes();
    let starts =
        |p: &str| bytes.len() >= p.len() && bytes[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    const NAMES: &[&str] = &[
        "model",
        "net",
        "session",
        "sess",
        "interpreter",
        "classifier",
        "detector",
        "predictor",
        "pipe",
        "nlp",
        "clf",
        "estimator",
        "learner",
        "engine",
    ];
    NAMES.iter().any(|n| {
        name.eq_ignore_ascii_case(n)
            || (ends_with_ignore_case(name, n)
                && bytes
                    .len()
                    .checked_sub(n.len() + 1)
                    .is_some_and(|i| bytes[i] == b'_'))
            || (starts(n) && bytes.get(n.len()) == Some(&b'_'))
    }) && !VERBS.iter().any(|v| starts(v))
}

/// Collects the pipeline facts of one file.
#[derive(Default)]
pub(crate) struct PipelineDetector {
    pub pipeline: Pipeline,
    imports_torch: bool,
    imports_numpy: bool,
    imports_pil: bool,
    imports_cv2: bool,
    imports_openvino: bool,
    imports_flask: bool,
    imports_fastapi: bool,
    imports_torchserve: bool,
    imports_tf: bool,
    /// Steps kept only when their scope has other preprocessing (numpy arithmetic, unsqueeze).
    contextual: Vec<Step>,
    pub has_main_guard: Option<Location>,
    /// `transform = transforms.Compose([...])`: the variable and the span of the call.
    compose_vars: Vec<(String, Location)>,
    /// Where each composed transform is first applied, with the scope it is applied in.
    compose_uses: BTreeMap<String, (Location, String)>,
    /// Names this file imports with `from ... import name`.
    imported_names: rustc_hash::FxHashSet<String>,
    /// First call of each imported name (a composition defined in another module, maybe).
    pub imported_calls: BTreeMap<String, (Location, String)>,
    /// `target = call(...)` assignments: the target and the call's span.
    assigned_calls: Vec<(String, Location)>,
    /// TorchServe handler classes: name, base class, methods, class attributes, location.
    torchserve_classes: Vec<TorchserveClass>,
    /// Calls by the callee's last name, for placing steps done in helpers.
    calls: CallsByName,
    /// Calls that may run a model: the name holding it (`model`, `session`), where, in
    /// which scope. Kept when that name holds a model this file loads or reads as one.
    inference_candidates: Vec<InferenceCandidate>,
    /// Names assigned a model this file loads (`model` of `model = torch.load(...)`).
    model_holders: rustc_hash::FxHashSet<String>,
    /// Names assigned a tokenizer this file loads (`tok` of `tok = AutoTokenizer...`).
    tokenizer_holders: rustc_hash::FxHashSet<String>,
    /// Names assigned a Hugging Face image processor this file loads.
    image_processor_holders: rustc_hash::FxHashSet<String>,
}

/// A call that may run a model: the name holding it (`model`, `session`), where, in which
/// scope, and the predictor settings passed (`imgsz=`, `conf=`, `iou=`).
struct InferenceCandidate {
    holder: String,
    /// The method called on the holder (`encode`), empty for a direct call.
    method: String,
    location: Location,
    scope: String,
    settings: BTreeMap<String, Value>,
}

/// A classification preset a library builds (torchvision weights, timm's data config).
struct Classification {
    resize: i64,
    crop: i64,
    bicubic: bool,
    /// Whether the preset says `antialias=True` itself (torchvision's presets do).
    antialias: bool,
    mean: [f64; 3],
    std: [f64; 3],
}

/// A TorchServe handler class, for what its base handler does that it does not override.
struct TorchserveClass {
    name: String,
    base: String,
    methods: Vec<String>,
    attributes: BTreeMap<String, Value>,
    location: Location,
}

/// Data arguments (the image or array being transformed) say nothing about the step.
const DATA_PARAMS: &[&str] = &[
    "src",
    "a",
    "x",
    "fp",
    "images",
    "img",
    "image",
    "input",
    "buf",
    "contents",
    "text",
    "text_pair",
    "data",
];

/// The last dotted name of an expression's text: `model` for `self.model`.
fn last_name(text: &str) -> &str {
    text.rsplit('.').next().unwrap_or(text).trim()
}

fn within(loc: &Location, span: &Location) -> bool {
    let start = (span.line, span.column);
    let end = (
        span.end_line.unwrap_or(span.line),
        span.end_column.unwrap_or(u32::MAX),
    );
    let at = (loc.line, loc.column);
    at >= start && at <= end
}

pub(crate) use super::OrderKey;

/// Execution order: an expression finishes after the ones inside it (`open(...).convert()`,
/// `(x - MEAN) / STD`, `f(g(x))`), so steps sort by where they end.
pub(crate) fn order_key(loc: &Location) -> OrderKey {
    (
        loc.end_line.unwrap_or(loc.line),
        loc.end_column.unwrap_or(loc.column),
        loc.line,
        loc.column,
    )
}

impl PipelineDetector {
    /// Finishes the file: contextual steps survive only next to real preprocessing.
    pub fn finish(mut self) -> FileFacts {
        self.torchserve_base_steps();
        self.truncation_lengths();
        // Steps of a composed transform run where the composition is applied, not where it
        // is defined: `transform = Compose([...])` at module level, `transform(image)` in the
        // handler after the image is opened.
        let mut keyed: Vec<(OrderKey, usize, Step)> = Vec::new();
        for (i, mut step) in self.pipeline.preprocessing.drain(..).enumerate() {
            let mut key = order_key(&step.location);
            if let Some((var, _)) = self
                .compose_vars
                .iter()
                .find(|(_, span)| within(&step.location, span))
            {
                step.composed_in = Some(var.clone());
                match self.compose_uses.get(var) {
                    Some((used_at, scope)) => {
                        key = order_key(used_at);
                        step.written_in = Some(std::mem::replace(&mut step.scope, scope.clone()));
                        step.applied_at = Some(used_at.clone());
                    }
                    // Maybe applied in another module that imports it: decided service-wide.
                    None => step.composition_unused = true,
                }
            }
            keyed.push((key, i, step));
        }
        let scopes: std::collections::HashSet<String> =
            keyed.iter().map(|(_, _, s)| s.scope.clone()).collect();
        let base = keyed.len();
        for (i, step) in std::mem::take(&mut self.contextual).into_iter().enumerate() {
            if scopes.contains(&step.scope) {
                keyed.push((order_key(&step.location), base + i, step));
            }
        }
        keyed.sort_by_key(|k| (k.0, k.1));
        self.pipeline.preprocessing = keyed.into_iter().map(|(_, _, s)| s).collect();
        self.pipeline
            .postprocessing
            .sort_by_key(|s| order_key(&s.location));
        self.pipeline.inference = self.inference_calls();
        FileFacts {
            pipeline: self.pipeline,
            main_guard: self.has_main_guard,
            imported_calls: self.imported_calls,
            calls: self.calls,
        }
    }

    /// `tokenizer(text, truncation=True)` cuts at the tokenizer's `model_max_length`, which
    /// its `from_pretrained(..., model_max_length=N)` sets.
    fn truncation_lengths(&mut self) {
        let Some(length) = self.pipeline.preprocessing.iter().find_map(|s| {
            (s.library == StepLibrary::Tokenizer && s.op.ends_with(".from_pretrained"))
                .then(|| s.params.get("model_max_length").cloned())
                .flatten()
        }) else {
            return;
        };
        for step in &mut self.pipeline.preprocessing {
            if step.library == StepLibrary::Tokenizer
                && !step.op.ends_with(".from_pretrained")
                && step.params.get("truncation") == Some(&Value::Bool(true))
                && !step.params.contains_key("max_length")
            {
                step.params.insert("max_length".into(), length.clone());
            }
        }
    }

    /// The candidates whose holder is a model: assigned from a model load in this file, or
    /// named like one (a model loaded in another module and imported here).
    fn inference_calls(&mut self) -> Vec<super::InferenceCall> {
        let holders_of = |models: &[&ModelLoad]| -> Vec<String> {
            self.assigned_calls
                .iter()
                .filter(|(_, span)| models.iter().any(|m| within(&m.location, span)))
                .map(|(target, _)| last_name(target).to_string())
                .collect()
        };
        let all: Vec<&ModelLoad> = self.pipeline.models.iter().collect();
        let loaded = holders_of(&all);
        let yolo: Vec<&ModelLoad> = all
            .iter()
            .copied()
            .filter(|m| m.call.starts_with("ultralytics."))
            .collect();
        let yolo_holders = holders_of(&yolo);
        let exported = yolo.iter().any(|m| m.framework != Framework::Pytorch);
        let by_call = |prefix: &str| -> Vec<&ModelLoad> {
            all.iter().copied().filter(|m| m.call == prefix).collect()
        };
        let sentence_holders = holders_of(&by_call("sentence_transformers.SentenceTransformer"));
        let pipelines = by_call("transformers.pipeline");
        let pipeline_holders = holders_of(&pipelines);
        let task = pipelines.first().and_then(|m| m.architecture.clone());
        let candidates = std::mem::take(&mut self.inference_candidates);
        let mut calls = Vec::new();
        for c in candidates {
            if !(loaded.contains(&c.holder) || names_a_model(&c.holder)) {
                continue;
            }
            if yolo_holders.contains(&c.holder) {
                self.ultralytics_steps(&c, exported);
            } else if sentence_holders.contains(&c.holder) && c.method == "encode" {
                self.sentence_transformers_steps(&c);
            } else if pipeline_holders.contains(&c.holder) && c.method.is_empty() {
                self.pipeline_steps(&c, task.as_deref());
            }
            calls.push(super::InferenceCall {
                location: c.location,
                scope: c.scope,
                order: Vec::new(),
            });
        }
        calls
    }

    /// A step a library does at a model call, placed at that call.
    fn step_at(
        call: &InferenceCandidate,
        library: StepLibrary,
        op: &str,
        params: Vec<(&str, Value)>,
    ) -> Step {
        let params = params.into_iter().map(|(k, v)| (k.to_string(), v));
        Step::new(
            library,
            op,
            params.collect(),
            call.scope.clone(),
            call.location.clone(),
        )
    }

    /// `model.encode(texts, normalize_embeddings=True)`: the model's tokenizer, then, after
    /// the transformer, the pooling of its modules.json (mean for most models) and the L2
    /// normalisation when asked for.
    fn sentence_transformers_steps(&mut self, call: &InferenceCandidate) {
        let tokenize = Self::step_at(
            call,
            StepLibrary::Tokenizer,
            "__call__",
            vec![("truncation", Value::Bool(true))],
        );
        self.pipeline.preprocessing.push(tokenize);
        self.pipeline.postprocessing.push(Self::step_at(
            call,
            StepLibrary::SentenceTransformers,
            "mean_pooling",
            vec![(
                "pooling",
                Value::Expr {
                    expr: "the pooling mode of the model's modules.json (mean for most models)"
                        .into(),
                },
            )],
        ));
        if call.settings.get("normalize_embeddings") == Some(&Value::Bool(true)) {
            self.pipeline.postprocessing.push(Self::step_at(
                call,
                StepLibrary::SentenceTransformers,
                "normalize",
                vec![("p", Value::Int(2))],
            ));
        }
        self.pipeline
            .hidden
            .retain(|h| h.library != "sentence-transformers");
    }

    /// `classifier(text)` of a `transformers.pipeline`: its tokenizer with the call's
    /// truncation and padding; for classification tasks, softmax and the labels of
    /// config.json's id2label.
    fn pipeline_steps(&mut self, call: &InferenceCandidate, task: Option<&str>) {
        let text_task = matches!(
            task,
            Some(
                "sentiment-analysis"
                    | "text-classification"
                    | "zero-shot-classification"
                    | "token-classification"
                    | "ner"
                    | "feature-extraction"
                    | "fill-mask"
                    | "question-answering"
            )
        );
        if !text_task {
            return;
        }
        let params: Vec<(&str, Value)> = ["truncation", "max_length", "padding"]
            .into_iter()
            .filter_map(|k| call.settings.get(k).map(|v| (k, v.clone())))
            .collect();
        let tokenize = Self::step_at(call, StepLibrary::Tokenizer, "__call__", params);
        self.pipeline.preprocessing.push(tokenize);
        if matches!(task, Some("sentiment-analysis" | "text-classification")) {
            let mut post = vec![Self::step_at(
                call,
                StepLibrary::Torch,
                "softmax",
                vec![("dim", Value::Int(-1))],
            )];
            if let Some(k) = call.settings.get("top_k") {
                post.push(Self::step_at(
                    call,
                    StepLibrary::Torch,
                    "topk",
                    vec![("k", k.clone())],
                ));
            }
            self.pipeline.postprocessing.extend(post);
        }
        self.pipeline
            .hidden
            .retain(|h| h.library != "transformers.pipeline");
    }

    /// What ultralytics' predictor does around `model(image)`, from the knowledge base:
    /// letterbox, BGR to RGB, divide by 255; after the model, confidence filter and NMS.
    fn ultralytics_steps(&mut self, call: &InferenceCandidate, exported: bool) {
        let new_shape = match call.settings.get("imgsz") {
            Some(v) => v.clone(),
            // An exported model (ONNX, OpenVINO) runs at the size it was exported with,
            // which its metadata holds and the code does not.
            None if exported => Value::Expr {
                expr: "the exported model's imgsz (in its metadata)".into(),
            },
            None => Value::Int(640),
        };
        let step = |op: &str, params| Self::step_at(call, StepLibrary::Ultralytics, op, params);
        // `auto` pads to a multiple of the stride only, which ultralytics does for PyTorch
        // weights; exported models take the full square.
        self.pipeline.preprocessing.extend([
            step(
                "letterbox",
                vec![
                    ("new_shape", new_shape),
                    ("color", Value::Int(114)),
                    ("auto", Value::Bool(!exported)),
                ],
            ),
            step("bgr-to-rgb", vec![]),
            step("divide", vec![("value", Value::Int(255))]),
        ]);
        let setting = |k: &str, default: f64| {
            call.settings
                .get(k)
                .cloned()
                .unwrap_or(Value::Float(default))
        };
        self.pipeline.postprocessing.push(step(
            "nms",
            vec![
                ("conf", setting("conf", 0.25)),
                ("iou", setting("iou", 0.7)),
            ],
        ));
        self.pipeline.hidden.retain(|h| h.library != "ultralytics");
    }

    /// Remembers where a call runs, by the callee's last name, and whether it may run a model.
    fn record_call(&mut self, site: &CallSite<'_, '_>, loads_model: bool) {
        let callee = site.callee_text();
        let last = last_name(callee);
        if last.is_empty() || !last.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return;
        }
        self.calls.record(last, site.span(), &site.scope);
        // A model's own `forward` calls its layers, and a constructor's call is a warm-up:
        // neither is the service calling its model on a request.
        let inside_model = site.scope.ends_with(".forward") || site.scope.ends_with("__init__");
        // A name imported from the service's own modules (`from .model import model`)
        // resolves too; one from a framework is an API, not a model held by the service.
        let framework_api = site
            .qualified
            .as_deref()
            .is_some_and(|q| FRAMEWORK_MODULES.contains(&q.split('.').next().unwrap_or(q)));
        if loads_model || framework_api || inside_model {
            return;
        }
        // `model.predict(x)` is held by `model`; `model(x)` or `self.model(x)` by `model`.
        let (holder, method) = match site.receiver_text() {
            Some(receiver) if INFERENCE_METHODS.contains(&last) => (last_name(receiver), last),
            _ => (last, ""),
        };
        if !holder.is_empty() && (self.model_holders.contains(holder) || names_a_model(holder)) {
            let mut settings = BTreeMap::new();
            for key in [
                "imgsz",
                "conf",
                "iou",
                "normalize_embeddings",
                "truncation",
                "max_length",
                "padding",
                "top_k",
            ] {
                if let Some(v) = site.arg(None, Some(key)) {
                    settings.insert(key.to_string(), v);
                }
            }
            self.inference_candidates.push(InferenceCandidate {
                holder: holder.to_string(),
                method: method.to_string(),
                location: site.location(),
                scope: site.scope.clone(),
                settings,
            });
        }
    }

    /// Steps a library does inside `site` that the plan cannot list.
    fn hidden(&mut self, library: &str, site: &CallSite<'_, '_>) {
        self.pipeline.hidden.push(HiddenSteps {
            library: library.to_string(),
            steps: libraries::hidden_steps(library).to_string(),
            location: site.location(),
        });
    }

    /// `weights.transforms()`: torchvision's preset for those weights, composed into the
    /// variable it is assigned to, else a hidden step.
    fn weights_preset(&mut self, symbol: &str, site: &CallSite<'_, '_>) {
        let Some(preset) = libraries::classification_preset(symbol) else {
            self.pipeline.hidden.push(HiddenSteps {
                library: "torchvision".to_string(),
                steps: format!("the preset of {symbol}, which the knowledge base does not list"),
                location: site.location(),
            });
            return;
        };
        self.classification_steps(
            site,
            &Classification {
                resize: preset.resize,
                crop: preset.crop,
                bicubic: preset.bicubic,
                antialias: true,
                mean: libraries::IMAGENET_MEAN,
                std: libraries::IMAGENET_STD,
            },
        );
    }

    /// `create_transform(**resolve_data_config(model))` for evaluation: the architecture's
    /// default config from the knowledge base, with the values the call sets itself.
    fn timm_transform(&mut self, site: &CallSite<'_, '_>) {
        if site.arg(None, Some("is_training")) == Some(Value::Bool(true)) {
            return;
        }
        let architecture = self
            .pipeline
            .models
            .iter()
            .rev()
            .filter(|m| m.call == "timm.create_model")
            .find_map(|m| m.architecture.clone());
        let Some(mut config) = architecture.as_deref().and_then(libraries::timm_default) else {
            self.hidden("timm", site);
            return;
        };
        let floats3 = |v: Value| -> Option<[f64; 3]> {
            let Value::List(items) = v else { return None };
            let f: Vec<f64> = items.iter().filter_map(Value::as_f64).collect();
            <[f64; 3]>::try_from(f).ok()
        };
        if let Some(Value::List(size)) = site.arg(None, Some("input_size"))
            && let Some(Value::Int(h)) = size.last()
        {
            config.size = *h;
        }
        if let Some(pct) = site.arg(None, Some("crop_pct")).and_then(|v| v.as_f64()) {
            config.crop_pct = pct;
        }
        if let Some(Value::Str(i)) = site.arg(None, Some("interpolation")) {
            config.bicubic = i == "bicubic";
        }
        if let Some(mean) = site.arg(None, Some("mean")).and_then(floats3) {
            config.mean = mean;
        }
        if let Some(std) = site.arg(None, Some("std")).and_then(floats3) {
            config.std = std;
        }
        self.classification_steps(
            site,
            &Classification {
                resize: config.scale_size(),
                crop: config.size,
                bicubic: config.bicubic,
                antialias: false,
                mean: config.mean,
                std: config.std,
            },
        );
    }

    /// Resize -> CenterCrop -> ToTensor -> Normalize that a library builds at `site`, composed
    /// into the variable the call is assigned to, so they run where it is applied.
    fn classification_steps(&mut self, site: &CallSite<'_, '_>, c: &Classification) {
        let location = site.location();
        if let Some((target, _)) = self.assigned_calls.iter().find(|(_, l)| *l == location) {
            self.compose_vars.push((target.clone(), location));
        }
        let interpolation = if c.bicubic { "BICUBIC" } else { "BILINEAR" };
        let floats = |v: [f64; 3]| Value::List(v.iter().map(|x| Value::Float(*x)).collect());
        let mut resize = vec![
            ("size", Value::Int(c.resize)),
            (
                "interpolation",
                Value::Symbol {
                    symbol: format!("torchvision.transforms.InterpolationMode.{interpolation}"),
                },
            ),
        ];
        if c.antialias {
            resize.push(("antialias", Value::Bool(true)));
        }
        let steps = [
            ("Resize", resize),
            ("CenterCrop", vec![("size", Value::Int(c.crop))]),
            ("ToTensor", vec![]),
            (
                "Normalize",
                vec![("mean", floats(c.mean)), ("std", floats(c.std))],
            ),
        ];
        for (op, params) in steps {
            let params = params
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            let step = self.step(StepLibrary::Torchvision, op, params, site);
            self.pipeline.preprocessing.push(step);
        }
    }

    /// What TorchServe's base handlers do for a subclass that does not override it:
    /// `ImageClassifier`'s Resize(256) / CenterCrop(224) / ToTensor / Normalize and its
    /// softmax + top-k, a `VisionHandler` subclass's `image_processing`, and the model the
    /// base handler loads from the archive.
    fn torchserve_base_steps(&mut self) {
        let classes = std::mem::take(&mut self.torchserve_classes);
        for class in &classes {
            let has = |m: &str| class.methods.iter().any(|x| x == m);
            let scope = format!("{}.preprocess", class.name);
            if self.pipeline.models.is_empty() {
                self.pipeline.models.push(ModelLoad {
                    framework: Framework::Pytorch,
                    call: "ts.torch_handler.base_handler.BaseHandler.initialize".to_string(),
                    artifact: None,
                    architecture: None,
                    params: BTreeMap::new(),
                    location: class.location.clone(),
                });
            }
            let vision = matches!(class.base.as_str(), "ImageClassifier" | "VisionHandler");
            if !vision || has("preprocess") {
                continue;
            }
            if let Some((var, _)) = self
                .compose_vars
                .iter()
                .find(|(v, _)| v == "image_processing" || v == "self.image_processing")
            {
                let var = var.clone();
                self.compose_uses
                    .entry(var)
                    .or_insert((class.location.clone(), scope));
            } else if class.base == "ImageClassifier" {
                self.image_classifier_steps(class, &scope);
            } else {
                self.pipeline.hidden.push(HiddenSteps {
                    library: "torchserve".to_string(),
                    steps: libraries::hidden_steps("torchserve").to_string(),
                    location: class.location.clone(),
                });
            }
        }
    }

    fn image_classifier_steps(&mut self, class: &TorchserveClass, scope: &str) {
        let floats = |v: [f64; 3]| Value::List(v.iter().map(|x| Value::Float(*x)).collect());
        let step = |library, op: &str, params: Vec<(&str, Value)>| {
            let params = params.into_iter().map(|(k, v)| (k.to_string(), v));
            Step::new(
                library,
                op,
                params.collect(),
                scope.to_string(),
                class.location.clone(),
            )
        };
        self.pipeline.preprocessing.extend([
            step(StepLibrary::Pil, "open", vec![]),
            step(
                StepLibrary::Torchvision,
                "Resize",
                vec![("size", Value::Int(256))],
            ),
            step(
                StepLibrary::Torchvision,
                "CenterCrop",
                vec![("size", Value::Int(224))],
            ),
            step(StepLibrary::Torchvision, "ToTensor", vec![]),
            step(
                StepLibrary::Torchvision,
                "Normalize",
                vec![
                    ("mean", floats(libraries::IMAGENET_MEAN)),
                    ("std", floats(libraries::IMAGENET_STD)),
                ],
            ),
        ]);
        if !class.methods.iter().any(|m| m == "postprocess") {
            let k = class
                .attributes
                .get("topk")
                .cloned()
                .unwrap_or(Value::Int(5));
            self.pipeline.postprocessing.extend([
                step(StepLibrary::Torch, "softmax", vec![("dim", Value::Int(1))]),
                step(StepLibrary::Torch, "topk", vec![("k", k)]),
            ]);
            if !self
                .pipeline
                .label_files
                .iter()
                .any(|l| l == "index_to_name.json")
            {
                self.pipeline
                    .label_files
                    .push("index_to_name.json".to_string());
            }
        }
    }

    fn step(
        &mut self,
        library: StepLibrary,
        op: &str,
        mut params: BTreeMap<String, Value>,
        site: &CallSite<'_, '_>,
    ) -> Step {
        params.retain(|k, v| {
            v.is_literal() || !(DATA_PARAMS.contains(&k.as_str()) || k.starts_with("arg"))
        });
        // A step done only sometimes (`if image.mode != "RGB": image = image.convert("RGB")`)
        // says when; the request's method is routing, not a condition on the data.
        if let Some(condition) = site.condition()
            && !condition.contains("request.method")
        {
            params.insert("when".to_string(), Value::Str(condition));
        }
        Step::new(library, op, params, site.scope.clone(), site.location())
    }

    fn model(
        &mut self,
        framework: Framework,
        site: &CallSite<'_, '_>,
        artifact: Option<Value>,
        architecture: Option<String>,
    ) {
        let mut params = site.all_args();
        params.retain(|k, v| !k.starts_with("arg") && v.is_literal());
        self.pipeline.models.push(ModelLoad {
            framework,
            call: site
                .qualified
                .clone()
                .unwrap_or_else(|| site.callee_text().to_string()),
            artifact: artifact.and_then(|v| v.as_str().map(str::to_string)),
            architecture,
            params,
            location: site.location(),
        });
        if let Some(holder) = self.holder_of(site) {
            self.model_holders.insert(holder);
        }
    }

    /// The architecture a model call names, or, when it is a parameter of the function the
    /// call is in, a note that the function's callers would name it.
    fn architecture(
        &mut self,
        site: &CallSite<'_, '_>,
        position: usize,
        keyword: &str,
    ) -> Option<String> {
        let arch = site
            .arg(Some(position), Some(keyword))
            .and_then(|v| v.as_str().map(str::to_string));
        if arch.is_none()
            && let Some(function) = site.forwarded_from(Some(position), Some(keyword))
            && !self
                .pipeline
                .wants_arguments_of
                .iter()
                .any(|f| f == function)
        {
            self.pipeline.wants_arguments_of.push(function.to_string());
        }
        arch
    }

    /// The last name of the target a call's result is assigned to (`model` of
    /// `self.model = load(...)`).
    fn holder_of(&self, site: &CallSite<'_, '_>) -> Option<String> {
        let location = site.location();
        self.assigned_calls
            .iter()
            .rev()
            .find(|(_, span)| within(&location, span))
            .map(|(target, _)| last_name(target).to_string())
    }

    /// `processor(images=image, return_tensors="pt")`: the processor's steps, written out
    /// service-wide from its preprocessor_config.json; until then (or without one) hidden.
    fn image_processor_call(&mut self, site: &CallSite<'_, '_>) {
        let params = Self::named_params(site, &["images"]);
        let step = self.step(StepLibrary::Transformers, "__call__", params, site);
        self.pipeline.preprocessing.push(step);
        self.hidden("transformers.image_processor", site);
    }

    /// A call of a tokenizer: by its name (`tokenizer(text)`) or by the name this file
    /// assigned one to (`tok = AutoTokenizer.from_pretrained(...)`; `tok(text)`).
    fn calls_a_tokenizer(&self, callee: &str) -> bool {
        ends_with_ignore_case(callee, "tokenizer")
            || self.tokenizer_holders.contains(last_name(callee))
    }

    fn named_params(site: &CallSite<'_, '_>, names: &[&str]) -> BTreeMap<String, Value> {
        let mut params = BTreeMap::new();
        for (k, v) in site.all_args() {
            let key = match k.strip_prefix("arg").and_then(|i| i.parse::<usize>().ok()) {
                Some(i) => names.get(i).map(|n| n.to_string()).unwrap_or(k),
                None => k,
            };
            params.insert(key, v);
        }
        params
    }

    fn model_call(&mut self, q: &str, site: &CallSite<'_, '_>) -> bool {
        let arg0 = || site.arg(Some(0), None);
        let parts: Vec<&str> = q.split('.').collect();
        match q {
            "torch.load" => {
                self.model(Framework::Pytorch, site, site.arg(Some(0), Some("f")), None)
            }
            "torch.jit.load" => self.model(
                Framework::Torchscript,
                site,
                site.arg(Some(0), Some("f")),
                None,
            ),
            "torch.hub.load" => {
                let arch = self.architecture(site, 1, "model");
                self.model(Framework::Pytorch, site, arg0(), arch)
            }
            "timm.create_model" => {
                let arch = self.architecture(site, 0, "model_name");
                self.model(
                    Framework::Pytorch,
                    site,
                    site.arg(None, Some("checkpoint_path")),
                    arch,
                )
            }
            "torchvision.models.get_model" => {
                let arch = self.architecture(site, 0, "name");
                self.model(Framework::Pytorch, site, None, arch)
            }
            "tensorflow.keras.models.load_model"
            | "keras.models.load_model"
            | "keras.saving.load_model"
            | "tensorflow.keras.saving.load_model"
            | "tf_keras.models.load_model" => self.model(
                Framework::Keras,
                site,
                site.arg(Some(0), Some("filepath")),
                None,
            ),
            "tensorflow.saved_model.load" => self.model(
                Framework::Tensorflow,
                site,
                site.arg(Some(0), Some("export_dir")),
                None,
            ),
            "tensorflow.lite.Interpreter"
            | "tflite_runtime.interpreter.Interpreter"
            | "tensorflow.lite.python.interpreter.Interpreter" => self.model(
                Framework::Tflite,
                site,
                site.arg(Some(0), Some("model_path")),
                None,
            ),
            "onnxruntime.InferenceSession" => self.model(
                Framework::Onnx,
                site,
                site.arg(Some(0), Some("path_or_bytes")),
                None,
            ),
            "openvino.compile_model"
            | "openvino.Core.read_model"
            | "openvino.runtime.Core.read_model" => self.model(
                Framework::Openvino,
                site,
                site.arg(Some(0), Some("model")),
                None,
            ),
            "sentence_transformers.SentenceTransformer" => {
                self.hidden("sentence-transformers", site);
                self.model(
                    Framework::SentenceTransformers,
                    site,
                    site.arg(Some(0), Some("model_name_or_path")),
                    None,
                )
            }
            "transformers.pipeline" => {
                self.hidden("transformers.pipeline", site);
                let task = site
                    .arg(Some(0), Some("task"))
                    .and_then(|v| v.as_str().map(str::to_string));
                self.model(
                    Framework::Transformers,
                    site,
                    site.arg(Some(1), Some("model")),
                    task,
                )
            }
            "ultralytics.YOLO" | "ultralytics.RTDETR" | "ultralytics.models.YOLO" => {
                let artifact = site.arg(Some(0), Some("model"));
                let path = artifact.as_ref().and_then(Value::as_str).unwrap_or("");
                let framework = match path.rsplit('.').next() {
                    Some("onnx") => Framework::Onnx,
                    Some("torchscript") => Framework::Torchscript,
                    Some("tflite") => Framework::Tflite,
                    _ if path.contains("openvino") => Framework::Openvino,
                    _ => Framework::Pytorch,
                };
                self.hidden("ultralytics", site);
                self.model(framework, site, artifact, Some("yolo".to_string()))
            }
            "mlflow.keras.load_model" | "mlflow.tensorflow.load_model" => {
                self.model(Framework::Keras, site, arg0(), None)
            }
            "mlflow.pytorch.load_model" => self.model(Framework::Pytorch, site, arg0(), None),
            "mlflow.sklearn.load_model" => self.model(Framework::Sklearn, site, arg0(), None),
            "mlflow.onnx.load_model" | "onnx.load" => {
                self.model(Framework::Onnx, site, arg0(), None)
            }
            "efficientnet_pytorch.EfficientNet.from_pretrained"
            | "efficientnet_pytorch.EfficientNet.from_name" => {
                let arch = arg0().and_then(|v| v.as_str().map(str::to_string));
                self.model(
                    Framework::Pytorch,
                    site,
                    site.arg(None, Some("weights_path")),
                    arch,
                )
            }
            "timm.data.create_transform" | "timm.data.transforms_factory.create_transform" => {
                self.timm_transform(site);
                return true;
            }
            // The config only feeds `create_transform`, which decides the steps.
            "timm.data.resolve_data_config"
            | "timm.data.resolve_model_data_config"
            | "timm.data.config.resolve_data_config" => return true,
            // A pickled estimator: `pickle.load(open("model.pkl", "rb"))`.
            "pickle.load" | "cloudpickle.load" | "dill.load"
                if site.arg_text(0).is_some_and(|t| {
                    contains_ignore_case(t, "model")
                        || contains_ignore_case(t, ".pkl")
                        || contains_ignore_case(t, "clf")
                }) =>
            {
                self.model(Framework::Sklearn, site, None, None)
            }
            "joblib.load" | "skops.io.load" => self.model(
                Framework::Sklearn,
                site,
                site.arg(Some(0), Some("filename")),
                None,
            ),
            _ if parts.len() == 3
                && parts[0] == "transformers"
                && parts[2] == "from_pretrained" =>
            {
                let class = parts[1];
                // `AutoConfig` and `GenerationConfig` read settings (labels), not weights.
                if class.ends_with("Config") {
                } else if class.contains("Tokenizer")
                    || class.contains("Processor")
                    || class.contains("FeatureExtractor")
                {
                    // An image processor's steps come from the model directory's
                    // preprocessor_config.json, read service-wide (`service/hf_config.rs`).
                    let image = is_image_processor(class);
                    let library = if image {
                        StepLibrary::Transformers
                    } else {
                        StepLibrary::Tokenizer
                    };
                    let params = Self::named_params(site, &["pretrained_model_name_or_path"]);
                    let step =
                        self.step(library, &format!("{class}.from_pretrained"), params, site);
                    self.pipeline.preprocessing.push(step);
                    if let Some(holder) = self.holder_of(site) {
                        let holders = if image {
                            &mut self.image_processor_holders
                        } else {
                            &mut self.tokenizer_holders
                        };
                        holders.insert(holder);
                    }
                } else {
                    self.model(
                        Framework::Transformers,
                        site,
                        site.arg(Some(0), Some("pretrained_model_name_or_path")),
                        Some(class.to_string()),
                    );
                }
            }
            _ if parts.len() == 3 && parts[0] == "torchvision" && parts[1] == "models" => {
                let name = parts[2];
                if !name.starts_with(|c: char| c.is_ascii_lowercase())
                    || name.starts_with("get_")
                    || name.ends_with("_weights")
                    || name == "list_models"
                {
                    return false;
                }
                self.model(Framework::Pytorch, site, None, Some(name.to_string()))
            }
            _ if (q.starts_with("tensorflow.keras.applications.")
                || q.starts_with("keras.applications."))
                && parts
                    .last()
                    .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_uppercase())) =>
            {
                self.model(
                    Framework::Keras,
                    site,
                    None,
                    parts.last().map(|s| s.to_string()),
                )
            }
            _ => return false,
        }
        true
    }

    fn preprocessing_call(&mut self, q: &str, site: &CallSite<'_, '_>) -> bool {
        let parts: Vec<&str> = q.split('.').collect();
        let last = *parts.last().unwrap_or(&"");
        if let Some(rest) = q.strip_prefix("torchvision.transforms.") {
            let op = rest
                .trim_start_matches("v2.")
                .trim_start_matches("functional.");
            if op.contains('.') || matches!(op, "Compose" | "InterpolationMode") || op.is_empty() {
                return matches!(op, "Compose");
            }
            let functional = rest.contains("functional.");
            let names: Vec<&str> = if functional {
                // torchvision.transforms.functional.* take the image first.
                std::iter::once("img")
                    .chain(torchvision_params(op).iter().copied())
                    .collect()
            } else {
                torchvision_params(op).to_vec()
            };
            let params = Self::named_params(site, &names);
            let step = self.step(StepLibrary::Torchvision, op, params, site);
            self.pipeline.preprocessing.push(step);
            return true;
        }
        if q.starts_with("albumentations.") {
            return self.albumentations_step(last, site);
        }
        // torchvision's own decoders give a uint8 CHW tensor, not a PIL image.
        if let Some(decoder) = q.strip_prefix("torchvision.io.")
            && matches!(
                decoder,
                "decode_image" | "decode_jpeg" | "decode_png" | "read_image" | "image.decode_image"
            )
        {
            let params = Self::named_params(site, &["input", "mode"]);
            let op = format!("io.{}", decoder.rsplit('.').next().unwrap_or(decoder));
            let step = self.step(StepLibrary::Torchvision, &op, params, site);
            self.pipeline.preprocessing.push(step);
            return true;
        }
        // scikit-image and SciPy resample and convert with their own numerics (skimage's
        // `resize` also rescales to [0, 1] floats): a step the knowledge base does not mirror.
        if [
            "skimage.transform.",
            "skimage.color.",
            "skimage.exposure.",
            "skimage.util.",
            "scipy.ndimage.zoom",
        ]
        .iter()
        .any(|p| q.starts_with(p))
        {
            self.hidden("scikit-image", site);
            return true;
        }
        let (library, op, names): (StepLibrary, &str, &[&str]) = match q {
            "PIL.Image.open" => (StepLibrary::Pil, "open", &["fp", "mode"]),
            "PIL.ImageOps.exif_transpose"
            | "PIL.ImageOps.fit"
            | "PIL.ImageOps.pad"
            | "PIL.ImageOps.grayscale" => (StepLibrary::Pil, last, &["image", "size", "method"]),
            "cv2.imdecode" => (StepLibrary::Opencv, "imdecode", &["buf", "flags"]),
            "cv2.imread" => (StepLibrary::Opencv, "imread", &["filename", "flags"]),
            "cv2.cvtColor" => (StepLibrary::Opencv, "cvtColor", &["src", "code"]),
            "cv2.resize" => (
                StepLibrary::Opencv,
                "resize",
                &["src", "dsize", "dst", "fx", "fy", "interpolation"],
            ),
            "cv2.dnn.blobFromImage" => (
                StepLibrary::Opencv,
                "blobFromImage",
                &["image", "scalefactor", "size", "mean", "swapRB", "crop"],
            ),
            // An array of literals is a constant (MEAN = np.array([...])), not a step.
            "numpy.asarray" | "numpy.array" | "numpy.frombuffer"
                if !site.arg(Some(0), Some("a")).is_some_and(|v| v.is_literal()) =>
            {
                (StepLibrary::Numpy, last, &["a", "dtype"])
            }
            "numpy.transpose" => (StepLibrary::Numpy, "transpose", &["a", "axes"]),
            "numpy.subtract" | "numpy.divide" | "numpy.multiply" | "numpy.true_divide" => (
                StepLibrary::Numpy,
                last.trim_start_matches("true_"),
                &["x1", "value"],
            ),
            "numpy.clip" => (StepLibrary::Numpy, "clip", &["a", "a_min", "a_max"]),
            "cv2.subtract" | "cv2.divide" | "cv2.multiply" => {
                (StepLibrary::Opencv, last, &["src1", "value"])
            }
            "cv2.flip" => (StepLibrary::Opencv, "flip", &["src", "flipCode"]),
            "cv2.copyMakeBorder" => (
                StepLibrary::Opencv,
                "copyMakeBorder",
                &[
                    "src",
                    "top",
                    "bottom",
                    "left",
                    "right",
                    "borderType",
                    "dst",
                    "value",
                ],
            ),
            "tensorflow.image.convert_image_dtype" => (
                StepLibrary::Tensorflow,
                "convert_image_dtype",
                &["image", "dtype", "saturate"],
            ),
            "tensorflow.io.decode_jpeg" | "tensorflow.io.decode_png" => (
                StepLibrary::Tensorflow,
                "decode_image",
                &["contents", "channels"],
            ),
            "torch.nn.functional.interpolate" => (
                StepLibrary::Torch,
                "interpolate",
                &[
                    "input",
                    "size",
                    "scale_factor",
                    "mode",
                    "align_corners",
                    "recompute_scale_factor",
                    "antialias",
                ],
            ),
            "numpy.expand_dims" => (StepLibrary::Numpy, "expand_dims", &["a", "axis"]),
            "tensorflow.image.resize" => (
                StepLibrary::Tensorflow,
                "image.resize",
                &[
                    "images",
                    "size",
                    "method",
                    "preserve_aspect_ratio",
                    "antialias",
                ],
            ),
            "tensorflow.image.decode_jpeg"
            | "tensorflow.image.decode_image"
            | "tensorflow.io.decode_image" => (
                StepLibrary::Tensorflow,
                "decode_image",
                &["contents", "channels"],
            ),
            "tensorflow.expand_dims" => {
                (StepLibrary::Tensorflow, "expand_dims", &["input", "axis"])
            }
            "tensorflow.cast" => (StepLibrary::Tensorflow, "cast", &["x", "dtype"]),
            "tensorflow.keras.utils.load_img"
            | "keras.utils.load_img"
            | "tensorflow.keras.preprocessing.image.load_img" => (
                StepLibrary::Keras,
                "load_img",
                &["path", "color_mode", "target_size", "interpolation"],
            ),
            "tensorflow.keras.utils.img_to_array"
            | "keras.utils.img_to_array"
            | "tensorflow.keras.preprocessing.image.img_to_array" => {
                (StepLibrary::Keras, "img_to_array", &["img"])
            }
            "torch.from_numpy" | "torch.unsqueeze" | "torch.stack" => {
                let step = self.step(StepLibrary::Torch, last, site.all_args(), site);
                self.contextual.push(step);
                return true;
            }
            _ if last == "preprocess_input" && (q.contains(".applications.")) => {
                let module = parts
                    .get(parts.len().saturating_sub(2))
                    .copied()
                    .unwrap_or("");
                let mut params = Self::named_params(site, &["x", "data_format", "mode"]);
                let mode = params
                    .get("mode")
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| keras_preprocess_mode(module).to_string());
                params.insert("mode".into(), Value::Str(mode));
                params.insert("application".into(), Value::Str(module.to_string()));
                let step = self.step(StepLibrary::Keras, "preprocess_input", params, site);
                self.pipeline.preprocessing.push(step);
                return true;
            }
            _ => return false,
        };
        let mut params = Self::named_params(site, names);
        if q == "cv2.resize" {
            hand_written_resize(site, &mut params, "dsize", 1);
        }
        let step = self.step(library, op, params, site);
        self.pipeline.preprocessing.push(step);
        true
    }

    fn postprocessing_call(&mut self, q: &str, site: &CallSite<'_, '_>) -> bool {
        let op = match q {
            "torch.softmax"
            | "torch.nn.functional.softmax"
            | "scipy.special.softmax"
            | "tensorflow.nn.softmax"
            | "tensorflow.keras.activations.softmax" => "softmax",
            "torch.sigmoid"
            | "torch.nn.functional.sigmoid"
            | "tensorflow.nn.sigmoid"
            | "tensorflow.sigmoid"
            | "scipy.special.expit" => "sigmoid",
            "torch.argmax" | "numpy.argmax" | "tensorflow.argmax" | "tensorflow.math.argmax" => {
                "argmax"
            }
            "torch.topk" | "tensorflow.math.top_k" | "tensorflow.nn.top_k" => "topk",
            // Keras' ImageNet labels (fetched from storage.googleapis.com on first use).
            _ if q.ends_with(".decode_predictions")
                && (q.starts_with("keras.") || q.starts_with("tensorflow.keras.")) =>
            {
                "decode_predictions"
            }
            "numpy.argsort" => "argsort",
            "torch.max" => "max",
            _ => return false,
        };
        let library = if q.starts_with("torch") {
            StepLibrary::Torch
        } else if op == "decode_predictions" {
            StepLibrary::Keras
        } else if q.starts_with("tensorflow") {
            StepLibrary::Tensorflow
        } else {
            StepLibrary::Numpy
        };
        let names: &[&str] = match op {
            "topk" => &["input", "k", "dim"],
            "decode_predictions" => &["preds", "top"],
            _ if library == StepLibrary::Torch => &["input", "dim"],
            _ => &["x", "axis"],
        };
        let params = Self::named_params(site, names);
        let step = self.step(library, op, params, site);
        self.pipeline.postprocessing.push(step);
        true
    }

    fn method_call(&mut self, method: &str, site: &CallSite<'_, '_>) {
        let receiver = site.receiver_text().unwrap_or("");
        let tokenizer_like =
            ends_with_ignore_case(receiver, "tokenizer") || ends_with_ignore_case(receiver, "tok");
        match method {
            // A fitted scikit-learn transformer (`vectorizer.transform([text])`): its vocabulary,
            // weights or scaling live in the pickle, not in the code.
            "transform" | "fit_transform"
                if ["vector", "tfidf", "scaler", "encoder", "pca"]
                    .iter()
                    .any(|w| contains_ignore_case(site.receiver_text().unwrap_or(""), w)) =>
            {
                // A step of the chain whose parameters the plan cannot hold: listed, and
                // the plan marked incomplete.
                let step = self.step(StepLibrary::Sklearn, method, BTreeMap::new(), site);
                self.pipeline.preprocessing.push(step);
                self.hidden("sklearn", site);
            }
            "transforms" if site.positional_count() == 0 => {
                if let Some(Value::Symbol { symbol }) = site.receiver_value()
                    && symbol.contains("_Weights")
                {
                    self.weights_preset(&symbol, site);
                }
            }
            // A Keras model built in code and filled from a weights file.
            "load_weights" if self.imports_tf && self.pipeline.models.is_empty() => {
                let artifact = site.arg(Some(0), Some("filepath"));
                self.model(Framework::Keras, site, artifact, None);
            }
            "convert" if self.imports_pil => {
                let params = Self::named_params(site, &["mode"]);
                let step = self.step(StepLibrary::Pil, "convert", params, site);
                self.pipeline.preprocessing.push(step);
            }
            "resize" | "thumbnail" | "crop" if self.imports_pil && !tokenizer_like => {
                let mut params =
                    Self::named_params(site, &["size", "resample", "box", "reducing_gap"]);
                if method == "resize" {
                    hand_written_resize(site, &mut params, "size", 0);
                }
                let step = self.step(StepLibrary::Pil, method, params, site);
                self.pipeline.preprocessing.push(step);
            }
            "paste" if self.imports_pil => {
                // A letterbox's canvas; other pastes (overlays, watermarks) are not input.
                if let Some(paste) = site.centered_paste() {
                    let params = BTreeMap::from([
                        ("mode".to_string(), paste.mode),
                        ("canvas".to_string(), paste.canvas),
                        ("fill".to_string(), paste.fill),
                        ("centered".to_string(), Value::Bool(true)),
                    ]);
                    let step = self.step(StepLibrary::Pil, "paste", params, site);
                    self.pipeline.preprocessing.push(step);
                }
            }
            "astype" if self.imports_numpy => {
                let params = Self::named_params(site, &["dtype"]);
                let step = self.step(StepLibrary::Numpy, "astype", params, site);
                self.pipeline.preprocessing.push(step);
            }
            "transpose" if self.imports_numpy && site.positional_count() > 0 => {
                // `x.transpose(2, 0, 1)` and `x.transpose((2, 0, 1))` mean the same.
                let mut params = BTreeMap::new();
                let axes = if site.positional_count() > 1 {
                    Value::List(
                        (0..site.positional_count())
                            .filter_map(|i| site.arg(Some(i), None))
                            .collect(),
                    )
                } else {
                    site.arg(Some(0), Some("axes")).unwrap_or(Value::None)
                };
                params.insert("axes".to_string(), axes);
                let step = self.step(StepLibrary::Numpy, "transpose", params, site);
                self.contextual.push(step);
            }
            "unsqueeze" | "permute" if self.imports_torch => {
                let names: &[&str] = if method == "unsqueeze" {
                    &["dim"]
                } else {
                    &["dims"]
                };
                let params = Self::named_params(site, names);
                let step = self.step(StepLibrary::Torch, method, params, site);
                self.contextual.push(step);
            }
            _ if self.image_processor_holders.contains(method) => self.image_processor_call(site),
            _ if self.calls_a_tokenizer(method) && site.positional_count() > 0 => {
                let params = Self::named_params(site, &["text", "text_pair"]);
                let step = self.step(StepLibrary::Tokenizer, "__call__", params, site);
                self.pipeline.preprocessing.push(step);
            }
            "encode" | "encode_plus" | "batch_encode_plus" | "encode_batch" if tokenizer_like => {
                let params = Self::named_params(site, &["text"]);
                let step = self.step(StepLibrary::Tokenizer, method, params, site);
                self.pipeline.preprocessing.push(step);
            }
            // `out.max(1)` / `out.max(dim=1)` of a torch tensor gives the values and the
            // indices; a NumPy `.max()` alone is a score, not a class.
            "softmax" | "sigmoid" | "argmax" | "topk" | "argsort" | "max"
                if (self.imports_numpy
                    || self.imports_torch
                    || self.imports_tf
                    || method == "argmax")
                    && (method != "max"
                        || site.has_arg(None, Some("dim"))
                        || (self.imports_torch
                            && site.positional_count() == 1
                            && matches!(site.arg(Some(0), None), Some(Value::Int(_))))) =>
            {
                let library = if self.imports_torch {
                    StepLibrary::Torch
                } else {
                    StepLibrary::Numpy
                };
                let names: &[&str] = match method {
                    "topk" => &["k", "dim"],
                    _ if library == StepLibrary::Torch => &["dim"],
                    _ => &["axis"],
                };
                let params = Self::named_params(site, names);
                let step = self.step(library, method, params, site);
                self.pipeline.postprocessing.push(step);
            }
            "read_model" | "compile_model" if self.imports_openvino => {
                let artifact = site.arg(Some(0), Some("model"));
                if artifact.as_ref().is_some_and(|v| v.as_str().is_some()) || method == "read_model"
                {
                    self.model(Framework::Openvino, site, artifact, None);
                }
            }
            _ => {}
        }
    }

    /// An albumentations transform built into a composition (`A.Compose([A.Resize(224,
    /// 224), A.Normalize(), ToTensorV2()])`), with the library's defaults where they decide
    /// the numbers (Normalize's ImageNet mean and std and its 255 maximum, Resize's linear
    /// interpolation).
    fn albumentations_step(&mut self, op: &str, site: &CallSite<'_, '_>) -> bool {
        if op == "Compose" {
            return true;
        }
        if !op.starts_with(|c: char| c.is_ascii_uppercase()) {
            return false;
        }
        let names: &[&str] = match op {
            "Resize" | "CenterCrop" | "RandomCrop" => &["height", "width", "interpolation"],
            "Normalize" => &["mean", "std", "max_pixel_value"],
            "SmallestMaxSize" | "LongestMaxSize" => &["max_size", "interpolation"],
            "PadIfNeeded" => &[
                "min_height",
                "min_width",
                "pad_height_divisor",
                "pad_width_divisor",
                "position",
                "border_mode",
                "value",
            ],
            _ => &[],
        };
        let mut params = Self::named_params(site, names);
        let floats = |v: [f64; 3]| Value::List(v.iter().map(|x| Value::Float(*x)).collect());
        let defaults: Vec<(&str, Value)> = match op {
            "Normalize" => vec![
                ("mean", floats(libraries::IMAGENET_MEAN)),
                ("std", floats(libraries::IMAGENET_STD)),
                ("max_pixel_value", Value::Float(255.0)),
            ],
            "Resize" | "SmallestMaxSize" | "LongestMaxSize" => vec![(
                "interpolation",
                Value::Symbol {
                    symbol: "cv2.INTER_LINEAR".into(),
                },
            )],
            _ => Vec::new(),
        };
        for (key, value) in defaults {
            params.entry(key.to_string()).or_insert(value);
        }
        let step = self.step(StepLibrary::Albumentations, op, params, site);
        self.pipeline.preprocessing.push(step);
        true
    }

    /// What one call contributes: a model load, a step, a label file.
    /// `app.include_router(router, prefix=...)`, `app.register_blueprint(bp, url_prefix=...)`.
    fn mount(&mut self, site: &CallSite<'_, '_>) {
        let keyword = if site.method == Some("include_router") {
            "prefix"
        } else {
            "url_prefix"
        };
        let Some(prefix) = site
            .arg(None, Some(keyword))
            .and_then(|v| v.as_str().map(str::to_string))
        else {
            return;
        };
        let target = site
            .arg_qualified(Some(0), None)
            .or_else(|| site.arg_text(0).map(str::to_string));
        if let Some(target) = target {
            self.pipeline.mounts.push(Mount {
                target,
                prefix,
                file: site.location().file,
            });
        }
    }

    fn detect_call(&mut self, site: &CallSite<'_, '_>) {
        let callee = site.callee_text();
        if let Some((var, _)) = self.compose_vars.iter().find(|(v, _)| v == callee)
            && !self.compose_uses.contains_key(var)
        {
            self.compose_uses
                .insert(var.clone(), (site.location(), site.scope.clone()));
        }
        if self.imported_names.contains(callee) && !self.imported_calls.contains_key(callee) {
            self.imported_calls
                .insert(callee.to_string(), (site.location(), site.scope.clone()));
        }
        if matches!(site.method, Some("include_router" | "register_blueprint")) {
            self.mount(site);
            return;
        }
        match (&site.qualified, site.method) {
            (Some(q), _) => {
                if q == "open" || q == "pathlib.Path" {
                    self.label_file(site.arg(Some(0), Some("file")));
                    return;
                }
                if q == "os.path.join" && site.positional_count() > 0 {
                    self.label_file(site.arg(Some(site.positional_count() - 1), None));
                    return;
                }
                let known = self.model_call(q, site)
                    || self.preprocessing_call(q, site)
                    || self.postprocessing_call(q, site);
                // A tokenizer built in another module of the service and imported here
                // (`from app.models import tokenizer; tokenizer(text, ...)`).
                if !known
                    && ends_with_ignore_case(q, "tokenizer")
                    && !q.starts_with("transformers.")
                    && site.positional_count() > 0
                {
                    let params = Self::named_params(site, &["text", "text_pair"]);
                    let step = self.step(StepLibrary::Tokenizer, "__call__", params, site);
                    self.pipeline.preprocessing.push(step);
                }
            }
            (None, Some(method)) => self.method_call(method, site),
            (None, None)
                if site.getattr_owner().is_some_and(|o| {
                    matches!(
                        o.as_str(),
                        "torchvision.models"
                            | "timm"
                            | "tensorflow.keras.applications"
                            | "keras.applications"
                    )
                }) =>
            {
                // `getattr(torchvision.models, name)(pretrained=True)`: a model chosen by name.
                let framework = match site.getattr_owner().as_deref() {
                    Some("torchvision.models" | "timm") => Framework::Pytorch,
                    _ => Framework::Keras,
                };
                self.model(framework, site, None, None);
            }
            (None, None) if matches!(site.callee_text(), "softmax" | "sigmoid" | "argmax") => {
                // The service's own `def softmax(x)`: the same step, written out.
                let step = self.step(
                    StepLibrary::Numpy,
                    site.callee_text(),
                    BTreeMap::new(),
                    site,
                );
                self.pipeline.postprocessing.push(step);
            }
            (None, None) => {
                let callee = site.callee_text();
                if site.positional_count() > 0
                    && (contains_ignore_case(callee, "label")
                        || contains_ignore_case(callee, "class"))
                {
                    self.label_file(site.arg(Some(0), None));
                }
                if self.image_processor_holders.contains(last_name(callee)) {
                    self.image_processor_call(site);
                } else if self.calls_a_tokenizer(callee) && site.positional_count() > 0 {
                    let params = Self::named_params(site, &["text", "text_pair"]);
                    let step = self.step(StepLibrary::Tokenizer, "__call__", params, site);
                    self.pipeline.preprocessing.push(step);
                }
            }
        }
    }

    fn label_file(&mut self, value: Option<Value>) {
        let Some(Value::Str(path)) = value else {
            return;
        };
        let lower = path.to_ascii_lowercase();
        let named_like_labels = [
            "label",
            "class",
            "index_to_name",
            "synset",
            "categor",
            "id2label",
        ]
        .iter()
        .any(|k| lower.contains(k));
        let data_file = [".txt", ".json", ".csv", ".names"]
            .iter()
            .any(|e| lower.ends_with(e));
        if named_like_labels && data_file && !self.pipeline.label_files.contains(&path) {
            self.pipeline.label_files.push(path);
        }
    }
}

impl Observer for PipelineDetector {
    fn import(&mut self, _ctx: &Context<'_>, site: &ImportSite) {
        self.imported_names.extend(site.names.iter().cloned());
        let top = site.module.split('.').next().unwrap_or("");
        match top {
            "torch" | "torchvision" => self.imports_torch = true,
            "numpy" => self.imports_numpy = true,
            "PIL" => self.imports_pil = true,
            "cv2" => self.imports_cv2 = true,
            "openvino" => self.imports_openvino = true,
            "flask" => self.imports_flask = true,
            "fastapi" | "starlette" => self.imports_fastapi = true,
            "ts" => self.imports_torchserve = true,
            "tensorflow" | "keras" => self.imports_tf = true,
            _ => {}
        }
    }

    fn call(&mut self, site: &CallSite<'_, '_>) {
        let models_before = self.pipeline.models.len();
        self.detect_call(site);
        let loads_model = self.pipeline.models.len() > models_before;
        self.record_call(site, loads_model);
    }

    fn binop(&mut self, site: &BinOpSite) {
        if !self.imports_numpy {
            return;
        }
        // `1 / (1 + np.exp(-x))`: a sigmoid written out, after the model.
        if site.op == "div"
            && site.left.as_f64() == Some(1.0)
            && let Value::Expr { expr } = &site.right
            && expr.trim_start_matches('(').trim_start().starts_with("1 +")
            && expr.contains("exp(-")
        {
            self.pipeline.postprocessing.push(Step::new(
                StepLibrary::Numpy,
                "sigmoid",
                BTreeMap::new(),
                site.scope.clone(),
                site.location.clone(),
            ));
            return;
        }
        let op = match site.op {
            "div" => "divide",
            "sub" => "subtract",
            "mul" => "multiply",
            _ => "add",
        };
        let mut params = BTreeMap::new();
        let constant = if site.right.is_literal() {
            &site.right
        } else {
            &site.left
        };
        params.insert("value".to_string(), constant.clone());
        self.contextual.push(Step::new(
            StepLibrary::Numpy,
            op,
            params,
            site.scope.clone(),
            site.location.clone(),
        ));
    }

    fn center_crop_slice(&mut self, crop: &SliceCrop, location: Location, scope: &str) {
        let params = BTreeMap::from([
            (
                "center_crop".to_string(),
                Value::List(vec![Value::Int(crop.height), Value::Int(crop.width)]),
            ),
            (
                "offset".to_string(),
                Value::Str(crop.offset.as_str().to_string()),
            ),
        ]);
        self.contextual.push(Step::new(
            StepLibrary::Numpy,
            "slice",
            params,
            scope.to_string(),
            location,
        ));
    }

    fn channel_flip(&mut self, location: Location, scope: &str) {
        self.contextual.push(Step::new(
            StepLibrary::Numpy,
            "reverse_channels",
            BTreeMap::new(),
            scope.to_string(),
            location,
        ));
    }

    fn function(&mut self, site: &FunctionSite) {
        for d in &site.decorators {
            let Some(attr) = d.attr.as_deref() else {
                continue;
            };
            let http = matches!(
                attr,
                "route" | "get" | "post" | "put" | "delete" | "patch" | "api_route"
            );
            // `@app.route` on an app imported from the service's own package (the classic
            // Flask layout: `from webapp import app` in routes.py) resolves to a qualified
            // name; a library function named like a route (`requests.get`) is no decorator.
            let library = d.qualified.as_deref().is_some_and(|q| {
                let root = q.split('.').next().unwrap_or(q);
                matches!(
                    root,
                    "requests" | "httpx" | "urllib" | "aiohttp" | "functools"
                )
            });
            if !http || library {
                continue;
            }
            let kind = if self.imports_fastapi && !self.imports_flask {
                ServingKind::Fastapi
            } else if self.imports_flask {
                ServingKind::Flask
            } else {
                continue;
            };
            let path = d
                .args
                .get("arg0")
                .or_else(|| d.args.get("rule"))
                .or_else(|| d.args.get("path"));
            let methods = match attr {
                "route" | "api_route" => d
                    .args
                    .get("methods")
                    .and_then(|m| {
                        m.as_list().map(|l| {
                            l.iter()
                                .filter_map(|v| v.as_str().map(str::to_uppercase))
                                .collect()
                        })
                    })
                    .unwrap_or_else(|| vec!["GET".to_string()]),
                other => vec![other.to_uppercase()],
            };
            let path = path.and_then(|p| p.as_str().map(str::to_string));
            // `APIRouter(prefix="/v1")`: the router's own prefix is part of the path.
            let path = path.map(|p| format!("{}{p}", d.owner_prefix.as_deref().unwrap_or("")));
            let stem = site.location.file.rsplit('/').next().unwrap_or_default();
            let stem = stem.strip_suffix(".py").unwrap_or(stem);
            self.pipeline.serving.push(Endpoint {
                kind,
                methods,
                path,
                handler: match &site.class {
                    Some(c) => format!("{c}.{}", site.name),
                    None => site.name.clone(),
                },
                handler_methods: Vec::new(),
                location: site.location.clone(),
                router: d.owner.as_ref().map(|owner| format!("{stem}.{owner}")),
            });
        }
        let handler_signature = site.parameters.len() == 2 && site.parameters[1] == "context";
        if site.class.is_none()
            && site.name == "handle"
            && (self.imports_torchserve || handler_signature)
        {
            self.pipeline.serving.push(Endpoint {
                kind: ServingKind::Torchserve,
                methods: Vec::new(),
                path: None,
                handler: site.name.clone(),
                handler_methods: Vec::new(),
                location: site.location.clone(),
                router: None,
            });
        }
    }

    fn class(&mut self, site: &ClassSite) {
        let data_class = site.bases.iter().any(|b| {
            let framework =
                b.starts_with("torch.") || b.starts_with("tensorflow.") || b.starts_with("keras.");
            match b.rsplit('.').next() {
                Some("Dataset" | "IterableDataset") => framework || b == "Dataset",
                Some("Sequence" | "PyDataset") => framework,
                _ => false,
            }
        });
        if data_class {
            self.pipeline
                .data_classes
                .push((site.location.file.clone(), site.name.clone()));
        }
        // Resolved through `from ts.torch_handler... import BaseHandler`, or a bare handler
        // base name in a file that imports TorchServe (not Tornado's or urllib's handlers).
        let torchserve_base = site.bases.iter().any(|b| {
            b.starts_with("ts.")
                || (self.imports_torchserve
                    && matches!(
                        b.rsplit('.').next(),
                        Some("BaseHandler" | "VisionHandler" | "ImageClassifier" | "TextHandler")
                    ))
        });
        let has = |m: &str| site.methods.iter().any(|x| x == m);
        let handler_shape =
            has("initialize") && (has("handle") || (has("preprocess") && has("postprocess")));
        if torchserve_base || (handler_shape && self.imports_torchserve) {
            self.torchserve_classes.push(TorchserveClass {
                name: site.name.clone(),
                base: site
                    .bases
                    .iter()
                    .find_map(|b| b.rsplit('.').next())
                    .unwrap_or_default()
                    .to_string(),
                methods: site.methods.clone(),
                attributes: site.attributes.clone(),
                location: site.location.clone(),
            });
            let wanted = [
                "initialize",
                "preprocess",
                "inference",
                "postprocess",
                "handle",
            ];
            self.pipeline.serving.push(Endpoint {
                kind: ServingKind::Torchserve,
                methods: Vec::new(),
                path: None,
                handler: site.name.clone(),
                handler_methods: site
                    .methods
                    .iter()
                    .filter(|m| wanted.contains(&m.as_str()))
                    .cloned()
                    .collect(),
                location: site.location.clone(),
                router: None,
            });
        }
    }

    fn main_guard(&mut self, location: Location) {
        self.has_main_guard = Some(location);
    }

    fn assign_call(&mut self, target: &str, callee: Option<&str>, location: Location) {
        self.assigned_calls
            .push((target.to_string(), location.clone()));
        if callee.is_some_and(|c| {
            (c.starts_with("torchvision.transforms") || c.starts_with("albumentations."))
                && c.ends_with(".Compose")
        }) {
            self.compose_vars.push((target.to_string(), location));
        }
    }
}

/// A Hugging Face image processor class (`AutoImageProcessor`, `ViTImageProcessor`,
/// `ViTFeatureExtractor`), not an audio feature extractor or a text processor.
fn is_image_processor(class: &str) -> bool {
    let audio = ["Wav2Vec", "Whisper", "Audio", "Speech", "Clap", "Encodec"]
        .iter()
        .any(|a| class.contains(a));
    !audio && (class.contains("ImageProcessor") || class.ends_with("FeatureExtractor"))
}

/// A resize whose size the service computes per image keeping the aspect (`size_key` at
/// `position`): the rule goes into the plan instead of the size's expressions.
fn hand_written_resize(
    site: &CallSite<'_, '_>,
    params: &mut BTreeMap<String, Value>,
    size_key: &str,
    position: usize,
) {
    let rule = if let Some((size, side)) = site.aspect_resize(Some(position), Some(size_key)) {
        let key = match side {
            AspectSide::Shorter => "shorter_side",
            AspectSide::Longer => "longer_side",
        };
        (key, Value::Int(size))
    } else if let Some((width, height)) = site.fit_resize(Some(position), Some(size_key)) {
        (
            "fit",
            Value::List(vec![Value::Int(width), Value::Int(height)]),
        )
    } else {
        return;
    };
    params.remove(size_key);
    params.insert(rule.0.into(), rule.1);
    params.insert("keep_aspect".into(), Value::Bool(true));
}

#[cfg(test)]
mod tests {
    use super::names_a_model;

    #[test]
    fn model_names_are_read_by_bytes_and_loaders_are_not_models() {
        for name in [
            "model",
            "self_model",
            "ort_session",
            "Classifier",
            "model_v2",
            "net",
        ] {
            assert!(names_a_model(name), "{name}");
        }
        for name in [
            "load_model",
            "__load_model",
            "get_net",
            "pöstal",
            "ö",
            "remodel",
            "x",
        ] {
            assert!(!names_a_model(name), "{name}");
        }
    }
}
