//! When the preprocessed tensors differ, which step of the plan most likely made them differ.
//!
//! Each kind of mistake leaves its own mark on the difference: swapped colour channels match
//! once the channels are swapped back; wrong Normalize / scale constants leave every channel
//! an exact affine function of the reference; a different resize filter, a resize without
//! antialiasing or a different crop moves values around in space, which no per-channel
//! constant explains.

use serde::{Deserialize, Serialize};
use wasm_migrate_plan::{Layout, PlanStep};

/// What kind of preprocessing mistake the difference looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// The tensors have different shapes: resize, crop or layout.
    Shape,
    /// RGB vs BGR.
    ChannelOrder,
    /// Scale, mean or std constants.
    Normalization,
    /// Values moved in space: resize filter, antialiasing or crop offsets.
    Resampling,
    /// A few levels everywhere on a JPEG input: the two sides' JPEG decoders.
    Decoding,
    /// Token ids differ: vocabulary, normalization, truncation or padding.
    Tokenization,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blame {
    pub cause: Cause,
    /// The plan step most likely at fault, as `library.op (file:line)`.
    pub step: Option<String>,
    pub reason: String,
}

/// Where the channel axis is, from the plan's layout or, failing that, a size-3 axis.
fn channel_axis(shape: &[usize], layout: Option<Layout>) -> Option<usize> {
    let rank = shape.len();
    match layout {
        Some(Layout::Nchw) if rank == 4 => Some(1),
        Some(Layout::Nhwc) if rank == 4 => Some(3),
        _ => shape
            .iter()
            .position(|&d| d == 3)
            .filter(|_| rank >= 3)
            .or_else(|| shape.iter().rposition(|&d| d == 3)),
    }
}

/// For each element, its channel index along `axis`.
fn channel_of(shape: &[usize], axis: usize) -> impl Fn(usize) -> usize + '_ {
    let inner: usize = shape[axis + 1..].iter().product();
    let channels = shape[axis];
    move |i| (i / inner) % channels
}

fn swap_channels(shape: &[usize], axis: usize, data: &[f32]) -> Vec<f32> {
    let inner: usize = shape[axis + 1..].iter().product();
    let channels = shape[axis];
    let mut out = data.to_vec();
    for (i, v) in out.iter_mut().enumerate() {
        let c = (i / inner) % channels;
        let mirrored = channels - 1 - c;
        let j = i as isize + (mirrored as isize - c as isize) * inner as isize;
        *v = data[j as usize];
    }
    out
}

fn max_abs(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).abs())
        .fold(0.0, f64::max)
}

/// Least squares `actual ≈ scale * expected + shift` on one channel, and the worst residual.
fn affine_fit(pairs: impl Iterator<Item = (f64, f64)>) -> Option<(f64, f64, f64)> {
    let points: Vec<(f64, f64)> = pairs.collect();
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
    let (mx, my) = (sx / n, sy / n);
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (x, y) in &points {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
    }
    if sxx == 0.0 {
        return None;
    }
    let scale = sxy / sxx;
    let shift = my - scale * mx;
    let residual = points
        .iter()
        .map(|(x, y)| (y - (scale * x + shift)).abs())
        .fold(0.0, f64::max);
    Some((scale, shift, residual))
}

fn step_name(step: &PlanStep) -> String {
    format!("{}.{} ({})", step.library.as_str(), step.op, step.at)
}

/// The last plan step whose op is one of `ops` (case-insensitive).
fn find_step(steps: &[PlanStep], ops: &[&str]) -> Option<String> {
    steps
        .iter()
        .rev()
        .find(|s| ops.iter().any(|op| s.op.eq_ignore_ascii_case(op)))
        .map(step_name)
}

const RESIZE_OPS: &[&str] = &["Resize", "resize", "RandomResizedCrop", "thumbnail"];
const RESIZE_AND_CROP_OPS: &[&str] = &[
    "Resize",
    "resize",
    "CenterCrop",
    "center_crop",
    "crop",
    "RandomResizedCrop",
    "thumbnail",
];
const COLOR_OPS: &[&str] = &["cvtColor", "convert", "imdecode", "imread", "open"];
const NORMALIZE_OPS: &[&str] = &[
    "Normalize",
    "normalize",
    "preprocess_input",
    "divide",
    "subtract",
    "multiply",
    "add",
    "ToTensor",
    "astype",
];

/// One side's preprocessed tensor, as `diagnose` reads it.
#[derive(Debug, Clone, Copy)]
pub struct TensorRef<'a> {
    pub dtype: &'a str,
    pub shape: &'a [usize],
    pub data: &'a [f32],
}

/// What a stage-1 difference is judged against: the tolerance (about one 8-bit level in the
/// tensor's units), the plan's layout, and the plan's steps to blame.
#[derive(Debug, Clone, Copy)]
pub struct Stage1Context<'a> {
    pub atol: f64,
    pub layout: Option<Layout>,
    pub steps: &'a [PlanStep],
}

/// Says what the difference between two preprocessed tensors looks like, and blames a step.
pub fn diagnose(
    expected: TensorRef<'_>,
    actual: TensorRef<'_>,
    context: &Stage1Context<'_>,
) -> Blame {
    let (dtype, expected_shape, expected) = (expected.dtype, expected.shape, expected.data);
    let (actual_shape, actual) = (actual.shape, actual.data);
    let Stage1Context {
        atol,
        layout,
        steps,
    } = *context;
    if expected.len() != actual.len() || !crate::compare::same_shape(expected_shape, actual_shape) {
        return Blame {
            cause: Cause::Shape,
            step: find_step(steps, RESIZE_AND_CROP_OPS),
            reason: format!(
                "the migrated tensor is {actual_shape:?}, Python's is {expected_shape:?}: the resize \
                 or crop sizes, or the layout (NCHW/NHWC), differ"
            ),
        };
    }
    if dtype.starts_with("int") {
        let first = expected.iter().zip(actual).position(|(e, a)| e != a);
        return Blame {
            cause: Cause::Tokenization,
            step: find_step(
                steps,
                &["__call__", "encode", "encode_plus", "batch_encode_plus"],
            ),
            reason: format!(
                "the token ids differ{}: the tokenizer file, its normalization, or the \
                 truncation / padding arguments are not the service's",
                first.map_or(String::new(), |i| format!(
                    " first at position {i} ({} in Python, {} in the module)",
                    expected[i], actual[i]
                ))
            ),
        };
    }
    let before = max_abs(expected, actual);
    if let Some(axis) = channel_axis(expected_shape, layout).filter(|&a| expected_shape[a] == 3) {
        let swapped = swap_channels(actual_shape, axis, actual);
        let after = max_abs(expected, &swapped);
        if after <= atol.max(before / 20.0) {
            return Blame {
                cause: Cause::ChannelOrder,
                step: find_step(steps, COLOR_OPS),
                reason: format!(
                    "the channels are in the opposite order (RGB vs BGR): with the migrated \
                     tensor's first and last channels swapped, the largest difference drops from \
                     {before:.4} to {after:.4}"
                ),
            };
        }
        let channel = channel_of(expected_shape, axis);
        let fits: Vec<Option<(f64, f64, f64)>> = (0..3)
            .map(|c| {
                affine_fit(
                    expected
                        .iter()
                        .zip(actual)
                        .enumerate()
                        .filter(|(i, _)| channel(*i) == c)
                        .map(|(_, (e, a))| (*e as f64, *a as f64)),
                )
            })
            .collect();
        if fits.iter().all(|f| f.is_some_and(|(_, _, r)| r <= atol)) {
            let described: Vec<String> = fits
                .iter()
                .flatten()
                .enumerate()
                .map(|(c, (scale, shift, _))| format!("channel {c}: {scale:.4}·x{shift:+.4}"))
                .collect();
            return Blame {
                cause: Cause::Normalization,
                step: find_step(steps, NORMALIZE_OPS),
                reason: format!(
                    "every channel of the migrated tensor is an exact linear function of Python's \
                     ({}): the scale, mean or std constants differ",
                    described.join(", ")
                ),
            };
        }
    }
    Blame {
        cause: Cause::Resampling,
        // A filter or antialiasing difference is far likelier than a crop offset one.
        step: find_step(steps, RESIZE_OPS).or_else(|| find_step(steps, RESIZE_AND_CROP_OPS)),
        reason: format!(
            "values differ by up to {before:.4} in a way no per-channel constant or channel swap \
             explains: pixels were sampled differently (the resize filter, antialiasing, or the \
             crop offsets)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(h: usize, w: usize) -> Vec<f32> {
        // Three different smooth channels, NCHW.
        (0..3 * h * w)
            .map(|i| {
                let (c, y, x) = (i / (h * w), (i / w) % h, i % w);
                ((x * 7 + y * 3 + c * 40) % 97) as f32 / 97.0
            })
            .collect()
    }

    fn tensor<'a>(shape: &'a [usize], data: &'a [f32]) -> TensorRef<'a> {
        TensorRef {
            dtype: "float32",
            shape,
            data,
        }
    }

    fn context(layout: Option<Layout>) -> Stage1Context<'static> {
        Stage1Context {
            atol: 1e-3,
            layout,
            steps: &[],
        }
    }

    fn diagnose_nchw(shape: &[usize], expected: &[f32], actual: &[f32]) -> Blame {
        let context = context(Some(Layout::Nchw));
        diagnose(tensor(shape, expected), tensor(shape, actual), &context)
    }

    #[test]
    fn swapped_channels_are_blamed_on_colour_conversion() {
        let shape = [1, 3, 4, 5];
        let e = image(4, 5);
        let a = swap_channels(&shape, 1, &e);
        let blame = diagnose_nchw(&shape, &e, &a);
        assert_eq!(blame.cause, Cause::ChannelOrder);
    }

    #[test]
    fn affine_channels_are_blamed_on_normalization() {
        let shape = [1, 3, 4, 5];
        let e = image(4, 5);
        let a: Vec<f32> = e.iter().map(|v| (v - 0.1) / 0.9).collect();
        let blame = diagnose_nchw(&shape, &e, &a);
        assert_eq!(blame.cause, Cause::Normalization, "{}", blame.reason);
    }

    #[test]
    fn moved_pixels_are_blamed_on_resampling_and_shapes_on_resize() {
        let shape = [1, 3, 4, 5];
        let e = image(4, 5);
        let mut a = e.clone();
        a.rotate_left(1);
        let blame = diagnose_nchw(&shape, &e, &a);
        assert_eq!(blame.cause, Cause::Resampling);
        let blame = diagnose(
            tensor(&shape, &e),
            tensor(&[1, 3, 5, 4], &a),
            &context(None),
        );
        assert_eq!(blame.cause, Cause::Shape);
    }
}
