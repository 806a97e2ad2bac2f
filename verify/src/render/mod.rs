//! The report as people read it: a terminal table, or one self-contained HTML page.

mod html;
mod text;

pub use html::html;
pub use text::text;

/// `1.2e-05`, `0.031`, `0`: short, and exact where it matters (zero).
pub(crate) fn num(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.is_infinite() {
        "inf".into()
    } else if v.is_nan() {
        "nan".into()
    } else if v.abs() >= 1e-3 && v.abs() < 1e4 {
        format!("{v:.4}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        format!("{v:.2e}")
    }
}

pub(crate) fn seconds(v: Option<f64>) -> String {
    match v {
        Some(s) if s < 1.0 => format!("{:.1} ms", s * 1e3),
        Some(s) => format!("{s:.2} s"),
        None => "-".into(),
    }
}
