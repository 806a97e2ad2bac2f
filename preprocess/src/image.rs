//! The one image type the operations work on: 8-bit RGB, rows top to bottom, pixels
//! interleaved (`RGBRGB...`), which is what PIL's `convert("RGB")` and OpenCV (after
//! `cvtColor(..., COLOR_BGR2RGB)`) hold.

/// An 8-bit, 3-channel image with interleaved pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    /// `height * width * 3` bytes, row-major.
    pub data: Vec<u8>,
}

impl RgbImage {
    /// Wraps interleaved RGB bytes; `None` when the length does not match the size.
    pub fn from_raw(width: usize, height: usize, data: Vec<u8>) -> Option<Self> {
        (width.checked_mul(height)?.checked_mul(3)? == data.len()).then_some(RgbImage {
            width,
            height,
            data,
        })
    }

    /// A black image.
    pub fn new(width: usize, height: usize) -> Self {
        RgbImage {
            width,
            height,
            data: vec![0; width * height * 3],
        }
    }

    /// The same pixels with red and blue swapped (OpenCV's BGR order, `COLOR_BGR2RGB`).
    pub fn swap_red_blue(mut self) -> Self {
        for pixel in self.data.chunks_exact_mut(3) {
            pixel.swap(0, 2);
        }
        self
    }
}
