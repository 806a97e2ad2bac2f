//! JPEG decoding with the numerics of the libjpeg-turbo inside PIL, so that
//! `Image.open(f).convert("RGB")` and the glue see the same pixels.
//!
//! Other decoders differ from libjpeg by a few levels: their IDCTs and chroma upsampling
//! round differently. This one follows libjpeg-turbo's choices under PIL's settings:
//! the accurate integer IDCT ([`idct`]), fancy upsampling ([`upsample`]), the fixed-point
//! colour tables, and PIL's own CMYK handling ([`color`]). Baseline, extended and progressive
//! Huffman-coded JPEGs with any subsampling, restart markers, grayscale, RGB, CMYK and YCCK.
//! Arithmetic coding, lossless and 12-bit JPEGs are refused, as most PIL builds refuse them.

mod color;
mod huffman;
mod idct;
mod markers;
mod scan;
mod upsample;

use super::image::RgbImage;
use markers::{Frame, Segment, Tables};
use scan::Coefficients;

/// Why a file is not decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JpegError {
    /// Not a JPEG at all (no start-of-image marker).
    NotJpeg,
    /// The file ends before the image does (PIL: "image file is truncated").
    Truncated,
    /// The data contradicts itself; says where.
    Corrupt(&'static str),
    /// A valid JPEG of a kind this decoder (and PIL's usual build) does not decode.
    Unsupported(String),
}

impl std::fmt::Display for JpegError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JpegError::NotJpeg => write!(f, "not a JPEG file (no SOI marker)"),
            JpegError::Truncated => write!(f, "the JPEG file is truncated"),
            JpegError::Corrupt(what) => write!(f, "corrupt JPEG data: {what}"),
            JpegError::Unsupported(what) => write!(f, "unsupported JPEG: {what}"),
        }
    }
}

impl std::error::Error for JpegError {}

/// Whether `bytes` start like a JPEG file.
pub fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8])
}

/// The number of components of the file's frame, from its header (`None` when no frame
/// header comes before the end of the bytes).
pub fn component_count(bytes: &[u8]) -> Option<usize> {
    let mut pos = 2;
    while pos + 4 <= bytes.len() {
        if bytes[pos] != 0xFF {
            pos += 1;
            continue;
        }
        let marker = bytes[pos + 1];
        if matches!(marker, 0xFF | 0x00 | 0x01 | 0xD0..=0xD7) {
            pos += 1;
            continue;
        }
        // SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC): precision, height, width, count.
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            return bytes.get(pos + 9).map(|&n| usize::from(n));
        }
        let length = usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]));
        pos += 2 + length;
    }
    None
}

/// The image as PIL's `Image.open(...).convert("RGB")` gives it.
pub fn decode_rgb(bytes: &[u8]) -> Result<RgbImage, JpegError> {
    let (frame, tables, coefficients) = read_coefficients(bytes)?;
    let planes = component_samples(&frame, &tables, &coefficients)?;
    Ok(to_rgb(&frame, &tables, &planes))
}

/// Everything up to the end of the last scan.
fn read_coefficients(bytes: &[u8]) -> Result<(Frame, Tables, Coefficients), JpegError> {
    if !is_jpeg(bytes) {
        return Err(JpegError::NotJpeg);
    }
    let mut tables = Tables::default();
    let mut frame: Option<(Frame, Coefficients)> = None;
    let mut pos = 2;
    loop {
        // Skip anything up to the next marker (libjpeg warns about such bytes and goes on).
        while pos < bytes.len() && bytes[pos] != 0xFF {
            pos += 1;
        }
        while pos < bytes.len() && bytes[pos] == 0xFF {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else {
            // All scans read and no EOI: what PIL also accepts for a complete baseline image.
            return frame
                .map(|(f, c)| (f, tables, c))
                .ok_or(JpegError::Truncated);
        };
        pos += 1;
        if marker == 0xD9 {
            break;
        }
        if matches!(marker, 0x00 | 0x01 | 0xD0..=0xD7) {
            continue; // stuffed bytes and markers without a segment
        }
        let length = match bytes.get(pos..pos + 2) {
            Some(b) => usize::from(u16::from_be_bytes([b[0], b[1]])),
            None => return Err(JpegError::Truncated),
        };
        if length < 2 {
            return Err(JpegError::Corrupt("a marker segment length below 2"));
        }
        let body = bytes
            .get(pos + 2..pos + length)
            .ok_or(JpegError::Truncated)?;
        let mut segment = Segment::new(body);
        pos += length;
        match marker {
            0xC0..=0xC2 => {
                if frame.is_some() {
                    return Err(JpegError::Corrupt("a second frame header"));
                }
                let f = markers::read_frame(&mut segment, marker == 0xC2)?;
                let coefficients = Coefficients::new(&f);
                frame = Some((f, coefficients));
            }
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                let kind = if marker >= 0xC9 {
                    "arithmetic coding"
                } else if marker == 0xC3 {
                    "lossless coding"
                } else {
                    "hierarchical coding"
                };
                return Err(JpegError::Unsupported(kind.into()));
            }
            0xC4 => markers::read_huffman_tables(&mut segment, &mut tables)?,
            0xDB => markers::read_quant_tables(&mut segment, &mut tables)?,
            0xDD => {
                let interval = segment.u16()?;
                tables.restart_interval = usize::from(interval);
            }
            0xDA => {
                let (f, coefficients) = frame
                    .as_mut()
                    .ok_or(JpegError::Corrupt("a scan before the frame header"))?;
                let header = markers::read_scan_header(&mut segment, f)?;
                pos = scan::decode_scan(bytes, pos, f, &tables, &header, coefficients)?;
            }
            0xE0..=0xEF => markers::read_app(marker, body, &mut tables),
            _ => {} // comments, DNL/EXP and unknown markers carry nothing PIL's pixels use
        }
    }
    frame.map(|(f, c)| (f, tables, c)).ok_or(JpegError::Corrupt(
        "no frame header before the end of image",
    ))
}

/// Each component's samples after the IDCT, at its own resolution.
fn component_samples(
    frame: &Frame,
    tables: &Tables,
    coefficients: &Coefficients,
) -> Result<Vec<Vec<u8>>, JpegError> {
    let mut planes = Vec::new();
    for (component, (across, down, data)) in frame.components.iter().zip(&coefficients.planes) {
        let quant = tables.quant[component.quant_table]
            .as_ref()
            .ok_or(JpegError::Corrupt(
                "a component uses a quantisation table never defined",
            ))?;
        let stride = across * 8;
        let mut samples = vec![0u8; stride * down * 8];
        for row in 0..*down {
            for column in 0..*across {
                let block = &data[64 * (row * across + column)..][..64];
                let out = &mut samples[row * 8 * stride + column * 8..];
                idct::idct_block(block, quant, out, stride);
            }
        }
        planes.push(samples);
    }
    Ok(planes)
}

/// The colour space of the file's samples.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ColorSpace {
    Gray,
    YCbCr,
    Rgb,
    Cmyk,
    Ycck,
}

/// One row of upsampled components to RGB.
fn convert_row(space: ColorSpace, ycc: &color::Ycc, rows: &[&[u8]], out: &mut [u8]) {
    match space {
        ColorSpace::YCbCr => ycc.convert_row(rows[0], rows[1], rows[2], out),
        ColorSpace::Gray => {
            for (pixel, &y) in out.chunks_exact_mut(3).zip(rows[0]) {
                pixel.fill(y);
            }
        }
        ColorSpace::Rgb => {
            for (i, pixel) in out.chunks_exact_mut(3).enumerate() {
                pixel.copy_from_slice(&[rows[0][i], rows[1][i], rows[2][i]]);
            }
        }
        ColorSpace::Cmyk | ColorSpace::Ycck => {
            for (i, pixel) in out.chunks_exact_mut(3).enumerate() {
                let (a, b, c, k) = (rows[0][i], rows[1][i], rows[2][i], rows[3][i]);
                let cmyk = if space == ColorSpace::Ycck {
                    // libjpeg's YCCK->CMYK: the inverted RGB of the YCC part, K as is.
                    let [r, g, b] = ycc.rgb(a, b, c);
                    [255 - r, 255 - g, 255 - b, k]
                } else {
                    [a, b, c, k]
                };
                pixel.copy_from_slice(&color::pil_cmyk_to_rgb(cmyk));
            }
        }
    }
}

/// libjpeg's colour space for the file, from its markers and component ids (jdapimin.c
/// default_decompress_parms).
fn color_space(frame: &Frame, tables: &Tables) -> ColorSpace {
    match frame.components.len() {
        1 => ColorSpace::Gray,
        3 if tables.saw_jfif => ColorSpace::YCbCr,
        3 => match tables.adobe_transform {
            Some(0) => ColorSpace::Rgb,
            Some(_) => ColorSpace::YCbCr,
            None => {
                let ids: Vec<u8> = frame.components.iter().map(|c| c.id).collect();
                if ids == [b'R', b'G', b'B'] {
                    ColorSpace::Rgb
                } else {
                    ColorSpace::YCbCr
                }
            }
        },
        _ => match tables.adobe_transform {
            Some(0) | None => ColorSpace::Cmyk,
            Some(_) => ColorSpace::Ycck,
        },
    }
}

/// Upsamples every component and converts the pixels as libjpeg and then PIL do, a row at
/// a time.
fn to_rgb(frame: &Frame, tables: &Tables, planes: &[Vec<u8>]) -> RgbImage {
    let (width, height) = (frame.width, frame.height);
    let (max_h, max_v) = (frame.max_h(), frame.max_v());
    let components: Vec<(upsample::Plane, (usize, usize))> = frame
        .components
        .iter()
        .zip(planes)
        .map(|(component, samples)| {
            let (plane_width, plane_height) = frame.component_size(component);
            let plane = upsample::Plane {
                data: samples,
                stride: frame.mcus().0 * component.h * 8,
                width: plane_width,
                height: plane_height,
            };
            (plane, (max_h / component.h, max_v / component.v))
        })
        .collect();
    let space = color_space(frame, tables);
    let ycc = color::Ycc::new();
    let mut buffers = vec![Vec::new(); components.len()];
    let mut data = vec![0u8; width * height * 3];
    for (y, out) in data.chunks_exact_mut(width * 3).enumerate() {
        let rows: Vec<&[u8]> = components
            .iter()
            .zip(&mut buffers)
            .map(|((plane, factors), buffer)| {
                upsample::upsample_row(plane, *factors, y, width, buffer)
            })
            .collect();
        convert_row(space, &ycc, &rows, out);
    }
    RgbImage {
        width,
        height,
        data,
    }
}
