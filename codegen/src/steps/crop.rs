//! Cropping and padding: torchvision's CenterCrop, a NumPy slicing crop, PIL's paste onto a
//! canvas (the second half of a letterbox).

use wasm_migrate_plan::StepLibrary::{Numpy, Pil, Torchvision};
use wasm_migrate_plan::{SliceOffset, Value};

use super::context::{Cx, Op, numbers, positive_pair, symbol};
use super::ir::GlueOp;
use crate::error::CodegenError;

pub const OPS: &[Op] = &[
    Op::new(Torchvision, "CenterCrop", torchvision_center_crop),
    Op::new(Pil, "paste", pil_paste),
    Op::new(Numpy, "slice", numpy_slice),
];

fn torchvision_center_crop(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.need_pixels()?;
    let sizes = cx.param(&["size", "arg0"]).and_then(numbers);
    let (height, width) = match sizes.as_deref() {
        Some([s]) => (*s as usize, *s as usize),
        Some([h, w]) => (*h as usize, *w as usize),
        _ => return Err(cx.fail("size must be a number or [height, width]")),
    };
    cx.push(
        "torchvision CenterCrop: round-half-even offsets, black padding when smaller",
        GlueOp::CenterCrop { width, height },
    );
    Ok(())
}

fn pil_paste(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.need_pixels()?;
    if cx.param(&["mode"]).and_then(symbol) != Some("RGB") {
        return Err(cx.fail("only a paste into an RGB canvas has a Rust equivalent"));
    }
    if !matches!(cx.param(&["centered"]), Some(Value::Bool(true))) {
        return Err(cx.fail("only a centered paste has a Rust equivalent"));
    }
    let (width, height) = cx
        .param(&["canvas"])
        .and_then(positive_pair)
        .ok_or_else(|| cx.fail("canvas must be [width, height]"))?;
    let fill = match cx.param(&["fill"]).and_then(numbers).as_deref() {
        Some([v]) => [*v as u8; 3],
        Some([r, g, b]) => [*r as u8, *g as u8, *b as u8],
        _ => return Err(cx.fail("fill must be a number or [r, g, b]")),
    };
    cx.push(
        format!("PIL paste centered on a {width}x{height} canvas filled with {fill:?}"),
        GlueOp::PasteCentered {
            width,
            height,
            fill,
        },
    );
    Ok(())
}

fn numpy_slice(cx: &mut Cx<'_>) -> Result<(), CodegenError> {
    cx.need_pixels()?;
    let sizes = cx
        .param(&["center_crop"])
        .and_then(numbers)
        .filter(|s| s.len() == 2)
        .ok_or_else(|| cx.fail("center_crop must be [height, width]"))?;
    let offset = cx
        .param(&["offset"])
        .and_then(Value::as_str)
        .and_then(SliceOffset::parse)
        .ok_or_else(|| {
            let known: Vec<String> = SliceOffset::ALL
                .iter()
                .map(|o| format!("{:?}", o.as_str()))
                .collect();
            cx.fail(format!("offset must be {}", known.join(", ")))
        })?;
    let (width, height) = (sizes[1] as usize, sizes[0] as usize);
    cx.push(
        format!(
            "NumPy slicing crop {width}x{height} centered, start {}",
            offset.as_str()
        ),
        GlueOp::SliceCenterCrop {
            width,
            height,
            offset,
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{codes, compile, compile_text, step};

    /// The plan `analyze` writes for a hand-written shorter-side `cv2.resize` and a center
    /// crop by slicing, `crop` being the slice step's params.
    fn compile_hand_geometry(
        crop: &str,
    ) -> Result<super::super::CompiledSteps, crate::CodegenError> {
        compile(
            "onnx",
            "nchw",
            &[
                step("opencv", "imdecode", ""),
                step(
                    "opencv",
                    "resize",
                    "    shorter_side: 224\n    keep_aspect: true\n",
                ),
                step("numpy", "slice", crop),
            ],
        )
    }

    #[test]
    fn a_slicing_crop_compiles_to_its_offset_rule() {
        let steps = compile_hand_geometry(
            "    center_crop: [224, 200]\n    offset: size // 2 - crop // 2\n",
        )
        .expect("compiles");
        assert_eq!(
            codes(&steps)[2],
            "let image = crop::slice_center_crop(&image, 200, 224, crop::SliceOffset::HalfMinusHalf);"
        );
        // An offset rule the glue does not know is refused with the plan line.
        let error = compile_hand_geometry("    center_crop: [224, 224]\n    offset: w / 3\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("offset must be"), "{error}");
        assert!(error.contains("wasm-migrate.yaml:"), "{error}");
    }

    #[test]
    fn a_hand_written_letterbox_compiles_to_fit_and_paste() {
        let plan_text = "version: 1\nservice:\n  name: s\nmodel:\n  framework: onnx\n  loaded_at: main.py:1\n\
             input:\n  kind: image\n  layout: nchw\n  dtype: f32\n\
             preprocessing:\n\
             - library: pil\n  op: open\n  at: main.py:1\n\
             - library: pil\n  op: resize\n  params:\n    fit: [500, 400]\n    keep_aspect: true\n    resample:\n      symbol: PIL.Image.BICUBIC\n  at: main.py:2\n\
             - library: pil\n  op: paste\n  params:\n    canvas: [500, 400]\n    mode: RGB\n    fill: [128, 128, 128]\n    centered: true\n  at: main.py:3\n\
             target:\n  path: wasi-nn-glue\n  runtime: wasmedge\n  runtime_version: \"0.14\"\n  backend: openvino\n\
             tolerances:\n  preset: cross-backend\n  atol: 0.0001\n  rtol: 0.001\n";
        let steps = compile_text(plan_text).expect("compiles");
        let code = codes(&steps);
        assert_eq!(
            code[1],
            "let (width, height) = crop::fit_size(image.width, image.height, 500, 400);\n    \
             let image = pil_resize::resize(&image, width, height, Filter::Bicubic);"
        );
        assert_eq!(
            code[2],
            "let image = crop::paste_centered(&image, 500, 400, [128, 128, 128]);"
        );
        // A canvas in another mode is refused, naming the plan line.
        let grey = plan_text.replace("mode: RGB", "mode: L");
        let error = compile_text(&grey).unwrap_err().to_string();
        assert!(
            error.contains("RGB canvas") && error.contains("wasm-migrate.yaml:"),
            "{error}"
        );
    }

    #[test]
    fn cropping_a_float_tensor_is_refused() {
        let error = compile(
            "pytorch",
            "nchw",
            &[
                step("pil", "open", ""),
                step("torchvision", "ToTensor", ""),
                step("torchvision", "CenterCrop", "    size: 8\n"),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("move the step before the conversion to floats"),
            "{error}"
        );
    }
}
