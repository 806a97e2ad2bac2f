//! GitHub-flavoured markdown: for pull-request comments, job summaries and wikis.

use std::fmt::Write as _;

use super::{
    WASM_PATHS, declared_text, elapsed_text, entrypoint_text, findings_by_file, format_endpoint,
    format_model, format_step, full_location, imported_text, input_kind_name, outside_findings,
    outside_text, package_status_text, partial_warning, path_column, serving_findings,
    short_location, summary_line, total_findings,
};
use crate::report::Report;

/// Escapes text for a table cell: markdown punctuation, HTML, `|` (which would end the cell)
/// and newlines (which would end the row).
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' | '`' | '|' | '*' | '_' | '[' | ']' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' => {}
            '\n' => {
                // Collapse a blank line into one break.
                while chars.peek() == Some(&'\n') || chars.peek() == Some(&'\r') {
                    chars.next();
                }
                out.push_str("<br>");
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for running markdown (list items, paragraphs).
fn inline(text: &str) -> String {
    cell(text)
}

/// A code span that shows `text` exactly, whatever backticks it holds; `|` is escaped so that
/// the span can stand in a table cell (GitHub unescapes it inside code spans in tables).
fn code(text: &str, in_table: bool) -> String {
    let text: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    let text = if in_table {
        text.replace('|', "\\|")
    } else {
        text
    };
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || longest_run > 0 {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A link, when it is a web link; escaped text otherwise.
fn link(url: &str, text: &str) -> String {
    if super::is_web_link(url) && !url.contains([' ', '<', '>', '\n']) {
        format!("[{}](<{}>)", cell(text), url.trim())
    } else {
        cell(text)
    }
}

/// Renders the report as GitHub-flavoured markdown.
pub fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    let rec = &report.recommendation;
    let s = &report.summary;

    let _ = writeln!(
        out,
        "# wasm-migrate report: {}\n",
        code(&report.root.display().to_string(), false)
    );
    if let Some(warning) = partial_warning(s) {
        let _ = writeln!(out, "> [!WARNING]\n> {}\n", inline(&warning));
    }
    out.push_str("| | |\n|---|---|\n");
    let _ = writeln!(
        out,
        "| Recommended path | **{}** ({}) |",
        cell(rec.path.label()),
        code(rec.path.as_str(), true)
    );
    if let Some(entry) = entrypoint_text(report) {
        let _ = writeln!(out, "| Entrypoint | {} |", cell(&entry));
    }
    let _ = writeln!(out, "| Readiness | {}/100 |", rec.readiness);
    let _ = writeln!(out, "| Effort | {} points |", rec.effort_total);
    let _ = writeln!(
        out,
        "| Findings | {} ({} mandatory, {} optional, {} potential) |",
        total_findings(s),
        s.findings_mandatory,
        s.findings_optional,
        s.findings_potential
    );
    let _ = writeln!(
        out,
        "| Files | {} seen, {} parsed, {} failed |",
        s.files_seen, s.files_parsed, s.files_failed
    );
    let _ = writeln!(out, "| Python lines | {} |", s.python_lines);
    if let Some(model) = report.pipeline.models.first() {
        let _ = writeln!(out, "| Model | {} |", cell(&format_model(model)));
    }
    let _ = writeln!(out, "| Time | {} |", elapsed_text(s.elapsed_ms));
    let _ = writeln!(
        out,
        "| Tool | wasm-migrate {} |",
        cell(&report.tool_version)
    );
    out.push('\n');

    // Recommendation and paths.
    let _ = writeln!(out, "## Recommendation: {}\n", inline(rec.path.label()));
    if !rec.rationale.trim().is_empty() {
        let _ = writeln!(out, "{}\n", inline(&rec.rationale));
    }
    if !rec.deciding_findings.is_empty() {
        let ids: Vec<String> = rec
            .deciding_findings
            .iter()
            .map(|r| code(r, false))
            .collect();
        let _ = writeln!(out, "Decided by: {}\n", ids.join(", "));
    }
    if !rec.paths.is_empty() {
        out.push_str(
            "| Path | Readiness | Effort | Viable | Blockers |\n|---|---:|---:|---|---|\n",
        );
        for a in &rec.paths {
            let name = format!("{} ({})", cell(a.path.label()), code(a.path.as_str(), true));
            let name = if a.path == rec.path {
                format!("**{name}** (recommended)")
            } else {
                name
            };
            let blockers = if a.blockers.is_empty() {
                "-".to_string()
            } else {
                a.blockers
                    .iter()
                    .map(|b| cell(b))
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let _ = writeln!(
                out,
                "| {name} | {}/100 | {} | {} | {blockers} |",
                a.readiness,
                a.effort,
                if a.viable { "yes" } else { "no" }
            );
        }
        out.push('\n');
    }

    // Findings.
    let serving = serving_findings(report);
    let _ = writeln!(out, "## Findings ({})\n", serving.len());
    if serving.is_empty() {
        out.push_str("No findings.\n\n");
    } else {
        out.push_str("| Location | Category | Rule | Message | Remedy |\n|---|---|---|---|---|\n");
        for (_, list) in findings_by_file(serving) {
            for f in list {
                let mut remedy = cell(&f.remedy);
                for url in &f.links {
                    if !remedy.is_empty() {
                        remedy.push_str("<br>");
                    }
                    remedy.push_str(&link(url, url));
                }
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    code(&full_location(&f.location), true),
                    f.category.as_str(),
                    code(&f.rule, true),
                    cell(&f.message),
                    remedy
                );
            }
        }
        out.push('\n');
    }

    if let Some(text) = outside_text(report) {
        let _ = writeln!(out, "## Not in the serving path\n\n{}\n", cell(&text));
        for f in outside_findings(report) {
            let _ = writeln!(
                out,
                "- {} {} {}: {}",
                code(&full_location(&f.location), true),
                f.category.as_str(),
                code(&f.rule, true),
                cell(&f.message)
            );
        }
        out.push('\n');
    }

    // Pipeline.
    let pipe = &report.pipeline;
    out.push_str("## Pipeline\n\n");
    let empty = pipe.models.is_empty()
        && pipe.preprocessing.is_empty()
        && pipe.postprocessing.is_empty()
        && pipe.serving.is_empty();
    if empty {
        out.push_str("No inference pipeline was detected.\n\n");
    } else {
        if let Some(kind) = pipe.input_kind {
            let _ = writeln!(out, "**Input:** {}\n", input_kind_name(kind));
        }
        let mut list = |title: &str, items: Vec<String>, ordered: bool| {
            if items.is_empty() {
                return;
            }
            let _ = writeln!(out, "**{title}**\n");
            for (i, item) in items.iter().enumerate() {
                if ordered {
                    let _ = writeln!(out, "{}. {item}", i + 1);
                } else {
                    let _ = writeln!(out, "- {item}");
                }
            }
            out.push('\n');
        };
        list(
            "Models",
            pipe.models
                .iter()
                .map(|m| {
                    format!(
                        "{} at {}",
                        code(&format_model(m), false),
                        code(&short_location(&m.location), false)
                    )
                })
                .collect(),
            false,
        );
        let steps = |steps: &[crate::pipeline::Step]| -> Vec<String> {
            steps
                .iter()
                .map(|s| {
                    format!(
                        "{} at {}",
                        code(&format_step(s), false),
                        code(&short_location(&s.location), false)
                    )
                })
                .collect()
        };
        list("Preprocessing", steps(&pipe.preprocessing), true);
        list("Postprocessing", steps(&pipe.postprocessing), true);
        list(
            "Serving",
            pipe.serving
                .iter()
                .map(|e| {
                    format!(
                        "{} at {}",
                        code(&format_endpoint(e), false),
                        code(&short_location(&e.location), false)
                    )
                })
                .collect(),
            false,
        );
        list(
            "Labels",
            pipe.label_files.iter().map(|l| code(l, false)).collect(),
            false,
        );
    }

    // Dependencies.
    let _ = writeln!(out, "## Dependencies ({})\n", report.packages.len());
    if report.summary.manifests == 0 {
        let _ = writeln!(out, "{}\n", super::NO_MANIFEST);
    }
    if report.packages.is_empty() {
        out.push_str("No dependencies were found.\n\n");
    } else {
        out.push_str("| Distribution | Declared | Imported |");
        for path in WASM_PATHS {
            let _ = write!(out, " {} |", path_column(path));
        }
        out.push_str(" Replacement |\n|---|---|---|");
        for _ in WASM_PATHS {
            out.push_str("---|");
        }
        out.push_str("---|\n");
        for pkg in &report.packages {
            let name = match &pkg.link {
                Some(url) => link(url, &pkg.distribution),
                None => cell(&pkg.distribution),
            };
            let _ = write!(
                out,
                "| {name} | {} | {} |",
                cell(&declared_text(pkg)),
                cell(&imported_text(pkg))
            );
            for path in WASM_PATHS {
                let _ = write!(out, " {} |", package_status_text(pkg, path));
            }
            let _ = writeln!(out, " {} |", cell(pkg.replacement.as_deref().unwrap_or("")));
        }
        out.push('\n');
    }

    let _ = writeln!(out, "---\n\n{}", inline(&summary_line(s)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sample_report;

    /// Splits a table row into its cells, honouring `\|`.
    fn cells(row: &str) -> Vec<String> {
        let mut cells = Vec::new();
        let mut current = String::new();
        let mut escaped = false;
        for c in row.trim().trim_start_matches('|').chars() {
            if escaped {
                current.push(c);
                escaped = false;
            } else if c == '\\' {
                current.push(c);
                escaped = true;
            } else if c == '|' {
                cells.push(current.trim().to_string());
                current.clear();
            } else {
                current.push(c);
            }
        }
        cells
    }

    #[test]
    fn escapes_pipes_backticks_and_html_in_cells() {
        let out = render_markdown(&sample_report());
        assert!(!out.contains("<script>"));
        let row = out
            .lines()
            .find(|l| l.contains("process-subprocess") && l.starts_with("| `app.py:12:11`"))
            .expect("finding row");
        let cells = cells(row);
        assert_eq!(cells.len(), 5, "{row}");
        assert_eq!(cells[1], "mandatory");
        assert_eq!(cells[2], "`process-subprocess`");
        assert_eq!(
            cells[3],
            "\\`subprocess.run\\` starts a process: &lt;script&gt;alert(1)&lt;/script&gt; \\| pipes &amp; co"
        );
        assert!(cells[4].starts_with("Run \\`grep \\| sort\\` on the host &amp; pass"));
        assert!(cells[4].contains(
            "[https://docs.example.org/wasi?a=1&amp;b=2](<https://docs.example.org/wasi?a=1&b=2>)"
        ));
        // A javascript: link stays text.
        assert!(!out.contains("](<javascript:"));
    }

    #[test]
    fn every_table_row_has_the_right_number_of_cells() {
        let out = render_markdown(&sample_report());
        let mut expected: Option<usize> = None;
        for line in out.lines() {
            if line.starts_with('|') {
                let n = cells(line).len();
                match expected {
                    None => expected = Some(n),
                    Some(e) => assert_eq!(n, e, "{line}"),
                }
            } else {
                expected = None;
            }
        }
    }

    #[test]
    fn has_summary_pipeline_and_dependencies() {
        let report = sample_report();
        let out = render_markdown(&report);
        assert!(out.starts_with("# wasm-migrate report: `samples/torchvision-flask`\n"));
        assert!(out.contains("| Recommended path | **Rust wasi-nn glue** (`wasi-nn-glue`) |"));
        assert!(out.contains("| Readiness | 80/100 |"));
        assert!(out.contains("> [!WARNING]"));
        assert!(out.contains("1. `torchvision Resize(antialias=True, interpolation=torchvision.transforms.InterpolationMode.BILINEAR, size=256)` at `app.py:20`"));
        assert!(out.contains("2. `torchvision CenterCrop(224)` at `app.py:21`"));
        assert!(out.contains("1. `torch softmax(dim=1)` at `app.py:44`"));
        assert!(out.contains("- `POST /predict -> predict (flask)` at `app.py:40`"));
        assert!(out.contains(
            "| [torch](<https://pytorch.org>) | requirements.txt:1 | yes (2x) | replace | unsupported | unsupported |"
        ));
        assert!(
            out.contains("| weird-pkg | requirements.txt:3 | no | unknown | unknown | unknown |")
        );
        assert!(out.contains("**Rust wasi-nn glue (`wasi-nn-glue`)** (recommended)"));
        assert!(out.trim_end().ends_with(&summary_line(&report.summary)));
    }

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("a", false), "`a`");
        assert_eq!(code("a`b", false), "`` a`b ``");
        assert_eq!(code("a|b", true), "`a\\|b`");
        assert_eq!(cell("a|b\n\nc"), "a\\|b<br>c");
    }
}
