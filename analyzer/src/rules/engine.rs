//! Matching compiled rules against one file's sites, then evaluating each rule's condition.

use std::path::Path;

use rustc_hash::FxHashMap;

use super::{BuiltinCheck, CompiledArg, Leaf, Node, RuleSet};
use crate::manifest::Dependency;
use crate::python::{AttributeSite, CallSite, Context, ImportSite, Observer, Value};
use crate::report::{Finding, Location};

/// A leaf condition matched at a place.
#[derive(Debug, Clone)]
pub struct Hit {
    pub location: Location,
    /// What matched: the qualified call, import or attribute name.
    pub name: String,
    pub snippet: Option<String>,
}

/// What rules may ask of the service as a whole.
pub struct ServiceFacts<'s> {
    pub root: &'s Path,
    /// Every file of the service, relative and `/`-separated.
    pub files: &'s [String],
    pub dependencies: &'s [Dependency],
    /// Hits of each service-wide leaf (files, dependencies), computed once per service.
    service_hits: FxHashMap<usize, Vec<Hit>>,
}

impl<'s> ServiceFacts<'s> {
    pub fn new(
        rules: &RuleSet,
        root: &'s Path,
        files: &'s [String],
        dependencies: &'s [Dependency],
    ) -> Self {
        let mut facts = ServiceFacts {
            root,
            files,
            dependencies,
            service_hits: FxHashMap::default(),
        };
        for (leaf, kind) in rules.leaves.iter().enumerate() {
            if matches!(kind, Leaf::Dependency { .. } | Leaf::File { .. })
                && let Some(hits) = compute_service_leaf_hits(rules, &facts, leaf)
            {
                facts.service_hits.insert(leaf, hits);
            }
        }
        facts
    }

    /// A literal path counts as local when it is explicitly relative or absolute, or names
    /// something that exists in the service (relative to the root or to the file).
    fn is_local_path(&self, file: &str, path: &str) -> bool {
        if path.starts_with("./")
            || path.starts_with("../")
            || path.starts_with('/')
            || path.starts_with('~')
            || looks_like_a_file_path(path)
        {
            return true;
        }
        let root = if self.root.is_file() {
            self.root.parent().unwrap_or(Path::new("."))
        } else {
            self.root
        };
        let file_dir = Path::new(file).parent().unwrap_or(Path::new(""));
        root.join(path).exists() || root.join(file_dir).join(path).exists()
    }
}

/// A Windows path (`C:\\models\\x`, `D:/w`, `\\\\server\\share`), a path with more
/// components than a Hub id's `org/name`, or a file with a model file's extension: never
/// a Hub id.
fn looks_like_a_file_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    let drive = bytes.len() > 2
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes[2], b'\\' | b'/');
    const MODEL_FILES: &[&str] = &[
        ".pt",
        ".pth",
        ".bin",
        ".onnx",
        ".safetensors",
        ".h5",
        ".keras",
        ".pb",
        ".ckpt",
        ".tflite",
        ".pkl",
        ".joblib",
        ".json",
        ".xml",
    ];
    drive
        || path.contains('\\')
        || path.matches('/').count() > 1
        || MODEL_FILES
            .iter()
            .any(|ext| path.to_ascii_lowercase().ends_with(ext))
}

/// Collects the hits of every located leaf in one file.
pub struct RuleObserver<'r, 's> {
    rules: &'r RuleSet,
    facts: &'r ServiceFacts<'s>,
    file: String,
    hits: FxHashMap<usize, Vec<Hit>>,
}

impl<'r, 's> RuleObserver<'r, 's> {
    pub fn new(rules: &'r RuleSet, facts: &'r ServiceFacts<'s>, file: &str) -> Self {
        RuleObserver {
            rules,
            facts,
            file: file.to_string(),
            hits: FxHashMap::default(),
        }
    }

    fn push(&mut self, leaf: usize, hit: Hit) {
        self.hits.entry(leaf).or_default().push(hit);
    }

    fn args_hold(&self, args: &[CompiledArg], site: &CallSite<'_, '_>) -> bool {
        args.iter().all(|a| {
            let given = site.has_arg(a.position, a.keyword.as_deref());
            if let Some(present) = a.present
                && present != given
            {
                return false;
            }
            if a.literal.is_none() && a.regex.is_none() && a.local_path.is_none() {
                return true;
            }
            let Some(value) = site.arg(a.position, a.keyword.as_deref()) else {
                return false;
            };
            if let Some(literal) = a.literal
                && literal != value.is_literal()
            {
                return false;
            }
            if let Some(regex) = &a.regex {
                match value.match_text() {
                    Some(text) if regex.is_match(&text) => {}
                    _ => return false,
                }
            }
            if let Some(local) = a.local_path {
                match value.as_str() {
                    Some(p) if self.facts.is_local_path(&self.file, p) == local => {}
                    _ => return false,
                }
            }
            true
        })
    }

    fn call_leaves(&self, site: &CallSite<'_, '_>) -> Vec<usize> {
        let mut leaves = Vec::new();
        if let Some(q) = &site.qualified {
            if let Some(ids) = self.rules.exact_calls.get(q) {
                leaves.extend_from_slice(ids);
            }
            if !self.rules.glob_call_leaves.is_empty() {
                for i in self.rules.glob_calls.matches(q) {
                    leaves.push(self.rules.glob_call_leaves[i]);
                }
            }
        } else if let Some(m) = site.method {
            for key in [m, "*"] {
                if let Some(ids) = self.rules.methods.get(key) {
                    leaves.extend_from_slice(ids);
                }
            }
        }
        leaves
    }

    /// Whether a call writes outside the service directory.
    fn writes_outside(&self, site: &CallSite<'_, '_>) -> bool {
        let outside = |v: Option<Value>| {
            v.as_ref()
                .and_then(Value::as_str)
                .is_some_and(|p| p.starts_with('/') || p.starts_with("../") || p.starts_with('~'))
        };
        let writing_mode = |v: Option<Value>| {
            v.as_ref()
                .and_then(Value::as_str)
                .is_some_and(|m| m.contains(['w', 'a', 'x', '+']))
        };
        match (site.qualified.as_deref(), site.method) {
            (Some("open" | "io.open" | "codecs.open"), _) => {
                outside(site.arg(Some(0), Some("file")))
                    && writing_mode(site.arg(Some(1), Some("mode")))
            }
            (
                Some("os.makedirs" | "os.mkdir" | "numpy.save" | "numpy.savez" | "cv2.imwrite"),
                _,
            ) => outside(site.arg(Some(0), None)),
            (Some("torch.save"), _) => outside(site.arg(Some(1), Some("f"))),
            (
                Some(
                    "shutil.copy" | "shutil.copy2" | "shutil.copyfile" | "shutil.copytree"
                    | "shutil.move",
                ),
                _,
            ) => outside(site.arg(Some(1), Some("dst"))),
            (None, Some("write_text" | "write_bytes" | "mkdir" | "touch")) => {
                site.receiver_path().is_some_and(|p| outside(Some(p)))
            }
            (None, Some("save")) => outside(site.arg(Some(0), Some("fp"))),
            _ => false,
        }
    }

    /// Evaluates every rule with located leaves for this file.
    pub fn findings(self) -> Vec<Finding> {
        let mut out = Vec::new();
        for (index, rule) in self.rules.rules().iter().enumerate() {
            if !self.rules.is_located(index) {
                continue;
            }
            if let Some(hits) = eval(self.rules, self.rules.tree(index), &|leaf| {
                self.leaf_file(leaf)
            }) {
                push_findings(&mut out, rule, hits);
            }
        }
        out
    }

    fn leaf_file(&self, leaf: usize) -> Option<Vec<Hit>> {
        match &self.rules.leaves[leaf] {
            Leaf::Dependency { .. } | Leaf::File { .. } => service_leaf_hits(self.facts, leaf),
            _ => self.hits.get(&leaf).filter(|h| !h.is_empty()).cloned(),
        }
    }
}

fn service_leaf_hits(facts: &ServiceFacts<'_>, leaf: usize) -> Option<Vec<Hit>> {
    facts.service_hits.get(&leaf).cloned()
}

/// Hits of a service-wide leaf: the manifest lines declaring a dependency, or matching files.
fn compute_service_leaf_hits(
    rules: &RuleSet,
    facts: &ServiceFacts<'_>,
    leaf: usize,
) -> Option<Vec<Hit>> {
    let hits: Vec<Hit> = match &rules.leaves[leaf] {
        Leaf::Dependency { name } => facts
            .dependencies
            .iter()
            .filter(|d| &d.normalized == name)
            .map(|d| Hit {
                location: Location::new(d.file.to_string_lossy().replace('\\', "/"), d.line, 1),
                name: d.name.clone(),
                snippet: None,
            })
            .collect(),
        Leaf::File { glob } => facts
            .files
            .iter()
            .filter(|f| glob.is_match(f.as_str()))
            .map(|f| Hit {
                location: Location::new(f.clone(), 1, 1),
                name: f.clone(),
                snippet: None,
            })
            .collect(),
        _ => Vec::new(),
    };
    (!hits.is_empty()).then_some(hits)
}

/// Evaluates rules that only look at the service as a whole (dependencies, files).
pub fn service_findings(rules: &RuleSet, facts: &ServiceFacts<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (index, rule) in rules.rules().iter().enumerate() {
        if rules.is_located(index) {
            continue;
        }
        if let Some(hits) = eval(rules, rules.tree(index), &|leaf| {
            service_leaf_hits(facts, leaf)
        }) {
            push_findings(&mut out, rule, hits);
        }
    }
    out
}

fn eval(
    rules: &RuleSet,
    node: &Node,
    leaf: &dyn Fn(usize) -> Option<Vec<Hit>>,
) -> Option<Vec<Hit>> {
    match node {
        Node::Leaf(i) => leaf(*i),
        Node::All(children) => {
            // In `all`, service-wide conditions (files, dependencies) gate the located ones:
            // the findings are where the code matched, not the manifest line.
            let any_located = children.iter().any(|c| rules.has_located(c));
            let mut hits = Vec::new();
            for c in children {
                let h = eval(rules, c, leaf)?;
                if !any_located || rules.has_located(c) {
                    hits.extend(h);
                }
            }
            Some(hits)
        }
        Node::Any(children) => {
            let mut any = false;
            let mut hits = Vec::new();
            for c in children {
                if let Some(h) = eval(rules, c, leaf) {
                    any = true;
                    hits.extend(h);
                }
            }
            any.then_some(hits)
        }
        Node::Not(child) => match eval(rules, child, leaf) {
            Some(_) => None,
            None => Some(Vec::new()),
        },
    }
}

fn push_findings(out: &mut Vec<Finding>, rule: &super::Rule, mut hits: Vec<Hit>) {
    hits.sort_by(|a, b| a.location.cmp(&b.location));
    hits.dedup_by(|a, b| {
        a.location.file == b.location.file
            && a.location.line == b.location.line
            && a.location.column == b.location.column
    });
    for hit in hits {
        out.push(Finding {
            rule: rule.id.clone(),
            category: rule.category,
            effort: rule.effort,
            targets: rule.targets(),
            message: rule.message.replace("{name}", &hit.name),
            remedy: rule.remedy.clone(),
            links: rule.links.iter().map(|l| l.url.clone()).collect(),
            location: hit.location,
            snippet: hit.snippet,
            outside_serving_path: false,
        });
    }
}

impl Observer for RuleObserver<'_, '_> {
    fn import(&mut self, ctx: &Context<'_>, site: &ImportSite) {
        if site.level > 0 {
            return;
        }
        let mut modules = vec![site.module.clone()];
        // `from torch import multiprocessing` imports the submodule too.
        modules.extend(site.names.iter().map(|n| format!("{}.{n}", site.module)));
        for &leaf in &self.rules.imports {
            let Leaf::Import { module } = &self.rules.leaves[leaf] else {
                continue;
            };
            if modules
                .iter()
                .any(|m| m == module || m.starts_with(&format!("{module}.")))
            {
                let location = Location::new(ctx.file, site.line, site.column);
                let snippet = Some(ctx.snippet(site.snippet_range));
                self.push(
                    leaf,
                    Hit {
                        location,
                        name: site.module.clone(),
                        snippet,
                    },
                );
            }
        }
    }

    fn call(&mut self, site: &CallSite<'_, '_>) {
        for leaf in self.call_leaves(site) {
            let Leaf::Call { args } = &self.rules.leaves[leaf] else {
                continue;
            };
            if self.args_hold(args, site) {
                let name = site
                    .qualified
                    .clone()
                    .unwrap_or_else(|| format!(".{}()", site.method.unwrap_or_default()));
                self.push(
                    leaf,
                    Hit {
                        location: site.location(),
                        name,
                        snippet: Some(site.snippet()),
                    },
                );
            }
        }
        if self
            .rules
            .builtins
            .iter()
            .any(|(b, _)| *b == BuiltinCheck::WriteOutsideService)
            && self.writes_outside(site)
        {
            let leaves: Vec<usize> = self
                .rules
                .builtins
                .iter()
                .filter(|(b, _)| *b == BuiltinCheck::WriteOutsideService)
                .map(|(_, l)| *l)
                .collect();
            for leaf in leaves {
                self.push(
                    leaf,
                    Hit {
                        location: site.location(),
                        name: site.callee_text().to_string(),
                        snippet: Some(site.snippet()),
                    },
                );
            }
        }
    }

    fn attribute(&mut self, site: &AttributeSite) {
        let mut leaves = Vec::new();
        if let Some(ids) = self.rules.exact_attributes.get(&site.qualified) {
            leaves.extend_from_slice(ids);
        }
        if !self.rules.glob_attribute_leaves.is_empty() {
            for i in self.rules.glob_attributes.matches(&site.qualified) {
                leaves.push(self.rules.glob_attribute_leaves[i]);
            }
        }
        for leaf in leaves {
            self.push(
                leaf,
                Hit {
                    location: site.location.clone(),
                    name: site.qualified.clone(),
                    snippet: None,
                },
            );
        }
    }

    fn data_dependent_branch(&mut self, location: Location, snippet: String) {
        let leaves: Vec<usize> = self
            .rules
            .builtins
            .iter()
            .filter(|(b, _)| *b == BuiltinCheck::ForwardDataDependentBranch)
            .map(|(_, l)| *l)
            .collect();
        for leaf in leaves {
            self.push(
                leaf,
                Hit {
                    location: location.clone(),
                    name: "forward".into(),
                    snippet: Some(snippet.clone()),
                },
            );
        }
    }
}
