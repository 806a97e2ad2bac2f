//! Name resolution for one module: qualified names through imports, values through module
//! constants and function locals, arithmetic on literals.

use ruff_python_ast::{self as ast, Expr, Number, Operator, Stmt, UnaryOp};
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
    /// The package this file's relative imports start from (`app.api`).
    pub(super) package: String,
    /// Values defined in the service's other modules.
    pub(super) imported: Option<&'a dyn ImportedValues>,
    /// Absolute names of modules star-imported here.
    pub(super) stars: Vec<String>,
    /// The class whose body is being walked (for `self.x`).
    pub(super) class: Option<String>,
    /// `Class.attr` -> its value: class-level assignments and `self.attr = ...` in methods,
    /// when assigned once.
    pub(super) class_attrs: FxHashMap<String, &'a Expr>,
    /// Each class of this module and its base-class expressions.
    pub(super) class_bases: FxHashMap<&'a str, &'a [Expr]>,
    /// The tests of the `if`s enclosing the code being walked inside a function, innermost
    /// last, as written (`image.mode != "RGB"`, or `not (...)` in an `else`).
    pub(super) conditions: Vec<(&'a ast::StmtIf, usize)>,
    /// The functions being walked, innermost last.
    pub(super) functions: Vec<FunctionFrame>,
    /// The bodies of the functions being walked, innermost last: what the hand-written
    /// idioms (`idioms.rs`) read assignments from.
    pub(super) bodies: Vec<&'a [Stmt]>,
    /// Names the current function binds to an image's size (`h, w = img.shape[:2]`):
    /// arithmetic on them computes geometry, not pixels.
    pub(super) dimensions: Vec<&'a str>,
}

/// Values the service's other modules define, looked up by the qualified name an import
/// gives them here (`settings.IMAGE_SIZE`, `app.consts.MEAN`, `app.handlers.Base.size`).
pub trait ImportedValues: Sync {
    fn value(&self, from_file: &str, symbol: &str) -> Option<Value>;

    /// The value every call of `callee` in the service passes for its parameter at
    /// `position` (or by `name`), when they all pass the same literal.
    fn argument(&self, _callee: &str, _position: usize, _name: &str) -> Option<Value> {
        None
    }
}

/// The function being walked, for values its callers pass: the name callers call it by
/// (the class for `__init__`), its parameters, and whether the first is `self`.
pub(crate) struct FunctionFrame {
    pub(crate) callee: String,
    pub(crate) parameters: Vec<String>,
    pub(crate) method: bool,
}

impl<'a> Context<'a> {
    pub(super) fn new(
        module: &'a ParsedModule<'a>,
        file: &'a str,
        imported: Option<&'a dyn ImportedValues>,
    ) -> Self {
        Context {
            module,
            file,
            aliases: FxHashMap::default(),
            constants: FxHashMap::default(),
            locals: Vec::new(),
            bodies: Vec::new(),
            dimensions: Vec::new(),
            shadowed: FxHashSet::default(),
            package: crate::service::modules::package_of(file),
            imported,
            stars: Vec::new(),
            class: None,
            class_attrs: FxHashMap::default(),
            class_bases: FxHashMap::default(),
            conditions: Vec::new(),
            functions: Vec::new(),
        }
    }

    /// Binds the names an import statement brings in, and returns one
    /// `(module, names, level, range)` per imported module.
    pub(super) fn bind_import(
        &mut self,
        stmt: &Stmt,
    ) -> Vec<(String, Vec<String>, u32, TextRange)> {
        let mut sites = Vec::new();
        match stmt {
            Stmt::Import(i) => {
                for alias in &i.names {
                    let module = alias.name.as_str();
                    match &alias.asname {
                        Some(asname) => {
                            self.aliases.insert(asname.to_string(), module.to_string());
                        }
                        None => {
                            // `import a.b` binds `a`.
                            let top = module.split('.').next().unwrap_or(module);
                            self.aliases.insert(top.to_string(), top.to_string());
                        }
                    }
                    sites.push((module.to_string(), Vec::new(), 0, alias.range()));
                }
            }
            Stmt::ImportFrom(i) => {
                let module = i.module.as_ref().map(|m| m.to_string()).unwrap_or_default();
                // A relative import names a module of the service by its absolute name, so
                // that its values can be looked up (`from .settings import SIZE`).
                let source = if i.level > 0 {
                    crate::service::modules::absolute_in(&self.package, &module, i.level)
                } else {
                    module.clone()
                };
                let mut names = Vec::new();
                for alias in &i.names {
                    let name = alias.name.as_str();
                    names.push(name.to_string());
                    if name == "*" {
                        self.stars.push(source.clone());
                        continue;
                    }
                    let bound = alias.asname.as_ref().map(|a| a.as_str()).unwrap_or(name);
                    let qualified = if source.is_empty() {
                        name.to_string()
                    } else {
                        format!("{source}.{name}")
                    };
                    self.aliases.insert(bound.to_string(), qualified);
                }
                sites.push((module, names, i.level, stmt.range()));
            }
            _ => {}
        }
        sites
    }

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

    /// A name bound inside the function being walked (a parameter or an assignment).
    pub(super) fn is_local(&self, id: &str) -> bool {
        self.locals.last().is_some_and(|l| l.contains_key(id))
    }

    pub(super) fn lookup(&self, id: &str) -> Option<&'a Expr> {
        self.locals
            .last()
            .and_then(|l| l.get(id).copied())
            .unwrap_or_else(|| self.constants.get(id).copied())
    }

    /// The innermost `if` branch being walked, as a condition: its test, or for an `elif` or
    /// `else` the earlier tests negated (`not (a) and b`).
    pub(super) fn condition_text(&self) -> Option<String> {
        let &(stmt, branch) = self.conditions.last()?;
        let text = |e: &Expr| &self.module.source[e.range()];
        if branch == 0 {
            return Some(text(&stmt.test).to_string());
        }
        let mut parts: Vec<String> = std::iter::once(stmt.test.as_ref())
            .chain(
                stmt.elif_else_clauses[..branch - 1]
                    .iter()
                    .filter_map(|c| c.test.as_ref()),
            )
            .map(|t| format!("not ({})", text(t)))
            .collect();
        if let Some(test) = &stmt.elif_else_clauses[branch - 1].test {
            parts.push(text(test).to_string());
        }
        Some(parts.join(" and "))
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
                if let Some(value) = self.argument_value(n.id.as_str()) {
                    return value;
                }
                match self.qualified_name(expr) {
                    Some(symbol) => self
                        .imported_value(&symbol)
                        .unwrap_or(Value::Symbol { symbol }),
                    None => self
                        .star_value(n.id.as_str())
                        .unwrap_or_else(|| self.expr_text(expr)),
                }
            }
            Expr::Attribute(a) => {
                if let Expr::Name(owner) = a.value.as_ref()
                    && matches!(owner.id.as_str(), "self" | "cls")
                    && let Some(class) = &self.class
                {
                    return self
                        .class_attr(class, a.attr.as_str(), depth + 1)
                        .unwrap_or_else(|| self.expr_text(expr));
                }
                // `Config.SIZE` of a class this module defines (Flask-style config classes).
                if let Expr::Name(owner) = a.value.as_ref()
                    && self.class_bases.contains_key(owner.id.as_str())
                    && !self.is_local(owner.id.as_str())
                    && let Some(value) =
                        self.class_attr(owner.id.as_str(), a.attr.as_str(), depth + 1)
                {
                    return value;
                }
                match self.qualified_name(expr) {
                    Some(symbol) => self
                        .imported_value(&symbol)
                        .unwrap_or(Value::Symbol { symbol }),
                    None => self.expr_text(expr),
                }
            }
            Expr::FString(f) => self
                .fstring(f, depth)
                .unwrap_or_else(|| self.expr_text(expr)),
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
                callee
                    .and_then(|q| self.call_value(&q, c, depth))
                    .unwrap_or_else(|| self.expr_text(expr))
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

    /// A value another module of the service defines.
    /// A parameter without a default, from what the service's calls pass for it.
    fn argument_value(&self, id: &str) -> Option<Value> {
        let unbound = self
            .locals
            .last()
            .is_some_and(|l| matches!(l.get(id), Some(None)));
        if !unbound {
            return None;
        }
        let frame = self.functions.last()?;
        let index = frame.parameters.iter().position(|p| p == id)?;
        let position = if frame.method {
            index.checked_sub(1)?
        } else {
            index
        };
        self.imported?.argument(&frame.callee, position, id)
    }

    fn imported_value(&self, symbol: &str) -> Option<Value> {
        self.imported?.value(self.file, symbol)
    }

    /// A bare name that only a star import can have brought in.
    fn star_value(&self, name: &str) -> Option<Value> {
        let imported = self.imported?;
        self.stars
            .iter()
            .find_map(|m| imported.value(self.file, &format!("{m}.{name}")))
    }

    /// `self.attr` in a method of `class`: the class's own assignment, or a base class's
    /// (in this module, or through the service's other modules).
    fn class_attr(&self, class: &str, attr: &str, depth: u32) -> Option<Value> {
        if depth > MAX_RESOLVE_DEPTH {
            return None;
        }
        if let Some(expr) = self.class_attrs.get(&format!("{class}.{attr}")) {
            return Some(self.value_at(expr, depth + 1));
        }
        let bases = self.class_bases.get(class)?;
        bases.iter().find_map(|base| match base {
            Expr::Name(n) if self.class_bases.contains_key(n.id.as_str()) => {
                self.class_attr(n.id.as_str(), attr, depth + 1)
            }
            _ => {
                let symbol = self.qualified_name(base)?;
                self.imported_value(&format!("{symbol}.{attr}"))
            }
        })
    }

    /// Calls whose value is known without running them: `os.environ.get(NAME, DEFAULT)`
    /// (the default: the deployment may set another), `int("224")`, `tuple([..])`,
    /// `os.path.join("models", NAME)`.
    fn call_value(&self, callee: &str, c: &ast::ExprCall, depth: u32) -> Option<Value> {
        let args = &c.arguments.args;
        let arg = |i: usize| args.get(i).map(|a| self.value_at(a, depth + 1));
        match callee {
            "os.environ.get" | "os.getenv" if args.len() == 2 => arg(1),
            "int" => match arg(0)? {
                Value::Str(s) => s.trim().parse().ok().map(Value::Int),
                Value::Float(f) => Some(Value::Int(f.trunc() as i64)),
                v @ Value::Int(_) => Some(v),
                _ => None,
            },
            "float" => match arg(0)? {
                Value::Str(s) => s.trim().parse().ok().map(Value::Float),
                v => v.as_f64().map(Value::Float),
            },
            "str" => match arg(0)? {
                v @ Value::Str(_) => Some(v),
                Value::Int(i) => Some(Value::Str(i.to_string())),
                _ => None,
            },
            "tuple" | "list" => arg(0).filter(|v| matches!(v, Value::List(_))),
            "os.path.join" | "posixpath.join" => {
                let mut out = String::new();
                for a in args {
                    let Value::Str(part) = self.value_at(a, depth + 1) else {
                        return None;
                    };
                    if part.starts_with('/') || out.is_empty() {
                        out = part;
                    } else {
                        if !out.ends_with('/') {
                            out.push('/');
                        }
                        out.push_str(&part);
                    }
                }
                Some(Value::Str(out))
            }
            _ => None,
        }
    }

    /// An f-string whose every interpolation resolves.
    fn fstring(&self, f: &ast::ExprFString, depth: u32) -> Option<Value> {
        let mut out = String::new();
        for part in f.value.iter() {
            match part {
                ast::FStringPart::Literal(l) => out.push_str(&l.value),
                ast::FStringPart::FString(fs) => {
                    for element in fs.elements.iter() {
                        match element {
                            ast::InterpolatedStringElement::Literal(l) => out.push_str(&l.value),
                            ast::InterpolatedStringElement::Interpolation(i) => {
                                if i.format_spec.is_some() {
                                    return None;
                                }
                                match self.value_at(&i.expression, depth + 1) {
                                    Value::Str(s) => out.push_str(&s),
                                    Value::Int(n) => out.push_str(&n.to_string()),
                                    _ => return None,
                                }
                            }
                        }
                    }
                }
            }
        }
        Some(Value::Str(out))
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
