//! The closed vocabularies the plan's fields take, as enums: the server that starts the
//! service, the request body, the target runtime and backend, the converted model's format,
//! tensor element types and tolerance presets. Each is written in the plan as the string in
//! its table, so the YAML stays what a person reads and edits, and a wrong value is an error
//! at the line where it stands (serde names the values it takes).

use serde::{Deserialize, Serialize};

/// One enum per vocabulary: `Variant = "plan spelling"`, with `ALL`, `as_str`, `Display` and
/// `FromStr` (whose error names every spelling).
macro_rules! plan_names {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling the plan uses.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == text)
                    .ok_or_else(|| {
                        let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                        format!("`{text}` is not one of {}", names.join(", "))
                    })
            }
        }
    };
}

plan_names! {
    /// How production starts the service (`service.server.kind`).
    ServerKind {
        Gunicorn = "gunicorn",
        Uvicorn = "uvicorn",
        /// Flask's own server (`flask run`, `app.run()`), a thread per request.
        Flask = "flask",
        Torchserve = "torchserve",
    }
}

impl ServerKind {
    /// The port the server listens on when nothing says otherwise.
    pub fn default_port(self) -> u16 {
        match self {
            ServerKind::Flask => 5000,
            ServerKind::Torchserve => 8080,
            ServerKind::Gunicorn | ServerKind::Uvicorn => 8000,
        }
    }

    /// Whether N instances are N separate server processes (Flask's server has no workers).
    pub fn one_process_per_instance(self) -> bool {
        self == ServerKind::Flask
    }
}

plan_names! {
    /// How a route takes its input (`http.routes[].request.kind`).
    RequestKind {
        /// A file in a multipart form field.
        Multipart = "multipart",
        /// A JSON body, the input under a key.
        Json = "json",
        /// The raw body is the input.
        Raw = "raw",
    }
}

plan_names! {
    /// How a JSON route's string holds a file (`http.routes[].request.encoding`).
    FieldEncoding {
        /// The file's bytes in base64 (`base64.b64decode(body["image"])`).
        Base64 = "base64",
        /// A data URL, `data:image/png;base64,` and the base64 (what a browser canvas sends).
        DataUrl = "data-url",
    }
}

plan_names! {
    /// How the module writes a route's rendered body (`http.routes[].encoding`).
    #[derive(Default)]
    ResponseEncoding {
        /// Compact JSON, `application/json` (Flask's `jsonify`, FastAPI).
        #[default]
        Compact = "compact",
        /// `json.dumps(answer, indent=2)` with no media type, and a string as it is: what
        /// TorchServe's worker sends for a handler's answer.
        Indented = "indented",
    }
}

impl ResponseEncoding {
    pub fn is_compact(&self) -> bool {
        *self == ResponseEncoding::Compact
    }
}

plan_names! {
    /// The runtime the module is for (`target.runtime`).
    TargetRuntime {
        Wasmedge = "wasmedge",
        Wasmtime = "wasmtime",
    }
}

plan_names! {
    /// The wasi-nn backend the model runs on (`target.backend`).
    NnBackend {
        Openvino = "openvino",
        Onnx = "onnx",
        Pytorch = "pytorch",
        Tensorflowlite = "tensorflowlite",
        Tract = "tract",
        Ggml = "ggml",
    }
}

impl NnBackend {
    /// The WasmEdge plugin that runs this backend's models: an ONNX model runs through the
    /// OpenVINO plugin (WasmEdge's ONNX backend is a stub).
    pub fn wasmedge_plugin(self) -> NnBackend {
        match self {
            NnBackend::Onnx => NnBackend::Openvino,
            other => other,
        }
    }
}

plan_names! {
    /// A converted model file's format (`converted.artifacts[].format`).
    ModelFormat {
        Onnx = "onnx",
        /// OpenVINO IR: model.xml + model.bin.
        Openvino = "openvino",
        Torchscript = "torchscript",
        Tflite = "tflite",
    }
}

plan_names! {
    /// A tensor's element type (`input.dtype`, `converted.artifacts[].weights`).
    Dtype {
        F32 = "f32",
        F16 = "f16",
        Bf16 = "bf16",
        F64 = "f64",
        U8 = "u8",
        I32 = "i32",
        I64 = "i64",
    }
}

impl Dtype {
    /// NumPy's name (`float32`, `int64`), as `convert` reads tensors.
    pub fn numpy(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::F16 => "float16",
            Dtype::Bf16 => "bfloat16",
            Dtype::F64 => "float64",
            Dtype::U8 => "uint8",
            Dtype::I32 => "int32",
            Dtype::I64 => "int64",
        }
    }

    /// The type from its plan spelling or NumPy's name.
    pub fn from_any(text: &str) -> Option<Dtype> {
        Dtype::ALL
            .iter()
            .copied()
            .find(|d| d.as_str() == text || d.numpy() == text)
    }

    /// Stored in fewer bits than float32 (a difference is then one of precision).
    pub fn below_f32(self) -> bool {
        matches!(self, Dtype::F16 | Dtype::Bf16)
    }
}

plan_names! {
    /// How close the migrated outputs must be (`tolerances.preset`).
    TolerancePreset {
        /// torch.testing's float32 defaults (same kernels).
        Float32 = "float32",
        /// float32 on another backend, which reorders sums.
        CrossBackend = "cross-backend",
        /// A deployment that computes in bf16 on purpose.
        Bf16 = "bf16",
        /// The atol / rtol written in the plan, as they are.
        Custom = "custom",
    }
}

plan_names! {
    /// An HTTP method a route answers (`service.entrypoint.methods`, `http.routes[].method`).
    HttpMethod {
        Get = "GET",
        Post = "POST",
        Put = "PUT",
        Patch = "PATCH",
        Delete = "DELETE",
        Head = "HEAD",
        Options = "OPTIONS",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips_through_its_spelling_and_serde() {
        fn check<T>(all: &[T])
        where
            T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display,
            T: std::str::FromStr<Err = String> + Serialize + for<'de> Deserialize<'de>,
        {
            for &value in all {
                let text = value.to_string();
                assert_eq!(text.parse::<T>(), Ok(value));
                let json = serde_json::to_string(&value).unwrap();
                assert_eq!(json, format!("\"{text}\""));
                assert_eq!(serde_json::from_str::<T>(&json).unwrap(), value);
            }
        }
        check(ServerKind::ALL);
        check(RequestKind::ALL);
        check(FieldEncoding::ALL);
        check(ResponseEncoding::ALL);
        check(TargetRuntime::ALL);
        check(NnBackend::ALL);
        check(ModelFormat::ALL);
        check(Dtype::ALL);
        check(TolerancePreset::ALL);
        check(HttpMethod::ALL);
    }

    #[test]
    fn an_unknown_spelling_is_refused_with_every_known_one() {
        let err = "cuda".parse::<NnBackend>().unwrap_err();
        assert!(err.contains("`cuda`"), "{err}");
        assert!(err.contains("openvino, onnx, pytorch"), "{err}");
    }

    #[test]
    fn dtypes_are_read_in_numpy_spelling_too() {
        assert_eq!(Dtype::from_any("int64"), Some(Dtype::I64));
        assert_eq!(Dtype::from_any("f32"), Some(Dtype::F32));
        assert_eq!(Dtype::from_any("complex64"), None);
        assert!(Dtype::Bf16.below_f32() && !Dtype::F32.below_f32());
    }

    #[test]
    fn onnx_models_run_on_wasmedge_through_the_openvino_plugin() {
        assert_eq!(NnBackend::Onnx.wasmedge_plugin(), NnBackend::Openvino);
        assert_eq!(NnBackend::Pytorch.wasmedge_plugin(), NnBackend::Pytorch);
        assert_eq!(ServerKind::Flask.default_port(), 5000);
    }
}
