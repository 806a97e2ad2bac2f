//! Helpers shared by the end-to-end tests: where the samples are, and how to run the
//! `wasm-migrate` binary that `cargo build` produced.

pub mod http_fuzz;
pub mod soak;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

pub fn sample(name: &str) -> PathBuf {
    repo_root().join("samples").join(name)
}

/// The `wasm-migrate` binary built next to the test executable.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> -> target/<profile>/wasm-migrate
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let bin = profile_dir.join(format!("wasm-migrate{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --workspace` before the tests (the README's test command does)",
        bin.display()
    );
    bin
}

/// Runs `wasm-migrate ARGS` with colours off.
pub fn run(args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("wasm-migrate runs")
}

/// Whether the tests run as root (permission tests cannot deny root).
pub fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The Python environment the tests use for the original side and for the native backend
/// libraries (OpenVINO, ONNX Runtime): the venv `scripts/test` creates.
pub fn python_env() -> PathBuf {
    let venv = repo_root().join("target").join("py-venv");
    assert!(
        venv.join("bin/python").is_file(),
        "{} is missing: run `./scripts/setup-python` (the README's test command does)",
        venv.display()
    );
    venv
}

/// The models, inputs and reference outputs of `tests/models/make_models.py`, made on first use.
pub fn test_models() -> PathBuf {
    static MADE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    MADE.get_or_init(|| {
        let out = repo_root().join("target").join("test-models");
        if !out.join("manifest.json").is_file() {
            let status = Command::new(python_env().join("bin/python"))
                .arg(repo_root().join("tests/models/make_models.py"))
                .arg(&out)
                .status()
                .expect("python runs");
            assert!(status.success(), "tests/models/make_models.py failed");
        }
        out
    })
    .clone()
}

/// A test guest from `tests/guests`, built for wasm32-wasip1 on first use.
pub fn guest(name: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let manifest = repo_root().join("tests/guests/Cargo.toml");
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "build",
                "--quiet",
                "--release",
                "--target",
                "wasm32-wasip1",
                "--manifest-path",
            ])
            .arg(&manifest)
            .env_remove("RUSTC_WORKSPACE_WRAPPER")
            .env_remove("CLIPPY_ARGS")
            .status()
            .expect("cargo runs");
        assert!(
            status.success(),
            "building the test guests failed (is the wasm32-wasip1 target installed?)"
        );
        repo_root().join("tests/guests/target/wasm32-wasip1/release")
    });
    dir.join(format!("{name}.wasm"))
}

/// `wasm-migrate ARGS` with the test venv as the active Python environment (so OpenVINO and
/// ONNX Runtime are found the way a user's are) and a module cache under target/.
pub fn run_in_env(args: &[&str]) -> Output {
    run_with(args, &[])
}

/// Whether `path` parses as a migration plan.
pub fn plan_parses(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let plan: serde_json::Value = serde_saphyr::from_str(&text).map_err(|e| e.to_string())?;
    match plan.get("service") {
        Some(_) => Ok(()),
        None => Err("no `service` section".into()),
    }
}

pub fn run_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    command_with(args, env).output().expect("wasm-migrate runs")
}

/// Turns a bundle's snapshot on or off (`wasm_migrate_pybundle::snapshot::ENV_VAR`).
pub const SNAPSHOT_VAR: &str = "WASM_MIGRATE_PYTHON_SNAPSHOT";

/// The `wasm-migrate ARGS` command the tests run, not started.
pub fn command_with(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env("VIRTUAL_ENV", python_env())
        .env_remove("ORT_DYLIB_PATH")
        .env_remove("OPENVINO_INSTALL_DIR")
        // scripts/test lints the workspace through clippy-driver as rustc's wrapper; the glue
        // crates the commands build are crates of their own (one is linted on purpose).
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS")
        .env(
            "WASM_MIGRATE_CACHE_DIR",
            repo_root().join("target/test-cache"),
        )
        // A bundle's snapshot compiles python.wasm's code again (minutes) for each bundle:
        // one test makes one (python_bundle.rs), the others start instances by importing.
        .env(SNAPSHOT_VAR, "off");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Reads a float32 `.npy` file.
pub fn read_npy_f32(path: &Path) -> (Vec<u64>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).expect("a .npy file");
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f32>().expect("float32 data"))
}

/// Copies a directory tree (a sample into a temporary directory, so tests can write in it).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("{}: {e}", entry.path().display()));
        }
    }
}

/// The migration flow the end-to-end tests share: a sample copied to a temporary directory,
/// its model made by its own script, then analyze, generate, convert and build.
///
/// A migration takes a minute or more (Python imports torch twice, the glue builds), and
/// several tests start from the same one. Each distinct migration is therefore done once per
/// run and cached under `target/migrations/`, keyed by a hash of everything it depends on: the
/// (edited) service's files, the `generate` arguments, the `wasm-migrate` binary and the test
/// venv's requirements. Every test gets its own copy, so tests may edit it freely and run in
/// parallel; a lock file per key lets one process make it while the others wait.
pub mod flow {
    use std::io::Read;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};

    use sha2::{Digest, Sha256};

    use super::{binary, copy_dir, python_env, repo_root, run_with, sample};

    /// Glue crates built by the tests share one target directory, and build without the shipped
    /// profile's fat LTO, single codegen unit and opt-level 3: they compute the same numbers
    /// (Rust never reassociates or contracts floating-point operations, whatever the level;
    /// LTO changes where code lives), in a fraction of the time. One test builds with the
    /// shipped profile and checks that its module answers byte for byte the same
    /// ([`wm_shipped_profile`]).
    const TEST_GLUE_PROFILE: [(&str, &str); 3] = [
        ("CARGO_PROFILE_RELEASE_LTO", "off"),
        ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16"),
        ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1"),
    ];

    fn glue_target() -> PathBuf {
        repo_root().join("target/glue-target")
    }

    /// `wasm-migrate ARGS` in the test venv, with glue builds sharing one target directory.
    pub fn wm(args: &[&str]) -> Output {
        wm_with(args, &[])
    }

    /// [`wm`] with more environment (`extra` wins).
    pub fn wm_with(args: &[&str], extra: &[(&str, &str)]) -> Output {
        let glue_target = glue_target();
        let mut env = vec![("CARGO_TARGET_DIR", glue_target.to_str().unwrap())];
        env.extend(TEST_GLUE_PROFILE);
        env.extend(extra);
        one_build_at_a_time(args, || run_with(args, &env))
    }

    /// The command [`wm`] runs, not started (for a test that kills it).
    pub fn wm_command(args: &[&str]) -> Command {
        let glue_target = glue_target();
        let mut env = vec![("CARGO_TARGET_DIR", glue_target.to_str().unwrap())];
        env.extend(TEST_GLUE_PROFILE);
        super::command_with(args, &env)
    }

    /// [`wm`] with the glue crate's own release profile (fat LTO, one codegen unit), as users
    /// build it.
    pub fn wm_shipped_profile(args: &[&str]) -> Output {
        let glue_target = glue_target();
        one_build_at_a_time(args, || {
            run_with(args, &[("CARGO_TARGET_DIR", glue_target.to_str().unwrap())])
        })
    }

    /// Runs a `build` holding a lock on the shared glue target: a sample and its edited
    /// variant are crates of the same name, so their `.wasm` lands at the same path, and a
    /// build copying its module out must not pick up the other's (nextest runs the tests in
    /// parallel processes, so the lock is a file lock).
    fn one_build_at_a_time(args: &[&str], run: impl FnOnce() -> Output) -> Output {
        if args.first() != Some(&"build") {
            return run();
        }
        std::fs::create_dir_all(repo_root().join("target")).unwrap();
        let lock = std::fs::File::create(repo_root().join("target/glue-target.lock")).unwrap();
        lock.lock().unwrap();
        run()
    }

    pub fn ok(output: Output, what: &str) -> String {
        assert!(
            output.status.success(),
            "{what} failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn python(args: &[&Path]) {
        let status = Command::new(python_env().join("bin/python"))
            .args(args)
            .status()
            .expect("python runs");
        assert!(status.success(), "python {args:?} failed");
    }

    /// A sample copied, its model made, analyzed, generated, converted and built.
    pub fn migrate(name: &str) -> (tempfile::TempDir, PathBuf) {
        migrate_with(name, &[])
    }

    /// The generated crate passes clippy (`-D warnings`) and rustfmt. Clippy runs as the
    /// build's rustc wrapper, as CI lints the workspace: the glue crate is compiled again with
    /// its lints, and its dependencies, already built, are not compiled a second time for a
    /// check.
    pub fn assert_lint_clean(glue: &Path) {
        let driver = std::env::var("RUSTC_WORKSPACE_WRAPPER")
            .ok()
            .filter(|w| w.contains("clippy"))
            .or_else(|| {
                let found = Command::new("rustup")
                    .args(["which", "clippy-driver"])
                    .output()
                    .ok()?;
                Some(String::from_utf8(found.stdout).ok()?.trim().to_string())
            })
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "clippy-driver".into());
        // The crate itself is compiled again, whatever its last build was.
        let main_rs = glue.join("src/main.rs");
        let source = std::fs::read(&main_rs).unwrap();
        std::fs::write(&main_rs, source).unwrap();
        let lints = [
            ("RUSTC_WORKSPACE_WRAPPER", driver.as_str()),
            (
                "CLIPPY_ARGS",
                "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__",
            ),
        ];
        let glue_target = glue_target();
        let mut env = vec![("CARGO_TARGET_DIR", glue_target.to_str().unwrap())];
        env.extend(TEST_GLUE_PROFILE);
        env.extend(lints);
        let args = ["build", glue.to_str().unwrap()];
        let built = one_build_at_a_time(&args, || run_with(&args, &env));
        ok(built, "the generated crate built with clippy -D warnings");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let fmt = Command::new(&cargo)
            .args(["fmt", "--check", "--manifest-path"])
            .arg(glue.join("Cargo.toml"))
            .output()
            .expect("cargo fmt runs");
        ok(fmt, "cargo fmt --check on the generated crate");
    }

    /// `migrate`, with extra `generate` arguments (`--target wasmedge@0.15`).
    pub fn migrate_with(name: &str, generate_args: &[&str]) -> (tempfile::TempDir, PathBuf) {
        migrate_edited(name, generate_args, |_| {})
    }

    /// [`migrate_with`] on a copy of the sample that `edit` changed first (a variant service).
    pub fn migrate_edited(
        name: &str,
        generate_args: &[&str],
        edit: impl FnOnce(&Path),
    ) -> (tempfile::TempDir, PathBuf) {
        migrate_copy(&sample(name), generate_args, edit)
    }

    /// A service of `tests/services/` (written as real services are laid out), migrated.
    pub fn migrate_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
        migrate_fixture_edited(name, |_| {})
    }

    /// [`migrate_fixture`] on a copy that `edit` changed first.
    pub fn migrate_fixture_edited(
        name: &str,
        edit: impl FnOnce(&Path),
    ) -> (tempfile::TempDir, PathBuf) {
        migrate_copy(&repo_root().join("tests/services").join(name), &[], edit)
    }

    fn migrate_copy(
        source: &Path,
        generate_args: &[&str],
        edit: impl FnOnce(&Path),
    ) -> (tempfile::TempDir, PathBuf) {
        let name = source.file_name().unwrap().to_str().unwrap();
        // The edited service is the cache key, so variants are cached apart from the sample.
        let staged = tempfile::tempdir().unwrap();
        let service = staged.path().join(name);
        copy_dir(source, &service);
        edit(&service);
        let cached = cached_migration(&service, generate_args);

        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join(name);
        copy_dir(&cached, &copy);
        relocate(&cached, &copy);
        (dir, copy)
    }

    /// The migrated service for `service` (already copied and edited) in the cache, made now if
    /// this run has not made it yet.
    fn cached_migration(service: &Path, generate_args: &[&str]) -> PathBuf {
        let name = service.file_name().unwrap().to_str().unwrap();
        let key = migration_key(service, generate_args);
        let root = repo_root().join("target/migrations");
        std::fs::create_dir_all(&root).unwrap();
        let entry = root.join(format!("{name}-{}", &key[..16]));
        let lock_path = root.join(format!("{name}-{}.lock", &key[..16]));
        let lock = std::fs::File::create(&lock_path).unwrap();
        lock.lock().unwrap();
        let cached = entry.join(name);
        let complete = entry.join(".complete");
        if !complete.is_file() {
            // A run that stopped half-way leaves an incomplete entry: start it again.
            let _ = std::fs::remove_dir_all(&entry);
            copy_dir(service, &cached);
            run_migration(&cached, generate_args);
            std::fs::write(&complete, &key).unwrap();
        }
        cached
    }

    fn run_migration(service: &Path, generate_args: &[&str]) {
        python(&[&service.join("make_model.py")]);
        let s = service.to_str().unwrap();
        ok(wm(&["analyze", s, "--write-plan"]), "analyze --write-plan");
        let mut generate = vec!["generate", s];
        generate.extend_from_slice(generate_args);
        ok(wm(&generate), "generate");
        ok(wm(&["convert", s]), "convert");
        let glue = service.join("migrated");
        ok(wm(&["build", glue.to_str().unwrap()]), "build");
    }

    /// SHA-256 over what a migration depends on, in a fixed order.
    fn migration_key(service: &Path, generate_args: &[&str]) -> String {
        let mut hasher = Sha256::new();
        for file in files_sorted(service) {
            hasher.update(
                file.strip_prefix(service)
                    .unwrap()
                    .to_string_lossy()
                    .as_bytes(),
            );
            hasher.update([0]);
            hasher.update(std::fs::read(&file).unwrap());
        }
        for arg in generate_args {
            hasher.update(arg.as_bytes());
            hasher.update([0]);
        }
        hash_file(&mut hasher, &binary());
        hash_file(&mut hasher, &repo_root().join("tests/requirements.txt"));
        for (key, value) in TEST_GLUE_PROFILE {
            hasher.update(format!("{key}={value}").as_bytes());
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn hash_file(hasher: &mut Sha256, path: &Path) {
        let mut file =
            std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut buffer = vec![0; 1 << 20];
        loop {
            let n = file.read(&mut buffer).unwrap();
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
    }

    fn files_sorted(dir: &Path) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        files.sort();
        files
    }

    /// The generated files that name the service's absolute path (`convert_model.py` imports
    /// the service from it) are pointed at the copy.
    fn relocate(from: &Path, to: &Path) {
        let from = std::fs::canonicalize(from).unwrap();
        let to = std::fs::canonicalize(to).unwrap();
        let (from, to) = (from.to_str().unwrap(), to.to_str().unwrap());
        for file in ["convert_model.py", "wasm-migrate-glue.json"] {
            let path = Path::new(to).join("migrated").join(file);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(text.contains(from), "{}: no `{from}`", path.display());
            std::fs::write(&path, text.replace(from, to)).unwrap();
        }
    }
}
