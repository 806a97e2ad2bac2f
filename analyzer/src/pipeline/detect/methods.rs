//! Method calls that are steps or loads (`image.convert("RGB")`, `x.astype(np.float32)`,
//! `tokenizer(text)`, `model.load_weights(path)`): what they mean depends on what the file
//! imports and on the receiver's name.

use std::collections::BTreeMap;

use super::steps::hand_written_resize;
use super::{PipelineDetector, contains_ignore_case, ends_with_ignore_case, last_name};
use crate::pipeline::{Framework, StepLibrary};
use crate::python::{CallSite, Value};

impl PipelineDetector {
    /// A method call (`image.convert("RGB")`): a step or a load when the receiver or the
    /// file's imports say so.
    pub(super) fn method_call(&mut self, method: &str, site: &CallSite<'_, '_>) {
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
            "paste" if self.imports_pil => self.letterbox_paste(site),
            "astype" if self.imports_numpy => {
                let params = Self::named_params(site, &["dtype"]);
                let step = self.step(StepLibrary::Numpy, "astype", params, site);
                self.pipeline.preprocessing.push(step);
            }
            "transpose" if self.imports_numpy && site.positional_count() > 0 => {
                self.numpy_transpose(site);
            }
            "reshape" if self.imports_numpy && site.positional_count() > 0 => {
                self.numpy_reshape(site);
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
                self.tokenizer_call(site);
            }
            "encode" | "encode_plus" | "batch_encode_plus" | "encode_batch" if tokenizer_like => {
                let params = Self::named_params(site, &["text"]);
                let step = self.step(StepLibrary::Tokenizer, method, params, site);
                self.pipeline.preprocessing.push(step);
            }
            "softmax" | "sigmoid" | "argmax" | "topk" | "argsort" | "max"
                if self.is_postprocessing_method(method, site) =>
            {
                self.method_postprocessing(method, site);
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

    /// `processor(images=image, return_tensors="pt")`: the processor's steps, written out
    /// service-wide from its preprocessor_config.json; until then (or without one) hidden.
    pub(super) fn image_processor_call(&mut self, site: &CallSite<'_, '_>) {
        let params = Self::named_params(site, &["images"]);
        let step = self.step(StepLibrary::Transformers, "__call__", params, site);
        self.pipeline.preprocessing.push(step);
        self.hidden("transformers.image_processor", site);
    }

    /// A call of a tokenizer: by its name (`tokenizer(text)`) or by the name this file
    /// assigned one to (`tok = AutoTokenizer.from_pretrained(...)`; `tok(text)`).
    pub(super) fn calls_a_tokenizer(&self, callee: &str) -> bool {
        ends_with_ignore_case(callee, "tokenizer")
            || self.tokenizer_holders.contains(last_name(callee))
    }

    /// `tokenizer(text, truncation=True)`.
    pub(super) fn tokenizer_call(&mut self, site: &CallSite<'_, '_>) {
        let params = Self::named_params(site, &["text", "text_pair"]);
        let step = self.step(StepLibrary::Tokenizer, "__call__", params, site);
        self.pipeline.preprocessing.push(step);
    }

    /// `canvas.paste(image, ((w - nw) // 2, (h - nh) // 2))`: a letterbox's canvas; other
    /// pastes (overlays, watermarks) are not input.
    fn letterbox_paste(&mut self, site: &CallSite<'_, '_>) {
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

    /// `x.transpose(2, 0, 1)` and `x.transpose((2, 0, 1))` mean the same.
    fn numpy_transpose(&mut self, site: &CallSite<'_, '_>) {
        self.numpy_shape_method(site, "transpose", "axes", "axes");
    }

    /// `x.reshape(1, 28, 28, 1)` or `x.reshape((1, 28, 28, 1))`: the new shape as one list.
    fn numpy_reshape(&mut self, site: &CallSite<'_, '_>) {
        self.numpy_shape_method(site, "reshape", "shape", "newshape");
    }

    /// A NumPy method taking a tuple either as one argument or spread over several (named
    /// `keyword` when given by name), recorded as the list `param` of a contextual step.
    fn numpy_shape_method(
        &mut self,
        site: &CallSite<'_, '_>,
        op: &str,
        keyword: &str,
        param: &str,
    ) {
        let values = if site.positional_count() > 1 {
            Value::List(
                (0..site.positional_count())
                    .filter_map(|i| site.arg(Some(i), None))
                    .collect(),
            )
        } else {
            site.arg(Some(0), Some(keyword)).unwrap_or(Value::None)
        };
        let params = BTreeMap::from([(param.to_string(), values)]);
        let step = self.step(StepLibrary::Numpy, op, params, site);
        self.contextual.push(step);
    }

    /// Whether `x.softmax(...)`, `x.max(...)`... is a step after the model. `out.max(1)` /
    /// `out.max(dim=1)` of a torch tensor gives the values and the indices; a NumPy `.max()`
    /// alone is a score, not a class.
    fn is_postprocessing_method(&self, method: &str, site: &CallSite<'_, '_>) -> bool {
        (self.imports_numpy || self.imports_torch || self.imports_tf || method == "argmax")
            && (method != "max"
                || site.has_arg(None, Some("dim"))
                || (self.imports_torch
                    && site.positional_count() == 1
                    && matches!(site.arg(Some(0), None), Some(Value::Int(_)))))
    }

    fn method_postprocessing(&mut self, method: &str, site: &CallSite<'_, '_>) {
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
}
