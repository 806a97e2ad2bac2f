//! `PIL.ImageOps.exif_transpose`: the EXIF orientation tag read from the file, and the pixel
//! permutation PIL applies for it. PIL itself never rotates on open, so the glue does this
//! only where the service calls exif_transpose.

use super::image::RgbImage;

const ORIENTATION_TAG: u16 = 0x0112;

/// The file's EXIF orientation (1 to 8); 1, "as stored", when it has none or it is unreadable,
/// which is what PIL does then.
pub fn orientation(bytes: &[u8]) -> u16 {
    let tiff = if bytes.starts_with(&[0xFF, 0xD8]) {
        jpeg_exif(bytes)
    } else {
        png_exif(bytes)
    };
    tiff.and_then(tiff_orientation)
        .filter(|o| (1..=8).contains(o))
        .unwrap_or(1)
}

/// The TIFF structure in the first APP1 `Exif\0\0` segment before the image data.
fn jpeg_exif(bytes: &[u8]) -> Option<&[u8]> {
    let mut pos = 2;
    while pos + 4 <= bytes.len() && bytes[pos] == 0xFF {
        let marker = bytes[pos + 1];
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let length = usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]));
        let body = bytes.get(pos + 4..pos + 2 + length)?;
        if marker == 0xE1 && body.starts_with(b"Exif\0\0") {
            return Some(&body[6..]);
        }
        pos += 2 + length;
    }
    None
}

/// The TIFF structure in a PNG's `eXIf` chunk.
fn png_exif(bytes: &[u8]) -> Option<&[u8]> {
    let mut pos = 8;
    while pos + 8 <= bytes.len() {
        let length = u32::from_be_bytes(bytes[pos..pos + 4].try_into().ok()?) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        if kind == b"eXIf" {
            return bytes.get(pos + 8..pos + 8 + length);
        }
        if kind == b"IDAT" || kind == b"IEND" {
            return None;
        }
        pos = pos.checked_add(12 + length)?;
    }
    None
}

/// Tag 0x0112 of IFD0.
fn tiff_orientation(tiff: &[u8]) -> Option<u16> {
    let big_endian = match tiff.get(..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at + 2)?.try_into().ok()?;
        Some(if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let ifd = u32_at(4)? as usize;
    let entries = usize::from(u16_at(ifd)?);
    (0..entries)
        .map(|i| ifd + 2 + 12 * i)
        .find(|&entry| u16_at(entry) == Some(ORIENTATION_TAG))
        .and_then(|entry| u16_at(entry + 8))
}

/// The image as `ImageOps.exif_transpose` leaves it for `orientation`.
pub fn transpose(image: &RgbImage, orientation: u16) -> RgbImage {
    let (w, h) = (image.width, image.height);
    let swaps_axes = matches!(orientation, 5..=8);
    let (out_w, out_h) = if swaps_axes { (h, w) } else { (w, h) };
    // The source pixel of output pixel (x, y), per PIL's Transpose method for the tag.
    let source = |x: usize, y: usize| -> (usize, usize) {
        match orientation {
            2 => (w - 1 - x, y),         // FLIP_LEFT_RIGHT
            3 => (w - 1 - x, h - 1 - y), // ROTATE_180
            4 => (x, h - 1 - y),         // FLIP_TOP_BOTTOM
            5 => (y, x),                 // TRANSPOSE
            6 => (y, h - 1 - x),         // ROTATE_270
            7 => (w - 1 - y, h - 1 - x), // TRANSVERSE
            8 => (w - 1 - y, x),         // ROTATE_90
            _ => (x, y),
        }
    };
    let mut out = RgbImage::new(out_w, out_h);
    for y in 0..out_h {
        for x in 0..out_w {
            let (sx, sy) = source(x, y);
            let from = 3 * (sy * w + sx);
            let to = 3 * (y * out_w + x);
            out.data[to..to + 3].copy_from_slice(&image.data[from..from + 3]);
        }
    }
    out
}
