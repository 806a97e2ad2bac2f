//! Which host the embedded runtime behaves as. By default it is its own host, which protects
//! the module (host-side I/O and request deadlines, a stop that answers the requests in
//! flight, every wasi-nn tensor type). `HostProfile::WasmEdge` takes those away and adds
//! WasmEdge's own limits, so a test can prove that a module behaves well on WasmEdge's terms
//! without WasmEdge (docs/decisions.md, "What each host guarantees").

use std::fmt;
use std::str::FromStr;

use wasm_migrate_plan::RuntimeTarget;
use wasmtime_wasi_nn::backend::{BackendError, BackendExecutionContext, BackendGraph, Id};
use wasmtime_wasi_nn::{ExecutionContext, Graph, Tensor};

use crate::nn::diagnostics::fail;
use crate::nn::tensor::ElementType;

/// The WasmEdge releases whose behaviour was measured (0.14.1 to 0.17.1).
const WASMEDGE_MINORS: std::ops::RangeInclusive<u16> = 14..=17;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostProfile {
    /// wasm-migrate's own host.
    #[default]
    Embedded,
    /// WasmEdge `0.MINOR`: no host-side deadlines, SIGTERM ends the process at once, the
    /// tensor types that release refuses are refused, and every `set_input` starts a fresh
    /// inference request (its OpenVINO backend's `setInput`), so a second input replaces the
    /// first.
    WasmEdge { minor: u16 },
}

impl HostProfile {
    pub fn name(self) -> String {
        match self {
            HostProfile::Embedded => "embedded".into(),
            HostProfile::WasmEdge { minor } => format!("wasmedge@0.{minor}"),
        }
    }

    /// Whether the host bounds each client read and write, and each request, itself.
    /// WasmEdge does neither: a module there must set its own socket deadlines.
    pub fn host_deadlines(self) -> bool {
        self == HostProfile::Embedded
    }

    /// Whether SIGTERM lets the requests in flight finish. WasmEdge's CLI has no handler: the
    /// process ends at once and a client in flight gets an empty reply.
    pub fn graceful_stop(self) -> bool {
        self == HostProfile::Embedded
    }

    /// Whether an instance that fails a request is replaced. A WasmEdge process that traps
    /// is gone; what restarts it is the orchestrator.
    pub fn replaces_failed_instances(self) -> bool {
        self == HostProfile::Embedded
    }

    /// The runtime whose tensor types apply.
    pub fn target(self) -> RuntimeTarget {
        match self {
            HostProfile::Embedded => RuntimeTarget::Wasmtime,
            HostProfile::WasmEdge { minor } if minor <= 14 => RuntimeTarget::WasmEdge014,
            HostProfile::WasmEdge { .. } => RuntimeTarget::WasmEdge015,
        }
    }

    /// Why `set_input` refuses a tensor of this type, in the host's own words.
    pub fn refusal(self, ty: ElementType) -> Option<String> {
        let legal = self.target().legal_input_types();
        if legal.iter().any(|d| d.as_str() == ty.name()) {
            return None;
        }
        Some(match self {
            HostProfile::WasmEdge { minor } if minor <= 14 => format!(
                "set_input: WasmEdge 0.{minor} numbers wasi-nn tensor types its own way and \
                 decodes only f32 as the module means it, not {} (wasm-migrate generate feeds f32)",
                ty.name()
            ),
            _ => format!(
                "set_input: Unknown tensor type {} ({}): WasmEdge 0.14.1 to 0.17.1 refuse it, \
                 and its OpenVINO backend takes f32 only (feed one f32 tensor)",
                wasi_number(ty),
                ty.name()
            ),
        })
    }

    /// The graph as this host runs it.
    pub(crate) fn graph(self, graph: Graph) -> Graph {
        match self {
            HostProfile::Embedded => graph,
            profile => {
                Graph::from(Box::new(WasmEdgeGraph { graph, profile }) as Box<dyn BackendGraph>)
            }
        }
    }
}

/// The wasi-nn 0.6 number of a tensor type, as WasmEdge's error message prints it.
fn wasi_number(ty: ElementType) -> u8 {
    match ty {
        ElementType::F16 => 0,
        ElementType::F32 => 1,
        ElementType::F64 => 2,
        ElementType::U8 => 3,
        ElementType::I32 => 4,
        ElementType::I64 => 5,
    }
}

impl fmt::Display for HostProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for HostProfile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let unknown = || {
            format!(
                "unknown host `{s}`: choose embedded, or wasmedge@0.14 to wasmedge@0.17 \
                 (wasmedge alone is 0.17)"
            )
        };
        match s.trim().to_ascii_lowercase().as_str() {
            "embedded" | "wasm-migrate" => Ok(HostProfile::Embedded),
            "wasmedge" => Ok(HostProfile::WasmEdge {
                minor: *WASMEDGE_MINORS.end(),
            }),
            other => {
                let version = other.strip_prefix("wasmedge@").ok_or_else(unknown)?;
                let mut parts = version.split('.');
                let (Some("0"), Some(minor)) = (parts.next(), parts.next()) else {
                    return Err(unknown());
                };
                let minor: u16 = minor.parse().map_err(|_| unknown())?;
                if !WASMEDGE_MINORS.contains(&minor) {
                    return Err(format!(
                        "wasmedge@0.{minor}: only WasmEdge 0.14 to 0.17 were measured"
                    ));
                }
                Ok(HostProfile::WasmEdge { minor })
            }
        }
    }
}

/// A preloaded graph under WasmEdge's terms.
struct WasmEdgeGraph {
    graph: Graph,
    profile: HostProfile,
}

impl BackendGraph for WasmEdgeGraph {
    fn init_execution_context(&self) -> Result<ExecutionContext, BackendError> {
        let context = WasmEdgeContext {
            graph: self.graph.clone(),
            request: self.graph.init_execution_context()?,
            profile: self.profile,
        };
        Ok(ExecutionContext::from(
            Box::new(context) as Box<dyn BackendExecutionContext>
        ))
    }
}

struct WasmEdgeContext {
    graph: Graph,
    /// The inference request the next `compute` runs.
    request: ExecutionContext,
    profile: HostProfile,
}

impl BackendExecutionContext for WasmEdgeContext {
    fn set_input(&mut self, id: Id, tensor: &Tensor) -> Result<(), BackendError> {
        let ty = ElementType::from_wasi(tensor.ty);
        if let Some(why) = ty.and_then(|ty| self.profile.refusal(ty)) {
            return Err(fail(why));
        }
        // WasmEdge's OpenVINO backend (wasinn_openvino.cpp, setInput) creates a new infer
        // request for every input it is given: whatever was set before is lost.
        self.request = self.graph.init_execution_context()?;
        self.request.set_input(id, tensor)
    }

    fn get_output(&mut self, id: Id) -> Result<Tensor, BackendError> {
        self.request.get_output(id)
    }

    fn compute(
        &mut self,
        inputs: Option<Vec<wasmtime_wasi_nn::backend::NamedTensor>>,
    ) -> Result<Option<Vec<wasmtime_wasi_nn::backend::NamedTensor>>, BackendError> {
        BackendExecutionContext::compute(&mut *self.request, inputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_parse_from_their_names_and_unknown_ones_say_what_exists() {
        assert_eq!("embedded".parse(), Ok(HostProfile::Embedded));
        assert_eq!(
            "wasmedge@0.17".parse(),
            Ok(HostProfile::WasmEdge { minor: 17 })
        );
        assert_eq!(
            "WasmEdge@0.15.2".parse(),
            Ok(HostProfile::WasmEdge { minor: 15 })
        );
        assert_eq!("wasmedge".parse(), Ok(HostProfile::WasmEdge { minor: 17 }));
        let old = "wasmedge@0.12".parse::<HostProfile>().unwrap_err();
        assert!(old.contains("0.14 to 0.17"), "{old}");
        let other = "wasmer".parse::<HostProfile>().unwrap_err();
        assert!(other.contains("embedded"), "{other}");
    }

    #[test]
    fn wasmedge_refuses_i64_everywhere_and_all_but_f32_before_0_15() {
        let latest = HostProfile::WasmEdge { minor: 17 };
        assert_eq!(latest.refusal(ElementType::F32), None);
        assert_eq!(latest.refusal(ElementType::U8), None);
        let i64 = latest.refusal(ElementType::I64).unwrap();
        assert!(i64.contains("Unknown tensor type 5"), "{i64}");
        let old = HostProfile::WasmEdge { minor: 14 };
        assert!(old.refusal(ElementType::U8).is_some());
        assert_eq!(HostProfile::Embedded.refusal(ElementType::I64), None);
    }

    #[test]
    fn only_the_embedded_host_protects_the_module() {
        let wasmedge = HostProfile::WasmEdge { minor: 17 };
        assert!(!wasmedge.host_deadlines());
        assert!(!wasmedge.graceful_stop());
        assert!(!wasmedge.replaces_failed_instances());
        assert!(HostProfile::Embedded.host_deadlines());
        assert!(HostProfile::Embedded.graceful_stop());
    }

    /// An inference request that answers with the number of inputs it was given.
    struct Counting(u32);

    impl BackendExecutionContext for Counting {
        fn set_input(&mut self, _: Id, _: &Tensor) -> Result<(), BackendError> {
            self.0 += 1;
            Ok(())
        }
        fn get_output(&mut self, _: Id) -> Result<Tensor, BackendError> {
            let count = self.0 as f32;
            Ok(Tensor::new(
                vec![1],
                ElementType::F32.to_wasi(),
                count.to_le_bytes().to_vec(),
            ))
        }
        fn compute(
            &mut self,
            _: Option<Vec<wasmtime_wasi_nn::backend::NamedTensor>>,
        ) -> Result<Option<Vec<wasmtime_wasi_nn::backend::NamedTensor>>, BackendError> {
            Ok(None)
        }
    }

    struct CountingGraph;

    impl BackendGraph for CountingGraph {
        fn init_execution_context(&self) -> Result<ExecutionContext, BackendError> {
            Ok(ExecutionContext::from(
                Box::new(Counting(0)) as Box<dyn BackendExecutionContext>
            ))
        }
    }

    fn inputs_seen(profile: HostProfile) -> f32 {
        let graph = profile.graph(Graph::from(Box::new(CountingGraph) as Box<dyn BackendGraph>));
        let mut request = graph.init_execution_context().unwrap();
        let tensor = Tensor::new(vec![1], ElementType::F32.to_wasi(), vec![0; 4]);
        request.set_input(Id::Index(0), &tensor).unwrap();
        request.set_input(Id::Index(1), &tensor).unwrap();
        request.compute().unwrap();
        let out = request.get_output(Id::Index(0)).unwrap();
        f32::from_le_bytes(out.data[..4].try_into().unwrap())
    }

    #[test]
    fn on_wasmedge_a_second_input_replaces_the_first() {
        assert_eq!(inputs_seen(HostProfile::Embedded), 2.0);
        assert_eq!(inputs_seen(HostProfile::WasmEdge { minor: 17 }), 1.0);
    }

    #[test]
    fn on_wasmedge_an_i64_input_is_refused_before_the_backend_sees_it() {
        let graph = HostProfile::WasmEdge { minor: 17 }
            .graph(Graph::from(Box::new(CountingGraph) as Box<dyn BackendGraph>));
        let mut request = graph.init_execution_context().unwrap();
        let ids = Tensor::new(vec![1], ElementType::I64.to_wasi(), vec![0; 8]);
        let error = request.set_input(Id::Index(0), &ids).unwrap_err();
        // The reason is the error's source (and the run's diagnostics).
        let why = format!("{error:?}");
        assert!(why.contains("Unknown tensor type 5"), "{why}");
    }
}
