//! Plan preprocessing steps -> Rust statements over the vendored `ops` module.
//!
//! Each Python step becomes the call whose numerics match the library the service used
//! (see the `preprocess` crate). A step with no faithful Rust equivalent is refused with the
//! plan line, rather than approximated: a silent approximation is the bug this tool exists
//! to prevent.

use std::path::Path;

use serde::Serialize;
use wasm_migrate_plan::Value;
use wasm_migrate_plan::{Layout, MigrationPlan, PlanStep};
use wasm_migrate_plan::{SliceOffset, StepLibrary};

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

/// What one plan step becomes in the glue: a typed operation over the vendored `ops` module.
/// Steps compile to these, fusions match on them, and Rust source is written last
/// ([`GlueOp::render`]).
#[derive(Debug, Clone, PartialEq)]
pub enum GlueOp {
    /// Nothing to emit: the step is done elsewhere (decoding, a view, the layout, a fusion).
    Nothing,
    /// A PIL resize (torchvision's on a PIL image too), fused with the center crop after it
    /// when there is one.
    Resize {
        size: ResizeSize,
        /// PIL's filter (`Bilinear`, `Bicubic`...).
        filter: &'static str,
        /// `(width, height)` of a center crop that follows: only the kept pixels are computed.
        crop: Option<(usize, usize)>,
    },
    /// torchvision's CenterCrop: round-half-even offsets, black padding when smaller.
    CenterCrop {
        width: usize,
        height: usize,
    },
    /// cv2.resize with `Interpolation::{interpolation}`.
    CvResize {
        size: ResizeSize,
        interpolation: &'static str,
    },
    /// A center crop by NumPy slicing: `offset` is the `crop::SliceOffset` the service's
    /// start expression computes.
    SliceCenterCrop {
        width: usize,
        height: usize,
        offset: SliceOffset,
    },
    /// PIL's paste of the image at the centre of a new filled canvas.
    PasteCentered {
        width: usize,
        height: usize,
        fill: [u8; 3],
    },
    /// `ImageOps.exif_transpose`: the file's orientation tag applied to the pixels.
    ExifTranspose,
    /// tf.image.resize bilinear: pixels in, float32 out.
    TfResize {
        width: usize,
        height: usize,
        swap_red_blue: bool,
    },
    /// Pixels to a float32 tensor: `/ 255` (ToTensor) when `scale`, else values 0..255.
    ToFloats {
        swap_red_blue: bool,
        scale: bool,
    },
    /// The implicit conversion at the end when no step made floats (the tensor stays as is).
    FinalFloats {
        swap_red_blue: bool,
    },
    /// `tensor.{op}(value)`: NumPy float32 arithmetic with one number.
    Scalar {
        op: &'static str,
        value: f64,
    },
    /// `tensor.{op}_per_channel([...])`.
    PerChannel {
        op: &'static str,
        values: Vec<f64>,
    },
    Normalize {
        mean: Vec<f64>,
        std: Vec<f64>,
    },
    /// Keras `preprocess_input` in mode `Tf`, `Torch` or `Caffe`.
    KerasPreprocessInput {
        mode: &'static str,
    },
}

/// The output size of a PIL or OpenCV resize.
#[derive(Debug, Clone, PartialEq)]
pub enum ResizeSize {
    /// torchvision's rule: the shorter side to `sizes[0]` (or exactly `[h, w]`), `max_size`.
    Torchvision {
        sizes: Vec<usize>,
        max_size: Option<usize>,
    },
    Exact {
        width: usize,
        height: usize,
    },
    /// A letterbox's resize: the largest size with the image's aspect inside the box.
    Fit {
        width: usize,
        height: usize,
    },
    /// One side (the shorter or the longer) to `size`, keeping the aspect.
    Aspect {
        size: usize,
        shorter: bool,
    },
}

impl ResizeSize {
    /// The statements that compute the size from the image's, and the resize call's
    /// `width, height` arguments.
    fn render(&self) -> (String, String) {
        let computed = |call: String| {
            (
                format!("let (width, height) = {call};\n    "),
                "width, height".to_string(),
            )
        };
        match self {
            ResizeSize::Torchvision { sizes, max_size } => {
                let sizes: Vec<String> = sizes.iter().map(usize::to_string).collect();
                let max_size = match max_size {
                    Some(m) => format!("Some({m})"),
                    None => "None".into(),
                };
                computed(format!(
                    "crop::torchvision_resize_size(image.width, image.height, &[{}], {max_size})",
                    sizes.join(", ")
                ))
            }
            ResizeSize::Exact { width, height } => (String::new(), format!("{width}, {height}")),
            ResizeSize::Fit { width, height } => computed(format!(
                "crop::fit_size(image.width, image.height, {width}, {height})"
            )),
            ResizeSize::Aspect { size, shorter } => computed(format!(
                "crop::aspect_resize_size(image.width, image.height, {size}, {shorter})"
            )),
        }
    }

    /// How the generated comment says it.
    fn describe(&self) -> String {
        match self {
            ResizeSize::Torchvision { sizes, .. } => format!("torchvision's rule for {sizes:?}"),
            ResizeSize::Exact { width, height } => format!("to {width}x{height}"),
            ResizeSize::Fit { width, height } => {
                format!("keeping the aspect to fit {width}x{height}")
            }
            ResizeSize::Aspect { size, shorter } => {
                let which = if *shorter { "shorter" } else { "longer" };
                format!("keeping the aspect, the {which} side to {size}")
            }
        }
    }
}

/// The NumPy arithmetic the glue's tensor has methods for.
const ARITHMETIC: [&str; 4] = ["divide", "subtract", "multiply", "add"];

const SWAP_RED_BLUE: &str = "let image = image.swap_red_blue();\n    ";

impl GlueOp {
    /// The Rust statements, indented for the template's `preprocess` body.
    pub fn render(&self) -> String {
        let swap = |yes: bool| if yes { SWAP_RED_BLUE } else { "" };
        match self {
            GlueOp::Nothing => String::new(),
            GlueOp::Resize { size, filter, crop } => {
                let (prefix, dims) = size.render();
                match crop {
                    Some((w, h)) => format!(
                        "{prefix}let image = crop::resize_and_center_crop(&image, {dims}, Filter::{filter}, {w}, {h});"
                    ),
                    None => {
                        format!(
                            "{prefix}let image = pil_resize::resize(&image, {dims}, Filter::{filter});"
                        )
                    }
                }
            }
            GlueOp::CenterCrop { width, height } => {
                format!("let image = crop::center_crop(&image, {width}, {height});")
            }
            GlueOp::CvResize {
                size,
                interpolation,
            } => {
                let (prefix, dims) = size.render();
                format!(
                    "{prefix}let image = cv_resize::resize(&image, {dims}, Interpolation::{interpolation});"
                )
            }
            GlueOp::SliceCenterCrop {
                width,
                height,
                offset,
            } => format!(
                "let image = crop::slice_center_crop(&image, {width}, {height}, crop::SliceOffset::{offset:?});"
            ),
            GlueOp::PasteCentered {
                width,
                height,
                fill,
            } => format!("let image = crop::paste_centered(&image, {width}, {height}, {fill:?});"),
            GlueOp::ExifTranspose => {
                "let image = exif::transpose(&image, exif::orientation(&bytes));".into()
            }
            GlueOp::TfResize {
                width,
                height,
                swap_red_blue,
            } => format!(
                "{}let mut tensor = tf_resize::resize_bilinear(&image, {width}, {height});",
                swap(*swap_red_blue)
            ),
            GlueOp::ToFloats {
                swap_red_blue,
                scale,
            } => {
                let ctor = if *scale { "to_tensor" } else { "from_image" };
                format!(
                    "{}let mut tensor = HwcTensor::{ctor}(&image);",
                    swap(*swap_red_blue)
                )
            }
            GlueOp::FinalFloats { swap_red_blue } => format!(
                "{}let tensor = HwcTensor::from_image(&image);",
                swap(*swap_red_blue)
            ),
            GlueOp::Scalar { op, value } => format!("tensor.{op}({});", f32_literal(*value)),
            GlueOp::PerChannel { op, values } => {
                format!("tensor.{op}_per_channel({});", list_literal(values))
            }
            GlueOp::Normalize { mean, std } => format!(
                "tensor.normalize({}, {});",
                list_literal(mean),
                list_literal(std)
            ),
            GlueOp::KerasPreprocessInput { mode } => {
                format!("tensor.keras_preprocess_input(KerasMode::{mode});")
            }
        }
    }
}

/// A compiled step before rendering: the operation and where it came from.
#[derive(Debug, Clone)]
struct TypedStep {
    python: String,
    at: String,
    comment: String,
    op: GlueOp,
}

/// The tensor is declared `let mut` where it is made; when no later step changes it (a chain
/// that ends with `ToTensor`), it is declared `let`, so the crate stays warning-free.
fn immutable_unless_changed(mut steps: Vec<GlueStep>) -> Vec<GlueStep> {
    for i in 0..steps.len() {
        let changed_later = steps[i + 1..].iter().any(|s| s.code.contains("tensor."));
        if !changed_later && steps[i].code.contains("let mut tensor =") {
            steps[i].code = steps[i].code.replace("let mut tensor =", "let tensor =");
        }
    }
    steps
}

impl TypedStep {
    fn render(self) -> GlueStep {
        GlueStep {
            code: self.op.render(),
            python: self.python,
            at: self.at,
            comment: self.comment,
        }
    }
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
    // After `ToImage`: pixels in a tensor, which torchvision resizes with its own kernels.
    let mut tensor_pixels = false;
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
        let mut push = |comment: &str, op: GlueOp| {
            out.push(TypedStep {
                python: format!("{}.{}", step.library.as_str(), step.op),
                at: step.at.clone(),
                comment: comment.to_string(),
                op,
            })
        };
        // Turning pixels into floats, in the channel order the Python code had then.
        let to_floats = |bgr: bool, scale: bool| GlueOp::ToFloats {
            swap_red_blue: bgr,
            scale,
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
                    "decoded above to 8-bit RGB, bit-exact with PIL (JPEG as its libjpeg-turbo)",
                    GlueOp::Nothing,
                );
            }
            (StepLibrary::Numpy, "frombuffer") => {
                push("the raw bytes are decoded below", GlueOp::Nothing);
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
                    GlueOp::Nothing,
                );
            }
            (StepLibrary::Pil, "exif_transpose") => {
                need_pixels(&stage)?;
                push(
                    "rotated or flipped by the file's EXIF orientation, as PIL does",
                    GlueOp::ExifTranspose,
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
                push("already RGB", GlueOp::Nothing);
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
                    GlueOp::Nothing,
                );
            }
            (StepLibrary::Torchvision, "Resize") => {
                need_pixels(&stage)?;
                if tensor_pixels {
                    return Err(fail(
                        "Resize after ToImage/PILToTensor runs torchvision's tensor kernels, which the glue \
                         does not mirror; resize the PIL image before ToImage"
                            .into(),
                    ));
                }
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
                let max_size = param(step, &["max_size"])
                    .and_then(number)
                    .map(|m| m as usize);
                push(
                    &format!(
                        "torchvision Resize on a PIL image = PIL resize with {filter}, antialiased"
                    ),
                    GlueOp::Resize {
                        size: ResizeSize::Torchvision {
                            sizes: sizes.iter().map(|s| *s as usize).collect(),
                            max_size,
                        },
                        filter,
                        crop: None,
                    },
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
                    GlueOp::CenterCrop {
                        width: w,
                        height: h,
                    },
                );
            }
            (StepLibrary::Pil, "paste") => {
                need_pixels(&stage)?;
                if param(step, &["mode"]).and_then(symbol) != Some("RGB") {
                    return Err(fail(
                        "only a paste into an RGB canvas has a Rust equivalent".into(),
                    ));
                }
                if !matches!(param(step, &["centered"]), Some(Value::Bool(true))) {
                    return Err(fail("only a centered paste has a Rust equivalent".into()));
                }
                let (width, height) = param(step, &["canvas"])
                    .and_then(positive_pair)
                    .ok_or_else(|| fail("canvas must be [width, height]".into()))?;
                let fill = match param(step, &["fill"]).and_then(numbers).as_deref() {
                    Some([v]) => [*v as u8; 3],
                    Some([r, g, b]) => [*r as u8, *g as u8, *b as u8],
                    _ => return Err(fail("fill must be a number or [r, g, b]".into())),
                };
                push(
                    &format!(
                        "PIL paste centered on a {width}x{height} canvas filled with {fill:?}"
                    ),
                    GlueOp::PasteCentered {
                        width,
                        height,
                        fill,
                    },
                );
            }
            (StepLibrary::Pil, "resize") => {
                need_pixels(&stage)?;
                let size = resize_size(step, &["size", "arg0"]).map_err(&fail)?;
                let filter = pil_filter(step).map_err(&fail)?;
                push(
                    &format!("PIL resize {} with {filter}", size.describe()),
                    GlueOp::Resize {
                        size,
                        filter,
                        crop: None,
                    },
                );
            }
            (StepLibrary::Numpy, "slice") => {
                need_pixels(&stage)?;
                let sizes = param(step, &["center_crop"])
                    .and_then(numbers)
                    .filter(|s| s.len() == 2)
                    .ok_or_else(|| fail("center_crop must be [height, width]".into()))?;
                let offset = param(step, &["offset"])
                    .and_then(Value::as_str)
                    .and_then(SliceOffset::parse)
                    .ok_or_else(|| {
                        let known: Vec<String> = SliceOffset::ALL
                            .iter()
                            .map(|o| format!("{:?}", o.as_str()))
                            .collect();
                        fail(format!("offset must be {}", known.join(", ")))
                    })?;
                push(
                    &format!(
                        "NumPy slicing crop {}x{} centered, start {}",
                        sizes[1] as usize,
                        sizes[0] as usize,
                        offset.as_str()
                    ),
                    GlueOp::SliceCenterCrop {
                        width: sizes[1] as usize,
                        height: sizes[0] as usize,
                        offset,
                    },
                );
            }
            (StepLibrary::Opencv, "resize") => {
                need_pixels(&stage)?;
                let size = resize_size(step, &["dsize", "arg1"]).map_err(&fail)?;
                let interpolation = cv_interpolation(step).map_err(&fail)?;
                let numerics = match interpolation {
                    "Area" => "OpenCV's block means and float cell shares",
                    "Linear" => "OpenCV's 11-bit fixed point",
                    _ => "OpenCV's floor(x * scale)",
                };
                push(
                    &format!(
                        "cv2.resize {}, INTER_{}, {numerics}",
                        size.describe(),
                        interpolation.to_uppercase()
                    ),
                    GlueOp::CvResize {
                        size,
                        interpolation,
                    },
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
                stage = Stage::Floats;
                push(
                    &format!(
                        "tf.image.resize to {}x{} (width x height), bilinear with half-pixel centres, float32 out",
                        size[1], size[0]
                    ),
                    GlueOp::TfResize {
                        width: size[1] as usize,
                        height: size[0] as usize,
                        swap_red_blue: bgr,
                    },
                );
            }
            // v2's `ToImage` (and v1's `PILToTensor`): the same 8-bit pixels as a CHW tensor.
            // Geometry after it would run torchvision's tensor kernels, not PIL's.
            (StepLibrary::Torchvision, "ToImage" | "PILToTensor") => {
                need_pixels(&stage)?;
                tensor_pixels = true;
                layout = Some(Layout::Nchw);
                push(
                    "8-bit pixels as a CHW tensor: applied when the tensor is handed over",
                    GlueOp::Nothing,
                );
            }
            (StepLibrary::Torchvision, "ToDtype") => {
                let dtype = param(step, &["dtype", "arg0"]).and_then(symbol);
                if dtype != Some("float32") && dtype != Some("float") {
                    return Err(fail(format!(
                        "ToDtype to {} has no Rust equivalent here (the model takes float32)",
                        dtype.unwrap_or("(unknown)")
                    )));
                }
                let scale = matches!(param(step, &["scale", "arg1"]), Some(Value::Bool(true)));
                match stage {
                    Stage::Floats => push("already float32", GlueOp::Nothing),
                    Stage::Pixels => {
                        stage = Stage::Floats;
                        push("pixels as float32 values 0..255", to_floats(bgr, false));
                        if scale {
                            // v2 scales with `mul_(1.0 / 255)` in float32, not ToTensor's `div(255)`.
                            push(
                                "ToDtype(scale=True): x * (1 / 255) in float32",
                                GlueOp::Scalar {
                                    op: "multiply",
                                    value: 1.0 / 255.0,
                                },
                            );
                        }
                    }
                }
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
                        push("a NumPy view of the pixels", GlueOp::Nothing)
                    }
                    (Some("float32"), Stage::Floats) => push("already float32", GlueOp::Nothing),
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
                let op = ARITHMETIC.into_iter().find(|o| *o == op).unwrap_or("add");
                let values = param(step, &["value", "arg1"])
                    .and_then(numbers)
                    .ok_or_else(|| {
                        fail("the operand must be a number or a list of numbers".into())
                    })?;
                let code = match (op, values.as_slice()) {
                    (op, [v]) => GlueOp::Scalar { op, value: *v },
                    ("divide" | "subtract", vs) => GlueOp::PerChannel {
                        op,
                        values: vs.to_vec(),
                    },
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
                    GlueOp::Normalize { mean, std },
                );
            }
            (StepLibrary::Keras, "preprocess_input") => {
                if stage == Stage::Pixels {
                    out.push(TypedStep {
                        python: "keras.preprocess_input".into(),
                        at: step.at.clone(),
                        comment: "preprocess_input casts the pixels to float32 first".into(),
                        op: to_floats(bgr, false),
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
                out.push(TypedStep {
                    python: "keras.preprocess_input".into(),
                    at: step.at.clone(),
                    comment: format!("Keras preprocess_input, mode {}", mode.to_lowercase()),
                    op: GlueOp::KerasPreprocessInput { mode },
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
                        GlueOp::Nothing,
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
                push("the batch axis of one: part of the layout", GlueOp::Nothing);
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
        out.push(TypedStep {
            python: "(implicit)".into(),
            at: "-".into(),
            comment: "the model takes float32: pixel values 0..255".into(),
            op: GlueOp::FinalFloats { swap_red_blue: bgr },
        });
    }
    fuse_resize_and_center_crop(&mut out);
    let layout = layout
        .or(plan.input.as_ref().and_then(|i| i.layout))
        .unwrap_or(Layout::Nhwc);
    Ok(CompiledSteps {
        steps: immutable_unless_changed(out.into_iter().map(TypedStep::render).collect()),
        layout: match layout {
            Layout::Nchw => "Nchw",
            Layout::Nhwc => "Nhwc",
        },
        warnings,
    })
}

/// `[a, b]` of two numbers of at least 1, as sizes.
fn positive_pair(v: &Value) -> Option<(usize, usize)> {
    match numbers(v)?.as_slice() {
        [a, b] if *a >= 1.0 && *b >= 1.0 => Some((*a as usize, *b as usize)),
        _ => None,
    }
}

/// The output size of a PIL or OpenCV resize step: a rule the analyzer read from hand-written
/// code (`shorter_side`/`longer_side`, `fit`), else `(width, height)` under `exact`.
fn resize_size(step: &PlanStep, exact: &[&str]) -> Result<ResizeSize, String> {
    if let Some(side) = param(step, &["shorter_side", "longer_side"]) {
        let size = number(side)
            .filter(|s| *s >= 1.0)
            .ok_or("the side must be a positive number")?;
        return Ok(ResizeSize::Aspect {
            size: size as usize,
            shorter: param(step, &["shorter_side"]).is_some(),
        });
    }
    if let Some(fit) = param(step, &["fit"]) {
        let (width, height) = positive_pair(fit).ok_or("fit must be [width, height]")?;
        return Ok(ResizeSize::Fit { width, height });
    }
    let size = param(step, exact)
        .and_then(numbers)
        .filter(|s| s.len() == 2)
        .ok_or_else(|| format!("{} must be (width, height)", exact[0]))?;
    Ok(ResizeSize::Exact {
        width: size[0] as usize,
        height: size[1] as usize,
    })
}

/// The `Filter` of a PIL resize step, or why there is none.
fn pil_filter(step: &PlanStep) -> Result<&'static str, String> {
    // Pillow's default resample for resize() has been BICUBIC since 7.0.
    match param(step, &["resample", "arg1"]).and_then(symbol) {
        None | Some("BICUBIC") => Ok("Bicubic"),
        Some("BILINEAR") | Some("LINEAR") => Ok("Bilinear"),
        Some("NEAREST") | Some("NONE") => Ok("Nearest"),
        Some("BOX") => Ok("Box"),
        Some("HAMMING") => Ok("Hamming"),
        Some("LANCZOS") | Some("ANTIALIAS") => Ok("Lanczos"),
        Some(other) => Err(format!("resample {other} is not one PIL has")),
    }
}

/// The `Interpolation` variant of a cv2.resize step, or why there is none.
fn cv_interpolation(step: &PlanStep) -> Result<&'static str, String> {
    match param(step, &["interpolation", "arg2"]).and_then(symbol) {
        None | Some("INTER_LINEAR") => Ok("Linear"),
        Some("INTER_NEAREST") => Ok("Nearest"),
        Some("INTER_AREA") => Ok("Area"),
        Some(other) => Err(format!(
            "cv2.{other} has no Rust equivalent in wasm-migrate yet (INTER_LINEAR, INTER_NEAREST and INTER_AREA do)"
        )),
    }
}

/// A PIL resize right before a center crop becomes one call that computes only the pixels the
/// crop keeps (`crop::resize_and_center_crop`, the same bits): torchvision's `Resize(256)` +
/// `CenterCrop(224)` on a 4:3 photograph throws away 40% of the resized pixels.
fn fuse_resize_and_center_crop(steps: &mut [TypedStep]) {
    for i in 1..steps.len() {
        let GlueOp::CenterCrop { width, height } = steps[i].op else {
            continue;
        };
        let GlueOp::Resize {
            crop: crop @ None, ..
        } = &mut steps[i - 1].op
        else {
            continue;
        };
        *crop = Some((width, height));
        steps[i].op = GlueOp::Nothing;
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

    /// The plan `analyze` writes for a hand-written shorter-side `cv2.resize` and a center
    /// crop by slicing, `crop` being the slice step's params.
    fn compile_hand_geometry(crop: &str) -> Result<CompiledSteps, CodegenError> {
        let plan_text = format!(
            "version: 1\nservice:\n  name: s\nmodel:\n  framework: onnx\n  loaded_at: main.py:1\n\
             input:\n  kind: image\n  layout: nchw\n  dtype: f32\n\
             preprocessing:\n\
             - library: opencv\n  op: imdecode\n  at: main.py:1\n\
             - library: opencv\n  op: resize\n  params:\n    shorter_side: 224\n    keep_aspect: true\n  at: main.py:2\n\
             - library: numpy\n  op: slice\n  params:\n{crop}  at: main.py:3\n\
             target:\n  path: wasi-nn-glue\n  runtime: wasmedge\n  runtime_version: \"0.14\"\n  backend: openvino\n\
             tolerances:\n  preset: cross-backend\n  atol: 0.0001\n  rtol: 0.001\n"
        );
        let path = Path::new("wasm-migrate.yaml");
        let plan = MigrationPlan::from_yaml(path, &plan_text).expect("plan parses");
        compile_image_steps(&plan, path, &plan_text)
    }

    #[test]
    fn a_hand_written_aspect_resize_and_slicing_crop_compile_to_their_rules() {
        let steps = compile_hand_geometry(
            "    center_crop: [224, 200]\n    offset: size // 2 - crop // 2\n",
        )
        .expect("compiles");
        let code: Vec<&str> = steps.steps.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(
            code[1],
            "let (width, height) = crop::aspect_resize_size(image.width, image.height, 224, true);\n    \
             let image = cv_resize::resize(&image, width, height, Interpolation::Linear);"
        );
        assert_eq!(
            code[2],
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
        let path = Path::new("wasm-migrate.yaml");
        let plan = MigrationPlan::from_yaml(path, plan_text).expect("plan parses");
        let steps = compile_image_steps(&plan, path, plan_text).expect("compiles");
        let code: Vec<&str> = steps.steps.iter().map(|s| s.code.as_str()).collect();
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
        let plan = MigrationPlan::from_yaml(path, &grey).expect("plan parses");
        let error = compile_image_steps(&plan, path, &grey)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("RGB canvas") && error.contains("wasm-migrate.yaml:"),
            "{error}"
        );
    }

    #[test]
    fn torchvision_v2_to_image_and_to_dtype_scale_by_multiplying() {
        let plan_text = |extra: &str| {
            format!(
                "version: 1\nservice:\n  name: s\nmodel:\n  framework: pytorch\n  loaded_at: main.py:1\n\
                 input:\n  kind: image\n  layout: nchw\n  dtype: f32\n\
                 preprocessing:\n\
                 - library: pil\n  op: open\n  at: main.py:1\n\
                 {extra}\
                 - library: torchvision\n  op: ToImage\n  at: main.py:3\n\
                 - library: torchvision\n  op: ToDtype\n  params:\n    dtype:\n      symbol: torch.float32\n    scale: true\n  at: main.py:4\n\
                 target:\n  path: wasi-nn-glue\n  runtime: wasmedge\n  runtime_version: \"0.14\"\n  backend: openvino\n\
                 tolerances:\n  preset: cross-backend\n  atol: 0.0001\n  rtol: 0.001\n"
            )
        };
        let path = Path::new("wasm-migrate.yaml");
        let text = plan_text("");
        let plan = MigrationPlan::from_yaml(path, &text).expect("plan parses");
        let steps = compile_image_steps(&plan, path, &text).expect("compiles");
        let code: Vec<&str> = steps.steps.iter().map(|s| s.code.as_str()).collect();
        // v2 scales with `mul_(1 / 255)`, which rounds differently from ToTensor's `div(255)`.
        assert_eq!(
            code,
            [
                "",
                "",
                "let mut tensor = HwcTensor::from_image(&image);",
                "tensor.multiply(0.003921569_f32);"
            ]
        );
        assert_eq!(steps.layout, "Nchw");
        // A resize after ToImage would run torchvision's tensor kernels: refused.
        let text = plan_text(
            "- library: torchvision\n  op: ToImage\n  at: main.py:2\n- library: torchvision\n  op: Resize\n  params:\n    size: 256\n  at: main.py:2\n",
        );
        let plan = MigrationPlan::from_yaml(path, &text).expect("plan parses");
        let error = compile_image_steps(&plan, path, &text)
            .unwrap_err()
            .to_string();
        assert!(error.contains("tensor kernels"), "{error}");
    }

    #[test]
    fn a_resize_then_a_center_crop_become_one_call() {
        let step = |python: &str, op: GlueOp| TypedStep {
            python: python.into(),
            at: "app.py:1".into(),
            comment: python.into(),
            op,
        };
        let mut steps = vec![
            step(
                "torchvision.Resize",
                GlueOp::Resize {
                    size: ResizeSize::Torchvision {
                        sizes: vec![256],
                        max_size: None,
                    },
                    filter: "Bilinear",
                    crop: None,
                },
            ),
            step(
                "torchvision.CenterCrop",
                GlueOp::CenterCrop {
                    width: 224,
                    height: 200,
                },
            ),
            step(
                "torchvision.CenterCrop",
                GlueOp::CenterCrop {
                    width: 100,
                    height: 100,
                },
            ),
        ];
        fuse_resize_and_center_crop(&mut steps);
        let code: Vec<String> = steps.into_iter().map(|s| s.render().code).collect();
        assert_eq!(
            code[0],
            "let (width, height) = crop::torchvision_resize_size(image.width, image.height, &[256], None);\n    \
             let image = crop::resize_and_center_crop(&image, width, height, Filter::Bilinear, 224, 200);"
        );
        assert_eq!(code[1], "");
        // A second crop has no resize before it any more: left as it is.
        assert_eq!(code[2], "let image = crop::center_crop(&image, 100, 100);");
    }

    #[test]
    fn every_op_renders_the_call_of_its_ops_module() {
        let cases = [
            (
                GlueOp::Resize {
                    size: ResizeSize::Exact {
                        width: 160,
                        height: 120,
                    },
                    filter: "Bicubic",
                    crop: None,
                },
                "let image = pil_resize::resize(&image, 160, 120, Filter::Bicubic);",
            ),
            (
                GlueOp::CvResize {
                    size: ResizeSize::Exact {
                        width: 64,
                        height: 48,
                    },
                    interpolation: "Area",
                },
                "let image = cv_resize::resize(&image, 64, 48, Interpolation::Area);",
            ),
            (
                GlueOp::ToFloats {
                    swap_red_blue: true,
                    scale: true,
                },
                "let image = image.swap_red_blue();\n    let mut tensor = HwcTensor::to_tensor(&image);",
            ),
            (
                GlueOp::FinalFloats {
                    swap_red_blue: false,
                },
                "let tensor = HwcTensor::from_image(&image);",
            ),
            (
                GlueOp::Scalar {
                    op: "divide",
                    value: 255.0,
                },
                "tensor.divide(255.0_f32);",
            ),
            (
                GlueOp::PerChannel {
                    op: "subtract",
                    values: vec![0.5, 0.25],
                },
                "tensor.subtract_per_channel(&[0.5_f32, 0.25_f32]);",
            ),
            (
                GlueOp::Normalize {
                    mean: vec![0.485],
                    std: vec![0.229],
                },
                "tensor.normalize(&[0.485_f32], &[0.229_f32]);",
            ),
            (
                GlueOp::KerasPreprocessInput { mode: "Tf" },
                "tensor.keras_preprocess_input(KerasMode::Tf);",
            ),
            (GlueOp::Nothing, ""),
        ];
        for (op, code) in cases {
            assert_eq!(op.render(), code, "{op:?}");
        }
    }

    #[test]
    fn plan_item_lines_count_list_items() {
        let text = "version: 1\npreprocessing:\n- library: pil\n  op: open\n- library: pil\n  op: convert\npostprocessing: []\n";
        assert_eq!(plan_item_line(text, "preprocessing", 0), 3);
        assert_eq!(plan_item_line(text, "preprocessing", 1), 5);
    }
}
