//! `wasm-migrate`: move Python inference services off containers onto WebAssembly runtimes.
//!
//! The command line as a library, so that the Python package's console script runs exactly
//! the same CLI (`wasm_migrate_cli::run`).

pub mod analyze;
#[cfg(feature = "runtime")]
pub mod bench;
mod bundle;
#[cfg(feature = "runtime")]
pub mod doctor;
#[cfg(feature = "runtime")]
pub mod migrate;
#[cfg(feature = "runtime")]
mod observe;
mod progress;
#[cfg(feature = "runtime")]
pub mod run;
#[cfg(feature = "runtime")]
pub mod serve;
pub mod stages;
#[cfg(feature = "runtime")]
pub mod verify;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// A `--python` value, made absolute where it is a path (`codegen::given_python`).
pub(crate) fn python_path(value: &str) -> Result<PathBuf, String> {
    Ok(wasm_migrate_codegen::given_python(std::path::Path::new(
        value,
    )))
}

/// Exit codes that CI can trust (the analyzer's policy; every command uses them).
pub use wasm_migrate_analyzer::policy::exit;

#[derive(Parser)]
#[command(
    name = "wasm-migrate",
    version,
    about = "Move Python inference services off Linux containers onto WebAssembly runtimes (WasmEdge, wasi-nn)",
    long_about = "Move Python inference services (PyTorch, TensorFlow/Keras, ONNX Runtime, Hugging Face) \
off Linux containers onto WebAssembly runtimes such as WasmEdge, and prove the result gives the same answers.\n\n\
Start with `wasm-migrate migrate ./service`: it analyzes, generates, converts, builds and verifies \
in one go, reusing what is up to date, and stops with the next step where a person must decide. \
`wasm-migrate analyze ./service` alone reports what cannot run under WASI, finds the model, the \
preprocessing chain and the serving layer, and recommends a migration path.",
    after_help = "Exit codes of analyze: 0 clean, 1 findings at or above --fail-on, 2 usage or I/O error, 3 partial \
analysis; each command's --help gives its own.\n\
Colours follow NO_COLOR and CLICOLOR_FORCE; --color overrides both."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Analyze(analyze::AnalyzeArgs),
    /// Check a wasm-migrate.yaml plan: syntax, known values, and the line of every error.
    CheckPlan(analyze::CheckPlanArgs),
    /// List the code rules (built in, plus --rules DIR) with their category and targets.
    Rules(analyze::RulesArgs),
    #[cfg(feature = "runtime")]
    Migrate(migrate::MigrateArgs),
    Generate(stages::GenerateArgs),
    Convert(stages::ConvertArgs),
    Build(stages::BuildArgs),
    Inspect(stages::InspectArgs),
    Package(stages::PackageArgs),
    #[cfg(feature = "runtime")]
    Run(run::RunArgs),
    #[cfg(feature = "runtime")]
    Serve(serve::ServeArgs),
    #[cfg(feature = "runtime")]
    Doctor(doctor::DoctorArgs),
    #[cfg(feature = "runtime")]
    Verify(verify::VerifyArgs),
    #[cfg(feature = "runtime")]
    Bench(bench::BenchArgs),
    /// In a build without the embedded runtime (`--no-default-features`), `run`, `doctor` and
    /// `verify` say how to get it instead of being unknown.
    #[cfg(not(feature = "runtime"))]
    #[command(external_subcommand)]
    WithoutRuntime(Vec<OsString>),
}

/// The commands that need the embedded runtime.
#[cfg(not(feature = "runtime"))]
const RUNTIME_COMMANDS: [&str; 6] = ["migrate", "run", "serve", "doctor", "verify", "bench"];

#[cfg(not(feature = "runtime"))]
fn without_runtime(args: &[OsString]) -> anyhow::Result<u8> {
    let name = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default();
    if RUNTIME_COMMANDS.contains(&name.as_str()) {
        anyhow::bail!(
            "`{name}` needs the embedded runtime, which this build of wasm-migrate leaves out \
             (it was built with --no-default-features); build the whole tool with \
             `cargo install --path cli` or `cargo run --release -p wasm-migrate-cli -- {name} ...`"
        );
    }
    anyhow::bail!("unrecognized subcommand `{name}`; see `wasm-migrate --help`")
}

/// Parses `args` (the program name first) and runs the command. Returns the exit code; help,
/// version and usage errors are printed as clap prints them (usage errors exit 2).
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                exit::ERROR
            } else {
                exit::CLEAN
            };
        }
    };
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::CheckPlan(args) => analyze::check_plan(args),
        Command::Rules(args) => analyze::list_rules(args),
        #[cfg(feature = "runtime")]
        Command::Migrate(args) => migrate::run(args),
        Command::Generate(args) => stages::generate(args),
        Command::Convert(args) => stages::convert(args),
        Command::Build(args) => stages::build(args),
        Command::Inspect(args) => stages::inspect(args),
        Command::Package(args) => stages::package(args),
        #[cfg(feature = "runtime")]
        Command::Run(args) => run::run(args),
        #[cfg(feature = "runtime")]
        Command::Serve(args) => serve::run(args),
        #[cfg(feature = "runtime")]
        Command::Doctor(args) => doctor::run(args),
        #[cfg(feature = "runtime")]
        Command::Verify(args) => verify::run(args),
        #[cfg(feature = "runtime")]
        Command::Bench(args) => bench::run(args),
        #[cfg(not(feature = "runtime"))]
        Command::WithoutRuntime(args) => without_runtime(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            let mut stderr = anstream::stderr();
            let style = anstyle::Style::new()
                .bold()
                .fg_color(Some(anstyle::AnsiColor::Red.into()));
            use std::io::Write;
            let _ = writeln!(stderr, "{style}error{style:#}: {err:#}");
            exit::ERROR
        }
    }
}
