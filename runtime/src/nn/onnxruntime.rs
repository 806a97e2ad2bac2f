//! ONNX Runtime through the `ort` crate, with `libonnxruntime` loaded at run time from the
//! `onnxruntime` Python package (or `ORT_DYLIB_PATH`). Written here rather than taken from
//! wasmtime-wasi-nn because that backend only returns float32 outputs.

use super::diagnostics::{fail, note};
use super::tensor::{ElementType, TensorSpec, check_input, wasi_tensor};
use super::{input_index, output_index};
use crate::native;
use ort::session::Session;
use ort::tensor::TensorElementType;
use ort::value::{DynValue, Tensor, ValueType};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use wasmtime_wasi_nn::backend::{
    BackendError, BackendExecutionContext, BackendFromDir, BackendGraph, BackendInner, Id,
    NamedTensor,
};
use wasmtime_wasi_nn::wit::{ExecutionTarget, GraphEncoding};
use wasmtime_wasi_nn::{ExecutionContext, Graph};

pub struct Library {
    pub version: String,
    pub path: PathBuf,
    pub found_via: String,
}

pub fn library() -> Result<&'static Library, String> {
    static LIBRARY: OnceLock<Result<Library, String>> = OnceLock::new();
    LIBRARY.get_or_init(open).as_ref().map_err(Clone::clone)
}

fn open() -> Result<Library, String> {
    let found = native::find_onnxruntime()?;
    // `ort` panics when the library cannot be opened; open it first to give a message instead.
    // SAFETY: loading ONNX Runtime runs its initialisers, which is what using it means.
    unsafe { libloading::Library::new(&found.path) }
        .map_err(|e| format!("{} could not be loaded: {e}", found.path.display()))?;
    let path = found.path.to_string_lossy().into_owned();
    let committed =
        std::panic::catch_unwind(|| ort::init_from(path).with_name("wasm-migrate").commit());
    match committed {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            return Err(format!(
                "ONNX Runtime at {} did not start: {e}",
                found.path.display()
            ));
        }
        Err(_) => {
            return Err(format!(
                "ONNX Runtime at {} is not a version the ort crate 2.0.0-rc.10 can use (it needs 1.22 or newer)",
                found.path.display()
            ));
        }
    }
    let version = ort::info()
        .split(", ")
        .find_map(|part| part.strip_prefix("git-branch=rel-"))
        .map(str::to_string)
        .or_else(|| native::version_from_file_name(&found.path))
        .unwrap_or_else(|| "unknown".to_string());
    Ok(Library {
        version,
        path: found.path,
        found_via: found.found_via,
    })
}

fn element_of(ty: TensorElementType) -> Option<ElementType> {
    Some(match ty {
        TensorElementType::Float16 => ElementType::F16,
        TensorElementType::Float32 => ElementType::F32,
        TensorElementType::Float64 => ElementType::F64,
        TensorElementType::Uint8 => ElementType::U8,
        TensorElementType::Int32 => ElementType::I32,
        TensorElementType::Int64 => ElementType::I64,
        _ => return None,
    })
}

fn spec_of(name: &str, value_type: &ValueType) -> TensorSpec {
    match value_type {
        ValueType::Tensor { ty, shape, .. } => TensorSpec::new(
            name.to_string(),
            element_of(*ty),
            &format!("{ty:?}"),
            Some(
                shape
                    .iter()
                    .map(|&d| (d >= 0).then_some(d as usize))
                    .collect(),
            ),
        ),
        other => TensorSpec::new(name.to_string(), None, &format!("{other:?}"), None),
    }
}

#[derive(Default)]
pub struct OnnxRuntimeBackend;

pub fn load(bytes: &[u8]) -> Result<OnnxRuntimeGraph, String> {
    let lib = library()?;
    let session = Session::builder()
        .and_then(|b| b.commit_from_memory(bytes))
        .map_err(|e| format!("ONNX Runtime rejected the model: {e}"))?;
    let inputs = session
        .inputs
        .iter()
        .map(|i| spec_of(&i.name, &i.input_type))
        .collect();
    let outputs = session.outputs.iter().map(|o| o.name.clone()).collect();
    Ok(OnnxRuntimeGraph {
        session: Arc::new(Mutex::new(session)),
        inputs,
        outputs,
        version: lib.version.clone(),
    })
}

#[derive(Clone)]
pub struct OnnxRuntimeGraph {
    session: Arc<Mutex<Session>>,
    inputs: Vec<TensorSpec>,
    outputs: Vec<String>,
    pub version: String,
}

impl OnnxRuntimeGraph {
    pub fn into_wasi(self) -> Graph {
        Graph::from(Box::new(self) as Box<dyn BackendGraph>)
    }
}

impl BackendInner for OnnxRuntimeBackend {
    fn encoding(&self) -> GraphEncoding {
        GraphEncoding::Onnx
    }

    fn load(&mut self, builders: &[&[u8]], target: ExecutionTarget) -> Result<Graph, BackendError> {
        let [bytes] = builders else {
            return Err(fail(format!(
                "load: an ONNX model is one file, the guest passed {} buffers",
                builders.len()
            )));
        };
        if target != ExecutionTarget::Cpu {
            note(format!(
                "onnxruntime: the {target:?} target was run on the CPU execution provider"
            ));
        }
        Ok(load(bytes)
            .map_err(|e| fail(format!("load: {e}")))?
            .into_wasi())
    }

    fn as_dir_loadable(&mut self) -> Option<&mut dyn BackendFromDir> {
        None
    }
}

impl BackendGraph for OnnxRuntimeGraph {
    fn init_execution_context(&self) -> Result<ExecutionContext, BackendError> {
        Ok(ExecutionContext::from(Box::new(OnnxRuntimeContext {
            graph: self.clone(),
            inputs: vec![None; self.inputs.len()],
            outputs: Vec::new(),
        })
            as Box<dyn BackendExecutionContext>))
    }
}

/// A tensor's element type, dimensions and little-endian bytes.
type RawTensor = (ElementType, Vec<usize>, Vec<u8>);

struct OnnxRuntimeContext {
    graph: OnnxRuntimeGraph,
    inputs: Vec<Option<RawTensor>>,
    outputs: Vec<RawTensor>,
}

macro_rules! typed {
    ($element:expr, $bytes:expr, |$v:ident: $t:ident| $body:expr) => {
        match $element {
            ElementType::F16 => {
                type $t = half::f16;
                let $v: Vec<$t> = $bytes
                    .chunks_exact(2)
                    .map(|c| half::f16::from_le_bytes([c[0], c[1]]))
                    .collect();
                $body
            }
            ElementType::F32 => {
                type $t = f32;
                let $v: Vec<$t> = $bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect();
                $body
            }
            ElementType::F64 => {
                type $t = f64;
                let $v: Vec<$t> = $bytes
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                    .collect();
                $body
            }
            ElementType::U8 => {
                type $t = u8;
                let $v: Vec<$t> = $bytes.to_vec();
                $body
            }
            ElementType::I32 => {
                type $t = i32;
                let $v: Vec<$t> = $bytes
                    .chunks_exact(4)
                    .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
                    .collect();
                $body
            }
            ElementType::I64 => {
                type $t = i64;
                let $v: Vec<$t> = $bytes
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                    .collect();
                $body
            }
        }
    };
}

fn to_value(element: ElementType, dims: &[usize], bytes: &[u8]) -> ort::Result<DynValue> {
    let shape: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
    typed!(element, bytes, |values: T| Ok(Tensor::<T>::from_array((
        shape, values
    ))?
    .into_dyn()))
}

fn from_value(value: &DynValue) -> Result<RawTensor, String> {
    let ValueType::Tensor { ty, .. } = value.dtype() else {
        return Err(format!("the output is a {:?}, not a tensor", value.dtype()));
    };
    let element = element_of(*ty)
        .ok_or_else(|| format!("the output has type {ty:?}, which wasi-nn cannot carry"))?;
    macro_rules! bytes {
        ($t:ty) => {{
            let (shape, data) = value
                .try_extract_tensor::<$t>()
                .map_err(|e| e.to_string())?;
            let dims = shape.iter().map(|&d| d as usize).collect();
            (dims, data.iter().flat_map(|v| v.to_le_bytes()).collect())
        }};
    }
    let (dims, data): (Vec<usize>, Vec<u8>) = match element {
        ElementType::F16 => bytes!(half::f16),
        ElementType::F32 => bytes!(f32),
        ElementType::F64 => bytes!(f64),
        ElementType::U8 => bytes!(u8),
        ElementType::I32 => bytes!(i32),
        ElementType::I64 => bytes!(i64),
    };
    Ok((element, dims, data))
}

impl BackendExecutionContext for OnnxRuntimeContext {
    fn set_input(&mut self, id: Id, tensor: &wasmtime_wasi_nn::Tensor) -> Result<(), BackendError> {
        let index = input_index(&id, &self.graph.inputs).map_err(fail)?;
        let guest = check_input(&self.graph.inputs, index, tensor).map_err(fail)?;
        self.inputs[index] = Some((guest.element, guest.dims, guest.data.to_vec()));
        Ok(())
    }

    fn compute(
        &mut self,
        inputs: Option<Vec<NamedTensor>>,
    ) -> Result<Option<Vec<NamedTensor>>, BackendError> {
        super::witx_inputs_only(inputs.as_ref())?;
        let mut values: Vec<(String, DynValue)> = Vec::new();
        for (ix, input) in self.inputs.iter().enumerate() {
            let spec = &self.graph.inputs[ix];
            let Some((element, dims, bytes)) = input else {
                return Err(fail(format!(
                    "compute: input {ix} ({}) was never set",
                    spec.name
                )));
            };
            let value =
                to_value(*element, dims, bytes).map_err(|e| fail(format!("compute: {e}")))?;
            values.push((spec.name.clone(), value));
        }
        let mut session = self.graph.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session
            .run(values)
            .map_err(|e| fail(format!("compute: ONNX Runtime: {e}")))?;
        let mut collected = Vec::new();
        for name in &self.graph.outputs {
            let value = &outputs[name.as_str()];
            collected
                .push(from_value(value).map_err(|e| fail(format!("compute: output {name}: {e}")))?);
        }
        drop(outputs);
        self.outputs = collected;
        Ok(None)
    }

    fn get_output(&mut self, id: Id) -> Result<wasmtime_wasi_nn::Tensor, BackendError> {
        let index = output_index(&id, self.outputs.len()).map_err(fail)?;
        let (element, dims, data) = &self.outputs[index];
        Ok(wasi_tensor(*element, dims, data.clone()))
    }
}
