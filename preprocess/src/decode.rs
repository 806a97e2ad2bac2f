//! An upload's bytes to the pixels PIL's `Image.open(f).convert("RGB")` gives.
//!
//! JPEG goes through [`super::jpeg`], which follows PIL's libjpeg-turbo bit for bit. PNG is
//! decoded by the `image` crate and then mapped as PIL maps each PNG kind to RGB: alpha is
//! dropped, palettes and low bit depths expand, and 16-bit samples are narrowed the way
//! Pillow's raw modes narrow them (measured against Pillow 13 in the parity tests).

use image::DynamicImage;

use super::image::RgbImage;
use super::jpeg::{self, JpegError};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Why an upload is not an image the service reads.
#[derive(Debug)]
pub enum DecodeError {
    Jpeg(JpegError),
    Png(String),
    /// Neither a JPEG nor a PNG (by its first bytes).
    NotAnImage,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Jpeg(e) => write!(f, "{e}"),
            DecodeError::Png(e) => write!(f, "unreadable PNG: {e}"),
            DecodeError::NotAnImage => write!(f, "not a JPEG or PNG image"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// The upload's pixels, as the Python service saw them after `convert("RGB")`.
pub fn decode_upload(bytes: &[u8]) -> Result<RgbImage, DecodeError> {
    if jpeg::is_jpeg(bytes) {
        return jpeg::decode_rgb(bytes).map_err(DecodeError::Jpeg);
    }
    if !bytes.starts_with(PNG_SIGNATURE) {
        return Err(DecodeError::NotAnImage);
    }
    let decoded = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
        .map_err(|e| DecodeError::Png(e.to_string()))?;
    Ok(png_to_rgb(decoded))
}

fn png_to_rgb(decoded: DynamicImage) -> RgbImage {
    let (width, height) = (decoded.width() as usize, decoded.height() as usize);
    let high = |v: u16| (v >> 8) as u8;
    let data = match decoded {
        // "RGB;16B", "RGBA;16B", "LA;16B": the high byte of each sample (no rounding).
        DynamicImage::ImageRgb16(i) => i.into_raw().into_iter().map(high).collect(),
        DynamicImage::ImageRgba16(i) => narrow(&i.into_raw(), 4, high),
        DynamicImage::ImageLumaA16(i) => gray(&i.into_raw(), 2, high),
        // 16-bit grayscale opens as "I;16", whose conversion to RGB clips at 255.
        DynamicImage::ImageLuma16(i) => gray(&i.into_raw(), 1, |v| v.min(255) as u8),
        other => other.into_rgb8().into_raw(),
    };
    RgbImage {
        width,
        height,
        data,
    }
}

/// The first three of every `channels` samples, narrowed.
fn narrow(samples: &[u16], channels: usize, to_u8: impl Fn(u16) -> u8) -> Vec<u8> {
    samples
        .chunks_exact(channels)
        .flat_map(|pixel| pixel[..3].iter().map(|&v| to_u8(v)))
        .collect()
}

/// The first of every `channels` samples, narrowed and repeated three times.
fn gray(samples: &[u16], channels: usize, to_u8: impl Fn(u16) -> u8) -> Vec<u8> {
    samples
        .chunks_exact(channels)
        .flat_map(|pixel| [to_u8(pixel[0]); 3])
        .collect()
}
