//! What the `soak` binary reports: requests lost or failed, latency percentiles over time, and
//! whether serve's memory stayed flat.

use std::fmt::Write;

/// One request: when it was sent (seconds into the run), how long it took, its status (0:
/// no answer).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Timed {
    pub seconds: f64,
    pub latency_ms: f64,
    pub status: u16,
}

/// serve's memory at one moment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sample {
    pub seconds: f64,
    pub answered: u64,
    pub rss_kib: u64,
    pub linear_memory_bytes: u64,
}

/// Latency over one tenth of the run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Window {
    pub from_seconds: f64,
    pub requests: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SoakReport {
    pub requests: u64,
    pub concurrency: usize,
    pub instances: u16,
    pub seconds: f64,
    /// Requests with no answer at all.
    pub lost: usize,
    /// Requests answered with another status than 200.
    pub failed: usize,
    pub windows: Vec<Window>,
    pub samples: Vec<Sample>,
    /// Growth from the first tenth of the run to the last, in percent (medians of each tenth).
    pub rss_growth_percent: f64,
    pub linear_memory_growth_percent: f64,
}

/// The largest growth a soak passes with.
pub const FLAT_PERCENT: f64 = 5.0;

impl SoakReport {
    pub fn new(
        requests: u64,
        concurrency: usize,
        instances: u16,
        seconds: f64,
        mut timed: Vec<Timed>,
        samples: Vec<Sample>,
    ) -> SoakReport {
        timed.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
        let lost = timed.iter().filter(|t| t.status == 0).count();
        let failed = timed
            .iter()
            .filter(|t| t.status != 0 && t.status != 200)
            .count();
        let tenth = (timed.len() / 10).max(1);
        let windows = timed
            .chunks(tenth)
            .map(|chunk| {
                let mut latencies: Vec<f64> = chunk.iter().map(|t| t.latency_ms).collect();
                latencies.sort_by(f64::total_cmp);
                Window {
                    from_seconds: chunk[0].seconds,
                    requests: chunk.len(),
                    p50_ms: percentile(&latencies, 0.50),
                    p90_ms: percentile(&latencies, 0.90),
                    p99_ms: percentile(&latencies, 0.99),
                }
            })
            .collect();
        let rss: Vec<f64> = samples.iter().map(|s| s.rss_kib as f64).collect();
        let linear: Vec<f64> = samples
            .iter()
            .map(|s| s.linear_memory_bytes as f64)
            .collect();
        SoakReport {
            requests,
            concurrency,
            instances,
            seconds,
            lost,
            failed,
            windows,
            rss_growth_percent: growth_percent(&rss),
            linear_memory_growth_percent: growth_percent(&linear),
            samples,
        }
    }

    pub fn passed(&self) -> bool {
        self.lost == 0
            && self.failed == 0
            && self.rss_growth_percent <= FLAT_PERCENT
            && self.linear_memory_growth_percent <= FLAT_PERCENT
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "soak: {} requests at concurrency {} on {} instance(s) in {:.0} s ({:.0} req/s)",
            self.requests,
            self.concurrency,
            self.instances,
            self.seconds,
            self.requests as f64 / self.seconds
        );
        let _ = writeln!(out, "  lost {}, failed {}", self.lost, self.failed);
        let _ = writeln!(out, "  latency by tenth of the run (p50 / p90 / p99 ms):");
        for w in &self.windows {
            let _ = writeln!(
                out,
                "    from {:>6.1} s  {:>6} requests  {:>7.1} / {:>7.1} / {:>7.1}",
                w.from_seconds, w.requests, w.p50_ms, w.p90_ms, w.p99_ms
            );
        }
        let (first, last) = (self.samples.first(), self.samples.last());
        if let (Some(first), Some(last)) = (first, last) {
            let _ = writeln!(
                out,
                "  RSS {} -> {} MiB ({:+.1}% first tenth to last), linear memory {} -> {} MiB ({:+.1}%)",
                first.rss_kib / 1024,
                last.rss_kib / 1024,
                self.rss_growth_percent,
                first.linear_memory_bytes >> 20,
                last.linear_memory_bytes >> 20,
                self.linear_memory_growth_percent
            );
        }
        let _ = writeln!(
            out,
            "  {}",
            match self.passed() {
                true => format!("passed: nothing lost, memory flat (within {FLAT_PERCENT}%)"),
                false => "FAILED".into(),
            }
        );
        out
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    percentile(&sorted, 0.5)
}

/// From the median of the first tenth of `series` to the median of the last, in percent.
pub fn growth_percent(series: &[f64]) -> f64 {
    if series.len() < 2 {
        return 0.0;
    }
    let tenth = (series.len() / 10).max(1);
    let first = median(&series[..tenth]);
    let last = median(&series[series.len() - tenth..]);
    if first <= 0.0 {
        return 0.0;
    }
    (last - first) / first * 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_compares_the_first_and_last_tenths_by_their_medians() {
        let flat: Vec<f64> = (0..100).map(|i| 100.0 + f64::from(i % 3)).collect();
        assert!(growth_percent(&flat).abs() < 3.0);
        let leaking: Vec<f64> = (0..100).map(|i| 100.0 + f64::from(i)).collect();
        let growth = growth_percent(&leaking);
        assert!((80.0..100.0).contains(&growth), "{growth}");
        assert_eq!(growth_percent(&[5.0]), 0.0);
    }

    #[test]
    fn a_lost_request_or_a_leak_fails_the_soak() {
        let timed = |status| Timed {
            seconds: 0.0,
            latency_ms: 1.0,
            status,
        };
        let sample = |rss| Sample {
            seconds: 0.0,
            answered: 0,
            rss_kib: rss,
            linear_memory_bytes: 1 << 20,
        };
        let steady: Vec<Sample> = (0..20).map(|_| sample(1000)).collect();
        assert!(
            SoakReport::new(2, 1, 1, 1.0, vec![timed(200), timed(200)], steady.clone()).passed()
        );
        assert!(
            !SoakReport::new(2, 1, 1, 1.0, vec![timed(200), timed(0)], steady.clone()).passed()
        );
        let growing: Vec<Sample> = (0..20).map(|i| sample(1000 + 10 * i)).collect();
        let report = SoakReport::new(1, 1, 1, 1.0, vec![timed(200)], growing);
        assert!(!report.passed(), "{}", report.text());
    }
}
