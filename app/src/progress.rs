//! How a slow command says what it is doing. The CLI shows a spinner on a terminal and lines
//! in CI logs; the Python binding stays silent.

/// Told as a command goes. Every method has a silent default.
pub trait Progress: Sync {
    /// A phase that may take more than a moment begins (compiling, converting, verifying).
    fn phase(&self, _message: &str) {}
    /// `done` of `total` items of the current phase.
    fn step(&self, _done: usize, _total: usize) {}
    /// The phase is over: clear what `phase` showed.
    fn finish(&self) {}
    /// A fact worth telling once (where a model runs, what was loaded from a cache).
    fn note(&self, _message: &str) {}
}

/// Says nothing.
pub struct Silent;

impl Progress for Silent {}

/// Runs `work` as one phase, finishing it however `work` ends.
pub(crate) fn phase<T>(progress: &dyn Progress, message: &str, work: impl FnOnce() -> T) -> T {
    progress.phase(message);
    let result = work();
    progress.finish();
    result
}

/// The verify and measure crates' progress events, told to `progress`.
#[cfg(feature = "runtime")]
pub(crate) fn events(progress: &dyn Progress) -> impl Fn(wasm_migrate_verify::Progress) + '_ {
    move |event| match event {
        wasm_migrate_verify::Progress::Phase(message) => progress.phase(&message),
        wasm_migrate_verify::Progress::Step { done, total } => progress.step(done, total),
    }
}
