//! Whole-output snapshots of verify's renderings (text, JSON, HTML) on a fixed report: one
//! backend where every input agrees, one where an input differs at stage 1 (blamed on a step)
//! and another fails to run. The tool version is redacted.

use std::collections::BTreeMap;

use crate::compare::{Tolerance, compare};
use crate::diagnose::{Blame, Cause};
use crate::report::{
    BackendReport, InputInfo, InputResult, OriginalSide, OutputResult, SCHEMA, SCHEMA_VERSION,
    Stage, Timing, Tolerances, TopK, Verdict, VerifyReport, WallTime,
};

const STAGE1: Tolerance = Tolerance {
    atol: 1.0 / 255.0,
    rtol: 0.0,
};
const OUTPUTS: Tolerance = Tolerance {
    atol: 1e-4,
    rtol: 1e-3,
};

fn timing(load_s: f64) -> Timing {
    Timing::from_inferences(load_s, &[0.0871, 0.0410, 0.0398, 0.0402])
}

/// An input on which the two sides agree within tolerance (logits off by a few ulps).
fn agreeing(input: &str) -> InputResult {
    let pixels = [0.1f32, 0.5, 0.9, 0.25, 0.75, 0.0];
    let logits = [2.5f32, -1.0, 0.125, 3.75];
    let moved = [2.500_001_f32, -1.000_002, 0.125, 3.749_999];
    InputResult {
        input: input.into(),
        verdict: Verdict::Equivalent,
        error: None,
        preprocessed: Some(compare(&[1, 6], &pixels, &[1, 6], &pixels, STAGE1)),
        outputs: vec![OutputResult {
            name: "logits".into(),
            comparison: compare(&[1, 4], &logits, &[1, 4], &moved, OUTPUTS),
            top_k: Some(TopK {
                k: 2,
                expected: vec![3, 0],
                actual: vec![3, 0],
                top1_equal: true,
                overlap: 2,
            }),
        }],
        labels: None,
        stage: None,
        blame: None,
        explanation: None,
    }
}

/// An input whose preprocessing differs: every value scaled, as a wrong Normalize would.
fn normalised_wrongly(input: &str) -> InputResult {
    let pixels = [0.1f32, 0.5, 0.9, 0.25, 0.75, 0.0];
    let scaled: Vec<f32> = pixels.iter().map(|v| v * 1.1).collect();
    let logits = [2.5f32, -1.0, 0.125, 3.75];
    let wrong = [1.5f32, -0.5, 0.5, 1.25];
    InputResult {
        input: input.into(),
        verdict: Verdict::Differ,
        error: None,
        preprocessed: Some(compare(&[1, 6], &pixels, &[1, 6], &scaled, STAGE1)),
        outputs: vec![OutputResult {
            name: "logits".into(),
            comparison: compare(&[1, 4], &logits, &[1, 4], &wrong, OUTPUTS),
            top_k: Some(TopK {
                k: 2,
                expected: vec![3, 0],
                actual: vec![0, 3],
                top1_equal: false,
                overlap: 2,
            }),
        }],
        labels: None,
        stage: Some(Stage::Preprocessing),
        blame: Some(Blame {
            cause: Cause::Normalization,
            step: Some("torchvision.Normalize (app.py:21)".into()),
            reason: "every channel is Python's times 1.1".into(),
        }),
        explanation: Some("the tensor fed to the model differs: look at Normalize".into()),
    }
}

fn backend(name: &str, verdict: Verdict, results: Vec<InputResult>) -> BackendReport {
    BackendReport {
        backend: name.into(),
        version: "1.0.0".into(),
        precision: "f32".into(),
        model: vec!["model/model.onnx".into()],
        weights: "f32".into(),
        verdict,
        timing: timing(0.21),
        results,
    }
}

fn sample_report() -> VerifyReport {
    let mut failed = agreeing("corrupt.png");
    failed.verdict = Verdict::Differ;
    failed.error = Some("corrupt.png: the service answered 400 Bad Request".into());
    failed.preprocessed = None;
    failed.outputs.clear();
    VerifyReport {
        schema: SCHEMA.into(),
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        service: "samples/torchvision-flask".into(),
        module: "samples/torchvision-flask/migrated/app.wasm".into(),
        verdict: Verdict::Differ,
        summary: "differ: stage 1 on openvino (normalization at torchvision.Normalize)".into(),
        warnings: vec!["the service names no labels file".into()],
        tolerances: Tolerances {
            preprocessed: STAGE1,
            preset: "cross-backend".into(),
            outputs: OUTPUTS,
            overrides: BTreeMap::from([(
                "logits".into(),
                Tolerance {
                    atol: 1e-3,
                    rtol: 0.0,
                },
            )]),
        },
        inputs: ["chelsea.png", "coffee.png", "corrupt.png"]
            .iter()
            .map(|n| InputInfo {
                name: (*n).into(),
                path: format!("inputs/{n}"),
                source: "user".into(),
            })
            .collect(),
        original: OriginalSide {
            python: "venv/bin/python".into(),
            versions: BTreeMap::from([("torch".into(), "2.15.0".into())]),
            watched: vec!["model (torch: ResNet)".into()],
            timing: timing(3.4),
        },
        backends: vec![
            backend(
                "tract",
                Verdict::Equivalent,
                vec![agreeing("chelsea.png"), agreeing("coffee.png")],
            ),
            backend(
                "openvino",
                Verdict::Differ,
                vec![
                    agreeing("chelsea.png"),
                    normalised_wrongly("coffee.png"),
                    failed,
                ],
            ),
        ],
        wall_time: WallTime {
            total_s: 9.5,
            python_startup_s: 3.4,
            python_inference_s: 0.4,
            wasm_load_s: 0.6,
            wasm_inference_s: 0.3,
            compare_s: 0.01,
        },
    }
}

fn redacted(text: &str) -> String {
    text.replace(env!("CARGO_PKG_VERSION"), "[version]")
}

#[test]
fn text() {
    insta::assert_snapshot!(redacted(&super::text(&sample_report())));
}

#[test]
fn json() {
    let json = serde_json::to_string_pretty(&sample_report()).unwrap();
    insta::assert_snapshot!(redacted(&json));
}

#[test]
fn html() {
    insta::assert_snapshot!(redacted(&super::html(&sample_report())));
}

/// One answer, as a side gave it.
fn answered(status: u16, body: &str) -> crate::http::Answered {
    crate::http::Answered {
        status,
        content_type: if body.starts_with('{') {
            "application/json".into()
        } else {
            "text/html; charset=utf-8".into()
        },
        body: body.into(),
        seconds: 0.012,
    }
}

/// `verify --http` on a service: inputs that agree (numbers within tolerance), a health route,
/// a bad request both refuse alike, and one the module answers otherwise.
fn http_report() -> crate::http::HttpReport {
    use crate::http::{Exchange, ExchangeKind, HttpReport};
    let exchange =
        |request: &str, kind: ExchangeKind, original, migrated, agree: bool, detail: &str| {
            Exchange {
                request: request.into(),
                kind,
                original: Some(original),
                migrated: Some(migrated),
                agree,
                detail: detail.into(),
                stages: Vec::new(),
                accepted: None,
            }
        };
    let exchanges = vec![
        exchange(
            "POST /predict image=astronaut.jpg",
            ExchangeKind::Input,
            answered(200, r#"{"label": "cat", "score": 0.912345}"#),
            answered(200, r#"{"label": "cat", "score": 0.912347}"#),
            true,
            "numbers within tolerance (max abs 2.0e-6)",
        ),
        exchange(
            "GET /health",
            ExchangeKind::Health,
            answered(200, r#"{"status": "ok"}"#),
            answered(200, r#"{"status": "ok"}"#),
            true,
            "same body",
        ),
        exchange(
            "POST /predict without the field",
            ExchangeKind::MissingField,
            answered(400, r#"{"error": "no image"}"#),
            answered(400, r#"{"error": "no image"}"#),
            true,
            "same body",
        ),
        exchange(
            "POST /predict image=truncated.jpg",
            ExchangeKind::NotDecodable,
            answered(
                500,
                "<!doctype html><title>500 Internal Server Error</title>",
            ),
            answered(400, r#"{"error": "cannot decode the image"}"#),
            false,
            "status 500 against 400",
        ),
    ];
    HttpReport {
        schema: "wasm-migrate.verify-http/1",
        service: "samples/torchvision-flask".into(),
        original_command: vec![
            "python".into(),
            "-m".into(),
            "flask".into(),
            "--app".into(),
            "app:app".into(),
            "run".into(),
        ],
        module: "samples/torchvision-flask/migrated/app.wasm".into(),
        backend: Some(wasm_migrate_runtime::BackendKind::OpenVino),
        host: "wasmedge@0.17".into(),
        instances: 4,
        tolerance: OUTPUTS,
        agreed: 3,
        differed: 1,
        equivalent: false,
        not_migrated: Vec::new(),
        warnings: vec!["the original has no health route the module could copy".into()],
        exchanges,
    }
}

#[test]
fn http_text() {
    insta::assert_snapshot!(super::http_text(&http_report()));
}

#[test]
fn http_json() {
    insta::assert_snapshot!(serde_json::to_string_pretty(&http_report()).unwrap());
}
