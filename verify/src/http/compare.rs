//! Whether the two servers answered alike: status, media type, and the body (JSON by
//! structure, numbers within the plan's tolerance, reported times only as numbers).

use serde_json::Value;

use super::Answered;
use crate::compare::Tolerance;

fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether two answers agree: status, media type, and body (JSON compared by structure, with
/// numbers within `tolerance`; anything else byte for byte).
pub fn compare_answers(
    original: &Answered,
    migrated: &Answered,
    tolerance: Tolerance,
    time_paths: &[String],
) -> (bool, String) {
    if original.status != migrated.status {
        return (
            false,
            format!("status {} vs {}", original.status, migrated.status),
        );
    }
    if media_type(&original.content_type) != media_type(&migrated.content_type) {
        return (
            false,
            format!(
                "content type `{}` vs `{}`",
                original.content_type, migrated.content_type
            ),
        );
    }
    match (
        serde_json::from_str::<Value>(&original.body),
        serde_json::from_str::<Value>(&migrated.body),
    ) {
        (Ok(a), Ok(b)) => {
            let mut worst = 0f64;
            match json_difference(
                &a,
                &b,
                "",
                &JsonRules {
                    tolerance,
                    time_paths,
                },
                &mut worst,
            ) {
                Some(difference) => (false, difference),
                None if worst > 0.0 => (
                    true,
                    format!("numbers within tolerance (max |diff| {worst:.2e})"),
                ),
                None => (true, "identical".into()),
            }
        }
        _ if original.body == migrated.body => (true, "identical".into()),
        _ if without_addresses(&original.body) == without_addresses(&migrated.body) => {
            (true, "identical but for object addresses".into())
        }
        _ => (false, "the bodies differ".into()),
    }
}

/// How two JSON bodies are compared: numbers within `tolerance`, any number at `time_paths`.
struct JsonRules<'a> {
    tolerance: Tolerance,
    time_paths: &'a [String],
}

fn json_difference(
    a: &Value,
    b: &Value,
    path: &str,
    rules: &JsonRules,
    worst: &mut f64,
) -> Option<String> {
    let at = |p: &str| {
        if p.is_empty() {
            "the body".to_string()
        } else {
            format!("`{}`", p.trim_start_matches('.'))
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let missing: Vec<&String> = x.keys().filter(|k| !y.contains_key(*k)).collect();
            let extra: Vec<&String> = y.keys().filter(|k| !x.contains_key(*k)).collect();
            if !missing.is_empty() || !extra.is_empty() {
                return Some(format!(
                    "{}: keys {missing:?} missing, {extra:?} extra",
                    at(path)
                ));
            }
            x.iter()
                .find_map(|(k, v)| json_difference(v, &y[k], &format!("{path}.{k}"), rules, worst))
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{}: {} items vs {}", at(path), x.len(), y.len()));
            }
            x.iter().zip(y).enumerate().find_map(|(i, (v, w))| {
                json_difference(v, w, &format!("{path}[{i}]"), rules, worst)
            })
        }
        (Value::Number(_), Value::Number(_)) if rules.time_paths.iter().any(|p| p == path) => None,
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            let diff = (x - y).abs();
            *worst = worst.max(diff);
            let tolerance = rules.tolerance;
            (diff > tolerance.atol + tolerance.rtol * x.abs())
                .then(|| format!("{}: {x} vs {y}", at(path)))
        }
        (Value::String(x), Value::String(y)) if without_addresses(x) == without_addresses(y) => {
            None
        }
        (x, y) if x == y => None,
        (x, y) => Some(format!("{}: {x} vs {y}", at(path))),
    }
}

/// A Python repr's memory address (`<_io.BytesIO object at 0x7f2b102b0fe0>`) differs between
/// any two processes, so it is no difference between the services.
fn without_addresses(text: &str) -> std::borrow::Cow<'_, str> {
    static ADDRESS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r" at 0x[0-9a-fA-F]+>").expect("a valid pattern")
    });
    ADDRESS.replace_all(text, " at 0x…>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str) -> Answered {
        Answered {
            status: 400,
            content_type: "application/json".into(),
            body: body.into(),
            seconds: 0.0,
        }
    }

    #[test]
    fn python_object_addresses_are_no_difference_but_other_text_is() {
        let tolerance = Tolerance {
            atol: 0.0,
            rtol: 0.0,
        };
        let a = answer(
            r#"{"error": "cannot identify image file <_io.BytesIO object at 0x7f2b102b0fe0>"}"#,
        );
        let b =
            answer(r#"{"error": "cannot identify image file <_io.BytesIO object at 0x2442078>"}"#);
        assert!(compare_answers(&a, &b, tolerance, &[]).0);
        let c =
            answer(r#"{"error": "cannot identify image file <_io.StringIO object at 0x2442078>"}"#);
        let (agree, detail) = compare_answers(&a, &c, tolerance, &[]);
        assert!(!agree && detail.contains("`error`"), "{detail}");
    }
}
