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

/// Asks `check` about `plan` as `--write-plan` would write it for the service at `base`.
pub fn refusal_findings(check: &dyn PlanCheck, base: &Path, plan: &MigrationPlan) -> Vec<Finding> {
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
        .map(|refusal| finding(&loaded, refusal))
        .collect()
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
