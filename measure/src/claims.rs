//! The article's claims (../shared/reference/seed-article.txt), each next to what was
//! measured on this service, and whether the measurement bears it out.

use serde::Serialize;

use crate::cost::CostModel;
use crate::servers::{MIGRATED, ORIGINAL};
use crate::{Ratios, SideReport};

#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    pub what: &'static str,
    /// The article's figure.
    pub article: &'static str,
    pub original: String,
    pub migrated: String,
    /// The measured improvement, as a factor (>1 is better for the migrated side).
    pub ratio: Option<f64>,
    /// The article's improvement, as the same factor.
    pub article_ratio: Option<f64>,
    /// Whether the measurement meets the claim; none where the claim has no figure to meet.
    pub holds: Option<bool>,
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

fn mib(v: f64) -> String {
    format!("{v:.1} MiB")
}

pub fn claims(sides: &[SideReport], ratios: &Ratios, cost: Option<&CostModel>) -> Vec<Claim> {
    let (Some(original), Some(migrated)) = (
        sides.iter().find(|s| s.side == ORIGINAL),
        sides.iter().find(|s| s.side == MIGRATED),
    ) else {
        return Vec::new();
    };
    let mut claims = Vec::new();
    let cold = |s: &SideReport| s.cold_start.median_ms;
    claims.push(Claim {
        what: "cold start, fresh process to first answer",
        article: "450 ms -> under 5 ms",
        original: ms(cold(original)),
        migrated: ms(cold(migrated)),
        ratio: ratios.cold_start,
        article_ratio: Some(90.0),
        holds: Some(cold(migrated) < 5.0),
    });
    if let Some(warm) = &migrated.cold_start.warm_instance {
        claims.push(Claim {
            what: "cold start, one more instance in a warm host",
            article: "under 5 ms",
            original: ms(cold(original)),
            migrated: ms(warm.median_ms),
            ratio: ratios.cold_start_warm_host,
            article_ratio: Some(90.0),
            holds: Some(warm.median_ms < 5.0),
        });
    }
    let p50 = |s: &SideReport| s.steady.first().map_or(0.0, |s| s.p50_ms);
    claims.push(Claim {
        what: "inference latency, p50, one client",
        article: "25 ms -> 22 ms",
        original: ms(p50(original)),
        migrated: ms(p50(migrated)),
        ratio: ratios.latency_p50_c1,
        article_ratio: Some(25.0 / 22.0),
        holds: ratios.latency_p50_c1.map(|r| r >= 25.0 / 22.0),
    });
    let memory = |s: &SideReport| s.memory.clone().unwrap_or_default();
    claims.push(Claim {
        what: "memory per extra instance",
        article: "1-5 MB per instance",
        original: mib(memory(original).per_extra_instance_mib),
        migrated: mib(memory(migrated).per_extra_instance_mib),
        ratio: ratios.memory_per_instance,
        article_ratio: None,
        // MB as the article writes it: 5 MB is 4.77 MiB.
        holds: Some(memory(migrated).per_extra_instance_mib * 1.048_576 <= 5.0),
    });
    claims.push(Claim {
        what: "density, instances per GiB",
        article: "3-5x",
        original: format!("{:.1}", memory(original).instances_per_gib),
        migrated: format!("{:.1}", memory(migrated).instances_per_gib),
        ratio: ratios.density,
        article_ratio: Some(3.0),
        holds: ratios.density.map(|r| r >= 3.0),
    });
    if let Some(cost) = cost {
        claims.push(Claim {
            what: "nodes for the target rate (cost model)",
            article: "10 -> 4 nodes, 60% cut",
            original: format!("{} node(s)", cost.original.nodes),
            migrated: format!(
                "{} node(s), {:.0}% cut",
                cost.migrated.nodes,
                cost.node_cut * 100.0
            ),
            ratio: (cost.migrated.nodes > 0)
                .then(|| cost.original.nodes as f64 / cost.migrated.nodes as f64),
            article_ratio: Some(2.5),
            holds: Some(cost.node_cut >= 0.6),
        });
    }
    claims
}
