//! `wasm-migrate analyze`, `check-plan` and `rules`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use wasm_migrate_analyzer::error::write_atomic;
use wasm_migrate_analyzer::plan::{self, LoadedPlan};
use wasm_migrate_analyzer::render::{self, Format};
use wasm_migrate_analyzer::{FailOn, Knowledge, Options, Report, Target};
use wasm_migrate_plan::PlanCheck;

use crate::exit;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Report what stands between a Python inference service and WebAssembly.
///
/// Parses every Python file and dependency manifest, flags what cannot run under
/// WASI/WasmEdge (with why and what to do instead), finds the model loading, the
/// preprocessing chain and the serving layer, and recommends a path: Rust wasi-nn
/// glue, Python-in-Wasm, or stay on containers.
///
/// Examples:
///   wasm-migrate analyze ./service
///   wasm-migrate analyze ./service --write-plan
///   wasm-migrate analyze ./service --format sarif --output results.sarif
///   wasm-migrate analyze app.py --format json | jq .recommendation
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct AnalyzeArgs {
    /// A service directory or a single Python file.
    pub path: PathBuf,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report to FILE instead of standard output (atomically).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the migration plan (wasm-migrate.yaml) next to the service.
    #[arg(long)]
    pub write_plan: bool,
    /// Overwrite an existing plan or output file.
    #[arg(long)]
    pub force: bool,
    /// Exit 1 when a finding of this category or above applies to the target path.
    #[arg(long, value_enum, default_value = "mandatory")]
    pub fail_on: FailOn,
    /// The path whose findings decide the exit code.
    #[arg(long, value_enum, default_value = "auto")]
    pub target: Target,
    /// A directory of extra rules (*.yaml) and package entries (packages*.yaml).
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// The file production starts (`app/main.py`), when the one found from the Dockerfile,
    /// Procfile or server command is not the one to migrate. Files it does not import are
    /// reported apart and do not change the verdict.
    #[arg(long, value_name = "FILE")]
    pub entrypoint: Option<String>,
    /// The folder of PATH that is the service, when PATH is a repository holding several
    /// (each started by its own Dockerfile or Procfile); analyze names them when it is.
    #[arg(long = "service", value_name = "DIR")]
    pub service_dir: Option<PathBuf>,
    /// Skip Python files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = wasm_migrate_analyzer::DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    /// When to use colours in the text report.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// Print nothing but the report (no progress, no summary on stderr).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(mut args: AnalyzeArgs) -> Result<u8> {
    match &args.service_dir {
        Some(dir) => {
            args.path = wasm_migrate_app::services::pick(&args.path, dir)
                .map_err(|e| anyhow::anyhow!(e))?;
        }
        None => {
            let folders = wasm_migrate_app::services::service_folders(&args.path);
            if !folders.is_empty() && !args.quiet {
                let listed: Vec<String> = folders.iter().map(|f| f.display().to_string()).collect();
                eprintln!(
                    "note: {} holds {} services ({}); this analysis reads them as one: analyze \
                     one with --service DIR",
                    args.path.display(),
                    folders.len(),
                    listed.join(", ")
                );
            }
        }
    }
    let options = wasm_migrate_app::analysis(Options {
        rules_dir: args.rules.clone(),
        max_file_size: args.max_file_size,
        entrypoint: args.entrypoint.clone(),
        plan_check: None,
    });
    let knowledge = Knowledge::load(options.rules_dir.as_deref())?;
    let progress = Progress::new(args.quiet);
    let report =
        wasm_migrate_analyzer::analyze_with(&args.path, &options, &knowledge, &|done, total| {
            progress.update(done, total)
        })?;
    progress.finish();

    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let rendered = render::render(&report, args.format, color)?;
    match &args.output {
        Some(file) => write_atomic(file, rendered.as_bytes(), args.force)?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(rendered.as_bytes())?;
            if !rendered.ends_with('\n') {
                out.write_all(b"\n")?;
            }
        }
    }

    if args.write_plan {
        let plan_path = plan::location_for(&args.path);
        let yaml = report.plan.to_commented_yaml()?;
        write_atomic(&plan_path, yaml.as_bytes(), args.force)?;
        if !args.quiet {
            eprintln!("wrote {}", plan_path.display());
        }
    }
    let text_to_stdout = matches!(args.format, Format::Text) && args.output.is_none();
    if !args.quiet && !text_to_stdout {
        eprintln!("{}", summary_line(&report));
    }
    Ok(report.exit_code(args.fail_on, args.target))
}

fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    format!(
        "{} files seen, {} parsed, {} failed, {} Python lines, {} findings ({} mandatory, {} optional, {} potential) in {:.2}s",
        s.files_seen,
        s.files_parsed,
        s.files_failed,
        s.python_lines,
        s.findings_mandatory + s.findings_optional + s.findings_potential,
        s.findings_mandatory,
        s.findings_optional,
        s.findings_potential,
        s.elapsed_ms as f64 / 1000.0
    )
}

/// A progress bar on stderr that appears only when the analysis takes over a second.
struct Progress {
    enabled: bool,
    started: Instant,
    bar: OnceLock<ProgressBar>,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
            started: Instant::now(),
            bar: OnceLock::new(),
        }
    }

    fn update(&self, done: usize, total: usize) {
        if !self.enabled || self.started.elapsed() < Duration::from_secs(1) {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} analyzing {pos}/{len} files [{elapsed}] {wide_bar}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        bar.set_position(done as u64);
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}

/// Validates a plan file (or the plan in a service directory).
#[derive(Args)]
pub struct CheckPlanArgs {
    /// wasm-migrate.yaml, or the service directory holding it.
    pub path: PathBuf,
}

pub fn check_plan(args: CheckPlanArgs) -> Result<u8> {
    let file = wasm_migrate_plan::resolve(&args.path);
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("{}: cannot read the plan", file.display()))?;
    let loaded = LoadedPlan::parse(file.clone(), text)?;
    // `generate`'s dry run, the check `analyze` runs on the plans it writes: every step maps to
    // Rust, every parameter has a value, the model artifact exists, the target takes the
    // input, convert converts the framework. Nothing is written.
    let service = file.parent().unwrap_or(std::path::Path::new("."));
    let refusals = wasm_migrate_codegen::GlueCheck {
        require_artifact: true,
    }
    .refusals(service, &loaded);
    for refusal in &refusals {
        let at = refusal.line.map(|l| format!(":{l}")).unwrap_or_default();
        eprintln!(
            "{}{at}: {} would refuse it: {}",
            file.display(),
            refusal.stage.as_str(),
            refusal.message
        );
    }
    if !refusals.is_empty() {
        return Err(anyhow::anyhow!(
            "{}: {} refusal(s); change the plan lines named above",
            file.display(),
            refusals.len()
        ));
    }
    let plan = loaded.plan;
    println!(
        "{}: valid plan for `{}` (target {} on {} {}); `generate` would accept it",
        file.display(),
        plan.service.name,
        plan.target.path.as_str(),
        plan.target.runtime,
        plan.target.runtime_version
    );
    Ok(exit::CLEAN)
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ListFormat {
    /// One line per rule.
    Text,
    /// The rules as the YAML defines them, in JSON.
    Json,
}

#[derive(Args)]
pub struct RulesArgs {
    /// A directory of extra rules, as for `analyze --rules`.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: ListFormat,
}

pub fn list_rules(args: RulesArgs) -> Result<u8> {
    let knowledge = Knowledge::load(args.rules.as_deref())?;
    let rules = knowledge.rules.rules();
    match args.format {
        ListFormat::Json => println!("{}", serde_json_string(rules)?),
        ListFormat::Text => {
            for r in rules {
                let targets: Vec<&str> = r.targets().iter().map(|t| t.as_str()).collect();
                println!(
                    "{:<36} {:<9} effort {:>2}  {}",
                    r.id,
                    r.category.as_str(),
                    r.effort,
                    targets.join(",")
                );
            }
            println!(
                "{} rules, {} packages in the knowledge base",
                rules.len(),
                knowledge.packages.len()
            );
        }
    }
    Ok(exit::CLEAN)
}

fn serde_json_string<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    Ok(serde_json::to_string_pretty(value)?)
}
