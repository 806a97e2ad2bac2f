//! Huffman tables and the bit reader over entropy-coded data (ITU T.81 Annex C and F.2.2).
//!
//! Behaves as libjpeg does at the edges: a marker inside the data ends it and the decoder
//! reads zero bits from there on; running off the end of the file is reported, because PIL
//! refuses a truncated JPEG ("image file is truncated") and the glue must refuse it too.

use super::JpegError;

/// Codes up to this many bits are decoded with one table lookup.
const LOOKAHEAD: u32 = 9;

/// One DHT table, ready for decoding.
#[derive(Debug, Clone)]
pub struct HuffmanTable {
    /// Indexed by the next `LOOKAHEAD` bits: `(code length, symbol)`, length 0 when longer.
    fast: Vec<(u8, u8)>,
    /// Per code length 1..=16: the largest code of that length (-1 when none).
    max_code: [i32; 18],
    /// Per code length: index into `symbols` of the first code minus that code.
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl HuffmanTable {
    /// Builds the table from the DHT segment's 16 counts and its symbols.
    pub fn new(counts: &[u8; 16], symbols: Vec<u8>) -> Result<Self, JpegError> {
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if total != symbols.len() || total > 256 {
            return Err(JpegError::Corrupt(
                "a Huffman table's counts and symbols disagree",
            ));
        }
        let mut max_code = [-1i32; 18];
        let mut offset = [0i32; 17];
        let mut fast = vec![(0u8, 0u8); 1 << LOOKAHEAD];
        let mut code: i32 = 0;
        let mut index: i32 = 0;
        for length in 1..=16u32 {
            let count = i32::from(counts[length as usize - 1]);
            offset[length as usize] = index - code;
            for _ in 0..count {
                // A code of `length` bits is below 2^length; more codes than that is a corrupt
                // table (found by the HTTP fuzzer: it indexed past the lookup table).
                if code >= (1 << length) {
                    return Err(JpegError::Corrupt("a Huffman table has too many codes"));
                }
                if length <= LOOKAHEAD {
                    let shift = LOOKAHEAD - length;
                    let first = (code as usize) << shift;
                    let symbol = symbols[index as usize];
                    for entry in &mut fast[first..first + (1 << shift)] {
                        *entry = (length as u8, symbol);
                    }
                }
                code += 1;
                index += 1;
            }
            if count > 0 {
                max_code[length as usize] = code - 1;
            }
            code <<= 1;
        }
        max_code[17] = i32::MAX; // a sentinel: no code is longer than 16 bits
        Ok(HuffmanTable {
            fast,
            max_code,
            offset,
            symbols,
        })
    }
}

/// Reads bits MSB first from one scan's entropy-coded segment, removing stuffed zero bytes.
pub struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    buffer: u64,
    bits: u32,
    /// A marker was reached: zero bits from here on, as libjpeg does.
    at_marker: bool,
    /// The file ended inside the data; the zero bits added since are counted.
    at_end: bool,
    padding_bits: u64,
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8], pos: usize) -> Self {
        BitReader {
            data,
            pos,
            buffer: 0,
            bits: 0,
            at_marker: false,
            at_end: false,
            padding_bits: 0,
        }
    }

    /// The offset of the first byte not yet taken into the buffer.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn fill(&mut self) {
        while self.bits <= 56 {
            let byte = if self.at_marker || self.at_end {
                None
            } else if self.pos >= self.data.len() {
                self.at_end = true;
                None
            } else if self.data[self.pos] != 0xFF {
                self.pos += 1;
                Some(self.data[self.pos - 1])
            } else {
                match self.data.get(self.pos + 1) {
                    Some(0x00) => {
                        self.pos += 2;
                        Some(0xFF)
                    }
                    Some(_) => {
                        self.at_marker = true;
                        None
                    }
                    None => {
                        self.at_end = true;
                        None
                    }
                }
            };
            if byte.is_none() && self.at_end {
                self.padding_bits += 8;
            }
            self.buffer |= u64::from(byte.unwrap_or(0)) << (56 - self.bits);
            self.bits += 8;
        }
    }

    /// The next `count` (≤ 16) bits, consumed.
    pub fn bits(&mut self, count: u32) -> u32 {
        if count == 0 {
            return 0;
        }
        if self.bits < count {
            self.fill();
        }
        let value = (self.buffer >> (64 - count)) as u32;
        self.buffer <<= count;
        self.bits -= count;
        value
    }

    pub fn bit(&mut self) -> bool {
        self.bits(1) == 1
    }

    /// `count` bits as a signed value (T.81 F.2.2.1 EXTEND).
    pub fn extended(&mut self, count: u32) -> i32 {
        if count == 0 {
            return 0;
        }
        let value = self.bits(count) as i32;
        if value < (1 << (count - 1)) {
            value - (1 << count) + 1
        } else {
            value
        }
    }

    /// One Huffman-coded symbol.
    pub fn decode(&mut self, table: &HuffmanTable) -> Result<u8, JpegError> {
        if self.bits < 16 {
            self.fill();
        }
        let peek = (self.buffer >> (64 - LOOKAHEAD)) as usize;
        let (length, symbol) = table.fast[peek];
        if length > 0 {
            self.buffer <<= length;
            self.bits -= u32::from(length);
            return Ok(symbol);
        }
        let mut length = LOOKAHEAD + 1;
        let mut code = (self.buffer >> (64 - length)) as i32;
        while code > table.max_code[length as usize] {
            length += 1;
            code = (self.buffer >> (64 - length)) as i32;
        }
        if length > 16 {
            // libjpeg warns and decodes a zero; a photograph never gets here.
            return Err(JpegError::Corrupt("a Huffman code not in its table"));
        }
        self.buffer <<= length;
        self.bits -= length;
        let index = table.offset[length as usize] + code;
        table
            .symbols
            .get(index as usize)
            .copied()
            .ok_or(JpegError::Corrupt("a Huffman code not in its table"))
    }

    /// Ends the segment at a restart marker: drops the bits left and takes the marker.
    pub fn restart(&mut self) -> Result<(), JpegError> {
        self.buffer = 0;
        self.bits = 0;
        self.at_marker = false;
        // Fill bits (0xFF 0xFF...) may precede the marker.
        while self.data.get(self.pos) == Some(&0xFF) && self.data.get(self.pos + 1) == Some(&0xFF) {
            self.pos += 1;
        }
        match (self.data.get(self.pos), self.data.get(self.pos + 1)) {
            (Some(0xFF), Some(0xD0..=0xD7)) => {
                self.pos += 2;
                Ok(())
            }
            (None, _) | (Some(0xFF), None) => Err(JpegError::Truncated),
            // libjpeg resynchronises on a corrupt stream; a corrupt restart is refused here.
            _ => Err(JpegError::Corrupt(
                "a restart marker missing where expected",
            )),
        }
    }

    /// Fails when the scan took bits past the end of the file.
    pub fn finish(&self) -> Result<(), JpegError> {
        if self.padding_bits > u64::from(self.bits) {
            Err(JpegError::Truncated)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_codes_than_a_length_holds_is_a_corrupt_table_not_a_panic() {
        // Three 1-bit codes: the third would be code 2, past the two that one bit holds.
        let mut counts = [0u8; 16];
        counts[0] = 3;
        assert!(HuffmanTable::new(&counts, vec![1, 2, 3]).is_err());
        // Past the lookup table's length too: 2 + 511 codes of at most 9 bits.
        let mut counts = [0u8; 16];
        counts[1] = 4;
        counts[8] = 200;
        assert!(HuffmanTable::new(&counts, vec![0; 204]).is_err());
        // A full, valid table still builds.
        let mut counts = [0u8; 16];
        counts[0] = 2;
        assert!(HuffmanTable::new(&counts, vec![7, 8]).is_ok());
    }
}
