//! What the walk reports to observers: the sites (imports, calls, attributes, definitions,
//! arithmetic) and the `Observer` trait that receives them.

use std::collections::BTreeMap;

use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::{Ranged, TextRange};

use super::resolve::Context;
use crate::python::value::Value;
use crate::report::Location;

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
pub(super) struct Scope {
    pub(super) class: Option<String>,
    pub(super) function: Option<String>,
}

impl Scope {
    pub(super) fn name(&self) -> String {
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

    /// The argument's qualified name, when it is a name or attribute that resolves
    /// (`from .routes import router` makes `router` `catdog.api.routes.router`).
    pub fn arg_qualified(&self, position: Option<usize>, keyword: Option<&str>) -> Option<String> {
        self.ctx.qualified_name(self.find(position, keyword)?)
    }

    /// The argument's value, resolved through constants and imports.
    pub fn arg(&self, position: Option<usize>, keyword: Option<&str>) -> Option<Value> {
        self.find(position, keyword).map(|e| self.ctx.value(e))
    }

    /// The aspect-keeping resize an argument's size tuple computes by hand
    /// (`(new_w, new_h)` set in an `if`/`else`): the constant and the side it sets.
    pub fn aspect_resize(
        &self,
        position: Option<usize>,
        keyword: Option<&str>,
    ) -> Option<(i64, super::AspectSide)> {
        super::idioms::aspect_resize(self.ctx, self.find(position, keyword)?)
    }

    /// The `[width, height]` box a letterbox resize's size tuple fits the image in
    /// (`scale = min(W / iw, H / ih)`, `(int(iw * scale), int(ih * scale))`).
    pub fn fit_resize(&self, position: Option<usize>, keyword: Option<&str>) -> Option<(i64, i64)> {
        super::idioms::fit_resize(self.ctx, self.find(position, keyword)?)
    }

    /// For `canvas.paste(image, box)`: the centered paste into a canvas from `Image.new`.
    pub fn centered_paste(&self) -> Option<super::idioms::CenteredPaste> {
        let Expr::Attribute(a) = self.call.func.as_ref() else {
            return None;
        };
        super::idioms::centered_paste(self.ctx, &a.value, self.find(Some(1), Some("box"))?)
    }

    /// When the argument is one of the enclosing function's parameters passed on unchanged
    /// (`load_model(model_name)` inside `def load(model_name)`): that function's name as
    /// callers call it (the class for `__init__`), whose callers give the value.
    pub fn forwarded_from(&self, position: Option<usize>, keyword: Option<&str>) -> Option<&str> {
        let Expr::Name(n) = self.find(position, keyword)? else {
            return None;
        };
        let frame = self.ctx.functions.last()?;
        frame
            .parameters
            .iter()
            .any(|p| p == n.id.as_str())
            .then_some(frame.callee.as_str())
    }

    /// The keys (`arg0`..., keywords) of the arguments that pass one of the enclosing
    /// function's parameters on unchanged: their value is whatever that function's callers give.
    pub fn forwarded_args(&self) -> Vec<String> {
        let Some(frame) = self.ctx.functions.last() else {
            return Vec::new();
        };
        let is_parameter = |e: &Expr| matches!(e, Expr::Name(n) if frame.parameters.iter().any(|p| p == n.id.as_str()));
        let positional = self.call.arguments.args.iter().enumerate();
        let keywords = self.call.arguments.keywords.iter();
        positional
            .filter(|(_, a)| is_parameter(a))
            .map(|(i, _)| format!("arg{i}"))
            .chain(
                keywords
                    .filter(|k| is_parameter(&k.value))
                    .filter_map(|k| k.arg.as_ref().map(|a| a.to_string())),
            )
            .collect()
    }

    pub fn positional_count(&self) -> usize {
        self.call.arguments.args.len()
    }

    pub fn has_keywords(&self) -> bool {
        !self.call.arguments.keywords.is_empty()
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

    /// The arguments that may be constants (literals, module-level names, attributes of
    /// imports), resolved, and only those that resolve to literals: cheap enough to take for
    /// every call of the service's own functions.
    pub fn literal_args(&self) -> BTreeMap<String, Value> {
        let maybe_constant = |e: &Expr| match e {
            Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::Tuple(_)
            | Expr::List(_)
            | Expr::UnaryOp(_)
            | Expr::Attribute(_) => true,
            Expr::Name(n) => !self.ctx.is_local(n.id.as_str()),
            _ => false,
        };
        let mut out = BTreeMap::new();
        let mut take = |key: String, e: &Expr| {
            if maybe_constant(e) {
                let v = self.ctx.value(e);
                if v.is_literal() {
                    out.insert(key, v);
                }
            }
        };
        for (i, a) in self.call.arguments.args.iter().enumerate() {
            if a.is_starred_expr() {
                break;
            }
            take(format!("arg{i}"), a);
        }
        for k in &self.call.arguments.keywords {
            if let Some(name) = &k.arg {
                take(name.as_str().to_string(), &k.value);
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

    /// For `getattr(torchvision.models, name)(...)`: the qualified object the callee is taken
    /// from (`torchvision.models`).
    pub fn getattr_owner(&self) -> Option<String> {
        let Expr::Call(inner) = self.call.func.as_ref() else {
            return None;
        };
        if self.ctx.qualified_name(&inner.func).as_deref() != Some("getattr") {
            return None;
        }
        self.ctx.qualified_name(inner.arguments.args.first()?)
    }

    /// The source text of positional argument `i`.
    pub fn arg_text(&self, i: usize) -> Option<&'a str> {
        self.call
            .arguments
            .args
            .get(i)
            .map(|a| &self.ctx.module.source[a.range()])
    }

    /// The receiver's value (`weights.transforms()` with `weights = ResNet50_Weights.DEFAULT`
    /// gives the weights symbol).
    pub fn receiver_value(&self) -> Option<Value> {
        match self.call.func.as_ref() {
            Expr::Attribute(a) => Some(self.ctx.value(&a.value)),
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

    /// Line, column, end line and end column, without the file name.
    pub fn span(&self) -> (u32, u32, u32, u32) {
        let (line, column) = self.ctx.module.line_column(self.call.range().start());
        let (end_line, end_column) = self.ctx.module.line_column(self.call.range().end());
        (line, column, end_line, end_column)
    }

    pub fn snippet(&self) -> String {
        self.ctx.module.snippet(self.call.range())
    }

    /// The callee as written (`self.model.cuda`).
    /// The test of the innermost `if` the call is under, inside a function.
    pub fn condition(&self) -> Option<String> {
        self.ctx.condition_text()
    }

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
    /// The object the decorator is an attribute of (`router` in `@router.post`), when it is
    /// a name.
    pub owner: Option<String>,
    /// The path prefix that object was built with in this module:
    /// `APIRouter(prefix="/v1")`, `Blueprint("x", __name__, url_prefix="/api")`.
    pub owner_prefix: Option<String>,
}

/// A class definition.
pub struct ClassSite {
    pub name: String,
    /// Base classes, resolved where possible, else as written.
    pub bases: Vec<String>,
    pub methods: Vec<String>,
    /// Class-level `NAME = value` assignments, resolved (`topk = 10`, `image_processing`).
    pub attributes: BTreeMap<String, Value>,
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
    /// `x[top:top + H, left:left + W]` with centered starts: a center crop by slicing.
    fn center_crop_slice(&mut self, _crop: &super::SliceCrop, _location: Location, _scope: &str) {}
    /// `target = callee(...)`, with the target as written (`transform`, `self.transform`)
    /// and the location of the whole call.
    fn assign_call(&mut self, _target: &str, _callee: Option<&str>, _location: Location) {}
}
