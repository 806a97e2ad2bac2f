//! The service's HTTP side: how production starts it (`service.server`, from analyze) and the
//! API its clients see (`http`, observed by `convert` from the original answering requests).
//! The glue's server mode serves `http`; `verify --http` starts the original with `server`.

use serde::{Deserialize, Serialize};

use crate::names::{FieldEncoding, HttpMethod, RequestKind, ResponseEncoding, ServerKind};

/// How production starts the service, from its Dockerfile/Procfile/README command, else the
/// framework's usual server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerPlan {
    /// `gunicorn`, `uvicorn`, `flask` (its own server, threaded) or `torchserve`.
    pub kind: ServerKind,
    /// The application: `module:object`, or `module:factory()` for an application factory.
    pub app: String,
    /// Worker processes (gunicorn `-w`, uvicorn `--workers`).
    #[serde(default = "one")]
    pub workers: u32,
    /// Threads per worker (gunicorn `--threads`; Flask's server runs a thread per request).
    #[serde(default = "one")]
    pub threads: u32,
    /// gunicorn `-k` (`uvicorn.workers.UvicornWorker` for an ASGI app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_class: Option<String>,
    /// uvicorn `--app-dir` / gunicorn `--chdir`, relative to the service root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_dir: Option<String>,
    /// The port production listens on; the migrated module listens on the same one.
    pub port: u16,
    /// Where this comes from (`Dockerfile:9 CMD gunicorn -w 2 app:app`), or `default`.
    pub evidence: String,
    /// The model archive a `torchserve` server loads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<TorchserveArchive>,
}

/// A TorchServe model archive as `torch-model-archiver` packs it, from the command in a
/// script, Dockerfile or Makefile, or from a `.mar`'s `MAR-INF/MANIFEST.json`. TorchServe
/// unpacks these files into one folder, the handler's `model_dir`; paths here are relative
/// to the service root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TorchserveArchive {
    /// `--model-name`: the `{model}` of `/predictions/{model}`.
    pub model_name: String,
    /// `--version`: `/predictions/{model}/{version}` answers too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `--handler`: a file of the service, or a built-in handler's name (`image_classifier`).
    pub handler: String,
    /// `--model-file`: the module whose one `nn.Module` class `BaseHandler` builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_file: Option<String>,
    /// `--serialized-file`: the state_dict, TorchScript or ONNX file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serialized_file: Option<String>,
    /// `--extra-files` (`index_to_name.json`...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_files: Vec<String>,
    /// Where this comes from (`build.sh:3 torch-model-archiver ...`, `mnist.mar`).
    pub evidence: String,
}

/// TorchServe's built-in handlers: the name `--handler` takes (a module of
/// `ts.torch_handler`), and the handler class in it.
pub const TORCHSERVE_BUILTIN_HANDLERS: &[(&str, &str)] = &[
    ("image_classifier", "ImageClassifier"),
    ("image_segmenter", "ImageSegmenter"),
    ("object_detector", "ObjectDetector"),
    ("text_classifier", "TextClassifier"),
];

impl TorchserveArchive {
    /// The class of the built-in handler the archive names (`--handler image_classifier`),
    /// whose code is TorchServe's, not the service's.
    pub fn builtin_handler(&self) -> Option<&'static str> {
        TORCHSERVE_BUILTIN_HANDLERS
            .iter()
            .find(|(name, _)| *name == self.handler)
            .map(|(_, class)| *class)
    }

    /// The service file TorchServe's handler stands for: the handler's file, or the model file
    /// for a built-in handler.
    pub fn service_file(&self) -> Option<&str> {
        match self.builtin_handler() {
            Some(_) => self.model_file.as_deref(),
            None => Some(self.handler.as_str()).filter(|h| h.ends_with(".py")),
        }
    }

    /// Every file TorchServe puts in `model_dir`, relative to the service root.
    pub fn files(&self) -> Vec<&str> {
        let handler = self
            .handler
            .ends_with(".py")
            .then_some(self.handler.as_str());
        handler
            .into_iter()
            .chain(self.model_file.as_deref())
            .chain(self.serialized_file.as_deref())
            .chain(self.extra_files.iter().map(String::as_str))
            .collect()
    }

    /// The inference paths TorchServe answers for this model.
    pub fn prediction_paths(&self) -> Vec<String> {
        let path = format!("/predictions/{}", self.model_name);
        let versioned = self.version.as_ref().map(|v| format!("{path}/{v}"));
        std::iter::once(path).chain(versioned).collect()
    }
}

impl ServerPlan {
    /// Requests one instance of the original handles at once.
    pub fn concurrency(&self) -> u32 {
        self.workers.max(1) * self.threads.max(1)
    }
}

fn one() -> u32 {
    1
}

/// The original's API as `convert` saw it answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpPlan {
    /// The inference routes.
    pub routes: Vec<HttpRoute>,
    /// A GET route that answers without the model (`/health`), with its answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HttpFixedRoute>,
    /// The answer to a path the service does not have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_found: Option<HttpAnswer>,
    /// The answer to a known path with another method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_not_allowed: Option<HttpAnswer>,
    /// Largest request body accepted; larger ones get `too_large`.
    pub max_body_bytes: u64,
    /// The answer to a body over `max_body_bytes` (the original's, when it has a limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub too_large: Option<HttpAnswer>,
    /// Class names found in the service's code (a module-level list such as
    /// `CLASS_NAMES = [...]`), when the plan has no label file: the module answers with them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Routes without the model that answer the same bytes every time (a front page): the
    /// module answers them as recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed: Vec<HttpFixedRoute>,
    /// The original's routes the module does not serve, and why (a page that changes, a route
    /// with its own preprocessing): never silently a 404.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_migrated: Vec<NotMigratedRoute>,
}

/// A route of the original the module does not serve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotMigratedRoute {
    pub method: HttpMethod,
    pub path: String,
    pub reason: String,
}

pub const DEFAULT_MAX_BODY_BYTES: u64 = 16 << 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpRoute {
    pub method: HttpMethod,
    pub path: String,
    pub request: HttpRequestShape,
    /// The response body rebuilt from the model's output: JSON with placeholders
    /// (`{"$": "label"}`, `{"$": "score", "round": 6}`, `{"$top": 3, "item": ...}`,
    /// `{"$per_class": ..., "key": "label"}`); see the glue's `respond.rs`.
    /// Absent: the glue answers its own JSON (outputs and top-k).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<serde_json::Value>,
    /// What the original wrote after a JSON response body (Flask's `jsonify` ends it with a
    /// newline, FastAPI writes nothing), which the module writes too.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub trailer: String,
    /// How the module writes the rendered body: compact JSON (Flask, FastAPI), or indented
    /// with no media type, as TorchServe's worker writes a handler's answer.
    #[serde(default, skip_serializing_if = "ResponseEncoding::is_compact")]
    pub encoding: ResponseEncoding,
    /// The original's answer to a request without the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_field: Option<HttpAnswer>,
    /// The original's answer to a field it cannot decode (not an image, not text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_decodable: Option<HttpAnswer>,
}

/// What a route reads from the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpRequestShape {
    /// `multipart` (a form upload), `json` (a JSON object) or `raw` (the body itself).
    pub kind: RequestKind,
    /// The form field, or the JSON key holding the text or the array of numbers; a `json`
    /// route without one takes the whole body (`np.array(request.get_json())`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A `multipart` route that also takes the input as the body itself (not a form).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub raw_fallback: bool,
    /// A `json` route whose string under `field` is a file, in base64 or as a data URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<FieldEncoding>,
}

/// A route answering the same thing every time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpFixedRoute {
    pub method: HttpMethod,
    pub path: String,
    pub answer: HttpAnswer,
}

/// One answer, as the original gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpAnswer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}
