//! The renderings of a report made by hand (figures of the shape bench measures).

use std::time::Duration;

use crate::cost::{self, CostInputs, SideFigures};
use crate::memory::Reading;
use crate::size::{Deployable, Part};
use crate::{
    BenchReport, Budget, ColdStart, Machine, Memory, MemoryPoint, Ratios, SideReport, Steady,
    WarmInstance,
};

fn steady(concurrency: usize, base: f64) -> Steady {
    let latencies: Vec<f64> = (0..10).map(|i| base + i as f64).collect();
    Steady {
        concurrency,
        p50_ms: base + 4.5,
        p90_ms: base + 8.1,
        p99_ms: base + 8.9,
        mean_ms: base + 4.5,
        throughput_rps: 1000.0 / (base + 4.5) * concurrency as f64,
        latencies_ms: latencies,
        round_p50_ms: vec![base + 4.5],
        round_throughput_rps: vec![1000.0 / (base + 4.5)],
        errors: 0,
    }
}

fn side(name: &'static str, cold: f64, base: f64, first: f64, extra: f64) -> SideReport {
    SideReport {
        side: name,
        command: vec![name.into(), "serve".into()],
        cold_start: ColdStart {
            samples_ms: vec![cold, cold * 1.1],
            listening_ms: vec![cold * 0.8, cold * 0.9],
            model_load_ms: vec![cold * 0.3],
            median_ms: cold * 1.05,
            listening_median_ms: cold * 0.85,
            model_load_median_ms: Some(cold * 0.3),
            first_start_ms: (name == "migrated").then_some(4200.0),
            phases: (name == "migrated").then_some(crate::StartPhases {
                process_ms: 3.0,
                engine_ms: 4.0,
                module_ms: 2.5,
                model_ms: 180.0,
                instance_ms: 1.5,
                first_answer_ms: 40.0,
            }),
            warm_instance: (name == "migrated").then(|| WarmInstance {
                listening_ms: vec![1.2, 1.4],
                samples_ms: vec![9.0, 11.0],
                listening_median_ms: 1.3,
                median_ms: 10.0,
                openvino_compile_ms: vec![190.0, 200.0],
                openvino_compile_median_ms: Some(195.0),
                how: String::new(),
            }),
            agreed: true,
        },
        steady: vec![steady(1, base), steady(2, base * 1.5)],
        memory: Some(Memory {
            points: [1usize, 2]
                .iter()
                .map(|&n| MemoryPoint {
                    instances: n,
                    reading: Reading {
                        pss_mib: first + extra * (n - 1) as f64,
                        rss_mib: first + extra * (n - 1) as f64 + 10.0,
                        peak_rss_mib: first + 5.0,
                        processes: n,
                    },
                })
                .collect(),
            one_instance_peak_rss_mib: first + 5.0,
            first_instance_mib: first,
            per_extra_instance_mib: extra,
            instances_per_gib: 1.0 + (1024.0 - first) / extra,
            how: "N instances".into(),
        }),
        size: Deployable {
            parts: vec![Part {
                what: "module".into(),
                path: "app.wasm".into(),
                bytes: (first * 1e6) as u64,
            }],
            total_bytes: (first * 1e6) as u64,
            missing: Vec::new(),
        },
    }
}

fn report() -> BenchReport {
    let sides = vec![
        side("original", 4800.0, 60.0, 900.0, 850.0),
        side("migrated", 450.0, 12.0, 120.0, 6.0),
    ];
    let figures = |s: &SideReport| SideFigures {
        rps_per_instance: s.steady[0].throughput_rps,
        first_instance_mib: s.memory.as_ref().unwrap().first_instance_mib,
        extra_instance_mib: s.memory.as_ref().unwrap().per_extra_instance_mib,
        cold_start_ms: s.cold_start.median_ms,
    };
    let cost = cost::model(
        CostInputs::default(),
        &figures(&sides[0]),
        &figures(&sides[1]),
    );
    let ratios = Ratios {
        cold_start: Some(4800.0 / 450.0),
        cold_start_warm_host: Some(480.0),
        latency_p50_c1: Some(64.5 / 16.5),
        latency_p50_cn: Some(3.5),
        throughput_cn: Some(3.4),
        memory_per_instance: Some(850.0 / 6.0),
        density: Some(10.0),
        size: Some(7.5),
    };
    let claims = crate::claims::claims(&sides, &ratios, Some(&cost));
    BenchReport {
        schema: "wasm-migrate.bench/1",
        service: "samples/torchvision-flask".into(),
        module: "samples/torchvision-flask/migrated/app.wasm".into(),
        backend: wasm_migrate_runtime::BackendKind::OpenVino,
        machine: Machine {
            cores: 2,
            memory_gib: 24.0,
        },
        budget: Budget {
            burst_limit: Duration::from_secs(30),
            ..Budget::quick()
        },
        concurrency: 2,
        sides,
        ratios,
        claims,
        cost: Some(cost),
        warnings: vec!["an example warning".into()],
        seconds: 95.0,
    }
}

#[test]
fn the_text_report_puts_the_claims_first() {
    insta::assert_snapshot!(super::text(&report()));
}

#[test]
fn the_claims_say_which_hold() {
    let report = report();
    let holds: Vec<(&str, Option<bool>)> =
        report.claims.iter().map(|c| (c.what, c.holds)).collect();
    insta::assert_debug_snapshot!(holds);
}

#[test]
fn the_page_is_self_contained_with_four_plots() {
    let page = super::html(&report());
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.matches("<svg").count(), 4);
    assert!(!page.contains("<script") && !page.contains("src=\"http"));
    // Two sides x two concurrencies in the CDF; each side's memory curve; each side's nodes
    // against the rate.
    assert_eq!(page.matches("<polyline").count(), 4 + 2 + 2);
    // The starts (two sides, the warm host), then the target on the nodes plot.
    assert_eq!(page.matches("<circle").count(), 2 + 2 + 2 + 2);
    // Every claim says why, on the page too.
    assert_eq!(
        page.matches("<td class=\"why\">").count(),
        report().claims.len()
    );
}

#[test]
fn json_round_trips_every_section() {
    let value: serde_json::Value = serde_json::from_str(&super::json(&report())).unwrap();
    assert_eq!(value["schema"], "wasm-migrate.bench/1");
    assert_eq!(value["sides"][1]["memory"]["points"][1]["pss_mib"], 126.0);
    assert_eq!(value["budget"]["burst_limit"], 30.0);
    assert!(
        value["cost"]["label"]
            .as_str()
            .unwrap()
            .starts_with("a model")
    );
}

#[test]
fn the_json_report() {
    insta::assert_snapshot!(super::json(&report()));
}

#[test]
fn the_page() {
    insta::assert_snapshot!(super::html(&report()));
}
