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

/// One architecture's default data config in timm: what `resolve_data_config` returns and
/// `create_transform(..., is_training=False)` turns into Resize(floor(size / crop_pct),
/// interpolation) -> CenterCrop(size) -> ToTensor -> Normalize(mean, std).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimmDefault {
    pub name: &'static str,
    /// The pretrained tag `timm.create_model(name)` picks.
    pub tag: &'static str,
    pub size: i64,
    pub crop_pct: f64,
    pub bicubic: bool,
    pub mean: [f64; 3],
    pub std: [f64; 3],
}

impl TimmDefault {
    /// The Resize before the crop: `math.floor(size / crop_pct)`, as timm computes it.
    pub fn scale_size(&self) -> i64 {
        (self.size as f64 / self.crop_pct).floor() as i64
    }
}

/// The default data config of `timm.create_model(model)`, for a model named without a tag or
/// with its default tag (`resnet50`, `resnet50.a1_in1k`).
pub fn timm_default(model: &str) -> Option<TimmDefault> {
    let (name, tag) = model
        .trim_start_matches("timm/")
        .split_once('.')
        .map_or((model.trim_start_matches("timm/"), None), |(n, t)| {
            (n, Some(t))
        });
    TIMM_DEFAULTS
        .iter()
        .find(|d| d.name == name && tag.is_none_or(|t| t == d.tag))
        .copied()
}

#[rustfmt::skip]
/// timm's default pretrained config per architecture (timm 1.0.22, the first tag of each):
/// (name, default tag, input size, crop_pct, bicubic, mean, std).
const TIMM_DEFAULTS: &[TimmDefault] = &[
    TimmDefault { name: "resnet18", tag: "a1_in1k", size: 224, crop_pct: 0.95, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "resnet34", tag: "a1_in1k", size: 224, crop_pct: 0.95, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "resnet50", tag: "a1_in1k", size: 224, crop_pct: 0.95, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "resnet101", tag: "a1h_in1k", size: 224, crop_pct: 0.95, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "resnet152", tag: "a1h_in1k", size: 224, crop_pct: 0.95, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "resnet50d", tag: "ra2_in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "resnext50_32x4d", tag: "a1h_in1k", size: 224, crop_pct: 0.95, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "seresnext50_32x4d", tag: "racm_in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "wide_resnet50_2", tag: "racm_in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "efficientnet_b0", tag: "ra_in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "efficientnet_b1", tag: "ra4_e3600_r240_in1k", size: 240, crop_pct: 0.9, bicubic: true, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    TimmDefault { name: "efficientnet_b2", tag: "ra_in1k", size: 256, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "efficientnet_b3", tag: "ra2_in1k", size: 288, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "efficientnet_b4", tag: "ra2_in1k", size: 320, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "tf_efficientnet_b0", tag: "ns_jft_in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "efficientnetv2_rw_s", tag: "ra2_in1k", size: 288, crop_pct: 1.0, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "tf_efficientnetv2_s", tag: "in21k_ft_in1k", size: 300, crop_pct: 1.0, bicubic: true, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    TimmDefault { name: "mobilenetv2_100", tag: "ra_in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "mobilenetv3_large_100", tag: "ra_in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "mobilenetv3_small_100", tag: "lamb_in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "tf_mobilenetv3_large_100", tag: "in1k", size: 224, crop_pct: 0.875, bicubic: false, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    TimmDefault { name: "mobilenetv4_conv_small", tag: "e2400_r224_in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "mobilenetv4_conv_medium", tag: "e500_r256_in1k", size: 256, crop_pct: 0.95, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "mobilenetv4_hybrid_medium", tag: "e200_r256_in12k_ft_in1k", size: 256, crop_pct: 0.95, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "convnext_tiny", tag: "in12k_ft_in1k", size: 224, crop_pct: 0.95, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "convnext_small", tag: "in12k_ft_in1k", size: 224, crop_pct: 0.95, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "convnext_base", tag: "fb_in22k_ft_in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "convnextv2_tiny", tag: "fcmae_ft_in22k_in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "vit_tiny_patch16_224", tag: "augreg_in21k_ft_in1k", size: 224, crop_pct: 0.9, bicubic: true, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    TimmDefault { name: "vit_small_patch16_224", tag: "augreg_in21k_ft_in1k", size: 224, crop_pct: 0.9, bicubic: true, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    TimmDefault { name: "vit_base_patch16_224", tag: "augreg2_in21k_ft_in1k", size: 224, crop_pct: 0.9, bicubic: true, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    TimmDefault { name: "deit_small_patch16_224", tag: "fb_in1k", size: 224, crop_pct: 0.9, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "deit_base_patch16_224", tag: "fb_in1k", size: 224, crop_pct: 0.9, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "swin_tiny_patch4_window7_224", tag: "ms_in1k", size: 224, crop_pct: 0.9, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "swin_base_patch4_window7_224", tag: "ms_in22k_ft_in1k", size: 224, crop_pct: 0.9, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "beit_base_patch16_224", tag: "in22k_ft_in22k_in1k", size: 224, crop_pct: 0.9, bicubic: true, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    TimmDefault { name: "eva02_tiny_patch14_224", tag: "mim_in22k", size: 224, crop_pct: 0.9, bicubic: true, mean: [0.481455, 0.457827, 0.408211], std: [0.26863, 0.261303, 0.275777] },
    TimmDefault { name: "densenet121", tag: "ra_in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "regnety_016", tag: "tv2_in1k", size: 224, crop_pct: 0.965, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "regnetx_002", tag: "pycls_in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "inception_v3", tag: "tv_in1k", size: 299, crop_pct: 0.875, bicubic: true, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    TimmDefault { name: "levit_128", tag: "fb_dist_in1k", size: 224, crop_pct: 0.9, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "mixnet_s", tag: "ft_in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "ghostnet_100", tag: "in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "rexnet_100", tag: "nav_in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "lcnet_050", tag: "ra2_in1k", size: 224, crop_pct: 0.875, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "edgenext_small", tag: "usi_in1k", size: 256, crop_pct: 0.95, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "efficientformer_l1", tag: "snap_dist_in1k", size: 224, crop_pct: 0.95, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "efficientvit_b0", tag: "r224_in1k", size: 224, crop_pct: 0.95, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "mobilevit_s", tag: "cvnets_in1k", size: 256, crop_pct: 0.9, bicubic: true, mean: [0.0, 0.0, 0.0], std: [1.0, 1.0, 1.0] },
    TimmDefault { name: "fastvit_t8", tag: "apple_in1k", size: 256, crop_pct: 0.9, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "coatnet_0_rw_224", tag: "sw_in1k", size: 224, crop_pct: 0.95, bicubic: true, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    TimmDefault { name: "maxvit_tiny_tf_224", tag: "in1k", size: 224, crop_pct: 0.95, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "repvgg_a2", tag: "rvgg_in1k", size: 224, crop_pct: 0.875, bicubic: false, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "hrnet_w18", tag: "ms_aug_in1k", size: 224, crop_pct: 0.95, bicubic: false, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "dla34", tag: "in1k", size: 224, crop_pct: 0.875, bicubic: false, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "cspresnet50", tag: "ra_in1k", size: 256, crop_pct: 0.887, bicubic: false, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "vgg16", tag: "tv_in1k", size: 224, crop_pct: 0.875, bicubic: false, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "vgg16_bn", tag: "tv_in1k", size: 224, crop_pct: 0.875, bicubic: false, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    TimmDefault { name: "nfnet_l0", tag: "ra2_in1k", size: 224, crop_pct: 0.9, bicubic: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
];

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
        "transformers.image_processor" => {
            "the image processor's resize, center crop, rescale and normalisation, set by the \
             model's preprocessor_config.json (not found in the service)"
        }
        "scikit-image" => {
            "scikit-image or SciPy resampling and colour conversion (skimage's `resize` \
             anti-aliases and returns floats in [0, 1] unless preserve_range=True), which the \
             glue does not mirror"
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
