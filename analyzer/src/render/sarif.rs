//! SARIF 2.1.0 for code-scanning tools (GitHub code scanning, VS Code SARIF viewer).
//!
//! One run; one rule per distinct rule id of the findings; one result per finding, located
//! relative to `%SRCROOT%` (the service root). Columns count Unicode code points, as the
//! report's do, and the run says so (`columnKind`).

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use super::fnv1a64;
use crate::report::{Finding, Report};
use crate::rules::Category;

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const SARIF_VERSION: &str = "2.1.0";
const INFORMATION_URI: &str = "https://github.com/wasm-migrate/wasm-migrate";
const SRCROOT: &str = "%SRCROOT%";

fn level(category: Category) -> &'static str {
    match category {
        Category::Mandatory => "error",
        Category::Optional => "warning",
        Category::Potential => "note",
    }
}

/// GitHub's `problem.severity` for non-security rules.
fn problem_severity(category: Category) -> &'static str {
    match category {
        Category::Mandatory => "error",
        Category::Optional => "warning",
        Category::Potential => "recommendation",
    }
}

fn category_meaning(category: Category) -> &'static str {
    match category {
        Category::Mandatory => "must be fixed before the service runs on the target",
        Category::Optional => "should be changed; the service runs without it but loses something",
        Category::Potential => "may be a problem, depending on what the code does at run time",
    }
}

/// `process-subprocess` -> `ProcessSubprocess`.
fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// A relative path as a URI reference: unreserved characters and `/` stay, everything else
/// (spaces, `%`, `#`, `?`, `:`, non-ASCII) is percent-encoded as UTF-8.
pub(crate) fn encode_uri_path(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The part of a finding its fingerprint hashes: rule, file and the trimmed source lines (the
/// line number when there is no snippet), so that a finding keeps its fingerprint when code
/// above it moves.
fn fingerprint_key(finding: &Finding) -> String {
    let anchor = match &finding.snippet {
        Some(snippet) if !snippet.trim().is_empty() => snippet
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => finding.location.line.to_string(),
    };
    format!("{}\0{}\0{}", finding.rule, finding.location.file, anchor)
}

/// `primaryLocationLineHash` of every finding: FNV-1a 64 of [`fingerprint_key`] in hex, then
/// `:N`, the occurrence of that hash (as GitHub numbers identical lines), so that two findings
/// never share one.
fn fingerprints(findings: &[Finding]) -> Vec<String> {
    let mut seen: BTreeMap<u64, u32> = BTreeMap::new();
    findings
        .iter()
        .map(|finding| {
            let hash = fnv1a64(fingerprint_key(finding).as_bytes());
            let occurrence = seen.entry(hash).or_insert(0);
            *occurrence += 1;
            format!("{hash:016x}:{occurrence}")
        })
        .collect()
}

fn first_sentence(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    super::truncate_chars(line, 200)
}

/// Descriptions of the analyzer's own rules, whose messages name a package or file and whose
/// remedies differ from finding to finding: (short, full, help).
fn builtin_rule(id: &str) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match id {
        "syntax-error" => (
            "Python file with syntax errors",
            "The file did not parse completely: what parsed was analyzed, the rest was not, so the analysis of this file is partial.",
            "Fix the syntax error, or check that the file is written for the Python version the service runs on.",
        ),
        "file-skipped" => (
            "File not analyzed",
            "The file could not be read, or it is binary, not UTF-8 or too large; it was not analyzed.",
            "Check the file; if it is not part of the service, leave it out of the analyzed directory.",
        ),
        "manifest-problem" => (
            "Dependency manifest not read completely",
            "A dependency manifest has an entry or a syntax the analyzer could not read; the dependencies it declares may be missing from the analysis.",
            "Fix the manifest entry the result points at.",
        ),
        "unsupported-package" => (
            "Package cannot move to a Wasm migration path",
            "A declared or imported distribution cannot run on one or more migration paths and has no drop-in replacement there.",
            "Each result names the package; its replacement on the recommended path is in the result's message and properties.remedy.",
        ),
        "unknown-package" => (
            "Package not in the knowledge base",
            "The analyzer does not know whether this distribution can run on the Wasm migration paths.",
            "Check whether it is pure Python and whether it works under WASI; describe it in a packages*.yaml file passed with --rules.",
        ),
        "undeclared-import" => (
            "Import not declared in any manifest",
            "The code imports a third-party module that no dependency manifest declares.",
            "Declare the distribution (requirements.txt, pyproject.toml...) so that the migration bundles the right version.",
        ),
        "unused-dependency" => (
            "Declared dependency never imported",
            "A manifest declares a distribution that no analyzed file imports.",
            "Remove it if the service does not need it: every package bundled into a Python-in-Wasm module adds size and start-up time.",
        ),
        _ => return None,
    })
}

/// The message with every `code` span replaced by `…`: findings of one rule that differ only
/// in what matched (`{name}` in the rule message) share this template.
fn message_template(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for (i, part) in message.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("`…`");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Whether every finding of a rule has the same value.
fn all_same<T: PartialEq>(findings: &[&Finding], value: impl Fn(&Finding) -> T) -> bool {
    let first = value(findings[0]);
    findings[1..].iter().all(|f| value(f) == first)
}

/// Whether the findings of a rule carry remedies of their own (the rule's help cannot).
fn remedies_vary(findings: &[&Finding]) -> bool {
    !all_same(findings, |f| f.remedy.trim().to_string())
}

/// The rule descriptor of one rule id, from all its findings (never empty).
fn rule_descriptor(id: &str, findings: &[&Finding]) -> Json {
    let first = findings[0];
    let builtin = builtin_rule(id);

    let mut targets: Vec<&str> = Vec::new();
    for finding in findings {
        for target in &finding.targets {
            if !targets.contains(&target.as_str()) {
                targets.push(target.as_str());
            }
        }
    }
    let mut tags = vec!["wasm-migrate".to_string()];
    for finding in findings {
        let category = finding.category.as_str().to_string();
        if !tags.contains(&category) {
            tags.push(category);
        }
    }
    tags.extend(targets.iter().map(|t| format!("target={t}")));

    let same_message = all_same(findings, |f| f.message.trim().to_string());
    let template = message_template(first.message.trim());
    let same_template = all_same(findings, |f| message_template(f.message.trim()));
    let (short, description) = match builtin {
        Some((short, full, _)) => (short.to_string(), full.to_string()),
        _ if same_message => (
            first_sentence(&first.message),
            first.message.trim().to_string(),
        ),
        _ if same_template => (first_sentence(&template), template.clone()),
        _ => {
            let generic = format!(
                "{} ({})",
                id.replace(['-', '_'], " "),
                first.category.as_str()
            );
            (generic.clone(), generic)
        }
    };
    let mut full = format!(
        "{} ({}: {}).",
        description.trim_end_matches('.'),
        first.category.as_str(),
        category_meaning(first.category)
    );
    if !targets.is_empty() {
        full.push_str(&format!(" Stands in the way of: {}.", targets.join(", ")));
    }

    let help = if !remedies_vary(findings) {
        first.remedy.trim().to_string()
    } else {
        match builtin {
            Some((_, _, help)) => help.to_string(),
            None => "The fix depends on what matched: see the remedy in each result's message."
                .to_string(),
        }
    };
    let same_links = all_same(findings, |f| f.links.clone());
    let mut help_markdown = help.clone();
    if same_links {
        for link in &first.links {
            help_markdown.push_str(&format!("\n\n- <{link}>"));
        }
    }

    let mut rule = Map::new();
    rule.insert("id".into(), json!(id));
    rule.insert("name".into(), json!(pascal_case(id)));
    rule.insert("shortDescription".into(), json!({ "text": short }));
    rule.insert("fullDescription".into(), json!({ "text": full }));
    rule.insert(
        "help".into(),
        json!({ "text": help, "markdown": help_markdown }),
    );
    if same_links && let Some(link) = first.links.first() {
        rule.insert("helpUri".into(), json!(link));
    }
    rule.insert(
        "defaultConfiguration".into(),
        json!({ "level": level(first.category) }),
    );
    rule.insert(
        "properties".into(),
        json!({
            "tags": tags,
            "problem.severity": problem_severity(first.category),
            "effort": first.effort,
        }),
    );
    Json::Object(rule)
}

/// One result. `with_remedy`: the rule's help cannot give this finding's remedy, so the
/// message carries it.
fn result(finding: &Finding, rule_index: usize, fingerprint: String, with_remedy: bool) -> Json {
    let loc = &finding.location;
    let mut physical = Map::new();
    physical.insert(
        "artifactLocation".into(),
        json!({ "uri": encode_uri_path(&loc.file), "uriBaseId": SRCROOT }),
    );
    // SARIF lines and columns start at 1; 0 means unknown and is left out.
    if loc.line > 0 {
        let mut region = Map::new();
        region.insert("startLine".into(), json!(loc.line));
        if loc.column > 0 {
            region.insert("startColumn".into(), json!(loc.column));
        }
        if let Some(end_line) = loc.end_line.filter(|l| *l >= loc.line) {
            region.insert("endLine".into(), json!(end_line));
        }
        if let Some(end_column) = loc.end_column.filter(|c| *c > 0) {
            region.insert("endColumn".into(), json!(end_column));
        }
        if let Some(snippet) = finding.snippet.as_ref().filter(|s| !s.is_empty()) {
            region.insert("snippet".into(), json!({ "text": snippet }));
        }
        physical.insert("region".into(), Json::Object(region));
    }

    let message = if with_remedy && !finding.remedy.trim().is_empty() {
        format!(
            "{}\n\nFix: {}",
            finding.message.trim_end(),
            finding.remedy.trim()
        )
    } else {
        finding.message.clone()
    };
    json!({
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        // Outside the serving path a finding blocks nothing: a note, not a warning or error.
        "level": if finding.outside_serving_path { "note" } else { level(finding.category) },
        "message": { "text": message },
        "locations": [ { "physicalLocation": Json::Object(physical) } ],
        "partialFingerprints": { "primaryLocationLineHash": fingerprint },
        "properties": {
            "category": finding.category.as_str(),
            "effort": finding.effort,
            "targets": finding.targets.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            "remedy": finding.remedy,
        },
    })
}

/// The SARIF log of a report.
pub fn render_sarif(report: &Report) -> Json {
    // Rules in id order, each described from all its findings.
    let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in &report.findings {
        by_rule
            .entry(finding.rule.as_str())
            .or_default()
            .push(finding);
    }
    let index: BTreeMap<&str, (usize, bool)> = by_rule
        .iter()
        .enumerate()
        .map(|(i, (id, findings))| (*id, (i, remedies_vary(findings))))
        .collect();
    let rules: Vec<Json> = by_rule
        .iter()
        .map(|(id, findings)| rule_descriptor(id, findings))
        .collect();

    let results: Vec<Json> = report
        .findings
        .iter()
        .zip(fingerprints(&report.findings))
        .map(|(finding, fingerprint)| {
            let (rule_index, with_remedy) = index[finding.rule.as_str()];
            result(finding, rule_index, fingerprint, with_remedy)
        })
        .collect();

    let rec = &report.recommendation;
    json!({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {
                "driver": {
                    "name": "wasm-migrate",
                    "version": report.tool_version,
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                }
            },
            "invocations": [{
                "executionSuccessful": true,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {
                "reportSchemaVersion": report.schema_version,
                "recommendedPath": rec.path.as_str(),
                "readiness": rec.readiness,
                "effortTotal": rec.effort_total,
                "partial": report.summary.is_partial(),
                "filesSeen": report.summary.files_seen,
                "filesFailed": report.summary.files_failed,
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sample_report;

    #[test]
    fn has_the_fields_code_scanning_needs() {
        let report = sample_report();
        let sarif = render_sarif(&report);
        let s = |pointer: &str| {
            sarif
                .pointer(pointer)
                .unwrap_or_else(|| panic!("missing {pointer}"))
                .clone()
        };
        assert_eq!(s("/$schema"), json!(SARIF_SCHEMA));
        assert_eq!(s("/version"), json!("2.1.0"));
        assert_eq!(s("/runs/0/tool/driver/name"), json!("wasm-migrate"));
        assert_eq!(s("/runs/0/tool/driver/version"), json!(crate::TOOL_VERSION));
        assert!(s("/runs/0/tool/driver/informationUri").is_string());

        let rules = s("/runs/0/tool/driver/rules");
        let rules = rules.as_array().unwrap();
        assert_eq!(rules.len(), 4);
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [
                "cuda-device",
                "pickle-load",
                "process-subprocess",
                "training-fit"
            ]
        );
        for rule in rules {
            for pointer in [
                "/id",
                "/name",
                "/shortDescription/text",
                "/fullDescription/text",
                "/help/text",
                "/properties/tags",
            ] {
                assert!(rule.pointer(pointer).is_some(), "{pointer} in {rule}");
            }
        }
        let subprocess = &rules[2];
        assert_eq!(subprocess["name"], json!("ProcessSubprocess"));
        assert_eq!(
            subprocess["help"]["text"],
            json!("Run `grep | sort` on the host & pass its output in.")
        );
        assert_eq!(
            subprocess["helpUri"],
            json!("https://docs.example.org/wasi?a=1&b=2")
        );
        let tags = subprocess["properties"]["tags"].as_array().unwrap();
        assert!(tags.contains(&json!("mandatory")));
        assert!(tags.contains(&json!("target=wasi-nn-glue")));

        let results = s("/runs/0/results");
        let results = results.as_array().unwrap();
        assert_eq!(results.len(), report.findings.len());
        let first = &results[0];
        assert_eq!(first["ruleId"], json!("process-subprocess"));
        assert_eq!(first["ruleIndex"], json!(2));
        assert_eq!(first["level"], json!("error"));
        assert!(
            first["message"]["text"]
                .as_str()
                .unwrap()
                .contains("<script>")
        );
        let loc = first.pointer("/locations/0/physicalLocation").unwrap();
        assert_eq!(loc["artifactLocation"]["uri"], json!("app.py"));
        assert_eq!(loc["artifactLocation"]["uriBaseId"], json!("%SRCROOT%"));
        assert_eq!(loc["region"]["startLine"], json!(12));
        assert_eq!(loc["region"]["startColumn"], json!(11));
        assert_eq!(loc["region"]["endLine"], json!(12));
        assert_eq!(loc["region"]["endColumn"], json!(25));
        assert!(
            loc["region"]["snippet"]["text"]
                .as_str()
                .unwrap()
                .contains("subprocess.run")
        );
        assert!(
            first
                .pointer("/partialFingerprints/primaryLocationLineHash")
                .unwrap()
                .is_string()
        );

        assert_eq!(results[1]["level"], json!("warning"));
        assert_eq!(results[2]["level"], json!("note"));
        let third = results[2].pointer("/locations/0/physicalLocation").unwrap();
        assert_eq!(third["artifactLocation"]["uri"], json!("utils/io.py"));
        assert!(third["region"].get("endLine").is_none());
        assert!(third["region"].get("snippet").is_none());
        // Every result points at an existing rule with its own id.
        for r in results {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
        }
    }

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        let report = sample_report();
        let hash = |sarif: &Json, i: usize| {
            sarif
                .pointer(&format!(
                    "/runs/0/results/{i}/partialFingerprints/primaryLocationLineHash"
                ))
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        };
        let a = render_sarif(&report);
        let b = render_sarif(&report);
        assert_eq!(a, b);
        assert_eq!(hash(&a, 0), hash(&b, 0));
        assert_ne!(hash(&a, 0), hash(&a, 1));
        assert_ne!(hash(&a, 1), hash(&a, 2));
        assert_eq!(hash(&a, 0).len(), 16 + 2);

        // Moving the code (other line, other indentation) keeps the fingerprint.
        let mut moved = report.clone();
        moved.findings[0].location.line += 10;
        moved.findings[0].snippet =
            Some("        out = subprocess.run([\"ls\", \"|\", \"grep\"])  # <script>".to_string());
        assert_eq!(hash(&render_sarif(&moved), 0), hash(&a, 0));

        // The same line twice gets two fingerprints.
        let mut twice = report.clone();
        twice.findings.push(twice.findings[0].clone());
        let sarif = render_sarif(&twice);
        let first = hash(&sarif, 0);
        let last = hash(&sarif, 4);
        assert_ne!(first, last);
        assert_eq!(first[..16], last[..16]);
        assert!(last.ends_with(":2"));
    }

    #[test]
    fn rules_shared_by_different_findings_get_generic_descriptions() {
        let mut report = sample_report();
        let mut torch = report.findings[0].clone();
        torch.rule = "unsupported-package".to_string();
        torch.message = "`torch` cannot run on python.wasm".to_string();
        torch.remedy = "Export the model to OpenVINO IR.".to_string();
        torch.links = vec!["https://pypi.org/project/torch/".to_string()];
        let mut cv2 = torch.clone();
        cv2.message = "`opencv-python` cannot run on python.wasm".to_string();
        cv2.remedy = "Decode with the `image` crate.".to_string();
        cv2.links = vec!["https://pypi.org/project/opencv-python/".to_string()];
        let mut sub = report.findings[0].clone();
        sub.message =
            "`os.system` starts a process: <script>alert(1)</script> | pipes & co".to_string();
        report.findings.extend([torch, cv2, sub]);

        let sarif = render_sarif(&report);
        let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap();
        let unsupported = rules
            .iter()
            .find(|r| r["id"] == json!("unsupported-package"))
            .unwrap();
        assert_eq!(
            unsupported["shortDescription"]["text"],
            json!("Package cannot move to a Wasm migration path")
        );
        assert!(unsupported.get("helpUri").is_none());
        assert!(
            !unsupported["help"]["text"]
                .as_str()
                .unwrap()
                .contains("OpenVINO")
        );
        // Their remedies differ, so each result carries its own.
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        let torch_text = results[4]["message"]["text"].as_str().unwrap();
        assert!(
            torch_text.ends_with("Fix: Export the model to OpenVINO IR."),
            "{torch_text}"
        );

        // A code rule whose findings differ only in what matched gets the message template.
        let subprocess = rules
            .iter()
            .find(|r| r["id"] == json!("process-subprocess"))
            .unwrap();
        assert_eq!(
            subprocess["shortDescription"]["text"],
            json!("`…` starts a process: <script>alert(1)</script> | pipes & co")
        );
        assert_eq!(
            subprocess["helpUri"],
            json!("https://docs.example.org/wasi?a=1&b=2")
        );
        let first_text = results[0]["message"]["text"].as_str().unwrap();
        assert!(!first_text.contains("Fix:"));
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(encode_uri_path("src/app.py"), "src/app.py");
        assert_eq!(encode_uri_path("my app/a#b?.py"), "my%20app/a%23b%3F.py");
        assert_eq!(encode_uri_path("dir\\é.py"), "dir/%C3%A9.py");
    }

    #[test]
    fn unknown_lines_leave_out_the_region() {
        let mut report = sample_report();
        report.findings[2].location.line = 0;
        report.findings[2].location.column = 0;
        let sarif = render_sarif(&report);
        assert!(
            sarif
                .pointer("/runs/0/results/2/locations/0/physicalLocation/region")
                .is_none()
        );
    }
}
