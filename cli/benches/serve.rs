//! `serve`'s overhead per request against the module's command-mode inference, measured in
//! the same run.
//!
//! ```text
//! ./scripts/setup-python
//! cargo bench -p wasm-migrate-cli --bench serve
//! ```
//!
//! The torchvision-flask sample is migrated (its model converted to OpenVINO IR, its HTTP API
//! recorded) and built with the shipped release profile. One 640x480 JPEG made from a
//! skimage photograph is then answered:
//! - in command mode (`app.wasm photo.jpg ...`): the time per input is a run over 21 copies
//!   less a run over 1, over 20, so instantiation and the model load are left out;
//! - by the same module under `serve` (one instance, in this process), over loopback HTTP:
//!   20 sequential `POST /predict` multipart uploads from a client that connects for each,
//!   as the module closes every connection.
//!
//! Both run on OpenVINO (f32) when its library is found, else tract. The machine drifts by a
//! third over tens of seconds, so the two sides alternate, a round at a time, and the figures
//! are medians over the rounds: per-request time of each side, the overhead in milliseconds,
//! and the ratio serve / command mode.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common::python;
use wasm_migrate_runtime::{
    BackendChoice, BackendKind, DirMapping, Preload, Preloaded, RunConfig, Runtime, RuntimeOptions,
    ServeConfig, ServeControl,
};

const ROUNDS: usize = 9;
const REQUESTS: usize = 20;

const MAKE_JPEG: &str = r#"
import sys, skimage.data
from PIL import Image
Image.fromarray(skimage.data.chelsea()).resize((640, 480), Image.Resampling.BICUBIC).save(sys.argv[1], quality=90)
"#;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One `POST /predict` upload; the answer must be a 200.
fn request(address: SocketAddr, body: &[u8], boundary: &str) {
    let mut stream = TcpStream::connect(address).unwrap();
    let head = format!(
        "POST /predict HTTP/1.1\r\nhost: bench\r\ncontent-type: multipart/form-data; boundary={boundary}\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

fn main() {
    let work = tempfile::tempdir().unwrap();
    let (service, built) = common::migrate("torchvision-flask", work.path(), true);
    let glue = service.join("migrated");
    let jpeg = work.path().join("photo.jpg");
    let status = Command::new(python())
        .args(["-c", MAKE_JPEG])
        .arg(&jpeg)
        .status()
        .unwrap();
    assert!(status.success());

    let openvino = wasm_migrate_runtime::nn::status(BackendKind::OpenVino).available;
    let (spec, backend) = match openvino {
        true => (
            format!(
                "model:openvino:cpu:{}:{}",
                glue.join("model/model.xml").display(),
                glue.join("model/model.bin").display()
            ),
            BackendKind::OpenVino,
        ),
        false => (
            format!("model:onnx:cpu:{}", glue.join("model/model.onnx").display()),
            BackendKind::Tract,
        ),
    };
    let choice = BackendChoice {
        onnx: backend,
        ..BackendChoice::default()
    };
    let preload: Preload = spec.parse().unwrap();
    let preloaded = Preloaded::load(&[preload], &choice).unwrap();
    // As WasmEdge compiles a module: no interruption checks (no wall-clock limit) on either side.
    let runtime = Runtime::new(RuntimeOptions {
        wall_clock_limits: false,
        ..RuntimeOptions::default()
    })
    .unwrap();
    let module = runtime.load(&built.module).unwrap();

    let dir = DirMapping::parse(&format!("{}:/in", work.path().display())).unwrap();
    let command = |copies: usize| {
        let config = RunConfig {
            args: (0..copies).map(|_| "/in/photo.jpg".to_string()).collect(),
            dirs: vec![dir.clone()],
            preloaded: preloaded.clone(),
            backends: choice,
            timeout: None,
            ..RunConfig::default()
        };
        common::run_succeeding(&runtime, &module, &config)
            .run_time
            .as_secs_f64()
    };
    let per_input = || (command(REQUESTS + 1) - command(1)) / REQUESTS as f64;

    let control =
        ServeControl::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), None, None).unwrap();
    let address = control.local_addr();
    let config = ServeConfig {
        run: RunConfig {
            args: vec!["--serve".into()],
            env: vec![
                ("HOST".into(), address.ip().to_string()),
                ("PORT".into(), address.port().to_string()),
            ],
            preloaded: preloaded.clone(),
            backends: choice,
            timeout: None,
            ..RunConfig::default()
        },
        instances: 1,
    };
    let boundary = "bench-boundary-5f2a";
    let mut body = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"image\"; filename=\"photo.jpg\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&std::fs::read(&jpeg).unwrap());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());

    let rounds: Vec<[f64; 2]> = std::thread::scope(|scope| {
        let serving = scope.spawn(|| runtime.serve(&module, &config, &control));
        assert!(
            control.wait_ready(Duration::from_secs(120)),
            "serve did not start"
        );
        let served = || {
            let started = Instant::now();
            for _ in 0..REQUESTS {
                request(address, &body, boundary);
            }
            started.elapsed().as_secs_f64() / REQUESTS as f64
        };
        // Warm both sides (the first compute compiles kernels).
        per_input();
        served();
        let rounds = (0..ROUNDS).map(|_| [per_input(), served()]).collect();
        control.stop();
        serving.join().unwrap().unwrap();
        rounds
    });

    let column = |i: usize| median(rounds.iter().map(|r| r[i]).collect());
    let overhead = median(rounds.iter().map(|r| r[1] - r[0]).collect());
    let ratio = median(rounds.iter().map(|r| r[1] / r[0]).collect());
    println!(
        "== serve vs command mode, torchvision-flask (ResNet-18, {backend}), a 640x480 JPEG; \
         medians of {ROUNDS} alternating rounds of {REQUESTS}"
    );
    println!(
        "  command mode: {:.2} ms per input (decode, preprocess, infer, JSON line)",
        column(0) * 1e3
    );
    println!(
        "  serve:        {:.2} ms per request (connect, HTTP, multipart, the same work, the original's JSON)",
        column(1) * 1e3
    );
    println!(
        "  overhead:     {:.2} ms per request; ratio serve / command mode {ratio:.3}",
        overhead * 1e3
    );
}
