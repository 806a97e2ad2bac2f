//! Plan preprocessing steps -> Rust statements over the vendored `ops` module.
//!
//! Each Python step becomes the call whose numerics match the library the service used
//! (see the `preprocess` crate). A step with no faithful Rust equivalent is refused with the
//! plan line, rather than approximated: a silent approximation is the bug this tool exists
//! to prevent.

use std::path::Path;

use serde::Serialize;
use wasm_migrate_analyzer::pipeline::StepLibrary;
use wasm_migrate_analyzer::plan::{Layout, MigrationPlan, PlanStep};
use wasm_migrate_analyzer::python::Value;

use crate::error::CodegenError;

/// One generated statement, with where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct GlueStep {
    /// The Python step as the plan names it (`torchvision.Resize`).
    pub python: String,
    /// Where the service does it (`app.py:28`).
    pub at: String,
    /// What the Rust does, for the comment above it.
    pub comment: String,
    /// Rust statements (may be empty when the step is folded into another).
    pub code: String,
}

/// The compiled preprocessing: statements, and the layout of the final tensor.
#[derive(Debug, Clone, Serialize)]
pub struct CompiledSteps {
    pub steps: Vec<GlueStep>,
    pub layout: &'static str,
    /// Things the user should know (e.g. an argument the library ignores).
    pub warnings: Vec<String>,
}

#[derive(PartialEq)]
enum Stage {
    Pixels,
    Floats,
}

/// Rust literal for an f32 constant the way Python hands it to float32 kernels: the f64
/// value rounded once to f32, printed so that it parses back to that same f32.
fn f32_literal(v: f64) -> String {
    let s = format!("{:?}", v as f32);
    format!("{s}_f32")
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn numbers(v: &Value) -> Option<Vec<f64>> {
    match v {
        Value::List(items) => items.iter().map(number).collect(),
        other => number(other).map(|n| vec![n]),
    }
}

fn symbol(v: &Value) -> Option<&str> {
    match v {
        Value::Symbol { symbol } => Some(symbol.rsplit('.').next().unwrap_or(symbol)),
        Value::Str(s) => Some(s.as_str()),
        _ => None,
    }
}

fn param<'a>(step: &'a PlanStep, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|n| step.params.get(*n))
}

fn list_literal(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| f32_literal(*v)).collect();
    format!("&[{}]", items.join(", "))
}

/// The 1-based line of the `index`-th item of a top-level list `key` in the plan text.
pub fn plan_item_line(text: &str, key: &str, index: usize) -> usize {
    let mut in_list = false;
    let mut seen = 0;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with(&format!("{key}:")) {
            in_list = true;
            continue;
        }
        if !in_list {
            continue;
        }
        if line.starts_with("- ") {
            if seen == index {
                return n + 1;
            }
            seen += 1;
        } else if !line.is_empty() && !line.starts_with(' ') && !line.starts_with('#') {
            break;
        }
    }
    1
}

/// Compiles the plan's image preprocessing.
pub fn compile_image_steps(
    plan: &MigrationPlan,
    plan_path: &Path,
    plan_text: &str,
) -> Result<CompiledSteps, CodegenError> {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let mut stage = Stage::Pixels;
    // OpenCV decodes to BGR; the glue decodes to RGB and swaps when the order matters.
    let mut bgr = false;
    let mut layout: Option<Layout> = None;
    let mut decoded = false;

    for (index, step) in plan.preprocessing.iter().enumerate() {
        let fail = |message: String| CodegenError::PlanStep {
            path: plan_path.to_path_buf(),
            line: plan_item_line(plan_text, "preprocessing", index),
            message: format!(
                "{}.{} ({}): {message}",
                step.library.as_str(),
                step.op,
                step.at
            ),
        };
        let mut push = |comment: &str, code: String| {
            out.push(GlueStep {
                python: format!("{}.{}", step.library.as_str(), step.op),
                at: step.at.clone(),
                comment: comment.to_string(),
                code,
            })
        };
        // Turning pixels into floats, in the channel order the Python code had then.
        let to_floats = |bgr: bool, scale: bool| {
            let swap = if bgr {
                "let image = image.swap_red_blue();\n    "
            } else {
                ""
            };
            let ctor = if scale { "to_tensor" } else { "from_image" };
            format!("{swap}let mut tensor = HwcTensor::{ctor}(&image);")
        };
        let need_pixels = |stage: &Stage| -> Result<(), CodegenError> {
            if *stage == Stage::Floats {
                Err(fail(
                    "resizing or cropping a float tensor has no Rust equivalent here; \
                          move the step before the conversion to floats"
                        .into(),
                ))
            } else {
                Ok(())
            }
        };
        let need_floats = |stage: &Stage| -> Result<(), CodegenError> {
            if *stage == Stage::Pixels {
                Err(fail("arithmetic on 8-bit pixels (NumPy would wrap or promote to float64) \
                          has no faithful Rust equivalent here; convert with astype(np.float32) first"
                    .into()))
            } else {
                Ok(())
            }
        };
        match (step.library, step.op.as_str()) {
            (StepLibrary::Pil, "open") => {
                decoded = true;
                push(
                    "decoded above to 8-bit RGB (image-rs; PNG is bit-exact with PIL)",
                    String::new(),
                );
            }
            (StepLibrary::Numpy, "frombuffer") => {
                push("the raw bytes are decoded below", String::new());
            }
            (StepLibrary::Opencv, "imdecode") => {
                if let Some(flag) = param(step, &["flags", "arg1"]).and_then(symbol)
                    && flag != "IMREAD_COLOR"
                {
                    return Err(fail(format!(
                        "imdecode with {flag} is not supported (only IMREAD_COLOR)"
                    )));
                }
                decoded = true;
                bgr = true;
                push(
                    "decoded above; OpenCV holds it as BGR from here",
                    String::new(),
                );
            }
            (StepLibrary::Pil, "convert") => {
                let mode = param(step, &["mode", "arg0"])
                    .and_then(symbol)
                    .unwrap_or("RGB");
                if mode != "RGB" {
                    return Err(fail(format!(
                        "convert(\"{mode}\") has no Rust equivalent (only RGB)"
                    )));
                }
                push("already RGB", String::new());
            }
            (StepLibrary::Opencv, "cvtColor") => {
                let code = param(step, &["code", "arg1"])
                    .and_then(symbol)
                    .unwrap_or("");
                match code {
                    "COLOR_BGR2RGB" | "COLOR_RGB2BGR" => bgr = !bgr,
                    other => {
                        return Err(fail(format!(
                            "cvtColor with {other:?} has no Rust equivalent"
                        )));
                    }
                }
                push(
                    if bgr {
                        "channel order is now BGR"
                    } else {
                        "channel order is now RGB"
                    },
                    String::new(),
                );
            }
            (StepLibrary::Torchvision, "Resize") => {
                need_pixels(&stage)?;
                let sizes = param(step, &["size", "arg0"])
                    .and_then(numbers)
                    .ok_or_else(|| fail("size must be a number or a list of numbers".into()))?;
                let filter = match param(step, &["interpolation", "arg1"]).and_then(symbol) {
                    None | Some("BILINEAR") => "Bilinear",
                    Some("NEAREST") | Some("NEAREST_EXACT") => "Nearest",
                    Some("BICUBIC") => "Bicubic",
                    Some("BOX") => "Box",
                    Some("HAMMING") => "Hamming",
                    Some("LANCZOS") => "Lanczos",
                    Some(other) => {
                        return Err(fail(format!("interpolation {other} is not one PIL has")));
                    }
                };
                if matches!(param(step, &["antialias"]), Some(Value::Bool(false))) {
                    warnings.push(format!(
                        "{}: antialias=False is ignored by torchvision on PIL images; the glue antialiases as PIL does",
                        step.at
                    ));
                }
                let max_size = match param(step, &["max_size"]).and_then(number) {
                    Some(m) => format!("Some({})", m as usize),
                    None => "None".into(),
                };
                let size_list: Vec<String> =
                    sizes.iter().map(|s| (*s as usize).to_string()).collect();
                push(
                    &format!(
                        "torchvision Resize on a PIL image = PIL resize with {filter}, antialiased"
                    ),
                    format!(
                        "let (width, height) = crop::torchvision_resize_size(image.width, image.height, &[{}], {max_size});\n    \
                         let image = pil_resize::resize(&image, width, height, Filter::{filter});",
                        size_list.join(", ")
                    ),
                );
            }
            (StepLibrary::Torchvision, "CenterCrop") => {
                need_pixels(&stage)?;
                let sizes = param(step, &["size", "arg0"])
                    .and_then(numbers)
                    .ok_or_else(|| fail("size must be a number or [height, width]".into()))?;
                let (h, w) = match sizes.as_slice() {
                    [s] => (*s as usize, *s as usize),
                    [h, w] => (*h as usize, *w as usize),
                    _ => return Err(fail("size must be a number or [height, width]".into())),
                };
                push(
                    "torchvision CenterCrop: round-half-even offsets, black padding when smaller",
                    format!("let image = crop::center_crop(&image, {w}, {h});"),
                );
            }
            (StepLibrary::Pil, "resize") => {
                need_pixels(&stage)?;
                let size = param(step, &["size", "arg0"])
                    .and_then(numbers)
                    .filter(|s| s.len() == 2)
                    .ok_or_else(|| fail("size must be (width, height)".into()))?;
                // Pillow's default resample for resize() has been BICUBIC since 7.0.
                let filter = match param(step, &["resample", "arg1"]).and_then(symbol) {
                    None | Some("BICUBIC") => "Bicubic",
                    Some("BILINEAR") | Some("LINEAR") => "Bilinear",
                    Some("NEAREST") | Some("NONE") => "Nearest",
                    Some("BOX") => "Box",
                    Some("HAMMING") => "Hamming",
                    Some("LANCZOS") | Some("ANTIALIAS") => "Lanczos",
                    Some(other) => {
                        return Err(fail(format!("resample {other} is not one PIL has")));
                    }
                };
                push(
                    &format!(
                        "PIL resize to exactly {}x{} with {filter}",
                        size[0], size[1]
                    ),
                    format!(
                        "let image = pil_resize::resize(&image, {}, {}, Filter::{filter});",
                        size[0] as usize, size[1] as usize
                    ),
                );
            }
            (StepLibrary::Opencv, "resize") => {
                need_pixels(&stage)?;
                let size = param(step, &["dsize", "arg1"])
                    .and_then(numbers)
                    .filter(|s| s.len() == 2)
                    .ok_or_else(|| fail("dsize must be (width, height)".into()))?;
                let interpolation = match param(step, &["interpolation", "arg2"]).and_then(symbol) {
                    None | Some("INTER_LINEAR") => "Linear",
                    Some("INTER_NEAREST") => "Nearest",
                    Some("INTER_AREA") => "Area",
                    Some(other) => {
                        return Err(fail(format!(
                            "cv2.{other} has no Rust equivalent in wasm-migrate yet (INTER_LINEAR, INTER_NEAREST and INTER_AREA do)"
                        )));
                    }
                };
                let numerics = match interpolation {
                    "Area" => "OpenCV's block means and float cell shares",
                    "Linear" => "OpenCV's 11-bit fixed point",
                    _ => "OpenCV's floor(x * scale)",
                };
                push(
                    &format!(
                        "cv2.resize to {}x{}, INTER_{}, {numerics}",
                        size[0],
                        size[1],
                        interpolation.to_uppercase()
                    ),
                    format!(
                        "let image = cv_resize::resize(&image, {}, {}, Interpolation::{interpolation});",
                        size[0] as usize, size[1] as usize
                    ),
                );
            }
            (StepLibrary::Tensorflow, "image.resize") => {
                need_pixels(&stage)?;
                // tf.image.resize takes (height, width).
                let size = param(step, &["size", "arg1"])
                    .and_then(numbers)
                    .filter(|s| s.len() == 2)
                    .ok_or_else(|| fail("size must be (height, width)".into()))?;
                let method = param(step, &["method", "arg2"]).map(|v| match v {
                    Value::Str(s) => s.to_ascii_lowercase(),
                    other => symbol(other)
                        .unwrap_or("(not a literal)")
                        .to_ascii_lowercase(),
                });
                if method.as_deref().is_some_and(|m| m != "bilinear") {
                    return Err(fail(format!(
                        "tf.image.resize method {} has no Rust equivalent in wasm-migrate yet (bilinear does)",
                        method.unwrap_or_default()
                    )));
                }
                for (flag, what) in [
                    ("antialias", "antialias=True"),
                    ("preserve_aspect_ratio", "preserve_aspect_ratio=True"),
                ] {
                    if param(step, &[flag]).is_some_and(|v| matches!(v, Value::Bool(true))) {
                        return Err(fail(format!(
                            "tf.image.resize with {what} has no Rust equivalent in wasm-migrate yet"
                        )));
                    }
                }
                let swap = if bgr {
                    "let image = image.swap_red_blue();\n    "
                } else {
                    ""
                };
                stage = Stage::Floats;
                push(
                    &format!(
                        "tf.image.resize to {}x{} (width x height), bilinear with half-pixel centres, float32 out",
                        size[1], size[0]
                    ),
                    format!(
                        "{swap}let mut tensor = tf_resize::resize_bilinear(&image, {}, {});",
                        size[1] as usize, size[0] as usize
                    ),
                );
            }
            (StepLibrary::Torchvision, "ToTensor") => {
                need_pixels(&stage)?;
                stage = Stage::Floats;
                layout = Some(Layout::Nchw);
                push(
                    "ToTensor: x / 255 in float32, channels first",
                    to_floats(bgr, true),
                );
            }
            (StepLibrary::Numpy, "astype")
            | (StepLibrary::Numpy, "array")
            | (StepLibrary::Numpy, "asarray") => {
                let dtype = param(step, &["dtype", "arg0", "arg1"]).and_then(symbol);
                match (dtype, &stage) {
                    (Some("float32"), Stage::Pixels) => {
                        stage = Stage::Floats;
                        push("pixels as float32 values 0..255", to_floats(bgr, false));
                    }
                    (None, _) if step.op != "astype" => {
                        push("a NumPy view of the pixels", String::new())
                    }
                    (Some("float32"), Stage::Floats) => push("already float32", String::new()),
                    (other, _) => {
                        return Err(fail(format!(
                            "dtype {} has no Rust equivalent here (the model takes float32)",
                            other.unwrap_or("(unknown)")
                        )));
                    }
                }
            }
            (StepLibrary::Numpy, op @ ("divide" | "subtract" | "multiply" | "add")) => {
                need_floats(&stage)?;
                let values = param(step, &["value", "arg1"])
                    .and_then(numbers)
                    .ok_or_else(|| {
                        fail("the operand must be a number or a list of numbers".into())
                    })?;
                let code = match (op, values.as_slice()) {
                    ("divide", [v]) => format!("tensor.divide({});", f32_literal(*v)),
                    ("subtract", [v]) => format!("tensor.subtract({});", f32_literal(*v)),
                    ("multiply", [v]) => format!("tensor.multiply({});", f32_literal(*v)),
                    ("add", [v]) => format!("tensor.add({});", f32_literal(*v)),
                    ("divide", vs) => format!("tensor.divide_per_channel({});", list_literal(vs)),
                    ("subtract", vs) => {
                        format!("tensor.subtract_per_channel({});", list_literal(vs))
                    }
                    _ => {
                        return Err(fail(format!(
                            "per-channel {op} has no Rust equivalent here"
                        )));
                    }
                };
                push(&format!("NumPy float32 {op}, broadcast per channel"), code);
            }
            (StepLibrary::Torchvision, "Normalize") => {
                need_floats(&stage)?;
                let mean = param(step, &["mean", "arg0"]).and_then(numbers);
                let std = param(step, &["std", "arg1"]).and_then(numbers);
                let (Some(mean), Some(std)) = (mean, std) else {
                    return Err(fail("mean and std must be lists of numbers".into()));
                };
                push(
                    "Normalize: (x - mean) / std per channel, in float32",
                    format!(
                        "tensor.normalize({}, {});",
                        list_literal(&mean),
                        list_literal(&std)
                    ),
                );
            }
            (StepLibrary::Keras, "preprocess_input") => {
                if stage == Stage::Pixels {
                    out.push(GlueStep {
                        python: "keras.preprocess_input".into(),
                        at: step.at.clone(),
                        comment: "preprocess_input casts the pixels to float32 first".into(),
                        code: to_floats(bgr, false),
                    });
                    stage = Stage::Floats;
                }
                let mode = match param(step, &["mode"]).and_then(symbol) {
                    Some("tf") => "Tf",
                    Some("torch") => "Torch",
                    Some("caffe") | None => "Caffe",
                    Some(other) => {
                        return Err(fail(format!(
                            "preprocess_input mode {other:?} is not tf, torch or caffe"
                        )));
                    }
                };
                layout.get_or_insert(Layout::Nhwc);
                out.push(GlueStep {
                    python: "keras.preprocess_input".into(),
                    at: step.at.clone(),
                    comment: format!("Keras preprocess_input, mode {}", mode.to_lowercase()),
                    code: format!("tensor.keras_preprocess_input(KerasMode::{mode});"),
                });
            }
            (StepLibrary::Numpy, "transpose") => {
                let axes = param(step, &["axes", "arg1"])
                    .and_then(numbers)
                    .unwrap_or_default();
                if axes == [2.0, 0.0, 1.0] || axes == [0.0, 3.0, 1.0, 2.0] {
                    layout = Some(Layout::Nchw);
                    push(
                        "HWC -> CHW: applied when the tensor is handed over",
                        String::new(),
                    );
                } else {
                    return Err(fail(format!(
                        "transpose with axes {axes:?} has no Rust equivalent here"
                    )));
                }
            }
            (StepLibrary::Numpy, "expand_dims")
            | (StepLibrary::Torch, "stack")
            | (StepLibrary::Torch, "unsqueeze")
            | (StepLibrary::Tensorflow, "expand_dims") => {
                let axis = param(step, &["axis", "dim", "arg1", "arg0"])
                    .and_then(number)
                    .unwrap_or(0.0);
                if axis != 0.0 {
                    return Err(fail(format!(
                        "a batch axis at {axis} has no Rust equivalent (only 0)"
                    )));
                }
                push("the batch axis of one: part of the layout", String::new());
            }
            _ => {
                return Err(fail(
                    "this step has no Rust equivalent in wasm-migrate yet; remove it from the plan if \
                     the model does not need it, or write it in the generated crate"
                        .into(),
                ));
            }
        }
    }
    if !decoded {
        warnings
            .push("the plan has no decoding step; the glue decodes PNG/JPEG files to RGB".into());
    }
    if stage == Stage::Pixels {
        out.push(GlueStep {
            python: "(implicit)".into(),
            at: "-".into(),
            comment: "the model takes float32: pixel values 0..255".into(),
            code: if bgr { "let image = image.swap_red_blue();\n    let tensor = HwcTensor::from_image(&image);".into() } else { "let tensor = HwcTensor::from_image(&image);".into() },
        });
    }
    fuse_resize_and_center_crop(&mut out);
    let layout = layout
        .or(plan.input.as_ref().and_then(|i| i.layout))
        .unwrap_or(Layout::Nhwc);
    Ok(CompiledSteps {
        steps: out,
        layout: match layout {
            Layout::Nchw => "Nchw",
            Layout::Nhwc => "Nhwc",
        },
        warnings,
    })
}

const RESIZE_CALL: &str = "let image = pil_resize::resize(&image, ";
const CENTER_CROP_CALL: &str = "let image = crop::center_crop(&image, ";

/// A PIL resize right before a center crop becomes one call that computes only the pixels the
/// crop keeps (`crop::resize_and_center_crop`, the same bits): torchvision's `Resize(256)` +
/// `CenterCrop(224)` on a 4:3 photograph throws away 40% of the resized pixels.
fn fuse_resize_and_center_crop(steps: &mut [GlueStep]) {
    for i in 1..steps.len() {
        let Some(crop_args) = steps[i]
            .code
            .strip_prefix(CENTER_CROP_CALL)
            .and_then(|rest| rest.strip_suffix(");"))
            .map(str::to_string)
        else {
            continue;
        };
        let resize = &steps[i - 1].code;
        let Some(start) = resize.rfind(RESIZE_CALL) else {
            continue;
        };
        let Some(resize_args) = resize[start + RESIZE_CALL.len()..].strip_suffix(");") else {
            continue;
        };
        steps[i - 1].code = format!(
            "{}let image = crop::resize_and_center_crop(&image, {resize_args}, {crop_args});",
            &resize[..start]
        );
        steps[i].code = String::new();
        steps[i]
            .comment
            .push_str(" (done by the resize above, which computes only the pixels kept)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_round_once_to_f32() {
        assert_eq!(f32_literal(0.485), "0.485_f32");
        assert_eq!(f32_literal(255.0), "255.0_f32");
    }

    /// The steps compiled from the plan `analyze` writes for a service that resizes with
    /// `tf.image.resize(np.asarray(image), (120, 160), ...)`, `extra` added to its params.
    fn compile_tf_resize(extra: &str) -> Result<CompiledSteps, CodegenError> {
        let plan_text = format!(
            "version: 1\nservice:\n  name: s\nmodel:\n  framework: keras\n  loaded_at: main.py:1\n\
             input:\n  kind: image\n  layout: nhwc\n  dtype: f32\n\
             preprocessing:\n\
             - library: pil\n  op: open\n  at: main.py:1\n\
             - library: tensorflow\n  op: image.resize\n  params:\n    size: [120, 160]\n{extra}  at: main.py:2\n\
             target:\n  path: wasi-nn-glue\n  runtime: wasmedge\n  runtime_version: \"0.14\"\n  backend: openvino\n\
             tolerances:\n  preset: cross-backend\n  atol: 0.0001\n  rtol: 0.001\n"
        );
        let path = Path::new("wasm-migrate.yaml");
        let plan = MigrationPlan::from_yaml(path, &plan_text).expect("plan parses");
        compile_image_steps(&plan, path, &plan_text)
    }

    #[test]
    fn tf_image_resize_takes_height_then_width_and_refuses_what_it_cannot_match() {
        let steps = compile_tf_resize("").expect("bilinear compiles");
        let code: Vec<&str> = steps.steps.iter().map(|s| s.code.as_str()).collect();
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
    fn a_resize_then_a_center_crop_become_one_call() {
        let step = |python: &str, code: &str| GlueStep {
            python: python.into(),
            at: "app.py:1".into(),
            comment: python.into(),
            code: code.into(),
        };
        let mut steps = vec![
            step(
                "torchvision.Resize",
                "let (width, height) = crop::torchvision_resize_size(image.width, image.height, &[256], None);\n    \
                 let image = pil_resize::resize(&image, width, height, Filter::Bilinear);",
            ),
            step(
                "torchvision.CenterCrop",
                "let image = crop::center_crop(&image, 224, 200);",
            ),
            step(
                "torchvision.CenterCrop",
                "let image = crop::center_crop(&image, 100, 100);",
            ),
        ];
        fuse_resize_and_center_crop(&mut steps);
        assert!(steps[0].code.starts_with("let (width, height) ="));
        assert!(steps[0].code.ends_with(
            "let image = crop::resize_and_center_crop(&image, width, height, Filter::Bilinear, 224, 200);"
        ));
        assert_eq!(steps[1].code, "");
        // A second crop has no resize before it any more: left as it is.
        assert_eq!(
            steps[2].code,
            "let image = crop::center_crop(&image, 100, 100);"
        );
    }

    #[test]
    fn plan_item_lines_count_list_items() {
        let text = "version: 1\npreprocessing:\n- library: pil\n  op: open\n- library: pil\n  op: convert\npostprocessing: []\n";
        assert_eq!(plan_item_line(text, "preprocessing", 0), 3);
        assert_eq!(plan_item_line(text, "preprocessing", 1), 5);
    }
}
