//! One fixture per op-table entry: a minimal plan step and the Rust statement it renders.
//! A table entry without a fixture, or a fixture whose entry is gone, fails the tests.

use super::FAMILIES;
use super::testing::{compile, step};

/// What comes before the step in its plan.
#[derive(Clone, Copy)]
enum Setup {
    Nothing,
    /// `Image.open`: 8-bit RGB pixels.
    Pixels,
    /// `cv2.imdecode`: 8-bit BGR pixels.
    Bgr,
    /// `Image.open`, then `astype(np.float32)`.
    Floats,
}

struct Fixture {
    library: &'static str,
    op: &'static str,
    setup: Setup,
    /// The step's `params`, lines indented by 4.
    params: &'static str,
    /// The statements the step renders, one per glue step it makes.
    code: &'static str,
}

const fn fixture(
    library: &'static str,
    op: &'static str,
    setup: Setup,
    params: &'static str,
    code: &'static str,
) -> Fixture {
    Fixture {
        library,
        op,
        setup,
        params,
        code,
    }
}

use Setup::{Bgr, Floats, Nothing, Pixels};

const FIXTURES: &[Fixture] = &[
    // decode
    fixture("pil", "open", Nothing, "", ""),
    fixture("numpy", "frombuffer", Nothing, "", ""),
    fixture(
        "opencv",
        "imdecode",
        Nothing,
        "    flags:\n      symbol: cv2.IMREAD_COLOR\n",
        "",
    ),
    fixture("opencv", "imread", Nothing, "", ""),
    fixture(
        "pil",
        "exif_transpose",
        Pixels,
        "",
        "let image = exif::transpose(&image, exif::orientation(&bytes));",
    ),
    fixture("pil", "convert", Pixels, "    mode: RGB\n", ""),
    fixture(
        "opencv",
        "cvtColor",
        Bgr,
        "    code:\n      symbol: cv2.COLOR_BGR2RGB\n",
        "",
    ),
    // resize
    fixture(
        "torchvision",
        "Resize",
        Pixels,
        "    size: 256\n",
        "let (width, height) = crop::torchvision_resize_size(image.width, image.height, &[256], None);\n    \
         let image = pil_resize::resize(&image, width, height, Filter::Bilinear);",
    ),
    fixture(
        "pil",
        "resize",
        Pixels,
        "    size: [160, 120]\n    resample:\n      symbol: PIL.Image.LANCZOS\n",
        "let image = pil_resize::resize(&image, 160, 120, Filter::Lanczos);",
    ),
    fixture(
        "keras",
        "img_to_array",
        Pixels,
        "",
        "let tensor = HwcTensor::from_image(&image);",
    ),
    fixture("pil", "invert", Pixels, "", "let image = image.inverted();"),
    fixture("pil", "mirror", Pixels, "", "let image = image.mirrored();"),
    fixture("pil", "flip", Pixels, "", "let image = image.flipped();"),
    fixture(
        "numpy",
        "reshape",
        Floats,
        "    newshape: [1, 3, 224, 224]\n",
        "",
    ),
    fixture(
        "pil",
        "grayscale",
        Pixels,
        "",
        "let image = image.into_luma_pil();",
    ),
    fixture(
        "torchvision",
        "Grayscale",
        Pixels,
        "    num_output_channels: 3\n",
        "let image = image.into_luma_pil();",
    ),
    fixture(
        "pil",
        "fit",
        Pixels,
        "    size: [224, 224]\n    method:\n      symbol: PIL.Image.Resampling.LANCZOS\n",
        "let image = crop::fit(&image, 224, 224, Filter::Lanczos);",
    ),
    fixture(
        "opencv",
        "resize",
        Bgr,
        "    dsize: [64, 48]\n    interpolation:\n      symbol: cv2.INTER_AREA\n",
        "let image = cv_resize::resize(&image, 64, 48, Interpolation::Area);",
    ),
    fixture(
        "tensorflow",
        "image.resize",
        Pixels,
        "    size: [120, 160]\n",
        "let tensor = tf_resize::resize_bilinear(&image, 160, 120);",
    ),
    // crop
    fixture(
        "torchvision",
        "CenterCrop",
        Pixels,
        "    size: [224, 200]\n",
        "let image = crop::center_crop(&image, 200, 224);",
    ),
    fixture(
        "pil",
        "paste",
        Pixels,
        "    canvas: [500, 400]\n    mode: RGB\n    fill: 0\n    centered: true\n",
        "let image = crop::paste_centered(&image, 500, 400, [0, 0, 0]);",
    ),
    fixture(
        "numpy",
        "slice",
        Pixels,
        "    center_crop: [224, 200]\n    offset: \"(size - crop) // 2\"\n",
        "let image = crop::slice_center_crop(&image, 200, 224, crop::SliceOffset::FloorHalfDifference);",
    ),
    // tensor
    fixture("torchvision", "ToImage", Pixels, "", ""),
    fixture("torchvision", "PILToTensor", Pixels, "", ""),
    fixture(
        "torchvision",
        "ToDtype",
        Pixels,
        "    dtype:\n      symbol: torch.float32\n    scale: true\n",
        "let mut tensor = HwcTensor::from_image(&image);\ntensor.multiply(0.003921569_f32);",
    ),
    fixture(
        "torchvision",
        "ToTensor",
        Pixels,
        "",
        "let tensor = HwcTensor::to_tensor(&image);",
    ),
    fixture(
        "numpy",
        "astype",
        Pixels,
        "    dtype:\n      symbol: numpy.float32\n",
        "let tensor = HwcTensor::from_image(&image);",
    ),
    fixture("numpy", "array", Pixels, "", ""),
    fixture(
        "numpy",
        "asarray",
        Bgr,
        "    dtype:\n      symbol: numpy.float32\n",
        "let image = image.swap_red_blue();\n    let tensor = HwcTensor::from_image(&image);",
    ),
    fixture("numpy", "transpose", Floats, "    axes: [2, 0, 1]\n", ""),
    fixture("numpy", "expand_dims", Floats, "    axis: 0\n", ""),
    fixture("torch", "stack", Floats, "", ""),
    fixture("torch", "unsqueeze", Floats, "    dim: 0\n", ""),
    fixture("tensorflow", "expand_dims", Floats, "    axis: 0\n", ""),
    // normalize
    fixture(
        "numpy",
        "divide",
        Floats,
        "    value: 255\n",
        "tensor.divide(255.0_f32);",
    ),
    fixture(
        "numpy",
        "subtract",
        Floats,
        "    value: [123.68, 116.78, 103.94]\n",
        "tensor.subtract_per_channel(&[123.68_f32, 116.78_f32, 103.94_f32]);",
    ),
    fixture(
        "numpy",
        "multiply",
        Floats,
        "    value: 0.5\n",
        "tensor.multiply(0.5_f32);",
    ),
    fixture(
        "numpy",
        "add",
        Floats,
        "    value: -1\n",
        "tensor.add(-1.0_f32);",
    ),
    fixture(
        "torchvision",
        "Normalize",
        Floats,
        "    mean: [0.485, 0.456, 0.406]\n    std: [0.229, 0.224, 0.225]\n",
        "tensor.normalize(&[0.485_f32, 0.456_f32, 0.406_f32], &[0.229_f32, 0.224_f32, 0.225_f32]);",
    ),
    fixture(
        "keras",
        "preprocess_input",
        Floats,
        "    mode: torch\n",
        "tensor.keras_preprocess_input(KerasMode::Torch);",
    ),
];

const AT: &str = "fixture.py:9";

/// The statements the fixture's step renders, one per glue step, joined by newlines.
fn rendered(f: &Fixture) -> String {
    let mut steps = match f.setup {
        Nothing => vec![],
        Pixels => vec![step("pil", "open", "")],
        Bgr => vec![step("opencv", "imdecode", "")],
        Floats => vec![
            step("pil", "open", ""),
            step(
                "numpy",
                "astype",
                "    dtype:\n      symbol: numpy.float32\n",
            ),
        ],
    };
    let params = if f.params.is_empty() {
        String::new()
    } else {
        format!("  params:\n{}", f.params)
    };
    steps.push(format!(
        "- library: {}\n  op: {}\n{params}  at: {AT}\n",
        f.library, f.op
    ));
    let compiled =
        compile("onnx", "nhwc", &steps).unwrap_or_else(|e| panic!("{}.{}: {e}", f.library, f.op));
    let mine: Vec<_> = compiled.steps.iter().filter(|s| s.at == AT).collect();
    assert!(!mine.is_empty(), "{}.{} made no glue step", f.library, f.op);
    for s in &mine {
        assert_eq!(s.python, format!("{}.{}", f.library, f.op));
    }
    let code: Vec<&str> = mine.iter().map(|s| s.code.as_str()).collect();
    code.join("\n")
}

#[test]
fn every_fixture_step_renders_its_statement() {
    for f in FIXTURES {
        assert_eq!(rendered(f), f.code, "{}.{}", f.library, f.op);
    }
}

#[test]
fn every_op_table_entry_has_one_fixture() {
    for op in FAMILIES.iter().flat_map(|family| family.iter()) {
        let n = FIXTURES
            .iter()
            .filter(|f| f.library == op.library.as_str() && f.op == op.name)
            .count();
        assert_eq!(n, 1, "fixtures for {}.{}", op.library.as_str(), op.name);
    }
    let entries: usize = FAMILIES.iter().map(|family| family.len()).sum();
    assert_eq!(FIXTURES.len(), entries, "a fixture for an op no table has");
}
