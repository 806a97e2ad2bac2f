//! Reading a built module: imports, exports, custom sections, and whether each runtime can
//! run it. Also adds the `wasm-migrate` custom section that says what built it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::CodegenError;

pub const SECTION_NAME: &str = "wasm-migrate";

/// What `build` embeds in the module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildStamp {
    pub tool: String,
    pub tool_version: String,
    pub plan_sha256: Option<String>,
    pub target: String,
    /// The tensor types the glue passes to `set_input`.
    pub input_types: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub kind: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub runtime: &'static str,
    pub compatible: bool,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub size: u64,
    pub imports: Vec<Import>,
    pub exports: Vec<String>,
    pub custom_sections: Vec<String>,
    pub stamp: Option<BuildStamp>,
    pub verdicts: Vec<Verdict>,
}

const WASI_P1: &str = "wasi_snapshot_preview1";
const WASI_NN: &str = "wasi_ephemeral_nn";

/// What `inspect` reads of a module: its imports, exports and custom sections (name and
/// where its data lies).
struct Parsed {
    imports: Vec<Import>,
    exports: Vec<String>,
    customs: Vec<(String, std::ops::Range<usize>)>,
}

fn parse(path: &Path, bytes: &[u8]) -> Result<Parsed, CodegenError> {
    let module_error = |message: String| CodegenError::Module {
        path: path.to_path_buf(),
        message,
    };
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(module_error(
            "not a WebAssembly module (no \\0asm header)".into(),
        ));
    }
    if bytes[4..8] == [0x0d, 0x00, 0x01, 0x00] {
        return Err(module_error(
            "a WebAssembly component, not a core module: WasmEdge and the wasi_ephemeral_nn ABI need a \
             wasm32-wasip1 core module"
                .into(),
        ));
    }
    let invalid = |e: wasmparser::BinaryReaderError| module_error(format!("cannot be parsed: {e}"));
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(bytes)
        .map_err(invalid)?;
    let mut parsed = Parsed {
        imports: Vec::new(),
        exports: Vec::new(),
        customs: Vec::new(),
    };
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.map_err(invalid)? {
            wasmparser::Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    let import = import.map_err(invalid)?;
                    parsed.imports.push(Import {
                        module: import.module.to_string(),
                        name: import.name.to_string(),
                        kind: match import.ty {
                            wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_) => {
                                "function"
                            }
                            wasmparser::TypeRef::Memory(_) => "memory",
                            wasmparser::TypeRef::Table(_) => "table",
                            wasmparser::TypeRef::Global(_) => "global",
                            _ => "other",
                        },
                    });
                }
            }
            wasmparser::Payload::ExportSection(exports) => {
                for export in exports {
                    parsed
                        .exports
                        .push(export.map_err(invalid)?.name.to_string());
                }
            }
            wasmparser::Payload::CustomSection(custom) => {
                let start = custom.data_offset();
                parsed.customs.push((
                    custom.name().to_string(),
                    start..start + custom.data().len(),
                ));
            }
            _ => {}
        }
    }
    Ok(parsed)
}

pub fn inspect_file(path: &Path) -> Result<Inspection, CodegenError> {
    let bytes = std::fs::read(path).map_err(crate::error::io(path))?;
    inspect(path, &bytes)
}

pub fn inspect(path: &Path, bytes: &[u8]) -> Result<Inspection, CodegenError> {
    let module = parse(path, bytes)?;
    let mut custom_sections = Vec::new();
    let mut stamp = None;
    for (name, range) in &module.customs {
        custom_sections.push(name.clone());
        if name == SECTION_NAME {
            stamp = serde_json::from_slice(&bytes[range.clone()]).ok();
        }
    }
    let verdicts = verdicts(&module.imports, &module.exports, stamp.as_ref());
    Ok(Inspection {
        size: bytes.len() as u64,
        imports: module.imports,
        exports: module.exports,
        custom_sections,
        stamp,
        verdicts,
    })
}

fn verdicts(imports: &[Import], exports: &[String], stamp: Option<&BuildStamp>) -> Vec<Verdict> {
    let mut common = Vec::new();
    for import in imports {
        if import.module != WASI_P1 && import.module != WASI_NN {
            let why = match import.module.as_str() {
                "env" => {
                    "an `env` import is an undefined symbol or an Emscripten runtime function; build for wasm32-wasip1 without it"
                }
                "wasi_unstable" => "the pre-preview-1 WASI ABI; rebuild with a current toolchain",
                m if m.starts_with("wasi:") => {
                    "a WASI preview-2 interface; WasmEdge runs core modules with preview 1"
                }
                m if m.starts_with("wasi_ephemeral_nn") || m == "wasi_nn" => {
                    "a different wasi-nn ABI version"
                }
                _ => "no runtime provides it",
            };
            common.push(format!(
                "imports {}::{} ({why})",
                import.module, import.name
            ));
        }
    }
    let has_start = exports.iter().any(|e| e == "_start");
    if !has_start {
        common.push("exports no `_start`: it is not a WASI command".into());
    }
    let types: Vec<String> = stamp.map(|s| s.input_types.clone()).unwrap_or_default();
    let mut wasmedge014 = common.clone();
    match stamp {
        None => wasmedge014.push(
            "no wasm-migrate section says which tensor types it feeds: WasmEdge 0.14 decodes only f32 \
             as the spec numbers it"
                .into(),
        ),
        Some(_) => {
            for t in types.iter().filter(|t| t.as_str() != "f32") {
                wasmedge014.push(format!("feeds {t} tensors, which WasmEdge 0.14 numbers differently (only f32 agrees)"));
            }
        }
    }
    let uses_nn = imports.iter().any(|i| i.module == WASI_NN);
    let mut notes_nn = Vec::new();
    if uses_nn {
        notes_nn.push(
            "needs the wasi-nn plugin with a backend for the model (e.g. wasi_nn-openvino)"
                .to_string(),
        );
    }
    let verdict = |runtime, reasons: Vec<String>, notes: &[String]| Verdict {
        runtime,
        compatible: reasons.is_empty(),
        reasons: if reasons.is_empty() {
            notes.to_vec()
        } else {
            reasons
        },
    };
    // Measured on WasmEdge 0.14.1 to 0.17.1: every version refuses i64 tensors
    // (`Unknown tensor type 5`), and its OpenVINO backend takes f32 only.
    let mut wasmedge = common.clone();
    for t in types.iter().filter(|t| t.as_str() == "i64") {
        wasmedge.push(format!(
            "feeds {t} tensors, which no WasmEdge up to 0.17 accepts (`Unknown tensor type 5`); \
             its OpenVINO backend takes f32 only"
        ));
    }
    vec![
        verdict("wasmedge@0.14", wasmedge014, &notes_nn),
        verdict("wasmedge@0.15+", wasmedge, &notes_nn),
        verdict(
            "wasmtime",
            common,
            &if uses_nn {
                vec!["`wasm-migrate run` or `wasmtime run -S nn` with a backend".to_string()]
            } else {
                Vec::new()
            },
        ),
    ]
}

/// The module with `stamp` as its `wasm-migrate` custom section (replacing an older one):
/// every other section copied as it is, the stamp last.
pub fn add_stamp(path: &Path, bytes: &[u8], stamp: &BuildStamp) -> Result<Vec<u8>, CodegenError> {
    parse(path, bytes)?;
    let invalid = |e: wasmparser::BinaryReaderError| CodegenError::Module {
        path: path.to_path_buf(),
        message: format!("cannot be parsed: {e}"),
    };
    let mut module = wasm_encoder::Module::new();
    let mut parser = wasmparser::Parser::new(0);
    let mut rest = bytes;
    while let wasmparser::Chunk::Parsed { consumed, payload } =
        parser.parse(rest, true).map_err(invalid)?
    {
        rest = &rest[consumed..];
        if let wasmparser::Payload::CodeSectionStart { size, .. } = &payload {
            // The whole code section is copied at once, not function by function.
            parser.skip_section();
            rest = &rest[*size as usize..];
        }
        match payload {
            wasmparser::Payload::Version { .. } => {}
            wasmparser::Payload::End(_) => break,
            wasmparser::Payload::CustomSection(c) if c.name() == SECTION_NAME => {}
            other => {
                if let Some((id, range)) = other.as_section() {
                    module.section(&wasm_encoder::RawSection {
                        id,
                        data: &bytes[range],
                    });
                }
            }
        }
    }
    module.section(&wasm_encoder::CustomSection {
        name: SECTION_NAME.into(),
        data: serde_json::to_vec(stamp).expect("serialisable").into(),
    });
    Ok(module.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WASI command with nothing in it but `_start`.
    fn command() -> Vec<u8> {
        let mut module = wasm_encoder::Module::new();
        let mut types = wasm_encoder::TypeSection::new();
        types.ty().function([], []);
        module.section(&types);
        let mut functions = wasm_encoder::FunctionSection::new();
        functions.function(0);
        module.section(&functions);
        let mut exports = wasm_encoder::ExportSection::new();
        exports.export("_start", wasm_encoder::ExportKind::Func, 0);
        module.section(&exports);
        let mut code = wasm_encoder::CodeSection::new();
        let mut body = wasm_encoder::Function::new([]);
        body.instructions().end();
        code.function(&body);
        module.section(&code);
        module.finish()
    }

    fn stamp(input_types: &[&str]) -> BuildStamp {
        BuildStamp {
            tool: "wasm-migrate".into(),
            tool_version: "0".into(),
            plan_sha256: None,
            target: "wasmedge@0.15".into(),
            input_types: input_types.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn compatible(input_types: &[&str], runtime: &str) -> bool {
        let verdicts = verdicts(&[], &["_start".to_string()], Some(&stamp(input_types)));
        let verdict = verdicts.iter().find(|v| v.runtime == runtime).unwrap();
        verdict.compatible
    }

    #[test]
    fn a_stamp_is_read_back_and_replaces_an_older_one() {
        let path = Path::new("app.wasm");
        let once = add_stamp(path, &command(), &stamp(&["f32"])).unwrap();
        let twice = add_stamp(path, &once, &stamp(&["i64"])).unwrap();
        let inspection = inspect(path, &twice).unwrap();
        assert_eq!(inspection.exports, ["_start"]);
        assert_eq!(inspection.custom_sections, [SECTION_NAME]);
        assert_eq!(inspection.stamp.unwrap().input_types, ["i64"]);
        let broken = &twice[..twice.len() - 3];
        assert!(inspect(path, broken).is_err());
    }

    #[test]
    fn i64_inputs_are_refused_by_every_wasmedge_and_f32_inputs_by_none() {
        for runtime in ["wasmedge@0.14", "wasmedge@0.15+", "wasmtime"] {
            assert!(compatible(&["f32"], runtime), "{runtime}");
        }
        assert!(!compatible(&["i64"], "wasmedge@0.14"));
        assert!(!compatible(&["i64"], "wasmedge@0.15+"));
        assert!(compatible(&["i64"], "wasmtime"));
    }
}
