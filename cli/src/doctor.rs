//! `wasm-migrate doctor`: what this machine has for a migration, and the fix for what it lacks.

use anyhow::Result;
use clap::{Args, ValueEnum};
use std::io::Write;
use wasm_migrate_runtime::doctor::{self, State};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    Text,
    Json,
}

/// Check the toolchain, the inference backends, Python environments and WasmEdge.
#[derive(Args)]
#[command(after_long_help = "Examples:\n  wasm-migrate doctor\n  \
wasm-migrate doctor --require openvino,onnxruntime,wasm32-wasip1   # for CI: exit 1 if any is missing\n  \
wasm-migrate doctor --format json\n\n\
Exit codes: 0, or 1 when a check named by --require is missing.")]
pub struct DoctorArgs {
    #[arg(long, value_enum, default_value_t = DoctorFormat::Text)]
    pub format: DoctorFormat,

    /// Checks that must pass (by name: rust, wasm32-wasip1, tract, openvino, onnxruntime,
    /// wasmedge, "wasi-nn plugin"); exit 1 when one is missing.
    #[arg(long, value_delimiter = ',', value_name = "CHECK,...")]
    pub require: Vec<String>,
}

pub fn run(args: DoctorArgs) -> Result<u8> {
    let report = doctor::run();
    for name in &args.require {
        if report.check(name).is_none() {
            anyhow::bail!(
                "--require {name}: no such check; the checks are {}",
                report
                    .checks
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let missing: Vec<&str> = args
        .require
        .iter()
        .filter(|n| report.check(n).is_some_and(|c| c.state == State::Missing))
        .map(String::as_str)
        .collect();
    match args.format {
        DoctorFormat::Json => {
            let mut value = serde_json::to_value(&report)?;
            value["schema"] = "wasm-migrate.doctor/1".into();
            value["required_missing"] = serde_json::to_value(&missing)?;
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        DoctorFormat::Text => {
            let mut out = anstream::stdout();
            let ok = anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Green.into()));
            let bad = anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Red.into()));
            let dim = anstyle::Style::new().dimmed();
            writeln!(
                out,
                "wasm-migrate {} (wasmtime {})",
                env!("CARGO_PKG_VERSION"),
                report.wasmtime
            )?;
            writeln!(out, "{dim}module cache: {}{dim:#}", report.cache_dir)?;
            let mut area = "";
            for check in &report.checks {
                if check.area != area {
                    area = check.area;
                    writeln!(out, "\n{area}")?;
                }
                let (mark, style) = match check.state {
                    State::Ok => ("ok", ok),
                    State::Missing => ("--", bad),
                };
                writeln!(
                    out,
                    "  {style}{mark}{style:#} {:<16} {}",
                    check.name, check.detail
                )?;
                if let Some(fix) = &check.fix {
                    writeln!(out, "     {dim}fix: {fix}{dim:#}")?;
                }
            }
            if !missing.is_empty() {
                writeln!(out, "\nrequired but missing: {}", missing.join(", "))?;
            }
        }
    }
    Ok(if missing.is_empty() {
        crate::exit::CLEAN
    } else {
        crate::exit::FINDINGS
    })
}
