//! A reactor's state written back as a module, as Wizer does it: after `_initialize` and the
//! turns that import an app, the instance's linear memory becomes the new module's data, so
//! an instance of the new module starts where that one stopped, without running any of it
//! again. wasmtime maps the data as a copy-on-write image, so the instances of one snapshot
//! share its pages until they write them.
//!
//! Only linear memory is carried. [`check`] refuses a module for which that is not enough:
//! - one memory, defined in the module (an imported one is state the snapshot cannot hold);
//! - one mutable global, the C stack pointer, which every export restores before it returns,
//!   so its initial value is right again once a turn is over; no imported global;
//! - no data count section (bulk-memory code that names segments by index would find other
//!   segments) and no passive segment; no start function.
//!
//! Tables are taken as they are in the module: C code does not change them, and CPython as a
//! static reactor loads no code at run time.
//!
//! The snapshot exports no `_initialize` (wasi-libc's reactor start traps when run twice) and
//! no `wizer.initialize`: a module without them is one to instantiate and use at once.

use std::ops::Range;

use wasmparser::{BinaryReader, DataKind, ExternalKind, TypeRef};

/// The exports that initialize a reactor, dropped from a snapshot.
pub const INIT_EXPORTS: [&str; 2] = ["_initialize", "wizer.initialize"];

const WASM_PAGE: usize = 1 << 16;
/// Memory is scanned in host pages: a page of zeros is left out of the data.
const SCAN: usize = 4096;
/// Data segments the snapshot may have. wasmparser's validator allows 100,000; fewer,
/// longer segments cost less to instantiate.
const MAX_SEGMENTS: usize = 20_000;

/// Section ids (the core spec's numbering).
mod id {
    pub const IMPORT: u8 = 2;
    pub const MEMORY: u8 = 5;
    pub const GLOBAL: u8 = 6;
    pub const EXPORT: u8 = 7;
    pub const START: u8 = 8;
    pub const CODE: u8 = 10;
    pub const DATA: u8 = 11;
    pub const DATA_COUNT: u8 = 12;
}

/// A section: its id and where its contents lie in the module.
struct Section {
    id: u8,
    range: Range<usize>,
}

fn sections(wasm: &[u8]) -> Result<Vec<Section>, String> {
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" || wasm[4..8] != [1, 0, 0, 0] {
        return Err("not a core Wasm module (version 1)".into());
    }
    let mut reader = BinaryReader::new(&wasm[8..], 8);
    let mut out = Vec::new();
    while !reader.eof() {
        let id = reader.read_u8().map_err(|e| e.to_string())?;
        let size = reader.read_var_u32().map_err(|e| e.to_string())? as usize;
        let start = reader.original_position();
        reader.read_bytes(size).map_err(|e| e.to_string())?;
        out.push(Section {
            id,
            range: start..start + size,
        });
    }
    Ok(out)
}

fn reader<'a>(wasm: &'a [u8], section: &Section) -> BinaryReader<'a> {
    BinaryReader::new(&wasm[section.range.clone()], section.range.start)
}

/// Why a snapshot of `wasm`'s memory would not be the instance's whole state, if it would
/// not.
pub fn check(wasm: &[u8]) -> Result<(), String> {
    let err = |e: wasmparser::BinaryReaderError| e.to_string();
    let mut memories = 0;
    let mut mutable_globals = 0;
    for section in sections(wasm)? {
        match section.id {
            id::IMPORT => {
                let imports =
                    wasmparser::ImportSectionReader::new(reader(wasm, &section)).map_err(err)?;
                for import in imports.into_imports() {
                    let import = import.map_err(err)?;
                    match import.ty {
                        TypeRef::Memory(_) => {
                            return Err(format!("it imports a memory ({})", import.name));
                        }
                        TypeRef::Global(_) => {
                            return Err(format!("it imports a global ({})", import.name));
                        }
                        _ => {}
                    }
                }
            }
            id::MEMORY => {
                memories += wasmparser::MemorySectionReader::new(reader(wasm, &section))
                    .map_err(err)?
                    .count();
            }
            id::GLOBAL => {
                let globals =
                    wasmparser::GlobalSectionReader::new(reader(wasm, &section)).map_err(err)?;
                for global in globals {
                    mutable_globals += usize::from(global.map_err(err)?.ty.mutable);
                }
            }
            id::START => return Err("it has a start function".into()),
            id::DATA_COUNT => {
                return Err("it has a data count section (its code may name data segments)".into());
            }
            id::DATA => {
                let data =
                    wasmparser::DataSectionReader::new(reader(wasm, &section)).map_err(err)?;
                for segment in data {
                    if let DataKind::Passive = segment.map_err(err)?.kind {
                        return Err("it has a passive data segment".into());
                    }
                }
            }
            _ => {}
        }
    }
    if memories != 1 {
        return Err(format!("it defines {memories} memories, not one"));
    }
    if mutable_globals != 1 {
        return Err(format!(
            "it has {mutable_globals} mutable globals, not only the stack pointer"
        ));
    }
    Ok(())
}

/// `wasm` with `memory` as its memory's initial contents and size, and without the
/// initializing exports. `memory` is a whole linear memory (a multiple of 64 KiB) of an
/// instance of `wasm` between turns; [`check`] must have passed.
pub fn write(wasm: &[u8], memory: &[u8]) -> Result<Vec<u8>, String> {
    check(wasm)?;
    if !memory.len().is_multiple_of(WASM_PAGE) {
        return Err("the memory is not a whole number of Wasm pages".into());
    }
    let mut module = wasm_encoder::Module::new();
    let mut data_written = false;
    let all = sections(wasm)?;
    let has_data = all.iter().any(|s| s.id == id::DATA);
    for section in &all {
        match section.id {
            id::MEMORY => {
                module.section(&memory_section(wasm, section, memory.len())?);
            }
            id::EXPORT => {
                module.section(&export_section(wasm, section)?);
            }
            id::DATA => {
                module.section(&data_section(memory));
                data_written = true;
            }
            id => {
                module.section(&wasm_encoder::RawSection {
                    id,
                    data: &wasm[section.range.clone()],
                });
                // A module without data gets its section where it belongs: after the code.
                if id == id::CODE && !has_data {
                    module.section(&data_section(memory));
                    data_written = true;
                }
            }
        }
    }
    if !data_written {
        module.section(&data_section(memory));
    }
    Ok(module.finish())
}

fn memory_section(
    wasm: &[u8],
    section: &Section,
    size: usize,
) -> Result<wasm_encoder::MemorySection, String> {
    let mut out = wasm_encoder::MemorySection::new();
    let memories =
        wasmparser::MemorySectionReader::new(reader(wasm, section)).map_err(|e| e.to_string())?;
    for memory in memories {
        let memory = memory.map_err(|e| e.to_string())?;
        out.memory(wasm_encoder::MemoryType {
            minimum: (size / WASM_PAGE) as u64,
            maximum: memory.maximum,
            memory64: memory.memory64,
            shared: memory.shared,
            page_size_log2: memory.page_size_log2,
        });
    }
    Ok(out)
}

fn export_section(wasm: &[u8], section: &Section) -> Result<wasm_encoder::ExportSection, String> {
    let mut out = wasm_encoder::ExportSection::new();
    let exports =
        wasmparser::ExportSectionReader::new(reader(wasm, section)).map_err(|e| e.to_string())?;
    for export in exports {
        let export = export.map_err(|e| e.to_string())?;
        if INIT_EXPORTS.contains(&export.name) {
            continue;
        }
        let kind = match export.kind {
            ExternalKind::Func | ExternalKind::FuncExact => wasm_encoder::ExportKind::Func,
            ExternalKind::Table => wasm_encoder::ExportKind::Table,
            ExternalKind::Memory => wasm_encoder::ExportKind::Memory,
            ExternalKind::Global => wasm_encoder::ExportKind::Global,
            ExternalKind::Tag => wasm_encoder::ExportKind::Tag,
        };
        out.export(export.name, kind, export.index);
    }
    Ok(out)
}

fn data_section(memory: &[u8]) -> wasm_encoder::DataSection {
    let mut out = wasm_encoder::DataSection::new();
    for range in segments(memory) {
        out.active(
            0,
            &wasm_encoder::ConstExpr::i32_const(range.start as u32 as i32),
            memory[range].iter().copied(),
        );
    }
    out
}

/// The memory's non-zero parts, as few segments as [`MAX_SEGMENTS`] asks: zero pages
/// between two parts stay inside one segment when the gap is short.
fn segments(memory: &[u8]) -> Vec<Range<usize>> {
    let parts: Vec<Range<usize>> = memory
        .chunks(SCAN)
        .enumerate()
        .filter(|(_, page)| page.iter().any(|&b| b != 0))
        .map(|(i, page)| i * SCAN..i * SCAN + page.len())
        .collect();
    let mut gap = SCAN;
    loop {
        let mut merged: Vec<Range<usize>> = Vec::new();
        for part in &parts {
            match merged.last_mut() {
                Some(last) if part.start - last.end <= gap => last.end = part.end,
                _ => merged.push(part.clone()),
            }
        }
        if merged.len() <= MAX_SEGMENTS {
            return merged;
        }
        gap *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_pages_are_left_out_and_short_gaps_kept_inside_a_segment() {
        let mut memory = vec![0u8; 16 * SCAN];
        memory[10] = 1;
        memory[SCAN + 5] = 2; // next page: merged
        memory[10 * SCAN] = 3; // after 8 zero pages: a segment of its own
        assert_eq!(segments(&memory), vec![0..2 * SCAN, 10 * SCAN..11 * SCAN]);
        assert!(segments(&vec![0u8; 4 * SCAN]).is_empty());
    }

    #[test]
    fn too_many_parts_are_merged_across_longer_gaps() {
        let mut memory = vec![0u8; (MAX_SEGMENTS * 3 + 3) * SCAN];
        for page in (0..memory.len() / SCAN).step_by(3) {
            memory[page * SCAN] = 1;
        }
        let merged = segments(&memory);
        assert!(merged.len() <= MAX_SEGMENTS, "{}", merged.len());
        assert_eq!(merged[0].start, 0);
    }
}

#[cfg(test)]
mod restore_tests {
    use crate::python::{InstanceConfig, PythonEngine, PythonInstance, PythonModule};
    use std::time::{Duration, Instant};

    /// A reactor in miniature: `_initialize` writes 7 at 0, each turn grows the memory once
    /// and counts turns at 70,000 (past the first page), returning the count.
    const REACTOR: &str = r#"(module
        (memory (export "memory") 1)
        (global $sp (mut i32) (i32.const 1024))
        (data (i32.const 16) "hello")
        (func (export "_initialize") (i32.store8 (i32.const 0) (i32.const 7)))
        (func (export "wizer.initialize"))
        (func (export "host_alloc") (param i32) (result i32) (i32.const 2048))
        (func (export "turn") (param i32 i32) (result i32)
          (if (i32.eq (memory.size) (i32.const 1))
            (then (drop (memory.grow (i32.const 1)))))
          (i32.store (i32.const 70000) (i32.add (i32.load (i32.const 70000)) (i32.const 1)))
          (i32.load (i32.const 70000))))"#;

    fn config() -> InstanceConfig {
        struct NoHost;
        impl crate::python::GuestHost for NoHost {
            fn call(&mut self, _: &[u8]) -> Option<Vec<u8>> {
                None
            }
        }
        InstanceConfig {
            mounts: Vec::new(),
            env: Vec::new(),
            max_memory: 1 << 24,
            capture: true,
            host: Box::new(NoHost),
        }
    }

    fn load(engine: &PythonEngine, wasm: &[u8]) -> PythonModule {
        engine
            .load_bytes(std::path::Path::new("reactor.wasm"), wasm, Instant::now())
            .unwrap()
    }

    #[test]
    fn a_snapshot_starts_where_the_instance_stopped_and_is_not_initialized_again() {
        let wasm = wat::parse_str(REACTOR).unwrap();
        let engine = PythonEngine::new(None).unwrap();
        let plain = load(&engine, &wasm);
        assert!(!plain.initialized);
        let mut instance = PythonInstance::new(&engine, &plain, config()).unwrap();
        let second = Duration::from_secs(5);
        assert_eq!(instance.turn("", second).unwrap().value, 1);
        assert_eq!(instance.turn("", second).unwrap().value, 2);
        let snapshot = instance.snapshot(&wasm).unwrap();

        let restored = load(&engine, &snapshot);
        assert!(
            restored.initialized,
            "the snapshot still exports _initialize"
        );
        assert!(restored.module.get_export("wizer.initialize").is_none());
        let mut again = PythonInstance::new(&engine, &restored, config()).unwrap();
        assert_eq!(
            again.memory_size(),
            2 << 16,
            "the grown memory is the start"
        );
        assert_eq!(again.turn("", second).unwrap().value, 3);
        let mut other = PythonInstance::new(&engine, &restored, config()).unwrap();
        assert_eq!(
            other.turn("", second).unwrap().value,
            3,
            "instances share no state"
        );
        let memory = other.memory_data();
        assert_eq!(memory[0], 7, "_initialize's write is kept");
        assert_eq!(&memory[16..21], b"hello", "the module's own data is kept");
    }

    #[test]
    fn modules_whose_state_is_not_all_in_memory_are_refused() {
        let two_globals = REACTOR.replace(
            "(global $sp (mut i32) (i32.const 1024))",
            "(global $sp (mut i32) (i32.const 1024)) (global $g (mut i32) (i32.const 0))",
        );
        let passive = REACTOR.replace("(data (i32.const 16) \"hello\")", "(data \"hello\")");
        let imported = REACTOR.replace(
            "(memory (export \"memory\") 1)",
            "(import \"env\" \"memory\" (memory 1)) (export \"memory\" (memory 0))",
        );
        for (source, why) in [
            (two_globals, "2 mutable globals"),
            (passive, "passive data segment"),
            (imported, "imports a memory"),
        ] {
            let wasm = wat::parse_str(&source).unwrap();
            let refused = super::check(&wasm).unwrap_err();
            assert!(refused.contains(why), "{refused}");
        }
        assert!(super::write(b"\0asm\x01\0\0\0", &[]).is_err());
    }
}
