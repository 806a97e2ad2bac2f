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

fn rule_descriptor(finding: &Finding) -> Json {
    let targets: Vec<&str> = finding.targets.iter().map(|t| t.as_str()).collect();
    let mut tags = vec![
        "wasm-migrate".to_string(),
        finding.category.as_str().to_string(),
    ];
    tags.extend(targets.iter().map(|t| format!("target={t}")));

    let mut full = format!(
        "{} ({}: {}).",
        finding.message.trim().trim_end_matches('.'),
        finding.category.as_str(),
        category_meaning(finding.category)
    );
    if !targets.is_empty() {
        full.push_str(&format!(" Stands in the way of: {}.", targets.join(", ")));
    }

    let mut help_markdown = finding.remedy.trim().to_string();
    for link in &finding.links {
        help_markdown.push_str(&format!("\n\n- <{link}>"));
    }

    let mut rule = Map::new();
    rule.insert("id".into(), json!(finding.rule));
    rule.insert("name".into(), json!(pascal_case(&finding.rule)));
    rule.insert(
        "shortDescription".into(),
        json!({ "text": first_sentence(&finding.message) }),
    );
    rule.insert("fullDescription".into(), json!({ "text": full }));
    rule.insert(
        "help".into(),
        json!({ "text": finding.remedy.trim(), "markdown": help_markdown }),
    );
    if let Some(link) = finding.links.first() {
        rule.insert("helpUri".into(), json!(link));
    }
    rule.insert(
        "defaultConfiguration".into(),
        json!({ "level": level(finding.category) }),
    );
    rule.insert(
        "properties".into(),
        json!({
            "tags": tags,
            "problem.severity": problem_severity(finding.category),
            "effort": finding.effort,
        }),
    );
    Json::Object(rule)
}

fn result(finding: &Finding, rule_index: usize, fingerprint: String) -> Json {
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

    json!({
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": level(finding.category),
        "message": { "text": finding.message },
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
    // Rules in id order, each described by its first finding.
    let mut first_of_rule: BTreeMap<&str, &Finding> = BTreeMap::new();
    for finding in &report.findings {
        first_of_rule
            .entry(finding.rule.as_str())
            .or_insert(finding);
    }
    let index: BTreeMap<&str, usize> = first_of_rule
        .keys()
        .enumerate()
        .map(|(i, id)| (*id, i))
        .collect();
    let rules: Vec<Json> = first_of_rule.values().map(|f| rule_descriptor(f)).collect();

    let results: Vec<Json> = report
        .findings
        .iter()
        .zip(fingerprints(&report.findings))
        .map(|(finding, fingerprint)| result(finding, index[finding.rule.as_str()], fingerprint))
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
        assert_eq!(s("/runs/0/tool/driver/version"), json!("0.1.0"));
        assert!(s("/runs/0/tool/driver/informationUri").is_string());

        let rules = s("/runs/0/tool/driver/rules");
        let rules = rules.as_array().unwrap();
        assert_eq!(rules.len(), 3);
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["cuda-device", "pickle-load", "process-subprocess"]);
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
        let last = hash(&sarif, 3);
        assert_ne!(first, last);
        assert_eq!(first[..16], last[..16]);
        assert!(last.ends_with(":2"));
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
