//! TorchServe handler classes, and what their base handler does that they do not override.

use std::collections::BTreeMap;

use super::PipelineDetector;
use crate::pipeline::{
    Endpoint, Framework, HiddenSteps, ModelLoad, ServingKind, Step, StepLibrary, libraries,
};
use crate::python::{ClassSite, Value};
use crate::report::Location;

/// A TorchServe handler class, for what its base handler does that it does not override.
pub(super) struct TorchserveClass {
    name: String,
    base: String,
    methods: Vec<String>,
    attributes: BTreeMap<String, Value>,
    location: Location,
}

impl PipelineDetector {
    /// What TorchServe's base handlers do for a subclass that does not override it:
    /// `ImageClassifier`'s Resize(256) / CenterCrop(224) / ToTensor / Normalize and its
    /// softmax + top-k, a `VisionHandler` subclass's `image_processing`, and the model the
    /// base handler loads from the archive.
    pub(super) fn torchserve_base_steps(&mut self) {
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

    pub(super) fn image_classifier_steps(&mut self, class: &TorchserveClass, scope: &str) {
        let postprocess = !class.methods.iter().any(|m| m == "postprocess");
        let topk = postprocess.then(|| {
            class
                .attributes
                .get("topk")
                .cloned()
                .unwrap_or(Value::Int(5))
        });
        image_classifier_pipeline(&mut self.pipeline, scope, &class.location, topk);
    }

    /// A TorchServe handler class: an endpoint, and the base handler's steps at `finish`.
    pub(super) fn torchserve_class(&mut self, site: &ClassSite) {
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
}

/// What TorchServe's `ImageClassifier` does: `VisionHandler.preprocess` opens each upload and
/// applies `image_processing` (Resize 256, CenterCrop 224, ToTensor, ImageNet Normalize); with
/// `topk` (its `postprocess` not overridden), softmax, the best `topk` and the class names of
/// `index_to_name.json`.
pub(crate) fn image_classifier_pipeline(
    pipeline: &mut crate::pipeline::Pipeline,
    scope: &str,
    location: &Location,
    topk: Option<Value>,
) {
    let floats = |v: [f64; 3]| Value::List(v.iter().map(|x| Value::Float(*x)).collect());
    let step = |library, op: &str, params: Vec<(&str, Value)>| {
        let params = params.into_iter().map(|(k, v)| (k.to_string(), v));
        Step::new(
            library,
            op,
            params.collect(),
            scope.to_string(),
            location.clone(),
        )
    };
    pipeline.preprocessing.extend([
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
    let Some(k) = topk else {
        return;
    };
    pipeline.postprocessing.extend([
        step(StepLibrary::Torch, "softmax", vec![("dim", Value::Int(1))]),
        step(StepLibrary::Torch, "topk", vec![("k", k)]),
    ]);
    if !pipeline
        .label_files
        .iter()
        .any(|l| l == "index_to_name.json")
    {
        pipeline.label_files.push("index_to_name.json".to_string());
    }
}
