//! `pyproject.toml`: PEP 621 `[project]` dependencies and optional dependencies, PEP 735
//! `[dependency-groups]`, Poetry's dependency tables, PDM's and uv's development
//! dependencies, and setuptools' `dynamic` dependencies read from requirements files.

use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::requirements::{self, LineContext};
use super::{
    LineIndex, ManifestKind, Reader, dependency, is_dev_group, parse_toml, split_list, toml_table,
};

const KIND: ManifestKind = ManifestKind::Pyproject;

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

    if let Some(project) = toml_table(&document, "project") {
        if let Some(dependencies) = project.get("dependencies") {
            file.pep508_array(dependencies, "project.dependencies", false, false);
        }
        if let Some(optional) = project.get("optional-dependencies") {
            file.groups(optional, "project.optional-dependencies", false, false);
        }
    }
    if let Some(groups) = document.get("dependency-groups") {
        file.groups(groups, "dependency-groups", true, false);
    }

    let tool = toml_table(&document, "tool");
    if let Some(poetry) = tool.and_then(|tool| toml_table(tool, "poetry")) {
        if let Some(dependencies) = poetry.get("dependencies") {
            file.poetry(dependencies, "tool.poetry.dependencies", false);
        }
        if let Some(dependencies) = poetry.get("dev-dependencies") {
            file.poetry(dependencies, "tool.poetry.dev-dependencies", true);
        }
        if let Some(groups) = toml_table(poetry, "group") {
            for (name, group) in groups.iter() {
                if let Some(dependencies) = group
                    .get_ref()
                    .as_table()
                    .and_then(|g| g.get("dependencies"))
                {
                    let what = format!("tool.poetry.group.{}.dependencies", name.get_ref());
                    file.poetry(dependencies, &what, true);
                }
            }
        }
    }
    if let Some(groups) = tool
        .and_then(|tool| toml_table(tool, "pdm"))
        .and_then(|pdm| pdm.get("dev-dependencies"))
    {
        // Every PDM dev-dependency group is development-only, whatever its name.
        file.groups(groups, "tool.pdm.dev-dependencies", true, true);
    }
    if let Some(dependencies) = tool
        .and_then(|tool| toml_table(tool, "uv"))
        .and_then(|uv| uv.get("dev-dependencies"))
    {
        file.pep508_array(dependencies, "tool.uv.dev-dependencies", true, false);
    }
    file.reader.sort_since(mark);

    // setuptools' `dynamic` dependencies, read from requirements files after this file.
    let dynamic = tool
        .and_then(|tool| toml_table(tool, "setuptools"))
        .and_then(|setuptools| toml_table(setuptools, "dynamic"));
    if let Some(dynamic) = dynamic {
        let context = LineContext {
            base_dir: path.parent().unwrap_or(Path::new("")),
            rel: &rel,
            kind: KIND,
            constraint: false,
            dev: false,
        };
        if let Some(dependencies) = dynamic.get("dependencies") {
            file.dynamic_files(&context, dependencies, false);
        }
        if let Some(optional) = toml_table(dynamic, "optional-dependencies") {
            for (group, files) in optional.iter() {
                file.dynamic_files(&context, files, is_dev_group(group.get_ref()));
            }
        }
    }
}

/// A TOML manifest being read, with its spans turned into lines.
pub(super) struct TomlFile<'r, 'p> {
    pub(super) reader: &'r mut Reader,
    pub(super) rel: &'p Path,
    pub(super) index: &'p LineIndex,
}

impl TomlFile<'_, '_> {
    pub(super) fn line<T>(&self, spanned: &Spanned<T>) -> u32 {
        self.index.line(spanned.span().start)
    }

    pub(super) fn problem<T>(&mut self, at: &Spanned<T>, message: impl Into<String>) {
        let line = self.line(at);
        self.reader.problem(self.rel, Some(line), message);
    }

    /// An array of PEP 508 strings. In PEP 735 groups, `{include-group = "..."}` tables are
    /// allowed (and add nothing here: the included group is read on its own).
    fn pep508_array(
        &mut self,
        value: &Spanned<DeValue<'_>>,
        what: &str,
        dev: bool,
        include_groups: bool,
    ) {
        let Some(items) = value.get_ref().as_array() else {
            self.problem(value, format!("`{what}` must be an array of strings"));
            return;
        };
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(text) => {
                    let line = self.line(item);
                    self.reader.push_pep508(text, self.rel, line, KIND, dev);
                }
                DeValue::Table(table) if include_groups && table.get("include-group").is_some() => {
                }
                _ => self.problem(
                    item,
                    format!(
                        "`{what}` entries must be strings, found {}",
                        item.get_ref().type_str()
                    ),
                ),
            }
        }
    }

    /// A table of named groups, each an array of PEP 508 strings. A group is development-only
    /// when `all_dev` or when its name says so ([`is_dev_group`]).
    fn groups(&mut self, value: &Spanned<DeValue<'_>>, what: &str, pep735: bool, all_dev: bool) {
        let Some(groups) = value.get_ref().as_table() else {
            self.problem(value, format!("`{what}` must be a table"));
            return;
        };
        for (name, items) in groups.iter() {
            let dev = all_dev || is_dev_group(name.get_ref());
            let what = format!("{what}.{}", name.get_ref());
            self.pep508_array(items, &what, dev, pep735);
        }
    }

    /// A Poetry dependency table: `name = "^1.2"`, `name = { version, extras, markers, git,
    /// path, url, ... }` or an array of such tables (multiple constraints). `python` skipped.
    fn poetry(&mut self, value: &Spanned<DeValue<'_>>, what: &str, dev: bool) {
        let Some(table) = value.get_ref().as_table() else {
            self.problem(value, format!("`{what}` must be a table"));
            return;
        };
        for (key, spec) in table.iter() {
            let name: &str = key.get_ref();
            if name.eq_ignore_ascii_case("python") {
                continue;
            }
            let line = self.line(key);
            match spec.get_ref() {
                DeValue::Array(items) => {
                    for item in items.iter() {
                        let line = self.line(item);
                        self.poetry_spec(name, item, line, dev);
                    }
                }
                _ => self.poetry_spec(name, spec, line, dev),
            }
        }
    }

    fn poetry_spec(&mut self, name: &str, spec: &Spanned<DeValue<'_>>, line: u32, dev: bool) {
        let mut dependency = dependency(name, self.rel, line, KIND);
        dependency.dev = dev;
        match spec.get_ref() {
            DeValue::String(version) => dependency.specifier = version_spec(version),
            DeValue::Table(table) => {
                let text = |key: &str| table.get(key).and_then(|v| v.get_ref().as_str());
                dependency.specifier = text("version").map(version_spec).unwrap_or_default();
                dependency.marker = text("markers").map(|m| m.trim().to_string());
                dependency.extras = string_array(table, "extras");
                let reference = text("rev").or(text("tag")).or(text("branch"));
                dependency.url = match (text("git"), text("path"), text("url"), text("file")) {
                    (Some(git), ..) => Some(match reference {
                        Some(reference) => format!("{git}@{reference}"),
                        None => git.to_string(),
                    }),
                    (None, Some(path), ..) | (None, None, Some(path), _) => Some(path.to_string()),
                    (None, None, None, file) => file.map(str::to_string),
                };
            }
            other => {
                let message = format!(
                    "dependency `{name}`: expected a version string or a table, found {}",
                    other.type_str()
                );
                self.problem(spec, message);
                return;
            }
        }
        self.reader.push(dependency);
    }

    /// setuptools `dynamic`: `{ file = "requirements.txt" }` or `{ file = [...] }`.
    fn dynamic_files(
        &mut self,
        context: &LineContext<'_>,
        value: &Spanned<DeValue<'_>>,
        dev: bool,
    ) {
        let Some(files) = value.get_ref().as_table().and_then(|t| t.get("file")) else {
            return;
        };
        let line = self.line(files);
        let targets: Vec<String> = match files.get_ref() {
            DeValue::String(file) => split_list(file, ','),
            DeValue::Array(items) => items
                .iter()
                .filter_map(|item| item.get_ref().as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        for target in targets {
            requirements::include(self.reader, context, line, &target, false, dev);
        }
    }
}

/// A Poetry / Pipfile version constraint as written; `*` (any version) is no constraint.
pub(super) fn version_spec(version: &str) -> String {
    let version = version.trim();
    if version == "*" {
        String::new()
    } else {
        version.to_string()
    }
}

/// The strings of an array-of-strings field (others skipped).
pub(super) fn string_array(table: &DeTable<'_>, key: &str) -> Vec<String> {
    table
        .get(key)
        .and_then(|v| v.get_ref().as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.get_ref().as_str().map(|s| s.trim().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::super::{Dependency, Manifests, read_manifests};
    use super::*;

    fn read(text: &str) -> Manifests {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("pyproject.toml");
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
    fn pep621_dependencies_and_optional_groups() {
        let m = read(
            r#"[project]
name = "svc"
requires-python = ">=3.10"
dependencies = [
    "fastapi>=0.110",
    "uvicorn[standard]>=0.29",
    'tensorflow-cpu>=2.16; sys_platform != "darwin"',
    "numpy (>=1.26, <2)",
]

[project.optional-dependencies]
dev = ["pytest>=8", "httpx"]
gpu = ["onnxruntime-gpu==1.18.0"]
Docs = ["mkdocs"]
typing = ["mypy"]
"#,
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let names: Vec<_> = m.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "fastapi",
                "uvicorn",
                "tensorflow-cpu",
                "numpy",
                "pytest",
                "httpx",
                "onnxruntime-gpu",
                "mkdocs",
                "mypy"
            ]
        );
        let fastapi = find(&m, "fastapi");
        assert_eq!(fastapi.specifier, ">=0.110");
        assert_eq!(fastapi.line, 5);
        assert_eq!(fastapi.kind, ManifestKind::Pyproject);
        assert_eq!(fastapi.file, PathBuf::from("pyproject.toml"));
        assert!(!fastapi.dev);
        let uvicorn = find(&m, "uvicorn");
        assert_eq!(uvicorn.extras, vec!["standard"]);
        assert_eq!(uvicorn.line, 6);
        let tf = find(&m, "tensorflow-cpu");
        assert_eq!(tf.marker.as_deref(), Some(r#"sys_platform != "darwin""#));
        assert_eq!(tf.specifier, ">=2.16");
        assert_eq!(tf.line, 7);
        assert_eq!(find(&m, "numpy").specifier, ">=1.26,<2");
        let pytest = find(&m, "pytest");
        assert!(pytest.dev);
        assert_eq!(pytest.line, 12);
        assert_eq!(pytest.specifier, ">=8");
        let gpu = find(&m, "onnxruntime-gpu");
        assert!(!gpu.dev);
        assert_eq!(gpu.line, 13);
        assert!(find(&m, "mkdocs").dev);
        assert!(find(&m, "mypy").dev);
    }

    #[test]
    fn dependency_groups() {
        let m = read(
            r#"[dependency-groups]
test = ["pytest", {include-group = "lint"}]
lint = ["ruff>=0.5"]
serve = ["gunicorn==22.0"]
"#,
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let pytest = find(&m, "pytest");
        assert!(pytest.dev);
        assert_eq!(pytest.line, 2);
        let ruff = find(&m, "ruff");
        assert!(ruff.dev);
        assert_eq!(ruff.specifier, ">=0.5");
        assert_eq!(ruff.line, 3);
        let gunicorn = find(&m, "gunicorn");
        assert!(!gunicorn.dev);
        assert_eq!(gunicorn.line, 4);
        assert_eq!(m.dependencies.len(), 3);
    }

    #[test]
    fn poetry_tables() {
        let m = read(
            r#"[tool.poetry]
name = "svc"

[tool.poetry.dependencies]
python = "^3.10"
torch = "^2.3"
Flask = "*"
transformers = { version = ">=4.44,<5", extras = ["torch", "sentencepiece"] }
pywin32 = { version = "306", markers = "sys_platform == 'win32'" }
mylib = { git = "https://github.com/org/mylib.git", tag = "v1.0" }
local-pkg = { path = "../local-pkg", develop = true }
numpy = [
    { version = "<1.25", python = "<3.9" },
    { version = "^1.26", python = ">=3.9" },
]

[tool.poetry.dependencies.opencv-python-headless]
version = "4.9.0.80"

[tool.poetry.group.test.dependencies]
pytest = "^8.0"

[tool.poetry.group.lint]
optional = true

[tool.poetry.group.lint.dependencies]
ruff = "0.5.0"

[tool.poetry.dev-dependencies]
black = "^24"
"#,
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert!(m.dependencies.iter().all(|d| d.name != "python"));
        let torch = find(&m, "torch");
        assert_eq!(torch.specifier, "^2.3");
        assert_eq!(torch.line, 6);
        assert!(!torch.dev);
        let flask = find(&m, "Flask");
        assert_eq!(flask.specifier, "");
        assert_eq!(flask.normalized, "flask");
        assert_eq!(flask.line, 7);
        let transformers = find(&m, "transformers");
        assert_eq!(transformers.specifier, ">=4.44,<5");
        assert_eq!(transformers.extras, vec!["torch", "sentencepiece"]);
        assert_eq!(transformers.line, 8);
        let pywin32 = find(&m, "pywin32");
        assert_eq!(pywin32.marker.as_deref(), Some("sys_platform == 'win32'"));
        assert_eq!(pywin32.specifier, "306");
        let mylib = find(&m, "mylib");
        assert_eq!(
            mylib.url.as_deref(),
            Some("https://github.com/org/mylib.git@v1.0")
        );
        assert_eq!(mylib.line, 10);
        assert_eq!(find(&m, "local-pkg").url.as_deref(), Some("../local-pkg"));
        let numpys: Vec<_> = m
            .dependencies
            .iter()
            .filter(|d| d.name == "numpy")
            .collect();
        assert_eq!(numpys.len(), 2);
        assert_eq!(numpys[0].specifier, "<1.25");
        assert_eq!(numpys[0].line, 13);
        assert_eq!(numpys[1].specifier, "^1.26");
        assert_eq!(numpys[1].line, 14);
        let opencv = find(&m, "opencv-python-headless");
        assert_eq!(opencv.specifier, "4.9.0.80");
        assert_eq!(opencv.line, 17);
        let pytest = find(&m, "pytest");
        assert!(pytest.dev);
        assert_eq!(pytest.line, 21);
        assert!(find(&m, "ruff").dev);
        let black = find(&m, "black");
        assert!(black.dev);
        assert_eq!(black.line, 30);
        // In line order.
        let lines: Vec<_> = m.dependencies.iter().map(|d| d.line).collect();
        let mut sorted = lines.clone();
        sorted.sort_unstable();
        assert_eq!(lines, sorted);
    }

    #[test]
    fn pdm_and_uv_dev_dependencies() {
        let m = read(
            r#"[tool.pdm.dev-dependencies]
checks = ["flake8"]

[tool.uv]
dev-dependencies = ["pytest-cov"]
"#,
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert!(find(&m, "flake8").dev);
        assert_eq!(find(&m, "flake8").line, 2);
        assert!(find(&m, "pytest-cov").dev);
        assert_eq!(find(&m, "pytest-cov").line, 5);
    }

    #[test]
    fn setuptools_dynamic_files() {
        let dir = tempfile::TempDir::new().unwrap();
        let root = dir.path();
        let path = root.join("pyproject.toml");
        std::fs::write(
            &path,
            r#"[project]
name = "svc"
dynamic = ["dependencies", "optional-dependencies"]

[tool.setuptools.dynamic]
dependencies = { file = ["requirements.in"] }
optional-dependencies.test = { file = "test-reqs.in" }
optional-dependencies.extra = { file = "missing.in" }
"#,
        )
        .unwrap();
        std::fs::write(root.join("requirements.in"), "torch>=2\n").unwrap();
        std::fs::write(root.join("test-reqs.in"), "pytest\n").unwrap();
        let m = read_manifests(root, &[path]);
        let torch = find(&m, "torch");
        assert_eq!(torch.file, PathBuf::from("requirements.in"));
        assert_eq!(torch.kind, ManifestKind::Requirements);
        assert!(!torch.dev);
        assert!(find(&m, "pytest").dev);
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].file, Path::new("pyproject.toml"));
        assert_eq!(m.problems[0].line, Some(8));
        assert!(m.problems[0].message.contains("missing.in"));
    }

    #[test]
    fn bad_requirement_strings_and_types() {
        let m = read(
            r#"[project]
name = "svc"
dependencies = [
    "fastapi",
    "numpy >= = 1",
    42,
]
optional-dependencies = "oops"
"#,
        );
        assert_eq!(m.dependencies.len(), 1);
        let lines: Vec<_> = m.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(5), Some(6), Some(8)]);
        assert!(m.problems[0].message.contains("numpy >= = 1"));
        assert!(m.problems[1].message.contains("integer"));
    }

    #[test]
    fn toml_syntax_error_has_its_line() {
        let m = read(
            "[project]\nname = \"svc\"\ndependencies = [\n  \"flask\",\n  \"numpy\"\n  \"torch\"\n]\n",
        );
        assert!(m.dependencies.is_empty());
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].line, Some(6));
        assert!(m.problems[0].message.starts_with("invalid TOML"));
        let m = read("[project]\nname = \"a\"\nname = \"b\"\n");
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].line, Some(3));
    }

    #[test]
    fn binary_garbage() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("pyproject.toml");
        std::fs::write(&path, [0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]).unwrap();
        let m = read_manifests(dir.path(), &[path]);
        assert!(m.dependencies.is_empty());
        assert_eq!(m.problems.len(), 1);
    }

    #[test]
    fn poetry_bad_spec_is_a_problem() {
        let m = read("[tool.poetry.dependencies]\ntorch = 2\nflask = \"^3\"\n");
        assert_eq!(m.dependencies.len(), 1);
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].line, Some(2));
    }
}
