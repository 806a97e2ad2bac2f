//! One self-contained page: the claims table, a latency CDF, memory against instance count
//! and the cold-start distribution as inline SVG, and every figure; no script, no network.

use std::fmt::Write;

use super::svg::{Axis, Mark, Plot, Series};
use super::{duration, factor, holds};
use crate::BenchReport;

const COLORS: [&str; 3] = ["#c0392b", "#2471a3", "#1e8449"];
/// One more instance in a warm host: a start of another kind, in a colour of its own.
const WARM_HOST: &str = "#8e44ad";

fn color(index: usize) -> &'static str {
    COLORS[index % COLORS.len()]
}

fn esc(text: &str) -> String {
    html_escape::encode_text(text).into_owned()
}

pub fn html(report: &BenchReport) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>wasm-migrate bench: {}</title><style>{STYLE}</style></head><body>",
        esc(&report.service)
    );
    let _ = write!(
        page,
        "<h1>wasm-migrate bench: {}</h1><p>{} backend; {} cores, {:.1} GiB; {} s.</p><ul>",
        esc(&report.service),
        report.backend.name(),
        report.machine.cores,
        report.machine.memory_gib,
        report.seconds.round()
    );
    for side in &report.sides {
        let _ = write!(
            page,
            "<li><b>{}</b>: <code>{}</code></li>",
            side.side,
            esc(&side.command.join(" "))
        );
    }
    page.push_str("</ul>");
    claims(&mut page, report);
    page.push_str("<h2>Plots</h2><div class=\"plots\">");
    page.push_str(&latency_cdf(report).render());
    page.push_str(&memory_curve(report).render());
    page.push_str(&cold_starts(report).render());
    if let Some(plot) = nodes_against_rate(report) {
        page.push_str(&plot.render());
    }
    page.push_str("</div>");
    if let Some(cost) = &report.cost {
        let _ = write!(
            page,
            "<h2>Cost model</h2><p><i>{}</i>. Target {:.0} requests/s; nodes of {} cores and {:.0} GiB, planned with {:.0}% headroom.</p><table><tr><th></th><th>instances per node</th><th>bound by</th><th>req/s per node</th><th>nodes</th><th>wake-up from zero</th></tr>",
            esc(cost.label),
            cost.inputs.target_rps,
            cost.inputs.node_cores,
            cost.inputs.node_memory_gib,
            cost.inputs.headroom * 100.0
        );
        for (name, side) in [("original", &cost.original), ("migrated", &cost.migrated)] {
            let _ = write!(
                page,
                "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td></tr>",
                side.instances_per_node,
                side.bound_by,
                side.node_rps,
                side.nodes,
                duration(side.wake_up_ms)
            );
        }
        page.push_str("</table><ul>");
        for assumption in &cost.assumptions {
            let _ = write!(page, "<li>{}</li>", esc(assumption));
        }
        page.push_str("</ul>");
    }
    let _ = write!(
        page,
        "<h2>Every figure</h2><pre>{}</pre>",
        esc(&super::text(report))
    );
    page.push_str("</body></html>\n");
    page
}

fn claims(page: &mut String, report: &BenchReport) {
    page.push_str("<h2>The article's claims, measured</h2><table><tr><th>claim</th><th>article</th><th>original</th><th>migrated</th><th>measured</th><th>article</th><th>holds</th><th>why</th></tr>");
    for claim in &report.claims {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td class=\"why\">{}</td></tr>",
            esc(claim.what),
            esc(claim.article),
            esc(&claim.original),
            esc(&claim.migrated),
            factor(claim.ratio),
            factor(claim.article_ratio),
            holds(claim.holds),
            holds(claim.holds),
            esc(&claim.why)
        );
    }
    page.push_str("</table>");
}

fn latency_cdf(report: &BenchReport) -> Plot {
    let mut series = Vec::new();
    for (index, side) in report.sides.iter().enumerate() {
        for (k, steady) in side.steady.iter().enumerate() {
            let n = steady.latencies_ms.len().max(1) as f64;
            series.push(Series {
                name: format!("{}, {} client(s)", side.side, steady.concurrency),
                color: color(index),
                mark: Mark::Line { dashed: k > 0 },
                points: steady
                    .latencies_ms
                    .iter()
                    .enumerate()
                    .map(|(i, ms)| (*ms, (i + 1) as f64 / n))
                    .collect(),
            });
        }
    }
    let x = Axis::spanning(
        "latency (ms, log scale)",
        true,
        series.iter().flat_map(|s| s.points.iter().map(|p| p.0)),
    );
    Plot {
        id: "latency-cdf",
        title: "Latency CDF (steady state)".into(),
        x,
        y: Axis {
            label: "fraction of requests".into(),
            log: false,
            min: 0.0,
            max: 1.0,
            numbered: true,
        },
        series,
    }
}

fn memory_curve(report: &BenchReport) -> Plot {
    let series: Vec<Series> = report
        .sides
        .iter()
        .enumerate()
        .filter_map(|(index, side)| {
            let memory = side.memory.as_ref()?;
            Some(Series {
                name: side.side.to_string(),
                color: color(index),
                mark: Mark::Line { dashed: false },
                points: memory
                    .points
                    .iter()
                    .map(|p| (p.instances as f64, p.reading.pss_mib))
                    .collect(),
            })
        })
        .collect();
    Plot {
        id: "memory",
        title: "Memory (PSS) against instance count".into(),
        x: Axis::spanning(
            "instances",
            false,
            series.iter().flat_map(|s| s.points.iter().map(|p| p.0)),
        ),
        y: Axis::spanning(
            "MiB",
            false,
            series.iter().flat_map(|s| s.points.iter().map(|p| p.1)),
        ),
        series,
    }
}

/// The cost model's node count for each side against the target rate, up to twice the
/// target, with the target itself marked.
fn nodes_against_rate(report: &BenchReport) -> Option<Plot> {
    let cost = report.cost.as_ref()?;
    let target = cost.inputs.target_rps;
    let rates: Vec<f64> = (1..=80).map(|i| target * f64::from(i) / 40.0).collect();
    let sides = [("original", &cost.original), ("migrated", &cost.migrated)];
    let mut series: Vec<Series> = sides
        .iter()
        .enumerate()
        .map(|(index, (name, side))| Series {
            name: format!("{name}: {:.1} req/s per node", side.node_rps),
            color: color(index),
            mark: Mark::Line { dashed: false },
            points: rates
                .iter()
                .map(|&rate| (rate, crate::cost::nodes_for(rate, side.node_rps) as f64))
                .collect(),
        })
        .collect();
    series.push(Series {
        name: format!("the target, {target:.0} req/s"),
        color: WARM_HOST,
        mark: Mark::Dots,
        points: sides
            .iter()
            .map(|(_, side)| (target, side.nodes as f64))
            .collect(),
    });
    Some(Plot {
        id: "nodes",
        title: "Cost model: nodes against the target rate".into(),
        x: Axis::spanning("target rate (req/s)", false, rates.iter().copied()),
        y: Axis::spanning(
            "nodes",
            false,
            series.iter().flat_map(|s| s.points.iter().map(|p| p.1)),
        ),
        series,
    })
}

fn cold_starts(report: &BenchReport) -> Plot {
    let mut series = Vec::new();
    let mut row = 0.0;
    for (index, side) in report.sides.iter().enumerate() {
        row += 1.0;
        series.push(Series {
            name: format!("{}: fresh process", side.side),
            color: color(index),
            mark: Mark::Dots,
            points: side
                .cold_start
                .samples_ms
                .iter()
                .map(|ms| (*ms, row))
                .collect(),
        });
        if let Some(warm) = &side.cold_start.warm_instance {
            row += 1.0;
            series.push(Series {
                name: format!("{}: warm host", side.side),
                color: WARM_HOST,
                mark: Mark::Dots,
                points: warm.samples_ms.iter().map(|ms| (*ms, row)).collect(),
            });
        }
    }
    Plot {
        id: "cold-start",
        title: "Cold start to first answer (each start)".into(),
        x: Axis::spanning(
            "ms, log scale",
            true,
            series.iter().flat_map(|s| s.points.iter().map(|p| p.0)),
        ),
        y: Axis {
            label: "one row per side and kind".into(),
            log: false,
            min: 0.0,
            max: row + 1.0,
            numbered: false,
        },
        series,
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}\
td.yes{color:#1e8449;font-weight:bold}td.no{color:#c0392b;font-weight:bold}td.why{font-size:12px;max-width:28em}\
.plots{display:flex;flex-wrap:wrap;gap:1em}svg.plot{border:1px solid #ddd;background:#fff}\
svg .title{font-size:14px;font-weight:bold}svg .tick,svg .legend{font-size:11px}svg .label{font-size:12px}\
pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:12px}";
