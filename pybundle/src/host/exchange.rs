//! The host side of `host.call`: the request a turn answers goes in, its reply comes out.

use super::nn::NnBridge;
use super::snapshot::NnStep;
use crate::protocol::{self, Ask};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::sync::{Arc, Mutex};
use wasm_migrate_runtime::python::GuestHost;

/// An HTTP request, as the host read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub port: u16,
    pub remote: String,
}

/// The app's answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// An answer from the host itself, as JSON.
    pub fn error(status: u16, message: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: serde_json::to_vec(&serde_json::json!({ "error": message })).unwrap_or_default(),
        }
    }
}

pub(crate) struct Exchange {
    request: Option<Request>,
    pub(crate) reply: Option<Reply>,
    logs: String,
    nn: NnBridge,
    /// The graphs and contexts opened so far, in order (what a snapshot must open again).
    pub(crate) journal: Vec<NnStep>,
}

impl Exchange {
    pub(crate) fn new(nn: NnBridge) -> Exchange {
        Exchange {
            request: None,
            reply: None,
            logs: String::new(),
            nn,
            journal: Vec::new(),
        }
    }

    /// Opens what `journal` opened, in its order, so the handles an instance started from a
    /// snapshot holds name the same graphs and contexts.
    pub(crate) fn replay(&mut self, journal: &[NnStep]) -> Result<(), String> {
        for step in journal {
            match step {
                NnStep::Load(name) => self.nn.load(name).map(drop)?,
                NnStep::Context(graph) => self.nn.context(*graph).map(drop)?,
            }
            self.journal.push(step.clone());
        }
        Ok(())
    }

    pub(crate) fn begin(&mut self, request: Request) {
        self.request = Some(request);
        self.reply = None;
    }

    pub(crate) fn take_logs(&mut self) -> String {
        std::mem::take(&mut self.logs)
    }

    fn answer(&mut self, frame: &[u8]) -> Vec<u8> {
        let ask = match protocol::parse(frame) {
            Ok(ask) => ask,
            Err(e) => return protocol::error(&e),
        };
        match ask {
            Ask::Request => match &self.request {
                Some(r) => protocol::answer(serde_json::json!({
                    "method": r.method,
                    "path": r.path,
                    "query": r.query,
                    "headers": r.headers,
                    "body": STANDARD.encode(&r.body),
                    "port": r.port,
                    "remote": r.remote,
                })),
                None => protocol::error("no request is being answered"),
            },
            Ask::Respond {
                status,
                headers,
                body,
            } => match STANDARD.decode(body.as_bytes()) {
                Ok(body) => {
                    self.reply = Some(Reply {
                        status,
                        headers,
                        body,
                    });
                    protocol::answer(serde_json::json!({ "ok": true }))
                }
                Err(e) => protocol::error(&format!("the body is not base64: {e}")),
            },
            Ask::Log { level, text } => {
                self.logs.push_str(&format!("[guest {level}] {text}"));
                if !self.logs.ends_with('\n') {
                    self.logs.push('\n');
                }
                protocol::answer(serde_json::json!({ "ok": true }))
            }
            Ask::ImageDecode { data } => nn_answer(decode_jpeg(&data)),
            Ask::NnLoad { name } => {
                let loaded = self.nn.load(&name);
                if loaded.is_ok() {
                    self.journal.push(NnStep::Load(name));
                }
                nn_answer(loaded)
            }
            Ask::NnContext { graph } => {
                let made = self.nn.context(graph);
                if made.is_ok() {
                    self.journal.push(NnStep::Context(graph));
                }
                nn_answer(made)
            }
            Ask::NnSetInput {
                context,
                index,
                ty,
                dims,
                data,
            } => nn_answer(self.nn.set_input(context, index, &ty, dims, &data)),
            Ask::NnCompute { context } => nn_answer(self.nn.compute(context)),
            Ask::NnGetOutput { context, index } => nn_answer(self.nn.get_output(context, index)),
        }
    }
}

/// The JPEG as PIL's `Image.open(f).convert("RGB")` gives it (the preprocessing crate's
/// decoder follows libjpeg-turbo's numerics).
fn decode_jpeg(data: &str) -> Result<serde_json::Value, String> {
    let bytes = STANDARD
        .decode(data.as_bytes())
        .map_err(|e| format!("the image is not base64: {e}"))?;
    let image = wasm_migrate_preprocess::jpeg::decode_rgb(&bytes).map_err(|e| e.to_string())?;
    Ok(serde_json::json!({
        "mode": "RGB",
        "width": image.width,
        "height": image.height,
        "data": STANDARD.encode(&image.data),
    }))
}

fn nn_answer(result: Result<serde_json::Value, String>) -> Vec<u8> {
    match result {
        Ok(fields) => protocol::answer(fields),
        Err(e) => protocol::error(&e),
    }
}

pub(crate) struct ExchangeHost(pub(crate) Arc<Mutex<Exchange>>);

impl GuestHost for ExchangeHost {
    fn call(&mut self, frame: &[u8]) -> Option<Vec<u8>> {
        self.0.lock().ok().map(|mut e| e.answer(frame))
    }
}
