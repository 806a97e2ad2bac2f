//! pip requirements files (`requirements*.txt`), per pip's own reading of them: comments,
//! backslash continuations, `-r` / `-c` includes, `-e` editables, index and binary options,
//! per-requirement `--hash` options, bare URLs and paths, and PEP 508 requirements.

use std::path::Path;

use super::{
    Dependency, ManifestKind, Reader, dependency, is_dev_group, lexical_normalize, parse_pep508,
    split_list,
};

/// Where the lines being read come from.
pub(super) struct LineContext<'a> {
    /// Directory that relative includes and paths are resolved against.
    pub(super) base_dir: &'a Path,
    /// The file, relative to the service root (as recorded).
    pub(super) rel: &'a Path,
    pub(super) kind: ManifestKind,
    pub(super) constraint: bool,
    pub(super) dev: bool,
}

/// Reads one requirements file (once per constraint mode; include cycles end here).
/// `dev` marks everything in it as development-only; so does a development file name such
/// as `requirements-dev.txt`, `test-requirements.txt` or `requirements/docs.txt`.
pub(super) fn read_file(reader: &mut Reader, path: &Path, constraint: bool, dev: bool) {
    if !reader.begin(path, constraint) {
        return;
    }
    let Some(text) = reader.load(path) else {
        return;
    };
    let rel = reader.rel(path);
    let base_dir = path.parent().unwrap_or(Path::new(""));
    let context = LineContext {
        base_dir,
        rel: &rel,
        kind: ManifestKind::Requirements,
        constraint,
        dev: dev || is_dev_file(path),
    };
    reader.include_depth += 1;
    for (line, logical) in logical_lines(&text) {
        parse_line(reader, &context, line, &logical);
    }
    reader.include_depth -= 1;
}

/// Includes nested deeper than this are not followed (each file is read once anyway; this
/// bounds the recursion on long chains of distinct files).
const MAX_INCLUDE_DEPTH: u32 = 64;

/// Whether a requirements file name says it is development-only.
fn is_dev_file(path: &Path) -> bool {
    let Some(name) = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
    else {
        return false;
    };
    let stem = name
        .strip_suffix(".txt")
        .or_else(|| name.strip_suffix(".in"))
        .unwrap_or(&name);
    is_dev_group(stem)
}

/// Joins backslash continuations (numbered by their first line) the way pip does, then drops
/// comments and blank lines.
fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut joined: Vec<(u32, String)> = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let comment = is_comment_line(line);
        if !line.ends_with('\\') || comment {
            match pending.take() {
                Some((first, mut so_far)) => {
                    // pip puts a space before a comment line so that it is always dropped.
                    if comment {
                        so_far.push(' ');
                    }
                    so_far.push_str(line);
                    joined.push((first, so_far));
                }
                None => joined.push((number, line.to_string())),
            }
        } else {
            let stripped = line.trim_matches('\\');
            match &mut pending {
                Some((_, so_far)) => so_far.push_str(stripped),
                None => pending = Some((number, stripped.to_string())),
            }
        }
    }
    joined.extend(pending);
    joined
        .into_iter()
        .filter_map(|(number, line)| {
            let line = strip_comment(&line).trim();
            (!line.is_empty()).then(|| (number, line.to_string()))
        })
        .collect()
}

/// pip's `^\s*#`: a line that is only a comment.
fn is_comment_line(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Drops a comment: `#` at the start of the line or after whitespace (so `#egg=` stays).
pub(super) fn strip_comment(line: &str) -> &str {
    let mut previous_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && previous_space {
            return &line[..i];
        }
        previous_space = c.is_whitespace();
    }
    line
}

/// Reads one requirement line as it appears in a requirements file or a conda `pip:` list
/// (comments allowed; blank lines ignored).
pub(super) fn parse_requirement_line(
    reader: &mut Reader,
    context: &LineContext<'_>,
    line: u32,
    text: &str,
) {
    let text = strip_comment(text).trim();
    if !text.is_empty() {
        parse_line(reader, context, line, text);
    }
}

/// One logical line, without its comment and not blank.
fn parse_line(reader: &mut Reader, context: &LineContext<'_>, line: u32, text: &str) {
    // pip's break_args_options: the requirement runs up to the first token that starts
    // with `-`; the rest are options.
    let options_at = token_starts(text)
        .find(|&i| text[i..].starts_with('-'))
        .unwrap_or(text.len());
    let requirement = text[..options_at].trim();
    let tokens = shell_split(&text[options_at..]);
    let options = parse_options(&tokens);

    if requirement.is_empty() {
        for option in options {
            apply_option(reader, context, line, option);
        }
        return;
    }
    for option in options {
        match option {
            OptionItem::Unknown(name) => reader.problem(
                context.rel,
                Some(line),
                format!("unknown option `{name}` in a requirements file"),
            ),
            OptionItem::MissingValue(name) => reader.problem(
                context.rel,
                Some(line),
                format!("option `{name}` needs a value"),
            ),
            OptionItem::PerRequirement => {}
            _ => reader.problem(
                context.rel,
                Some(line),
                "only per-requirement options (`--hash`, `--config-settings`, \
                 `--global-option`) may follow a requirement",
            ),
        }
    }
    read_requirement(reader, context, line, requirement);
}

/// Byte offsets where whitespace-separated tokens start.
fn token_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    let mut previous_space = true;
    text.char_indices().filter_map(move |(i, c)| {
        let start = previous_space && !c.is_whitespace();
        previous_space = c.is_whitespace();
        start.then_some(i)
    })
}

/// Splits an option string like a POSIX shell would (quotes and backslash escapes).
fn shell_split(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut in_token = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_token = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    current.push(q);
                }
            }
            '"' => {
                in_token = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => {
                            if let Some(escaped) = chars.next() {
                                current.push(escaped);
                            }
                        }
                        _ => current.push(q),
                    }
                }
            }
            '\\' => {
                in_token = true;
                if let Some(escaped) = chars.next() {
                    current.push(escaped);
                }
            }
            c if c.is_whitespace() => {
                if in_token {
                    tokens.push(std::mem::take(&mut current));
                    in_token = false;
                }
            }
            c => {
                in_token = true;
                current.push(c);
            }
        }
    }
    if in_token {
        tokens.push(current);
    }
    tokens
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum OptionItem {
    Requirement(String),
    Constraint(String),
    Editable(String),
    /// A global option with no bearing on what is installed (`--index-url`, `--pre`, ...).
    Global,
    /// `--hash`, `--config-settings`, `--global-option`: allowed after a requirement.
    PerRequirement,
    Unknown(String),
    MissingValue(String),
}

#[derive(Clone, Copy)]
enum OptionRole {
    Requirement,
    Constraint,
    Editable,
    Global,
    PerRequirement,
}

/// pip's requirements-file options: short name, long name, whether it takes a value.
const OPTIONS: &[(Option<&str>, &str, bool, OptionRole)] = &[
    (Some("-r"), "--requirement", true, OptionRole::Requirement),
    (Some("-c"), "--constraint", true, OptionRole::Constraint),
    (Some("-e"), "--editable", true, OptionRole::Editable),
    (Some("-i"), "--index-url", true, OptionRole::Global),
    (None, "--extra-index-url", true, OptionRole::Global),
    (None, "--no-index", false, OptionRole::Global),
    (Some("-f"), "--find-links", true, OptionRole::Global),
    (None, "--trusted-host", true, OptionRole::Global),
    (None, "--pre", false, OptionRole::Global),
    (None, "--no-binary", true, OptionRole::Global),
    (None, "--only-binary", true, OptionRole::Global),
    (None, "--prefer-binary", false, OptionRole::Global),
    (None, "--require-hashes", false, OptionRole::Global),
    (None, "--use-feature", true, OptionRole::Global),
    (None, "--hash", true, OptionRole::PerRequirement),
    (
        Some("-C"),
        "--config-settings",
        true,
        OptionRole::PerRequirement,
    ),
    (None, "--global-option", true, OptionRole::PerRequirement),
];

fn parse_options(tokens: &[String]) -> Vec<OptionItem> {
    let mut items = Vec::new();
    let mut index = 0;
    while index < tokens.len() {
        let token = &tokens[index];
        index += 1;
        let (spec, inline) = if let Some(long) = token.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (long, None),
            };
            let spec = OPTIONS
                .iter()
                .find(|(_, l, _, _)| l.strip_prefix("--") == Some(name));
            (spec, value)
        } else if token.starts_with('-') && token.len() >= 2 && token.is_char_boundary(2) {
            let (short, rest) = token.split_at(2);
            let spec = OPTIONS.iter().find(|(s, _, _, _)| *s == Some(short));
            let rest = rest.strip_prefix('=').unwrap_or(rest);
            (spec, (!rest.is_empty()).then(|| rest.to_string()))
        } else {
            (None, None)
        };
        let Some(&(_, long, takes_value, role)) = spec else {
            items.push(OptionItem::Unknown(token.clone()));
            continue;
        };
        let value = if takes_value {
            match inline {
                Some(value) => Some(value),
                None if index < tokens.len() => {
                    index += 1;
                    Some(tokens[index - 1].clone())
                }
                None => {
                    items.push(OptionItem::MissingValue(long.to_string()));
                    continue;
                }
            }
        } else {
            None
        };
        items.push(match (role, value) {
            (OptionRole::Requirement, Some(value)) => OptionItem::Requirement(value),
            (OptionRole::Constraint, Some(value)) => OptionItem::Constraint(value),
            (OptionRole::Editable, Some(value)) => OptionItem::Editable(value),
            (OptionRole::PerRequirement, _) => OptionItem::PerRequirement,
            _ => OptionItem::Global,
        });
    }
    items
}

fn apply_option(reader: &mut Reader, context: &LineContext<'_>, line: u32, option: OptionItem) {
    match option {
        OptionItem::Requirement(target) => {
            include(reader, context, line, &target, context.constraint, false);
        }
        OptionItem::Constraint(target) => include(reader, context, line, &target, true, false),
        OptionItem::Editable(target) => {
            let dependency = url_dependency(context, line, &target, None);
            reader.push(dependency);
        }
        OptionItem::Global => {}
        OptionItem::PerRequirement => reader.problem(
            context.rel,
            Some(line),
            "a per-requirement option (`--hash`, `--config-settings`, `--global-option`) \
             without a requirement",
        ),
        OptionItem::Unknown(name) => reader.problem(
            context.rel,
            Some(line),
            format!("unknown option `{name}` in a requirements file"),
        ),
        OptionItem::MissingValue(name) => reader.problem(
            context.rel,
            Some(line),
            format!("option `{name}` needs a value"),
        ),
    }
}

/// `-r FILE` / `-c FILE`: reads FILE relative to the including file (`dev` marks what it
/// declares as development-only; otherwise its own name decides).
pub(super) fn include(
    reader: &mut Reader,
    context: &LineContext<'_>,
    line: u32,
    target: &str,
    constraint: bool,
    dev: bool,
) {
    if is_url(target) {
        reader.problem(
            context.rel,
            Some(line),
            format!("included requirements file `{target}` is remote and was not read"),
        );
        return;
    }
    if reader.include_depth >= MAX_INCLUDE_DEPTH {
        reader.problem(
            context.rel,
            Some(line),
            format!(
                "requirements includes nested more than {MAX_INCLUDE_DEPTH} deep; \
                 `{target}` was not read"
            ),
        );
        return;
    }
    let target_path = target.strip_prefix("file://").unwrap_or(target);
    let path = lexical_normalize(&context.base_dir.join(target_path));
    if !path.is_file() {
        reader.problem(
            context.rel,
            Some(line),
            format!("included requirements file `{target}` not found"),
        );
        return;
    }
    read_file(reader, &path, constraint, dev);
}

/// A requirement: a bare URL, a local path or archive, or a PEP 508 requirement.
fn read_requirement(reader: &mut Reader, context: &LineContext<'_>, line: u32, text: &str) {
    // pip splits the markers off first: at `; ` after a URL, at `;` otherwise.
    let url = is_url(text);
    let separator = if url { "; " } else { ";" };
    let (body, marker) = match text.split_once(separator) {
        Some((body, marker)) => (body.trim(), Some(marker.trim()).filter(|m| !m.is_empty())),
        None => (text.trim(), None),
    };
    // `name @ URL` is PEP 508 unless the part before `@` looks like a path (pip's rule).
    let before_at = body.split('@').next().unwrap_or(body);
    let pep508_url = body.contains('@') && !looks_like_path(before_at);
    let direct =
        url || (!pep508_url && (looks_like_path(body) || is_archive(split_extras(body).0)));
    if direct {
        if let Some(marker) = marker
            && let Err(message) = parse_pep508(&format!("placeholder ; {marker}"))
        {
            reader.problem(
                context.rel,
                Some(line),
                format!("invalid marker `{marker}`: {message}"),
            );
            return;
        }
        let dependency = url_dependency(context, line, body, marker);
        reader.push(dependency);
        return;
    }
    let pep508_text = match marker {
        Some(marker) => format!("{body} ; {marker}"),
        None => body.to_string(),
    };
    match parse_pep508(&pep508_text) {
        Ok(parts) => {
            let mut dependency = parts.into_dependency(context.rel, line, context.kind);
            dependency.constraint_only = context.constraint;
            dependency.dev = context.dev;
            reader.push(dependency);
        }
        Err(message) => reader.problem(
            context.rel,
            Some(line),
            format!("invalid requirement `{text}`: {message}"),
        ),
    }
}

/// pip's `is_url`: a known scheme (http, https, file, ftp, or a VCS one) before a `:`.
fn is_url(text: &str) -> bool {
    let Some((scheme, _)) = text.split_once(':') else {
        return false;
    };
    let scheme = scheme.to_ascii_lowercase();
    let vcs = ["git", "hg", "svn", "bzr"];
    matches!(scheme.as_str(), "http" | "https" | "file" | "ftp")
        || vcs.contains(&scheme.as_str())
        || vcs
            .iter()
            .any(|v| scheme.strip_prefix(v).is_some_and(|r| r.starts_with('+')))
}

/// pip's `_looks_like_path`.
fn looks_like_path(text: &str) -> bool {
    text.contains('/') || text.contains('\\') || text.starts_with('.') || text.starts_with('~')
}

/// pip's archive extensions.
fn is_archive(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ARCHIVE_EXTENSIONS.iter().any(|ext| lower.ends_with(ext))
}

const ARCHIVE_EXTENSIONS: &[&str] = &[
    ".whl",
    ".tar.gz",
    ".tgz",
    ".tar",
    ".zip",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
];

/// pip's `_strip_extras`: `./pkg[dev,test]` -> (`./pkg`, [dev, test]).
fn split_extras(text: &str) -> (&str, Vec<String>) {
    if let Some(body) = text.strip_suffix(']')
        && let Some(open) = body.rfind('[')
        && open > 0
        && !body[open + 1..].contains(']')
    {
        return (&text[..open], split_list(&body[open + 1..], ','));
    }
    (text, Vec::new())
}

/// A dependency on a URL or a local path (`-e` targets, bare URLs, wheels, directories).
/// The name comes from `#egg=NAME`, else the archive file name, else the last path
/// component (a VCS `@ref` and a `.git` suffix dropped).
fn url_dependency(
    context: &LineContext<'_>,
    line: u32,
    target: &str,
    marker: Option<&str>,
) -> Dependency {
    let url = is_url(target);
    let (location, mut extras) = if url {
        (target, Vec::new())
    } else {
        split_extras(target)
    };
    let (without_fragment, fragment) = match location.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (location, None),
    };
    let fragment_value = |key: &str| -> Option<String> {
        fragment?
            .split('&')
            .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_string)
    };
    let mut name = String::new();
    if let Some(egg) = fragment_value("egg") {
        let (egg_name, egg_extras) = split_extras(&egg);
        name = egg_name.to_string();
        if extras.is_empty() {
            extras = egg_extras;
        }
    }
    if name.is_empty() {
        let path = without_fragment
            .split_once('?')
            .map_or(without_fragment, |(p, _)| p);
        let path = if url {
            match path.split_once("://") {
                Some((_, after)) => after.find('/').map_or("", |i| &after[i..]),
                None => path.split_once(':').map_or(path, |(_, after)| after),
            }
        } else {
            path
        };
        let subdirectory = fragment_value("subdirectory");
        let path = subdirectory.as_deref().unwrap_or(path);
        let mut last = path
            .trim_end_matches(['/', '\\'])
            .rsplit(['/', '\\', ':'])
            .next()
            .unwrap_or("")
            .to_string();
        if url && subdirectory.is_none() && is_vcs(target) {
            last = last.split('@').next().unwrap_or("").to_string();
        }
        if let Some(stripped) = last.strip_suffix(".git") {
            last = stripped.to_string();
        }
        if matches!(last.as_str(), "" | "." | "..") && !url {
            let resolved = lexical_normalize(&context.base_dir.join(path));
            last = resolved
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        name = archive_name(&last).unwrap_or(last);
    }
    if name.is_empty() {
        name = location.to_string();
    }
    let mut dependency = dependency(&name, context.rel, line, context.kind);
    dependency.extras = extras;
    dependency.marker = marker.map(str::to_string);
    dependency.url = Some(location.to_string());
    dependency.constraint_only = context.constraint;
    dependency.dev = context.dev;
    dependency
}

fn is_vcs(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["git+", "hg+", "svn+", "bzr+", "git:", "hg:", "svn:", "bzr:"]
        .iter()
        .any(|prefix| lower.starts_with(prefix))
}

/// The distribution name in a wheel or sdist file name (`torch-2.3.0-cp311-...whl` ->
/// `torch`, `my-pkg-1.0.tar.gz` -> `my-pkg`).
fn archive_name(file_name: &str) -> Option<String> {
    if !is_archive(file_name) {
        return None;
    }
    let lower = file_name.to_ascii_lowercase();
    if lower.ends_with(".whl") {
        return file_name.split('-').next().map(str::to_string);
    }
    let bytes = file_name.as_bytes();
    let cut = (1..bytes.len())
        .find(|&i| bytes[i - 1] == b'-' && bytes[i].is_ascii_digit())
        .map(|i| i - 1);
    match cut {
        Some(cut) => Some(file_name[..cut].to_string()),
        None => {
            let ext = ARCHIVE_EXTENSIONS
                .iter()
                .filter(|ext| lower.ends_with(*ext))
                .map(|ext| ext.len())
                .max()
                .unwrap_or(0);
            Some(file_name[..file_name.len() - ext].to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::super::{Manifests, read_manifests};
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    fn read(text: &str) -> Manifests {
        let dir = tempfile::TempDir::new().unwrap();
        let path = write(dir.path(), "requirements.txt", text);
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
    fn pins_extras_and_markers() {
        let m = read(
            "# leading comment\n\
             \n\
             Flask==3.0.3\n\
             requests[security, socks]>=2.8,<3 ; python_version >= \"3.9\"\n\
             numpy >= 1.24, < 2   # inline comment\n\
             torch~=2.3.0\n\
             Pillow\n",
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(m.dependencies.len(), 5);
        let flask = find(&m, "Flask");
        assert_eq!(flask.normalized, "flask");
        assert_eq!(flask.specifier, "==3.0.3");
        assert_eq!(flask.line, 3);
        assert_eq!(flask.kind, ManifestKind::Requirements);
        assert_eq!(flask.file, PathBuf::from("requirements.txt"));
        assert!(!flask.dev && !flask.constraint_only);
        let requests = find(&m, "requests");
        assert_eq!(requests.extras, vec!["security", "socks"]);
        assert_eq!(requests.specifier, ">=2.8,<3");
        assert_eq!(
            requests.marker.as_deref(),
            Some("python_version >= \"3.9\"")
        );
        assert_eq!(requests.line, 4);
        let numpy = find(&m, "numpy");
        assert_eq!(numpy.specifier, ">=1.24,<2");
        assert_eq!(numpy.line, 5);
        assert_eq!(find(&m, "torch").specifier, "~=2.3.0");
        let pillow = find(&m, "Pillow");
        assert_eq!(pillow.specifier, "");
        assert_eq!(pillow.normalized, "pillow");
        assert_eq!(pillow.line, 7);
    }

    #[test]
    fn continuation_lines_and_hashes() {
        let m = read(
            "flask==3.0.3 \\\n    \
             --hash=sha256:aaaa \\\n    \
             --hash sha256:bbbb\n\
             numpy\\\n\
             >=1.24\n\
             torch==2.3.0 --hash=sha256:cccc # pinned\n",
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let flask = find(&m, "flask");
        assert_eq!(flask.specifier, "==3.0.3");
        assert_eq!(flask.line, 1);
        let numpy = find(&m, "numpy");
        assert_eq!(numpy.specifier, ">=1.24");
        assert_eq!(numpy.line, 4);
        let torch = find(&m, "torch");
        assert_eq!(torch.specifier, "==2.3.0");
        assert_eq!(torch.line, 6);
    }

    #[test]
    fn comment_line_ends_a_continuation() {
        let m = read("flask \\\n# a comment \\\nnumpy\n");
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(find(&m, "flask").line, 1);
        assert_eq!(find(&m, "numpy").line, 3);
    }

    #[test]
    fn global_options_are_ignored() {
        let m = read(
            "--index-url https://pypi.example.com/simple\n\
             -i https://pypi.example.com/simple\n\
             --extra-index-url=https://download.pytorch.org/whl/cpu\n\
             -f https://example.com/wheels\n\
             --find-links ./wheels\n\
             --trusted-host pypi.example.com\n\
             --pre\n\
             --no-binary :all:\n\
             --only-binary=numpy\n\
             --prefer-binary\n\
             --require-hashes\n\
             --no-index\n\
             onnxruntime==1.18.0\n",
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(m.dependencies.len(), 1);
        assert_eq!(m.dependencies[0].name, "onnxruntime");
        assert_eq!(m.dependencies[0].line, 13);
    }

    #[test]
    fn unknown_option_and_missing_value_are_problems() {
        let m = read("--frobnicate\nflask\n-r\nnumpy --bogus=1\n");
        let lines: Vec<_> = m.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(1), Some(3), Some(4)]);
        assert!(m.problems[0].message.contains("--frobnicate"));
        assert!(m.problems[1].message.contains("needs a value"));
        assert_eq!(m.dependencies.len(), 2);
    }

    #[test]
    fn includes_and_constraints() {
        let dir = tempfile::TempDir::new().unwrap();
        let root = dir.path();
        let top = write(
            root,
            "requirements.txt",
            "-r requirements-base.txt\n\
             --requirement=sub/more.txt\n\
             -c constraints.txt\n\
             flask\n",
        );
        write(root, "requirements-base.txt", "numpy>=1.24\n");
        write(
            root,
            "sub/more.txt",
            "# nested\n-r ../requirements-base.txt\n-rextra.txt\n",
        );
        write(root, "sub/extra.txt", "pillow\n");
        write(
            root,
            "constraints.txt",
            "urllib3<2\n-r nested-constraints.txt\n",
        );
        write(root, "nested-constraints.txt", "idna==3.7\n");
        let m = read_manifests(root, &[top]);
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(
            m.files,
            vec![
                PathBuf::from("requirements.txt"),
                PathBuf::from("requirements-base.txt"),
                PathBuf::from("sub/more.txt"),
                PathBuf::from("sub/extra.txt"),
                PathBuf::from("constraints.txt"),
                PathBuf::from("nested-constraints.txt"),
            ]
        );
        let names: Vec<_> = m.dependencies.iter().map(|d| d.name.as_str()).collect();
        // numpy read once although included twice.
        assert_eq!(names, vec!["numpy", "pillow", "urllib3", "idna", "flask"]);
        let numpy = find(&m, "numpy");
        assert_eq!(numpy.file, PathBuf::from("requirements-base.txt"));
        assert_eq!(numpy.line, 1);
        assert!(!numpy.constraint_only);
        let pillow = find(&m, "pillow");
        assert_eq!(pillow.file, PathBuf::from("sub/extra.txt"));
        let urllib3 = find(&m, "urllib3");
        assert!(urllib3.constraint_only);
        assert_eq!(urllib3.specifier, "<2");
        assert_eq!(urllib3.file, PathBuf::from("constraints.txt"));
        // -r inside a constraints file is a constraint too.
        assert!(find(&m, "idna").constraint_only);
        assert!(!find(&m, "flask").constraint_only);
        assert_eq!(find(&m, "flask").line, 4);
    }

    #[test]
    fn include_cycle_terminates() {
        let dir = tempfile::TempDir::new().unwrap();
        let root = dir.path();
        let a = write(root, "requirements.txt", "-r b.txt\nflask\n");
        write(root, "b.txt", "-r requirements.txt\n-r ./b.txt\nnumpy\n");
        let m = read_manifests(root, &[a]);
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let names: Vec<_> = m.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, vec!["numpy", "flask"]);
        assert_eq!(m.files.len(), 2);
    }

    #[test]
    fn long_include_chains_stop() {
        let dir = tempfile::TempDir::new().unwrap();
        let root = dir.path();
        for i in 0..80 {
            write(
                root,
                &format!("r{i}.txt"),
                &format!("-r r{}.txt\npkg{i}\n", i + 1),
            );
        }
        write(root, "r80.txt", "last\n");
        let m = read_manifests(root, &[root.join("r0.txt")]);
        assert_eq!(m.dependencies.len(), 64);
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].file, PathBuf::from("r63.txt"));
        assert_eq!(m.problems[0].line, Some(1));
    }

    #[test]
    fn missing_and_remote_includes_are_problems_on_the_line() {
        let m = read("flask\n-r nope.txt\n-c https://example.com/constraints.txt\nnumpy\n");
        assert_eq!(m.dependencies.len(), 2);
        assert_eq!(m.problems.len(), 2);
        assert_eq!(m.problems[0].file, PathBuf::from("requirements.txt"));
        assert_eq!(m.problems[0].line, Some(2));
        assert!(m.problems[0].message.contains("nope.txt"));
        assert!(m.problems[0].message.contains("not found"));
        assert_eq!(m.problems[1].line, Some(3));
        assert!(m.problems[1].message.contains("remote"));
    }

    #[test]
    fn editables() {
        let dir = tempfile::TempDir::new().unwrap();
        let root = dir.path().join("my-service");
        std::fs::create_dir_all(&root).unwrap();
        let path = write(
            &root,
            "requirements.txt",
            "-e .\n\
             -e ./libs/featurizer[fast,gpu]\n\
             --editable git+https://github.com/org/repo.git@v1.2#egg=tokenkit[cli]\n\
             -e git+ssh://git@github.com/org/other-lib.git@main\n\
             -e=./tools/\n",
        );
        let m = read_manifests(&root, &[path]);
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(m.dependencies.len(), 5);
        let own = &m.dependencies[0];
        assert_eq!(own.name, "my-service");
        assert_eq!(own.url.as_deref(), Some("."));
        assert_eq!(own.line, 1);
        let featurizer = find(&m, "featurizer");
        assert_eq!(featurizer.extras, vec!["fast", "gpu"]);
        assert_eq!(featurizer.url.as_deref(), Some("./libs/featurizer"));
        assert_eq!(featurizer.line, 2);
        let tokenkit = find(&m, "tokenkit");
        assert_eq!(tokenkit.extras, vec!["cli"]);
        assert_eq!(
            tokenkit.url.as_deref(),
            Some("git+https://github.com/org/repo.git@v1.2#egg=tokenkit[cli]")
        );
        assert_eq!(tokenkit.line, 3);
        let other = find(&m, "other-lib");
        assert_eq!(other.normalized, "other-lib");
        assert_eq!(other.line, 4);
        assert_eq!(find(&m, "tools").url.as_deref(), Some("./tools/"));
    }

    #[test]
    fn bare_urls_and_paths() {
        let m = read(
            "https://download.pytorch.org/whl/cpu/torch-2.3.0%2Bcpu-cp311-cp311-linux_x86_64.whl\n\
             git+https://github.com/org/repo@v1#egg=my_pkg\n\
             ./vendor/pkg\n\
             ../dist/my-lib-0.4.1.tar.gz\n\
             https://example.com/archive.zip#egg=zipped; sys_platform == \"linux\"\n\
             git+https://github.com/huggingface/transformers@v4.44.0\n\
             file:///opt/wheels/onnx-1.16.0-cp311-none-any.whl\n\
             ./local_wheel-1.0-py3-none-any.whl\n",
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let names: Vec<_> = m.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "torch",
                "my_pkg",
                "pkg",
                "my-lib",
                "zipped",
                "transformers",
                "onnx",
                "local_wheel"
            ]
        );
        let torch = &m.dependencies[0];
        assert_eq!(
            torch.url.as_deref(),
            Some(
                "https://download.pytorch.org/whl/cpu/torch-2.3.0%2Bcpu-cp311-cp311-linux_x86_64.whl"
            )
        );
        assert_eq!(torch.specifier, "");
        assert_eq!(m.dependencies[1].normalized, "my-pkg");
        assert_eq!(
            m.dependencies[1].url.as_deref(),
            Some("git+https://github.com/org/repo@v1#egg=my_pkg")
        );
        assert_eq!(m.dependencies[2].url.as_deref(), Some("./vendor/pkg"));
        let zipped = &m.dependencies[4];
        assert_eq!(zipped.marker.as_deref(), Some("sys_platform == \"linux\""));
        assert_eq!(
            zipped.url.as_deref(),
            Some("https://example.com/archive.zip#egg=zipped")
        );
        assert_eq!(zipped.line, 5);
        assert_eq!(m.dependencies[7].line, 8);
    }

    #[test]
    fn pep508_direct_references() {
        let m = read(
            "torch @ https://download.pytorch.org/whl/cpu/torch-2.3.0-cp311-none-any.whl\n\
             mylib[extra] @ git+https://github.com/org/mylib@abc123 ; python_version < \"3.12\"\n",
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let torch = find(&m, "torch");
        assert_eq!(
            torch.url.as_deref(),
            Some("https://download.pytorch.org/whl/cpu/torch-2.3.0-cp311-none-any.whl")
        );
        let mylib = find(&m, "mylib");
        assert_eq!(mylib.extras, vec!["extra"]);
        assert_eq!(
            mylib.url.as_deref(),
            Some("git+https://github.com/org/mylib@abc123")
        );
        assert_eq!(mylib.marker.as_deref(), Some("python_version < \"3.12\""));
        assert_eq!(mylib.line, 2);
    }

    #[test]
    fn environment_variables_left_as_is() {
        let m = read(
            "private-pkg @ https://${PYPI_TOKEN}@pypi.example.com/private_pkg-1.0.tar.gz\n\
             --extra-index-url https://${USER}:${PASS}@pypi.example.com/simple\n\
             https://${HOST}/wheels/fast_tok-0.1-py3-none-any.whl\n",
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(
            find(&m, "private-pkg").url.as_deref(),
            Some("https://${PYPI_TOKEN}@pypi.example.com/private_pkg-1.0.tar.gz")
        );
        assert_eq!(
            find(&m, "fast_tok").url.as_deref(),
            Some("https://${HOST}/wheels/fast_tok-0.1-py3-none-any.whl")
        );
    }

    #[test]
    fn bad_lines_are_problems_and_reading_goes_on() {
        let m = read(
            "flask\n\
             numpy >= = 1.0\n\
             \n\
             torch===\n\
             requests; python_version >>> \"3\"\n\
             pillow\n\
             ./pkg ; bogus_marker == \"1\"\n",
        );
        let names: Vec<_> = m.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, vec!["flask", "pillow"]);
        let lines: Vec<_> = m.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(2), Some(4), Some(5), Some(7)]);
        assert!(
            m.problems
                .iter()
                .all(|p| p.file == Path::new("requirements.txt"))
        );
        assert!(
            m.problems[0].message.contains("numpy >= = 1.0"),
            "{}",
            m.problems[0].message
        );
        // pep508's own message follows the quoted line.
        assert!(m.problems[0].message.len() > "invalid requirement `numpy >= = 1.0`: ".len());
    }

    #[test]
    fn dev_requirement_files() {
        let dir = tempfile::TempDir::new().unwrap();
        let root = dir.path();
        let dev = write(
            root,
            "requirements-dev.txt",
            "-r requirements.txt\npytest\n",
        );
        write(root, "requirements.txt", "flask\n");
        let tests = write(root, "requirements/test.txt", "hypothesis\n");
        let m = read_manifests(root, &[dev, tests]);
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert!(find(&m, "pytest").dev);
        assert!(find(&m, "hypothesis").dev);
        // The base file is not development-only just because a dev file includes it.
        assert!(!find(&m, "flask").dev);
    }

    #[test]
    fn crlf_and_bom() {
        let m = read("\u{feff}flask==3.0\r\nnumpy \\\r\n  >=1.2\r\n");
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(find(&m, "flask").specifier, "==3.0");
        assert_eq!(find(&m, "numpy").specifier, ">=1.2");
        assert_eq!(find(&m, "numpy").line, 2);
    }

    #[test]
    fn binary_garbage_is_one_problem() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("requirements.txt");
        std::fs::write(&path, [0x89u8, b'P', b'N', b'G', 0, 0, 0x1a, 0xff, 0xd8]).unwrap();
        let m = read_manifests(dir.path(), &[path]);
        assert!(m.dependencies.is_empty());
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].line, Some(1));
    }

    #[test]
    fn helpers() {
        assert_eq!(strip_comment("foo # bar"), "foo ");
        assert_eq!(strip_comment("# bar"), "");
        assert_eq!(
            strip_comment("git+https://x/y#egg=z"),
            "git+https://x/y#egg=z"
        );
        assert_eq!(
            shell_split("--hash 'sha256:a b' \"c\\\"d\" e\\ f"),
            vec!["--hash", "sha256:a b", "c\"d", "e f"]
        );
        assert_eq!(
            archive_name("torch-2.3.0-cp311-none-any.whl").as_deref(),
            Some("torch")
        );
        assert_eq!(archive_name("my-pkg-1.0.tar.gz").as_deref(), Some("my-pkg"));
        assert_eq!(archive_name("noversion.zip").as_deref(), Some("noversion"));
        assert_eq!(archive_name("pkg"), None);
        assert!(is_url("git+ssh://git@github.com/x/y"));
        assert!(is_url("HTTPS://example.com"));
        assert!(!is_url("name @ https://example.com"));
        assert!(!is_url("c:\\path"));
        assert_eq!(
            split_extras("./pkg[a, b]"),
            ("./pkg", vec!["a".into(), "b".into()])
        );
        assert_eq!(split_extras("./pkg"), ("./pkg", vec![]));
    }
}
