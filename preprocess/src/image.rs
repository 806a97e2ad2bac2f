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

    /// OpenCV's `cvtColor(image, COLOR_RGB2GRAY)` on 8 bits (this image in RGB order), in the
    /// fixed point of OpenCV `major`, written to all three channels: 4.x weighs with 14 bits,
    /// `(r * 4899 + g * 9617 + b * 1868 + 8192) >> 14`; 5.x with 15, which rounds about one
    /// pixel in 350 differently.
    pub fn into_gray_opencv(self, major: u32) -> Self {
        if major >= 5 {
            self.map_gray(|r, g, b| (r * 9798 + g * 19235 + b * 3735 + 16384) >> 15)
        } else {
            self.map_gray(|r, g, b| (r * 4899 + g * 9617 + b * 1868 + 8192) >> 14)
        }
    }

    fn map_gray(mut self, luma: impl Fn(u32, u32, u32) -> u32) -> Self {
        for pixel in self.data.chunks_exact_mut(3) {
            let [r, g, b] = [pixel[0], pixel[1], pixel[2]].map(u32::from);
            pixel.fill(luma(r, g, b).min(255) as u8);
        }
        self
    }

    /// PIL's `ImageOps.invert`: `255 - v` in every channel.
    pub fn inverted(mut self) -> Self {
        self.data.iter_mut().for_each(|v| *v = 255 - *v);
        self
    }

    /// PIL's `ImageOps.mirror`: left and right swapped.
    pub fn mirrored(mut self) -> Self {
        let row = self.width * 3;
        if row > 0 {
            for line in self.data.chunks_exact_mut(row) {
                let pixels: Vec<[u8; 3]> = line
                    .chunks_exact(3)
                    .rev()
                    .map(|p| [p[0], p[1], p[2]])
                    .collect();
                line.copy_from_slice(pixels.as_flattened());
            }
        }
        self
    }

    /// PIL's `ImageOps.flip`: top and bottom swapped.
    pub fn flipped(mut self) -> Self {
        let row = self.width * 3;
        if row > 0 {
            let lines: Vec<Vec<u8>> = self
                .data
                .chunks_exact(row)
                .rev()
                .map(<[u8]>::to_vec)
                .collect();
            self.data = lines.concat();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invert_mirror_and_flip_move_pixels_as_pil_does() {
        // 2 x 2: rows (1, 2) and (3, 4), each pixel's channels equal to its number.
        let image =
            RgbImage::from_raw(2, 2, [1, 2, 3, 4].iter().flat_map(|&v| [v; 3]).collect()).unwrap();
        let first = |i: &RgbImage| i.data.chunks_exact(3).map(|p| p[0]).collect::<Vec<u8>>();
        assert_eq!(first(&image.clone().mirrored()), [2, 1, 4, 3]);
        assert_eq!(first(&image.clone().flipped()), [3, 4, 1, 2]);
        assert_eq!(first(&image.inverted()), [254, 253, 252, 251]);
    }
}
