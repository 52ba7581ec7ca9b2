//! API parameters to the parts of an HTTP request, per protocol, byte for byte as botocore
//! builds them (so signatures and service behaviour match the AWS CLI's).
//!
//! Protocol choice: the first of `json`, `rest-json`, `rest-xml`, `smithy-rpc-v2-cbor`,
//! `query`, `ec2` that the model lists in `metadata.protocols` (else `metadata.protocol`).
//!
//! - `json`: `POST /`, `X-Amz-Target: <targetPrefix>.<Operation>`,
//!   `Content-Type: application/x-amz-json-<jsonVersion>`, body = the parameters as JSON in
//!   parameter order with `locationName` renames, blobs in base64, timestamps as epoch
//!   seconds, written like Python's `json.dumps` (`", "` and `": "` separators, non-ASCII
//!   escaped, Python float spelling).
//! - `query`: form body `Action=<Operation>&Version=<apiVersion>&...` with dotted names:
//!   lists as `Name.member.N` (or flattened `Name.N`), maps as `Name.entry.N.key/value`,
//!   booleans `true`/`false`, timestamps ISO 8601; values percent-encoded except
//!   `A-Z a-z 0-9 - . _ ~`.
//! - `ec2`: like query, but lists are `Name.N` and names come from `queryName`, else
//!   `locationName` with its first letter capitalised.

use crate::python::truthy;
use aws_models::{Operation, ServiceModel, Shape};
use base64::Engine;
use serde_json::{Map, Value};

/// The protocol-dependent parts of a request (no host, no signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestParts {
    pub method: String,
    pub path: String,
    /// Already percent-encoded `key=value` pairs, in order.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub host_prefix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SerializeError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unsupported(String),
}

const PRIORITY: [&str; 6] = [
    "json",
    "rest-json",
    "rest-xml",
    "smithy-rpc-v2-cbor",
    "query",
    "ec2",
];

/// The protocol botocore would use for this model.
pub fn protocol(model: &ServiceModel) -> String {
    let listed = &model.metadata.protocols;
    PRIORITY
        .iter()
        .find(|p| listed.iter().any(|l| l == *p))
        .map(|p| (*p).to_owned())
        .or_else(|| model.metadata.protocol.clone())
        .unwrap_or_else(|| "json".into())
}

/// Builds the request parts for `operation` with `params`.
pub fn serialize(
    model: &ServiceModel,
    operation: &Operation,
    params: &Map<String, Value>,
) -> Result<RequestParts, SerializeError> {
    let protocol = protocol(model);
    match protocol.as_str() {
        "json" => json_request(model, operation, params),
        "query" | "ec2" => query_request(model, operation, params, protocol == "ec2"),
        "rest-json" => rest_request(model, operation, params, BodyFormat::Json),
        "rest-xml" => rest_request(model, operation, params, BodyFormat::Xml),
        other => Err(SerializeError::Unsupported(format!(
            "the {other} protocol ({}) is not serialised yet",
            model.service_name
        ))),
    }
}

fn shape<'m>(model: &'m ServiceModel, name: &str) -> Result<&'m Shape, SerializeError> {
    model
        .shape(name)
        .ok_or_else(|| SerializeError::Invalid(format!("model has no shape {name}")))
}

fn input_shape<'m>(
    model: &'m ServiceModel,
    op: &Operation,
) -> Result<Option<&'m Shape>, SerializeError> {
    match &op.input {
        Some(r) => Ok(Some(shape(model, &r.shape)?)),
        None => Ok(None),
    }
}

/// A member's serialised name: `locationName` on the reference, else on the target shape
/// (botocore merges the two, the reference winning).
fn location_name<'a>(member: &'a aws_models::ShapeRef, target: &'a Shape) -> Option<&'a str> {
    member
        .location_name
        .as_deref()
        .or(target.location_name.as_deref())
}

/// The HTTP method of an operation (botocore defaults to POST).
fn http_method(op: &Operation) -> String {
    if op.http.method.is_empty() {
        "POST".into()
    } else {
        op.http.method.clone()
    }
}

/// The timestamp format a member asks for: on the reference, else on the shape, else the
/// protocol's default.
fn timestamp_format<'a>(
    member: &'a aws_models::ShapeRef,
    shape: &'a Shape,
    default: &'a str,
) -> &'a str {
    member
        .timestamp_format
        .as_deref()
        .or(shape.timestamp_format.as_deref())
        .unwrap_or(default)
}

fn base64_of(value: &Value) -> Result<String, SerializeError> {
    match value {
        Value::String(s) => Ok(base64::engine::general_purpose::STANDARD.encode(s.as_bytes())),
        Value::Object(o) => match o.get("__bytes_base64__").and_then(Value::as_str) {
            Some(b) => Ok(b.to_owned()),
            None => Err(SerializeError::Invalid(
                "blob values must be strings".into(),
            )),
        },
        _ => Err(SerializeError::Invalid(
            "blob values must be strings".into(),
        )),
    }
}

fn host_prefix(
    model: &ServiceModel,
    op: &Operation,
    params: &Map<String, Value>,
) -> Result<Option<String>, SerializeError> {
    let Some(template) = op
        .endpoint
        .as_ref()
        .and_then(|e| e.get("hostPrefix"))
        .and_then(Value::as_str)
    else {
        return Ok(None);
    };
    let mut out = template.to_owned();
    if let Some(input) = input_shape(model, op)? {
        for (name, member) in &input.members {
            if member.host_label {
                let value = params.get(name).and_then(Value::as_str).unwrap_or_default();
                let ok = !value.is_empty()
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
                if !ok {
                    return Err(SerializeError::Invalid(format!(
                        "Invalid value for parameter(s): {name}. Must contain only alphanumeric characters, hyphen, or period."
                    )));
                }
                out = out.replace(&format!("{{{name}}}"), value);
            }
        }
    }
    Ok(Some(out))
}

// ---------------------------------------------------------------- json

fn json_request(
    model: &ServiceModel,
    op: &Operation,
    params: &Map<String, Value>,
) -> Result<RequestParts, SerializeError> {
    let target = format!(
        "{}.{}",
        model.metadata.target_prefix.as_deref().unwrap_or_default(),
        op.name
    );
    let version = model.metadata.json_version.as_deref().unwrap_or("1.0");
    let mut headers = vec![
        ("X-Amz-Target".to_owned(), target),
        (
            "Content-Type".to_owned(),
            format!("application/x-amz-json-{version}"),
        ),
    ];
    if model.metadata.aws_query_compatible.is_some() {
        headers.push(("x-amzn-query-mode".into(), "true".into()));
    }
    let body = match input_shape(model, op)? {
        Some(input) => json_structure(model, input, params)?,
        None => Value::Object(Map::new()),
    };
    Ok(RequestParts {
        method: http_method(op),
        path: "/".into(),
        query: String::new(),
        headers,
        body: python_json(&body).into_bytes(),
        host_prefix: host_prefix(model, op, params)?,
    })
}

fn json_structure(
    model: &ServiceModel,
    shape: &Shape,
    value: &Map<String, Value>,
) -> Result<Value, SerializeError> {
    let mut out = Map::new();
    for (key, v) in value {
        let member = shape
            .members
            .get(key)
            .ok_or_else(|| SerializeError::Invalid(format!("unknown parameter {key}")))?;
        let member_shape = super::serialize::shape(model, &member.shape)?;
        let name = location_name(member, member_shape)
            .unwrap_or(key)
            .to_owned();
        out.insert(
            name,
            json_value(model, member_shape, v, member.timestamp_format.as_deref())?,
        );
    }
    Ok(Value::Object(out))
}

fn json_value(
    model: &ServiceModel,
    shape: &Shape,
    value: &Value,
    ts_format: Option<&str>,
) -> Result<Value, SerializeError> {
    match shape.kind.as_str() {
        "structure" if shape.document => Ok(value.clone()),
        "structure" => match value {
            Value::Object(o) => json_structure(model, shape, o),
            _ => Err(SerializeError::Invalid("expected a structure".into())),
        },
        "map" => match value {
            Value::Object(o) => {
                let value_shape = match &shape.value {
                    Some(v) => super::serialize::shape(model, &v.shape)?,
                    None => return Ok(value.clone()),
                };
                let mut out = Map::new();
                for (k, v) in o {
                    out.insert(k.clone(), json_value(model, value_shape, v, None)?);
                }
                Ok(Value::Object(out))
            }
            _ => Err(SerializeError::Invalid("expected a map".into())),
        },
        "list" => match value {
            Value::Array(items) => {
                let member = match &shape.member {
                    Some(m) => super::serialize::shape(model, &m.shape)?,
                    None => return Ok(value.clone()),
                };
                items
                    .iter()
                    .map(|i| json_value(model, member, i, None))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array)
            }
            _ => Err(SerializeError::Invalid("expected a list".into())),
        },
        "timestamp" => {
            let format = ts_format
                .or(shape.timestamp_format.as_deref())
                .unwrap_or("unixtimestamp");
            timestamp(value, format)
        }
        "blob" => Ok(Value::String(base64_of(value)?)),
        _ => Ok(value.clone()),
    }
}

/// Python's `repr()` of a float.
pub fn python_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Shortest round-trip digits and exponent, then Python's layout rules.
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        let body = if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if (point as usize) >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{body}")
    } else {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits.clone()
        };
        format!(
            "{sign}{m}e{}{:02}",
            if exp < 0 { "-" } else { "+" },
            exp.abs()
        )
    }
}

/// JSON as Python's `json.dumps` writes it by default.
pub fn python_json(value: &Value) -> String {
    let mut out = String::new();
    write_py_json(value, &mut out);
    out
}

fn write_py_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => out.push_str(&i.to_string()),
            (_, Some(u), _) => out.push_str(&u.to_string()),
            (_, _, Some(f)) => out.push_str(&python_float(f)),
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '\u{08}' => out.push_str("\\b"),
                    '\u{0c}' => out.push_str("\\f"),
                    c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                        let mut buf = [0u16; 2];
                        for unit in c.encode_utf16(&mut buf) {
                            out.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_py_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_py_json(&Value::String(k.clone()), out);
                out.push_str(": ");
                write_py_json(v, out);
            }
            out.push('}');
        }
    }
}

// ---------------------------------------------------------------- rest-json

/// Percent-encodes everything but `A-Z a-z 0-9 - . _ ~` and the `extra` safe characters
/// (`/` for greedy URI labels and S3 keys).
pub(crate) fn percent_encode_safe(s: &str, extra: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') || extra.contains(&b)
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A URI or query-string value as text (booleans lower case, timestamps ISO 8601 unless the
/// member says otherwise, floats in Python spelling).
fn uri_value(
    member: &aws_models::ShapeRef,
    shape: &Shape,
    value: &Value,
) -> Result<String, SerializeError> {
    match shape.kind.as_str() {
        "boolean" => Ok(match value {
            Value::Bool(b) => b.to_string(),
            other => scalar_text(other).to_lowercase(),
        }),
        "timestamp" => {
            let format = timestamp_format(member, shape, "iso8601");
            Ok(scalar_text(&timestamp(value, format)?))
        }
        _ => Ok(scalar_text(value)),
    }
}

fn header_value(
    model: &ServiceModel,
    member: &aws_models::ShapeRef,
    shape: &Shape,
    value: &Value,
) -> Result<String, SerializeError> {
    match shape.kind.as_str() {
        "timestamp" => {
            let format = timestamp_format(member, shape, "rfc822");
            Ok(scalar_text(&timestamp(value, format)?))
        }
        "list" => {
            let Value::Array(items) = value else {
                return Err(SerializeError::Invalid(
                    "expected a list for a header".into(),
                ));
            };
            let member_ref = shape.member.as_deref();
            let member_shape = match member_ref {
                Some(m) => super::serialize::shape(model, &m.shape)?,
                None => return Ok(String::new()),
            };
            let parts = items
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| {
                    if member_shape.kind == "string" {
                        let t = scalar_text(v);
                        Ok(if t.contains('"') || t.contains(',') {
                            format!("\"{}\"", t.replace('"', "\\\""))
                        } else {
                            t
                        })
                    } else {
                        header_value(model, member_ref.unwrap_or(member), member_shape, v)
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(parts.join(","))
        }
        "boolean" => Ok(scalar_text(value).to_lowercase()),
        "string" if member.jsonvalue => {
            let compact = serde_json::to_string(value).unwrap_or_default();
            Ok(base64::engine::general_purpose::STANDARD.encode(compact.as_bytes()))
        }
        _ => Ok(scalar_text(value)),
    }
}

/// How a REST protocol writes its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyFormat {
    Json,
    Xml,
}

fn rest_request(
    model: &ServiceModel,
    op: &Operation,
    params: &Map<String, Value>,
    format: BodyFormat,
) -> Result<RequestParts, SerializeError> {
    let method = http_method(op);
    let host_prefix = host_prefix(model, op, params)?;
    let Some(input) = input_shape(model, op)? else {
        return Ok(RequestParts {
            method,
            path: op.http.request_uri.clone(),
            query: String::new(),
            headers: Vec::new(),
            body: Vec::new(),
            host_prefix,
        });
    };
    let mut uri: Vec<(String, String)> = Vec::new();
    let mut query: Vec<(String, String)> = Vec::new();
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut body = Map::new();
    for (name, value) in params {
        if value.is_null() {
            continue;
        }
        let member = input
            .members
            .get(name)
            .ok_or_else(|| SerializeError::Invalid(format!("unknown parameter {name}")))?;
        let target = super::serialize::shape(model, &member.shape)?;
        let key = location_name(member, target).unwrap_or(name).to_owned();
        match member.location.as_deref() {
            Some("uri") => uri.push((key, uri_value(member, target, value)?)),
            Some("querystring") => match (value, target.kind.as_str()) {
                (Value::Object(map), _) => {
                    for (k, v) in map {
                        match v {
                            Value::Array(items) => {
                                for i in items {
                                    query.push((k.clone(), scalar_text(i)));
                                }
                            }
                            other => query.push((k.clone(), scalar_text(other))),
                        }
                    }
                }
                (Value::Array(items), "list") => {
                    let (member_ref, member_shape) = match &target.member {
                        Some(m) => (m.as_ref(), super::serialize::shape(model, &m.shape)?),
                        None => continue,
                    };
                    for i in items {
                        query.push((key.clone(), uri_value(member_ref, member_shape, i)?));
                    }
                }
                _ => query.push((key, uri_value(member, target, value)?)),
            },
            Some("header") => {
                if target.kind == "list" && value.as_array().is_some_and(Vec::is_empty) {
                    continue;
                }
                headers.push((key, header_value(model, member, target, value)?));
            }
            Some("headers") => {
                if let Value::Object(map) = value {
                    for (k, v) in map {
                        headers.push((format!("{key}{k}"), scalar_text(v)));
                    }
                }
            }
            _ => {
                body.insert(name.clone(), value.clone());
            }
        }
    }
    // URI template: {Label} and greedy {Label+}.
    let mut path = String::new();
    let template = op.http.request_uri.as_str();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let label = &rest[open + 1..open + close];
        let (name, greedy) = match label.strip_suffix('+') {
            Some(n) => (n, true),
            None => (label, false),
        };
        let value = uri
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| SerializeError::Invalid(format!("missing URI parameter {name}")))?;
        path.push_str(&if greedy {
            percent_encode_safe(&value, b"/~")
        } else {
            percent_encode(&value)
        });
        rest = &rest[open + close + 1..];
    }
    path.push_str(rest);
    // The template's own query part stays; parameters follow botocore's encoding.
    let query = query
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");

    let payload = input.payload.as_deref();
    let mut body_bytes = Vec::new();
    let mut streaming = false;
    if let Some(p) = payload {
        let member = input.members.get(p);
        let target = match member {
            Some(m) => Some(super::serialize::shape(model, &m.shape)?),
            None => None,
        };
        match (params.get(p), member, target) {
            (value, _, Some(t)) if matches!(t.kind.as_str(), "blob" | "string") => {
                streaming = true;
                body_bytes = match value {
                    Some(Value::String(s)) => s.clone().into_bytes(),
                    Some(v @ Value::Object(_)) => base64::engine::general_purpose::STANDARD
                        .decode(base64_of(v)?)
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
            }
            (Some(Value::Object(o)), Some(m), Some(t)) => {
                body_bytes = match format {
                    BodyFormat::Json => python_json(&json_structure(model, t, o)?).into_bytes(),
                    BodyFormat::Xml => {
                        let root = location_name(m, t).unwrap_or(p).to_owned();
                        xml_document(model, m, t, &Value::Object(o.clone()), &root)?.into_bytes()
                    }
                };
            }
            (Some(_), _, Some(_)) => {}
            _ => {
                if format == BodyFormat::Json {
                    body_bytes = b"{}".to_vec();
                }
            }
        }
    } else if !body.is_empty() {
        body_bytes = match format {
            BodyFormat::Json => python_json(&json_structure(model, input, &body)?).into_bytes(),
            BodyFormat::Xml => {
                let input_ref = op.input.clone().unwrap_or_default();
                let root = location_name(&input_ref, input)
                    .unwrap_or_default()
                    .to_owned();
                xml_document(
                    model,
                    &input_ref,
                    input,
                    &Value::Object(body.clone()),
                    &root,
                )?
                .into_bytes()
            }
        };
    } else if format == BodyFormat::Json && input.members.values().any(|m| m.location.is_none()) {
        body_bytes = b"{}".to_vec();
    }
    if format == BodyFormat::Json
        && !streaming
        && !body_bytes.is_empty()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    Ok(RequestParts {
        method,
        path,
        query,
        headers,
        body: body_bytes,
        host_prefix,
    })
}

// ---------------------------------------------------------------- rest-xml bodies

/// One XML element being built (ElementTree's model: attributes in insertion order).
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    text: Option<String>,
    children: Vec<Element>,
}

impl Element {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            attrs: Vec::new(),
            text: None,
            children: Vec::new(),
        }
    }

    /// ElementTree's `tostring(encoding="utf-8")`: no declaration, `<a />` when empty.
    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attrs {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            for c in v.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '"' => out.push_str("&quot;"),
                    '\n' => out.push_str("&#10;"),
                    '\r' => out.push_str("&#13;"),
                    '\t' => out.push_str("&#09;"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        // ElementTree tests the text for truth: an empty string is no text either.
        if self.text.as_deref().is_none_or(str::is_empty) && self.children.is_empty() {
            out.push_str(" />");
            return;
        }
        out.push('>');
        if let Some(t) = &self.text {
            for c in t.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    c => out.push(c),
                }
            }
        }
        for child in &self.children {
            child.write(out);
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

fn add_namespace(member: &aws_models::ShapeRef, shape: &Shape, node: &mut Element) {
    let ns = member
        .xml_namespace
        .as_ref()
        .or(shape.xml_namespace.as_ref());
    match ns {
        Some(Value::Object(o)) => {
            let attr = match o.get("prefix").and_then(Value::as_str) {
                Some(p) if !p.is_empty() => format!("xmlns:{p}"),
                _ => "xmlns".to_owned(),
            };
            if let Some(uri) = o.get("uri").and_then(Value::as_str) {
                node.attrs.push((attr, uri.to_owned()));
            }
        }
        Some(Value::String(uri)) => node.attrs.push(("xmlns".into(), uri.clone())),
        _ => {}
    }
}

fn xml_document(
    model: &ServiceModel,
    member: &aws_models::ShapeRef,
    shape: &Shape,
    value: &Value,
    root: &str,
) -> Result<String, SerializeError> {
    let mut pseudo = Element::new("");
    xml_value(model, member, shape, value, &mut pseudo, root)?;
    let mut out = String::new();
    if let Some(first) = pseudo.children.first() {
        first.write(&mut out);
    }
    Ok(out)
}

fn xml_value(
    model: &ServiceModel,
    member: &aws_models::ShapeRef,
    shape: &Shape,
    value: &Value,
    parent: &mut Element,
    name: &str,
) -> Result<(), SerializeError> {
    match shape.kind.as_str() {
        "structure" => {
            let Value::Object(map) = value else {
                return Err(SerializeError::Invalid(format!(
                    "{name}: expected a structure"
                )));
            };
            let mut node = Element::new(name);
            add_namespace(member, shape, &mut node);
            for (key, v) in map {
                let m = shape
                    .members
                    .get(key)
                    .ok_or_else(|| SerializeError::Invalid(format!("unknown parameter {key}")))?;
                let t = super::serialize::shape(model, &m.shape)?;
                let member_name = location_name(m, t).unwrap_or(key).to_owned();
                if v.is_null() {
                    break;
                }
                if m.xml_attribute {
                    node.attrs.push((member_name, scalar_text(v)));
                    continue;
                }
                xml_value(model, m, t, v, &mut node, &member_name)?;
            }
            parent.children.push(node);
        }
        "list" => {
            let Value::Array(items) = value else {
                return Err(SerializeError::Invalid(format!("{name}: expected a list")));
            };
            let Some(item_ref) = &shape.member else {
                return Ok(());
            };
            let item_shape = super::serialize::shape(model, &item_ref.shape)?;
            if shape.flattened || member.flattened {
                for item in items {
                    xml_value(model, item_ref, item_shape, item, parent, name)?;
                }
            } else {
                let element_name = location_name(item_ref, item_shape)
                    .unwrap_or("member")
                    .to_owned();
                let mut node = Element::new(name);
                add_namespace(member, shape, &mut node);
                for item in items {
                    xml_value(model, item_ref, item_shape, item, &mut node, &element_name)?;
                }
                parent.children.push(node);
            }
        }
        "map" => {
            let Value::Object(map) = value else {
                return Err(SerializeError::Invalid(format!("{name}: expected a map")));
            };
            let (Some(key_ref), Some(value_ref)) = (&shape.key, &shape.value) else {
                return Ok(());
            };
            let key_shape = super::serialize::shape(model, &key_ref.shape)?;
            let value_shape = super::serialize::shape(model, &value_ref.shape)?;
            let key_name = location_name(key_ref, key_shape)
                .unwrap_or("key")
                .to_owned();
            let value_name = location_name(value_ref, value_shape)
                .unwrap_or("value")
                .to_owned();
            let flattened = shape.flattened || member.flattened;
            let mut holder = Element::new(name);
            if !flattened {
                add_namespace(member, shape, &mut holder);
            }
            for (k, v) in map {
                let mut entry = Element::new(if flattened { name } else { "entry" });
                xml_value(
                    model,
                    key_ref,
                    key_shape,
                    &Value::String(k.clone()),
                    &mut entry,
                    &key_name,
                )?;
                xml_value(model, value_ref, value_shape, v, &mut entry, &value_name)?;
                if flattened {
                    parent.children.push(entry);
                } else {
                    holder.children.push(entry);
                }
            }
            if !flattened {
                parent.children.push(holder);
            }
        }
        kind => {
            let text = match kind {
                "boolean" => if truthy(value) { "true" } else { "false" }.to_owned(),
                "blob" => base64_of(value)?,
                "timestamp" => {
                    let format = timestamp_format(member, shape, "iso8601");
                    scalar_text(&timestamp(value, format)?)
                }
                _ => scalar_text(value),
            };
            let mut node = Element::new(name);
            node.text = Some(text);
            add_namespace(member, shape, &mut node);
            parent.children.push(node);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- timestamps

/// Parses what botocore accepts for a timestamp parameter: ISO 8601 date-times (with `Z`,
/// an offset or none, meaning UTC), dates, and epoch seconds.
pub fn parse_timestamp(value: &Value) -> Result<time::OffsetDateTime, SerializeError> {
    use time::format_description::well_known::{Iso8601, Rfc2822, Rfc3339};
    let bad = |s: &str| {
        SerializeError::Invalid(format!(
            "invalid timestamp '{s}': use ISO 8601 (2024-01-31T12:00:00Z) or epoch seconds"
        ))
    };
    match value {
        Value::Number(n) => {
            let secs = n.as_f64().ok_or_else(|| bad(&n.to_string()))?;
            time::OffsetDateTime::from_unix_timestamp_nanos((secs * 1e9) as i128)
                .map_err(|_| bad(&n.to_string()))
        }
        Value::String(s) => {
            let t = s.trim();
            if let Ok(secs) = t.parse::<f64>() {
                return time::OffsetDateTime::from_unix_timestamp_nanos((secs * 1e9) as i128)
                    .map_err(|_| bad(s));
            }
            if let Ok(dt) = time::OffsetDateTime::parse(t, &Rfc3339) {
                return Ok(dt);
            }
            if let Ok(dt) = time::OffsetDateTime::parse(t, &Iso8601::DEFAULT) {
                return Ok(dt);
            }
            if let Ok(dt) = time::PrimitiveDateTime::parse(t, &Iso8601::DEFAULT) {
                return Ok(dt.assume_utc());
            }
            if let Ok(dt) = time::OffsetDateTime::parse(&t.replace(" GMT", " +0000"), &Rfc2822) {
                return Ok(dt);
            }
            if let Ok(d) = time::Date::parse(t, &Iso8601::DEFAULT) {
                return Ok(d.midnight().assume_utc());
            }
            Err(bad(s))
        }
        other => Err(bad(&other.to_string())),
    }
}

fn timestamp(value: &Value, format: &str) -> Result<Value, SerializeError> {
    let dt = parse_timestamp(value)?.to_offset(time::UtcOffset::UTC);
    match format.to_ascii_lowercase().as_str() {
        "unixtimestamp" => Ok(Value::Number(dt.unix_timestamp().into())),
        "iso8601" => Ok(Value::String(iso8601(dt))),
        "rfc822" => Ok(Value::String(rfc822(dt))),
        other => Err(SerializeError::Invalid(format!(
            "unknown timestamp format {other}"
        ))),
    }
}

fn iso8601(dt: time::OffsetDateTime) -> String {
    let micros = dt.microsecond();
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month() as u8,
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if micros > 0 {
        format!("{base}.{micros:06}Z")
    } else {
        format!("{base}Z")
    }
}

fn rfc822(dt: time::OffsetDateTime) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[dt.weekday().number_days_from_monday() as usize],
        dt.day(),
        MONTHS[dt.month() as usize - 1],
        dt.year(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

// ---------------------------------------------------------------- query and ec2

/// Percent-encodes like botocore (everything but `A-Z a-z 0-9 - . _ ~`).
pub fn percent_encode(s: &str) -> String {
    percent_encode_safe(s, b"")
}

fn query_request(
    model: &ServiceModel,
    op: &Operation,
    params: &Map<String, Value>,
    ec2: bool,
) -> Result<RequestParts, SerializeError> {
    let mut pairs: Vec<(String, String)> = vec![
        ("Action".into(), op.name.clone()),
        (
            "Version".into(),
            model.metadata.api_version.clone().unwrap_or_default(),
        ),
    ];
    if let Some(input) = input_shape(model, op)? {
        query_structure(model, input, params, "", ec2, &mut pairs)?;
    }
    let body = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    Ok(RequestParts {
        method: http_method(op),
        path: "/".into(),
        query: String::new(),
        headers: vec![(
            "Content-Type".into(),
            "application/x-www-form-urlencoded; charset=utf-8".into(),
        )],
        body: body.into_bytes(),
        host_prefix: host_prefix(model, op, params)?,
    })
}

fn query_name(member: &aws_models::ShapeRef, target: &Shape, default: &str, ec2: bool) -> String {
    if ec2 {
        if let Some(q) = &member.query_name {
            return q.clone();
        }
        if let Some(n) = location_name(member, target) {
            let mut c = n.chars();
            return match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            };
        }
        return default.to_owned();
    }
    location_name(member, target).unwrap_or(default).to_owned()
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn query_structure(
    model: &ServiceModel,
    shape: &Shape,
    value: &Map<String, Value>,
    prefix: &str,
    ec2: bool,
    out: &mut Vec<(String, String)>,
) -> Result<(), SerializeError> {
    for (key, v) in value {
        let member = shape
            .members
            .get(key)
            .ok_or_else(|| SerializeError::Invalid(format!("unknown parameter {key}")))?;
        let member_shape = super::serialize::shape(model, &member.shape)?;
        let name = join(prefix, &query_name(member, member_shape, key, ec2));
        query_value(model, member_shape, member, v, &name, ec2, out)?;
    }
    Ok(())
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => {
            if *b {
                "True".into()
            } else {
                "False".into()
            }
        }
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => python_float(f),
            _ => n.to_string(),
        },
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

fn query_value(
    model: &ServiceModel,
    shape: &Shape,
    member: &aws_models::ShapeRef,
    value: &Value,
    prefix: &str,
    ec2: bool,
    out: &mut Vec<(String, String)>,
) -> Result<(), SerializeError> {
    match shape.kind.as_str() {
        "structure" => match value {
            Value::Object(o) => query_structure(model, shape, o, prefix, ec2, out),
            _ => Err(SerializeError::Invalid(format!(
                "{prefix}: expected a structure"
            ))),
        },
        "list" => {
            let Value::Array(items) = value else {
                return Err(SerializeError::Invalid(format!(
                    "{prefix}: expected a list"
                )));
            };
            let Some(member_ref) = &shape.member else {
                return Ok(());
            };
            let member_shape = super::serialize::shape(model, &member_ref.shape)?;
            if ec2 {
                for (i, item) in items.iter().enumerate() {
                    query_value(
                        model,
                        member_shape,
                        member_ref,
                        item,
                        &format!("{prefix}.{}", i + 1),
                        ec2,
                        out,
                    )?;
                }
                return Ok(());
            }
            if items.is_empty() {
                out.push((prefix.to_owned(), String::new()));
                return Ok(());
            }
            let flattened = shape.flattened || member.flattened;
            let list_prefix = if flattened {
                match location_name(member_ref, member_shape) {
                    Some(name) => {
                        let mut parts: Vec<&str> = prefix.split('.').collect();
                        parts.pop();
                        parts.push(name);
                        parts.join(".")
                    }
                    None => prefix.to_owned(),
                }
            } else {
                format!(
                    "{prefix}.{}",
                    location_name(member_ref, member_shape).unwrap_or("member")
                )
            };
            for (i, item) in items.iter().enumerate() {
                query_value(
                    model,
                    member_shape,
                    member_ref,
                    item,
                    &format!("{list_prefix}.{}", i + 1),
                    ec2,
                    out,
                )?;
            }
            Ok(())
        }
        "map" => {
            let Value::Object(map) = value else {
                return Err(SerializeError::Invalid(format!("{prefix}: expected a map")));
            };
            let (Some(key_ref), Some(value_ref)) = (&shape.key, &shape.value) else {
                return Ok(());
            };
            let flattened = shape.flattened || member.flattened;
            let full = if flattened {
                prefix.to_owned()
            } else {
                format!("{prefix}.entry")
            };
            let key_shape = super::serialize::shape(model, &key_ref.shape)?;
            let value_shape = super::serialize::shape(model, &value_ref.shape)?;
            let key_suffix = location_name(key_ref, key_shape).unwrap_or("key");
            let value_suffix = location_name(value_ref, value_shape).unwrap_or("value");
            for (i, (k, v)) in map.iter().enumerate() {
                query_value(
                    model,
                    key_shape,
                    key_ref,
                    &Value::String(k.clone()),
                    &format!("{full}.{}.{key_suffix}", i + 1),
                    ec2,
                    out,
                )?;
                query_value(
                    model,
                    value_shape,
                    value_ref,
                    v,
                    &format!("{full}.{}.{value_suffix}", i + 1),
                    ec2,
                    out,
                )?;
            }
            Ok(())
        }
        "boolean" => {
            out.push((
                prefix.to_owned(),
                if truthy(value) { "true" } else { "false" }.into(),
            ));
            Ok(())
        }
        "blob" => {
            out.push((prefix.to_owned(), base64_of(value)?));
            Ok(())
        }
        "timestamp" => {
            let format = timestamp_format(member, shape, "iso8601");
            let v = timestamp(value, format)?;
            out.push((prefix.to_owned(), scalar_text(&v)));
            Ok(())
        }
        _ => {
            out.push((prefix.to_owned(), scalar_text(value)));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_spelled_as_python_does() {
        for (v, s) in [
            (5.0, "5.0"),
            (0.1, "0.1"),
            (1e-5, "1e-05"),
            (1e16, "1e+16"),
            (123456789012345.6, "123456789012345.6"),
            (1.5e300, "1.5e+300"),
            (-0.25, "-0.25"),
            (100.0, "100.0"),
            (0.0001, "0.0001"),
        ] {
            assert_eq!(python_float(v), s, "{v}");
        }
    }

    #[test]
    fn json_is_written_like_python_json_dumps() {
        let v = serde_json::json!({"a": [1, 2.5, "é\n"], "b": {"c": true, "d": null}});
        assert_eq!(
            python_json(&v),
            r#"{"a": [1, 2.5, "\u00e9\n"], "b": {"c": true, "d": null}}"#
        );
    }

    #[test]
    fn timestamps_parse_and_format() {
        let v = Value::String("2024-01-31T12:00:00Z".into());
        assert_eq!(
            timestamp(&v, "unixtimestamp").expect("ok"),
            serde_json::json!(1706702400)
        );
        assert_eq!(
            timestamp(&v, "iso8601").expect("ok"),
            serde_json::json!("2024-01-31T12:00:00Z")
        );
        assert_eq!(
            timestamp(&v, "rfc822").expect("ok"),
            serde_json::json!("Wed, 31 Jan 2024 12:00:00 GMT")
        );
        assert_eq!(
            timestamp(&Value::String("1706702400".into()), "iso8601").expect("ok"),
            serde_json::json!("2024-01-31T12:00:00Z")
        );
        assert!(timestamp(&Value::String("yesterday".into()), "iso8601").is_err());
    }
}
