//! The steady state: both sides up at the original's configuration, loaded in alternating
//! rounds (one round runs each side at concurrency 1, then at the original's concurrency),
//! so that the machine's drift falls on both alike; ratios are taken per round.

use super::{Setup, check};
use crate::error::BenchError;
use crate::load::{Burst, BurstResult};
use crate::servers::{Launch, Running};
use crate::stats::{mean, median, quantile};
use crate::{Progress, Steady};

/// Every round's bursts for one side at one concurrency.
#[derive(Default)]
struct Rounds {
    concurrency: usize,
    bursts: Vec<BurstResult>,
}

impl Setup<'_> {
    /// Per side (in launch order), per concurrency (1, then the original's).
    pub(super) fn steady_state(
        &self,
        progress: &dyn Fn(Progress),
        warnings: &mut Vec<String>,
    ) -> Result<Vec<Vec<Steady>>, BenchError> {
        let launches = self.launches();
        let concurrencies = self.concurrencies();
        progress(Progress::Phase(format!(
            "steady state: {} rounds of {} requests per side at concurrency {}",
            self.options.budget.rounds,
            self.options.budget.requests,
            concurrencies
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(" and ")
        )));
        let mut servers = Vec::new();
        for launch in &launches {
            servers.push(self.start_serving(*launch)?);
        }
        let mut rounds: Vec<Vec<Rounds>> = launches
            .iter()
            .map(|_| {
                concurrencies
                    .iter()
                    .map(|&concurrency| Rounds {
                        concurrency,
                        bursts: Vec::new(),
                    })
                    .collect()
            })
            .collect();
        let total = self.options.budget.rounds;
        for round in 0..total {
            let mut order: Vec<usize> = (0..launches.len()).collect();
            if round % 2 == 1 {
                order.reverse();
            }
            for side in order {
                for (index, &concurrency) in concurrencies.iter().enumerate() {
                    check(self.cancel())?;
                    let burst = self.burst(
                        &servers[side].base(0),
                        concurrency,
                        self.options.budget.requests,
                    );
                    rounds[side][index].bursts.push(burst);
                }
            }
            progress(Progress::Step {
                done: round + 1,
                total,
            });
        }
        drop(servers);
        Ok(launches
            .iter()
            .zip(rounds)
            .map(|(launch, per_concurrency)| {
                per_concurrency
                    .into_iter()
                    .map(|r| summarise(launch.side(), r, warnings))
                    .collect()
            })
            .collect())
    }

    /// Instances each side runs in the steady state: the original as production runs it
    /// (its workers; one Flask process with its threads), the module with one instance per
    /// request the original handles at once.
    pub(super) fn steady_instances(&self, side: &str) -> usize {
        match side {
            crate::servers::ORIGINAL if self.server.kind.one_process_per_instance() => 1,
            crate::servers::ORIGINAL => self.server.workers.max(1) as usize,
            _ => self.concurrency(),
        }
    }

    /// 1 and the original's concurrency (once when they are equal).
    pub(super) fn concurrencies(&self) -> Vec<usize> {
        let mut concurrencies = vec![1, self.concurrency()];
        concurrencies.dedup();
        concurrencies
    }

    /// One side at the original's configuration, answering, warmed up.
    fn start_serving(&self, launch: &dyn Launch) -> Result<Running, BenchError> {
        let instances = self.steady_instances(launch.side());
        let running = self.start_answering(launch, instances)?;
        // First requests pay for lazy initialisation on both sides: not measured.
        let warm = self.burst(&running.base(0), self.concurrency(), 2 * self.concurrency());
        check(self.cancel())?;
        if warm.latencies.is_empty() {
            return Err(BenchError::Side {
                side: launch.side().into(),
                message: format!(
                    "no request was answered with 200 while warming up ({})",
                    warm.first_error.unwrap_or_default()
                ),
            });
        }
        Ok(running)
    }

    /// `count` requests at `concurrency` against one server (`http://127.0.0.1:PORT`).
    pub(super) fn burst(&self, base: &str, concurrency: usize, count: usize) -> BurstResult {
        let requests: Vec<_> = self.requests.iter().collect();
        Burst {
            base,
            requests: &requests,
            concurrency,
            count,
            limit: self.options.budget.burst_limit,
            cancel: self.cancel(),
        }
        .run()
    }
}

fn summarise(side: &str, rounds: Rounds, warnings: &mut Vec<String>) -> Steady {
    let mut latencies: Vec<f64> = rounds
        .bursts
        .iter()
        .flat_map(|b| b.latencies.iter().map(|s| s * 1e3))
        .collect();
    latencies.sort_by(f64::total_cmp);
    let errors: usize = rounds.bursts.iter().map(|b| b.errors).sum();
    if let Some(first) = rounds.bursts.iter().find_map(|b| b.first_error.clone()) {
        warnings.push(format!(
            "{side}, concurrency {}: {errors} request(s) failed, the first: {first}",
            rounds.concurrency
        ));
    }
    let round_p50_ms: Vec<f64> = rounds
        .bursts
        .iter()
        .map(|b| quantile(&b.latencies, 0.5) * 1e3)
        .collect();
    let round_throughput_rps: Vec<f64> =
        rounds.bursts.iter().map(BurstResult::throughput).collect();
    Steady {
        concurrency: rounds.concurrency,
        p50_ms: quantile(&latencies, 0.5),
        p90_ms: quantile(&latencies, 0.9),
        p99_ms: quantile(&latencies, 0.99),
        mean_ms: mean(&latencies),
        throughput_rps: median(&round_throughput_rps),
        latencies_ms: latencies,
        round_p50_ms,
        round_throughput_rps,
        errors,
    }
}
