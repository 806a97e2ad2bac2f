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
    /// Why it holds or not, from the figures behind it (where the time or the memory goes).
    pub why: String,
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
    let mut claims = vec![fresh_start(original, migrated, ratios)];
    if let Some(warm) = &migrated.cold_start.warm_instance {
        claims.push(warm_instance(original, warm, ratios));
    }
    let p50 = |s: &SideReport| s.steady.first().map_or(0.0, |s| s.p50_ms);
    let latency_holds = ratios.latency_p50_c1.map(|r| r >= 25.0 / 22.0);
    claims.push(Claim {
        what: "inference latency, p50, one client",
        article: "25 ms -> 22 ms",
        original: ms(p50(original)),
        migrated: ms(p50(migrated)),
        ratio: ratios.latency_p50_c1,
        article_ratio: Some(25.0 / 22.0),
        holds: latency_holds,
        why: match latency_holds {
            Some(_) => format!(
                "the median of per-round ratios, the rounds alternating sides: the article's \
                 speed-up is {}",
                ratio_words(25.0 / 22.0)
            ),
            None => "a side answered no request at one client".into(),
        },
    });
    claims.push(memory_per_instance(original, migrated, ratios));
    let memory = |s: &SideReport| s.memory.clone().unwrap_or_default();
    claims.push(Claim {
        what: "density, instances per GiB",
        article: "3-5x",
        original: format!("{:.1}", memory(original).instances_per_gib),
        migrated: format!("{:.1}", memory(migrated).instances_per_gib),
        ratio: ratios.density,
        article_ratio: Some(3.0),
        holds: ratios.density.map(|r| r >= 3.0),
        why: format!(
            "1 GiB holds the first instance ({}) and as many extra ones as fit ({} each)",
            mib(memory(migrated).first_instance_mib),
            mib(memory(migrated).per_extra_instance_mib)
        ),
    });
    if let Some(cost) = cost {
        claims.push(nodes(cost));
    }
    claims
}

fn ratio_words(r: f64) -> String {
    format!("{r:.2}x")
}

/// Fresh process to first answer, with where the module's start spent its time.
fn fresh_start(original: &SideReport, migrated: &SideReport, ratios: &Ratios) -> Claim {
    let cold = |s: &SideReport| s.cold_start.median_ms;
    let holds = cold(migrated) < 5.0;
    let why = match &migrated.cold_start.phases {
        Some(p) => format!(
            "the module's start: process {}, engine {}, module from the cache {}, model {} \
             (beside the engine and the module), instance to ready {}; then the first answer \
             {}, one inference included{}",
            ms(p.process_ms),
            ms(p.engine_ms),
            ms(p.module_ms),
            ms(p.model_ms),
            ms(p.instance_ms),
            ms(p.first_answer_ms),
            match holds {
                true => String::new(),
                false => format!(". The largest part is the {}", largest_phase(p)),
            }
        ),
        None => format!(
            "the host reported no phases: it listened at {} and answered at {}",
            ms(migrated.cold_start.listening_median_ms),
            ms(migrated.cold_start.median_ms)
        ),
    };
    Claim {
        what: "cold start, fresh process to first answer",
        article: "450 ms -> under 5 ms",
        original: ms(cold(original)),
        migrated: ms(cold(migrated)),
        ratio: ratios.cold_start,
        article_ratio: Some(90.0),
        holds: Some(holds),
        why,
    }
}

fn largest_phase(p: &crate::StartPhases) -> String {
    // The model loads beside the engine and the module: the longer of the two is the path.
    let beside = p.engine_ms + p.module_ms;
    let loading = match p.model_ms > beside {
        true => ("model load", p.model_ms),
        false => ("engine and module", beside),
    };
    let parts = [
        ("process start", p.process_ms),
        loading,
        ("instance start", p.instance_ms),
        ("first answer (one inference)", p.first_answer_ms),
    ];
    let (name, value) = parts
        .into_iter()
        .fold(("", f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
    format!("{name} ({})", ms(value))
}

/// One more instance in a warm host: ready (listening) is the claim's figure; its first answer
/// includes one inference.
fn warm_instance(original: &SideReport, warm: &crate::WarmInstance, ratios: &Ratios) -> Claim {
    let ready = warm.listening_median_ms;
    let holds = ready < 5.0;
    Claim {
        what: "one more instance in a warm host, ready",
        article: "under 5 ms",
        original: ms(original.cold_start.median_ms),
        migrated: ms(ready),
        ratio: ratios.cold_start_warm_host,
        article_ratio: Some(90.0),
        holds: Some(holds),
        why: format!(
            "{}; a new instance is ready in {}; its first answer, one inference included, \
             comes at {}",
            match warm.how.is_empty() {
                true => "the compiled module and the loaded model are shared",
                false => warm.how.as_str(),
            },
            ms(ready),
            ms(warm.median_ms)
        ),
    }
}

fn memory_per_instance(original: &SideReport, migrated: &SideReport, ratios: &Ratios) -> Claim {
    let memory = |s: &SideReport| s.memory.clone().unwrap_or_default();
    let extra = memory(migrated).per_extra_instance_mib;
    // MB as the article writes it: 5 MB is 4.77 MiB.
    let holds = extra * 1.048_576 <= 5.0;
    let counts: Vec<String> = memory(migrated)
        .points
        .iter()
        .map(|p| p.instances.to_string())
        .collect();
    Claim {
        what: "memory per extra instance",
        article: "1-5 MB per instance",
        original: mib(memory(original).per_extra_instance_mib),
        migrated: mib(extra),
        ratio: ratios.memory_per_instance,
        article_ratio: None,
        holds: Some(holds),
        why: format!(
            "the slope of PSS against {} instance(s), each made to answer; an instance holds \
             its linear memory and its execution context's inputs and outputs, while the \
             module, the model and the backend's buffers are shared",
            counts.join(", ")
        ),
    }
}

fn nodes(cost: &CostModel) -> Claim {
    let holds = cost.node_cut >= 0.6;
    Claim {
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
        holds: Some(holds),
        why: format!(
            "a node holds {} original instance(s) (bound by {}) and {} migrated (bound by \
             {}); at {:.1} and {:.1} req/s per node{}",
            cost.original.instances_per_node,
            cost.original.bound_by,
            cost.migrated.instances_per_node,
            cost.migrated.bound_by,
            cost.original.node_rps,
            cost.migrated.node_rps,
            match (cost.original.bound_by, cost.migrated.bound_by) {
                ("cores", "cores") => ", both bound by cores: the cut can only come from each \
                                       instance's rate, not from memory"
                    .to_string(),
                _ => String::new(),
            }
        ),
    }
}
