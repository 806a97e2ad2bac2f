//! Colour conversion after upsampling: libjpeg's YCbCr→RGB and YCCK→CMYK (jdcolor.c, its
//! 16-bit fixed-point tables), then what PIL does with the result for `convert("RGB")`.

const SCALE_BITS: u32 = 16;
const ONE_HALF: i64 = 1 << (SCALE_BITS - 1);

fn fix(x: f64) -> i64 {
    (x * f64::from(1u32 << SCALE_BITS) + 0.5) as i64
}

/// jdcolor.c's YCbCr->RGB: its tables hold `(FIX(1.402) * x + ONE_HALF) >> 16` and so on for
/// `x = chroma - 128`, which this computes directly (the same integers; no lookups, so the
/// loops vectorise).
pub struct Ycc {
    cr_r: i32,
    cb_b: i32,
    cr_g: i32,
    cb_g: i32,
}

impl Ycc {
    pub fn new() -> Self {
        Ycc {
            cr_r: fix(1.40200) as i32,
            cb_b: fix(1.77200) as i32,
            cr_g: -fix(0.71414) as i32,
            cb_g: -fix(0.34414) as i32,
        }
    }

    /// A row of pixels.
    pub fn convert_row(&self, y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
        let samples = y.iter().zip(cb).zip(cr);
        for (pixel, ((&y, &cb), &cr)) in out.chunks_exact_mut(3).zip(samples) {
            pixel.copy_from_slice(&self.rgb(y, cb, cr));
        }
    }

    /// One pixel's (R, G, B).
    #[inline(always)]
    pub fn rgb(&self, y: u8, cb: u8, cr: u8) -> [u8; 3] {
        let half = ONE_HALF as i32;
        let (y, cb, cr) = (i32::from(y), i32::from(cb) - 128, i32::from(cr) - 128);
        [
            clamp(y + ((self.cr_r * cr + half) >> SCALE_BITS)),
            clamp(y + ((self.cb_g * cb + self.cr_g * cr + half) >> SCALE_BITS)),
            clamp(y + ((self.cb_b * cb + half) >> SCALE_BITS)),
        ]
    }
}

#[inline(always)]
fn clamp(x: i32) -> u8 {
    x.clamp(0, 255) as u8
}

/// PIL's CMYK→RGB (Convert.c cmyk2rgb) on the samples libjpeg hands PIL, which PIL first
/// inverts (rawmode `CMYK;I`: Adobe's polarity, assumed for every CMYK JPEG).
pub fn pil_cmyk_to_rgb(cmyk: [u8; 4]) -> [u8; 3] {
    let [c, m, y, k] = cmyk.map(|v| 255 - u32::from(v));
    let not_k = 255 - k;
    let channel = |v: u32| {
        let product = v * not_k + 128;
        let scaled = ((product >> 8) + product) >> 8;
        not_k.saturating_sub(scaled) as u8
    };
    [channel(c), channel(m), channel(y)]
}
