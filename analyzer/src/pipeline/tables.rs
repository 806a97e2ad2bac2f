//! Library knowledge as data: the model loaders (`data/pipeline/loaders.yaml`) and the step
//! constructors with their parameter names and defaults (`data/pipeline/steps.yaml`) that the
//! detector matches calls against. Compiled in and parsed once; `problems` names every bad
//! entry (a unit test keeps it empty), and each entry has a fixture under
//! `tests/fixtures/pipeline/`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use rustc_hash::FxHashMap;
use serde::Deserialize;

use super::{Framework, StepLibrary};
use crate::python::Value;

const LOADERS_YAML: &str = include_str!("../../data/pipeline/loaders.yaml");
const STEPS_YAML: &str = include_str!("../../data/pipeline/steps.yaml");

/// Where an argument is: its position, its keyword, or both (`torch.load(f=...)`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgSpec {
    #[serde(default)]
    pub position: Option<usize>,
    #[serde(default)]
    pub keyword: Option<String>,
}

impl ArgSpec {
    pub fn keyword(&self) -> Option<&str> {
        self.keyword.as_deref()
    }
}

/// Where a loader's architecture comes from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchitectureSpec {
    #[serde(default)]
    pub position: Option<usize>,
    #[serde(default)]
    pub keyword: Option<String>,
    /// The same architecture whatever the call says (`yolo` for ultralytics).
    #[serde(default)]
    pub fixed: Option<String>,
    /// When the argument is a parameter of the enclosing function, its callers name it
    /// (`def load(name): timm.create_model(name)`): the service-wide pass reads them.
    #[serde(default)]
    pub from_callers: bool,
}

/// A framework told by the artifact's path (`YOLO("best.onnx")`), tried in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkByArtifact {
    /// The text after the path's last dot.
    #[serde(default)]
    pub extension: Option<String>,
    /// Text anywhere in the path (`yolov8n_openvino_model/`).
    #[serde(default)]
    pub contains: Option<String>,
    pub framework: Framework,
}

/// A call that loads or builds a model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoaderEntry {
    /// Names the entry and its fixture (`tests/fixtures/pipeline/loaders/<id>.py`).
    pub id: String,
    /// The qualified callees, aliases included (`keras.models.load_model`).
    pub calls: Vec<String>,
    pub framework: Framework,
    #[serde(default)]
    pub artifact: Option<ArgSpec>,
    #[serde(default)]
    pub architecture: Option<ArchitectureSpec>,
    /// The library whose steps the call hides (`ultralytics`): a `hidden` finding, with
    /// what `libraries::hidden_steps` knows of them.
    #[serde(default)]
    pub hidden: Option<String>,
    /// Overrides of `framework` by the artifact's path.
    #[serde(default)]
    pub framework_from_artifact: Vec<FrameworkByArtifact>,
    /// A model only when the first argument's source text mentions one of these, ignoring
    /// case (`pickle.load(open("model.pkl", "rb"))`, not any pickle).
    #[serde(default)]
    pub first_argument_mentions: Vec<String>,
}

impl LoaderEntry {
    /// The framework for an artifact path ("" when unknown).
    pub fn framework_for(&self, path: &str) -> Framework {
        self.framework_from_artifact
            .iter()
            .find(|rule| {
                rule.extension
                    .as_deref()
                    .is_some_and(|e| path.rsplit('.').next() == Some(e))
                    || rule.contains.as_deref().is_some_and(|c| path.contains(c))
            })
            .map_or(self.framework, |rule| rule.framework)
    }
}

/// Where a step goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    #[default]
    Preprocessing,
    Postprocessing,
    /// Kept only when its function has other preprocessing (`torch.from_numpy`).
    Contextual,
}

/// A function call that is one step (`cv2.resize`, `torch.softmax`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepEntry {
    /// Names the entry and its fixture (`tests/fixtures/pipeline/steps/<id>.py`).
    pub id: String,
    pub calls: Vec<String>,
    pub library: StepLibrary,
    /// The op as the plan names it; the callee's last name when left out.
    #[serde(default)]
    pub op: Option<String>,
    /// The positional parameters' names, in order (`arg1` becomes `dsize`).
    #[serde(default)]
    pub params: Vec<String>,
    #[serde(default)]
    pub stage: Stage,
    /// Not a step when this argument is a literal (`MEAN = np.array([...])` is a constant).
    #[serde(default)]
    pub unless_literal: Option<ArgSpec>,
    /// The size argument, which a resize keeping the aspect computes per image: the rule
    /// replaces the size's expressions.
    #[serde(default)]
    pub keep_aspect_size: Option<ArgSpec>,
}

impl StepEntry {
    /// The op for a call whose last name is `last`.
    pub fn op<'a>(&'a self, last: &'a str) -> &'a str {
        self.op.as_deref().unwrap_or(last)
    }
}

/// The parameter names (and defaults) of ops of a library family matched by prefix
/// (`torchvision.transforms.*`, `albumentations.*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpParams {
    pub id: String,
    pub ops: Vec<String>,
    pub params: Vec<String>,
    /// Values the library uses when the call leaves the parameter out.
    #[serde(default)]
    pub defaults: BTreeMap<String, Value>,
}

/// The `mode` of `keras.applications.<module>.preprocess_input` for a set of modules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KerasMode {
    pub id: String,
    pub mode: String,
    pub applications: Vec<String>,
}

/// Which ops are training-time augmentation (never a step of the plan).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Augmentation {
    pub prefixes: Vec<String>,
    pub ops: Vec<String>,
    /// The albumentations transforms that always apply; the others apply with a probability.
    pub albumentations_deterministic: Vec<String>,
}

impl Augmentation {
    pub fn covers(&self, library: StepLibrary, op: &str) -> bool {
        if library == StepLibrary::Albumentations {
            return !self.albumentations_deterministic.iter().any(|o| o == op);
        }
        self.prefixes.iter().any(|p| op.starts_with(p.as_str())) || self.ops.iter().any(|o| o == op)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepsFile {
    calls: Vec<StepEntry>,
    torchvision: Vec<OpParams>,
    albumentations: Vec<OpParams>,
    keras_preprocess_modes: Vec<KerasMode>,
    /// The mode of an application module the table does not list.
    keras_preprocess_default_mode: String,
    augmentation: Augmentation,
}

/// Both tables, indexed for matching: one hash lookup per call.
#[derive(Debug)]
pub struct Tables {
    pub loaders: Vec<LoaderEntry>,
    pub steps: Vec<StepEntry>,
    pub torchvision: Vec<OpParams>,
    pub albumentations: Vec<OpParams>,
    pub keras_modes: Vec<KerasMode>,
    pub keras_default_mode: String,
    pub augmentation: Augmentation,
    loader_by_call: FxHashMap<String, usize>,
    step_by_call: FxHashMap<String, usize>,
    torchvision_by_op: FxHashMap<String, usize>,
    albumentations_by_op: FxHashMap<String, usize>,
    keras_mode_by_module: FxHashMap<String, usize>,
}

static TABLES: LazyLock<Tables> =
    LazyLock::new(|| Tables::parse(LOADERS_YAML, STEPS_YAML).unwrap_or_else(|e| panic!("{e}")));

/// The tables compiled into the binary.
pub fn tables() -> &'static Tables {
    &TABLES
}

/// Each key of each item to the item's index; the first item wins, and `problems` reports
/// the repeat.
fn index<T>(items: &[T], keys: impl Fn(&T) -> &[String]) -> FxHashMap<String, usize> {
    let mut map = FxHashMap::default();
    for (i, item) in items.iter().enumerate() {
        for key in keys(item) {
            map.entry(key.clone()).or_insert(i);
        }
    }
    map
}

impl Tables {
    /// Parses the two files; an error names the file and where in it.
    pub fn parse(loaders: &str, steps: &str) -> Result<Self, String> {
        let loaders: Vec<LoaderEntry> = serde_saphyr::from_str(loaders)
            .map_err(|e| format!("data/pipeline/loaders.yaml: {e}"))?;
        let steps: StepsFile =
            serde_saphyr::from_str(steps).map_err(|e| format!("data/pipeline/steps.yaml: {e}"))?;
        Ok(Tables {
            loader_by_call: index(&loaders, |e| &e.calls),
            step_by_call: index(&steps.calls, |e| &e.calls),
            torchvision_by_op: index(&steps.torchvision, |e| &e.ops),
            albumentations_by_op: index(&steps.albumentations, |e| &e.ops),
            keras_mode_by_module: index(&steps.keras_preprocess_modes, |e| &e.applications),
            loaders,
            steps: steps.calls,
            torchvision: steps.torchvision,
            albumentations: steps.albumentations,
            keras_modes: steps.keras_preprocess_modes,
            keras_default_mode: steps.keras_preprocess_default_mode,
            augmentation: steps.augmentation,
        })
    }

    /// The loader of a qualified callee.
    pub fn loader(&self, call: &str) -> Option<&LoaderEntry> {
        self.loader_by_call.get(call).map(|&i| &self.loaders[i])
    }

    /// The step of a qualified callee.
    pub fn step(&self, call: &str) -> Option<&StepEntry> {
        self.step_by_call.get(call).map(|&i| &self.steps[i])
    }

    /// The positional parameter names of a torchvision transform (v1 and v2 agree on these).
    pub fn torchvision_params(&self, op: &str) -> &[String] {
        self.torchvision_by_op
            .get(op)
            .map_or(&[], |&i| &self.torchvision[i].params)
    }

    /// The parameter names and defaults of an albumentations transform.
    pub fn albumentations(&self, op: &str) -> Option<&OpParams> {
        self.albumentations_by_op
            .get(op)
            .map(|&i| &self.albumentations[i])
    }

    /// The `preprocess_input` mode of a Keras application module.
    pub fn keras_mode(&self, module: &str) -> &str {
        self.keras_mode_by_module
            .get(module)
            .map_or(&self.keras_default_mode, |&i| &self.keras_modes[i].mode)
    }

    /// Every entry that is malformed or repeats another, named by its id.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut ids = std::collections::BTreeSet::new();
        let all_ids = self
            .loaders
            .iter()
            .map(|e| &e.id)
            .chain(self.steps.iter().map(|e| &e.id))
            .chain(self.torchvision.iter().map(|e| &e.id))
            .chain(self.albumentations.iter().map(|e| &e.id))
            .chain(self.keras_modes.iter().map(|e| &e.id));
        for id in all_ids {
            if !ids.insert(id) {
                problems.push(format!("{id}: the id is used twice"));
            }
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                problems.push(format!("{id:?}: ids are lowercase words joined by `-`"));
            }
        }
        for e in &self.loaders {
            problems.extend(
                loader_problems(e)
                    .into_iter()
                    .map(|p| format!("{}: {p}", e.id)),
            );
        }
        for e in &self.steps {
            problems.extend(
                step_problems(e)
                    .into_iter()
                    .map(|p| format!("{}: {p}", e.id)),
            );
        }
        repeats(
            &mut problems,
            self.loaders.iter().map(|e| (&e.id, &e.calls)),
        );
        repeats(&mut problems, self.steps.iter().map(|e| (&e.id, &e.calls)));
        repeats(
            &mut problems,
            self.torchvision.iter().map(|e| (&e.id, &e.ops)),
        );
        repeats(
            &mut problems,
            self.albumentations.iter().map(|e| (&e.id, &e.ops)),
        );
        repeats(
            &mut problems,
            self.keras_modes.iter().map(|e| (&e.id, &e.applications)),
        );
        problems
    }
}

fn arg_problem(what: &str, arg: &ArgSpec) -> Option<String> {
    (arg.position.is_none() && arg.keyword.is_none())
        .then(|| format!("{what} needs a position or a keyword"))
}

fn loader_problems(e: &LoaderEntry) -> Vec<String> {
    let mut problems = Vec::new();
    if e.calls.is_empty() {
        problems.push("no calls".to_string());
    }
    problems.extend(e.artifact.as_ref().and_then(|a| arg_problem("artifact", a)));
    if let Some(a) = &e.architecture {
        let located = a.position.is_some() || a.keyword.is_some();
        if a.fixed.is_some() == located {
            problems.push("architecture is either `fixed` or an argument".to_string());
        }
        if a.from_callers && (a.position.is_none() || a.keyword.is_none()) {
            problems.push("architecture `from_callers` needs a position and a keyword".into());
        }
    }
    for rule in &e.framework_from_artifact {
        if rule.extension.is_some() == rule.contains.is_some() {
            problems.push("framework_from_artifact: one of `extension` or `contains`".into());
        }
    }
    if !e.framework_from_artifact.is_empty() && e.artifact.is_none() {
        problems.push("framework_from_artifact without an artifact".to_string());
    }
    if let Some(library) = &e.hidden
        && super::libraries::hidden_steps(library) == super::libraries::hidden_steps("")
    {
        problems.push(format!(
            "hidden: the knowledge base knows nothing of {library}"
        ));
    }
    problems
}

fn step_problems(e: &StepEntry) -> Vec<String> {
    let mut problems = Vec::new();
    if e.calls.is_empty() {
        problems.push("no calls".to_string());
    }
    problems.extend(
        e.unless_literal
            .as_ref()
            .and_then(|a| arg_problem("unless_literal", a)),
    );
    if let Some(size) = &e.keep_aspect_size {
        match (size.position, size.keyword()) {
            (Some(p), Some(k)) if e.params.get(p).map(String::as_str) == Some(k) => {}
            _ => problems
                .push("keep_aspect_size needs the position and keyword of one of `params`".into()),
        }
    }
    problems
}

/// Keys (callees, ops, modules) listed by two entries.
fn repeats<'a>(
    problems: &mut Vec<String>,
    entries: impl Iterator<Item = (&'a String, &'a Vec<String>)>,
) {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (id, keys) in entries {
        for key in keys {
            if let Some(first) = seen.insert(key, id) {
                problems.push(format!("{id}: {key} is already listed by {first}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tables_parse_and_have_no_problems() {
        let tables = Tables::parse(LOADERS_YAML, STEPS_YAML).unwrap_or_else(|e| panic!("{e}"));
        let problems = tables.problems();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        assert!(tables.loaders.len() >= 20 && tables.steps.len() >= 30);
    }

    #[test]
    fn a_bad_entry_is_named() {
        let unknown = "- id: x\n  calls: [a.b]\n  framework: onnx\n  artefact: {position: 0}\n";
        let err = Tables::parse(unknown, STEPS_YAML).unwrap_err();
        assert!(
            err.contains("loaders.yaml") && err.contains("artefact"),
            "{err}"
        );
        let unplaced = "- id: half-arch\n  calls: [a.b]\n  framework: onnx\n  \
                        architecture: {from_callers: true, position: 0}\n\
                        - id: again\n  calls: [a.b]\n  framework: keras\n";
        let problems = Tables::parse(unplaced, STEPS_YAML).unwrap().problems();
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("half-arch: architecture"))
                && problems
                    .iter()
                    .any(|p| p == "again: a.b is already listed by half-arch"),
            "{problems:?}"
        );
    }

    #[test]
    fn augmentation_is_random_by_name_and_albumentations_unless_deterministic() {
        let a = &tables().augmentation;
        assert!(a.covers(StepLibrary::Torchvision, "RandomHorizontalFlip"));
        assert!(a.covers(StepLibrary::Torchvision, "ColorJitter"));
        assert!(!a.covers(StepLibrary::Torchvision, "Resize"));
        assert!(a.covers(StepLibrary::Albumentations, "HorizontalFlip"));
        assert!(!a.covers(StepLibrary::Albumentations, "Normalize"));
    }

    #[test]
    fn calls_ops_and_modules_are_looked_up() {
        let t = tables();
        let keras = t.loader("tf_keras.models.load_model").unwrap();
        assert_eq!(keras.framework, Framework::Keras);
        assert_eq!(keras.artifact.as_ref().unwrap().keyword(), Some("filepath"));
        assert!(t.loader("torch.save").is_none());
        let yolo = t.loader("ultralytics.YOLO").unwrap();
        assert_eq!(yolo.framework_for("best.onnx"), Framework::Onnx);
        assert_eq!(yolo.framework_for("m_openvino_model/"), Framework::Openvino);
        assert_eq!(yolo.framework_for("yolov8n.pt"), Framework::Pytorch);
        let divide = t.step("numpy.true_divide").unwrap();
        assert_eq!(divide.op("true_divide"), "divide");
        assert_eq!(t.step("cv2.flip").unwrap().op("flip"), "flip");
        assert_eq!(t.torchvision_params("center_crop"), ["size"]);
        assert!(t.torchvision_params("ToTensor").is_empty());
        let normalize = t.albumentations("Normalize").unwrap();
        assert_eq!(normalize.defaults["max_pixel_value"], Value::Float(255.0));
        assert_eq!(t.keras_mode("resnet_v2"), "tf");
        assert_eq!(t.keras_mode("densenet"), "torch");
        assert_eq!(t.keras_mode("some_new_net"), "caffe");
    }
}
