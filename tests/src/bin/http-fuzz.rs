//! `http-fuzz --target HOST:PORT [--cases N] [--seed S] [--io-timeout SECS] [--workers W]
//! [--route PATH] [--field NAME] [--input FILE]`: fuzzes a served module (wasm-migrate serve,
//! or a module under WasmEdge) and prints the report as JSON; exits 1 if any answer was
//! malformed, any case hung or the server stopped answering.

use std::process::ExitCode;
use std::time::Duration;

use wasm_migrate_tests::http_fuzz::{FuzzConfig, run};

fn main() -> ExitCode {
    match parse(std::env::args().skip(1).collect()) {
        Ok(config) => {
            let report = run(&config);
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            if report.clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(why) => {
            eprintln!("http-fuzz: {why}");
            ExitCode::from(2)
        }
    }
}

fn parse(args: Vec<String>) -> Result<FuzzConfig, String> {
    let mut config = FuzzConfig {
        target: "127.0.0.1:8080".parse().unwrap(),
        cases: 2000,
        seed: 1,
        io_timeout: Duration::from_secs(30),
        workers: 4,
        route: "/predict".into(),
        field: "image".into(),
        input: Vec::new(),
    };
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let number = |text: String| {
            text.parse::<f64>()
                .map_err(|e| format!("{flag} {text}: {e}"))
        };
        match flag.as_str() {
            "--target" => config.target = value()?.parse().map_err(|e| format!("--target: {e}"))?,
            "--cases" => config.cases = number(value()?)? as u64,
            "--seed" => config.seed = number(value()?)? as u64,
            "--io-timeout" => config.io_timeout = Duration::from_secs_f64(number(value()?)?),
            "--workers" => config.workers = number(value()?)? as usize,
            "--route" => config.route = value()?,
            "--field" => config.field = value()?,
            "--input" => {
                let path = value()?;
                config.input = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if config.input.is_empty() {
        config.input = b"\xff\xd8\xff\xe0 not quite a jpeg".to_vec();
    }
    Ok(config)
}
