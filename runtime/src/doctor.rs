//! `wasm-migrate doctor`: what this machine can do for a migration, and for each thing it
//! cannot, the command that fixes it.

use crate::nn::{self, BackendKind, BackendStatus};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Ok,
    Missing,
}

/// One thing checked.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// `toolchain`, `backend`, `python` or `wasmedge`.
    pub area: &'static str,
    pub name: String,
    pub state: State,
    pub detail: String,
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PythonEnv {
    pub interpreter: String,
    pub found_via: String,
    pub version: String,
    /// Distribution name and version, for those installed.
    pub packages: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub wasmtime: &'static str,
    pub cache_dir: String,
    pub checks: Vec<Check>,
    pub backends: Vec<BackendStatus>,
    pub pythons: Vec<PythonEnv>,
}

impl Report {
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// The Python packages a migration uses, by distribution name.
const PACKAGES: [&str; 11] = [
    "torch",
    "torchvision",
    "tensorflow",
    "tensorflow-cpu",
    "keras",
    "openvino",
    "onnxruntime",
    "onnx",
    "transformers",
    "numpy",
    "pillow",
];

pub fn run() -> Report {
    let mut checks = Vec::new();
    checks.extend(toolchain_checks());
    let backends: Vec<BackendStatus> = BackendKind::ALL.iter().map(|&k| nn::status(k)).collect();
    for b in &backends {
        let fix = match b.backend {
            BackendKind::Tract => None,
            BackendKind::OpenVino => {
                Some("pip install openvino (in the environment you run wasm-migrate from)".into())
            }
            BackendKind::OnnxRuntime => Some(
                "pip install onnxruntime (in the environment you run wasm-migrate from)".into(),
            ),
        };
        let detail = match (&b.version, b.available) {
            (Some(v), true) => format!(
                "{v}, {}; float32 models compute in {}",
                b.detail, b.default_precision
            ),
            _ => b.detail.clone(),
        };
        checks.push(Check {
            area: "backend",
            name: b.backend.name().to_string(),
            state: if b.available {
                State::Ok
            } else {
                State::Missing
            },
            detail,
            fix: if b.available { None } else { fix },
        });
    }
    checks.push(Check {
        area: "backend",
        name: "pytorch".into(),
        state: State::Missing,
        detail: "TorchScript models are not run by the embedded runtime (by design: libtorch is several GB)".into(),
        fix: Some("convert the model to ONNX or OpenVINO IR with `wasm-migrate convert`, or run on WasmEdge with the wasi_nn-pytorch plugin".into()),
    });
    let pythons = python_envs();
    if pythons.is_empty() {
        checks.push(Check {
            area: "python",
            name: "python".into(),
            state: State::Missing,
            detail: "no Python interpreter found ($VIRTUAL_ENV, ./.venv, ./venv, python3 on PATH)".into(),
            fix: Some("install Python 3 or activate the service's virtual environment; verify runs the original service with it".into()),
        });
    }
    for env in &pythons {
        let frameworks: Vec<String> = env
            .packages
            .iter()
            .filter(|(n, _)| {
                [
                    "torch",
                    "tensorflow",
                    "tensorflow-cpu",
                    "openvino",
                    "onnxruntime",
                ]
                .contains(&n.as_str())
            })
            .map(|(n, v)| format!("{n} {v}"))
            .collect();
        checks.push(Check {
            area: "python",
            name: format!("python {}", env.interpreter),
            state: State::Ok,
            detail: format!(
                "Python {} ({}); {}",
                env.version,
                env.found_via,
                if frameworks.is_empty() {
                    "no ML framework installed".to_string()
                } else {
                    frameworks.join(", ")
                }
            ),
            fix: None,
        });
    }
    checks.extend(wasmedge_checks());
    Report {
        wasmtime: crate::WASMTIME_VERSION,
        cache_dir: crate::cache::cache_dir().display().to_string(),
        checks,
        backends,
        pythons,
    }
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn toolchain_checks() -> Vec<Check> {
    let mut checks = Vec::new();
    let rustc = command_output("rustc", &["--version"]);
    checks.push(Check {
        area: "toolchain",
        name: "rust".into(),
        state: if rustc.is_some() {
            State::Ok
        } else {
            State::Missing
        },
        detail: rustc
            .clone()
            .unwrap_or_else(|| "rustc is not on PATH: `build` needs it to compile glue".into()),
        fix: rustc
            .is_none()
            .then(|| "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh".into()),
    });
    let sysroot = command_output("rustc", &["--print", "sysroot"]);
    let has_target = sysroot
        .as_deref()
        .is_some_and(|s| Path::new(s).join("lib/rustlib/wasm32-wasip1").is_dir());
    checks.push(Check {
        area: "toolchain",
        name: "wasm32-wasip1".into(),
        state: if has_target {
            State::Ok
        } else {
            State::Missing
        },
        detail: if has_target {
            "the Rust standard library for wasm32-wasip1 is installed".into()
        } else {
            "the wasm32-wasip1 target is not installed: glue crates cannot be built".into()
        },
        fix: (!has_target).then(|| "rustup target add wasm32-wasip1".into()),
    });
    checks
}

fn python_candidates() -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    for var in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        if let Some(root) = std::env::var_os(var) {
            found.push((PathBuf::from(root).join("bin/python"), format!("${var}")));
        }
    }
    for local in [".venv", "venv"] {
        found.push((Path::new(local).join("bin/python"), format!("./{local}")));
    }
    for name in ["python3", "python"] {
        if let Some(path) = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        }) {
            found.push((path, format!("{name} on PATH")));
        }
    }
    found.retain(|(p, _)| p.is_file());
    let mut seen = Vec::new();
    found.retain(|(p, _)| {
        let canonical = p.canonicalize().unwrap_or_else(|_| p.clone());
        let new = !seen.contains(&canonical);
        seen.push(canonical);
        new
    });
    found
}

const PROBE: &str = r#"
import sys, importlib.metadata as m
print(sys.version.split()[0])
for name in sys.argv[1:]:
    try:
        print(name, m.version(name))
    except Exception:
        pass
"#;

fn python_envs() -> Vec<PythonEnv> {
    python_candidates()
        .into_iter()
        .filter_map(|(path, via)| {
            let mut args = vec!["-c", PROBE];
            args.extend(PACKAGES);
            let text = command_output(path.to_str()?, &args)?;
            let mut lines = text.lines();
            let version = lines.next()?.to_string();
            let packages = lines
                .filter_map(|l| l.split_once(' '))
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            Some(PythonEnv {
                interpreter: path.display().to_string(),
                found_via: via,
                version,
                packages,
            })
        })
        .collect()
}

/// What `wasmedge --version` says: its version line, the plugins it loaded (a line each,
/// `PATH (plugin "NAME") version ...`), and anything else it printed, which is how WasmEdge
/// reports a plugin that failed to load (on stdout).
#[derive(Debug, Default, PartialEq)]
struct WasmEdgeAbout {
    version: Option<String>,
    /// (name, path) of each plugin WasmEdge loaded.
    plugins: Vec<(String, String)>,
    /// Every other line: load errors.
    other: Vec<String>,
}

/// The version `wasmedge --version` printed (`0.17.1`), whatever load errors come before it.
pub fn wasmedge_version(output: &str) -> Option<String> {
    about_wasmedge(output).version
}

fn about_wasmedge(output: &str) -> WasmEdgeAbout {
    let mut about = WasmEdgeAbout::default();
    for line in output.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some((path, rest)) = line.split_once(" (plugin \"")
            && let Some((name, _)) = rest.split_once('"')
        {
            about.plugins.push((name.to_string(), path.to_string()));
        } else if about.version.is_none()
            && let Some((program, version)) = line.split_once(" version ")
            && program.ends_with("wasmedge")
        {
            about.version = Some(version.trim().to_string());
        } else {
            about.other.push(line.to_string());
        }
    }
    about
}

/// Where WasmEdge looks for plugins: `WASMEDGE_PLUGIN_PATH`, then `PREFIX/plugin` (PREFIX the
/// folder above the executable's `bin/`), `~/.wasmedge/plugin` and the system folders.
pub fn plugin_dirs(wasmedge: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("WASMEDGE_PLUGIN_PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(prefix) = wasmedge
        .and_then(|w| std::fs::canonicalize(w).ok())
        .and_then(|w| w.parent()?.parent().map(Path::to_path_buf))
    {
        dirs.push(prefix.join("plugin"));
        dirs.push(prefix.join("lib/wasmedge"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".wasmedge/plugin"));
    }
    dirs.extend(["/usr/local/lib/wasmedge", "/usr/lib/wasmedge"].map(PathBuf::from));
    dirs.dedup();
    dirs
}

fn wasmedge_checks() -> Vec<Check> {
    let Some(output) = command_output("wasmedge", &["--version"]) else {
        return vec![Check {
            area: "wasmedge",
            name: "wasmedge".into(),
            state: State::Missing,
            detail: "wasmedge is not on PATH: modules run in the embedded runtime here; deploy targets need WasmEdge".into(),
            fix: Some("curl -sSf https://raw.githubusercontent.com/WasmEdge/WasmEdge/master/utils/install_v2.sh | bash -s -- --plugins wasi_nn-openvino".into()),
        }];
    };
    let about = about_wasmedge(&output);
    let executable = which("wasmedge");
    let files_on_disk = |dirs: &[PathBuf]| -> Vec<String> {
        dirs.iter()
            .filter_map(|d| Some((d, std::fs::read_dir(d).ok()?)))
            .flat_map(|(d, entries)| entries.flatten().map(move |e| (d.clone(), e)))
            .filter(|(_, e)| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("libwasmedgePluginWasiNN")
            })
            .map(|(d, e)| d.join(e.file_name()).display().to_string())
            .collect()
    };
    vec![
        Check {
            area: "wasmedge",
            name: "wasmedge".into(),
            state: State::Ok,
            detail: format!(
                "{} ({})",
                about.version.as_deref().unwrap_or("version unknown"),
                executable
                    .as_deref()
                    .map_or("on PATH".into(), |p| p.display().to_string())
            ),
            fix: None,
        },
        plugin_check(&about, &plugin_dirs(executable.as_deref()), files_on_disk),
    ]
}

/// The wasi-nn plugin counts only when WasmEdge says it loaded it; otherwise WasmEdge's own
/// lines are the reason, with the plugin files found on disk.
fn plugin_check(
    about: &WasmEdgeAbout,
    dirs: &[PathBuf],
    files_on_disk: impl Fn(&[PathBuf]) -> Vec<String>,
) -> Check {
    if let Some((_, path)) = about.plugins.iter().find(|(name, _)| name == "wasi_nn") {
        return Check {
            area: "wasmedge",
            name: "wasi-nn plugin".into(),
            state: State::Ok,
            detail: format!("loaded: {path}"),
            fix: None,
        };
    }
    let files = files_on_disk(dirs);
    let searched = dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let detail = match (about.other.is_empty(), files.is_empty()) {
        (false, _) => format!(
            "WasmEdge did not load it: {}{}",
            about.other.join("; "),
            if files.is_empty() {
                String::new()
            } else {
                format!(" (on disk: {})", files.join(", "))
            }
        ),
        (true, false) => format!(
            "WasmEdge did not load {} (it lists no wasi_nn plugin)",
            files.join(", ")
        ),
        (true, true) => format!("no libwasmedgePluginWasiNN*.so in {searched}"),
    };
    let fix = match files.is_empty() {
        true => {
            "reinstall WasmEdge with --plugins wasi_nn-openvino (or wasi_nn-pytorch, wasi_nn-tensorflowlite), or set WASMEDGE_PLUGIN_PATH to its folder"
        }
        false => {
            "put the backend's libraries on LD_LIBRARY_PATH (for OpenVINO: the folder holding libopenvino_c.so), or set WASMEDGE_PLUGIN_PATH to the plugin's folder"
        }
    };
    Check {
        area: "wasmedge",
        name: "wasi-nn plugin".into(),
        state: State::Missing,
        detail,
        fix: Some(fix.into()),
    }
}

/// The executable `program` names on PATH.
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_line_and_loaded_plugins_are_read_apart_from_load_errors() {
        let about = about_wasmedge(
            "libopenvino_c.so.2540: cannot open shared object file: No such file or directory\n\
             /opt/we/bin/wasmedge version 0.17.1\n\
             /opt/we/plugin/libwasmedgePluginWasiLogging.so (plugin \"wasi_logging\") version 0.1.0.0\n",
        );
        assert_eq!(about.version.as_deref(), Some("0.17.1"));
        assert_eq!(
            about.plugins,
            vec![(
                "wasi_logging".to_string(),
                "/opt/we/plugin/libwasmedgePluginWasiLogging.so".to_string()
            )]
        );
        assert_eq!(about.other.len(), 1);
        assert!(about.other[0].contains("libopenvino_c"));
    }

    #[test]
    fn a_plugin_file_that_did_not_load_is_missing_and_the_reason_is_wasmedges() {
        let about = about_wasmedge(
            "wasmedge version 0.17.1\nlibopenvino_c.so.2540: cannot open shared object file\n",
        );
        let dirs = [PathBuf::from("/opt/we/plugin")];
        let check = plugin_check(&about, &dirs, |_| {
            vec!["/opt/we/plugin/libwasmedgePluginWasiNN.so".into()]
        });
        assert_eq!(check.state, State::Missing);
        assert!(
            check.detail.contains("libopenvino_c.so.2540"),
            "{}",
            check.detail
        );
        assert!(check.fix.unwrap().contains("LD_LIBRARY_PATH"));
        // The version check never carries the error lines.
        assert_eq!(about.version.as_deref(), Some("0.17.1"));
    }

    #[test]
    fn a_loaded_plugin_is_ok_and_no_plugin_at_all_names_the_folders_searched() {
        let loaded = about_wasmedge(
            "wasmedge version 0.14.1\n/p/libwasmedgePluginWasiNN.so (plugin \"wasi_nn\") version 0.1.0.0\n",
        );
        let dirs = [PathBuf::from("/opt/we/plugin")];
        assert_eq!(
            plugin_check(&loaded, &dirs, |_| Vec::new()).state,
            State::Ok
        );
        let bare = about_wasmedge("wasmedge version 0.14.1\n");
        let check = plugin_check(&bare, &dirs, |_| Vec::new());
        assert_eq!(check.state, State::Missing);
        assert!(check.detail.contains("/opt/we/plugin"), "{}", check.detail);
    }
}
