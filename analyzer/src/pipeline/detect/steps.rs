//! Preprocessing and postprocessing steps written as function calls: matched against the
//! steps table (`data/pipeline/steps.yaml`), and the families matched by prefix
//! (`torchvision.transforms.*`, `albumentations.*`, `keras.applications.*`).

use std::collections::BTreeMap;

use super::PipelineDetector;
use crate::pipeline::StepLibrary;
use crate::pipeline::tables::{self, Stage, StepEntry};
use crate::python::{AspectSide, CallSite, Value};

/// Where scikit-image and SciPy resample and convert with their own numerics (skimage's
/// `resize` also rescales to [0, 1] floats): a step the knowledge base does not mirror.
const SCIKIT_IMAGE: &[&str] = &[
    "skimage.transform.",
    "skimage.color.",
    "skimage.exposure.",
    "skimage.util.",
    "scipy.ndimage.zoom",
];

impl PipelineDetector {
    /// A call that is a step: a family matched by prefix, else an entry of the steps table.
    pub(super) fn step_call(&mut self, q: &str, site: &CallSite<'_, '_>) -> bool {
        if let Some(rest) = q.strip_prefix("torchvision.transforms.") {
            return self.torchvision_step(rest, site);
        }
        if q.starts_with("albumentations.") {
            return self.albumentations_step(q.rsplit('.').next().unwrap_or(q), site);
        }
        if SCIKIT_IMAGE.iter().any(|p| q.starts_with(p)) {
            self.hidden("scikit-image", site);
            return true;
        }
        if let Some(entry) = tables::tables().step(q) {
            return self.table_step(entry, q, site);
        }
        let (prefix, last) = q.rsplit_once('.').unwrap_or(("", q));
        if last == "preprocess_input" && q.contains(".applications.") {
            let module = prefix.rsplit('.').next().unwrap_or(prefix);
            self.keras_preprocess_input(module, site);
            return true;
        }
        // Keras' ImageNet labels (fetched from storage.googleapis.com on first use).
        if last == "decode_predictions"
            && (q.starts_with("keras.") || q.starts_with("tensorflow.keras."))
        {
            let params = Self::named_params(site, &["preds", "top"]);
            let step = self.step(StepLibrary::Keras, "decode_predictions", params, site);
            self.pipeline.postprocessing.push(step);
            return true;
        }
        false
    }

    /// A call of a steps table entry: what the entry says the step is, then one effect.
    fn table_step(&mut self, entry: &StepEntry, q: &str, site: &CallSite<'_, '_>) -> bool {
        if let Some(arg) = &entry.unless_literal
            && site
                .arg(arg.position, arg.keyword())
                .is_some_and(|v| v.is_literal())
        {
            return false;
        }
        let mut params = Self::named_params(site, &entry.params);
        if let Some(size) = &entry.keep_aspect_size
            && let (Some(position), Some(keyword)) = (size.position, size.keyword())
        {
            hand_written_resize(site, &mut params, keyword, position);
        }
        let op = entry.op(q.rsplit('.').next().unwrap_or(q));
        let step = self.step(entry.library, op, params, site);
        match entry.stage {
            Stage::Preprocessing => self.pipeline.preprocessing.push(step),
            Stage::Postprocessing => self.pipeline.postprocessing.push(step),
            Stage::Contextual => self.contextual.push(step),
        }
        true
    }

    /// `torchvision.transforms[.v2][.functional].<op>`, its positional parameters named by
    /// the table (the functional forms take the image first).
    fn torchvision_step(&mut self, rest: &str, site: &CallSite<'_, '_>) -> bool {
        let op = rest
            .trim_start_matches("v2.")
            .trim_start_matches("functional.");
        if op.contains('.') || matches!(op, "Compose" | "InterpolationMode") || op.is_empty() {
            return matches!(op, "Compose");
        }
        let names = tables::tables()
            .torchvision_params(op)
            .iter()
            .map(String::as_str);
        let names: Vec<&str> = if rest.contains("functional.") {
            std::iter::once("img").chain(names).collect()
        } else {
            names.collect()
        };
        let params = Self::named_params(site, &names);
        let step = self.step(StepLibrary::Torchvision, op, params, site);
        self.pipeline.preprocessing.push(step);
        true
    }

    /// `keras.applications.<module>.preprocess_input(x)`: the mode the call says, else the
    /// module's, from the table.
    fn keras_preprocess_input(&mut self, module: &str, site: &CallSite<'_, '_>) {
        let mut params = Self::named_params(site, &["x", "data_format", "mode"]);
        let mode = params
            .get("mode")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| tables::tables().keras_mode(module).to_string());
        params.insert("mode".into(), Value::Str(mode));
        params.insert("application".into(), Value::Str(module.to_string()));
        let step = self.step(StepLibrary::Keras, "preprocess_input", params, site);
        self.pipeline.preprocessing.push(step);
    }

    /// An albumentations transform built into a composition (`A.Compose([A.Resize(224,
    /// 224), A.Normalize(), ToTensorV2()])`), with the library's defaults where they decide
    /// the numbers, from the table.
    fn albumentations_step(&mut self, op: &str, site: &CallSite<'_, '_>) -> bool {
        if op == "Compose" {
            return true;
        }
        if !op.starts_with(|c: char| c.is_ascii_uppercase()) {
            return false;
        }
        let entry = tables::tables().albumentations(op);
        let names = entry.map_or(&[][..], |e| &e.params[..]);
        let mut params: BTreeMap<String, Value> = Self::named_params(site, names);
        for (key, value) in entry.iter().flat_map(|e| &e.defaults) {
            params.entry(key.clone()).or_insert_with(|| value.clone());
        }
        let step = self.step(StepLibrary::Albumentations, op, params, site);
        self.pipeline.preprocessing.push(step);
        true
    }
}

/// A resize whose size the service computes per image keeping the aspect (`size_key` at
/// `position`): the rule goes into the plan instead of the size's expressions.
pub(super) fn hand_written_resize(
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
