//! `verify` of one image sample with 16 inputs on one backend, the build left out: total wall
//! time and the share spent in Python start-up, Python inference, Wasm (load and inference)
//! and the comparison.
//!
//! ```text
//! ./scripts/setup-python
//! cargo bench -p wasm-migrate-cli --bench verify
//! ```
//!
//! torchvision-flask is migrated once (model, plan, glue, conversion, release build); then
//! `verify` runs three times with 16 photographs on tract, and the median run is shown.

mod common;

use wasm_migrate_runtime::BackendKind;
use wasm_migrate_verify::{VerifyOptions, verify};

fn main() {
    let work = tempfile::tempdir().unwrap();
    let (service, _built) = common::migrate("torchvision-flask", work.path(), true);
    let options = VerifyOptions {
        python: Some(common::python()),
        backends: vec![BackendKind::Tract],
        count: 16,
        ..VerifyOptions::new(&service)
    };
    let mut runs: Vec<_> = (0..3)
        .map(|_| verify(&options, &|_| {}).expect("verify runs"))
        .collect();
    assert!(
        runs.iter()
            .all(|r| r.verdict == wasm_migrate_verify::Verdict::Equivalent)
    );
    runs.sort_by(|a, b| a.wall_time.total_s.total_cmp(&b.wall_time.total_s));
    let w = &runs[1].wall_time;
    let share = |s: f64| 100.0 * s / w.total_s;
    let rest = w.total_s
        - w.python_startup_s
        - w.python_inference_s
        - w.wasm_load_s
        - w.wasm_inference_s
        - w.compare_s;
    println!("== verify torchvision-flask, 16 inputs, tract (median of 3 runs; build excluded)");
    println!("  total              {:7.2} s", w.total_s);
    println!(
        "  python start-up    {:7.2} s  {:5.1} %  (interpreter, imports, model load, request handling)",
        w.python_startup_s,
        share(w.python_startup_s)
    );
    println!(
        "  python inference   {:7.2} s  {:5.1} %",
        w.python_inference_s,
        share(w.python_inference_s)
    );
    println!(
        "  wasm load          {:7.2} s  {:5.1} %  (module compile or cache, model load)",
        w.wasm_load_s,
        share(w.wasm_load_s)
    );
    println!(
        "  wasm inference     {:7.2} s  {:5.1} %",
        w.wasm_inference_s,
        share(w.wasm_inference_s)
    );
    println!(
        "  comparison         {:7.3} s  {:5.1} %",
        w.compare_s,
        share(w.compare_s)
    );
    println!(
        "  other              {:7.2} s  {:5.1} %  (inputs, glue preprocessing, instantiation, files)",
        rest,
        share(rest)
    );
}
