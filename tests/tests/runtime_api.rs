//! The runtime as a library (what verify and the benchmarks use): repeated runs of one module
//! from a pool, captured output, preloaded graphs shared between runs.

use wasm_migrate_runtime::{
    BackendChoice, CacheUse, DirMapping, Ending, PoolOptions, Preload, Preloaded, RunConfig,
    Runtime, RuntimeOptions,
};
use wasm_migrate_tests::{guest, test_models};

fn no_cache() -> RuntimeOptions {
    RuntimeOptions {
        cache: None,
        ..RuntimeOptions::default()
    }
}

#[test]
fn one_module_runs_many_times_from_the_pool_with_captured_output() {
    let runtime = Runtime::new(RuntimeOptions {
        pooling: Some(PoolOptions {
            instances: 4,
            max_memory: 64 << 20,
        }),
        ..no_cache()
    })
    .unwrap();
    let module = runtime.load(&guest("hello")).unwrap();
    assert_eq!(module.cache, CacheUse::Off);
    for i in 0..50 {
        let config = RunConfig {
            args: vec![i.to_string()],
            max_memory: 64 << 20,
            ..RunConfig::default()
        };
        let outcome = runtime.run(&module, &config).unwrap();
        assert_eq!(outcome.ending, Ending::Exited { code: 0 });
        assert_eq!(
            String::from_utf8_lossy(&outcome.stdout),
            format!("hello {i}\n")
        );
    }
}

#[test]
fn preloaded_graphs_are_shared_between_runs() {
    let runtime = Runtime::new(no_cache()).unwrap();
    let module = runtime.load(&guest("run-model")).unwrap();
    let models = test_models();
    let choice = BackendChoice::default();
    let preload: Preload = format!("mlp:onnx:cpu:{}", models.join("mlp.onnx").display())
        .parse()
        .unwrap();
    let preloaded = Preloaded::load(&[preload], &choice).unwrap();
    let input = models.join("mlp_input.npy").display().to_string();
    let config = RunConfig {
        args: ["--preloaded", "mlp", "--input", &input]
            .map(String::from)
            .to_vec(),
        dirs: vec![DirMapping::parse(models.to_str().unwrap()).unwrap()],
        preloaded,
        backends: choice,
        ..RunConfig::default()
    };
    let first = runtime.run(&module, &config).unwrap();
    let second = runtime.run(&module, &config).unwrap();
    assert!(
        first.ending.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(first.stdout, second.stdout);
    assert!(String::from_utf8_lossy(&first.stdout).contains("\"output\":["));
}

#[test]
fn a_module_without_start_is_a_library_not_a_command() {
    let runtime = Runtime::new(no_cache()).unwrap();
    let module = runtime
        .load_bytes(
            "reactor.wat".as_ref(),
            b"(module (func (export \"_initialize\")))",
        )
        .unwrap();
    let err = runtime
        .run(&module, &RunConfig::default())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("exports no `_start` function"), "{err}");
}

#[test]
fn a_runtime_without_wall_clock_limits_runs_with_none_and_refuses_one() {
    let runtime = Runtime::new(RuntimeOptions {
        wall_clock_limits: false,
        ..no_cache()
    })
    .unwrap();
    let module = runtime.load(&guest("hello")).unwrap();
    let unlimited = RunConfig {
        args: vec!["x".into()],
        timeout: None,
        ..RunConfig::default()
    };
    let outcome = runtime.run(&module, &unlimited).unwrap();
    assert_eq!(outcome.ending, Ending::Exited { code: 0 });
    assert_eq!(String::from_utf8_lossy(&outcome.stdout), "hello x\n");
    // RunConfig's default has a limit, which this runtime cannot enforce: an error, not a
    // run that silently ignores it.
    let error = runtime.run(&module, &RunConfig::default()).unwrap_err();
    assert!(
        error.to_string().contains("wall-clock limit needs"),
        "{error}"
    );
}

/// Eight execution contexts of one OpenVINO graph computing at once share the device's infer
/// requests (a request holds the network's buffers), answer alike, and the compiled model is
/// kept in the graph cache for the next process.
#[test]
fn openvino_contexts_share_the_devices_requests_and_the_compiled_blob_is_cached() {
    use wasmtime_wasi_nn::backend::{BackendGraph, Id};
    let cache = tempfile::tempdir().unwrap();
    // SAFETY: set before anything in this test process reads the environment (nextest runs
    // each test in a process of its own).
    unsafe {
        std::env::set_var("VIRTUAL_ENV", wasm_migrate_tests::python_env());
        std::env::set_var("WASM_MIGRATE_CACHE_DIR", cache.path());
    }
    let models = test_models();
    let xml = std::fs::read(models.join("cnn.xml")).unwrap();
    let weights = std::fs::read(models.join("cnn.bin")).unwrap();
    let input: npyz::NpyFile<_> =
        npyz::NpyFile::new(std::fs::File::open(models.join("cnn_input.npy")).unwrap()).unwrap();
    let dims: Vec<u32> = input.shape().iter().map(|&d| d as u32).collect();
    let values: Vec<f32> = input.into_vec().unwrap();
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let graph = wasm_migrate_runtime::nn::openvino::load(
        wasm_migrate_runtime::nn::openvino::ModelSource::Buffers(&[&xml, &weights]),
        &BackendChoice::default(),
    )
    .unwrap();
    let outputs: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let computing: Vec<_> = (0..8)
            .map(|_| {
                let (graph, dims, data) = (&graph, dims.clone(), data.clone());
                scope.spawn(move || {
                    let mut context = graph.init_execution_context().unwrap();
                    let tensor = wasmtime_wasi_nn::Tensor::new(
                        dims,
                        wasmtime_wasi_nn::wit::TensorType::Fp32,
                        data,
                    );
                    let mut last = Vec::new();
                    for _ in 0..3 {
                        context.set_input(Id::Index(0), &tensor).unwrap();
                        context.compute().unwrap();
                        last = context.get_output(Id::Index(0)).unwrap().data;
                    }
                    last
                })
            })
            .collect();
        computing.into_iter().map(|c| c.join().unwrap()).collect()
    });
    assert!(outputs.iter().all(|o| !o.is_empty() && *o == outputs[0]));
    let (made, most) = graph.requests();
    assert!(
        made <= most && most < 8,
        "{made} request(s) made, {most} at most"
    );
    let blobs = std::fs::read_dir(cache.path().join("graphs"))
        .unwrap()
        .flatten()
        .flat_map(|dir| std::fs::read_dir(dir.path()).unwrap().flatten())
        .filter(|f| f.path().extension().is_some_and(|e| e == "blob"))
        .count();
    assert_eq!(blobs, 1, "one compiled blob in the graph cache");
}
