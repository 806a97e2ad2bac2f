//! `convert`'s recorded HTTP API, as text.

use wasm_migrate_app::record::Recorded;

pub fn print(recorded: &Recorded) {
    if let Some(why) = &recorded.skipped {
        println!("http         not recorded: {why}");
        return;
    }
    println!(
        "http         {}{}; response {}",
        recorded.routes.join(", "),
        recorded
            .health
            .as_ref()
            .map(|h| format!(", health {h}"))
            .unwrap_or_default(),
        if recorded.response_rebuilt {
            "rebuilt like the original's"
        } else {
            "as the module's own JSON"
        }
    );
    for warning in &recorded.warnings {
        println!("             warning: {warning}");
    }
}
