//! Throughput and peak memory of `wasm-migrate analyze` on a large real tree, next to a
//! baseline measured in the same run: a Python script that only runs `ast.parse` and collects
//! imports over the same files (`baseline_ast_parse.py`).
//!
//! ```text
//! cargo bench -p wasm-migrate-cli --bench analyze_throughput            # stdlib + site-packages
//! cargo bench -p wasm-migrate-cli --bench analyze_throughput -- DIR...   # other trees
//! PYTHON=/path/to/venv/bin/python cargo bench ...                         # another interpreter
//! ROUNDS=5 cargo bench ...                                                 # more rounds (3)
//! ```
//!
//! Each child's peak memory is its maximum resident set size from `wait4`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Measured {
    wall: Duration,
    peak_rss_mib: f64,
    stdout: Vec<u8>,
}

/// Runs a command to completion, measuring wall time and peak RSS.
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which also reads its rusage"
)]
fn measure(cmd: &mut Command) -> Measured {
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut stdout = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        std::io::Read::read_to_end(&mut out, &mut stdout).expect("read child output");
    }
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our child's, and status and usage are valid for writes.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert!(pid > 0, "wait4 failed");
    let wall = started.elapsed();
    Measured {
        wall,
        peak_rss_mib: usage.ru_maxrss as f64 / 1024.0,
        stdout,
    }
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The interpreter's standard library and site-packages.
fn default_trees() -> Vec<PathBuf> {
    let out = Command::new(python())
        .args([
            "-c",
            "import sysconfig; p = sysconfig.get_paths(); print(p['stdlib']); print(p['purelib'])",
        ])
        .output()
        .expect("python3 runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .collect()
}

struct Run {
    files: Vec<String>,
    lines: u64,
    measured: Measured,
}

/// Analyzes a directory (symlinks to the trees) and returns the files it parsed.
fn analyze(root: &Path) -> Run {
    let bin = env!("CARGO_BIN_EXE_wasm-migrate");
    let measured = measure(
        Command::new(bin)
            .args([
                "analyze",
                root.to_str().unwrap(),
                "--format",
                "json",
                "--quiet",
                "--fail-on",
                "never",
            ])
            .env("NO_COLOR", "1"),
    );
    let report: serde_json::Value =
        serde_json::from_slice(&measured.stdout).expect("analyze prints JSON");
    let files = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter(|f| f["status"] == "parsed")
        .map(|f| {
            root.join(f["file"].as_str().unwrap())
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let lines = report["summary"]["python_lines"].as_u64().unwrap_or(0);
    Run {
        files,
        lines,
        measured,
    }
}

fn linked_root(trees: &[PathBuf]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (i, tree) in trees.iter().enumerate() {
        // Named so that the walker's skip list (site-packages, venv...) does not apply to it.
        std::os::unix::fs::symlink(tree, dir.path().join(format!("tree{i}"))).expect("symlink");
    }
    dir
}

fn main() {
    let args: Vec<PathBuf> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    let trees = if args.is_empty() {
        default_trees()
    } else {
        args
    };
    assert!(!trees.is_empty(), "no tree to analyze");
    println!(
        "trees: {}",
        trees
            .iter()
            .map(|t| t.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );

    // Peak memory on the first tree alone, then on all: it should not grow with the tree.
    let small_root = linked_root(&trees[..1]);
    let small = analyze(small_root.path());
    let root = linked_root(&trees);
    // A first run gives the file list the baseline parses, and warms the disk cache.
    let first = analyze(root.path());

    let list = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(list.path(), first.files.join("\n")).expect("write file list");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/baseline_ast_parse.py");
    let rate = |lines: u64, wall: Duration| lines as f64 / wall.as_secs_f64();

    // The machine drifts by a third within tens of seconds: the two sides alternate, and
    // the ratio is the median of the rounds' ratios.
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3)
        .max(1);
    let mut ratios = Vec::new();
    let mut last = None;
    for round in 1..=rounds {
        // Baseline first, then ours: each round's pair runs back to back.
        let baseline = measure(Command::new(python()).arg(&script).arg(list.path()));
        let base: serde_json::Value =
            serde_json::from_slice(&baseline.stdout).expect("baseline prints JSON");
        let base_lines = base["lines"].as_u64().unwrap_or(0);
        let ours = analyze(root.path());
        let ratio = rate(ours.lines, ours.measured.wall) / rate(base_lines, baseline.wall);
        println!(
            "round {round}: wasm-migrate {:.2} s, baseline {:.2} s, ratio {ratio:.1}x",
            ours.measured.wall.as_secs_f64(),
            baseline.wall.as_secs_f64()
        );
        ratios.push(ratio);
        last = Some((ours, baseline, base_lines));
    }
    let (ours, baseline, base_lines) = last.expect("at least one round");
    let ours_rate = rate(ours.lines, ours.measured.wall);
    let base_rate = rate(base_lines, baseline.wall);
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!("files parsed: {} ({} lines)", ours.files.len(), ours.lines);
    println!(
        "{:<34} {:>10} {:>14} {:>12}",
        "last round", "wall (s)", "lines/s", "peak RSS MiB"
    );
    println!(
        "{:<34} {:>10.2} {:>14.0} {:>12.1}",
        "wasm-migrate analyze (all cores)",
        ours.measured.wall.as_secs_f64(),
        ours_rate,
        ours.measured.peak_rss_mib
    );
    println!(
        "{:<34} {:>10.2} {:>14.0} {:>12.1}",
        "baseline: ast.parse + imports",
        baseline.wall.as_secs_f64(),
        base_rate,
        baseline.peak_rss_mib
    );
    println!(
        "{:<34} {:>10.2} {:>14.0} {:>12.1}",
        format!("wasm-migrate on {} files only", small.files.len()),
        small.measured.wall.as_secs_f64(),
        rate(small.lines, small.measured.wall),
        small.measured.peak_rss_mib
    );
    println!(
        "throughput ratio (ours / baseline), median of {rounds} alternating rounds: {median:.1}x"
    );
    println!(
        "peak memory: {:.1} MiB for {} lines vs {:.1} MiB for {} lines",
        ours.measured.peak_rss_mib, ours.lines, small.measured.peak_rss_mib, small.lines
    );
}
