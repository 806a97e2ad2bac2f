//! The original side: the Python harness (`harness.py`, shipped in the binary), run with the
//! service's own interpreter, or a reference stored by an earlier run.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wasm_migrate_plan::{InputKind, MigrationPlan};

use crate::error::{VerifyError, io};
use crate::tensor_file::{Tensor, read_npz};

pub const HARNESS: &str = include_str!("harness.py");

/// What `reference.json` holds: the run's environment and one entry per input.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReferenceSummary {
    pub python: String,
    pub versions: BTreeMap<String, String>,
    pub load_seconds: f64,
    pub watched: Vec<String>,
    pub results: Vec<ReferenceResult>,
    /// The API probes (`observe_api`): route, request shape, health and error answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReferenceResult {
    pub input: String,
    pub status: Option<i64>,
    pub error: Option<String>,
    pub response: Value,
    /// The whitespace after a JSON body (`\n` from Flask's jsonify).
    #[serde(default)]
    pub trailer: String,
    /// The class names the response gives, in its order.
    #[serde(default)]
    pub labels: Vec<String>,
    pub request_seconds: f64,
    pub model_seconds: f64,
    /// The `.npz` beside reference.json with what reached the model.
    #[serde(default)]
    pub file: Option<String>,
    /// The models the request called, in order (the `.npz` holds the one compared).
    #[serde(default)]
    pub models_called: Vec<String>,
}

/// One input's recorded tensors.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// What the service fed its model (`pre_0`, `pre_1`...).
    pub fed: Vec<Tensor>,
    /// What the model returned (`out_0`...).
    pub outputs: Vec<Tensor>,
}

pub struct Reference {
    pub dir: PathBuf,
    pub summary: ReferenceSummary,
}

impl Reference {
    pub fn recorded(&self, index: usize) -> Result<Option<Recorded>, VerifyError> {
        let Some(file) = self
            .summary
            .results
            .get(index)
            .and_then(|r| r.file.as_ref())
        else {
            return Ok(None);
        };
        let mut recorded = Recorded::default();
        for (name, tensor) in read_npz(&self.dir.join(file))? {
            if name.starts_with("pre_") {
                recorded.fed.push(tensor);
            } else if name.starts_with("out_") {
                recorded.outputs.push(tensor);
            }
        }
        Ok(Some(recorded))
    }

    /// Reads `reference.json` from a directory a previous `--save-reference` wrote.
    pub fn load(dir: &Path) -> Result<Reference, VerifyError> {
        let path = dir.join("reference.json");
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let summary = serde_json::from_str(&text).map_err(|e| VerifyError::BadInput {
            path: path.clone(),
            reason: format!("not a verify reference: {e}"),
        })?;
        Ok(Reference {
            dir: dir.to_path_buf(),
            summary,
        })
    }
}

/// Runs the harness with `args`; `progress` gets (done, total) as inputs finish.
fn run_harness(
    python: &Path,
    work: &Path,
    args: &[&str],
    progress: &dyn Fn(usize, usize),
) -> Result<Vec<Value>, VerifyError> {
    let script = work.join("wasm_migrate_harness.py");
    std::fs::write(&script, HARNESS).map_err(io(&script))?;
    // How it imports and starts the service: pyharness's module, which it imports.
    let service = wasm_migrate_pyharness::SERVICE;
    let module = work.join(service.file);
    std::fs::write(&module, service.source).map_err(io(&module))?;
    let mut child = Command::new(python)
        .arg(&script)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| VerifyError::NoPython {
            python: python.to_path_buf(),
            reason: e.to_string(),
        })?;
    let stderr = child.stderr.take();
    // Drain stderr on a thread so a chatty service cannot block on a full pipe.
    let stderr_thread = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut stream) = stderr {
            let _ = std::io::Read::read_to_string(&mut stream, &mut text);
        }
        text
    });
    let mut lines = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(value) = serde_json::from_str::<Value>(&line) else {
                continue; // the service's own prints
            };
            if let (Some(done), Some(total)) = (value["progress"].as_u64(), value["of"].as_u64()) {
                progress(done as usize, total as usize);
            }
            lines.push(value);
        }
    }
    let status = child.wait().map_err(|e| VerifyError::NoPython {
        python: python.to_path_buf(),
        reason: e.to_string(),
    })?;
    let stderr = stderr_thread.join().unwrap_or_default();
    if let Some(error) = lines.iter().find(|v| v.get("error").is_some()) {
        return Err(VerifyError::Original {
            kind: error["error"].as_str().unwrap_or("error").to_string(),
            message: error["message"].as_str().unwrap_or_default().to_string(),
        });
    }
    if !status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(10).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        let hint = if stderr.contains("ModuleNotFoundError") {
            "\nthe interpreter lacks a package the service needs: install it there, or pass --python"
        } else {
            ""
        };
        return Err(VerifyError::Original {
            kind: format!("exit {}", status.code().unwrap_or(-1)),
            message: format!("{} failed:\n{}{hint}", python.display(), tail.join("\n")),
        });
    }
    Ok(lines)
}

/// What `make_inputs` makes for the plan's input: `image`, `image:WxH` (photographs of the
/// size the model takes, when no step resizes uploads), `text`, or `tensor:N` (seeded float32
/// arrays of the shape `N` or `AxB` that a client sends).
pub fn inputs_kind(plan: &MigrationPlan) -> Result<String, VerifyError> {
    match plan.input.as_ref().map(|i| i.kind) {
        Some(InputKind::Text) => Ok("text".into()),
        Some(InputKind::Tensor) => {
            let shape = plan.client_array_shape().ok_or_else(|| {
                VerifyError::Usage(
                    "the plan's tensor input has no known size (no reshape to whole sizes in \
                     preprocessing, no input.shape), so verify cannot make arrays for it: set \
                     input.shape, or give inputs with --inputs (.npy or .json files)"
                        .into(),
                )
            })?;
            let sizes: Vec<String> = shape.iter().map(usize::to_string).collect();
            Ok(format!("tensor:{}", sizes.join("x")))
        }
        _ => {
            let mut kind = String::from("image");
            if let Some((width, height)) = plan.fixed_upload_size() {
                kind.push_str(&format!(":{width}x{height}"));
            }
            // The service hands the model the file's own channels and the model takes one:
            // its clients upload grayscale files.
            if plan.keeps_opened_mode() && plan.model_image_channels() == Some(1) {
                kind.push_str(":gray");
            }
            Ok(kind)
        }
    }
}

/// Writes `count` photographs (or seeded random images), texts for a `text` plan, or seeded
/// arrays for a `tensor` plan (`kind` from [`inputs_kind`]) into `dir`; returns their source.
pub fn make_inputs(
    python: &Path,
    work: &Path,
    count: usize,
    dir: &Path,
    kind: &str,
) -> Result<(String, Vec<PathBuf>), VerifyError> {
    let count_text = count.to_string();
    let dir_text = dir.display().to_string();
    let lines = run_harness(
        python,
        work,
        &["make-inputs", &count_text, &dir_text, kind],
        &|_, _| {},
    )?;
    let last = lines.last().cloned().unwrap_or_default();
    let source = last["source"].as_str().unwrap_or("random").to_string();
    let paths = last["inputs"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(PathBuf::from))
                .collect()
        })
        .unwrap_or_default();
    Ok((source, paths))
}

/// A request body the entry route should accept, made from what the service fitted.
#[derive(Debug, Clone, Deserialize)]
pub struct MadeExample {
    pub body: Value,
    /// What it was made from (`the fields of the fitted DictVectorizer`).
    pub source: String,
}

/// JSON bodies made from the service's fitted preprocessors and models (the harness's
/// `examples`), for a service that documents no request.
pub fn made_examples(
    python: &Path,
    service: &Path,
    plan: &MigrationPlan,
    work: &Path,
) -> Result<Vec<MadeExample>, VerifyError> {
    let Some(entry) = plan.service.entrypoint.as_ref() else {
        return Ok(Vec::new());
    };
    let config = json!({ "service": service, "entrypoint": entry });
    let config_path = work.join("examples.json");
    std::fs::write(&config_path, config.to_string()).map_err(io(&config_path))?;
    let lines = run_harness(
        python,
        work,
        &["examples", &config_path.display().to_string()],
        &|_, _| {},
    )?;
    let found = lines.iter().rev().find_map(|l| l.get("examples").cloned());
    Ok(found
        .and_then(|e| serde_json::from_value(e).ok())
        .unwrap_or_default())
}

/// One run of the original: which service, on which inputs, recording what.
pub struct ReferenceRun<'a> {
    pub python: &'a Path,
    pub service: &'a Path,
    pub plan: &'a MigrationPlan,
    pub inputs: &'a [PathBuf],
    /// A scratch directory; the reference goes to `work/reference`.
    pub work: &'a Path,
    /// `--model NAME`: which model's tensors to record when the service calls several.
    pub model: Option<&'a str>,
    /// Also probe the API (health route, bad requests) for `convert`.
    pub observe_api: bool,
}

/// Calls the service's entry point on every input and records what reached its model.
pub fn run_reference(
    run: &ReferenceRun,
    progress: &dyn Fn(usize, usize),
) -> Result<Reference, VerifyError> {
    let ReferenceRun {
        python,
        service,
        plan,
        inputs,
        work,
        model,
        observe_api,
    } = *run;
    let entry = plan.service.entrypoint.as_ref().ok_or_else(|| {
        VerifyError::Usage(format!(
            "{}: the plan names no service entry point (service.entrypoint), so verify cannot call \
             the original: add one (kind, file, handler), or compare against stored outputs with \
             --reference DIR",
            service.join(wasm_migrate_plan::PLAN_FILE_NAME).display()
        ))
    })?;
    let out = work.join("reference");
    let mut entry = serde_json::to_value(entry).expect("serialisable");
    if let Some(input) = &plan.input {
        entry["input_kind"] = serde_json::to_value(input.kind).expect("serialisable");
    }
    // A Keras service's models load without a training configuration Keras 3 refuses.
    if let Some(model) = &plan.model {
        entry["framework"] = serde_json::to_value(model.framework).expect("serialisable");
    }
    // A TorchServe handler starts with the archive's files in its model_dir.
    if let Some(archive) = plan
        .service
        .server
        .as_ref()
        .and_then(|s| s.archive.as_ref())
    {
        entry["archive"] = serde_json::to_value(archive).expect("serialisable");
    }
    let config = json!({
        "service": service,
        "out": out,
        "inputs": inputs,
        "observe_api": observe_api,
        "entrypoint": entry,
        "model_artifact": plan.model.as_ref().and_then(|m| m.artifact.clone()),
        "model": model,
    });
    let config_path = work.join("harness.json");
    std::fs::write(&config_path, config.to_string()).map_err(io(&config_path))?;
    run_harness(
        python,
        work,
        &["reference", &config_path.display().to_string()],
        progress,
    )?;
    Reference::load(&out)
}
