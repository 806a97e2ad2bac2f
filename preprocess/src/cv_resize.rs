//! `cv2.resize` on 8-bit images, written from OpenCV's `imgproc/src/resize.cpp`.
//!
//! `INTER_LINEAR` maps output pixel centres to `(dx + 0.5) * scale - 0.5`, clamps at the
//! borders, and quantises both weights to 11 bits. The horizontal pass keeps 32-bit sums; the
//! vertical pass is OpenCV's SIMD one (`VResizeLinearVec_32s8u`), which is what runs on x86 and
//! ARM builds: sums shifted right by 4, multiplied keeping the high 16 bits, then rounded by 2
//! bits. No Rust resizer reproduces this quantisation. `INTER_NEAREST` takes
//! `floor(dx * scale)`. No antialiasing in either: that is OpenCV's behaviour.

use super::image::RgbImage;

/// OpenCV's interpolation flags that have a Rust equivalent here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolation {
    Nearest,
    Linear,
}

const COEF_BITS: u32 = 11;
const COEF_SCALE: f32 = (1 << COEF_BITS) as f32;

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
    match interpolation {
        Interpolation::Nearest => nearest(image, width, height),
        Interpolation::Linear => linear(image, width, height),
    }
}

fn nearest(image: &RgbImage, width: usize, height: usize) -> RgbImage {
    let sx = image.width as f64 / width as f64;
    let sy = image.height as f64 / height as f64;
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
fn linear_taps(in_size: usize, out_size: usize) -> Vec<(usize, [i32; 2])> {
    let scale = in_size as f64 / out_size as f64;
    (0..out_size)
        .map(|d| {
            // OpenCV computes the position in double and stores the fraction as float.
            let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let mut s = f.floor() as i64;
            let mut frac = f - s as f32;
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

fn linear(image: &RgbImage, width: usize, height: usize) -> RgbImage {
    let xs = linear_taps(image.width, width);
    let ys = linear_taps(image.height, height);
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
        for interpolation in [Interpolation::Nearest, Interpolation::Linear] {
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
}
