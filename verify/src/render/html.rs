//! One self-contained HTML page (no scripts, no external files): the verdict and stage 1 on
//! top, then per backend a table of inputs and histograms of the error distribution.

use std::fmt::Write;

use html_escape::encode_text as esc;

use crate::compare::{Comparison, HISTOGRAM_DECADES};
use crate::render::{num, timing, wall_time};
use crate::report::{Stage, Verdict, VerifyReport};

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;color:#222}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}table{border-collapse:collapse;width:100%}\
td,th{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#17692f;font-weight:600}\
.bad{color:#b3261e;font-weight:600}.banner{padding:.8em 1em;border-radius:6px;margin:1em 0}\
.banner.ok{background:#e6f4ea}.banner.bad{background:#fce8e6}.note{color:#555}\
figure{display:inline-block;margin:0 2em 1em 0}figcaption{font-size:.9em;color:#555}";

pub fn html(report: &VerifyReport) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>wasm-migrate verify: {}</title><style>{STYLE}</style></head><body>\n",
        esc(&report.service)
    );
    let ok = report.verdict == Verdict::Equivalent;
    let _ = write!(
        out,
        "<h1>wasm-migrate verify</h1><p class=\"note\">{} &rarr; {}</p>",
        esc(&report.service),
        esc(&report.module)
    );
    let _ = write!(
        out,
        "<div class=\"banner {}\">{}</div>",
        if ok { "ok" } else { "bad" },
        esc(&report.summary)
    );
    // Stage 1 first: a preprocessing difference explains everything after it.
    let stage1_failures = report
        .backends
        .iter()
        .flat_map(|b| &b.results)
        .filter(|r| r.stage == Some(Stage::Preprocessing))
        .count();
    let _ = write!(
        out,
        "<h2>Stage 1: the tensor fed to the model</h2><p class=\"{}\">{}</p>",
        if stage1_failures == 0 { "ok" } else { "bad" },
        if stage1_failures == 0 {
            "The preprocessed tensors agree on every input and backend (within one 8-bit level)."
                .to_string()
        } else {
            format!(
                "{stage1_failures} input run(s) differ before the model: fix the preprocessing first; stage 2 differences follow from it."
            )
        }
    );
    for warning in &report.warnings {
        let _ = write!(out, "<p class=\"bad\">Warning: {}</p>", esc(warning));
    }
    let _ = write!(
        out,
        "<p>Python {} &mdash; {}. Stage 2 tolerance: {} (atol {}, rtol {}), rule |a&minus;e| &le; atol + rtol&middot;|e|.</p>",
        esc(&report.original.python),
        esc(&report
            .original
            .versions
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")),
        esc(&report.tolerances.preset),
        num(report.tolerances.outputs.atol),
        num(report.tolerances.outputs.rtol)
    );
    for backend in &report.backends {
        let _ = write!(
            out,
            "<h2>{} {} <span class=\"{}\">{}</span></h2><p class=\"note\">precision {}, weights {}, model {}; {}</p>",
            esc(&backend.backend),
            esc(&backend.version),
            if backend.verdict == Verdict::Equivalent {
                "ok"
            } else {
                "bad"
            },
            if backend.verdict == Verdict::Equivalent {
                "equivalent"
            } else {
                "differ"
            },
            esc(&backend.precision),
            esc(&backend.weights),
            esc(&backend.model.join(", ")),
            timing(&backend.timing),
        );
        out.push_str("<table><tr><th>input</th><th>stage 1 max |&Delta;|</th><th>stage 1 mismatches</th><th>output max |&Delta;|</th><th>p99 |&Delta;|</th><th>mismatches</th><th>cosine</th><th>top-1</th><th>min atol</th><th>verdict</th></tr>");
        for r in &backend.results {
            let (s1, s1m) = r
                .preprocessed
                .as_ref()
                .map_or(("-".into(), "-".into()), |c| {
                    (num(c.max_abs), format!("{}/{}", c.mismatches, c.elements))
                });
            let o = r.outputs.first().map(|o| &o.comparison);
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"n\">{s1}</td><td class=\"n\">{s1m}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"{}\">{}</td></tr>",
                esc(&r.input),
                o.map_or("-".into(), |c| num(c.max_abs)),
                o.map_or("-".into(), |c| num(c.p99_abs)),
                o.map_or("-".into(), |c| format!(
                    "{}/{} ({:.1}%)",
                    c.mismatches,
                    c.elements,
                    c.mismatch_percent()
                )),
                o.map_or("-".into(), |c| format!("{:.6}", c.cosine)),
                r.outputs
                    .first()
                    .and_then(|o| o.top_k.as_ref())
                    .map_or("-", |t| if t.top1_equal { "same" } else { "differs" }),
                o.map_or("-".into(), |c| num(c.min_atol)),
                if r.verdict == Verdict::Equivalent {
                    "ok"
                } else {
                    "bad"
                },
                if r.verdict == Verdict::Equivalent {
                    "equivalent"
                } else {
                    "differ"
                },
            );
            let detail = r.error.as_ref().or(r.explanation.as_ref());
            if let Some(detail) = detail {
                let step = r
                    .blame
                    .as_ref()
                    .and_then(|b| b.step.as_deref())
                    .map(|s| format!(" Likely step: {s}."))
                    .unwrap_or_default();
                let _ = write!(
                    out,
                    "<tr><td></td><td colspan=\"9\" class=\"note\">{}{}</td></tr>",
                    esc(detail),
                    esc(&step)
                );
            }
        }
        out.push_str("</table>");
        let stage1: Vec<&Comparison> = backend
            .results
            .iter()
            .filter_map(|r| r.preprocessed.as_ref())
            .collect();
        let stage2: Vec<&Comparison> = backend
            .results
            .iter()
            .flat_map(|r| r.outputs.iter().map(|o| &o.comparison))
            .collect();
        out.push_str("<div>");
        histogram(&mut out, "stage 1: |Δ| of preprocessed elements", &stage1);
        histogram(&mut out, "stage 2: |Δ| of output elements", &stage2);
        out.push_str("</div>");
    }
    let _ = write!(
        out,
        "<h2>Time</h2><p>Total {}.</p>",
        wall_time(&report.wall_time)
    );
    let _ = writeln!(
        out,
        "<p class=\"note\">{} schema {} &middot; wasm-migrate {}</p></body></html>",
        esc(&report.schema),
        report.schema_version,
        esc(&report.tool_version)
    );
    out
}

/// An SVG bar chart of element counts per decade of absolute error (log-scaled bar heights).
fn histogram(out: &mut String, caption: &str, comparisons: &[&Comparison]) {
    let bins = comparisons.first().map_or(0, |c| c.histogram.len());
    if bins == 0 {
        return;
    }
    let mut counts = vec![0u64; bins];
    for c in comparisons {
        for (total, n) in counts.iter_mut().zip(&c.histogram) {
            *total += n;
        }
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let (bar, gap, height) = (34.0, 4.0, 120.0);
    let width = bins as f64 * (bar + gap);
    let _ = write!(
        out,
        "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{}\" role=\"img\" aria-label=\"{}\">",
        height + 34.0,
        esc(caption)
    );
    for (i, &n) in counts.iter().enumerate() {
        let h = if n == 0 {
            0.0
        } else {
            ((n as f64).ln_1p() / max.ln_1p()) * height
        };
        let x = i as f64 * (bar + gap);
        let label = if i == 0 {
            "0".to_string()
        } else {
            let decade = HISTOGRAM_DECADES.start() + i as i32 - 1;
            format!("1e{decade}")
        };
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"{}\" width=\"{bar}\" height=\"{h}\" fill=\"{}\"><title>{label}: {n}</title></rect><text x=\"{}\" y=\"{}\" font-size=\"9\" text-anchor=\"middle\">{label}</text><text x=\"{}\" y=\"{}\" font-size=\"9\" text-anchor=\"middle\">{n}</text>",
            height - h + 12.0,
            if i == 0 { "#17692f" } else { "#4a6fa5" },
            x + bar / 2.0,
            height + 26.0,
            x + bar / 2.0,
            (height - h + 10.0).max(10.0),
        );
    }
    let _ = write!(
        out,
        "</svg><figcaption>{}</figcaption></figure>",
        esc(caption)
    );
}
