//! Decoding and colour: the glue decodes every upload to 8-bit RGB itself, so these steps
//! mostly record what the Python code holds (OpenCV's BGR) or refuse what it cannot.

use wasm_migrate_plan::StepLibrary::{Numpy, Opencv, Pil};

use super::context::{Cx, Op, symbol};
use super::ir::GlueOp;
use crate::error::CodegenError;

pub const OPS: &[Op] = &[
    Op::new(Pil, "open", pil_open),
    Op::new(Numpy, "frombuffer", numpy_frombuffer),
    Op::new(Opencv, "imdecode", cv_imdecode),
    Op::new(Pil, "exif_transpose", pil_exif_transpose),
    Op::new(Pil, "convert", pil_convert),
    Op::new(Opencv, "cvtColor", cv_cvt_color),
];

fn pil_open(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.state.decoded = true;
    cx.push(
        "decoded above to 8-bit RGB, bit-exact with PIL (JPEG as its libjpeg-turbo)",
        GlueOp::Nothing,
    );
    Ok(())
}

fn numpy_frombuffer(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.push("the raw bytes are decoded below", GlueOp::Nothing);
    Ok(())
}

fn cv_imdecode(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    if let Some(flag) = cx.param(&["flags", "arg1"]).and_then(symbol)
        && flag != "IMREAD_COLOR"
    {
        return Err(cx.fail(format!(
            "imdecode with {flag} is not supported (only IMREAD_COLOR)"
        )));
    }
    cx.state.decoded = true;
    cx.state.bgr = true;
    cx.push(
        "decoded above; OpenCV holds it as BGR from here",
        GlueOp::Nothing,
    );
    Ok(())
}

fn pil_exif_transpose(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.need_pixels()?;
    cx.push(
        "rotated or flipped by the file's EXIF orientation, as PIL does",
        GlueOp::ExifTranspose,
    );
    Ok(())
}

fn pil_convert(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    let mode = cx
        .param(&["mode", "arg0"])
        .and_then(symbol)
        .unwrap_or("RGB");
    if mode != "RGB" {
        return Err(cx.fail(format!(
            "convert(\"{mode}\") has no Rust equivalent (only RGB)"
        )));
    }
    cx.push("already RGB", GlueOp::Nothing);
    Ok(())
}

fn cv_cvt_color(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    match cx.param(&["code", "arg1"]).and_then(symbol).unwrap_or("") {
        "COLOR_BGR2RGB" | "COLOR_RGB2BGR" => cx.state.bgr = !cx.state.bgr,
        other => {
            return Err(cx.fail(format!("cvtColor with {other:?} has no Rust equivalent")));
        }
    }
    let order = if cx.state.bgr { "BGR" } else { "RGB" };
    cx.push(format!("channel order is now {order}"), GlueOp::Nothing);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{compile, step};

    #[test]
    fn opencv_decodes_to_bgr_and_cvt_color_swaps_back() {
        let steps = compile(
            "onnx",
            "nhwc",
            &[
                step("opencv", "imdecode", ""),
                step(
                    "opencv",
                    "cvtColor",
                    "    code:\n      symbol: cv2.COLOR_BGR2RGB\n",
                ),
            ],
        )
        .expect("compiles");
        assert_eq!(steps.steps[1].comment, "channel order is now RGB");
        // Nothing left in BGR: the implicit conversion does not swap.
        assert_eq!(
            steps.steps[2].code,
            "let tensor = HwcTensor::from_image(&image);"
        );
        let steps = compile("onnx", "nhwc", &[step("opencv", "imdecode", "")]).expect("compiles");
        assert_eq!(
            steps.steps[1].code,
            "let image = image.swap_red_blue();\n    let tensor = HwcTensor::from_image(&image);"
        );
    }

    #[test]
    fn other_modes_and_flags_are_refused_with_the_plan_line() {
        for (library, op, params, named) in [
            ("pil", "convert", "    mode: L\n", "convert(\"L\")"),
            (
                "opencv",
                "imdecode",
                "    flags:\n      symbol: cv2.IMREAD_GRAYSCALE\n",
                "IMREAD_GRAYSCALE",
            ),
            (
                "opencv",
                "cvtColor",
                "    code:\n      symbol: cv2.COLOR_BGR2GRAY\n",
                "COLOR_BGR2GRAY",
            ),
        ] {
            let error = compile("onnx", "nhwc", &[step(library, op, params)])
                .unwrap_err()
                .to_string();
            assert!(error.contains(named), "{error}");
            assert!(error.starts_with("wasm-migrate.yaml:12: "), "{error}");
        }
    }

    #[test]
    fn a_plan_without_decoding_says_the_glue_decodes() {
        let steps = compile("onnx", "nhwc", &[step("numpy", "frombuffer", "")]).expect("compiles");
        assert_eq!(
            steps.warnings,
            ["the plan has no decoding step; the glue decodes PNG/JPEG files to RGB"]
        );
    }
}
