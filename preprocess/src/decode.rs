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

/// The mode PIL's `Image.open` gives an upload: what `np.array(image)` holds when the service
/// converts nothing (`Image.open(f)` alone), so the model sees the file's own channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenedMode {
    /// "L": one channel, `np.array` of shape `(h, w)`.
    Gray,
    /// "RGB": three channels.
    Rgb,
    /// Any other mode ("RGBA", "LA", "P", "I;16", "1", "CMYK"), named as PIL names it.
    Other(&'static str),
}

/// The upload's mode as PIL opens it, read from the header alone (the JPEG frame's
/// components, the PNG's colour type and bit depth).
pub fn opened_mode(bytes: &[u8]) -> OpenedMode {
    if jpeg::is_jpeg(bytes) {
        return match jpeg::component_count(bytes) {
            Some(1) => OpenedMode::Gray,
            Some(3) => OpenedMode::Rgb,
            Some(4) => OpenedMode::Other("CMYK"),
            _ => OpenedMode::Other("unknown"),
        };
    }
    // The IHDR chunk comes first: its bit depth and colour type follow the width and height.
    match (
        bytes.starts_with(PNG_SIGNATURE),
        bytes.get(24),
        bytes.get(25),
    ) {
        (true, Some(1), Some(0)) => OpenedMode::Other("1"),
        (true, Some(16), Some(0)) => OpenedMode::Other("I;16"),
        (true, Some(_), Some(0)) => OpenedMode::Gray,
        (true, Some(_), Some(2)) => OpenedMode::Rgb,
        (true, Some(_), Some(3)) => OpenedMode::Other("P"),
        (true, Some(_), Some(4)) => OpenedMode::Other("LA"),
        (true, Some(_), Some(6)) => OpenedMode::Other("RGBA"),
        _ => OpenedMode::Other("unknown"),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG of one pixel with the given bit depth and colour type (its IHDR is all that
    /// `opened_mode` reads).
    fn png_header(depth: u8, color_type: u8) -> Vec<u8> {
        let mut bytes = PNG_SIGNATURE.to_vec();
        bytes.extend_from_slice(&13u32.to_be_bytes());
        bytes.extend_from_slice(b"IHDR");
        bytes.extend_from_slice(&1u32.to_be_bytes());
        bytes.extend_from_slice(&1u32.to_be_bytes());
        bytes.extend_from_slice(&[depth, color_type, 0, 0, 0]);
        bytes
    }

    /// SOI, an APP0 segment to skip, then a baseline frame header with `components`.
    fn jpeg_header(components: u8) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, b'J', b'F'];
        let length = 8 + 3 * u16::from(components);
        bytes.extend_from_slice(&[0xFF, 0xC0]);
        bytes.extend_from_slice(&length.to_be_bytes());
        bytes.extend_from_slice(&[8, 0, 1, 0, 1, components]);
        for id in 1..=components {
            bytes.extend_from_slice(&[id, 0x11, 0]);
        }
        bytes
    }

    #[test]
    fn opened_mode_is_pils_mode_from_the_header() {
        assert_eq!(opened_mode(&jpeg_header(1)), OpenedMode::Gray);
        assert_eq!(opened_mode(&jpeg_header(3)), OpenedMode::Rgb);
        assert_eq!(opened_mode(&jpeg_header(4)), OpenedMode::Other("CMYK"));
        assert_eq!(opened_mode(&png_header(8, 0)), OpenedMode::Gray);
        assert_eq!(opened_mode(&png_header(4, 0)), OpenedMode::Gray);
        assert_eq!(opened_mode(&png_header(1, 0)), OpenedMode::Other("1"));
        assert_eq!(opened_mode(&png_header(16, 0)), OpenedMode::Other("I;16"));
        assert_eq!(opened_mode(&png_header(16, 2)), OpenedMode::Rgb);
        assert_eq!(opened_mode(&png_header(8, 3)), OpenedMode::Other("P"));
        assert_eq!(opened_mode(&png_header(8, 4)), OpenedMode::Other("LA"));
        assert_eq!(opened_mode(&png_header(8, 6)), OpenedMode::Other("RGBA"));
        assert_eq!(opened_mode(b"GIF89a"), OpenedMode::Other("unknown"));
        // A frame header cut short is not read past the end.
        let cut = jpeg_header(3);
        assert_eq!(
            opened_mode(&cut[..cut.len() - 10]),
            OpenedMode::Other("unknown")
        );
    }
}
