//! A structure-aware fuzzer for the analyzer: services made of fixture files (Python sources,
//! notebooks, requirements, pyproject/setup files, Dockerfiles, Procfiles, compose and plan
//! YAML), mutated at the byte, token and line level, analyzed with the compiled-in knowledge
//! and rendered in every format. Nothing may panic, and no analysis may take more than a few
//! seconds.
//!
//! CI runs a short burst. The long run (its command is in the README's benchmark section):
//!   FUZZ_EXECS=1000000 FUZZ_THREADS=2 cargo test --locked -p wasm-migrate-analyzer --test fuzz -- --nocapture
//! An input that fails is written under target/fuzz-crashes/ and named in the failure; copy it
//! into analyzer/tests/fuzz/regressions/ (a folder per input), where every run replays it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use wasm_migrate_analyzer::render::{Format, render};
use wasm_migrate_analyzer::{Knowledge, Options, analyze_with};

/// Longer than this for one small service is a hang.
const SLOW: Duration = Duration::from_secs(5);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The seed corpus: every fixture and sample file of a kind the analyzer reads, by name.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["analyzer/tests/fixtures", "tests/services", "samples"] {
        collect(&root.join(dir), &mut files);
    }
    files.sort();
    let seeds: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_string();
            let bytes = std::fs::read(&path).ok()?;
            (bytes.len() < 64 << 10).then_some((name, bytes))
        })
        .collect();
    assert!(
        seeds.len() > 50,
        "the seed corpus is the fixtures: {}",
        seeds.len()
    );
    seeds
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(
                name.as_str(),
                "model" | "migrated" | "__pycache__" | "target"
            ) {
                collect(&path, out);
            }
        } else if read_by_the_analyzer(&name) {
            out.push(path);
        }
    }
}

fn read_by_the_analyzer(name: &str) -> bool {
    let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
    matches!(
        extension,
        "py" | "ipynb" | "txt" | "toml" | "cfg" | "yml" | "yaml" | "json"
    ) || name.starts_with("Dockerfile")
        || matches!(name, "Procfile" | "Pipfile" | "Makefile")
}

/// Tokens that stress a Python parser and the analyzer's idioms.
const TOKENS: &[&str] = &[
    "\0",
    "\r",
    "\r\n",
    "\t",
    "\u{feff}",
    "\u{202e}",
    "é",
    "'''",
    "\"\"\"",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    "\\",
    "#",
    "@",
    "lambda x: x",
    "async ",
    "await ",
    "yield ",
    "import ",
    "from . import ",
    "from .. import x",
    "import torch\n",
    "@app.route(\"/p\", methods=[\"POST\"])\n",
    "@app.post(\"/p\")\n",
    "torch.load(",
    "model(",
    ".eval()",
    "transforms.Resize(",
    "cv2.resize(",
    "np.float32",
    ".astype(",
    "Image.open(",
    "ort.InferenceSession(",
    "from_pretrained(",
    "pipeline(\"",
    "\n    ",
    "\n\t",
    "if __name__ == \"__main__\":\n",
    "app.run(port=",
    "-e .",
    "==",
    ">=",
    "; python_version<\"3\"",
    "[tool.poetry.dependencies]\n",
    "FROM python:3\n",
    "CMD [\"gunicorn\", \"app:app\"]\n",
    "web: uvicorn main:app\n",
    "- ",
    ": &a\n",
    "*a",
    "!!python/object:os.system\n",
    "{{",
    "}}",
    "%s",
    "999999999999999999999999",
];

fn mutate(rng: &mut fastrand::Rng, bytes: &mut Vec<u8>, donor: &[u8]) {
    for _ in 0..rng.usize(1..=4) {
        let at = rng.usize(0..=bytes.len());
        match rng.u8(0..9) {
            0 if !bytes.is_empty() => {
                let i = rng.usize(0..bytes.len());
                bytes[i] ^= 1 << rng.u8(0..8);
            }
            1 => bytes.insert(at, rng.u8(..)),
            2 if !bytes.is_empty() => {
                let end = (at + rng.usize(0..64)).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            3 => {
                let token = TOKENS[rng.usize(0..TOKENS.len())].as_bytes();
                bytes.splice(at..at, token.iter().copied());
            }
            4 if !bytes.is_empty() => {
                // Duplicate a range: repeated blocks, deep nesting.
                let start = rng.usize(0..bytes.len());
                let end = (start + rng.usize(1..256)).min(bytes.len());
                let piece = bytes[start..end].to_vec();
                for _ in 0..rng.usize(1..8) {
                    bytes.splice(at..at, piece.iter().copied());
                }
            }
            5 if !donor.is_empty() => {
                // Splice in lines of another file.
                let start = rng.usize(0..donor.len());
                let end = (start + rng.usize(1..512)).min(donor.len());
                bytes.splice(at..at, donor[start..end].iter().copied());
            }
            6 => {
                let open = if rng.bool() { b"(" } else { b"[" };
                let depth = rng.usize(1..200);
                let nested: Vec<u8> = std::iter::repeat_n(open[0], depth).collect();
                bytes.splice(at..at, nested);
            }
            7 => bytes.truncate(at),
            _ => {
                let line: Vec<u8> = std::iter::repeat_n(b'x', rng.usize(1..20_000)).collect();
                bytes.splice(at..at, line);
            }
        }
    }
}

/// One service: a few seed files, mutated, under names the analyzer looks for.
fn service(rng: &mut fastrand::Rng, seeds: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for _ in 0..rng.usize(1..=4) {
        let (name, bytes) = &seeds[rng.usize(0..seeds.len())];
        let donor = &seeds[rng.usize(0..seeds.len())].1;
        let mut bytes = bytes.clone();
        if rng.u8(0..10) > 0 {
            mutate(rng, &mut bytes, donor);
        }
        let name = if files.iter().any(|(n, _)| n == name) {
            format!("pkg/{name}")
        } else {
            name.clone()
        };
        files.push((name, bytes));
    }
    files
}

fn write(dir: &Path, files: &[(String, Vec<u8>)]) {
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

thread_local! {
    /// Panics on this thread since the last look, caught or not: the analyzer catches a
    /// dependency's panic as a safety net, but each one is a bug the fuzzer should report.
    static PANICS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn count_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let location = info.location().map(|l| l.to_string()).unwrap_or_default();
            PANICS.with(|p| p.borrow_mut().push(format!("{info} at {location}")));
        }));
    });
}

/// Analyzes `dir` and renders the report in every format; why it failed, if it did.
fn exercise(dir: &Path, knowledge: &Knowledge) -> Option<String> {
    count_panics();
    PANICS.with(|p| p.borrow_mut().clear());
    let started = Instant::now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let options = Options::default();
        // An error for a bad input is fine; a panic is not.
        if let Ok(report) = analyze_with(dir, &options, knowledge, &|_, _| {}) {
            for format in [
                Format::Text,
                Format::Json,
                Format::Yaml,
                Format::Sarif,
                Format::Html,
            ] {
                let _ = render(&report, format, false);
            }
        }
    }));
    let caught = PANICS.with(|p| p.borrow_mut().drain(..).collect::<Vec<_>>());
    if outcome.is_ok() && !caught.is_empty() {
        return Some(format!("a panic, caught inside: {}", caught.join("; ")));
    }
    match (outcome, started.elapsed()) {
        (Err(panic), _) => Some(format!(
            "panicked: {}",
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
        (Ok(()), took) if took > SLOW => Some(format!("took {took:?}")),
        _ => None,
    }
}

/// Keeps a failing input where it can be replayed.
fn keep(files: &[(String, Vec<u8>)], seed: u64) -> PathBuf {
    let dir = repo_root().join(format!("target/fuzz-crashes/{seed}"));
    let _ = std::fs::remove_dir_all(&dir);
    write(&dir, files);
    dir
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn analyzing_mutated_services_never_panics_or_hangs() {
    let executions = env_number("FUZZ_EXECS", 1500);
    let threads = env_number("FUZZ_THREADS", 1).max(1);
    let first_seed = env_number("FUZZ_SEED", 0x5eed);
    let seeds = seeds();
    let knowledge = Knowledge::load(None).unwrap();
    let done = AtomicUsize::new(0);
    let started = Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                let (seeds, knowledge, done) = (&seeds, &knowledge, &done);
                scope.spawn(move || {
                    let scratch = tempfile::tempdir().unwrap();
                    let mut failures = Vec::new();
                    let mut case = worker;
                    while case < executions {
                        let seed = first_seed.wrapping_add(case);
                        let mut rng = fastrand::Rng::with_seed(seed);
                        let files = service(&mut rng, seeds);
                        let dir = scratch.path().join(case.to_string());
                        write(&dir, &files);
                        if let Some(why) = exercise(&dir, knowledge) {
                            failures.push(format!(
                                "seed {seed}: {why} ({})",
                                keep(&files, seed).display()
                            ));
                        }
                        let _ = std::fs::remove_dir_all(&dir);
                        let total = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if total % 50_000 == 0 {
                            eprintln!(
                                "{total} executions, {:.0}/s",
                                total as f64 / started.elapsed().as_secs_f64()
                            );
                        }
                        case += threads;
                    }
                    failures
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let total = done.load(Ordering::Relaxed);
    eprintln!(
        "analyzer fuzz: {total} executions in {:.1} s ({:.0}/s), {} failure(s)",
        started.elapsed().as_secs_f64(),
        total as f64 / started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_kept_regression_input_is_analyzed_without_a_panic() {
    let knowledge = Knowledge::load(None).unwrap();
    let regressions = repo_root().join("analyzer/tests/fuzz/regressions");
    let entries: Vec<_> = std::fs::read_dir(&regressions).unwrap().flatten().collect();
    assert!(
        !entries.is_empty(),
        "{} holds the inputs found so far",
        regressions.display()
    );
    for entry in entries {
        let why = exercise(&entry.path(), &knowledge);
        assert!(
            why.is_none(),
            "{}: {}",
            entry.path().display(),
            why.unwrap_or_default()
        );
    }
}
