//! Conversions between interpreter values ([`MontyObject`]) and JSON.
//!
//! AWS parameters and responses are JSON-shaped; a script's result may hold any Python value, so
//! values without a JSON form (functions, class instances, ...) become their `repr` string.
//! Depth is capped on both sides so a hostile, deeply nested value cannot exhaust a stack or
//! exceed serde_json's own recursion limit on the other side of the pipe.

use base64::Engine;
use monty_types::{DictPairs, MontyObject};
use serde_json::{Map, Number, Value};

/// Deepest nesting converted; below it a value becomes a marker string.
pub(crate) const MAX_DEPTH: usize = 64;

/// Why a value cannot be passed to AWS as parameters.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ParamError {
    #[error("parameters are nested more than {MAX_DEPTH} levels deep")]
    TooDeep,
    #[error("dict keys in parameters must be str, got {0}")]
    NonStringKey(String),
    #[error("a value of type {0} cannot be sent to AWS")]
    Unsupported(String),
}

/// A script's result as JSON: lossless for JSON-shaped values, a `repr` string otherwise.
pub(crate) fn result_to_json(obj: &MontyObject) -> Value {
    lossy(obj, 0)
}

fn lossy(obj: &MontyObject, depth: usize) -> Value {
    if depth >= MAX_DEPTH {
        return Value::String("<nested too deeply>".to_owned());
    }
    match obj {
        MontyObject::None => Value::Null,
        MontyObject::Bool(b) => Value::Bool(*b),
        MontyObject::Int(i) => Value::from(*i),
        MontyObject::BigInt(b) => b
            .to_string()
            .parse::<Number>()
            .map_or_else(|_| Value::String(b.to_string()), Value::Number),
        MontyObject::Float(f) => {
            Number::from_f64(*f).map_or_else(|| Value::String(obj.py_repr()), Value::Number)
        }
        MontyObject::String(s) => Value::String(s.clone()),
        MontyObject::Bytes(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        MontyObject::List(items)
        | MontyObject::Tuple(items)
        | MontyObject::Set(items)
        | MontyObject::FrozenSet(items) => {
            Value::Array(items.iter().map(|v| lossy(v, depth + 1)).collect())
        }
        MontyObject::NamedTuple {
            field_names,
            values,
            ..
        } => Value::Object(
            field_names
                .iter()
                .cloned()
                .zip(values.iter().map(|v| lossy(v, depth + 1)))
                .collect(),
        ),
        MontyObject::Dict(pairs) => {
            let mut map = Map::new();
            for (k, v) in pairs {
                map.insert(key_string(k), lossy(v, depth + 1));
            }
            Value::Object(map)
        }
        MontyObject::Date(d) => Value::String(format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)),
        MontyObject::DateTime(dt) => {
            let mut s = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second
            );
            if dt.microsecond != 0 {
                s.push_str(&format!(".{:06}", dt.microsecond));
            }
            if let Some(off) = dt.offset_seconds {
                s.push_str(&offset_string(off));
            }
            Value::String(s)
        }
        MontyObject::Time(t) => {
            let mut s = format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second);
            if t.microsecond != 0 {
                s.push_str(&format!(".{:06}", t.microsecond));
            }
            Value::String(s)
        }
        MontyObject::TimeDelta(td) => {
            let secs = f64::from(td.days) * 86_400.0
                + f64::from(td.seconds)
                + f64::from(td.microseconds) / 1e6;
            Number::from_f64(secs).map_or(Value::Null, Value::Number)
        }
        MontyObject::Path(p) => Value::String(p.clone()),
        MontyObject::Exception { exc_type, arg } => Value::String(match arg {
            Some(a) => format!("{exc_type}: {a}"),
            None => exc_type.to_string(),
        }),
        other => Value::String(other.py_repr()),
    }
}

fn offset_string(off: i32) -> String {
    if off == 0 {
        return "Z".to_owned();
    }
    let sign = if off < 0 { '-' } else { '+' };
    let abs = off.unsigned_abs();
    format!("{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60)
}

fn key_string(k: &MontyObject) -> String {
    match k {
        MontyObject::String(s) => s.clone(),
        MontyObject::Int(i) => i.to_string(),
        MontyObject::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
        MontyObject::None => "None".to_owned(),
        other => other.py_repr(),
    }
}

/// Parameters for an AWS call: strictly JSON-shaped (dict keys must be strings).
pub(crate) fn params_to_json(obj: &MontyObject) -> Result<Value, ParamError> {
    strict(obj, 0)
}

fn strict(obj: &MontyObject, depth: usize) -> Result<Value, ParamError> {
    if depth >= MAX_DEPTH {
        return Err(ParamError::TooDeep);
    }
    Ok(match obj {
        MontyObject::None => Value::Null,
        MontyObject::Bool(b) => Value::Bool(*b),
        MontyObject::Int(i) => Value::from(*i),
        MontyObject::BigInt(b) => b
            .to_string()
            .parse::<Number>()
            .map(Value::Number)
            .map_err(|_| ParamError::Unsupported("int".to_owned()))?,
        MontyObject::Float(f) => Number::from_f64(*f)
            .map(Value::Number)
            .ok_or_else(|| ParamError::Unsupported("float (nan/inf)".to_owned()))?,
        MontyObject::String(s) => Value::String(s.clone()),
        MontyObject::Bytes(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        MontyObject::List(items)
        | MontyObject::Tuple(items)
        | MontyObject::Set(items)
        | MontyObject::FrozenSet(items) => Value::Array(
            items
                .iter()
                .map(|v| strict(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        MontyObject::Dict(pairs) => {
            let mut map = Map::new();
            for (k, v) in pairs {
                let MontyObject::String(key) = k else {
                    return Err(ParamError::NonStringKey(type_name(k)));
                };
                map.insert(key.clone(), strict(v, depth + 1)?);
            }
            Value::Object(map)
        }
        MontyObject::Date(_) | MontyObject::DateTime(_) => lossy(obj, depth),
        other => return Err(ParamError::Unsupported(type_name(other))),
    })
}

fn type_name(obj: &MontyObject) -> String {
    // The repr's head is enough to name the kind of value in an error message.
    let repr = obj.py_repr();
    let head: String = repr.chars().take(40).collect();
    match obj {
        MontyObject::Int(_) | MontyObject::BigInt(_) => "int".to_owned(),
        MontyObject::Float(_) => "float".to_owned(),
        MontyObject::Tuple(_) => "tuple".to_owned(),
        _ => head,
    }
}

/// A JSON value (an AWS response) as an interpreter value.
pub(crate) fn json_to_object(value: &Value) -> MontyObject {
    match value {
        Value::Null => MontyObject::None,
        Value::Bool(b) => MontyObject::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => MontyObject::Int(i),
            // u64 beyond i64 and non-integers: a float keeps the magnitude.
            None => MontyObject::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => MontyObject::String(s.clone()),
        Value::Array(items) => MontyObject::List(items.iter().map(json_to_object).collect()),
        Value::Object(map) => MontyObject::Dict(DictPairs::from(
            map.iter()
                .map(|(k, v)| (MontyObject::String(k.clone()), json_to_object(v)))
                .collect::<Vec<_>>(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trip_keeps_shape() {
        let v = json!({"Buckets": [{"Name": "a", "Size": 3, "Ratio": 0.5, "Tags": null, "Ok": true}], "Owner": {}});
        assert_eq!(result_to_json(&json_to_object(&v)), v);
        assert_eq!(params_to_json(&json_to_object(&v)).unwrap(), v);
    }

    #[test]
    fn params_reject_non_string_keys_and_deep_nesting() {
        let obj = MontyObject::Dict(DictPairs::from(vec![(
            MontyObject::Int(1),
            MontyObject::None,
        )]));
        assert!(matches!(
            params_to_json(&obj),
            Err(ParamError::NonStringKey(_))
        ));
        let mut deep = MontyObject::None;
        for _ in 0..100 {
            deep = MontyObject::List(vec![deep]);
        }
        assert_eq!(params_to_json(&deep), Err(ParamError::TooDeep));
        // The lossy form stops at the cap instead of failing.
        let text = result_to_json(&deep).to_string();
        assert!(text.contains("nested too deeply"));
    }

    #[test]
    fn large_unsigned_becomes_float() {
        let obj = json_to_object(&json!(u64::MAX));
        assert!(matches!(obj, MontyObject::Float(_)));
    }
}
