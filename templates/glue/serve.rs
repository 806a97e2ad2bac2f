//! Server mode: the original service's HTTP API (`assets/api.json`, from the migration plan's
//! `http` section) served over WasmEdge's socket extension, one connection at a time per
//! instance. Run several instances for requests in flight (`wasm-migrate serve --instances`,
//! or replicas in Kubernetes), as gunicorn runs several workers.
//!
//! Every request gets an answer: a bad one gets the original's answer to that kind of request
//! (recorded by `wasm-migrate convert`), never a dropped connection.

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};
use wasmedge_wasi_socket::{TcpListener, TcpStream};

/// Largest request head (request line and headers).
const MAX_HEAD_BYTES: usize = 64 << 10;
const MAX_HEADERS: usize = 100;
/// Longest chunk-size line of a chunked body.
const MAX_CHUNK_LINE: usize = 1024;
/// The socket deadline when IO_TIMEOUT_SECS is not set.
const DEFAULT_IO_TIMEOUT: Duration = Duration::from_secs(30);

/// The API, as the plan's `http` section has it.
#[derive(Debug, Deserialize)]
pub struct Api {
    pub routes: Vec<Route>,
    #[serde(default)]
    pub health: Option<FixedRoute>,
    #[serde(default)]
    pub not_found: Option<Answer>,
    #[serde(default)]
    pub method_not_allowed: Option<Answer>,
    pub max_body_bytes: u64,
    #[serde(default)]
    pub too_large: Option<Answer>,
    /// Routes without the model that the original answered with the same bytes every time.
    #[serde(default)]
    pub fixed: Vec<FixedRoute>,
    /// The original's routes this module does not serve, and why: answered 501, not 404.
    #[serde(default)]
    pub not_migrated: Vec<NotMigrated>,
    /// Class names found in the service's code, when the plan has no label file.
    #[serde(default)]
    pub labels: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Route {
    pub method: String,
    pub path: String,
    pub request: RequestShape,
    #[serde(default)]
    pub response: Option<Value>,
    /// What the original wrote after a JSON body (Flask's newline).
    #[serde(default)]
    pub trailer: String,
    /// `indented`: the body as TorchServe's worker writes a handler's answer.
    #[serde(default)]
    pub encoding: Option<String>,
    #[serde(default)]
    pub missing_field: Option<Answer>,
    #[serde(default)]
    pub not_decodable: Option<Answer>,
}

#[derive(Debug, Deserialize)]
pub struct RequestShape {
    pub kind: String,
    #[serde(default)]
    pub field: Option<String>,
    /// A multipart route that also takes the input as the whole body.
    #[serde(default)]
    pub raw_fallback: bool,
    /// A JSON route whose string is a file: `base64`, or `data-url`.
    #[serde(default)]
    pub encoding: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NotMigrated {
    pub method: String,
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
pub struct FixedRoute {
    pub method: String,
    pub path: String,
    pub answer: Answer,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    fn json(status: u16, body: Value) -> Answer {
        Answer {
            status,
            content_type: "application/json".into(),
            body: body.to_string(),
        }
    }

    /// A 200 as TorchServe's worker writes a handler's answer: a string as it is, anything
    /// else as Python's `json.dumps(answer, indent=2)`, with no media type.
    fn indented(body: Value) -> Answer {
        let body = match body {
            Value::String(text) => text,
            other => serde_json::to_string_pretty(&other).unwrap_or_default(),
        };
        Answer { status: 200, content_type: String::new(), body }
    }

    /// A 200 from a rendered response: JSON, or a text answer (`{"$text": body,
    /// "content_type": ...}`) as the original wrote it.
    fn rendered(body: Value) -> Answer {
        match body.get("$text") {
            Some(text) => Answer {
                status: 200,
                content_type: body
                    .get("content_type")
                    .and_then(Value::as_str)
                    .unwrap_or("text/plain; charset=utf-8")
                    .into(),
                body: text.as_str().map_or_else(|| text.to_string(), String::from),
            },
            None => Answer::json(200, body),
        }
    }

    fn error(status: u16, message: &str) -> Answer {
        Answer::json(status, json!({ "error": message }))
    }
}

/// Why an input was not answered with a prediction.
pub enum Failure {
    /// The client's input cannot be decoded (not an image, not UTF-8 text...): a 400.
    NotDecodable(String),
    /// The model or the runtime failed: a 500.
    Internal(String),
}

/// One input as the client sent it.
pub struct Input {
    pub bytes: Vec<u8>,
    /// The form part's file name, when it was an upload.
    pub filename: Option<String>,
}

/// What the server asks of the model side: one input in, the response body out.
pub trait Model {
    fn answer(&mut self, input: &Input, route: &Route) -> Result<Value, Failure>;
}

pub fn parse_api(text: &str) -> Result<Api, String> {
    serde_json::from_str(text).map_err(|e| format!("the embedded assets/api.json: {e}"))
}

/// Set by `wasm-migrate serve` for an instance that replaces an idle one.
const RECYCLED_VAR: &str = "WASM_MIGRATE_RECYCLED";

/// Listens on `HOST:PORT` (default `0.0.0.0:{default_port}`) and answers until killed.
pub fn run(api: &Api, model: &mut dyn Model, default_port: u16) -> Result<(), String> {
    let host = std::env::var("HOST").unwrap_or_else(|_| "0.0.0.0".into());
    let port = std::env::var("PORT").unwrap_or_else(|_| default_port.to_string());
    let address = format!("{host}:{port}");
    let address: std::net::SocketAddr = address
        .parse()
        .map_err(|e| format!("HOST/PORT `{address}` is not an IP address and port: {e}"))?;
    let io_timeout = io_timeout()?;
    let listener = TcpListener::bind(address, false)
        .map_err(|e| format!("cannot listen on {address}: {e}"))?;
    // An instance the host started in place of an idle one (to give its memory back) says
    // nothing: the first one said where it serves.
    if std::env::var_os(RECYCLED_VAR).is_none() {
        eprintln!("serving {} route(s) on http://{address}", api.routes.len());
    }
    loop {
        let (stream, _peer) = match listener.accept(false) {
            Ok(accepted) => accepted,
            // A client that went away before we accepted it.
            Err(e) if e.kind() == ErrorKind::ConnectionAborted => continue,
            Err(e) => return Err(format!("accept on {address}: {e}")),
        };
        // The module's own deadlines: WasmEdge sets none, so without them one client that
        // connects and sends nothing would hold this instance for good.
        let socket = stream.as_ref();
        let _ = socket.set_recv_timeout(Some(io_timeout));
        let _ = socket.set_send_timeout(Some(io_timeout));
        connection(stream, api, model, io_timeout);
    }
}

/// IO_TIMEOUT_SECS, the longest wait for a client's next bytes (and for its whole request
/// head), or 30 s.
fn io_timeout() -> Result<Duration, String> {
    match std::env::var("IO_TIMEOUT_SECS") {
        Err(_) => Ok(DEFAULT_IO_TIMEOUT),
        Ok(text) => match text.trim().parse::<f64>() {
            Ok(seconds) if seconds > 0.0 && seconds.is_finite() => Ok(Duration::from_secs_f64(seconds.max(0.001))),
            _ => Err(format!("IO_TIMEOUT_SECS `{text}` is not a positive number of seconds")),
        },
    }
}

/// One connection: one request, one answer, then close (as gunicorn's sync workers do, so a
/// client holding a connection open never keeps an instance from the others).
fn connection(mut stream: TcpStream, api: &Api, model: &mut dyn Model, io_timeout: Duration) {
    let started = Instant::now();
    // What the client may still send after the answer: read before closing, so the close does
    // not reset the connection before the client has read the answer.
    let (answer, unread) = match read_request(&mut stream, api.max_body_bytes, io_timeout) {
        Ok(request) => (route(&request, api, model), 0),
        Err(ReadError::TooLarge { unread }) => (
            api.too_large.clone().unwrap_or_else(|| {
                Answer::error(
                    413,
                    &format!("the request body is larger than {} bytes", api.max_body_bytes),
                )
            }),
            unread,
        ),
        Err(ReadError::Bad(message)) => (Answer::error(400, &message), MAX_HEAD_BYTES as u64),
        Err(ReadError::HeadTooLarge(message)) => (Answer::error(431, &message), MAX_HEAD_BYTES as u64),
        Err(ReadError::Slow) => (
            Answer::error(408, "the request head did not arrive within the server's I/O timeout"),
            MAX_HEAD_BYTES as u64,
        ),
        // Nothing to answer: the client closed or stalled before sending a request.
        Err(ReadError::Gone) => return,
    };
    // An answer the original sent without a media type (TorchServe's) has none here either.
    let content_type = match answer.content_type.is_empty() {
        true => String::new(),
        false => format!("content-type: {}\r\n", answer.content_type),
    };
    let head = format!(
        "HTTP/1.1 {} {}\r\n{content_type}content-length: {}\r\nconnection: close\r\n\r\n",
        answer.status,
        reason(answer.status),
        answer.body.len()
    );
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(answer.body.as_bytes()))
        .and_then(|()| stream.flush());
    let _ = stream.shutdown(std::net::Shutdown::Write);
    if unread > 0 {
        if answer.status == 408 {
            // A slow client's last bytes, not a body it is owed time for.
            let _ = stream.as_ref().set_recv_timeout(Some(Duration::from_millis(200)));
        }
        drain(&mut stream, unread);
    }
    if answer.status >= 500 {
        eprintln!("{} after {:.1} ms: {}", answer.status, started.elapsed().as_secs_f64() * 1e3, answer.body);
    }
}

/// Reads and drops up to `unread` bytes (at most 256 MiB), until the client closes.
fn drain(stream: &mut TcpStream, unread: u64) {
    let mut sink = [0u8; 16 << 10];
    let mut left = unread.min(256 << 20);
    while left > 0 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => return,
            Ok(n) => left = left.saturating_sub(n as u64),
        }
    }
}

pub struct Request {
    method: String,
    path: String,
    content_type: String,
    body: Vec<u8>,
}

enum ReadError {
    Gone,
    /// A head over the size or header-count limit: 431.
    HeadTooLarge(String),
    /// Part of a request head came, the rest not within the deadline (a slow client).
    Slow,
    Bad(String),
    TooLarge { unread: u64 },
}

fn read_request(stream: &mut TcpStream, max_body: u64, io_timeout: Duration) -> Result<Request, ReadError> {
    let mut buffer = Vec::with_capacity(8 << 10);
    let mut chunk = [0u8; 16 << 10];
    // The whole head within one I/O timeout, so a client that trickles a byte at a time
    // cannot hold the instance by keeping each read just under the deadline.
    let head_deadline = Instant::now() + io_timeout;
    let head_len = loop {
        let left = head_deadline.saturating_duration_since(Instant::now());
        let cut_off = || if buffer.is_empty() { ReadError::Gone } else { ReadError::Slow };
        if left.is_zero() {
            return Err(cut_off());
        }
        // At least a millisecond: a zero timeval means no deadline at all.
        let _ = stream.as_ref().set_recv_timeout(Some(left.max(Duration::from_millis(1))));
        let n = match stream.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return Err(cut_off()),
            Err(_) => return Err(ReadError::Gone),
        };
        if n == 0 {
            return Err(ReadError::Gone);
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(end) = memchr::memmem::find(&buffer, b"\r\n\r\n") {
            break end + 4;
        }
        if buffer.len() > MAX_HEAD_BYTES {
            return Err(ReadError::HeadTooLarge(format!("the request head is over {MAX_HEAD_BYTES} bytes")));
        }
    };
    let _ = stream.as_ref().set_recv_timeout(Some(io_timeout));
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    parsed.parse(&buffer[..head_len]).map_err(|e| match e {
        httparse::Error::TooManyHeaders => {
            ReadError::HeadTooLarge(format!("the request has more than {MAX_HEADERS} headers"))
        }
        e => ReadError::Bad(format!("malformed HTTP request: {e}")),
    })?;
    let header = |name: &str| {
        parsed
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    let content_type = header("content-type").unwrap_or_default();
    let chunked = header("transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    let length = match header("content-length") {
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| ReadError::Bad(format!("Content-Length `{v}` is not a number")))?,
        None => 0,
    };
    let method = parsed.method.unwrap_or("GET").to_string();
    let path = parsed.path.unwrap_or("/").to_string();
    let continues = header("expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue"));
    let mut body = buffer.split_off(head_len);
    if length > max_body && !chunked {
        // Refused before the client sends it (when it waits for 100 Continue, it sends nothing).
        let unread = if continues { 0 } else { length.saturating_sub(body.len() as u64) };
        return Err(ReadError::TooLarge { unread });
    }
    if continues {
        // curl and others wait for this before sending a large upload.
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    if chunked {
        body = read_chunked(stream, body, max_body)?;
    } else {
        while (body.len() as u64) < length {
            let n = stream.read(&mut chunk).map_err(|_| ReadError::Gone)?;
            if n == 0 {
                return Err(ReadError::Gone);
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(length as usize);
    }
    Ok(Request { method, path, content_type, body })
}

/// A `Transfer-Encoding: chunked` body, whole.
fn read_chunked(stream: &mut TcpStream, mut raw: Vec<u8>, max_body: u64) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    let mut at = 0;
    let mut chunk = [0u8; 16 << 10];
    let mut more = |raw: &mut Vec<u8>| -> Result<(), ReadError> {
        let n = stream.read(&mut chunk).map_err(|_| ReadError::Gone)?;
        if n == 0 {
            return Err(ReadError::Gone);
        }
        raw.extend_from_slice(&chunk[..n]);
        Ok(())
    };
    loop {
        let line_end = loop {
            match memchr::memmem::find(&raw[at..], b"\r\n") {
                Some(i) => break at + i,
                // A chunk-size line (hex size and extensions) is short.
                None if raw.len() - at > MAX_CHUNK_LINE => {
                    return Err(ReadError::Bad(format!("a chunk-size line is over {MAX_CHUNK_LINE} bytes")));
                }
                None => more(&mut raw)?,
            }
        };
        let size_text = String::from_utf8_lossy(&raw[at..line_end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim().to_string();
        // u64 and checked sums: on wasm32 a usize is 32 bits, and `ffffffff` would wrap.
        let size = u64::from_str_radix(&size_text, 16)
            .map_err(|_| ReadError::Bad(format!("bad chunk size `{size_text}`")))?;
        at = line_end + 2;
        if size == 0 {
            return Ok(body);
        }
        if (body.len() as u64).checked_add(size).is_none_or(|total| total > max_body) {
            return Err(ReadError::TooLarge { unread: 0 });
        }
        let size = size as usize; // at most max_body, so it fits
        while raw.len() < at + size + 2 {
            more(&mut raw)?;
        }
        body.extend_from_slice(&raw[at..at + size]);
        at += size + 2;
    }
}

fn route(request: &Request, api: &Api, model: &mut dyn Model) -> Answer {
    let path = request.path.split('?').next().unwrap_or("/");
    if let Some(health) = &api.health
        && health.path == path
        && (health.method == request.method || request.method == "HEAD")
    {
        return health.answer.clone();
    }
    let fixed = api.fixed.iter().find(|f| f.path == path);
    if let Some(fixed) = fixed
        && (fixed.method == request.method || request.method == "HEAD")
    {
        return fixed.answer.clone();
    }
    if let Some(left) = api
        .not_migrated
        .iter()
        .find(|r| r.path == path && r.method == request.method)
    {
        let why = format!("{} {} is not migrated: {}", left.method, left.path, left.reason);
        return Answer::error(501, &why);
    }
    let at_path: Vec<&Route> = api.routes.iter().filter(|r| r.path == path).collect();
    let Some(route) = at_path.iter().find(|r| r.method == request.method) else {
        let known = !at_path.is_empty()
            || fixed.is_some()
            || api.health.as_ref().is_some_and(|h| h.path == path);
        return match known {
            true => api.method_not_allowed.clone().unwrap_or_else(|| Answer::error(405, "Method Not Allowed")),
            false => api.not_found.clone().unwrap_or_else(|| Answer::error(404, "Not Found")),
        };
    };
    let missing = || {
        route.missing_field.clone().unwrap_or_else(|| {
            Answer::error(400, &format!("missing field `{}`", route.request.field.as_deref().unwrap_or("file")))
        })
    };
    let whole_body = || Input { bytes: request.body.clone(), filename: None };
    let input = match route.request.kind.as_str() {
        "multipart" => match multipart_field(request, route.request.field.as_deref()) {
            Some(input) => input,
            None if route.request.raw_fallback
                && !request.body.is_empty()
                && !request.content_type.to_ascii_lowercase().starts_with("multipart/") =>
            {
                whole_body()
            }
            None => return missing(),
        },
        "json" => match json_input(&request.body, route.request.field.as_deref()) {
            Some(text) if route.request.encoding.is_some() => match encoded_file(&text) {
                Some(bytes) => Input { bytes, filename: None },
                None => {
                    let why = "the JSON string is not a file in base64 or a base64 data URL";
                    return route.not_decodable.clone().unwrap_or_else(|| Answer::error(400, why));
                }
            },
            Some(bytes) => Input { bytes, filename: None },
            None => return missing(),
        },
        _ if request.body.is_empty() => return missing(),
        _ => whole_body(),
    };
    match model.answer(&input, route) {
        Ok(body) if route.encoding.as_deref() == Some("indented") => Answer::indented(body),
        Ok(body) => {
            let mut answer = Answer::rendered(body);
            if answer.content_type == "application/json" {
                answer.body.push_str(&route.trailer);
            }
            answer
        }
        Err(Failure::NotDecodable(why)) => route
            .not_decodable
            .clone()
            .unwrap_or_else(|| Answer::error(400, &why)),
        Err(Failure::Internal(why)) => Answer::error(500, &why),
    }
}

/// The input in a JSON body: the value at `field` of the object, or the whole body when the
/// plan names no field (`np.array(request.get_json())`). A string is the text itself; a
/// list of numbers goes on as its JSON, which the model side parses.
fn json_input(body: &[u8], field: Option<&str>) -> Option<Vec<u8>> {
    let body = serde_json::from_slice::<Value>(body).ok()?;
    let value = match field {
        Some(field) => body.get(field)?,
        None => &body,
    };
    match value {
        Value::String(text) => Some(text.clone().into_bytes()),
        Value::Array(_) => Some(value.to_string().into_bytes()),
        _ => None,
    }
}

/// A file sent as a JSON string: base64, or a data URL (`data:image/png;base64,...`), its
/// line breaks ignored as Python's `b64decode` ignores them.
fn encoded_file(text: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    let start = memchr::memmem::find(text, b"base64,").map_or(0, |at| at + b"base64,".len());
    let base64: Vec<u8> = text[start..].iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(base64).ok()
}

/// Form field `field` (the first file part when the plan names none), with its file name.
fn multipart_field(request: &Request, field: Option<&str>) -> Option<Input> {
    let boundary = parameter(&request.content_type, "boundary")?;
    if !request.content_type.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    let delimiter = format!("--{boundary}");
    let body = &request.body;
    let mut at = memchr::memmem::find(body, delimiter.as_bytes())? + delimiter.len();
    let closing = format!("\r\n{delimiter}");
    loop {
        if body.get(at..at + 2) == Some(b"--") {
            return None;
        }
        at += 2; // CRLF after the delimiter
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let (head_len, headers) = match httparse::parse_headers(body.get(at..)?, &mut headers).ok()? {
            httparse::Status::Complete((len, headers)) => (len, headers),
            httparse::Status::Partial => return None,
        };
        let start = at + head_len;
        let end = start + memchr::memmem::find(&body[start..], closing.as_bytes())?;
        let disposition = headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("content-disposition"))
            .map(|h| String::from_utf8_lossy(h.value).to_string())
            .unwrap_or_default();
        let name = parameter(&disposition, "name");
        let wanted = match field {
            Some(field) => name.as_deref() == Some(field),
            None => parameter(&disposition, "filename").is_some(),
        };
        if wanted {
            return Some(Input {
                bytes: body[start..end].to_vec(),
                filename: parameter(&disposition, "filename"),
            });
        }
        at = end + closing.len();
    }
}

/// `key=value` or `key="value"` among `;`-separated parameters of a header value.
fn parameter(header: &str, key: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        422 => "Unprocessable Entity",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "",
    }
}
