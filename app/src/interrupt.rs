//! SIGINT and SIGTERM, caught the one way every command that runs until stopped, or starts
//! servers, needs: a flag that either signal sets, which long work polls (`bench`,
//! `migrate`, a bundle's `serve`), and a stop action run on a watcher thread (`serve`). The
//! servers those commands start are in process groups of their own and are stopped when
//! their handles drop (`wasm_migrate_launch::ServerProcess`), so an interrupted command
//! leaves nothing behind and exits with [`crate::exit::INTERRUPTED`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::{AppError, Result};

/// The signals, caught for as long as this lives; dropped, they take their default action
/// again.
pub struct Interrupt {
    caught: Arc<AtomicBool>,
    released: Arc<AtomicBool>,
    ids: Vec<signal_hook::SigId>,
}

impl Interrupt {
    pub fn catch() -> Result<Interrupt> {
        let caught = Arc::new(AtomicBool::new(false));
        let ids = [SIGINT, SIGTERM]
            .into_iter()
            .map(|signal| signal_hook::flag::register(signal, caught.clone()))
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(|source| AppError::Io {
                what: "cannot catch SIGINT and SIGTERM".into(),
                source,
            })?;
        Ok(Interrupt {
            caught,
            released: Arc::new(AtomicBool::new(false)),
            ids,
        })
    }

    /// The flag either signal sets, for work that polls it.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.caught.clone()
    }

    pub fn caught(&self) -> bool {
        self.caught.load(Ordering::Relaxed)
    }

    /// Runs `stop` on a thread of its own once a signal arrives (not at all if none does
    /// before this is dropped).
    pub fn on_signal(&self, stop: impl FnOnce() + Send + 'static) {
        let (caught, released) = (self.caught.clone(), self.released.clone());
        std::thread::spawn(move || {
            while !released.load(Ordering::Relaxed) {
                if caught.load(Ordering::Relaxed) {
                    stop();
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        self.released.store(true, Ordering::Relaxed);
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_signal_sets_the_flag_and_runs_the_stop_action_once() {
        let interrupt = Interrupt::catch().unwrap();
        let (stopped, told) = mpsc::channel();
        interrupt.on_signal(move || stopped.send(()).unwrap());
        assert!(!interrupt.caught());
        signal_hook::low_level::raise(SIGTERM).unwrap();
        told.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(interrupt.caught() && interrupt.flag().load(Ordering::Relaxed));
    }
}
