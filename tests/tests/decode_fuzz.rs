//! The module decodes whatever a client uploads, inside Wasm, where a panic is a trap (and on
//! WasmEdge the end of the process). Mutated JPEG and PNG files go through the glue's upload
//! decoder; every one must decode or be refused with an error. The HTTP fuzzer found the first
//! bug here (a Huffman table with more codes than its lengths hold indexed past its lookup
//! table). A longer run: `DECODE_FUZZ_EXECS=1000000 cargo test -p wasm-migrate-tests --test
//! decode_fuzz -- --nocapture`.

use std::io::Cursor;
use std::time::Instant;

use image::{ImageFormat, Rgb, RgbImage};
use wasm_migrate_preprocess::decode::decode_upload;

/// Valid files to mutate: JPEGs of several sizes and qualities, a grayscale JPEG, a PNG.
fn seeds() -> Vec<Vec<u8>> {
    let picture = |w: u32, h: u32| {
        RgbImage::from_fn(w, h, |x, y| {
            Rgb([
                (x * 7 % 256) as u8,
                (y * 5 % 256) as u8,
                ((x ^ y) % 256) as u8,
            ])
        })
    };
    let mut seeds = Vec::new();
    for (w, h, quality) in [(16, 16, 90), (33, 17, 50), (64, 48, 95), (8, 120, 10)] {
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
            .encode_image(&picture(w, h))
            .unwrap();
        seeds.push(bytes);
    }
    let mut gray = Vec::new();
    image::DynamicImage::ImageRgb8(picture(24, 24))
        .to_luma8()
        .write_to(&mut Cursor::new(&mut gray), ImageFormat::Jpeg)
        .unwrap();
    seeds.push(gray);
    let mut png = Vec::new();
    picture(20, 10)
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    seeds.push(png);
    seeds
}

fn mutate(rng: &mut fastrand::Rng, bytes: &mut Vec<u8>) {
    for _ in 0..rng.usize(1..=6) {
        if bytes.is_empty() {
            return;
        }
        // Headers (tables, frame, scan) are in the first few hundred bytes: aim there often.
        let reach = if rng.bool() {
            bytes.len().min(700)
        } else {
            bytes.len()
        };
        let at = rng.usize(0..reach);
        match rng.u8(0..6) {
            0 => bytes[at] ^= 1 << rng.u8(0..8),
            1 => bytes[at] = [0x00, 0xff, 0x7f, 0x80, 0x01, rng.u8(..)][rng.usize(0..6)],
            2 => bytes.truncate(at),
            3 => {
                let end = (at + rng.usize(1..64)).min(bytes.len());
                bytes.drain(at..end);
            }
            4 => {
                let end = (at + rng.usize(1..128)).min(bytes.len());
                let piece = bytes[at..end].to_vec();
                bytes.splice(at..at, piece);
            }
            _ => bytes.insert(at, rng.u8(..)),
        }
    }
}

#[test]
fn mutated_uploads_decode_or_are_refused_never_panic() {
    let executions: u64 = std::env::var("DECODE_FUZZ_EXECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let seeds = seeds();
    for seed in &seeds {
        decode_upload(seed).expect("every seed decodes");
    }
    let started = Instant::now();
    let mut failures = Vec::new();
    let (mut decoded, mut refused) = (0u64, 0u64);
    for case in 0..executions {
        let mut rng = fastrand::Rng::with_seed(case);
        let mut bytes = seeds[rng.usize(0..seeds.len())].clone();
        mutate(&mut rng, &mut bytes);
        match std::panic::catch_unwind(|| decode_upload(&bytes).is_ok()) {
            Ok(true) => decoded += 1,
            Ok(false) => refused += 1,
            Err(_) => failures.push(case),
        }
    }
    eprintln!(
        "decode fuzz: {executions} files in {:.1} s: {decoded} decoded, {refused} refused, {} panicked",
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "panicked on the files of cases {failures:?}"
    );
    assert!(decoded > 0 && refused > 0);
}
