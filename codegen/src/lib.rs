//! From a MigrationPlan to a running module: `generate` writes a Rust wasi-nn glue crate
//! (tera templates in `templates/`, preprocessing from the `preprocess` crate), its deploy
//! files and a model conversion script; `convert` runs that script with the service's own
//! Python; `build` compiles the crate to wasm32-wasip1 and checks and stamps the module;
//! `inspect` says which runtimes can run a module and why.

pub mod api;
mod array;
mod build;
mod check;
mod convert;
mod error;
mod generate;
pub mod module;
mod oci;
mod steps;
pub mod templates;
mod text;

pub use build::{Built, WASM_TARGET, build, wasm_target_installed};
pub use check::GlueCheck;
pub use convert::{convert, find_python, given_python};
pub use error::CodegenError;
pub use generate::{
    GenerateOptions, Generated, GlueManifest, MANIFEST_FILE, Target, default_out, generate,
    glue_labels, refresh_api_files,
};
pub use oci::{Packaged, package_oci};
pub use steps::{CompiledSteps, GlueStep, compile_image_steps};
