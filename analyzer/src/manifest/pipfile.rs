//! Pipenv's `Pipfile` (TOML): `[packages]` and `[dev-packages]`, each entry a version string
//! (`"*"`, `"==1.0"`) or a table with `version`, `extras`, `markers`, PEP 508 marker keys,
//! `git` (+ `ref`), `path` or `file`.

use std::path::Path;

use toml::Spanned;
use toml::de::DeValue;

use super::pyproject::{TomlFile, string_array, version_spec};
use super::{LineIndex, ManifestKind, Reader, dependency, parse_toml, toml_table};

const KIND: ManifestKind = ManifestKind::Pipfile;

/// Marker variables pipenv accepts as keys of a package table (`sys_platform = "== 'linux'"`).
const MARKER_KEYS: &[&str] = &[
    "os_name",
    "sys_platform",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "python_version",
    "python_full_version",
    "implementation_name",
    "implementation_version",
];

pub(super) fn read(reader: &mut Reader, path: &Path) {
    if !reader.begin(path, false) {
        return;
    }
    let Some(text) = reader.load(path) else {
        return;
    };
    let rel = reader.rel(path);
    let index = LineIndex::new(&text);
    let Some(document) = parse_toml(reader, &rel, &text, &index) else {
        return;
    };
    let mut file = TomlFile {
        reader,
        rel: &rel,
        index: &index,
    };
    let mark = file.reader.mark();
    for (section, dev) in [("packages", false), ("dev-packages", true)] {
        match document.get(section) {
            Some(value) if value.get_ref().as_table().is_none() => {
                file.problem(value, format!("`{section}` must be a table"));
            }
            Some(_) => {
                if let Some(packages) = toml_table(&document, section) {
                    for (name, spec) in packages.iter() {
                        read_package(&mut file, name, spec, dev);
                    }
                }
            }
            None => {}
        }
    }
    file.reader.sort_since(mark);
}

fn read_package(
    file: &mut TomlFile<'_, '_>,
    name: &Spanned<std::borrow::Cow<'_, str>>,
    spec: &Spanned<DeValue<'_>>,
    dev: bool,
) {
    let line = file.line(name);
    let mut dependency = dependency(name.get_ref(), file.rel, line, KIND);
    dependency.dev = dev;
    match spec.get_ref() {
        DeValue::String(version) => dependency.specifier = version_spec(version),
        DeValue::Table(table) => {
            let text = |key: &str| table.get(key).and_then(|v| v.get_ref().as_str());
            dependency.specifier = text("version").map(version_spec).unwrap_or_default();
            dependency.extras = string_array(table, "extras");
            let mut markers: Vec<String> = text("markers")
                .map(|m| m.trim().to_string())
                .filter(|m| !m.is_empty())
                .into_iter()
                .collect();
            for key in MARKER_KEYS {
                if let Some(condition) = text(key) {
                    markers.push(format!("{key} {}", condition.trim()));
                }
            }
            dependency.marker = match markers.len() {
                0 => None,
                1 => markers.pop(),
                _ => Some(
                    markers
                        .iter()
                        .map(|m| format!("({m})"))
                        .collect::<Vec<_>>()
                        .join(" and "),
                ),
            };
            dependency.url = if let Some(git) = text("git") {
                Some(match text("ref") {
                    Some(reference) => format!("{git}@{reference}"),
                    None => git.to_string(),
                })
            } else {
                text("path").or(text("file")).map(str::to_string)
            };
        }
        other => {
            let message = format!(
                "package `{}`: expected a version string or a table, found {}",
                name.get_ref(),
                other.type_str()
            );
            file.problem(spec, message);
            return;
        }
    }
    file.reader.push(dependency);
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::{Dependency, Manifests, read_manifests};
    use super::*;

    fn read(text: &str) -> Manifests {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("Pipfile");
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
    fn packages_and_dev_packages() {
        let m = read(
            r#"[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[packages]
requests = "*"
Flask = "==3.0.3"
torch = {version = ">=2.3", index = "pytorch"}
httpx = {extras = ["http2", "socks"], version = "~=0.27", markers = "python_version >= '3.9'"}
pywin32 = {version = "*", sys_platform = "== 'win32'"}
mylib = {git = "https://github.com/org/mylib.git", ref = "v1.2", editable = true}
local-pkg = {path = "./local", editable = true}
both = {version = "1", os_name = "== 'nt'", markers = "python_version < '3.12'"}

[dev-packages]
pytest = ">=8"

[requires]
python_version = "3.11"
"#,
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(m.dependencies.len(), 9);
        let requests = find(&m, "requests");
        assert_eq!(requests.specifier, "");
        assert_eq!(requests.line, 7);
        assert_eq!(requests.kind, ManifestKind::Pipfile);
        assert_eq!(requests.file, PathBuf::from("Pipfile"));
        assert!(!requests.dev);
        let flask = find(&m, "Flask");
        assert_eq!(flask.specifier, "==3.0.3");
        assert_eq!(flask.normalized, "flask");
        assert_eq!(flask.line, 8);
        assert_eq!(find(&m, "torch").specifier, ">=2.3");
        let httpx = find(&m, "httpx");
        assert_eq!(httpx.extras, vec!["http2", "socks"]);
        assert_eq!(httpx.specifier, "~=0.27");
        assert_eq!(httpx.marker.as_deref(), Some("python_version >= '3.9'"));
        assert_eq!(httpx.line, 10);
        assert_eq!(
            find(&m, "pywin32").marker.as_deref(),
            Some("sys_platform == 'win32'")
        );
        let mylib = find(&m, "mylib");
        assert_eq!(
            mylib.url.as_deref(),
            Some("https://github.com/org/mylib.git@v1.2")
        );
        assert_eq!(mylib.line, 12);
        assert_eq!(find(&m, "local-pkg").url.as_deref(), Some("./local"));
        assert_eq!(
            find(&m, "both").marker.as_deref(),
            Some("(python_version < '3.12') and (os_name == 'nt')")
        );
        let pytest = find(&m, "pytest");
        assert!(pytest.dev);
        assert_eq!(pytest.specifier, ">=8");
        assert_eq!(pytest.line, 17);
        assert!(m.dependencies.iter().all(|d| d.name != "python_version"));
    }

    #[test]
    fn bad_toml_has_its_line() {
        let m = read("[packages]\nrequests = \"*\"\nflask = = \"1\"\n");
        assert!(m.dependencies.is_empty());
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].line, Some(3));
        assert_eq!(m.problems[0].file, PathBuf::from("Pipfile"));
    }

    #[test]
    fn bad_entries_are_problems() {
        let m = read("[packages]\nrequests = \"*\"\nflask = 3\n\n[dev-packages]\npytest = true\n");
        assert_eq!(m.dependencies.len(), 1);
        let lines: Vec<_> = m.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(3), Some(6)]);
        let m = read("packages = \"oops\"\n");
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].line, Some(1));
    }

    #[test]
    fn binary_garbage() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("Pipfile");
        std::fs::write(&path, b"\x7fELF\x02\x01\x01\x00\x00").unwrap();
        let m = read_manifests(dir.path(), &[path]);
        assert!(m.dependencies.is_empty());
        assert_eq!(m.problems.len(), 1);
    }
}
