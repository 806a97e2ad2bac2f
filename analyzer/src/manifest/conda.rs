//! conda environment files (`environment.yml`): the `dependencies:` list of conda match
//! specs (`numpy=1.26`, `conda-forge::pytorch>=2.3`, `numpy[version='>=1.24']`; `python` and
//! `pip` themselves skipped) and its nested `- pip:` list, read as requirements-file lines.

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::requirements::{LineContext, parse_requirement_line};
use super::{ManifestKind, Reader, dependency};

const KIND: ManifestKind = ManifestKind::Conda;

#[derive(Deserialize)]
struct Environment {
    #[serde(default)]
    dependencies: Option<Vec<Spanned<Item>>>,
}

/// One entry of `dependencies:`.
enum Item {
    Spec(String),
    Pip(Vec<Spanned<Item>>),
    /// Anything else, described by its YAML type.
    Other(&'static str),
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ItemVisitor)
    }
}

struct ItemVisitor;

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = Item;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a conda package spec or a `pip:` list")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Item, E> {
        Ok(Item::Spec(value.to_string()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Item, E> {
        Ok(Item::Spec(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Item, E> {
        Ok(Item::Spec(value.to_string()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Item, E> {
        Ok(Item::Spec(value.to_string()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Item, E> {
        Ok(Item::Spec(value.to_string()))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Item, E> {
        Ok(Item::Other("boolean"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Item, E> {
        Ok(Item::Other("null"))
    }

    fn visit_none<E: de::Error>(self) -> Result<Item, E> {
        Ok(Item::Other("null"))
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Item, D::Error> {
        deserializer.deserialize_any(ItemVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Item::Other("list"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
        let mut result = Item::Other("mapping");
        while let Some(key) = map.next_key::<String>()? {
            if key == "pip" && matches!(result, Item::Other(_)) {
                result = match map.next_value::<PipList>()? {
                    PipList(Some(items)) => Item::Pip(items),
                    PipList(None) => Item::Other("a `pip:` value that is not a list"),
                };
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(result)
    }
}

/// The value of `pip:`: a list of entries, or `None` for anything else (null is empty).
struct PipList(Option<Vec<Spanned<Item>>>);

impl<'de> Deserialize<'de> for PipList {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PipListVisitor)
    }
}

struct PipListVisitor;

impl<'de> Visitor<'de> for PipListVisitor {
    type Value = PipList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of pip requirements")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PipList, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Item>>()? {
            items.push(item);
        }
        Ok(PipList(Some(items)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<PipList, E> {
        Ok(PipList(Some(Vec::new())))
    }

    fn visit_none<E: de::Error>(self) -> Result<PipList, E> {
        Ok(PipList(Some(Vec::new())))
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<PipList, D::Error> {
        deserializer.deserialize_any(PipListVisitor)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<PipList, E> {
        Ok(PipList(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<PipList, E> {
        Ok(PipList(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<PipList, E> {
        Ok(PipList(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<PipList, E> {
        Ok(PipList(None))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<PipList, E> {
        Ok(PipList(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PipList, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(PipList(None))
    }
}

pub(super) fn read(reader: &mut Reader, path: &Path) {
    if !reader.begin(path, false) {
        return;
    }
    let Some(text) = reader.load(path) else {
        return;
    };
    let rel = reader.rel(path);
    if text.trim().is_empty() {
        return;
    }
    let environment: Environment = match serde_saphyr::from_str(&text) {
        Ok(environment) => environment,
        Err(err) => {
            let line = err
                .location()
                .map(|l| u32::try_from(l.line()).unwrap_or(u32::MAX))
                .filter(|&line| line > 0);
            let message = err.without_snippet().to_string();
            reader.problem(&rel, line, format!("invalid YAML: {message}"));
            return;
        }
    };
    let context = LineContext {
        base_dir: path.parent().unwrap_or(Path::new("")),
        rel: &rel,
        kind: KIND,
        constraint: false,
        dev: false,
    };
    for item in environment.dependencies.unwrap_or_default() {
        let line = line_of(&item);
        match item.value {
            Item::Spec(spec) => read_spec(reader, &rel, line, &spec),
            Item::Pip(entries) => {
                for entry in entries {
                    let line = line_of(&entry);
                    let found = match entry.value {
                        Item::Spec(text) => {
                            parse_requirement_line(reader, &context, line, &text);
                            continue;
                        }
                        Item::Pip(_) => "mapping",
                        Item::Other(kind) => kind,
                    };
                    reader.problem(
                        &rel,
                        Some(line),
                        format!("`pip:` entries must be strings, found {found}"),
                    );
                }
            }
            Item::Other(kind) => reader.problem(
                &rel,
                Some(line),
                format!(
                    "`dependencies` entries must be package specs or a `pip:` list, found {kind}"
                ),
            ),
        }
    }
}

fn line_of<T>(spanned: &Spanned<T>) -> u32 {
    u32::try_from(spanned.referenced.line())
        .unwrap_or(u32::MAX)
        .max(1)
}

fn read_spec(reader: &mut Reader, rel: &Path, line: u32, spec: &str) {
    let Some((name, specifier)) = parse_conda_spec(spec) else {
        reader.problem(
            rel,
            Some(line),
            format!("`{}` is not a conda package spec", spec.trim()),
        );
        return;
    };
    if name.eq_ignore_ascii_case("python") || name.eq_ignore_ascii_case("pip") {
        return;
    }
    let mut dependency = dependency(name, rel, line, KIND);
    dependency.specifier = specifier;
    reader.push(dependency);
}

/// A conda match spec: `[channel::]name[ version[ build]]`, `name=1.2=build`,
/// `name>=1.2,<2`, `name[version='>=1.2', build=...]`. The specifier is the version part
/// as written (`=1.26`, `>=1.24,<2`, `1.26 py39_0`).
fn parse_conda_spec(spec: &str) -> Option<(&str, String)> {
    let spec = spec.trim();
    let spec = spec.rsplit("::").next().unwrap_or(spec).trim();
    let name_end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(spec.len());
    let name = &spec[..name_end];
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let rest = spec[name_end..].trim();
    if let Some(inside) = rest.strip_prefix('[') {
        let inside = inside.strip_suffix(']')?;
        let version = inside.split(',').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key.trim() == "version").then(|| {
                value
                    .trim()
                    .trim_matches(|c| c == '\'' || c == '"')
                    .to_string()
            })
        });
        // A `version` with a comma inside quotes was split above; take the quoted text whole.
        let version = match inside.find("version") {
            Some(at) => quoted_after(&inside[at..]).or(version),
            None => version,
        };
        return Some((name, version.unwrap_or_default()));
    }
    if rest.starts_with(|c: char| !(c.is_whitespace() || "=<>!~*0123456789".contains(c))) {
        return None;
    }
    Some((name, rest.to_string()))
}

/// The quoted value in `version='>=1,<2'`.
fn quoted_after(text: &str) -> Option<String> {
    let (_, value) = text.split_once('=')?;
    let value = value.trim_start();
    let quote = value.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = &value[1..];
    inner.find(quote).map(|end| inner[..end].to_string())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::{Dependency, Manifests, read_manifests};
    use super::*;

    fn read(text: &str) -> Manifests {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("environment.yml");
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
    fn conda_specs_and_pip_list() {
        let m = read(
            r#"name: svc
channels:
  - pytorch
  - conda-forge
dependencies:
  - python>=3.10
  - numpy=1.26
  - pytorch::pytorch>=2.3,<3
  - conda-forge::opencv 4.9.0 py311_0
  - scikit-learn
  - libblas=*=*mkl
  - pip
  # a comment
  - pip:
      - fastapi>=0.110
      - "uvicorn[standard]==0.29.0 ; python_version >= '3.9'"
      - --extra-index-url https://download.pytorch.org/whl/cpu
      - git+https://github.com/org/repo.git@v1#egg=tokenkit
  - tensorflow[version='>=2.16,<2.17']
"#,
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let names: Vec<_> = m.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "numpy",
                "pytorch",
                "opencv",
                "scikit-learn",
                "libblas",
                "fastapi",
                "uvicorn",
                "tokenkit",
                "tensorflow"
            ]
        );
        let numpy = find(&m, "numpy");
        assert_eq!(numpy.specifier, "=1.26");
        assert_eq!(numpy.line, 7);
        assert_eq!(numpy.kind, ManifestKind::Conda);
        assert_eq!(numpy.file, PathBuf::from("environment.yml"));
        let pytorch = find(&m, "pytorch");
        assert_eq!(pytorch.specifier, ">=2.3,<3");
        assert_eq!(pytorch.line, 8);
        assert_eq!(find(&m, "opencv").specifier, "4.9.0 py311_0");
        assert_eq!(find(&m, "opencv").line, 9);
        assert_eq!(find(&m, "scikit-learn").specifier, "");
        assert_eq!(find(&m, "libblas").specifier, "=*=*mkl");
        let fastapi = find(&m, "fastapi");
        assert_eq!(fastapi.specifier, ">=0.110");
        assert_eq!(fastapi.line, 15);
        assert_eq!(fastapi.kind, ManifestKind::Conda);
        let uvicorn = find(&m, "uvicorn");
        assert_eq!(uvicorn.extras, vec!["standard"]);
        assert_eq!(uvicorn.specifier, "==0.29.0");
        assert_eq!(uvicorn.marker.as_deref(), Some("python_version >= '3.9'"));
        assert_eq!(uvicorn.line, 16);
        let tokenkit = find(&m, "tokenkit");
        assert_eq!(
            tokenkit.url.as_deref(),
            Some("git+https://github.com/org/repo.git@v1#egg=tokenkit")
        );
        assert_eq!(tokenkit.line, 18);
        let tf = find(&m, "tensorflow");
        assert_eq!(tf.specifier, ">=2.16,<2.17");
        assert_eq!(tf.line, 19);
    }

    #[test]
    fn pip_requirements_include_relative_to_the_environment_file() {
        let dir = tempfile::TempDir::new().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("env")).unwrap();
        let path = root.join("env/environment.yaml");
        std::fs::write(
            &path,
            "dependencies:\n  - pip:\n    - -r requirements.txt\n    - -r missing.txt\n",
        )
        .unwrap();
        std::fs::write(root.join("env/requirements.txt"), "transformers>=4.44\n").unwrap();
        let m = read_manifests(root, &[path]);
        let transformers = find(&m, "transformers");
        assert_eq!(transformers.file, PathBuf::from("env/requirements.txt"));
        assert_eq!(transformers.kind, ManifestKind::Requirements);
        assert_eq!(transformers.line, 1);
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].file, PathBuf::from("env/environment.yaml"));
        assert_eq!(m.problems[0].line, Some(4));
    }

    #[test]
    fn bad_entries_are_problems() {
        let m = read(
            "dependencies:\n  - numpy\n  - ~weird\n  - {foo: bar}\n  - pip:\n    - flask\n    - numpy >= = 1\n    - [a, b]\n",
        );
        let names: Vec<_> = m.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, vec!["numpy", "flask"]);
        let lines: Vec<_> = m.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(3), Some(4), Some(7), Some(8)]);
        assert!(m.problems[2].message.contains("numpy >= = 1"));
    }

    #[test]
    fn pip_value_that_is_not_a_list() {
        let m = read("dependencies:\n  - numpy\n  - pip: flask\n  - pip:\n  - scipy\n");
        let names: Vec<_> = m.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, vec!["numpy", "scipy"]);
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].line, Some(3));
        assert!(m.problems[0].message.contains("not a list"));
    }

    #[test]
    fn yaml_syntax_error_has_its_line() {
        let m = read("name: svc\ndependencies:\n  - numpy\n  - [unclosed\n");
        assert!(m.dependencies.is_empty());
        assert_eq!(m.problems.len(), 1);
        assert!(m.problems[0].message.starts_with("invalid YAML"));
        assert!(
            m.problems[0].line.is_some_and(|l| (4..=5).contains(&l)),
            "{:?}",
            m.problems
        );

        let m = read("dependencies: 42\n");
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].line, Some(1));
    }

    #[test]
    fn empty_and_no_dependencies() {
        assert_eq!(read("").dependencies.len(), 0);
        let m = read("name: svc\nchannels: [defaults]\n");
        assert!(m.dependencies.is_empty());
        assert!(m.problems.is_empty());
    }

    #[test]
    fn binary_garbage() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("environment.yml");
        std::fs::write(&path, [0x1fu8, 0x8b, 0x08, 0x00, 0xff, 0xff]).unwrap();
        let m = read_manifests(dir.path(), &[path]);
        assert!(m.dependencies.is_empty());
        assert_eq!(m.problems.len(), 1);
    }

    #[test]
    fn conda_spec_forms() {
        assert_eq!(
            parse_conda_spec("numpy=1.26"),
            Some(("numpy", "=1.26".to_string()))
        );
        assert_eq!(
            parse_conda_spec("numpy ==1.26"),
            Some(("numpy", "==1.26".to_string()))
        );
        assert_eq!(
            parse_conda_spec("nvidia/label/cuda-11.8.0::cuda-toolkit"),
            Some(("cuda-toolkit", String::new()))
        );
        assert_eq!(
            parse_conda_spec("numpy[version='>=1.24,<2', build=py311*]"),
            Some(("numpy", ">=1.24,<2".to_string()))
        );
        assert_eq!(
            parse_conda_spec("_libgcc_mutex"),
            Some(("_libgcc_mutex", String::new()))
        );
        assert_eq!(parse_conda_spec("~weird"), None);
        assert_eq!(parse_conda_spec("numpy/foo"), None);
    }
}
