//! Guests that go wrong on purpose, one way per argument, so the runtime's errors can be tested.
//!
//! misbehave spin | alloc MIB | trap | wrong-shape NAME | wrong-type NAME | small-buffer NAME
//!           | missing-graph NAME

use std::process::ExitCode;
use wasi_nn::{ExecutionTarget, GraphBuilder, GraphEncoding, TensorType};
use wasm_migrate_test_guests::fail;

fn preloaded(name: &str) -> Result<wasi_nn::Graph, String> {
    GraphBuilder::new(GraphEncoding::Onnx, ExecutionTarget::CPU)
        .build_from_cache(name)
        .map_err(|e| format!("load_by_name({name}): {e}"))
}

#[inline(never)]
fn explode(depth: u32) -> u32 {
    if depth == 0 {
        std::process::abort()
    }
    explode(depth - 1) + 1
}

fn run(args: &[String]) -> Result<(), String> {
    let arg = |i: usize| args.get(i).cloned().ok_or("missing argument".to_string());
    match arg(0)?.as_str() {
        "spin" => {
            let mut x: u64 = 0;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        "alloc" => {
            let mib: usize = arg(1)?.parse().map_err(|e| format!("{e}"))?;
            let mut blocks = Vec::new();
            for _ in 0..mib {
                blocks.push(std::hint::black_box(vec![1u8; 1 << 20]));
            }
            println!("allocated {} MiB", blocks.len());
            Ok(())
        }
        "trap" => {
            explode(3);
            Ok(())
        }
        "wrong-shape" => {
            let graph = preloaded(&arg(1)?)?;
            let mut ctx = graph.init_execution_context().map_err(|e| e.to_string())?;
            ctx.set_input(0, TensorType::F32, &[1, 5], &[0f32; 5])
                .map_err(|e| format!("set_input: {e}"))
        }
        "wrong-type" => {
            let graph = preloaded(&arg(1)?)?;
            let mut ctx = graph.init_execution_context().map_err(|e| e.to_string())?;
            ctx.set_input(0, TensorType::U8, &[1, 16], &[0u8; 16])
                .map_err(|e| format!("set_input: {e}"))
        }
        "small-buffer" => {
            let graph = preloaded(&arg(1)?)?;
            let mut ctx = graph.init_execution_context().map_err(|e| e.to_string())?;
            ctx.set_input(0, TensorType::F32, &[1, 16], &[0.5f32; 16])
                .map_err(|e| format!("set_input: {e}"))?;
            ctx.compute().map_err(|e| format!("compute: {e}"))?;
            let mut out = [0f32; 1];
            ctx.get_output(0, &mut out)
                .map(|_| ())
                .map_err(|e| format!("get_output: {e}"))
        }
        "missing-graph" => preloaded(&arg(1)?).map(|_| ()),
        other => Err(format!("unknown mode {other}")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
