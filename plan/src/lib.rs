//! The MigrationPlan (`wasm-migrate.yaml`): the one contract between `analyze` and every
//! later stage. The analyzer writes it; `generate`, `convert`, `build`, `verify` and the
//! Python binding read it through this crate and nothing else of the analyzer, so none of
//! them compiles the Python parser.
//!
//! - [`MigrationPlan`] and its sections: the serde types, the commented YAML they are written
//!   as, and validation with the line of every error;
//! - [`LoadedPlan`]: a plan with its path and text, loaded from a service and saved back;
//!   [`location_for`] says where a service's plan goes; [`write_atomic`] writes every file;
//! - the enums and values the plan names ([`MigrationPath`], [`Framework`], [`StepLibrary`],
//!   [`Value`]...), and [`KnownOp`], the step operations a stage reads a meaning into;
//! - [`capability`]: what `generate` and `convert` can do with a plan, and [`PlanCheck`], the
//!   dry run through which `analyze` asks them.

pub mod capability;
pub mod error;
pub mod http;
pub mod kinds;
pub mod loaded;
pub mod names;
pub mod ops;
pub mod plan;
pub mod value;

pub use capability::{
    Conversion, GlueKind, PlanCheck, Refusal, RefusingStage, RuntimeTarget, data_refusals,
};
pub use error::PlanError;
pub use http::*;
pub use kinds::{Framework, InputKind, MigrationPath, ServingKind, SliceOffset, StepLibrary};
pub use loaded::{LoadedPlan, location_for, resolve, write_atomic};
pub use names::{
    Dtype, FieldEncoding, HttpMethod, ModelFormat, NnBackend, RequestKind, ResponseEncoding,
    ServerKind, TargetRuntime, TolerancePreset,
};
pub use ops::{KnownOp, OpencvReadFlag};
pub use plan::*;
pub use value::Value;
