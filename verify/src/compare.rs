//! Element-wise comparison of one tensor against the reference (Python is always the
//! reference): the statistics Polygraphy reports, plus what its users ask for (p99, the
//! smallest tolerances that would have passed, an error histogram).

use serde::{Deserialize, Serialize};

/// `|actual - expected| <= atol + rtol * |expected|`, element-wise (numpy's `allclose` rule).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    pub atol: f64,
    pub rtol: f64,
}

impl Tolerance {
    fn allows(&self, actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= self.atol + self.rtol * expected.abs()
    }
}

/// The histogram's bins: decades of absolute error from 1e-9 up to 1e1 and above.
pub const HISTOGRAM_DECADES: std::ops::RangeInclusive<i32> = -9..=1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub expected_shape: Vec<usize>,
    pub actual_shape: Vec<usize>,
    pub dtype: String,
    pub tolerance: Tolerance,
    /// Elements compared (0 when the shapes differ).
    pub elements: usize,
    pub mismatches: usize,
    pub max_abs: f64,
    pub mean_abs: f64,
    pub p99_abs: f64,
    pub max_rel: f64,
    pub mean_rel: f64,
    pub p99_rel: f64,
    pub nan_expected: usize,
    pub nan_actual: usize,
    pub inf_expected: usize,
    pub inf_actual: usize,
    /// Cosine similarity of the two tensors as vectors (1 is the same direction).
    pub cosine: f64,
    /// The smallest atol that passes every element with this rtol.
    pub min_atol: f64,
    /// The smallest rtol that passes every element with this atol (infinite when an element
    /// whose reference is 0 differs by more than atol).
    pub min_rtol: f64,
    /// Where the largest difference is (flat index).
    pub worst_index: Option<usize>,
    /// Counts of elements per decade of absolute error, first bin: exactly equal,
    /// then [1e-9, 1e-8) ... [1e1, inf).
    pub histogram: Vec<u64>,
    pub passed: bool,
}

impl Comparison {
    pub fn shapes_match(&self) -> bool {
        same_shape(&self.expected_shape, &self.actual_shape)
    }

    pub fn mismatch_percent(&self) -> f64 {
        if self.elements == 0 {
            return 100.0;
        }
        100.0 * self.mismatches as f64 / self.elements as f64
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn histogram_bin(diff: f64) -> usize {
    if diff == 0.0 {
        return 0;
    }
    let decade = diff.log10().floor() as i32;
    let first = *HISTOGRAM_DECADES.start();
    let last = *HISTOGRAM_DECADES.end();
    (decade.clamp(first, last) - first) as usize + 1
}

/// Compares `actual` against `expected` (both flat, row-major, of the given shapes).
pub fn compare(
    expected_shape: &[usize],
    expected: &[f32],
    actual_shape: &[usize],
    actual: &[f32],
    tolerance: Tolerance,
) -> Comparison {
    let bins = (HISTOGRAM_DECADES.end() - HISTOGRAM_DECADES.start()) as usize + 2;
    let mut result = Comparison {
        expected_shape: expected_shape.to_vec(),
        actual_shape: actual_shape.to_vec(),
        dtype: "float32".into(),
        tolerance,
        elements: 0,
        mismatches: 0,
        max_abs: 0.0,
        mean_abs: 0.0,
        p99_abs: 0.0,
        max_rel: 0.0,
        mean_rel: 0.0,
        p99_rel: 0.0,
        nan_expected: expected.iter().filter(|v| v.is_nan()).count(),
        nan_actual: actual.iter().filter(|v| v.is_nan()).count(),
        inf_expected: expected.iter().filter(|v| v.is_infinite()).count(),
        inf_actual: actual.iter().filter(|v| v.is_infinite()).count(),
        cosine: 0.0,
        min_atol: 0.0,
        min_rtol: 0.0,
        worst_index: None,
        histogram: vec![0; bins],
        passed: false,
    };
    // Different element counts cannot be compared; the same count in another shape (a
    // missing batch axis, say) is compared but still fails.
    if expected.len() != actual.len() || expected.is_empty() {
        result.mismatches = expected.len().max(actual.len());
        result.max_abs = f64::INFINITY;
        result.min_atol = f64::INFINITY;
        result.min_rtol = f64::INFINITY;
        return result;
    }
    let n = expected.len();
    let mut abs = Vec::with_capacity(n);
    let mut rel = Vec::with_capacity(n);
    let (mut dot, mut norm_e, mut norm_a) = (0.0f64, 0.0f64, 0.0f64);
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let (a, e) = (a as f64, e as f64);
        // NaN where the reference has NaN is agreement; anywhere else it is the worst error.
        let diff = if a.is_nan() && e.is_nan() {
            0.0
        } else if a.is_nan() || e.is_nan() {
            f64::INFINITY
        } else if a == e {
            0.0
        } else {
            (a - e).abs()
        };
        let relative = if diff == 0.0 { 0.0 } else { diff / e.abs() };
        let within = diff == 0.0 || tolerance.allows(a, e);
        if !within {
            result.mismatches += 1;
        }
        if diff > result.max_abs || result.worst_index.is_none() {
            if diff > result.max_abs {
                result.max_abs = diff;
            }
            if diff > 0.0 {
                result.worst_index = Some(i);
            }
        }
        result.min_atol = result
            .min_atol
            .max((diff - tolerance.rtol * e.abs()).max(0.0));
        if diff > tolerance.atol {
            result.min_rtol = result.min_rtol.max((diff - tolerance.atol) / e.abs());
        }
        result.histogram[histogram_bin(diff)] += 1;
        if a.is_finite() && e.is_finite() {
            dot += a * e;
            norm_e += e * e;
            norm_a += a * a;
        }
        abs.push(diff);
        rel.push(relative);
    }
    result.elements = n;
    result.max_rel = rel.iter().copied().fold(0.0, f64::max);
    result.mean_abs = abs.iter().sum::<f64>() / n as f64;
    result.mean_rel = rel.iter().filter(|r| r.is_finite()).sum::<f64>() / n as f64;
    abs.sort_by(f64::total_cmp);
    rel.sort_by(f64::total_cmp);
    result.p99_abs = percentile(&abs, 0.99);
    result.p99_rel = percentile(&rel, 0.99);
    result.cosine = if norm_e == 0.0 && norm_a == 0.0 {
        1.0
    } else if norm_e == 0.0 || norm_a == 0.0 {
        0.0
    } else {
        dot / (norm_e.sqrt() * norm_a.sqrt())
    };
    result.passed = result.mismatches == 0 && same_shape(expected_shape, actual_shape);
    result
}

/// The same shape, or one with a trailing axis of one more: a grayscale image's `(1, H, W)`
/// and `(1, H, W, 1)` hold the same values, and Keras conforms the one to the other, so a
/// module that feeds the model its own shape is not told apart. Any other difference (a
/// missing batch axis) counts.
pub fn same_shape(expected: &[usize], actual: &[usize]) -> bool {
    let trailing_one = |long: &[usize], short: &[usize]| {
        long.len() == short.len() + 1 && long.last() == Some(&1) && long.starts_with(short)
    };
    expected == actual || trailing_one(expected, actual) || trailing_one(actual, expected)
}

/// Indices of the k largest values, largest first (NaN last).
pub fn top_k(values: &[f32], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| {
        values[b]
            .partial_cmp(&values[a])
            .unwrap_or(std::cmp::Ordering::Less)
    });
    order.truncate(k);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOL: Tolerance = Tolerance {
        atol: 1e-5,
        rtol: 1e-3,
    };

    #[test]
    fn equal_tensors_pass_with_zero_error() {
        let c = compare(
            &[2, 2],
            &[1.0, -2.0, 3.0, 0.0],
            &[2, 2],
            &[1.0, -2.0, 3.0, 0.0],
            TOL,
        );
        assert!(c.passed);
        assert_eq!((c.max_abs, c.mismatches, c.histogram[0]), (0.0, 0, 4));
        assert!((c.cosine - 1.0).abs() < 1e-12);
    }

    #[test]
    fn tolerance_rule_scales_with_the_reference() {
        // 0.05 off 100 is within rtol 1e-3 (0.1); 0.05 off 1 is not.
        let c = compare(&[2], &[100.0, 1.0], &[2], &[100.05, 1.05], TOL);
        assert_eq!(c.mismatches, 1);
        assert!(!c.passed);
        assert!((c.max_abs - 0.05).abs() < 1e-4);
        // The smallest atol at rtol 1e-3 is what the 1.0 element needs: 0.05 - 0.001.
        assert!((c.min_atol - 0.049).abs() < 1e-4, "{}", c.min_atol);
        let looser = Tolerance {
            atol: c.min_atol + 1e-6,
            rtol: TOL.rtol,
        };
        assert!(compare(&[2], &[100.0, 1.0], &[2], &[100.05, 1.05], looser).passed);
        let by_rtol = Tolerance {
            atol: TOL.atol,
            rtol: c.min_rtol + 1e-6,
        };
        assert!(compare(&[2], &[100.0, 1.0], &[2], &[100.05, 1.05], by_rtol).passed);
    }

    #[test]
    fn nan_and_shape_mismatches_fail() {
        let c = compare(&[2], &[1.0, 2.0], &[2], &[1.0, f32::NAN], TOL);
        assert_eq!((c.nan_actual, c.mismatches, c.passed), (1, 1, false));
        assert!(c.max_abs.is_infinite());
        let c = compare(&[1, 3], &[1.0, 2.0, 3.0], &[3], &[1.0, 2.0, 3.0], TOL);
        assert!(!c.passed, "same values in another shape still fail");
        let gray = [1.0, 2.0, 3.0, 4.0];
        let c = compare(&[1, 2, 2], &gray, &[1, 2, 2, 1], &gray, TOL);
        assert!(
            c.passed,
            "a trailing channel axis of one is the same tensor"
        );
        let c = compare(&[1, 2, 2, 1], &gray, &[1, 1, 2, 2], &gray, TOL);
        assert!(!c.passed, "a leading one is another layout");
        let c = compare(&[3], &[1.0, 2.0, 3.0], &[2], &[1.0, 2.0], TOL);
        assert_eq!((c.elements, c.passed), (0, false));
    }

    #[test]
    fn histogram_counts_decades() {
        let c = compare(
            &[3],
            &[0.0, 0.0, 0.0],
            &[3],
            &[0.0, 2e-7, 0.5],
            Tolerance {
                atol: 1.0,
                rtol: 0.0,
            },
        );
        assert_eq!(c.histogram[0], 1);
        assert_eq!(c.histogram[histogram_bin(2e-7)], 1);
        assert_eq!(c.histogram[histogram_bin(0.5)], 1);
        assert_eq!(c.histogram.iter().sum::<u64>(), 3);
        assert_eq!(top_k(&[0.1, 0.7, 0.2], 2), vec![1, 2]);
    }
}
