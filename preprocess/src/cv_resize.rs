//! `cv2.resize` on 8-bit images, written from OpenCV's `imgproc/src/resize.cpp`.
//!
//! `INTER_LINEAR` maps output pixel centres to `(dx + 0.5) * scale - 0.5`, clamps at the
//! borders, and quantises both weights to 11 bits. The horizontal pass keeps 32-bit sums; the
//! vertical pass is OpenCV's SIMD one (`VResizeLinearVec_32s8u`), which is what runs on x86 and
//! ARM builds: sums shifted right by 4, multiplied keeping the high 16 bits, then rounded by 2
//! bits. No Rust resizer reproduces this quantisation. `INTER_NEAREST` takes
//! `floor(dx * scale)`. No antialiasing in either: that is OpenCV's behaviour.
//!
//! `INTER_AREA` shrinking by whole factors averages each block in integers (`resizeAreaFast`:
//! 2x2 blocks round half up, others through a float reciprocal and round half to even);
//! shrinking by other factors weights each source pixel by the share of it a destination cell
//! covers, in float (`resizeArea`, `computeResizeAreaTab`); enlarging on either axis runs the
//! linear path with OpenCV's cell-based fractions. OpenCV also runs `INTER_LINEAR` that shrinks
//! by exactly 2 on both axes as `INTER_AREA`.

use super::image::RgbImage;

/// OpenCV's interpolation flags that have a Rust equivalent here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolation {
    Nearest,
    Linear,
    Area,
}

const COEF_BITS: u32 = 11;
const COEF_SCALE: f32 = (1 << COEF_BITS) as f32;

/// Source pixels per destination pixel as OpenCV holds it: the reciprocal of `out / in`,
/// which is not always `in / out` to the last bit (and `floor` sees the difference).
fn scale(in_size: usize, out_size: usize) -> f64 {
    1.0 / (out_size as f64 / in_size as f64)
}

/// `cv2.resize(image, (width, height), interpolation=...)`.
pub fn resize(
    image: &RgbImage,
    width: usize,
    height: usize,
    interpolation: Interpolation,
) -> RgbImage {
    if width == 0 || height == 0 || image.width == 0 || image.height == 0 {
        return RgbImage::new(width, height);
    }
    let scale_x = scale(image.width, width);
    let scale_y = scale(image.height, height);
    let whole = |s: f64| (s - s.round()).abs() < f64::EPSILON;
    let shrinks_by_whole_factors = whole(scale_x) && whole(scale_y);
    match interpolation {
        Interpolation::Nearest => nearest(image, width, height),
        Interpolation::Linear if shrinks_by_whole_factors && scale_x == 2.0 && scale_y == 2.0 => {
            area_by_whole_factors(image, 2, 2)
        }
        Interpolation::Linear => linear(image, width, height, Fractions::PixelCentres),
        Interpolation::Area if scale_x >= 1.0 && scale_y >= 1.0 => {
            if shrinks_by_whole_factors {
                area_by_whole_factors(image, scale_x as usize, scale_y as usize)
            } else {
                area(image, width, height)
            }
        }
        Interpolation::Area => linear(image, width, height, Fractions::AreaCells),
    }
}

/// `resizeAreaFast`: the mean of each `fx` x `fy` block.
fn area_by_whole_factors(image: &RgbImage, fx: usize, fy: usize) -> RgbImage {
    let (width, height) = (image.width / fx, image.height / fy);
    let stride = image.width * 3;
    let area = (fx * fy) as u32;
    let reciprocal = 1.0f32 / area as f32;
    let mut out = RgbImage::new(width, height);
    for y in 0..height {
        for x in 0..width {
            for c in 0..3 {
                let mut sum = 0u32;
                for row in y * fy..(y + 1) * fy {
                    let start = row * stride + x * fx * 3 + c;
                    sum += (0..fx)
                        .map(|k| u32::from(image.data[start + k * 3]))
                        .sum::<u32>();
                }
                out.data[(y * width + x) * 3 + c] = if area == 4 {
                    // The SIMD and scalar 2x2 paths both add 2 and shift.
                    ((sum + 2) >> 2) as u8
                } else {
                    // saturate_cast<uchar>(float) is cvRound: half to even.
                    (sum as f32 * reciprocal).round_ties_even().min(255.0) as u8
                };
            }
        }
    }
    out
}

/// One source pixel's share of one destination cell along an axis (`DecimateAlpha`).
struct Share {
    destination: usize,
    source: usize,
    weight: f32,
}

/// `computeResizeAreaTab`: in order of destination, the source pixels each cell covers.
fn area_shares(in_size: usize, out_size: usize) -> Vec<Share> {
    let scale = scale(in_size, out_size);
    let mut shares = Vec::with_capacity(in_size * 2);
    for d in 0..out_size {
        let start = d as f64 * scale;
        let end = start + scale;
        let cell = scale.min(in_size as f64 - start);
        let last = (end.floor() as usize).min(in_size - 1);
        let first = (start.ceil() as usize).min(last);
        if first as f64 - start > 1e-3 {
            shares.push(Share {
                destination: d,
                source: first - 1,
                weight: ((first as f64 - start) / cell) as f32,
            });
        }
        for source in first..last {
            shares.push(Share {
                destination: d,
                source,
                weight: (1.0 / cell) as f32,
            });
        }
        if end - last as f64 > 1e-3 {
            shares.push(Share {
                destination: d,
                source: last,
                weight: ((end - last as f64).min(1.0).min(cell) / cell) as f32,
            });
        }
    }
    shares
}

/// `ResizeArea_Invoker`: each source row spread over the destination columns, then rows
/// summed into their destination row with their weight, all in float and in OpenCV's order.
fn area(image: &RgbImage, width: usize, height: usize) -> RgbImage {
    let xs = area_shares(image.width, width);
    let ys = area_shares(image.height, height);
    let stride = image.width * 3;
    let mut out = RgbImage::new(width, height);
    let mut row = vec![0f32; width * 3];
    let mut sum = vec![0f32; width * 3];
    let mut current = ys.first().map_or(0, |s| s.destination);
    let flush = |sum: &[f32], y: usize, out: &mut RgbImage| {
        for (d, &v) in out.data[y * width * 3..(y + 1) * width * 3]
            .iter_mut()
            .zip(sum)
        {
            *d = v.round_ties_even().clamp(0.0, 255.0) as u8;
        }
    };
    for y_share in &ys {
        let src = &image.data[y_share.source * stride..(y_share.source + 1) * stride];
        row.fill(0.0);
        for x_share in &xs {
            let (s, d) = (x_share.source * 3, x_share.destination * 3);
            for c in 0..3 {
                row[d + c] += f32::from(src[s + c]) * x_share.weight;
            }
        }
        if y_share.destination != current {
            flush(&sum, current, &mut out);
            for (total, &v) in sum.iter_mut().zip(&row) {
                *total = y_share.weight * v;
            }
            current = y_share.destination;
        } else {
            for (total, &v) in sum.iter_mut().zip(&row) {
                *total += y_share.weight * v;
            }
        }
    }
    flush(&sum, current, &mut out);
    out
}

/// Where a destination pixel falls between two source pixels.
#[derive(Clone, Copy)]
enum Fractions {
    /// `INTER_LINEAR`: pixel centres, `(d + 0.5) * scale - 0.5`.
    PixelCentres,
    /// `INTER_AREA` when enlarging: the part of the cell past the source pixel's edge.
    AreaCells,
}

fn nearest(image: &RgbImage, width: usize, height: usize) -> RgbImage {
    let sx = scale(image.width, width);
    let sy = scale(image.height, height);
    let mut out = RgbImage::new(width, height);
    for y in 0..height {
        let src_y = ((y as f64 * sy).floor() as usize).min(image.height - 1);
        for x in 0..width {
            let src_x = ((x as f64 * sx).floor() as usize).min(image.width - 1);
            let s = (src_y * image.width + src_x) * 3;
            let d = (y * width + x) * 3;
            out.data[d..d + 3].copy_from_slice(&image.data[s..s + 3]);
        }
    }
    out
}

/// Source index and the two 11-bit weights for each output position along one axis.
fn linear_taps(in_size: usize, out_size: usize, fractions: Fractions) -> Vec<(usize, [i32; 2])> {
    let scale = scale(in_size, out_size);
    let inverse = out_size as f64 / in_size as f64;
    (0..out_size)
        .map(|d| {
            let (mut s, mut frac) = match fractions {
                Fractions::PixelCentres => {
                    // OpenCV computes the position in double and stores the fraction as float.
                    let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
                    let s = f.floor() as i64;
                    (s, f - s as f32)
                }
                Fractions::AreaCells => {
                    let s = (d as f64 * scale).floor() as i64;
                    let f = ((d as f64 + 1.0) - (s as f64 + 1.0) * inverse) as f32;
                    (s, if f <= 0.0 { 0.0 } else { f - f.floor() })
                }
            };
            if s < 0 {
                s = 0;
                frac = 0.0;
            }
            if s as usize >= in_size - 1 {
                s = in_size as i64 - 1;
                frac = 0.0;
            }
            // saturate_cast<short> rounds to nearest.
            let w0 = ((1.0 - frac) * COEF_SCALE).round_ties_even() as i32;
            let w1 = (frac * COEF_SCALE).round_ties_even() as i32;
            (s as usize, [w0, w1])
        })
        .collect()
}

fn linear(image: &RgbImage, width: usize, height: usize, fractions: Fractions) -> RgbImage {
    let xs = linear_taps(image.width, width, fractions);
    let ys = linear_taps(image.height, height, fractions);
    let in_stride = image.width * 3;
    let out_stride = width * 3;
    // The horizontal pass for one source row, as OpenCV's HResizeLinear<uchar, int, short>.
    let horizontal = |row: usize| -> Vec<i32> {
        let src = &image.data[row * in_stride..(row + 1) * in_stride];
        let mut out = vec![0i32; out_stride];
        for (dx, &(sx, [w0, w1])) in xs.iter().enumerate() {
            let next = (sx + 1).min(image.width - 1);
            for c in 0..3 {
                out[dx * 3 + c] =
                    i32::from(src[sx * 3 + c]) * w0 + i32::from(src[next * 3 + c]) * w1;
            }
        }
        out
    };
    let mut out = RgbImage::new(width, height);
    let mut cache: Option<(usize, Vec<i32>, Vec<i32>)> = None;
    for (dy, &(sy, [b0, b1])) in ys.iter().enumerate() {
        let next = (sy + 1).min(image.height - 1);
        let rows = match cache.take() {
            Some((row, a, b)) if row == sy => (row, a, b),
            Some((row, _, b)) if row + 1 == sy => (sy, b, horizontal(next)),
            _ => (sy, horizontal(sy), horizontal(next)),
        };
        let (_, s0, s1) = &rows;
        let dst = &mut out.data[dy * out_stride..(dy + 1) * out_stride];
        for i in 0..out_stride {
            // v_mul_hi of 16-bit lanes, then a rounding shift by 2 with saturation.
            let t = ((b0 * (s0[i] >> 4)) >> 16) + ((b1 * (s1[i] >> 4)) >> 16);
            dst[i] = ((t + 2) >> 2).clamp(0, 255) as u8;
        }
        cache = Some(rows);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_images_stay_flat() {
        let image = RgbImage::from_raw(7, 5, vec![77; 7 * 5 * 3]).unwrap();
        for interpolation in [
            Interpolation::Nearest,
            Interpolation::Linear,
            Interpolation::Area,
        ] {
            let out = resize(&image, 3, 9, interpolation);
            assert!(out.data.iter().all(|&v| v == 77), "{interpolation:?}");
        }
    }

    #[test]
    fn upscaling_two_pixels_interpolates_between_them() {
        let image = RgbImage::from_raw(2, 1, vec![0, 0, 0, 200, 200, 200]).unwrap();
        let out = resize(&image, 4, 1, Interpolation::Linear);
        let reds: Vec<u8> = out.data.chunks(3).map(|p| p[0]).collect();
        assert_eq!(reds, vec![0, 50, 150, 200]);
    }

    #[test]
    fn area_averages_whole_blocks() {
        // A 4x2 image of two 2x2 blocks: 0,0,0,1 and 10,10,10,13.
        let reds = [0u8, 0, 10, 10, 0, 1, 10, 13];
        let data = reds.iter().flat_map(|&r| [r, r, r]).collect();
        let image = RgbImage::from_raw(4, 2, data).unwrap();
        let out = resize(&image, 2, 1, Interpolation::Area);
        // (1 + 2) >> 2 = 0 and (43 + 2) >> 2 = 11.
        assert_eq!(out.data, vec![0, 0, 0, 11, 11, 11]);
    }

    #[test]
    fn area_shares_of_a_cell_add_up_to_one() {
        for (input, output) in [(10, 3), (7, 2), (640, 223)] {
            let shares = area_shares(input, output);
            for d in 0..output {
                let total: f32 = shares
                    .iter()
                    .filter(|s| s.destination == d)
                    .map(|s| s.weight)
                    .sum();
                assert!(
                    (total - 1.0).abs() < 1e-5,
                    "{input}->{output} cell {d}: {total}"
                );
            }
        }
    }
}
