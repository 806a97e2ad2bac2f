//! Every code rule has a fixture of Python that must and must not trigger it: each line that
//! must trigger ends with `# expect: <rule-id>`; no other line may. Headers
//! `# fixture-files: a, b` and `# fixture-deps: x, y` create files and declared dependencies.

use std::collections::BTreeSet;
use std::path::Path;

use wasm_migrate_analyzer::{Options, RuleSet, analyze};

fn header(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(key))
        .flat_map(|rest| {
            rest.split([',', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_rule_matches_exactly_its_fixture_lines() {
    let rules = RuleSet::builtin().expect("builtin rules load");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules");
    let mut failures = Vec::new();
    for rule in rules.rules() {
        let fixture = fixtures.join(format!("{}.py", rule.id));
        let Ok(text) = std::fs::read_to_string(&fixture) else {
            failures.push(format!("{}: no fixture at {}", rule.id, fixture.display()));
            continue;
        };
        let marker = format!("# expect: {}", rule.id);
        let expected: BTreeSet<u32> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains(&marker))
            .map(|(i, _)| i as u32 + 1)
            .collect();
        if expected.is_empty() {
            failures.push(format!("{}: fixture has no `{marker}` line", rule.id));
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("fixture.py"), &text).unwrap();
        for file in header(&text, "# fixture-files:") {
            let path = dir.path().join(&file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "// fixture\n").unwrap();
        }
        let deps = header(&text, "# fixture-deps:");
        if !deps.is_empty() {
            std::fs::write(dir.path().join("requirements.txt"), deps.join("\n")).unwrap();
        }
        let report = analyze(dir.path(), &Options::default()).expect("fixture analyzes");
        let found: BTreeSet<u32> = report
            .findings
            .iter()
            .filter(|f| f.rule == rule.id && f.location.file == "fixture.py")
            .map(|f| f.location.line)
            .collect();
        let missing: Vec<_> = expected.difference(&found).collect();
        let extra: Vec<_> = found.difference(&expected).collect();
        if !missing.is_empty() || !extra.is_empty() {
            failures.push(format!(
                "{}: missing lines {missing:?}, unexpected lines {extra:?}",
                rule.id
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rule fixtures fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn knowledge_base_is_consistent_and_large_enough() {
    let kb = wasm_migrate_analyzer::KnowledgeBase::builtin().expect("packages load");
    let problems = kb.consistency_problems();
    assert!(
        problems.is_empty(),
        "knowledge base problems:\n{}",
        problems.join("\n")
    );
    assert!(kb.len() >= 150, "only {} distributions", kb.len());
    for (import, dist) in [
        ("cv2", "opencv-python"),
        ("PIL", "pillow"),
        ("sklearn", "scikit-learn"),
        ("skimage", "scikit-image"),
        ("yaml", "pyyaml"),
    ] {
        assert_eq!(
            kb.package_for_import(import).map(|p| p.name.to_lowercase()),
            Some(dist.to_string()),
            "{import}"
        );
    }
    assert_eq!(kb.canonical("opencv-python-headless"), "opencv-python");
}
