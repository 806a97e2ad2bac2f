//! Where the service calls its model (`model(x)`, `session.run(...)`), and the steps a
//! library does around that call (ultralytics' letterbox and NMS, a SentenceTransformer's
//! pooling, a `transformers.pipeline`'s tokenizer and softmax).

use std::collections::BTreeMap;

use super::{PipelineDetector, ends_with_ignore_case, last_name, within};
use crate::pipeline::{Framework, InferenceCall, ModelLoad, Step, StepLibrary};
use crate::python::{CallSite, Value};
use crate::report::Location;

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

/// Whether a name is spelled as Python spells classes: CamelCase (`Model`, `DigitNet`).
fn names_a_class(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase()) && name.chars().any(|c| c.is_lowercase())
}

/// A call that may run a model: the name holding it (`model`, `session`), where, in which
/// scope, and the predictor settings passed (`imgsz=`, `conf=`, `iou=`).
pub(super) struct InferenceCandidate {
    holder: String,
    /// The method called on the holder (`encode`), empty for a direct call.
    method: String,
    location: Location,
    scope: String,
    settings: BTreeMap<String, Value>,
}

impl PipelineDetector {
    /// The candidates whose holder is a model: assigned from a model load in this file, or
    /// named like one (a model loaded in another module and imported here).
    pub(super) fn inference_calls(&mut self) -> Vec<InferenceCall> {
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
            // `Model(...)`, `Net(...)`: a class built, not a model run (a held model is a
            // variable: `model(x)`, `MODEL(x)`).
            if c.method.is_empty() && names_a_class(&c.holder) {
                continue;
            }
            if yolo_holders.contains(&c.holder) {
                self.ultralytics_steps(&c, exported);
            } else if sentence_holders.contains(&c.holder) && c.method == "encode" {
                self.sentence_transformers_steps(&c);
            } else if pipeline_holders.contains(&c.holder) && c.method.is_empty() {
                self.pipeline_steps(&c, task.as_deref());
            }
            calls.push(InferenceCall {
                location: c.location,
                scope: c.scope,
                order: Vec::new(),
            });
        }
        calls
    }

    /// A step a library does at a model call, placed at that call.
    pub(super) fn step_at(
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
    pub(super) fn sentence_transformers_steps(&mut self, call: &InferenceCandidate) {
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
    pub(super) fn pipeline_steps(&mut self, call: &InferenceCandidate, task: Option<&str>) {
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
    pub(super) fn ultralytics_steps(&mut self, call: &InferenceCandidate, exported: bool) {
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
    pub(super) fn record_call(&mut self, site: &CallSite<'_, '_>, loads_model: bool) {
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
