//! Pixels to a float32 tensor, and the steps that only change its layout (the channel order
//! and the batch axis are applied when the tensor is handed over).

use wasm_migrate_plan::KnownOp;
use wasm_migrate_plan::Layout;
use wasm_migrate_plan::StepLibrary::{Keras, Numpy, Tensorflow, Torch, Torchvision};
use wasm_migrate_plan::Value;

use super::context::{Cx, Op, Stage, number, numbers, symbol};
use super::ir::{GlueOp, ScalarOp};
use crate::error::CodegenError;

pub const OPS: &[Op] = &[
    Op::new(Torchvision, "ToImage", torchvision_to_image),
    Op::new(Torchvision, "PILToTensor", torchvision_to_image),
    Op::new(Torchvision, "ToDtype", torchvision_to_dtype),
    Op::new(Torchvision, "ToTensor", torchvision_to_tensor),
    Op::new(Keras, "img_to_array", keras_img_to_array),
    Op::new(Numpy, "astype", numpy_dtype),
    Op::new(Numpy, "array", numpy_dtype),
    Op::new(Numpy, "asarray", numpy_dtype),
    Op::new(Numpy, "transpose", numpy_transpose),
    Op::new(Numpy, "reshape", numpy_reshape),
    Op::new(Numpy, "expand_dims", batch_axis),
    Op::new(Torch, "stack", batch_axis),
    Op::new(Torch, "unsqueeze", batch_axis),
    Op::new(Tensorflow, "expand_dims", batch_axis),
];

/// v2's `ToImage` (and v1's `PILToTensor`): the same 8-bit pixels as a CHW tensor. Geometry
/// after it would run torchvision's tensor kernels, not PIL's.
fn torchvision_to_image(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.need_pixels()?;
    cx.state.tensor_pixels = true;
    cx.state.layout = Some(Layout::Nchw);
    cx.push(
        "8-bit pixels as a CHW tensor: applied when the tensor is handed over",
        GlueOp::Nothing,
    );
    Ok(())
}

fn torchvision_to_dtype(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    let dtype = cx.param(&["dtype", "arg0"]).and_then(symbol);
    if dtype != Some("float32") && dtype != Some("float") {
        return Err(cx.fail(format!(
            "ToDtype to {} has no Rust equivalent here (the model takes float32)",
            dtype.unwrap_or("(unknown)")
        )));
    }
    if cx.state.stage == Stage::Floats {
        cx.push("already float32", GlueOp::Nothing);
        return Ok(());
    }
    let floats = cx.make_floats(false);
    cx.push("pixels as float32 values 0..255", floats);
    if matches!(cx.param(&["scale", "arg1"]), Some(Value::Bool(true))) {
        // v2 scales with `mul_(1.0 / 255)` in float32, not ToTensor's `div(255)`.
        cx.push(
            "ToDtype(scale=True): x * (1 / 255) in float32",
            GlueOp::Scalar {
                op: ScalarOp::Multiply,
                value: 1.0 / 255.0,
            },
        );
    }
    Ok(())
}

fn torchvision_to_tensor(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.need_pixels()?;
    let floats = cx.make_floats(true);
    cx.state.layout = Some(Layout::Nchw);
    cx.push("ToTensor: x / 255 in float32, channels first", floats);
    Ok(())
}

/// Keras' `img_to_array(image)`: the PIL image's pixels as float32 (its default dtype), HWC.
fn keras_img_to_array(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    let dtype = cx.param(&["dtype"]).and_then(symbol).unwrap_or("float32");
    if dtype != "float32" {
        return Err(cx.fail(format!(
            "img_to_array to {dtype} has no Rust equivalent here (the model takes float32)"
        )));
    }
    cx.need_pixels()?;
    let floats = cx.make_floats(false);
    cx.push(
        "Keras img_to_array: pixels as float32 values 0..255",
        floats,
    );
    Ok(())
}

/// `astype(np.float32)`, or `np.array`/`np.asarray` of the image (a view without a dtype).
fn numpy_dtype(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    let dtype = cx.param(&["dtype", "arg0", "arg1"]).and_then(symbol);
    match (dtype, cx.state.stage) {
        (Some("float32"), Stage::Pixels) => {
            let floats = cx.make_floats(false);
            cx.push("pixels as float32 values 0..255", floats);
        }
        (None, _) if !cx.step.is(KnownOp::NumpyAstype) => {
            cx.push("a NumPy view of the pixels", GlueOp::Nothing)
        }
        // `astype(float)`: NumPy's float64, in which the arithmetic after it is collected.
        (Some("float" | "float64" | "double" | "float_"), Stage::Pixels) => {
            cx.state.stage = Stage::Float64;
            cx.push(
                "pixels as float64 (the arithmetic after it is computed in float64)",
                GlueOp::Nothing,
            );
        }
        (Some("float" | "float64" | "double" | "float_"), Stage::Float64) => {
            cx.push("already float64", GlueOp::Nothing)
        }
        (Some("float32"), Stage::Float64) => {
            let cast = cx.state.cast_float64();
            cx.push("the float64 values cast to float32, rounded once", cast);
        }
        (Some("float32"), Stage::Floats) => {
            cx.state.float64_cast_early = false;
            cx.push("already float32", GlueOp::Nothing)
        }
        (other, _) => {
            return Err(cx.fail(format!(
                "dtype {} has no Rust equivalent here (the model takes float32)",
                other.unwrap_or("(unknown)")
            )));
        }
    }
    Ok(())
}

fn numpy_transpose(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    let axes = cx
        .param(&["axes", "arg1"])
        .and_then(numbers)
        .unwrap_or_default();
    if axes != [2.0, 0.0, 1.0] && axes != [0.0, 3.0, 1.0, 2.0] {
        return Err(cx.fail(format!(
            "transpose with axes {axes:?} has no Rust equivalent here"
        )));
    }
    cx.state.layout = Some(Layout::Nchw);
    cx.push(
        "HWC -> CHW: applied when the tensor is handed over",
        GlueOp::Nothing,
    );
    Ok(())
}

/// `np.reshape(x, (1, C, H, W))` or `(1, H, W, C)`, with or without the batch of one: the
/// layout. Any other shape would move values the glue does not move. With the upload in the
/// mode PIL opened it, the channels are the file's: a reshape that names one or three is the
/// service's bet on its clients' files, which a file of the other kind fails as it does there.
fn numpy_reshape(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    let shape = cx
        .param(&["newshape", "shape", "arg1"])
        .and_then(numbers)
        .unwrap_or_default();
    let channels: &[f64] = match (cx.state.gray, cx.state.opened_mode) {
        (true, _) => &[1.0],
        (false, true) => &[1.0, 3.0],
        (false, false) => &[3.0],
    };
    let image = match shape[..] {
        [batch, ref image @ ..] if image.len() == 3 && (batch == 1.0 || batch == -1.0) => image,
        ref image => image,
    };
    let layout = match image {
        [c, _, _] if channels.contains(c) => Layout::Nchw,
        [_, _, c] if channels.contains(c) => Layout::Nhwc,
        _ => {
            return Err(cx.fail(format!(
                "reshape to {shape:?} has no Rust equivalent here (an image with {} channel(s) \
                 first or last, in a batch of one or alone, does)",
                if channels.len() == 1 { "1" } else { "1 or 3" }
            )));
        }
    };
    cx.state.layout = Some(layout);
    cx.push(
        format!("reshape to {shape:?}: the layout, applied when the tensor is handed over"),
        GlueOp::Nothing,
    );
    Ok(())
}

/// `np.expand_dims(x, 0)`, `torch.stack([x])`, `x.unsqueeze(0)`: a batch of one.
fn batch_axis(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    let axis = cx
        .param(&["axis", "dim", "arg1", "arg0"])
        .and_then(number)
        .unwrap_or(0.0);
    if axis != 0.0 {
        return Err(cx.fail(format!(
            "a batch axis at {axis} has no Rust equivalent (only 0)"
        )));
    }
    cx.push("the batch axis of one: part of the layout", GlueOp::Nothing);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{codes, compile, step};

    #[test]
    fn torchvision_v2_to_image_and_to_dtype_scale_by_multiplying() {
        let to_dtype = "    dtype:\n      symbol: torch.float32\n    scale: true\n";
        let plan = |extra: &[String]| {
            let mut steps = vec![step("pil", "open", ""), step("pil", "convert", "")];
            steps.extend_from_slice(extra);
            steps.push(step("torchvision", "ToImage", ""));
            steps.push(step("torchvision", "ToDtype", to_dtype));
            compile("pytorch", "nchw", &steps)
        };
        let steps = plan(&[]).expect("compiles");
        // v2 scales with `mul_(1 / 255)`, which rounds differently from ToTensor's `div(255)`.
        assert_eq!(
            codes(&steps),
            [
                "",
                "",
                "",
                "let mut tensor = HwcTensor::from_image(&image);",
                "tensor.multiply(0.003921569_f32);"
            ]
        );
        assert_eq!(steps.layout, "Nchw");
        // A resize after ToImage would run torchvision's tensor kernels: refused.
        let error = plan(&[
            step("torchvision", "ToImage", ""),
            step("torchvision", "Resize", "    size: 256\n"),
        ])
        .unwrap_err()
        .to_string();
        assert!(error.contains("tensor kernels"), "{error}");
    }

    #[test]
    fn a_reshape_names_the_channels_with_or_without_the_batch() {
        let reshaped = |before: &[String], shape: &str| {
            let mut steps = vec![step("pil", "open", "")];
            steps.extend_from_slice(before);
            steps.push(step(
                "numpy",
                "reshape",
                &format!("    newshape: {shape}\n"),
            ));
            compile("keras", "nchw", &steps)
        };
        let gray = [step("pil", "convert", "    mode: L\n")];
        assert_eq!(reshaped(&gray, "[28, 28, 1]").expect("HWC").layout, "Nhwc");
        assert_eq!(
            reshaped(&gray, "[1, 1, 28, 28]").expect("NCHW").layout,
            "Nchw"
        );
        let error = reshaped(&gray, "[28, 28, 3]").unwrap_err().to_string();
        assert!(error.contains("an image with 1 channel(s)"), "{error}");
        // As PIL opened it, the file decides: one channel or three both compile.
        assert_eq!(
            reshaped(&[], "[1, 28, 28, 1]").expect("gray").layout,
            "Nhwc"
        );
        assert_eq!(
            reshaped(&[], "[-1, 3, 28, 28]").expect("RGB").layout,
            "Nchw"
        );
        let error = reshaped(&[], "[1, 784]").unwrap_err().to_string();
        assert!(error.contains("1 or 3 channel(s)"), "{error}");
    }

    #[test]
    fn layout_steps_set_the_layout_and_refuse_other_axes() {
        let compiled = |op: &str, params: &str| {
            compile(
                "onnx",
                "nhwc",
                &[step("pil", "open", ""), step("numpy", op, params)],
            )
        };
        let steps = compiled("transpose", "    axes: [2, 0, 1]\n").expect("compiles");
        assert_eq!(steps.layout, "Nchw");
        let error = compiled("transpose", "    axes: [1, 0, 2]\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("axes [1.0, 0.0, 2.0]"), "{error}");
        let error = compiled("expand_dims", "    axis: 1\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("a batch axis at 1 has no Rust equivalent"),
            "{error}"
        );
    }
}
