//! Requests the service documents for itself: the `curl` commands in its README, docstrings
//! and scripts. `generate` records them in the manifest, and `verify` sends each to the
//! original and to the bundle (with bad requests of its own).

use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    pub method: String,
    /// Path and query.
    pub path: String,
    pub content_type: Option<String>,
    pub body: String,
    /// `README.md:12`.
    pub source: String,
}

/// Every distinct `curl` request in the service's text files (`files` relative to `root`).
pub fn find_examples(root: &Path, files: &[String]) -> Vec<Example> {
    let mut found: Vec<Example> = Vec::new();
    for rel in files {
        let texty = [".md", ".py", ".txt", ".sh", ".rst", ".http"]
            .iter()
            .any(|ext| rel.to_ascii_lowercase().ends_with(ext));
        if !texty {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root.join(rel)) else {
            continue;
        };
        for (line, command) in curl_commands(&text) {
            if let Some(mut example) = parse_curl(&command, root) {
                example.source = format!("{rel}:{line}");
                if !found.iter().any(|f| same_request(f, &example)) {
                    found.push(example);
                }
            }
        }
    }
    found
}

fn same_request(a: &Example, b: &Example) -> bool {
    a.method == b.method && a.path == b.path && a.body == b.body
}

/// `curl` commands with their continuation lines joined, and the line each starts on.
fn curl_commands(text: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(at) = lines[i].find("curl ") else {
            i += 1;
            continue;
        };
        let start = i;
        let mut command = lines[i][at..].trim_end().to_string();
        while command.ends_with('\\') && i + 1 < lines.len() {
            command.pop();
            i += 1;
            command.push(' ');
            command.push_str(lines[i].trim());
        }
        out.push((start + 1, command));
        i += 1;
    }
    out
}

/// Shell words, with single and double quotes (enough for documented examples).
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            (None, '|' | ';' | '&' | '`') => break,
            (None, c) => word.push(c),
        }
    }
    if any || !word.is_empty() {
        words.push(word);
    }
    words
}

fn parse_curl(command: &str, root: &Path) -> Option<Example> {
    let words = words(command);
    let mut method = None;
    let mut content_type = None;
    let mut body: Option<String> = None;
    let mut url = None;
    let mut i = 1;
    while i < words.len() {
        let w = words[i].as_str();
        let next = words.get(i + 1).cloned();
        match w {
            "-X" | "--request" => {
                method = next;
                i += 1;
            }
            "-H" | "--header" => {
                if let Some(h) = next
                    && let Some((k, v)) = h.split_once(':')
                    && k.trim().eq_ignore_ascii_case("content-type")
                {
                    content_type = Some(v.trim().to_string());
                }
                i += 1;
            }
            "-d" | "--data" | "--data-raw" | "--data-binary" | "--json" => {
                let data = next?;
                body = Some(match data.strip_prefix('@') {
                    Some(file) => std::fs::read_to_string(root.join(file)).ok()?,
                    None => data,
                });
                if w == "--json" {
                    content_type.get_or_insert_with(|| "application/json".into());
                }
                i += 1;
            }
            // A file upload needs a file the example names; left to `--input`.
            "-F" | "--form" | "-T" | "--upload-file" => return None,
            _ if w.starts_with("http://") || w.starts_with("https://") => url = Some(w.to_string()),
            _ => {}
        }
        i += 1;
    }
    let url = url?;
    let after_scheme = url.split_once("://")?.1;
    let path = after_scheme
        .find('/')
        .map_or("/".to_string(), |at| after_scheme[at..].to_string());
    let body = body.unwrap_or_default();
    let method = method.unwrap_or_else(|| if body.is_empty() { "GET" } else { "POST" }.into());
    if content_type.is_none() && !body.is_empty() {
        // curl's own default for -d.
        content_type = Some("application/x-www-form-urlencoded".into());
    }
    Some(Example {
        method: method.to_ascii_uppercase(),
        path,
        content_type,
        body,
        source: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_documented_curl_with_continuations_becomes_a_request() {
        let text = "Run it:\n\n    curl -H 'content-type: application/json' \\\n        \
                    -d '{\"features\": [5.1, 3.5]}' http://localhost:5000/predict\n\
                    curl http://localhost:5000/health | jq .\n";
        let commands = curl_commands(text);
        assert_eq!(commands.len(), 2);
        assert_eq!(commands[0].0, 3);
        let e = parse_curl(&commands[0].1, Path::new(".")).unwrap();
        assert_eq!(e.method, "POST");
        assert_eq!(e.path, "/predict");
        assert_eq!(e.content_type.as_deref(), Some("application/json"));
        assert_eq!(e.body, "{\"features\": [5.1, 3.5]}");
        let health = parse_curl(&commands[1].1, Path::new(".")).unwrap();
        assert_eq!(
            (health.method.as_str(), health.path.as_str()),
            ("GET", "/health")
        );
        assert!(health.body.is_empty());
    }

    #[test]
    fn uploads_and_commands_without_a_url_are_left_out() {
        assert!(parse_curl("curl -F image=@cat.jpg http://x/predict", Path::new(".")).is_none());
        assert!(parse_curl("curl --version", Path::new(".")).is_none());
        let e = parse_curl(
            "curl -X put --json '{\"a\": 1}' http://h:1/v?q=2",
            Path::new("."),
        )
        .unwrap();
        assert_eq!((e.method.as_str(), e.path.as_str()), ("PUT", "/v?q=2"));
        assert_eq!(e.content_type.as_deref(), Some("application/json"));
    }
}
