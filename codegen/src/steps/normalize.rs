//! Arithmetic on the float32 tensor: NumPy's with a number or a value per channel,
//! torchvision's Normalize, Keras' `preprocess_input`.

use wasm_migrate_plan::Layout;
use wasm_migrate_plan::StepLibrary::{Keras, Numpy, Torchvision};

use super::context::{Cx, Op, Stage, lookup, numbers, symbol};
use super::ir::{GlueOp, KerasMode, ScalarOp};
use crate::error::CodegenError;

pub const OPS: &[Op] = &[
    Op::new(Numpy, "divide", numpy_arithmetic),
    Op::new(Numpy, "subtract", numpy_arithmetic),
    Op::new(Numpy, "multiply", numpy_arithmetic),
    Op::new(Numpy, "add", numpy_arithmetic),
    Op::new(Torchvision, "Normalize", torchvision_normalize),
    Op::new(Keras, "preprocess_input", keras_preprocess_input),
];

/// Keras' `preprocess_input` modes (caffe by default).
const KERAS_MODES: &[(&str, KerasMode)] = &[
    ("tf", KerasMode::Tf),
    ("torch", KerasMode::Torch),
    ("caffe", KerasMode::Caffe),
];

/// `np.divide(x, 255)`, `x - [..]`...: the op's name is NumPy's (and the tensor method's).
fn numpy_arithmetic(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.need_floats()?;
    let op = ScalarOp::parse(&cx.step.op)
        .ok_or_else(|| cx.fail("this arithmetic has no Rust equivalent here"))?;
    let values = cx
        .param(&["value", "arg1"])
        .and_then(numbers)
        .ok_or_else(|| cx.fail("the operand must be a number or a list of numbers"))?;
    let code = match (values.as_slice(), op.per_channel()) {
        ([value], _) => GlueOp::Scalar { op, value: *value },
        (values, Some(op)) => GlueOp::PerChannel {
            op,
            values: values.to_vec(),
        },
        (_, None) => {
            return Err(cx.fail(format!(
                "per-channel {} has no Rust equivalent here",
                op.method()
            )));
        }
    };
    let comment = format!("NumPy float32 {}, broadcast per channel", op.method());
    cx.push(comment, code);
    Ok(())
}

fn torchvision_normalize(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.need_floats()?;
    let mean = cx.param(&["mean", "arg0"]).and_then(numbers);
    let std = cx.param(&["std", "arg1"]).and_then(numbers);
    let (Some(mean), Some(std)) = (mean, std) else {
        return Err(cx.fail("mean and std must be lists of numbers"));
    };
    cx.push(
        "Normalize: (x - mean) / std per channel, in float32",
        GlueOp::Normalize { mean, std },
    );
    Ok(())
}

/// Keras casts pixels to float32 first; the tensor stays NHWC unless a step said otherwise.
fn keras_preprocess_input(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    if cx.state.stage == Stage::Pixels {
        let floats = cx.make_floats(false);
        cx.push("preprocess_input casts the pixels to float32 first", floats);
    }
    let name = cx.param(&["mode"]).and_then(symbol).unwrap_or("caffe");
    let mode = lookup(KERAS_MODES, name).ok_or_else(|| {
        cx.fail(format!(
            "preprocess_input mode {name:?} is not tf, torch or caffe"
        ))
    })?;
    cx.state.layout.get_or_insert(Layout::Nhwc);
    cx.push(
        format!("Keras preprocess_input, mode {name}"),
        GlueOp::KerasPreprocessInput { mode },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{codes, compile, step};

    fn after_floats(
        op: &str,
        params: &str,
    ) -> Result<super::super::CompiledSteps, crate::CodegenError> {
        compile(
            "onnx",
            "nhwc",
            &[
                step("pil", "open", ""),
                step(
                    "numpy",
                    "astype",
                    "    dtype:\n      symbol: numpy.float32\n",
                ),
                step("numpy", op, params),
            ],
        )
    }

    #[test]
    fn arithmetic_needs_floats_and_a_per_channel_method() {
        let steps = after_floats("divide", "    value: [58.4, 57.1, 57.4]\n").expect("compiles");
        assert_eq!(
            codes(&steps)[2],
            "tensor.divide_per_channel(&[58.4_f32, 57.1_f32, 57.4_f32]);"
        );
        let error = after_floats("multiply", "    value: [1, 2, 3]\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("per-channel multiply has no Rust equivalent"),
            "{error}"
        );
        let error = compile(
            "onnx",
            "nhwc",
            &[
                step("pil", "open", ""),
                step("numpy", "add", "    value: 1\n"),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("arithmetic on 8-bit pixels"), "{error}");
    }

    #[test]
    fn keras_preprocess_input_casts_pixels_and_defaults_to_caffe() {
        let steps = compile(
            "keras",
            "nchw",
            &[
                step("pil", "open", ""),
                step("keras", "preprocess_input", ""),
            ],
        )
        .expect("compiles");
        assert_eq!(
            codes(&steps)[1..],
            [
                "let mut tensor = HwcTensor::from_image(&image);",
                "tensor.keras_preprocess_input(KerasMode::Caffe);"
            ]
        );
        assert_eq!(steps.steps[2].comment, "Keras preprocess_input, mode caffe");
        // preprocess_input works on NHWC: the plan's NCHW is overridden, unless an earlier
        // step (a transpose) set the layout.
        assert_eq!(steps.layout, "Nhwc");
        let error = compile(
            "keras",
            "nhwc",
            &[
                step("pil", "open", ""),
                step("keras", "preprocess_input", "    mode: inception\n"),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("mode \"inception\" is not tf, torch or caffe"),
            "{error}"
        );
    }
}
