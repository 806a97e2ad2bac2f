//! The glue's preprocessing against the Python libraries themselves, on real photographs.
//!
//! `tests/preprocess/make_references.py` runs PIL, torchvision and OpenCV (the versions in
//! tests/requirements.txt) on skimage.data photographs at several sizes, square and not;
//! every case here runs the Rust operation on the same pixels and compares. The table of max
//! abs diffs per step is printed (`cargo test -p wasm-migrate-tests --test preprocess_parity
//! -- --nocapture`). Targets: exact for integer steps, at most 1/255 after a resize.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use wasm_migrate_preprocess::RgbImage;
use wasm_migrate_preprocess::crop::{
    self, center_crop, resize_and_center_crop, torchvision_resize_size,
};
use wasm_migrate_preprocess::cv_resize::{self, Interpolation};
use wasm_migrate_preprocess::decode::decode_upload;
use wasm_migrate_preprocess::exif;
use wasm_migrate_preprocess::jpeg;
use wasm_migrate_preprocess::pil_resize::{self, Filter};
use wasm_migrate_preprocess::tensor::{HwcTensor, Layout};
use wasm_migrate_preprocess::tf_resize;
use wasm_migrate_tests::{python_env, repo_root};

fn references() -> PathBuf {
    made_by("make_references.py", "target/preprocess-refs")
}

/// The output of `tests/preprocess/SCRIPT`, made again when the script is newer.
fn made_by(script: &str, out: &str) -> PathBuf {
    let out = repo_root().join(out);
    let script = repo_root().join("tests/preprocess").join(script);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    // The tests of this file run side by side: one makes the files while the others wait,
    // rather than read them half-written.
    std::fs::create_dir_all(repo_root().join("target")).unwrap();
    let lock = std::fs::File::create(out.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    // Made again when the script changed since (a new case must not read stale references).
    if modified(&out.join("manifest.json")) < modified(&script) {
        let status = Command::new(python_env().join("bin/python"))
            .arg(&script)
            .arg(&out)
            .status()
            .expect("python runs");
        assert!(status.success(), "make_references.py failed");
    }
    out
}

enum Array {
    U8(Vec<u64>, Vec<u8>),
    F32(Vec<u64>, Vec<f32>),
}

fn read_npy(path: &Path) -> Array {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).expect("a .npy file");
    let shape = npy.shape().to_vec();
    match npy.dtype().descr().trim_matches('\'') {
        "|u1" => Array::U8(shape, npy.into_vec().unwrap()),
        "<f4" => Array::F32(shape, npy.into_vec().unwrap()),
        other => panic!("{}: unexpected dtype {other}", path.display()),
    }
}

fn image_from(path: &Path) -> RgbImage {
    match read_npy(path) {
        Array::U8(shape, data) => {
            RgbImage::from_raw(shape[1] as usize, shape[0] as usize, data).expect("HxWx3")
        }
        Array::F32(..) => panic!("{}: expected uint8 pixels", path.display()),
    }
}

fn filter(name: &str) -> Filter {
    match name {
        "nearest" => Filter::Nearest,
        "box" => Filter::Box,
        "bilinear" => Filter::Bilinear,
        "hamming" => Filter::Hamming,
        "bicubic" => Filter::Bicubic,
        "lanczos" => Filter::Lanczos,
        other => panic!("unknown filter {other}"),
    }
}

fn usize_at(v: &Value, key: &str) -> usize {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v}")) as usize
}

fn pair(v: &Value) -> (usize, usize) {
    (
        v[0].as_u64().unwrap() as usize,
        v[1].as_u64().unwrap() as usize,
    )
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

enum Output {
    Pixels(RgbImage),
    Tensor(Vec<usize>, Vec<f32>),
}

fn run_case(dir: &Path, input: &str, op: &Value, opencv_major: u32) -> Output {
    let kind = op["kind"].as_str().unwrap();
    if kind == "decode" {
        let bytes = std::fs::read(dir.join(input)).expect("readable");
        return Output::Pixels(decode_upload(&bytes).expect("decodes"));
    }
    let image = image_from(&dir.join(input));
    Output::Pixels(match kind {
        "pil_resize" => {
            let (w, h) = pair(&op["size"]);
            pil_resize::resize(&image, w, h, filter(op["filter"].as_str().unwrap()))
        }
        "pil_fit" => {
            let (w, h) = pair(&op["size"]);
            crop::fit(&image, w, h, filter(op["filter"].as_str().unwrap()))
        }
        "pil_gray" => {
            let (w, h) = pair(&op["size"]);
            let gray = pil_resize::resize(&image.into_luma_pil(), w, h, Filter::Bilinear);
            let t = HwcTensor::from_image(&gray).single_channel();
            return Output::Tensor(vec![h, w, 1], t.data);
        }
        "cv_gray" => {
            let (w, h) = pair(&op["size"]);
            // The input holds OpenCV's BGR bytes; the glue's images are RGB.
            let gray = image.swap_red_blue().into_gray_opencv(opencv_major);
            let resized = cv_resize::resize(&gray, w, h, Interpolation::Linear);
            let t = HwcTensor::from_image(&resized).single_channel();
            return Output::Tensor(vec![h, w, 1], t.data);
        }
        "torchvision_resize" => {
            let size = usize_at(op, "size");
            let (w, h) = torchvision_resize_size(image.width, image.height, &[size], None);
            pil_resize::resize(&image, w, h, Filter::Bilinear)
        }
        "center_crop" => {
            let size = usize_at(op, "size");
            center_crop(&image, size, size)
        }
        "cv_resize" => {
            let (w, h) = pair(&op["size"]);
            let interpolation = match op["interpolation"].as_str().unwrap() {
                "linear" => Interpolation::Linear,
                "area" => Interpolation::Area,
                _ => Interpolation::Nearest,
            };
            cv_resize::resize(&image, w, h, interpolation)
        }
        "tf_resize" => {
            let (w, h) = pair(&op["size"]);
            let t = tf_resize::resize_bilinear(&image, w, h);
            return Output::Tensor(vec![h, w, 3], t.data);
        }
        "torchvision_chain" => {
            let size = usize_at(op, "resize");
            let crop = usize_at(op, "crop");
            let (w, h) = torchvision_resize_size(image.width, image.height, &[size], None);
            // As the glue does it: the resize computes only the pixels the crop keeps.
            let cropped = resize_and_center_crop(&image, w, h, Filter::Bilinear, crop, crop);
            let mut t = HwcTensor::to_tensor(&cropped);
            t.normalize(&floats(&op["mean"]), &floats(&op["std"]));
            let (shape, data) = t.into_layout(Layout::Nchw);
            return Output::Tensor(shape, data);
        }
        "cv_chain" => {
            let (w, h) = pair(&op["size"]);
            let rgb = image.swap_red_blue();
            let mut t =
                HwcTensor::from_image(&cv_resize::resize(&rgb, w, h, Interpolation::Linear));
            t.divide(255.0);
            t.subtract_per_channel(&[0.5; 3]);
            t.divide_per_channel(&[0.25; 3]);
            let (shape, data) = t.into_layout(Layout::Nchw);
            return Output::Tensor(shape, data);
        }
        other => panic!("unknown case kind {other}"),
    })
}

/// The largest absolute difference, with the step's output unit: pixel levels or floats.
fn max_abs_diff(actual: &Output, expected: &Array, what: &str) -> f64 {
    match (actual, expected) {
        (Output::Pixels(img), Array::U8(shape, data)) => {
            assert_eq!(
                (img.height as u64, img.width as u64),
                (shape[0], shape[1]),
                "{what}: size"
            );
            img.data
                .iter()
                .zip(data)
                .map(|(&a, &e)| (i16::from(a) - i16::from(e)).unsigned_abs())
                .max()
                .map_or(0.0, f64::from)
        }
        (Output::Tensor(shape, got), Array::F32(eshape, data)) => {
            let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
            assert_eq!(&shape, eshape, "{what}: shape");
            got.iter()
                .zip(data)
                .map(|(&a, &e)| f64::from((a - e).abs()))
                .fold(0.0, f64::max)
        }
        _ => panic!("{what}: output kinds differ"),
    }
}

#[test]
fn preprocessing_matches_pil_torchvision_and_opencv() {
    let dir = references();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    // The grayscale weights are those of the OpenCV that made the references.
    let opencv_major = manifest["versions"]["opencv"]
        .as_str()
        .and_then(|v| v.split('.').next()?.parse().ok())
        .unwrap_or(4);
    // Worst difference per step, over every image and size.
    let mut worst: BTreeMap<String, f64> = BTreeMap::new();
    for case in manifest["cases"].as_array().unwrap() {
        let op = &case["op"];
        let mut step = op["kind"].as_str().unwrap().to_string();
        for key in ["filter", "interpolation"] {
            if let Some(v) = op[key].as_str() {
                step = format!("{step}/{v}");
            }
        }
        if step == "decode" {
            step = format!(
                "decode/{}",
                case["input"].as_str().unwrap().rsplit('.').next().unwrap()
            );
        }
        let input = case["input"].as_str().unwrap();
        let expected = read_npy(&dir.join(case["expected"].as_str().unwrap()));
        let got = run_case(&dir, input, op, opencv_major);
        let diff = max_abs_diff(&got, &expected, &format!("{step} on {input}"));
        if diff > 0.0 {
            println!("  {step} on {input}: {diff} ({})", case["expected"]);
        }
        let entry = worst.entry(step).or_insert(0.0);
        *entry = entry.max(diff);
    }
    println!("versions: {}", manifest["versions"]);
    println!("{:<28} max abs diff", "step");
    for (step, diff) in &worst {
        println!("{step:<28} {diff}");
    }
    for (step, &diff) in &worst {
        let limit = match step.as_str() {
            // OpenCV's tail pixels use its scalar path, which rounds once instead of twice
            // (the grayscale case resizes linearly after the conversion).
            "cv_resize/linear" | "cv_gray" => 1.0,
            // Floats after a resize: one pixel level divided by the std.
            "torchvision_chain" | "cv_chain" => 1.0 / 255.0 / 0.224 + 1e-6,
            _ => 0.0,
        };
        assert!(diff <= limit, "{step}: max abs diff {diff} exceeds {limit}");
    }
}

/// Every kind of image a client uploads decodes to PIL's pixels exactly
/// (tests/preprocess/make_uploads.py): JPEG baseline and progressive, 4:4:4, 4:2:2, 4:2:0,
/// 4:4:0 and 4:1:1, restart markers, grayscale, RGB, CMYK and YCCK, from PIL's and OpenCV's
/// encoders at sizes with partial MCUs; PNG of every colour type, 1 to 16 bits; and EXIF
/// orientations 1 to 8 as `ImageOps.exif_transpose` applies them.
#[test]
fn uploads_decode_to_pils_pixels_exactly() {
    let dir = made_by("make_uploads.py", "target/upload-refs");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let cases = manifest.as_array().unwrap();
    assert!(
        cases.len() >= 100,
        "the upload corpus has only {} files",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in cases {
        let file = case["file"].as_str().unwrap();
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let expected = image_from(&dir.join(case["expected"].as_str().unwrap()));
        let decoded = decode_upload(&bytes).map(|image| match case["exif_transpose"].as_bool() {
            Some(true) => exif::transpose(&image, exif::orientation(&bytes)),
            _ => image,
        });
        match decoded {
            Err(e) => failures.push(format!("{file}: {e}")),
            Ok(got) if (got.width, got.height) != (expected.width, expected.height) => {
                failures.push(format!("{file}: size {}x{}", got.width, got.height))
            }
            Ok(got) => {
                let differing = got.data.iter().zip(&expected.data).filter(|(a, b)| a != b);
                let worst = differing.clone().map(|(a, b)| a.abs_diff(*b)).max();
                if let Some(worst) = worst {
                    let count = differing.count();
                    failures.push(format!("{file}: {count} samples differ, by up to {worst}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "not PIL's pixels:\n{}",
        failures.join("\n")
    );
}

/// A cut-off upload and a file that only starts like a JPEG are refused with a reason,
/// as PIL refuses them ("image file is truncated"), never decoded to garbage or a panic.
#[test]
fn truncated_and_corrupt_uploads_are_refused() {
    let dir = made_by("make_uploads.py", "target/upload-refs");
    for file in [
        "astronaut_pil_420_q90.jpg",
        "chelsea_pil_444_progressive.jpg",
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        for keep in [bytes.len() / 3, bytes.len() * 2 / 3, 700] {
            let error = jpeg::decode_rgb(&bytes[..keep]).expect_err("truncated");
            assert_eq!(error, jpeg::JpegError::Truncated, "{file} cut at {keep}");
        }
    }
    assert_eq!(
        jpeg::decode_rgb(b"GIF89a").unwrap_err(),
        jpeg::JpegError::NotJpeg
    );
    let garbage: Vec<u8> = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x03, 0x08].to_vec();
    assert!(jpeg::decode_rgb(&garbage).is_err());
    // A frame header claiming 65535x65535 pixels is refused before anything is allocated.
    let bomb = [
        0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x03, 0x01, 0x22, 0x00,
        0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
    ];
    let error = jpeg::decode_rgb(&bomb).expect_err("too many pixels");
    assert!(error.to_string().contains("decompression bomb"), "{error}");
    let png = std::fs::read(dir.join("astronaut_png_rgb.png")).unwrap();
    let error = decode_upload(&png[..png.len() / 2]).expect_err("truncated PNG");
    assert!(error.to_string().starts_with("unreadable PNG"), "{error}");
    let error = decode_upload(b"%PDF-1.7").expect_err("not an image");
    assert_eq!(error.to_string(), "not a JPEG or PNG image");
}
