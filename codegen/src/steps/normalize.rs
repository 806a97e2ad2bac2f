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
    let mut op = ScalarOp::parse(&cx.step.op)
        .ok_or_else(|| cx.fail("this arithmetic has no Rust equivalent here"))?;
    if matches!(
        cx.param(&["reflected"]),
        Some(wasm_migrate_plan::Value::Bool(true))
    ) {
        op = match op {
            ScalarOp::Subtract => ScalarOp::SubtractFrom,
            ScalarOp::Add | ScalarOp::Multiply => op,
            _ => {
                return Err(cx.fail(
                    "a number divided by the image (`value / x`) has no Rust equivalent here",
                ));
            }
        };
    }
    let operand = cx.param(&["value", "arg1"]).cloned();
    let values = operand
        .as_ref()
        .and_then(numbers)
        .ok_or_else(|| cx.fail("the operand must be a number or a list of numbers"))?;
    // NumPy computes 8-bit pixels divided, or combined with a float, in float64.
    let promotes = op == ScalarOp::Divide || operand.as_ref().is_some_and(has_float);
    if cx.state.stage == Stage::Pixels && promotes {
        cx.state.stage = Stage::Float64;
    }
    if cx.state.float64_cast_early {
        return Err(cx.fail(
            "float64 arithmetic after a reshape or transpose has no exact Rust equivalent \
             here; cast with astype(np.float32) before it, or do the arithmetic first",
        ));
    }
    if cx.state.stage == Stage::Float64 {
        cx.state.float64.push((op.float64(), values));
        cx.push(
            format!(
                "NumPy float64 {} (8-bit pixels promoted): computed with the cast to float32",
                op.method()
            ),
            GlueOp::Nothing,
        );
        return Ok(());
    }
    cx.need_floats()?;
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

/// Whether a NumPy operand is (or holds) a Python float, which promotes 8-bit pixels.
fn has_float(value: &wasm_migrate_plan::Value) -> bool {
    match value {
        wasm_migrate_plan::Value::Float(_) => true,
        wasm_migrate_plan::Value::List(items) => items.iter().any(has_float),
        _ => false,
    }
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
                "tensor.keras_preprocess_input(KerasMode::Caffe);",
                // No convert: a grayscale file keeps its one channel, as PIL opened it.
                "let tensor = HwcTensor::in_opened_mode(tensor, ops::decode::opened_mode(bytes))?;"
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

    #[test]
    fn arithmetic_on_pixels_runs_in_float64_as_numpy_promotes_it() {
        let pixels = |rest: &[String]| {
            let mut steps = vec![
                step("pil", "open", ""),
                step("pil", "convert", "    mode: RGB\n"),
                step("numpy", "array", ""),
            ];
            steps.extend_from_slice(rest);
            compile("onnx", "nchw", &steps)
        };
        let astype = step(
            "numpy",
            "astype",
            "    dtype:\n      symbol: numpy.float32\n",
        );
        let divided = pixels(&[step("numpy", "divide", "    value: 255\n"), astype.clone()])
            .expect("compiles");
        assert_eq!(
            codes(&divided).last().copied(),
            Some("let tensor = HwcTensor::from_float64(&image, &[(Float64Op::Divide, &[255.0])]);")
        );
        // A float operand promotes too; the cast can be left to the end.
        let shifted = pixels(&[
            step("numpy", "subtract", "    value: 127.5\n"),
            step("numpy", "divide", "    value: 127.5\n"),
        ])
        .expect("compiles");
        assert!(
            codes(&shifted)
                .last()
                .unwrap()
                .contains("&[(Float64Op::Subtract, &[127.5]), (Float64Op::Divide, &[127.5])]"),
            "{:?}",
            codes(&shifted)
        );
        // `(255 - x.astype(float)) / 255`: float64 from the cast, the subtraction reflected.
        let inverted = pixels(&[
            step("numpy", "astype", "    dtype: float\n"),
            step("numpy", "subtract", "    value: 255\n    reflected: true\n"),
            step("numpy", "divide", "    value: 255\n"),
        ])
        .expect("compiles");
        assert!(
            codes(&inverted)
                .last()
                .unwrap()
                .contains("&[(Float64Op::SubtractFrom, &[255.0]), (Float64Op::Divide, &[255.0])]"),
            "{:?}",
            codes(&inverted)
        );
        let error = pixels(&[
            step("numpy", "astype", "    dtype: float\n"),
            step("numpy", "divide", "    value: 1\n    reflected: true\n"),
        ])
        .unwrap_err()
        .to_string();
        assert!(error.contains("a number divided by the image"), "{error}");
        // An int operand keeps uint8, which wraps: refused.
        let wrapped = pixels(&[step("numpy", "subtract", "    value: 1\n")]);
        assert!(wrapped.unwrap_err().to_string().contains("8-bit pixels"));
        // Float64 arithmetic after a layout step would round differently: refused.
        let late = pixels(&[
            step("numpy", "divide", "    value: 255\n"),
            step("numpy", "transpose", "    axes: [2, 0, 1]\n"),
            step("numpy", "subtract", "    value: 0.5\n"),
        ]);
        assert!(late.unwrap_err().to_string().contains("astype(np.float32)"));
    }
}
