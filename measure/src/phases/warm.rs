//! One more instance in a warm host: the module compiled, the graph preloaded, the engine
//! running; what an extra instance costs to start. This is the article's "under 5 ms" case,
//! measured in this process.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use wasm_migrate_runtime::{
    BackendChoice, BackendKind, Precision, Preload, Preloaded, RunConfig, Runtime, RuntimeOptions,
    ServeConfig, ServeControl, Stdio as GuestStdio,
};

use super::{Setup, check, ms};
use crate::error::BenchError;
use crate::servers::MIGRATED;
use crate::stats::median;
use crate::{Progress, WarmInstance};

impl Setup<'_> {
    pub(super) fn warm_instance(
        &self,
        progress: &dyn Fn(Progress),
    ) -> Result<WarmInstance, BenchError> {
        let failed = |e: &dyn std::fmt::Display| BenchError::Side {
            side: MIGRATED.into(),
            message: format!("a warm host could not start an instance: {e}"),
        };
        let runtime = Runtime::new(RuntimeOptions::default()).map_err(|e| failed(&e))?;
        let module = runtime.load(&self.module).map_err(|e| failed(&e))?;
        let preload: Preload = self.preload.parse().map_err(|e: String| failed(&e))?;
        let backends = BackendChoice {
            onnx: self.backend,
            precision: Precision::F32,
            ..BackendChoice::default()
        };
        let preloaded =
            Preloaded::load(std::slice::from_ref(&preload), &backends).map_err(|e| failed(&e))?;
        let run = RunConfig {
            args: vec!["--serve".into()],
            preloaded,
            backends,
            stdio: GuestStdio::Capture,
            ..RunConfig::default()
        };
        let agent = wasm_migrate_verify::http::agent_with_limit(self.options.budget.start_limit);
        // The first start warms the engine's and the backend's own caches.
        let mut warm = self.time_starts(WarmInstance::default(), progress, || {
            self.one_instance(&runtime, &module, &run, &agent)
                .map_err(|e| failed(&e))
        })?;
        let starts = self.options.budget.starts;
        if backends.backend_for(preload.encoding) == Ok(BackendKind::OpenVino) {
            for _ in 0..starts {
                check(self.cancel())?;
                let started = Instant::now();
                Preloaded::load(std::slice::from_ref(&preload), &backends)
                    .map_err(|e| failed(&e))?;
                warm.openvino_compile_ms.push(ms(started.elapsed()));
            }
            warm.openvino_compile_median_ms = Some(median(&warm.openvino_compile_ms));
        }
        Ok(warm)
    }

    /// `--starts` starts of one more instance, each timed by `one` (to ready, and to its first
    /// answer), after a first start that warms caches and is not counted; the medians set.
    pub(super) fn time_starts(
        &self,
        mut warm: WarmInstance,
        progress: &dyn Fn(Progress),
        mut one: impl FnMut() -> Result<(Duration, Duration), BenchError>,
    ) -> Result<WarmInstance, BenchError> {
        let starts = self.options.budget.starts;
        for start in 0..=starts {
            check(self.cancel())?;
            let (ready, answered) = one()?;
            if start > 0 {
                warm.listening_ms.push(ms(ready));
                warm.samples_ms.push(ms(answered));
                progress(Progress::Step {
                    done: start,
                    total: starts,
                });
            }
        }
        warm.listening_median_ms = median(&warm.listening_ms);
        warm.median_ms = median(&warm.samples_ms);
        Ok(warm)
    }

    /// Starts one instance on a fresh listener: the time to listening and to its first answer.
    fn one_instance(
        &self,
        runtime: &Runtime,
        module: &wasm_migrate_runtime::WasmModule,
        run: &RunConfig,
        agent: &ureq::Agent,
    ) -> Result<(Duration, Duration), String> {
        let limit = self.options.budget.start_limit;
        let control = ServeControl::bind(
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            Some(Duration::from_secs(30)),
            Some(limit),
        )
        .map_err(|e| e.to_string())?;
        let address = control.local_addr();
        let mut run = run.clone();
        run.env.push(("HOST".into(), address.ip().to_string()));
        run.env.push(("PORT".into(), address.port().to_string()));
        let config = ServeConfig { run, instances: 1 };
        std::thread::scope(|scope| {
            let created = Instant::now();
            let serving = scope.spawn(|| runtime.serve(module, &config, &control));
            let result = (|| {
                if !control.wait_ready(limit) {
                    return Err("it did not listen".to_string());
                }
                // When the instance itself was ready, not when this thread woke to see it.
                let listening = control
                    .first_ready()
                    .map_or_else(|| created.elapsed(), |(at, _)| at.duration_since(created));
                let base = format!("http://{address}");
                let answer = wasm_migrate_verify::http::send(agent, &base, &self.requests[0])?;
                if answer.status != 200 {
                    return Err(format!(
                        "it answered HTTP {}: {}",
                        answer.status,
                        answer.body.trim()
                    ));
                }
                Ok((listening, created.elapsed()))
            })();
            control.stop();
            let _ = serving.join();
            result
        })
    }
}
