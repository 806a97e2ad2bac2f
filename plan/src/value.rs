//! Literal values resolved from Python expressions (following module-level constants), as the
//! plan carries them in step parameters.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A Python value as far as static analysis can tell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    /// A name that resolves through imports to a qualified symbol
    /// (`torchvision.transforms.InterpolationMode.BILINEAR`, `cv2.INTER_LINEAR`).
    Symbol {
        symbol: String,
    },
    /// Anything else, as written in the source.
    Expr {
        expr: String,
    },
}

impl Value {
    /// Literal: a constant, a list of constants, or an enum-like symbol.
    pub fn is_literal(&self) -> bool {
        match self {
            Value::Expr { .. } => false,
            Value::List(items) => items.iter().all(Value::is_literal),
            _ => true,
        }
    }

    /// The text rule regexes match against: strings as their value, other literals as
    /// Python writes them.
    pub fn match_text(&self) -> Option<String> {
        match self {
            Value::Str(s) => Some(s.clone()),
            Value::Expr { .. } => None,
            other => Some(other.to_string()),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_symbol(&self) -> Option<&str> {
        match self {
            Value::Symbol { symbol } => Some(symbol),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => f.write_str("None"),
            Value::Bool(true) => f.write_str("True"),
            Value::Bool(false) => f.write_str("False"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => {
                if x.fract() == 0.0 && x.abs() < 1e15 {
                    write!(f, "{x:.1}")
                } else {
                    write!(f, "{x}")
                }
            }
            Value::Str(s) => write!(f, "{s:?}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Symbol { symbol } => f.write_str(symbol),
            Value::Expr { expr } => f.write_str(expr),
        }
    }
}
