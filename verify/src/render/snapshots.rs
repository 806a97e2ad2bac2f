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
