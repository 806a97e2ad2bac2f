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

    /// PIL's `convert("L")`: ITU-R 601-2 luma in Pillow's fixed point,
    /// `(r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16`, written to all three channels.
    /// PIL resizes and crops an "L" image with the same arithmetic per band as an RGB one, so
    /// the later steps keep the three channels equal and the tensor takes one of them.
    pub fn into_luma_pil(self) -> Self {
        self.map_gray(|r, g, b| (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
    }

    /// OpenCV's `cvtColor(image, COLOR_RGB2GRAY)` on 8 bits (this image in RGB order):
    /// `(r * 4899 + g * 9617 + b * 1868 + 8192) >> 14`, written to all three channels.
    pub fn into_gray_opencv(self) -> Self {
        self.map_gray(|r, g, b| (r * 4899 + g * 9617 + b * 1868 + 8192) >> 14)
    }

    fn map_gray(mut self, luma: impl Fn(u32, u32, u32) -> u32) -> Self {
        for pixel in self.data.chunks_exact_mut(3) {
            let [r, g, b] = [pixel[0], pixel[1], pixel[2]].map(u32::from);
            pixel.fill(luma(r, g, b).min(255) as u8);
        }
        self
    }

    /// The same pixels with red and blue swapped (OpenCV's BGR order, `COLOR_BGR2RGB`).
    pub fn swap_red_blue(mut self) -> Self {
        for pixel in self.data.chunks_exact_mut(3) {
            pixel.swap(0, 2);
        }
        self
    }
}
