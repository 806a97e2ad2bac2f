//! Finding the inference pipeline in one file: model loading, preprocessing, postprocessing
//! and serving, with every parameter resolved.

mod inference;
mod loaders;
mod methods;
mod presets;
mod serving;
mod steps;
mod torchserve;
pub(crate) use torchserve::image_classifier_pipeline;

use std::collections::BTreeMap;
use wasm_migrate_plan::KnownOp;

use inference::InferenceCandidate;
use torchserve::TorchserveClass;

use super::{Framework, HiddenSteps, Pipeline, Step, StepLibrary, libraries};
use crate::python::{
    BinOpSite, CallSite, ClassSite, Context, FunctionSite, ImportSite, Observer, SliceCrop, Value,
};
use crate::report::Location;

// Called for every call in every file: no allocation.
fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text.as_bytes()[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

fn contains_ignore_case(text: &str, needle: &str) -> bool {
    text.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// What one file contributes to the service's pipeline.
pub(crate) struct FileFacts {
    pub pipeline: Pipeline,
    pub main_guard: Option<Location>,
    pub imported_calls: BTreeMap<String, (Location, String)>,
    /// Calls by the callee's last name (`predict` for `predictor.predict(x)`), with their
    /// scopes: how steps in a helper find where the helper runs.
    pub calls: CallsByName,
}

/// Call sites by the callee's last name, each with the scope it is in. Kept compact (no
/// file name or scope string per call): every call of every file passes through it.
#[derive(Debug, Default)]
pub(crate) struct CallsByName {
    /// The scopes calls are in, each once.
    scopes: Vec<String>,
    scope_ids: rustc_hash::FxHashMap<String, u32>,
    by_name: rustc_hash::FxHashMap<String, Vec<(CallSpan, u32)>>,
}

/// Where a call is in its file: line, column, end line, end column.
pub(crate) type CallSpan = (u32, u32, u32, u32);

impl CallsByName {
    pub(crate) fn record(&mut self, name: &str, span: CallSpan, scope: &str) {
        // Calls come function by function: the last scope is almost always the one.
        let scope = match self.scopes.last() {
            Some(last) if last == scope => (self.scopes.len() - 1) as u32,
            _ => match self.scope_ids.get(scope) {
                Some(&i) => i,
                None => {
                    self.scopes.push(scope.to_string());
                    let i = (self.scopes.len() - 1) as u32;
                    self.scope_ids.insert(scope.to_string(), i);
                    i
                }
            },
        };
        match self.by_name.get_mut(name) {
            Some(sites) if sites.len() >= CALLS_PER_NAME => {}
            Some(sites) => sites.push((span, scope)),
            None => {
                self.by_name.insert(name.to_string(), vec![(span, scope)]);
            }
        }
    }

    /// Whether `name` is called.
    pub(crate) fn calls(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// The calls of `name` in file `file`, each with its scope.
    pub(crate) fn calls_of<'s>(
        &'s self,
        file: &'s str,
        name: &str,
    ) -> impl Iterator<Item = (Location, &'s str)> + 's {
        self.by_name.get(name).into_iter().flatten().map(
            move |&((line, column, end_line, end_column), scope)| {
                let location = Location {
                    file: file.to_string(),
                    line,
                    column,
                    end_line: Some(end_line),
                    end_column: Some(end_column),
                };
                (location, self.scopes[scope as usize].as_str())
            },
        )
    }
}

/// The most call sites kept per name: the first ones are the ones placement uses.
const CALLS_PER_NAME: usize = 8;

/// Collects the pipeline facts of one file.
#[derive(Default)]
pub(crate) struct PipelineDetector {
    pub pipeline: Pipeline,
    imports_torch: bool,
    imports_numpy: bool,
    imports_pil: bool,
    imports_cv2: bool,
    imports_openvino: bool,
    imports_flask: bool,
    imports_fastapi: bool,
    imports_torchserve: bool,
    imports_tf: bool,
    /// Steps kept only when their scope has other preprocessing (numpy arithmetic, unsqueeze).
    contextual: Vec<Step>,
    pub has_main_guard: Option<Location>,
    /// `transform = transforms.Compose([...])`: the variable and the span of the call.
    compose_vars: Vec<(String, Location)>,
    /// Where each composed transform is first applied, with the scope it is applied in.
    compose_uses: BTreeMap<String, (Location, String)>,
    /// Names this file imports with `from ... import name`.
    imported_names: rustc_hash::FxHashSet<String>,
    /// First call of each imported name (a composition defined in another module, maybe).
    pub imported_calls: BTreeMap<String, (Location, String)>,
    /// `target = call(...)` assignments: the target and the call's span.
    assigned_calls: Vec<(String, Location)>,
    /// TorchServe handler classes: name, base class, methods, class attributes, location.
    torchserve_classes: Vec<TorchserveClass>,
    /// Calls by the callee's last name, for placing steps done in helpers.
    calls: CallsByName,
    /// Calls that may run a model: the name holding it (`model`, `session`), where, in
    /// which scope. Kept when that name holds a model this file loads or reads as one.
    inference_candidates: Vec<InferenceCandidate>,
    /// Names assigned a model this file loads (`model` of `model = torch.load(...)`).
    model_holders: rustc_hash::FxHashSet<String>,
    /// Names assigned a tokenizer this file loads (`tok` of `tok = AutoTokenizer...`).
    tokenizer_holders: rustc_hash::FxHashSet<String>,
    /// Names assigned a Hugging Face image processor this file loads.
    image_processor_holders: rustc_hash::FxHashSet<String>,
}

/// Data arguments (the image or array being transformed) say nothing about the step.
const DATA_PARAMS: &[&str] = &[
    "src",
    "a",
    "x",
    "fp",
    "images",
    "img",
    "image",
    "input",
    "buf",
    "contents",
    "text",
    "text_pair",
    "data",
];

/// The last dotted name of an expression's text: `model` for `self.model`.
fn last_name(text: &str) -> &str {
    text.rsplit('.').next().unwrap_or(text).trim()
}

fn within(loc: &Location, span: &Location) -> bool {
    let start = (span.line, span.column);
    let end = (
        span.end_line.unwrap_or(span.line),
        span.end_column.unwrap_or(u32::MAX),
    );
    let at = (loc.line, loc.column);
    at >= start && at <= end
}

pub(crate) use super::OrderKey;

/// Execution order: an expression finishes after the ones inside it (`open(...).convert()`,
/// `(x - MEAN) / STD`, `f(g(x))`), so steps sort by where they end; of two that end at the
/// same place the one that starts later is inside the other (`255 - x.astype(float)`), so
/// it runs first.
pub(crate) fn order_key(loc: &Location) -> OrderKey {
    (
        loc.end_line.unwrap_or(loc.line),
        loc.end_column.unwrap_or(loc.column),
        u32::MAX - loc.line,
        u32::MAX - loc.column,
    )
}

impl PipelineDetector {
    /// Finishes the file: contextual steps survive only next to real preprocessing.
    pub fn finish(mut self) -> FileFacts {
        self.torchserve_base_steps();
        self.truncation_lengths();
        // Steps of a composed transform run where the composition is applied, not where it
        // is defined: `transform = Compose([...])` at module level, `transform(image)` in the
        // handler after the image is opened.
        let mut keyed: Vec<(OrderKey, usize, Step)> = Vec::new();
        for (i, mut step) in self.pipeline.preprocessing.drain(..).enumerate() {
            let mut key = order_key(&step.location);
            if let Some((var, _)) = self
                .compose_vars
                .iter()
                .find(|(_, span)| within(&step.location, span))
            {
                step.composed_in = Some(var.clone());
                match self.compose_uses.get(var) {
                    Some((used_at, scope)) => {
                        key = order_key(used_at);
                        step.written_in = Some(std::mem::replace(&mut step.scope, scope.clone()));
                        step.applied_at = Some(used_at.clone());
                    }
                    // Maybe applied in another module that imports it: decided service-wide.
                    None => step.composition_unused = true,
                }
            }
            keyed.push((key, i, step));
        }
        let scopes: std::collections::HashSet<String> =
            keyed.iter().map(|(_, _, s)| s.scope.clone()).collect();
        let base = keyed.len();
        for (i, step) in std::mem::take(&mut self.contextual).into_iter().enumerate() {
            if scopes.contains(&step.scope) {
                keyed.push((order_key(&step.location), base + i, step));
            }
        }
        keyed.sort_by_key(|k| (k.0, k.1));
        self.pipeline.preprocessing = keyed.into_iter().map(|(_, _, s)| s).collect();
        self.pipeline
            .postprocessing
            .sort_by_key(|s| order_key(&s.location));
        self.pipeline.inference = self.inference_calls();
        FileFacts {
            pipeline: self.pipeline,
            main_guard: self.has_main_guard,
            imported_calls: self.imported_calls,
            calls: self.calls,
        }
    }

    /// `tokenizer(text, truncation=True)` cuts at the tokenizer's `model_max_length`, which
    /// its `from_pretrained(..., model_max_length=N)` sets.
    fn truncation_lengths(&mut self) {
        let Some(length) = self.pipeline.preprocessing.iter().find_map(|s| {
            s.is(KnownOp::TokenizerLoad)
                .then(|| s.params.get("model_max_length").cloned())
                .flatten()
        }) else {
            return;
        };
        for step in &mut self.pipeline.preprocessing {
            if step.library == StepLibrary::Tokenizer
                && !step.is(KnownOp::TokenizerLoad)
                && step.params.get("truncation") == Some(&Value::Bool(true))
                && !step.params.contains_key("max_length")
            {
                step.params.insert("max_length".into(), length.clone());
            }
        }
    }

    /// Steps a library does inside `site` that the plan cannot list.
    fn hidden(&mut self, library: &str, site: &CallSite<'_, '_>) {
        self.pipeline.hidden.push(HiddenSteps {
            library: library.to_string(),
            steps: libraries::hidden_steps(library).to_string(),
            location: site.location(),
        });
    }

    fn step(
        &mut self,
        library: StepLibrary,
        op: &str,
        mut params: BTreeMap<String, Value>,
        site: &CallSite<'_, '_>,
    ) -> Step {
        params.retain(|k, v| {
            v.is_literal() || !(DATA_PARAMS.contains(&k.as_str()) || k.starts_with("arg"))
        });
        // A step done only sometimes (`if image.mode != "RGB": image = image.convert("RGB")`)
        // says when; the request's method is routing, not a condition on the data.
        if let Some(condition) = site.condition()
            && !condition.contains("request.method")
        {
            params.insert("when".to_string(), Value::Str(condition));
        }
        Step::new(library, op, params, site.scope.clone(), site.location())
    }

    /// The last name of the target a call's result is assigned to (`model` of
    /// `self.model = load(...)`).
    fn holder_of(&self, site: &CallSite<'_, '_>) -> Option<String> {
        let location = site.location();
        self.assigned_calls
            .iter()
            .rev()
            .find(|(_, span)| within(&location, span))
            .map(|(target, _)| last_name(target).to_string())
    }

    /// Every argument with its resolved value, positional ones named by `names` where it
    /// names them (`arg0` otherwise).
    fn named_params<S: AsRef<str>>(
        site: &CallSite<'_, '_>,
        names: &[S],
    ) -> BTreeMap<String, Value> {
        let mut params = BTreeMap::new();
        for (k, v) in site.all_args() {
            let key = match k.strip_prefix("arg").and_then(|i| i.parse::<usize>().ok()) {
                Some(i) => names.get(i).map(|n| n.as_ref().to_string()).unwrap_or(k),
                None => k,
            };
            params.insert(key, v);
        }
        params
    }

    /// What one call contributes: a model load, a step, a label file, a mount.
    fn detect_call(&mut self, site: &CallSite<'_, '_>) {
        self.remember_uses(site);
        if matches!(site.method, Some("include_router" | "register_blueprint")) {
            self.mount(site);
            return;
        }
        match (&site.qualified, site.method) {
            (Some(q), _) => self.qualified_call(q, site),
            (None, Some(method)) => self.method_call(method, site),
            (None, None) => self.unqualified_call(site),
        }
    }

    /// Where a composition, or a name imported from another module, is first called.
    fn remember_uses(&mut self, site: &CallSite<'_, '_>) {
        let callee = site.callee_text();
        if let Some((var, _)) = self.compose_vars.iter().find(|(v, _)| v == callee)
            && !self.compose_uses.contains_key(var)
        {
            self.compose_uses
                .insert(var.clone(), (site.location(), site.scope.clone()));
        }
        if self.imported_names.contains(callee) && !self.imported_calls.contains_key(callee) {
            self.imported_calls
                .insert(callee.to_string(), (site.location(), site.scope.clone()));
        }
    }

    /// A call whose callee resolves through the file's imports (`torch.load`).
    fn qualified_call(&mut self, q: &str, site: &CallSite<'_, '_>) {
        if q == "open" || q == "pathlib.Path" {
            self.label_file(site.arg(Some(0), Some("file")));
            return;
        }
        if q == "os.path.join" && site.positional_count() > 0 {
            self.label_file(site.arg(Some(site.positional_count() - 1), None));
            return;
        }
        let known = self.model_call(q, site) || self.step_call(q, site);
        // A tokenizer built in another module of the service and imported here
        // (`from app.models import tokenizer; tokenizer(text, ...)`).
        if !known
            && ends_with_ignore_case(q, "tokenizer")
            && !q.starts_with("transformers.")
            && site.positional_count() > 0
        {
            self.tokenizer_call(site);
        }
    }

    /// A call of a name that resolves to nothing: the service's own functions, a model
    /// chosen by name, a tokenizer or processor this file holds.
    fn unqualified_call(&mut self, site: &CallSite<'_, '_>) {
        let callee = site.callee_text();
        if let Some(owner) = site.getattr_owner() {
            // `getattr(torchvision.models, name)(pretrained=True)`: a model chosen by name.
            let framework = match owner.as_str() {
                "torchvision.models" | "timm" => Some(Framework::Pytorch),
                "tensorflow.keras.applications" | "keras.applications" => Some(Framework::Keras),
                _ => None,
            };
            if let Some(framework) = framework {
                self.model(framework, site, None, None);
                return;
            }
        }
        if matches!(callee, "softmax" | "sigmoid" | "argmax") {
            // The service's own `def softmax(x)`: the same step, written out.
            let step = self.step(StepLibrary::Numpy, callee, BTreeMap::new(), site);
            self.pipeline.postprocessing.push(step);
            return;
        }
        if site.positional_count() > 0
            && (contains_ignore_case(callee, "label") || contains_ignore_case(callee, "class"))
        {
            self.label_file(site.arg(Some(0), None));
        }
        if self.image_processor_holders.contains(last_name(callee)) {
            self.image_processor_call(site);
        } else if self.calls_a_tokenizer(callee) && site.positional_count() > 0 {
            self.tokenizer_call(site);
        }
    }

    fn label_file(&mut self, value: Option<Value>) {
        let Some(Value::Str(path)) = value else {
            return;
        };
        let lower = path.to_ascii_lowercase();
        let named_like_labels = [
            "label",
            "class",
            "index_to_name",
            "synset",
            "categor",
            "id2label",
        ]
        .iter()
        .any(|k| lower.contains(k));
        let data_file = [".txt", ".json", ".csv", ".names"]
            .iter()
            .any(|e| lower.ends_with(e));
        if named_like_labels && data_file && !self.pipeline.label_files.contains(&path) {
            self.pipeline.label_files.push(path);
        }
    }
}

impl Observer for PipelineDetector {
    fn import(&mut self, _ctx: &Context<'_>, site: &ImportSite) {
        self.imported_names.extend(site.names.iter().cloned());
        let top = site.module.split('.').next().unwrap_or("");
        match top {
            "torch" | "torchvision" => self.imports_torch = true,
            "numpy" => self.imports_numpy = true,
            "PIL" => self.imports_pil = true,
            "cv2" => self.imports_cv2 = true,
            "openvino" => self.imports_openvino = true,
            "flask" => self.imports_flask = true,
            "fastapi" | "starlette" => self.imports_fastapi = true,
            "ts" => self.imports_torchserve = true,
            "tensorflow" | "keras" => self.imports_tf = true,
            _ => {}
        }
    }

    fn call(&mut self, site: &CallSite<'_, '_>) {
        let models_before = self.pipeline.models.len();
        self.detect_call(site);
        let loads_model = self.pipeline.models.len() > models_before;
        self.record_call(site, loads_model);
    }

    fn binop(&mut self, site: &BinOpSite) {
        if !self.imports_numpy {
            return;
        }
        // `1 / (1 + np.exp(-x))`: a sigmoid written out, after the model.
        if site.op == "div"
            && site.left.as_f64() == Some(1.0)
            && let Value::Expr { expr } = &site.right
            && expr.trim_start_matches('(').trim_start().starts_with("1 +")
            && expr.contains("exp(-")
        {
            self.pipeline.postprocessing.push(Step::new(
                StepLibrary::Numpy,
                "sigmoid",
                BTreeMap::new(),
                site.scope.clone(),
                site.location.clone(),
            ));
            return;
        }
        let op = match site.op {
            "div" => "divide",
            "sub" => "subtract",
            "mul" => "multiply",
            _ => "add",
        };
        let mut params = BTreeMap::new();
        let constant = if site.right.is_literal() {
            &site.right
        } else {
            &site.left
        };
        params.insert("value".to_string(), constant.clone());
        // `255 - x`, `1 / x`: the constant is the left operand (Python's reflected operands).
        if site.left.is_literal() && !site.right.is_literal() && matches!(op, "subtract" | "divide")
        {
            params.insert("reflected".to_string(), Value::Bool(true));
        }
        self.contextual.push(Step::new(
            StepLibrary::Numpy,
            op,
            params,
            site.scope.clone(),
            site.location.clone(),
        ));
    }

    fn center_crop_slice(&mut self, crop: &SliceCrop, location: Location, scope: &str) {
        let params = BTreeMap::from([
            (
                "center_crop".to_string(),
                Value::List(vec![Value::Int(crop.height), Value::Int(crop.width)]),
            ),
            (
                "offset".to_string(),
                Value::Str(crop.offset.as_str().to_string()),
            ),
        ]);
        self.contextual.push(Step::new(
            StepLibrary::Numpy,
            "slice",
            params,
            scope.to_string(),
            location,
        ));
    }

    fn channel_flip(&mut self, location: Location, scope: &str) {
        self.contextual.push(Step::new(
            StepLibrary::Numpy,
            "reverse_channels",
            BTreeMap::new(),
            scope.to_string(),
            location,
        ));
    }

    fn function(&mut self, site: &FunctionSite) {
        self.endpoints(site);
    }

    fn class(&mut self, site: &ClassSite) {
        let data_class = site.bases.iter().any(|b| {
            let framework =
                b.starts_with("torch.") || b.starts_with("tensorflow.") || b.starts_with("keras.");
            match b.rsplit('.').next() {
                Some("Dataset" | "IterableDataset") => framework || b == "Dataset",
                Some("Sequence" | "PyDataset") => framework,
                _ => false,
            }
        });
        if data_class {
            self.pipeline
                .data_classes
                .push((site.location.file.clone(), site.name.clone()));
        }
        self.torchserve_class(site);
    }

    fn main_guard(&mut self, location: Location) {
        self.has_main_guard = Some(location);
    }

    fn assign_call(&mut self, target: &str, callee: Option<&str>, location: Location) {
        self.assigned_calls
            .push((target.to_string(), location.clone()));
        // A composition, or one transform made ahead and applied later (`to_tensor =
        // transforms.ToTensor()` at module level, `to_tensor(image)` in the route): its step
        // runs where the instance is applied.
        let composes = |c: &str| {
            let class = c.rsplit('.').next().unwrap_or(c);
            (c.starts_with("torchvision.transforms") || c.starts_with("albumentations."))
                && (class == "Compose"
                    || (c.starts_with("torchvision.transforms")
                        && class.starts_with(|ch: char| ch.is_ascii_uppercase())))
        };
        if callee.is_some_and(composes) {
            self.compose_vars.push((target.to_string(), location));
        }
    }
}
