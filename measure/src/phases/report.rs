//! The figures put together: deployables, ratios, the article's claims and the cost model.

use std::time::Duration;

use wasm_migrate_runtime::BackendKind;

use super::Setup;
use crate::cost::{self, SideFigures};
use crate::servers::{MIGRATED, ORIGINAL, WASMEDGE};
use crate::stats::median;
use crate::{BenchReport, Machine, Ratios, SideReport, claims, size};

impl Setup<'_> {
    pub(super) fn deployable(&self, side: &str) -> size::Deployable {
        match side {
            ORIGINAL => size::original(
                &self.python,
                &self.options.service,
                self.plan.model.as_ref().and_then(|m| m.artifact.as_deref()),
            ),
            _ => {
                let host: Vec<(&str, std::path::PathBuf)> = match side {
                    WASMEDGE => crate::servers::find_wasmedge()
                        .map(|p| size::wasmedge_install(&p))
                        .unwrap_or_default(),
                    _ => self
                        .options
                        .host_binary
                        .clone()
                        .map(|p| ("host runtime (wasm-migrate, wasmtime inside)", p))
                        .into_iter()
                        .collect(),
                };
                if self.is_bundle() {
                    let interpreter = wasm_migrate_pybundle::Interpreter::find(
                        std::slice::from_ref(&self.python),
                    )
                    .ok();
                    return size::bundle(&self.module, interpreter.as_ref(), &host);
                }
                size::migrated(
                    &self.module,
                    &self.model_files,
                    &backend_libraries(self.backend),
                    &host,
                )
            }
        }
    }

    pub(super) fn report(
        &self,
        sides: Vec<SideReport>,
        mut warnings: Vec<String>,
        took: Duration,
    ) -> BenchReport {
        let ratios = ratios(&sides);
        let cost = cost_model(self.options.cost, &sides);
        if cost.is_none() {
            warnings.push("no cost model: a side answered no request at concurrency 1".into());
        }
        let claims = claims::claims(&sides, &ratios, cost.as_ref());
        BenchReport {
            schema: "wasm-migrate.bench/1",
            service: self.options.service.display().to_string(),
            module: self.module.display().to_string(),
            backend: self.backend,
            machine: machine(),
            budget: self.options.budget.clone(),
            concurrency: self.concurrency(),
            sides,
            ratios,
            claims,
            cost,
            warnings,
            seconds: took.as_secs_f64(),
        }
    }
}

/// What OpenVINO needs to run IR or ONNX on a CPU: the core, the CPU plugin, the two
/// frontends and TBB (not the GPU/NPU plugins or the other frontends the package ships).
const OPENVINO_CPU: &[&str] = &[
    "libopenvino.so",
    "libopenvino_c.so",
    "libopenvino_intel_cpu_plugin",
    "libopenvino_ir_frontend",
    "libopenvino_onnx_frontend",
    "libtbb.so",
    "libtbbmalloc.so",
];

/// The backend's shared libraries, as a deployment carries them (tract is in the host).
fn backend_libraries(backend: BackendKind) -> Vec<std::path::PathBuf> {
    use wasm_migrate_runtime::native;
    match backend {
        BackendKind::Tract => Vec::new(),
        BackendKind::OpenVino => native::find_openvino()
            .ok()
            .flatten()
            .map(|found| found.path)
            .or_else(loaded_openvino)
            .map(|path| size::backend_libraries(&path, OPENVINO_CPU))
            .unwrap_or_default(),
        BackendKind::OnnxRuntime => native::find_onnxruntime()
            .map(|found| size::backend_libraries(&found.path, &["libonnxruntime"]))
            .unwrap_or_default(),
    }
}

/// Once OpenVINO is loaded in this process, the runtime has pointed OPENVINO_INSTALL_DIR at a
/// link to the library it found; the link leads back to the package's own files.
fn loaded_openvino() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("OPENVINO_INSTALL_DIR")?;
    let link = std::path::Path::new(&dir).join("runtime/lib/intel64/libopenvino_c.so");
    std::fs::canonicalize(link).ok()
}

fn divide(a: f64, b: f64) -> Option<f64> {
    (a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite()).then(|| a / b)
}

/// Per-round ratios, then their median: the rounds alternate sides, so drift cancels.
fn round_ratio(a: &[f64], b: &[f64]) -> Option<f64> {
    let ratios: Vec<f64> = a
        .iter()
        .zip(b)
        .filter_map(|(a, b)| divide(*a, *b))
        .collect();
    (!ratios.is_empty()).then(|| median(&ratios))
}

fn ratios(sides: &[SideReport]) -> Ratios {
    let (Some(original), Some(migrated)) = (
        sides.iter().find(|s| s.side == ORIGINAL),
        sides.iter().find(|s| s.side == MIGRATED),
    ) else {
        return Ratios::default();
    };
    let steady = |side: &SideReport, last: bool| {
        if last {
            side.steady.last()
        } else {
            side.steady.first()
        }
        .cloned()
        .unwrap_or_default()
    };
    let memory = |side: &SideReport| side.memory.clone().unwrap_or_default();
    Ratios {
        cold_start: divide(original.cold_start.median_ms, migrated.cold_start.median_ms),
        cold_start_warm_host: migrated
            .cold_start
            .warm_instance
            .as_ref()
            .and_then(|w| divide(original.cold_start.median_ms, w.listening_median_ms)),
        latency_p50_c1: round_ratio(
            &steady(original, false).round_p50_ms,
            &steady(migrated, false).round_p50_ms,
        ),
        latency_p50_cn: round_ratio(
            &steady(original, true).round_p50_ms,
            &steady(migrated, true).round_p50_ms,
        ),
        throughput_cn: round_ratio(
            &steady(migrated, true).round_throughput_rps,
            &steady(original, true).round_throughput_rps,
        ),
        memory_per_instance: divide(
            memory(original).per_extra_instance_mib,
            memory(migrated).per_extra_instance_mib,
        ),
        density: divide(
            memory(migrated).instances_per_gib,
            memory(original).instances_per_gib,
        ),
        size: divide(
            original.size.total_bytes as f64,
            migrated.size.total_bytes as f64,
        ),
    }
}

fn figures(side: &SideReport) -> Option<SideFigures> {
    let memory = side.memory.as_ref()?;
    let rps = side.steady.first()?.throughput_rps;
    (rps > 0.0).then_some(SideFigures {
        rps_per_instance: rps,
        first_instance_mib: memory.first_instance_mib,
        extra_instance_mib: memory.per_extra_instance_mib,
        cold_start_ms: side.cold_start.median_ms,
    })
}

fn cost_model(inputs: cost::CostInputs, sides: &[SideReport]) -> Option<cost::CostModel> {
    let original = figures(sides.iter().find(|s| s.side == ORIGINAL)?)?;
    let migrated = figures(sides.iter().find(|s| s.side == MIGRATED)?)?;
    Some(cost::model(inputs, &original, &migrated))
}

fn machine() -> Machine {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    Machine {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_gib: kib / (1024.0 * 1024.0),
    }
}
