//! `wasm-migrate bench`: the original service and the migrated module measured side by side
//! in one run, on loopback, with bounded loads, against the claims of the article users
//! migrate for (cold start, latency, memory per instance, density, cost).
//!
//! Every server bench starts is in its own process group, stopped when its handle drops and
//! killed by the kernel if bench itself dies.

mod claims;
pub mod cost;
mod error;
mod load;
pub mod memory;
mod phases;
pub mod render;
mod servers;
pub mod size;
mod stats;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde::Serialize;
use wasm_migrate_runtime::BackendKind;

pub use claims::Claim;
pub use cost::{CostInputs, CostModel};
pub use error::BenchError;
pub use phases::bench;
/// What bench is doing, for a progress display (the same events as `verify`'s).
pub use wasm_migrate_verify::Progress;

/// The sitecustomize that times the original's model loading inside its server; it imports
/// pyharness's import hook, written beside it.
pub const LOAD_PROBE: &str = include_str!("sitecustomize.py");

/// What to measure, and how much.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub service: PathBuf,
    /// The glue directory (default SERVICE/migrated).
    pub glue: Option<PathBuf>,
    /// The service's Python (default: its venv, as `verify` finds it).
    pub python: Option<PathBuf>,
    /// Inputs to send (files or folders); empty: photographs or texts made with the
    /// service's Python, as `verify` makes them.
    pub inputs: Vec<PathBuf>,
    /// The backend the module's model runs on (default: the fastest available).
    pub backend: Option<BackendKind>,
    /// The command that is `wasm-migrate`, which serves the module in its own process.
    pub host: Vec<String>,
    /// The host's executable, counted in the migrated deployable.
    pub host_binary: Option<PathBuf>,
    pub budget: Budget,
    pub cost: CostInputs,
    /// Also run the module under `wasmedge` when it is on PATH.
    pub wasmedge: bool,
    /// Set from a signal handler: bench stops everything and returns `Interrupted`.
    pub cancel: Arc<AtomicBool>,
}

/// How much load: every phase is bounded in requests and in time.
#[derive(Debug, Clone, Serialize)]
pub struct Budget {
    /// Fresh starts per side for the cold start.
    pub starts: usize,
    /// Steady-state rounds; each round runs both sides, in alternating order.
    pub rounds: usize,
    /// Requests per side per round at each concurrency.
    pub requests: usize,
    /// Instance counts for the memory curve.
    pub instances: Vec<usize>,
    /// Longest one burst of requests may take.
    #[serde(with = "seconds")]
    pub burst_limit: Duration,
    /// Longest a fresh server may take to answer.
    #[serde(with = "seconds")]
    pub start_limit: Duration,
}

impl Budget {
    pub fn standard() -> Budget {
        Budget {
            starts: 5,
            rounds: 5,
            requests: 40,
            instances: vec![1, 2, 4],
            burst_limit: Duration::from_secs(60),
            start_limit: Duration::from_secs(180),
        }
    }

    /// A short run: enough to see every figure, not enough to trust small differences.
    pub fn quick() -> Budget {
        Budget {
            starts: 2,
            rounds: 3,
            requests: 12,
            instances: vec![1, 2],
            burst_limit: Duration::from_secs(30),
            start_limit: Duration::from_secs(180),
        }
    }
}

mod seconds {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

/// Everything measured, the ratios, the article's claims next to them, and the cost model.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub schema: &'static str,
    pub service: String,
    pub module: String,
    pub backend: BackendKind,
    pub machine: Machine,
    pub budget: Budget,
    /// Requests the original handles at once (its workers x threads), the second
    /// concurrency of the steady state.
    pub concurrency: usize,
    pub sides: Vec<SideReport>,
    /// Medians of per-round ratios (original / migrated for times, migrated / original for
    /// rates), so the machine's drift cancels.
    pub ratios: Ratios,
    pub claims: Vec<Claim>,
    pub cost: Option<CostModel>,
    pub warnings: Vec<String>,
    pub seconds: f64,
}

impl BenchReport {
    pub fn side(&self, name: &str) -> Option<&SideReport> {
        self.sides.iter().find(|s| s.side == name)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub memory_gib: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SideReport {
    pub side: &'static str,
    pub command: Vec<String>,
    pub cold_start: ColdStart,
    pub steady: Vec<Steady>,
    pub memory: Option<Memory>,
    pub size: size::Deployable,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ColdStart {
    /// Process start to the first answer 200 to an inference request, per fresh start.
    pub samples_ms: Vec<f64>,
    /// Process start to the port accepting a connection.
    pub listening_ms: Vec<f64>,
    /// Loading the model, inside the process (the original: its framework's load calls;
    /// the module: `--nn-preload`).
    pub model_load_ms: Vec<f64>,
    pub median_ms: f64,
    pub listening_median_ms: f64,
    pub model_load_median_ms: Option<f64>,
    /// The migrated side's first start, which compiled the module into the cache.
    pub first_start_ms: Option<f64>,
    /// Where the module's fresh starts spent their time (medians); none for the original.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<StartPhases>,
    /// One more instance in a warm host with the graph preloaded (the article's "<5 ms").
    pub warm_instance: Option<WarmInstance>,
    /// Whether each first answer agreed with the original's answer to the same request.
    pub agreed: bool,
}

/// A fresh start of the module, phase by phase (milliseconds, medians over the starts). The
/// model loads on its own thread while the engine starts and the module loads, so
/// `model_ms` overlaps `engine_ms + module_ms`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StartPhases {
    /// Process start to the host's own clock: exec, the dynamic loader, argument parsing
    /// (bench's clock outside minus the host's inside).
    pub process_ms: f64,
    pub engine_ms: f64,
    /// The compiled module loaded from the cache (mmap) and linked.
    pub module_ms: f64,
    /// The model read and compiled, or imported from the graph cache.
    pub model_ms: f64,
    /// The instance created until it listened: ready.
    pub instance_ms: f64,
    /// Ready to the first answer: the first request, its inference included, which no start
    /// can remove.
    pub first_answer_ms: f64,
}

impl StartPhases {
    /// The medians of each phase.
    pub fn median_of(starts: &[StartPhases]) -> Option<StartPhases> {
        let of =
            |f: fn(&StartPhases) -> f64| stats::median(&starts.iter().map(f).collect::<Vec<_>>());
        (!starts.is_empty()).then(|| StartPhases {
            process_ms: of(|p| p.process_ms),
            engine_ms: of(|p| p.engine_ms),
            module_ms: of(|p| p.module_ms),
            model_ms: of(|p| p.model_ms),
            instance_ms: of(|p| p.instance_ms),
            first_answer_ms: of(|p| p.first_answer_ms),
        })
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct WarmInstance {
    /// What an extra instance shares with the others and what it does to start, when it is
    /// not a module's (the compiled module and the loaded model shared).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub how: String,
    /// Instance created to listening: ready to answer.
    pub listening_ms: Vec<f64>,
    /// Instance created to its first answer.
    pub samples_ms: Vec<f64>,
    pub listening_median_ms: f64,
    pub median_ms: f64,
    /// Reading and compiling the model with OpenVINO, when it runs the model: what WasmEdge's
    /// OpenVINO backend adds to every request, since it compiles the model again in each
    /// `set_input` (docs/decisions.md, "What each host guarantees").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub openvino_compile_ms: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openvino_compile_median_ms: Option<f64>,
}

/// Latency and throughput at one concurrency, over every round.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Steady {
    pub concurrency: usize,
    /// Every answered request's latency, sorted (for the CDF).
    pub latencies_ms: Vec<f64>,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
    /// Median over rounds of answered requests per second.
    pub throughput_rps: f64,
    pub round_p50_ms: Vec<f64>,
    pub round_throughput_rps: Vec<f64>,
    pub errors: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Memory {
    /// One reading per instance count.
    pub points: Vec<MemoryPoint>,
    /// The largest resident set one process reached with one instance.
    pub one_instance_peak_rss_mib: f64,
    pub first_instance_mib: f64,
    /// What each further instance adds (slope of PSS against instance count).
    pub per_extra_instance_mib: f64,
    /// Instances one GiB holds: the first, then as many extra as fit.
    pub instances_per_gib: f64,
    /// How the instances were run.
    pub how: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemoryPoint {
    pub instances: usize,
    #[serde(flatten)]
    pub reading: memory::Reading,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Ratios {
    /// Original cold start / migrated cold start (fresh process).
    pub cold_start: Option<f64>,
    /// Original cold start / one more instance in a warm host, to ready.
    pub cold_start_warm_host: Option<f64>,
    /// Original p50 / migrated p50, median over rounds, at concurrency 1.
    pub latency_p50_c1: Option<f64>,
    /// The same at the original's concurrency.
    pub latency_p50_cn: Option<f64>,
    /// Migrated / original throughput, median over rounds, at the original's concurrency.
    pub throughput_cn: Option<f64>,
    /// Original / migrated memory per extra instance.
    pub memory_per_instance: Option<f64>,
    /// Migrated / original instances per GiB.
    pub density: Option<f64>,
    /// Original / migrated deployable size.
    pub size: Option<f64>,
}
