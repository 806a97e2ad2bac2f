//! libjpeg's accurate integer inverse DCT (`JDCT_ISLOW`, jidctint.c), which PIL decodes with.
//!
//! 13-bit fixed-point constants, two passes with 2 extra bits between them, and libjpeg's
//! post-IDCT range limit. Arithmetic wraps at 32 bits, as libjpeg-turbo's SIMD lanes do:
//! a corrupt stream gives garbage pixels, never a trap.

const CONST_BITS: u32 = 13;
const PASS1_BITS: u32 = 2;

const FIX_0_298631336: i32 = 2446;
const FIX_0_390180644: i32 = 3196;
const FIX_0_541196100: i32 = 4433;
const FIX_0_765366865: i32 = 6270;
const FIX_0_899976223: i32 = 7373;
const FIX_1_175875602: i32 = 9633;
const FIX_1_501321110: i32 = 12299;
const FIX_1_847759065: i32 = 15137;
const FIX_1_961570560: i32 = 16069;
const FIX_2_053119869: i32 = 16819;
const FIX_2_562915447: i32 = 20995;
const FIX_3_072711026: i32 = 25172;

fn descale(x: i32, n: u32) -> i32 {
    x.wrapping_add(1 << (n - 1)) >> n
}

/// libjpeg's post-IDCT range limit: `x + 128` clamped to 0..=255, taken modulo 1024 as its
/// table lookup (`range_limit[x & RANGE_MASK]`) does.
static RANGE_LIMIT: [u8; 1024] = {
    let mut table = [0u8; 1024];
    let mut i = 0;
    while i < 1024 {
        table[i] = match i {
            0..=127 => (i + 128) as u8,
            128..=511 => 255,
            512..=895 => 0,
            _ => (i - 896) as u8,
        };
        i += 1;
    }
    table
};

#[inline(always)]
fn range_limit(x: i32) -> u8 {
    RANGE_LIMIT[(x & 1023) as usize]
}

/// The 1-D transform both passes share: eight inputs in, the even and odd halves out.
#[inline(always)]
fn butterfly(x: [i32; 8]) -> ([i32; 4], [i32; 4]) {
    let (z2, z3) = (x[2], x[6]);
    let z1 = z2.wrapping_add(z3).wrapping_mul(FIX_0_541196100);
    let tmp2 = z1.wrapping_add(z3.wrapping_mul(-FIX_1_847759065));
    let tmp3 = z1.wrapping_add(z2.wrapping_mul(FIX_0_765366865));
    let tmp0 = x[0].wrapping_add(x[4]).wrapping_shl(CONST_BITS);
    let tmp1 = x[0].wrapping_sub(x[4]).wrapping_shl(CONST_BITS);
    let even = [
        tmp0.wrapping_add(tmp3),
        tmp1.wrapping_add(tmp2),
        tmp1.wrapping_sub(tmp2),
        tmp0.wrapping_sub(tmp3),
    ];

    let (t0, t1, t2, t3) = (x[7], x[5], x[3], x[1]);
    let z1 = t0.wrapping_add(t3);
    let z2 = t1.wrapping_add(t2);
    let z3 = t0.wrapping_add(t2);
    let z4 = t1.wrapping_add(t3);
    let z5 = z3.wrapping_add(z4).wrapping_mul(FIX_1_175875602);
    let t0 = t0.wrapping_mul(FIX_0_298631336);
    let t1 = t1.wrapping_mul(FIX_2_053119869);
    let t2 = t2.wrapping_mul(FIX_3_072711026);
    let t3 = t3.wrapping_mul(FIX_1_501321110);
    let z1 = z1.wrapping_mul(-FIX_0_899976223);
    let z2 = z2.wrapping_mul(-FIX_2_562915447);
    let z3 = z3.wrapping_mul(-FIX_1_961570560).wrapping_add(z5);
    let z4 = z4.wrapping_mul(-FIX_0_390180644).wrapping_add(z5);
    let odd = [
        t0.wrapping_add(z1).wrapping_add(z3),
        t1.wrapping_add(z2).wrapping_add(z4),
        t2.wrapping_add(z2).wrapping_add(z3),
        t3.wrapping_add(z1).wrapping_add(z4),
    ];
    (even, odd)
}

/// Output order of the butterfly: `out[i] = even[i] + odd[3 - i]`, `out[7 - i] = even[i] - odd[3 - i]`.
#[inline(always)]
fn combine(even: [i32; 4], odd: [i32; 4], shift: u32) -> [i32; 8] {
    let mut out = [0; 8];
    for i in 0..4 {
        out[i] = descale(even[i].wrapping_add(odd[3 - i]), shift);
        out[7 - i] = descale(even[i].wrapping_sub(odd[3 - i]), shift);
    }
    out
}

/// Dequantises and transforms one block (natural order) into 8x8 samples.
pub fn idct_block(coefficients: &[i16], quant: &[u16; 64], out: &mut [u8], stride: usize) {
    let coefficients: &[i16; 64] = coefficients.try_into().expect("a block is 64 coefficients");
    if coefficients[1..].iter().all(|&c| c == 0) {
        // DC only (most blocks of a smooth photograph): both passes' zero-AC shortcuts give
        // one value, the same the full arithmetic gives.
        let dc = i32::from(coefficients[0].wrapping_mul(quant[0] as i16));
        let value = range_limit(descale(dc.wrapping_shl(PASS1_BITS), PASS1_BITS + 3));
        for row in out.chunks_mut(stride).take(8) {
            row[..8].fill(value);
        }
        return;
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return simd::idct_block(coefficients, quant, out, stride);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    scalar_idct(coefficients, quant, out, stride);
}

/// Column pass then row pass, each skipping the transform where the AC inputs are zero, as
/// jidctint.c does.
#[cfg_attr(
    all(target_arch = "wasm32", target_feature = "simd128"),
    allow(dead_code)
)]
fn scalar_idct(coefficients: &[i16; 64], quant: &[u16; 64], out: &mut [u8], stride: usize) {
    let mut workspace = [0i32; 64];
    for column in 0..8 {
        let input: [i32; 8] = std::array::from_fn(|row| {
            let i = row * 8 + column;
            i32::from(coefficients[i].wrapping_mul(quant[i] as i16))
        });
        let column_out = if input[1..].iter().all(|&x| x == 0) {
            [input[0].wrapping_shl(PASS1_BITS); 8]
        } else {
            let (even, odd) = butterfly(input);
            combine(even, odd, CONST_BITS - PASS1_BITS)
        };
        for row in 0..8 {
            workspace[row * 8 + column] = column_out[row];
        }
    }
    for (row, out_row) in out.chunks_mut(stride).take(8).enumerate() {
        let input: [i32; 8] = workspace[row * 8..row * 8 + 8]
            .try_into()
            .expect("8 values");
        let samples = if input[1..].iter().all(|&x| x == 0) {
            [descale(input[0], PASS1_BITS + 3); 8]
        } else {
            let (even, odd) = butterfly(input);
            combine(even, odd, CONST_BITS + PASS1_BITS + 3)
        };
        for (sample, &value) in out_row[..8].iter_mut().zip(&samples) {
            *sample = range_limit(value);
        }
    }
}

/// The same transform with WebAssembly SIMD, four lanes at a time: libjpeg-turbo's own SIMD
/// IDCTs do this on x86 and Arm, and the integers are the same (the parity tests run the
/// glue's module on JPEG inputs).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd {
    use core::arch::wasm32::*;

    use super::*;

    /// Columns 0-3 and 4-7 of one row.
    type Row = (v128, v128);

    #[inline(always)]
    fn mul(v: v128, c: i32) -> v128 {
        i32x4_mul(v, i32x4_splat(c))
    }

    #[inline(always)]
    fn descale(v: v128, n: u32) -> v128 {
        i32x4_shr(i32x4_add(v, i32x4_splat(1 << (n - 1))), n)
    }

    /// The 1-D transform on one half (four lanes) of eight rows.
    #[inline(always)]
    fn butterfly(x: [v128; 8], shift: u32) -> [v128; 8] {
        let (z2, z3) = (x[2], x[6]);
        let z1 = mul(i32x4_add(z2, z3), FIX_0_541196100);
        let tmp2 = i32x4_add(z1, mul(z3, -FIX_1_847759065));
        let tmp3 = i32x4_add(z1, mul(z2, FIX_0_765366865));
        let tmp0 = i32x4_shl(i32x4_add(x[0], x[4]), CONST_BITS);
        let tmp1 = i32x4_shl(i32x4_sub(x[0], x[4]), CONST_BITS);
        let even = [
            i32x4_add(tmp0, tmp3),
            i32x4_add(tmp1, tmp2),
            i32x4_sub(tmp1, tmp2),
            i32x4_sub(tmp0, tmp3),
        ];
        let (t0, t1, t2, t3) = (x[7], x[5], x[3], x[1]);
        let z1 = i32x4_add(t0, t3);
        let z2 = i32x4_add(t1, t2);
        let z3 = i32x4_add(t0, t2);
        let z4 = i32x4_add(t1, t3);
        let z5 = mul(i32x4_add(z3, z4), FIX_1_175875602);
        let t0 = mul(t0, FIX_0_298631336);
        let t1 = mul(t1, FIX_2_053119869);
        let t2 = mul(t2, FIX_3_072711026);
        let t3 = mul(t3, FIX_1_501321110);
        let z1 = mul(z1, -FIX_0_899976223);
        let z2 = mul(z2, -FIX_2_562915447);
        let z3 = i32x4_add(mul(z3, -FIX_1_961570560), z5);
        let z4 = i32x4_add(mul(z4, -FIX_0_390180644), z5);
        let odd = [
            i32x4_add(i32x4_add(t0, z1), z3),
            i32x4_add(i32x4_add(t1, z2), z4),
            i32x4_add(i32x4_add(t2, z2), z3),
            i32x4_add(i32x4_add(t3, z1), z4),
        ];
        let mut out = [i32x4_splat(0); 8];
        for i in 0..4 {
            out[i] = descale(i32x4_add(even[i], odd[3 - i]), shift);
            out[7 - i] = descale(i32x4_sub(even[i], odd[3 - i]), shift);
        }
        out
    }

    #[inline(always)]
    fn transpose4(a: [v128; 4]) -> [v128; 4] {
        let t0 = i32x4_shuffle::<0, 4, 1, 5>(a[0], a[1]);
        let t1 = i32x4_shuffle::<0, 4, 1, 5>(a[2], a[3]);
        let t2 = i32x4_shuffle::<2, 6, 3, 7>(a[0], a[1]);
        let t3 = i32x4_shuffle::<2, 6, 3, 7>(a[2], a[3]);
        [
            i32x4_shuffle::<0, 1, 4, 5>(t0, t1),
            i32x4_shuffle::<2, 3, 6, 7>(t0, t1),
            i32x4_shuffle::<0, 1, 4, 5>(t2, t3),
            i32x4_shuffle::<2, 3, 6, 7>(t2, t3),
        ]
    }

    /// Rows become columns.
    #[inline(always)]
    fn transpose(rows: [Row; 8]) -> [Row; 8] {
        let a = transpose4(std::array::from_fn(|i| rows[i].0));
        let b = transpose4(std::array::from_fn(|i| rows[i].1));
        let c = transpose4(std::array::from_fn(|i| rows[4 + i].0));
        let d = transpose4(std::array::from_fn(|i| rows[4 + i].1));
        std::array::from_fn(|j| {
            if j < 4 {
                (a[j], c[j])
            } else {
                (b[j - 4], d[j - 4])
            }
        })
    }

    #[inline(always)]
    fn pass(rows: [Row; 8], shift: u32) -> [Row; 8] {
        let low = butterfly(std::array::from_fn(|i| rows[i].0), shift);
        let high = butterfly(std::array::from_fn(|i| rows[i].1), shift);
        std::array::from_fn(|i| (low[i], high[i]))
    }

    pub fn idct_block(coefficients: &[i16; 64], quant: &[u16; 64], out: &mut [u8], stride: usize) {
        let rows: [Row; 8] = std::array::from_fn(|row| {
            // SAFETY: reads 16 bytes inside the 64-element arrays (row < 8).
            let (c, q) = unsafe {
                (
                    v128_load(coefficients.as_ptr().add(row * 8) as *const v128),
                    v128_load(quant.as_ptr().add(row * 8) as *const v128),
                )
            };
            // libjpeg-turbo's SIMD dequantises with a 16-bit multiply, as the scalar path here.
            let dequantised = i16x8_mul(c, q);
            (
                i32x4_extend_low_i16x8(dequantised),
                i32x4_extend_high_i16x8(dequantised),
            )
        });
        let workspace = pass(rows, CONST_BITS - PASS1_BITS);
        // After the transpose, row k holds column k of every row: the second pass's inputs.
        let columns = pass(transpose(workspace), CONST_BITS + PASS1_BITS + 3);
        let mut samples = [0i32; 64];
        for (k, (low, high)) in columns.iter().enumerate() {
            // SAFETY: writes 16 bytes at k * 8 and k * 8 + 4 inside the 64-element array.
            unsafe {
                v128_store(samples.as_mut_ptr().add(k * 8) as *mut v128, *low);
                v128_store(samples.as_mut_ptr().add(k * 8 + 4) as *mut v128, *high);
            }
        }
        // samples[column * 8 + row]
        for (row, out_row) in out.chunks_mut(stride).take(8).enumerate() {
            for (column, sample) in out_row[..8].iter_mut().enumerate() {
                *sample = range_limit(samples[column * 8 + row]);
            }
        }
    }
}

#[cfg(all(test, target_arch = "wasm32", target_feature = "simd128"))]
mod tests {
    use super::*;

    /// Blocks as encoders write them: a DC, a few to all 63 AC values falling off with
    /// frequency, quantisers from 1 to 255, dequantised values up to the 16 bits libjpeg-turbo's
    /// SIMD assumes (beyond, only a corrupt file goes, and every decoder differs there).
    fn blocks() -> impl Iterator<Item = ([i16; 64], [u16; 64])> {
        let mut state = 0x2545_f491_u32;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        (0..4000).map(move |n| {
            let kept = 1 + (next() % 64) as usize;
            let scale = [1, 4, 30, 300, 2047][n % 5];
            let quant: [u16; 64] =
                std::array::from_fn(|_| 1 + (next() % [1, 16, 255][n % 3]) as u16);
            let coefficients = std::array::from_fn(|i| {
                if i >= kept {
                    return 0;
                }
                let limit = (scale / (1 + i as u32 / 8)).min(32767 / u32::from(quant[i]));
                let magnitude = (next() % (limit + 1)) as i16;
                if next() % 2 == 0 {
                    magnitude
                } else {
                    -magnitude
                }
            });
            (coefficients, quant)
        })
    }

    #[test]
    fn the_simd_idct_gives_the_scalar_idcts_samples() {
        for (coefficients, quant) in blocks() {
            let (mut simd, mut scalar) = ([0u8; 64], [0u8; 64]);
            simd::idct_block(&coefficients, &quant, &mut simd, 8);
            scalar_idct(&coefficients, &quant, &mut scalar, 8);
            assert_eq!(simd, scalar, "{coefficients:?} {quant:?}");
        }
    }
}
