//! The code-rule schema, in the spirit of Konveyor analyzer rules.
//!
//! ```yaml
//! - id: process-subprocess            # unique, kebab-case
//!   category: mandatory               # mandatory | optional | potential
//!   effort: 5                         # story points: 1 trivial .. 13 rewrite
//!   labels: [target=wasi-nn-glue, target=python-wasm, target=wasi-python]
//!   message: "`{name}` starts a process: WASI has no processes"
//!   remedy: "Run the tool on the host and pass its output in, or use the Rust crate X."
//!   links: [{url: "https://...", title: "..."}]
//!   when:
//!     any:
//!       - call: {name: "subprocess.*"}
//!       - call: {name: os.system}
//! ```
//!
//! `{name}` in a message is replaced by what matched (the qualified call or import name).

use serde::{Deserialize, Serialize};

use crate::knowledge::MigrationPath;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Must be fixed before the service runs on the target.
    Mandatory,
    /// Should be changed; the service runs without it but loses something.
    Optional,
    /// May be a problem, depending on what the code does at run time.
    Potential,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Mandatory => "mandatory",
            Category::Optional => "optional",
            Category::Potential => "potential",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub url: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub category: Category,
    pub effort: u32,
    #[serde(default)]
    pub labels: Vec<String>,
    pub message: String,
    pub remedy: String,
    #[serde(default)]
    pub links: Vec<Link>,
    pub when: Condition,
}

impl Rule {
    /// The migration paths this rule applies to, from its `target=` labels.
    pub fn targets(&self) -> Vec<MigrationPath> {
        self.labels
            .iter()
            .filter_map(|l| l.strip_prefix("target="))
            .filter_map(|t| match t {
                "wasi-nn-glue" => Some(MigrationPath::WasiNnGlue),
                "python-wasm" => Some(MigrationPath::PythonWasm),
                "wasi-python" => Some(MigrationPath::WasiPython),
                _ => None,
            })
            .collect()
    }
}

/// A condition on the code of a service. Leaf conditions match places in Python files
/// (and produce findings there); `dependency` and `file` match the service as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Condition {
    /// Every condition holds. The findings are those of the located (Python) conditions.
    All(Vec<Condition>),
    /// At least one holds.
    Any(Vec<Condition>),
    /// The condition does not hold (in the same file for located conditions).
    Not(Box<Condition>),
    Import(ImportCondition),
    Call(CallCondition),
    Attribute(AttributeCondition),
    Dependency(DependencyCondition),
    File(FileCondition),
    /// A structural check that cannot be said with the leaf conditions above.
    Builtin(BuiltinCheck),
}

/// `import X`, `import X.Y as Z`, `from X import Y`. `module` matches the module or any of its
/// submodules; a trailing `.*` is allowed and means the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportCondition {
    pub module: String,
}

/// A call. Exactly one of `name` (the qualified name the callee resolves to through the file's
/// imports, a glob where `*` matches anything, dots included; builtins resolve to their bare
/// name, e.g. `eval`) and `method` (the last attribute of a call on any object whose type
/// cannot be known: `x.cuda()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallCondition {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    /// Every argument predicate must hold.
    #[serde(default)]
    pub args: Vec<ArgPredicate>,
}

/// A predicate on one argument, found by `keyword` first, then by `position`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgPredicate {
    #[serde(default)]
    pub position: Option<usize>,
    #[serde(default)]
    pub keyword: Option<String>,
    /// Whether the argument is given at all.
    #[serde(default)]
    pub present: Option<bool>,
    /// Whether the argument resolves to a literal value (following module constants).
    #[serde(default)]
    pub literal: Option<bool>,
    /// A regex the literal value must match (strings as their value, `True`, `None`, numbers
    /// as Python writes them). A non-literal argument never matches.
    #[serde(default)]
    pub regex: Option<String>,
    /// Whether the literal string names a file or directory that exists in the service.
    #[serde(default)]
    pub local_path: Option<bool>,
}

/// Use of an attribute chain (`torch.cuda.is_available`, `torch.cuda` alone), resolved
/// through imports like `call.name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeCondition {
    pub name: String,
}

/// A declared dependency in any manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependencyCondition {
    pub name: String,
}

/// A file in the service whose path (relative, `/`-separated) matches the glob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileCondition {
    pub glob: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BuiltinCheck {
    /// `if` / `while` / ternary on a tensor value inside `forward` of an `nn.Module` subclass:
    /// `torch.jit.trace` and `torch.onnx.export` freeze the branch taken by the example input.
    ForwardDataDependentBranch,
    /// Writing a file (`open(..., "w")`, `Path.write_*`, `os.makedirs`, `shutil` copies,
    /// `tempfile.*`) at an absolute path or one that leaves the service directory.
    WriteOutsideService,
}
