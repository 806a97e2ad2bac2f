//! Name resolution for one module: qualified names through imports, values through module
//! constants and function locals, arithmetic on literals.

use ruff_python_ast::{Expr, Number, Operator, UnaryOp};
use ruff_text_size::{Ranged, TextRange};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::python::parse::ParsedModule;
use crate::python::value::Value;
use crate::report::Location;

/// How many names a value may be followed through (`A = B`, `B = 3`).
const MAX_RESOLVE_DEPTH: u32 = 8;
/// Longest expression text kept for a non-literal value.
const MAX_EXPR_TEXT: usize = 80;

/// Builtins that rules may name (`eval`, `open`...), sorted for binary search. Other bare
/// names never resolve.
const BUILTINS: &[&str] = &[
    "__import__",
    "abs",
    "all",
    "any",
    "bool",
    "breakpoint",
    "bytes",
    "callable",
    "compile",
    "dict",
    "dir",
    "enumerate",
    "eval",
    "exec",
    "exit",
    "filter",
    "float",
    "format",
    "getattr",
    "globals",
    "hasattr",
    "input",
    "int",
    "isinstance",
    "len",
    "list",
    "locals",
    "map",
    "max",
    "min",
    "next",
    "open",
    "print",
    "quit",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "sorted",
    "str",
    "sum",
    "tuple",
    "type",
    "vars",
    "zip",
];

fn is_builtin(id: &str) -> bool {
    BUILTINS.binary_search(&id).is_ok()
}

/// Name resolution state for one module.
pub struct Context<'a> {
    pub(crate) module: &'a ParsedModule<'a>,
    pub file: &'a str,
    /// Local name -> qualified name, from imports.
    pub(super) aliases: FxHashMap<String, String>,
    /// Module-level `NAME = expr`.
    pub(super) constants: FxHashMap<&'a str, &'a Expr>,
    /// Simple assignments in the current function.
    pub(super) locals: Vec<FxHashMap<&'a str, Option<&'a Expr>>>,
    /// Module-level names bound by `def`, `class` or assignment: they shadow builtins.
    pub(super) shadowed: FxHashSet<String>,
}

impl<'a> Context<'a> {
    pub fn location(&self, range: TextRange) -> Location {
        let (line, column) = self.module.line_column(range.start());
        let (end_line, end_column) = self.module.line_column(range.end());
        Location {
            file: self.file.to_string(),
            line,
            column,
            end_line: Some(end_line),
            end_column: Some(end_column),
        }
    }

    pub fn snippet(&self, range: TextRange) -> String {
        self.module.snippet(range)
    }

    /// The qualified name of a `Name` / `Attribute` chain, through imports or builtins.
    pub fn qualified_name(&self, expr: &Expr) -> Option<String> {
        // Called for every name and attribute chain of every file: one allocation per chain.
        let mut out = String::new();
        self.push_qualified(expr, &mut out).then_some(out)
    }

    fn push_qualified(&self, expr: &Expr, out: &mut String) -> bool {
        match expr {
            Expr::Name(n) => {
                let id = n.id.as_str();
                if let Some(q) = self.aliases.get(id) {
                    out.push_str(q);
                    true
                } else if is_builtin(id) && !self.shadowed.contains(id) && !self.is_local(id) {
                    out.push_str(id);
                    true
                } else {
                    false
                }
            }
            Expr::Attribute(a) => {
                // `len.x` or `open.y` are attributes of builtins' results, not modules.
                if let Expr::Name(n) = a.value.as_ref()
                    && !self.aliases.contains_key(n.id.as_str())
                {
                    return false;
                }
                if !self.push_qualified(&a.value, out) {
                    return false;
                }
                out.push('.');
                out.push_str(a.attr.as_str());
                true
            }
            _ => false,
        }
    }

    fn is_local(&self, id: &str) -> bool {
        self.locals.last().is_some_and(|l| l.contains_key(id))
    }

    pub(super) fn lookup(&self, id: &str) -> Option<&'a Expr> {
        self.locals
            .last()
            .and_then(|l| l.get(id).copied())
            .unwrap_or_else(|| self.constants.get(id).copied())
    }

    /// Resolves an expression to a value.
    pub fn value(&self, expr: &Expr) -> Value {
        self.value_at(expr, 0)
    }

    fn value_at(&self, expr: &Expr, depth: u32) -> Value {
        if depth > MAX_RESOLVE_DEPTH {
            return self.expr_text(expr);
        }
        match expr {
            Expr::NoneLiteral(_) => Value::None,
            Expr::BooleanLiteral(b) => Value::Bool(b.value),
            Expr::NumberLiteral(n) => match &n.value {
                Number::Int(i) => i
                    .as_i64()
                    .map(Value::Int)
                    .unwrap_or_else(|| self.expr_text(expr)),
                Number::Float(f) => Value::Float(*f),
                Number::Complex { .. } => self.expr_text(expr),
            },
            Expr::StringLiteral(s) => Value::Str(s.value.to_str().to_string()),
            Expr::UnaryOp(u) if u.op == UnaryOp::USub => match self.value_at(&u.operand, depth + 1)
            {
                Value::Int(i) => Value::Int(-i),
                Value::Float(f) => Value::Float(-f),
                _ => self.expr_text(expr),
            },
            Expr::List(l) => {
                Value::List(l.elts.iter().map(|e| self.value_at(e, depth + 1)).collect())
            }
            Expr::Tuple(t) => {
                Value::List(t.elts.iter().map(|e| self.value_at(e, depth + 1)).collect())
            }
            Expr::Name(n) => {
                if let Some(target) = self.lookup(n.id.as_str()) {
                    // `x = x + 1` style self-references would loop: the depth limit stops them.
                    return self.value_at(target, depth + 1);
                }
                match self.qualified_name(expr) {
                    Some(symbol) => Value::Symbol { symbol },
                    None => self.expr_text(expr),
                }
            }
            Expr::Attribute(_) => match self.qualified_name(expr) {
                Some(symbol) => Value::Symbol { symbol },
                None => self.expr_text(expr),
            },
            Expr::Call(c) => {
                // np.array([...]) / torch.tensor([...]) of literals are constants in practice.
                let callee = self.qualified_name(&c.func);
                let is_array = callee.as_deref().is_some_and(|q| {
                    matches!(
                        q,
                        "numpy.array"
                            | "numpy.asarray"
                            | "torch.tensor"
                            | "torch.Tensor"
                            | "tensorflow.constant"
                    )
                });
                if is_array && let Some(first) = c.arguments.args.first() {
                    let v = self.value_at(first, depth + 1);
                    if v.is_literal() {
                        return v;
                    }
                }
                self.expr_text(expr)
            }
            Expr::BinOp(b) => {
                let (l, r) = (
                    self.value_at(&b.left, depth + 1),
                    self.value_at(&b.right, depth + 1),
                );
                match (l.as_f64(), r.as_f64(), b.op) {
                    (Some(x), Some(y), Operator::Mult) => number(x * y, &l, &r),
                    (Some(x), Some(y), Operator::Add) => number(x + y, &l, &r),
                    (Some(x), Some(y), Operator::Sub) => number(x - y, &l, &r),
                    (Some(x), Some(y), Operator::Div) if y != 0.0 => Value::Float(x / y),
                    (Some(x), Some(y), Operator::FloorDiv) if y != 0.0 => {
                        number((x / y).floor(), &l, &r)
                    }
                    _ => self.expr_text(expr),
                }
            }
            _ => self.expr_text(expr),
        }
    }

    fn expr_text(&self, expr: &Expr) -> Value {
        let text = &self.module.source[expr.range()];
        let text = if text.len() > MAX_EXPR_TEXT {
            let mut end = MAX_EXPR_TEXT;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}...", &text[..end])
        } else {
            text.to_string()
        };
        Value::Expr { expr: text }
    }
}

fn number(x: f64, l: &Value, r: &Value) -> Value {
    if matches!((l, r), (Value::Int(_), Value::Int(_))) && x.fract() == 0.0 && x.abs() < 9e15 {
        Value::Int(x as i64)
    } else {
        Value::Float(x)
    }
}

#[cfg(test)]
mod tests {
    use crate::python::visit::{CallSite, Observer, visit_module};
    use crate::python::{ParsedModule, Value};

    /// Each call's qualified callee and its first argument, as resolved.
    #[derive(Default)]
    struct Calls(Vec<(Option<String>, Option<Value>)>);

    impl Observer for Calls {
        fn call(&mut self, site: &CallSite<'_, '_>) {
            self.0
                .push((site.qualified.clone(), site.arg(Some(0), None)));
        }
    }

    fn calls(source: &str) -> Vec<(Option<String>, Option<Value>)> {
        let module = ParsedModule::parse(source);
        let mut calls = Calls::default();
        visit_module(&module, "app.py", &mut [&mut calls]);
        calls.0
    }

    fn last_call(source: &str) -> (Option<String>, Option<Value>) {
        calls(source).pop().expect("a call")
    }

    #[test]
    fn callees_resolve_through_import_aliases() {
        let (callee, _) = last_call("import torchvision.transforms as T\nT.Resize(256)\n");
        assert_eq!(callee.as_deref(), Some("torchvision.transforms.Resize"));
        let (callee, _) = last_call("from PIL import Image as I\nI.open('x.png')\n");
        assert_eq!(callee.as_deref(), Some("PIL.Image.open"));
        // A name nothing imports does not resolve (and a builtin does).
        assert_eq!(last_call("resize(1)\n").0, None);
        assert_eq!(last_call("open('f')\n").0.as_deref(), Some("open"));
    }

    #[test]
    fn values_follow_module_constants_and_arithmetic() {
        let (_, value) = last_call("SIZE = 224\nSIDE = SIZE + 32\nf(SIDE)\n");
        assert_eq!(value, Some(Value::Int(256)));
        let (_, value) = last_call("MEAN = [0.485, 0.456]\nf(MEAN)\n");
        assert_eq!(
            value,
            Some(Value::List(vec![Value::Float(0.485), Value::Float(0.456)]))
        );
        let (_, value) = last_call("f(-1)\n");
        assert_eq!(value, Some(Value::Int(-1)));
    }

    #[test]
    fn enum_like_names_resolve_to_their_qualified_symbol() {
        let (_, value) = last_call("import cv2\nf(cv2.INTER_LINEAR)\n");
        assert_eq!(
            value,
            Some(Value::Symbol {
                symbol: "cv2.INTER_LINEAR".into()
            })
        );
    }

    #[test]
    fn what_does_not_resolve_keeps_its_source_text() {
        let (_, value) = last_call("def g(x):\n    return f(x.shape[0])\n");
        assert_eq!(
            value,
            Some(Value::Expr {
                expr: "x.shape[0]".into()
            })
        );
        // A self-referential constant stops at the depth limit instead of looping.
        let (_, value) = last_call("A = B\nB = A\nf(A)\n");
        assert!(matches!(value, Some(Value::Expr { .. })), "{value:?}");
    }
}
