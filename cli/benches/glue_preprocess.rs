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
//! - inside the embedded runtime by the glue (`--preprocess-only`): the time per image is a
//!   run over 21 copies less a run over 1, over 20, so instantiation and compilation are left
//!   out. Twice: compiled without interruption checks, as WasmEdge compiles a module (and as
//!   `run --timeout 0` runs it), and with them, as `verify` runs it under a wall-clock limit;
//! - in Python by PIL + torchvision, exactly as the sample's `app.py` builds its transform,
//!   timed in a loop inside one long-lived interpreter (start-up and imports left out).
//!
//! This machine's speed drifts by a third over tens of seconds, so the three are measured
//! in alternation, a round at a time, and the ratio is the median of the rounds' ratios.
//!
//! It also prints the size of the built module (target: under 3 MB).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::python;

use wasm_migrate_runtime::{DirMapping, RunConfig, Runtime, RuntimeOptions};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

const ROUNDS: usize = 9;

const MAKE_JPEG: &str = r#"
import sys, skimage.data
from PIL import Image
Image.fromarray(skimage.data.chelsea()).resize((1280, 960), Image.Resampling.BICUBIC).save(sys.argv[1], quality=90)
"#;

/// Reads a count per line and answers with the seconds per image of that many runs.
const PYTHON_PREPROCESS: &str = r#"
import sys, time
from PIL import Image
from torchvision import transforms
path = sys.argv[1]
transform = transforms.Compose([
    transforms.Resize(256, interpolation=transforms.InterpolationMode.BILINEAR, antialias=True),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
])
run = lambda: transform(Image.open(path).convert("RGB")).unsqueeze(0)
for _ in range(5): run()
for line in sys.stdin:
    repeats = int(line)
    t = time.perf_counter()
    for _ in range(repeats): run()
    print((time.perf_counter() - t) / repeats, flush=True)
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

    let dir = DirMapping::parse(&format!("{}:/in", work.path().display())).unwrap();
    // The module compiled once per setting; a closure gives the seconds per image of one round.
    let glue = |wall_clock_limits: bool| {
        let runtime = Runtime::new(RuntimeOptions {
            wall_clock_limits,
            ..RuntimeOptions::default()
        })
        .unwrap();
        let module = runtime.load(&built.module).unwrap();
        let dir = dir.clone();
        let run = move |copies: usize| {
            let mut args = vec!["--preprocess-only".to_string()];
            args.extend((0..copies).map(|_| "/in/photo_1280x960.jpg".to_string()));
            let config = RunConfig {
                args,
                dirs: vec![dir.clone()],
                timeout: wall_clock_limits.then(|| Duration::from_secs(600)),
                ..RunConfig::default()
            };
            common::run_succeeding(&runtime, &module, &config)
                .run_time
                .as_secs_f64()
        };
        run(1);
        move || (run(21) - run(1)) / 20.0
    };
    let unlimited = glue(false);
    let limited = glue(true);

    let mut server = Command::new(python())
        .args(["-c", PYTHON_PREPROCESS])
        .arg(&jpeg)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut to_python = server.stdin.take().unwrap();
    let mut from_python = BufReader::new(server.stdout.take().unwrap());
    let mut python = || {
        writeln!(to_python, "20").unwrap();
        let mut line = String::new();
        from_python.read_line(&mut line).unwrap();
        line.trim()
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("the Python side answered {line:?}"))
    };

    let rounds: Vec<[f64; 3]> = (0..ROUNDS)
        .map(|_| [python(), unlimited(), limited()])
        .collect();
    drop(to_python);
    assert!(server.wait().unwrap().success());

    let column = |i: usize| median(rounds.iter().map(|r| r[i]).collect());
    let ratio = |i: usize| median(rounds.iter().map(|r| r[i] / r[0]).collect());
    println!(
        "== preprocessing of a 1280x960 JPEG to a 1x3x224x224 tensor (decode, resize 256, crop 224, \
         normalize), medians of {ROUNDS} alternating rounds"
    );
    println!(
        "  Python PIL + torchvision: {:.2} ms per image",
        column(0) * 1e3
    );
    println!(
        "  glue, no interruption checks (as WasmEdge runs it; `run --timeout 0`): {:.2} ms per image",
        column(1) * 1e3
    );
    println!(
        "  glue, with a wall-clock limit (as `verify` runs it): {:.2} ms per image",
        column(2) * 1e3
    );
    println!(
        "  ratio glue / Python: {:.2} without checks, {:.2} with them (target at most 1.0)",
        ratio(1),
        ratio(2)
    );
}
