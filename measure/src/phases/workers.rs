//! Memory against instance count: each side started with N instances (the original's N
//! workers, or N Flask processes; the module's N instances in one host), every instance made
//! to answer, then its process group read.

use super::{Setup, check};
use crate::error::BenchError;
use crate::servers::{Launch, ORIGINAL};
use crate::stats::slope;
use crate::{Memory, MemoryPoint, Progress, memory};

/// How long a side is left idle after its bursts before its memory is read.
const AT_REST: std::time::Duration = std::time::Duration::from_millis(500);

impl Setup<'_> {
    pub(super) fn memory(
        &self,
        launch: &dyn Launch,
        progress: &dyn Fn(Progress),
    ) -> Result<Memory, BenchError> {
        let counts = &self.options.budget.instances;
        let mut points = Vec::new();
        for (done, &instances) in counts.iter().enumerate() {
            check(self.cancel())?;
            let running = self.start_answering(launch, instances)?;
            // Enough requests at once that every worker or instance answers some.
            for index in 0..running.ports.len() {
                let _ = self.burst(&running.base(index), instances, 4 * instances);
            }
            check(self.cancel())?;
            // Read at rest, not in the middle of the last answers: what N idle instances
            // hold once each has answered (the module's host replaces an idle instance whose
            // memory grew, which takes a few milliseconds after its last answer).
            std::thread::sleep(AT_REST);
            let reading = memory::read_groups(&running.groups());
            points.push(MemoryPoint { instances, reading });
            drop(running);
            progress(Progress::Step {
                done: done + 1,
                total: counts.len(),
            });
        }
        Ok(summarise(points, self.how(launch)))
    }

    fn how(&self, launch: &dyn Launch) -> String {
        match launch.side() {
            ORIGINAL if self.server.kind.one_process_per_instance() => {
                "N Flask server processes (Flask's server has no workers)".into()
            }
            ORIGINAL => format!(
                "{} with N workers (proportional set size, so pages the workers share count once)",
                self.server.kind
            ),
            crate::servers::MIGRATED => {
                "N instances in one `wasm-migrate serve` host sharing one preloaded graph".into()
            }
            _ => "N wasmedge processes (one instance each)".into(),
        }
    }
}

fn summarise(points: Vec<MemoryPoint>, how: String) -> Memory {
    let xy: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p.instances as f64, p.reading.pss_mib))
        .collect();
    let first = points.iter().min_by_key(|p| p.instances);
    let first_instance_mib = first.map_or(0.0, |p| p.reading.pss_mib / p.instances.max(1) as f64);
    let one_instance_peak_rss_mib = first.map_or(0.0, |p| p.reading.peak_rss_mib);
    // With one count only, each instance is taken to cost what the first did.
    let per_extra_instance_mib = slope(&xy).unwrap_or(first_instance_mib).max(0.0);
    let gib = 1024.0;
    let instances_per_gib = if first_instance_mib <= 0.0 {
        0.0
    } else if first_instance_mib >= gib {
        gib / first_instance_mib
    } else {
        // A slope within noise of zero would promise unbounded density.
        1.0 + (gib - first_instance_mib) / per_extra_instance_mib.max(0.1)
    };
    Memory {
        points,
        one_instance_peak_rss_mib,
        first_instance_mib,
        per_extra_instance_mib,
        instances_per_gib,
        how,
    }
}
