//! The migrated module as a server: `verify --http` against each sample's original started
//! with its real server (Flask, uvicorn, gunicorn with two workers), a bounded load test on
//! `wasm-migrate serve`, bad requests, and a graceful stop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use wasm_migrate_tests::flow::{migrate, migrate_fixture, python, wm};
use wasm_migrate_tests::{binary, python_env};

/// `verify SERVICE --http --format json`, which must pass; the report.
fn verify_http(service: &Path, backend: &str) -> Value {
    verify_http_on(service, backend, "embedded")
}

/// The same with the module served on `host`'s terms (`wasmedge@0.17`).
fn verify_http_on(service: &Path, backend: &str, host: &str) -> Value {
    let output = wm(&[
        "verify",
        service.to_str().unwrap(),
        "--http",
        "--count",
        "4",
        "--backend",
        backend,
        "--like",
        host,
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    assert!(
        output.status.success() && report["equivalent"] == true,
        "verify --http failed ({:?}):\n{}\n{}",
        output.status.code(),
        serde_json::to_string_pretty(&report).unwrap(),
        String::from_utf8_lossy(&output.stderr)
    );
    report
}

/// The exchanges of one kind (`input`, `health`, `missing-field`...).
fn exchanges<'r>(report: &'r Value, kind: &str) -> Vec<&'r Value> {
    report["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

fn body(answer: &Value) -> Value {
    serde_json::from_str(answer["body"].as_str().unwrap()).unwrap_or(Value::Null)
}

/// What every report must show: every input answered 200 alike, and the bad requests
/// answered as the original answers them.
fn assert_served_alike(report: &Value, bad: &[&str]) {
    let inputs = exchanges(report, "input");
    assert!(inputs.len() >= 4, "{report:#}");
    for exchange in &inputs {
        assert_eq!(exchange["original"]["status"], 200, "{exchange:#}");
        assert_eq!(exchange["migrated"]["status"], 200, "{exchange:#}");
        // The bytes after the JSON too (Flask's jsonify ends with a newline, FastAPI not).
        let trailer = |side: &str| {
            let body = exchange[side]["body"].as_str().unwrap();
            body[body.trim_end().len()..].to_string()
        };
        assert_eq!(trailer("migrated"), trailer("original"), "{exchange:#}");
    }
    for kind in bad {
        let found = exchanges(report, kind);
        assert_eq!(found.len(), 1, "no `{kind}` request in {report:#}");
        let status = found[0]["original"]["status"].as_u64().unwrap();
        assert!(status >= 400, "{kind}: the original answered {status}");
        assert_eq!(
            found[0]["migrated"]["status"],
            found[0]["original"]["status"]
        );
    }
}

/// The original ran under `server` (its real server, not a test client).
fn assert_started_with(report: &Value, server: &str) {
    let command = report["original_command"].as_array().unwrap();
    assert!(command.iter().any(|t| t == server), "{report:#}");
}

#[test]
fn a_flask_service_answers_alike_over_http_from_its_own_server_on_wasmedge_terms() {
    let (_dir, service) = migrate("torchvision-flask");
    // As WasmEdge 0.17 serves it: no host deadlines, f32 only, a fresh request per input.
    let report = verify_http_on(&service, "openvino", "wasmedge@0.17");
    assert_eq!(report["host"], "wasmedge@0.17");
    assert_started_with(&report, "flask");
    assert_served_alike(
        &report,
        &[
            "missing-field",
            "not-decodable",
            "not-found",
            "wrong-method",
        ],
    );
    assert_eq!(exchanges(&report, "health")[0]["agree"], true);
    // The body is the original's shape: three predictions with label, index and a score
    // rounded to 6 digits, as app.py builds it.
    let answer = body(&exchanges(&report, "input")[0]["migrated"]);
    let predictions = answer["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 3, "{answer}");
    let score = predictions[0]["score"].as_f64().unwrap();
    assert_eq!(score, (score * 1e6).round() / 1e6, "{answer}");
    assert!(predictions[0]["label"].is_string() && predictions[0]["index"].is_u64());
}

#[test]
fn a_fastapi_keras_service_answers_alike_over_http_from_uvicorn() {
    let (_dir, service) = migrate("keras-fastapi");
    let report = verify_http(&service, "openvino");
    assert_started_with(&report, "uvicorn");
    // FastAPI's own 422 for a missing upload and 404/405 JSON.
    assert_served_alike(
        &report,
        &[
            "missing-field",
            "not-decodable",
            "not-found",
            "wrong-method",
        ],
    );
    let missing = &exchanges(&report, "missing-field")[0];
    assert_eq!(missing["original"]["status"], 422);
    // main.py echoes the upload's file name: the module answers with the name it was sent.
    let input = &exchanges(&report, "input")[0];
    assert_eq!(
        body(&input["migrated"])["filename"],
        body(&input["original"])["filename"]
    );
    assert!(
        input["request"]
            .as_str()
            .unwrap()
            .contains(body(&input["migrated"])["filename"].as_str().unwrap())
    );
    assert_eq!(body(&missing["migrated"]), body(&missing["original"]));
}

#[test]
fn a_gunicorn_service_with_two_workers_answers_alike_over_http() {
    let (_dir, service) = migrate("onnxruntime-service");
    let plan = std::fs::read_to_string(service.join("wasm-migrate.yaml")).unwrap();
    assert!(
        plan.contains("kind: gunicorn") && plan.contains("workers: 2"),
        "{plan}"
    );
    // The class names are in the code (CLASS_NAMES), not a file: convert found them, so the
    // label is the module's own, not the one every observed photograph happened to get.
    assert!(plan.contains("label:\n        $: label"), "{plan}");
    assert!(plan.contains("  labels:\n  - indoor\n  - street"), "{plan}");
    let report = verify_http(&service, "onnxruntime");
    assert_started_with(&report, "gunicorn");
    // As many instances as the original had workers.
    assert_eq!(report["instances"], 2);
    assert_served_alike(&report, &["not-decodable", "not-found", "wrong-method"]);
}

#[test]
fn a_classic_flask_package_under_gunicorn_answers_alike_with_its_own_error_pages() {
    // `webapp:app` from a Procfile binding $PORT, the model built on the first request, and
    // Flask's own HTML pages for a missing field (400) and an image PIL cannot open (500).
    let (_dir, service) = migrate_fixture("flask-classic");
    let report = verify_http(&service, "tract");
    assert_started_with(&report, "gunicorn");
    assert_served_alike(
        &report,
        &[
            "missing-field",
            "not-decodable",
            "not-found",
            "wrong-method",
        ],
    );
    let broken = &exchanges(&report, "not-decodable")[0];
    assert_eq!(broken["original"]["status"], 500, "{broken:#}");
    let answer = body(&exchanges(&report, "input")[0]["migrated"]);
    assert!(
        answer["top"].is_u64() && answer["scores"].as_array().unwrap().len() == 6,
        "{answer}"
    );
}

#[test]
fn the_text_service_answers_alike_over_http_from_uvicorn_on_wasmedge_terms() {
    let (_dir, service) = migrate("hf-text-classifier");
    // WasmEdge refuses i64 and keeps one input: the stacked f32 tensor passes both.
    let report = verify_http_on(&service, "openvino", "wasmedge@0.17");
    assert_eq!(report["host"], "wasmedge@0.17");
    // A JSON body without `text`: pydantic's 422.
    assert_served_alike(&report, &["missing-field", "not-found", "wrong-method"]);
    let answer = body(&exchanges(&report, "input")[0]["migrated"]);
    assert!(answer["label"].is_string(), "{answer}");
    assert_eq!(answer["scores"].as_object().unwrap().len(), 2, "{answer}");
}

/// `wasm-migrate serve` on a migrated sample, as a child process, with its address.
struct Served {
    child: Child,
    address: SocketAddr,
    /// serve's standard error after the line that said where it serves.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Served {
    fn start(service: &Path, instances: u16, extra: &[&str]) -> Served {
        let glue = service.join("migrated");
        let onnx = glue.join("model/model.onnx");
        let preload = format!("model:onnx:cpu:{}", onnx.display());
        let instances = instances.to_string();
        let mut child = Command::new(binary())
            .args([
                "serve",
                glue.join("app.wasm").to_str().unwrap(),
                "--port",
                "0",
            ])
            .args(["--instances", &instances, "--nn-preload", &preload])
            .args(extra)
            .env("VIRTUAL_ENV", python_env())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let started = Instant::now();
        let address = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("serve ended before serving"))
                .unwrap();
            // The instances print on the same stderr, and their lines are written in pieces:
            // the note may follow part of one of theirs.
            if let Some(rest) = line.split("wasm-migrate: serving http://").nth(1) {
                break rest.split_whitespace().next().unwrap().parse().unwrap();
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "serve did not start"
            );
        };
        // Keep draining stderr so the child never blocks on a full pipe.
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            lines
                .map_while(Result::ok)
                .for_each(|line| kept.lock().unwrap().push(line))
        });
        Served {
            child,
            address,
            log,
        }
    }

    /// How serve ended, which must be within `limit`.
    fn ended_within(&mut self, limit: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "serve did not end within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One raw HTTP/1.1 exchange: the status and body, or what went wrong.
fn exchange(address: SocketAddr, request: &[u8]) -> Result<(u16, String), String> {
    let mut stream =
        TcpStream::connect_timeout(&address, Duration::from_secs(10)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
        .write_all(request)
        .map_err(|e| format!("write: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or(format!("no answer: {text:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(format!("bad status line: {head}"))?;
    Ok((status, body.to_string()))
}

fn upload(field: &str, bytes: &[u8]) -> Vec<u8> {
    upload_to("/infer", field, bytes)
}

/// A multipart upload of `bytes` as form field `field` to `path`.
fn upload_to(path: &str, field: &str, bytes: &[u8]) -> Vec<u8> {
    let boundary = "test-boundary-42";
    let mut body = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"{field}\"; filename=\"x.jpg\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nhost: test\r\ncontent-type: multipart/form-data; boundary={boundary}\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    request
}

/// Two photographs from skimage.data, as JPEG.
fn photographs(dir: &Path) -> Vec<PathBuf> {
    let script = dir.join("make.py");
    std::fs::write(
        &script,
        "import sys, skimage.data\nfrom PIL import Image\n\
         Image.fromarray(skimage.data.chelsea()).save(sys.argv[1] + '/a.jpg', quality=90)\n\
         Image.fromarray(skimage.data.coffee()).save(sys.argv[1] + '/b.jpg', quality=90)\n",
    )
    .unwrap();
    python(&[&script, dir]);
    vec![dir.join("a.jpg"), dir.join("b.jpg")]
}

#[test]
fn serve_answers_800_requests_at_concurrency_16_and_memory_stays_flat() {
    // Two rounds: the first fills the instances' pools, the second may not grow the process.
    // The long run (100,000 requests, RSS and linear memory) is the soak benchmark (README).
    const ROUND: usize = 400;
    let (dir, service) = migrate("onnxruntime-service");
    let requests: Vec<Vec<u8>> = photographs(dir.path())
        .iter()
        .map(|p| upload("image", &std::fs::read(p).unwrap()))
        .collect();
    let served = Served::start(&service, 4, &[]);
    let address = served.address;
    // What each photograph must get, asked one at a time.
    let expected: Vec<(u16, String)> = requests
        .iter()
        .map(|r| exchange(address, r).unwrap())
        .collect();
    assert!(
        expected.iter().all(|(status, _)| *status == 200),
        "{expected:?}"
    );
    let round = |count: usize| {
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..16)
                .map(|worker| {
                    let (requests, expected) = (&requests, &expected);
                    scope.spawn(move || {
                        let mut wrong = Vec::new();
                        for i in 0..count / 16 {
                            let which = (worker + i) % requests.len();
                            match exchange(address, &requests[which]) {
                                Ok(answer) if answer == expected[which] => {}
                                other => wrong.push(format!("{other:?}")),
                            }
                        }
                        wrong
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect::<Vec<String>>()
        })
    };
    let wrong = round(ROUND);
    assert!(
        wrong.is_empty(),
        "{} of {ROUND} wrong: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(3)]
    );
    let after_first = served.rss_kib();
    let wrong = round(ROUND);
    assert!(
        wrong.is_empty(),
        "{} of {ROUND} wrong: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(3)]
    );
    let after_second = served.rss_kib();
    eprintln!(
        "serve RSS: {after_first} KiB after {ROUND} requests, {after_second} KiB after twice that"
    );
    // Flat: the second round may not grow the process by more than 5% (allocator noise).
    assert!(
        after_second <= after_first + after_first / 20,
        "RSS grew from {after_first} KiB to {after_second} KiB over the second {ROUND} requests"
    );
}

/// An instance whose memory grew while answering is replaced by a fresh one once it is idle:
/// the host's linear memory goes back to what the instances held when they were ready, the
/// replacement answers alike, and it does not announce itself again.
#[test]
fn an_idle_instance_gives_its_memory_back_and_its_replacement_answers_alike() {
    let (dir, service) = migrate("onnxruntime-service");
    let requests: Vec<Vec<u8>> = photographs(dir.path())
        .iter()
        .map(|p| upload("image", &std::fs::read(p).unwrap()))
        .collect();
    let glue = service.join("migrated");
    let preload = format!("model:onnx:cpu:{}", glue.join("model/model.onnx").display());
    let mut child = Command::new(binary())
        .args(["serve", glue.join("app.wasm").to_str().unwrap()])
        .args(["--port", "0", "--instances", "2", "--nn-preload", &preload])
        .args(["--ready-json", "--quiet", "--stats-every", "0.1"])
        .env("VIRTUAL_ENV", python_env())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let (lines, received) = std::sync::mpsc::channel::<Value>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(value) = serde_json::from_str(&line) {
                let _ = lines.send(value);
            }
        }
    });
    let next = |event: &str| loop {
        let line = received.recv_timeout(Duration::from_secs(60)).unwrap();
        if line["event"] == event {
            return line;
        }
    };
    let address: SocketAddr = next("serving")["address"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // The instances' memory once it stops changing (the line above waits for the first
    // instance only): three stats lines alike.
    let settled = || {
        let mut last = Vec::new();
        loop {
            let line = next("stats");
            last.push(line["linear_memory_bytes"].as_u64().unwrap());
            if last.len() >= 3
                && last[last.len() - 3..]
                    .iter()
                    .all(|m| *m == last[last.len() - 1])
            {
                return line;
            }
        }
    };
    let ready_memory = settled()["linear_memory_bytes"].as_u64().unwrap();
    let answers: Vec<(u16, String)> = requests
        .iter()
        .chain(&requests)
        .map(|r| exchange(address, r).unwrap())
        .collect();
    assert!(
        answers.iter().all(|(status, _)| *status == 200),
        "{answers:?}"
    );
    assert_eq!(answers[..requests.len()], answers[requests.len()..]);
    // Idle now: an instance that saw the next client coming gives up waiting after a poll
    // interval with none, so the memory comes back within a few stats lines.
    let deadline = Instant::now() + Duration::from_secs(5);
    let idle = loop {
        let line = next("stats");
        if line["linear_memory_bytes"].as_u64() == Some(ready_memory) || Instant::now() > deadline {
            break line;
        }
    };
    assert_eq!(idle["accepted"], answers.len() as u64, "{idle}");
    // Answering grew the instances' memory, so they were replaced once idle.
    assert!(idle["recycled"].as_u64().unwrap() >= 1, "{idle}");
    assert_eq!(
        idle["linear_memory_bytes"].as_u64().unwrap(),
        ready_memory,
        "the instances hold more than when they were ready: {idle}"
    );
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(child.wait().unwrap().success(), "{stderr}");
    assert_eq!(stderr.matches("route(s) on http://").count(), 2, "{stderr}");
}

#[test]
fn bad_requests_and_stalled_clients_on_wasmedge_terms_get_an_answer_and_the_instance_keeps_serving()
{
    let (dir, service) = migrate("onnxruntime-service");
    let photo = &photographs(dir.path())[0];
    // One instance: every request below reaches the same one. On WasmEdge's terms the host
    // drops no client: the deadlines below are the module's own (IO_TIMEOUT_SECS).
    let served = Served::start(
        &service,
        1,
        &["--io-timeout", "2", "--like", "wasmedge@0.17"],
    );
    let address = served.address;
    let good = upload("image", &std::fs::read(photo).unwrap());
    // The original's answers: JSON errors from the service, Flask's own HTML 404 page.
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("garbage", b"\x16\x03\x01 not http at all\r\n\r\n".to_vec(), 400),
        ("not an image", upload("image", b"plain text"), 400),
        ("no such path", b"GET /nope HTTP/1.1\r\nhost: t\r\n\r\n".to_vec(), 404),
        (
            "body over the limit",
            b"POST /infer HTTP/1.1\r\nhost: t\r\ncontent-type: image/jpeg\r\ncontent-length: 999999999\r\n\r\nxx"
                .to_vec(),
            413,
        ),
        ("bad content-length", b"POST /infer HTTP/1.1\r\ncontent-length: lots\r\n\r\n".to_vec(), 400),
    ];
    for (what, request, status) in cases {
        let answer = exchange(address, &request).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(answer.0, status, "{what}: {answer:?}");
        match status {
            404 => assert!(answer.1.contains("Not Found"), "{what}: {:?}", answer.1),
            _ => assert!(
                answer.1.starts_with('{'),
                "{what}: a JSON error, got {:?}",
                answer.1
            ),
        }
    }
    // A chunked upload is read whole.
    let (head, body) = good.split_at(good.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4);
    let head = String::from_utf8_lossy(head).replace(
        &format!("content-length: {}\r\n", body.len()),
        "transfer-encoding: chunked\r\n",
    );
    let mut chunked = head.into_bytes();
    for piece in body.chunks(1000) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let expected = exchange(address, &good).unwrap();
    assert_eq!(expected.0, 200);
    assert_eq!(exchange(address, &chunked).unwrap(), expected);
    // A client that stalls mid-request is dropped after --io-timeout; the next is served.
    let mut stalled = TcpStream::connect(address).unwrap();
    stalled
        .write_all(b"POST /infer HTTP/1.1\r\ncontent-length: 100\r\n\r\nabc")
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(exchange(address, &good).unwrap(), expected);
    // A client that connects and sends nothing holds the instance for one timeout at most.
    let _silent = TcpStream::connect(address).unwrap();
    let started = Instant::now();
    assert_eq!(exchange(address, &good).unwrap(), expected);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    // One that trickles its head a byte at a time gets 408 once the head's deadline passes,
    // though each byte comes well within the read deadline.
    let mut trickle = TcpStream::connect(address).unwrap();
    trickle
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    for byte in b"GET /health HTTP/1.1\r\nx-slow: ".iter().cycle() {
        if trickle.write_all(&[*byte]).is_err() || started.elapsed() > Duration::from_secs(8) {
            break;
        }
        std::thread::sleep(Duration::from_millis(400));
        let mut peek = [0u8; 1];
        trickle.set_nonblocking(true).unwrap();
        let answered = trickle.peek(&mut peek).is_ok_and(|n| n > 0);
        trickle.set_nonblocking(false).unwrap();
        if answered {
            break;
        }
    }
    let mut answer = String::new();
    let _ = trickle.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "{answer:?} after {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(exchange(address, &good).unwrap(), expected);
}

#[test]
fn on_wasmedge_terms_sigterm_ends_serve_at_once() {
    use std::os::unix::process::ExitStatusExt;
    let (_dir, service) = migrate("onnxruntime-service");
    let mut served = Served::start(&service, 1, &["--like", "wasmedge@0.17"]);
    // A request in flight (its body not all sent): WasmEdge has no handler for SIGTERM, so
    // the process ends without answering it, as the deploy files' drain assumes.
    let mut in_flight = TcpStream::connect(served.address).unwrap();
    in_flight
        .write_all(b"POST /infer HTTP/1.1\r\ncontent-length: 100\r\n\r\nabc")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(served.child.id() as i32, libc::SIGTERM);
    }
    let status = served.ended_within(Duration::from_secs(5));
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    let mut answer = Vec::new();
    let _ = in_flight.read_to_end(&mut answer);
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
}

#[test]
fn serve_stops_on_sigterm_after_answering() {
    let (dir, service) = migrate("onnxruntime-service");
    let photo = &photographs(dir.path())[0];
    let mut served = Served::start(&service, 2, &[]);
    let good = upload("image", &std::fs::read(photo).unwrap());
    let expected = exchange(served.address, &good).unwrap();
    assert_eq!(expected.0, 200);
    // Eight requests sent (more than the two instances take at once), then SIGTERM: every
    // one of them is still answered, queued or in flight.
    let sent = std::sync::Barrier::new(9);
    let answers = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..8)
            .map(|_| {
                let (good, sent, address) = (&good, &sent, served.address);
                scope.spawn(move || {
                    let mut stream = TcpStream::connect(address).unwrap();
                    stream.write_all(good).unwrap();
                    sent.wait();
                    let mut answer = Vec::new();
                    stream.read_to_end(&mut answer).map(|_| answer)
                })
            })
            .collect();
        sent.wait();
        // SAFETY: signalling our own child.
        unsafe {
            libc::kill(served.child.id() as i32, libc::SIGTERM);
        }
        clients
            .into_iter()
            .map(|c| c.join().unwrap())
            .collect::<Vec<_>>()
    });
    for answer in answers {
        let answer = String::from_utf8(answer.expect("an answer")).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with(&expected.1),
            "{answer}"
        );
    }
    let status = served.ended_within(Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_request_past_the_timeout_gets_504_and_the_instance_is_replaced() {
    // ResNet-18 on tract takes far longer than one 10 ms tick of the request timeout.
    let (dir, service) = migrate("torchvision-flask");
    let photo = &photographs(dir.path())[0];
    let served = Served::start(&service, 1, &["--request-timeout", "0.001"]);
    let slow = upload_to("/predict", "image", &std::fs::read(photo).unwrap());
    for attempt in 0..2 {
        let (status, body) = exchange(served.address, &slow).unwrap();
        assert_eq!(status, 504, "attempt {attempt}: {body}");
        assert!(body.contains("request timeout"), "{body}");
    }
}

#[test]
fn serve_refuses_a_module_that_cannot_serve_with_its_reason() {
    let (_dir, service) = migrate("onnxruntime-service");
    // No model preloaded: the module says so, and serve ends instead of hanging.
    let glue = service.join("migrated");
    let output = Command::new(binary())
        .args([
            "serve",
            glue.join("app.wasm").to_str().unwrap(),
            "--port",
            "0",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no model preloaded"), "{stderr}");
}

/// Sends `request` a byte at a time, one byte every `gap`, until the server answers or closes
/// (or `limit` passes); what it answered.
fn trickle(address: SocketAddr, request: &[u8], gap: Duration, limit: Duration) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    let started = Instant::now();
    for byte in request.iter().cycle() {
        if stream.write_all(&[*byte]).is_err() || started.elapsed() > limit {
            break;
        }
        std::thread::sleep(gap);
        stream.set_nonblocking(true).unwrap();
        let mut peek = [0u8; 1];
        let ended =
            !matches!(stream.peek(&mut peek), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
        stream.set_nonblocking(false).unwrap();
        if ended {
            break;
        }
    }
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// Status of a raw answer, 0 for none.
fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn hostile_clients_get_an_answer_or_a_close_while_ordinary_clients_are_served_in_bounded_time() {
    let (dir, service) = migrate("onnxruntime-service");
    let photo = &photographs(dir.path())[0];
    let served = Served::start(&service, 2, &["--io-timeout", "2"]);
    let address = served.address;
    let good = upload("image", &std::fs::read(photo).unwrap());
    let expected = exchange(address, &good).unwrap();
    assert_eq!(expected.0, 200);
    // Ordinary clients, alongside whatever hostile ones run: each answered, and quickly.
    let ordinary = |what: &str| {
        for _ in 0..3 {
            let started = Instant::now();
            assert_eq!(exchange(address, &good).unwrap(), expected, "{what}");
            assert!(
                started.elapsed() < Duration::from_secs(8),
                "{what}: an ordinary request took {:?}",
                started.elapsed()
            );
        }
    };
    std::thread::scope(|scope| {
        // Slowloris: as many as there are instances, a byte a second. Each is cut off by the
        // head's deadline (408), so it holds an instance for one I/O timeout at most.
        let slow: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(move || {
                    trickle(
                        address,
                        b"GET /nope HTTP/1.1\r\nx-slow: ",
                        Duration::from_secs(1),
                        Duration::from_secs(12),
                    )
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(500));
        ordinary("slowloris");
        for client in slow {
            let answer = client.join().unwrap();
            assert_eq!(status_of(&answer), 408, "{answer:?}");
        }
    });
    // 10,000 headers: 431, not a crash or a hang.
    let mut flood = b"GET /nope HTTP/1.1\r\n".to_vec();
    for i in 0..10_000 {
        flood.extend_from_slice(format!("x-{i}: y\r\n").as_bytes());
    }
    flood.extend_from_slice(b"\r\n");
    let (status, _) = exchange(address, &flood).unwrap_or((0, String::new()));
    assert!(status == 431 || status == 0, "a header flood got {status}");
    ordinary("header flood");
    // A 1 GB Content-Length with no body: 413 at once.
    let mut huge = TcpStream::connect(address).unwrap();
    huge.write_all(
        b"POST /infer HTTP/1.1\r\ncontent-type: image/jpeg\r\ncontent-length: 1000000000\r\n\r\n",
    )
    .unwrap();
    huge.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = [0u8; 12];
    huge.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 413");
    ordinary("a 1 GB content-length");
    drop(huge);
    // Chunk sizes past any integer, and past the body limit.
    for (size, status) in [("fffffffffffffffffffff", 400), ("ffffffff", 413)] {
        let request = format!(
            "POST /infer HTTP/1.1\r\ncontent-type: image/jpeg\r\ntransfer-encoding: chunked\r\n\r\n{size}\r\nabc"
        );
        let answer = exchange(address, request.as_bytes()).unwrap();
        assert_eq!(answer.0, status, "chunk size {size}: {answer:?}");
    }
    ordinary("chunk sizes");
    // Two requests in one write: the first is answered, whole, then the connection closes.
    let answer = exchange(
        address,
        b"GET /nope HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n",
    )
    .unwrap();
    assert_eq!(answer.0, 404, "{answer:?}");
    // A client that goes away in the middle of its answer.
    for _ in 0..3 {
        let mut rude = TcpStream::connect(address).unwrap();
        rude.write_all(&good).unwrap();
        let mut first = [0u8; 8];
        rude.read_exact(&mut first).unwrap();
        drop(rude);
    }
    ordinary("clients that close mid-answer");
    // A thousand connections at once against two instances: each answered, and an ordinary
    // client sent in the middle of them too.
    let started = Instant::now();
    std::thread::scope(|scope| {
        let burst: Vec<_> = (0..1000)
            .map(|_| {
                let stream = TcpStream::connect_timeout(&address, Duration::from_secs(10));
                scope.spawn(move || {
                    let mut stream = stream.map_err(|e| e.to_string())?;
                    stream
                        .set_read_timeout(Some(Duration::from_secs(60)))
                        .unwrap();
                    stream
                        .write_all(b"GET /nope HTTP/1.1\r\n\r\n")
                        .map_err(|e| e.to_string())?;
                    let mut answer = String::new();
                    stream
                        .read_to_string(&mut answer)
                        .map_err(|e| e.to_string())?;
                    Ok::<u16, String>(status_of(&answer))
                })
            })
            .collect();
        ordinary("a burst of a thousand connections");
        for client in burst {
            assert_eq!(client.join().unwrap(), Ok(404));
        }
    });
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the burst took {:?}",
        started.elapsed()
    );
}

#[test]
fn fuzzed_requests_get_well_formed_answers_or_a_close_and_no_instance_traps() {
    let (dir, service) = migrate("onnxruntime-service");
    let photo = &photographs(dir.path())[0];
    let served = Served::start(&service, 2, &["--io-timeout", "1"]);
    let config = wasm_migrate_tests::http_fuzz::FuzzConfig {
        target: served.address,
        cases: 400,
        seed: 34,
        io_timeout: Duration::from_secs(1),
        workers: 4,
        route: "/infer".into(),
        field: "image".into(),
        input: std::fs::read(photo).unwrap(),
    };
    let report = wasm_migrate_tests::http_fuzz::run(&config);
    assert!(report.clean(), "{report:#?}");
    // The mutations reach past the parser: some uploads are still answered 200.
    assert!(
        report.answered.get(&200).copied().unwrap_or(0) > 0,
        "{report:#?}"
    );
    assert!(report.answered.keys().any(|s| *s >= 400), "{report:#?}");
    let log = served.log.lock().unwrap();
    assert!(
        !log.iter().any(|l| l.contains("ended while serving")),
        "an instance trapped or timed out:\n{}",
        log.join("\n")
    );
}
