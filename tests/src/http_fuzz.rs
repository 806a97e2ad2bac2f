//! An HTTP fuzzer for a served module: seed requests (uploads, chunked bodies, JSON, bare
//! GETs) mutated at the byte and field level, sent over fresh connections in several ways
//! (whole, in pieces, held open). Every answer must be well-formed HTTP/1.1 or a closed
//! connection, within a bound set by the server's I/O timeout; the server must still answer
//! afterwards. It targets any host and port, so it runs against `wasm-migrate serve` in the
//! tests and against a module under a real WasmEdge by hand (`cargo run -p wasm-migrate-tests
//! --bin http-fuzz -- --target HOST:PORT`).

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct FuzzConfig {
    pub target: SocketAddr,
    pub cases: u64,
    pub seed: u64,
    /// The server's I/O timeout: a case may take up to twice this, plus a margin.
    pub io_timeout: Duration,
    pub workers: usize,
    /// The inference route's path and form field, for the upload seeds.
    pub route: String,
    pub field: String,
    /// A valid input (an image) for the upload seeds.
    pub input: Vec<u8>,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct FuzzReport {
    pub cases: u64,
    /// Answers by status code.
    pub answered: BTreeMap<u16, u64>,
    /// Connections closed without an answer.
    pub closed: u64,
    /// Answers that are not well-formed HTTP/1.1 (the case's seed and what came).
    pub malformed: Vec<String>,
    /// Cases with neither an answer nor a close within the bound.
    pub hangs: Vec<String>,
    /// Liveness probes the server did not answer.
    pub dead_probes: u64,
    pub seconds: f64,
}

impl FuzzReport {
    pub fn clean(&self) -> bool {
        self.malformed.is_empty() && self.hangs.is_empty() && self.dead_probes == 0
    }
}

/// The requests mutations start from.
pub fn seed_requests(config: &FuzzConfig) -> Vec<Vec<u8>> {
    let boundary = "fuzz-boundary";
    let mut form = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"{}\"; filename=\"x.jpg\"\r\ncontent-type: image/jpeg\r\n\r\n",
        config.field
    )
    .into_bytes();
    form.extend_from_slice(&config.input);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let upload = with_body(
        &format!(
            "POST {} HTTP/1.1\r\nhost: fuzz\r\ncontent-type: multipart/form-data; boundary={boundary}\r\n",
            config.route
        ),
        &form,
    );
    let raw = with_body(
        &format!(
            "POST {} HTTP/1.1\r\nhost: fuzz\r\ncontent-type: image/jpeg\r\n",
            config.route
        ),
        &config.input,
    );
    let mut chunked = format!(
        "POST {} HTTP/1.1\r\nhost: fuzz\r\ncontent-type: image/jpeg\r\ntransfer-encoding: chunked\r\n\r\n",
        config.route
    )
    .into_bytes();
    for piece in config.input.chunks(4096) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let json = with_body(
        &format!(
            "POST {} HTTP/1.1\r\nhost: fuzz\r\ncontent-type: application/json\r\n",
            config.route
        ),
        br#"{"text": "a fine day", "inputs": [1, 2, 3]}"#,
    );
    let expect = with_body(
        &format!(
            "POST {} HTTP/1.1\r\nhost: fuzz\r\nexpect: 100-continue\r\ncontent-type: multipart/form-data; boundary={boundary}\r\n",
            config.route
        ),
        &form,
    );
    vec![
        b"GET / HTTP/1.1\r\nhost: fuzz\r\n\r\n".to_vec(),
        b"GET /health HTTP/1.1\r\nhost: fuzz\r\n\r\n".to_vec(),
        format!("GET {} HTTP/1.1\r\n\r\n", config.route).into_bytes(),
        upload,
        raw,
        chunked,
        json,
        expect,
    ]
}

fn with_body(head: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!("{head}content-length: {}\r\n\r\n", body.len()).into_bytes();
    request.extend_from_slice(body);
    request
}

const TOKENS: &[&str] = &[
    "\r\n",
    "\r\n\r\n",
    "\n",
    "\r",
    "\0",
    ":",
    " ",
    "\t",
    "content-length: 99999999999\r\n",
    "content-length: -1\r\n",
    "content-length: 5\r\ncontent-length: 6\r\n",
    "transfer-encoding: chunked\r\n",
    "transfer-encoding: gzip, chunked\r\n",
    "expect: 100-continue\r\n",
    "connection: keep-alive\r\n",
    "ffffffffffffffff\r\n",
    "0\r\n\r\n",
    "--fuzz-boundary\r\n",
    "--fuzz-boundary--",
    "; name=\"",
    "filename=\"",
    "HTTP/1.0",
    "HTTP/9.9",
    "GET ",
    "POST ",
    "%00",
    "/../../etc/passwd",
    "?x=1",
    "\u{00ff}",
    "\u{feff}",
];

fn mutate(rng: &mut fastrand::Rng, request: &mut Vec<u8>) {
    for _ in 0..rng.usize(0..=4) {
        let at = rng.usize(0..=request.len());
        match rng.u8(0..8) {
            0 if !request.is_empty() => {
                let i = rng.usize(0..request.len());
                request[i] ^= 1 << rng.u8(0..8);
            }
            1 => request.insert(at, rng.u8(..)),
            2 if !request.is_empty() => {
                let end = (at + rng.usize(1..512)).min(request.len());
                request.drain(at.min(end)..end);
            }
            3 => {
                let token = TOKENS[rng.usize(0..TOKENS.len())].as_bytes();
                request.splice(at..at, token.iter().copied());
            }
            4 => request.truncate(at),
            5 => {
                // A header flood or an endless header line.
                let line = if rng.bool() {
                    "x-fuzz: y\r\n".repeat(rng.usize(1..3000))
                } else {
                    "x".repeat(rng.usize(1..100_000))
                };
                let head_end = find(request, b"\r\n").map_or(0, |i| i + 2);
                request.splice(head_end..head_end, line.into_bytes());
            }
            6 if !request.is_empty() => {
                let start = rng.usize(0..request.len());
                let end = (start + rng.usize(1..1024)).min(request.len());
                let piece = request[start..end].to_vec();
                request.splice(at..at, piece);
            }
            _ => {}
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// How a case sends its bytes.
#[derive(Debug, Clone, Copy)]
enum Delivery {
    /// All at once, then half-closed.
    Whole,
    /// All at once, the connection left open.
    HeldOpen,
    /// In small pieces with pauses, then half-closed.
    Pieces,
}

enum Outcome {
    Answered(u16),
    Closed,
    Malformed(String),
    Hang,
}

fn send(
    config: &FuzzConfig,
    request: &[u8],
    delivery: Delivery,
    rng: &mut fastrand::Rng,
) -> Outcome {
    let bound = config.io_timeout * 2 + Duration::from_secs(5);
    let Ok(mut stream) = TcpStream::connect_timeout(&config.target, Duration::from_secs(10)) else {
        return Outcome::Malformed("the connection was refused".into());
    };
    let _ = stream.set_write_timeout(Some(bound));
    let _ = match delivery {
        Delivery::Whole | Delivery::HeldOpen => stream.write_all(request),
        Delivery::Pieces => request.chunks(rng.usize(1..4096)).try_for_each(|piece| {
            std::thread::sleep(Duration::from_millis(rng.u64(0..3)));
            stream.write_all(piece)
        }),
    };
    if !matches!(delivery, Delivery::HeldOpen) {
        let _ = stream.shutdown(Shutdown::Write);
    }
    read_answer(&mut stream, bound)
}

fn read_answer(stream: &mut TcpStream, bound: Duration) -> Outcome {
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 16 << 10];
    loop {
        let left = bound.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Outcome::Hang;
        }
        let _ = stream.set_read_timeout(Some(left));
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Outcome::Hang;
            }
            // A reset after (or instead of) the answer: judge what came.
            Err(_) => break,
        }
    }
    if answer.is_empty() {
        return Outcome::Closed;
    }
    judge(&answer)
}

/// Whether `answer` is one well-formed HTTP/1.1 response (after an optional 100 Continue),
/// its body as long as its Content-Length says.
fn judge(answer: &[u8]) -> Outcome {
    let mut rest = answer;
    if let Some(after) = rest.strip_prefix(b"HTTP/1.1 100 Continue\r\n\r\n".as_slice()) {
        rest = after;
        if rest.is_empty() {
            return Outcome::Closed;
        }
    }
    let text = String::from_utf8_lossy(rest);
    let malformed = |why: &str| {
        Outcome::Malformed(format!(
            "{why}: {:?}",
            text.chars().take(200).collect::<String>()
        ))
    };
    let Some(head_end) = find(rest, b"\r\n\r\n") else {
        return malformed("no end of head");
    };
    let head = String::from_utf8_lossy(&rest[..head_end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse::<u16>().ok());
    let Some(status) = status.filter(|s| (100..600).contains(s)) else {
        return malformed("bad status line");
    };
    let length = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    let body = rest.len() - head_end - 4;
    match length {
        Some(length) if length == body => Outcome::Answered(status),
        Some(length) => malformed(&format!("content-length {length} but a {body}-byte body")),
        None => malformed("no content-length"),
    }
}

/// Whether the server still answers a plain request.
fn alive(config: &FuzzConfig) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&config.target, Duration::from_secs(10)) else {
        return false;
    };
    let _ = stream.write_all(b"GET /wasm-migrate-fuzz-alive HTTP/1.1\r\nhost: fuzz\r\n\r\n");
    matches!(
        read_answer(&mut stream, config.io_timeout * 2 + Duration::from_secs(30)),
        Outcome::Answered(_)
    )
}

/// Runs the cases over `workers` threads.
pub fn run(config: &FuzzConfig) -> FuzzReport {
    let seeds = seed_requests(config);
    let report = Mutex::new(FuzzReport::default());
    let next = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..config.workers.max(1) {
            scope.spawn(|| {
                loop {
                    let case = next.fetch_add(1, Ordering::Relaxed);
                    if case >= config.cases {
                        return;
                    }
                    let seed = config.seed.wrapping_add(case);
                    let mut rng = fastrand::Rng::with_seed(seed);
                    let mut request = seeds[rng.usize(0..seeds.len())].clone();
                    if rng.u8(0..8) > 0 {
                        mutate(&mut rng, &mut request);
                    }
                    let delivery = match rng.u8(0..10) {
                        0 => Delivery::HeldOpen,
                        1..=2 => Delivery::Pieces,
                        _ => Delivery::Whole,
                    };
                    let outcome = send(config, &request, delivery, &mut rng);
                    let dead = case % 200 == 199 && !alive(config);
                    let mut report = report.lock().unwrap();
                    report.cases += 1;
                    report.dead_probes += u64::from(dead);
                    match outcome {
                        Outcome::Answered(status) => {
                            *report.answered.entry(status).or_default() += 1
                        }
                        Outcome::Closed => report.closed += 1,
                        Outcome::Malformed(what) => report
                            .malformed
                            .push(format!("seed {seed} ({delivery:?}): {what}")),
                        Outcome::Hang => report.hangs.push(format!("seed {seed} ({delivery:?})")),
                    }
                }
            });
        }
    });
    let mut report = report.into_inner().unwrap();
    if !alive(config) {
        report.dead_probes += 1;
    }
    report.seconds = started.elapsed().as_secs_f64();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_judged_by_their_status_line_and_length() {
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
        assert!(matches!(judge(ok), Outcome::Answered(200)));
        let continued = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n";
        assert!(matches!(judge(continued), Outcome::Answered(413)));
        assert!(matches!(
            judge(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n{}"),
            Outcome::Malformed(_)
        ));
        assert!(matches!(
            judge(b"HTTP/1.1 200 OK\r\n\r\n{}"),
            Outcome::Malformed(_)
        ));
        assert!(matches!(judge(b"garbage"), Outcome::Malformed(_)));
    }
}
