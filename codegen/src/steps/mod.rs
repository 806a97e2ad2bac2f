//! Plan preprocessing steps -> Rust statements over the vendored `ops` module.
//!
//! Each Python step becomes the call whose numerics match the library the service used
//! (see the `preprocess` crate). A step with no faithful Rust equivalent is refused with the
//! plan line, rather than approximated: a silent approximation is the bug this tool exists
//! to prevent.
//!
//! Steps compile to a typed IR ([`ir::GlueOp`]) through a table per op family, mapping the
//! plan's `library` and `op` to a compile function ([`context::Op`]):
//!
//! | module | ops |
//! |---|---|
//! | [`decode`] | decoding, EXIF orientation, colour mode and channel order |
//! | [`resize`] | PIL, torchvision, OpenCV and TensorFlow resizes |
//! | [`crop`] | CenterCrop, slicing crops, paste onto a canvas |
//! | [`tensor`] | pixels to float32, dtype, layout and batch axis |
//! | [`normalize`] | NumPy arithmetic, Normalize, Keras `preprocess_input` |
//!
//! To add an op: a function `fn(&mut Cx) -> Result<(), CodegenError>` in its family's
//! module, an entry in that module's `OPS`, and a fixture in `fixtures.rs` (the tests refuse
//! a table entry without one).

mod context;
mod crop;
mod decode;
#[cfg(test)]
mod fixtures;
mod ir;
mod normalize;
mod resize;
mod tensor;

use std::path::Path;

use serde::Serialize;
use wasm_migrate_plan::{KnownOp, Layout, MigrationPlan, PlanStep, StepLibrary};

use crate::error::CodegenError;
use context::{Compilation, Cx, Op, PlanSource, Stage, TypedStep};
use ir::{GlueOp, OpsEnum};

/// Every op the glue compiles, by family.
const FAMILIES: [&[Op]; 5] = [
    decode::OPS,
    resize::OPS,
    crop::OPS,
    tensor::OPS,
    normalize::OPS,
];

/// The table entry of a plan step's `library` and `op`.
fn find_op(library: StepLibrary, name: &str) -> Option<&'static Op> {
    FAMILIES
        .iter()
        .flat_map(|family| family.iter())
        .find(|op| op.library == library && op.name == name)
}

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
    /// The vendored `tensor::Layout` variant (`Nchw`).
    pub layout: &'static str,
    /// Channels of the final tensor: 1 after a grayscale step, 0 when they are the upload's
    /// own (no conversion after `Image.open`), else 3.
    pub channels: usize,
    /// Things the user should know (e.g. an argument the library ignores).
    pub warnings: Vec<String>,
}

pub use context::{number, symbol};
pub use ir::ScalarOp;
pub use wasm_migrate_plan::loaded::item_line as plan_item_line;

/// Compiles the plan's image preprocessing.
pub fn compile_image_steps(
    plan: &MigrationPlan,
    plan_path: &Path,
    plan_text: &str,
) -> Result<CompiledSteps, CodegenError> {
    let source = PlanSource {
        path: plan_path,
        text: plan_text,
    };
    let mut state = Compilation::default();
    for (index, step) in plan.preprocessing.iter().enumerate() {
        let mut cx = Cx {
            step,
            index,
            plan: source,
            state: &mut state,
        };
        let Some(op) = find_op(step.library, &step.op) else {
            return Err(cx.fail(
                "this step has no Rust equivalent in wasm-migrate yet; remove it from the plan if \
                 the model does not need it, or write it in the generated crate",
            ));
        };
        // Float64 values meet a step that is not NumPy arithmetic or the cast: they are cast
        // to float32 here (a layout step leaves the values as they are).
        if cx.state.stage == Stage::Float64 && !handles_float64(step) {
            let cast = cx.state.cast_float64();
            cx.state.float64_cast_early = true;
            cx.push(
                "the float64 values as float32 (NumPy casts them later)",
                cast,
            );
        }
        (op.compile)(&mut cx)?;
    }
    Ok(finish(state, plan.input.as_ref().and_then(|i| i.layout)))
}

/// NumPy's arithmetic and its cast, which the float64 stage collects.
fn handles_float64(step: &PlanStep) -> bool {
    step.library == StepLibrary::Numpy
        && (ir::ScalarOp::parse(&step.op).is_some() || step.is(KnownOp::NumpyAstype))
}

/// After the last step: the implicit conversion to floats, fusions, the layout, rendering.
fn finish(mut state: Compilation, plan_layout: Option<Layout>) -> CompiledSteps {
    if state.stage == Stage::Float64 {
        let op = state.cast_float64();
        state.out.push(TypedStep {
            python: "(implicit)".into(),
            at: "-".into(),
            comment: "the float64 values as the model's float32".into(),
            op,
        });
    }
    if !state.decoded {
        state
            .warnings
            .push("the plan has no decoding step; the glue decodes PNG/JPEG files to RGB".into());
    }
    if state.stage == Stage::Pixels {
        state.out.push(TypedStep {
            python: "(implicit)".into(),
            at: "-".into(),
            comment: "the model takes float32: pixel values 0..255".into(),
            op: GlueOp::FinalFloats {
                swap_red_blue: state.bgr,
                one_channel: state.gray,
            },
        });
    }
    if state.opened_mode {
        state.out.push(TypedStep {
            python: "(implicit)".into(),
            at: "-".into(),
            comment: "no convert: the upload's own channels, one for a grayscale file".into(),
            op: GlueOp::InOpenedMode,
        });
    }
    fuse_resize_and_center_crop(&mut state.out);
    let layout = state.layout.or(plan_layout).unwrap_or(Layout::Nhwc);
    CompiledSteps {
        channels: match (state.gray, state.opened_mode) {
            (true, _) => 1,
            (false, true) => 0,
            (false, false) => 3,
        },
        steps: immutable_unless_changed(state.out.into_iter().map(render).collect()),
        layout: layout.variant(),
        warnings: state.warnings,
    }
}

fn render(step: TypedStep) -> GlueStep {
    GlueStep {
        code: step.op.render(),
        python: step.python,
        at: step.at,
        comment: step.comment,
    }
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

/// Plans for the tests: a service of `framework` whose model takes `layout`.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A preprocessing step as the plan writes it; `params` are lines indented by 4.
    pub fn step(library: &str, op: &str, params: &str) -> String {
        let params = if params.is_empty() {
            String::new()
        } else {
            format!("  params:\n{params}")
        };
        format!("- library: {library}\n  op: {op}\n{params}  at: main.py:2\n")
    }

    pub fn plan_text(framework: &str, layout: &str, steps: &[String]) -> String {
        format!(
            "version: 1\nservice:\n  name: s\nmodel:\n  framework: {framework}\n  loaded_at: main.py:1\n\
             input:\n  kind: image\n  layout: {layout}\n  dtype: f32\n\
             preprocessing:\n{}\
             target:\n  path: wasi-nn-glue\n  runtime: wasmedge\n  runtime_version: \"0.14\"\n  backend: openvino\n\
             tolerances:\n  preset: cross-backend\n  atol: 0.0001\n  rtol: 0.001\n",
            steps.concat()
        )
    }

    pub fn compile_text(text: &str) -> Result<CompiledSteps, CodegenError> {
        let path = Path::new("wasm-migrate.yaml");
        let plan = MigrationPlan::from_yaml(path, text).expect("plan parses");
        compile_image_steps(&plan, path, text)
    }

    pub fn compile(
        framework: &str,
        layout: &str,
        steps: &[String],
    ) -> Result<CompiledSteps, CodegenError> {
        compile_text(&plan_text(framework, layout, steps))
    }

    pub fn codes(steps: &CompiledSteps) -> Vec<&str> {
        steps.steps.iter().map(|s| s.code.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::ir::{PilFilter, ResizeSize};
    use super::testing::{compile, step};
    use super::*;

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
                    filter: PilFilter::Bilinear,
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
        let code: Vec<String> = steps.into_iter().map(|s| render(s).code).collect();
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
    fn plan_item_lines_count_list_items() {
        let text = "version: 1\npreprocessing:\n- library: pil\n  op: open\n- library: pil\n  op: convert\npostprocessing: []\n";
        assert_eq!(plan_item_line(text, "preprocessing", 0), 3);
        assert_eq!(plan_item_line(text, "preprocessing", 1), 5);
    }

    #[test]
    fn every_library_and_op_has_one_table_entry() {
        let entries: Vec<(StepLibrary, &str)> = FAMILIES
            .iter()
            .flat_map(|family| family.iter())
            .map(|op| (op.library, op.name))
            .collect();
        for (i, entry) in entries.iter().enumerate() {
            assert!(!entries[..i].contains(entry), "{entry:?} twice");
        }
    }

    #[test]
    fn a_step_without_an_entry_is_refused_with_its_plan_line() {
        let error = compile(
            "onnx",
            "nhwc",
            &[
                step("pil", "open", ""),
                step("ultralytics", "letterbox", ""),
            ],
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            error,
            "wasm-migrate.yaml:15: ultralytics.letterbox (main.py:2): this step has no Rust \
             equivalent in wasm-migrate yet; remove it from the plan if the model does not need \
             it, or write it in the generated crate"
        );
    }
}
