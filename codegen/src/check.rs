//! `generate`'s dry run as a [`PlanCheck`]: what `analyze` asks before it calls a plan ready,
//! and what `check-plan` prints. It renders the crate in memory, exactly as `generate` would,
//! so the two cannot disagree.

use std::path::Path;

use wasm_migrate_plan::{InputKind, LoadedPlan, MigrationPath, PlanCheck, Refusal, RefusingStage};

use crate::error::CodegenError;
use crate::generate::{GenerateOptions, render_check};

/// The glue path's stages, asked through their own code.
#[derive(Debug, Clone, Copy, Default)]
pub struct GlueCheck {
    /// Also refuse a plan whose model file is not there yet (`check-plan`, just before
    /// `generate`); `analyze` judges what the stages can do, not what is built yet.
    pub require_artifact: bool,
}

impl PlanCheck for GlueCheck {
    fn refusals(&self, service: &Path, plan: &LoadedPlan) -> Vec<Refusal> {
        if plan.plan.target.path != MigrationPath::WasiNnGlue {
            return Vec::new();
        }
        // The data facts first: they can all be said at once. The render stops at its
        // first refusal, which is then the one left.
        let refusals = wasm_migrate_plan::data_refusals(&plan.plan);
        if !refusals.is_empty() {
            return refusals;
        }
        // A text model the service's script has not made yet takes its tokenizer files along:
        // what is not there yet is not what the stages cannot do.
        let text = plan.plan.input.as_ref().map(|i| i.kind) == Some(InputKind::Text);
        let unbuilt = text
            && plan
                .plan
                .model
                .as_ref()
                .and_then(|m| m.artifact.as_ref())
                .is_some_and(|artifact| !service.join(artifact).exists());
        if unbuilt && !self.require_artifact {
            return Vec::new();
        }
        let options = GenerateOptions {
            out: None,
            target: None,
            templates: None,
            force: false,
        };
        match render_check(service, plan, &options, self.require_artifact) {
            Ok(()) => Vec::new(),
            Err(error) => vec![refusal(error)],
        }
    }
}

fn refusal(error: CodegenError) -> Refusal {
    let (line, message) = match error {
        CodegenError::PlanStep { line, message, .. } => (Some(line), message),
        CodegenError::Unsupported { message, .. } => (None, message),
        other => (None, other.to_string()),
    };
    Refusal {
        stage: RefusingStage::Generate,
        line,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::testing::{plan_text, step};

    fn loaded(yaml: &str) -> LoadedPlan {
        LoadedPlan::parse("wasm-migrate.yaml".into(), yaml.to_string()).unwrap()
    }

    #[test]
    fn a_step_generate_cannot_do_is_refused_with_its_line() {
        let text = plan_text(
            "onnx",
            "nchw",
            &[
                step("pil", "open", ""),
                step("pil", "posterize", "    bits: 2\n"),
            ],
        );
        let refusals = GlueCheck::default().refusals(Path::new("."), &loaded(&text));
        assert_eq!(refusals.len(), 1, "{refusals:?}");
        assert_eq!(refusals[0].stage, RefusingStage::Generate);
        assert!(refusals[0].message.contains("posterize"), "{refusals:?}");
        assert_eq!(refusals[0].line, Some(15), "{refusals:?}");
    }

    #[test]
    fn a_plan_generate_takes_has_no_refusal() {
        let text = plan_text("onnx", "nchw", &[step("pil", "open", "")]);
        assert_eq!(
            GlueCheck::default().refusals(Path::new("."), &loaded(&text)),
            []
        );
    }

    #[test]
    fn what_convert_cannot_convert_and_what_no_template_takes_are_said_together() {
        let text = plan_text("sentence-transformers", "nchw", &[step("pil", "open", "")])
            .replace("kind: image", "kind: tabular");
        let refusals = GlueCheck::default().refusals(Path::new("."), &loaded(&text));
        let stages: Vec<RefusingStage> = refusals.iter().map(|r| r.stage).collect();
        assert_eq!(
            stages,
            [RefusingStage::Convert, RefusingStage::Generate],
            "{refusals:?}"
        );
    }
}
