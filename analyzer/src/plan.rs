//! The MigrationPlan: its types live in the `wasm-migrate-plan` crate, the contract every
//! later stage reads; the analyzer builds it (`plan_builder.rs`) and writes it.

pub use wasm_migrate_plan::http::*;
pub use wasm_migrate_plan::names::*;
pub use wasm_migrate_plan::plan::*;
pub use wasm_migrate_plan::{LoadedPlan, PlanError, location_for};

use crate::pipeline::Step;

/// A detected step as the plan records it: library, op, parameters and `FILE:LINE`.
pub fn plan_step(step: &Step) -> PlanStep {
    PlanStep {
        library: step.library,
        op: step.op.clone(),
        params: step.params.clone(),
        at: format!("{}:{}", step.location.file, step.location.line),
    }
}
