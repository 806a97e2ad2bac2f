//! `tf.image.resize(images, size)` with its defaults (bilinear, no antialiasing) on an 8-bit
//! image, written from TensorFlow's `ResizeBilinear` kernel (`resize_bilinear_op.cc`) with
//! `half_pixel_centers=True`, which is what `tf.image.resize` asks for.
//!
//! Everything is float32 as in the kernel: the scale is `in as f32 / out as f32`, a source
//! position is `(d + 0.5) * scale - 0.5`, the two neighbours are `max(floor, 0)` and
//! `min(ceil, in - 1)`, and the value is interpolated along x first (`a + (b - a) * t`), then
//! along y. The output is float32 pixel values (0..255, not rounded), as TensorFlow returns.

use super::image::RgbImage;
use super::tensor::HwcTensor;

/// The two neighbours along one axis and the weight of the second.
struct Tap {
    lower: usize,
    upper: usize,
    lerp: f32,
}

fn taps(in_size: usize, out_size: usize) -> Vec<Tap> {
    let scale = in_size as f32 / out_size as f32;
    (0..out_size)
        .map(|d| {
            let position = (d as f32 + 0.5) * scale - 0.5;
            let floor = position.floor();
            Tap {
                lower: floor.max(0.0) as usize,
                upper: (position.ceil().max(0.0) as usize).min(in_size - 1),
                lerp: position - floor,
            }
        })
        .collect()
}

/// `tf.image.resize(image, (height, width))`: bilinear, half-pixel centres, float32 out.
pub fn resize_bilinear(image: &RgbImage, width: usize, height: usize) -> HwcTensor {
    let mut out = HwcTensor {
        height,
        width,
        channels: 3,
        data: vec![0.0; width * height * 3],
    };
    if width == 0 || height == 0 || image.width == 0 || image.height == 0 {
        return out;
    }
    let xs = taps(image.width, width);
    let ys = taps(image.height, height);
    let stride = image.width * 3;
    let pixel = |row: usize, x: usize, c: usize| f32::from(image.data[row * stride + x * 3 + c]);
    for (dy, y) in ys.iter().enumerate() {
        for (dx, x) in xs.iter().enumerate() {
            for c in 0..3 {
                let top_left = pixel(y.lower, x.lower, c);
                let top_right = pixel(y.lower, x.upper, c);
                let bottom_left = pixel(y.upper, x.lower, c);
                let bottom_right = pixel(y.upper, x.upper, c);
                let top = top_left + (top_right - top_left) * x.lerp;
                let bottom = bottom_left + (bottom_right - bottom_left) * x.lerp;
                out.data[(dy * width + dx) * 3 + c] = top + (bottom - top) * y.lerp;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halving_two_pixels_gives_their_mean() {
        // Two pixels to one: the centre falls halfway between them.
        let image = RgbImage::from_raw(2, 1, vec![10, 20, 30, 40, 60, 80]).unwrap();
        let out = resize_bilinear(&image, 1, 1);
        assert_eq!(out.data, vec![25.0, 40.0, 55.0]);
    }

    #[test]
    fn enlarging_keeps_the_edges_and_interpolates_inside() {
        let image = RgbImage::from_raw(2, 1, vec![0, 0, 0, 200, 200, 200]).unwrap();
        let out = resize_bilinear(&image, 4, 1);
        let reds: Vec<f32> = out.data.chunks(3).map(|p| p[0]).collect();
        // Positions -0.25, 0.25, 0.75, 1.25: clamped at both ends.
        assert_eq!(reds, vec![0.0, 50.0, 150.0, 200.0]);
    }
}
