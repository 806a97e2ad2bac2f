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

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use wasm_migrate_codegen::GenerateOptions;
use wasm_migrate_runtime::{DirMapping, RunConfig, Runtime, RuntimeOptions};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn python() -> PathBuf {
    let python = repo().join("target/py-venv/bin/python");
    assert!(python.is_file(), "run ./scripts/setup-python first");
    python
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

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
    let service = work.path().join("torchvision-flask");
    copy_dir(&repo().join("samples/torchvision-flask"), &service);
    let status = Command::new(python())
        .arg(service.join("make_model.py"))
        .status()
        .unwrap();
    assert!(status.success());
    let code = wasm_migrate_cli::run([
        "wasm-migrate",
        "analyze",
        service.to_str().unwrap(),
        "--write-plan",
        "--format",
        "json",
        "--output",
        work.path().join("report.json").to_str().unwrap(),
    ]);
    assert!(code <= 1, "analyze failed");
    let generated = wasm_migrate_codegen::generate(
        &service,
        &GenerateOptions {
            out: None,
            target: None,
            templates: None,
            force: false,
        },
    )
    .unwrap();
    // SAFETY: set before any other thread starts; the build reads it from the environment.
    unsafe { std::env::set_var("CARGO_TARGET_DIR", repo().join("target/glue-target")) };
    let built = wasm_migrate_codegen::build(&generated.out, None).unwrap();
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
