//! Stages 1 and 2 through the wasi_nn bridge: the tensors the original handed ONNX Runtime
//! (saved by `tensor_probe.py` inside its server) against those the bundle's `wasi_nn`
//! module sent the host, for the same request.

use std::path::Path;

use serde::Serialize;
use wasm_migrate_pybundle::host::TracedTensor;

use crate::compare::Tolerance;

/// One tensor compared.
#[derive(Debug, Clone, Serialize)]
pub struct StageResult {
    /// 1 for the model's inputs, 2 for its outputs.
    pub stage: u8,
    pub index: u32,
    pub shape: Vec<usize>,
    pub max_abs_diff: f64,
    pub agree: bool,
    pub detail: String,
}

/// The probe's files for one request: (kind, index, shape, values), in call order.
pub(crate) fn read_original(dir: &Path) -> Vec<(String, u32, Vec<usize>, Vec<f64>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".npy"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let path = dir.join(&name);
        let mut parts = name.trim_end_matches(".npy").split('-');
        let (_, kind, index) = (parts.next(), parts.next(), parts.next());
        let (Some(kind), Some(Ok(index))) = (kind, index.map(str::parse::<u32>)) else {
            continue;
        };
        if let Ok(tensor) = crate::tensor_file::read_npy(&path) {
            out.push((
                kind.to_string(),
                index,
                tensor.shape,
                tensor.data.iter().map(|v| f64::from(*v)).collect(),
            ));
        }
        let _ = std::fs::remove_file(&path);
    }
    out
}

/// Pairs the two sides' tensors of each kind in order and compares them.
pub(crate) fn compare(
    original: &[(String, u32, Vec<usize>, Vec<f64>)],
    bundle: &[TracedTensor],
    tolerance: Tolerance,
) -> Vec<StageResult> {
    let mut results = Vec::new();
    for (stage, kind) in [(1u8, "input"), (2, "output")] {
        let ours: Vec<_> = original.iter().filter(|t| t.0 == kind).collect();
        let theirs: Vec<_> = bundle.iter().filter(|t| t.kind == kind).collect();
        for (o, b) in ours.iter().zip(&theirs) {
            let shape: Vec<usize> = b.dims.iter().map(|d| *d as usize).collect();
            if shape != o.2 {
                results.push(StageResult {
                    stage,
                    index: o.1,
                    shape: o.2.clone(),
                    max_abs_diff: f64::INFINITY,
                    agree: false,
                    detail: format!("shape {:?} vs {shape:?}", o.2),
                });
                continue;
            }
            let mut worst = 0f64;
            let mut agree = true;
            for (e, a) in o.3.iter().zip(&b.values) {
                let diff = (e - a).abs();
                worst = worst.max(diff);
                agree &= diff <= tolerance.atol + tolerance.rtol * e.abs();
            }
            results.push(StageResult {
                stage,
                index: o.1,
                shape: o.2.clone(),
                max_abs_diff: worst,
                agree,
                detail: match (agree, worst) {
                    (true, 0.0) => "identical".into(),
                    (true, w) => format!("within tolerance (max |diff| {w:.2e})"),
                    (false, w) => format!("max |diff| {w:.2e} past the tolerance"),
                },
            });
        }
        if ours.len() != theirs.len() {
            results.push(StageResult {
                stage,
                index: 0,
                shape: Vec::new(),
                max_abs_diff: f64::INFINITY,
                agree: false,
                detail: format!(
                    "the original's model got {} {kind} tensor(s), the bundle's {}",
                    ours.len(),
                    theirs.len()
                ),
            });
        }
    }
    results
}

/// One line per stage for the text report.
pub fn describe(results: &[StageResult]) -> String {
    results
        .iter()
        .map(|r| {
            format!(
                "stage {} {} {} {:?}: {}",
                r.stage,
                if r.stage == 1 {
                    "model input"
                } else {
                    "model output"
                },
                r.index,
                r.shape,
                r.detail
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traced(kind: &'static str, values: Vec<f64>) -> TracedTensor {
        TracedTensor {
            kind,
            index: 0,
            dims: vec![1, values.len() as u32],
            values,
        }
    }

    #[test]
    fn tensors_pair_by_kind_and_order_and_differences_past_the_tolerance_show() {
        let tolerance = Tolerance {
            atol: 1e-4,
            rtol: 0.0,
        };
        let original = vec![
            ("input".to_string(), 0, vec![1, 2], vec![0.5, 1.0]),
            ("output".to_string(), 0, vec![1, 2], vec![2.0, 3.0]),
        ];
        let same = compare(
            &original,
            &[
                traced("input", vec![0.5, 1.0]),
                traced("output", vec![2.0, 3.00001]),
            ],
            tolerance,
        );
        assert_eq!(same.len(), 2);
        assert!(same.iter().all(|r| r.agree), "{same:?}");
        assert_eq!(same[0].detail, "identical");
        let off = compare(
            &original,
            &[
                traced("input", vec![0.5, 1.1]),
                traced("output", vec![2.0, 3.0]),
            ],
            tolerance,
        );
        assert!(!off[0].agree && off[0].stage == 1, "{off:?}");
        let missing = compare(&original, &[traced("input", vec![0.5, 1.0])], tolerance);
        assert!(
            missing.iter().any(|r| !r.agree && r.stage == 2),
            "{missing:?}"
        );
    }
}
