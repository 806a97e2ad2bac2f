//! The terminal report: the claims table first, then every figure per side.

use std::fmt::Write;

use super::{bytes, duration, factor, holds};
use crate::{BenchReport, SideReport};

pub fn text(report: &BenchReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "wasm-migrate bench {}: {} backend; {} cores, {:.1} GiB; {} s",
        report.service,
        report.backend.name(),
        report.machine.cores,
        report.machine.memory_gib,
        report.seconds.round()
    );
    for side in &report.sides {
        let _ = writeln!(out, "  {:<9} {}", side.side, side.command.join(" "));
    }
    claims(&mut out, report);
    figures(&mut out, report);
    if let Some(cost) = &report.cost {
        let _ = writeln!(out, "\nCost ({})", cost.label);
        let _ = writeln!(
            out,
            "  {:.0} requests/s on nodes of {} cores and {:.0} GiB, planned with {:.0}% headroom",
            cost.inputs.target_rps,
            cost.inputs.node_cores,
            cost.inputs.node_memory_gib,
            cost.inputs.headroom * 100.0
        );
        for (name, side) in [("original", &cost.original), ("migrated", &cost.migrated)] {
            let _ = writeln!(
                out,
                "  {name:<9} {} instance(s) per node (bound by {}), {:.1} req/s per node, {} node(s), wake-up from zero {}",
                side.instances_per_node,
                side.bound_by,
                side.node_rps,
                side.nodes,
                duration(side.wake_up_ms)
            );
        }
        for assumption in &cost.assumptions {
            let _ = writeln!(out, "  - {assumption}");
        }
    }
    for warning in &report.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    out
}

fn claims(out: &mut String, report: &BenchReport) {
    let _ = writeln!(
        out,
        "\n{:<44} {:<24} {:>14} {:>20} {:>9} {:>8} {:>6}",
        "The article's claims", "article", "original", "migrated", "measured", "article", "holds"
    );
    for claim in &report.claims {
        let _ = writeln!(
            out,
            "{:<44} {:<24} {:>14} {:>20} {:>9} {:>8} {:>6}",
            claim.what,
            claim.article,
            claim.original,
            claim.migrated,
            factor(claim.ratio),
            factor(claim.article_ratio),
            holds(claim.holds)
        );
    }
    let _ = writeln!(out, "\nWhy");
    for claim in &report.claims {
        let _ = writeln!(
            out,
            "  {} ({}): {}",
            claim.what,
            holds(claim.holds),
            claim.why
        );
    }
}

/// One row: a label and one cell per side.
fn row(out: &mut String, label: &str, sides: &[SideReport], cell: impl Fn(&SideReport) -> String) {
    let _ = write!(out, "  {label:<40}");
    for side in sides {
        let _ = write!(out, " {:>24}", cell(side));
    }
    out.push('\n');
}

fn figures(out: &mut String, report: &BenchReport) {
    let sides = &report.sides;
    let _ = write!(out, "\n{:<42}", "Measured");
    for side in sides {
        let _ = write!(out, " {:>24}", side.side);
    }
    out.push('\n');
    let starts = report.budget.starts;
    row(
        out,
        &format!("cold start, median of {starts}"),
        sides,
        |s| duration(s.cold_start.median_ms),
    );
    row(out, "  to listening", sides, |s| {
        duration(s.cold_start.listening_median_ms)
    });
    if sides.iter().any(|s| s.cold_start.phases.is_some()) {
        type Phase = fn(&crate::StartPhases) -> f64;
        let phases: [(&str, Phase); 6] = [
            ("  process start (exec, loader)", |p| p.process_ms),
            ("  engine", |p| p.engine_ms),
            ("  module from the cache", |p| p.module_ms),
            ("  model (beside engine and module)", |p| p.model_ms),
            ("  instance to ready", |p| p.instance_ms),
            ("  ready to first answer", |p| p.first_answer_ms),
        ];
        for (label, phase) in phases {
            row(out, label, sides, |s| {
                s.cold_start
                    .phases
                    .as_ref()
                    .map_or("-".into(), |p| duration(phase(p)))
            });
        }
    }
    row(out, "  model load", sides, |s| {
        s.cold_start
            .model_load_median_ms
            .map_or("not seen".into(), duration)
    });
    row(out, "  first start (compiles the module)", sides, |s| {
        s.cold_start.first_start_ms.map_or("-".into(), duration)
    });
    row(out, "one more instance, warm host", sides, |s| {
        s.cold_start.warm_instance.as_ref().map_or("-".into(), |w| {
            format!(
                "{} ready, {} answered",
                duration(w.listening_median_ms),
                duration(w.median_ms)
            )
        })
    });
    if sides.iter().any(|s| {
        s.cold_start
            .warm_instance
            .as_ref()
            .is_some_and(|w| w.openvino_compile_median_ms.is_some())
    }) {
        row(out, "  + per request on WasmEdge+OpenVINO", sides, |s| {
            s.cold_start
                .warm_instance
                .as_ref()
                .and_then(|w| w.openvino_compile_median_ms)
                .map_or("-".into(), |ms| format!("{} (model compile)", duration(ms)))
        });
    }
    for index in 0..sides.first().map_or(0, |s| s.steady.len()) {
        let concurrency = sides[0].steady[index].concurrency;
        row(
            out,
            &format!("latency p50/p90/p99, {concurrency} client(s)"),
            sides,
            |s| {
                s.steady.get(index).map_or("-".into(), |t| {
                    format!("{:.1}/{:.1}/{:.1} ms", t.p50_ms, t.p90_ms, t.p99_ms)
                })
            },
        );
        row(
            out,
            &format!("throughput, {concurrency} client(s)"),
            sides,
            |s| {
                s.steady
                    .get(index)
                    .map_or("-".into(), |t| format!("{:.1} req/s", t.throughput_rps))
            },
        );
    }
    row(out, "peak RSS, one instance", sides, |s| {
        s.memory.as_ref().map_or("-".into(), |m| {
            format!("{:.1} MiB", m.one_instance_peak_rss_mib)
        })
    });
    row(out, "memory (PSS), first instance", sides, |s| {
        s.memory
            .as_ref()
            .map_or("-".into(), |m| format!("{:.1} MiB", m.first_instance_mib))
    });
    row(out, "memory per extra instance", sides, |s| {
        s.memory.as_ref().map_or("-".into(), |m| {
            format!("{:.1} MiB", m.per_extra_instance_mib)
        })
    });
    row(out, "instances per GiB", sides, |s| {
        s.memory
            .as_ref()
            .map_or("-".into(), |m| format!("{:.1}", m.instances_per_gib))
    });
    row(out, "deployable size", sides, |s| bytes(s.size.total_bytes));
    let at_concurrency = match report.concurrency {
        1 => String::new(),
        n => format!(", {} at {n}", factor(report.ratios.latency_p50_cn)),
    };
    let _ = writeln!(
        out,
        "  ratios (medians of per-round ratios): latency p50 {} at 1 client{at_concurrency}; throughput {}; size {}",
        factor(report.ratios.latency_p50_c1),
        factor(report.ratios.throughput_cn),
        factor(report.ratios.size)
    );
}
