//! `wasm-migrate bench` on the Flask sample and on gunicorn with two workers: the original
//! under its own server and the module under `serve`, measured side by side in a short run.
//! The original starts by the same server command as `verify`'s (whose tests run uvicorn and
//! the text sample), and a bundle is benched in python_bundle.rs. The figures are checked for plausibility
//! (positive, and ordered where physics orders them), never for values. One page is opened
//! in headless Chromium (the rendering is the same code for every service, and snapshot-tested
//! in `measure/`); an interrupted run leaves nothing running.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use wasm_migrate_tests::binary;
use wasm_migrate_tests::flow::{migrate, ok, wm};

/// The smallest budget that still measures every figure: one start, one round. The
/// server-kind variants use it; the Flask sample runs `--quick` alone.
const SMALLEST: [&str; 6] = ["--starts", "1", "--rounds", "1", "--requests", "6"];

/// `bench SERVICE --quick` with the text table on stdout and the JSON and HTML reports
/// written beside: the report, the table, and the page's path.
fn bench(service: &Path, out: &Path, extra: &[&str]) -> (Value, String, PathBuf) {
    let json = out.join("bench.json");
    let html = out.join("bench.html");
    let mut args = vec![
        "bench",
        service.to_str().unwrap(),
        "--quick",
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ];
    args.extend(extra);
    let text = ok(wm(&args), "wasm-migrate bench");
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (report, text, html)
}

fn f(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {value}"))
}

fn side<'r>(report: &'r Value, name: &str) -> &'r Value {
    report["sides"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["side"] == name)
        .unwrap_or_else(|| panic!("no {name} side in {report:#}"))
}

/// Every figure positive, and ordered where physics orders it.
fn assert_plausible(report: &Value) {
    let starts = report["budget"]["starts"].as_u64().unwrap() as usize;
    let requests = report["budget"]["requests"].as_u64().unwrap()
        * report["budget"]["rounds"].as_u64().unwrap();
    for name in ["original", "migrated"] {
        let side = side(report, name);
        let cold = &side["cold_start"];
        let samples = cold["samples_ms"].as_array().unwrap();
        assert_eq!(samples.len(), starts, "{name}: {cold:#}");
        assert!(samples.iter().all(|s| f(s) > 0.0), "{name}: {cold:#}");
        // A port accepts before it answers; the model loads inside the start.
        assert!(
            f(&cold["listening_median_ms"]) <= f(&cold["median_ms"]),
            "{name}: {cold:#}"
        );
        if let Some(load) = cold["model_load_median_ms"].as_f64() {
            assert!(
                load > 0.0 && load < f(&cold["median_ms"]),
                "{name}: {cold:#}"
            );
        }
        assert_eq!(cold["agreed"], true, "{name}: {cold:#}");
        for steady in side["steady"].as_array().unwrap() {
            let (p50, p90, p99) = (
                f(&steady["p50_ms"]),
                f(&steady["p90_ms"]),
                f(&steady["p99_ms"]),
            );
            assert!(0.0 < p50 && p50 <= p90 && p90 <= p99, "{name}: {steady:#}");
            assert!(f(&steady["throughput_rps"]) > 0.0, "{name}: {steady:#}");
            assert_eq!(steady["errors"], 0, "{name}: {steady:#}");
            assert_eq!(
                steady["latencies_ms"].as_array().unwrap().len() as u64,
                requests,
                "{name}"
            );
        }
        let memory = &side["memory"];
        let points = memory["points"].as_array().unwrap();
        assert_eq!(points.len(), 2, "{name}: {memory:#}");
        for point in points {
            assert!(
                f(&point["pss_mib"]) > 1.0 && f(&point["rss_mib"]) >= f(&point["pss_mib"]) * 0.5,
                "{point:#}"
            );
        }
        assert!(
            f(&memory["one_instance_peak_rss_mib"]) > 1.0,
            "{name}: {memory:#}"
        );
        assert!(f(&memory["instances_per_gib"]) > 0.0, "{name}: {memory:#}");
        assert!(side["size"]["total_bytes"].as_u64().unwrap() > 0, "{name}");
    }
    let migrated = &side(report, "migrated")["cold_start"];
    // The module's first start compiled it; one more instance in a warm host skips the
    // process, the module load and the model load that a fresh start pays.
    assert!(f(&migrated["first_start_ms"]) > 0.0);
    let warm = &migrated["warm_instance"];
    assert!(
        f(&warm["listening_median_ms"]) <= f(&warm["median_ms"]),
        "{warm:#}"
    );
    assert!(
        f(&warm["median_ms"]) < f(&migrated["median_ms"]),
        "{migrated:#}"
    );
    // The module's start, phase by phase, from its own ready line: each phase took time, and
    // together they fit inside the start bench timed from outside.
    let phases = &migrated["phases"];
    let phase = |name: &str| f(&phases[name]);
    for name in [
        "engine_ms",
        "module_ms",
        "model_ms",
        "instance_ms",
        "first_answer_ms",
    ] {
        assert!(phase(name) > 0.0, "{name}: {phases:#}");
    }
    let critical = phase("process_ms")
        + (phase("engine_ms") + phase("module_ms")).max(phase("model_ms"))
        + phase("instance_ms")
        + phase("first_answer_ms");
    assert!(
        critical <= f(&migrated["median_ms"]) * 1.5 + 5.0,
        "{critical} ms of phases against the start: {migrated:#}"
    );
    // A second Python worker is a second interpreter with its own framework and model.
    let original = &side(report, "original")["memory"]["points"];
    assert!(
        f(&original[1]["pss_mib"]) > f(&original[0]["pss_mib"]),
        "{original:#}"
    );
    let parts: Vec<&str> = side(report, "original")["size"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["what"].as_str().unwrap())
        .collect();
    assert!(
        parts.contains(&"site-packages") && parts.contains(&"interpreter"),
        "{parts:?}"
    );
    let cost = &report["cost"];
    assert!(
        cost["original"]["nodes"].as_u64().unwrap() >= 1
            && cost["migrated"]["nodes"].as_u64().unwrap() >= 1,
        "{cost:#}"
    );
    assert!(cost["label"].as_str().unwrap().contains("a model"));
    let claims = report["claims"].as_array().unwrap();
    assert!(claims.len() >= 5, "{claims:?}");
    // Each claim says why it holds or not; the fresh start names where its time went.
    assert!(
        claims
            .iter()
            .all(|c| c["why"].as_str().is_some_and(|w| w.len() > 20)),
        "{claims:#?}"
    );
    assert!(
        claims[0]["why"]
            .as_str()
            .unwrap()
            .contains("module from the cache"),
        "{:#}",
        claims[0]
    );
    assert!(cost["inputs"]["headroom"].as_f64().is_some(), "{cost:#}");
}

fn assert_table(text: &str, report: &Value) {
    assert!(text.contains("The article's claims"), "{text}");
    for claim in report["claims"].as_array().unwrap() {
        assert!(text.contains(claim["what"].as_str().unwrap()), "{text}");
        assert!(text.contains(claim["article"].as_str().unwrap()), "{text}");
    }
    let starts = report["budget"]["starts"].as_u64().unwrap();
    assert!(
        text.contains(&format!("cold start, median of {starts}"))
            && text.contains("instances per GiB"),
        "{text}"
    );
}

/// The page holds the four plots, each an SVG with both sides drawn (read as text; the
/// Flask test also has Chromium build its DOM).
fn assert_plots_in_page(html: &Path) {
    let page = std::fs::read_to_string(html).unwrap();
    assert_plots(&page);
}

fn assert_plots(dom: &str) {
    for id in ["latency-cdf", "memory", "cold-start", "nodes"] {
        let start = dom
            .find(&format!("<svg id=\"{id}\""))
            .unwrap_or_else(|| panic!("no {id} plot in the page"));
        let plot = &dom[start..start + dom[start..].find("</svg>").unwrap()];
        let drawn = plot.matches("<polyline").count() + plot.matches("<circle").count();
        assert!(drawn >= 2, "{id}: {drawn} marks:\n{plot}");
        assert!(
            plot.contains("original") && plot.contains("migrated"),
            "{id}: {plot}"
        );
    }
}

/// Debian's headless Chromium (`.ci/run` installs it).
fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    [
        "chromium-headless-shell",
        "chromium",
        "chromium-browser",
        "google-chrome",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|p| p.is_file())
    .expect("headless Chromium is missing: apt-get install chromium-headless-shell (.ci/run does)")
}

/// Opens the page in headless Chromium, once: the DOM it built holds the four plots, each
/// with drawn series, and the page renders to a screenshot.
fn assert_plots_in_chromium(html: &Path) {
    let shot = html.with_extension("png");
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1200,2000",
            "--dump-dom",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_plots(&String::from_utf8_lossy(&output.stdout));
    assert!(
        std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0) > 10_000,
        "no screenshot"
    );
}

#[test]
fn bench_measures_the_flask_sample_against_its_module() {
    let (dir, service) = migrate("torchvision-flask");
    // The default backend: the fastest the machine has (OpenVINO in the test venv).
    let (report, text, html) = bench(&service, dir.path(), &[]);
    assert_eq!(report["backend"], "openvino");
    assert_plausible(&report);
    assert_table(&text, &report);
    assert_plots_in_chromium(&html);
    // What WasmEdge's OpenVINO backend adds to every request (it compiles in each set_input).
    let warm = &side(&report, "migrated")["cold_start"]["warm_instance"];
    assert!(f(&warm["openvino_compile_median_ms"]) > 0.0, "{warm:#}");
    assert!(
        text.contains("+ per request on WasmEdge+OpenVINO"),
        "{text}"
    );
    // Flask's server has no workers: its instances are processes.
    assert!(
        side(&report, "original")["memory"]["how"]
            .as_str()
            .unwrap()
            .contains("Flask server processes")
    );
    // No script, no stylesheet or image fetched: nothing but the file itself.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(!page.contains("<script") && !page.contains(" src=") && !page.contains("href="));
}

#[test]
fn bench_measures_the_gunicorn_sample_at_its_worker_count() {
    let (dir, service) = migrate("onnxruntime-service");
    let (report, text, html) = bench(
        &service,
        dir.path(),
        &[&["--backend", "onnxruntime"], &SMALLEST[..]].concat(),
    );
    assert_plausible(&report);
    assert_table(&text, &report);
    assert_plots_in_page(&html);
    // Two workers: the second concurrency of the steady state.
    assert_eq!(report["concurrency"], 2);
    let steady = side(&report, "migrated")["steady"].as_array().unwrap();
    assert_eq!(
        steady
            .iter()
            .map(|s| s["concurrency"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(
        side(&report, "original")["memory"]["how"]
            .as_str()
            .unwrap()
            .contains("gunicorn with N workers")
    );
}

#[test]
fn bench_refuses_a_service_without_a_built_module() {
    let (_dir, service) = migrate("onnxruntime-service");
    std::fs::remove_file(service.join("migrated/app.wasm")).unwrap();
    let output = wm(&["bench", service.to_str().unwrap(), "--quick"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("app.wasm") && stderr.contains("wasm-migrate build"),
        "{stderr}"
    );
}

/// Processes whose working directory or command line is inside `dir`, but `except`.
fn processes_in(dir: &Path, except: u32) -> Vec<String> {
    let dir = dir.canonicalize().unwrap();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let proc_dir = entry.path();
        if entry.file_name().to_str() == Some(&except.to_string()) {
            continue;
        }
        let cwd = std::fs::read_link(proc_dir.join("cwd")).unwrap_or_default();
        let cmdline = std::fs::read(proc_dir.join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cwd.starts_with(&dir) || cmdline.contains(dir.to_str().unwrap()) {
            found.push(format!("{}: {cmdline}", proc_dir.display()));
        }
    }
    found
}

#[test]
fn an_interrupted_bench_leaves_nothing_running() {
    let (dir, service) = migrate("onnxruntime-service");
    let mut child = Command::new(binary())
        .args([
            "bench",
            service.to_str().unwrap(),
            "--quick",
            "--backend",
            "onnxruntime",
        ])
        .env("VIRTUAL_ENV", wasm_migrate_tests::python_env())
        .env(
            "WASM_MIGRATE_CACHE_DIR",
            wasm_migrate_tests::repo_root().join("target/test-cache"),
        )
        .env_remove("ORT_DYLIB_PATH")
        .env_remove("OPENVINO_INSTALL_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupted while both sides serve: the steady state.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    loop {
        let line = lines
            .next()
            .expect("bench ended before its steady state")
            .unwrap();
        seen.push(line.clone());
        if line.starts_with("bench: steady state") {
            break;
        }
    }
    // The original's server and the module's host, at least, once both are up (the phase is
    // announced before its servers start; on a loaded machine that takes seconds).
    let bench = child.id();
    let started = Instant::now();
    let servers = loop {
        let servers = processes_in(dir.path(), bench);
        if servers.len() >= 2 || started.elapsed() > Duration::from_secs(60) {
            break servers;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(servers.len() >= 2, "{servers:?} {seen:?}");
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("interrupted")), "{rest:?}");
    let started = Instant::now();
    while !processes_in(dir.path(), bench).is_empty() && started.elapsed() < Duration::from_secs(2)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(processes_in(dir.path(), bench), Vec::<String>::new());
}
