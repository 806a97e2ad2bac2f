//! The marker segments before and between scans (ITU T.81 B.2): frame, tables, restart
//! interval, and the JFIF/Adobe markers libjpeg reads the colour space from.

use super::JpegError;
use super::huffman::HuffmanTable;

/// The zigzag position of each coefficient in natural (row-major) order, with libjpeg's 16
/// extra entries: a corrupt run past the 64th coefficient lands on the last one, as there.
pub const NATURAL_ORDER: [usize; 80] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    63, 63, 63, 63, 63, 63,
];

/// PIL refuses images over twice `Image.MAX_IMAGE_PIXELS` (DecompressionBombError).
const MAX_PIXELS: usize = 2 * 89_478_485;

#[derive(Debug, Clone)]
pub struct Component {
    pub id: u8,
    pub h: usize,
    pub v: usize,
    pub quant_table: usize,
}

#[derive(Debug, Clone)]
pub struct Frame {
    pub width: usize,
    pub height: usize,
    pub progressive: bool,
    pub components: Vec<Component>,
}

impl Frame {
    pub fn max_h(&self) -> usize {
        self.components.iter().map(|c| c.h).max().unwrap_or(1)
    }
    pub fn max_v(&self) -> usize {
        self.components.iter().map(|c| c.v).max().unwrap_or(1)
    }
    /// MCUs across and down in an interleaved scan.
    pub fn mcus(&self) -> (usize, usize) {
        (
            self.width.div_ceil(8 * self.max_h()),
            self.height.div_ceil(8 * self.max_v()),
        )
    }
    /// A component's size in samples before upsampling (libjpeg's `downsampled_width/height`).
    pub fn component_size(&self, c: &Component) -> (usize, usize) {
        (
            (self.width * c.h).div_ceil(self.max_h()),
            (self.height * c.v).div_ceil(self.max_v()),
        )
    }
}

/// One scan's header (SOS).
#[derive(Debug, Clone)]
pub struct ScanHeader {
    /// Indices into the frame's components, with their DC and AC table numbers.
    pub components: Vec<(usize, usize, usize)>,
    pub spectral_start: usize,
    pub spectral_end: usize,
    pub approx_high: u32,
    pub approx_low: u32,
}

/// The tables and markers seen so far.
#[derive(Default)]
pub struct Tables {
    /// Quantisation tables in natural order.
    pub quant: [Option<[u16; 64]>; 4],
    pub dc: [Option<HuffmanTable>; 4],
    pub ac: [Option<HuffmanTable>; 4],
    pub restart_interval: usize,
    pub saw_jfif: bool,
    pub adobe_transform: Option<u8>,
}

/// A cursor over one segment's bytes; running off its end is a corrupt segment.
pub struct Segment<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Segment<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Segment { bytes, pos: 0 }
    }
    pub fn u8(&mut self) -> Result<u8, JpegError> {
        let byte = *self.bytes.get(self.pos).ok_or(JpegError::Corrupt(
            "a marker segment shorter than its contents",
        ))?;
        self.pos += 1;
        Ok(byte)
    }
    pub fn u16(&mut self) -> Result<u16, JpegError> {
        Ok(u16::from(self.u8()?) << 8 | u16::from(self.u8()?))
    }
    pub fn take(&mut self, count: usize) -> Result<&'a [u8], JpegError> {
        let bytes = self
            .bytes
            .get(self.pos..self.pos + count)
            .ok_or(JpegError::Corrupt(
                "a marker segment shorter than its contents",
            ))?;
        self.pos += count;
        Ok(bytes)
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }
}

pub fn read_frame(segment: &mut Segment, progressive: bool) -> Result<Frame, JpegError> {
    let precision = segment.u8()?;
    if precision != 8 {
        return Err(JpegError::Unsupported(format!("{precision}-bit samples")));
    }
    let height = usize::from(segment.u16()?);
    let width = usize::from(segment.u16()?);
    if width == 0 || height == 0 {
        return Err(JpegError::Unsupported(
            "an image size given by a DNL marker".into(),
        ));
    }
    if width * height > MAX_PIXELS {
        return Err(JpegError::Unsupported(format!(
            "{width}x{height} pixels, more than PIL opens (a decompression bomb to it)"
        )));
    }
    let count = segment.u8()?;
    if !matches!(count, 1 | 3 | 4) {
        return Err(JpegError::Unsupported(format!("{count} components")));
    }
    let mut components = Vec::new();
    for _ in 0..count {
        let id = segment.u8()?;
        let sampling = segment.u8()?;
        let quant_table = usize::from(segment.u8()?);
        let (h, v) = (usize::from(sampling >> 4), usize::from(sampling & 15));
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) || quant_table > 3 {
            return Err(JpegError::Corrupt("a component with bad sampling factors"));
        }
        components.push(Component {
            id,
            h,
            v,
            quant_table,
        });
    }
    let frame = Frame {
        width,
        height,
        progressive,
        components,
    };
    let (max_h, max_v) = (frame.max_h(), frame.max_v());
    if frame
        .components
        .iter()
        .any(|c| max_h % c.h != 0 || max_v % c.v != 0)
    {
        // libjpeg: "Fractional sampling not implemented yet".
        return Err(JpegError::Unsupported("fractional chroma sampling".into()));
    }
    Ok(frame)
}

pub fn read_quant_tables(segment: &mut Segment, tables: &mut Tables) -> Result<(), JpegError> {
    while !segment.is_empty() {
        let spec = segment.u8()?;
        let (precision, index) = (spec >> 4, usize::from(spec & 15));
        if index > 3 {
            return Err(JpegError::Corrupt("a quantisation table numbered above 3"));
        }
        let mut table = [0u16; 64];
        for &position in &NATURAL_ORDER[..64] {
            table[position] = if precision == 0 {
                u16::from(segment.u8()?)
            } else {
                segment.u16()?
            };
        }
        tables.quant[index] = Some(table);
    }
    Ok(())
}

pub fn read_huffman_tables(segment: &mut Segment, tables: &mut Tables) -> Result<(), JpegError> {
    while !segment.is_empty() {
        let spec = segment.u8()?;
        let (class, index) = (spec >> 4, usize::from(spec & 15));
        if class > 1 || index > 3 {
            return Err(JpegError::Corrupt(
                "a Huffman table of unknown class or number",
            ));
        }
        let mut counts = [0u8; 16];
        for count in &mut counts {
            *count = segment.u8()?;
        }
        let total = counts.iter().map(|&c| usize::from(c)).sum();
        let table = HuffmanTable::new(&counts, segment.take(total)?.to_vec())?;
        if class == 0 {
            tables.dc[index] = Some(table);
        } else {
            tables.ac[index] = Some(table);
        }
    }
    Ok(())
}

pub fn read_scan_header(segment: &mut Segment, frame: &Frame) -> Result<ScanHeader, JpegError> {
    let count = usize::from(segment.u8()?);
    if count == 0 || count > 4 {
        return Err(JpegError::Corrupt("a scan with no or too many components"));
    }
    let mut components = Vec::new();
    for _ in 0..count {
        let id = segment.u8()?;
        let tables = segment.u8()?;
        let index = frame
            .components
            .iter()
            .position(|c| c.id == id)
            .ok_or(JpegError::Corrupt(
                "a scan names a component the frame lacks",
            ))?;
        components.push((index, usize::from(tables >> 4), usize::from(tables & 15)));
    }
    let spectral_start = usize::from(segment.u8()?);
    let spectral_end = usize::from(segment.u8()?);
    let approx = segment.u8()?;
    let blocks: usize = components
        .iter()
        .map(|&(i, ..)| frame.components[i].h * frame.components[i].v)
        .sum();
    if count > 1 && blocks > 10 {
        return Err(JpegError::Corrupt("an MCU of more than 10 blocks"));
    }
    let bad_spectrum = if frame.progressive {
        spectral_start > spectral_end
            || spectral_end > 63
            || (spectral_start == 0 && spectral_end != 0)
            || (spectral_start > 0 && count != 1)
    } else {
        spectral_start != 0 || spectral_end != 63
    };
    if bad_spectrum {
        return Err(JpegError::Corrupt("a scan with a bad spectral selection"));
    }
    Ok(ScanHeader {
        components,
        spectral_start,
        spectral_end,
        approx_high: u32::from(approx >> 4),
        approx_low: u32::from(approx & 15),
    })
}

/// APP0 `JFIF\0` and APP14 `Adobe` (its transform byte), which libjpeg reads the colour
/// space from.
pub fn read_app(marker: u8, segment: &[u8], tables: &mut Tables) {
    if marker == 0xE0 && segment.len() >= 14 && segment.starts_with(b"JFIF\0") {
        tables.saw_jfif = true;
    }
    if marker == 0xEE && segment.len() >= 12 && segment.starts_with(b"Adobe") {
        tables.adobe_transform = Some(segment[11]);
    }
}
