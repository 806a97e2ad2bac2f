//! The text template's inputs: the service's own `tokenizer.json` (embedded in the module and
//! run by the `tokenizers` crate, the library behind Hugging Face's fast tokenizers, so the
//! ids are the same by construction) and the call's truncation and padding from the plan.

use std::path::{Path, PathBuf};
use wasm_migrate_plan::KnownOp;

use serde::Serialize;
use wasm_migrate_plan::MigrationPlan;
use wasm_migrate_plan::Value;

use crate::error::CodegenError;
use crate::steps::plan_item_line;

/// What the text glue needs to tokenize as the service does.
#[derive(Debug, Clone, Serialize)]
pub struct TextSetup {
    /// Where the tokenizer was found, relative to the service.
    pub tokenizer_source: String,
    #[serde(skip)]
    pub tokenizer_json: Vec<u8>,
    pub max_length: usize,
    /// `padding="max_length"`: every input is padded to `max_length`.
    pub pad_to_max_length: bool,
    pub truncation: bool,
    pub pad_token: String,
    /// The token tensors the model takes, in the order the glue feeds them.
    pub model_inputs: Vec<String>,
    /// Class names by index, from the model's `config.json` (`id2label`).
    pub labels: Vec<String>,
}

fn int(v: &Value) -> Option<usize> {
    match v {
        Value::Int(i) if *i > 0 => Some(*i as usize),
        _ => None,
    }
}

/// The Hugging Face cache (`$HF_HUB_CACHE`, `$HF_HOME/hub`, `~/.cache/huggingface/hub`).
fn hub_cache() -> Option<PathBuf> {
    std::env::var_os("HF_HUB_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HF_HOME").map(|h| PathBuf::from(h).join("hub")))
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/huggingface/hub"))
        })
}

/// The snapshots of a Hub id (`distilbert-base-uncased`, `org/name`) in the cache.
fn hub_snapshots(id: &str) -> Vec<PathBuf> {
    hub_cache().map_or_else(Vec::new, |cache| snapshots_in(&cache, id))
}

/// The snapshots of `id` under `cache`, newest first; none when `id` is not a Hub id.
fn snapshots_in(cache: &Path, id: &str) -> Vec<PathBuf> {
    let is_hub_id = !id.is_empty()
        && id.split('/').count() <= 2
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !id.starts_with(['.', '/']);
    if !is_hub_id {
        return Vec::new();
    }
    let folder = cache
        .join(format!("models--{}", id.replace('/', "--")))
        .join("snapshots");
    let mut snapshots: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    snapshots.sort_by_key(|s| std::cmp::Reverse(s.0));
    snapshots.into_iter().map(|(_, path)| path).collect()
}

fn read_json(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// Reads the plan's tokenizer steps and the files the service loads them from.
pub fn text_setup(
    plan: &MigrationPlan,
    service: &Path,
    plan_path: &Path,
    plan_text: &str,
) -> Result<TextSetup, CodegenError> {
    let fail = |index: usize, message: String| CodegenError::PlanStep {
        path: plan_path.to_path_buf(),
        line: plan_item_line(plan_text, "preprocessing", index),
        message,
    };
    let steps = &plan.preprocessing;
    let load = steps.iter().position(|s| s.is(KnownOp::TokenizerLoad));
    let call = steps.iter().position(|s| s.is(KnownOp::TokenizerCall));
    let Some(call) = call else {
        return Err(CodegenError::Unsupported {
            path: plan_path.to_path_buf(),
            message: "input.kind is text but the preprocessing has no tokenizer call \
                      (library: tokenizer, op: __call__); add it with its max_length, padding \
                      and truncation"
                .into(),
        });
    };
    // Where the tokenizer lives: the from_pretrained argument, the model artifact, the service;
    // for a Hub id, the snapshot transformers downloaded into its cache.
    let mut names: Vec<&str> = Vec::new();
    if let Some(index) = load
        && let Some(Value::Str(dir)) = steps[index]
            .params
            .get("pretrained_model_name_or_path")
            .or(steps[index].params.get("arg0"))
    {
        names.push(dir);
    }
    if let Some(artifact) = plan.model.as_ref().and_then(|m| m.artifact.as_ref()) {
        names.push(artifact);
    }
    let mut dirs: Vec<PathBuf> = names.iter().map(|n| service.join(n)).collect();
    dirs.push(service.to_path_buf());
    for name in names {
        if !service.join(name).exists() {
            dirs.extend(hub_snapshots(name));
        }
    }
    let tokenizer_path = dirs
        .iter()
        .map(|d| d.join("tokenizer.json"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            fail(
                load.unwrap_or(call),
                format!(
                    "no tokenizer.json in {} (nor in the Hugging Face cache, for a Hub id): the \
                     text glue runs the service's fast tokenizer; save it with \
                     `tokenizer.save_pretrained(DIR)` (a fast tokenizer writes tokenizer.json), or \
                     run the service once so that transformers downloads it",
                    dirs.iter()
                        .map(|d| d.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
    let model_dir = tokenizer_path.parent().unwrap_or(service).to_path_buf();
    let tokenizer_json = std::fs::read(&tokenizer_path).map_err(|error| CodegenError::Io {
        path: tokenizer_path.clone(),
        error,
    })?;
    let config = read_json(&model_dir.join("tokenizer_config.json"));

    let params = &steps[call].params;
    let truncation = match params.get("truncation") {
        Some(Value::Bool(b)) => *b,
        Some(Value::Str(s)) => s != "do_not_truncate",
        _ => false,
    };
    let pad_to_max_length =
        matches!(params.get("padding"), Some(Value::Str(s)) if s == "max_length");
    let max_length = params
        .get("max_length")
        .and_then(int)
        .or_else(|| {
            config
                .as_ref()
                .and_then(|c| c["model_max_length"].as_u64())
                .filter(|&n| n < 1 << 20)
                .map(|n| n as usize)
        })
        .unwrap_or(512);
    if pad_to_max_length && params.get("max_length").is_none() {
        return Err(fail(
            call,
            "padding=\"max_length\" without max_length: give the length the model was exported for"
                .into(),
        ));
    }
    let pad_token = config
        .as_ref()
        .and_then(|c| match &c["pad_token"] {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Object(o) => o.get("content")?.as_str().map(str::to_string),
            _ => None,
        })
        .unwrap_or_else(|| "[PAD]".into());
    let model_config = read_json(&model_dir.join("config.json"));
    // DistilBERT-style models take no token types.
    let model_type = model_config
        .as_ref()
        .and_then(|c| c["model_type"].as_str().map(str::to_string))
        .unwrap_or_default();
    let mut model_inputs = vec!["input_ids".to_string(), "attention_mask".to_string()];
    if !model_type.starts_with("distil") {
        model_inputs.push("token_type_ids".into());
    }
    let mut labels: Vec<(usize, String)> = model_config
        .as_ref()
        .and_then(|c| c["id2label"].as_object().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| Some((k.parse().ok()?, v.as_str()?.to_string())))
        .collect();
    labels.sort();
    let labels = if labels.iter().enumerate().all(|(i, (k, _))| i == *k) {
        labels.into_iter().map(|(_, v)| v).collect()
    } else {
        Vec::new()
    };
    Ok(TextSetup {
        tokenizer_source: tokenizer_path
            .strip_prefix(service)
            .unwrap_or(&tokenizer_path)
            .display()
            .to_string(),
        tokenizer_json,
        max_length,
        pad_to_max_length,
        truncation,
        pad_token,
        model_inputs,
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hub_id_is_found_in_the_cache_and_a_path_is_not_looked_for() {
        let cache = tempfile::tempdir().unwrap();
        let snapshot = cache.path().join("models--org--tiny-bert/snapshots/abc123");
        std::fs::create_dir_all(&snapshot).unwrap();
        assert_eq!(snapshots_in(cache.path(), "org/tiny-bert"), [snapshot]);
        assert!(snapshots_in(cache.path(), "other-model").is_empty());
        assert!(snapshots_in(cache.path(), "./models/org/tiny-bert").is_empty());
    }
}
