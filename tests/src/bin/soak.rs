//! `soak`: a long run of `wasm-migrate serve`, to show that nothing is lost and memory stays
//! flat. It starts serve on loopback, sends `--requests` uploads from `--concurrency` clients
//! (a connection each, as the module closes after answering), and samples serve's RSS and its
//! instances' linear memory every second.
//!
//!   soak APP.wasm --nn-preload NAME:ENCODING:TARGET:PATH --input photo.jpg
//!        [--route /predict] [--field image] [--requests 100000] [--concurrency 32]
//!        [--instances 4] [--backend tract] [--json report.json]
//!
//! Exits 1 if a request was lost or failed, or memory grew by more than 5% from the first
//! tenth of the run to the last.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasm_migrate_tests::soak::{Sample, SoakReport, Timed};

struct Args {
    module: PathBuf,
    preloads: Vec<String>,
    input: PathBuf,
    route: String,
    field: String,
    requests: u64,
    concurrency: usize,
    instances: u16,
    backend: String,
    json: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1).collect()) {
        Ok(args) => args,
        Err(why) => {
            eprintln!("soak: {why}");
            return ExitCode::from(2);
        }
    };
    match soak(&args) {
        Ok(report) => {
            print!("{}", report.text());
            if let Some(path) = &args.json {
                let text = serde_json::to_string_pretty(&report).unwrap_or_default();
                if let Err(e) = std::fs::write(path, text) {
                    eprintln!("soak: {}: {e}", path.display());
                }
            }
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(why) => {
            eprintln!("soak: {why}");
            ExitCode::from(2)
        }
    }
}

fn parse(args: Vec<String>) -> Result<Args, String> {
    let mut parsed = Args {
        module: PathBuf::new(),
        preloads: Vec::new(),
        input: PathBuf::new(),
        route: "/predict".into(),
        field: "image".into(),
        requests: 100_000,
        concurrency: 32,
        instances: 4,
        backend: "tract".into(),
        json: None,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--nn-preload" => parsed.preloads.push(value()?),
            "--input" => parsed.input = value()?.into(),
            "--route" => parsed.route = value()?,
            "--field" => parsed.field = value()?,
            "--requests" => {
                parsed.requests = value()?.parse().map_err(|e| format!("--requests: {e}"))?
            }
            "--concurrency" => {
                parsed.concurrency = value()?
                    .parse()
                    .map_err(|e| format!("--concurrency: {e}"))?
            }
            "--instances" => {
                parsed.instances = value()?.parse().map_err(|e| format!("--instances: {e}"))?
            }
            "--backend" => parsed.backend = value()?,
            "--json" => parsed.json = Some(value()?.into()),
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}")),
            module => parsed.module = module.into(),
        }
    }
    if parsed.module.as_os_str().is_empty() || parsed.input.as_os_str().is_empty() {
        return Err("give the module and --input FILE (see the source's header)".into());
    }
    Ok(parsed)
}

/// wasm-migrate beside this binary, else on PATH.
fn wasm_migrate() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("wasm-migrate")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| "wasm-migrate".into())
}

fn soak(args: &Args) -> Result<SoakReport, String> {
    let mut command = Command::new(wasm_migrate());
    command
        .arg("serve")
        .arg(&args.module)
        .args([
            "--port",
            "0",
            "--quiet",
            "--ready-json",
            "--stats-every",
            "1",
        ])
        .args([
            "--instances",
            &args.instances.to_string(),
            "--backend",
            &args.backend,
        ]);
    for preload in &args.preloads {
        command.args(["--nn-preload", preload]);
    }
    let mut serve = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start wasm-migrate serve: {e}"))?;
    let pid = serve.id();
    let mut lines = BufReader::new(serve.stdout.take().unwrap()).lines();
    let address: SocketAddr = loop {
        let line = lines
            .next()
            .ok_or("serve ended before serving")?
            .map_err(|e| e.to_string())?;
        if let Some(ready) = wasm_migrate_runtime::ReadyLine::find(&line) {
            break ready.address.parse().map_err(|e| format!("{e}"))?;
        }
    };
    let linear = Arc::new(AtomicU64::new(0));
    {
        let linear = linear.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(stats) = serde_json::from_str::<serde_json::Value>(&line)
                    && let Some(bytes) = stats["linear_memory_bytes"].as_u64()
                {
                    linear.store(bytes, Ordering::Relaxed);
                }
            }
        });
    }
    let request = upload(args)?;
    let started = Instant::now();
    let next = AtomicU64::new(0);
    let answered = AtomicU64::new(0);
    let samples = Mutex::new(Vec::new());
    let timed: Vec<Timed> = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            while answered.load(Ordering::Relaxed) < args.requests {
                std::thread::sleep(Duration::from_secs(1));
                samples.lock().unwrap().push(Sample {
                    seconds: started.elapsed().as_secs_f64(),
                    answered: answered.load(Ordering::Relaxed),
                    rss_kib: rss_kib(pid),
                    linear_memory_bytes: linear.load(Ordering::Relaxed),
                });
            }
        });
        let clients: Vec<_> = (0..args.concurrency)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    while next.fetch_add(1, Ordering::Relaxed) < args.requests {
                        let sent = started.elapsed();
                        let status = exchange(address, &request);
                        mine.push(Timed {
                            seconds: sent.as_secs_f64(),
                            latency_ms: (started.elapsed() - sent).as_secs_f64() * 1e3,
                            status,
                        });
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                    mine
                })
            })
            .collect();
        let timed = clients
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect();
        let _ = sampler.join();
        timed
    });
    let seconds = started.elapsed().as_secs_f64();
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(pid as i32, libc::SIGTERM);
    }
    let _ = serve.wait();
    Ok(SoakReport::new(
        args.requests,
        args.concurrency,
        args.instances,
        seconds,
        timed,
        samples.into_inner().unwrap(),
    ))
}

fn upload(args: &Args) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(&args.input).map_err(|e| format!("{}: {e}", args.input.display()))?;
    let boundary = "soak-boundary";
    let mut body = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"{}\"; filename=\"input\"\r\n\r\n",
        args.field
    )
    .into_bytes();
    body.extend_from_slice(&bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut request = format!(
        "POST {} HTTP/1.1\r\nhost: soak\r\ncontent-type: multipart/form-data; boundary={boundary}\r\ncontent-length: {}\r\n\r\n",
        args.route,
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    Ok(request)
}

/// The answer's status, or 0 when there was none.
fn exchange(address: SocketAddr, request: &[u8]) -> u16 {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(30)) else {
        return 0;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    if stream.write_all(request).is_err() {
        return 0;
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}
