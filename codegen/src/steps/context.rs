//! What every op's compile function gets: the plan step, the compilation so far, and the
//! helpers to read its parameters, refuse it with the plan line, and emit [`GlueOp`]s.

use std::path::Path;

use wasm_migrate_plan::{Layout, PlanStep, StepLibrary, Value};

use super::ir::GlueOp;
use super::plan_item_line;
use crate::error::CodegenError;

/// How one plan op compiles: reads `cx.step`, updates `cx.state`, pushes its ops.
pub type Compile = fn(&mut Cx<'_>) -> Result<(), CodegenError>;

/// One entry of an op family's table: the plan's `library` and `op`, and how it compiles.
pub struct Op {
    pub library: StepLibrary,
    pub name: &'static str,
    pub compile: Compile,
}

impl Op {
    pub const fn new(library: StepLibrary, name: &'static str, compile: Compile) -> Self {
        Op {
            library,
            name,
            compile,
        }
    }
}

/// Where the image is: 8-bit pixels, or a float32 tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Pixels,
    /// NumPy promoted the 8-bit pixels to float64 (`x / 255`): the arithmetic is collected in
    /// `Compilation::float64` until the cast to float32.
    Float64,
    Floats,
}

/// A compiled step before rendering: the operation and where it came from.
#[derive(Debug, Clone)]
pub struct TypedStep {
    pub python: String,
    pub at: String,
    pub comment: String,
    pub op: GlueOp,
}

/// The steps compiled so far, and what they made of the image.
#[derive(Debug)]
pub struct Compilation {
    pub out: Vec<TypedStep>,
    /// Things the user should know (e.g. an argument the library ignores).
    pub warnings: Vec<String>,
    pub stage: Stage,
    /// After `ToImage`: pixels in a tensor, which torchvision resizes with its own kernels.
    pub tensor_pixels: bool,
    /// OpenCV decodes to BGR; the glue decodes to RGB and swaps when the order matters.
    pub bgr: bool,
    /// The layout a step implies (`ToTensor`, a transpose), over the plan's.
    pub layout: Option<Layout>,
    pub decoded: bool,
    /// A grayscale conversion ran: the image holds its luma in three equal channels, and the
    /// tensor takes one.
    pub gray: bool,
    /// PIL opened the upload and nothing converted its mode: the tensor has the file's own
    /// channels (one for a grayscale file), decided per upload.
    pub opened_mode: bool,
    /// The float64 arithmetic since the pixels were promoted, in order.
    pub float64: Vec<(super::ir::Float64Op, Vec<f64>)>,
    /// The float64 values were cast early (a layout step came first) and NumPy still holds
    /// float64: more arithmetic would round differently, until `astype(np.float32)`.
    pub float64_cast_early: bool,
}

impl Compilation {
    /// The float64 arithmetic collected since the pixels were promoted, as one cast to
    /// float32; the stage becomes floats.
    pub fn cast_float64(&mut self) -> GlueOp {
        self.stage = Stage::Floats;
        GlueOp::Float64 {
            swap_red_blue: self.bgr,
            one_channel: self.gray,
            ops: std::mem::take(&mut self.float64),
        }
    }
}

impl Default for Compilation {
    fn default() -> Self {
        Compilation {
            out: Vec::new(),
            warnings: Vec::new(),
            stage: Stage::Pixels,
            tensor_pixels: false,
            bgr: false,
            layout: None,
            decoded: false,
            gray: false,
            opened_mode: false,
            float64: Vec::new(),
            float64_cast_early: false,
        }
    }
}

/// Where the plan came from, for errors that name its line.
#[derive(Clone, Copy)]
pub struct PlanSource<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

/// One plan step being compiled.
pub struct Cx<'a> {
    pub step: &'a PlanStep,
    /// The step's index in the plan's `preprocessing` list.
    pub index: usize,
    pub plan: PlanSource<'a>,
    pub state: &'a mut Compilation,
}

impl<'a> Cx<'a> {
    /// The error refusing this step, naming its plan line.
    pub fn fail(&self, message: impl Into<String>) -> CodegenError {
        let step = self.step;
        CodegenError::PlanStep {
            path: self.plan.path.to_path_buf(),
            line: plan_item_line(self.plan.text, "preprocessing", self.index),
            message: format!(
                "{}.{} ({}): {}",
                step.library.as_str(),
                step.op,
                step.at,
                message.into()
            ),
        }
    }

    /// Emits `op` for this step, with the comment the glue shows above it.
    pub fn push(&mut self, comment: impl Into<String>, op: GlueOp) {
        self.state.out.push(TypedStep {
            python: format!("{}.{}", self.step.library.as_str(), self.step.op),
            at: self.step.at.clone(),
            comment: comment.into(),
            op,
        });
    }

    /// The first of the parameters `names` the step has (a keyword, then its position).
    pub fn param(&self, names: &[&str]) -> Option<&'a Value> {
        names.iter().find_map(|n| self.step.params.get(*n))
    }

    /// Refuses geometry on a float tensor.
    pub fn need_pixels(&self) -> Result<(), CodegenError> {
        if self.state.stage == Stage::Floats {
            return Err(self.fail(
                "resizing or cropping a float tensor has no Rust equivalent here; \
                 move the step before the conversion to floats",
            ));
        }
        Ok(())
    }

    /// Refuses arithmetic on 8-bit pixels.
    pub fn need_floats(&self) -> Result<(), CodegenError> {
        if self.state.stage == Stage::Pixels {
            return Err(self.fail(
                "arithmetic on 8-bit pixels (NumPy would wrap or promote to float64) \
                 has no faithful Rust equivalent here; convert with astype(np.float32) first",
            ));
        }
        Ok(())
    }

    /// Turning pixels into floats, in the channel order the Python code had then; the
    /// stage becomes floats.
    pub fn make_floats(&mut self, scale: bool) -> GlueOp {
        self.state.stage = Stage::Floats;
        GlueOp::ToFloats {
            swap_red_blue: self.state.bgr,
            scale,
            one_channel: self.state.gray,
        }
    }
}

pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// A number or a list of numbers, as a list.
pub fn numbers(v: &Value) -> Option<Vec<f64>> {
    match v {
        Value::List(items) => items.iter().map(number).collect(),
        other => number(other).map(|n| vec![n]),
    }
}

/// The last component of a symbol (`BICUBIC` of `PIL.Image.BICUBIC`), or a string.
pub fn symbol(v: &Value) -> Option<&str> {
    match v {
        Value::Symbol { symbol } => Some(symbol.rsplit('.').next().unwrap_or(symbol)),
        Value::Str(s) => Some(s.as_str()),
        _ => None,
    }
}

/// `[a, b]` of two numbers of at least 1, as sizes.
pub fn positive_pair(v: &Value) -> Option<(usize, usize)> {
    match numbers(v)?.as_slice() {
        [a, b] if *a >= 1.0 && *b >= 1.0 => Some((*a as usize, *b as usize)),
        _ => None,
    }
}

/// The value `name` stands for in a `(name, value)` table.
pub fn lookup<T: Copy>(table: &[(&str, T)], name: &str) -> Option<T> {
    table.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}
