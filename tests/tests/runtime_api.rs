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
