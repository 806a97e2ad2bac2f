//! Values defined in one module of the service and used in another: the first pass's
//! exports of every module, looked up the way Python's imports would find them.

use crate::python::{ImportedValues, ModuleExports, Value};

use super::modules::ModuleIndex;

/// How many imports, re-exports and base classes a lookup may follow.
const MAX_DEPTH: u32 = 8;

pub struct ServiceValues<'i> {
    index: &'i ModuleIndex,
    /// One entry per file of `index`, in the same order.
    exports: Vec<ModuleExports>,
}

impl<'i> ServiceValues<'i> {
    pub fn new(index: &'i ModuleIndex, exports: Vec<ModuleExports>) -> Self {
        ServiceValues { index, exports }
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
}
