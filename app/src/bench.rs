//! `bench`: the budget and the cost model resolved from what the caller gave, then both sides
//! measured.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use wasm_migrate_measure::{self as measure, BenchOptions, BenchReport, Budget, CostInputs};
use wasm_migrate_runtime::BackendKind;

use crate::progress::events;
use crate::{AppError, Progress, Result};

/// What `bench` is asked to do; `None` and empty fields take the budget's defaults.
#[derive(Debug, Clone, Default)]
pub struct BenchRequest {
    pub service: PathBuf,
    pub glue: Option<PathBuf>,
    pub python: Option<PathBuf>,
    pub inputs: Vec<PathBuf>,
    pub backend: Option<BackendKind>,
    /// The short budget (every figure, less confidence) instead of the standard one.
    pub quick: bool,
    pub starts: Option<usize>,
    pub rounds: Option<usize>,
    pub requests: Option<usize>,
    /// Instance counts for the memory curve.
    pub instances: Vec<usize>,
    /// Longest one burst of requests may take, in seconds.
    pub burst_limit: Option<f64>,
    pub cost: CostInputs,
    /// Also run the module under `wasmedge` when it is on PATH.
    pub wasmedge: bool,
    /// The command that is `wasm-migrate` (it serves the module in its own process), and its
    /// executable, counted in the migrated deployable.
    pub host: Vec<String>,
    pub host_binary: Option<PathBuf>,
    /// Set it (from a signal handler) to stop: bench stops everything it started.
    pub cancel: Arc<AtomicBool>,
}

impl BenchRequest {
    /// The measure crate's options, or the option that is wrong.
    pub fn options(&self) -> Result<BenchOptions> {
        Ok(BenchOptions {
            service: self.service.clone(),
            glue: self.glue.clone(),
            python: self.python.clone(),
            inputs: self.inputs.clone(),
            backend: self.backend,
            host: self.host.clone(),
            host_binary: self.host_binary.clone(),
            budget: self.budget()?,
            cost: self.cost()?,
            wasmedge: self.wasmedge,
            cancel: self.cancel.clone(),
        })
    }

    fn budget(&self) -> Result<Budget> {
        let mut budget = match self.quick {
            true => Budget::quick(),
            false => Budget::standard(),
        };
        budget.starts = self.starts.unwrap_or(budget.starts).max(1);
        budget.rounds = self.rounds.unwrap_or(budget.rounds).max(1);
        budget.requests = self.requests.unwrap_or(budget.requests).max(1);
        if !self.instances.is_empty() {
            budget.instances = self.instances.iter().map(|&n| n.max(1)).collect();
            budget.instances.sort_unstable();
            budget.instances.dedup();
        }
        if let Some(limit) = self.burst_limit {
            if !(limit > 0.0 && limit.is_finite()) {
                return Err(AppError::usage(format!(
                    "--burst-limit {limit}: give a positive number of seconds"
                )));
            }
            budget.burst_limit = Duration::from_secs_f64(limit);
        }
        Ok(budget)
    }

    fn cost(&self) -> Result<CostInputs> {
        let cost = self.cost;
        if !(cost.target_rps > 0.0 && cost.node_memory_gib > 0.0 && cost.node_cores > 0) {
            return Err(AppError::usage(
                "--target-rps, --node-cores and --node-memory-gib must be positive",
            ));
        }
        if !(0.0..1.0).contains(&cost.headroom) {
            return Err(AppError::usage(format!(
                "--headroom {}: give the share of a node's rate kept free, from 0 to below 1",
                cost.headroom
            )));
        }
        Ok(cost)
    }
}

/// Measures both sides. An interrupt is `AppError::Bench(Interrupted)` (exit 130), a side that
/// failed while measured `AppError::Bench(Side)` (exit 1): see [`AppError::exit_code`].
pub fn bench(request: &BenchRequest, progress: &dyn Progress) -> Result<BenchReport> {
    let options = request.options()?;
    let on_event = events(progress);
    let report = measure::bench(&options, &on_event);
    progress.finish();
    Ok(report?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> BenchRequest {
        BenchRequest {
            cost: CostInputs::default(),
            ..BenchRequest::default()
        }
    }

    #[test]
    fn the_budget_takes_what_is_given_and_keeps_counts_positive() {
        let budget = BenchRequest {
            quick: true,
            starts: Some(0),
            instances: vec![4, 1, 4, 2],
            ..request()
        }
        .budget()
        .unwrap();
        assert_eq!(budget.starts, 1);
        assert_eq!(budget.instances, vec![1, 2, 4]);
        assert_eq!(budget.rounds, Budget::quick().rounds);
    }

    #[test]
    fn bad_limits_and_cost_inputs_are_refused_naming_the_flag() {
        let burst = BenchRequest {
            burst_limit: Some(-1.0),
            ..request()
        };
        assert!(
            burst
                .options()
                .unwrap_err()
                .to_string()
                .contains("--burst-limit")
        );
        let mut cost = request();
        cost.cost.node_cores = 0;
        assert!(
            cost.options()
                .unwrap_err()
                .to_string()
                .contains("--node-cores")
        );
    }
}
