//! The typed IR: what a plan step becomes in the glue ([`GlueOp`]), and the Rust source it
//! renders to over the vendored `ops` module.
//!
//! No preprocess identifier travels as a string: filters, interpolations, modes and offsets
//! are enums of the [`OpsEnum`] kind, whose variants are checked against the vendored sources
//! (see the tests), and arithmetic names the tensor method through [`ScalarOp`] and
//! [`PerChannelOp`].

use std::fmt;

use wasm_migrate_plan::{Layout, SliceOffset};

/// An enum of the vendored `ops` module, mirrored here so the IR stays typed.
pub trait OpsEnum: Copy + fmt::Debug + 'static {
    /// How the glue names the type: `Filter` (imported by `main.rs.tera`), `crop::SliceOffset`.
    const RUST_TYPE: &'static str;
    /// The vendored file and the enum in it (`("pil_resize.rs", "Filter")`).
    #[cfg(test)]
    const DEFINED_IN: (&'static str, &'static str);
    /// Every variant, in the order the vendored enum declares them.
    #[cfg(test)]
    const ALL: &'static [Self];
    /// The variant's name, as the vendored enum spells it.
    fn variant(self) -> &'static str;
    /// The Rust path the generated code writes: `Filter::Bilinear`.
    fn rust_path(self) -> String {
        format!("{}::{}", Self::RUST_TYPE, self.variant())
    }
}

/// A fieldless enum mirroring one of the vendored `ops` module, displayed as its Rust path.
macro_rules! ops_enum {
    (
        $(#[$doc:meta])*
        $name:ident => $rust_type:literal in ($file:literal, $enum:literal) { $($variant:ident),+ $(,)? }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($variant),+
        }

        impl OpsEnum for $name {
            const RUST_TYPE: &'static str = $rust_type;
            #[cfg(test)]
            const DEFINED_IN: (&'static str, &'static str) = ($file, $enum);
            #[cfg(test)]
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn variant(self) -> &'static str {
                match self {
                    $($name::$variant => stringify!($variant)),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.rust_path())
            }
        }
    };
}

ops_enum! {
    /// PIL's resampling filter (`pil_resize::Filter`).
    PilFilter => "Filter" in ("pil_resize.rs", "Filter") {
        Nearest, Box, Bilinear, Hamming, Bicubic, Lanczos,
    }
}

ops_enum! {
    /// cv2.resize's interpolation (`cv_resize::Interpolation`).
    CvInterpolation => "Interpolation" in ("cv_resize.rs", "Interpolation") {
        Nearest, Linear, Area,
    }
}

ops_enum! {
    /// NumPy arithmetic in float64 on 8-bit pixels (`tensor::Float64Op`).
    Float64Op => "Float64Op" in ("tensor.rs", "Float64Op") {
        Add, Subtract, SubtractFrom, Multiply, Divide,
    }
}

ops_enum! {
    /// Keras `preprocess_input`'s mode (`tensor::KerasMode`).
    KerasMode => "KerasMode" in ("tensor.rs", "KerasMode") { Tf, Torch, Caffe }
}

/// The plan's slicing offsets are the vendored `crop::SliceOffset`'s: the one place their
/// Rust names are written (the preprocess crate has no dependencies, so it keeps its own
/// enum; a test checks that the two lists agree).
impl OpsEnum for SliceOffset {
    const RUST_TYPE: &'static str = "crop::SliceOffset";
    #[cfg(test)]
    const DEFINED_IN: (&'static str, &'static str) = ("crop.rs", "SliceOffset");
    #[cfg(test)]
    const ALL: &'static [Self] = &SliceOffset::ALL;
    fn variant(self) -> &'static str {
        match self {
            SliceOffset::HalfMinusHalf => "HalfMinusHalf",
            SliceOffset::FloorHalfDifference => "FloorHalfDifference",
            SliceOffset::RoundHalfDifference => "RoundHalfDifference",
        }
    }
}

/// The plan's layouts are the vendored `tensor::Layout`'s (the template writes
/// `Layout::{layout}`).
impl OpsEnum for Layout {
    const RUST_TYPE: &'static str = "Layout";
    #[cfg(test)]
    const DEFINED_IN: (&'static str, &'static str) = ("tensor.rs", "Layout");
    #[cfg(test)]
    const ALL: &'static [Self] = &[Layout::Nchw, Layout::Nhwc];
    fn variant(self) -> &'static str {
        match self {
            Layout::Nchw => "Nchw",
            Layout::Nhwc => "Nhwc",
        }
    }
}

/// PIL `ImageOps` functions the glue does as PIL does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageOp {
    Invert,
    Mirror,
    Flip,
}

impl ImageOp {
    pub const ALL: [ImageOp; 3] = [ImageOp::Invert, ImageOp::Mirror, ImageOp::Flip];

    /// PIL's name.
    pub fn python(self) -> &'static str {
        match self {
            ImageOp::Invert => "invert",
            ImageOp::Mirror => "mirror",
            ImageOp::Flip => "flip",
        }
    }

    /// The vendored `RgbImage` method.
    fn method(self) -> &'static str {
        match self {
            ImageOp::Invert => "inverted",
            ImageOp::Mirror => "mirrored",
            ImageOp::Flip => "flipped",
        }
    }
}

/// Whose grayscale arithmetic: the library's own fixed-point luma.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrayFormula {
    /// PIL's `convert("L")` (and torchvision's `Grayscale` on a PIL image).
    Pil,
    /// OpenCV's `cvtColor(..., COLOR_RGB2GRAY)`.
    Opencv,
}

impl GrayFormula {
    /// The call of the vendored `RgbImage` method: OpenCV's weights are those of the OpenCV
    /// the service runs, which `convert` records (`opencv_major()` in the glue).
    fn call(self) -> &'static str {
        match self {
            GrayFormula::Pil => "into_luma_pil()",
            GrayFormula::Opencv => "into_gray_opencv(opencv_major())",
        }
    }
}

/// NumPy float32 arithmetic with one number: NumPy's name is the tensor method's
/// (`tensor.divide(x)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarOp {
    Divide,
    Subtract,
    /// `value - x` (NumPy's reflected subtraction: `255 - x` inverts pixels).
    SubtractFrom,
    Multiply,
    Add,
}

impl ScalarOp {
    pub const ALL: [ScalarOp; 5] = [
        ScalarOp::Divide,
        ScalarOp::Subtract,
        ScalarOp::SubtractFrom,
        ScalarOp::Multiply,
        ScalarOp::Add,
    ];

    /// NumPy's name, and the `HwcTensor` method's.
    pub fn method(self) -> &'static str {
        match self {
            ScalarOp::Divide => "divide",
            ScalarOp::Subtract => "subtract",
            ScalarOp::SubtractFrom => "subtract_from",
            ScalarOp::Multiply => "multiply",
            ScalarOp::Add => "add",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.method() == name)
    }

    /// The same arithmetic in float64 (NumPy's on 8-bit pixels).
    pub fn float64(self) -> Float64Op {
        match self {
            ScalarOp::Divide => Float64Op::Divide,
            ScalarOp::Subtract => Float64Op::Subtract,
            ScalarOp::SubtractFrom => Float64Op::SubtractFrom,
            ScalarOp::Multiply => Float64Op::Multiply,
            ScalarOp::Add => Float64Op::Add,
        }
    }

    /// The same arithmetic with one value per channel, where the tensor has it.
    pub fn per_channel(self) -> Option<PerChannelOp> {
        match self {
            ScalarOp::Divide => Some(PerChannelOp::Divide),
            ScalarOp::Subtract => Some(PerChannelOp::Subtract),
            ScalarOp::SubtractFrom | ScalarOp::Multiply | ScalarOp::Add => None,
        }
    }
}

/// NumPy float32 arithmetic broadcast over the channels (`tensor.subtract_per_channel(..)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerChannelOp {
    Divide,
    Subtract,
}

impl PerChannelOp {
    #[cfg(test)]
    pub const ALL: [PerChannelOp; 2] = [PerChannelOp::Divide, PerChannelOp::Subtract];

    /// The `HwcTensor` method.
    pub fn method(self) -> &'static str {
        match self {
            PerChannelOp::Divide => "divide_per_channel",
            PerChannelOp::Subtract => "subtract_per_channel",
        }
    }
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
        filter: PilFilter,
        /// `(width, height)` of a center crop that follows: only the kept pixels are computed.
        crop: Option<(usize, usize)>,
    },
    /// torchvision's CenterCrop: round-half-even offsets, black padding when smaller.
    CenterCrop {
        width: usize,
        height: usize,
    },
    /// cv2.resize.
    CvResize {
        size: ResizeSize,
        interpolation: CvInterpolation,
    },
    /// A center crop by NumPy slicing: `offset` is the rule the service's start expression
    /// computes.
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
    /// `ImageOps.fit`: the centred box of the output's aspect, resized with PIL's box.
    Fit {
        width: usize,
        height: usize,
        filter: PilFilter,
    },
    /// tf.image.resize bilinear: pixels in, float32 out.
    TfResize {
        width: usize,
        height: usize,
        swap_red_blue: bool,
    },
    /// Pixels to a float32 tensor: `/ 255` (ToTensor) when `scale`, else values 0..255;
    /// one channel when the image was made grayscale (it holds three equal ones).
    ToFloats {
        swap_red_blue: bool,
        scale: bool,
        one_channel: bool,
    },
    /// The implicit conversion at the end when no step made floats (the tensor stays as is).
    FinalFloats {
        swap_red_blue: bool,
        one_channel: bool,
    },
    /// NumPy arithmetic on 8-bit pixels (float64), then the cast to float32.
    Float64 {
        swap_red_blue: bool,
        one_channel: bool,
        ops: Vec<(Float64Op, Vec<f64>)>,
    },
    /// No `convert` after `Image.open`: a grayscale upload's tensor keeps one channel, and a
    /// mode the glue does not hold is refused.
    InOpenedMode,
    /// A PIL `ImageOps` function that maps or moves pixels exactly (`invert`, `mirror`, `flip`).
    ImageOps(ImageOp),
    /// A grayscale conversion, its luma written to all three channels.
    Gray {
        formula: GrayFormula,
        /// OpenCV read the channels in the other order than the image holds them.
        swap_red_blue: bool,
    },
    /// NumPy float32 arithmetic with one number.
    Scalar {
        op: ScalarOp,
        value: f64,
    },
    /// NumPy float32 arithmetic with a value per channel.
    PerChannel {
        op: PerChannelOp,
        values: Vec<f64>,
    },
    Normalize {
        mean: Vec<f64>,
        std: Vec<f64>,
    },
    /// Keras `preprocess_input`.
    KerasPreprocessInput {
        mode: KerasMode,
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
    pub fn describe(&self) -> String {
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

const SWAP_RED_BLUE: &str = "let image = image.swap_red_blue();\n    ";

fn swap(yes: bool) -> &'static str {
    if yes { SWAP_RED_BLUE } else { "" }
}

/// A grayscale image's tensor keeps one of its three equal channels.
fn single(yes: bool) -> &'static str {
    if yes { ".single_channel()" } else { "" }
}

impl GlueOp {
    /// The Rust statements, indented for the template's `preprocess` body.
    pub fn render(&self) -> String {
        match self {
            GlueOp::Nothing => String::new(),
            GlueOp::Resize { size, filter, crop } => render_resize(size, *filter, *crop),
            GlueOp::CenterCrop { width, height } => {
                format!("let image = crop::center_crop(&image, {width}, {height});")
            }
            GlueOp::CvResize {
                size,
                interpolation,
            } => {
                let (prefix, dims) = size.render();
                format!("{prefix}let image = cv_resize::resize(&image, {dims}, {interpolation});")
            }
            GlueOp::SliceCenterCrop {
                width,
                height,
                offset,
            } => format!(
                "let image = crop::slice_center_crop(&image, {width}, {height}, {});",
                offset.rust_path()
            ),
            GlueOp::PasteCentered {
                width,
                height,
                fill,
            } => format!("let image = crop::paste_centered(&image, {width}, {height}, {fill:?});"),
            GlueOp::Fit {
                width,
                height,
                filter,
            } => format!("let image = crop::fit(&image, {width}, {height}, {filter});"),
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
                one_channel,
            } => {
                let ctor = if *scale { "to_tensor" } else { "from_image" };
                format!(
                    "{}let mut tensor = HwcTensor::{ctor}(&image){};",
                    swap(*swap_red_blue),
                    single(*one_channel)
                )
            }
            GlueOp::FinalFloats {
                swap_red_blue,
                one_channel,
            } => format!(
                "{}let tensor = HwcTensor::from_image(&image){};",
                swap(*swap_red_blue),
                single(*one_channel)
            ),
            GlueOp::Float64 {
                swap_red_blue,
                one_channel,
                ops,
            } => {
                let ops: Vec<String> = ops
                    .iter()
                    .map(|(op, values)| format!("({op}, &{values:?})"))
                    .collect();
                format!(
                    "{}let mut tensor = HwcTensor::from_float64(&image, &[{}]){};",
                    swap(*swap_red_blue),
                    ops.join(", "),
                    single(*one_channel)
                )
            }
            GlueOp::ImageOps(op) => format!("let image = image.{}();", op.method()),
            // Written without `tensor.`, which would keep an earlier `let mut tensor`.
            GlueOp::InOpenedMode => {
                "let tensor = HwcTensor::in_opened_mode(tensor, ops::decode::opened_mode(bytes))?;"
                    .into()
            }
            GlueOp::Gray {
                formula,
                swap_red_blue,
            } => format!(
                "{}let image = image.{};",
                swap(*swap_red_blue),
                formula.call()
            ),
            GlueOp::Scalar { op, value } => {
                format!("tensor.{}({});", op.method(), f32_literal(*value))
            }
            GlueOp::PerChannel { op, values } => {
                format!("tensor.{}({});", op.method(), list_literal(values))
            }
            GlueOp::Normalize { mean, std } => format!(
                "tensor.normalize({}, {});",
                list_literal(mean),
                list_literal(std)
            ),
            GlueOp::KerasPreprocessInput { mode } => {
                format!("tensor.keras_preprocess_input({mode});")
            }
        }
    }
}

fn render_resize(size: &ResizeSize, filter: PilFilter, crop: Option<(usize, usize)>) -> String {
    let (prefix, dims) = size.render();
    match crop {
        Some((w, h)) => format!(
            "{prefix}let image = crop::resize_and_center_crop(&image, {dims}, {filter}, {w}, {h});"
        ),
        None => format!("{prefix}let image = pil_resize::resize(&image, {dims}, {filter});"),
    }
}

/// Rust literal for an f32 constant the way Python hands it to float32 kernels: the f64
/// value rounded once to f32, printed so that it parses back to that same f32.
pub fn f32_literal(v: f64) -> String {
    let s = format!("{:?}", v as f32);
    format!("{s}_f32")
}

fn list_literal(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| f32_literal(*v)).collect();
    format!("&[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::{BUILTIN, OPS};

    #[test]
    fn constants_round_once_to_f32() {
        assert_eq!(f32_literal(0.485), "0.485_f32");
        assert_eq!(f32_literal(255.0), "255.0_f32");
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
                    filter: PilFilter::Bicubic,
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
                    interpolation: CvInterpolation::Area,
                },
                "let image = cv_resize::resize(&image, 64, 48, Interpolation::Area);",
            ),
            (
                GlueOp::ToFloats {
                    swap_red_blue: true,
                    scale: true,
                    one_channel: false,
                },
                "let image = image.swap_red_blue();\n    let mut tensor = HwcTensor::to_tensor(&image);",
            ),
            (
                GlueOp::FinalFloats {
                    swap_red_blue: false,
                    one_channel: false,
                },
                "let tensor = HwcTensor::from_image(&image);",
            ),
            (
                GlueOp::FinalFloats {
                    swap_red_blue: false,
                    one_channel: true,
                },
                "let tensor = HwcTensor::from_image(&image).single_channel();",
            ),
            (
                GlueOp::Gray {
                    formula: GrayFormula::Opencv,
                    swap_red_blue: true,
                },
                "let image = image.swap_red_blue();\n    let image = image.into_gray_opencv(opencv_major());",
            ),
            (
                GlueOp::Scalar {
                    op: ScalarOp::Divide,
                    value: 255.0,
                },
                "tensor.divide(255.0_f32);",
            ),
            (
                GlueOp::PerChannel {
                    op: PerChannelOp::Subtract,
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
                GlueOp::KerasPreprocessInput {
                    mode: KerasMode::Tf,
                },
                "tensor.keras_preprocess_input(KerasMode::Tf);",
            ),
            (
                GlueOp::SliceCenterCrop {
                    width: 3,
                    height: 2,
                    offset: SliceOffset::RoundHalfDifference,
                },
                "let image = crop::slice_center_crop(&image, 3, 2, crop::SliceOffset::RoundHalfDifference);",
            ),
            (GlueOp::Nothing, ""),
        ];
        for (op, code) in cases {
            assert_eq!(op.render(), code, "{op:?}");
        }
    }

    /// The vendored source of `file` (as `generate` copies it into the glue).
    fn vendored(file: &str) -> &'static str {
        OPS.iter()
            .find(|(name, _)| *name == file)
            .map(|(_, source)| *source)
            .unwrap_or_else(|| panic!("{file} is not vendored"))
    }

    /// The variants of `pub enum {name}` in a vendored source file, in order.
    fn enum_variants(source: &str, name: &str) -> Vec<String> {
        let start = source
            .find(&format!("pub enum {name} {{"))
            .unwrap_or_else(|| panic!("no `pub enum {name}`"));
        let body = &source[start..];
        let body = &body[body.find('{').unwrap() + 1..body.find('}').unwrap()];
        body.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with("//") && !line.starts_with('#'))
            .map(|line| line.trim_end_matches(',').to_string())
            .collect()
    }

    fn agrees_with_the_vendored_enum<T: OpsEnum>() {
        let (file, name) = T::DEFINED_IN;
        let ours: Vec<&str> = T::ALL.iter().map(|v| v.variant()).collect();
        assert_eq!(
            ours,
            enum_variants(vendored(file), name),
            "{} against {file}'s {name}",
            std::any::type_name::<T>()
        );
        // The glue names the type as imported by main.rs.tera, or by its module's path.
        let main = BUILTIN
            .iter()
            .find(|(n, _)| *n == "glue/main.rs.tera")
            .map(|(_, t)| *t)
            .expect("main.rs template");
        let imported = T::RUST_TYPE.split("::").next().unwrap();
        assert!(
            main.contains(imported),
            "main.rs.tera imports no {imported}"
        );
    }

    #[test]
    fn the_typed_ir_names_exactly_the_variants_of_the_vendored_ops() {
        agrees_with_the_vendored_enum::<PilFilter>();
        agrees_with_the_vendored_enum::<CvInterpolation>();
        agrees_with_the_vendored_enum::<KerasMode>();
        agrees_with_the_vendored_enum::<SliceOffset>();
        agrees_with_the_vendored_enum::<Layout>();
    }

    #[test]
    fn the_arithmetic_names_methods_the_vendored_tensor_has() {
        let tensor = vendored("tensor.rs");
        let methods = ScalarOp::ALL
            .iter()
            .map(|o| o.method())
            .chain(PerChannelOp::ALL.iter().map(|o| o.method()));
        for method in methods.chain(["normalize", "keras_preprocess_input"]) {
            assert!(
                tensor.contains(&format!("pub fn {method}(&mut self")),
                "HwcTensor has no {method}"
            );
        }
    }
}
