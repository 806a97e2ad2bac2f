//! Whole-output snapshots of every renderer on the sample report (insta, as ruff does): a
//! change to any output shows up in review as a diff of the file under `snapshots/`. The tool
//! version is redacted, so a version bump changes no snapshot.
//!
//! After an intended change: `cargo insta review`, or `INSTA_UPDATE=always cargo test -p
//! wasm-migrate-analyzer snapshots` and read the diff.

use super::{Format, render, sample_report};

fn redacted(text: &str) -> String {
    text.replace(crate::TOOL_VERSION, "[version]")
}

#[test]
fn every_report_format() {
    let report = sample_report();
    for format in Format::ALL {
        let output = render(&report, format, false).unwrap();
        insta::assert_snapshot!(format!("report_{}", format.as_str()), redacted(&output));
    }
}

#[test]
fn text_report_in_colour() {
    let output = render(&sample_report(), Format::Text, true).unwrap();
    // Escape sequences spelled out, so the snapshot is readable and diffable.
    insta::assert_snapshot!(redacted(&output).replace('\u{1b}', "\\e"));
}

#[test]
fn compact_html_for_notebooks() {
    let output = super::html::render_html(&sample_report(), true);
    insta::assert_snapshot!(redacted(&output));
}

#[test]
fn commented_plan() {
    let plan = sample_report().plan.to_commented_yaml().unwrap();
    insta::assert_snapshot!(redacted(&plan));
}
