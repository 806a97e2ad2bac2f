//! The generated glue's preprocessing against the Python service's, measured in the same run.
//!
//! ```text
//! ./scripts/setup-python
//! cargo bench -p wasm-migrate-cli --bench glue_preprocess
//! ```
//!
//! The torchvision-flask sample is generated and built (release, LTO, stripped); a 1280x960
//! JPEG made from a skimage photograph is decoded, resized (shorter side 256, PIL bilinear
//! with antialiasing), center-cropped to 224x224, turned into a tensor and normalised:
//! - inside the embedded runtime by the glue (`--preprocess-only`): the time per image is the
//!   difference between a run over 21 copies and a run over 1, divided by 20, so instantiation
//!   and compilation are left out; the whole single-image run is shown too;
//! - in Python by PIL + torchvision, exactly as the sample's `app.py` builds its transform,
//!   timed in a loop inside one interpreter (start-up and imports left out).
//!
//! It also prints the size of the built module (target: under 3 MB).

mod common;

use std::process::Command;

use common::python;
use std::time::Duration;

use wasm_migrate_runtime::{DirMapping, RunConfig, Runtime, RuntimeOptions};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

const MAKE_JPEG: &str = r#"
import sys, skimage.data
from PIL import Image
Image.fromarray(skimage.data.chelsea()).resize((1280, 960), Image.Resampling.BICUBIC).save(sys.argv[1], quality=90)
"#;

const PYTHON_PREPROCESS: &str = r#"
import sys, time
from PIL import Image
from torchvision import transforms
path, repeats = sys.argv[1], int(sys.argv[2])
transform = transforms.Compose([
    transforms.Resize(256, interpolation=transforms.InterpolationMode.BILINEAR, antialias=True),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
])
run = lambda: transform(Image.open(path).convert("RGB")).unsqueeze(0)
for _ in range(5): run()
times = []
for _ in range(7):
    t = time.perf_counter()
    for _ in range(repeats): run()
    times.append((time.perf_counter() - t) / repeats)
times.sort()
print(times[len(times) // 2])
"#;

fn main() {
    let work = tempfile::tempdir().unwrap();
    let (_service, built) = common::migrate("torchvision-flask", work.path(), false);
    println!(
        "== generated module: {} bytes ({:.2} MB; target under 3 MB)",
        built.size,
        built.size as f64 / 1e6
    );

    let jpeg = work.path().join("photo_1280x960.jpg");
    let status = Command::new(python())
        .args(["-c", MAKE_JPEG])
        .arg(&jpeg)
        .status()
        .unwrap();
    assert!(status.success());

    let runtime = Runtime::new(RuntimeOptions::default()).unwrap();
    let module = runtime.load(&built.module).unwrap();
    let dir = DirMapping::parse(&format!("{}:/in", work.path().display())).unwrap();
    let run = |copies: usize| {
        let mut args = vec!["--preprocess-only".to_string()];
        args.extend((0..copies).map(|_| "/in/photo_1280x960.jpg".to_string()));
        let config = RunConfig {
            args,
            dirs: vec![dir.clone()],
            ..RunConfig::default()
        };
        let outcome = runtime.run(&module, &config).unwrap();
        assert!(
            outcome.ending.success(),
            "{}",
            String::from_utf8_lossy(&outcome.stderr)
        );
        (outcome.run_time, outcome.instantiate_time)
    };
    run(1);
    let one = median((0..7).map(|_| run(1).0).collect());
    let many = median((0..7).map(|_| run(21).0).collect());
    let wasm = many.saturating_sub(one) / 20;

    let out = Command::new(python())
        .args(["-c", PYTHON_PREPROCESS])
        .arg(&jpeg)
        .arg("20")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secs: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let python = Duration::from_secs_f64(secs);

    println!(
        "== preprocessing of a 1280x960 JPEG to a 1x3x224x224 tensor (decode, resize 256, crop 224, normalize)"
    );
    println!(
        "  glue in the embedded runtime: {:.2} ms per image (a whole one-image run: {:.2} ms)",
        wasm.as_secs_f64() * 1e3,
        one.as_secs_f64() * 1e3
    );
    println!(
        "  Python PIL + torchvision:     {:.2} ms per image",
        python.as_secs_f64() * 1e3
    );
    println!(
        "  ratio glue / Python: {:.2} (target at most 1.0)",
        wasm.as_secs_f64() / python.as_secs_f64()
    );
}
