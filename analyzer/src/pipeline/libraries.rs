//! Steps that libraries perform inside a call the service makes: torchvision's weights
//! presets (`ResNet50_Weights.DEFAULT.transforms()`), TorchServe's `ImageClassifier`, and,
//! for libraries whose steps the plan cannot express (ultralytics, sentence-transformers,
//! `transformers.pipeline`, timm's resolved data config), what they do, for the finding that
//! says the plan is incomplete.

/// ImageNet's mean and standard deviation, which every torchvision classification preset and
/// TorchServe's `ImageClassifier` normalise with.
pub const IMAGENET_MEAN: [f64; 3] = [0.485, 0.456, 0.406];
pub const IMAGENET_STD: [f64; 3] = [0.229, 0.224, 0.225];

/// `ImageClassification(crop_size, resize_size, interpolation)` of one torchvision weights
/// entry: Resize(resize, interpolation, antialias) -> CenterCrop(crop) -> to float ->
/// Normalize(ImageNet).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassificationPreset {
    pub resize: i64,
    pub crop: i64,
    pub bicubic: bool,
}

const fn preset(crop: i64, resize: i64, bicubic: bool) -> ClassificationPreset {
    ClassificationPreset {
        resize,
        crop,
        bicubic,
    }
}

/// Weights whose `DEFAULT` is `IMAGENET1K_V2`, trained with a 232 resize.
const V2_DEFAULT_232: &[&str] = &[
    "ResNet50_Weights",
    "ResNet101_Weights",
    "ResNet152_Weights",
    "ResNeXt50_32X4D_Weights",
    "ResNeXt101_32X8D_Weights",
    "Wide_ResNet50_2_Weights",
    "Wide_ResNet101_2_Weights",
    "MobileNet_V2_Weights",
    "MobileNet_V3_Large_Weights",
];

/// (weights enum, preset) for entries that differ from the 256 -> 224 bilinear default.
const SPECIAL: &[(&str, ClassificationPreset)] = &[
    ("Inception_V3_Weights", preset(299, 342, false)),
    ("EfficientNet_B0_Weights", preset(224, 256, true)),
    (
        "EfficientNet_B1_Weights.IMAGENET1K_V1",
        preset(240, 256, true),
    ),
    ("EfficientNet_B1_Weights", preset(240, 255, false)),
    ("EfficientNet_B2_Weights", preset(288, 288, true)),
    ("EfficientNet_B3_Weights", preset(300, 320, true)),
    ("EfficientNet_B4_Weights", preset(380, 384, true)),
    ("EfficientNet_B5_Weights", preset(456, 456, true)),
    ("EfficientNet_B6_Weights", preset(528, 528, true)),
    ("EfficientNet_B7_Weights", preset(600, 600, true)),
    ("ConvNeXt_Tiny_Weights", preset(224, 236, false)),
    ("ConvNeXt_Small_Weights", preset(224, 230, false)),
    ("ConvNeXt_Base_Weights", preset(224, 232, false)),
    ("ConvNeXt_Large_Weights", preset(224, 232, false)),
];

/// Families known to use the plain 256 -> 224 bilinear preset in their `IMAGENET1K_V1`.
const PLAIN_V1: &[&str] = &[
    "ResNet",
    "ResNeXt",
    "Wide_ResNet",
    "MobileNet",
    "DenseNet",
    "VGG",
    "AlexNet",
    "SqueezeNet",
    "GoogLeNet",
    "ShuffleNet_V2_X0_5",
    "ShuffleNet_V2_X1_0",
    "MNASNet0_5",
    "MNASNet1_0",
];

/// The preset of a weights symbol (`torchvision.models.ResNet50_Weights.DEFAULT`,
/// `ResNet18_Weights.IMAGENET1K_V1`), when the table knows it.
pub fn classification_preset(symbol: &str) -> Option<ClassificationPreset> {
    let parts: Vec<&str> = symbol.split('.').collect();
    let at = parts.iter().position(|p| p.ends_with("_Weights"))?;
    let enum_name = parts[at];
    let entry = parts.get(at + 1).copied().unwrap_or("DEFAULT");
    let qualified = format!("{enum_name}.{entry}");
    if let Some((_, p)) = SPECIAL.iter().find(|(k, _)| *k == qualified) {
        return Some(*p);
    }
    if let Some((_, p)) = SPECIAL.iter().find(|(k, _)| *k == enum_name) {
        return Some(*p);
    }
    if V2_DEFAULT_232.contains(&enum_name) && matches!(entry, "DEFAULT" | "IMAGENET1K_V2") {
        return Some(preset(224, 232, false));
    }
    let family = enum_name.trim_end_matches("_Weights");
    let v1 = matches!(entry, "IMAGENET1K_V1")
        || (entry == "DEFAULT" && !V2_DEFAULT_232.contains(&enum_name));
    (v1 && PLAIN_V1.iter().any(|f| family.starts_with(f))).then_some(preset(224, 256, false))
}

/// What a library does around a model call that the plan cannot list as steps.
pub fn hidden_steps(library: &str) -> &'static str {
    match library {
        "ultralytics" => {
            "letterbox to the model's imgsz (640 unless `imgsz=` says otherwise) with grey (114) \
             padding, BGR to RGB, HWC to CHW, divide by 255; after the model: confidence filter \
             (0.25), NMS (IoU 0.7) and boxes scaled back to the image"
        }
        "sentence-transformers" => {
            "the model's tokenizer (truncating at `max_seq_length`), the pooling module of \
             modules.json (mean pooling for most models) and L2 normalisation when \
             `normalize_embeddings=True` or a Normalize module is configured"
        }
        "transformers.pipeline" => {
            "the pipeline's tokenizer or image processor, configured by the model's \
             tokenizer_config.json / preprocessor_config.json, and its postprocessing \
             (softmax or sigmoid, top-k, id2label from config.json)"
        }
        "timm" => {
            "resize, center crop and normalisation from the model's pretrained config \
             (input_size, interpolation, crop_pct, mean, std)"
        }
        "sklearn" => {
            "a fitted scikit-learn transformer (vectorizer vocabulary and weights, scaling, \
             encoding) whose parameters live in the pickled object, not in the code"
        }
        "torchserve" => {
            "the base handler's `image_processing`, which a `VisionHandler` subclass must set"
        }
        _ => "steps the knowledge base does not know",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_follow_torchvision() {
        let p = |s| classification_preset(s);
        assert_eq!(
            p("torchvision.models.ResNet18_Weights.DEFAULT"),
            Some(preset(224, 256, false))
        );
        assert_eq!(p("ResNet50_Weights.DEFAULT"), Some(preset(224, 232, false)));
        assert_eq!(
            p("ResNet50_Weights.IMAGENET1K_V1"),
            Some(preset(224, 256, false))
        );
        assert_eq!(
            p("EfficientNet_B0_Weights.DEFAULT"),
            Some(preset(224, 256, true))
        );
        assert_eq!(
            p("Inception_V3_Weights.DEFAULT"),
            Some(preset(299, 342, false))
        );
        // Not in the table: said so, never guessed.
        assert_eq!(p("ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1"), None);
        assert_eq!(p("torchvision.models.resnet18"), None);
    }
}
