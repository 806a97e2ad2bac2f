//! Entropy decoding of sequential and progressive scans into quantised coefficients
//! (ITU T.81 F.2 and G.1.2; libjpeg's jdhuff.c and jdphuff.c).

use super::JpegError;
use super::huffman::{BitReader, HuffmanTable};
use super::markers::{Frame, NATURAL_ORDER, ScanHeader, Tables};

/// Every block of every component, in natural order, padded to whole MCUs.
pub struct Coefficients {
    /// Per component: blocks across, blocks down, and `64 * across * down` coefficients.
    pub planes: Vec<(usize, usize, Vec<i16>)>,
}

impl Coefficients {
    pub fn new(frame: &Frame) -> Self {
        let (mcus_x, mcus_y) = frame.mcus();
        let planes = frame
            .components
            .iter()
            .map(|c| {
                let (across, down) = (mcus_x * c.h, mcus_y * c.v);
                (across, down, vec![0i16; 64 * across * down])
            })
            .collect();
        Coefficients { planes }
    }

    fn block(&mut self, component: usize, row: usize, column: usize) -> &mut [i16] {
        let (across, _, data) = &mut self.planes[component];
        let start = 64 * (row * *across + column);
        &mut data[start..start + 64]
    }
}

/// The state one scan carries from block to block.
struct ScanState<'t> {
    header: &'t ScanHeader,
    dc_tables: Vec<Option<&'t HuffmanTable>>,
    ac_tables: Vec<Option<&'t HuffmanTable>>,
    dc_predictors: Vec<i32>,
    eob_run: u32,
}

/// Decodes one scan starting at `data[start]`; returns the offset after its data.
pub fn decode_scan(
    data: &[u8],
    start: usize,
    frame: &Frame,
    tables: &Tables,
    header: &ScanHeader,
    coefficients: &mut Coefficients,
) -> Result<usize, JpegError> {
    // A sequential scan codes DC and AC whatever its header says (libjpeg only warns about
    // odd Ss/Se/Ah/Al there); the fuzzer found a baseline scan with Ss > 0 and no DC table.
    let needs_dc = !frame.progressive || (header.spectral_start == 0 && header.approx_high == 0);
    let needs_ac = !frame.progressive || header.spectral_end > 0;
    let mut state = ScanState {
        header,
        dc_tables: Vec::new(),
        ac_tables: Vec::new(),
        dc_predictors: vec![0; header.components.len()],
        eob_run: 0,
    };
    for &(_, dc, ac) in &header.components {
        let dc_table = tables.dc.get(dc).and_then(Option::as_ref);
        let ac_table = tables.ac.get(ac).and_then(Option::as_ref);
        if (needs_dc && dc_table.is_none()) || (needs_ac && ac_table.is_none()) {
            return Err(JpegError::Corrupt(
                "a scan uses a Huffman table never defined",
            ));
        }
        state.dc_tables.push(dc_table);
        state.ac_tables.push(ac_table);
    }
    let mut reader = BitReader::new(data, start);
    let mut restarts_to_go = tables.restart_interval;
    let mut result = Ok(());
    for_each_unit(frame, header, |unit, blocks| {
        if result.is_err() {
            return;
        }
        result = (|| {
            if tables.restart_interval > 0 {
                if restarts_to_go == 0 && unit > 0 {
                    reader.restart()?;
                    state.dc_predictors.fill(0);
                    state.eob_run = 0;
                    restarts_to_go = tables.restart_interval;
                }
                restarts_to_go -= 1;
            }
            for &(slot, row, column) in blocks {
                let component = header.components[slot].0;
                let block = coefficients.block(component, row, column);
                decode_block(&mut reader, &mut state, frame.progressive, slot, block)?;
            }
            Ok(())
        })();
    });
    result?;
    reader.finish()?;
    Ok(reader.position())
}

/// Calls `visit` with each MCU of the scan in order: its index and its blocks, as
/// (slot in the scan, block row, block column).
fn for_each_unit(
    frame: &Frame,
    header: &ScanHeader,
    mut visit: impl FnMut(usize, &[(usize, usize, usize)]),
) {
    if let [(component, ..)] = header.components[..] {
        // A single-component scan codes the component's own blocks, one per MCU.
        let (width, height) = frame.component_size(&frame.components[component]);
        let across = width.div_ceil(8);
        for row in 0..height.div_ceil(8) {
            for column in 0..across {
                visit(row * across + column, &[(0, row, column)]);
            }
        }
        return;
    }
    let (mcus_x, mcus_y) = frame.mcus();
    let mut blocks = Vec::with_capacity(10);
    for mcu_row in 0..mcus_y {
        for mcu_column in 0..mcus_x {
            blocks.clear();
            for (slot, &(component, ..)) in header.components.iter().enumerate() {
                let c = &frame.components[component];
                for v in 0..c.v {
                    for h in 0..c.h {
                        blocks.push((slot, mcu_row * c.v + v, mcu_column * c.h + h));
                    }
                }
            }
            visit(mcu_row * mcus_x + mcu_column, &blocks);
        }
    }
}

fn decode_block(
    reader: &mut BitReader,
    state: &mut ScanState,
    progressive: bool,
    slot: usize,
    block: &mut [i16],
) -> Result<(), JpegError> {
    let header = state.header;
    if !progressive {
        decode_dc_first(reader, state, slot, block, 0)?;
        return decode_ac_sequential(reader, state.ac_tables[slot], block);
    }
    match (header.spectral_start, header.approx_high) {
        (0, 0) => decode_dc_first(reader, state, slot, block, header.approx_low),
        (0, _) => {
            if reader.bit() {
                block[0] |= (1i32 << header.approx_low) as i16;
            }
            Ok(())
        }
        (_, 0) => decode_ac_first(reader, state, slot, block),
        _ => decode_ac_refine(reader, state, slot, block),
    }
}

fn decode_dc_first(
    reader: &mut BitReader,
    state: &mut ScanState,
    slot: usize,
    block: &mut [i16],
    shift: u32,
) -> Result<(), JpegError> {
    let table = state.dc_tables[slot].ok_or(JpegError::Corrupt("a scan without its DC table"))?;
    let size = u32::from(reader.decode(table)?);
    if size > 16 {
        return Err(JpegError::Corrupt("a DC difference of more than 16 bits"));
    }
    let difference = reader.extended(size);
    let predictor = &mut state.dc_predictors[slot];
    *predictor = predictor.wrapping_add(difference);
    block[0] = (*predictor << shift) as i16;
    Ok(())
}

fn decode_ac_sequential(
    reader: &mut BitReader,
    table: Option<&HuffmanTable>,
    block: &mut [i16],
) -> Result<(), JpegError> {
    let table = table.ok_or(JpegError::Corrupt("a scan without its AC table"))?;
    let mut k = 1;
    while k < 64 {
        let symbol = reader.decode(table)?;
        let (run, size) = (usize::from(symbol >> 4), u32::from(symbol & 15));
        if size != 0 {
            k += run;
            block[NATURAL_ORDER[k.min(79)]] = reader.extended(size) as i16;
        } else if run != 15 {
            break;
        } else {
            k += 15;
        }
        k += 1;
    }
    Ok(())
}

fn read_eob_run(reader: &mut BitReader, run: u32) -> u32 {
    (1 << run) + reader.bits(run)
}

fn decode_ac_first(
    reader: &mut BitReader,
    state: &mut ScanState,
    slot: usize,
    block: &mut [i16],
) -> Result<(), JpegError> {
    if state.eob_run > 0 {
        state.eob_run -= 1;
        return Ok(());
    }
    let header = state.header;
    let table = state.ac_tables[slot].ok_or(JpegError::Corrupt("a scan without its AC table"))?;
    let mut k = header.spectral_start;
    while k <= header.spectral_end {
        let symbol = reader.decode(table)?;
        let (run, size) = (u32::from(symbol >> 4), u32::from(symbol & 15));
        if size != 0 {
            k += run as usize;
            let value = reader.extended(size) << header.approx_low;
            block[NATURAL_ORDER[k.min(79)]] = value as i16;
        } else if run == 15 {
            k += 15;
        } else {
            state.eob_run = read_eob_run(reader, run) - 1;
            break;
        }
        k += 1;
    }
    Ok(())
}

/// Successive approximation of AC coefficients (T.81 G.1.2.3), as jdphuff.c's
/// decode_mcu_AC_refine.
fn decode_ac_refine(
    reader: &mut BitReader,
    state: &mut ScanState,
    slot: usize,
    block: &mut [i16],
) -> Result<(), JpegError> {
    let header = state.header;
    let positive = 1i16 << header.approx_low;
    let negative = (-1i32 << header.approx_low) as i16;
    let refine = |reader: &mut BitReader, coefficient: &mut i16| {
        if reader.bit() && (*coefficient & positive) == 0 {
            *coefficient = coefficient.wrapping_add(if *coefficient >= 0 {
                positive
            } else {
                negative
            });
        }
    };
    let mut k = header.spectral_start;
    if state.eob_run == 0 {
        let table =
            state.ac_tables[slot].ok_or(JpegError::Corrupt("a scan without its AC table"))?;
        while k <= header.spectral_end {
            let symbol = reader.decode(table)?;
            let (mut run, size) = (i32::from(symbol >> 4), symbol & 15);
            let mut value = 0i16;
            if size != 0 {
                // A newly nonzero coefficient is always ±1 at this bit position.
                value = if reader.bit() { positive } else { negative };
            } else if run != 15 {
                state.eob_run = read_eob_run(reader, run as u32);
                break;
            }
            while k <= header.spectral_end {
                let coefficient = &mut block[NATURAL_ORDER[k]];
                if *coefficient != 0 {
                    refine(reader, coefficient);
                } else {
                    run -= 1;
                    if run < 0 {
                        break;
                    }
                }
                k += 1;
            }
            if value != 0 {
                block[NATURAL_ORDER[k.min(79)]] = value;
            }
            k += 1;
        }
    }
    if state.eob_run > 0 {
        while k <= header.spectral_end {
            let coefficient = &mut block[NATURAL_ORDER[k]];
            if *coefficient != 0 {
                refine(reader, coefficient);
            }
            k += 1;
        }
        state.eob_run -= 1;
    }
    Ok(())
}
