//! The migrated side: the built glue module in the embedded runtime, one run per input (so a
//! failing input is reported on its own), with the converted model preloaded as WasmEdge's
//! `--nn-preload` would, and the glue's `--dump-preprocessed` tensor read back.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;
use wasm_migrate_plan::{Dtype, MigrationPlan, ModelFormat};
use wasm_migrate_runtime::{
    BackendChoice, BackendKind, DirMapping, Encoding, Precision, Preload, Preloaded, RunConfig,
    Runtime, WasmModule,
};

use crate::error::{VerifyError, io};
use crate::tensor_file::{Tensor, read_npy};

/// Where the guest sees the working directory.
const GUEST_DIR: &str = "/verify";

pub struct MigratedRun {
    pub backend: BackendKind,
    pub version: String,
    pub precision: String,
    pub model: Vec<String>,
    pub weights: Dtype,
    pub load_s: f64,
    pub results: Vec<MigratedResult>,
}

#[derive(Debug, Clone, Default)]
pub struct MigratedResult {
    pub error: Option<String>,
    pub fed: Option<Tensor>,
    pub outputs: Vec<(String, Tensor)>,
    /// The glue's top-1 label, when it has labels.
    pub top1_label: Option<String>,
    pub inference_s: Option<f64>,
}

/// The model files for a backend, from the plan's `converted` section (paths relative to the
/// glue directory), and their weight precision.
pub(crate) fn model_files(
    plan: &MigrationPlan,
    glue: &Path,
    backend: BackendKind,
) -> Result<(Encoding, Vec<PathBuf>, Dtype), VerifyError> {
    let converted = plan.converted.as_ref().ok_or_else(|| {
        VerifyError::Usage(format!(
            "the plan records no converted model: run `wasm-migrate convert {}` first",
            glue.parent().unwrap_or(glue).display()
        ))
    })?;
    let wanted = match backend {
        BackendKind::OpenVino => [ModelFormat::Openvino, ModelFormat::Onnx].as_slice(),
        _ => [ModelFormat::Onnx].as_slice(),
    };
    for format in wanted {
        if let Some(artifact) = converted.artifacts.iter().find(|a| a.format == *format) {
            let files: Vec<PathBuf> = artifact.files.iter().map(|f| glue.join(f)).collect();
            if let Some(missing) = files.iter().find(|f| !f.is_file()) {
                return Err(VerifyError::Usage(format!(
                    "{}: the converted model is missing: run `wasm-migrate convert` again",
                    missing.display()
                )));
            }
            let encoding = match format {
                ModelFormat::Openvino => Encoding::OpenVino,
                _ => Encoding::Onnx,
            };
            return Ok((encoding, files, artifact.weights));
        }
    }
    Err(VerifyError::Usage(format!(
        "no converted model the {backend} backend reads ({}): the plan has {}",
        wanted
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(" or "),
        converted
            .artifacts
            .iter()
            .map(|a| a.format.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// One input's line of glue output: the outputs, the top-1 label, the inference time.
type GlueLine = (Vec<(String, Tensor)>, Option<String>, Option<f64>);

fn parse_line(line: &str) -> Result<GlueLine, String> {
    let value: Value =
        serde_json::from_str(line).map_err(|e| format!("the module printed `{line}`: {e}"))?;
    let mut outputs = Vec::new();
    for (k, output) in value["outputs"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let name = output["name"]
            .as_str()
            .map_or_else(|| format!("output{k}"), str::to_string);
        let shape: Vec<usize> = output["shape"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_u64().map(|d| d as usize))
            .collect();
        // serde_json writes NaN and infinities as null.
        let data: Vec<f32> = output["data"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| x.as_f64().map_or(f32::NAN, |v| v as f32))
            .collect();
        outputs.push((
            name,
            Tensor {
                shape,
                data,
                dtype: "float32".into(),
            },
        ));
    }
    if outputs.is_empty() {
        return Err(format!("the module printed no outputs: `{line}`"));
    }
    let label = value["top_k"][0]["label"].as_str().map(str::to_string);
    let inference = value["timing_ms"]["inference"].as_f64().map(|ms| ms / 1e3);
    Ok((outputs, label, inference))
}

/// The converted model preloaded as `model` for `backend`, with its files and weight precision.
/// The converted model as WasmEdge's `--nn-preload` names it (`model:ENCODING:cpu:FILES`),
/// its files, and how its weights are stored.
pub fn preload_spec(
    plan: &MigrationPlan,
    glue: &Path,
    backend: BackendKind,
) -> Result<(String, Vec<PathBuf>, Dtype), VerifyError> {
    let (encoding, files, weights) = model_files(plan, glue, backend)?;
    let spec = format!(
        "model:{}:cpu:{}",
        encoding.name().to_ascii_lowercase(),
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(":")
    );
    Ok((spec, files, weights))
}

pub(crate) fn preload_model(
    plan: &MigrationPlan,
    glue: &Path,
    backend: BackendKind,
    precision: Precision,
) -> Result<(Preloaded, (Vec<PathBuf>, Dtype)), VerifyError> {
    let (spec, files, weights) = preload_spec(plan, glue, backend)?;
    let preload: Preload = spec.parse().map_err(|reason| VerifyError::Migrated {
        path: files[0].clone(),
        reason,
    })?;
    let choice = BackendChoice {
        onnx: backend,
        precision,
        ..BackendChoice::default()
    };
    let preloaded = Preloaded::load(&[preload], &choice).map_err(|e| VerifyError::Migrated {
        path: files[0].clone(),
        reason: e.to_string(),
    })?;
    Ok((preloaded, (files, weights)))
}

/// What the module's runs share, whatever the backend: the compiled module, the plan, the
/// glue directory with the converted models, and the inputs.
pub struct ModuleRuns<'a> {
    pub runtime: &'a Runtime,
    pub module: &'a WasmModule,
    pub plan: &'a MigrationPlan,
    pub glue: &'a Path,
    pub precision: Precision,
    pub inputs: &'a [PathBuf],
    /// A scratch directory the guest sees.
    pub work: &'a Path,
}

/// Runs the module on every input with one backend.
pub fn run_backend(
    runs: &ModuleRuns<'_>,
    backend: BackendKind,
    progress: &dyn Fn(usize, usize),
) -> Result<MigratedRun, VerifyError> {
    let ModuleRuns {
        runtime,
        module,
        plan,
        glue,
        precision,
        inputs,
        work,
    } = *runs;
    let status = wasm_migrate_runtime::nn::status(backend);
    if !status.available {
        return Err(VerifyError::BackendUnavailable {
            backend: backend.to_string(),
            reason: status.detail,
        });
    }
    let choice = BackendChoice {
        onnx: backend,
        precision,
        ..BackendChoice::default()
    };
    let started = Instant::now();
    let (preloaded, (files, weights)) = preload_model(plan, glue, backend, precision)?;
    let load_s = started.elapsed().as_secs_f64();
    let (version, graph_precision) = preloaded
        .graphs()
        .next()
        .map(|(_, g)| (g.version.clone(), g.precision.clone()))
        .unwrap_or_default();

    let dir = work.join(format!("wasm-{backend}"));
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let mut results = Vec::with_capacity(inputs.len());
    for (index, input) in inputs.iter().enumerate() {
        let ext = input
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("bin")
            .to_ascii_lowercase();
        let guest_name = format!("input_{index}.{ext}");
        let staged = dir.join(&guest_name);
        std::fs::copy(input, &staged).map_err(io(input))?;
        let dump_name = format!("input_{index}_pre.npy");
        let config = RunConfig {
            args: vec![
                "--dump-preprocessed".into(),
                format!("{GUEST_DIR}/{dump_name}"),
                format!("{GUEST_DIR}/{guest_name}"),
            ],
            dirs: vec![DirMapping {
                host: dir.clone(),
                guest: GUEST_DIR.into(),
                // It writes the dump here.
                read_only: false,
            }],
            preloaded: preloaded.clone(),
            backends: choice,
            ..RunConfig::default()
        };
        let outcome = runtime
            .run(module, &config)
            .map_err(|e| VerifyError::Migrated {
                path: glue.join("app.wasm"),
                reason: e.to_string(),
            })?;
        let stdout = String::from_utf8_lossy(&outcome.stdout);
        let mut result = MigratedResult::default();
        let dump = dir.join(&dump_name);
        if dump.is_file() {
            result.fed = Some(read_npy(&dump)?);
        }
        if !outcome.ending.success() {
            let stderr = String::from_utf8_lossy(&outcome.stderr);
            let why = outcome.ending.explain().unwrap_or_default();
            result.error = Some(format!("{} {why}", stderr.trim()).trim().to_string());
        } else {
            match stdout.lines().find(|l| l.starts_with('{')).map(parse_line) {
                Some(Ok((outputs, label, inference))) => {
                    result.outputs = outputs;
                    result.top1_label = label;
                    result.inference_s = inference;
                }
                Some(Err(e)) => result.error = Some(e),
                None => result.error = Some("the module printed nothing".into()),
            }
        }
        results.push(result);
        progress(index + 1, inputs.len());
    }
    Ok(MigratedRun {
        backend,
        version,
        precision: graph_precision,
        model: files.iter().map(|f| f.display().to_string()).collect(),
        weights,
        load_s,
        results,
    })
}
