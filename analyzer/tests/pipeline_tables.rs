//! Every entry of the pipeline tables (`data/pipeline/loaders.yaml`, `steps.yaml`) has a
//! fixture of Python, `tests/fixtures/pipeline/{loaders,steps}/<id>.py`, whose lines that
//! must be detected end with `# expect: key=value; key=value`. A loader's line names the
//! `framework`, and the `artifact` and `architecture` when the call gives them; a step's line
//! names the `library`, the `op` and the parameters to check (values as Python writes them).
//! No other line of a loader fixture may load a model.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use wasm_migrate_analyzer::pipeline::Step;
use wasm_migrate_analyzer::pipeline::tables::tables;
use wasm_migrate_analyzer::{Options, Report, analyze};

/// The fixture's expectations: line number and `key=value` pairs.
fn expectations(text: &str) -> Vec<(u32, BTreeMap<String, String>)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let (_, rest) = line.split_once("# expect:")?;
            let fields = rest
                .split(';')
                .filter_map(|f| f.trim().split_once('='))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect();
            Some((i as u32 + 1, fields))
        })
        .collect()
}

fn fixtures(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pipeline")
        .join(kind)
}

/// The fixture's text and the analysis of it as a service's `app.py`.
fn analyze_fixture(kind: &str, id: &str) -> Result<(String, Report), String> {
    let path = fixtures(kind).join(format!("{id}.py"));
    let text = std::fs::read_to_string(&path)
        .map_err(|_| format!("{id}: no fixture at {}", path.display()))?;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), &text).unwrap();
    let report = analyze(dir.path(), &Options::default()).expect("fixture analyzes");
    Ok((text, report))
}

/// Fixtures that name no entry: an entry removed, or renamed without its fixture.
fn orphans(kind: &str, ids: &BTreeSet<&str>) -> Vec<String> {
    let mut orphans = Vec::new();
    for file in std::fs::read_dir(fixtures(kind)).unwrap() {
        let name = file.unwrap().file_name().to_string_lossy().into_owned();
        let id = name.strip_suffix(".py").unwrap_or(&name);
        if !ids.contains(id) {
            orphans.push(format!("{kind}/{name}: no table entry `{id}`"));
        }
    }
    orphans
}

fn report_failures(what: &str, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} {what} fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_loader_entry_detects_its_fixture() {
    let mut failures = Vec::new();
    for entry in &tables().loaders {
        let (text, report) = match analyze_fixture("loaders", &entry.id) {
            Ok(found) => found,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let expected = expectations(&text);
        if expected.is_empty() {
            failures.push(format!("{}: the fixture has no `# expect:` line", entry.id));
        }
        let models: Vec<_> = report
            .pipeline
            .models
            .iter()
            .filter(|m| m.location.file == "app.py")
            .collect();
        let mut exercised = BTreeSet::new();
        for (line, fields) in &expected {
            let Some(model) = models
                .iter()
                .find(|m| m.location.line == *line && entry.calls.contains(&m.call))
            else {
                failures.push(format!("{}:{line}: no model load of the entry", entry.id));
                continue;
            };
            exercised.insert(model.call.as_str());
            let found = [
                ("framework", Some(model.framework.as_str().to_string())),
                ("artifact", model.artifact.clone()),
                ("architecture", model.architecture.clone()),
            ];
            for (key, value) in found {
                let want = fields.get(key);
                if want != value.as_ref() {
                    failures.push(format!(
                        "{}:{line}: {key} is {value:?}, the fixture expects {want:?}",
                        entry.id
                    ));
                }
            }
        }
        for call in &entry.calls {
            if !exercised.contains(call.as_str()) {
                failures.push(format!("{}: no `# expect:` line calls {call}", entry.id));
            }
        }
        let lines: BTreeSet<u32> = expected.iter().map(|(line, _)| *line).collect();
        for m in models.iter().filter(|m| !lines.contains(&m.location.line)) {
            failures.push(format!(
                "{}:{}: {} loads a model on a line not expected to",
                entry.id, m.location.line, m.call
            ));
        }
    }
    let ids = tables().loaders.iter().map(|e| e.id.as_str()).collect();
    failures.extend(orphans("loaders", &ids));
    report_failures("loader fixtures", failures);
}

/// An entry of steps.yaml: its id, library (where it has one) and the ops each of which the
/// fixture must show.
struct StepsEntry<'a> {
    id: &'a str,
    library: Option<String>,
    ops: &'a [String],
}

fn step_entries() -> Vec<StepsEntry<'static>> {
    let t = tables();
    let library = |l: wasm_migrate_analyzer::pipeline::StepLibrary| Some(l.as_str().to_string());
    let mut entries: Vec<StepsEntry> = t
        .steps
        .iter()
        .map(|e| StepsEntry {
            id: &e.id,
            library: library(e.library),
            ops: &[],
        })
        .collect();
    entries.extend(t.torchvision.iter().map(|e| StepsEntry {
        id: &e.id,
        library: library(wasm_migrate_analyzer::pipeline::StepLibrary::Torchvision),
        ops: &e.ops,
    }));
    entries.extend(t.albumentations.iter().map(|e| StepsEntry {
        id: &e.id,
        library: library(wasm_migrate_analyzer::pipeline::StepLibrary::Albumentations),
        ops: &e.ops,
    }));
    entries.extend(t.keras_modes.iter().map(|e| StepsEntry {
        id: &e.id,
        library: None,
        ops: &[],
    }));
    entries
}

/// What differs between a step and the fixture's expectation, if it is the step at all.
fn step_mismatch(step: &Step, fields: &BTreeMap<String, String>) -> Option<Vec<String>> {
    if fields.get("op") != Some(&step.op)
        || fields.get("library").map(String::as_str) != Some(step.library.as_str())
    {
        return None;
    }
    let mismatches = fields
        .iter()
        .filter(|(k, _)| *k != "op" && *k != "library")
        .filter_map(|(key, want)| {
            let found = step.params.get(key).map(ToString::to_string);
            (found.as_ref() != Some(want)).then(|| format!("{key} is {found:?}, expected {want}"))
        })
        .collect();
    Some(mismatches)
}

#[test]
fn every_step_entry_detects_its_fixture() {
    let mut failures = Vec::new();
    let entries = step_entries();
    for entry in &entries {
        let (text, report) = match analyze_fixture("steps", entry.id) {
            Ok(found) => found,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let expected = expectations(&text);
        if expected.is_empty() {
            failures.push(format!("{}: the fixture has no `# expect:` line", entry.id));
        }
        let steps: Vec<&Step> = report
            .pipeline
            .preprocessing
            .iter()
            .chain(&report.pipeline.postprocessing)
            .filter(|s| s.location.file == "app.py")
            .collect();
        let mut exercised = BTreeSet::new();
        for (line, fields) in &expected {
            if entry.library.is_some() && fields.get("library") != entry.library.as_ref() {
                failures.push(format!("{}:{line}: expects another library", entry.id));
            }
            let candidates: Vec<Vec<String>> = steps
                .iter()
                .filter(|s| s.location.line == *line)
                .filter_map(|s| step_mismatch(s, fields))
                .collect();
            match candidates.iter().find(|m| m.is_empty()) {
                Some(_) => {
                    exercised.insert(fields["op"].clone());
                }
                None if candidates.is_empty() => {
                    let found: Vec<_> = steps.iter().filter(|s| s.location.line == *line).collect();
                    failures.push(format!(
                        "{}:{line}: no step {fields:?}; found {found:?}",
                        entry.id
                    ));
                }
                None => failures.push(format!("{}:{line}: {}", entry.id, candidates[0].join(", "))),
            }
        }
        for op in entry.ops {
            if !exercised.contains(op) {
                failures.push(format!("{}: no `# expect:` line shows {op}", entry.id));
            }
        }
    }
    let ids = entries.iter().map(|e| e.id).collect();
    failures.extend(orphans("steps", &ids));
    report_failures("step fixtures", failures);
}
