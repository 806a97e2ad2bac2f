//! Values defined in one module of the service and used in another: the first pass's
//! exports of every module, looked up the way Python's imports would find them.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::python::{ImportedValues, ModuleExports, Value};

use super::modules::ModuleIndex;

/// How many imports, re-exports and base classes a lookup may follow.
const MAX_DEPTH: u32 = 8;

pub struct ServiceValues<'i> {
    index: &'i ModuleIndex,
    /// One entry per file of `index`, in the same order.
    exports: Vec<ModuleExports>,
    /// Every call's arguments, by the callee's last name, with the keys of those that pass
    /// on a parameter of the calling function.
    calls: FxHashMap<String, Vec<CallArguments>>,
}

/// The arguments one call passes (`arg0`, `arg1`... and keywords), by the callee's last name.
#[derive(Debug, Clone, PartialEq)]
pub struct CallArguments {
    pub callee: String,
    pub arguments: BTreeMap<String, Value>,
    /// Keys of the arguments that pass on a parameter of the calling function unchanged.
    pub forwarded: Vec<String>,
}

impl<'i> ServiceValues<'i> {
    pub fn new(
        index: &'i ModuleIndex,
        exports: Vec<ModuleExports>,
        call_args: Vec<CallArguments>,
    ) -> Self {
        let mut calls: FxHashMap<String, Vec<CallArguments>> = FxHashMap::default();
        for c in call_args {
            calls.entry(c.callee.clone()).or_default().push(c);
        }
        ServiceValues {
            index,
            exports,
            calls,
        }
    }

    fn lookup(&self, from_file: &str, symbol: &str, depth: u32) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        // `app.settings.SIZE` or `app.handlers.Base.size`: the longest prefix that is a
        // module of the service, then a name (or `Class.attr`) inside it.
        let dots: Vec<usize> = symbol.match_indices('.').map(|(i, _)| i).collect();
        for &dot in dots.iter().rev() {
            let (module, name) = (&symbol[..dot], &symbol[dot + 1..]);
            let Some(i) = self.index.resolve(from_file, module, 0) else {
                continue;
            };
            return self.in_module(i, name, depth);
        }
        None
    }

    /// `name` (`SIZE`, `Class.attr`) as module `i` defines or imports it.
    fn in_module(&self, i: usize, name: &str, depth: u32) -> Option<Value> {
        let exports = &self.exports[i];
        let file = self.index.file(i);
        if let Some(value) = exports.values.get(name) {
            return Some(match value {
                // `INTERP = Image.BILINEAR` stays a symbol; `SIZE = base.SIZE` follows.
                Value::Symbol { symbol } => self
                    .lookup(file, symbol, depth + 1)
                    .unwrap_or_else(|| value.clone()),
                _ => value.clone(),
            });
        }
        let (head, rest) = match name.split_once('.') {
            Some((h, r)) => (h, Some(r)),
            None => (name, None),
        };
        if let Some(qualified) = exports.reexports.get(head) {
            let target = match rest {
                Some(r) => format!("{qualified}.{r}"),
                None => qualified.clone(),
            };
            return self.lookup(file, &target, depth + 1);
        }
        if let (Some(attr), Some(bases)) = (rest, exports.bases.get(head)) {
            return bases.iter().find_map(|base| {
                self.in_module(i, &format!("{base}.{attr}"), depth + 1)
                    .or_else(|| self.lookup(file, &format!("{base}.{attr}"), depth + 1))
            });
        }
        exports
            .stars
            .iter()
            .find_map(|m| self.lookup(file, &format!("{m}.{name}"), depth + 1))
    }
}

impl ImportedValues for ServiceValues<'_> {
    fn value(&self, from_file: &str, symbol: &str) -> Option<Value> {
        self.lookup(from_file, symbol, 0)
    }

    /// Only when every call passes the parameter, as the same literal: one call that leaves
    /// it to the default, or passes something else, makes it depend on the caller. A call
    /// that passes on its own function's parameter (`def evaluate(name): load(name)`) takes
    /// no side: its value is its callers', and a script's CLI argument often.
    fn argument(&self, callee: &str, position: usize, name: &str) -> Option<Value> {
        let calls = self.calls.get(callee)?;
        let positional = format!("arg{position}");
        let mut agreed: Option<&Value> = None;
        for call in calls {
            if call.forwarded.iter().any(|k| *k == positional || k == name) {
                continue;
            }
            let args = &call.arguments;
            let value = args.get(name).or_else(|| args.get(&positional))?;
            if !value.is_literal() || agreed.is_some_and(|a| a != value) {
                return None;
            }
            agreed = Some(value);
        }
        agreed.cloned()
    }
}
