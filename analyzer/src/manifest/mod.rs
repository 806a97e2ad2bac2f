//! Dependency manifests: requirements*.txt, pyproject.toml (PEP 621 and Poetry), setup.cfg,
//! setup.py (literal `install_requires`), Pipfile and conda environment files.
//!
//! Each parser turns one file into [`Dependency`] entries with their line numbers, and
//! problems into [`ManifestProblem`]s (a malformed manifest is a finding, never a crash).

mod conda;
mod pipfile;
mod pyproject;
mod requirements;
mod setup_cfg;
mod setup_py;

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use pep508_rs::{Requirement, VerbatimUrl};
use serde::{Deserialize, Serialize};

use crate::knowledge::normalize_name;

/// Which kind of manifest a dependency was declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ManifestKind {
    Requirements,
    Pyproject,
    SetupCfg,
    SetupPy,
    Pipfile,
    Conda,
}

/// One declared dependency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    /// The name as written.
    pub name: String,
    /// PEP 503 normalised name (see `knowledge::normalize_name`).
    pub normalized: String,
    /// Version specifier as written (`>=2.1,<3`), empty when none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub specifier: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<String>,
    /// PEP 508 environment marker as written (`python_version >= "3.9"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    /// A direct URL or path reference (`name @ https://...`, `-e ./pkg`, `git+https://...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The manifest it was declared in, relative to the service root.
    pub file: PathBuf,
    /// 1-based line in that file.
    pub line: u32,
    pub kind: ManifestKind,
    /// Declared as a constraint only (`-c constraints.txt`): pins a version, installs nothing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub constraint_only: bool,
    /// Declared in a development / test group (Poetry dev group, Pipfile dev-packages,
    /// PEP 621 optional-dependencies named dev/test/docs/lint).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dev: bool,
}

/// Something wrong with a manifest: an unparseable line, a missing include, bad TOML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestProblem {
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<u32>,
    pub message: String,
}

/// Everything read from the manifests of one service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifests {
    /// Manifest files read, relative to the service root.
    pub files: Vec<PathBuf>,
    pub dependencies: Vec<Dependency>,
    pub problems: Vec<ManifestProblem>,
}

/// Whether a file name is a manifest this module reads.
pub fn is_manifest(file_name: &str) -> bool {
    let lower = file_name.to_ascii_lowercase();
    (lower.starts_with("requirements") && lower.ends_with(".txt"))
        || matches!(
            lower.as_str(),
            "pyproject.toml"
                | "setup.cfg"
                | "setup.py"
                | "pipfile"
                | "environment.yml"
                | "environment.yaml"
                | "conda.yml"
                | "conda.yaml"
        )
}

/// Reads the given manifest files (absolute paths inside `root`). requirements files follow
/// their `-r` / `-c` includes (relative to the including file), each file read once.
///
/// The format is chosen by file name: `pyproject.toml`, `setup.cfg`, `setup.py`, `Pipfile`,
/// `*.yml` / `*.yaml` (conda environment files); anything else is read as a pip requirements
/// file. Nothing here panics on bad input: unreadable, non-UTF-8 or malformed manifests become
/// [`ManifestProblem`]s.
pub fn read_manifests(root: &Path, files: &[PathBuf]) -> Manifests {
    let mut reader = Reader::new(root);
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match name.as_str() {
            "pyproject.toml" => pyproject::read(&mut reader, file),
            "setup.cfg" => setup_cfg::read(&mut reader, file),
            "setup.py" => setup_py::read(&mut reader, file),
            "pipfile" => pipfile::read(&mut reader, file),
            n if n.ends_with(".yml") || n.ends_with(".yaml") => conda::read(&mut reader, file),
            _ => requirements::read_file(&mut reader, file, false, false),
        }
    }
    reader.out
}

/// Shared state of one [`read_manifests`] call: the output, and which files were read.
pub(crate) struct Reader {
    root: PathBuf,
    out: Manifests,
    /// Files already read, by canonical path and whether they were read as constraints.
    seen: HashSet<(PathBuf, bool)>,
    /// How deep the requirements files being read are nested in `-r` / `-c` includes.
    pub(crate) include_depth: u32,
}

impl Reader {
    fn new(root: &Path) -> Self {
        Self {
            root: lexical_normalize(root),
            out: Manifests::default(),
            seen: HashSet::new(),
            include_depth: 0,
        }
    }

    /// The path to record for `path`: relative to the service root when it is inside it,
    /// else as given.
    pub(crate) fn rel(&self, path: &Path) -> PathBuf {
        let normal = lexical_normalize(path);
        match normal.strip_prefix(&self.root) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
            _ => path.to_path_buf(),
        }
    }

    /// Marks `path` as read (in constraint mode or not); false when it already was.
    pub(crate) fn begin(&mut self, path: &Path, constraint: bool) -> bool {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| lexical_normalize(path));
        self.seen.insert((key, constraint))
    }

    /// Reads a manifest as UTF-8 text, recording it in [`Manifests::files`]. Unreadable,
    /// binary and non-UTF-8 files become problems and give `None`.
    pub(crate) fn load(&mut self, path: &Path) -> Option<String> {
        let rel = self.rel(path);
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) => {
                self.problem(&rel, None, format!("could not read the file: {err}"));
                return None;
            }
        };
        if !self.out.files.contains(&rel) {
            self.out.files.push(rel.clone());
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(err) => {
                let at = err.utf8_error().valid_up_to();
                let line = line_of_byte(err.as_bytes(), at);
                self.problem(
                    &rel,
                    Some(line),
                    format!("not valid UTF-8 text (invalid byte at offset {at})"),
                );
                return None;
            }
        };
        if let Some(at) = text.find('\0') {
            let line = line_of_byte(text.as_bytes(), at);
            self.problem(
                &rel,
                Some(line),
                "looks like a binary file (contains NUL bytes), not a manifest".to_string(),
            );
            return None;
        }
        Some(match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        })
    }

    /// Where the output stands now, for [`Reader::sort_since`].
    pub(crate) fn mark(&self) -> (usize, usize) {
        (self.out.dependencies.len(), self.out.problems.len())
    }

    /// Puts what was recorded since `mark` in line order (for formats read out of order).
    pub(crate) fn sort_since(&mut self, mark: (usize, usize)) {
        if let Some(dependencies) = self.out.dependencies.get_mut(mark.0..) {
            dependencies.sort_by_key(|d| d.line);
        }
        if let Some(problems) = self.out.problems.get_mut(mark.1..) {
            problems.sort_by_key(|p| p.line);
        }
    }

    pub(crate) fn problem(&mut self, file: &Path, line: Option<u32>, message: impl Into<String>) {
        self.out.problems.push(ManifestProblem {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        });
    }

    pub(crate) fn push(&mut self, dependency: Dependency) {
        self.out.dependencies.push(dependency);
    }

    /// Parses a PEP 508 string and records it, or records pep508's complaint as a problem.
    pub(crate) fn push_pep508(
        &mut self,
        text: &str,
        file: &Path,
        line: u32,
        kind: ManifestKind,
        dev: bool,
    ) {
        match parse_pep508(text) {
            Ok(parts) => {
                let mut dependency = parts.into_dependency(file, line, kind);
                dependency.dev = dev;
                self.push(dependency);
            }
            Err(message) => self.problem(
                file,
                Some(line),
                format!("invalid requirement `{}`: {message}", text.trim()),
            ),
        }
    }
}

/// A dependency with only a name, a place and a kind; the other fields empty.
pub(crate) fn dependency(name: &str, file: &Path, line: u32, kind: ManifestKind) -> Dependency {
    Dependency {
        name: name.to_string(),
        normalized: normalize_name(name),
        specifier: String::new(),
        extras: Vec::new(),
        marker: None,
        url: None,
        file: file.to_path_buf(),
        line,
        kind,
        constraint_only: false,
        dev: false,
    }
}

/// Names of optional-dependency / dependency groups that are development-only
/// (compared after PEP 503 normalisation, word by word: `dev`, `test-gpu`, `docs-build`).
const DEV_GROUP_WORDS: &[&str] = &[
    "dev",
    "develop",
    "development",
    "test",
    "tests",
    "testing",
    "doc",
    "docs",
    "lint",
    "linting",
    "typing",
];

/// Whether a group / extra name denotes development-only dependencies.
pub(crate) fn is_dev_group(name: &str) -> bool {
    normalize_name(name)
        .split('-')
        .any(|word| DEV_GROUP_WORDS.contains(&word))
}

/// Byte offset -> 1-based line number, for text with spans.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    pub(crate) fn line(&self, offset: usize) -> u32 {
        let index = self.starts.partition_point(|&start| start <= offset);
        u32::try_from(index.max(1)).unwrap_or(u32::MAX)
    }
}

fn line_of_byte(bytes: &[u8], offset: usize) -> u32 {
    let newlines = bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// Resolves `.` and `..` components without touching the file system.
pub(crate) fn lexical_normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !matches!(
                    out.components().next_back(),
                    Some(Component::RootDir | Component::Prefix(_))
                ) {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Parses a TOML manifest; a syntax error becomes a problem on the error's line.
pub(crate) fn parse_toml<'i>(
    reader: &mut Reader,
    rel: &Path,
    text: &'i str,
    index: &LineIndex,
) -> Option<toml::de::DeTable<'i>> {
    match toml::de::DeTable::parse(text) {
        Ok(document) => Some(document.into_inner()),
        Err(err) => {
            let line = err.span().map(|span| index.line(span.start));
            reader.problem(rel, line, format!("invalid TOML: {}", err.message()));
            None
        }
    }
}

/// The sub-table `key` of a TOML table.
pub(crate) fn toml_table<'a, 'i>(
    table: &'a toml::de::DeTable<'i>,
    key: &str,
) -> Option<&'a toml::de::DeTable<'i>> {
    table.get(key)?.get_ref().as_table()
}

/// The parts of a PEP 508 requirement, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pep508Parts {
    pub(crate) name: String,
    pub(crate) extras: Vec<String>,
    pub(crate) specifier: String,
    pub(crate) marker: Option<String>,
    pub(crate) url: Option<String>,
}

impl Pep508Parts {
    pub(crate) fn into_dependency(self, file: &Path, line: u32, kind: ManifestKind) -> Dependency {
        Dependency {
            specifier: self.specifier,
            extras: self.extras,
            marker: self.marker,
            url: self.url,
            ..dependency(&self.name, file, line, kind)
        }
    }
}

/// Validates `text` as a PEP 508 requirement with `pep508_rs` and returns its parts as
/// written (the specifier without whitespace, e.g. `>=1.0,<2`). The error is pep508's message.
pub(crate) fn parse_pep508(text: &str) -> Result<Pep508Parts, String> {
    let text = text.trim();
    // pep508_rs expands `${VAR}` from the process environment while parsing URLs; the parts
    // are taken from the text as written, so validate a copy without the braces instead.
    let sanitized = text.replace("${", "$").replace('}', "");
    let check = if text.contains("${") {
        sanitized.as_str()
    } else {
        text
    };
    check_names(check)?;
    // PEP 508 is ASCII outside a URL; pep508_rs 0.9 panics slicing a multi-byte character it
    // meets in a version or marker (found by the analyzer fuzzer: a BOM after a marker).
    if let Some(c) = check.chars().find(|c| !c.is_ascii())
        && !check.contains('@')
    {
        return Err(format!("a requirement is ASCII, not {c:?}"));
    }
    // pep508_rs asserts internal invariants with `expect`; a panic on some input it was not
    // ready for must not take the analysis down, so it becomes this requirement's error.
    match std::panic::catch_unwind(|| Requirement::<VerbatimUrl>::from_str(check)) {
        Ok(Ok(_)) => {}
        Ok(Err(err)) => return Err(err.message.to_string()),
        Err(_) => return Err("the PEP 508 parser failed on this requirement".to_string()),
    }

    let name_end = text.find(|c: char| !is_name_char(c)).unwrap_or(text.len());
    let name = text[..name_end].to_string();
    let mut rest = text[name_end..].trim_start();
    let mut extras = Vec::new();
    if let Some(after) = rest.strip_prefix('[') {
        let close = after.find(']').unwrap_or(after.len());
        extras = split_list(&after[..close], ',');
        rest = after.get(close + 1..).unwrap_or("").trim_start();
    }
    if let Some(after) = rest.strip_prefix('@') {
        let after = after.trim_start();
        let end = url_end(after);
        let url = after[..end].to_string();
        let marker = after[end..]
            .trim_start()
            .strip_prefix(';')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string);
        return Ok(Pep508Parts {
            name,
            extras,
            specifier: String::new(),
            marker,
            url: Some(url),
        });
    }
    let (spec, marker) = match rest.split_once(';') {
        Some((spec, marker)) => (spec, Some(marker.trim())),
        None => (rest, None),
    };
    let mut specifier: String = spec.chars().filter(|c| !c.is_whitespace()).collect();
    if specifier.starts_with('(') && specifier.ends_with(')') {
        specifier = specifier[1..specifier.len() - 1].to_string();
    }
    Ok(Pep508Parts {
        name,
        extras,
        specifier,
        marker: marker.filter(|m| !m.is_empty()).map(str::to_string),
        url: None,
    })
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Rejects a package or extra name that ends with `.`, `_` or `-` before pep508_rs sees it:
/// its parser accepts those and then panics when it builds the name.
fn check_names(text: &str) -> Result<(), String> {
    let ends_badly = |name: &str| -> Option<char> {
        let last = name.chars().last()?;
        (name.starts_with(|c: char| c.is_ascii_alphanumeric()) && !last.is_ascii_alphanumeric())
            .then_some(last)
    };
    let name_len = text.find(|c: char| !is_name_char(c)).unwrap_or(text.len());
    if let Some(last) = ends_badly(&text[..name_len]) {
        return Err(format!(
            "Package name must end with an alphanumeric character, not '{last}'"
        ));
    }
    if let Some(inside) = text[name_len..].trim_start().strip_prefix('[') {
        let inside = &inside[..inside.find(']').unwrap_or(inside.len())];
        for piece in inside.split(',') {
            let piece = piece.trim_start();
            let len = piece
                .find(|c: char| !is_name_char(c))
                .unwrap_or(piece.len());
            if let Some(last) = ends_badly(&piece[..len]) {
                return Err(format!(
                    "Extra name must end with an alphanumeric character, not '{last}'"
                ));
            }
        }
    }
    Ok(())
}

/// Where the URL of a `name @ URL` requirement ends, by pep508's rules: at whitespace that is
/// followed by `;`, `#` or the end.
fn url_end(text: &str) -> usize {
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            let after = text[i..].trim_start();
            if after.is_empty() || after.starts_with(';') || after.starts_with('#') {
                return i;
            }
        }
    }
    text.len()
}

/// Splits on `separator`, trimming the items and dropping empty ones.
pub(crate) fn split_list(text: &str, separator: char) -> Vec<String> {
    text.split(separator)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep508_parts_as_written() {
        let parts = parse_pep508(
            r#"Requests[security, socks] >= 2.8.1, == 2.8.* ; python_version < "3.9""#,
        )
        .unwrap();
        assert_eq!(parts.name, "Requests");
        assert_eq!(parts.extras, vec!["security", "socks"]);
        assert_eq!(parts.specifier, ">=2.8.1,==2.8.*");
        assert_eq!(parts.marker.as_deref(), Some(r#"python_version < "3.9""#));
        assert_eq!(parts.url, None);
    }

    #[test]
    fn a_requirement_with_a_non_ascii_character_is_an_error_not_a_panic() {
        let error = parse_pep508("onnxruntime ; python_version<\"3\"\u{feff}").unwrap_err();
        assert!(error.contains("ASCII"), "{error}");
    }

    #[test]
    fn pep508_parenthesised_specifier_and_no_marker() {
        let parts = parse_pep508("numpy (>=1.24,<2)").unwrap();
        assert_eq!(parts.name, "numpy");
        assert_eq!(parts.specifier, ">=1.24,<2");
        assert_eq!(parts.marker, None);
        let bare = parse_pep508("  flask  ").unwrap();
        assert_eq!(bare.name, "flask");
        assert_eq!(bare.specifier, "");
        assert!(bare.extras.is_empty());
    }

    #[test]
    fn pep508_url_requirement() {
        let parts = parse_pep508(
            r#"torch @ https://download.pytorch.org/whl/cpu/torch-2.3.0%2Bcpu-cp311-cp311-linux_x86_64.whl ; sys_platform == "linux""#,
        )
        .unwrap();
        assert_eq!(parts.name, "torch");
        assert_eq!(
            parts.url.as_deref(),
            Some(
                "https://download.pytorch.org/whl/cpu/torch-2.3.0%2Bcpu-cp311-cp311-linux_x86_64.whl"
            )
        );
        assert_eq!(parts.marker.as_deref(), Some(r#"sys_platform == "linux""#));
        assert_eq!(parts.specifier, "");
    }

    #[test]
    fn pep508_env_var_url_left_as_is() {
        let parts = parse_pep508("pkg @ https://${TOKEN}@example.com/pkg-1.0.tar.gz").unwrap();
        assert_eq!(
            parts.url.as_deref(),
            Some("https://${TOKEN}@example.com/pkg-1.0.tar.gz")
        );
    }

    #[test]
    fn pep508_rejects_garbage() {
        assert!(parse_pep508("numpy >= = 1").is_err());
        assert!(parse_pep508("!!!").is_err());
        assert!(parse_pep508("foo; python_version >>> '3'").is_err());
    }

    #[test]
    fn names_pep508_rs_would_panic_on() {
        for text in [
            "r_ ;",
            "r_[x]",
            "pkg- >=1",
            "pkg[a_]",
            "pkg[ok, b. ]",
            "pkg[a_ b]",
        ] {
            let err = parse_pep508(text).unwrap_err();
            assert!(
                err.contains("must end with an alphanumeric"),
                "{text}: {err}"
            );
        }
        assert!(parse_pep508("a_b[c-d, e.f]").is_ok());
    }

    #[test]
    fn dev_groups() {
        for name in [
            "dev",
            "Test",
            "tests",
            "docs",
            "lint",
            "typing",
            "test-gpu",
            "Dev_Tools",
        ] {
            assert!(is_dev_group(name), "{name}");
        }
        for name in ["gpu", "serve", "latest", "onnx", "all"] {
            assert!(!is_dev_group(name), "{name}");
        }
    }

    #[test]
    fn line_index() {
        let index = LineIndex::new("a\nbc\n\nd");
        assert_eq!(index.line(0), 1);
        assert_eq!(index.line(1), 1);
        assert_eq!(index.line(2), 2);
        assert_eq!(index.line(5), 3);
        assert_eq!(index.line(6), 4);
        assert_eq!(index.line(100), 4);
    }

    #[test]
    fn normalizes_paths_lexically() {
        assert_eq!(
            lexical_normalize(Path::new("/a/b/../c/./d.txt")),
            PathBuf::from("/a/c/d.txt")
        );
        assert_eq!(lexical_normalize(Path::new("../x")), PathBuf::from("../x"));
        assert_eq!(lexical_normalize(Path::new("/..")), PathBuf::from("/"));
    }

    #[test]
    fn reads_several_kinds_and_records_files() {
        let dir = tempfile::TempDir::new().unwrap();
        let root = dir.path();
        std::fs::write(root.join("requirements.txt"), "flask==3.0\n").unwrap();
        std::fs::write(
            root.join("pyproject.toml"),
            "[project]\nname = \"x\"\ndependencies = [\"numpy>=1.26\"]\n",
        )
        .unwrap();
        let files = vec![
            root.join("requirements.txt"),
            root.join("pyproject.toml"),
            root.join("requirements.txt"),
            root.join("missing.txt"),
        ];
        let manifests = read_manifests(root, &files);
        assert_eq!(
            manifests.files,
            vec![
                PathBuf::from("requirements.txt"),
                PathBuf::from("pyproject.toml")
            ]
        );
        let names: Vec<_> = manifests
            .dependencies
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(names, vec!["flask", "numpy"]);
        assert_eq!(manifests.dependencies[0].kind, ManifestKind::Requirements);
        assert_eq!(manifests.dependencies[1].kind, ManifestKind::Pyproject);
        assert_eq!(manifests.dependencies[1].line, 3);
        assert_eq!(manifests.problems.len(), 1);
        assert_eq!(manifests.problems[0].file, PathBuf::from("missing.txt"));
        assert_eq!(manifests.problems[0].line, None);
    }

    #[test]
    fn non_utf8_and_binary_files_are_problems() {
        let dir = tempfile::TempDir::new().unwrap();
        let root = dir.path();
        std::fs::write(root.join("requirements.txt"), b"flask\n\xff\xfe\x00garbage").unwrap();
        std::fs::write(root.join("Pipfile"), b"[packages]\x00\x01\x02").unwrap();
        let manifests =
            read_manifests(root, &[root.join("requirements.txt"), root.join("Pipfile")]);
        assert!(manifests.dependencies.is_empty());
        assert_eq!(manifests.problems.len(), 2);
        assert_eq!(
            manifests.problems[0].file,
            PathBuf::from("requirements.txt")
        );
        assert_eq!(manifests.problems[0].line, Some(2));
        assert!(manifests.problems[0].message.contains("UTF-8"));
        assert_eq!(manifests.problems[1].file, PathBuf::from("Pipfile"));
        assert!(manifests.problems[1].message.contains("binary"));
    }

    #[test]
    fn path_outside_root_kept_as_given() {
        let dir = tempfile::TempDir::new().unwrap();
        let other = tempfile::TempDir::new().unwrap();
        let file = other.path().join("requirements.txt");
        std::fs::write(&file, "numpy\n").unwrap();
        let manifests = read_manifests(dir.path(), std::slice::from_ref(&file));
        assert_eq!(manifests.dependencies[0].file, file);
    }

    #[test]
    fn is_manifest_names() {
        assert!(is_manifest("requirements-dev.txt"));
        assert!(is_manifest("Pipfile"));
        assert!(is_manifest("environment.yml"));
        assert!(!is_manifest("Pipfile.lock"));
        assert!(!is_manifest("constraints.txt"));
    }
}
