//! Loads a model (preloaded by name, or from files in a preopened directory), runs it on a
//! float32 `.npy` input and prints the first output as JSON.
//!
//! run-model (--preloaded NAME | --load ENCODING FILE [FILE]) --input X.npy [--output-len N]
//!           [--repeat N] [--target cpu|gpu]

use std::process::ExitCode;
use wasi_nn::{ExecutionTarget, GraphBuilder, TensorType};
use wasm_migrate_test_guests::{encoding, fail, json_floats, read_f32_npy};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(message),
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut preloaded = None;
    let mut files: Vec<String> = Vec::new();
    let mut enc = None;
    let mut input = None;
    let mut output_len = 4096usize;
    let mut repeat = 1usize;
    let mut target = ExecutionTarget::CPU;
    let mut i = 0;
    while i < args.len() {
        let value = |k: usize| {
            args.get(i + k)
                .cloned()
                .ok_or_else(|| format!("{} needs a value", args[i]))
        };
        match args[i].as_str() {
            "--preloaded" => preloaded = Some(value(1)?),
            "--load" => {
                enc = Some(encoding(&value(1)?)?);
                files.push(value(2)?);
                // OpenVINO IR is two files: the xml and the bin.
                if let Some(next) = args.get(i + 3).filter(|a| !a.starts_with("--")) {
                    files.push(next.clone());
                    i += 1;
                }
                i += 1;
            }
            "--input" => input = Some(value(1)?),
            "--output-len" => {
                output_len = value(1)?
                    .parse()
                    .map_err(|e| format!("--output-len: {e}"))?
            }
            "--repeat" => repeat = value(1)?.parse().map_err(|e| format!("--repeat: {e}"))?,
            "--target" => {
                target = match value(1)?.as_str() {
                    "gpu" => ExecutionTarget::GPU,
                    _ => ExecutionTarget::CPU,
                }
            }
            other => return Err(format!("unknown argument {other}")),
        }
        i += 2;
    }
    let input = input.ok_or("--input is required")?;
    let (shape, data) = read_f32_npy(&input)?;

    let graph = match (preloaded, enc) {
        (Some(name), _) => GraphBuilder::new(wasi_nn::GraphEncoding::Autodetec, target)
            .build_from_cache(&name)
            .map_err(|e| format!("load_by_name({name}): {e}"))?,
        (None, Some(enc)) => GraphBuilder::new(enc, target)
            .build_from_files(&files)
            .map_err(|e| format!("load({files:?}): {e}"))?,
        (None, None) => return Err("give --preloaded NAME or --load ENCODING FILE".into()),
    };
    let mut ctx = graph
        .init_execution_context()
        .map_err(|e| format!("init_execution_context: {e}"))?;
    let mut output = vec![0f32; output_len];
    let mut written = 0;
    for _ in 0..repeat {
        ctx.set_input(0, TensorType::F32, &shape, &data)
            .map_err(|e| format!("set_input: {e}"))?;
        ctx.compute().map_err(|e| format!("compute: {e}"))?;
        written = ctx
            .get_output(0, &mut output)
            .map_err(|e| format!("get_output: {e}"))?;
    }
    let values = &output[..written / 4];
    println!(
        "{{\"input_shape\":{shape:?},\"output\":{}}}",
        json_floats(values)
    );
    Ok(())
}
