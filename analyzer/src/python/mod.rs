//! Everything that touches the Python syntax tree: the parser adapter, name resolution and
//! the single walk that reports sites to observers.

mod parse;
mod value;
mod visit;

pub use parse::{ParsedModule, SyntaxErrorInfo};
pub use value::Value;
pub use visit::{
    AspectSide, AttributeSite, BinOpSite, CallSite, ClassSite, Context, Decorator, FunctionSite,
    ImportSite, ImportedValues, ModuleExports, Observer, SliceCrop, module_exports, visit_module,
    visit_module_in,
};

use std::sync::OnceLock;

use rustc_hash::FxHashSet;

static STDLIB_TEXT: &str = include_str!("../../data/stdlib.txt");

/// Whether a top-level module name belongs to the standard library.
pub fn is_stdlib(top_level: &str) -> bool {
    static SET: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        STDLIB_TEXT
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
    .contains(top_level)
}
