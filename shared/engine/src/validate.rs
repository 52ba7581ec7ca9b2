//! The validation ladder for API parameters, before anything is sent: unknown and missing
//! members, types, enum values, lengths, ranges and patterns, with every problem reported at
//! once and each naming what would be valid.
//!
//! It covers what botocore's parameter validator checks (required, unknown, types, minimum
//! lengths and values) and goes further where the model says more (maximums, enums,
//! patterns). Patterns written in a regex dialect the `regex` crate cannot compile
//! (look-arounds) are skipped rather than guessed.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use aws_models::{ServiceModel, Shape};
use serde_json::{Map, Value};

use crate::serialize::parse_timestamp;

/// Every problem found, in the order met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationReport {
    pub problems: Vec<String>,
}

impl std::fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Parameter validation failed:\n{}",
            self.problems.join("\n")
        )
    }
}

fn compiled(pattern: &str) -> Option<regex::Regex> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = cache.lock().ok()?;
    map.entry(pattern.to_owned())
        .or_insert_with(|| regex::Regex::new(pattern).ok())
        .clone()
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "structure",
    }
}

struct Checker<'m> {
    model: &'m ServiceModel,
    problems: Vec<String>,
}

impl Checker<'_> {
    fn shape(&mut self, name: &str) -> Option<&Shape> {
        self.model.shape(name)
    }

    fn wrong_type(&mut self, path: &str, value: &Value, valid: &str) {
        self.problems.push(format!(
            "Invalid type for parameter {path}, value: {}, type: {}, valid types: {valid}",
            short(value),
            type_name(value)
        ));
    }

    fn check(&mut self, shape_name: &str, value: &Value, path: &str) {
        let Some(shape) = self.shape(shape_name).cloned() else {
            return;
        };
        match shape.kind.as_str() {
            "structure" if shape.document => {}
            "structure" => {
                let Value::Object(map) = value else {
                    return self.wrong_type(path, value, "structure (an object)");
                };
                self.structure(&shape, map, path);
            }
            "list" => {
                let Value::Array(items) = value else {
                    return self.wrong_type(path, value, "list");
                };
                self.length(&shape, items.len(), path, "length");
                if let Some(member) = &shape.member {
                    for (i, item) in items.iter().enumerate() {
                        self.check(&member.shape, item, &format!("{path}[{i}]"));
                    }
                }
            }
            "map" => {
                let Value::Object(map) = value else {
                    return self.wrong_type(path, value, "map (an object)");
                };
                self.length(&shape, map.len(), path, "length");
                for (k, v) in map {
                    if let Some(key) = &shape.key {
                        self.check(
                            &key.shape,
                            &Value::String(k.clone()),
                            &format!("{path} key {k:?}"),
                        );
                    }
                    if let Some(val) = &shape.value {
                        self.check(&val.shape, v, &format!("{path}.{k}"));
                    }
                }
            }
            "string" => {
                let Value::String(s) = value else {
                    return self.wrong_type(path, value, "string");
                };
                self.length(&shape, s.chars().count(), path, "length");
                if let Some(values) = &shape.enum_values
                    && !values.contains(s)
                {
                    self.problems.push(format!(
                        "Invalid value for parameter {path}: \"{s}\"; valid values: {}",
                        values.join(", ")
                    ));
                }
                if let Some(p) = &shape.pattern
                    && let Some(re) = compiled(p)
                    && !re.is_match(s)
                {
                    self.problems.push(format!(
                        "Invalid value for parameter {path}: \"{}\" does not match the pattern {p}",
                        cut(s)
                    ));
                }
            }
            "integer" | "long" => match value {
                Value::Number(n) if n.is_i64() || n.is_u64() => {
                    if let Some(v) = n.as_f64() {
                        self.range(&shape, v, path);
                    }
                }
                _ => self.wrong_type(path, value, "integer"),
            },
            "float" | "double" => match value {
                Value::Number(n) => {
                    if let Some(v) = n.as_f64() {
                        self.range(&shape, v, path);
                    }
                }
                _ => self.wrong_type(path, value, "number"),
            },
            "boolean" if !value.is_boolean() => {
                self.wrong_type(path, value, "boolean (true or false)");
            }
            "blob" => match value {
                Value::String(s) => self.length(&shape, s.len(), path, "length in bytes"),
                Value::Object(o) if o.contains_key("__bytes_base64__") => {}
                _ => self.wrong_type(path, value, "blob (a string)"),
            },
            "timestamp" if parse_timestamp(value).is_err() => {
                self.problems.push(format!(
                    "Invalid timestamp for parameter {path}: {}; use ISO 8601 (2024-01-31T12:00:00Z) or epoch seconds",
                    short(value)
                ));
            }
            _ => {}
        }
    }

    fn structure(&mut self, shape: &Shape, map: &Map<String, Value>, path: &str) {
        let label = if path.is_empty() { "input" } else { path };
        for required in &shape.required {
            if !map.contains_key(required) {
                self.problems.push(format!(
                    "Missing required parameter in {label}: \"{required}\""
                ));
            }
        }
        for (k, v) in map {
            match shape.members.get(k) {
                // A JSON-value member carries any JSON document (sent base64-encoded).
                Some(member) if member.jsonvalue => {}
                Some(member) => {
                    let child = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    self.check(&member.shape, v, &child);
                }
                None => {
                    let valid: Vec<&str> = shape.members.keys().map(String::as_str).collect();
                    self.problems.push(format!(
                        "Unknown parameter in {label}: \"{k}\", must be one of: {}",
                        valid.join(", ")
                    ));
                }
            }
        }
        if shape.union && map.len() != 1 {
            self.problems.push(format!(
                "Invalid number of parameters set for tagged union structure {label}. Can only set one of the following keys: {}",
                shape.members.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }

    fn length(&mut self, shape: &Shape, len: usize, path: &str, what: &str) {
        if let Some(min) = shape.min
            && (len as f64) < min
        {
            self.problems.push(format!(
                "Invalid {what} for parameter {path}, value: {len}, valid min {what}: {min}"
            ));
        }
        if let Some(max) = shape.max
            && (len as f64) > max
        {
            self.problems.push(format!(
                "Invalid {what} for parameter {path}, value: {len}, valid max {what}: {max}"
            ));
        }
    }

    fn range(&mut self, shape: &Shape, v: f64, path: &str) {
        if let Some(min) = shape.min
            && v < min
        {
            self.problems.push(format!(
                "Invalid value for parameter {path}, value: {v}, valid min value: {min}"
            ));
        }
        if let Some(max) = shape.max
            && v > max
        {
            self.problems.push(format!(
                "Invalid value for parameter {path}, value: {v}, valid max value: {max}"
            ));
        }
    }
}

fn cut(s: &str) -> String {
    let t: String = s.chars().take(80).collect();
    if t.len() < s.len() {
        format!("{t}...")
    } else {
        t
    }
}

fn short(v: &Value) -> String {
    cut(&v.to_string())
}

/// Checks an operation's parameters against its input shape.
pub fn validate(
    model: &ServiceModel,
    operation: &str,
    params: &Map<String, Value>,
) -> Result<(), ValidationReport> {
    let mut checker = Checker {
        model,
        problems: Vec::new(),
    };
    let input = model
        .operation(operation)
        .and_then(|o| o.input.as_ref())
        .and_then(|r| model.shape(&r.shape))
        .cloned();
    match input {
        Some(shape) => checker.structure(&shape, params, ""),
        None => {
            if let Some(k) = params.keys().next() {
                checker.problems.push(format!(
                    "Unknown parameter in input: \"{k}\"; {operation} takes no parameters"
                ));
            }
        }
    }
    if checker.problems.is_empty() {
        Ok(())
    } else {
        Err(ValidationReport {
            problems: checker.problems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_models::models;
    use serde_json::json;

    fn check(service: &str, op: &str, params: Value) -> Result<(), String> {
        let model = models().service(service).expect("model");
        let Value::Object(map) = params else {
            panic!("object")
        };
        validate(&model, op, &map).map_err(|r| r.to_string())
    }

    #[test]
    fn valid_parameters_pass() {
        check(
            "dynamodb",
            "GetItem",
            json!({"TableName": "music", "Key": {"id": {"S": "1"}}}),
        )
        .expect("valid");
        check(
            "ec2",
            "DescribeVpcs",
            json!({"VpcIds": ["vpc-1"], "MaxResults": 5}),
        )
        .expect("valid");
        check("s3", "ListBuckets", json!({})).expect("valid");
    }

    #[test]
    fn every_rung_of_the_ladder_reports_what_is_valid() {
        let e = check("dynamodb", "GetItem", json!({"Key": {}, "Bogus": 1})).expect_err("invalid");
        assert!(
            e.contains("Missing required parameter in input: \"TableName\""),
            "{e}"
        );
        assert!(
            e.contains("Unknown parameter in input: \"Bogus\", must be one of: TableName"),
            "{e}"
        );

        let e = check("ec2", "DescribeVpcs", json!({"MaxResults": "five"})).expect_err("type");
        assert!(e.contains("Invalid type for parameter MaxResults"), "{e}");

        let e = check("ec2", "DescribeVpcs", json!({"MaxResults": 1})).expect_err("range");
        assert!(e.contains("valid min value: 5"), "{e}");

        let e = check(
            "dynamodb",
            "CreateTable",
            json!({
                "TableName": "t", "BillingMode": "CHEAP",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]
            }),
        )
        .expect_err("enum");
        assert!(
            e.contains("valid values: PROVISIONED, PAY_PER_REQUEST"),
            "{e}"
        );

        let e = check("dynamodb", "DescribeTable", json!({"TableName": ""})).expect_err("length");
        assert!(e.contains("valid min length: 1"), "{e}");
        let e = check("dynamodb", "ListTables", json!({"Limit": 500})).expect_err("max");
        assert!(e.contains("valid max value: 100"), "{e}");

        // Patterns are searched, not anchored (Smithy's rule): a name with no allowed
        // character at all fails.
        let e = check("iam", "CreateUser", json!({"UserName": "!!!"})).expect_err("pattern");
        assert!(e.contains("does not match the pattern"), "{e}");

        let e = check(
            "cloudwatch",
            "GetMetricData",
            json!({
                "MetricDataQueries": [], "StartTime": "yesterday", "EndTime": "2024-01-01T00:00:00Z"
            }),
        )
        .expect_err("timestamp");
        assert!(
            e.contains("Invalid timestamp for parameter StartTime"),
            "{e}"
        );
    }
}
