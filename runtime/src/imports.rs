//! What a module's imports say about where it was meant to run, for the error a user gets
//! when this runtime does not provide one of them.

/// The wasi-nn functions of the witx ABI (wasi-nn 0.6.0), all provided here.
pub const WASI_NN_FUNCTIONS: [&str; 6] = [
    "load",
    "load_by_name",
    "init_execution_context",
    "set_input",
    "compute",
    "get_output",
];

/// Which runtime or plugin provides `module::name`, and what to do about it.
pub fn who_provides(module: &str, name: &str) -> String {
    match module {
        "wasi_ephemeral_nn" => format!(
            "`{name}` is not part of the standard wasi-nn witx ABI (which has {}); it is a WasmEdge \
             extension of wasi-nn (its GGML plugin adds functions like load_by_name_with_config and \
             compute_single): run the module on WasmEdge with that plugin, or use the standard functions",
            WASI_NN_FUNCTIONS.join(", ")
        ),
        "wasi_snapshot_preview1" => {
            "this WASI preview 1 function is not provided by wasmtime's WASI implementation".to_string()
        }
        "wasi_unstable" => "this is the old WASI snapshot 0: rebuild the module for wasm32-wasip1".to_string(),
        "env" => "an `env` import is a host function the toolchain expected (Emscripten, or C without \
                  wasi-sdk): rebuild the module for wasm32-wasip1"
            .to_string(),
        m if m.starts_with("wasi:") => "this is a WASI preview 2 (component model) interface: build a core \
                                       module for wasm32-wasip1, which WasmEdge also runs"
            .to_string(),
        "wasi_ephemeral_crypto_common" | "wasi_ephemeral_crypto_asymmetric_common" | "wasi_ephemeral_crypto_signatures"
        | "wasi_ephemeral_crypto_symmetric" | "wasi_ephemeral_crypto_kx" => {
            "wasi-crypto is provided by WasmEdge's wasi_crypto plugin, not by this runtime".to_string()
        }
        "wasi_ephemeral_sock" | "wasi_snapshot_preview1_sock" => {
            "sockets come from WasmEdge's socket extension (wasmedge_wasi_socket), not from this runtime".to_string()
        }
        m if m.starts_with("wasmedge") => {
            format!("`{m}` is a WasmEdge plugin: run the module on WasmEdge with that plugin installed")
        }
        _ => "it is not a WASI import: only the host it was built for provides it".to_string(),
    }
}

/// A short description of a file that is not a WebAssembly module, from its first bytes.
pub fn describe_non_wasm(bytes: &[u8]) -> String {
    let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let kind = if bytes.is_empty() {
        return "the file is empty".to_string();
    } else if bytes.starts_with(b"\x7fELF") {
        " (an ELF executable or library)"
    } else if bytes.starts_with(b"PK\x03\x04") {
        " (a zip archive)"
    } else if bytes.starts_with(b"#!") {
        " (a script)"
    } else if bytes.starts_with(b"MZ") {
        " (a Windows executable)"
    } else if bytes.starts_with(b"\x08") || bytes.windows(4).take(64).any(|w| w == b"onnx") {
        " (it looks like an ONNX model: pass models with --nn-preload)"
    } else {
        ""
    };
    format!(
        "it does not start with the WebAssembly magic bytes `00 61 73 6d`: it starts with `{}`{kind}",
        head.join(" ")
    )
}

/// True when the bytes are a component (the component model's layer byte), not a core module.
pub fn is_component(bytes: &[u8]) -> bool {
    bytes.len() >= 8
        && bytes.starts_with(b"\0asm")
        && bytes[6..8] == [0x01, 0x00]
        && bytes[4..6] != [0x01, 0x00]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_provider_of_foreign_imports() {
        assert!(who_provides("wasi_ephemeral_nn", "load_by_name_with_config").contains("WasmEdge"));
        assert!(who_provides("wasmedge_process", "run").contains("WasmEdge plugin"));
        assert!(who_provides("wasi_unstable", "fd_write").contains("wasm32-wasip1"));
        assert!(who_provides("env", "emscripten_memcpy_big").contains("Emscripten"));
    }

    #[test]
    fn recognises_files_that_are_not_modules() {
        assert!(describe_non_wasm(b"\x7fELF\x02\x01").contains("ELF"));
        assert!(describe_non_wasm(b"").contains("empty"));
        assert!(is_component(b"\0asm\x0d\x00\x01\x00"));
        assert!(!is_component(b"\0asm\x01\x00\x00\x00"));
    }
}
