//! The migration report as text and as one self-contained HTML page (JSON is its serde form).

use std::fmt::Write;

use super::{MigrationReport, MigrationVerdict, StageStatus};
use crate::verify::Verified;

fn verdict_word(verdict: MigrationVerdict) -> &'static str {
    match verdict {
        MigrationVerdict::Equivalent => "equivalent",
        MigrationVerdict::Differ => "differ",
        MigrationVerdict::NotMigrated => "not migrated",
    }
}

fn status_word(status: StageStatus) -> &'static str {
    match status {
        StageStatus::Done => "done",
        StageStatus::Reused => "reused",
        StageStatus::Skipped => "skipped",
        StageStatus::Failed => "FAILED",
    }
}

fn stage_name(report: &super::StageReport) -> String {
    serde_json::to_value(report.stage)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub fn text(report: &MigrationReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "migrate {}: {} ({} route, model on {})",
        report.service,
        verdict_word(report.verdict),
        report.route,
        report.backend
    );
    for stage in &report.stages {
        let _ = writeln!(
            out,
            "  {:<12} {:<8} {:>6.1}s  {}",
            stage_name(stage),
            status_word(stage.status),
            stage.seconds,
            stage.summary
        );
    }
    if let Some(plan) = &report.plan
        && !plan.preprocessing.is_empty()
    {
        let steps: Vec<String> = plan
            .preprocessing
            .iter()
            .map(|s| format!("{}.{}", s.library.as_str(), s.op))
            .collect();
        let _ = writeln!(out, "preprocessing: {}", steps.join(" -> "));
    }
    if let Some(bench) = &report.bench {
        for claim in &bench.claims {
            let holds = match claim.holds {
                Some(true) => "holds",
                Some(false) => "does not hold",
                None => "not measured",
            };
            let _ = writeln!(out, "claim: {} ({}): {holds}", claim.what, claim.article);
        }
    }
    if let Some(next) = &report.next_step {
        let _ = writeln!(out, "next: {next}");
    }
    out
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn html(report: &MigrationReport) -> String {
    let colour = match report.verdict {
        MigrationVerdict::Equivalent => "#1a7f37",
        MigrationVerdict::Differ => "#cf222e",
        MigrationVerdict::NotMigrated => "#9a6700",
    };
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>wasm-migrate migrate: {service}</title><style>\
         body{{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}}\
         table{{border-collapse:collapse}}td,th{{padding:.25rem .75rem;border-bottom:1px solid #ddd;text-align:left}}\
         .verdict{{color:#fff;background:{colour};padding:.5rem 1rem;border-radius:.3rem;display:inline-block}}\
         pre{{background:#f6f8fa;padding:1rem;overflow:auto}}</style></head><body>\n\
         <h1>Migration of {service}</h1>\n<p class=\"verdict\" id=\"verdict\">{verdict}</p>\n\
         <p>{route} route, the model on {backend}.</p>\n",
        service = esc(&report.service),
        verdict = verdict_word(report.verdict),
        route = esc(report.route),
        backend = esc(&report.backend),
    );
    if let Some(next) = &report.next_step {
        let _ = writeln!(
            page,
            "<h2>Next step</h2><p id=\"next-step\">{}</p>",
            esc(next)
        );
    }
    page.push_str("<h2>Stages</h2>\n<table id=\"stages\"><tr><th>stage</th><th>status</th><th>seconds</th><th>what</th></tr>\n");
    for stage in &report.stages {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td></tr>",
            stage_name(stage),
            status_word(stage.status),
            stage.seconds,
            esc(&stage.summary)
        );
    }
    page.push_str("</table>\n");
    if let Some(plan) = &report.plan {
        page.push_str("<h2>The plan</h2>\n<table id=\"plan\"><tr><th>step</th><th>parameters</th><th>at</th></tr>\n");
        for step in plan.preprocessing.iter().chain(&plan.postprocessing) {
            let params = serde_json::to_string(&step.params).unwrap_or_default();
            let _ = writeln!(
                page,
                "<tr><td>{}.{}</td><td><code>{}</code></td><td>{}</td></tr>",
                step.library.as_str(),
                esc(&step.op),
                esc(&params),
                esc(&step.at)
            );
        }
        page.push_str("</table>\n");
    }
    for (title, id, verified) in [
        ("Verify", "verify", &report.verify),
        ("Over HTTP", "verify-http", &report.verify_http),
    ] {
        if let Some(verified) = verified {
            let text = match verified {
                Verified::Tensors(r) => wasm_migrate_verify::render::text(r),
                Verified::Http(r) => wasm_migrate_verify::render::http_text(r),
            };
            let _ = writeln!(
                page,
                "<h2>{title}</h2><pre id=\"{id}\">{}</pre>",
                esc(&text)
            );
        }
    }
    if let Some(bench) = &report.bench {
        page.push_str("<h2>The article's claims</h2>\n<table id=\"claims\"><tr><th>claim</th><th>article</th><th>holds</th></tr>\n");
        for claim in &bench.claims {
            let holds = match claim.holds {
                Some(true) => "yes",
                Some(false) => "no",
                None => "-",
            };
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{holds}</td></tr>",
                esc(claim.what),
                esc(claim.article)
            );
        }
        page.push_str("</table>\n");
    }
    page.push_str("</body></html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::{Stage, StageReport};

    fn report(verdict: MigrationVerdict, next: Option<&str>) -> MigrationReport {
        MigrationReport {
            schema: "wasm-migrate.migrate/1",
            service: "samples/<svc>".into(),
            route: "glue",
            verdict,
            stages: vec![
                StageReport {
                    stage: Stage::Analyze,
                    status: StageStatus::Reused,
                    summary: "samples/svc/wasm-migrate.yaml".into(),
                    seconds: 0.0,
                },
                StageReport {
                    stage: Stage::Generate,
                    status: StageStatus::Failed,
                    summary: "step `cv2.resize`: INTER_CUBIC has no Rust equivalent".into(),
                    seconds: 0.25,
                },
            ],
            next_step: next.map(str::to_string),
            backend: "tract".into(),
            plan: None,
            verify: None,
            verify_http: None,
            bench: None,
        }
    }

    #[test]
    fn the_text_names_every_stage_and_the_next_step() {
        let text = text(&report(
            MigrationVerdict::NotMigrated,
            Some("edit wasm-migrate.yaml:31"),
        ));
        insta::assert_snapshot!(text, @r"
        migrate samples/<svc>: not migrated (glue route, model on tract)
          analyze      reused      0.0s  samples/svc/wasm-migrate.yaml
          generate     FAILED      0.2s  step `cv2.resize`: INTER_CUBIC has no Rust equivalent
        next: edit wasm-migrate.yaml:31
        ");
    }

    #[test]
    fn the_page_escapes_what_it_shows_and_fetches_nothing() {
        let page = html(&report(MigrationVerdict::Equivalent, None));
        assert!(page.contains("samples/&lt;svc&gt;"), "{page}");
        assert!(page.contains("<p class=\"verdict\" id=\"verdict\">equivalent</p>"));
        assert!(!page.contains("id=\"next-step\""));
        assert!(!page.contains("<script") && !page.contains(" src=") && !page.contains("href="));
        let json = serde_json::to_value(report(MigrationVerdict::Equivalent, None)).unwrap();
        assert_eq!(json["schema"], "wasm-migrate.migrate/1");
        assert_eq!(json["verdict"], "equivalent");
        assert_eq!(json["stages"][1]["status"], "failed");
    }
}
