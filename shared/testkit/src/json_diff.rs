//! Where two JSON documents differ, as one line per differing path, so a failing parity case
//! says what differs rather than printing two documents side by side.

use serde_json::Value;

/// The differences between `expected` and `got`: `$.Path[2].Key: expected X, got Y`, with
/// `(absent)` for a key or element only one side has. Empty when they are equal.
pub fn json_diff(expected: &Value, got: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk("$", expected, got, &mut out);
    out
}

/// [`json_diff`] as an indented block, at most `limit` lines, for a failure message.
pub fn json_diff_text(expected: &Value, got: &Value, limit: usize) -> String {
    let lines = json_diff(expected, got);
    let mut text: Vec<String> = lines
        .iter()
        .take(limit)
        .map(|l| format!("    {l}"))
        .collect();
    if lines.len() > limit {
        text.push(format!("    ... and {} more", lines.len() - limit));
    }
    text.join("\n")
}

fn walk(path: &str, expected: &Value, got: &Value, out: &mut Vec<String>) {
    match (expected, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let child = format!("{path}.{key}");
                match b.get(key) {
                    Some(other) => walk(&child, value, other, out),
                    None => out.push(format!("{child}: expected {}, got (absent)", short(value))),
                }
            }
            for (key, value) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                out.push(format!(
                    "{path}.{key}: expected (absent), got {}",
                    short(value)
                ));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let child = format!("{path}[{i}]");
                match (a.get(i), b.get(i)) {
                    (Some(x), Some(y)) => walk(&child, x, y, out),
                    (Some(x), None) => {
                        out.push(format!("{child}: expected {}, got (absent)", short(x)))
                    }
                    (None, Some(y)) => {
                        out.push(format!("{child}: expected (absent), got {}", short(y)))
                    }
                    (None, None) => {}
                }
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(format!("{path}: expected {}, got {}", short(a), short(b))),
    }
}

/// A value as compact JSON, cut to a readable length.
fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(120) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_difference_is_named_by_its_path() {
        let expected = json!({"A": 1, "B": [1, 2, {"C": "x"}], "D": true});
        let got = json!({"A": 1, "B": [1, 3, {"C": "y"}, 4], "E": null});
        assert_eq!(
            json_diff(&expected, &got),
            [
                "$.B[1]: expected 2, got 3",
                "$.B[2].C: expected \"x\", got \"y\"",
                "$.B[3]: expected (absent), got 4",
                "$.D: expected true, got (absent)",
                "$.E: expected (absent), got null",
            ]
        );
        assert!(json_diff(&expected, &expected).is_empty());
        assert_eq!(
            json_diff(&json!(1), &json!("1")),
            ["$: expected 1, got \"1\""]
        );
    }

    #[test]
    fn long_reports_are_cut() {
        let expected = json!((0..10).collect::<Vec<_>>());
        let got = json!((1..11).collect::<Vec<_>>());
        let text = json_diff_text(&expected, &got, 3);
        assert_eq!(text.lines().count(), 4);
        assert!(text.ends_with("... and 7 more"), "{text}");
    }
}
