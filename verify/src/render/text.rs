//! The terminal table: one row per input and backend, the blame under it.

use std::fmt::Write;

use crate::render::{num, timing, wall_time};
use crate::report::{Verdict, VerifyReport};

pub fn text(report: &VerifyReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "verify {}", report.service);
    let _ = writeln!(
        out,
        "  original: {} ({})",
        report.original.python,
        report
            .original
            .versions
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "  tolerances: stage 1 one 8-bit level of the tensor's range; stage 2 {} (atol {}, rtol {})",
        report.tolerances.preset,
        num(report.tolerances.outputs.atol),
        num(report.tolerances.outputs.rtol)
    );
    for warning in &report.warnings {
        let _ = writeln!(out, "  warning: {warning}");
    }
    for backend in &report.backends {
        let _ = writeln!(
            out,
            "\n{} {} — precision {}, weights {}: {}",
            backend.backend,
            backend.version,
            backend.precision,
            backend.weights,
            verdict(backend.verdict)
        );
        let _ = writeln!(
            out,
            "  {:<34} {:>22} {:>26} {:>8} {:>6}  verdict",
            "input", "stage 1 max|Δ| (mism.)", "stage 2 max|Δ| (mism.)", "cosine", "top-1"
        );
        for r in &backend.results {
            let stage1 = r.preprocessed.as_ref().map_or("-".to_string(), |c| {
                format!("{} ({}/{})", num(c.max_abs), c.mismatches, c.elements)
            });
            let (stage2, cosine, top1) = match r.outputs.first() {
                Some(o) => (
                    format!(
                        "{} ({}/{})",
                        num(o.comparison.max_abs),
                        o.comparison.mismatches,
                        o.comparison.elements
                    ),
                    format!("{:.6}", o.comparison.cosine),
                    o.top_k
                        .as_ref()
                        .map_or("-", |t| if t.top1_equal { "same" } else { "DIFF" })
                        .to_string(),
                ),
                None => ("-".into(), "-".into(), "-".into()),
            };
            let _ = writeln!(
                out,
                "  {:<34} {:>22} {:>26} {:>8} {:>6}  {}",
                truncate(&r.input, 34),
                stage1,
                stage2,
                cosine,
                top1,
                verdict(r.verdict)
            );
            if let Some(error) = &r.error {
                let _ = writeln!(out, "      error: {error}");
            } else if let Some(explanation) = &r.explanation {
                let step = r
                    .blame
                    .as_ref()
                    .and_then(|b| b.step.as_deref())
                    .map(|s| format!(" [likely step: {s}]"))
                    .unwrap_or_default();
                let _ = writeln!(out, "      {explanation}{step}");
            }
        }
        let _ = writeln!(out, "  time: {}", timing(&backend.timing));
    }
    let _ = writeln!(out, "\npython: {}", timing(&report.original.timing));
    let _ = writeln!(out, "wall: {}", wall_time(&report.wall_time));
    let _ = writeln!(out, "\n{}", report.summary);
    out
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Equivalent => "equivalent",
        Verdict::Differ => "DIFFER",
    }
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let tail: String = s
        .chars()
        .rev()
        .take(width - 1)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}
