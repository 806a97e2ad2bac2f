//! The key facts of every bundled sample: framework, model path, each preprocessing step with
//! its parameters, each blocker with its line, and the recommended path.

mod common;
use common::chain;
use wasm_migrate_analyzer::pipeline::{Framework, InputKind, ServingKind, Step, StepLibrary};
use wasm_migrate_analyzer::plan::Layout;
use wasm_migrate_analyzer::python::Value;
use wasm_migrate_analyzer::{MigrationPath, Options, Report, analyze};

/// A sample service of the repository (`samples/NAME`).
fn sample(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("analyzer/ has a parent")
        .join("samples")
        .join(name)
}

fn report(name: &str) -> Report {
    analyze(&sample(name), &Options::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn step<'r>(report: &'r Report, library: StepLibrary, op: &str) -> &'r Step {
    report
        .pipeline
        .preprocessing
        .iter()
        .find(|s| s.library == library && s.op == op)
        .unwrap_or_else(|| {
            panic!(
                "no {library:?} {op} step in {:#?}",
                report.pipeline.preprocessing
            )
        })
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_list()
        .expect("a list")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn finding_lines(report: &Report, rule: &str) -> Vec<(String, u32)> {
    report
        .findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| (f.location.file.clone(), f.location.line))
        .collect()
}

#[test]
fn torchvision_flask() {
    let r = report("torchvision-flask");
    assert_eq!(r.recommendation.path, MigrationPath::WasiNnGlue);
    let model = r.plan.model.as_ref().expect("a model");
    assert_eq!(model.framework, Framework::Pytorch);
    assert_eq!(model.artifact.as_deref(), Some("model/resnet18.pt"));
    assert_eq!(model.architecture.as_deref(), Some("resnet18"));
    assert_eq!(
        chain(&r),
        [
            "pil open",
            "pil convert",
            "torchvision resize",
            "torchvision centercrop",
            "torchvision totensor",
            "torchvision normalize",
            "torch unsqueeze"
        ]
    );
    let resize = step(&r, StepLibrary::Torchvision, "Resize");
    assert_eq!(resize.param("size"), Some(&Value::Int(256)));
    assert_eq!(resize.param("antialias"), Some(&Value::Bool(true)));
    assert_eq!(
        resize.param("interpolation").and_then(Value::as_symbol),
        Some("torchvision.transforms.InterpolationMode.BILINEAR")
    );
    assert_eq!(
        step(&r, StepLibrary::Torchvision, "CenterCrop").param("size"),
        Some(&Value::Int(224))
    );
    let normalize = step(&r, StepLibrary::Torchvision, "Normalize");
    assert_eq!(
        floats(normalize.param("mean").unwrap()),
        [0.485, 0.456, 0.406]
    );
    assert_eq!(
        floats(normalize.param("std").unwrap()),
        [0.229, 0.224, 0.225]
    );
    assert_eq!(
        step(&r, StepLibrary::Pil, "convert")
            .param("mode")
            .and_then(Value::as_str),
        Some("RGB")
    );
    let input = r.plan.input.as_ref().unwrap();
    assert_eq!(input.kind, InputKind::Image);
    assert_eq!(input.shape.as_deref(), Some(&[1, 3, 224, 224][..]));
    assert_eq!(input.layout, Some(Layout::Nchw));
    let ops: Vec<&str> = r
        .plan
        .postprocessing
        .iter()
        .map(|s| s.op.as_str())
        .collect();
    assert_eq!(ops, ["softmax", "topk"]);
    assert_eq!(r.plan.labels.as_deref(), Some("labels.txt"));
    let entry = r.plan.service.entrypoint.as_ref().unwrap();
    assert_eq!(
        (entry.kind, entry.handler.as_str(), entry.route.as_deref()),
        (ServingKind::Flask, "predict", Some("/predict"))
    );
    assert_eq!(
        entry.methods,
        [wasm_migrate_analyzer::plan::HttpMethod::Post]
    );
    // torch.load with weights_only=True is safe: no unpickling finding.
    assert!(finding_lines(&r, "dynamic-torch-load-unsafe").is_empty());
    // numpy is declared through `-r requirements-base.txt`, with its line there.
    let numpy = r
        .packages
        .iter()
        .find(|p| p.distribution == "numpy")
        .expect("numpy declared");
    assert!(
        numpy
            .declared
            .iter()
            .any(|d| d.file.ends_with("requirements-base.txt") && d.line > 0)
    );
}

#[test]
fn keras_fastapi() {
    let r = report("keras-fastapi");
    assert_eq!(r.recommendation.path, MigrationPath::WasiNnGlue);
    let model = r.plan.model.as_ref().unwrap();
    assert_eq!(model.framework, Framework::Keras);
    assert_eq!(model.artifact.as_deref(), Some("model/mobilenet_v2.keras"));
    assert_eq!(
        chain(&r),
        [
            "pil open",
            "pil convert",
            "pil resize",
            "numpy asarray",
            "numpy expand_dims",
            "keras preprocess_input"
        ]
    );
    let resize = step(&r, StepLibrary::Pil, "resize");
    assert_eq!(
        resize.param("size"),
        Some(&Value::List(vec![Value::Int(160), Value::Int(160)]))
    );
    assert_eq!(
        resize.param("resample").and_then(Value::as_symbol),
        Some("PIL.Image.BILINEAR")
    );
    let pre = step(&r, StepLibrary::Keras, "preprocess_input");
    assert_eq!(pre.param("mode").and_then(Value::as_str), Some("tf"));
    assert_eq!(
        pre.param("application").and_then(Value::as_str),
        Some("mobilenet_v2")
    );
    assert_eq!(
        r.plan.input.as_ref().unwrap().shape.as_deref(),
        Some(&[1, 160, 160, 3][..])
    );
    let entry = r.plan.service.entrypoint.as_ref().unwrap();
    assert_eq!(
        (entry.kind, entry.route.as_deref()),
        (ServingKind::Fastapi, Some("/predict"))
    );
    // uvicorn.run under __main__ binds a port: a blocker with its line.
    assert_eq!(
        finding_lines(&r, "network-app-server"),
        [("main.py".to_string(), 62)]
    );
    // pyproject's dev extra is dev-only.
    let pytest = r
        .packages
        .iter()
        .find(|p| p.distribution == "pytest")
        .expect("pytest declared");
    assert!(pytest.declared.iter().all(|d| d.dev));
}

#[test]
fn torchserve_handler() {
    let r = report("torchserve-handler");
    assert_eq!(r.recommendation.path, MigrationPath::WasiNnGlue);
    let model = r.plan.model.as_ref().unwrap();
    assert_eq!(model.framework, Framework::Torchscript);
    let entry = r.plan.service.entrypoint.as_ref().unwrap();
    assert_eq!(
        (entry.kind, entry.handler.as_str()),
        (ServingKind::Torchserve, "ImageClassifierHandler")
    );
    let handler = r
        .pipeline
        .serving
        .iter()
        .find(|e| e.kind == ServingKind::Torchserve)
        .unwrap();
    assert_eq!(
        handler.handler_methods,
        ["initialize", "preprocess", "inference", "postprocess"]
    );
    let resize = step(&r, StepLibrary::Torchvision, "Resize");
    assert_eq!(
        resize.param("size"),
        Some(&Value::List(vec![Value::Int(224), Value::Int(224)]))
    );
    assert_eq!(
        r.plan.input.as_ref().unwrap().shape.as_deref(),
        Some(&[1, 3, 224, 224][..])
    );
    assert_eq!(r.pipeline.label_files, ["index_to_name.json"]);
}

#[test]
fn hf_text_classifier() {
    let r = report("hf-text-classifier");
    assert_eq!(r.recommendation.path, MigrationPath::WasiNnGlue);
    let model = r.plan.model.as_ref().unwrap();
    assert_eq!(model.framework, Framework::Transformers);
    assert_eq!(model.artifact.as_deref(), Some("./model"));
    let tokenize = step(&r, StepLibrary::Tokenizer, "__call__");
    assert_eq!(tokenize.param("max_length"), Some(&Value::Int(64)));
    assert_eq!(
        tokenize.param("padding").and_then(Value::as_str),
        Some("max_length")
    );
    assert_eq!(tokenize.param("truncation"), Some(&Value::Bool(true)));
    let input = r.plan.input.as_ref().unwrap();
    assert_eq!(
        (input.kind, input.shape.as_deref()),
        (InputKind::Text, Some(&[1, 64][..]))
    );
    // Local paths are not downloads.
    assert!(finding_lines(&r, "download-from-pretrained").is_empty());
}

#[test]
fn onnxruntime_service() {
    let r = report("onnxruntime-service");
    assert_eq!(r.recommendation.path, MigrationPath::WasiNnGlue);
    let model = r.plan.model.as_ref().unwrap();
    assert_eq!(
        (model.framework, model.artifact.as_deref()),
        (Framework::Onnx, Some("model/classifier.onnx"))
    );
    assert_eq!(
        chain(&r),
        [
            "numpy frombuffer",
            "opencv imdecode",
            "opencv cvtcolor",
            "opencv resize",
            "numpy astype",
            "numpy divide",
            "numpy subtract",
            "numpy divide",
            "numpy transpose",
            "numpy expand_dims"
        ]
    );
    let resize = step(&r, StepLibrary::Opencv, "resize");
    // OpenCV's dsize is (width, height): 128 wide, 96 high.
    assert_eq!(
        resize.param("dsize"),
        Some(&Value::List(vec![Value::Int(128), Value::Int(96)]))
    );
    assert_eq!(
        resize.param("interpolation").and_then(Value::as_symbol),
        Some("cv2.INTER_LINEAR")
    );
    assert_eq!(
        step(&r, StepLibrary::Opencv, "cvtColor")
            .param("code")
            .and_then(Value::as_symbol),
        Some("cv2.COLOR_BGR2RGB")
    );
    assert_eq!(
        step(&r, StepLibrary::Numpy, "subtract")
            .param("value")
            .map(floats),
        Some(vec![0.5, 0.5, 0.5])
    );
    let input = r.plan.input.as_ref().unwrap();
    assert_eq!(
        (input.shape.as_deref(), input.layout),
        (Some(&[1, 3, 96, 128][..]), Some(Layout::Nchw))
    );
}

#[test]
fn sklearn_service() {
    let r = report("sklearn-service");
    assert_eq!(r.recommendation.path, MigrationPath::WasiPython);
    let model = r.plan.model.as_ref().unwrap();
    assert_eq!(
        (model.framework, model.artifact.as_deref()),
        (Framework::Sklearn, Some("model/iris.joblib"))
    );
    assert_eq!(r.plan.input.as_ref().unwrap().kind, InputKind::Tabular);
    assert_eq!(
        finding_lines(&r, "dynamic-pickle-load"),
        [("app.py".to_string(), 18)]
    );
}

#[test]
fn blocked_monolith() {
    let r = report("blocked-monolith");
    assert_eq!(r.recommendation.path, MigrationPath::Container);
    let server = |rule: &str| -> Vec<u32> {
        finding_lines(&r, rule)
            .into_iter()
            .filter(|(f, _)| f == "server.py")
            .map(|(_, l)| l)
            .collect()
    };
    assert_eq!(server("process-subprocess"), [49]);
    assert_eq!(server("process-multiprocessing"), [37]);
    assert_eq!(server("cuda-method-call"), [42]);
    assert_eq!(server("cuda-opencv"), [63, 65]);
    assert_eq!(server("fs-write-outside-service"), [56, 57]);
    assert_eq!(server("fs-tempfile"), [76]);
    assert_eq!(
        finding_lines(&r, "system-cpp-extension"),
        [("setup.py".to_string(), 13)]
    );
    assert!(
        finding_lines(&r, "system-native-sources")
            .iter()
            .any(|(f, _)| f == "csrc/fastops_kernel.cu")
    );
    for path in &r.recommendation.paths {
        assert!(!path.viable, "{:?} should be blocked", path.path);
    }
    assert!(
        r.recommendation
            .deciding_findings
            .contains(&"process-subprocess".to_string())
    );
}
