//! wasi-nn for the guest's `wasi_nn` module: graphs the host preloaded, run on its backends,
//! with tensors crossing `host.call` as base64.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::collections::BTreeMap;
use wasmtime_wasi_nn::backend::Id;
use wasmtime_wasi_nn::wit::TensorType;
use wasmtime_wasi_nn::{ExecutionContext, Graph, Tensor};

/// A tensor that crossed the bridge, kept for `verify`'s stage comparison.
#[derive(Debug, Clone)]
pub struct TracedTensor {
    /// `input` (set_input) or `output` (get_output).
    pub kind: &'static str,
    pub index: u32,
    pub dims: Vec<u32>,
    /// The values, widened to f64.
    pub values: Vec<f64>,
}

/// Where traced tensors go, shared by every instance.
pub type Trace = std::sync::Arc<std::sync::Mutex<Vec<TracedTensor>>>;

/// One instance's view: the shared graphs, and the graphs and contexts it opened.
pub(crate) struct NnBridge {
    graphs: std::sync::Arc<BTreeMap<String, Graph>>,
    loaded: Vec<Graph>,
    contexts: Vec<ExecutionContext>,
    trace: Option<Trace>,
}

fn values_of(tensor: &Tensor) -> Vec<f64> {
    let chunks = tensor.data.chunks_exact(width(tensor.ty));
    match tensor.ty {
        TensorType::U8 => tensor.data.iter().map(|v| f64::from(*v)).collect(),
        TensorType::Fp32 => chunks
            .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap_or_default())))
            .collect(),
        TensorType::Fp64 => chunks
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect(),
        TensorType::I32 => chunks
            .map(|c| f64::from(i32::from_le_bytes(c.try_into().unwrap_or_default())))
            .collect(),
        TensorType::I64 => chunks
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()) as f64)
            .collect(),
        TensorType::Fp16 => chunks
            .map(|c| f64::from(half::f16::from_le_bytes([c[0], c[1]])))
            .collect(),
        TensorType::Bf16 => chunks
            .map(|c| f64::from(half::bf16::from_le_bytes([c[0], c[1]])))
            .collect(),
    }
}

fn type_of(name: &str) -> Result<TensorType, String> {
    Ok(match name {
        "f16" => TensorType::Fp16,
        "f32" => TensorType::Fp32,
        "f64" => TensorType::Fp64,
        "u8" => TensorType::U8,
        "i32" => TensorType::I32,
        "i64" => TensorType::I64,
        other => return Err(format!("unknown tensor type `{other}`")),
    })
}

fn name_of(ty: TensorType) -> &'static str {
    match ty {
        TensorType::Fp16 => "f16",
        TensorType::Fp32 => "f32",
        TensorType::Fp64 => "f64",
        TensorType::Bf16 => "bf16",
        TensorType::U8 => "u8",
        TensorType::I32 => "i32",
        TensorType::I64 => "i64",
    }
}

fn width(ty: TensorType) -> usize {
    match ty {
        TensorType::U8 => 1,
        TensorType::Fp16 | TensorType::Bf16 => 2,
        TensorType::Fp32 | TensorType::I32 => 4,
        TensorType::Fp64 | TensorType::I64 => 8,
    }
}

impl NnBridge {
    pub(crate) fn new(
        graphs: std::sync::Arc<BTreeMap<String, Graph>>,
        trace: Option<Trace>,
    ) -> NnBridge {
        NnBridge {
            graphs,
            loaded: Vec::new(),
            contexts: Vec::new(),
            trace,
        }
    }

    fn record(&self, kind: &'static str, index: u32, tensor: &Tensor) {
        if let Some(trace) = &self.trace
            && let Ok(mut trace) = trace.lock()
        {
            trace.push(TracedTensor {
                kind,
                index,
                dims: tensor.dimensions.clone(),
                values: values_of(tensor),
            });
        }
    }

    pub(crate) fn load(&mut self, name: &str) -> Result<serde_json::Value, String> {
        let graph = self.graphs.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.graphs.keys().map(String::as_str).collect();
            format!(
                "no graph is preloaded as `{name}` (preloaded: {}); serve with \
                 --nn-preload {name}:ENCODING:cpu:PATH",
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            )
        })?;
        self.loaded.push(graph.clone());
        Ok(serde_json::json!({ "graph": self.loaded.len() - 1 }))
    }

    pub(crate) fn context(&mut self, graph: usize) -> Result<serde_json::Value, String> {
        let graph = self
            .loaded
            .get(graph)
            .ok_or_else(|| format!("no graph {graph}"))?;
        let context = graph.init_execution_context().map_err(|e| e.to_string())?;
        self.contexts.push(context);
        Ok(serde_json::json!({ "context": self.contexts.len() - 1 }))
    }

    fn context_mut(&mut self, context: usize) -> Result<&mut ExecutionContext, String> {
        self.contexts
            .get_mut(context)
            .ok_or_else(|| format!("no execution context {context}"))
    }

    pub(crate) fn set_input(
        &mut self,
        context: usize,
        index: u32,
        ty: &str,
        dims: Vec<u32>,
        data: &str,
    ) -> Result<serde_json::Value, String> {
        let ty = type_of(ty)?;
        let data = STANDARD
            .decode(data.as_bytes())
            .map_err(|e| format!("the tensor's data is not base64: {e}"))?;
        let elements: usize = dims.iter().map(|d| *d as usize).product();
        if elements * width(ty) != data.len() {
            return Err(format!(
                "a {} tensor of shape {dims:?} is {} bytes, {} were sent",
                name_of(ty),
                elements * width(ty),
                data.len()
            ));
        }
        let tensor = Tensor {
            dimensions: dims,
            ty,
            data,
        };
        self.context_mut(context)?
            .set_input(Id::Index(index), &tensor)
            .map_err(|e| e.to_string())?;
        self.record("input", index, &tensor);
        Ok(serde_json::json!({ "ok": true }))
    }

    pub(crate) fn compute(&mut self, context: usize) -> Result<serde_json::Value, String> {
        self.context_mut(context)?
            .compute()
            .map_err(|e| e.to_string())?;
        Ok(serde_json::json!({ "ok": true }))
    }

    pub(crate) fn get_output(
        &mut self,
        context: usize,
        index: u32,
    ) -> Result<serde_json::Value, String> {
        let tensor = self
            .context_mut(context)?
            .get_output(Id::Index(index))
            .map_err(|e| e.to_string())?;
        self.record("output", index, &tensor);
        Ok(serde_json::json!({
            "type": name_of(tensor.ty),
            "dims": tensor.dimensions,
            "data": STANDARD.encode(&tensor.data),
        }))
    }
}
