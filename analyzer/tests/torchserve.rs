//! TorchServe services read as TorchServe runs them: the archive that `torch-model-archiver`
//! packs (from a script, a Makefile or a `.mar`), the handler `torchserve --models` serves,
//! and the steps its base classes apply. The services are tests/services/torchserve-*.

mod common;
use common::chain;
use wasm_migrate_analyzer::pipeline::ServingKind;
use wasm_migrate_analyzer::plan::{ServerKind, TorchserveArchive};
use wasm_migrate_analyzer::{MigrationPath, Options, Report, analyze};

fn report(name: &str) -> Report {
    let service = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("analyzer/ has a parent")
        .join("tests/services")
        .join(name);
    analyze(&service, &Options::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The plan's TorchServe archive.
fn archive(report: &Report) -> &TorchserveArchive {
    let server = report.plan.service.server.as_ref().expect("a server");
    server.archive.as_ref().expect("an archive")
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
fn the_built_in_image_classifier_by_name_gets_torchserve_s_steps_and_answer() {
    // `--handler image_classifier`: no handler code in the service, only the model file.
    let r = report("torchserve-image-classifier");
    assert_eq!(r.recommendation.path, MigrationPath::WasiNnGlue);
    let entry = r.plan.service.entrypoint.as_ref().unwrap();
    assert_eq!(
        (entry.kind, entry.file.as_str(), entry.handler.as_str()),
        (ServingKind::Torchserve, "flower_net.py", "ImageClassifier")
    );
    let archive = archive(&r);
    assert_eq!(
        (archive.model_name.as_str(), archive.version.as_deref()),
        ("flowers", Some("2.1"))
    );
    assert_eq!(archive.builtin_handler(), Some("ImageClassifier"));
    assert_eq!(
        archive.serialized_file.as_deref(),
        Some("weights/flowers.pth")
    );
    assert!(archive.evidence.starts_with("Makefile:3 "), "{archive:#?}");
    assert_eq!(
        r.plan.model.as_ref().unwrap().artifact.as_deref(),
        Some("weights/flowers.pth")
    );
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
    let post: Vec<&str> = r
        .plan
        .postprocessing
        .iter()
        .map(|s| s.op.as_str())
        .collect();
    assert_eq!(post, ["softmax", "topk"]);
}

#[test]
fn a_subclass_of_image_classifier_keeps_its_own_topk() {
    let (_dir, r) = common::service(&[
        (
            "handler.py",
            "from ts.torch_handler.image_classifier import ImageClassifier\n\n\n\
             class Flowers(ImageClassifier):\n    topk = 3\n",
        ),
        (
            "net.py",
            "from torch import nn\n\n\nclass Net(nn.Module):\n    pass\n",
        ),
        (
            "build.sh",
            "torch-model-archiver --model-name flowers --model-file net.py \\\n  \
             --serialized-file net.pth --handler handler.py\n",
        ),
    ]);
    let entry = r.plan.service.entrypoint.as_ref().unwrap();
    assert_eq!(
        (entry.file.as_str(), entry.handler.as_str()),
        ("handler.py", "Flowers")
    );
    let archive = archive(&r);
    assert_eq!(archive.model_file.as_deref(), Some("net.py"));
    assert_eq!(archive.builtin_handler(), None);
    let topk = r
        .plan
        .postprocessing
        .iter()
        .find(|s| s.op == "topk")
        .unwrap();
    assert_eq!(topk.params.get("k").and_then(|v| v.as_i64()), Some(3));
}
