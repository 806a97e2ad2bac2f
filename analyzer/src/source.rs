//! Reading a Python source file: size limits, binary detection and decoding (PEP 263).

use std::path::Path;

/// Why a file was not analyzed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    TooLarge { bytes: u64, limit: u64 },
    Binary,
    NotUtf8 { offset: usize },
    UnsupportedEncoding(String),
    Unreadable(String),
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::TooLarge { bytes, limit } => write!(
                f,
                "file is {:.1} MB, over the {:.1} MB limit (raise it with --max-file-size)",
                *bytes as f64 / 1e6,
                *limit as f64 / 1e6
            ),
            SkipReason::Binary => f.write_str("file looks binary (it contains NUL bytes)"),
            SkipReason::NotUtf8 { offset } => write!(
                f,
                "file is not valid UTF-8 (first bad byte at offset {offset}) and declares no other encoding"
            ),
            SkipReason::UnsupportedEncoding(e) => {
                write!(
                    f,
                    "file declares encoding `{e}`, which the analyzer does not decode"
                )
            }
            SkipReason::Unreadable(e) => write!(f, "cannot read file: {e}"),
        }
    }
}

/// Reads and decodes a Python file.
pub fn read_python(path: &Path, max_bytes: u64) -> Result<String, SkipReason> {
    let meta = std::fs::metadata(path).map_err(|e| SkipReason::Unreadable(e.to_string()))?;
    if meta.len() > max_bytes {
        return Err(SkipReason::TooLarge {
            bytes: meta.len(),
            limit: max_bytes,
        });
    }
    let bytes = std::fs::read(path).map_err(|e| SkipReason::Unreadable(e.to_string()))?;
    decode(bytes)
}

pub fn decode(bytes: Vec<u8>) -> Result<String, SkipReason> {
    if memchr_nul(&bytes) {
        return Err(SkipReason::Binary);
    }
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            match coding_cookie(&bytes) {
                Some(enc) if is_latin1(&enc) => Ok(bytes.iter().map(|&b| b as char).collect()),
                Some(enc) if enc == "utf-8" || enc == "utf8" => Err(SkipReason::NotUtf8 { offset }),
                Some(enc) => Err(SkipReason::UnsupportedEncoding(enc)),
                None => Err(SkipReason::NotUtf8 { offset }),
            }
        }
    }
}

fn memchr_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0)
}

fn is_latin1(encoding: &str) -> bool {
    matches!(
        encoding,
        "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "l1" | "cp1252" | "windows-1252"
    )
}

/// The PEP 263 `coding[:=]name` declaration in the first two lines.
fn coding_cookie(bytes: &[u8]) -> Option<String> {
    for line in bytes.split(|&b| b == b'\n').take(2) {
        let line = String::from_utf8_lossy(line);
        let trimmed = line.trim_start();
        if !trimmed.starts_with('#') {
            continue;
        }
        if let Some(idx) = trimmed.find("coding") {
            let rest = &trimmed[idx + 6..];
            if let Some(rest) = rest.strip_prefix(':').or_else(|| rest.strip_prefix('=')) {
                let name: String = rest
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    .collect();
                if !name.is_empty() {
                    return Some(name.to_ascii_lowercase().replace('_', "-"));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_latin1_with_cookie_and_rejects_without() {
        let with = b"# -*- coding: latin-1 -*-\nname = '\xe9'\n".to_vec();
        assert!(decode(with).unwrap().contains('\u{e9}'));
        let without = b"name = '\xe9'\n".to_vec();
        assert_eq!(decode(without), Err(SkipReason::NotUtf8 { offset: 8 }));
    }

    #[test]
    fn rejects_binary_and_strips_bom() {
        assert_eq!(decode(b"\x7fELF\x00\x01".to_vec()), Err(SkipReason::Binary));
        assert_eq!(decode(b"\xEF\xBB\xBFx = 1\n".to_vec()).unwrap(), "x = 1\n");
    }
}
