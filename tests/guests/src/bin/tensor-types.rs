//! Sends a 2x3 tensor of every wasi-nn type through an identity model and checks that the same
//! bytes come back: a wrong enum number anywhere between guest and backend shows up here.
//!
//! tensor-types TYPE...   (each TYPE preloaded as `identity_TYPE`)
//! Prints one JSON line per type: {"type": "f64", "ok": true, "bytes": 48}.

use std::process::ExitCode;
use wasi_nn::{ExecutionTarget, GraphBuilder, GraphEncoding, TensorType};

fn tensor_type(name: &str) -> Option<TensorType> {
    Some(match name {
        "f16" => TensorType::F16,
        "f32" => TensorType::F32,
        "f64" => TensorType::F64,
        "u8" => TensorType::U8,
        "i32" => TensorType::I32,
        "i64" => TensorType::I64,
        _ => return None,
    })
}

/// Six elements whose bytes differ between every pair of types, so a mix-up cannot pass.
fn sample(ty: TensorType) -> Vec<u8> {
    match ty {
        TensorType::F16 => [0x3C00u16, 0xC000, 0x3555, 0x7BFF, 0x0001, 0x8000]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        TensorType::F32 => [1.5f32, -2.25, 3.0e-7, 65504.5, -0.0, 7.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        TensorType::F64 => [1.5f64, -2.25, 1.0e-300, 6.5e10, -0.0, 7.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        TensorType::U8 => vec![0, 1, 127, 128, 200, 255],
        TensorType::I32 => [-1i32, 2, -300_000, 400_000, i32::MIN, i32::MAX]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        TensorType::I64 => [-1i64, 2, -5_000_000_000, 6_000_000_000, i64::MIN, i64::MAX]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
    }
}

fn round_trip(name: &str, ty: TensorType) -> Result<usize, String> {
    let graph = GraphBuilder::new(GraphEncoding::Onnx, ExecutionTarget::CPU)
        .build_from_cache(&format!("identity_{name}"))
        .map_err(|e| format!("load_by_name: {e}"))?;
    let mut ctx = graph
        .init_execution_context()
        .map_err(|e| format!("init_execution_context: {e}"))?;
    let data = sample(ty);
    ctx.set_input(0, ty, &[2, 3], &data)
        .map_err(|e| format!("set_input: {e}"))?;
    ctx.compute().map_err(|e| format!("compute: {e}"))?;
    let mut out = vec![0u8; 64];
    let written = ctx
        .get_output(0, &mut out)
        .map_err(|e| format!("get_output: {e}"))?;
    if out[..written] != data[..] {
        return Err(format!("sent {data:?}, got back {:?}", &out[..written]));
    }
    Ok(written)
}

fn main() -> ExitCode {
    let mut all_ok = true;
    for name in std::env::args().skip(1) {
        let Some(ty) = tensor_type(&name) else {
            eprintln!("guest error: unknown tensor type {name}");
            return ExitCode::from(2);
        };
        match round_trip(&name, ty) {
            Ok(bytes) => println!("{{\"type\":\"{name}\",\"ok\":true,\"bytes\":{bytes}}}"),
            Err(e) => {
                all_ok = false;
                println!("{{\"type\":\"{name}\",\"ok\":false,\"error\":{e:?}}}");
            }
        }
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
