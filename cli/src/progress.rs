//! The command layer's progress on a terminal: a spinner for slow phases (silent when stderr
//! is not a terminal, or one line per phase where a command asks for that), notes on stderr.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use wasm_migrate_app::Progress;

pub fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A dimmed `wasm-migrate: ...` line on stderr, unless quiet.
pub(crate) fn note(quiet: bool, text: &str) {
    if !quiet {
        let style = anstyle::Style::new().dimmed();
        // One write: the module's own stderr is this process's, and `serve`'s instances
        // print while this note is written; a note written in pieces could be split by theirs.
        let line = format!("{style}wasm-migrate: {text}{style:#}\n");
        let _ = anstream::stderr().write_all(line.as_bytes());
    }
}

/// The CLI's [`Progress`].
pub struct Terminal {
    spinner: Mutex<Option<(ProgressBar, String)>>,
    /// Do not print notes (phases still spin on a terminal).
    quiet: bool,
    /// Off a terminal, print each phase as a line with this prefix (CI logs of long commands).
    lines: Option<&'static str>,
}

impl Terminal {
    pub fn new(quiet: bool) -> Terminal {
        Terminal {
            spinner: Mutex::new(None),
            quiet,
            lines: None,
        }
    }

    /// Phases as `PREFIX: phase` lines when stderr is not a terminal.
    pub fn with_lines(prefix: &'static str) -> Terminal {
        Terminal {
            spinner: Mutex::new(None),
            quiet: false,
            lines: (!std::io::stderr().is_terminal()).then_some(prefix),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(ProgressBar, String)>> {
        self.spinner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for Terminal {
    fn default() -> Terminal {
        Terminal::new(false)
    }
}

impl Progress for Terminal {
    fn phase(&self, message: &str) {
        if let Some(prefix) = self.lines {
            eprintln!("{prefix}: {message}");
            return;
        }
        let mut current = self.lock();
        match current.as_mut() {
            Some((bar, phase)) => {
                bar.set_message(message.to_string());
                *phase = message.to_string();
            }
            None => *current = Some((spinner(message), message.to_string())),
        }
    }

    fn step(&self, done: usize, total: usize) {
        if let Some((bar, phase)) = self.lock().as_ref() {
            bar.set_message(format!("{phase}: {done}/{total}"));
        }
    }

    fn finish(&self) {
        if let Some((bar, _)) = self.lock().take() {
            bar.finish_and_clear();
        }
    }

    fn note(&self, message: &str) {
        note(self.quiet, message);
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.finish();
    }
}
