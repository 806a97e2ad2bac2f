//! TorchServe model archives as the service builds them: the `torch-model-archiver` commands
//! in its scripts, Dockerfiles and Makefiles, and the `MAR-INF/MANIFEST.json` of the `.mar`
//! files it ships. `torchserve --models name=name.mar` starts the handler of one of them.

use std::io::Read;
use std::path::Path;

use crate::plan::TorchserveArchive;

/// Files larger than this are not read for commands.
const MAX_SCRIPT_FILE: u64 = 256 * 1024;
/// A manifest is a few hundred bytes; a larger one is not read.
const MAX_MANIFEST: u64 = 64 * 1024;

/// Every archive the service describes, one per model name: an archiver command wins over
/// a `.mar` of the same model (the command is how the archive is rebuilt from the sources).
pub fn find(base: &Path, all_files: &[String]) -> Vec<TorchserveArchive> {
    let mut found: Vec<TorchserveArchive> = Vec::new();
    // A README's command is an example; the scripts' are what is run.
    let mut scripts: Vec<&String> = all_files.iter().filter(|f| is_script(f)).collect();
    scripts.sort_by_key(|f| f.to_ascii_lowercase().ends_with("readme.md"));
    for file in scripts {
        let path = base.join(file);
        if std::fs::metadata(&path).map_or(true, |m| m.len() > MAX_SCRIPT_FILE) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for (line, command) in archiver_commands(&text) {
            let evidence = format!("{file}:{line} `{}`", shorten(&command));
            if let Some(archive) = from_command(&command, evidence, file, base, all_files)
                && !found.iter().any(|a| a.model_name == archive.model_name)
            {
                found.push(archive);
            }
        }
    }
    for file in all_files.iter().filter(|f| f.ends_with(".mar")) {
        if let Some(archive) = from_mar(base, file, all_files)
            && !found.iter().any(|a| a.model_name == archive.model_name)
        {
            found.push(archive);
        }
    }
    found
}

/// The archive `torchserve --models name=file.mar` (or `--models all`, or none) starts, from
/// the tokens of a command line.
pub fn started_by<'a>(
    tokens: &[&str],
    archives: &'a [TorchserveArchive],
) -> Option<&'a TorchserveArchive> {
    let named = tokens
        .iter()
        .position(|t| *t == "--models" || *t == "--model")
        .and_then(|p| tokens.get(p + 1..))
        .into_iter()
        .flatten()
        .take_while(|t| !t.starts_with('-'))
        .map(|t| t.rsplit('/').next().unwrap_or(t).trim_end_matches(".mar"))
        .find_map(|name| archives.iter().find(|a| a.model_name == name));
    named.or(match archives {
        [only] => Some(only),
        _ => None,
    })
}

fn is_script(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file).to_ascii_lowercase();
    name.ends_with(".sh")
        || name == "makefile"
        || name.starts_with("dockerfile")
        || name.ends_with(".dockerfile")
        || name.ends_with(".yaml")
        || name.ends_with(".yml")
        || name == "readme.md"
}

/// `torch-model-archiver ...` commands, with `\` continuations joined, and their line.
fn archiver_commands(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let Some(at) = line.find("torch-model-archiver") else {
            continue;
        };
        let mut command = line[at..].to_string();
        while command.trim_end().ends_with('\\') {
            command = command.trim_end().trim_end_matches('\\').to_string();
            match lines.next() {
                Some((_, next)) => command.push_str(next),
                None => break,
            }
        }
        // `a && b`: only this command.
        let end = command.find("&&").unwrap_or(command.len());
        out.push((n + 1, command[..end].to_string()));
    }
    out
}

fn from_command(
    command: &str,
    evidence: String,
    file: &str,
    base: &Path,
    all_files: &[String],
) -> Option<TorchserveArchive> {
    let tokens: Vec<&str> = command
        .split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '[' | ']' | ','))
        .filter(|t| !t.is_empty())
        .collect();
    let mut flags = std::collections::BTreeMap::new();
    let mut it = tokens.iter();
    while let Some(t) = it.next() {
        if let Some(flag) = t.strip_prefix("--") {
            let (flag, value) = match flag.split_once('=') {
                Some((f, v)) => (f, Some(v.to_string())),
                None => (flag, None),
            };
            let value = value.or_else(|| {
                it.clone()
                    .next()
                    .filter(|v| !v.starts_with('-'))
                    .map(|v| v.to_string())
            });
            if let Some(value) = value {
                flags.insert(flag.to_string(), value);
            }
        }
    }
    let folder = file.rsplit_once('/').map_or("", |(dir, _)| dir);
    let resolve = |name: &str| resolve(name, folder, base, all_files);
    // `--extra-files a.json,b.txt` was split on the comma above: take every token after it.
    let extra_files = tokens
        .iter()
        .position(|t| *t == "--extra-files" || t.starts_with("--extra-files="))
        .map(|p| {
            let first = tokens[p].strip_prefix("--extra-files=");
            first
                .into_iter()
                .chain(
                    tokens[p + 1..]
                        .iter()
                        .copied()
                        .take_while(|t| !t.starts_with('-')),
                )
                .map(resolve)
                .collect()
        })
        .unwrap_or_default();
    Some(TorchserveArchive {
        model_name: flags.get("model-name")?.clone(),
        version: flags.get("version").cloned(),
        handler: resolve(flags.get("handler")?),
        model_file: flags.get("model-file").map(|f| resolve(f)),
        serialized_file: flags.get("serialized-file").map(|f| resolve(f)),
        extra_files,
        evidence,
    })
}

/// A path the archiver was given, as a service file: from the command's folder, from the
/// root, else the one file of that name; a built-in handler's name stays as it is.
fn resolve(name: &str, folder: &str, base: &Path, all_files: &[String]) -> String {
    let name = name.trim_start_matches("./");
    let from_folder = if folder.is_empty() {
        name.to_string()
    } else {
        format!("{folder}/{name}")
    };
    if base.join(&from_folder).is_file() {
        return from_folder;
    }
    if base.join(name).is_file() {
        return name.to_string();
    }
    let file_name = name.rsplit('/').next().unwrap_or(name);
    let mut same: Vec<&String> = all_files
        .iter()
        .filter(|f| f.rsplit('/').next() == Some(file_name))
        .collect();
    match (same.len(), same.pop()) {
        (1, Some(only)) => only.clone(),
        _ => name.to_string(),
    }
}

/// The archive a `.mar` holds, its files matched to the service's by name.
fn from_mar(base: &Path, file: &str, all_files: &[String]) -> Option<TorchserveArchive> {
    let reader = std::fs::File::open(base.join(file)).ok()?;
    let mut zip = zip::ZipArchive::new(reader).ok()?;
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    let mut text = String::new();
    zip.by_name("MAR-INF/MANIFEST.json")
        .ok()?
        .take(MAX_MANIFEST)
        .read_to_string(&mut text)
        .ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
    let model = &manifest["model"];
    let field = |key: &str| model[key].as_str().map(str::to_string);
    let folder = file.rsplit_once('/').map_or("", |(dir, _)| dir);
    let resolve = |name: &str| resolve(name, folder, base, all_files);
    let (handler, model_file, serialized) = (
        field("handler")?,
        field("modelFile"),
        field("serializedFile"),
    );
    let named = [Some(&handler), model_file.as_ref(), serialized.as_ref()];
    let extra_files = names
        .iter()
        .filter(|n| !n.starts_with("MAR-INF/") && !n.ends_with('/'))
        .filter(|n| !named.contains(&Some(*n)))
        .map(|n| resolve(n))
        .collect();
    Some(TorchserveArchive {
        model_name: field("modelName")?,
        version: field("modelVersion"),
        handler: resolve(&handler),
        model_file: model_file.as_deref().map(resolve),
        serialized_file: serialized.as_deref().map(resolve),
        extra_files,
        evidence: format!("{file} (MAR-INF/MANIFEST.json)"),
    })
}

fn shorten(line: &str) -> String {
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(100) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(files: &[(&str, &str)]) -> (tempfile::TempDir, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        (dir, files.iter().map(|(n, _)| n.to_string()).collect())
    }

    #[test]
    fn an_archiver_command_with_continuations_names_every_file() {
        let script = "#!/bin/sh\ntorch-model-archiver --model-name digits --version 1.0 \\\n  \
                      --model-file model.py --serialized-file weights/digits.pt \\\n  \
                      --handler handler.py --extra-files index_to_name.json,setup.json --force\n";
        let (dir, files) = service(&[
            ("scripts/archive.sh", script),
            ("model.py", ""),
            ("weights/digits.pt", ""),
            ("handler.py", ""),
            ("index_to_name.json", "{}"),
        ]);
        let found = find(dir.path(), &files);
        assert_eq!(found.len(), 1);
        let archive = &found[0];
        assert_eq!(archive.model_name, "digits");
        assert_eq!(archive.version.as_deref(), Some("1.0"));
        assert_eq!(archive.handler, "handler.py");
        assert_eq!(archive.model_file.as_deref(), Some("model.py"));
        assert_eq!(
            archive.serialized_file.as_deref(),
            Some("weights/digits.pt")
        );
        assert_eq!(archive.extra_files, ["index_to_name.json", "setup.json"]);
        assert!(
            archive
                .evidence
                .starts_with("scripts/archive.sh:2 `torch-model-archiver")
        );
        assert_eq!(
            archive.prediction_paths(),
            ["/predictions/digits", "/predictions/digits/1.0"]
        );
    }

    #[test]
    fn a_mar_manifest_is_read_when_no_command_builds_it() {
        let (dir, mut files) = service(&[("src/net.py", ""), ("src/h.py", "")]);
        let mar = dir.path().join("store/net.mar");
        std::fs::create_dir_all(mar.parent().unwrap()).unwrap();
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&mar).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("MAR-INF/MANIFEST.json", options).unwrap();
        std::io::Write::write_all(
            &mut zip,
            br#"{"model": {"modelName": "net", "handler": "h.py", "modelFile": "net.py",
                "serializedFile": "net.pt"}}"#,
        )
        .unwrap();
        for name in ["h.py", "net.py", "net.pt", "labels.json"] {
            zip.start_file(name, options).unwrap();
        }
        zip.finish().unwrap();
        files.push("store/net.mar".into());
        let found = find(dir.path(), &files);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].handler, "src/h.py");
        assert_eq!(found[0].model_file.as_deref(), Some("src/net.py"));
        // Not among the service's files: the name as the archive has it.
        assert_eq!(found[0].serialized_file.as_deref(), Some("net.pt"));
        assert_eq!(found[0].extra_files, ["labels.json"]);
    }

    #[test]
    fn torchserve_starts_the_archive_its_models_name() {
        let archive = |name: &str| TorchserveArchive {
            model_name: name.into(),
            version: None,
            handler: format!("{name}.py"),
            model_file: None,
            serialized_file: None,
            extra_files: Vec::new(),
            evidence: String::new(),
        };
        let archives = [archive("a"), archive("b")];
        let tokens = ["torchserve", "--start", "--models", "b", "b.mar"];
        assert_eq!(started_by(&tokens, &archives).unwrap().model_name, "b");
        assert!(started_by(&["torchserve", "--start"], &archives).is_none());
        assert_eq!(
            started_by(&["torchserve"], &archives[..1])
                .unwrap()
                .model_name,
            "a"
        );
    }
}
