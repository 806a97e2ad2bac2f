//! Hugging Face image processors, written out from the model directory's
//! `preprocessor_config.json`: `processor(images=image)` resizes, center-crops, rescales and
//! normalises as that file says, so the plan lists those steps with the file's values.
//! A processor whose config is not in the service stays a hidden step (a mandatory finding).

use std::path::{Path, PathBuf};
use wasm_migrate_plan::KnownOp;

use serde_json::Value as Json;

use crate::pipeline::{Pipeline, Step};
use crate::python::Value;

const CONFIG: &str = "preprocessor_config.json";
const HIDDEN: &str = "transformers.image_processor";

/// PIL's resampling filters by the integer codes configs store.
const RESAMPLE: [&str; 6] = [
    "NEAREST", "LANCZOS", "BILINEAR", "BICUBIC", "BOX", "HAMMING",
];

/// Replaces each image processor call by the steps its local config sets.
pub(crate) fn expand_image_processors(base: &Path, pipeline: &mut Pipeline) {
    let loads: Vec<(PathBuf, String)> = pipeline
        .preprocessing
        .iter()
        .filter(|s| s.is(KnownOp::ProcessorLoad))
        .filter_map(|s| local_config(base, s))
        .collect();
    // One processor, or several reading the same file: otherwise which call uses which is
    // not known here, and the steps stay hidden.
    let Some((path, relative)) = loads.first() else {
        return;
    };
    if loads.iter().any(|(p, _)| p != path) {
        return;
    }
    let Some(config) = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Json>(&t).ok())
    else {
        return;
    };
    let Some(written) = written_out(&config) else {
        return;
    };
    for step in &mut pipeline.preprocessing {
        if step.is(KnownOp::ProcessorLoad) {
            step.params
                .insert("config".into(), Value::Str(relative.clone()));
        }
    }
    let mut expanded = Vec::with_capacity(pipeline.preprocessing.len() + written.len());
    for step in std::mem::take(&mut pipeline.preprocessing) {
        if step.is(KnownOp::ProcessorCall) {
            expanded.extend(written.iter().map(|(op, params)| Step {
                op: (*op).to_string(),
                params: params.iter().cloned().collect(),
                ..step.clone()
            }));
        } else {
            expanded.push(step);
        }
    }
    pipeline.preprocessing = expanded;
    pipeline.hidden.retain(|h| h.library != HIDDEN);
}

/// The config file of a `from_pretrained(path)` whose path is a directory of the service
/// (relative to the service root or to the file that loads it), with its path as shown.
fn local_config(base: &Path, step: &Step) -> Option<(PathBuf, String)> {
    let Value::Str(dir) = step
        .params
        .get("pretrained_model_name_or_path")
        .or_else(|| step.params.get("arg0"))?
    else {
        return None;
    };
    let file_dir = Path::new(&step.location.file)
        .parent()
        .unwrap_or(Path::new(""));
    [file_dir.join(dir), PathBuf::from(dir)]
        .into_iter()
        .map(|d| d.join(CONFIG))
        .find(|relative| base.join(relative).is_file())
        .map(|relative| {
            let shown = relative.to_string_lossy().replace('\\', "/");
            let shown = shown.trim_start_matches("./").to_string();
            (base.join(relative), shown)
        })
}

type Written = Vec<(&'static str, Vec<(String, Value)>)>;

/// The steps a config sets, in the order image processors run them; `None` for a config
/// that is not an image processor's (an audio feature extractor).
fn written_out(config: &Json) -> Option<Written> {
    let kind = config
        .get("image_processor_type")
        .or_else(|| config.get("feature_extractor_type"))
        .and_then(Json::as_str)
        .unwrap_or("an image processor");
    if config.get("sampling_rate").is_some() {
        return None;
    }
    let flag =
        |key: &str, default: bool| config.get(key).and_then(Json::as_bool).unwrap_or(default);
    let default_of = |what: &str| Value::Expr {
        expr: format!("the default {what} of {kind}"),
    };
    let mut steps: Written = Vec::new();
    if flag("do_convert_rgb", false) {
        steps.push(("convert_rgb", Vec::new()));
    }
    if flag("do_resize", true) {
        let mut params = size_params(config.get("size"), "size");
        if params.is_empty() {
            params.push(("size".into(), default_of("size")));
        }
        let resample = config
            .get("resample")
            .and_then(Json::as_u64)
            .and_then(|code| RESAMPLE.get(code as usize))
            .map(|name| Value::Symbol {
                symbol: format!("PIL.Image.{name}"),
            })
            .unwrap_or_else(|| default_of("resample"));
        params.push(("resample".into(), resample));
        steps.push(("resize", params));
    }
    if flag("do_center_crop", false) {
        let mut params = size_params(config.get("crop_size"), "size");
        if params.is_empty() {
            params.push(("size".into(), default_of("crop size")));
        }
        steps.push(("center_crop", params));
    }
    if flag("do_rescale", true) {
        let factor = config
            .get("rescale_factor")
            .and_then(Json::as_f64)
            .unwrap_or(1.0 / 255.0);
        steps.push(("rescale", vec![("factor".into(), Value::Float(factor))]));
    }
    if flag("do_normalize", true) {
        let floats = |key: &str| {
            match config.get(key) {
                Some(Json::Array(items)) => items
                    .iter()
                    .map(|v| v.as_f64().map(Value::Float))
                    .collect::<Option<Vec<_>>>()
                    .map(Value::List),
                Some(v) => v.as_f64().map(Value::Float),
                None => None,
            }
            .unwrap_or_else(|| default_of(key))
        };
        steps.push((
            "normalize",
            vec![
                ("mean".into(), floats("image_mean")),
                ("std".into(), floats("image_std")),
            ],
        ));
    }
    Some(steps)
}

/// `{"height": h, "width": w}` -> `key: [h, w]`; `{"shortest_edge": n}` -> `shortest_edge: n`
/// (with `longest_edge` when set); a bare number `n` -> `key: [n, n]`.
fn size_params(size: Option<&Json>, key: &str) -> Vec<(String, Value)> {
    let int = |v: &Json| v.as_i64().map(Value::Int);
    match size {
        Some(Json::Object(o)) => {
            if let (Some(h), Some(w)) =
                (o.get("height").and_then(int), o.get("width").and_then(int))
            {
                return vec![(key.into(), Value::List(vec![h, w]))];
            }
            ["shortest_edge", "longest_edge"]
                .into_iter()
                .filter_map(|k| o.get(k).and_then(int).map(|v| (k.to_string(), v)))
                .collect()
        }
        Some(n) => int(n)
            .map(|n| vec![(key.into(), Value::List(vec![n.clone(), n]))])
            .unwrap_or_default(),
        None => Vec::new(),
    }
}
