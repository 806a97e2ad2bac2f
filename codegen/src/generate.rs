//! `generate`: the plan -> a glue crate, its deploy files and its model conversion script.

use std::path::{Path, PathBuf};
use wasm_migrate_plan::KnownOp;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasm_migrate_plan::LoadedPlan;
use wasm_migrate_plan::{Dtype, Framework, GlueKind, InputKind, NnBackend};

use crate::error::{CodegenError, io};
use crate::steps::compile_image_steps;
use crate::templates;

/// Where the module will run (the plan's capability model names it).
pub use wasm_migrate_plan::RuntimeTarget as Target;

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// The crate's directory; default `SERVICE/migrated`.
    pub out: Option<PathBuf>,
    /// Default: from the plan's target.
    pub target: Option<Target>,
    pub templates: Option<PathBuf>,
    pub force: bool,
}

/// What `generate` records in the crate for `convert`, `build` and `verify`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GlueManifest {
    pub tool_version: String,
    pub service_root: PathBuf,
    pub plan_sha256: String,
    pub target: Target,
    pub crate_name: String,
    pub model_name: String,
    pub kind: String,
    pub backend: String,
    /// The port the module serves on with `--serve` (the original's).
    #[serde(default = "default_port")]
    pub server_port: u16,
    /// Instances to run for the original's concurrency (its workers x threads).
    #[serde(default = "one")]
    pub instances: u32,
    /// The tensor types the glue passes to `set_input`, which `build` stamps into the module
    /// (empty in manifests older than the field: f32, all the image glue feeds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_types: Vec<Dtype>,
}

fn default_port() -> u16 {
    8080
}

fn one() -> u32 {
    1
}

pub const MANIFEST_FILE: &str = "wasm-migrate-glue.json";

#[derive(Debug, Clone, Serialize)]
pub struct Generated {
    pub out: PathBuf,
    pub files: Vec<PathBuf>,
    pub warnings: Vec<String>,
    pub manifest: GlueManifest,
}

pub fn default_out(service: &Path) -> PathBuf {
    service.join("migrated")
}

fn crate_name(service_name: &str) -> String {
    let mut name: String = service_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches('-').to_string();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name = format!("glue-{name}");
    }
    format!("{name}-wasm")
}

pub fn generate(service: &Path, options: &GenerateOptions) -> Result<Generated, CodegenError> {
    let loaded = LoadedPlan::load(service)?;
    artifact_exists(service, &loaded)?;
    let Rendered {
        files,
        binary,
        manifest,
        warnings,
    } = render_crate(service, &loaded, options)?;
    let out = options.out.clone().unwrap_or_else(|| default_out(service));
    write_tree(&out, &files, &binary, options.force)?;
    Ok(Generated {
        files: files
            .into_iter()
            .map(|(p, _, _)| out.join(p))
            .chain(binary.into_iter().map(|(p, _)| out.join(p)))
            .collect(),
        out,
        warnings,
        manifest,
    })
}

/// The generated files that show what `convert` records after `generate` wrote them: the
/// service's HTTP API (its routes, health route, port), the model's input shape and the
/// library versions of the service's Python.
const API_FILES: [&str; 7] = [
    "assets/api.json",
    "assets/model_input.json",
    "assets/versions.json",
    "README.md",
    "deploy/kubernetes.yaml",
    "deploy/run-wasmedge.sh",
    "deploy/Dockerfile",
];

/// Rewrites the files that show the HTTP API after the plan's `http` section changed
/// (`convert` records it): each one that is still what `generate` wrote from the plan as it
/// was (`previous_plan_text`) is rendered again from the plan now; an edited one is kept and
/// named in the returned warnings.
pub fn refresh_api_files(
    service: &Path,
    out: &Path,
    previous_plan_text: &str,
) -> Result<Vec<String>, CodegenError> {
    let now = LoadedPlan::load(service)?;
    let before = LoadedPlan::parse(now.path.clone(), previous_plan_text.to_string())?;
    let options = GenerateOptions {
        out: Some(out.to_path_buf()),
        target: Some(read_manifest(out).map_or_else(|| Target::from_plan(&now.plan), |m| m.target)),
        templates: None,
        force: true,
    };
    let old = render_crate(service, &before, &options)?;
    let new = render_crate(service, &now, &options)?.files;
    // `convert` rewrote the plan after `generate` stamped its hash into the files: compare
    // them as generated, with the hash their manifest holds.
    let stamped = read_manifest(out).map(|m| m.plan_sha256[..16].to_string());
    let old_hash = old.manifest.plan_sha256[..16].to_string();
    let old: Vec<(PathBuf, String, bool)> = old
        .files
        .into_iter()
        .map(|(p, t, x)| match &stamped {
            Some(hash) => (p, t.replace(&old_hash, hash), x),
            None => (p, t, x),
        })
        .collect();
    let mut kept = Vec::new();
    for name in API_FILES {
        let text_of = |files: &[(PathBuf, String, bool)]| {
            files
                .iter()
                .find(|(p, _, _)| p == Path::new(name))
                .map(|(_, t, _)| t.clone())
        };
        let (Some(old), Some(new)) = (text_of(&old), text_of(&new)) else {
            continue;
        };
        let path = out.join(name);
        let current = std::fs::read_to_string(&path).ok();
        // The assets are the plan's, whatever was there.
        let asset = name.starts_with("assets/");
        if current.as_deref() == Some(new.as_str()) || (old == new && !asset) {
            continue;
        }
        if current.as_deref() != Some(old.as_str()) && !asset {
            kept.push(format!(
                "{} was edited since `generate`: kept as it is (regenerate to show what `convert` recorded)",
                path.display()
            ));
            continue;
        }
        wasm_migrate_plan::write_atomic(&path, new.as_bytes(), true)?;
    }
    Ok(kept)
}

/// What `generate` recorded in the crate.
fn read_manifest(out: &Path) -> Option<GlueManifest> {
    let text = std::fs::read_to_string(out.join(MANIFEST_FILE)).ok()?;
    serde_json::from_str::<GlueManifest>(&text).ok()
}

/// Every file of a glue crate, rendered from a plan; nothing is written.
struct Rendered {
    files: Vec<(PathBuf, String, bool)>,
    binary: Vec<(PathBuf, Vec<u8>)>,
    manifest: GlueManifest,
    warnings: Vec<String>,
}

/// [`render_crate`] for its refusal alone: `generate`'s dry run. `artifact`: the model file
/// must be there too (it is not a capability: the service's model script may make it later).
pub(crate) fn render_check(
    service: &Path,
    loaded: &LoadedPlan,
    options: &GenerateOptions,
    artifact: bool,
) -> Result<(), CodegenError> {
    if artifact {
        artifact_exists(service, loaded)?;
    }
    render_crate(service, loaded, options).map(|_| ())
}

/// The model file the plan names is in the service (a Transformers artifact may be a hub id).
fn artifact_exists(service: &Path, loaded: &LoadedPlan) -> Result<(), CodegenError> {
    let Some(model) = &loaded.plan.model else {
        return Ok(());
    };
    match &model.artifact {
        Some(artifact)
            if model.framework != Framework::Transformers && !service.join(artifact).exists() =>
        {
            Err(CodegenError::Unsupported {
                path: loaded.path.clone(),
                message: format!(
                    "model.artifact `{artifact}` does not exist under {} (run the service's \
                     model script, or fix the plan)",
                    service.display()
                ),
            })
        }
        _ => Ok(()),
    }
}

fn render_crate(
    service: &Path,
    loaded: &LoadedPlan,
    options: &GenerateOptions,
) -> Result<Rendered, CodegenError> {
    let plan = loaded.plan.clone();
    let plan_path = loaded.path.clone();
    let plan_text = loaded.text.clone();
    let target = options.target.unwrap_or_else(|| Target::from_plan(&plan));
    let unsupported = |message: String| CodegenError::Unsupported {
        path: plan_path.clone(),
        message,
    };
    let model = plan.model.as_ref().ok_or_else(|| {
        unsupported("the plan has no model: there is nothing for wasi-nn to run".into())
    })?;
    if let Err(why) = model.framework.conversion() {
        return Err(unsupported(format!(
            "model.framework `{}`: {why}",
            model.framework.as_str()
        )));
    }
    let input = plan.input.as_ref();
    let glue = match input.map(|i| i.kind.glue()) {
        None => GlueKind::Image,
        Some(Ok(glue)) => glue,
        Some(Err(why)) => return Err(unsupported(format!("input.kind: {why}"))),
    };
    let fed = input.map_or(glue.fed_type(), |i| glue.judged_type(i.dtype));
    if !target.legal_input_types().contains(&fed) && !options.force {
        return Err(unsupported(format!(
            "input.dtype `{fed}` is not decoded correctly by {}: WasmEdge 0.14 (and the runwasi \
             shim) numbers tensor types differently and only f32 means the same everywhere, and \
             no WasmEdge up to 0.17 takes i64; target a runtime that reads it (--target wasmtime, \
             or wasmedge@0.15 for f16/u8/i32), feed f32, or pass --force",
            target.name()
        )));
    }
    let kind = glue.as_str();
    let mut warnings = Vec::new();
    let compiled = if kind == "image" {
        let compiled = compile_image_steps(&plan, &plan_path, &plan_text)?;
        warnings.extend(compiled.warnings.clone());
        Some(compiled)
    } else {
        None
    };

    let array = if kind == "tensor" {
        Some(crate::array::array_setup(&plan, &plan_path, &plan_text)?)
    } else {
        None
    };

    let text = if kind == "text" {
        Some(crate::text::text_setup(
            &plan, service, &plan_path, &plan_text,
        )?)
    } else {
        None
    };
    let labels: Vec<String> = match &plan.labels {
        Some(file) => match read_labels(&find_labels(service, file)) {
            Ok(labels) => labels,
            Err(why) => {
                warnings.push(format!(
                    "labels `{file}`: {why}; top-k is given without labels"
                ));
                Vec::new()
            }
        },
        None => text.as_ref().map(|t| t.labels.clone()).unwrap_or_default(),
    };
    let softmax = plan.postprocessing.iter().any(|s| s.is(KnownOp::Softmax));
    let top_k = plan
        .postprocessing
        .iter()
        .find(|s| s.is(KnownOp::TopK))
        .and_then(|s| s.params.get("k").or(s.params.get("arg1")))
        .and_then(|v| match v {
            wasm_migrate_plan::Value::Int(k) => Some(*k as usize),
            _ => None,
        })
        .unwrap_or(if labels.is_empty() {
            5
        } else {
            5.min(labels.len())
        });

    let crate_name = crate_name(&plan.service.name);
    let model_name = "model".to_string();
    let backend = plan.target.backend.unwrap_or(NnBackend::Openvino);
    let plan_sha256 = hex(&Sha256::digest(plan_text.as_bytes()));
    let manifest = GlueManifest {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        service_root: std::fs::canonicalize(service).map_err(io(service))?,
        plan_sha256: plan_sha256.clone(),
        target,
        crate_name: crate_name.clone(),
        model_name: model_name.clone(),
        kind: kind.to_string(),
        backend: backend.to_string(),
        server_port: plan.service.server.as_ref().map_or(8080, |s| s.port),
        instances: plan.service.server.as_ref().map_or(1, |s| s.concurrency()),
        input_types: vec![glue.fed_type()],
    };

    let tera = templates::load(options.templates.as_deref())?;
    let mut context = tera::Context::new();
    context.insert("tool_version", env!("CARGO_PKG_VERSION"));
    context.insert("service_name", &plan.service.name);
    context.insert("crate_name", &crate_name);
    context.insert("plan_hash", &plan_sha256[..16]);
    context.insert("kind", kind);
    context.insert("model_name", &model_name);
    let shape: Option<Vec<i64>> = input.and_then(|i| i.shape.clone());
    context.insert("max_output_elements", &(1usize << 20));
    context.insert("labels", &labels);
    context.insert("labels_file", &plan.labels);
    context.insert("softmax", &softmax);
    context.insert("top_k", &top_k);
    context.insert(
        "steps",
        &compiled
            .as_ref()
            .map(|c| c.steps.clone())
            .unwrap_or_default(),
    );
    context.insert(
        "layout",
        &compiled.as_ref().map(|c| c.layout).unwrap_or("Nchw"),
    );
    context.insert(
        "input_help",
        match kind {
            "image" => "inputs are image files (PNG, JPEG) named on the command line",
            "text" => "inputs are UTF-8 text files named on the command line, one text each",
            _ => "inputs are the arrays a client sends: JSON numbers (`.json`) or `.npy` files, named on the command line",
        },
    );
    context.insert(
        "example_input",
        match kind {
            "image" => "photo.png",
            "text" => "review.txt",
            _ => "input.npy",
        },
    );
    context.insert("text", &text);
    context.insert(
        "array_ops",
        &array.as_ref().map(|a| a.rendered()).unwrap_or_default(),
    );
    context.insert(
        "model_inputs",
        &text
            .as_ref()
            .map(|t| t.model_inputs.clone())
            .unwrap_or_else(|| vec!["input".into()]),
    );
    context.insert("runtime_version", &plan.target.runtime_version);
    context.insert(
        "aot_run_mode",
        &wasm_migrate_plan::capability::wasmedge_needs_aot_run_mode(&plan.target.runtime_version),
    );
    let server = plan.service.server.as_ref();
    context.insert("server_port", &server.map_or(8080, |s| s.port));
    context.insert("instances", &server.map_or(1, |s| s.concurrency()));
    let api = crate::api::api_for(&plan);
    context.insert("health_path", &api.health.as_ref().map(|h| h.path.clone()));
    context.insert("server_kind", &server.map_or("server", |s| s.kind.as_str()));
    let port = server.map_or(8080, |s| s.port);
    context.insert("curl_example", &crate::api::curl_example(&api, port));
    context.insert("route_line", &crate::api::route_line(&api));
    // `wasm-migrate bench` records a measured figure here; until then the manifest says it guesses.
    context.insert("memory_request", &Option::<String>::None);
    let plugin_backend = backend.wasmedge_plugin();
    context.insert("backend", plugin_backend.as_str());
    let (preload, preload_in_pod) = preload_lines(plugin_backend, &model_name);
    context.insert("preload", &preload);
    context.insert("preload_in_pod", &preload_in_pod);
    context.insert("plugin_dir", "/opt/wasmedge/plugin");
    context.insert("model_host_path", &format!("/var/lib/{crate_name}/model"));
    context.insert("image", &format!("registry.example.com/{crate_name}:0.1.0"));
    // The conversion script.
    context.insert("service_root", &manifest.service_root.display().to_string());
    let entry_file = plan
        .service
        .entrypoint
        .as_ref()
        .map(|e| e.file.clone())
        .or_else(|| model.loaded_at.rsplit_once(':').map(|(f, _)| f.to_string()))
        .unwrap_or_default();
    context.insert("entry_file", &entry_file);
    let workdir = plan
        .service
        .entrypoint
        .as_ref()
        .and_then(|e| e.workdir.clone());
    context.insert("workdir", &workdir.unwrap_or_default());
    context.insert("artifact", &model.artifact);
    // A TorchServe handler class, started as TorchServe's worker starts it.
    let torchserve_handler = plan
        .service
        .entrypoint
        .as_ref()
        .filter(|e| e.kind == wasm_migrate_plan::ServingKind::Torchserve)
        .map(|e| e.handler.clone());
    context.insert("torchserve_handler", &torchserve_handler);
    let archive = plan
        .service
        .server
        .as_ref()
        .and_then(|s| s.archive.as_ref());
    context.insert("torchserve_archive", &archive);
    let framework = match model.framework {
        Framework::Pytorch => "pytorch",
        Framework::Torchscript => "torchscript",
        Framework::Onnx => "onnx",
        Framework::Keras | Framework::Tensorflow => "keras",
        Framework::Transformers => "transformers",
        _ => "other",
    };
    context.insert("framework", framework);
    context.insert("weights", "f32");
    let formats: &[&str] = match framework {
        "pytorch" => &[
            "model.onnx (torch.onnx.export)",
            "model.xml + model.bin (OpenVINO IR)",
            "model.pt (TorchScript)",
        ],
        "torchscript" => &[
            "model.onnx (torch.onnx.export of the TorchScript module)",
            "model.xml + model.bin (OpenVINO IR)",
            "model.pt (the TorchScript file, copied)",
        ],
        "onnx" => &[
            "model.onnx (the service's own, copied)",
            "model.xml + model.bin (OpenVINO IR)",
        ],
        "keras" => &[
            "model.xml + model.bin (OpenVINO IR)",
            "model.onnx (tf2onnx, when installed)",
            "model.tflite (TensorFlow Lite)",
        ],
        "transformers" => &[
            "model.onnx (torch.onnx.export: token tensors in, logits out)",
            "model.xml + model.bin (OpenVINO IR)",
        ],
        _ => &[],
    };
    context.insert("formats", formats);
    let shape_for_script: Vec<i64> = shape.clone().unwrap_or_default();
    let mut script_context = context.clone();
    script_context.insert("input_shape", &shape_for_script);
    script_context.insert(
        "input_channels",
        &compiled.as_ref().map_or(3, |c| c.channels),
    );

    let mut files: Vec<(PathBuf, String, bool)> = vec![
        (
            "Cargo.toml".into(),
            templates::render(&tera, "glue/Cargo.toml.tera", &context)?,
            false,
        ),
        (
            ".cargo/config.toml".into(),
            templates::render(&tera, "glue/cargo-config.toml.tera", &context)?,
            false,
        ),
        (
            "src/main.rs".into(),
            templates::render(&tera, "glue/main.rs.tera", &context)?,
            false,
        ),
        (
            "README.md".into(),
            templates::render(&tera, "glue/README.md.tera", &context)?,
            false,
        ),
        (
            "deploy/run-wasmedge.sh".into(),
            templates::render(&tera, "deploy/run-wasmedge.sh.tera", &context)?,
            true,
        ),
        (
            "deploy/kubernetes.yaml".into(),
            templates::render(&tera, "deploy/kubernetes.yaml.tera", &context)?,
            false,
        ),
        (
            "deploy/Dockerfile".into(),
            templates::render(&tera, "deploy/Dockerfile.tera", &context)?,
            false,
        ),
        (
            "convert_model.py".into(),
            templates::render(&tera, "convert/convert_model.py.tera", &script_context)?,
            false,
        ),
        (
            MANIFEST_FILE.into(),
            serde_json::to_string_pretty(&manifest).expect("serialisable") + "\n",
            false,
        ),
    ];
    files.push(("assets/api.json".into(), crate::api::api_json(&plan), false));
    // The glue checks (and conforms) its tensor to the model's shape, which `convert` learns
    // when the plan does not say it, and records here.
    // Token and array tensors keep the plan's (a converted text model's sequence length is
    // the export's, not a limit of the original).
    let model_input = match kind {
        "image" => plan.model_input_shape(),
        _ => input.and_then(|i| i.shape.clone()),
    };
    let model_input = serde_json::to_string(&model_input).unwrap_or_default();
    files.push(("assets/model_input.json".into(), model_input + "\n", false));
    // The library versions `convert` found, which decide arithmetic that changed between
    // releases (OpenCV 5's grayscale weights).
    let versions = plan
        .converted
        .as_ref()
        .map(|c| c.versions.clone())
        .unwrap_or_default();
    let versions = serde_json::to_string(&versions).unwrap_or_default();
    files.push(("assets/versions.json".into(), versions + "\n", false));
    for (name, text) in templates::GLUE_SERVER {
        files.push((Path::new("src").join(name), (*text).to_string(), false));
    }
    if kind == "image" {
        files.push((
            "src/ops/mod.rs".into(),
            templates::OPS_MOD.to_string(),
            false,
        ));
        for (name, text) in templates::OPS {
            files.push((Path::new("src/ops").join(name), (*text).to_string(), false));
        }
    }
    if kind == "tensor" {
        let (name, text) = templates::ARRAY_OPS;
        files.push((Path::new("src").join(name), text.to_string(), false));
    }
    let mut binary: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    if let Some(text) = &text {
        // Embedded in the module with include_bytes!: the tokenizer travels with the code.
        binary.push(("assets/tokenizer.json".into(), text.tokenizer_json.clone()));
    }
    Ok(Rendered {
        files,
        binary,
        manifest,
        warnings,
    })
}

/// The class labels the generated glue embeds: the plan's label file, or for a text model the
/// `id2label` of its config (empty when neither is there).
pub fn glue_labels(service: &Path) -> Vec<String> {
    let Ok(LoadedPlan { plan, path, text }) = LoadedPlan::load(service) else {
        return Vec::new();
    };
    match &plan.labels {
        Some(file) => read_labels(&find_labels(service, file)).unwrap_or_default(),
        None if plan.input.as_ref().map(|i| i.kind) == Some(InputKind::Text) => {
            crate::text::text_setup(&plan, service, &path, &text)
                .map(|t| t.labels)
                .unwrap_or_default()
        }
        None => Vec::new(),
    }
}

/// Formats the generated Rust with rustfmt when it is installed (it comes with rustup's default
/// profile); the templates are close to rustfmt's style, so without it the code stays readable.
fn format_rust(crate_dir: &Path) {
    let main = crate_dir.join("src/main.rs");
    let _ = std::process::Command::new("rustfmt")
        .args(["--edition", "2024"])
        .arg(&main)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// The plan's label file: relative to the service root, or else the one file of that name in
/// a directory just below it (TorchServe handlers read theirs from `model_dir`).
fn find_labels(service: &Path, file: &str) -> PathBuf {
    let direct = service.join(file);
    if direct.is_file() {
        return direct;
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(service)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join(file))
        .filter(|p| p.is_file() && !p.starts_with(default_out(service)))
        .collect();
    if found.len() == 1 {
        found.remove(0)
    } else {
        direct
    }
}

/// One label per line, or a JSON object from class index to name (TorchServe's
/// `index_to_name.json`, where a value may also be `[id, name]`).
fn read_labels(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if path.extension().is_some_and(|e| e == "json") {
        let map: std::collections::BTreeMap<String, serde_json::Value> =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut indexed: Vec<(usize, String)> = Vec::new();
        for (key, value) in map {
            let index: usize = key
                .parse()
                .map_err(|_| format!("{}: key `{key}` is not a class index", path.display()))?;
            let name = match &value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(items) => items
                    .last()
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
                other => other.to_string(),
            };
            indexed.push((index, name));
        }
        indexed.sort();
        let mut labels = vec![String::new(); indexed.last().map_or(0, |(i, _)| i + 1)];
        for (i, name) in indexed {
            labels[i] = name;
        }
        return Ok(labels);
    }
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    Ok(without_line_numbers(&lines)
        .unwrap_or(lines)
        .into_iter()
        .map(String::from)
        .collect())
}

/// The names of a label file whose every line starts with its own index (`0 Cat`, `1: Dog`,
/// Teachable Machine's format): the number is the position, not part of the name, and
/// services strip it (`class_names[i][2:]`). `None` when a line does not.
fn without_line_numbers<'a>(lines: &[&'a str]) -> Option<Vec<&'a str>> {
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let rest = line.strip_prefix(&i.to_string())?;
            let name = rest.trim_start_matches([' ', '\t', ':', ',']);
            (name.len() < rest.len() && !name.is_empty()).then_some(name)
        })
        .collect()
}

/// The `--nn-preload` line for local runs and the one for the pod (model mounted at /model).
fn preload_lines(backend: NnBackend, name: &str) -> (String, String) {
    match backend {
        NnBackend::Pytorch => (
            format!("{name}:pytorch:cpu:model/model.pt"),
            format!("{name}:pytorch:cpu:/model/model.pt"),
        ),
        NnBackend::Tensorflowlite => (
            format!("{name}:tensorflowlite:cpu:model/model.tflite"),
            format!("{name}:tensorflowlite:cpu:/model/model.tflite"),
        ),
        _ => (
            format!("{name}:openvino:cpu:model/model.xml:model/model.bin"),
            format!("{name}:openvino:cpu:/model/model.xml:/model/model.bin"),
        ),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the crate into a fresh directory next to `out`, then swaps it in, so a failure
/// never leaves half a crate. With `force`, `model/` and `target/` of the old one are kept.
fn write_tree(
    out: &Path,
    files: &[(PathBuf, String, bool)],
    binary: &[(PathBuf, Vec<u8>)],
    force: bool,
) -> Result<(), CodegenError> {
    if out.exists() && !force {
        return Err(CodegenError::Exists {
            path: out.to_path_buf(),
        });
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".wasm-migrate-generate-")
        .tempdir_in(parent)
        .map_err(io(parent))?;
    for (relative, text, executable) in files {
        let path = staging.path().join(relative);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
        #[cfg(unix)]
        if *executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(io(&path))?;
        }
        #[cfg(not(unix))]
        let _ = executable;
    }
    for (relative, bytes) in binary {
        let path = staging.path().join(relative);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        std::fs::write(&path, bytes).map_err(io(&path))?;
    }
    format_rust(staging.path());
    // Renames only: killed at any point, `out` is the old crate, the new one, or absent (the
    // old one then waits under a `.wasm-migrate-old-` name), never a mix.
    let old = tempfile::Builder::new()
        .prefix(".wasm-migrate-old-")
        .tempdir_in(parent)
        .map_err(io(parent))?;
    if out.exists() {
        let previous = old.path().join("crate");
        std::fs::rename(out, &previous).map_err(io(out))?;
        for keep in ["model", "target", "app.wasm"] {
            let kept = previous.join(keep);
            if kept.exists() {
                std::fs::rename(&kept, staging.path().join(keep)).map_err(io(&kept))?;
            }
        }
    }
    let staged = staging.keep();
    std::fs::rename(&staged, out).map_err(io(out))?;
    drop(old);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_lines_numbered_by_their_position_lose_the_number() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("labels.txt");
        std::fs::write(&file, "0 Cat\n1 Dog\n2: Bird\n\n").unwrap();
        assert_eq!(read_labels(&file).unwrap(), ["Cat", "Dog", "Bird"]);
        // A number that is not the line's position is part of the name.
        std::fs::write(&file, "1 Cat\n2 Dog\n").unwrap();
        assert_eq!(read_labels(&file).unwrap(), ["1 Cat", "2 Dog"]);
        std::fs::write(&file, "0\n1\n").unwrap();
        assert_eq!(read_labels(&file).unwrap(), ["0", "1"]);
    }
}
