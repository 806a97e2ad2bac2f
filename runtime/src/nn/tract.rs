//! The pure-Rust backend: ONNX models run by `tract`, with no native library at all, so it
//! works on any machine. Models with fixed input shapes are optimised once at load; models
//! with dynamic dimensions are optimised per input shape on first use and kept.

use super::diagnostics::{fail, note};
use super::tensor::{ElementType, TensorSpec, check_input, wasi_tensor};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;
use wasmtime_wasi_nn::backend::{
    BackendError, BackendExecutionContext, BackendFromDir, BackendGraph, BackendInner, Id,
    NamedTensor,
};
use wasmtime_wasi_nn::wit::{ExecutionTarget, GraphEncoding};
use wasmtime_wasi_nn::{ExecutionContext, Graph};

type Plan = Arc<TypedSimplePlan<TypedModel>>;
/// The element type and dimensions of each input: one optimised plan per combination.
type InputShapes = Vec<(ElementType, Vec<usize>)>;

#[derive(Default)]
pub struct TractBackend;

fn element_of(dt: DatumType) -> Option<ElementType> {
    Some(match dt {
        DatumType::F16 => ElementType::F16,
        DatumType::F32 => ElementType::F32,
        DatumType::F64 => ElementType::F64,
        DatumType::U8 => ElementType::U8,
        DatumType::I32 => ElementType::I32,
        DatumType::I64 => ElementType::I64,
        _ => return None,
    })
}

fn datum_of(element: ElementType) -> DatumType {
    match element {
        ElementType::F16 => DatumType::F16,
        ElementType::F32 => DatumType::F32,
        ElementType::F64 => DatumType::F64,
        ElementType::U8 => DatumType::U8,
        ElementType::I32 => DatumType::I32,
        ElementType::I64 => DatumType::I64,
    }
}

/// Parses ONNX bytes and optimises the model; the error text is tract's whole cause chain.
pub fn load_onnx(bytes: &[u8]) -> Result<TractGraph, String> {
    let model = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])
        .map_err(|e| format!("tract could not read the model as ONNX: {e:#}"))?;
    let mut inputs = Vec::new();
    for ix in 0..model.inputs.len() {
        let fact = model.input_fact(ix).map_err(|e| format!("{e:#}"))?;
        let outlet = model.inputs[ix];
        let dt = fact.datum_type.concretize();
        // An open shape fact means even the rank is unknown.
        let dims = if fact.shape.is_open() {
            None
        } else {
            Some(
                fact.shape
                    .dims()
                    .map(|d| d.concretize().and_then(|d| d.as_i64()).map(|d| d as usize))
                    .collect(),
            )
        };
        let backend_type = dt.map_or("unknown".to_string(), |d| format!("{d:?}"));
        inputs.push(TensorSpec::new(
            model.node(outlet.node).name.clone(),
            dt.and_then(element_of),
            &backend_type,
            dims,
        ));
    }
    let fixed = inputs.iter().all(|s| {
        s.dims
            .as_ref()
            .is_some_and(|d| d.iter().all(Option::is_some))
    });
    let graph = TractGraph {
        model: Arc::new(model),
        inputs,
        plans: Arc::new(Mutex::new(HashMap::new())),
    };
    if fixed {
        // Optimise now, so a model tract cannot run is rejected at load, not at compute.
        let shapes: Vec<(ElementType, Vec<usize>)> = graph
            .inputs
            .iter()
            .map(|s| {
                let dims = s
                    .dims
                    .as_ref()
                    .map(|d| d.iter().flatten().copied().collect())
                    .unwrap_or_default();
                (s.element.unwrap_or(ElementType::F32), dims)
            })
            .collect();
        graph.plan_for(&shapes)?;
    }
    Ok(graph)
}

#[derive(Clone)]
pub struct TractGraph {
    model: Arc<InferenceModel>,
    inputs: Vec<TensorSpec>,
    plans: Arc<Mutex<HashMap<InputShapes, Plan>>>,
}

impl TractGraph {
    fn plan_for(&self, shapes: &[(ElementType, Vec<usize>)]) -> Result<Plan, String> {
        let mut plans = self.plans.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(plan) = plans.get(shapes) {
            return Ok(plan.clone());
        }
        let mut model = (*self.model).clone();
        for (ix, (element, dims)) in shapes.iter().enumerate() {
            model
                .set_input_fact(
                    ix,
                    InferenceFact::dt_shape(datum_of(*element), dims.clone()),
                )
                .map_err(|e| format!("{e:#}"))?;
        }
        let plan = model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(|e| format!("tract cannot run this model: {e:#}"))?;
        let plan = Arc::new(plan);
        plans.insert(shapes.to_vec(), plan.clone());
        Ok(plan)
    }
}

impl BackendInner for TractBackend {
    fn encoding(&self) -> GraphEncoding {
        GraphEncoding::Onnx
    }

    fn load(&mut self, builders: &[&[u8]], target: ExecutionTarget) -> Result<Graph, BackendError> {
        if builders.len() != 1 {
            return Err(fail(format!(
                "load: an ONNX model is one file, the guest passed {} buffers",
                builders.len()
            )));
        }
        if target != ExecutionTarget::Cpu {
            note(format!(
                "tract runs on the CPU; the {target:?} target was run on the CPU"
            ));
        }
        let graph = load_onnx(builders[0]).map_err(|e| fail(format!("load: {e}")))?;
        Ok(graph.into_wasi())
    }

    fn as_dir_loadable(&mut self) -> Option<&mut dyn BackendFromDir> {
        None
    }
}

impl TractGraph {
    pub fn into_wasi(self) -> Graph {
        Graph::from(Box::new(self) as Box<dyn BackendGraph>)
    }
}

impl BackendGraph for TractGraph {
    fn init_execution_context(&self) -> Result<ExecutionContext, BackendError> {
        let ctx = TractContext {
            graph: self.clone(),
            inputs: vec![None; self.inputs.len()],
            outputs: Vec::new(),
        };
        Ok(ExecutionContext::from(
            Box::new(ctx) as Box<dyn BackendExecutionContext>
        ))
    }
}

struct TractContext {
    graph: TractGraph,
    inputs: Vec<Option<Tensor>>,
    outputs: Vec<Tensor>,
}

impl BackendExecutionContext for TractContext {
    fn set_input(&mut self, id: Id, tensor: &wasmtime_wasi_nn::Tensor) -> Result<(), BackendError> {
        let index = super::input_index(&id, &self.graph.inputs).map_err(fail)?;
        let guest = check_input(&self.graph.inputs, index, tensor).map_err(fail)?;
        let mut value = Tensor::zero_dt(datum_of(guest.element), &guest.dims)
            .map_err(|e| fail(format!("set_input: {e:#}")))?;
        value.as_bytes_mut().copy_from_slice(guest.data);
        self.inputs[index] = Some(value);
        Ok(())
    }

    fn compute(
        &mut self,
        inputs: Option<Vec<NamedTensor>>,
    ) -> Result<Option<Vec<NamedTensor>>, BackendError> {
        super::witx_inputs_only(inputs.as_ref())?;
        let mut values = TVec::new();
        let mut shapes = Vec::new();
        for (ix, input) in self.inputs.iter().enumerate() {
            let Some(t) = input else {
                return Err(fail(format!(
                    "compute: input {ix} ({}) was never set",
                    self.graph.inputs[ix].name
                )));
            };
            shapes.push((
                element_of(t.datum_type()).unwrap_or(ElementType::F32),
                t.shape().to_vec(),
            ));
            values.push(t.clone().into_tvalue());
        }
        let plan = self
            .graph
            .plan_for(&shapes)
            .map_err(|e| fail(format!("compute: {e}")))?;
        let outputs = plan
            .run(values)
            .map_err(|e| fail(format!("compute: tract failed: {e:#}")))?;
        self.outputs = outputs.into_iter().map(|v| v.into_tensor()).collect();
        Ok(None)
    }

    fn get_output(&mut self, id: Id) -> Result<wasmtime_wasi_nn::Tensor, BackendError> {
        let index = super::output_index(&id, self.outputs.len()).map_err(fail)?;
        let tensor = &self.outputs[index];
        let Some(element) = element_of(tensor.datum_type()) else {
            return Err(fail(format!(
                "get_output: output {index} has type {:?}, which wasi-nn cannot carry",
                tensor.datum_type()
            )));
        };
        Ok(wasi_tensor(
            element,
            tensor.shape(),
            tensor.as_bytes().to_vec(),
        ))
    }
}
