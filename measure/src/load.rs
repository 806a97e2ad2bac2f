//! A bounded load: a fixed number of requests from a fixed number of clients, stopped early
//! by a time limit or an interrupt.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use wasm_migrate_verify::http::requests::Request;

/// One burst of requests against one server.
pub struct Burst<'a> {
    /// `http://127.0.0.1:PORT`
    pub base: &'a str,
    /// Sent in turn.
    pub requests: &'a [&'a Request],
    pub concurrency: usize,
    pub count: usize,
    pub limit: Duration,
    pub cancel: &'a AtomicBool,
}

/// What a burst measured.
#[derive(Debug, Clone, Default)]
pub struct BurstResult {
    /// Seconds per answered request (status 200), in the order they finished.
    pub latencies: Vec<f64>,
    /// Requests that got no answer or an answer other than 200, with the first reason.
    pub errors: usize,
    pub first_error: Option<String>,
    pub wall: Duration,
}

impl BurstResult {
    /// Answered requests per second of wall time.
    pub fn throughput(&self) -> f64 {
        let seconds = self.wall.as_secs_f64();
        if seconds > 0.0 {
            self.latencies.len() as f64 / seconds
        } else {
            0.0
        }
    }
}

impl Burst<'_> {
    pub fn run(&self) -> BurstResult {
        let next = AtomicUsize::new(0);
        let result = Mutex::new(BurstResult::default());
        let started = Instant::now();
        let clients = self.concurrency.clamp(1, self.count.max(1));
        std::thread::scope(|scope| {
            for _ in 0..clients {
                scope.spawn(|| self.client(&next, &result, started));
            }
        });
        let mut result = result.into_inner().unwrap_or_else(|e| e.into_inner());
        result.wall = started.elapsed();
        result
    }

    fn client(&self, next: &AtomicUsize, result: &Mutex<BurstResult>, started: Instant) {
        let agent =
            wasm_migrate_verify::http::agent_with_limit(self.limit.max(Duration::from_secs(1)));
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            if index >= self.count
                || started.elapsed() > self.limit
                || self.cancel.load(Ordering::Relaxed)
            {
                return;
            }
            let request = self.requests[index % self.requests.len()];
            let answer = wasm_migrate_verify::http::send(&agent, self.base, request);
            let mut result = result.lock().unwrap_or_else(|e| e.into_inner());
            match answer {
                Ok(answer) if answer.status == 200 => result.latencies.push(answer.seconds),
                Ok(answer) => {
                    result.errors += 1;
                    result.first_error.get_or_insert_with(|| {
                        format!("HTTP {}: {}", answer.status, clip(&answer.body))
                    });
                }
                Err(why) => {
                    result.errors += 1;
                    result.first_error.get_or_insert(why);
                }
            }
        }
    }
}

fn clip(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}
