//! Shared helpers of the test guests: argument parsing, `.npy` input, JSON output.

use std::process::ExitCode;

/// Reads a little-endian float32 `.npy` file: its shape and its data.
pub fn read_f32_npy(path: &str) -> Result<(Vec<usize>, Vec<f32>), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let npy =
        npyz::NpyFile::new(&bytes[..]).map_err(|e| format!("{path} is not a .npy file: {e}"))?;
    let shape = npy.shape().iter().map(|&d| d as usize).collect();
    let data = npy
        .into_vec::<f32>()
        .map_err(|e| format!("{path} does not hold float32 data: {e}"))?;
    Ok((shape, data))
}

/// Formats floats so that parsing the text back gives the same f32 (Rust's shortest round-trip form).
pub fn json_floats(values: &[f32]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", items.join(","))
}

/// Prints an error the way the tests expect to find it, and fails.
pub fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("guest error: {message}");
    ExitCode::from(1)
}

/// Parses a wasi-nn encoding name as the WasmEdge `--nn-preload` flag spells it.
pub fn encoding(name: &str) -> Result<wasi_nn::GraphEncoding, String> {
    match name {
        "openvino" => Ok(wasi_nn::GraphEncoding::Openvino),
        "onnx" => Ok(wasi_nn::GraphEncoding::Onnx),
        other => Err(format!("unknown encoding {other}")),
    }
}
