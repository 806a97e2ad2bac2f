//! The tensor template's preprocessing: the array a client sends (JSON numbers, or a float32
//! `.npy` file) is shaped and computed the way the service's NumPy or torch code does before
//! the model (`np.array(item.array, dtype=np.double)`, `reshape(1, 1, 32, 32)`, `/ 255.0`,
//! `astype(np.float32)`). A step with no exact equivalent is refused with its plan line.

use std::path::Path;

use wasm_migrate_plan::{MigrationPlan, PlanStep, StepLibrary, Value};

use crate::error::CodegenError;
use crate::steps::{ScalarOp, number, plan_item_line, symbol};

/// One thing the glue does to the array, in the plan's order.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayOp {
    /// `reshape(newshape)`: at most one `-1`.
    Reshape(Vec<i64>),
    /// `expand_dims(axis)`, `unsqueeze(dim)`, `torch.stack([x])`: a new axis of one.
    NewAxis(i64),
    /// A cast to float32 (`astype(np.float32)`), rounding float64 values once.
    ToFloat32,
    /// A cast to float64 (`np.array(x, dtype=np.double)`): JSON numbers already are.
    ToFloat64,
    /// Arithmetic with one number, in the array's current precision.
    Scalar(ScalarOp, f64),
}

impl ArrayOp {
    /// The vendored `array::Op` expression the template writes.
    pub fn render(&self) -> String {
        match self {
            ArrayOp::Reshape(shape) => format!("Op::Reshape(&{shape:?})"),
            ArrayOp::NewAxis(axis) => format!("Op::NewAxis({axis})"),
            ArrayOp::ToFloat32 => "Op::ToFloat32".into(),
            ArrayOp::ToFloat64 => "Op::ToFloat64".into(),
            ArrayOp::Scalar(op, value) => {
                format!("Op::Scalar(Scalar::{:?}, {value:?})", op)
            }
        }
    }
}

/// The array preprocessing of a tensor plan.
#[derive(Debug, Clone, Default)]
pub struct ArraySetup {
    pub ops: Vec<ArrayOp>,
}

impl ArraySetup {
    pub fn rendered(&self) -> Vec<String> {
        self.ops.iter().map(ArrayOp::render).collect()
    }
}

/// The plan's steps as array ops, or the first step the glue cannot do exactly.
pub fn array_setup(
    plan: &MigrationPlan,
    plan_path: &Path,
    plan_text: &str,
) -> Result<ArraySetup, CodegenError> {
    let mut ops = Vec::new();
    for (index, step) in plan.preprocessing.iter().enumerate() {
        let fail = |why: String| CodegenError::PlanStep {
            path: plan_path.to_path_buf(),
            line: plan_item_line(plan_text, "preprocessing", index),
            message: format!("{}.{} ({}): {why}", step.library.as_str(), step.op, step.at),
        };
        ops.extend(array_op(step).map_err(fail)?);
    }
    Ok(ArraySetup { ops })
}

/// What one step does to a numeric array; `None` when it leaves the values as they are.
fn array_op(step: &PlanStep) -> Result<Option<ArrayOp>, String> {
    let param = |names: &[&str]| names.iter().find_map(|n| step.params.get(*n));
    match (step.library, step.op.as_str()) {
        (StepLibrary::Numpy, "array" | "asarray")
        | (StepLibrary::Torch, "tensor" | "as_tensor") => {
            param(&["dtype", "arg1"]).map_or(Ok(None), |d| cast(d).map(Some))
        }
        (StepLibrary::Numpy, "astype") => match param(&["dtype", "arg0"]) {
            Some(dtype) => cast(dtype).map(Some),
            None => Err("astype without a dtype the plan names".into()),
        },
        (StepLibrary::Torch, "from_numpy") => Ok(None),
        _ if step.is_reshape() => {
            let shape = step
                .new_shape()
                .ok_or("the new shape must be a list of whole numbers")?;
            match shape.iter().filter(|&&d| d == -1).count() {
                0 | 1 if shape.iter().all(|&d| d == -1 || d > 0) => {
                    Ok(Some(ArrayOp::Reshape(shape)))
                }
                _ => Err(format!(
                    "reshape to {shape:?}: only positive sizes and one -1 are shapes"
                )),
            }
        }
        (StepLibrary::Numpy | StepLibrary::Tensorflow, "expand_dims")
        | (StepLibrary::Torch, "unsqueeze") => {
            let axis = param(&["axis", "dim", "arg1", "arg0"])
                .and_then(int)
                .unwrap_or(0);
            Ok(Some(ArrayOp::NewAxis(axis)))
        }
        (StepLibrary::Torch, "stack") => Ok(Some(ArrayOp::NewAxis(0))),
        (StepLibrary::Numpy, op) if ScalarOp::parse(op).is_some() => {
            let value = param(&["value", "arg1"])
                .and_then(number)
                .ok_or("the operand must be one number for an array input")?;
            Ok(Some(ArrayOp::Scalar(
                ScalarOp::parse(op).expect("matched"),
                value,
            )))
        }
        _ => Err(
            "this step has no Rust equivalent for an array input yet; remove it from the plan \
             if the model does not need it, or write it in the generated crate"
                .into(),
        ),
    }
}

/// A cast the glue does exactly: to float32 or float64. A cast to integers or float16 would
/// change the values in ways the glue does not reproduce.
fn cast(dtype: &Value) -> Result<ArrayOp, String> {
    let name = symbol(dtype).ok_or_else(|| format!("the dtype {dtype:?} is not a type name"))?;
    match name {
        "float32" | "single" | "float" | "f4" | "FloatTensor" => Ok(ArrayOp::ToFloat32),
        "float64" | "double" | "float_" | "f8" => Ok(ArrayOp::ToFloat64),
        other => Err(format!(
            "a cast to {other} has no exact Rust equivalent for an array input (float32 and \
             float64 have)"
        )),
    }
}

fn int(v: &Value) -> Option<i64> {
    number(v).filter(|n| n.fract() == 0.0).map(|n| n as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn step(library: &str, op: &str, params: serde_json::Value) -> PlanStep {
        let step =
            serde_json::json!({"library": library, "op": op, "params": params, "at": "app.py:1"});
        serde_json::from_value(step).expect("a plan step")
    }

    fn dtype(name: &str) -> serde_json::Value {
        json!({"dtype": {"symbol": name}})
    }

    #[test]
    fn the_lenet_chain_is_a_cast_a_reshape_and_a_cast() {
        let chain = [
            step("numpy", "array", dtype("numpy.double")),
            step("numpy", "reshape", json!({"newshape": [1, 1, 32, 32]})),
            step("numpy", "astype", dtype("numpy.float32")),
        ];
        let ops: Vec<_> = chain.iter().map(|s| array_op(s).unwrap()).collect();
        assert_eq!(
            ops,
            [
                Some(ArrayOp::ToFloat64),
                Some(ArrayOp::Reshape(vec![1, 1, 32, 32])),
                Some(ArrayOp::ToFloat32)
            ]
        );
    }

    #[test]
    fn arithmetic_batch_axes_and_inferred_sizes_are_ops() {
        assert_eq!(
            array_op(&step("numpy", "divide", json!({"value": 255.0}))).unwrap(),
            Some(ArrayOp::Scalar(ScalarOp::Divide, 255.0))
        );
        assert_eq!(
            array_op(&step("torch", "unsqueeze", json!({"dim": 0}))).unwrap(),
            Some(ArrayOp::NewAxis(0))
        );
        assert_eq!(
            array_op(&step("numpy", "reshape", json!({"newshape": [1, -1]}))).unwrap(),
            Some(ArrayOp::Reshape(vec![1, -1]))
        );
    }

    #[test]
    fn integer_casts_two_unknown_sizes_and_unknown_steps_are_refused() {
        let int_cast = array_op(&step("numpy", "astype", dtype("numpy.uint8")));
        assert!(int_cast.unwrap_err().contains("uint8"));
        let two = array_op(&step("numpy", "reshape", json!({"newshape": [-1, -1]})));
        assert!(two.unwrap_err().contains("one -1"));
        let clip = array_op(&step("numpy", "clip", json!({"a_min": 0})));
        assert!(clip.unwrap_err().contains("no Rust equivalent"));
    }
}
