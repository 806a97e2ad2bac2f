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

fn parse(path: &Path, bytes: &[u8]) -> Result<walrus::Module, CodegenError> {
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
    walrus::ModuleConfig::new()
        .parse(bytes)
        .map_err(|e| module_error(format!("cannot be parsed: {e}")))
}

pub fn inspect_file(path: &Path) -> Result<Inspection, CodegenError> {
    let bytes = std::fs::read(path).map_err(crate::error::io(path))?;
    inspect(path, &bytes)
}

pub fn inspect(path: &Path, bytes: &[u8]) -> Result<Inspection, CodegenError> {
    let module = parse(path, bytes)?;
    let imports: Vec<Import> = module
        .imports
        .iter()
        .map(|i| Import {
            module: i.module.clone(),
            name: i.name.clone(),
            kind: match i.kind {
                walrus::ImportKind::Function(_) => "function",
                walrus::ImportKind::Memory(_) => "memory",
                walrus::ImportKind::Table(_) => "table",
                walrus::ImportKind::Global(_) => "global",
                _ => "other",
            },
        })
        .collect();
    let exports = module.exports.iter().map(|e| e.name.clone()).collect();
    let mut custom_sections = Vec::new();
    let mut stamp = None;
    for (_, section) in module.customs.iter() {
        custom_sections.push(section.name().to_string());
        if section.name() == SECTION_NAME {
            let data = section.data(&Default::default());
            stamp = serde_json::from_slice(&data).ok();
        }
    }
    let verdicts = verdicts(&imports, &module, stamp.as_ref());
    Ok(Inspection {
        size: bytes.len() as u64,
        imports,
        exports,
        custom_sections,
        stamp,
        verdicts,
    })
}

fn verdicts(
    imports: &[Import],
    module: &walrus::Module,
    stamp: Option<&BuildStamp>,
) -> Vec<Verdict> {
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
    let has_start = module.exports.iter().any(|e| e.name == "_start");
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

/// The module with `stamp` as its `wasm-migrate` custom section (replacing an older one).
pub fn add_stamp(path: &Path, bytes: &[u8], stamp: &BuildStamp) -> Result<Vec<u8>, CodegenError> {
    let mut module = parse(path, bytes)?;
    let old: Vec<_> = module
        .customs
        .iter()
        .filter(|(_, s)| s.name() == SECTION_NAME)
        .map(|(id, _)| id)
        .collect();
    for id in old {
        module.customs.delete(id);
    }
    module.customs.add(walrus::RawCustomSection {
        name: SECTION_NAME.to_string(),
        data: serde_json::to_vec(stamp).expect("serialisable"),
    });
    Ok(module.emit_wasm())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WASI command with nothing in it but `_start`.
    fn command() -> walrus::Module {
        let mut module = walrus::Module::default();
        let mut start = walrus::FunctionBuilder::new(&mut module.types, &[], &[]);
        start.func_body();
        let id = start.finish(vec![], &mut module.funcs);
        module.exports.add("_start", id);
        module
    }

    fn compatible(module: &walrus::Module, input_types: &[&str], runtime: &str) -> bool {
        let stamp = BuildStamp {
            tool: "wasm-migrate".into(),
            tool_version: "0".into(),
            plan_sha256: None,
            target: "wasmedge@0.15".into(),
            input_types: input_types.iter().map(|t| t.to_string()).collect(),
        };
        let verdicts = verdicts(&[], module, Some(&stamp));
        let verdict = verdicts.iter().find(|v| v.runtime == runtime).unwrap();
        verdict.compatible
    }

    #[test]
    fn i64_inputs_are_refused_by_every_wasmedge_and_f32_inputs_by_none() {
        let module = command();
        for runtime in ["wasmedge@0.14", "wasmedge@0.15+", "wasmtime"] {
            assert!(compatible(&module, &["f32"], runtime), "{runtime}");
        }
        assert!(!compatible(&module, &["i64"], "wasmedge@0.14"));
        assert!(!compatible(&module, &["i64"], "wasmedge@0.15+"));
        assert!(compatible(&module, &["i64"], "wasmtime"));
    }
}
