//! What a module offers the service's other modules: its constants and class attributes
//! resolved within the module, the names it re-exports from its own imports, its star
//! imports, and its classes' bases. Collected in a first pass over every file, so that the
//! second pass can resolve `from .settings import SIZE` to 224.

use ruff_python_ast::{Expr, Stmt};
use rustc_hash::FxHashMap;

use super::resolve::Context;
use super::{ParsedModule, collect_module_bindings};
use crate::python::Value;

#[derive(Debug, Default, Clone)]
pub struct ModuleExports {
    /// `NAME` and `Class.attr` -> literal value.
    pub values: FxHashMap<String, Value>,
    /// Names bound by imports -> the qualified name they stand for.
    pub reexports: FxHashMap<String, String>,
    /// Absolute names of star-imported modules.
    pub stars: Vec<String>,
    /// Class -> qualified names of its bases.
    pub bases: FxHashMap<String, Vec<String>>,
}

pub fn module_exports(module: &ParsedModule<'_>, file: &str) -> ModuleExports {
    let body = &module.parsed.syntax().body;
    let mut ctx = Context::new(module, file, None);
    collect_module_bindings(&mut ctx, body);
    bind_top_level_imports(&mut ctx, body);
    let mut out = ModuleExports::default();
    for (name, expr) in &ctx.constants {
        let value = ctx.value(expr);
        if value.is_literal() {
            out.values.insert((*name).to_string(), value);
        }
    }
    let class_attrs: Vec<(String, &Expr)> = ctx
        .class_attrs
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    for (key, expr) in class_attrs {
        let class = key.split('.').next().unwrap_or_default().to_string();
        ctx.class = Some(class);
        let value = ctx.value(expr);
        if value.is_literal() {
            out.values.insert(key, value);
        }
    }
    for (class, bases) in &ctx.class_bases {
        let names = bases.iter().filter_map(|b| ctx.qualified_name(b)).collect();
        out.bases.insert((*class).to_string(), names);
    }
    out.reexports = std::mem::take(&mut ctx.aliases);
    out.stars = std::mem::take(&mut ctx.stars);
    out
}

/// Imports at the top level, in `try` blocks and `if` branches included.
fn bind_top_level_imports(ctx: &mut Context<'_>, body: &[Stmt]) {
    for stmt in body {
        match stmt {
            Stmt::Import(_) | Stmt::ImportFrom(_) => {
                ctx.bind_import(stmt);
            }
            Stmt::Try(t) => {
                bind_top_level_imports(ctx, &t.body);
                for h in &t.handlers {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                    bind_top_level_imports(ctx, &h.body);
                }
            }
            Stmt::If(i) => {
                bind_top_level_imports(ctx, &i.body);
                for clause in &i.elif_else_clauses {
                    bind_top_level_imports(ctx, &clause.body);
                }
            }
            _ => {}
        }
    }
}
