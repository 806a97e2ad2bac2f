//! setuptools' `setup.cfg`: `[options] install_requires` (and `tests_require`, as
//! development-only) and `[options.extras_require]`, read as configparser reads INI files.

use std::path::Path;

use super::requirements::{self, LineContext, strip_comment};
use super::{ManifestKind, Reader, is_dev_group, split_list};

const KIND: ManifestKind = ManifestKind::SetupCfg;

/// One `key = value` entry and its continuation lines, each with its line number.
struct Entry {
    section: String,
    key: String,
    lines: Vec<(u32, String)>,
}

pub(super) fn read(reader: &mut Reader, path: &Path) {
    if !reader.begin(path, false) {
        return;
    }
    let Some(text) = reader.load(path) else {
        return;
    };
    let rel = reader.rel(path);
    let context = LineContext {
        base_dir: path.parent().unwrap_or(Path::new("")),
        rel: &rel,
        kind: KIND,
        constraint: false,
        dev: false,
    };
    for entry in parse_ini(reader, &rel, &text) {
        let dev = match (entry.section.as_str(), entry.key.as_str()) {
            ("options", "install_requires") => false,
            ("options", "tests_require") => true,
            ("options.extras_require", group) => is_dev_group(group),
            _ => continue,
        };
        read_list(reader, &context, &entry, dev);
    }
}

/// configparser's reading: `[section]` headers, `key = value` or `key: value`, indented
/// continuation lines, full-line `#` / `;` comments. Section names and keys are compared in
/// lower case with `-` as `_` (setuptools accepts `install-requires`).
fn parse_ini(reader: &mut Reader, rel: &Path, text: &str) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut section: Option<String> = None;
    let mut in_entry = false;
    for (index, raw) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if raw.starts_with(char::is_whitespace) && in_entry {
            if let Some(entry) = entries.last_mut() {
                entry.lines.push((number, trimmed.to_string()));
            }
            continue;
        }
        if let Some(header) = trimmed.strip_prefix('[') {
            match header.find(']') {
                Some(close) => {
                    section = Some(header[..close].trim().to_ascii_lowercase());
                }
                None => reader.problem(rel, Some(number), "unclosed section header"),
            }
            in_entry = false;
            continue;
        }
        let Some(split) = trimmed.find(['=', ':']) else {
            reader.problem(
                rel,
                Some(number),
                format!("expected `key = value` or a `[section]` header, found `{trimmed}`"),
            );
            in_entry = false;
            continue;
        };
        let Some(section) = &section else {
            reader.problem(
                rel,
                Some(number),
                "entry before the first `[section]` header",
            );
            in_entry = false;
            continue;
        };
        let key = trimmed[..split]
            .trim()
            .to_ascii_lowercase()
            .replace('-', "_");
        let value = trimmed[split + 1..].trim();
        let mut lines = Vec::new();
        if !value.is_empty() {
            lines.push((number, value.to_string()));
        }
        entries.push(Entry {
            section: section.clone(),
            key,
            lines,
        });
        in_entry = true;
    }
    entries
}

/// setuptools' list of requirements: one per line when the value spans lines, else `;`
/// separated; `file: a.txt, b.txt` reads requirements files.
fn read_list(reader: &mut Reader, context: &LineContext<'_>, entry: &Entry, dev: bool) {
    if let [(line, value)] = entry.lines.as_slice()
        && let Some(files) = value.strip_prefix("file:")
    {
        for file in split_list(files, ',') {
            requirements::include(reader, context, *line, &file, false, dev);
        }
        return;
    }
    let items: Vec<(u32, String)> = if entry.lines.len() == 1 {
        let (line, value) = &entry.lines[0];
        split_list(value, ';')
            .into_iter()
            .map(|item| (*line, item))
            .collect()
    } else {
        entry.lines.clone()
    };
    for (line, item) in items {
        let item = strip_comment(&item).trim();
        if !item.is_empty() {
            reader.push_pep508(item, context.rel, line, KIND, dev);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::{Dependency, Manifests, read_manifests};
    use super::*;

    fn read(text: &str) -> Manifests {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("setup.cfg");
        std::fs::write(&path, text).unwrap();
        read_manifests(dir.path(), &[path])
    }

    fn find<'a>(manifests: &'a Manifests, name: &str) -> &'a Dependency {
        manifests
            .dependencies
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no dependency {name} in {:#?}", manifests.dependencies))
    }

    #[test]
    fn install_requires_and_extras() {
        let m = read(
            r#"[metadata]
name = svc
version = 1.0

[options]
packages = find:
python_requires = >=3.9
install_requires =
    torch>=2.3
    # a comment inside the list
    torchvision ==0.18.*
    Pillow[webp] >= 10 ; sys_platform != "win32"

    numpy  # trailing comment
tests_require = pytest

[options.extras_require]
dev =
    pytest>=8
    black
onnx = onnxruntime>=1.17; onnx>=1.16

[options.entry_points]
console_scripts =
    svc = svc.main:run
"#,
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let names: Vec<_> = m.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "torch",
                "torchvision",
                "Pillow",
                "numpy",
                "pytest",
                "pytest",
                "black",
                "onnxruntime",
                "onnx"
            ]
        );
        let torch = find(&m, "torch");
        assert_eq!(torch.specifier, ">=2.3");
        assert_eq!(torch.line, 9);
        assert_eq!(torch.kind, ManifestKind::SetupCfg);
        assert_eq!(torch.file, PathBuf::from("setup.cfg"));
        assert!(!torch.dev);
        let torchvision = find(&m, "torchvision");
        assert_eq!(torchvision.specifier, "==0.18.*");
        assert_eq!(torchvision.line, 11);
        let pillow = find(&m, "Pillow");
        assert_eq!(pillow.extras, vec!["webp"]);
        assert_eq!(pillow.marker.as_deref(), Some(r#"sys_platform != "win32""#));
        assert_eq!(pillow.line, 12);
        assert_eq!(find(&m, "numpy").line, 14);
        assert!(m.dependencies[4].dev);
        assert_eq!(m.dependencies[4].line, 15);
        assert!(m.dependencies[5].dev);
        assert_eq!(m.dependencies[5].line, 19);
        assert!(find(&m, "black").dev);
        let ort = find(&m, "onnxruntime");
        assert!(!ort.dev);
        assert_eq!(ort.line, 21);
        assert_eq!(ort.specifier, ">=1.17");
        assert_eq!(find(&m, "onnx").line, 21);
    }

    #[test]
    fn file_directive_and_dashed_key() {
        let dir = tempfile::TempDir::new().unwrap();
        let root = dir.path();
        let path = root.join("setup.cfg");
        std::fs::write(
            &path,
            "[options]\ninstall-requires = file: requirements.txt, gone.txt\n",
        )
        .unwrap();
        std::fs::write(root.join("requirements.txt"), "flask==3.0\n").unwrap();
        let m = read_manifests(root, &[path]);
        let flask = find(&m, "flask");
        assert_eq!(flask.file, PathBuf::from("requirements.txt"));
        assert_eq!(flask.specifier, "==3.0");
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].file, PathBuf::from("setup.cfg"));
        assert_eq!(m.problems[0].line, Some(2));
    }

    #[test]
    fn malformed_lines_are_problems() {
        let m = read(
            "stray = 1\n[options\n[options]\ninstall_requires =\n    flask\n    numpy >= = 1\nnot an entry\n",
        );
        assert_eq!(m.dependencies.len(), 1);
        assert_eq!(m.dependencies[0].name, "flask");
        let lines: Vec<_> = m.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(1), Some(2), Some(7), Some(6)]);
        assert!(m.problems[3].message.contains("numpy >= = 1"));
    }

    #[test]
    fn binary_garbage() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("setup.cfg");
        std::fs::write(&path, [0u8, 159, 146, 150, 0, 1]).unwrap();
        let m = read_manifests(dir.path(), &[path]);
        assert!(m.dependencies.is_empty());
        assert_eq!(m.problems.len(), 1);
    }
}
