//! The step operations that a stage gives a meaning of its own, as one enum: a plan step's
//! `op` is the library's own name (`Resize`, `softmax`, `AutoTokenizer.from_pretrained`), an
//! open vocabulary, and the stages that ask "is this a softmax?" or "where is the tokenizer
//! loaded?" ask [`KnownOp::of`] instead of comparing strings. Each spelling is one line of
//! [`SPELLINGS`], so a library's new name for an operation is one table line.

use crate::kinds::StepLibrary;
use crate::plan::PlanStep;

/// An operation some stage reads a meaning into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KnownOp {
    /// Where a tokenizer comes from (`AutoTokenizer.from_pretrained`, `Tokenizer.from_file`).
    TokenizerLoad,
    /// The tokenizer applied to the text (`tokenizer(text)`, `encode`, `encode_plus`).
    TokenizerCall,
    /// A Hugging Face image processor made from its config (`AutoImageProcessor.from_pretrained`).
    ProcessorLoad,
    /// That processor applied to the image (`processor(images=...)`).
    ProcessorCall,
    /// Softmax over the model's output, in whichever library.
    Softmax,
    /// The k best classes (`topk`, `top_k`).
    TopK,
    /// torchvision's resize: `size` is (h, w), or one int for the shorter side.
    TorchvisionResize,
    /// torchvision's crops, whose `size` fixes both sides (`CenterCrop`, `RandomResizedCrop`).
    TorchvisionCrop,
    /// PIL's `Image.resize((w, h))`.
    PilResize,
    /// OpenCV's `cv2.resize(img, (w, h))`.
    OpencvResize,
    /// PIL's `ImageOps.fit(img, (w, h))`: crop to the aspect, then resize.
    PilFit,
    /// PIL's `convert(mode)`: `"L"` makes one channel.
    PilConvert,
    /// OpenCV's `cvtColor(img, code)`: the `*2GRAY` codes make one channel.
    OpencvCvtColor,
    /// A grayscale transform (`ImageOps.grayscale`, torchvision's `Grayscale`).
    Grayscale,
    /// Keras' `load_img(path, target_size=(h, w))`.
    KerasLoadImage,
    /// Keras' `preprocess_input` of an application (`mode` caffe, tf or torch).
    KerasPreprocessInput,
    /// TensorFlow's `tf.image.resize(img, (h, w))`.
    TensorflowResize,
    /// NumPy's `transpose` (HWC to CHW with axes `[2, 0, 1]`).
    NumpyTranspose,
    /// NumPy's `reshape(newshape)`: a literal `[1, C, H, W]` or `[1, H, W, C]` fixes the shape.
    NumpyReshape,
    /// torch's `permute` (HWC to CHW).
    TorchPermute,
    /// NumPy's `astype(dtype)`, a cast (`np.array`/`np.asarray` are views without one).
    NumpyAstype,
    /// A composition of transforms (`Compose`), not a step itself.
    Compose,
}

/// How an op is spelled: the whole name, or a suffix of a dotted one (`X.from_pretrained`).
#[derive(Debug, Clone, Copy)]
pub enum Spelling {
    Exactly(&'static str),
    EndsWith(&'static str),
}

impl Spelling {
    fn matches(self, op: &str) -> bool {
        match self {
            Spelling::Exactly(name) => op == name,
            Spelling::EndsWith(suffix) => op.ends_with(suffix),
        }
    }
}

use KnownOp::*;
use Spelling::{EndsWith, Exactly};
use StepLibrary as L;

/// Every spelling of every known op: `(library, or None for any, spelling, op)`. The first
/// line that matches decides.
pub const SPELLINGS: &[(Option<StepLibrary>, Spelling, KnownOp)] = &[
    (
        Some(L::Tokenizer),
        EndsWith("from_pretrained"),
        TokenizerLoad,
    ),
    (Some(L::Tokenizer), EndsWith("from_file"), TokenizerLoad),
    (Some(L::Tokenizer), Exactly("__call__"), TokenizerCall),
    (Some(L::Tokenizer), Exactly("encode"), TokenizerCall),
    (Some(L::Tokenizer), Exactly("encode_plus"), TokenizerCall),
    (
        Some(L::Tokenizer),
        Exactly("batch_encode_plus"),
        TokenizerCall,
    ),
    (
        Some(L::Transformers),
        EndsWith(".from_pretrained"),
        ProcessorLoad,
    ),
    (Some(L::Transformers), Exactly("__call__"), ProcessorCall),
    (None, Exactly("softmax"), Softmax),
    (None, Exactly("topk"), TopK),
    (None, Exactly("top_k"), TopK),
    (Some(L::Torchvision), Exactly("Resize"), TorchvisionResize),
    (Some(L::Torchvision), Exactly("resize"), TorchvisionResize),
    (Some(L::Torchvision), Exactly("CenterCrop"), TorchvisionCrop),
    (
        Some(L::Torchvision),
        Exactly("center_crop"),
        TorchvisionCrop,
    ),
    (
        Some(L::Torchvision),
        Exactly("RandomResizedCrop"),
        TorchvisionCrop,
    ),
    (Some(L::Pil), Exactly("resize"), PilResize),
    (Some(L::Opencv), Exactly("resize"), OpencvResize),
    (Some(L::Pil), Exactly("fit"), PilFit),
    (Some(L::Pil), Exactly("convert"), PilConvert),
    (Some(L::Opencv), Exactly("cvtColor"), OpencvCvtColor),
    (Some(L::Pil), Exactly("grayscale"), Grayscale),
    (Some(L::Torchvision), Exactly("Grayscale"), Grayscale),
    (Some(L::Keras), Exactly("load_img"), KerasLoadImage),
    (
        Some(L::Keras),
        Exactly("preprocess_input"),
        KerasPreprocessInput,
    ),
    (
        Some(L::Tensorflow),
        Exactly("image.resize"),
        TensorflowResize,
    ),
    (Some(L::Numpy), Exactly("transpose"), NumpyTranspose),
    (Some(L::Numpy), Exactly("reshape"), NumpyReshape),
    (Some(L::Numpy), Exactly("astype"), NumpyAstype),
    (Some(L::Torch), Exactly("permute"), TorchPermute),
    (None, Exactly("Compose"), Compose),
];

impl KnownOp {
    /// The known op that `library`'s `op` is, if any.
    pub fn of(library: StepLibrary, op: &str) -> Option<KnownOp> {
        SPELLINGS
            .iter()
            .find(|(lib, spelling, _)| lib.is_none_or(|l| l == library) && spelling.matches(op))
            .map(|&(_, _, known)| known)
    }

    /// The name the analyzer writes for it in `library` (the first spelling in the table).
    pub fn spelling(self, library: StepLibrary) -> Option<&'static str> {
        SPELLINGS
            .iter()
            .find_map(|&(lib, spelling, known)| match spelling {
                Exactly(name) if known == self && lib.is_none_or(|l| l == library) => Some(name),
                _ => None,
            })
    }
}

impl PlanStep {
    /// What this step is, where a stage gives it a meaning.
    pub fn known(&self) -> Option<KnownOp> {
        KnownOp::of(self.library, &self.op)
    }

    /// Whether this step is `op`.
    pub fn is(&self, op: KnownOp) -> bool {
        self.known() == Some(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_spelling_is_found_and_other_libraries_do_not_match() {
        for &(library, spelling, known) in SPELLINGS {
            let op = match spelling {
                Exactly(name) => name.to_string(),
                EndsWith(suffix) => format!("Auto.{}", suffix.trim_start_matches('.')),
            };
            let library = library.unwrap_or(StepLibrary::Numpy);
            assert_eq!(KnownOp::of(library, &op), Some(known), "{library:?} {op}");
        }
        // PIL's resize is not torchvision's (they take (w, h) and (h, w)).
        assert_eq!(
            KnownOp::of(StepLibrary::Pil, "resize"),
            Some(KnownOp::PilResize)
        );
        assert_eq!(KnownOp::of(StepLibrary::Keras, "Resize"), None);
        assert_eq!(KnownOp::of(StepLibrary::Torch, "argmax"), None);
    }

    #[test]
    fn the_spelling_written_is_the_first_in_the_table() {
        assert_eq!(KnownOp::TopK.spelling(StepLibrary::Torch), Some("topk"));
        assert_eq!(
            KnownOp::Softmax.spelling(StepLibrary::Tensorflow),
            Some("softmax")
        );
        assert_eq!(KnownOp::PilResize.spelling(StepLibrary::Opencv), None);
    }
}

/// OpenCV's read flag on a decode step (`cv2.imdecode(buf, flags)`, `cv2.imread(path, flags)`),
/// by name or by value; none is `IMREAD_COLOR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpencvReadFlag {
    /// `IMREAD_COLOR` (`1`): three channels, BGR.
    Color,
    /// `IMREAD_UNCHANGED` (`-1`): the file's own channels.
    Unchanged,
    /// `IMREAD_GRAYSCALE` (`0`).
    Grayscale,
    /// Any other flag, as written.
    Other(String),
}

impl OpencvReadFlag {
    /// The flag of `step`, when it is OpenCV's `imdecode` or `imread`.
    pub fn of(step: &PlanStep) -> Option<Self> {
        use crate::Value;
        if step.library != StepLibrary::Opencv || !matches!(step.op.as_str(), "imdecode" | "imread")
        {
            return None;
        }
        let flag = ["flags", "arg1"]
            .iter()
            .find_map(|key| step.params.get(*key));
        Some(match flag {
            None | Some(Value::Int(1)) => OpencvReadFlag::Color,
            Some(Value::Int(-1)) => OpencvReadFlag::Unchanged,
            Some(Value::Int(0)) => OpencvReadFlag::Grayscale,
            Some(Value::Symbol { symbol: name } | Value::Str(name)) => {
                match name.rsplit('.').next().unwrap_or(name) {
                    "IMREAD_COLOR" => OpencvReadFlag::Color,
                    "IMREAD_UNCHANGED" => OpencvReadFlag::Unchanged,
                    "IMREAD_GRAYSCALE" => OpencvReadFlag::Grayscale,
                    other => OpencvReadFlag::Other(other.to_string()),
                }
            }
            Some(other) => OpencvReadFlag::Other(format!("flags {other:?}")),
        })
    }

    /// OpenCV's name for it.
    pub fn name(&self) -> &str {
        match self {
            OpencvReadFlag::Color => "IMREAD_COLOR",
            OpencvReadFlag::Unchanged => "IMREAD_UNCHANGED",
            OpencvReadFlag::Grayscale => "IMREAD_GRAYSCALE",
            OpencvReadFlag::Other(name) => name,
        }
    }
}
