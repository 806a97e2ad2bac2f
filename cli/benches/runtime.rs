//! The embedded runtime's speed, each figure next to a baseline measured in the same run.
//!
//! ```text
//! ./scripts/setup-python && target/py-venv/bin/python tests/models/make_models.py target/test-models
//! cargo build --release --target wasm32-wasip1 --manifest-path tests/guests/Cargo.toml
//! cargo bench -p wasm-migrate-cli --bench runtime
//! ```
//!
//! 1. Instantiation of a precompiled module through `InstancePre`, with the pooling allocator
//!    and with on-demand allocation: per instance, and per whole run of a trivial command.
//! 2. `wasm-migrate run hello.wasm` end to end with the compiled module cached, against
//!    `python3 -c pass`.
//! 3. The small CNN through each backend from inside Wasm (wasi-nn `set_input` + `compute` +
//!    `get_output`), against the same backend called natively: from Python for ONNX Runtime and
//!    OpenVINO (their Python packages), from Rust for tract (it has no Python binding).

mod common;

use common::repo;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use wasm_migrate_runtime::{
    BackendChoice, BackendKind, DirMapping, PoolOptions, Preload, Preloaded, RunConfig, Runtime,
    RuntimeOptions,
};

fn guest(name: &str) -> PathBuf {
    let path = repo().join(format!(
        "tests/guests/target/wasm32-wasip1/release/{name}.wasm"
    ));
    assert!(
        path.is_file(),
        "{} is missing: build the test guests first (see the top of this file)",
        path.display()
    );
    path
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn instantiation() {
    println!("== 1. instantiation through InstancePre (hello.wasm, 2000 runs each)");
    for (label, pooling) in [
        (
            "pooling allocator",
            Some(PoolOptions {
                instances: 16,
                max_memory: 256 << 20,
            }),
        ),
        ("on-demand allocator", None),
    ] {
        let runtime = Runtime::new(RuntimeOptions {
            pooling,
            ..RuntimeOptions::default()
        })
        .unwrap();
        let module = runtime.load(&guest("hello")).unwrap();
        let config = RunConfig {
            max_memory: 256 << 20,
            ..RunConfig::default()
        };
        let (mut inst, mut whole) = (Vec::new(), Vec::new());
        for _ in 0..2000 {
            let start = Instant::now();
            let outcome = runtime.run(&module, &config).unwrap();
            whole.push(start.elapsed());
            inst.push(outcome.instantiate_time);
            assert!(outcome.ending.success());
        }
        println!(
            "  {label:<20} instantiate: median {}   whole run (WASI context, instantiate, _start, teardown): median {}",
            us(median(inst)),
            us(median(whole))
        );
    }
}

fn time_command(cmd: &mut Command, runs: usize) -> Duration {
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let status = cmd.status().expect("command runs");
        times.push(start.elapsed());
        assert!(status.success());
    }
    median(times)
}

fn startup() {
    println!("== 2. end-to-end start-up, module cache warm (median of 30)");
    let cache = tempfile::tempdir().unwrap();
    let mut run = Command::new(env!("CARGO_BIN_EXE_wasm-migrate"));
    run.args(["run", "--quiet"])
        .arg(guest("hello"))
        .env("WASM_MIGRATE_CACHE_DIR", cache.path());
    run.stdout(std::process::Stdio::null());
    time_command(&mut run, 1); // fills the cache
    let wasm = time_command(&mut run, 30);
    // The interpreter itself, not a launcher in front of it (pyenv's shims add ~100 ms).
    let launcher = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let resolved = Command::new(&launcher)
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap();
    let python = String::from_utf8_lossy(&resolved.stdout).trim().to_string();
    let py = time_command(Command::new(&python).args(["-c", "pass"]), 30);
    println!(
        "  wasm-migrate run hello.wasm: {:.1} ms   {python} -c pass: {:.1} ms   ratio {:.2}",
        wasm.as_secs_f64() * 1e3,
        py.as_secs_f64() * 1e3,
        wasm.as_secs_f64() / py.as_secs_f64()
    );
}

/// Per-inference time inside Wasm: a run with many repeats minus a run with one, so loading,
/// instantiation and the guest's own set-up cancel out.
fn wasm_inference(
    runtime: &Runtime,
    backend: BackendKind,
    preload: &str,
    repeats: usize,
) -> Duration {
    let models = repo().join("target/test-models");
    let module = runtime.load(&guest("run-model")).unwrap();
    let choice = BackendChoice {
        onnx: backend,
        ..BackendChoice::default()
    };
    let preloaded = Preloaded::load(&[preload.parse::<Preload>().unwrap()], &choice).unwrap();
    let dir = DirMapping::parse(models.to_str().unwrap()).unwrap();
    let input = models.join("cnn_input.npy").to_str().unwrap().to_string();
    let run = |n: usize| {
        let config = RunConfig {
            args: [
                "--preloaded",
                "cnn",
                "--input",
                &input,
                "--repeat",
                &n.to_string(),
            ]
            .map(String::from)
            .to_vec(),
            dirs: vec![dir.clone()],
            preloaded: preloaded.clone(),
            backends: choice,
            ..RunConfig::default()
        };
        common::run_succeeding(runtime, &module, &config).run_time
    };
    run(repeats); // warm-up
    let many = median((0..5).map(|_| run(repeats)).collect());
    let one = median((0..5).map(|_| run(1)).collect());
    many.saturating_sub(one) / (repeats as u32 - 1)
}

const PYTHON_NATIVE: &str = r#"
import sys, time, numpy as np
backend, models, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
x = np.load(f"{models}/cnn_input.npy")
if backend == "onnxruntime":
    import onnxruntime as ort
    s = ort.InferenceSession(f"{models}/cnn.onnx", providers=["CPUExecutionProvider"])
    run = lambda: s.run(None, {"image": x})[0]
else:
    import openvino as ov
    core = ov.Core()
    m = core.compile_model(f"{models}/cnn.onnx", "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    r = m.create_infer_request()
    run = lambda: r.infer({0: x})[0]
for _ in range(50): run()
best = []
for _ in range(5):
    t = time.perf_counter()
    for _ in range(repeats): run()
    best.append((time.perf_counter() - t) / repeats)
best.sort()
print(best[len(best) // 2])
"#;

fn python_inference(backend: &str, repeats: usize) -> Duration {
    let python = repo().join("target/py-venv/bin/python");
    let out = Command::new(python)
        .args([
            "-c",
            PYTHON_NATIVE,
            backend,
            repo().join("target/test-models").to_str().unwrap(),
            &repeats.to_string(),
        ])
        .output()
        .expect("the venv python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Duration::from_secs_f64(String::from_utf8_lossy(&out.stdout).trim().parse().unwrap())
}

fn tract_native(repeats: usize) -> Duration {
    use tract_onnx::prelude::*;
    let models = repo().join("target/test-models");
    let plan = tract_onnx::onnx()
        .model_for_path(models.join("cnn.onnx"))
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let bytes = std::fs::read(models.join("cnn_input.npy")).unwrap();
    let data: Vec<f32> = npyz::NpyFile::new(&bytes[..]).unwrap().into_vec().unwrap();
    let input: Tensor = tract_ndarray::Array4::from_shape_vec((1, 3, 32, 32), data)
        .unwrap()
        .into();
    for _ in 0..50 {
        plan.run(tvec![input.clone().into()]).unwrap();
    }
    let mut times = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..repeats {
            plan.run(tvec![input.clone().into()]).unwrap();
        }
        times.push(start.elapsed() / repeats as u32);
    }
    median(times)
}

fn wasi_nn_overhead() {
    let repeats = 500;
    println!("== 3. small CNN (1x3x32x32), per inference, {repeats} repeats, median of 5");
    let runtime = Runtime::new(RuntimeOptions::default()).unwrap();
    let models = repo().join("target/test-models");
    let onnx = format!("cnn:onnx:cpu:{}", models.join("cnn.onnx").display());
    for (backend, label) in [
        (BackendKind::Tract, "tract"),
        (BackendKind::OnnxRuntime, "onnxruntime"),
        (BackendKind::OpenVino, "openvino"),
    ] {
        let inside = wasm_inference(&runtime, backend, &onnx, repeats);
        let (native, from) = match backend {
            BackendKind::Tract => (tract_native(repeats), "Rust"),
            _ => (python_inference(label, repeats), "Python"),
        };
        println!(
            "  {label:<12} inside Wasm: {}   native from {from}: {}   ratio {:.2}",
            us(inside),
            us(native),
            inside.as_secs_f64() / native.as_secs_f64()
        );
    }
}

fn main() {
    // `cargo bench` passes --bench; nothing here takes arguments.
    // The native backends are found the way a user's are: through the active virtual environment.
    if std::env::var_os("VIRTUAL_ENV").is_none() {
        // SAFETY: set before any thread is started.
        unsafe { std::env::set_var("VIRTUAL_ENV", repo().join("target/py-venv")) };
    }
    instantiation();
    startup();
    wasi_nn_overhead();
}
