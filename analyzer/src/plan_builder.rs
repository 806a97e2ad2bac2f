//! Turning the detected pipeline and the recommendation into a MigrationPlan.

use crate::knowledge::MigrationPath;
use crate::pipeline::{Framework, InputKind, Pipeline, ServingKind, Step, StepLibrary};
use crate::plan::{
    Dtype, Entrypoint, InputPlan, Layout, MigrationPlan, ModelPlan, NnBackend, PLAN_VERSION,
    ServicePlan, TargetPlan, TargetRuntime, Tolerances, plan_step,
};
use crate::python::Value;
use crate::report::Recommendation;
use wasm_migrate_plan::KnownOp;

/// Builds the plan; also fills `pipeline.input_kind`.
pub(crate) fn build_plan(
    name: &str,
    pipeline: &mut Pipeline,
    recommendation: &Recommendation,
) -> MigrationPlan {
    // The entry point: a web route or handler first, a script last.
    // Prefer the route whose handler does the preprocessing or postprocessing: a service may
    // have other POST routes (feedback, admin) before the one that runs the model.
    let runs_the_model = |e: &&crate::pipeline::Endpoint| {
        pipeline
            .preprocessing
            .iter()
            .chain(&pipeline.postprocessing)
            .any(|s| s.location.file == e.location.file && in_handler(&s.scope, &e.handler))
    };
    // Best of all, the route whose handler calls the model (where the calls were placed).
    let calls_the_model = |e: &&crate::pipeline::Endpoint| {
        pipeline
            .inference
            .iter()
            .any(|c| c.location.file == e.location.file && in_handler(&c.scope, &e.handler))
    };
    let web_post = |e: &&crate::pipeline::Endpoint| {
        e.kind != ServingKind::Script && e.methods.iter().any(|m| m == "POST")
    };
    let endpoint = pipeline
        .serving
        .iter()
        .find(|e| web_post(e) && calls_the_model(e))
        .or_else(|| {
            pipeline
                .serving
                .iter()
                .find(|e| web_post(e) && runs_the_model(e))
        })
        .or_else(|| {
            pipeline
                .serving
                .iter()
                .find(|e| e.kind != ServingKind::Script && e.methods.iter().any(|m| m == "POST"))
        })
        .or_else(|| {
            pipeline
                .serving
                .iter()
                .find(|e| e.kind == ServingKind::Torchserve)
        })
        .or_else(|| pipeline.serving.first());
    let entry_file = endpoint.map(|e| e.location.file.clone());
    // The model the entry point's file loads, else the first load that reads an artifact.
    let model = pipeline
        .models
        .iter()
        .find(|m| Some(&m.location.file) == entry_file.as_ref() && m.artifact.is_some())
        .or_else(|| {
            pipeline
                .models
                .iter()
                .find(|m| Some(&m.location.file) == entry_file.as_ref())
        })
        .or_else(|| pipeline.models.iter().find(|m| m.artifact.is_some()))
        .or_else(|| pipeline.models.first());
    let chain_file = entry_file
        .clone()
        .or_else(|| model.map(|m| m.location.file.clone()));
    // Compositions never applied and training augmentations are not part of inference.
    let inference: Vec<&Step> = pipeline
        .preprocessing
        .iter()
        .filter(|s| !s.composition_unused && !s.is_augmentation())
        .collect();
    let in_chain = |s: &&&Step| chain_file.as_ref().is_none_or(|f| &s.runs_at().file == f);
    // Steps that run in another route's handler belong to that route (a thumbnail, an
    // upload check), not to the chosen one's model input.
    let other_route = |s: &Step| {
        pipeline.serving.iter().any(|e| {
            endpoint.is_some_and(|chosen| chosen.handler != e.handler)
                && e.kind != ServingKind::Script
                && e.location.file == s.runs_at().file
                && in_handler(&s.scope, &e.handler)
        })
    };
    let mut pre: Vec<&Step> = inference
        .iter()
        .filter(in_chain)
        .filter(|s| !other_route(s))
        .copied()
        .collect();
    if pre.is_empty() {
        pre = inference;
    }
    // What a handler does after calling the model (a heatmap, boxes drawn, a cast for
    // display) is not the model's input.
    pre.retain(|s| !runs_after_model(s, &pipeline.inference));
    // A fitted scikit-learn transformer feeds a scikit-learn estimator; next to a neural
    // network it computes something else (a similarity, a feature for another model).
    let sklearn_model = model.is_some_and(|m| m.framework == Framework::Sklearn);
    pre.retain(|s| s.library != StepLibrary::Sklearn || sklearn_model);
    // Steps of compositions applied here but defined elsewhere take their place in this
    // file's order (the sort is stable, so a composition keeps its own order).
    pre.sort_by_key(|s| execution_order(s));
    let mut post: Vec<&Step> = pipeline
        .postprocessing
        .iter()
        .filter(|s| chain_file.as_ref().is_none_or(|f| &s.runs_at().file == f))
        .collect();
    post.sort_by_key(|s| execution_order(s));

    let input_kind = if pre.iter().any(|s| s.library == StepLibrary::Tokenizer) {
        Some(InputKind::Text)
    } else if pre.iter().any(|s| {
        matches!(
            s.library,
            StepLibrary::Torchvision | StepLibrary::Pil | StepLibrary::Opencv
        ) || matches!(
            s.known(),
            Some(
                KnownOp::KerasPreprocessInput | KnownOp::KerasLoadImage | KnownOp::TensorflowResize
            )
        )
    }) {
        Some(InputKind::Image)
    } else if model.is_some_and(|m| m.framework == Framework::Sklearn) {
        Some(InputKind::Tabular)
    } else if model.is_some() {
        Some(InputKind::Tensor)
    } else {
        None
    };
    pipeline.input_kind = input_kind;

    let input = input_kind.map(|kind| {
        let (shape, layout) = match kind {
            InputKind::Image => image_shape(&pre, model.map(|m| m.framework)),
            InputKind::Text => (text_shape(&pre), None),
            InputKind::Tensor => (array_shape(&pre), None),
            _ => (None, None),
        };
        InputPlan {
            kind,
            shape,
            layout,
            // Text is fed as one f32 tensor of token ids (convert casts them back in the
            // graph): no WasmEdge takes i64 tensors.
            dtype: match kind {
                InputKind::Text => Dtype::F32,
                InputKind::Tabular => Dtype::F64,
                _ => Dtype::F32,
            },
        }
    });

    let backend = model.and_then(|m| match m.framework {
        Framework::Sklearn => None,
        Framework::Tflite => Some(NnBackend::Tensorflowlite),
        // OpenVINO reads IR converted from every other framework, and WasmEdge's ONNX backend
        // is a stub: OpenVINO is the backend that works on WasmEdge for all of them.
        _ => Some(NnBackend::Openvino),
    });

    MigrationPlan {
        version: PLAN_VERSION,
        service: ServicePlan {
            name: name.to_string(),
            entrypoint: endpoint.map(|e| Entrypoint {
                kind: e.kind,
                file: e.location.file.clone(),
                handler: e.handler.clone(),
                route: e.path.clone(),
                methods: e
                    .methods
                    .iter()
                    .filter_map(|m| m.to_ascii_uppercase().parse().ok())
                    .collect(),
                workdir: None,
            }),
            server: None,
        },
        model: model.map(|m| ModelPlan {
            framework: m.framework,
            artifact: m.artifact.clone(),
            architecture: m.architecture.clone(),
            loaded_at: format!("{}:{}", m.location.file, m.location.line),
        }),
        input,
        preprocessing: pre.iter().map(|s| plan_step(s)).collect(),
        postprocessing: post.iter().map(|s| plan_step(s)).collect(),
        labels: pipeline.label_files.first().cloned(),
        target: TargetPlan {
            path: recommendation.path,
            runtime: TargetRuntime::Wasmedge,
            runtime_version: "0.14".into(),
            backend: if recommendation.path == MigrationPath::WasiNnGlue {
                backend
            } else {
                None
            },
        },
        tolerances: Tolerances::cross_backend(),
        converted: None,
        http: None,
    }
}

/// Whether code in `scope` runs in the handler `handler` (a function, or a class's methods).
fn in_handler(scope: &str, handler: &str) -> bool {
    scope == handler
        || scope
            .strip_prefix(handler)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// `224` or `[h, w]` as (height, width).
fn hw(value: &Value) -> Option<(i64, i64)> {
    match value {
        Value::Int(s) => Some((*s, *s)),
        Value::List(l) if l.len() == 2 => Some((l[0].as_i64()?, l[1].as_i64()?)),
        Value::List(l) if l.len() == 1 => l[0].as_i64().map(|s| (s, s)),
        _ => None,
    }
}

fn image_shape(pre: &[&Step], framework: Option<Framework>) -> (Option<Vec<i64>>, Option<Layout>) {
    let mut size: Option<(i64, i64)> = None;
    let mut channels = 3;
    let mut channels_first = matches!(framework, Some(Framework::Pytorch | Framework::Torchscript));
    for s in pre {
        match s.known() {
            Some(known @ (KnownOp::TorchvisionResize | KnownOp::TorchvisionCrop)) => {
                // Resize with an int keeps the aspect ratio: only a crop or a pair fixes both sides.
                if let Some(v) = s.param("size") {
                    match v {
                        Value::Int(_) if known == KnownOp::TorchvisionResize => {}
                        other => size = hw(other).or(size),
                    }
                }
                channels_first = true;
            }
            Some(KnownOp::PilResize | KnownOp::OpencvResize | KnownOp::PilFit) => {
                // PIL and OpenCV take (width, height).
                let key = if s.library == StepLibrary::Pil {
                    "size"
                } else {
                    "dsize"
                };
                if let Some((w, h)) = s.param(key).and_then(hw) {
                    size = Some((h, w));
                }
            }
            Some(known @ (KnownOp::PilConvert | KnownOp::OpencvCvtColor | KnownOp::Grayscale)) => {
                channels = channels_after(known, s).unwrap_or(channels);
            }
            Some(KnownOp::KerasLoadImage) => {
                if let Some(v) = s.param("target_size").and_then(hw) {
                    size = Some(v);
                }
            }
            Some(KnownOp::TensorflowResize) => {
                if let Some(v) = s.param("size").and_then(hw) {
                    size = Some(v);
                }
            }
            Some(KnownOp::NumpyTranspose) => {
                let axes = s.param("axes").or_else(|| s.param("arg0"));
                let chw = Value::List(vec![Value::Int(2), Value::Int(0), Value::Int(1)]);
                if axes == Some(&chw) {
                    channels_first = true;
                }
            }
            Some(KnownOp::NumpyReshape) => {
                if let Some(shape) = s.param("newshape").and_then(image_reshape) {
                    (channels_first, channels, size) = shape;
                }
            }
            Some(KnownOp::TorchPermute) => channels_first = true,
            Some(KnownOp::KerasPreprocessInput) => channels_first = false,
            _ => {}
        }
    }
    if matches!(
        framework,
        Some(Framework::Keras | Framework::Tensorflow | Framework::Tflite)
    ) {
        channels_first = false;
    }
    let layout = if channels_first {
        Layout::Nchw
    } else {
        Layout::Nhwc
    };
    let shape = size.map(|(h, w)| match layout {
        Layout::Nchw => vec![1, channels, h, w],
        Layout::Nhwc => vec![1, h, w, channels],
    });
    (shape, Some(layout))
}

/// What a literal `reshape` to a batch of one image fixes: channels first, channels, (h, w).
type ImageShape = (bool, i64, Option<(i64, i64)>);

/// A literal `reshape` to a batch of one image: `[1, C, H, W]` (channels first) or
/// `[1, H, W, C]`, `C` 1 or 3 (a `-1` batch is one).
fn image_reshape(value: &Value) -> Option<ImageShape> {
    let Value::List(items) = value else {
        return None;
    };
    let dims: Vec<i64> = items.iter().map(Value::as_i64).collect::<Option<_>>()?;
    let [batch, a, b, c] = dims[..] else {
        return None;
    };
    let channels = |d: i64| d == 1 || d == 3;
    match (batch == 1 || batch == -1, channels(a), channels(c)) {
        (true, true, false) => Some((true, a, Some((b, c)))),
        (true, false, true) => Some((false, c, Some((a, b)))),
        _ => None,
    }
}

/// The channels a colour step leaves: 1 after a grayscale conversion, 3 after one back to RGB
/// (or a `Grayscale(num_output_channels=3)`); `None` when the step does not say.
fn channels_after(known: KnownOp, step: &Step) -> Option<i64> {
    let text = |key: &str| match step.param(key)? {
        Value::Str(s) => Some(s.clone()),
        Value::Symbol { symbol } => Some(symbol.rsplit('.').next()?.to_string()),
        _ => None,
    };
    match known {
        KnownOp::PilConvert => match text("mode")?.as_str() {
            "L" => Some(1),
            "RGB" => Some(3),
            _ => None,
        },
        KnownOp::OpencvCvtColor => {
            let code = text("code")?;
            code.ends_with("2GRAY").then_some(1)
        }
        KnownOp::Grayscale => Some(
            step.param("num_output_channels")
                .and_then(Value::as_i64)
                .unwrap_or(1),
        ),
        _ => None,
    }
}

fn text_shape(pre: &[&Step]) -> Option<Vec<i64>> {
    pre.iter()
        .filter(|s| s.library == StepLibrary::Tokenizer)
        .find_map(|s| s.param("max_length").and_then(Value::as_i64))
        .map(|n| vec![1, n])
}

/// The tensor an array input becomes: the last reshape to whole sizes (`reshape(1, 1, 32,
/// 32)`), with the new axes added after it.
fn array_shape(pre: &[&Step]) -> Option<Vec<i64>> {
    let at = pre
        .iter()
        .rposition(|s| s.known() == Some(KnownOp::NumpyReshape))?;
    let mut shape: Vec<i64> = match pre[at].param("newshape")? {
        Value::List(items) => items.iter().map(Value::as_i64).collect::<Option<_>>()?,
        _ => return None,
    };
    if shape.iter().any(|&d| d < 1) {
        return None;
    }
    for step in &pre[at + 1..] {
        if matches!(step.op.as_str(), "expand_dims" | "unsqueeze") {
            let axis = step
                .param("axis")
                .or(step.param("dim"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let rank = shape.len() as i64;
            let at = if axis < 0 { axis + rank + 1 } else { axis };
            if !(0..=rank).contains(&at) {
                return None;
            }
            shape.insert(at as usize, 1);
        }
    }
    Some(shape)
}

/// A step's place in execution order: its call path when placement filled it.
fn execution_order(step: &Step) -> Vec<crate::pipeline::OrderKey> {
    if step.order.is_empty() {
        vec![crate::pipeline::detect::order_key(step.runs_at())]
    } else {
        step.order.clone()
    }
}

/// Whether the step runs after the model is called in the same function, and not inside
/// that call (a wrapper's `predictor.predict(image)` runs its own preprocessing first).
fn runs_after_model(step: &Step, calls: &[crate::pipeline::InferenceCall]) -> bool {
    let order = execution_order(step);
    calls
        .iter()
        .filter(|c| c.location.file == step.runs_at().file && c.scope == step.scope)
        .filter(|c| !order.starts_with(&c.order))
        .map(|c| &c.order)
        .min()
        .is_some_and(|first| *first < order)
}
