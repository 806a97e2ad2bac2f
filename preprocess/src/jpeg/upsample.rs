//! Bringing each component to the image's size as libjpeg does with `do_fancy_upsampling`,
//! its default and PIL's (jdsample.c): triangle filters for 2x horizontal, 2x vertical and
//! 2x2, box replication for other integer ratios.
//!
//! The rows above the first and below the last are copies of the edge rows, as jdmainct.c
//! arranges its context rows; columns past the edge never enter the filters.

/// One component's samples at their own resolution.
pub struct Plane<'a> {
    pub data: &'a [u8],
    pub stride: usize,
    /// libjpeg's `downsampled_width` and `downsampled_height`: the real samples.
    pub width: usize,
    pub height: usize,
}

impl Plane<'_> {
    fn row(&self, y: usize) -> &[u8] {
        let y = y.min(self.height - 1);
        &self.data[y * self.stride..y * self.stride + self.width]
    }
}

/// Row `y` of the component upsampled by (`h_factor`, `v_factor`) to `width` samples: the
/// plane's own row when it is full size, else made in `out`.
pub fn upsample_row<'a>(
    plane: &'a Plane,
    (h_factor, v_factor): (usize, usize),
    y: usize,
    width: usize,
    out: &'a mut Vec<u8>,
) -> &'a [u8] {
    let source = y / v_factor;
    out.resize(plane.width * h_factor, 0);
    match (h_factor, v_factor) {
        (1, 1) => return &plane.row(y)[..width],
        (2, 1) if plane.width > 2 => h2v1(plane.row(source), out),
        (1, 2) => v2(plane.row(source), further_row(plane, source, y), y & 1, out),
        (2, 2) if plane.width > 2 => h2v2(plane.row(source), further_row(plane, source, y), out),
        _ => {
            let row = plane.row(source);
            for (x, sample) in out.iter_mut().enumerate() {
                *sample = row[x / h_factor];
            }
        }
    }
    &out[..width]
}

/// The next-nearest input row of output row `y`: above for the upper output row of a pair,
/// below for the lower one.
fn further_row<'a>(plane: &'a Plane, source: usize, y: usize) -> &'a [u8] {
    if y & 1 == 0 {
        plane.row(source.saturating_sub(1))
    } else {
        plane.row(source + 1)
    }
}

/// h2v1_fancy_upsample: 3/4 nearer + 1/4 further, rounding alternately down and up.
fn h2v1(input: &[u8], out: &mut [u8]) {
    let n = input.len();
    let at = |i: usize| u32::from(input[i]);
    out[0] = input[0];
    out[1] = ((at(0) * 3 + at(1) + 2) >> 2) as u8;
    for (i, pair) in out[2..2 * n - 2].chunks_exact_mut(2).enumerate() {
        let (last, this, next) = (at(i), at(i + 1) * 3, at(i + 2));
        pair[0] = ((this + last + 1) >> 2) as u8;
        pair[1] = ((this + next + 2) >> 2) as u8;
    }
    out[2 * n - 2] = ((at(n - 1) * 3 + at(n - 2) + 1) >> 2) as u8;
    out[2 * n - 1] = input[n - 1];
}

/// h1v2_fancy_upsample: vertical only; the bias is 1 for the upper row and 2 for the lower.
fn v2(near: &[u8], far: &[u8], lower: usize, out: &mut [u8]) {
    let bias = 1 + lower as u32;
    for (x, sample) in out.iter_mut().enumerate() {
        *sample = ((u32::from(near[x]) * 3 + u32::from(far[x]) + bias) >> 2) as u8;
    }
}

/// h2v2_fancy_upsample: the vertical 3:1 sums, then the horizontal 3:1 filter on them.
fn h2v2(near: &[u8], far: &[u8], out: &mut [u8]) {
    let n = near.len();
    let sums: Vec<u32> = near
        .iter()
        .zip(far)
        .map(|(&a, &b)| u32::from(a) * 3 + u32::from(b))
        .collect();
    out[0] = ((sums[0] * 4 + 8) >> 4) as u8;
    out[1] = ((sums[0] * 3 + sums[1] + 7) >> 4) as u8;
    for (i, pair) in out[2..2 * n - 2].chunks_exact_mut(2).enumerate() {
        let (last, this, next) = (sums[i], sums[i + 1], sums[i + 2]);
        pair[0] = ((this * 3 + last + 8) >> 4) as u8;
        pair[1] = ((this * 3 + next + 7) >> 4) as u8;
    }
    out[2 * n - 2] = ((sums[n - 1] * 3 + sums[n - 2] + 8) >> 4) as u8;
    out[2 * n - 1] = ((sums[n - 1] * 4 + 7) >> 4) as u8;
}
