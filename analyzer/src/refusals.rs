//! The later stages' refusals of the plan `analyze` is about to write, as findings: a plan
//! that `analyze` calls ready is one that `generate` accepts (see `plan::capability`).

use std::path::Path;

use wasm_migrate_plan::{LoadedPlan, MigrationPlan, PlanCheck, Refusal, RefusingStage};

use crate::knowledge::MigrationPath;
use crate::report::{Finding, Location};
use crate::rules::Category;

/// What one refusal costs the glue path: a step to write in Rust or a plan line to change is
/// a small fix, not a redesign, so the path stays the one to take once it is done.
const REFUSAL_EFFORT: u32 = 3;

/// The rule id of a refusal by `stage`.
pub fn rule_id(stage: RefusingStage) -> &'static str {
    match stage {
        RefusingStage::Generate => "plan-refused-by-generate",
        RefusingStage::Convert => "plan-refused-by-convert",
    }
}

/// Asks `check` about `plan` as `--write-plan` would write it for the service at `base`;
/// `also` are refusals the analysis itself knows of (see [`model_outside_entry`]).
pub fn refusal_findings(
    check: &dyn PlanCheck,
    base: &Path,
    plan: &MigrationPlan,
    also: Vec<Refusal>,
) -> Vec<Finding> {
    let Ok(text) = plan.to_commented_yaml() else {
        return Vec::new();
    };
    let path = wasm_migrate_plan::location_for(base);
    let Ok(loaded) = LoadedPlan::parse(path, text) else {
        return Vec::new();
    };
    check
        .refusals(base, &loaded)
        .into_iter()
        .chain(also)
        .map(|refusal| finding(&loaded, refusal))
        .collect()
}

/// `convert` and `verify` find the model by importing the entry point as production does: a
/// model loaded in a file the entry point does not import (a proxy in front of a model
/// server) is one neither can find.
pub fn model_outside_entry(
    plan: &MigrationPlan,
    entry_reaches: impl Fn(&str) -> bool,
) -> Option<Refusal> {
    let entry = plan.service.entrypoint.as_ref()?;
    let model = plan.model.as_ref()?;
    let file = model
        .loaded_at
        .rsplit_once(':')
        .map_or(model.loaded_at.as_str(), |(f, _)| f);
    if file.is_empty() || entry_reaches(file) {
        return None;
    }
    Some(Refusal {
        stage: RefusingStage::Convert,
        line: None,
        message: format!(
            "the model is loaded in {file}, which the entry point {} does not import: convert \
             and verify find the model by importing the entry point as production does; analyze \
             the service that loads it (`analyze --write-plan --entrypoint {file}`, or \
             `migrate --service DIR` in a repository of services)",
            entry.file
        ),
    })
}

/// Rules whose findings mean the service does not import under the Python the later stages
/// run it with (TensorFlow 2 for conversion).
const IMPORT_BREAKING_RULES: &[&str] = &["tensorflow1-api"];

/// `convert` and `verify` import the entry point: a finding of [`IMPORT_BREAKING_RULES`] in a
/// file it imports is a plan convert would fail on, so `analyze` says so first.
pub fn service_does_not_import(
    findings: &[Finding],
    entry_reaches: impl Fn(&str) -> bool,
) -> Option<Refusal> {
    let found = findings.iter().find(|f| {
        IMPORT_BREAKING_RULES.contains(&f.rule.as_str())
            && !f.outside_serving_path
            && entry_reaches(&f.location.file)
    })?;
    Some(Refusal {
        stage: RefusingStage::Convert,
        line: None,
        message: format!(
            "convert and verify import the service, and {}:{} stops it from importing ({}); \
             port that code first",
            found.location.file, found.location.line, found.rule
        ),
    })
}

fn finding(loaded: &LoadedPlan, refusal: Refusal) -> Finding {
    let step = refusal.line.and_then(|line| loaded.step_at_line(line));
    // A refused step points at the service line that does it; anything else at the model.
    let at = step
        .map(|s| s.step.at.as_str())
        .or(loaded.plan.model.as_ref().map(|m| m.loaded_at.as_str()))
        .unwrap_or("");
    let (file, line) = at.rsplit_once(':').unwrap_or((at, "1"));
    let what = match step {
        Some(s) => format!(
            "the {} step `{}.{}`",
            s.section,
            s.step.library.as_str(),
            s.step.op
        ),
        None => "the plan".to_string(),
    };
    // A step's refusal starts with the step and its place, which the finding says already.
    let reason = step
        .and_then(|s| {
            let prefix = format!(
                "{}.{} ({}): ",
                s.step.library.as_str(),
                s.step.op,
                s.step.at
            );
            refusal.message.strip_prefix(&prefix)
        })
        .unwrap_or(&refusal.message);
    Finding {
        rule: rule_id(refusal.stage).into(),
        category: Category::Mandatory,
        effort: REFUSAL_EFFORT,
        targets: vec![MigrationPath::WasiNnGlue],
        message: format!(
            "`{}` would refuse {what} this analysis writes: {reason}",
            refusal.stage.as_str(),
        ),
        remedy: format!(
            "Write the plan with `analyze --write-plan`, change {what} (or remove it if the \
             model does not need it), then run `wasm-migrate check-plan`; or keep the service \
             on a path that runs its Python ({}).",
            MigrationPath::WasiPython.as_str()
        ),
        links: Vec::new(),
        location: Location::new(
            if file.is_empty() { "." } else { file },
            line.parse().unwrap_or(1),
            1,
        ),
        snippet: None,
        outside_serving_path: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_the_entry_point_does_not_import_is_refused_for_convert() {
        let text = "version: 1\nservice:\n  name: s\n  entrypoint:\n    kind: flask\n    file: proxy/app.py\n    handler: home\n\
                    model:\n  framework: pytorch\n  loaded_at: handler.py:11\ninput:\n  kind: image\n  dtype: f32\n\
                    preprocessing: []\ntarget:\n  path: wasi-nn-glue\n  runtime: wasmedge\n  runtime_version: \"0.14\"\n\
                    tolerances:\n  preset: cross-backend\n  atol: 0.0001\n  rtol: 0.001\n";
        let plan = MigrationPlan::from_yaml(Path::new("wasm-migrate.yaml"), text).expect("a plan");
        let refusal = model_outside_entry(&plan, |file| file != "handler.py").expect("refused");
        assert_eq!(refusal.stage, RefusingStage::Convert);
        assert!(
            refusal
                .message
                .contains("handler.py, which the entry point proxy/app.py"),
            "{}",
            refusal.message
        );
        assert!(model_outside_entry(&plan, |_| true).is_none());
    }

    #[test]
    fn tensorflow1_code_the_entry_point_imports_is_refused_for_convert() {
        let finding = |rule: &str, file: &str| Finding {
            rule: rule.into(),
            category: Category::Mandatory,
            effort: 2,
            targets: vec![MigrationPath::WasiNnGlue],
            message: String::new(),
            remedy: String::new(),
            links: Vec::new(),
            location: Location::new(file, 8, 9),
            snippet: None,
            outside_serving_path: false,
        };
        let app = [finding("tensorflow1-api", "app.py")];
        let refusal = service_does_not_import(&app, |_| true).expect("refused");
        assert_eq!(refusal.stage, RefusingStage::Convert);
        assert!(refusal.message.contains("app.py:8"), "{}", refusal.message);
        // In a file the entry point does not import (an evaluation script), or another rule.
        assert!(service_does_not_import(&app, |file| file != "app.py").is_none());
        assert!(service_does_not_import(&[finding("cuda-cudnn", "app.py")], |_| true).is_none());
    }
}
