//! Classification presets a library builds in one call: torchvision's weights
//! `transforms()` and timm's `create_transform(**resolve_data_config(model))`.

use super::PipelineDetector;
use crate::pipeline::{HiddenSteps, StepLibrary, libraries};
use crate::python::{CallSite, Value};

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

impl PipelineDetector {
    /// `weights.transforms()`: torchvision's preset for those weights, composed into the
    /// variable it is assigned to, else a hidden step.
    pub(super) fn weights_preset(&mut self, symbol: &str, site: &CallSite<'_, '_>) {
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
    pub(super) fn timm_transform(&mut self, site: &CallSite<'_, '_>) {
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
}
