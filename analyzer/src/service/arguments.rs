//! Values a parameter gets from the service's calls: `Predictor(MODEL_PATH, SIZE_PIXELS)` gives
//! `__init__`'s `size` the value 456 when every call agrees. Only the functions whose steps
//! have parameters left unresolved are wanted, and only the files that call them by name are
//! read again, for those calls' arguments: collecting every call's arguments on the first pass
//! would cost a large tree a third of its time.

use std::path::Path;

use rustc_hash::FxHashSet;

use super::values::CallArguments;
use crate::pipeline::Pipeline;
use crate::python::{self, CallSite, Observer, ParsedModule};

/// The names callers use for the functions whose steps hold an unresolved parameter (the
/// function's name, or the class's for `__init__`), each with the file (by position) it is in.
pub(crate) fn wanted_callees<'p>(
    pipelines: impl Iterator<Item = &'p Pipeline>,
) -> Vec<(String, usize)> {
    let mut wanted = Vec::new();
    for (file, p) in pipelines.enumerate() {
        for function in &p.wants_arguments_of {
            if !wanted.iter().any(|(n, f)| n == function && *f == file) {
                wanted.push((function.clone(), file));
            }
        }
        for step in p.preprocessing.iter().chain(&p.postprocessing) {
            if step.params.values().all(|v| v.is_literal()) {
                continue;
            }
            let scope = step.written_in.as_ref().unwrap_or(&step.scope);
            if scope == "<module>" {
                continue;
            }
            let mut parts = scope.rsplit('.');
            let function = parts.next().unwrap_or(scope);
            let name = match (function, parts.next()) {
                ("__init__", Some(class)) => class,
                _ => function,
            };
            if !wanted.iter().any(|(n, f)| n == name && *f == file) {
                wanted.push((name.to_string(), file));
            }
        }
    }
    wanted
}

/// The arguments of every call of a wanted name in one file.
pub(crate) fn scan(
    path: &Path,
    relative: &str,
    max_file_size: u64,
    wanted: &FxHashSet<String>,
) -> Vec<CallArguments> {
    let Ok(text) = crate::source::read_python(path, max_file_size) else {
        return Vec::new();
    };
    if crate::looks_deeply_nested(&text) {
        return Vec::new();
    }
    let module = ParsedModule::parse(&text);
    let mut collector = ArgumentCollector {
        wanted,
        out: Vec::new(),
    };
    python::visit_module_in(&module, relative, None, &mut [&mut collector]);
    collector.out
}

struct ArgumentCollector<'w> {
    wanted: &'w FxHashSet<String>,
    out: Vec<CallArguments>,
}

impl Observer for ArgumentCollector<'_> {
    fn call(&mut self, site: &CallSite<'_, '_>) {
        let callee = site.callee_text();
        let name = callee.rsplit('.').next().unwrap_or(callee);
        if self.wanted.contains(name) {
            // Every call is kept, literal or not: one that passes a variable makes the
            // parameter depend on the caller.
            self.out.push(CallArguments {
                callee: name.to_string(),
                arguments: site.literal_args(),
                forwarded: site.forwarded_args(),
            });
        }
    }
}
