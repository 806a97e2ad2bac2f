//! Decoding and colour: the glue decodes every upload to 8-bit RGB itself, so these steps
//! mostly record what the Python code holds (OpenCV's BGR) or refuse what it cannot.

use wasm_migrate_plan::OpencvReadFlag;
use wasm_migrate_plan::StepLibrary::{Numpy, Opencv, Pil, Torchvision};

use super::context::{Cx, Op, symbol};
use super::ir::{GlueOp, GrayFormula, ImageOp};
use crate::error::CodegenError;

pub const OPS: &[Op] = &[
    Op::new(Pil, "open", pil_open),
    Op::new(Numpy, "frombuffer", numpy_frombuffer),
    Op::new(Opencv, "imdecode", cv_imdecode),
    // `cv2.imread(path)` of the uploaded file: the same decoding from the file's bytes.
    Op::new(Opencv, "imread", cv_imdecode),
    Op::new(Pil, "exif_transpose", pil_exif_transpose),
    Op::new(Pil, "convert", pil_convert),
    Op::new(Pil, "grayscale", pil_grayscale),
    Op::new(Pil, "invert", pil_image_op),
    Op::new(Pil, "mirror", pil_image_op),
    Op::new(Pil, "flip", pil_image_op),
    Op::new(Torchvision, "Grayscale", torchvision_grayscale),
    Op::new(Opencv, "cvtColor", cv_cvt_color),
];

fn pil_open(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.state.decoded = true;
    cx.state.opened_mode = true;
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
    let comment = match OpencvReadFlag::of(cx.step).unwrap_or(OpencvReadFlag::Color) {
        OpencvReadFlag::Color => {
            cx.state.opened_mode = false;
            "decoded above; OpenCV holds it as BGR from here"
        }
        // The file's own channels: one for a grayscale file, BGR for a colour one.
        OpencvReadFlag::Unchanged => {
            cx.state.opened_mode = true;
            "decoded above; OpenCV holds it with the file's own channels, colour as BGR"
        }
        other => {
            return Err(cx.fail(format!(
                "imdecode with {} is not supported (IMREAD_COLOR and IMREAD_UNCHANGED are)",
                other.name()
            )));
        }
    };
    cx.state.decoded = true;
    cx.state.bgr = true;
    cx.push(comment, GlueOp::Nothing);
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
    cx.state.opened_mode = false;
    match mode {
        "RGB" => {
            // Back to three channels: an "L" image's luma in each, as the glue holds it.
            cx.state.gray = false;
            cx.push("RGB", GlueOp::Nothing);
        }
        "L" => push_gray(
            cx,
            GrayFormula::Pil,
            false,
            "PIL convert(\"L\"): Pillow's fixed-point luma",
        )?,
        other => {
            return Err(cx.fail(format!(
                "convert(\"{other}\") has no Rust equivalent (RGB and L do)"
            )));
        }
    }
    Ok(())
}

/// `ImageOps.invert`, `mirror`, `flip`: the pixels mapped or moved, exactly.
fn pil_image_op(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.need_pixels()?;
    let op = ImageOp::ALL
        .into_iter()
        .find(|o| o.python() == cx.step.op)
        .ok_or_else(|| cx.fail("this ImageOps function has no Rust equivalent here"))?;
    cx.push(
        format!("PIL ImageOps.{}", op.python()),
        GlueOp::ImageOps(op),
    );
    Ok(())
}

/// `ImageOps.grayscale(image)`: `convert("L")`.
fn pil_grayscale(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    push_gray(
        cx,
        GrayFormula::Pil,
        false,
        "PIL ImageOps.grayscale: Pillow's fixed-point luma",
    )
}

/// torchvision's `Grayscale(num_output_channels)` on a PIL image: `convert("L")`, merged back
/// to three equal channels when it asks for three.
fn torchvision_grayscale(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    let channels = cx
        .param(&["num_output_channels", "arg0"])
        .and_then(super::context::number);
    match channels {
        None | Some(1.0) => push_gray(
            cx,
            GrayFormula::Pil,
            false,
            "torchvision Grayscale: PIL's luma, one channel",
        ),
        Some(3.0) => {
            push_gray(
                cx,
                GrayFormula::Pil,
                false,
                "torchvision Grayscale(3): PIL's luma in three channels",
            )?;
            cx.state.gray = false;
            Ok(())
        }
        Some(other) => Err(cx.fail(format!("num_output_channels={other} is not 1 or 3"))),
    }
}

fn push_gray(
    cx: &mut Cx<'_>,
    formula: GrayFormula,
    swap_red_blue: bool,
    comment: &str,
) -> Result<(), CodegenError> {
    cx.need_pixels()?;
    cx.state.gray = true;
    cx.state.opened_mode = false;
    cx.state.bgr = false;
    cx.push(
        comment,
        GlueOp::Gray {
            formula,
            swap_red_blue,
        },
    );
    Ok(())
}

fn cv_cvt_color(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    match cx.param(&["code", "arg1"]).and_then(symbol).unwrap_or("") {
        "COLOR_BGR2RGB" | "COLOR_RGB2BGR" => cx.state.bgr = !cx.state.bgr,
        code @ ("COLOR_BGR2GRAY" | "COLOR_RGB2GRAY") => {
            // OpenCV weighs the channels by the order the code names; the glue's pixels are
            // RGB, so a code that names the other order than the Python code holds swaps.
            let names_bgr = code == "COLOR_BGR2GRAY";
            let comment = format!("cv2.cvtColor {code}: OpenCV's fixed-point luma");
            return push_gray(cx, GrayFormula::Opencv, names_bgr != cx.state.bgr, &comment);
        }
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
            ("pil", "convert", "    mode: CMYK\n", "convert(\"CMYK\")"),
            (
                "opencv",
                "imdecode",
                "    flags:\n      symbol: cv2.IMREAD_GRAYSCALE\n",
                "IMREAD_GRAYSCALE",
            ),
            (
                "opencv",
                "cvtColor",
                "    code:\n      symbol: cv2.COLOR_BGR2HSV\n",
                "COLOR_BGR2HSV",
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

    #[test]
    fn opencv_flags_by_value_are_read_and_unchanged_keeps_the_files_channels() {
        let decoded = |flags: &str| {
            compile(
                "onnx",
                "nhwc",
                &[step("opencv", "imdecode", &format!("    flags: {flags}\n"))],
            )
        };
        // `cv2.imdecode(buf, -1)`: the file's own channels, checked per upload at the end.
        let unchanged = decoded("-1").expect("compiles");
        assert_eq!(unchanged.channels, 0);
        assert!(
            unchanged
                .steps
                .last()
                .unwrap()
                .code
                .contains("in_opened_mode"),
            "{:?}",
            unchanged.steps
        );
        assert_eq!(decoded("1").expect("colour").channels, 3);
        let error = decoded("0").unwrap_err().to_string();
        assert!(
            error.contains("IMREAD_GRAYSCALE is not supported"),
            "{error}"
        );
    }

    #[test]
    fn grayscale_keeps_one_channel_and_opencv_weighs_the_order_it_is_told() {
        let steps = compile(
            "onnx",
            "nchw",
            &[
                step("pil", "open", ""),
                step("pil", "convert", "    mode: L\n"),
                step("torchvision", "ToTensor", ""),
            ],
        )
        .expect("compiles");
        assert_eq!(steps.steps[1].code, "let image = image.into_luma_pil();");
        assert_eq!(
            steps.steps[2].code,
            "let tensor = HwcTensor::to_tensor(&image).single_channel();"
        );
        // OpenCV holds BGR and is told BGR: the glue's RGB pixels need no swap...
        let gray = |code: &str, before: &[String]| {
            let mut steps = before.to_vec();
            steps.push(step(
                "opencv",
                "cvtColor",
                &format!("    code:\n      symbol: cv2.{code}\n"),
            ));
            compile("onnx", "nhwc", &steps).expect("compiles")
        };
        let imdecode = [step("opencv", "imdecode", "")];
        let told_bgr = gray("COLOR_BGR2GRAY", &imdecode);
        assert_eq!(
            told_bgr.steps[1].code,
            "let image = image.into_gray_opencv(opencv_major());"
        );
        assert_eq!(
            told_bgr.steps[2].code,
            "let tensor = HwcTensor::from_image(&image).single_channel();"
        );
        // ...told RGB while it holds BGR, it weighs red as blue.
        let told_rgb = gray("COLOR_RGB2GRAY", &imdecode);
        assert_eq!(
            told_rgb.steps[1].code,
            "let image = image.swap_red_blue();\n    let image = image.into_gray_opencv(opencv_major());"
        );
    }
}
