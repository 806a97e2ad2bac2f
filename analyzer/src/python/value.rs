//! Literal values resolved from Python expressions: the plan crate's `Value`, which the plan
//! carries as step parameters.

pub use wasm_migrate_plan::Value;
