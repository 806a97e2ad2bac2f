//! What went wrong inside wasi-nn during a run, in words.
//!
//! The witx ABI hands the guest a bare error number (`runtime-error`, `too-large`, ...). So the
//! user learns *why*, every failure is also recorded here, on the thread running the guest:
//! our backends record their own messages, and the failures wasmtime-wasi-nn decides itself
//! (no graph by that name, an output larger than the guest's buffer, an encoding with no
//! backend) are taken from the `tracing` event it emits for each host error.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use wasmtime_wasi_nn::backend::BackendError;

/// The messages of one run, in order.
#[derive(Clone, Default)]
pub struct Sink(Arc<Mutex<Vec<Message>>>);

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Message {
    pub level: Level,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Note,
}

impl Sink {
    pub fn messages(&self) -> Vec<Message> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn push(&self, level: Level, text: String) {
        let mut messages = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // A backend's own message and the event wasmtime-wasi-nn logs for it say the same thing.
        if messages.last().is_some_and(|m| m.text == text) {
            return;
        }
        messages.push(Message { level, text });
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Sink>> = const { RefCell::new(None) };
}

fn record(level: Level, text: String) {
    CURRENT.with(|c| {
        if let Some(sink) = c.borrow().as_ref() {
            sink.push(level, text);
        }
    });
}

/// Records a backend failure and turns it into the error wasmtime-wasi-nn expects.
pub fn fail(text: impl Into<String>) -> BackendError {
    let text = text.into();
    record(Level::Error, text.clone());
    BackendError::BackendAccess(wasmtime::format_err!("{text}"))
}

/// Records something the user should know that is not a failure (a fallback, a precision).
pub fn note(text: impl Into<String>) {
    record(Level::Note, text.into());
}

/// Collects messages for as long as it lives, on this thread.
pub struct Capture {
    previous: Option<Sink>,
    _dispatch: tracing::dispatcher::DefaultGuard,
}

impl Capture {
    pub fn start(sink: &Sink) -> Capture {
        let previous = CURRENT.with(|c| c.replace(Some(sink.clone())));
        let dispatch = tracing::dispatcher::set_default(dispatch());
        Capture {
            previous,
            _dispatch: dispatch,
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

fn dispatch() -> &'static tracing::Dispatch {
    static DISPATCH: OnceLock<tracing::Dispatch> = OnceLock::new();
    DISPATCH.get_or_init(|| tracing::Dispatch::new(HostErrors))
}

/// A subscriber that only hears wasmtime-wasi-nn's "host error" events.
struct HostErrors;

fn wanted(meta: &Metadata<'_>) -> bool {
    meta.is_event() && meta.target().starts_with("wasmtime_wasi_nn")
}

impl Subscriber for HostErrors {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if wanted(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }
    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        wanted(meta)
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut text = MessageText(String::new());
        event.record(&mut text);
        if let Some(message) = text
            .0
            .strip_prefix("host error: ")
            .and_then(explain_host_error)
        {
            record(Level::Error, message);
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

struct MessageText(String);

impl Visit for MessageText {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        }
    }
}

/// Words for the errors wasmtime-wasi-nn raises itself (its `Debug` form, version-pinned).
/// Backend errors are already recorded by the backend that raised them.
fn explain_host_error(debug: &str) -> Option<String> {
    let inner = |prefix: &str| debug.strip_prefix(prefix).and_then(|r| r.strip_suffix(')'));
    if let Some(bytes) = inner("NotEnoughMemory(") {
        return Some(format!(
            "get_output: the output is {bytes} bytes, larger than the buffer the guest passed (the guest sees `too-large`)"
        ));
    }
    if let Some(name) = inner("UsageError(NotFound(").and_then(|r| r.strip_suffix(')')) {
        return Some(format!(
            "load_by_name: no graph named {name} was preloaded; preload it with --nn-preload {}:ENCODING:TARGET:PATH",
            name.trim_matches('"')
        ));
    }
    if let Some(encoding) = inner("UsageError(InvalidEncoding(").and_then(|r| r.strip_suffix(')')) {
        return Some(format!("load: {}", super::no_backend_for(encoding)));
    }
    if debug.starts_with("UsageError(") {
        return Some(format!("wasi-nn: {debug}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_the_errors_wasmtime_wasi_nn_raises() {
        let m = explain_host_error("NotEnoughMemory(40)").unwrap();
        assert!(m.contains("output is 40 bytes"), "{m}");
        let m = explain_host_error("UsageError(NotFound(\"cnn\"))").unwrap();
        assert!(
            m.contains("no graph named \"cnn\"") && m.contains("--nn-preload cnn:"),
            "{m}"
        );
        let m = explain_host_error("UsageError(InvalidEncoding(Pytorch))").unwrap();
        assert!(m.contains("PyTorch"), "{m}");
        assert!(explain_host_error("BackendError(BackendAccess(x))").is_none());
    }

    #[test]
    fn records_only_while_capturing() {
        let sink = Sink::default();
        note("before");
        {
            let _capture = Capture::start(&sink);
            let _ = fail("inside");
        }
        note("after");
        assert_eq!(
            sink.messages(),
            vec![Message {
                level: Level::Error,
                text: "inside".into()
            }]
        );
    }
}
