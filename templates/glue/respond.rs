//! The response body rebuilt from the model's output, as the original's handler built it. The
//! template is JSON recorded in the plan by `wasm-migrate convert`; objects with a `$` key are
//! filled in, everything else is copied:
//!
//! - `{"$": "label" | "index" | "score" | "logit"}`: the current class's label, index, score
//!   (after the service's softmax, if any) or raw output; `"round": N` rounds like Python's
//!   `round(x, N)`. The current class is the best one unless inside `$each`.
//! - `{"$": "scores" | "logits"}`: every class's score or raw output, in index order.
//! - `{"$": "filename"}`: the uploaded file's name, as the client sent it.
//! - `{"$": "elapsed", "unit": "ms" | "s"}`: the time this request has taken so far;
//!   `{"$": "timestamp"}`: the Unix time now, in seconds (a service that reports either).
//! - `{"$each": "top", "k": K, "item": T}`: T for the K best classes, best first;
//!   `{"$each": "class", "item": T}`: T for every class in index order. With `"key": "label"`
//!   (or `"index"`) and `"value": T` instead of `item`, an object keyed by class.

use serde_json::{Map, Value};

pub struct Classes<'a> {
    pub logits: &'a [f32],
    pub scores: Vec<f32>,
    /// Class indices, best score first.
    pub ranked: Vec<usize>,
    pub labels: &'a [&'a str],
    /// The upload's file name, for a service that echoes it.
    pub filename: Option<&'a str>,
    /// When the request started, for `elapsed`; without it, times render as null.
    pub started: Option<std::time::Instant>,
}

impl<'a> Classes<'a> {
    pub fn new(logits: &'a [f32], softmax: bool, labels: &'a [&'a str]) -> Classes<'a> {
        let scores = if softmax {
            softmax_of(logits)
        } else {
            logits.to_vec()
        };
        let mut ranked: Vec<usize> = (0..scores.len()).collect();
        // Stable and NaN-safe: ties keep index order, as torch.topk and argmax do.
        ranked.sort_by(|&a, &b| {
            scores[b]
                .partial_cmp(&scores[a])
                .unwrap_or(std::cmp::Ordering::Less)
        });
        Classes {
            logits,
            scores,
            ranked,
            labels,
            filename: None,
            started: None,
        }
    }

    pub fn render(&self, template: &Value) -> Result<Value, String> {
        let best = self
            .ranked
            .first()
            .copied()
            .ok_or("the model gave no output")?;
        self.fill(template, best)
    }

    fn fill(&self, template: &Value, current: usize) -> Result<Value, String> {
        match template {
            Value::Object(map) if map.contains_key("$") => self.placeholder(map, current),
            // A text answer: the body rendered, then written as text (`8`, not `"8"`).
            Value::Object(map) if map.contains_key("$text") => {
                let body = match self.fill(&map["$text"], current)? {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                let mut answer = map.clone();
                answer.insert("$text".into(), Value::String(body));
                Ok(Value::Object(answer))
            }
            Value::Object(map) if map.contains_key("$each") => self.each(map),
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| Ok((k.clone(), self.fill(v, current)?)))
                .collect::<Result<Map<_, _>, String>>()
                .map(Value::Object),
            Value::Array(items) => items
                .iter()
                .map(|v| self.fill(v, current))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            literal => Ok(literal.clone()),
        }
    }

    fn placeholder(&self, map: &Map<String, Value>, current: usize) -> Result<Value, String> {
        let round = map.get("round").and_then(Value::as_u64).map(|n| n as usize);
        let number = |x: f32| number(f64::from(x), round);
        Ok(match map["$"].as_str().unwrap_or("") {
            "label" => match self.labels.get(current) {
                Some(label) => Value::from(*label),
                None => Value::from(current.to_string()),
            },
            "index" => Value::from(current),
            "filename" => self.filename.map_or(Value::Null, Value::from),
            "score" => number(self.scores[current]),
            "logit" => number(self.logits[current]),
            "scores" => Value::Array(self.scores.iter().map(|&x| number(x)).collect()),
            "logits" => Value::Array(self.logits.iter().map(|&x| number(x)).collect()),
            "elapsed" => match self.started {
                Some(started) => {
                    let seconds = started.elapsed().as_secs_f64();
                    let scale = if map.get("unit").and_then(Value::as_str) == Some("ms") {
                        1e3
                    } else {
                        1.0
                    };
                    self::number(seconds * scale, round)
                }
                None => Value::Null,
            },
            "timestamp" => match self.started {
                Some(_) => std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(Value::Null, |d| self::number(d.as_secs_f64(), round)),
                None => Value::Null,
            },
            other => return Err(format!("response template: unknown placeholder `{other}`")),
        })
    }

    fn each(&self, map: &Map<String, Value>) -> Result<Value, String> {
        let classes: Vec<usize> = match map["$each"].as_str() {
            Some("top") => {
                let k = map.get("k").and_then(Value::as_u64).unwrap_or(1) as usize;
                self.ranked.iter().copied().take(k).collect()
            }
            Some("class") => (0..self.scores.len()).collect(),
            other => return Err(format!("response template: unknown $each {other:?}")),
        };
        if let Some(item) = map.get("item") {
            return classes
                .iter()
                .map(|&c| self.fill(item, c))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array);
        }
        let value = map
            .get("value")
            .ok_or("response template: $each needs `item` or `value`")?;
        let key = map.get("key").and_then(Value::as_str).unwrap_or("label");
        let mut object = Map::new();
        for &c in &classes {
            let name = match key {
                "index" => c.to_string(),
                _ => self
                    .labels
                    .get(c)
                    .map_or_else(|| c.to_string(), |l| l.to_string()),
            };
            object.insert(name, self.fill(value, c)?);
        }
        Ok(Value::Object(object))
    }
}

/// A float as Python's json writes it; `round(x, n)` first when asked.
fn number(x: f64, round: Option<usize>) -> Value {
    let x = match round {
        // Exact decimal rounding of the binary value, half to even, as Python's round().
        Some(n) => format!("{x:.n$}").parse().unwrap_or(x),
        None => x,
    };
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// Softmax in f32, as torch and NumPy compute it on float32 logits.
pub fn softmax_of(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.iter().map(|&x| (x - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.iter().map(|&e| e / sum).collect()
}
