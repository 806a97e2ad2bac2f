//! OpenVINO, on the `openvino` crate with the library loaded at run time from the `openvino`
//! Python package. Our own backend rather than wasmtime-wasi-nn's because that one cannot set
//! the inference precision: on CPUs with bf16 support OpenVINO otherwise computes a float32
//! model in bf16, which moves its outputs by about 1e-2 and would fail every verification.

mod workers;

use super::diagnostics::{fail, note};
use super::tensor::{ElementType, TensorSpec, check_input, wasi_tensor};
use super::{BackendChoice, BackendKind, input_index, output_index};
use crate::native;
use openvino::{Core, DeviceType, ElementType as OvType, PropertyKey, RwPropertyKey, Shape};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use wasmtime_wasi_nn::backend::{
    BackendError, BackendExecutionContext, BackendFromDir, BackendGraph, BackendInner, Id,
    NamedTensor,
};
use wasmtime_wasi_nn::wit::{ExecutionTarget, GraphEncoding};
use wasmtime_wasi_nn::{ExecutionContext, Graph};
use workers::{Input, Outputs, Workers};

/// The OpenVINO library this process uses, found once.
pub struct Library {
    pub version: String,
    pub path: Option<PathBuf>,
    pub found_via: String,
    /// What the CPU computes in when nobody asks for a precision (bf16 on CPUs that have it).
    pub cpu_default_precision: String,
    cores: [Mutex<Core>; 2],
}

// SAFETY: `Core` is `Send`; every use goes through the mutex.
unsafe impl Sync for Library {}

pub fn library() -> Result<&'static Library, String> {
    static LIBRARY: OnceLock<Result<Library, String>> = OnceLock::new();
    LIBRARY.get_or_init(open).as_ref().map_err(Clone::clone)
}

fn open() -> Result<Library, String> {
    let found = native::find_openvino()?;
    if let Some(found) = &found {
        // The openvino crate looks for an unversioned `libopenvino_c.so` under
        // $OPENVINO_INSTALL_DIR/runtime/lib/intel64; pip ships `libopenvino_c.so.NNNN`. A link in
        // our cache gives it that name without touching the user's site-packages.
        let install_dir = link_install_dir(&found.path)?;
        // SAFETY: set once, under the OnceLock, before the library is loaded; nothing else in this
        // process reads this variable.
        unsafe { std::env::set_var("OPENVINO_INSTALL_DIR", &install_dir) };
    }
    let mut default_core = Core::new().map_err(|e| format!("OpenVINO could not start: {e}"))?;
    let mut f32_core = Core::new().map_err(|e| format!("OpenVINO could not start: {e}"))?;
    f32_core
        .set_property(
            &DeviceType::CPU,
            &RwPropertyKey::HintInferencePrecision,
            "f32",
        )
        .map_err(|e| format!("OpenVINO refused the f32 inference precision: {e}"))?;
    let cpu_default_precision = default_core
        .get_property(
            &DeviceType::CPU,
            &PropertyKey::Rw(RwPropertyKey::HintInferencePrecision),
        )
        .unwrap_or_else(|_| "unknown".to_string());
    let version = openvino::version();
    let version = version
        .build_number
        .split('-')
        .next()
        .unwrap_or(&version.build_number)
        .to_string();
    let _ = &mut default_core;
    Ok(Library {
        version,
        path: found.as_ref().map(|f| f.path.clone()),
        found_via: found.map_or("OPENVINO_INSTALL_DIR".to_string(), |f| f.found_via),
        cpu_default_precision,
        cores: [Mutex::new(f32_core), Mutex::new(default_core)],
    })
}

fn link_install_dir(library: &std::path::Path) -> Result<PathBuf, String> {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(library.as_os_str().as_encoded_bytes());
    let key: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let install_dir = crate::cache::cache_dir().join("openvino").join(key);
    let lib_dir = install_dir.join("runtime/lib/intel64");
    let link = lib_dir.join("libopenvino_c.so");
    let complete = library
        .file_name()
        .is_some_and(|name| lib_dir.join(name).exists());
    if complete && std::fs::read_link(&link).is_ok_and(|target| target == library) {
        return Ok(install_dir);
    }
    std::fs::create_dir_all(&lib_dir)
        .map_err(|e| format!("cannot create {}: {e}", lib_dir.display()))?;
    // The loader resolves $ORIGIN, and OpenVINO finds its plugins, from the path a library was
    // opened at, which is the link's: every file of the package's libs/ is linked beside it.
    let source_dir = library
        .parent()
        .ok_or("the OpenVINO library has no directory")?;
    let entries = std::fs::read_dir(source_dir)
        .map_err(|e| format!("cannot list {}: {e}", source_dir.display()))?;
    let mut links: Vec<(PathBuf, PathBuf)> = entries
        .flatten()
        .map(|e| (e.path(), lib_dir.join(e.file_name())))
        .collect();
    links.push((library.to_path_buf(), link));
    for (target, link) in links {
        // Made beside the final name and renamed over it, so concurrent runs never see half a link.
        let tmp = lib_dir.join(format!(".tmp-link-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&target, &tmp)
            .and_then(|()| std::fs::rename(&tmp, &link))
            .map_err(|e| {
                format!(
                    "cannot link {} to {}: {e}",
                    link.display(),
                    target.display()
                )
            })?;
    }
    Ok(install_dir)
}

fn element_of(ty: OvType) -> Option<ElementType> {
    Some(match ty {
        OvType::F16 => ElementType::F16,
        OvType::F32 => ElementType::F32,
        OvType::F64 => ElementType::F64,
        OvType::U8 => ElementType::U8,
        OvType::I32 => ElementType::I32,
        OvType::I64 => ElementType::I64,
        _ => return None,
    })
}

fn ov_type(element: ElementType) -> OvType {
    match element {
        ElementType::F16 => OvType::F16,
        ElementType::F32 => OvType::F32,
        ElementType::F64 => OvType::F64,
        ElementType::U8 => OvType::U8,
        ElementType::I32 => OvType::I32,
        ElementType::I64 => OvType::I64,
    }
}

pub struct OpenVinoBackend {
    encoding: GraphEncoding,
    choice: BackendChoice,
}

impl OpenVinoBackend {
    /// OpenVINO reads its own IR (xml + bin) and, through its ONNX front end, ONNX.
    pub fn new(encoding: GraphEncoding, choice: BackendChoice) -> Self {
        Self { encoding, choice }
    }
}

/// Where a model is read from: the buffers a guest passed to `load`, or the files of a
/// `--nn-preload`.
pub enum ModelSource<'a> {
    /// IR is two buffers (xml, weights), ONNX one.
    Buffers(&'a [&'a [u8]]),
    /// IR is two files (xml, bin), ONNX one. OpenVINO maps the weights from the file instead of
    /// copying them, and the process never holds a copy of its own.
    Files(&'a [PathBuf]),
}

/// Reads and compiles a model. With the graph cache on, OpenVINO keeps the compiled blob
/// (keyed by the model, the device and the compile settings) and a later process imports it
/// instead of compiling.
pub fn load(source: ModelSource<'_>, choice: &BackendChoice) -> Result<OpenVinoGraph, String> {
    let lib = library()?;
    let mut core = lib.cores[choice.precision as usize]
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let cache_dir = choice
        .graph_cache
        .dir(BackendKind::OpenVino, &lib.version)
        .map(|dir| dir.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Set before every compile, since the two cores are shared by loads that may differ; an
    // empty CACHE_DIR turns OpenVINO's cache off. The empty device name is the core itself.
    core.set_property(
        &DeviceType::Other("".into()),
        &RwPropertyKey::CacheDir,
        &cache_dir,
    )
    .map_err(|e| format!("OpenVINO refused the cache directory {cache_dir}: {e}"))?;
    let model = match source {
        ModelSource::Buffers(buffers) => read_buffers(&mut core, buffers)?,
        ModelSource::Files(files) => read_files(&mut core, files)?,
    };
    compile(&mut core, &model, lib)
}

fn read_buffers(core: &mut Core, buffers: &[&[u8]]) -> Result<openvino::Model, String> {
    match buffers {
        [model] => core.read_model_from_buffer(model, None),
        [xml, weights] => {
            let mut tensor = openvino::Tensor::new(
                OvType::U8,
                &Shape::new(&[weights.len() as i64]).map_err(|e| e.to_string())?,
            )
            .map_err(|e| format!("cannot hold the weights: {e}"))?;
            tensor
                .get_raw_data_mut()
                .map_err(|e| e.to_string())?
                .copy_from_slice(weights);
            core.read_model_from_buffer(xml, Some(&tensor))
        }
        _ => {
            return Err(format!(
                "OpenVINO takes an IR (xml and bin) or one ONNX file; the guest passed {} buffers",
                buffers.len()
            ));
        }
    }
    .map_err(|e| format!("OpenVINO could not read the model: {e}"))
}

fn read_files(core: &mut Core, files: &[PathBuf]) -> Result<openvino::Model, String> {
    let text = |p: &PathBuf| {
        p.to_str()
            .map(str::to_string)
            .ok_or_else(|| format!("{}: not a UTF-8 path", p.display()))
    };
    let (model, weights) = match files {
        [model] => (text(model)?, String::new()),
        [xml, weights] => (text(xml)?, text(weights)?),
        _ => {
            return Err(format!(
                "OpenVINO takes an IR (xml and bin) or one ONNX file; {} were given",
                files.len()
            ));
        }
    };
    core.read_model_from_file(&model, &weights)
        .map_err(|e| format!("OpenVINO could not read {model}: {e}"))
}

fn compile(
    core: &mut Core,
    model: &openvino::Model,
    lib: &Library,
) -> Result<OpenVinoGraph, String> {
    let mut compiled = core
        .compile_model(model, DeviceType::CPU)
        .map_err(|e| format!("OpenVINO could not compile the model for CPU: {e}"))?;
    let inputs = (0..compiled.get_input_size().map_err(|e| e.to_string())?)
        .map(|i| {
            let node = compiled.get_input_by_index(i).map_err(|e| e.to_string())?;
            let ty = node.get_element_type().map_err(|e| e.to_string())?;
            let shape = node.get_partial_shape().map_err(|e| e.to_string())?;
            let dims = (!shape.get_rank().is_dynamic()).then(|| {
                shape
                    .get_dimensions()
                    .iter()
                    .map(|d| (!d.is_dynamic()).then(|| d.get_min() as usize))
                    .collect()
            });
            Ok(TensorSpec::new(
                node.get_name().unwrap_or_default(),
                element_of(ty),
                &format!("{ty:?}"),
                dims,
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let outputs = compiled.get_output_size().map_err(|e| e.to_string())?;
    let precision_used = compiled
        .get_property(&PropertyKey::Rw(RwPropertyKey::HintInferencePrecision))
        .map(|p| p.into_owned())
        .unwrap_or_else(|_| "unknown".to_string());
    // One request made now: a model the device cannot run fails here, at load, and the first
    // inference finds a request ready.
    let request = compiled.create_infer_request().map_err(|e| e.to_string())?;
    // As many requests as the device computes at once; more would only wait for its cores.
    let most = compiled
        .get_property(&PropertyKey::OptimalNumberOfInferRequests)
        .ok()
        .and_then(|n| n.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let workers = Workers::start(compiled, request, most, outputs)?;
    Ok(OpenVinoGraph {
        workers: Arc::new(workers),
        inputs,
        precision: precision_used,
        version: lib.version.clone(),
    })
}

#[derive(Clone)]
pub struct OpenVinoGraph {
    /// The threads that run the model, shared by every execution context of the graph.
    workers: Arc<Workers>,
    inputs: Vec<TensorSpec>,
    /// The inference precision the compiled model reports (`f32`, `bf16`).
    pub precision: String,
    pub version: String,
}

impl OpenVinoGraph {
    pub fn into_wasi(self) -> Graph {
        Graph::from(Box::new(self) as Box<dyn BackendGraph>)
    }

    /// The infer requests made so far, and the most the graph makes.
    pub fn requests(&self) -> (usize, usize) {
        self.workers.requests()
    }
}

impl BackendInner for OpenVinoBackend {
    fn encoding(&self) -> GraphEncoding {
        self.encoding
    }

    fn load(&mut self, builders: &[&[u8]], target: ExecutionTarget) -> Result<Graph, BackendError> {
        if target != ExecutionTarget::Cpu {
            note(format!(
                "openvino: the {target:?} target was run on the CPU"
            ));
        }
        let graph = load(ModelSource::Buffers(builders), &self.choice)
            .map_err(|e| fail(format!("load: {e}")))?;
        note(format!(
            "openvino {}: compiled for CPU at inference precision {}",
            graph.version, graph.precision
        ));
        Ok(graph.into_wasi())
    }

    fn as_dir_loadable(&mut self) -> Option<&mut dyn BackendFromDir> {
        None
    }
}

impl BackendGraph for OpenVinoGraph {
    fn init_execution_context(&self) -> Result<ExecutionContext, BackendError> {
        Ok(ExecutionContext::from(Box::new(OpenVinoContext {
            graph: self.clone(),
            inputs: Vec::new(),
            outputs: Vec::new(),
        })
            as Box<dyn BackendExecutionContext>))
    }
}

/// A guest's execution context: the inputs it set (kept, as a guest may compute again
/// without setting them) and the outputs of its last compute. It holds no OpenVINO object:
/// what OpenVINO allocates, it allocates on its workers' threads.
struct OpenVinoContext {
    graph: OpenVinoGraph,
    inputs: Vec<Input>,
    /// Each output of the last compute, or why wasi-nn cannot carry it.
    outputs: Outputs,
}

impl BackendExecutionContext for OpenVinoContext {
    fn set_input(&mut self, id: Id, tensor: &wasmtime_wasi_nn::Tensor) -> Result<(), BackendError> {
        let index = input_index(&id, &self.graph.inputs).map_err(fail)?;
        let guest = check_input(&self.graph.inputs, index, tensor).map_err(fail)?;
        let input = Input {
            index,
            element: ov_type(guest.element),
            dims: guest.dims.iter().map(|&d| d as i64).collect(),
            data: guest.data.into(),
        };
        self.inputs.retain(|set| set.index != index);
        self.inputs.push(input);
        Ok(())
    }

    fn compute(
        &mut self,
        inputs: Option<Vec<NamedTensor>>,
    ) -> Result<Option<Vec<NamedTensor>>, BackendError> {
        super::witx_inputs_only(inputs.as_ref())?;
        self.outputs = self
            .graph
            .workers
            .infer(&self.inputs)
            .map_err(|e| fail(format!("compute: OpenVINO: {e}")))?;
        Ok(None)
    }

    fn get_output(&mut self, id: Id) -> Result<wasmtime_wasi_nn::Tensor, BackendError> {
        let index = output_index(&id, self.outputs.len()).map_err(fail)?;
        self.outputs[index]
            .clone()
            .map_err(|e| fail(format!("get_output {index}: {e}")))
    }
}
