//! Resizing: PIL's (and torchvision's on a PIL image), OpenCV's and TensorFlow's, each with
//! its own kernel and rounding, and the size rules hand-written code computes.

use wasm_migrate_plan::StepLibrary::{Opencv, Pil, Tensorflow, Torchvision};
use wasm_migrate_plan::Value;

use super::context::{Cx, Op, Stage, lookup, number, numbers, positive_pair, symbol};
use super::ir::{CvInterpolation, GlueOp, OpsEnum, PilFilter, ResizeSize};
use crate::error::CodegenError;

pub const OPS: &[Op] = &[
    Op::new(Torchvision, "Resize", torchvision_resize),
    Op::new(Pil, "resize", pil_resize),
    Op::new(Pil, "fit", pil_fit),
    Op::new(Opencv, "resize", cv_resize),
    Op::new(Tensorflow, "image.resize", tf_image_resize),
];

/// PIL's `resample` names. Pillow's default for resize() has been BICUBIC since 7.0.
const PIL_RESAMPLE: &[(&str, PilFilter)] = &[
    ("BICUBIC", PilFilter::Bicubic),
    ("BILINEAR", PilFilter::Bilinear),
    ("LINEAR", PilFilter::Bilinear),
    ("NEAREST", PilFilter::Nearest),
    ("NONE", PilFilter::Nearest),
    ("BOX", PilFilter::Box),
    ("HAMMING", PilFilter::Hamming),
    ("LANCZOS", PilFilter::Lanczos),
    ("ANTIALIAS", PilFilter::Lanczos),
];

/// torchvision's `InterpolationMode`s on a PIL image (BILINEAR by default).
const TORCHVISION_INTERPOLATION: &[(&str, PilFilter)] = &[
    ("BILINEAR", PilFilter::Bilinear),
    ("NEAREST", PilFilter::Nearest),
    ("NEAREST_EXACT", PilFilter::Nearest),
    ("BICUBIC", PilFilter::Bicubic),
    ("BOX", PilFilter::Box),
    ("HAMMING", PilFilter::Hamming),
    ("LANCZOS", PilFilter::Lanczos),
];

/// cv2's interpolation flags the glue has (INTER_LINEAR by default), and how the generated
/// comment names their numerics.
const CV_INTERPOLATION: &[(&str, (CvInterpolation, &str))] = &[
    (
        "INTER_LINEAR",
        (CvInterpolation::Linear, "OpenCV's 11-bit fixed point"),
    ),
    (
        "INTER_NEAREST",
        (CvInterpolation::Nearest, "OpenCV's floor(x * scale)"),
    ),
    (
        "INTER_AREA",
        (
            CvInterpolation::Area,
            "OpenCV's block means and float cell shares",
        ),
    ),
];

fn torchvision_resize(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.need_pixels()?;
    if cx.state.tensor_pixels {
        return Err(cx.fail(
            "Resize after ToImage/PILToTensor runs torchvision's tensor kernels, which the glue \
             does not mirror; resize the PIL image before ToImage",
        ));
    }
    let sizes = cx
        .param(&["size", "arg0"])
        .and_then(numbers)
        .ok_or_else(|| cx.fail("size must be a number or a list of numbers"))?;
    let filter = match cx.param(&["interpolation", "arg1"]).and_then(symbol) {
        None => PilFilter::Bilinear,
        Some(name) => lookup(TORCHVISION_INTERPOLATION, name)
            .ok_or_else(|| cx.fail(format!("interpolation {name} is not one PIL has")))?,
    };
    if matches!(cx.param(&["antialias"]), Some(Value::Bool(false))) {
        let warning = format!(
            "{}: antialias=False is ignored by torchvision on PIL images; the glue antialiases as PIL does",
            cx.step.at
        );
        cx.state.warnings.push(warning);
    }
    let max_size = cx.param(&["max_size"]).and_then(number).map(|m| m as usize);
    let comment = format!(
        "torchvision Resize on a PIL image = PIL resize with {}, antialiased",
        filter.variant()
    );
    let size = ResizeSize::Torchvision {
        sizes: sizes.iter().map(|s| *s as usize).collect(),
        max_size,
    };
    push_pil_resize(cx, comment, size, filter);
    Ok(())
}

/// A PIL resize; the center crop after it, if any, is fused in later.
fn push_pil_resize(cx: &mut Cx<'_>, comment: String, size: ResizeSize, filter: PilFilter) {
    let op = GlueOp::Resize {
        size,
        filter,
        crop: None,
    };
    cx.push(comment, op);
}

fn pil_resize(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.need_pixels()?;
    let size = resize_size(cx, &["size", "arg0"]).map_err(|e| cx.fail(e))?;
    let filter = match cx.param(&["resample", "arg1"]).and_then(symbol) {
        None => PilFilter::Bicubic,
        Some(name) => lookup(PIL_RESAMPLE, name)
            .ok_or_else(|| cx.fail(format!("resample {name} is not one PIL has")))?,
    };
    let comment = format!("PIL resize {} with {}", size.describe(), filter.variant());
    push_pil_resize(cx, comment, size, filter);
    Ok(())
}

/// `ImageOps.fit(image, size, method)`: Pillow's crop box of the output's aspect, then its
/// resize with that box. A bleed or an off-centre crop is refused.
fn pil_fit(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.need_pixels()?;
    let (width, height) = cx
        .param(&["size", "arg1"])
        .and_then(positive_pair)
        .ok_or_else(|| cx.fail("size must be [width, height]"))?;
    let filter = match cx.param(&["method", "arg2"]).and_then(symbol) {
        None => PilFilter::Bicubic,
        Some(name) => lookup(PIL_RESAMPLE, name)
            .ok_or_else(|| cx.fail(format!("method {name} is not one PIL has")))?,
    };
    let default_bleed = cx
        .param(&["bleed", "arg3"])
        .is_none_or(|v| number(v) == Some(0.0));
    let centred = cx
        .param(&["centering", "arg4"])
        .is_none_or(|v| numbers(v).as_deref() == Some(&[0.5, 0.5]));
    if !(default_bleed && centred) {
        return Err(cx.fail(
            "ImageOps.fit with a bleed or an off-centre crop has no Rust equivalent yet \
             (the default bleed=0.0, centering=(0.5, 0.5) has)",
        ));
    }
    cx.push(
        format!(
            "PIL ImageOps.fit to {width}x{height} with {}: the centred box of that aspect, \
             resized with PIL's box",
            filter.variant()
        ),
        GlueOp::Fit {
            width,
            height,
            filter,
        },
    );
    Ok(())
}

fn cv_resize(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.need_pixels()?;
    let size = resize_size(cx, &["dsize", "arg1"]).map_err(|e| cx.fail(e))?;
    let flag = cx
        .param(&["interpolation", "arg2"])
        .and_then(symbol)
        .unwrap_or("INTER_LINEAR");
    let (interpolation, numerics) = lookup(CV_INTERPOLATION, flag).ok_or_else(|| {
        cx.fail(format!(
            "cv2.{flag} has no Rust equivalent in wasm-migrate yet (INTER_LINEAR, INTER_NEAREST and INTER_AREA do)"
        ))
    })?;
    let comment = format!("cv2.resize {}, {flag}, {numerics}", size.describe());
    cx.push(
        comment,
        GlueOp::CvResize {
            size,
            interpolation,
        },
    );
    Ok(())
}

fn tf_image_resize(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.need_pixels()?;
    if cx.state.gray {
        return Err(cx.fail(
            "tf.image.resize of a grayscale image has no Rust equivalent in wasm-migrate yet",
        ));
    }
    // tf.image.resize takes (height, width).
    let size = cx
        .param(&["size", "arg1"])
        .and_then(numbers)
        .filter(|s| s.len() == 2)
        .ok_or_else(|| cx.fail("size must be (height, width)"))?;
    let method = cx.param(&["method", "arg2"]).map(|v| match v {
        Value::Str(s) => s.to_ascii_lowercase(),
        other => symbol(other)
            .unwrap_or("(not a literal)")
            .to_ascii_lowercase(),
    });
    if let Some(method) = method.filter(|m| m != "bilinear") {
        return Err(cx.fail(format!(
            "tf.image.resize method {method} has no Rust equivalent in wasm-migrate yet (bilinear does)"
        )));
    }
    for (flag, what) in [
        ("antialias", "antialias=True"),
        ("preserve_aspect_ratio", "preserve_aspect_ratio=True"),
    ] {
        if matches!(cx.param(&[flag]), Some(Value::Bool(true))) {
            return Err(cx.fail(format!(
                "tf.image.resize with {what} has no Rust equivalent in wasm-migrate yet"
            )));
        }
    }
    let comment = format!(
        "tf.image.resize to {}x{} (width x height), bilinear with half-pixel centres, float32 out",
        size[1], size[0]
    );
    let op = GlueOp::TfResize {
        width: size[1] as usize,
        height: size[0] as usize,
        swap_red_blue: cx.state.bgr,
    };
    cx.state.stage = Stage::Floats;
    cx.push(comment, op);
    Ok(())
}

/// The output size of a PIL or OpenCV resize step: a rule the analyzer read from hand-written
/// code (`shorter_side`/`longer_side`, `fit`), else `(width, height)` under `exact`.
fn resize_size(cx: &Cx<'_>, exact: &[&str]) -> Result<ResizeSize, String> {
    if let Some(side) = cx.param(&["shorter_side", "longer_side"]) {
        let size = number(side)
            .filter(|s| *s >= 1.0)
            .ok_or("the side must be a positive number")?;
        return Ok(ResizeSize::Aspect {
            size: size as usize,
            shorter: cx.param(&["shorter_side"]).is_some(),
        });
    }
    if let Some(fit) = cx.param(&["fit"]) {
        let (width, height) = positive_pair(fit).ok_or("fit must be [width, height]")?;
        return Ok(ResizeSize::Fit { width, height });
    }
    let size = cx
        .param(exact)
        .and_then(numbers)
        .filter(|s| s.len() == 2)
        .ok_or_else(|| format!("{} must be (width, height)", exact[0]))?;
    Ok(ResizeSize::Exact {
        width: size[0] as usize,
        height: size[1] as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{codes, compile, step};

    /// The steps compiled from the plan `analyze` writes for a service that resizes with
    /// `tf.image.resize(np.asarray(image), (120, 160), ...)`, `extra` added to its params.
    fn compile_tf_resize(extra: &str) -> Result<super::super::CompiledSteps, crate::CodegenError> {
        let params = format!("    size: [120, 160]\n{extra}");
        compile(
            "keras",
            "nhwc",
            &[
                step("pil", "open", ""),
                step("tensorflow", "image.resize", &params),
            ],
        )
    }

    #[test]
    fn tf_image_resize_takes_height_then_width_and_refuses_what_it_cannot_match() {
        let steps = compile_tf_resize("").expect("bilinear compiles");
        let code = codes(&steps);
        assert!(
            code.iter()
                .any(|c| c.contains("tf_resize::resize_bilinear(&image, 160, 120)")),
            "{code:?}"
        );
        for (extra, named) in [
            ("    method: nearest\n", "method nearest"),
            ("    antialias: true\n", "antialias=True"),
            (
                "    preserve_aspect_ratio: true\n",
                "preserve_aspect_ratio=True",
            ),
        ] {
            let error = compile_tf_resize(extra).unwrap_err().to_string();
            assert!(error.contains(named), "{error}");
            assert!(error.contains("wasm-migrate.yaml:"), "{error}");
        }
    }

    #[test]
    fn a_hand_written_aspect_resize_compiles_to_its_rule() {
        let steps = compile(
            "onnx",
            "nchw",
            &[
                step("opencv", "imdecode", ""),
                step(
                    "opencv",
                    "resize",
                    "    shorter_side: 224\n    keep_aspect: true\n",
                ),
            ],
        )
        .expect("compiles");
        assert_eq!(
            codes(&steps)[1],
            "let (width, height) = crop::aspect_resize_size(image.width, image.height, 224, true);\n    \
             let image = cv_resize::resize(&image, width, height, Interpolation::Linear);"
        );
        assert_eq!(
            steps.steps[1].comment,
            "cv2.resize keeping the aspect, the shorter side to 224, INTER_LINEAR, OpenCV's 11-bit fixed point"
        );
    }

    #[test]
    fn filters_are_read_by_each_library_s_names_and_defaults() {
        let resize = |library: &str, op: &str, params: &str| {
            let steps = compile(
                "onnx",
                "nhwc",
                &[step("pil", "open", ""), step(library, op, params)],
            );
            steps
                .map(|s| s.steps[1].code.clone())
                .map_err(|e| e.to_string())
        };
        let pil = |resample: &str| {
            resize(
                "pil",
                "resize",
                &format!("    size: [4, 3]\n    resample:\n      symbol: PIL.Image.{resample}\n"),
            )
        };
        assert!(pil("ANTIALIAS").unwrap().ends_with("Filter::Lanczos);"));
        assert!(pil("NONE").unwrap().ends_with("Filter::Nearest);"));
        assert!(
            pil("CUBIC")
                .unwrap_err()
                .contains("resample CUBIC is not one PIL has")
        );
        let default = resize("pil", "resize", "    size: [4, 3]\n").unwrap();
        assert!(default.ends_with("Filter::Bicubic);"), "{default}");
        let torchvision = |mode: &str| {
            resize(
                "torchvision",
                "Resize",
                &format!(
                    "    size: 8\n    interpolation:\n      symbol: InterpolationMode.{mode}\n"
                ),
            )
        };
        assert!(
            torchvision("NEAREST_EXACT")
                .unwrap()
                .ends_with("Filter::Nearest);")
        );
        assert!(
            torchvision("ANTIALIAS")
                .unwrap_err()
                .contains("interpolation ANTIALIAS is not one PIL has")
        );
        let error = resize(
            "opencv",
            "resize",
            "    dsize: [4, 3]\n    interpolation:\n      symbol: cv2.INTER_CUBIC\n",
        )
        .unwrap_err();
        assert!(
            error.contains("cv2.INTER_CUBIC has no Rust equivalent"),
            "{error}"
        );
    }

    #[test]
    fn torchvision_antialias_false_is_a_warning_not_an_error() {
        let steps = compile(
            "pytorch",
            "nchw",
            &[
                step("pil", "open", ""),
                step(
                    "torchvision",
                    "Resize",
                    "    size: 8\n    antialias: false\n",
                ),
            ],
        )
        .expect("compiles");
        assert_eq!(steps.warnings.len(), 1);
        assert!(
            steps.warnings[0].starts_with("main.py:2: antialias=False"),
            "{:?}",
            steps.warnings
        );
    }
}
