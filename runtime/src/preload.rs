//! `--nn-preload NAME:ENCODING:TARGET:PATH[:PATH...]`, exactly as WasmEdge spells it, so a
//! command line moves between `wasmedge` and `wasm-migrate run` unchanged.

use crate::RuntimeError;
use crate::host::HostProfile;
use crate::nn::{BackendChoice, Encoding, GraphFileError, LoadedGraph, load_graph_files};
use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use wasmtime_wasi_nn::{Graph, GraphRegistry};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preload {
    pub name: String,
    pub encoding: Encoding,
    /// `cpu`, `gpu`, `tpu` or `auto`, lower-cased; the embedded backends run on the CPU.
    pub target: String,
    pub paths: Vec<PathBuf>,
    /// The flag as the user wrote it, for messages.
    pub spec: String,
}

impl FromStr for Preload {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        let parts: Vec<&str> = spec.split(':').collect();
        let usage = "expected NAME:ENCODING:TARGET:PATH[:PATH...], e.g. default:openvino:cpu:model.xml:model.bin";
        if parts.len() < 4 {
            return Err(format!("`{spec}` has {} part(s); {usage}", parts.len()));
        }
        let name = parts[0];
        if name.is_empty() {
            return Err(format!("`{spec}` has an empty NAME; {usage}"));
        }
        let mut encoding: Encoding = parts[1].parse().map_err(|e| format!("`{spec}`: {e}"))?;
        let target = parts[2].to_ascii_lowercase();
        if !["cpu", "gpu", "tpu", "auto"].contains(&target.as_str()) {
            return Err(format!(
                "`{spec}`: unknown target `{}`: WasmEdge's are cpu, gpu, tpu, auto",
                parts[2]
            ));
        }
        let paths: Vec<PathBuf> = parts[3..].iter().map(PathBuf::from).collect();
        if paths.iter().any(|p| p.as_os_str().is_empty()) {
            return Err(format!("`{spec}` has an empty PATH; {usage}"));
        }
        if encoding == Encoding::Autodetect {
            encoding = detect_encoding(&paths).ok_or_else(|| {
                format!(
                    "`{spec}`: cannot tell the encoding from the file names; give openvino or onnx"
                )
            })?;
        }
        match (encoding, paths.len()) {
            (Encoding::OpenVino, 2) | (Encoding::Onnx, 1) => {}
            (Encoding::OpenVino, n) => {
                return Err(format!(
                    "`{spec}`: openvino takes two paths, the IR's .xml and .bin; {n} given"
                ));
            }
            (Encoding::Onnx, n) => {
                return Err(format!(
                    "`{spec}`: onnx takes one path, the .onnx file; {n} given"
                ));
            }
            (other, _) => {
                return Err(format!(
                    "`{spec}`: {}",
                    crate::nn::no_backend_for(other.name())
                ));
            }
        }
        Ok(Preload {
            name: name.to_string(),
            encoding,
            target,
            paths,
            spec: spec.to_string(),
        })
    }
}

fn detect_encoding(paths: &[PathBuf]) -> Option<Encoding> {
    let ext = |p: &PathBuf| {
        p.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
    };
    match paths.iter().map(ext).collect::<Vec<_>>().as_slice() {
        [Some(a)] if a == "onnx" => Some(Encoding::Onnx),
        [Some(a), Some(b)] if a == "xml" && b == "bin" => Some(Encoding::OpenVino),
        _ => None,
    }
}

/// Graphs loaded before the guest starts; cheap to share between runs (the graphs are
/// reference-counted), which is how `verify` and the benchmarks run one model many times.
#[derive(Clone, Default)]
pub struct Preloaded {
    graphs: HashMap<String, LoadedGraph>,
}

impl Preloaded {
    /// Reads each model file and loads it with the backend the choice gives for its encoding.
    pub fn load(preloads: &[Preload], choice: &BackendChoice) -> Result<Preloaded, RuntimeError> {
        let mut graphs = HashMap::new();
        for preload in preloads {
            let graph =
                load_graph_files(preload.encoding, &preload.paths, choice).map_err(|error| {
                    match error {
                        GraphFileError::Read(path, source) => RuntimeError::ModelFile {
                            path,
                            spec: preload.spec.clone(),
                            source,
                        },
                        GraphFileError::Rejected(reason) => RuntimeError::ModelRejected {
                            spec: preload.spec.clone(),
                            backend: choice
                                .backend_for(preload.encoding)
                                .map(|b| b.to_string())
                                .unwrap_or_default(),
                            reason,
                        },
                    }
                })?;
            graphs.insert(preload.name.clone(), graph);
        }
        Ok(Preloaded { graphs })
    }

    pub fn graphs(&self) -> impl Iterator<Item = (&str, &LoadedGraph)> {
        self.graphs.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The graphs as `host` runs them.
    pub(crate) fn registry(&self, host: HostProfile) -> Registry {
        Registry(
            self.graphs
                .iter()
                .map(|(k, v)| (k.clone(), host.graph(v.graph.clone())))
                .collect(),
        )
    }
}

pub(crate) struct Registry(HashMap<String, Graph>);

impl GraphRegistry for Registry {
    fn get(&self, name: &str) -> Option<&Graph> {
        self.0.get(name)
    }
    fn get_mut(&mut self, name: &str) -> Option<&mut Graph> {
        self.0.get_mut(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wasmedge_preloads() {
        let p: Preload = "default:OpenVINO:CPU:model.xml:model.bin".parse().unwrap();
        assert_eq!(p.name, "default");
        assert_eq!(p.encoding, Encoding::OpenVino);
        assert_eq!(p.target, "cpu");
        assert_eq!(
            p.paths,
            vec![PathBuf::from("model.xml"), PathBuf::from("model.bin")]
        );
        let p: Preload = "cnn:autodetect:auto:cnn.onnx".parse().unwrap();
        assert_eq!(p.encoding, Encoding::Onnx);
    }

    #[test]
    fn rejects_bad_preloads_with_the_reason() {
        let err = |s: &str| s.parse::<Preload>().unwrap_err();
        assert!(err("model.onnx").contains("has 1 part(s)"));
        assert!(err(":onnx:cpu:m.onnx").contains("empty NAME"));
        assert!(err("a:keras:cpu:m.h5").contains("unknown encoding `keras`"));
        assert!(err("a:onnx:fpga:m.onnx").contains("unknown target `fpga`"));
        assert!(err("a:openvino:cpu:m.xml").contains("two paths"));
        assert!(err("a:onnx:cpu:a.onnx:b.onnx").contains("one path"));
        assert!(err("a:pytorch:cpu:m.pt").contains("convert the model"));
        assert!(err("a:onnx:cpu:").contains("empty PATH"));
    }
}
