//! `setup.py`: the literal `install_requires` (and `extras_require`) of a `setup()` call,
//! read with a small scanner rather than a Python parser. The value must be a bracketed list
//! of string literals (or a name bound to one at module level, or a single string); anything
//! else is reported as not readable statically.

use std::collections::HashMap;
use std::path::Path;

use super::{ManifestKind, Reader, is_dev_group};

const KIND: ManifestKind = ManifestKind::SetupPy;

pub(super) fn read(reader: &mut Reader, path: &Path) {
    if !reader.begin(path, false) {
        return;
    }
    let Some(text) = reader.load(path) else {
        return;
    };
    let rel = reader.rel(path);
    let tokens = tokenize(&text);
    let mut scan = Scan {
        tokens: &tokens,
        bindings: module_bindings(&tokens),
        requirements: Vec::new(),
        problems: Vec::new(),
    };
    for i in 0..tokens.len() {
        match keyword_at(&tokens, i) {
            Some(("install_requires", value_at)) => {
                scan.requirement_list(value_at, "install_requires", false);
            }
            Some(("extras_require", value_at)) => scan.extras(value_at),
            _ => {}
        }
    }
    // A list bound to a name and passed by that name is found twice: keep one of each.
    let mut seen = std::collections::HashSet::new();
    scan.requirements
        .retain(|(line, text, dev)| seen.insert((*line, text.clone(), *dev)));
    let mut seen = std::collections::HashSet::new();
    scan.problems.retain(|problem| seen.insert(problem.clone()));
    let mark = reader.mark();
    for (line, text, dev) in scan.requirements {
        reader.push_pep508(&text, &rel, line, KIND, dev);
    }
    for (line, message) in scan.problems {
        reader.problem(&rel, Some(line), message);
    }
    reader.sort_since(mark);
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    /// A string literal; `literal` is false for f-strings with replacement fields.
    Str {
        value: String,
        literal: bool,
    },
    Punct(&'static str),
    /// Numbers and any other character.
    Other,
}

#[derive(Debug, Clone, PartialEq)]
struct Located {
    token: Token,
    line: u32,
    /// Bracket depth before this token (0: module level, outside any brackets).
    depth: u32,
}

const PUNCTUATION: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "==", "!=", "<=", ">=", ":=", "->", "+=", "-=", "*=", "/=",
    "%=", "&=", "|=", "^=", "@=", "**", "//", "<<", ">>", "(", ")", "[", "]", "{", "}", ",", ":",
    ";", ".", "=", "+", "-", "*", "/", "%", "@", "&", "|", "^", "~", "<", ">",
];

/// Python tokens, as far as this scanner needs them: comments and line continuations
/// dropped, string literals decoded (simple escapes), brackets tracked.
fn tokenize(text: &str) -> Vec<Located> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1u32;
    let mut depth = 0u32;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '\\' {
            // Line continuation (the newline is counted when reached).
            i += 1;
            continue;
        }
        let start_line = line;
        // String literal, with an optional prefix (r, b, u, f, rb, br, fr, rf).
        let mut prefix_len = 0;
        while prefix_len < 2
            && i + prefix_len < chars.len()
            && matches!(
                chars[i + prefix_len],
                'r' | 'R' | 'b' | 'B' | 'u' | 'U' | 'f' | 'F'
            )
        {
            prefix_len += 1;
        }
        if i + prefix_len < chars.len() && matches!(chars[i + prefix_len], '\'' | '"') {
            let prefix: String = chars[i..i + prefix_len]
                .iter()
                .collect::<String>()
                .to_lowercase();
            let raw = prefix.contains('r');
            let formatted = prefix.contains('f');
            let quote = chars[i + prefix_len];
            let mut j = i + prefix_len;
            let triple = j + 2 < chars.len() && chars[j + 1] == quote && chars[j + 2] == quote;
            j += if triple { 3 } else { 1 };
            let mut value = String::new();
            while let Some(&ch) = chars.get(j) {
                if ch == '\n' {
                    if !triple {
                        // Unterminated single-quoted string: stop at the end of the line.
                        break;
                    }
                    line += 1;
                }
                if ch == '\\' {
                    let next = chars.get(j + 1).copied();
                    if next == Some('\n') {
                        line += 1;
                    }
                    if raw {
                        value.push('\\');
                        if let Some(next) = next {
                            value.push(next);
                        }
                    } else if let Some(next) = next {
                        match next {
                            'n' => value.push('\n'),
                            't' => value.push('\t'),
                            '\n' => {}
                            '\\' | '\'' | '"' => value.push(next),
                            other => {
                                value.push('\\');
                                value.push(other);
                            }
                        }
                    }
                    j += 2;
                    continue;
                }
                if ch == quote {
                    if !triple {
                        j += 1;
                        break;
                    }
                    if chars.get(j + 1) == Some(&quote) && chars.get(j + 2) == Some(&quote) {
                        j += 3;
                        break;
                    }
                }
                value.push(ch);
                j += 1;
            }
            let literal = !(formatted && value.contains('{'));
            tokens.push(Located {
                token: Token::Str { value, literal },
                line: start_line,
                depth,
            });
            i = j;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let mut j = i;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            tokens.push(Located {
                token: Token::Name(chars[i..j].iter().collect()),
                line,
                depth,
            });
            i = j;
            continue;
        }
        if c.is_ascii_digit() {
            let mut j = i;
            while j < chars.len() && (chars[j].is_alphanumeric() || matches!(chars[j], '.' | '_')) {
                j += 1;
            }
            tokens.push(Located {
                token: Token::Other,
                line,
                depth,
            });
            i = j;
            continue;
        }
        let punct = PUNCTUATION.iter().find(|p| {
            p.chars()
                .enumerate()
                .all(|(k, pc)| chars.get(i + k) == Some(&pc))
        });
        match punct {
            Some(p) => {
                if matches!(*p, ")" | "]" | "}") {
                    depth = depth.saturating_sub(1);
                }
                tokens.push(Located {
                    token: Token::Punct(p),
                    line,
                    depth,
                });
                if matches!(*p, "(" | "[" | "{") {
                    depth += 1;
                }
                i += p.chars().count();
            }
            None => {
                tokens.push(Located {
                    token: Token::Other,
                    line,
                    depth,
                });
                i += 1;
            }
        }
    }
    tokens
}

/// `install_requires=` / `install_requires =` / `"install_requires":` at token `i`: the
/// keyword and the index of the value's first token.
fn keyword_at(tokens: &[Located], i: usize) -> Option<(&'static str, usize)> {
    let word = match &tokens[i].token {
        Token::Name(name) => name.as_str(),
        Token::Str { value, .. } => value.as_str(),
        _ => return None,
    };
    let keyword = ["install_requires", "extras_require"]
        .into_iter()
        .find(|k| *k == word)?;
    let is_name = matches!(tokens[i].token, Token::Name(_));
    match tokens.get(i + 1).map(|t| &t.token) {
        Some(Token::Punct("=")) if is_name => Some((keyword, i + 2)),
        Some(Token::Punct(":")) if !is_name => Some((keyword, i + 2)),
        _ => None,
    }
}

/// Module-level `NAME = [literal strings]` bindings, to follow `install_requires=NAME`.
fn module_bindings(tokens: &[Located]) -> HashMap<String, usize> {
    let mut bindings = HashMap::new();
    for i in 0..tokens.len() {
        if tokens[i].depth != 0 {
            continue;
        }
        if let (Token::Name(name), Some(Token::Punct("="))) =
            (&tokens[i].token, tokens.get(i + 1).map(|t| &t.token))
            && let Some(Token::Punct("[" | "(" | "{")) = tokens.get(i + 2).map(|t| &t.token)
        {
            bindings.insert(name.clone(), i + 2);
        }
    }
    bindings
}

struct Scan<'t> {
    tokens: &'t [Located],
    bindings: HashMap<String, usize>,
    /// (line, requirement text, dev)
    requirements: Vec<(u32, String, bool)>,
    problems: Vec<(u32, String)>,
}

impl Scan<'_> {
    fn token(&self, i: usize) -> Option<&Token> {
        self.tokens.get(i).map(|t| &t.token)
    }

    fn line(&self, i: usize) -> u32 {
        self.tokens
            .get(i)
            .or(self.tokens.last())
            .map_or(1, |t| t.line)
    }

    fn not_static(&mut self, at: usize, what: &str) {
        let line = self.line(at);
        self.problems.push((
            line,
            format!(
                "`{what}` could not be read statically: its value is not a literal list of strings"
            ),
        ));
    }

    /// Adjacent string literals (implicit concatenation) from `i`: the text, its line and
    /// the index after them; `None` unless there is at least one literal.
    fn strings(&self, mut i: usize) -> Option<(String, u32, usize)> {
        let line = self.line(i);
        let mut text = String::new();
        let mut any = false;
        while let Some(Token::Str { value, literal }) = self.token(i) {
            if !literal {
                return None;
            }
            text.push_str(value);
            any = true;
            i += 1;
        }
        any.then_some((text, line, i))
    }

    /// Whether the expression ends at `i` (and is not combined with something else).
    fn ends_at(&self, i: usize) -> bool {
        matches!(
            self.token(i),
            None | Some(
                Token::Punct(",") | Token::Punct(")") | Token::Punct("}") | Token::Punct(";")
            )
        ) || self
            .tokens
            .get(i)
            .is_some_and(|t| t.line > self.line(i - 1) && t.depth == 0)
    }

    /// A requirements value at `i`: a list/tuple of string literals, a single string (one
    /// requirement per line), or a name bound to a literal list at module level.
    fn requirement_list(&mut self, i: usize, what: &str, dev: bool) -> usize {
        match self.token(i) {
            Some(Token::Punct("[" | "(")) => {
                let close = if self.token(i) == Some(&Token::Punct("[")) {
                    "]"
                } else {
                    ")"
                };
                let mut j = i + 1;
                let mut items = Vec::new();
                loop {
                    if self.token(j) == Some(&Token::Punct(close)) {
                        j += 1;
                        break;
                    }
                    let Some((text, line, next)) = self.strings(j) else {
                        self.not_static(j.min(self.tokens.len().saturating_sub(1)), what);
                        return j;
                    };
                    items.push((line, text));
                    j = next;
                    match self.token(j) {
                        Some(Token::Punct(",")) => j += 1,
                        Some(Token::Punct(p)) if *p == close => {}
                        _ => {
                            self.not_static(j.min(self.tokens.len().saturating_sub(1)), what);
                            return j;
                        }
                    }
                }
                if !self.ends_at(j) {
                    self.not_static(j, what);
                }
                for (line, text) in items {
                    self.requirements.push((line, text, dev));
                }
                j
            }
            Some(Token::Str { .. }) => {
                let Some((text, line, next)) = self.strings(i) else {
                    self.not_static(i, what);
                    return i + 1;
                };
                if !self.ends_at(next) {
                    self.not_static(next, what);
                    return next;
                }
                for (offset, item) in text.lines().enumerate() {
                    let item = item.trim();
                    if !item.is_empty() && !item.starts_with('#') {
                        let item_line = line + u32::try_from(offset).unwrap_or(0);
                        self.requirements.push((item_line, item.to_string(), dev));
                    }
                }
                next
            }
            Some(Token::Name(name)) if self.ends_at(i + 1) => {
                match self.bindings.get(name).copied() {
                    Some(bound) if bound != i => self.requirement_list(bound, what, dev),
                    _ => {
                        self.not_static(i, what);
                        i + 1
                    }
                }
            }
            _ => {
                self.not_static(i.min(self.tokens.len().saturating_sub(1)), what);
                i + 1
            }
        }
    }

    /// `extras_require={"dev": [...], ...}` (or a name bound to such a dict).
    fn extras(&mut self, i: usize) {
        const WHAT: &str = "extras_require";
        match self.token(i) {
            Some(Token::Punct("{")) => {
                let mut j = i + 1;
                loop {
                    if self.token(j) == Some(&Token::Punct("}")) {
                        j += 1;
                        break;
                    }
                    let Some((group, _, next)) = self.strings(j) else {
                        self.not_static(j.min(self.tokens.len().saturating_sub(1)), WHAT);
                        return;
                    };
                    if self.token(next) != Some(&Token::Punct(":")) {
                        self.not_static(next.min(self.tokens.len().saturating_sub(1)), WHAT);
                        return;
                    }
                    let before = self.problems.len();
                    j = self.requirement_list(next + 1, WHAT, is_dev_group(&group));
                    if self.problems.len() > before {
                        return;
                    }
                    match self.token(j) {
                        Some(Token::Punct(",")) => j += 1,
                        Some(Token::Punct("}")) => {}
                        _ => {
                            self.not_static(j.min(self.tokens.len().saturating_sub(1)), WHAT);
                            return;
                        }
                    }
                }
                if !self.ends_at(j) {
                    self.not_static(j, WHAT);
                }
            }
            Some(Token::Name(name)) if self.ends_at(i + 1) => {
                match self.bindings.get(name).copied() {
                    Some(bound) if bound != i && self.token(bound) == Some(&Token::Punct("{")) => {
                        self.extras(bound);
                    }
                    _ => self.not_static(i, WHAT),
                }
            }
            _ => self.not_static(i.min(self.tokens.len().saturating_sub(1)), WHAT),
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
        let path = dir.path().join("setup.py");
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
    fn literal_install_requires() {
        let m = read(
            r#"# install_requires = ["not-this"]
from setuptools import setup, find_packages

setup(
    name="svc",
    description="install_requires=['nor-this']",
    packages=find_packages(),
    install_requires=[
        "torch>=2.3",  # the framework
        'numpy (>=1.24, <2)',
        "Pillow[webp]" ">=10",  # implicit concatenation
        """onnxruntime ; sys_platform == 'linux'""",
        r"opencv-python-headless",
    ],
    extras_require={
        "dev": ["pytest>=8", "black"],
        'gpu': ['onnxruntime-gpu'],
    },
)
"#,
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let names: Vec<_> = m.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "torch",
                "numpy",
                "Pillow",
                "onnxruntime",
                "opencv-python-headless",
                "pytest",
                "black",
                "onnxruntime-gpu"
            ]
        );
        let torch = find(&m, "torch");
        assert_eq!(torch.specifier, ">=2.3");
        assert_eq!(torch.line, 9);
        assert_eq!(torch.kind, ManifestKind::SetupPy);
        assert_eq!(torch.file, PathBuf::from("setup.py"));
        assert_eq!(find(&m, "numpy").specifier, ">=1.24,<2");
        assert_eq!(find(&m, "numpy").line, 10);
        let pillow = find(&m, "Pillow");
        assert_eq!(pillow.extras, vec!["webp"]);
        assert_eq!(pillow.specifier, ">=10");
        assert_eq!(pillow.line, 11);
        let ort = find(&m, "onnxruntime");
        assert_eq!(ort.marker.as_deref(), Some("sys_platform == 'linux'"));
        assert_eq!(ort.line, 12);
        assert!(find(&m, "pytest").dev);
        assert_eq!(find(&m, "pytest").line, 16);
        assert!(!find(&m, "onnxruntime-gpu").dev);
        assert_eq!(find(&m, "onnxruntime-gpu").line, 17);
    }

    #[test]
    fn name_bound_to_a_literal_and_dict_form() {
        let m = read(
            "import setuptools\n\
             REQUIRES = [\n    'flask==3.0',\n    'gunicorn',\n]\n\
             install_requires = ['requests']\n\
             kwargs = {\"install_requires\": ('fastapi',)}\n\
             setuptools.setup(install_requires=REQUIRES)\n\
             setuptools.setup(install_requires=install_requires, **kwargs)\n",
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let names: Vec<_> = m.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, vec!["flask", "gunicorn", "requests", "fastapi"]);
        assert_eq!(find(&m, "flask").line, 3);
        assert_eq!(find(&m, "requests").line, 6);
        assert_eq!(find(&m, "fastapi").line, 7);
    }

    #[test]
    fn single_string_value() {
        let m = read("setup(install_requires='''\n  numpy\n  scipy>=1.11\n''')\n");
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(find(&m, "numpy").line, 2);
        assert_eq!(find(&m, "scipy").line, 3);
        assert_eq!(find(&m, "scipy").specifier, ">=1.11");
    }

    #[test]
    fn non_literal_values_are_problems() {
        let m = read(
            "from setuptools import setup\n\
             def reqs():\n    return open('requirements.txt').read().splitlines()\n\
             setup(\n    \
                 install_requires=reqs(),\n    \
                 extras_require={'dev': DEV},\n\
             )\n\
             setup(install_requires=[\"a\"] + extra)\n\
             setup(install_requires=[r for r in x])\n\
             setup(install_requires=[f\"torch=={V}\"])\n\
             setup(install_requires=unknown_name)\n",
        );
        let lines: Vec<_> = m.problems.iter().map(|p| p.line).collect();
        assert_eq!(
            lines,
            vec![Some(5), Some(6), Some(8), Some(9), Some(10), Some(11)]
        );
        assert!(
            m.problems
                .iter()
                .all(|p| p.message.contains("could not be read statically"))
        );
        assert!(m.problems[0].message.contains("install_requires"));
        assert!(m.problems[1].message.contains("extras_require"));
        // The literal part of `["a"] + extra` is still reported, with the problem.
        assert_eq!(m.dependencies.len(), 1);
        assert_eq!(m.dependencies[0].name, "a");
    }

    #[test]
    fn continuation_and_comments_inside_the_list() {
        let m = read(
            "setup(install_requires \\\n    = [  # runtime\n    'torch',\n    # 'disabled',\n    'numpy'\n    ])\n",
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let names: Vec<_> = m.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, vec!["torch", "numpy"]);
        assert_eq!(m.dependencies[0].line, 3);
        assert_eq!(m.dependencies[1].line, 5);
    }

    #[test]
    fn bad_requirement_string_and_garbage() {
        let m = read("setup(install_requires=['flask', 'numpy >= = 1'])\n");
        assert_eq!(m.dependencies.len(), 1);
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].line, Some(1));
        assert!(m.problems[0].message.contains("numpy >= = 1"));

        let m = read("setup(install_requires=['flask', \n");
        assert!(m.dependencies.is_empty());
        assert_eq!(m.problems.len(), 1);

        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("setup.py");
        std::fs::write(&path, [0xffu8, 0xfe, 0x00, 0x41]).unwrap();
        let m = read_manifests(dir.path(), &[path]);
        assert!(m.dependencies.is_empty());
        assert_eq!(m.problems.len(), 1);
    }

    #[test]
    fn tokenizer_handles_strings_and_escapes() {
        let tokens = tokenize("x = 'a\\'b' + \"c#d\"  # e\ny = b'\\n'\n");
        let strings: Vec<_> = tokens
            .iter()
            .filter_map(|t| match &t.token {
                Token::Str { value, .. } => Some((value.clone(), t.line)),
                _ => None,
            })
            .collect();
        assert_eq!(
            strings,
            vec![
                ("a'b".to_string(), 1),
                ("c#d".to_string(), 1),
                ("\n".to_string(), 2)
            ]
        );
        assert!(!tokens.iter().any(|t| t.token == Token::Name("e".into())));
    }
}
