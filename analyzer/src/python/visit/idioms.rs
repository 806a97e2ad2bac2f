//! Geometry written by hand with plain arithmetic, recognised from its shape:
//!
//! - an aspect-keeping resize whose size is computed per image in an `if`/`else`
//!   (`if h > w: new_h, new_w = int(h * S / w), S else: new_h, new_w = S, int(w * S / h)`);
//! - a center crop by slicing (`img[top:top + S, left:left + S]` with `top = (h - S) // 2`).
//!
//! Real services write both instead of calling a library. Only the exact shapes below are
//! taken; anything else stays an unresolved expression, which the plan names.

use ruff_python_ast::{self as ast, CmpOp, Expr, Number, Operator, Stmt};
use ruff_text_size::Ranged;

use super::resolve::Context;
use crate::python::value::Value;
pub use wasm_migrate_plan::SliceOffset;

/// Which side of the image an aspect-keeping resize sets to `size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AspectSide {
    Shorter,
    Longer,
}

/// A slicing center crop: `[height, width]` and the offset rule (the same on both axes).
#[derive(Debug, Clone, PartialEq)]
pub struct SliceCrop {
    pub height: i64,
    pub width: i64,
    pub offset: SliceOffset,
}

/// One assignment of a local name: its value (element `index` of it when unpacked from a
/// non-literal tuple, `w, h = size`), and the `if` tests it runs under with whether it is in
/// their body (`true`) or `else` (`false`).
struct Assignment<'a> {
    value: &'a Expr,
    index: Option<usize>,
    branches: Vec<(&'a Expr, bool)>,
}

/// Every assignment of `name` in `body` (nested blocks, not nested functions), tuple
/// unpacking of a tuple of the same length included.
fn assignments<'a>(body: &'a [Stmt], name: &str) -> Vec<Assignment<'a>> {
    let mut out = Vec::new();
    collect(body, name, &mut Vec::new(), &mut out);
    out
}

fn collect<'a>(
    body: &'a [Stmt],
    name: &str,
    branches: &mut Vec<(&'a Expr, bool)>,
    out: &mut Vec<Assignment<'a>>,
) {
    for stmt in body {
        match stmt {
            Stmt::Assign(a) => {
                for target in &a.targets {
                    match (target, a.value.as_ref()) {
                        (Expr::Name(n), value) if n.id.as_str() == name => out.push(Assignment {
                            value,
                            index: None,
                            branches: branches.clone(),
                        }),
                        (Expr::Tuple(t), Expr::Tuple(v)) if t.elts.len() == v.elts.len() => {
                            for (t, v) in t.elts.iter().zip(&v.elts) {
                                if matches!(t, Expr::Name(n) if n.id.as_str() == name) {
                                    out.push(Assignment {
                                        value: v,
                                        index: None,
                                        branches: branches.clone(),
                                    });
                                }
                            }
                        }
                        (Expr::Tuple(t), value) => {
                            if let Some(i) = t
                                .elts
                                .iter()
                                .position(|t| matches!(t, Expr::Name(n) if n.id.as_str() == name))
                            {
                                out.push(Assignment {
                                    value,
                                    index: Some(i),
                                    branches: branches.clone(),
                                });
                            }
                        }
                        _ => {}
                    }
                }
            }
            Stmt::If(i) => {
                branches.push((&i.test, true));
                collect(&i.body, name, branches, out);
                branches.pop();
                for clause in &i.elif_else_clauses {
                    // An `elif` is read as the `else` of the first test; its own test is not
                    // one of the shapes taken, so the resize stays unresolved.
                    branches.push((&i.test, false));
                    collect(&clause.body, name, branches, out);
                    branches.pop();
                }
            }
            Stmt::For(f) => collect(&f.body, name, branches, out),
            Stmt::While(w) => collect(&w.body, name, branches, out),
            Stmt::With(w) => collect(&w.body, name, branches, out),
            Stmt::Try(t) => collect(&t.body, name, branches, out),
            _ => {}
        }
    }
}

/// `int(A * S / B)` or `int(S * A / B)`, with `S` the target: `(A, B)` as written.
fn proportional<'a>(
    ctx: &Context<'_>,
    expr: &'a Expr,
    target: i64,
) -> Option<(&'a Expr, &'a Expr)> {
    let Expr::Call(call) = expr else { return None };
    if !matches!(call.func.as_ref(), Expr::Name(n) if n.id.as_str() == "int")
        || call.arguments.args.len() != 1
        || !call.arguments.keywords.is_empty()
    {
        return None;
    }
    let Expr::BinOp(div) = &call.arguments.args[0] else {
        return None;
    };
    let Expr::BinOp(mul) = div.left.as_ref() else {
        return None;
    };
    if div.op != Operator::Div || mul.op != Operator::Mult {
        return None;
    }
    let is_target = |e: &Expr| ctx.value(e) == Value::Int(target);
    let source = if is_target(&mul.right) {
        &mul.left
    } else if is_target(&mul.left) {
        &mul.right
    } else {
        return None;
    };
    Some((source, &div.right))
}

/// Whether `test` (true when `holds`) says that `a` is greater than `b`: `Some(true)`,
/// smaller: `Some(false)`, neither: `None`.
fn says_greater(ctx: &Context<'_>, test: &Expr, holds: bool, a: &Expr, b: &Expr) -> Option<bool> {
    let Expr::Compare(c) = test else { return None };
    if c.ops.len() != 1 {
        return None;
    }
    let text = |e: &Expr| &ctx.module.source[e.range()];
    let (left, right) = (text(&c.left), text(&c.comparators[0]));
    let greater = match c.ops[0] {
        CmpOp::Gt | CmpOp::GtE => true,
        CmpOp::Lt | CmpOp::LtE => false,
        _ => return None,
    };
    let greater = if (left, right) == (text(a), text(b)) {
        greater
    } else if (left, right) == (text(b), text(a)) {
        !greater
    } else {
        return None;
    };
    Some(greater == holds)
}

/// The aspect-keeping resize behind a size tuple of two locals (`(new_w, new_h)`, in the
/// order the call takes them), written as an `if`/`else` that sets one side to a constant
/// and scales the other: the constant and the side it sets.
pub fn aspect_resize(ctx: &Context<'_>, size: &Expr) -> Option<(i64, AspectSide)> {
    let body = *ctx.bodies.last()?;
    let Expr::Tuple(t) = size else { return None };
    let [Expr::Name(first), Expr::Name(second)] = t.elts.as_slice() else {
        return None;
    };
    let firsts = assignments(body, first.id.as_str());
    let seconds = assignments(body, second.id.as_str());
    if firsts.len() != 2 || seconds.len() != 2 {
        return None;
    }
    let constant = |a: &Assignment<'_>| match ctx.value(a.value) {
        Value::Int(i) if i > 0 => Some(i),
        _ => None,
    };
    let target = firsts.iter().chain(&seconds).find_map(constant)?;
    let mut side = None;
    for assigned in [&firsts, &seconds] {
        let fixed = assigned
            .iter()
            .filter(|a| constant(a) == Some(target))
            .count();
        let scaled: Vec<_> = assigned
            .iter()
            .filter_map(|a| Some((a, proportional(ctx, a.value, target)?)))
            .collect();
        let [(a, (source, other))] = scaled.as_slice() else {
            return None;
        };
        if fixed != 1 {
            return None;
        }
        // The scaled side grows past the target when its source is the larger: then the
        // constant sets the shorter side.
        let &(test, holds) = a.branches.last()?;
        let this = if says_greater(ctx, test, holds, source, other)? {
            AspectSide::Shorter
        } else {
            AspectSide::Longer
        };
        if side.is_some_and(|s| s != this) {
            return None;
        }
        side = Some(this);
    }
    Some((target, side?))
}

/// The crop a subscript takes when it slices the first two axes as
/// `[top:top + H, left:left + W]` (any further index a bare `:`) with centered starts.
pub fn center_crop_slice(ctx: &Context<'_>, slice: &Expr) -> Option<SliceCrop> {
    let Expr::Tuple(t) = slice else { return None };
    let [Expr::Slice(rows), Expr::Slice(columns), rest @ ..] = t.elts.as_slice() else {
        return None;
    };
    let bare = |e: &Expr| matches!(e, Expr::Slice(s) if s.lower.is_none() && s.upper.is_none() && s.step.is_none());
    if !rest.iter().all(bare) {
        return None;
    }
    let (height, row_offset) = centered_span(ctx, rows)?;
    let (width, column_offset) = centered_span(ctx, columns)?;
    (row_offset == column_offset).then_some(SliceCrop {
        height,
        width,
        offset: row_offset,
    })
}

/// `start:start + N` (or `start:end` with `end = start + N`), `start` centered: `N` and how.
fn centered_span(ctx: &Context<'_>, s: &ast::ExprSlice) -> Option<(i64, SliceOffset)> {
    if s.step.is_some() {
        return None;
    }
    let (lower, upper) = (s.lower.as_deref()?, s.upper.as_deref()?);
    let upper = match upper {
        Expr::Name(n) => ctx.lookup(n.id.as_str())?,
        other => other,
    };
    let Expr::BinOp(add) = upper else { return None };
    if add.op != Operator::Add {
        return None;
    }
    let text = |e: &Expr| &ctx.module.source[e.range()];
    let length = if text(&add.left) == text(lower) {
        &add.right
    } else if text(&add.right) == text(lower) {
        &add.left
    } else {
        return None;
    };
    let Value::Int(length) = ctx.value(length) else {
        return None;
    };
    let start = match lower {
        Expr::Name(n) => ctx.lookup(n.id.as_str())?,
        other => other,
    };
    Some((length, centered_offset(ctx, unwrap_clamp(start), length)?))
}

/// `max(0, e)` -> `e`: the clamp changes nothing once the image is at least the crop.
fn unwrap_clamp(e: &Expr) -> &Expr {
    if let Expr::Call(c) = e
        && matches!(c.func.as_ref(), Expr::Name(n) if n.id.as_str() == "max")
        && c.arguments.args.len() == 2
        && c.arguments.keywords.is_empty()
        && is_int(&c.arguments.args[0], 0)
    {
        return &c.arguments.args[1];
    }
    e
}

fn is_int(e: &Expr, value: i64) -> bool {
    matches!(e, Expr::NumberLiteral(n) if matches!(&n.value, Number::Int(i) if i.as_i64() == Some(value)))
}

/// `x // 2` or `x / 2` (by `op`) -> `x`.
fn halved(e: &Expr, op: Operator) -> Option<&Expr> {
    match e {
        Expr::BinOp(b) if b.op == op && is_int(&b.right, 2) => Some(&b.left),
        _ => None,
    }
}

/// Which centering `e` computes for a crop of `length`.
fn centered_offset(ctx: &Context<'_>, e: &Expr, length: i64) -> Option<SliceOffset> {
    let is_length = |e: &Expr| ctx.value(e) == Value::Int(length);
    // `size - crop`
    let difference =
        |e: &Expr| matches!(e, Expr::BinOp(b) if b.op == Operator::Sub && is_length(&b.right));
    match e {
        // size // 2 - crop // 2
        Expr::BinOp(b)
            if b.op == Operator::Sub
                && halved(&b.left, Operator::FloorDiv).is_some()
                && halved(&b.right, Operator::FloorDiv).is_some_and(is_length) =>
        {
            Some(SliceOffset::HalfMinusHalf)
        }
        // (size - crop) // 2
        _ if halved(e, Operator::FloorDiv).is_some_and(difference) => {
            Some(SliceOffset::FloorHalfDifference)
        }
        // int((size - crop) / 2), round((size - crop) / 2)
        Expr::Call(c) if c.arguments.args.len() == 1 && c.arguments.keywords.is_empty() => {
            let Expr::Name(f) = c.func.as_ref() else {
                return None;
            };
            if !halved(&c.arguments.args[0], Operator::Div).is_some_and(difference) {
                return None;
            }
            match f.id.as_str() {
                "int" => Some(SliceOffset::FloorHalfDifference),
                "round" => Some(SliceOffset::RoundHalfDifference),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The one expression `name` is assigned in the current function, when it is assigned once
/// and not by unpacking.
fn single_assignment<'a>(ctx: &Context<'a>, name: &str) -> Option<&'a Expr> {
    let body = *ctx.bodies.last()?;
    match assignments(body, name).as_slice() {
        [a] if a.index.is_none() => Some(a.value),
        _ => None,
    }
}

/// The value of a name of the current function: assigned once (unpacking included, `w, h =
/// size` with `size` a parameter every caller passes the same tuple for), else as the
/// module and the callers give it.
fn local_value(ctx: &Context<'_>, e: &Expr) -> Value {
    let Expr::Name(n) = e else {
        return ctx.value(e);
    };
    let Some(body) = ctx.bodies.last() else {
        return ctx.value(e);
    };
    match assignments(body, n.id.as_str()).as_slice() {
        [] => ctx.value(e),
        [a] => match (a.index, ctx.value(a.value)) {
            (None, v) => v,
            (Some(i), Value::List(items)) => items.get(i).cloned().unwrap_or(Value::None),
            (Some(_), _) => Value::None,
        },
        _ => Value::None,
    }
}

fn positive_int(v: Value) -> Option<i64> {
    match v {
        Value::Int(i) if i > 0 => Some(i),
        _ => None,
    }
}

/// `int(X * scale)` or `int(scale * X)` with `scale` named: `(X, scale)`.
fn scaled_by_name(e: &Expr) -> Option<(&Expr, &str)> {
    let Expr::Call(call) = e else { return None };
    if !matches!(call.func.as_ref(), Expr::Name(n) if n.id.as_str() == "int")
        || call.arguments.args.len() != 1
    {
        return None;
    }
    let Expr::BinOp(mul) = &call.arguments.args[0] else {
        return None;
    };
    if mul.op != Operator::Mult {
        return None;
    }
    match (mul.left.as_ref(), mul.right.as_ref()) {
        (x, Expr::Name(s)) | (Expr::Name(s), x) => Some((x, s.id.as_str())),
        _ => None,
    }
}

/// The box a letterbox resize fits the image in, `[width, height]`, behind a size tuple of
/// two locals (`(nw, nh)`, width first) computed as `int(iw * scale)`, `int(ih * scale)`
/// with `scale = min(W / iw, H / ih)`.
pub fn fit_resize(ctx: &Context<'_>, size: &Expr) -> Option<(i64, i64)> {
    let Expr::Tuple(t) = size else { return None };
    let [Expr::Name(first), Expr::Name(second)] = t.elts.as_slice() else {
        return None;
    };
    let (iw, scale) = scaled_by_name(single_assignment(ctx, first.id.as_str())?)?;
    let (ih, scale_h) = scaled_by_name(single_assignment(ctx, second.id.as_str())?)?;
    if scale != scale_h {
        return None;
    }
    let Expr::Call(min) = single_assignment(ctx, scale)? else {
        return None;
    };
    let [Expr::BinOp(a), Expr::BinOp(b)] = min.arguments.args.as_ref() else {
        return None;
    };
    if !matches!(min.func.as_ref(), Expr::Name(n) if n.id.as_str() == "min")
        || a.op != Operator::Div
        || b.op != Operator::Div
    {
        return None;
    }
    let text = |e: &Expr| &ctx.module.source[e.range()];
    let (over_width, over_height) = if (text(&a.right), text(&b.right)) == (text(iw), text(ih)) {
        (a, b)
    } else if (text(&b.right), text(&a.right)) == (text(iw), text(ih)) {
        (b, a)
    } else {
        return None;
    };
    Some((
        positive_int(local_value(ctx, &over_width.left))?,
        positive_int(local_value(ctx, &over_height.left))?,
    ))
}

/// A paste into a new canvas at the centre: `canvas = Image.new(mode, size, fill)` then
/// `canvas.paste(image, ((W - w) // 2, (H - h) // 2))`.
pub struct CenteredPaste {
    pub mode: Value,
    pub canvas: Value,
    pub fill: Value,
}

/// The centered paste a `receiver.paste(image, box)` call makes, when `receiver` is a canvas
/// the function made with `PIL.Image.new`.
pub fn centered_paste(ctx: &Context<'_>, receiver: &Expr, at: &Expr) -> Option<CenteredPaste> {
    let Expr::Name(canvas) = receiver else {
        return None;
    };
    let Expr::Call(new) = single_assignment(ctx, canvas.id.as_str())? else {
        return None;
    };
    if ctx.qualified_name(&new.func).as_deref() != Some("PIL.Image.new") {
        return None;
    }
    let Expr::Tuple(offsets) = at else {
        return None;
    };
    let centered = |e: &Expr| {
        halved(e, Operator::FloorDiv)
            .is_some_and(|d| matches!(d, Expr::BinOp(b) if b.op == Operator::Sub))
    };
    if offsets.elts.len() != 2 || !offsets.elts.iter().all(centered) {
        return None;
    }
    let arg = |i: usize, keyword: &str| {
        new.arguments
            .find_argument_value(keyword, i)
            .map(|e| local_value(ctx, e))
    };
    Some(CenteredPaste {
        mode: arg(0, "mode")?,
        canvas: arg(1, "size")?,
        // PIL fills with black when no colour is given.
        fill: arg(2, "color").unwrap_or(Value::Int(0)),
    })
}
