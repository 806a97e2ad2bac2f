//! The report as people read it: a terminal table, or one self-contained HTML page.

mod html;
mod http_text;
#[cfg(test)]
mod snapshots;
mod text;

pub use html::html;
pub use http_text::http_text;
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

/// `load 0.8 s, first inference 87.3 ms, mean 121.8 ms, p99 139.2 ms`.
pub(crate) fn timing(t: &crate::report::Timing) -> String {
    format!(
        "load {}, first inference {}, mean {}, p99 {}",
        seconds(Some(t.load_s)),
        seconds(t.first_inference_s),
        seconds(t.mean_inference_s),
        seconds(t.p99_inference_s)
    )
}

/// Where verify's wall time went, in one sentence.
pub(crate) fn wall_time(w: &crate::report::WallTime) -> String {
    format!(
        "{:.2} s: Python start-up {:.2} s, Python inference {:.2} s, Wasm load {:.2} s, Wasm inference {:.2} s, comparison {:.3} s",
        w.total_s,
        w.python_startup_s,
        w.python_inference_s,
        w.wasm_load_s,
        w.wasm_inference_s,
        w.compare_s
    )
}

pub(crate) fn seconds(v: Option<f64>) -> String {
    match v {
        Some(s) if s < 1.0 => format!("{:.1} ms", s * 1e3),
        Some(s) => format!("{s:.2} s"),
        None => "-".into(),
    }
}
