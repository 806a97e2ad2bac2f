//! torchvision's geometry on PIL images: `Resize`'s output size and `CenterCrop`.

use super::image::RgbImage;
use super::pil_resize::{self, Filter};

/// `(width, height)` that torchvision's `Resize(size)` gives an image of `width x height`.
///
/// A single `size` sets the shorter side and scales the longer one, truncated as
/// `int(size * long / short)` is in Python; `max_size` then caps the longer side. Two sizes
/// are `(height, width)` as torchvision takes them.
pub fn torchvision_resize_size(
    width: usize,
    height: usize,
    size: &[usize],
    max_size: Option<usize>,
) -> (usize, usize) {
    match *size {
        [h, w] => (w, h),
        [short_target] | [short_target, ..] => {
            let (short, long) = if width <= height {
                (width, height)
            } else {
                (height, width)
            };
            let mut new_short = short_target;
            // Python: int(requested * long / short), a true division then truncation.
            let mut new_long = (short_target as f64 * long as f64 / short as f64) as usize;
            if let Some(max) = max_size
                && new_long > max
            {
                new_short = (max as f64 * new_short as f64 / new_long as f64) as usize;
                new_long = max;
            }
            if width <= height {
                (new_short, new_long)
            } else {
                (new_long, new_short)
            }
        }
        [] => (width, height),
    }
}

/// `(width, height)` of an aspect-keeping resize that sets one side to `size` and scales the
/// other as `int(other * size / side)` in Python (true division, then truncation).
/// `shorter` sets the shorter side (torchvision's rule); otherwise the longer one. A square
/// image becomes `size x size` either way.
pub fn aspect_resize_size(
    width: usize,
    height: usize,
    size: usize,
    shorter: bool,
) -> (usize, usize) {
    let scaled = |other: usize, side: usize| (other as f64 * size as f64 / side as f64) as usize;
    // The side set to `size` is the one the rule picks; ties take height's branch first as
    // `if h > w ... else ...` does, which for a square gives the same size.
    let set_width = (width < height) == shorter;
    if width == height {
        (size, size)
    } else if set_width {
        (size, scaled(height, width))
    } else {
        (scaled(width, height), size)
    }
}

/// `(width, height)` of a letterbox resize into a `box_width x box_height` box, as the
/// service writes it: `scale = min(W / iw, H / ih)`, then `int(iw * scale)`, `int(ih * scale)`
/// (float64 division and product, then truncation).
pub fn fit_size(
    width: usize,
    height: usize,
    box_width: usize,
    box_height: usize,
) -> (usize, usize) {
    let scale = (box_width as f64 / width as f64).min(box_height as f64 / height as f64);
    (
        (width as f64 * scale) as usize,
        (height as f64 * scale) as usize,
    )
}

/// PIL's `ImageOps.fit(image, (width, height), method)` with the default bleed and centering:
/// the centred box of the output's aspect ratio (computed in float64 as Pillow does), resized
/// to the output with `resize(..., box=box)`.
pub fn fit(image: &RgbImage, width: usize, height: usize, filter: Filter) -> RgbImage {
    let (live_width, live_height) = (image.width as f64, image.height as f64);
    let live_ratio = live_width / live_height;
    let output_ratio = width as f64 / height as f64;
    let (crop_width, crop_height) = if live_ratio == output_ratio {
        (live_width, live_height)
    } else if live_ratio >= output_ratio {
        (output_ratio * live_height, live_height)
    } else {
        (live_width, live_width / output_ratio)
    };
    let left = (live_width - crop_width) * 0.5;
    let top = (live_height - crop_height) * 0.5;
    let region = [left, top, left + crop_width, top + crop_height];
    pil_resize::resize_box(image, width, height, filter, region)
}

/// PIL's `canvas = Image.new("RGB", (width, height), fill)` then
/// `canvas.paste(image, ((width - w) // 2, (height - h) // 2))`: the image centered on a
/// filled canvas, clipped where it is larger.
pub fn paste_centered(image: &RgbImage, width: usize, height: usize, fill: [u8; 3]) -> RgbImage {
    let mut out = RgbImage::new(width, height);
    for pixel in out.data.chunks_exact_mut(3) {
        pixel.copy_from_slice(&fill);
    }
    // Python's floor division: a negative offset when the image is the larger.
    let left = (width as i64 - image.width as i64).div_euclid(2);
    let top = (height as i64 - image.height as i64).div_euclid(2);
    for y in 0..image.height {
        let out_y = top + y as i64;
        if !(0..height as i64).contains(&out_y) {
            continue;
        }
        let from = left.max(0);
        let to = (left + image.width as i64).min(width as i64);
        if from >= to {
            continue;
        }
        let src_x = (from - left) as usize;
        let n = (to - from) as usize;
        let src = (y * image.width + src_x) * 3;
        let dst = (out_y as usize * width + from as usize) * 3;
        out.data[dst..dst + n * 3].copy_from_slice(&image.data[src..src + n * 3]);
    }
    out
}

/// How a center crop by slicing (`image[top:top + h, left:left + w]`) computes its start
/// from the image side `size` and the `crop` side, as the service wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SliceOffset {
    /// `size // 2 - crop // 2`
    HalfMinusHalf,
    /// `(size - crop) // 2`
    FloorHalfDifference,
    /// `round((size - crop) / 2)`, half to even
    RoundHalfDifference,
}

impl SliceOffset {
    fn start(self, size: usize, crop: usize) -> usize {
        let (size, crop) = (size as i64, crop as i64);
        let start = match self {
            SliceOffset::HalfMinusHalf => size.div_euclid(2) - crop.div_euclid(2),
            SliceOffset::FloorHalfDifference => (size - crop).div_euclid(2),
            SliceOffset::RoundHalfDifference => {
                ((size - crop) as f64 / 2.0).round_ties_even() as i64
            }
        };
        // `max(0, ...)` in the service, or NumPy's clamping of a negative start.
        start.max(0) as usize
    }
}

/// `image[top:top + crop_height, left:left + crop_width]` with centered starts: NumPy's
/// slicing, so a crop larger than the image keeps what there is (no padding).
pub fn slice_center_crop(
    image: &RgbImage,
    crop_width: usize,
    crop_height: usize,
    offset: SliceOffset,
) -> RgbImage {
    let top = offset.start(image.height, crop_height).min(image.height);
    let left = offset.start(image.width, crop_width).min(image.width);
    let width = crop_width.min(image.width - left);
    let height = crop_height.min(image.height - top);
    crop(image, left, top, width, height)
}

/// torchvision's `CenterCrop((height, width))`: pads with black when the image is smaller,
/// then crops at `round((H - h) / 2)`, `round((W - w) / 2)` with Python's round-half-to-even.
pub fn center_crop(image: &RgbImage, crop_width: usize, crop_height: usize) -> RgbImage {
    let padded;
    let image = if crop_width > image.width || crop_height > image.height {
        // torchvision pads left/top by (crop - size) // 2 and right/bottom by the rest.
        let pad_left = crop_width.saturating_sub(image.width) / 2;
        let pad_top = crop_height.saturating_sub(image.height) / 2;
        let pad_right = crop_width.saturating_sub(image.width).div_ceil(2);
        let pad_bottom = crop_height.saturating_sub(image.height).div_ceil(2);
        let mut out = RgbImage::new(
            image.width + pad_left + pad_right,
            image.height + pad_top + pad_bottom,
        );
        for y in 0..image.height {
            let src = &image.data[y * image.width * 3..(y + 1) * image.width * 3];
            let start = ((y + pad_top) * out.width + pad_left) * 3;
            out.data[start..start + src.len()].copy_from_slice(src);
        }
        if out.width == crop_width && out.height == crop_height {
            return out;
        }
        padded = out;
        &padded
    } else {
        image
    };
    let top = ((image.height - crop_height) as f64 / 2.0).round_ties_even() as usize;
    let left = ((image.width - crop_width) as f64 / 2.0).round_ties_even() as usize;
    crop(image, left, top, crop_width, crop_height)
}

/// `Resize` to `width x height` then `CenterCrop((crop_height, crop_width))` as one step that
/// computes only the pixels the crop keeps; the result is the two steps' to the bit.
pub fn resize_and_center_crop(
    image: &RgbImage,
    width: usize,
    height: usize,
    filter: Filter,
    crop_width: usize,
    crop_height: usize,
) -> RgbImage {
    if crop_width > width || crop_height > height {
        // The crop pads: nothing to skip.
        let resized = pil_resize::resize(image, width, height, filter);
        return center_crop(&resized, crop_width, crop_height);
    }
    let top = ((height - crop_height) as f64 / 2.0).round_ties_even() as usize;
    let left = ((width - crop_width) as f64 / 2.0).round_ties_even() as usize;
    pil_resize::resize_cropped(
        image,
        width,
        height,
        filter,
        [left, top, crop_width, crop_height],
    )
}

/// The `width x height` region whose top-left pixel is `(left, top)`; must lie inside.
pub fn crop(image: &RgbImage, left: usize, top: usize, width: usize, height: usize) -> RgbImage {
    let mut out = RgbImage::new(width, height);
    for y in 0..height {
        let start = ((top + y) * image.width + left) * 3;
        out.data[y * width * 3..(y + 1) * width * 3]
            .copy_from_slice(&image.data[start..start + width * 3]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aspect_resize_size_truncates_as_python_does() {
        // 640x427, shorter side 224: int(640 * 224 / 427) = int(335.737...) = 335.
        assert_eq!(aspect_resize_size(640, 427, 224, true), (335, 224));
        assert_eq!(aspect_resize_size(427, 640, 224, true), (224, 335));
        // Longer side 224: int(427 * 224 / 640) = int(149.45) = 149.
        assert_eq!(aspect_resize_size(640, 427, 224, false), (224, 149));
        assert_eq!(aspect_resize_size(300, 300, 224, true), (224, 224));
        // The shorter-side rule is torchvision's.
        for (w, h) in [(640, 427), (333, 500), (1001, 999), (225, 224)] {
            assert_eq!(
                aspect_resize_size(w, h, 224, true),
                torchvision_resize_size(w, h, &[224], None)
            );
        }
    }

    #[test]
    fn fit_size_and_paste_centered_make_a_letterbox() {
        // 640x427 into 500x500: scale = min(0.78125, 1.1709...) -> 500x333.
        assert_eq!(fit_size(640, 427, 500, 500), (500, 333));
        assert_eq!(fit_size(300, 600, 416, 416), (208, 416));
        let mut image = RgbImage::new(2, 1);
        image.data.copy_from_slice(&[1, 2, 3, 4, 5, 6]);
        // (4 - 2) // 2 = 1 from the left, (3 - 1) // 2 = 1 from the top.
        let out = paste_centered(&image, 4, 3, [9, 9, 9]);
        assert_eq!(&out.data[..12], &[9; 12]);
        assert_eq!(&out.data[12..24], &[9, 9, 9, 1, 2, 3, 4, 5, 6, 9, 9, 9]);
        // Larger than the canvas: (1 - 2) // 2 = -1, the first pixel is clipped.
        let clipped = paste_centered(&image, 1, 1, [0, 0, 0]);
        assert_eq!(clipped.data, [4, 5, 6]);
    }

    #[test]
    fn slice_offsets_follow_the_python_expression() {
        // size 303, crop 224: 151 - 112 = 39; 79 // 2 = 39; round(39.5) = 40 (half to even).
        assert_eq!(SliceOffset::HalfMinusHalf.start(303, 224), 39);
        assert_eq!(SliceOffset::FloorHalfDifference.start(303, 224), 39);
        assert_eq!(SliceOffset::RoundHalfDifference.start(303, 224), 40);
        // An odd crop: 300 // 2 - 223 // 2 = 39, (300 - 223) // 2 = 38.
        assert_eq!(SliceOffset::HalfMinusHalf.start(300, 223), 39);
        assert_eq!(SliceOffset::FloorHalfDifference.start(300, 223), 38);
        // Smaller than the crop: clamped at 0.
        assert_eq!(SliceOffset::FloorHalfDifference.start(100, 224), 0);
    }

    #[test]
    fn slice_center_crop_keeps_what_numpy_keeps() {
        let mut image = RgbImage::new(5, 4);
        for (i, b) in image.data.iter_mut().enumerate() {
            *b = i as u8;
        }
        // image[1:3, 1:4]: rows 1..3, columns 1..4 (5 // 2 - 3 // 2 = 1, 4 // 2 - 2 // 2 = 1).
        let out = slice_center_crop(&image, 3, 2, SliceOffset::HalfMinusHalf);
        assert_eq!((out.width, out.height), (3, 2));
        assert_eq!(&out.data[..3], &image.data[(5 + 1) * 3..(5 + 1) * 3 + 3]);
        // A crop wider than the image keeps the whole width, as slicing does.
        let wide = slice_center_crop(&image, 9, 2, SliceOffset::FloorHalfDifference);
        assert_eq!((wide.width, wide.height), (5, 2));
    }

    #[test]
    fn resize_size_keeps_aspect_and_truncates() {
        // 640x427 -> shorter side 256: 640 * 256 / 427 = 383.7 -> 383.
        assert_eq!(torchvision_resize_size(640, 427, &[256], None), (383, 256));
        assert_eq!(torchvision_resize_size(300, 451, &[256], None), (256, 384));
        assert_eq!(
            torchvision_resize_size(300, 451, &[100, 50], None),
            (50, 100)
        );
        assert_eq!(
            torchvision_resize_size(1000, 100, &[50], Some(300)),
            (300, 30)
        );
    }

    #[test]
    fn center_crop_rounds_half_to_even() {
        // (257 - 224) / 2 = 16.5 rounds to 16; (259 - 224) / 2 = 17.5 rounds to 18.
        let data = (0..259 * 257 * 3).map(|i| (i / 3 % 251) as u8).collect();
        let image = RgbImage::from_raw(259, 257, data).unwrap();
        let out = center_crop(&image, 224, 224);
        let first = usize::from(out.data[0]);
        assert_eq!(first, (16 * 259 + 18) % 251);
    }

    #[test]
    fn center_crop_pads_small_images_with_black() {
        let image = RgbImage::from_raw(1, 1, vec![9, 9, 9]).unwrap();
        let out = center_crop(&image, 3, 2);
        assert_eq!((out.width, out.height), (3, 2));
        // Padding is 1 left / 1 right and 0 top / 1 bottom: the pixel lands at (1, 0).
        assert_eq!(&out.data[3..6], &[9, 9, 9]);
        assert_eq!(out.data.iter().filter(|&&v| v == 9).count(), 3);
    }

    #[test]
    fn resize_and_center_crop_equals_the_two_steps() {
        // Deterministic noise, so every weight matters.
        let mut state = 12345u32;
        let data = (0..97 * 61 * 3)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (state >> 16) as u8
            })
            .collect();
        let image = RgbImage::from_raw(97, 61, data).unwrap();
        for filter in [
            Filter::Bilinear,
            Filter::Bicubic,
            Filter::Lanczos,
            Filter::Nearest,
        ] {
            // Shrinking both ways, vertical pass first, one axis unchanged, enlarging, padding.
            for (w, h, cw, ch) in [
                (40, 25, 24, 20),
                (90, 20, 31, 19),
                (97, 30, 50, 30),
                (150, 61, 77, 33),
                (30, 20, 40, 24),
            ] {
                let fused = resize_and_center_crop(&image, w, h, filter, cw, ch);
                let steps = center_crop(&pil_resize::resize(&image, w, h, filter), cw, ch);
                assert_eq!(fused, steps, "{filter:?} {w}x{h} crop {cw}x{ch}");
            }
        }
    }

    #[test]
    fn fit_crops_the_longer_side_around_the_centre() {
        // A 4x2 image with a distinct left and right half, fitted into 2x2: the centre square.
        let mut image = RgbImage::new(4, 2);
        for (i, pixel) in image.data.chunks_exact_mut(3).enumerate() {
            pixel.fill((i % 4 * 60) as u8);
        }
        let fitted = fit(&image, 2, 2, Filter::Nearest);
        let values: Vec<u8> = fitted.data.chunks_exact(3).map(|p| p[0]).collect();
        assert_eq!(values, [60, 120, 60, 120]);
        // Same aspect, same size: the pixels as they are.
        assert_eq!(fit(&image, 4, 2, Filter::Bicubic), image);
    }
}
