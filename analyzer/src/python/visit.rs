//! One pass over a parsed module that resolves names through imports and module constants and
//! reports the sites the analyzer cares about (imports, calls, attribute uses, definitions) to
//! observers. Rules and pipeline detection are observers; neither sees ruff's AST.

use std::collections::BTreeMap;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, CmpOp, Expr, Number, Operator, Stmt, UnaryOp};
use ruff_text_size::{Ranged, TextRange};
use rustc_hash::{FxHashMap, FxHashSet};

use super::parse::ParsedModule;
use super::value::Value;
use crate::report::Location;

/// Red zone and growth for deeply nested code: a 10,000-deep expression must not overflow.
const STACK_RED_ZONE: usize = 256 * 1024;
const STACK_GROWTH: usize = 8 * 1024 * 1024;
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

/// An `import` or `from ... import` statement, one per imported module.
#[derive(Debug, Clone)]
pub struct ImportSite {
    /// The absolute module (`torchvision.transforms`); for relative imports, the dotted tail
    /// after the dots (possibly empty).
    pub module: String,
    /// Names imported by `from module import a, b` (empty for `import module`).
    pub names: Vec<String>,
    /// Relative import level (`from . import x` is 1).
    pub level: u32,
    /// Inside `try:` with an `except` (an optional import).
    pub guarded: bool,
    pub line: u32,
    pub column: u32,
    pub snippet_range: TextRange,
}

/// The current function and class, for naming where a step happens.
#[derive(Debug, Clone, Default)]
struct Scope {
    class: Option<String>,
    function: Option<String>,
}

impl Scope {
    fn name(&self) -> String {
        match (&self.class, &self.function) {
            (Some(c), Some(f)) => format!("{c}.{f}"),
            (None, Some(f)) => f.clone(),
            (Some(c), None) => c.clone(),
            (None, None) => "<module>".to_string(),
        }
    }
}

/// A call, with its callee resolved and its arguments resolvable on demand.
pub struct CallSite<'v, 'a> {
    pub(crate) ctx: &'v Context<'a>,
    pub(crate) call: &'a ast::ExprCall,
    /// The qualified name the callee resolves to (`subprocess.run`, `eval`).
    pub qualified: Option<String>,
    /// For `<expr>.name(...)` whose callee does not resolve: `name`.
    pub method: Option<&'a str>,
    pub scope: String,
}

impl<'a> CallSite<'_, 'a> {
    fn find(&self, position: Option<usize>, keyword: Option<&str>) -> Option<&'a Expr> {
        if let Some(kw) = keyword
            && let Some(k) = self
                .call
                .arguments
                .keywords
                .iter()
                .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == kw))
        {
            return Some(&k.value);
        }
        let position = position?;
        let args = &self.call.arguments.args;
        // A starred argument makes positions unknowable from there on.
        if args.iter().take(position + 1).any(|a| a.is_starred_expr()) {
            return None;
        }
        args.get(position)
    }

    /// Whether the argument is given (by keyword, else by position).
    pub fn has_arg(&self, position: Option<usize>, keyword: Option<&str>) -> bool {
        self.find(position, keyword).is_some()
    }

    /// The argument's value, resolved through constants and imports.
    pub fn arg(&self, position: Option<usize>, keyword: Option<&str>) -> Option<Value> {
        self.find(position, keyword).map(|e| self.ctx.value(e))
    }

    pub fn positional_count(&self) -> usize {
        self.call.arguments.args.len()
    }

    /// Every argument: positional ones as `arg0`, `arg1`..., keywords by name.
    pub fn all_args(&self) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        for (i, a) in self.call.arguments.args.iter().enumerate() {
            out.insert(format!("arg{i}"), self.ctx.value(a));
        }
        for k in &self.call.arguments.keywords {
            if let Some(name) = &k.arg {
                out.insert(name.as_str().to_string(), self.ctx.value(&k.value));
            }
        }
        out
    }

    /// The source text of the receiver of a method call (`image` in `image.convert(...)`).
    pub fn receiver_text(&self) -> Option<&'a str> {
        match self.call.func.as_ref() {
            Expr::Attribute(a) => Some(&self.ctx.module.source[a.value.range()]),
            _ => None,
        }
    }

    /// For `Path("/x").write_text(...)`: the path the receiver was built from.
    pub fn receiver_path(&self) -> Option<Value> {
        let Expr::Attribute(a) = self.call.func.as_ref() else {
            return None;
        };
        let Expr::Call(inner) = a.value.as_ref() else {
            return None;
        };
        let callee = self.ctx.qualified_name(&inner.func)?;
        if !matches!(
            callee.as_str(),
            "pathlib.Path" | "pathlib.PurePath" | "pathlib.PosixPath"
        ) {
            return None;
        }
        inner.arguments.args.first().map(|e| self.ctx.value(e))
    }

    pub fn location(&self) -> Location {
        self.ctx.location(self.call.range())
    }

    pub fn snippet(&self) -> String {
        self.ctx.module.snippet(self.call.range())
    }

    /// The callee as written (`self.model.cuda`).
    pub fn callee_text(&self) -> &'a str {
        &self.ctx.module.source[self.call.func.range()]
    }
}

/// An attribute chain that resolves through imports (`torch.cuda.is_available`).
pub struct AttributeSite {
    pub qualified: String,
    pub location: Location,
    pub range: TextRange,
}

/// A function definition with its decorators resolved.
pub struct FunctionSite {
    pub name: String,
    /// Parameter names, `self` included.
    pub parameters: Vec<String>,
    pub class: Option<String>,
    pub is_async: bool,
    pub decorators: Vec<Decorator>,
    pub location: Location,
}

/// A decorator: `@app.route("/predict", methods=["POST"])`.
pub struct Decorator {
    /// The decorator's callee as written (`app.route`).
    pub callee_text: String,
    /// The last attribute (`route`, `post`).
    pub attr: Option<String>,
    /// The qualified name when it resolves through imports.
    pub qualified: Option<String>,
    pub args: BTreeMap<String, Value>,
}

/// A class definition.
pub struct ClassSite {
    pub name: String,
    /// Base classes, resolved where possible, else as written.
    pub bases: Vec<String>,
    pub methods: Vec<String>,
    pub location: Location,
}

/// An arithmetic operation with a literal or constant operand (`x / 255.0`, `(x - MEAN) / STD`).
pub struct BinOpSite {
    pub op: &'static str,
    pub left: Value,
    pub right: Value,
    pub scope: String,
    pub location: Location,
}

/// What observers receive. All methods default to doing nothing.
pub trait Observer {
    fn import(&mut self, _ctx: &Context<'_>, _site: &ImportSite) {}
    fn call(&mut self, _site: &CallSite<'_, '_>) {}
    fn attribute(&mut self, _site: &AttributeSite) {}
    fn function(&mut self, _site: &FunctionSite) {}
    fn class(&mut self, _site: &ClassSite) {}
    fn binop(&mut self, _site: &BinOpSite) {}
    /// An `if` / `while` / ternary in `forward` of an `nn.Module` whose test depends on tensor
    /// values.
    fn data_dependent_branch(&mut self, _location: Location, _snippet: String) {}
    /// `if __name__ == "__main__":`
    fn main_guard(&mut self, _location: Location) {}
    /// `x[..., ::-1]` / `x[:, :, ::-1]`: the channel order reversed (RGB <-> BGR).
    fn channel_flip(&mut self, _location: Location, _scope: &str) {}
    /// `target = callee(...)`, with the target as written (`transform`, `self.transform`)
    /// and the location of the whole call.
    fn assign_call(&mut self, _target: &str, _callee: Option<&str>, _location: Location) {}
}

/// Name resolution state for one module.
pub struct Context<'a> {
    pub(crate) module: &'a ParsedModule<'a>,
    pub file: &'a str,
    /// Local name -> qualified name, from imports.
    aliases: FxHashMap<String, String>,
    /// Module-level `NAME = expr`.
    constants: FxHashMap<&'a str, &'a Expr>,
    /// Simple assignments in the current function.
    locals: Vec<FxHashMap<&'a str, Option<&'a Expr>>>,
    /// Module-level names bound by `def`, `class` or assignment: they shadow builtins.
    shadowed: FxHashSet<String>,
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

    fn lookup(&self, id: &str) -> Option<&'a Expr> {
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

/// Walks `module` once, calling `observers` in source order.
pub fn visit_module(module: &ParsedModule<'_>, file: &str, observers: &mut [&mut dyn Observer]) {
    let body = &module.parsed.syntax().body;
    let mut ctx = Context {
        module,
        file,
        aliases: FxHashMap::default(),
        constants: FxHashMap::default(),
        locals: Vec::new(),
        shadowed: FxHashSet::default(),
    };
    collect_module_bindings(&mut ctx, body);
    let mut walker = Walker {
        ctx,
        observers,
        scope: Scope::default(),
        forward: None,
        module_classes: FxHashSet::default(),
        try_depth: 0,
    };
    for stmt in body {
        walker.visit_stmt(stmt);
    }
}

/// Pre-pass over top-level statements: constants (used before their definition in functions)
/// and names that shadow builtins.
fn collect_module_bindings<'a>(ctx: &mut Context<'a>, body: &'a [Stmt]) {
    for stmt in body {
        match stmt {
            Stmt::Assign(a) if a.targets.len() == 1 => {
                if let Expr::Name(n) = &a.targets[0] {
                    ctx.constants.insert(n.id.as_str(), &a.value);
                    ctx.shadowed.insert(n.id.to_string());
                }
            }
            Stmt::AnnAssign(a) => {
                if let (Expr::Name(n), Some(v)) = (a.target.as_ref(), &a.value) {
                    ctx.constants.insert(n.id.as_str(), v);
                    ctx.shadowed.insert(n.id.to_string());
                }
            }
            Stmt::FunctionDef(f) => {
                ctx.shadowed.insert(f.name.to_string());
            }
            Stmt::ClassDef(c) => {
                ctx.shadowed.insert(c.name.to_string());
            }
            _ => {}
        }
    }
}

/// The `forward` method being walked: its tensor-valued names.
struct ForwardScope {
    tensors: FxHashSet<String>,
}

struct Walker<'a, 'o, 'p> {
    ctx: Context<'a>,
    observers: &'o mut [&'p mut dyn Observer],
    scope: Scope,
    forward: Option<ForwardScope>,
    /// Classes of this module that subclass `nn.Module` (directly or through each other).
    module_classes: FxHashSet<String>,
    try_depth: u32,
}

impl<'a> Walker<'a, '_, '_> {
    fn import(&mut self, stmt: &'a Stmt) {
        let mut sites = Vec::new();
        match stmt {
            Stmt::Import(i) => {
                for alias in &i.names {
                    let module = alias.name.as_str();
                    match &alias.asname {
                        Some(asname) => {
                            self.ctx
                                .aliases
                                .insert(asname.to_string(), module.to_string());
                        }
                        None => {
                            // `import a.b` binds `a`.
                            let top = module.split('.').next().unwrap_or(module);
                            self.ctx.aliases.insert(top.to_string(), top.to_string());
                        }
                    }
                    sites.push((module.to_string(), Vec::new(), 0, alias.range()));
                }
            }
            Stmt::ImportFrom(i) => {
                let module = i.module.as_ref().map(|m| m.to_string()).unwrap_or_default();
                let mut names = Vec::new();
                for alias in &i.names {
                    let name = alias.name.as_str();
                    names.push(name.to_string());
                    if name == "*" || i.level > 0 {
                        continue;
                    }
                    let bound = alias.asname.as_ref().map(|a| a.as_str()).unwrap_or(name);
                    self.ctx
                        .aliases
                        .insert(bound.to_string(), format!("{module}.{name}"));
                }
                sites.push((module, names, i.level, stmt.range()));
            }
            _ => {}
        }
        for (module, names, level, range) in sites {
            let (line, column) = self.ctx.module.line_column(range.start());
            let site = ImportSite {
                module,
                names,
                level,
                guarded: self.try_depth > 0,
                line,
                column,
                snippet_range: stmt.range(),
            };
            for o in self.observers.iter_mut() {
                o.import(&self.ctx, &site);
            }
        }
    }

    fn function(&mut self, f: &'a ast::StmtFunctionDef) {
        let decorators = f
            .decorator_list
            .iter()
            .map(|d| {
                let (callee, args) = match &d.expression {
                    Expr::Call(c) => {
                        let site = CallSite {
                            ctx: &self.ctx,
                            call: c,
                            qualified: None,
                            method: None,
                            scope: String::new(),
                        };
                        (c.func.as_ref(), site.all_args())
                    }
                    other => (other, BTreeMap::new()),
                };
                Decorator {
                    callee_text: self.ctx.module.source[callee.range()].to_string(),
                    attr: match callee {
                        Expr::Attribute(a) => Some(a.attr.to_string()),
                        Expr::Name(n) => Some(n.id.to_string()),
                        _ => None,
                    },
                    qualified: self.ctx.qualified_name(callee),
                    args,
                }
            })
            .collect();
        let site = FunctionSite {
            name: f.name.to_string(),
            parameters: f.parameters.iter().map(|p| p.name().to_string()).collect(),
            class: self.scope.class.clone(),
            is_async: f.is_async,
            decorators,
            location: self.ctx.location(f.name.range()),
        };
        for o in self.observers.iter_mut() {
            o.function(&site);
        }

        let in_module_class = self
            .scope
            .class
            .as_ref()
            .is_some_and(|c| self.module_classes.contains(c));
        let saved_forward = self.forward.take();
        if in_module_class && f.name.as_str() == "forward" {
            let tensors = f
                .parameters
                .iter_non_variadic_params()
                .map(|p| p.parameter.name.to_string())
                .filter(|n| n != "self")
                .collect();
            self.forward = Some(ForwardScope { tensors });
        }
        let saved_scope = self.scope.clone();
        self.scope.function = Some(match &self.scope.function {
            Some(outer) => format!("{outer}.{}", f.name.as_str()),
            None => f.name.to_string(),
        });
        self.ctx.locals.push(FxHashMap::default());
        // Parameters shadow module constants and builtins of the same name.
        if let Some(locals) = self.ctx.locals.last_mut() {
            for p in f.parameters.iter() {
                locals.insert(p.name().as_str(), None);
            }
        }
        for d in &f.decorator_list {
            self.visit_expr(&d.expression);
        }
        for p in f.parameters.iter_non_variadic_params() {
            if let Some(default) = &p.default {
                self.visit_expr(default);
            }
        }
        for stmt in &f.body {
            self.visit_stmt(stmt);
        }
        self.ctx.locals.pop();
        self.scope = saved_scope;
        self.forward = saved_forward;
    }

    fn class(&mut self, c: &'a ast::StmtClassDef) {
        let bases: Vec<String> = c
            .arguments
            .as_ref()
            .map(|a| {
                a.args
                    .iter()
                    .map(|b| {
                        self.ctx
                            .qualified_name(b)
                            .unwrap_or_else(|| self.ctx.module.source[b.range()].to_string())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let is_module = bases.iter().any(|b| {
            b == "torch.nn.Module"
                || b.ends_with("nn.Module")
                || b.ends_with("LightningModule")
                || self.module_classes.contains(b)
        });
        if is_module {
            self.module_classes.insert(c.name.to_string());
        }
        let methods = c
            .body
            .iter()
            .filter_map(|s| match s {
                Stmt::FunctionDef(f) => Some(f.name.to_string()),
                _ => None,
            })
            .collect();
        let site = ClassSite {
            name: c.name.to_string(),
            bases,
            methods,
            location: self.ctx.location(c.name.range()),
        };
        for o in self.observers.iter_mut() {
            o.class(&site);
        }
        if let Some(args) = &c.arguments {
            for a in args.args.iter() {
                self.visit_expr(a);
            }
        }
        let saved = self.scope.clone();
        self.scope = Scope {
            class: Some(c.name.to_string()),
            function: None,
        };
        for stmt in &c.body {
            self.visit_stmt(stmt);
        }
        self.scope = saved;
    }

    fn record_local(&mut self, target: &'a Expr, value: &'a Expr) {
        if let Expr::Name(n) = target {
            if let Some(locals) = self.ctx.locals.last_mut() {
                // A name assigned twice (or bound to an empty container that is filled later)
                // has no single value.
                let empty_container = matches!(value, Expr::List(l) if l.elts.is_empty())
                    || matches!(value, Expr::Dict(d) if d.items.is_empty());
                let known = !locals.contains_key(n.id.as_str()) && !empty_container;
                locals.insert(n.id.as_str(), known.then_some(value));
            }
            if let Some(fwd) = &mut self.forward
                && depends_on_tensor(value, &fwd.tensors)
            {
                fwd.tensors.insert(n.id.to_string());
            }
        }
    }

    fn check_branch(&mut self, test: &'a Expr) {
        let Some(fwd) = &self.forward else { return };
        if depends_on_tensor(test, &fwd.tensors) {
            let location = self.ctx.location(test.range());
            let snippet = self.ctx.snippet(test.range());
            for o in self.observers.iter_mut() {
                o.data_dependent_branch(location.clone(), snippet.clone());
            }
        }
    }

    fn call(&mut self, c: &'a ast::ExprCall) {
        let qualified = self.ctx.qualified_name(&c.func);
        let method = match (c.func.as_ref(), &qualified) {
            (Expr::Attribute(a), None) => Some(a.attr.as_str()),
            _ => None,
        };
        let site = CallSite {
            ctx: &self.ctx,
            call: c,
            qualified,
            method,
            scope: self.scope.name(),
        };
        for o in self.observers.iter_mut() {
            o.call(&site);
        }
    }

    /// Whether an operand can resolve to a number or a list of numbers.
    fn could_be_constant(&self, expr: &Expr) -> bool {
        match expr {
            Expr::NumberLiteral(_) | Expr::List(_) | Expr::Tuple(_) => true,
            Expr::UnaryOp(u) => matches!(u.operand.as_ref(), Expr::NumberLiteral(_)),
            Expr::Name(n) => self.ctx.lookup(n.id.as_str()).is_some(),
            Expr::Call(c) => {
                matches!(c.func.as_ref(), Expr::Attribute(a) if matches!(a.attr.as_str(), "array" | "asarray" | "tensor" | "constant"))
            }
            _ => false,
        }
    }

    /// Arithmetic whose one side is a constant or names a normalisation value (`mean`,
    /// `std`, `scale`): `x / 255.0`, `(x - MEAN) / STD`, `img /= 255`, `(img - mean) / std`.
    fn binop(&mut self, op: Operator, left_expr: &'a Expr, right_expr: &'a Expr, range: TextRange) {
        let op = match op {
            Operator::Div => "div",
            Operator::Sub => "sub",
            Operator::Mult => "mul",
            Operator::Add => "add",
            _ => return,
        };
        // Arithmetic is everywhere in real code: decide cheaply from the syntax whether this
        // one can be preprocessing before resolving values (which allocates).
        let (l_const, r_const) = (
            self.could_be_constant(left_expr),
            self.could_be_constant(right_expr),
        );
        let (l_stat, r_stat) = (names_a_statistic(left_expr), names_a_statistic(right_expr));
        if !(l_const || r_const || l_stat || r_stat) {
            return;
        }
        let right = self.ctx.value(right_expr);
        let left = self.ctx.value(left_expr);
        let constant = |v: &Value| {
            v.as_f64().is_some()
                || v.as_list()
                    .is_some_and(|l| !l.is_empty() && l.iter().all(|x| x.as_f64().is_some()))
        };
        let (l, r) = (constant(&left), constant(&right));
        // `i += 1` and `n * 2` are counters and sizes, not pixel arithmetic.
        if matches!(op, "add" | "mul")
            && (matches!(left, Value::Int(_)) || matches!(right, Value::Int(_)))
        {
            return;
        }
        let keep = (l != r) || (!l && !r && (l_stat || r_stat));
        if !keep {
            return;
        }
        let site = BinOpSite {
            op,
            left,
            right,
            scope: self.scope.name(),
            location: self.ctx.location(range),
        };
        for o in self.observers.iter_mut() {
            o.binop(&site);
        }
    }
}

impl<'a> Visitor<'a> for Walker<'a, '_, '_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || match stmt {
            Stmt::Import(_) | Stmt::ImportFrom(_) => self.import(stmt),
            Stmt::FunctionDef(f) => self.function(f),
            Stmt::ClassDef(c) => self.class(c),
            Stmt::Assign(a) => {
                if a.targets.len() == 1 && !self.ctx.locals.is_empty() {
                    self.record_local(&a.targets[0], &a.value);
                }
                if let (Some(target), Expr::Call(c)) = (a.targets.first(), a.value.as_ref()) {
                    let target_text = &self.ctx.module.source[target.range()];
                    let callee = self.ctx.qualified_name(&c.func);
                    let location = self.ctx.location(a.value.range());
                    for o in self.observers.iter_mut() {
                        o.assign_call(target_text, callee.as_deref(), location.clone());
                    }
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value
                    && !self.ctx.locals.is_empty()
                {
                    self.record_local(&a.target, v);
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::If(i) => {
                if self.ctx.locals.is_empty()
                    && self.scope.class.is_none()
                    && is_main_guard(&i.test)
                {
                    let location = self.ctx.location(i.test.range());
                    for o in self.observers.iter_mut() {
                        o.main_guard(location.clone());
                    }
                }
                self.check_branch(&i.test);
                for clause in &i.elif_else_clauses {
                    if let Some(test) = &clause.test {
                        self.check_branch(test);
                    }
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::AugAssign(a) => {
                self.binop(a.op, &a.target, &a.value, a.range());
                visitor::walk_stmt(self, stmt);
            }
            Stmt::While(w) => {
                self.check_branch(&w.test);
                visitor::walk_stmt(self, stmt);
            }
            Stmt::Try(t) => {
                let guarded = !t.handlers.is_empty();
                if guarded {
                    self.try_depth += 1;
                }
                for s in &t.body {
                    self.visit_stmt(s);
                }
                if guarded {
                    self.try_depth -= 1;
                }
                for h in &t.handlers {
                    self.visit_except_handler(h);
                }
                for s in t.orelse.iter().chain(&t.finalbody) {
                    self.visit_stmt(s);
                }
            }
            _ => visitor::walk_stmt(self, stmt),
        })
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || match expr {
            Expr::Call(c) => {
                self.call(c);
                visitor::walk_expr(self, expr);
            }
            Expr::Attribute(_) => {
                // Loads, stores (`torch.backends.cudnn.benchmark = True`) and deletes all use it.
                if let Some(qualified) = self.ctx.qualified_name(expr) {
                    let site = AttributeSite {
                        qualified,
                        location: self.ctx.location(expr.range()),
                        range: expr.range(),
                    };
                    for o in self.observers.iter_mut() {
                        o.attribute(&site);
                    }
                    // A resolved chain holds only names: nothing below to visit.
                    return;
                }
                visitor::walk_expr(self, expr);
            }
            Expr::If(i) => {
                self.check_branch(&i.test);
                visitor::walk_expr(self, expr);
            }
            Expr::BinOp(b) => {
                self.binop(b.op, &b.left, &b.right, b.range());
                visitor::walk_expr(self, expr);
            }
            Expr::Subscript(sub) => {
                if is_channel_flip(&sub.slice) {
                    let location = self.ctx.location(expr.range());
                    let scope = self.scope.name();
                    for o in self.observers.iter_mut() {
                        o.channel_flip(location.clone(), &scope);
                    }
                }
                visitor::walk_expr(self, expr);
            }
            _ => visitor::walk_expr(self, expr),
        })
    }
}

/// A name, attribute or call such as `mean`, `self.pixel_std`, `IMG_SCALE`: a normalisation
/// value.
fn names_a_statistic(expr: &Expr) -> bool {
    let name = match expr {
        Expr::Name(n) => n.id.as_str(),
        Expr::Attribute(a) => a.attr.as_str(),
        // `mean_for(x)`, `self.compute_std()`
        Expr::Call(c) => return names_a_statistic(&c.func),
        _ => return false,
    };
    let bytes = name.as_bytes();
    ["mean", "std", "scale", "norm", "pixel"].iter().any(|k| {
        bytes
            .windows(k.len())
            .any(|w| w.eq_ignore_ascii_case(k.as_bytes()))
    })
}

/// A subscript whose last index is `::-1` after at least one other index.
fn is_channel_flip(slice: &Expr) -> bool {
    let Expr::Tuple(t) = slice else { return false };
    let Some(Expr::Slice(last)) = t.elts.last() else {
        return false;
    };
    let minus_one = matches!(
        last.step.as_deref(),
        Some(Expr::UnaryOp(u)) if u.op == UnaryOp::USub
            && matches!(u.operand.as_ref(), Expr::NumberLiteral(n) if matches!(&n.value, Number::Int(i) if i.as_i64() == Some(1)))
    );
    t.elts.len() >= 2 && last.lower.is_none() && last.upper.is_none() && minus_one
}

fn is_main_guard(test: &Expr) -> bool {
    let Expr::Compare(c) = test else { return false };
    if c.ops.len() != 1 || c.ops[0] != CmpOp::Eq {
        return false;
    }
    let name_is_dunder = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "__name__");
    let is_main = |e: &Expr| matches!(e, Expr::StringLiteral(s) if s.value.to_str() == "__main__");
    (name_is_dunder(&c.left) && is_main(&c.comparators[0]))
        || (is_main(&c.left) && name_is_dunder(&c.comparators[0]))
}

/// Whether a branch test reads tensor values. Shapes, dtypes, `len()`, `isinstance()` and
/// `is None` checks are static under tracing and do not count; neither do attributes of self.
fn depends_on_tensor(expr: &Expr, tensors: &FxHashSet<String>) -> bool {
    struct Finder<'t> {
        tensors: &'t FxHashSet<String>,
        found: bool,
    }
    impl<'b> Visitor<'b> for Finder<'_> {
        fn visit_expr(&mut self, expr: &'b Expr) {
            if self.found {
                return;
            }
            stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || match expr {
                Expr::Name(n) => {
                    if self.tensors.contains(n.id.as_str()) {
                        self.found = true;
                    }
                }
                Expr::Attribute(a)
                    if matches!(
                        a.attr.as_str(),
                        "shape"
                            | "ndim"
                            | "dtype"
                            | "device"
                            | "is_cuda"
                            | "training"
                            | "requires_grad"
                    ) => {}
                Expr::Call(c) => {
                    let static_call = match c.func.as_ref() {
                        Expr::Name(n) => {
                            matches!(n.id.as_str(), "len" | "isinstance" | "hasattr" | "type")
                        }
                        Expr::Attribute(a) => matches!(a.attr.as_str(), "size" | "dim" | "numel"),
                        _ => false,
                    };
                    if !static_call {
                        visitor::walk_expr(self, expr);
                    }
                }
                Expr::Compare(c)
                    if c.ops
                        .iter()
                        .all(|op| matches!(op, CmpOp::Is | CmpOp::IsNot)) => {}
                _ => visitor::walk_expr(self, expr),
            })
        }
    }
    let mut finder = Finder {
        tensors,
        found: false,
    };
    finder.visit_expr(expr);
    finder.found
}
