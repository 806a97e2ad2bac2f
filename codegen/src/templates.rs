//! The tera templates in `templates/`, compiled into the binary so a pip-installed tool has
//! them; `--templates DIR` replaces any of them by a file of the same relative name.

use std::path::Path;

use crate::error::CodegenError;

/// `(name, text)` of every built-in template.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "glue/Cargo.toml.tera",
        include_str!("../../templates/glue/Cargo.toml.tera"),
    ),
    (
        "glue/cargo-config.toml.tera",
        include_str!("../../templates/glue/cargo-config.toml.tera"),
    ),
    (
        "glue/main.rs.tera",
        include_str!("../../templates/glue/main.rs.tera"),
    ),
    (
        "glue/README.md.tera",
        include_str!("../../templates/glue/README.md.tera"),
    ),
    (
        "deploy/run-wasmedge.sh.tera",
        include_str!("../../templates/deploy/run-wasmedge.sh.tera"),
    ),
    (
        "deploy/kubernetes.yaml.tera",
        include_str!("../../templates/deploy/kubernetes.yaml.tera"),
    ),
    (
        "deploy/Dockerfile.tera",
        include_str!("../../templates/deploy/Dockerfile.tera"),
    ),
    (
        "convert/convert_model.py.tera",
        include_str!("../../templates/convert/convert_model.py.tera"),
    ),
];

/// The name under which convert_model.py.tera includes the shared service module.
const SERVICE_HARNESS: &str = "convert/service.py";

/// The glue's server mode, copied as they are (no template variables).
pub const GLUE_SERVER: &[(&str, &str)] = &[
    ("serve.rs", include_str!("../../templates/glue/serve.rs")),
    (
        "respond.rs",
        include_str!("../../templates/glue/respond.rs"),
    ),
];

/// The image operations vendored into each image glue crate as `src/ops/`.
pub const OPS: &[(&str, &str)] = &[
    ("crop.rs", include_str!("../../preprocess/src/crop.rs")),
    (
        "cv_resize.rs",
        include_str!("../../preprocess/src/cv_resize.rs"),
    ),
    ("decode.rs", include_str!("../../preprocess/src/decode.rs")),
    ("exif.rs", include_str!("../../preprocess/src/exif.rs")),
    ("image.rs", include_str!("../../preprocess/src/image.rs")),
    (
        "jpeg/mod.rs",
        include_str!("../../preprocess/src/jpeg/mod.rs"),
    ),
    (
        "jpeg/color.rs",
        include_str!("../../preprocess/src/jpeg/color.rs"),
    ),
    (
        "jpeg/huffman.rs",
        include_str!("../../preprocess/src/jpeg/huffman.rs"),
    ),
    (
        "jpeg/idct.rs",
        include_str!("../../preprocess/src/jpeg/idct.rs"),
    ),
    (
        "jpeg/markers.rs",
        include_str!("../../preprocess/src/jpeg/markers.rs"),
    ),
    (
        "jpeg/scan.rs",
        include_str!("../../preprocess/src/jpeg/scan.rs"),
    ),
    (
        "jpeg/upsample.rs",
        include_str!("../../preprocess/src/jpeg/upsample.rs"),
    ),
    (
        "pil_resize.rs",
        include_str!("../../preprocess/src/pil_resize.rs"),
    ),
    ("tensor.rs", include_str!("../../preprocess/src/tensor.rs")),
    (
        "tf_resize.rs",
        include_str!("../../preprocess/src/tf_resize.rs"),
    ),
];

pub const OPS_MOD: &str = "//! Image operations with the numerics of PIL, torchvision, OpenCV, Keras and tf.image, vendored from\n\
//! wasm-migrate's `preprocess` crate, where each is tested against the Python library.\n\
// Not every service uses every operation.\n\
#![allow(dead_code)]\n\
\n\
pub mod crop;\n\
pub mod cv_resize;\n\
pub mod decode;\n\
pub mod exif;\n\
pub mod image;\n\
pub mod jpeg;\n\
pub mod pil_resize;\n\
pub mod tensor;\n\
pub mod tf_resize;\n\
\n\
pub use image::RgbImage;\n";

/// A tera instance with the built-in templates, overridden from `dir` where it has them.
pub fn load(dir: Option<&Path>) -> Result<tera::Tera, CodegenError> {
    let mut tera = tera::Tera::default();
    // Generated Rust, YAML and shell are not HTML.
    tera.autoescape_on(vec![]);
    // How convert_model.py imports and starts the service: pyharness's module, shared with
    // verify's harness, included (`{% include "convert/service.py" %}`) as it is.
    let service = format!(
        "{{% raw %}}{}{{% endraw %}}",
        wasm_migrate_pyharness::SERVICE.source
    );
    tera.add_raw_template(SERVICE_HARNESS, &service)
        .map_err(|e| template_error(SERVICE_HARNESS, &e))?;
    for (name, text) in BUILTIN {
        let text = match dir.map(|d| d.join(name)).filter(|p| p.is_file()) {
            Some(path) => std::fs::read_to_string(&path).map_err(crate::error::io(&path))?,
            None => (*text).to_string(),
        };
        tera.add_raw_template(name, &text)
            .map_err(|e| template_error(name, &e))?;
    }
    Ok(tera)
}

pub fn render(
    tera: &tera::Tera,
    name: &str,
    context: &tera::Context,
) -> Result<String, CodegenError> {
    tera.render(name, context)
        .map_err(|e| template_error(name, &e))
}

fn template_error(name: &str, e: &tera::Error) -> CodegenError {
    // tera's Display is the outer message only; the cause says what and where.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    CodegenError::Template {
        name: name.to_string(),
        message,
    }
}
