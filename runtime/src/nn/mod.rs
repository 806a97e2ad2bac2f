//! The wasi-nn side of the runtime: which backend runs which model encoding, whether each one
//! can run on this machine (and if not, exactly why), and loading graphs for `--nn-preload`.

pub mod diagnostics;
pub mod onnxruntime;
pub mod openvino;
pub mod tensor;
pub mod tract;

use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use wasmtime_wasi_nn::backend::Id;
use wasmtime_wasi_nn::wit::GraphEncoding;
use wasmtime_wasi_nn::{Backend, Graph};

/// An inference engine the embedded runtime can hand a model to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Pure Rust, ONNX, always available: the default.
    Tract,
    /// OpenVINO IR (xml + bin) and ONNX, from the `openvino` Python package.
    #[serde(rename = "openvino")]
    OpenVino,
    /// ONNX, from the `onnxruntime` Python package.
    #[serde(rename = "onnxruntime")]
    OnnxRuntime,
}

impl BackendKind {
    pub const ALL: [BackendKind; 3] = [
        BackendKind::Tract,
        BackendKind::OpenVino,
        BackendKind::OnnxRuntime,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Tract => "tract",
            Self::OpenVino => "openvino",
            Self::OnnxRuntime => "onnxruntime",
        }
    }

    /// The fastest backend this machine has: OpenVINO, else ONNX Runtime, else tract (built
    /// in, so always there).
    pub fn fastest_available() -> BackendKind {
        [BackendKind::OpenVino, BackendKind::OnnxRuntime]
            .into_iter()
            .find(|&b| status(b).available)
            .unwrap_or(BackendKind::Tract)
    }

    /// The model encodings this backend reads.
    pub fn encodings(self) -> &'static [Encoding] {
        match self {
            Self::Tract | Self::OnnxRuntime => &[Encoding::Onnx],
            Self::OpenVino => &[Encoding::OpenVino, Encoding::Onnx],
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "tract" => Ok(Self::Tract),
            "openvino" => Ok(Self::OpenVino),
            "onnxruntime" | "ort" => Ok(Self::OnnxRuntime),
            "pytorch" | "torch" | "libtorch" => Err(no_backend_for("Pytorch")),
            other => Err(format!(
                "unknown backend `{other}`: choose tract, openvino or onnxruntime"
            )),
        }
    }
}

/// The precision OpenVINO computes in. tract and ONNX Runtime compute in the model's own types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// float32 inference, whatever the device prefers: what verification needs.
    #[default]
    F32 = 0,
    /// The device's own default (bf16 on CPUs with AVX512-BF16 or AMX): what a WasmEdge
    /// deployment on the same CPU computes.
    DeviceDefault = 1,
}

impl FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" => Ok(Self::F32),
            "device-default" => Ok(Self::DeviceDefault),
            other => Err(format!(
                "unknown precision `{other}`: choose f32 or device-default"
            )),
        }
    }
}

/// A model encoding, spelled as WasmEdge's `--nn-preload` spells it (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    #[serde(rename = "openvino")]
    OpenVino,
    Onnx,
    Tensorflow,
    Pytorch,
    #[serde(rename = "tensorflowlite")]
    TensorflowLite,
    Ggml,
    Autodetect,
}

impl FromStr for Encoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "openvino" => Self::OpenVino,
            "onnx" => Self::Onnx,
            "tensorflow" => Self::Tensorflow,
            "pytorch" => Self::Pytorch,
            "tensorflowlite" | "tflite" => Self::TensorflowLite,
            "ggml" => Self::Ggml,
            "autodetect" | "auto" => Self::Autodetect,
            other => {
                return Err(format!(
                    "unknown encoding `{other}`: WasmEdge's are openvino, onnx, pytorch, tensorflowlite, ggml, autodetect"
                ));
            }
        })
    }
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Self::OpenVino => "openvino",
            Self::Onnx => "onnx",
            Self::Tensorflow => "tensorflow",
            Self::Pytorch => "pytorch",
            Self::TensorflowLite => "tensorflowlite",
            Self::Ggml => "ggml",
            Self::Autodetect => "autodetect",
        }
    }
}

/// Why there is no backend for an encoding here, and what to do instead. `encoding` is the
/// `Debug` name wasmtime-wasi-nn uses (`Pytorch`, `Tensorflowlite`, ...).
pub fn no_backend_for(encoding: &str) -> String {
    match encoding.to_ascii_lowercase().as_str() {
        "pytorch" => "PyTorch (TorchScript) models are not run by the embedded runtime: convert the model to ONNX \
                      or OpenVINO IR (`wasm-migrate convert`), or run the module on WasmEdge with the \
                      wasi_nn-pytorch plugin"
            .to_string(),
        "tensorflowlite" => "TensorFlow Lite models are not run by the embedded runtime: convert the model to ONNX \
                             (tf2onnx) or OpenVINO IR, or run the module on WasmEdge with the \
                             wasi_nn-tensorflowlite plugin"
            .to_string(),
        "ggml" => "GGML models (LLMs) are not run by the embedded runtime: run the module on WasmEdge with the \
                   wasi_nn-ggml plugin"
            .to_string(),
        "tensorflow" => "the TensorFlow encoding has no working backend anywhere (WasmEdge's is a stub): convert \
                         the model to ONNX or OpenVINO IR"
            .to_string(),
        "autodetect" => "the guest asked for encoding autodetect, which `load` cannot resolve: give the encoding, or \
                         preload the model with --nn-preload and use load_by_name"
            .to_string(),
        other => format!("no backend handles encoding {other}"),
    }
}

/// Which backend runs ONNX models (tract unless asked: it needs nothing installed), and at
/// which precision OpenVINO computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendChoice {
    pub onnx: BackendKind,
    pub precision: Precision,
    /// Whether a backend keeps what it compiles from a model for the next process.
    pub graph_cache: GraphCache,
}

impl Default for BackendChoice {
    fn default() -> Self {
        Self {
            onnx: BackendKind::Tract,
            precision: Precision::F32,
            graph_cache: GraphCache::On,
        }
    }
}

/// What a backend compiles from a model (OpenVINO's compiled blob), kept on disk beside the
/// module cache so the next process imports it instead of compiling again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GraphCache {
    #[default]
    On,
    /// `--no-cache`: every process compiles the model itself.
    Off,
}

impl GraphCache {
    /// The backend's own directory in the cache: its name and version, so a newer backend
    /// never reads an older one's files (the backend keys each file by the model, the device
    /// and the compile settings itself).
    pub fn dir(self, backend: BackendKind, version: &str) -> Option<std::path::PathBuf> {
        match self {
            GraphCache::On => Some(
                crate::cache::cache_dir()
                    .join("graphs")
                    .join(format!("{}-{version}", backend.name())),
            ),
            GraphCache::Off => None,
        }
    }
}

impl BackendChoice {
    /// The backend that runs a model of this encoding.
    pub fn backend_for(&self, encoding: Encoding) -> Result<BackendKind, String> {
        match encoding {
            Encoding::Onnx => Ok(self.onnx),
            Encoding::OpenVino => Ok(BackendKind::OpenVino),
            other => Err(no_backend_for(other.name())),
        }
    }

    /// The backends a guest's `load` calls reach, one per encoding.
    pub(crate) fn wasi_backends(&self) -> Vec<Backend> {
        let onnx: Backend = match self.onnx {
            BackendKind::Tract => tract::TractBackend.into(),
            BackendKind::OnnxRuntime => onnxruntime::OnnxRuntimeBackend.into(),
            BackendKind::OpenVino => {
                openvino::OpenVinoBackend::new(GraphEncoding::Onnx, *self).into()
            }
        };
        vec![
            onnx,
            openvino::OpenVinoBackend::new(GraphEncoding::Openvino, *self).into(),
        ]
    }
}

/// A graph loaded ahead of the run, and what runs it.
#[derive(Clone)]
pub struct LoadedGraph {
    pub graph: Graph,
    pub backend: BackendKind,
    pub version: String,
    /// The precision the backend computes in (`f32`, `bf16`, or `model` for the model's own types).
    pub precision: String,
}

/// Loads a model from its bytes with the backend the choice gives for its encoding.
pub fn load_graph(
    encoding: Encoding,
    buffers: &[&[u8]],
    choice: &BackendChoice,
) -> Result<LoadedGraph, String> {
    let backend = choice.backend_for(encoding)?;
    match backend {
        BackendKind::Tract => {
            let [bytes] = buffers else {
                return Err(format!(
                    "an ONNX model is one file, {} were given",
                    buffers.len()
                ));
            };
            let graph = tract::load_onnx(bytes)?;
            Ok(LoadedGraph {
                graph: graph.into_wasi(),
                backend,
                version: tract_version(),
                precision: "model".into(),
            })
        }
        BackendKind::OnnxRuntime => {
            let [bytes] = buffers else {
                return Err(format!(
                    "an ONNX model is one file, {} were given",
                    buffers.len()
                ));
            };
            let graph = onnxruntime::load(bytes)?;
            let version = graph.version.clone();
            Ok(LoadedGraph {
                graph: graph.into_wasi(),
                backend,
                version,
                precision: "model".into(),
            })
        }
        BackendKind::OpenVino => Ok(openvino_graph(openvino::load(
            openvino::ModelSource::Buffers(buffers),
            choice,
        )?)),
    }
}

/// Loads a model from its files: OpenVINO reads them itself (mapping the weights), the other
/// backends get the files' bytes.
pub fn load_graph_files(
    encoding: Encoding,
    files: &[std::path::PathBuf],
    choice: &BackendChoice,
) -> Result<LoadedGraph, GraphFileError> {
    if choice.backend_for(encoding) == Ok(BackendKind::OpenVino) {
        // A file that cannot be opened is named as such, not left to OpenVINO's message.
        for path in files {
            std::fs::File::open(path).map_err(|e| GraphFileError::Read(path.clone(), e))?;
        }
        let graph = openvino::load(openvino::ModelSource::Files(files), choice)
            .map_err(GraphFileError::Rejected)?;
        return Ok(openvino_graph(graph));
    }
    let buffers = files
        .iter()
        .map(|path| std::fs::read(path).map_err(|e| GraphFileError::Read(path.clone(), e)))
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&[u8]> = buffers.iter().map(Vec::as_slice).collect();
    load_graph(encoding, &refs, choice).map_err(GraphFileError::Rejected)
}

/// Why a model's files did not load.
#[derive(Debug)]
pub enum GraphFileError {
    /// A file could not be read.
    Read(std::path::PathBuf, std::io::Error),
    /// The backend refused the model.
    Rejected(String),
}

fn openvino_graph(graph: openvino::OpenVinoGraph) -> LoadedGraph {
    let (version, precision) = (graph.version.clone(), graph.precision.clone());
    LoadedGraph {
        graph: graph.into_wasi(),
        backend: BackendKind::OpenVino,
        version,
        precision,
    }
}

pub fn tract_version() -> String {
    "0.21.12".to_string()
}

/// Whether a backend can run here: its version and library, or why not.
#[derive(Debug, Clone, Serialize)]
pub struct BackendStatus {
    pub backend: BackendKind,
    pub available: bool,
    pub version: Option<String>,
    pub library: Option<String>,
    /// How the library was found, or why it is unavailable and what to do.
    pub detail: String,
    pub encodings: Vec<Encoding>,
    /// What it computes a float32 model in by default, and with `--precision f32`.
    pub default_precision: String,
}

pub fn status(backend: BackendKind) -> BackendStatus {
    let encodings = backend.encodings().to_vec();
    let unavailable = |detail: String| BackendStatus {
        backend,
        available: false,
        version: None,
        library: None,
        detail,
        encodings: encodings.clone(),
        default_precision: String::new(),
    };
    match backend {
        BackendKind::Tract => BackendStatus {
            backend,
            available: true,
            version: Some(tract_version()),
            library: None,
            detail: "built in (pure Rust, no native library)".into(),
            encodings,
            default_precision: "f32 (the model's own types)".into(),
        },
        BackendKind::OpenVino => match openvino::library() {
            Ok(lib) => BackendStatus {
                backend,
                available: true,
                version: Some(lib.version.clone()),
                library: lib.path.as_ref().map(|p| p.display().to_string()),
                detail: format!("found via {}", lib.found_via),
                encodings,
                default_precision: format!(
                    "f32 (set by wasm-migrate; the CPU's own default is {}, used with --precision device-default)",
                    lib.cpu_default_precision
                ),
            },
            Err(why) => unavailable(why),
        },
        BackendKind::OnnxRuntime => match onnxruntime::library() {
            Ok(lib) => BackendStatus {
                backend,
                available: true,
                version: Some(lib.version.clone()),
                library: Some(lib.path.display().to_string()),
                detail: format!("found via {}", lib.found_via),
                encodings,
                default_precision: "f32 (the model's own types)".into(),
            },
            Err(why) => unavailable(why),
        },
    }
}

/// The witx ABI sets inputs one by one before `compute`; inputs passed to `compute` by name
/// belong to the WIT interface, which this runtime does not link.
pub(crate) fn witx_inputs_only(
    inputs: Option<&Vec<wasmtime_wasi_nn::backend::NamedTensor>>,
) -> Result<(), wasmtime_wasi_nn::backend::BackendError> {
    match inputs {
        None => Ok(()),
        Some(_) => Err(diagnostics::fail(
            "compute with named inputs is part of the WIT interface, not the witx one",
        )),
    }
}

pub(crate) fn input_index(id: &Id, specs: &[tensor::TensorSpec]) -> Result<usize, String> {
    match id {
        Id::Index(i) => Ok(*i as usize),
        Id::Name(name) => specs
            .iter()
            .position(|s| &s.name == name)
            .ok_or_else(|| format!("set_input: the model has no input named {name}")),
    }
}

pub(crate) fn output_index(id: &Id, count: usize) -> Result<usize, String> {
    match id {
        Id::Index(i) if (*i as usize) < count => Ok(*i as usize),
        Id::Index(i) => Err(format!(
            "get_output: output index {i} is out of range: the model has {count} output(s)"
        )),
        Id::Name(name) => Err(format!(
            "get_output: outputs are reached by index in the witx ABI, not by name ({name})"
        )),
    }
}
