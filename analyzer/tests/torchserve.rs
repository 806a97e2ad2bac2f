//! TorchServe services read as TorchServe runs them: the archive that `torch-model-archiver`
//! packs (from a script, a Makefile or a `.mar`), the handler `torchserve --models` serves,
//! and the steps its base classes apply. The services are tests/services/torchserve-*.

mod common;
use common::chain;
use wasm_migrate_analyzer::pipeline::ServingKind;
use wasm_migrate_analyzer::plan::ServerKind;
use wasm_migrate_analyzer::{MigrationPath, Options, Report, analyze};

fn report(name: &str) -> Report {
    let service = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("analyzer/ has a parent")
        .join("tests/services")
        .join(name);
    analyze(&service, &Options::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn the_handler_torchserve_serves_is_the_service_not_the_gateway_in_front_of_it() {
    let r = report("torchserve-digits");
    assert_eq!(r.recommendation.path, MigrationPath::WasiNnGlue);
    let entry = r.plan.service.entrypoint.as_ref().unwrap();
    assert_eq!(
        (entry.kind, entry.file.as_str(), entry.handler.as_str()),
        (ServingKind::Torchserve, "handler.py", "DigitHandler")
    );
    let choice = r.entrypoint.as_ref().unwrap();
    assert!(
        choice
            .evidence
            .starts_with("Dockerfile:3 `CMD [\"torchserve\""),
        "{choice:#?}"
    );
    assert!(
        choice
            .alternatives
            .iter()
            .any(|a| a.file == "gateway/app.py"),
        "{choice:#?}"
    );
    let server = r.plan.service.server.as_ref().unwrap();
    assert_eq!(server.kind, ServerKind::Torchserve);
    assert_eq!(server.app, "handler:DigitHandler");
    let archive = server.archive.as_ref().unwrap();
    assert_eq!(archive.model_name, "digits");
    assert_eq!(archive.version.as_deref(), Some("1.0"));
    assert_eq!(archive.handler, "handler.py");
    assert_eq!(archive.model_file.as_deref(), Some("digit_net.py"));
    assert_eq!(
        archive.serialized_file.as_deref(),
        Some("weights/digits.pt")
    );
    assert_eq!(archive.extra_files, ["index_to_name.json"]);
    assert!(
        archive
            .evidence
            .starts_with("archive.sh:5 `torch-model-archiver")
    );
    assert_eq!(
        chain(&r),
        [
            "pil open",
            "pil convert",
            "torchvision resize",
            "torchvision totensor",
            "torchvision normalize",
            "torch stack"
        ]
    );
}

#[test]
fn a_handler_on_image_classifier_gets_the_base_class_steps_and_its_archive() {
    let r = report("torchserve-image-classifier");
    assert_eq!(r.recommendation.path, MigrationPath::WasiNnGlue);
    let entry = r.plan.service.entrypoint.as_ref().unwrap();
    assert_eq!(entry.handler, "FlowerClassifier");
    let archive = r
        .plan
        .service
        .server
        .as_ref()
        .unwrap()
        .archive
        .as_ref()
        .unwrap();
    assert_eq!(
        (archive.model_name.as_str(), archive.version.as_deref()),
        ("flowers", Some("2.1"))
    );
    assert_eq!(archive.model_file.as_deref(), Some("flower_net.py"));
    assert_eq!(
        archive.serialized_file.as_deref(),
        Some("weights/flowers.pth")
    );
    assert!(archive.evidence.starts_with("Makefile:3 "), "{archive:#?}");
    assert_eq!(
        chain(&r),
        [
            "pil open",
            "torchvision resize",
            "torchvision centercrop",
            "torchvision totensor",
            "torchvision normalize"
        ]
    );
}
