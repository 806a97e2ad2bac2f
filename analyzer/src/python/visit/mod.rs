//! One pass over a parsed module that resolves names through imports and module constants and
//! reports the sites the analyzer cares about (imports, calls, attribute uses, definitions) to
//! observers. Rules and pipeline detection are observers; neither sees ruff's AST.
//!
//! - `sites`: what observers receive, and the `Observer` trait;
//! - `resolve`: name and value resolution (`Context`);
//! - this file: the walk itself.

mod exports;
mod idioms;
mod resolve;
mod sites;

pub use exports::{ModuleExports, module_exports};
pub use idioms::{AspectSide, SliceCrop};
pub use resolve::{Context, ImportedValues};
pub use sites::{
    AttributeSite, BinOpSite, CallSite, ClassSite, Decorator, FunctionSite, ImportSite, Observer,
};

use ruff_python_ast::visitor::{self, Visitor};
use std::collections::BTreeMap;

use ruff_python_ast::{self as ast, CmpOp, Expr, Number, Operator, Stmt, UnaryOp};
use ruff_text_size::{Ranged, TextRange};
use rustc_hash::{FxHashMap, FxHashSet};

use super::parse::ParsedModule;
use super::value::Value;
use sites::Scope;

/// Red zone and growth for deeply nested code: a 10,000-deep expression must not overflow.
const STACK_RED_ZONE: usize = 256 * 1024;
const STACK_GROWTH: usize = 8 * 1024 * 1024;

/// Walks `module` once, calling `observers` in source order.
pub fn visit_module(module: &ParsedModule<'_>, file: &str, observers: &mut [&mut dyn Observer]) {
    visit_module_in(module, file, None, observers);
}

/// Walks `module` once as part of a service whose other modules' values `imported` knows.
pub fn visit_module_in<'a>(
    module: &'a ParsedModule<'a>,
    file: &'a str,
    imported: Option<&'a dyn ImportedValues>,
    observers: &mut [&mut dyn Observer],
) {
    let body = &module.parsed.syntax().body;
    let mut ctx = Context::new(module, file, imported);
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
                collect_class_attrs(ctx, c);
            }
            // `try: MODEL_NAME = "..."; model = load(MODEL_NAME)` runs straight through when
            // the service starts; the handlers' assignments are fallbacks and stay out.
            Stmt::Try(t) => collect_module_bindings(ctx, &t.body),
            Stmt::With(w) => collect_module_bindings(ctx, &w.body),
            _ => {}
        }
    }
}

/// `Class.attr` values: assignments in the class body, and `self.attr = value` in its
/// methods (a parameter's default when the value is a parameter). An attribute assigned
/// twice has no single value and is left out.
/// `router` in `router.post`.
fn decorator_owner(callee: &Expr) -> Option<&str> {
    match callee {
        Expr::Attribute(a) => match a.value.as_ref() {
            Expr::Name(n) => Some(n.id.as_str()),
            _ => None,
        },
        _ => None,
    }
}

fn collect_class_attrs<'a>(ctx: &mut Context<'a>, class: &'a ast::StmtClassDef) {
    let bases: &'a [Expr] = class.arguments.as_ref().map_or(&[], |a| &a.args);
    ctx.class_bases.insert(class.name.as_str(), bases);
    let mut seen: FxHashMap<String, Option<&'a Expr>> = FxHashMap::default();
    let mut record = |name: String, value: &'a Expr| {
        seen.entry(name)
            .and_modify(|v| *v = None)
            .or_insert(Some(value));
    };
    for stmt in &class.body {
        match stmt {
            Stmt::Assign(a) if a.targets.len() == 1 => {
                if let Expr::Name(n) = &a.targets[0] {
                    record(format!("{}.{}", class.name, n.id), &a.value);
                }
            }
            Stmt::AnnAssign(a) => {
                if let (Expr::Name(n), Some(v)) = (a.target.as_ref(), &a.value) {
                    record(format!("{}.{}", class.name, n.id), v);
                }
            }
            Stmt::FunctionDef(f) => {
                let defaults: FxHashMap<&str, Option<&'a Expr>> = f
                    .parameters
                    .iter_non_variadic_params()
                    .map(|p| (p.parameter.name.as_str(), p.default.as_deref()))
                    .collect();
                for (attr, value) in self_assignments(&f.body) {
                    let value = match value {
                        Expr::Name(n) => match defaults.get(n.id.as_str()) {
                            Some(Some(default)) => default,
                            Some(None) => continue,
                            None => value,
                        },
                        _ => value,
                    };
                    record(format!("{}.{attr}", class.name), value);
                }
            }
            _ => {}
        }
    }
    for (name, value) in seen {
        if let Some(value) = value {
            ctx.class_attrs.insert(name, value);
        }
    }
}

/// `self.attr = value` statements of a method body, nested blocks included.
fn self_assignments(body: &[Stmt]) -> Vec<(&str, &Expr)> {
    struct Finder<'a>(Vec<(&'a str, &'a Expr)>);
    impl<'a> Visitor<'a> for Finder<'a> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::Assign(a) if a.targets.len() == 1 => {
                    if let Expr::Attribute(t) = &a.targets[0]
                        && matches!(t.value.as_ref(), Expr::Name(n) if n.id.as_str() == "self")
                    {
                        self.0.push((t.attr.as_str(), &a.value));
                    }
                }
                Stmt::AnnAssign(a) => {
                    if let (Expr::Attribute(t), Some(v)) = (a.target.as_ref(), &a.value)
                        && matches!(t.value.as_ref(), Expr::Name(n) if n.id.as_str() == "self")
                    {
                        self.0.push((t.attr.as_str(), v));
                    }
                }
                // Nested functions and classes have a `self` of their own.
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
                _ => visitor::walk_stmt(self, stmt),
            }
        }
    }
    let mut finder = Finder(Vec::new());
    for stmt in body {
        finder.visit_stmt(stmt);
    }
    finder.0
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
        let sites = self.ctx.bind_import(stmt);
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

    /// The `prefix=`/`url_prefix=` a module-level router or blueprint was built with.
    fn constructor_prefix(&self, owner: &str) -> Option<String> {
        let Expr::Call(call) = self.ctx.constants.get(owner)? else {
            return None;
        };
        let keyword = call.arguments.keywords.iter().find(|k| {
            k.arg
                .as_ref()
                .is_some_and(|a| matches!(a.as_str(), "prefix" | "url_prefix"))
        })?;
        self.ctx.value(&keyword.value).as_str().map(str::to_string)
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
                    owner: decorator_owner(callee).map(str::to_string),
                    owner_prefix: decorator_owner(callee)
                        .and_then(|owner| self.constructor_prefix(owner)),
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
        let method = self.scope.class.is_some()
            && !f
                .decorator_list
                .iter()
                .any(|d| matches!(&d.expression, Expr::Name(n) if n.id.as_str() == "staticmethod"));
        self.ctx.functions.push(resolve::FunctionFrame {
            callee: match (&self.scope.class, f.name.as_str()) {
                (Some(class), "__init__") => class.clone(),
                _ => f.name.to_string(),
            },
            parameters: f
                .parameters
                .iter_non_variadic_params()
                .map(|p| p.parameter.name.to_string())
                .collect(),
            method,
        });
        // Parameters shadow module constants and builtins of the same name. One with a
        // default takes it: the value a caller that passes nothing gets.
        if let Some(locals) = self.ctx.locals.last_mut() {
            for p in f.parameters.iter() {
                locals.insert(p.name().as_str(), None);
            }
            for p in f.parameters.iter_non_variadic_params() {
                if let Some(default) = &p.default {
                    locals.insert(p.parameter.name.as_str(), Some(default));
                }
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
        self.ctx.bodies.push(&f.body);
        let saved_dimensions = std::mem::take(&mut self.ctx.dimensions);
        for stmt in &f.body {
            self.visit_stmt(stmt);
        }
        self.ctx.dimensions = saved_dimensions;
        self.ctx.bodies.pop();
        self.ctx.locals.pop();
        self.ctx.functions.pop();
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
        let saved_class = self.ctx.class.replace(c.name.to_string());
        let attributes = c
            .body
            .iter()
            .filter_map(|s| match s {
                Stmt::Assign(a) if a.targets.len() == 1 => match &a.targets[0] {
                    Expr::Name(n) => Some((n.id.to_string(), self.ctx.value(&a.value))),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        self.ctx.class = saved_class;
        let site = ClassSite {
            name: c.name.to_string(),
            bases,
            methods,
            attributes,
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
        let saved_class = self.ctx.class.replace(c.name.to_string());
        for stmt in &c.body {
            self.visit_stmt(stmt);
        }
        self.ctx.class = saved_class;
        self.scope = saved;
    }

    fn record_local(&mut self, target: &'a Expr, value: &'a Expr) {
        // `shape = im.shape[:2]`, then `r = min(640 / shape[0], ...)`, `dw = (640 - nw) / 2`:
        // sizes computed from an image's size are geometry too.
        if is_size_of_image(value) || self.is_geometry(value) == Some(true) {
            match target {
                Expr::Name(n) => self.ctx.dimensions.push(n.id.as_str()),
                Expr::Tuple(t) => self.ctx.dimensions.extend(
                    t.elts
                        .iter()
                        .filter_map(|e| e.as_name_expr().map(|n| n.id.as_str())),
                ),
                _ => {}
            }
        }
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

    /// Walks an `if`, each branch under its condition: steps done only sometimes say when.
    /// The condition is kept as the statement and branch; its text is made only for a step.
    fn conditional(&mut self, i: &'a ast::StmtIf) {
        self.visit_expr(&i.test);
        // Module-level branches choose a configuration, not a step of a request.
        let inside_function = !self.ctx.locals.is_empty();
        self.walk_branch(inside_function.then_some((i, 0)), &i.body);
        for (k, clause) in i.elif_else_clauses.iter().enumerate() {
            if let Some(test) = &clause.test {
                self.visit_expr(test);
            }
            self.walk_branch(inside_function.then_some((i, k + 1)), &clause.body);
        }
    }

    fn walk_branch(&mut self, condition: Option<(&'a ast::StmtIf, usize)>, body: &'a [Stmt]) {
        let pushed = condition.is_some();
        if let Some(c) = condition {
            self.ctx.conditions.push(c);
        }
        for stmt in body {
            self.visit_stmt(stmt);
        }
        if pushed {
            self.ctx.conditions.pop();
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

    /// Whether `expr` is scalar arithmetic (numbers, names, `int`/`round`/`min`/`max`,
    /// indexing) that mentions an image's size: `Some(true)`; arithmetic that does not:
    /// `Some(false)`; anything else (a call, an array): `None`.
    fn is_geometry(&self, expr: &Expr) -> Option<bool> {
        if self.ctx.dimensions.is_empty() {
            return None;
        }
        match expr {
            Expr::NumberLiteral(_) => Some(false),
            Expr::Name(n) => Some(self.ctx.dimensions.contains(&n.id.as_str())),
            Expr::BinOp(b) => Some(self.is_geometry(&b.left)? | self.is_geometry(&b.right)?),
            Expr::UnaryOp(u) => self.is_geometry(&u.operand),
            Expr::Subscript(s) => self.is_geometry(&s.value),
            Expr::Tuple(t) => t
                .elts
                .iter()
                .try_fold(false, |any, e| Some(any | self.is_geometry(e)?)),
            Expr::Call(c)
                if c.arguments.keywords.is_empty()
                    && matches!(c.func.as_ref(), Expr::Name(f) if matches!(f.id.as_str(), "int" | "round" | "min" | "max" | "float" | "abs")) =>
            {
                c.arguments
                    .args
                    .iter()
                    .try_fold(false, |any, e| Some(any | self.is_geometry(e)?))
            }
            other => is_size_of_image(other).then_some(true),
        }
    }

    /// An image's size: `x.shape[0]`, `img.width`, or a name bound to one.
    fn is_dimension(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Name(n) => self.ctx.dimensions.contains(&n.id.as_str()),
            Expr::BinOp(b) => self.is_dimension(&b.left) || self.is_dimension(&b.right),
            Expr::Subscript(s) if matches!(s.value.as_ref(), Expr::Name(_)) => {
                self.is_dimension(&s.value)
            }
            other => is_size_of_image(other),
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
        // `(h - SIZE) // 2`, `w * SIZE / h`: geometry from the image's size.
        if self.is_dimension(left_expr) || self.is_dimension(right_expr) {
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
                self.conditional(i);
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
                } else if !self.ctx.bodies.is_empty()
                    && let Some(crop) = idioms::center_crop_slice(&self.ctx, &sub.slice)
                {
                    let location = self.ctx.location(expr.range());
                    let scope = self.scope.name();
                    for o in self.observers.iter_mut() {
                        o.center_crop_slice(&crop, location.clone(), &scope);
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

/// `x.shape`, `x.shape[:2]`, `x.shape[0]`, `img.size`, `img.width`, `img.height`.
fn is_size_of_image(expr: &Expr) -> bool {
    let attribute = match expr {
        Expr::Subscript(s) => s.value.as_ref(),
        other => other,
    };
    matches!(attribute, Expr::Attribute(a) if matches!(a.attr.as_str(), "shape" | "size" | "width" | "height"))
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
