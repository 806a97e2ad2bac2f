//! Model loads: calls matched against the loaders table (`data/pipeline/loaders.yaml`), and the
//! families matched by the shape of their name.

use super::{PipelineDetector, contains_ignore_case};
use crate::pipeline::tables::{self, ArchitectureSpec, LoaderEntry};
use crate::pipeline::{Framework, ModelLoad, StepLibrary};
use crate::python::{CallSite, Value};

/// Packages whose `from_pretrained` the tables or the families above already read (a model,
/// a tokenizer, a processor, a pipeline of modules): an unknown package's is a torch model.
const KNOWN_MODEL_PACKAGES: &[&str] = &[
    "transformers",
    "sentence_transformers",
    "tokenizers",
    "diffusers",
    "peft",
    "optimum",
    "timm",
    "torchvision",
    "keras",
    "tensorflow",
];

impl PipelineDetector {
    pub(super) fn model(
        &mut self,
        framework: Framework,
        site: &CallSite<'_, '_>,
        artifact: Option<Value>,
        architecture: Option<String>,
    ) {
        let mut params = site.all_args();
        params.retain(|k, v| !k.starts_with("arg") && v.is_literal());
        self.pipeline.models.push(ModelLoad {
            framework,
            call: site
                .qualified
                .clone()
                .unwrap_or_else(|| site.callee_text().to_string()),
            artifact: artifact.and_then(|v| v.as_str().map(str::to_string)),
            architecture,
            params,
            location: site.location(),
        });
        if let Some(holder) = self.holder_of(site) {
            self.model_holders.insert(holder);
        }
    }

    /// A model call: an entry of the loaders table, or one of the families matched by the
    /// shape of the name. Also takes timm's data-config calls, which are no steps themselves.
    pub(super) fn model_call(&mut self, q: &str, site: &CallSite<'_, '_>) -> bool {
        if let Some(entry) = tables::tables().loader(q) {
            return self.table_load(entry, site);
        }
        match q {
            "timm.data.create_transform" | "timm.data.transforms_factory.create_transform" => {
                self.timm_transform(site);
                true
            }
            // The config only feeds `create_transform`, which decides the steps.
            "timm.data.resolve_data_config"
            | "timm.data.resolve_model_data_config"
            | "timm.data.config.resolve_data_config" => true,
            _ => self.model_family(q, site),
        }
    }

    /// A call of a loaders table entry: what the entry says the call is, then one effect.
    fn table_load(&mut self, entry: &LoaderEntry, site: &CallSite<'_, '_>) -> bool {
        if !entry.first_argument_mentions.is_empty()
            && !site.arg_text(0).is_some_and(|text| {
                entry
                    .first_argument_mentions
                    .iter()
                    .any(|m| contains_ignore_case(text, m))
            })
        {
            return false;
        }
        let artifact = entry
            .artifact
            .as_ref()
            .and_then(|a| site.arg(a.position, a.keyword()));
        let architecture = entry
            .architecture
            .as_ref()
            .and_then(|a| self.architecture(site, a));
        let path = artifact.as_ref().and_then(Value::as_str).unwrap_or("");
        let framework = entry.framework_for(path);
        if let Some(library) = &entry.hidden {
            self.hidden(library, site);
        }
        self.model(framework, site, artifact, architecture);
        true
    }

    /// The architecture a model call names, or, when it is a parameter of the function the
    /// call is in, a note that the function's callers would name it.
    fn architecture(&mut self, site: &CallSite<'_, '_>, spec: &ArchitectureSpec) -> Option<String> {
        if let Some(fixed) = &spec.fixed {
            return Some(fixed.clone());
        }
        let (position, keyword) = (spec.position, spec.keyword.as_deref());
        let arch = site
            .arg(position, keyword)
            .and_then(|v| v.as_str().map(str::to_string));
        if arch.is_none()
            && spec.from_callers
            && let Some(function) = site.forwarded_from(position, keyword)
            && !self
                .pipeline
                .wants_arguments_of
                .iter()
                .any(|f| f == function)
        {
            self.pipeline.wants_arguments_of.push(function.to_string());
        }
        arch
    }

    /// Loaders matched by the shape of their name: `transformers.<Class>.from_pretrained`,
    /// `torchvision.models.<name>`, `keras.applications.<Name>`. Each family has exceptions
    /// by name (configs, tokenizers, weights enums), which a table of names cannot say.
    fn model_family(&mut self, q: &str, site: &CallSite<'_, '_>) -> bool {
        let parts: Vec<&str> = q.split('.').collect();
        match parts.as_slice() {
            ["transformers", class, "from_pretrained"] => {
                self.transformers_from_pretrained(class, site)
            }
            ["torchvision", "models", name] => {
                if !name.starts_with(|c: char| c.is_ascii_lowercase())
                    || name.starts_with("get_")
                    || name.ends_with("_weights")
                    || *name == "list_models"
                {
                    return false;
                }
                self.model(Framework::Pytorch, site, None, Some(name.to_string()));
            }
            [.., name]
                if (q.starts_with("tensorflow.keras.applications.")
                    || q.starts_with("keras.applications."))
                    && name.starts_with(|c: char| c.is_ascii_uppercase()) =>
            {
                self.model(Framework::Keras, site, None, Some(name.to_string()));
            }
            // A pretrained network from a package the knowledge base does not name
            // (`EfficientNet.from_pretrained("efficientnet-b0")`) in a file that uses torch:
            // a torch model, which convert finds at run time by what it is.
            [package, .., class, "from_pretrained"]
                if self.imports_torch
                    && !KNOWN_MODEL_PACKAGES.contains(package)
                    && class.starts_with(|c: char| c.is_ascii_uppercase()) =>
            {
                self.model(Framework::Pytorch, site, None, Some(class.to_string()));
            }
            _ => return false,
        }
        true
    }

    /// `transformers.<Class>.from_pretrained`: a model, or a tokenizer or processor (a step
    /// whose holder later calls are steps too), or a config (settings, not weights).
    fn transformers_from_pretrained(&mut self, class: &str, site: &CallSite<'_, '_>) {
        // `AutoConfig` and `GenerationConfig` read settings (labels), not weights.
        if class.ends_with("Config") {
            return;
        }
        if !(class.contains("Tokenizer")
            || class.contains("Processor")
            || class.contains("FeatureExtractor"))
        {
            self.model(
                Framework::Transformers,
                site,
                site.arg(Some(0), Some("pretrained_model_name_or_path")),
                Some(class.to_string()),
            );
            return;
        }
        // An image processor's steps come from the model directory's
        // preprocessor_config.json, read service-wide (`service/hf_config.rs`).
        let image = is_image_processor(class);
        let library = if image {
            StepLibrary::Transformers
        } else {
            StepLibrary::Tokenizer
        };
        let params = Self::named_params(site, &["pretrained_model_name_or_path"]);
        let step = self.step(library, &format!("{class}.from_pretrained"), params, site);
        self.pipeline.preprocessing.push(step);
        if let Some(holder) = self.holder_of(site) {
            let holders = if image {
                &mut self.image_processor_holders
            } else {
                &mut self.tokenizer_holders
            };
            holders.insert(holder);
        }
    }
}

/// A Hugging Face image processor class (`AutoImageProcessor`, `ViTImageProcessor`,
/// `ViTFeatureExtractor`), not an audio feature extractor or a text processor.
fn is_image_processor(class: &str) -> bool {
    let audio = ["Wav2Vec", "Whisper", "Audio", "Speech", "Clap", "Encodec"]
        .iter()
        .any(|a| class.contains(a));
    !audio && (class.contains("ImageProcessor") || class.ends_with("FeatureExtractor"))
}
