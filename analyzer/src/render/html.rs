//! The HTML report: one self-contained page (inline CSS, inline SVG, nothing fetched from the
//! network), or a compact fragment for a notebook cell. Every piece of text that comes from the
//! analysed service or the rules is escaped.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::{
    WASM_PATHS, declared_text, elapsed_text, entrypoint_text, findings_by_file, fnv1a64,
    format_endpoint, format_model, format_params, format_step, full_location, implementation_name,
    imported_text, input_kind_name, is_web_link, library_name, outside_findings, outside_text,
    package_status_text, partial_warning, path_column, serving_findings, short_location,
    summary_line, total_findings, truncate_chars,
};
use crate::pipeline::{ModelLoad, Pipeline, Step};
use crate::report::{Finding, PathAssessment, Report};

/// Findings shown in a compact (notebook) fragment.
const COMPACT_FINDINGS: usize = 50;

/// Escapes text for element content and quoted attributes (`&`, `<`, `>`, `"`, `'`).
fn esc(text: &str) -> Cow<'_, str> {
    html_escape::encode_quoted_attribute(text)
}

/// Escapes text and turns `` `code` `` spans into `<code>` elements.
fn esc_inline(text: &str) -> String {
    let escaped = esc(text);
    if escaped.matches('`').count() < 2 {
        return escaped.into_owned();
    }
    let parts: Vec<&str> = escaped.split('`').collect();
    let mut out = String::with_capacity(escaped.len() + 16);
    let closed = parts.len() % 2 == 1;
    for (i, part) in parts.iter().enumerate() {
        let last = i == parts.len() - 1;
        if i % 2 == 1 && (closed || !last) {
            out.push_str("<code>");
            out.push_str(part);
            out.push_str("</code>");
        } else {
            if i % 2 == 1 {
                out.push('`');
            }
            out.push_str(part);
        }
    }
    out
}

/// A link: an `<a>` for web links, plain text for anything else (`javascript:` never becomes
/// an `href`).
fn link(url: &str, text: &str) -> String {
    if is_web_link(url) {
        format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">{}</a>",
            esc(url.trim()),
            esc(text)
        )
    } else {
        esc(text).into_owned()
    }
}

const LIGHT_VARS: &str = "--wmr-bg:#ffffff;--wmr-fg:#1f2328;--wmr-muted:#59636e;--wmr-border:#d1d9e0;\
--wmr-panel:#f6f8fa;--wmr-accent:#0969da;--wmr-good:#1a7f37;--wmr-warn:#9a6700;--wmr-bad:#cf222e;\
--wmr-note:#0969da;--wmr-mark:#fff8c5;--wmr-io:#eaeef2;--wmr-pre:#ddf4ff;--wmr-model:#fbefff;\
--wmr-post:#dafbe1;--wmr-serve:#fff8c5;";

const DARK_VARS: &str = "--wmr-bg:#0d1117;--wmr-fg:#e6edf3;--wmr-muted:#9198a1;--wmr-border:#3d444d;\
--wmr-panel:#151b23;--wmr-accent:#4493f8;--wmr-good:#3fb950;--wmr-warn:#d29922;--wmr-bad:#f85149;\
--wmr-note:#4493f8;--wmr-mark:#4d3800;--wmr-io:#212830;--wmr-pre:#0c2d4b;--wmr-model:#2e1a3d;\
--wmr-post:#0f2e1b;--wmr-serve:#332600;";

const RULES: &str = r#"
.wasm-migrate-report{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:14px;line-height:1.5;color:var(--wmr-fg);background:var(--wmr-bg);padding:16px 24px;max-width:1120px;margin:0 auto;box-sizing:border-box;text-align:left}
.wasm-migrate-report *{box-sizing:border-box}
.wasm-migrate-report.wmr-compact{font-size:13px;padding:10px 14px;max-width:none;margin:0;border:1px solid var(--wmr-border);border-radius:8px}
.wasm-migrate-report h1{font-size:22px;margin:0 0 4px}
.wasm-migrate-report.wmr-compact h1{font-size:17px}
.wasm-migrate-report h2{font-size:17px;margin:24px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--wmr-border)}
.wasm-migrate-report.wmr-compact h2{font-size:15px;margin:16px 0 6px}
.wasm-migrate-report h3{font-size:14px;margin:16px 0 6px}
.wasm-migrate-report a{color:var(--wmr-accent);word-break:break-all}
.wasm-migrate-report code,.wasm-migrate-report pre{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,monospace;font-size:12.5px}
.wasm-migrate-report code{background:var(--wmr-panel);padding:0 4px;border-radius:4px}
.wasm-migrate-report .wmr-muted{color:var(--wmr-muted)}
.wasm-migrate-report .wmr-sub{color:var(--wmr-muted);margin:0 0 12px}
.wasm-migrate-report .wmr-cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:10px;margin:12px 0}
.wasm-migrate-report .wmr-card{border:1px solid var(--wmr-border);border-radius:8px;padding:10px 14px;background:var(--wmr-panel)}
.wasm-migrate-report .wmr-label{font-size:11px;color:var(--wmr-muted);text-transform:uppercase;letter-spacing:.05em}
.wasm-migrate-report .wmr-value{font-size:19px;font-weight:600;line-height:1.3}
.wasm-migrate-report .wmr-detail{font-size:12px;color:var(--wmr-muted)}
.wasm-migrate-report .wmr-bar{height:6px;background:var(--wmr-border);border-radius:3px;overflow:hidden;margin-top:4px;min-width:60px}
.wasm-migrate-report .wmr-bar>span{display:block;height:100%}
.wasm-migrate-report .wmr-fill-good{background:var(--wmr-good)}
.wasm-migrate-report .wmr-fill-warn{background:var(--wmr-warn)}
.wasm-migrate-report .wmr-fill-bad{background:var(--wmr-bad)}
.wasm-migrate-report .wmr-warning{border:1px solid var(--wmr-warn);color:var(--wmr-warn);border-radius:6px;padding:6px 12px;margin:10px 0}
.wasm-migrate-report .wmr-badge{display:inline-block;padding:0 8px;border-radius:10px;font-size:11.5px;font-weight:600;border:1px solid currentColor;white-space:nowrap}
.wasm-migrate-report .wmr-mandatory{color:var(--wmr-bad)}
.wasm-migrate-report .wmr-optional{color:var(--wmr-warn)}
.wasm-migrate-report .wmr-potential{color:var(--wmr-note)}
.wasm-migrate-report .wmr-finding{border:1px solid var(--wmr-border);border-left:4px solid var(--wmr-muted);border-radius:6px;padding:8px 12px;margin:8px 0}
.wasm-migrate-report .wmr-cat-mandatory{border-left-color:var(--wmr-bad)}
.wasm-migrate-report .wmr-cat-optional{border-left-color:var(--wmr-warn)}
.wasm-migrate-report .wmr-cat-potential{border-left-color:var(--wmr-note)}
.wasm-migrate-report .wmr-fhead{display:flex;flex-wrap:wrap;gap:8px;align-items:baseline}
.wasm-migrate-report .wmr-loc{color:var(--wmr-muted);font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.wasm-migrate-report .wmr-msg{margin:4px 0}
.wasm-migrate-report .wmr-remedy{margin:4px 0}
.wasm-migrate-report .wmr-meta{margin:4px 0;font-size:12px;color:var(--wmr-muted)}
.wasm-migrate-report pre.wmr-snippet{background:var(--wmr-panel);border-radius:6px;padding:8px 10px;margin:6px 0;overflow-x:auto;line-height:1.45}
.wasm-migrate-report .wmr-ln{color:var(--wmr-muted);display:inline-block;min-width:4ch;padding-right:1ch;text-align:right;user-select:none}
.wasm-migrate-report mark{background:var(--wmr-mark);color:inherit;border-radius:2px}
.wasm-migrate-report table.wmr-table{border-collapse:collapse;width:100%;margin:8px 0;font-size:13px}
.wasm-migrate-report .wmr-table th,.wasm-migrate-report .wmr-table td{border-bottom:1px solid var(--wmr-border);padding:4px 8px;text-align:left;vertical-align:top}
.wasm-migrate-report .wmr-table th{font-weight:600;background:var(--wmr-panel)}
.wasm-migrate-report .wmr-table tr.wmr-recommended td{background:var(--wmr-panel);font-weight:600}
.wasm-migrate-report .wmr-table ul{margin:0;padding-left:18px}
.wasm-migrate-report .wmr-st-supported{color:var(--wmr-good)}
.wasm-migrate-report .wmr-st-replace,.wasm-migrate-report .wmr-st-drop{color:var(--wmr-warn)}
.wasm-migrate-report .wmr-st-unsupported{color:var(--wmr-bad);font-weight:600}
.wasm-migrate-report .wmr-st-unknown,.wasm-migrate-report .wmr-st-none{color:var(--wmr-muted)}
.wasm-migrate-report .wmr-diagram{overflow-x:auto;margin:8px 0}
.wasm-migrate-report svg.wmr-pipeline{display:block;width:100%;height:auto;color:var(--wmr-fg)}
.wasm-migrate-report svg.wmr-pipeline text{fill:var(--wmr-fg);font-family:inherit;font-size:12px}
.wasm-migrate-report svg.wmr-pipeline .wmr-t{font-weight:600}
.wasm-migrate-report svg.wmr-pipeline .wmr-s{fill:var(--wmr-muted);font-size:10.5px}
.wasm-migrate-report svg.wmr-pipeline rect{stroke:var(--wmr-border);stroke-width:1.5}
.wasm-migrate-report svg.wmr-pipeline .wmr-n-io rect{fill:var(--wmr-io)}
.wasm-migrate-report svg.wmr-pipeline .wmr-n-pre rect{fill:var(--wmr-pre)}
.wasm-migrate-report svg.wmr-pipeline .wmr-n-model rect{fill:var(--wmr-model);stroke:var(--wmr-accent)}
.wasm-migrate-report svg.wmr-pipeline .wmr-n-post rect{fill:var(--wmr-post)}
.wasm-migrate-report svg.wmr-pipeline .wmr-n-serve rect{fill:var(--wmr-serve)}
.wasm-migrate-report svg.wmr-pipeline .wmr-edge{stroke:currentColor;stroke-width:1.5;fill:none}
.wasm-migrate-report .wmr-legend{font-size:12px;color:var(--wmr-muted)}
.wasm-migrate-report ol.wmr-steps{margin:4px 0;padding-left:24px}
.wasm-migrate-report footer{margin-top:24px;padding-top:8px;border-top:1px solid var(--wmr-border);font-size:12px;color:var(--wmr-muted)}
"#;

/// The style sheet: every rule is scoped to `.wasm-migrate-report`, so a notebook fragment does
/// not restyle the notebook. Dark colours follow the system, JupyterLab and VS Code themes.
fn style_sheet() -> String {
    format!(
        ".wasm-migrate-report{{{LIGHT_VARS}}}\n\
         @media (prefers-color-scheme: dark){{.wasm-migrate-report{{{DARK_VARS}}}}}\n\
         body[data-jp-theme-light=\"true\"] .wasm-migrate-report,body.vscode-light .wasm-migrate-report{{{LIGHT_VARS}}}\n\
         body[data-jp-theme-light=\"false\"] .wasm-migrate-report,body.vscode-dark .wasm-migrate-report,body.vscode-high-contrast .wasm-migrate-report{{{DARK_VARS}}}\n\
         {RULES}"
    )
}

/// Renders the report as a whole page (`compact: false`) or as a `<div>` for a notebook cell
/// (`compact: true`: scoped styles, no `<html>` wrapper, at most 50 findings).
pub fn render_html(report: &Report, compact: bool) -> String {
    let mut body = String::new();
    let class = if compact {
        "wasm-migrate-report wmr-compact"
    } else {
        "wasm-migrate-report"
    };
    let _ = write!(body, "<div class=\"{class}\">");
    if compact {
        let _ = write!(body, "<style>{}</style>", style_sheet());
    }
    header(&mut body, report);
    cards(&mut body, report);
    recommendation(&mut body, report);
    pipeline_section(&mut body, report);
    findings(&mut body, report, compact);
    outside(&mut body, report);
    dependencies(&mut body, report);
    paths(&mut body, report);
    let _ = write!(
        body,
        "<footer>{} &middot; generated by wasm-migrate {} (report schema {})</footer></div>",
        esc(&summary_line(&report.summary)),
        esc(&report.tool_version),
        esc(&report.schema_version)
    );

    if compact {
        return body;
    }
    let mut page = String::with_capacity(body.len() + 8192);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <title>wasm-migrate report: {}</title>\n<style>\n\
         html,body{{margin:0;padding:0;background:#ffffff}}\n\
         @media (prefers-color-scheme: dark){{html,body{{background:#0d1117}}}}\n{}</style>\n\
         </head>\n<body>\n{body}\n</body>\n</html>\n",
        esc(&report.root.display().to_string()),
        style_sheet()
    );
    page
}

fn header(out: &mut String, report: &Report) {
    let _ = write!(
        out,
        "<h1>wasm-migrate report</h1><p class=\"wmr-sub\"><code>{}</code> &middot; wasm-migrate {}</p>",
        esc(&report.root.display().to_string()),
        esc(&report.tool_version)
    );
    if let Some(warning) = partial_warning(&report.summary) {
        let _ = write!(
            out,
            "<div class=\"wmr-warning\"><strong>Warning:</strong> {}</div>",
            esc(&warning)
        );
    }
    if let Some(entry) = entrypoint_text(report) {
        let _ = write!(
            out,
            "<p class=\"wmr-meta\"><strong>Entrypoint:</strong> {}</p>",
            esc(&entry)
        );
    }
}

/// Files the serving path does not reach, and their findings one line each.
fn outside(out: &mut String, report: &Report) {
    let Some(text) = outside_text(report) else {
        return;
    };
    let _ = write!(
        out,
        "<h2>Not in the serving path</h2><p class=\"wmr-muted\">{}</p>",
        esc(&text)
    );
    let list = outside_findings(report);
    if list.is_empty() {
        return;
    }
    out.push_str("<ul>");
    for f in list {
        let _ = write!(
            out,
            "<li><code>{}</code> {} <code>{}</code>: {}</li>",
            esc(&full_location(&f.location)),
            f.category.as_str(),
            esc(&f.rule),
            esc(&f.message)
        );
    }
    out.push_str("</ul>");
}

fn fill_class(readiness: u32) -> &'static str {
    match readiness {
        80.. => "wmr-fill-good",
        40..=79 => "wmr-fill-warn",
        _ => "wmr-fill-bad",
    }
}

fn bar(readiness: u32) -> String {
    format!(
        "<div class=\"wmr-bar\" title=\"{r}/100\"><span class=\"{}\" style=\"width:{r}%\"></span></div>",
        fill_class(readiness),
        r = readiness.min(100)
    )
}

fn card(out: &mut String, label: &str, value: &str, detail: &str) {
    let _ = write!(
        out,
        "<div class=\"wmr-card\"><div class=\"wmr-label\">{label}</div><div class=\"wmr-value\">{value}</div>{detail}</div>"
    );
}

fn cards(out: &mut String, report: &Report) {
    let rec = &report.recommendation;
    let s = &report.summary;
    out.push_str("<div class=\"wmr-cards\">");
    card(
        out,
        "Recommended path",
        &esc(rec.path.label()),
        &format!(
            "<div class=\"wmr-detail\"><code>{}</code></div>",
            rec.path.as_str()
        ),
    );
    card(
        out,
        "Readiness",
        &format!("{}/100", rec.readiness),
        &bar(rec.readiness),
    );
    card(
        out,
        "Effort",
        &format!("{} points", rec.effort_total),
        "<div class=\"wmr-detail\">story points of all findings</div>",
    );
    card(
        out,
        "Findings",
        &total_findings(s).to_string(),
        &format!(
            "<div class=\"wmr-detail\"><span class=\"wmr-mandatory\">{} mandatory</span>, \
             <span class=\"wmr-optional\">{} optional</span>, \
             <span class=\"wmr-potential\">{} potential</span></div>",
            s.findings_mandatory, s.findings_optional, s.findings_potential
        ),
    );
    card(
        out,
        "Files",
        &s.files_seen.to_string(),
        &format!(
            "<div class=\"wmr-detail\">{} parsed, {} failed, {} Python lines, {} manifests, {}</div>",
            s.files_parsed,
            s.files_failed,
            s.python_lines,
            s.manifests,
            elapsed_text(s.elapsed_ms)
        ),
    );
    if let Some(model) = report.pipeline.models.first() {
        card(
            out,
            "Model",
            &esc(model.framework.as_str()),
            &format!(
                "<div class=\"wmr-detail\">{}</div>",
                esc(&truncate_chars(
                    model
                        .artifact
                        .as_deref()
                        .or(model.architecture.as_deref())
                        .unwrap_or(&model.call),
                    60
                ))
            ),
        );
    }
    out.push_str("</div>");
}

fn recommendation(out: &mut String, report: &Report) {
    let rec = &report.recommendation;
    let _ = write!(
        out,
        "<h2>Recommendation: {} <code>{}</code></h2>",
        esc(rec.path.label()),
        rec.path.as_str()
    );
    if !rec.rationale.trim().is_empty() {
        let _ = write!(out, "<p>{}</p>", esc_inline(rec.rationale.trim()));
    }
    if !rec.deciding_findings.is_empty() {
        let ids: Vec<String> = rec
            .deciding_findings
            .iter()
            .map(|id| format!("<code>{}</code>", esc(id)))
            .collect();
        let _ = write!(
            out,
            "<p class=\"wmr-meta\">Decided by: {}</p>",
            ids.join(", ")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Pipeline diagram

const NODE_W: u32 = 160;
const NODE_H: u32 = 64;
const GAP: u32 = 40;
const ROW_GAP: u32 = 44;
const PAD: u32 = 12;
const SERVE_H: u32 = 40;
const SERVE_GAP: u32 = 32;
const PER_ROW: usize = 5;

struct Node {
    class: &'static str,
    title: String,
    sub: String,
    sub2: String,
    tooltip: String,
}

fn step_node(step: &Step, class: &'static str) -> Node {
    Node {
        class,
        title: truncate_chars(&step.op, 20),
        sub: library_name(step.library).to_string(),
        sub2: truncate_chars(&format_params(&step.params), 24),
        tooltip: format!("{}  {}", format_step(step), short_location(&step.location)),
    }
}

/// The end of a path that fits a box, keeping the file name: `…ts/resnet18.pt`.
fn tail_chars(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        text.to_string()
    } else {
        let tail: String = text.chars().skip(count - (max - 1)).collect();
        format!("…{tail}")
    }
}

fn model_node(model: &ModelLoad) -> Node {
    Node {
        class: "wmr-n-model",
        title: format!("model: {}", model.framework.as_str()),
        sub: tail_chars(model.artifact.as_deref().unwrap_or(&model.call), 26),
        sub2: model
            .architecture
            .as_deref()
            .map(|a| truncate_chars(a, 26))
            .unwrap_or_default(),
        tooltip: format!(
            "{}  {}",
            format_model(model),
            short_location(&model.location)
        ),
    }
}

fn diagram_nodes(pipeline: &Pipeline) -> Vec<Node> {
    let mut nodes = Vec::new();
    let input = pipeline
        .input_kind
        .map(input_kind_name)
        .unwrap_or("request");
    nodes.push(Node {
        class: "wmr-n-io",
        title: "input".into(),
        sub: input.into(),
        sub2: String::new(),
        tooltip: format!("input: {input}"),
    });
    nodes.extend(
        pipeline
            .preprocessing
            .iter()
            .map(|s| step_node(s, "wmr-n-pre")),
    );
    if pipeline.models.is_empty() {
        nodes.push(Node {
            class: "wmr-n-model",
            title: "model".into(),
            sub: "not detected".into(),
            sub2: String::new(),
            tooltip: "no model load was detected".into(),
        });
    } else {
        nodes.extend(pipeline.models.iter().map(model_node));
    }
    nodes.extend(
        pipeline
            .postprocessing
            .iter()
            .map(|s| step_node(s, "wmr-n-post")),
    );
    let labels = pipeline.label_files.join(", ");
    nodes.push(Node {
        class: "wmr-n-io",
        title: "output".into(),
        sub: tail_chars(&labels, 26),
        sub2: String::new(),
        tooltip: if labels.is_empty() {
            "output".into()
        } else {
            format!("output, labels from {labels}")
        },
    });
    nodes
}

/// The pipeline as an inline SVG: input -> preprocessing -> model -> postprocessing -> output,
/// wrapped to rows of five boxes, with the serving endpoints in a box above.
fn pipeline_svg(pipeline: &Pipeline, id_suffix: &str) -> String {
    let nodes = diagram_nodes(pipeline);
    let cols = nodes.len().min(PER_ROW) as u32;
    let rows = nodes.len().div_ceil(PER_ROW) as u32;
    let width = 2 * PAD + cols * NODE_W + (cols - 1) * GAP;
    let top = if pipeline.serving.is_empty() {
        PAD
    } else {
        PAD + SERVE_H + SERVE_GAP
    };
    let height = top + rows * NODE_H + (rows - 1) * ROW_GAP + PAD;
    let pos = |i: usize| -> (u32, u32) {
        let row = (i / PER_ROW) as u32;
        let col = (i % PER_ROW) as u32;
        (PAD + col * (NODE_W + GAP), top + row * (NODE_H + ROW_GAP))
    };
    let marker = format!("wmr-arrow-{id_suffix}");

    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"wmr-pipeline\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" \
         style=\"max-width:{width}px\" role=\"img\" aria-label=\"Detected inference pipeline\">\
         <defs><marker id=\"{marker}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" \
         markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"currentColor\"/></marker></defs>"
    );

    if !pipeline.serving.is_empty() {
        let text = pipeline
            .serving
            .iter()
            .map(format_endpoint)
            .collect::<Vec<_>>()
            .join("  ·  ");
        let tooltip = pipeline
            .serving
            .iter()
            .map(|e| format!("{}  {}", format_endpoint(e), short_location(&e.location)))
            .collect::<Vec<_>>()
            .join("\n");
        let box_w = width - 2 * PAD;
        let max_chars = (box_w / 7) as usize;
        let _ = write!(
            svg,
            "<g class=\"wmr-n-serve\"><title>{}</title><rect x=\"{PAD}\" y=\"{PAD}\" width=\"{box_w}\" height=\"{SERVE_H}\" rx=\"8\"/>\
             <text class=\"wmr-t\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text></g>",
            esc(&tooltip),
            PAD + box_w / 2,
            PAD + SERVE_H / 2 + 4,
            esc(&truncate_chars(&format!("serving: {text}"), max_chars))
        );
        let (x, y) = pos(0);
        let cx = x + NODE_W / 2;
        let _ = write!(
            svg,
            "<path class=\"wmr-edge\" d=\"M{cx},{} V{y}\" marker-end=\"url(#{marker})\"/>",
            PAD + SERVE_H
        );
    }

    for i in 1..nodes.len() {
        let (x0, y0) = pos(i - 1);
        let (x1, y1) = pos(i);
        let d = if y0 == y1 {
            let y = y0 + NODE_H / 2;
            format!("M{},{y} H{x1}", x0 + NODE_W)
        } else {
            let mid = y0 + NODE_H + ROW_GAP / 2;
            format!(
                "M{},{} V{mid} H{} V{y1}",
                x0 + NODE_W / 2,
                y0 + NODE_H,
                x1 + NODE_W / 2
            )
        };
        let _ = write!(
            svg,
            "<path class=\"wmr-edge\" d=\"{d}\" marker-end=\"url(#{marker})\"/>"
        );
    }

    for (i, node) in nodes.iter().enumerate() {
        let (x, y) = pos(i);
        let cx = x + NODE_W / 2;
        let _ = write!(
            svg,
            "<g class=\"{}\"><title>{}</title><rect x=\"{x}\" y=\"{y}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"8\"/>\
             <text class=\"wmr-t\" x=\"{cx}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            node.class,
            esc(&node.tooltip),
            y + 22,
            esc(&node.title)
        );
        if !node.sub.is_empty() {
            let _ = write!(
                svg,
                "<text class=\"wmr-s\" x=\"{cx}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                y + 40,
                esc(&node.sub)
            );
        }
        if !node.sub2.is_empty() {
            let _ = write!(
                svg,
                "<text class=\"wmr-s\" x=\"{cx}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                y + 55,
                esc(&node.sub2)
            );
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

fn step_list(out: &mut String, title: &str, steps: &[Step]) {
    if steps.is_empty() {
        return;
    }
    let _ = write!(out, "<h3>{title}</h3><ol class=\"wmr-steps\">");
    for step in steps {
        let _ = write!(
            out,
            "<li><code>{}</code> <span class=\"wmr-loc\">{}</span></li>",
            esc(&format_step(step)),
            esc(&short_location(&step.location))
        );
    }
    out.push_str("</ol>");
}

fn pipeline_section(out: &mut String, report: &Report) {
    let pipe = &report.pipeline;
    out.push_str("<h2>Pipeline</h2>");
    let empty = pipe.models.is_empty()
        && pipe.preprocessing.is_empty()
        && pipe.postprocessing.is_empty()
        && pipe.serving.is_empty();
    if empty {
        out.push_str("<p class=\"wmr-muted\">No inference pipeline was detected.</p>");
        return;
    }
    // Ids must be unique when several reports share a notebook page.
    let id_suffix = format!(
        "{:08x}",
        fnv1a64(
            format!(
                "{}\0{}\0{}",
                report.root.display(),
                report.summary.elapsed_ms,
                report.findings.len()
            )
            .as_bytes()
        ) as u32
    );
    let _ = write!(
        out,
        "<div class=\"wmr-diagram\">{}</div>",
        pipeline_svg(pipe, &id_suffix)
    );
    if !pipe.models.is_empty() {
        out.push_str("<h3>Models</h3><ul>");
        for model in &pipe.models {
            let _ = write!(
                out,
                "<li>{} <span class=\"wmr-loc\">{}</span></li>",
                esc(&format_model(model)),
                esc(&short_location(&model.location))
            );
        }
        out.push_str("</ul>");
    }
    step_list(out, "Preprocessing", &pipe.preprocessing);
    step_list(out, "Postprocessing", &pipe.postprocessing);
    if !pipe.serving.is_empty() {
        out.push_str("<h3>Serving</h3><ul>");
        for endpoint in &pipe.serving {
            let mut text = format_endpoint(endpoint);
            if !endpoint.handler_methods.is_empty() {
                text.push_str(&format!(" [{}]", endpoint.handler_methods.join(", ")));
            }
            let _ = write!(
                out,
                "<li><code>{}</code> <span class=\"wmr-loc\">{}</span></li>",
                esc(&text),
                esc(&short_location(&endpoint.location))
            );
        }
        out.push_str("</ul>");
    }
    if !pipe.label_files.is_empty() {
        let files: Vec<String> = pipe
            .label_files
            .iter()
            .map(|f| format!("<code>{}</code>", esc(f)))
            .collect();
        let _ = write!(out, "<p>Labels: {}</p>", files.join(", "));
    }
}

// ---------------------------------------------------------------------------------------------
// Findings

fn snippet_html(finding: &Finding, snippet: &str) -> String {
    let loc = &finding.location;
    let mut out = String::from("<pre class=\"wmr-snippet\">");
    for (i, line) in snippet.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = write!(
            out,
            "<span class=\"wmr-ln\">{}</span>",
            loc.line as usize + i
        );
        let single_line = loc.end_line.is_none_or(|end| end == loc.line);
        let chars: Vec<char> = line.chars().collect();
        let start = (loc.column as usize).saturating_sub(1);
        if i == 0 && single_line && loc.column > 0 && start < chars.len() {
            let end = loc
                .end_column
                .map(|c| (c as usize).saturating_sub(1))
                .unwrap_or(chars.len())
                .clamp(start + 1, chars.len());
            let before: String = chars[..start].iter().collect();
            let marked: String = chars[start..end].iter().collect();
            let after: String = chars[end..].iter().collect();
            let _ = write!(
                out,
                "{}<mark>{}</mark>{}",
                esc(&before),
                esc(&marked),
                esc(&after)
            );
        } else {
            out.push_str(&esc(line));
        }
    }
    out.push_str("</pre>");
    out
}

fn finding_html(out: &mut String, finding: &Finding) {
    let cat = finding.category.as_str();
    let _ = write!(
        out,
        "<div class=\"wmr-finding wmr-cat-{cat}\"><div class=\"wmr-fhead\">\
         <span class=\"wmr-badge wmr-{cat}\">{cat}</span> <code>{}</code> \
         <span class=\"wmr-loc\">{}</span></div><p class=\"wmr-msg\">{}</p>",
        esc(&finding.rule),
        esc(&full_location(&finding.location)),
        esc_inline(&finding.message)
    );
    if let Some(snippet) = &finding.snippet {
        out.push_str(&snippet_html(finding, snippet));
    }
    if !finding.remedy.trim().is_empty() {
        let _ = write!(
            out,
            "<p class=\"wmr-remedy\"><strong>Fix:</strong> {}</p>",
            esc_inline(finding.remedy.trim())
        );
    }
    let mut meta: Vec<String> = Vec::new();
    if !finding.targets.is_empty() {
        let targets: Vec<&str> = finding.targets.iter().map(|t| t.as_str()).collect();
        meta.push(format!("blocks {}", esc(&targets.join(", "))));
    }
    meta.push(format!("effort {}", finding.effort));
    for url in &finding.links {
        meta.push(link(url, url));
    }
    let _ = write!(
        out,
        "<p class=\"wmr-meta\">{}</p></div>",
        meta.join(" &middot; ")
    );
}

fn findings(out: &mut String, report: &Report, compact: bool) {
    let serving = serving_findings(report);
    let total = serving.len();
    let _ = write!(out, "<h2>Findings ({total})</h2>");
    if total == 0 {
        out.push_str("<p class=\"wmr-muted\">No findings.</p>");
        return;
    }
    let shown = if compact {
        total.min(COMPACT_FINDINGS)
    } else {
        total
    };
    for (file, list) in findings_by_file(serving[..shown].iter().copied()) {
        let _ = write!(
            out,
            "<section class=\"wmr-file\"><h3><code>{}</code> <span class=\"wmr-muted\">({})</span></h3>",
            esc(file),
            list.len()
        );
        for finding in list {
            finding_html(out, finding);
        }
        out.push_str("</section>");
    }
    if shown < total {
        let _ = write!(
            out,
            "<p class=\"wmr-warning\">Showing the first {shown} of {total} findings; {} more are left out. \
             Render the full report (<code>wasm-migrate analyze --format html</code>) to see them all.</p>",
            total - shown
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Dependencies and paths

fn dependencies(out: &mut String, report: &Report) {
    let _ = write!(out, "<h2>Dependencies ({})</h2>", report.packages.len());
    if report.summary.manifests == 0 {
        let _ = write!(
            out,
            "<p class=\"wmr-warning\">{}</p>",
            esc(super::NO_MANIFEST)
        );
    }
    if report.packages.is_empty() {
        out.push_str("<p class=\"wmr-muted\">No dependencies were found.</p>");
        return;
    }
    out.push_str(
        "<table class=\"wmr-table\"><thead><tr><th>Distribution</th><th>Kind</th><th>Declared</th><th>Imported</th>",
    );
    for path in WASM_PATHS {
        let _ = write!(
            out,
            "<th title=\"{}\">{}</th>",
            esc(path.label()),
            path_column(path)
        );
    }
    out.push_str("<th>Replacement</th></tr></thead><tbody>");
    for pkg in &report.packages {
        let name = match &pkg.link {
            Some(url) => link(url, &pkg.distribution),
            None => esc(&pkg.distribution).into_owned(),
        };
        let kind = match (pkg.implementation, &pkg.category) {
            (Some(i), Some(c)) => format!("{}, {}", implementation_name(i), c),
            (Some(i), None) => implementation_name(i).to_string(),
            (None, Some(c)) => c.clone(),
            (None, None) if !pkg.known => "unknown".to_string(),
            (None, None) => String::new(),
        };
        let imported = if pkg.imports.is_empty() {
            imported_text(pkg)
        } else {
            format!("{} {}", imported_text(pkg), pkg.imports.join(", "))
        };
        let _ = write!(
            out,
            "<tr><td><strong>{name}</strong></td><td>{}</td><td>{}</td><td>{}</td>",
            esc(&kind),
            esc(&declared_text(pkg)),
            esc(&imported)
        );
        for path in WASM_PATHS {
            let status = package_status_text(pkg, path);
            let class = if status == "-" { "none" } else { status };
            let _ = write!(out, "<td class=\"wmr-st-{class}\">{status}</td>");
        }
        let _ = write!(
            out,
            "<td>{}</td></tr>",
            esc(pkg.replacement.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</tbody></table>");
}

fn path_row(out: &mut String, assessment: &PathAssessment, recommended: bool) {
    let blockers = if assessment.blockers.is_empty() {
        "<span class=\"wmr-muted\">none</span>".to_string()
    } else {
        let items: Vec<String> = assessment
            .blockers
            .iter()
            .map(|b| format!("<li>{}</li>", esc_inline(b)))
            .collect();
        format!("<ul>{}</ul>", items.join(""))
    };
    let _ = write!(
        out,
        "<tr{}><td>{}{} <code>{}</code></td><td>{}/100{}</td><td>{}</td><td class=\"{}\">{}</td><td>{blockers}</td></tr>",
        if recommended {
            " class=\"wmr-recommended\""
        } else {
            ""
        },
        if recommended { "&#9733; " } else { "" },
        esc(assessment.path.label()),
        assessment.path.as_str(),
        assessment.readiness,
        bar(assessment.readiness),
        assessment.effort,
        if assessment.viable {
            "wmr-st-supported"
        } else {
            "wmr-st-unsupported"
        },
        if assessment.viable {
            "viable"
        } else {
            "not viable"
        }
    );
}

fn paths(out: &mut String, report: &Report) {
    let rec = &report.recommendation;
    out.push_str("<h2>Migration paths</h2>");
    if rec.paths.is_empty() {
        out.push_str("<p class=\"wmr-muted\">No path was assessed.</p>");
        return;
    }
    out.push_str(
        "<table class=\"wmr-table\"><thead><tr><th>Path</th><th>Readiness</th><th>Effort</th><th>Verdict</th><th>Blockers</th></tr></thead><tbody>",
    );
    for assessment in &rec.paths {
        path_row(out, assessment, assessment.path == rec.path);
    }
    out.push_str("</tbody></table>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sample_report;

    /// The text with every `<a ...>...</a>` element removed.
    fn without_anchors(html: &str) -> String {
        let mut out = String::new();
        let mut rest = html;
        while let Some(start) = rest.find("<a ") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("</a>").expect("unclosed <a>") + start + 4;
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn escapes_user_text() {
        for compact in [false, true] {
            let out = render_html(&sample_report(), compact);
            assert!(!out.contains("<script"), "raw <script> in output");
            assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
            assert!(out.contains("&lt;Rust&gt;"));
            assert!(out.contains("pipes &amp; co"));
            assert!(out.contains("&lt;untrusted&gt;"));
            // `code` spans become <code> after escaping.
            assert!(out.contains("<code>subprocess.run</code> starts a process"));
            // A javascript: link never becomes an href.
            assert!(!out.contains("href=\"javascript:"));
            assert!(out.contains("javascript:alert(1)"));
        }
    }

    #[test]
    fn page_is_self_contained() {
        let out = render_html(&sample_report(), false);
        assert!(out.starts_with("<!DOCTYPE html>"));
        assert!(out.contains("<style>"));
        assert!(out.contains("prefers-color-scheme: dark"));
        for forbidden in ["<link", "<script", " src=", "@import", "<img", "<iframe"] {
            assert!(!out.contains(forbidden), "{forbidden}");
        }
        // The only url() references are the diagram's own arrow marker.
        for (i, _) in out.match_indices("url(") {
            assert!(
                out[i + 4..].starts_with("#wmr-arrow-"),
                "{}",
                &out[i..i + 40]
            );
        }
        let rest = without_anchors(&out);
        assert!(
            !rest.contains("http://"),
            "network reference outside a link"
        );
        assert!(
            !rest.contains("https://"),
            "network reference outside a link"
        );
        // Links of findings and packages are anchors.
        assert!(out.contains(
            "<a href=\"https://docs.example.org/wasi?a=1&amp;b=2\" rel=\"noopener noreferrer\""
        ));
        assert!(out.contains("<a href=\"https://pytorch.org\""));
    }

    #[test]
    fn draws_the_pipeline_as_svg() {
        let report = sample_report();
        let out = render_html(&report, false);
        let start = out.find("<svg").expect("no <svg>");
        let end = out[start..].find("</svg>").unwrap() + start;
        let svg = &out[start..end];
        for step in report
            .pipeline
            .preprocessing
            .iter()
            .chain(&report.pipeline.postprocessing)
        {
            assert!(svg.contains(&format!(">{}</text>", step.op)), "{}", step.op);
        }
        assert!(svg.contains("model: pytorch"));
        assert!(svg.contains("weights/resnet18.pt"));
        assert!(svg.contains("serving: POST /predict -&gt; predict (flask)"));
        assert!(svg.contains(">input</text>"));
        assert!(svg.contains(">output</text>"));
        // 1 input + 4 pre + 1 model + 2 post + 1 output = 9 boxes, 8 arrows, + serving.
        assert_eq!(svg.matches("<rect").count(), 10);
        assert_eq!(svg.matches("class=\"wmr-edge\"").count(), 9);
        // 9 boxes wrap onto two rows of five.
        assert!(svg.contains("viewBox=\"0 0 984 "), "{svg}");
    }

    #[test]
    fn shows_findings_with_snippets_and_remedies() {
        let out = render_html(&sample_report(), false);
        assert!(out.contains("process-subprocess"));
        assert!(out.contains("app.py:12:11"));
        assert!(out.contains("<mark>subprocess.run</mark>"));
        assert!(out.contains("# &lt;script&gt;</pre>"));
        assert!(out.contains("<strong>Fix:</strong> Run <code>grep | sort</code>"));
        assert!(out.contains("<span class=\"wmr-ln\">30</span>"));
        assert!(out.contains("3 files seen, 2 parsed, 1 failed"));
        assert!(out.contains("the analysis is partial"));
        assert!(out.contains("<td class=\"wmr-st-unsupported\">unsupported</td>"));
        assert!(out.contains("<td class=\"wmr-st-unknown\">unknown</td>"));
        assert!(out.contains("weird|pkg") || out.contains("requirements.txt:3"));
    }

    #[test]
    fn compact_fragment_is_a_scoped_div_with_at_most_fifty_findings() {
        let mut report = sample_report();
        let template = report.findings[1].clone();
        for i in 0..60 {
            let mut f = template.clone();
            f.location.line = 100 + i;
            report.findings.push(f);
        }
        let out = render_html(&report, true);
        assert!(out.starts_with("<div class=\"wasm-migrate-report wmr-compact\"><style>"));
        assert!(out.ends_with("</div>"));
        assert!(!out.contains("<html"));
        assert!(!out.contains("<body"));
        assert_eq!(out.matches("<div class=\"wmr-finding ").count(), 50);
        assert!(out.contains("Showing the first 50 of 63 findings; 13 more are left out."));
        // Every style rule is scoped to the report.
        let css_start = out.find("<style>").unwrap() + 7;
        let css_end = out.find("</style>").unwrap();
        for line in out[css_start..css_end]
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            assert!(
                line.contains(".wasm-migrate-report"),
                "unscoped rule: {line}"
            );
        }
        let full = render_html(&report, false);
        assert_eq!(full.matches("<div class=\"wmr-finding ").count(), 63);
    }

    #[test]
    fn empty_pipeline_is_a_note_not_a_diagram() {
        let mut report = sample_report();
        report.pipeline = Default::default();
        let out = render_html(&report, false);
        assert!(!out.contains("<svg"));
        assert!(out.contains("No inference pipeline was detected."));
    }

    #[test]
    fn inline_code_spans() {
        assert_eq!(esc_inline("a `b` c"), "a <code>b</code> c");
        assert_eq!(esc_inline("a `<b>` `c"), "a <code>&lt;b&gt;</code> `c");
        assert_eq!(esc_inline("no code"), "no code");
    }
}
