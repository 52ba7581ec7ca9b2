//! HTTP answers from AWS to the JSON the AWS CLI v1 prints for them.
//!
//! [`parse_response`] follows botocore's response parsers for the five protocols (`json`,
//! `rest-json`, `rest-xml`, `query`, `ec2`), configured as the CLI configures them with
//! `cli_timestamp_format = iso8601`: timestamps become Python `datetime.isoformat()` strings
//! (epoch values in the process time zone, which the server runs as UTC), blobs stay base64.
//! It then applies the botocore and CLI `after-call` customisations that change printed values
//! (IAM policy documents decoded, S3 `GetBucketLocation`, S3 list key decoding, EC2 console
//! output, CloudFormation templates, S3 `ExpiresString`). Members missing from the answer stay
//! missing; members come out in model order, map entries in wire order, as botocore builds them.
//!
//! Error answers become [`ServiceError`] with the code and message the CLI shows;
//! [`is_retryable`] and [`is_throttling`] classify them as botocore's standard retry mode does.

use aws_models::{Operation, ServiceModel, Shape, ShapeRef};
use base64::Engine;
use serde_json::{Map, Value};

/// A raw HTTP answer from AWS.
#[derive(Debug, Clone, Copy)]
pub struct RawResponse<'a> {
    pub status: u16,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// An error answer from a service, parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("An error occurred ({code}) when calling the {operation} operation: {message}")]
pub struct ServiceError {
    pub code: String,
    pub message: String,
    pub status: u16,
    pub request_id: Option<String>,
    pub operation: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    #[error(transparent)]
    Service(ServiceError),
    #[error("the response could not be parsed: {0}")]
    Malformed(String),
}

/// What the request side knew that changes how an answer is read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOptions {
    /// botocore added `EncodingType=url` to an S3 list request on its own, so the keys in the
    /// answer are URL-decoded before they are shown (it leaves them encoded when the caller
    /// asked for the encoding).
    pub encoding_type_auto_set: bool,
}

/// Parses a response of `operation` into the JSON value the AWS CLI v1 prints with
/// `--output json` when `cli_timestamp_format = iso8601` (ResponseMetadata removed).
/// A status >= 300 (or the S3 "200 with `<Error>`" case for the operations botocore checks)
/// becomes [`ResponseError::Service`].
pub fn parse_response(
    model: &ServiceModel,
    operation: &Operation,
    raw: &RawResponse<'_>,
) -> Result<Map<String, Value>, ResponseError> {
    parse_response_with(model, operation, raw, &ParseOptions::default())
}

/// [`parse_response`] with what the request side knew.
pub fn parse_response_with(
    model: &ServiceModel,
    operation: &Operation,
    raw: &RawResponse<'_>,
    options: &ParseOptions,
) -> Result<Map<String, Value>, ResponseError> {
    let proto = Proto::of(model)?;
    let expires = s3_expires(model, operation, raw.headers);
    let kept: Vec<(String, String)>;
    let headers = match &expires {
        Some((_, true)) => {
            kept = raw
                .headers
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("Expires"))
                .cloned()
                .collect();
            &kept[..]
        }
        _ => raw.headers,
    };
    let p = Parser {
        model,
        proto,
        headers,
    };
    let mut status = raw.status;
    if model.service_name == "s3" && looks_like_s3_200_error(&p, operation, raw) {
        // botocore turns these into 500s so they are retried and raised.
        status = 500;
    }
    if status >= 300 {
        let mut err = if status >= 301 {
            p.error(raw, status)?
        } else {
            // botocore parses a 300 as a success and then raises it with no error details.
            ErrorFields::default()
        };
        if model.service_name == "s3" {
            enhance_s3_error(&mut err);
        }
        return Err(ResponseError::Service(ServiceError {
            code: err.code.unwrap_or_else(|| "Unknown".into()),
            message: err.message.unwrap_or_else(|| "Unknown".into()),
            status,
            request_id: err.request_id.or_else(|| p.request_id_header()),
            operation: operation.name.clone(),
        }));
    }
    let mut out = match &operation.output {
        None => Map::new(),
        Some(output) => p.success(output, raw)?,
    };
    if let Some((value, _)) = expires {
        out.insert("ExpiresString".into(), Value::String(value));
    }
    after_call(&p, operation, raw, options, &mut out);
    Ok(out)
}

/// The output member botocore streams (S3 `GetObject`'s `Body`, Lambda `Invoke`'s `Payload`):
/// a blob payload, marked streaming or not. The CLI writes it to the outfile and leaves it out
/// of the printed JSON; [`parse_response`] leaves it out too.
pub fn streaming_member(model: &ServiceModel, operation: &Operation) -> Option<String> {
    let output = model.shape(&operation.output.as_ref()?.shape)?;
    let payload = output.payload.as_deref()?;
    let member = output.members.get(payload)?;
    let target = model.shape(&member.shape)?;
    (target.kind == "blob").then(|| payload.to_owned())
}

const THROTTLING_CODES: [&str; 14] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];
const TRANSIENT_CODES: [&str; 3] = [
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
];
const TRANSIENT_STATUS: [u16; 4] = [500, 502, 503, 504];

/// True when botocore's standard retry mode throttles on this error (by code).
pub fn is_throttling(err: &ServiceError) -> bool {
    THROTTLING_CODES.contains(&err.code.as_str())
}

/// True when the error is one botocore's standard retry mode retries (throttling codes,
/// transient codes, 500/502/503/504), so the sender can back off and retry. Errors a model
/// marks `retryable` are not known here (the bundled models drop that trait).
pub fn is_retryable(err: &ServiceError) -> bool {
    is_throttling(err)
        || TRANSIENT_CODES.contains(&err.code.as_str())
        || TRANSIENT_STATUS.contains(&err.status)
}

// ---------------------------------------------------------------- shared machinery

fn malformed(msg: impl Into<String>) -> ResponseError {
    ResponseError::Malformed(msg.into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Json,
    RestJson,
    RestXml,
    Query,
    Ec2,
}

impl Proto {
    fn of(model: &ServiceModel) -> Result<Self, ResponseError> {
        match crate::serialize::protocol(model).as_str() {
            "json" => Ok(Self::Json),
            "rest-json" => Ok(Self::RestJson),
            "rest-xml" => Ok(Self::RestXml),
            "query" => Ok(Self::Query),
            "ec2" => Ok(Self::Ec2),
            other => Err(malformed(format!(
                "the {other} protocol ({}) is not supported",
                model.service_name
            ))),
        }
    }
}

/// A member reference with its target shape, traits merged as botocore merges them (the
/// reference's traits win over the shape's).
#[derive(Clone, Copy)]
struct Member<'m> {
    r: &'m ShapeRef,
    shape: &'m Shape,
    shape_name: &'m str,
}

impl<'m> Member<'m> {
    fn name(&self) -> Option<&'m str> {
        self.r
            .location_name
            .as_deref()
            .or(self.shape.location_name.as_deref())
    }
    fn flattened(&self) -> bool {
        self.r.flattened || self.shape.flattened
    }
    fn location(&self) -> Option<&'m str> {
        self.r.location.as_deref()
    }
}

/// Errors fields as botocore's parsers leave them: absent (`None`) prints as "Unknown", an
/// empty XML element (`Some("None")`) as Python prints `None`.
#[derive(Debug, Default)]
struct ErrorFields {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
    endpoint: Option<String>,
}

struct Parser<'m, 'r> {
    model: &'m ServiceModel,
    proto: Proto,
    headers: &'r [(String, String)],
}

impl<'m> Parser<'m, '_> {
    fn resolve(&self, r: &'m ShapeRef) -> Result<Member<'m>, ResponseError> {
        let shape = self
            .model
            .shape(&r.shape)
            .ok_or_else(|| malformed(format!("model has no shape {}", r.shape)))?;
        Ok(Member {
            r,
            shape,
            shape_name: &r.shape,
        })
    }

    /// A header by case-insensitive name; repeated headers joined as urllib3 joins them.
    fn header(&self, name: &str) -> Option<String> {
        let mut found: Option<String> = None;
        for (k, v) in self.headers {
            if k.eq_ignore_ascii_case(name) {
                match &mut found {
                    Some(s) => {
                        s.push_str(", ");
                        s.push_str(v);
                    }
                    None => found = Some(v.clone()),
                }
            }
        }
        found
    }

    fn request_id_header(&self) -> Option<String> {
        self.header("x-amzn-requestid")
            .or_else(|| self.header("x-amz-request-id"))
    }

    // ------------------------------------------------------------ success

    fn success(
        &self,
        output: &'m ShapeRef,
        raw: &RawResponse<'_>,
    ) -> Result<Map<String, Value>, ResponseError> {
        let out = self.resolve(output)?;
        match self.proto {
            Proto::Json => {
                let body = json_body(raw.body);
                as_object(self.json_value(out, &body)?)
            }
            Proto::Query | Proto::Ec2 => {
                let text = utf8(raw.body);
                let doc = parse_xml(&text)?;
                let root = doc.root_element();
                let start = match &output.result_wrapper {
                    Some(wrapper) => match children_named(root, wrapper).into_iter().next() {
                        Some(n) => n,
                        None => return Ok(Map::new()),
                    },
                    None => root,
                };
                as_object(self.xml_value(out, &[start])?)
            }
            Proto::RestJson | Proto::RestXml => self.rest(out, raw),
        }
    }

    fn rest(
        &self,
        out: Member<'m>,
        raw: &RawResponse<'_>,
    ) -> Result<Map<String, Value>, ResponseError> {
        let mut parsed = Map::new();
        for (name, r) in &out.shape.members {
            let m = self.resolve(r)?;
            match m.location() {
                Some("statusCode") => {
                    parsed.insert(name.clone(), Value::from(raw.status));
                }
                Some("headers") => {
                    let prefix = m.name().unwrap_or_default().to_ascii_lowercase();
                    let mut map = Map::new();
                    for (k, v) in self.headers {
                        if k.to_ascii_lowercase().starts_with(&prefix) {
                            let key = k.get(prefix.len()..).unwrap_or_default();
                            map.insert(key.to_owned(), Value::String(v.clone()));
                        }
                    }
                    parsed.insert(name.clone(), Value::Object(map));
                }
                Some("header") => {
                    let header = m.name().unwrap_or(name);
                    if let Some(v) = self.header(header) {
                        parsed.insert(name.clone(), self.header_value(m, &v)?);
                    }
                }
                _ => {}
            }
        }
        if let Some(payload) = out.shape.payload.as_deref() {
            let r = out
                .shape
                .members
                .get(payload)
                .ok_or_else(|| malformed(format!("no payload member {payload}")))?;
            let m = self.resolve(r)?;
            if m.shape.eventstream {
                // Event streams are read by the sender, never printed as a value.
                return Ok(parsed);
            }
            match m.shape.kind.as_str() {
                // A blob payload is streamed to the outfile, never printed.
                "blob" => {}
                "string" => {
                    parsed.insert(payload.to_owned(), Value::String(utf8(raw.body)));
                }
                _ => {
                    let value = self.rest_body(m, raw.body)?;
                    parsed.insert(payload.to_owned(), value);
                }
            }
        } else {
            let body = self.rest_body(out, raw.body)?;
            if let Value::Object(members) = body {
                for (k, v) in members {
                    parsed.insert(k, v);
                }
            }
        }
        Ok(parsed)
    }

    fn rest_body(&self, m: Member<'m>, body: &[u8]) -> Result<Value, ResponseError> {
        if self.proto == Proto::RestJson {
            return self.json_value(m, &json_body(body));
        }
        if body.is_empty() {
            // botocore parses an empty body as an element with no children.
            return self.xml_value(m, &[]);
        }
        let text = utf8(body);
        let doc = parse_xml(&text)?;
        self.xml_value(m, &[doc.root_element()])
    }

    /// A value carried in a header, typed by the model.
    fn header_value(&self, m: Member<'m>, v: &str) -> Result<Value, ResponseError> {
        match m.shape.kind.as_str() {
            "list" => {
                let item_ref = m
                    .shape
                    .member
                    .as_deref()
                    .ok_or_else(|| malformed("list without member"))?;
                let item = self.resolve(item_ref)?;
                let values = v
                    .split(',')
                    .map(|s| self.header_value(item, s.trim()))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::Array(values))
            }
            "string" if m.r.jsonvalue => {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(v.trim())
                    .map_err(|e| malformed(format!("jsonvalue header: {e}")))?;
                serde_json::from_slice(&decoded)
                    .map_err(|e| malformed(format!("jsonvalue header: {e}")))
            }
            _ => self.scalar_text(m, v),
        }
    }

    /// A scalar given as text (XML text, header), as botocore's XML handlers read it.
    fn scalar_text(&self, m: Member<'m>, text: &str) -> Result<Value, ResponseError> {
        match m.shape.kind.as_str() {
            "boolean" => {
                if self.proto == Proto::RestJson {
                    Ok(Value::Bool(text.eq_ignore_ascii_case("true")))
                } else {
                    Ok(Value::Bool(text == "true"))
                }
            }
            "integer" | "long" => python_int(text),
            "float" | "double" => python_float(text).map(float_value),
            "timestamp" => Ok(Value::String(iso_timestamp(&Value::String(
                text.to_owned(),
            ))?)),
            _ => Ok(Value::String(text.to_owned())),
        }
    }

    // ------------------------------------------------------------ JSON bodies

    fn json_value(&self, m: Member<'m>, v: &Value) -> Result<Value, ResponseError> {
        let shape = m.shape;
        match shape.kind.as_str() {
            "structure" => {
                if shape.document {
                    return Ok(v.clone());
                }
                let obj = match v {
                    Value::Null => return Ok(Value::Null),
                    Value::Object(o) => o,
                    other => {
                        return Err(malformed(format!(
                            "{} expects an object, got {other}",
                            m.shape_name
                        )));
                    }
                };
                if shape.union {
                    let present: Vec<&str> = obj
                        .iter()
                        .filter(|(k, v)| k.as_str() != "__type" && !v.is_null())
                        .map(|(k, _)| k.as_str())
                        .collect();
                    if let Some(unknown) = self.unknown_union_tag(shape, &present)? {
                        return Ok(unknown);
                    }
                }
                let mut out = Map::new();
                for (name, r) in &shape.members {
                    let member = self.resolve(r)?;
                    let key = member.name().unwrap_or(name);
                    if let Some(raw) = obj.get(key).filter(|x| !x.is_null()) {
                        out.insert(name.clone(), self.json_value(member, raw)?);
                    }
                }
                Ok(Value::Object(out))
            }
            "list" => {
                let item_ref = shape
                    .member
                    .as_deref()
                    .ok_or_else(|| malformed("list without member"))?;
                let item = self.resolve(item_ref)?;
                match v {
                    Value::Array(items) => items
                        .iter()
                        .map(|x| {
                            if x.is_null() {
                                Ok(Value::Null)
                            } else {
                                self.json_value(item, x)
                            }
                        })
                        .collect::<Result<Vec<_>, _>>()
                        .map(Value::Array),
                    Value::String(s) if m.location() == Some("header") => self.header_value(m, s),
                    other => Err(malformed(format!(
                        "{} expects a list, got {other}",
                        m.shape_name
                    ))),
                }
            }
            "map" => {
                let obj = v
                    .as_object()
                    .ok_or_else(|| malformed(format!("{} expects an object", m.shape_name)))?;
                let value_ref = shape
                    .value
                    .as_deref()
                    .ok_or_else(|| malformed("map without value"))?;
                let value = self.resolve(value_ref)?;
                let mut out = Map::new();
                for (k, x) in obj {
                    out.insert(k.clone(), self.json_value(value, x)?);
                }
                Ok(Value::Object(out))
            }
            "timestamp" => Ok(Value::String(iso_timestamp(v)?)),
            kind if self.proto == Proto::RestJson => match kind {
                // rest-json converts scalars (botocore's ensure_boolean, int(), float()).
                "boolean" => Ok(Value::Bool(match v {
                    Value::Bool(b) => *b,
                    Value::String(s) => s.eq_ignore_ascii_case("true"),
                    _ => false,
                })),
                "integer" | "long" => match v {
                    Value::Number(n) if n.is_f64() => {
                        Ok(Value::from(n.as_f64().unwrap_or_default().trunc() as i64))
                    }
                    Value::Number(_) => Ok(v.clone()),
                    Value::String(s) => python_int(s),
                    Value::Bool(b) => Ok(Value::from(i64::from(*b))),
                    other => Err(malformed(format!("not an integer: {other}"))),
                },
                "float" | "double" => match v {
                    Value::Number(n) => Ok(float_value(n.as_f64().unwrap_or_default())),
                    Value::String(s) => python_float(s).map(float_value),
                    other => Err(malformed(format!("not a number: {other}"))),
                },
                "string" if m.r.jsonvalue && m.location() == Some("header") => match v {
                    Value::String(s) => self.header_value(m, s),
                    other => Ok(other.clone()),
                },
                _ => Ok(v.clone()),
            },
            // The json protocol keeps scalars exactly as they came.
            _ => Ok(v.clone()),
        }
    }

    /// botocore's check for a tagged union naming a member this model does not know.
    fn unknown_union_tag(
        &self,
        shape: &'m Shape,
        present: &[&str],
    ) -> Result<Option<Value>, ResponseError> {
        if present.len() != 1 {
            return Err(malformed(
                "Invalid service response: a union must have one and only one member set.",
            ));
        }
        let tag = present[0];
        for (name, r) in &shape.members {
            let m = self.resolve(r)?;
            if m.name().unwrap_or(name) == tag {
                return Ok(None);
            }
        }
        let mut inner = Map::new();
        inner.insert("name".into(), Value::String(tag.to_owned()));
        let mut outer = Map::new();
        outer.insert("SDK_UNKNOWN_MEMBER".into(), Value::Object(inner));
        Ok(Some(Value::Object(outer)))
    }

    // ------------------------------------------------------------ XML bodies

    /// Parses `nodes` (one element, or several same-named elements botocore aggregated) as `m`.
    fn xml_value(
        &self,
        m: Member<'m>,
        nodes: &[roxmltree::Node<'_, '_>],
    ) -> Result<Value, ResponseError> {
        let shape = m.shape;
        match shape.kind.as_str() {
            "structure" => {
                let node = nodes.first().copied();
                let children: Vec<roxmltree::Node> = node
                    .map(|n| n.children().filter(|c| c.is_element()).collect())
                    .unwrap_or_default();
                if shape.union {
                    let mut tags: Vec<&str> = Vec::new();
                    for c in &children {
                        if !tags.contains(&c.tag_name().name()) {
                            tags.push(c.tag_name().name());
                        }
                    }
                    if let Some(unknown) = self.unknown_union_tag(shape, &tags)? {
                        return Ok(unknown);
                    }
                }
                let mut out = Map::new();
                for (name, r) in &shape.members {
                    let member = self.resolve(r)?;
                    if matches!(member.location(), Some("header" | "headers" | "statusCode")) {
                        continue;
                    }
                    let key = xml_member_key(self, member, name)?;
                    let found: Vec<roxmltree::Node> = children
                        .iter()
                        .copied()
                        .filter(|c| c.tag_name().name() == key)
                        .collect();
                    if !found.is_empty() {
                        out.insert(name.clone(), self.xml_value(member, &found)?);
                    } else if member.r.xml_attribute
                        && let (Some(node), Some(loc)) = (node, member.name())
                    {
                        let prefix = loc.split(':').next().unwrap_or_default();
                        for a in node.attributes() {
                            let attr_key = match a.namespace() {
                                Some(_) => format!("{prefix}:{}", a.name()),
                                None => a.name().to_owned(),
                            };
                            if attr_key == loc {
                                out.insert(name.clone(), Value::String(a.value().to_owned()));
                            }
                        }
                    }
                }
                Ok(Value::Object(out))
            }
            "list" => {
                let item_ref = shape
                    .member
                    .as_deref()
                    .ok_or_else(|| malformed("list without member"))?;
                let item = self.resolve(item_ref)?;
                // Flattened: the elements are the items. Otherwise each element is a wrapper
                // whose children are the items (botocore iterates a lone wrapper's children).
                let items: Vec<roxmltree::Node> = if m.flattened() || nodes.len() > 1 {
                    nodes.to_vec()
                } else {
                    nodes
                        .iter()
                        .flat_map(|n| n.children().filter(|c| c.is_element()))
                        .collect()
                };
                items
                    .iter()
                    .map(|n| self.xml_value(item, &[*n]))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array)
            }
            "map" => {
                let key_ref = shape
                    .key
                    .as_deref()
                    .ok_or_else(|| malformed("map without key"))?;
                let value_ref = shape
                    .value
                    .as_deref()
                    .ok_or_else(|| malformed("map without value"))?;
                let (key_m, value_m) = (self.resolve(key_ref)?, self.resolve(value_ref)?);
                let key_tag = key_m.name().unwrap_or("key");
                let value_tag = value_m.name().unwrap_or("value");
                let entries: Vec<roxmltree::Node> = if m.flattened() || nodes.len() > 1 {
                    nodes.to_vec()
                } else {
                    nodes
                        .iter()
                        .flat_map(|n| n.children().filter(|c| c.is_element()))
                        .collect()
                };
                let mut out = Map::new();
                for entry in entries {
                    let (mut key, mut value) = (None, Value::Null);
                    for part in entry.children().filter(|c| c.is_element()) {
                        let tag = part.tag_name().name();
                        if tag == key_tag {
                            key = Some(text_of(part));
                        } else if tag == value_tag {
                            value = self.xml_value(value_m, &[part])?;
                        } else {
                            return Err(malformed(format!("Unknown tag: {tag}")));
                        }
                    }
                    if let Some(k) = key {
                        out.insert(k, value);
                    }
                }
                Ok(Value::Object(out))
            }
            _ => {
                let text = nodes.first().map(|n| text_of(*n)).unwrap_or_default();
                self.scalar_text(m, &text)
            }
        }
    }

    // ------------------------------------------------------------ errors

    fn error(&self, raw: &RawResponse<'_>, status: u16) -> Result<ErrorFields, ResponseError> {
        let trimmed = raw.body.trim_ascii();
        if status >= 500 && (trimmed.is_empty() || trimmed.starts_with(b"<html>")) {
            return Ok(status_error(status));
        }
        match self.proto {
            Proto::Json | Proto::RestJson => Ok(self.json_error(raw, status)),
            Proto::Query | Proto::Ec2 => {
                let text = utf8(raw.body);
                let doc = parse_xml(&text)?;
                let tree = xml_tree(doc.root_element());
                let mut fields = ErrorFields::default();
                // query: <ErrorResponse><Error>..</Error><RequestId/>; ec2:
                // <Response><Errors><Error>..</Error></Errors><RequestID/>.
                let error = tree
                    .get("Error")
                    .or_else(|| tree.get("Errors").and_then(|e| e.get("Error")));
                if let Some(error) = error {
                    fields.code = field_text(error.get("Code"));
                    fields.message = field_text(error.get("Message"));
                }
                fields.request_id = tree
                    .get("RequestId")
                    .or_else(|| tree.get("RequestID"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                Ok(fields)
            }
            Proto::RestXml => {
                if !raw.body.is_empty() {
                    let text = utf8(raw.body);
                    if let Ok(doc) = roxmltree::Document::parse(&text) {
                        let root = doc.root_element();
                        let tree = xml_tree(root);
                        let mut fields = ErrorFields::default();
                        let is_s3 = root.tag_name().namespace().is_none()
                            && root.tag_name().name() == "Error";
                        if is_s3 {
                            fields.code = field_text(tree.get("Code"));
                            fields.message = field_text(tree.get("Message"));
                            fields.endpoint = tree
                                .get("Endpoint")
                                .and_then(Value::as_str)
                                .map(str::to_owned);
                        } else {
                            // Other rest-xml services: defaults of "" merged with the body.
                            let error = tree.get("Error");
                            fields.code = field_text(error.and_then(|e| e.get("Code")))
                                .or_else(|| Some(String::new()));
                            fields.message = field_text(error.and_then(|e| e.get("Message")))
                                .or_else(|| Some(String::new()));
                            fields.request_id = tree
                                .get("RequestId")
                                .and_then(Value::as_str)
                                .map(str::to_owned);
                        }
                        return Ok(fields);
                    }
                }
                Ok(status_error(status))
            }
        }
    }

    fn json_error(&self, raw: &RawResponse<'_>, status: u16) -> ErrorFields {
        let body = json_body(raw.body);
        let obj = body.as_object().cloned().unwrap_or_default();
        let message = match obj.get("message").or_else(|| obj.get("Message")) {
            Some(v) => field_text(Some(v)),
            None => Some(String::new()),
        };
        let mut code = match obj.get("__type") {
            // A null type leaves botocore's initial empty code.
            Some(Value::Null) => Some(String::new()),
            Some(v) => field_text(Some(v)),
            None => Some(status.to_string()),
        };
        if let Some(c) = &mut code {
            if let Some((first, _)) = c.split_once(':') {
                *c = first.to_owned();
            }
            if let Some((_, last)) = c.rsplit_once('#') {
                *c = last.to_owned();
            }
            if let Some(query_error) = self.header("x-amzn-query-error") {
                let parts: Vec<&str> = query_error.split(';').collect();
                if parts.len() == 2 && !parts[0].is_empty() {
                    *c = parts[0].to_owned();
                }
            }
        }
        if self.proto == Proto::RestJson {
            let rest_code = self
                .header("x-amzn-errortype")
                .map(Value::String)
                .or_else(|| {
                    obj.get("code")
                        .or_else(|| obj.get("Code"))
                        .filter(|v| !v.is_null())
                        .cloned()
                });
            if let Some(v) = rest_code {
                code = match v {
                    Value::String(s) => {
                        let first = s.split_once(':').map_or(s.as_str(), |(a, _)| a);
                        Some(first.rsplit('#').next().unwrap_or(first).to_owned())
                    }
                    other => field_text(Some(&other)),
                };
            }
        }
        ErrorFields {
            code,
            message,
            request_id: None,
            endpoint: None,
        }
    }
}

/// The element name a structure member is found under (botocore's `_member_key_name`).
fn xml_member_key<'m>(
    p: &Parser<'m, '_>,
    member: Member<'m>,
    name: &'m str,
) -> Result<&'m str, ResponseError> {
    if member.shape.kind == "list" && member.flattened() {
        let item_ref = member
            .shape
            .member
            .as_deref()
            .ok_or_else(|| malformed("list without member"))?;
        if let Some(n) = p.resolve(item_ref)?.name() {
            return Ok(n);
        }
    }
    Ok(member.name().unwrap_or(name))
}

/// Python's `str()` of an error field that may be absent.
fn field_text(v: Option<&Value>) -> Option<String> {
    v.map(crate::python::py_str)
}

fn status_error(status: u16) -> ErrorFields {
    ErrorFields {
        code: Some(status.to_string()),
        message: Some(reason_phrase(status).to_owned()),
        ..ErrorFields::default()
    }
}

/// An element tree as botocore's `_replace_nodes` flattens it for error bodies: elements with
/// children become objects (repeated names: the last wins), leaves their text (null if empty).
fn xml_tree(node: roxmltree::Node<'_, '_>) -> Map<String, Value> {
    let mut out = Map::new();
    let mut grouped: Vec<(&str, Vec<roxmltree::Node>)> = Vec::new();
    for c in node.children().filter(|c| c.is_element()) {
        let tag = c.tag_name().name();
        match grouped.iter_mut().find(|(t, _)| *t == tag) {
            Some((_, v)) => v.push(c),
            None => grouped.push((tag, vec![c])),
        }
    }
    for (tag, nodes) in grouped {
        // A repeated element is a list in botocore, and a list's first element decides.
        let first = nodes[0];
        let value = if nodes.len() > 1 || first.children().any(|c| c.is_element()) {
            Value::Object(xml_tree(first))
        } else {
            first
                .text()
                .map_or(Value::Null, |t| Value::String(t.to_owned()))
        };
        out.insert(tag.to_owned(), value);
    }
    out
}

fn children_named<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    name: &str,
) -> Vec<roxmltree::Node<'a, 'i>> {
    node.children()
        .filter(|c| c.is_element() && c.tag_name().name() == name)
        .collect()
}

/// An element's text before its first child element, as ElementTree's `.text` ("" if none).
fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    let mut out = String::new();
    for c in node.children() {
        if c.is_element() {
            break;
        }
        if let Some(t) = c.text() {
            out.push_str(t);
        }
    }
    out
}

fn utf8(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

fn parse_xml(text: &str) -> Result<roxmltree::Document<'_>, ResponseError> {
    roxmltree::Document::parse(text).map_err(|e| {
        malformed(format!(
            "Unable to parse response ({e}), invalid XML received"
        ))
    })
}

/// A JSON body as botocore reads it: empty is `{}`, text that is not JSON is `{"message": text}`.
fn json_body(body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Object(Map::new());
    }
    serde_json::from_slice(body).unwrap_or_else(|_| {
        let mut m = Map::new();
        m.insert("message".into(), Value::String(utf8(body)));
        Value::Object(m)
    })
}

fn as_object(v: Value) -> Result<Map<String, Value>, ResponseError> {
    match v {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        other => Err(malformed(format!("the output is not an object: {other}"))),
    }
}

fn float_value(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// Python's `int(text)`.
fn python_int(text: &str) -> Result<Value, ResponseError> {
    let t = text.trim().replace('_', "");
    let n: i128 = t
        .parse()
        .map_err(|_| malformed(format!("invalid literal for int(): '{text}'")))?;
    if let Ok(i) = i64::try_from(n) {
        Ok(Value::from(i))
    } else if let Ok(u) = u64::try_from(n) {
        Ok(Value::from(u))
    } else {
        Ok(float_value(n as f64))
    }
}

/// Python's `float(text)`.
fn python_float(text: &str) -> Result<f64, ResponseError> {
    let t = text.trim().replace('_', "");
    let lower = t.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if matches!(unsigned, "inf" | "infinity" | "nan") {
        return Ok(if unsigned == "nan" {
            f64::NAN
        } else if lower.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    t.parse::<f64>()
        .map_err(|_| malformed(format!("could not convert string to float: '{text}'")))
}

// ---------------------------------------------------------------- S3 quirks

/// botocore's `_handle_200_error`: S3 can answer 200 with an `<Error>` document (or a body cut
/// short), for operations whose output is not a blob or string payload.
fn looks_like_s3_200_error(p: &Parser<'_, '_>, op: &Operation, raw: &RawResponse<'_>) -> bool {
    if raw.status != 200 || raw.body.is_empty() {
        return false;
    }
    let Some(output) = op.output.as_ref().and_then(|o| p.model.shape(&o.shape)) else {
        return false;
    };
    let event_stream = output
        .members
        .values()
        .any(|r| p.model.shape(&r.shape).is_some_and(|s| s.eventstream));
    if event_stream {
        return false;
    }
    if let Some(payload) = &output.payload
        && let Some(target) = output
            .members
            .get(payload)
            .and_then(|r| p.model.shape(&r.shape))
        && matches!(target.kind.as_str(), "blob" | "string")
    {
        return false;
    }
    let text = utf8(raw.body);
    match roxmltree::Document::parse(&text) {
        Ok(doc) => {
            doc.root_element().tag_name().name() == "Error"
                && doc.root_element().tag_name().namespace().is_none()
        }
        Err(_) => true,
    }
}

const REGION_ERROR_MSG: &str = "You can fix this issue by explicitly providing the correct region location using the --region argument, the AWS_DEFAULT_REGION environment variable, or the region variable in the AWS CLI configuration file.  You can get the bucket's location by running \"aws s3api get-bucket-location --bucket BUCKET\".";

/// The AWS CLI's `s3errormsg` customisation: hints for region and signature errors.
fn enhance_s3_error(err: &mut ErrorFields) {
    let message = err.message.clone().unwrap_or_default();
    if message.contains("Please use AWS4-HMAC-SHA256") {
        err.message = Some(format!(
            "You are attempting to operate on a bucket in a region that requires Signature Version 4.  {REGION_ERROR_MSG}"
        ));
    } else if err.code.as_deref() == Some("PermanentRedirect") {
        if let Some(endpoint) = &err.endpoint {
            let mut cut = message.clone();
            cut.pop();
            err.message = Some(format!("{cut}: {endpoint}\n{REGION_ERROR_MSG}"));
        }
    } else if message.contains("AWS KMS managed keys require AWS Signature Version 4") {
        err.message = Some(format!(
            "{message} You can enable AWS Signature Version 4 by running the command: \naws configure set s3.signature_version s3v4"
        ));
    }
}

// ---------------------------------------------------------------- after-call customisations

fn after_call(
    p: &Parser<'_, '_>,
    op: &Operation,
    raw: &RawResponse<'_>,
    options: &ParseOptions,
    out: &mut Map<String, Value>,
) {
    let service = p.model.service_name.as_str();
    match (service, op.name.as_str()) {
        ("s3", "GetBucketLocation") => {
            let text = utf8(raw.body);
            if let Ok(doc) = roxmltree::Document::parse(&text) {
                // ElementTree's `root.text`: None (null) for an empty element.
                let text = text_of(doc.root_element());
                let value = if text.is_empty() {
                    Value::Null
                } else {
                    Value::String(text)
                };
                out.insert("LocationConstraint".into(), value);
            }
        }
        ("s3", "ListObjects") if options.encoding_type_auto_set => decode_list(
            out,
            &["Delimiter", "Marker", "NextMarker"],
            &[("Contents", "Key"), ("CommonPrefixes", "Prefix")],
        ),
        ("s3", "ListObjectsV2") if options.encoding_type_auto_set => decode_list(
            out,
            &["Delimiter", "Prefix", "StartAfter"],
            &[("Contents", "Key"), ("CommonPrefixes", "Prefix")],
        ),
        ("s3", "ListObjectVersions") if options.encoding_type_auto_set => decode_list(
            out,
            &["KeyMarker", "NextKeyMarker", "Prefix", "Delimiter"],
            &[
                ("Versions", "Key"),
                ("DeleteMarkers", "Key"),
                ("CommonPrefixes", "Prefix"),
            ],
        ),
        ("ec2", "GetConsoleOutput") => {
            if let Some(Value::String(s)) = out.get("Output")
                && let Some(decoded) = lenient_base64(s)
            {
                let text = String::from_utf8_lossy(&decoded).into_owned();
                out.insert("Output".into(), Value::String(text));
            }
        }
        ("cloudformation", "GetTemplate") => {
            if let Some(Value::String(s)) = out.get("TemplateBody")
                && let Ok(v) = serde_json::from_str::<Value>(s)
            {
                out.insert("TemplateBody".into(), v);
            }
        }
        _ => {}
    }
    if service == "iam"
        && let Some(output) = &op.output
        && let Ok(m) = p.resolve(output)
    {
        let mut whole = Value::Object(std::mem::take(out));
        decode_policies(p, m, &mut whole);
        if let Value::Object(o) = whole {
            *out = o;
        }
    }
}

/// botocore's `handle_expires_header`: for S3 outputs with the modelled `Expires` header, the
/// raw header value (shown as `ExpiresString`), and whether it must be dropped before parsing
/// because it is not a timestamp.
fn s3_expires(
    model: &ServiceModel,
    op: &Operation,
    headers: &[(String, String)],
) -> Option<(String, bool)> {
    if model.service_name != "s3" {
        return None;
    }
    let output = model.shape(&op.output.as_ref()?.shape)?;
    let has = output
        .members
        .values()
        .any(|r| r.shape == "Expires" && r.location_name.as_deref() == Some("Expires"));
    if !has {
        return None;
    }
    let raw = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Expires"))
        .map(|(_, v)| v.clone())?;
    let bad = iso_timestamp(&Value::String(raw.clone())).is_err();
    Some((raw, bad))
}

fn decode_list(out: &mut Map<String, Value>, top: &[&str], nested: &[(&str, &str)]) {
    if out.get("EncodingType").and_then(Value::as_str) != Some("url") {
        return;
    }
    for key in top {
        if let Some(Value::String(s)) = out.get_mut(*key) {
            *s = unquote(s);
        }
    }
    for (list, key) in nested {
        if let Some(Value::Array(items)) = out.get_mut(*list) {
            for item in items {
                if let Some(Value::String(s)) = item.get_mut(*key) {
                    *s = unquote(s);
                }
            }
        }
    }
}

/// botocore's `json_decode_policies`: IAM policy documents (`policyDocumentType` strings)
/// arrive URL-encoded; they are shown decoded and parsed as JSON when they parse.
fn decode_policies<'m>(p: &Parser<'m, '_>, m: Member<'m>, value: &mut Value) {
    match m.shape.kind.as_str() {
        "structure" => {
            let Value::Object(obj) = value else { return };
            for (name, r) in &m.shape.members {
                let Ok(member) = p.resolve(r) else { continue };
                let Some(v) = obj.get_mut(name) else { continue };
                if member.shape.kind == "string" && member.shape_name == "policyDocumentType" {
                    if let Value::String(s) = v
                        && let Ok(doc) = serde_json::from_str::<Value>(&unquote(s))
                    {
                        *v = doc;
                    }
                } else {
                    decode_policies(p, member, v);
                }
            }
        }
        "list" => {
            let (Value::Array(items), Some(item_ref)) = (value, m.shape.member.as_deref()) else {
                return;
            };
            let Ok(item) = p.resolve(item_ref) else {
                return;
            };
            for v in items {
                decode_policies(p, item, v);
            }
        }
        _ => {}
    }
}

/// Python's `urllib.parse.unquote`: `%XX` decoded, invalid escapes kept, UTF-8 with
/// replacement characters.
fn unquote(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Python's `base64.b64decode` without validation: characters outside the alphabet are
/// skipped; wrong padding fails.
fn lenient_base64(s: &str) -> Option<Vec<u8>> {
    let filtered: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(filtered)
        .ok()
}

// ---------------------------------------------------------------- timestamps

/// A timestamp as the CLI prints it with `cli_timestamp_format = iso8601`:
/// `parse_timestamp(value).isoformat()`. Epoch values are shown in the local zone, which is
/// UTC for this server (botocore uses `tzlocal()`); text keeps its own offset, or none.
pub fn iso_timestamp(value: &Value) -> Result<String, ResponseError> {
    let bad = |v: &dyn std::fmt::Display| malformed(format!("Invalid timestamp \"{v}\""));
    match value {
        Value::Number(n) => {
            let f = n.as_f64().ok_or_else(|| bad(n))?;
            epoch_iso(f).ok_or_else(|| bad(n))
        }
        Value::String(s) => {
            if let Ok(f) = python_float(s) {
                return epoch_iso(f).ok_or_else(|| bad(s));
            }
            parse_date_text(s.trim()).ok_or_else(|| bad(s))
        }
        other => Err(bad(other)),
    }
}

/// `datetime.fromtimestamp(value, tz).isoformat()` in UTC, microseconds rounded half-even.
fn epoch_iso(value: f64) -> Option<String> {
    if !value.is_finite() {
        return None;
    }
    let mut secs = value.trunc();
    let mut micros = ((value - secs) * 1e6).round_ties_even();
    if micros >= 1e6 {
        secs += 1.0;
        micros -= 1e6;
    } else if micros < 0.0 {
        secs -= 1.0;
        micros += 1e6;
    }
    let dt = time::OffsetDateTime::from_unix_timestamp(secs as i64).ok()?;
    if !(1..=9999).contains(&dt.year()) {
        return None;
    }
    Some(iso_format(
        dt.date(),
        (dt.hour(), dt.minute(), dt.second()),
        micros as u32,
        Some(0),
    ))
}

/// Python's `isoformat()`: microseconds only when non-zero, the offset when aware.
fn iso_format(
    date: time::Date,
    hms: (u8, u8, u8),
    micros: u32,
    offset_secs: Option<i32>,
) -> String {
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        date.year(),
        date.month() as u8,
        date.day(),
        hms.0,
        hms.1,
        hms.2
    );
    if micros != 0 {
        s.push_str(&format!(".{micros:06}"));
    }
    if let Some(off) = offset_secs {
        let sign = if off < 0 { '-' } else { '+' };
        let a = off.unsigned_abs();
        s.push_str(&format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60));
        if a % 60 != 0 {
            s.push_str(&format!(":{:02}", a % 60));
        }
    }
    s
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// The date texts AWS services send, read as dateutil reads them: ISO 8601 (basic or
/// extended, `T` or space, fractions truncated to microseconds, `Z`/offset/`GMT`/`UTC` or
/// none) and RFC 822/1123 (`Wed, 01 Dec 2027 21:13:29 GMT`).
fn parse_date_text(s: &str) -> Option<String> {
    parse_iso_text(s).or_else(|| parse_rfc822_text(s))
}

fn digits(s: &str, n: usize) -> Option<(u32, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}

fn parse_iso_text(s: &str) -> Option<String> {
    let (year, rest) = digits(s, 4)?;
    let (month, day, rest) = if let Some(r) = rest.strip_prefix('-') {
        let (m, r) = digits(r, 2)?;
        let (d, r) = digits(r.strip_prefix('-')?, 2)?;
        (m, d, r)
    } else {
        let (m, r) = digits(rest, 2)?;
        let (d, r) = digits(r, 2)?;
        (m, d, r)
    };
    let date = time::Date::from_calendar_date(
        i32::try_from(year).ok()?,
        time::Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    if rest.is_empty() {
        return Some(iso_format(date, (0, 0, 0), 0, None));
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (h, rest) = digits(rest, 2)?;
    let (mi, rest, extended) = match rest.strip_prefix(':') {
        Some(r) => {
            let (m, r) = digits(r, 2)?;
            (m, r, true)
        }
        None => {
            let (m, r) = digits(rest, 2)?;
            (m, r, false)
        }
    };
    let (sec, rest) = if extended {
        match rest.strip_prefix(':') {
            Some(r) => digits(r, 2)?,
            None => (0, rest),
        }
    } else {
        digits(rest, 2).unwrap_or((0, rest))
    };
    let (micros, rest) = fraction(rest);
    let offset = parse_offset(rest)?;
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    Some(iso_format(
        date,
        (h as u8, mi as u8, sec as u8),
        micros,
        offset,
    ))
}

/// `.123456789` → microseconds (truncated, as dateutil does) and the rest.
fn fraction(s: &str) -> (u32, &str) {
    let Some(r) = s.strip_prefix(['.', ',']) else {
        return (0, s);
    };
    let n = r.bytes().take_while(u8::is_ascii_digit).count();
    let mut f: String = r[..n].chars().take(6).collect();
    while f.len() < 6 {
        f.push('0');
    }
    (f.parse().unwrap_or(0), &r[n..])
}

/// A zone suffix: none (naive), `Z`, `UTC`, `GMT`, `±HH`, `±HHMM`, `±HH:MM`.
fn parse_offset(s: &str) -> Option<Option<i32>> {
    let t = s.trim();
    if t.is_empty() {
        return Some(None);
    }
    if matches!(t, "Z" | "z" | "UTC" | "GMT" | "UT") {
        return Some(Some(0));
    }
    let sign = match t.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let body = t[1..].replace(':', "");
    let (h, m) = match body.len() {
        2 => (body.parse::<i32>().ok()?, 0),
        4 => (
            body[..2].parse::<i32>().ok()?,
            body[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    Some(Some(sign * (h * 3600 + m * 60)))
}

fn parse_rfc822_text(s: &str) -> Option<String> {
    // Optional weekday ("Wed,"), then day, month name, year, time, zone.
    let s = match s.split_once(',') {
        Some((_, rest)) => rest.trim(),
        None => s,
    };
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() < 4 {
        return None;
    }
    let day: u8 = parts[0].parse().ok()?;
    let month_idx = MONTHS
        .iter()
        .position(|m| parts[1].to_ascii_lowercase().starts_with(m))?;
    let year: i32 = parts[2].parse().ok()?;
    let date = time::Date::from_calendar_date(
        year,
        time::Month::try_from(u8::try_from(month_idx + 1).ok()?).ok()?,
        day,
    )
    .ok()?;
    let hms: Vec<&str> = parts[3].split(':').collect();
    let h: u8 = hms.first()?.parse().ok()?;
    let mi: u8 = hms.get(1)?.parse().ok()?;
    let (sec, micros) = match hms.get(2) {
        Some(sf) => {
            let (sec, rest) = digits(sf, 2)?;
            let (micros, _) = fraction(rest);
            (sec as u8, micros)
        }
        None => (0, 0),
    };
    let offset = parse_offset(&parts[4..].join(" "))?;
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    Some(iso_format(date, (h, mi, sec), micros, offset))
}

/// Python's `http.client.responses` phrases, which botocore uses for body-less errors.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a Teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A one-operation model of `protocol` whose output is `Out`, from JSON shapes.
    fn model(protocol: &str, shapes: Value) -> (ServiceModel, Operation) {
        let shapes: BTreeMap<String, Shape> = serde_json::from_value(shapes).expect("shapes");
        let op: Operation = serde_json::from_value(serde_json::json!({
            "name": "Op", "http": {"method": "GET", "requestUri": "/"},
            "output": {"shape": "Out", "resultWrapper": "OpResult"}
        }))
        .expect("operation");
        let metadata =
            serde_json::from_value(serde_json::json!({"protocol": protocol})).expect("metadata");
        let m = ServiceModel::from_parts(
            "test",
            metadata,
            BTreeMap::from([("Op".into(), op.clone())]),
            shapes,
        );
        (m, op)
    }

    fn parse(
        m: &(ServiceModel, Operation),
        status: u16,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<Value, ResponseError> {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let raw = RawResponse {
            status,
            headers: &headers,
            body: body.as_bytes(),
        };
        parse_response(&m.0, &m.1, &raw).map(Value::Object)
    }

    fn service_error(r: Result<Value, ResponseError>) -> ServiceError {
        match r {
            Err(ResponseError::Service(e)) => e,
            other => panic!("expected a service error, got {other:?}"),
        }
    }

    fn xml_shapes() -> Value {
        serde_json::json!({
            "Out": {"type": "structure", "members": {
                "Flat": {"shape": "Names", "flattened": true, "locationName": "name"},
                "Wrapped": {"shape": "Ints", "locationName": "ints"},
                "Attrs": {"shape": "Attrs", "flattened": true, "locationName": "Attribute"},
                "Tags": {"shape": "Tags"},
                "Grantee": {"shape": "Grantee"},
                "Count": {"shape": "Int"},
                "Ratio": {"shape": "Double"},
                "On": {"shape": "Bool"},
                "When": {"shape": "Time"},
                "Missing": {"shape": "Str"}
            }},
            "Names": {"type": "list", "member": {"shape": "Str"}},
            "Ints": {"type": "list", "member": {"shape": "Int", "locationName": "i"}},
            "Attrs": {"type": "map", "key": {"shape": "Str", "locationName": "Name"},
                      "value": {"shape": "Str", "locationName": "Value"}},
            "Tags": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Int"}},
            "Grantee": {"type": "structure", "members": {
                "Type": {"shape": "Str", "xmlAttribute": true, "locationName": "xsi:type"},
                "ID": {"shape": "Str"}
            }},
            "Str": {"type": "string"}, "Int": {"type": "integer"}, "Double": {"type": "double"},
            "Bool": {"type": "boolean"}, "Time": {"type": "timestamp"}
        })
    }

    #[test]
    fn query_xml_flattened_lists_and_maps_wrappers_and_attributes() {
        let m = model("query", xml_shapes());
        let body = r#"<OpResponse xmlns="urn:x"><OpResult>
            <name>a</name><name>b</name>
            <ints><i>1</i><i>2</i></ints>
            <Attribute><Name>k1</Name><Value>v1</Value></Attribute>
            <Attribute><Name>k2</Name><Value/></Attribute>
            <Tags><entry><key>x</key><value>7</value></entry></Tags>
            <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>id1</ID></Grantee>
            <Count>42</Count><Ratio>1</Ratio><On>true</On>
            <When>2024-01-02T03:04:05.5Z</When>
        </OpResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></OpResponse>"#;
        let got = parse(&m, 200, &[], body).expect("parsed");
        assert_eq!(
            got,
            serde_json::json!({
                "Flat": ["a", "b"], "Wrapped": [1, 2],
                "Attrs": {"k1": "v1", "k2": ""}, "Tags": {"x": 7},
                "Grantee": {"Type": "CanonicalUser", "ID": "id1"},
                "Count": 42, "Ratio": 1.0, "On": true,
                "When": "2024-01-02T03:04:05.500000+00:00"
            })
        );
        // Model order, not document order, and a double stays a float.
        let keys: Vec<&String> = got.as_object().expect("object").keys().collect();
        assert_eq!(keys[0], "Flat");
        assert!(got["Ratio"].is_f64());
    }

    #[test]
    fn a_single_flattened_element_is_still_a_list() {
        let m = model("query", xml_shapes());
        let body = "<R><OpResult><name>only</name><ints/></OpResult></R>";
        let got = parse(&m, 200, &[], body).expect("parsed");
        assert_eq!(got, serde_json::json!({"Flat": ["only"], "Wrapped": []}));
    }

    #[test]
    fn query_errors_and_empty_messages() {
        let m = model("query", xml_shapes());
        let e = service_error(parse(
            &m,
            400,
            &[],
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message/></Error><RequestId>q1</RequestId></ErrorResponse>",
        ));
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("Throttling", "None")
        );
        assert_eq!(e.request_id.as_deref(), Some("q1"));
        assert!(is_throttling(&e) && is_retryable(&e));
        assert_eq!(
            e.to_string(),
            "An error occurred (Throttling) when calling the Op operation: None"
        );
        let e = service_error(parse(
            &m,
            400,
            &[],
            "<ErrorResponse><Error><Code>X</Code></Error></ErrorResponse>",
        ));
        assert_eq!(e.message, "Unknown");
        assert!(!is_retryable(&e));
    }

    #[test]
    fn ec2_errors_and_generic_5xx() {
        let m = model("ec2", xml_shapes());
        let e = service_error(parse(
            &m,
            400,
            &[],
            "<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code><Message>nope</Message></Error></Errors><RequestID>e1</RequestID></Response>",
        ));
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("InvalidVpcID.NotFound", "nope")
        );
        assert_eq!(e.request_id.as_deref(), Some("e1"));
        let e = service_error(parse(&m, 503, &[], "  "));
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("503", "Service Unavailable")
        );
        assert!(is_retryable(&e) && !is_throttling(&e));
        let e = service_error(parse(&m, 500, &[], "<html><body>oops</body></html>"));
        assert_eq!(e.code, "500");
    }

    fn rest_shapes() -> Value {
        serde_json::json!({
            "Out": {"type": "structure", "members": {
                "Status": {"shape": "Int", "location": "statusCode"},
                "Size": {"shape": "Long", "location": "header", "locationName": "Content-Length"},
                "Modified": {"shape": "Time", "location": "header", "locationName": "Last-Modified"},
                "Flag": {"shape": "Bool", "location": "header", "locationName": "x-flag"},
                "Doc": {"shape": "JsonStr", "location": "header", "locationName": "x-doc", "jsonvalue": true},
                "Meta": {"shape": "Meta", "location": "headers", "locationName": "x-amz-meta-"},
                "Items": {"shape": "Names"},
                "Created": {"shape": "Time"},
                "Ratio": {"shape": "Double"},
                "Count": {"shape": "Int"}
            }},
            "Meta": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Str"}},
            "Names": {"type": "list", "member": {"shape": "Str"}},
            "JsonStr": {"type": "string"},
            "Str": {"type": "string"}, "Int": {"type": "integer"}, "Long": {"type": "long"},
            "Double": {"type": "double"}, "Bool": {"type": "boolean"}, "Time": {"type": "timestamp"}
        })
    }

    #[test]
    fn rest_json_headers_status_and_typed_body() {
        let m = model("rest-json", rest_shapes());
        let doc = base64::engine::general_purpose::STANDARD.encode(r#"{"b": 1, "a": [true]}"#);
        let got = parse(
            &m,
            201,
            &[
                ("content-length", "12"),
                ("last-modified", "Tue, 02 Jan 2024 03:04:05 GMT"),
                ("X-Flag", "TRUE"),
                ("x-doc", &doc),
                ("x-amz-meta-Owner", "me"),
            ],
            r#"{"Created": 1700000000.25, "Ratio": 2, "Count": 3.0, "Items": ["x", null]}"#,
        )
        .expect("parsed");
        assert_eq!(
            got,
            serde_json::json!({
                "Status": 201, "Size": 12, "Modified": "2024-01-02T03:04:05+00:00",
                "Flag": true, "Doc": {"b": 1, "a": [true]}, "Meta": {"Owner": "me"},
                "Items": ["x", null], "Created": "2023-11-14T22:13:20.250000+00:00",
                "Ratio": 2.0, "Count": 3
            })
        );
        assert!(got["Ratio"].is_f64() && got["Count"].is_i64());
    }

    #[test]
    fn empty_bodies_give_only_what_headers_carry() {
        let m = model("rest-json", rest_shapes());
        let got = parse(&m, 200, &[], "").expect("parsed");
        assert_eq!(got, serde_json::json!({"Status": 200, "Meta": {}}));
        let m = model("rest-xml", rest_shapes());
        let got = parse(&m, 204, &[], "").expect("parsed");
        assert_eq!(got, serde_json::json!({"Status": 204, "Meta": {}}));
        let m = model("json", rest_shapes());
        assert_eq!(
            parse(&m, 200, &[], "").expect("parsed"),
            serde_json::json!({})
        );
    }

    #[test]
    fn json_scalars_pass_through_and_errors_strip_prefixes() {
        let m = model("json", rest_shapes());
        // The json protocol keeps numbers as sent (botocore does not convert them).
        let got = parse(
            &m,
            200,
            &[],
            r#"{"Ratio": 2, "Count": 3.0, "Created": 1e9}"#,
        )
        .expect("parsed");
        assert_eq!(
            got,
            serde_json::json!({"Created": "2001-09-09T01:46:40+00:00", "Ratio": 2, "Count": 3.0})
        );
        let e = service_error(parse(
            &m,
            400,
            &[("x-amzn-RequestId", "j1")],
            r#"{"__type": "com.amazon.coral#ResourceNotFoundException:extra", "Message": "gone"}"#,
        ));
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("ResourceNotFoundException", "gone")
        );
        assert_eq!(e.request_id.as_deref(), Some("j1"));
        let e = service_error(parse(
            &m,
            400,
            &[(
                "x-amzn-query-error",
                "AWS.SimpleQueueService.NonExistentQueue;Sender",
            )],
            r#"{"__type": "QueueDoesNotExist", "message": "m"}"#,
        ));
        assert_eq!(e.code, "AWS.SimpleQueueService.NonExistentQueue");
        let e = service_error(parse(&m, 413, &[], "not json"));
        assert_eq!((e.code.as_str(), e.message.as_str()), ("413", "not json"));
    }

    #[test]
    fn rest_json_error_code_from_header_then_body() {
        let m = model("rest-json", rest_shapes());
        let e = service_error(parse(
            &m,
            404,
            &[(
                "X-Amzn-ErrorType",
                "ResourceNotFoundException:http://internal/",
            )],
            r#"{"message": "no"}"#,
        ));
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("ResourceNotFoundException", "no")
        );
        let e = service_error(parse(
            &m,
            429,
            &[],
            r#"{"code": "TooManyRequestsException"}"#,
        ));
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("TooManyRequestsException", "")
        );
        assert!(is_throttling(&e));
    }

    #[test]
    fn rest_xml_errors_s3_and_others() {
        let m = model("rest-xml", rest_shapes());
        let e = service_error(parse(&m, 404, &[("x-amz-request-id", "s1")], ""));
        assert_eq!((e.code.as_str(), e.message.as_str()), ("404", "Not Found"));
        assert_eq!(e.request_id.as_deref(), Some("s1"));
        let e = service_error(parse(
            &m,
            400,
            &[],
            "<ErrorResponse xmlns=\"urn:r53\"><Error><Code>InvalidInput</Code></Error><RequestId>r</RequestId></ErrorResponse>",
        ));
        assert_eq!((e.code.as_str(), e.message.as_str()), ("InvalidInput", ""));
        let e = service_error(parse(
            &m,
            400,
            &[],
            "<Error><Code>SlowDown</Code><Message>m</Message></Error>",
        ));
        assert_eq!(e.code, "SlowDown");
        assert!(is_retryable(&e));
        let e = service_error(parse(&m, 400, &[], "<broken"));
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("400", "Bad Request")
        );
        // A 300 is raised with nothing parsed, as botocore's client does.
        let e = service_error(parse(&m, 300, &[], ""));
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("Unknown", "Unknown")
        );
    }

    #[test]
    fn s3_permanent_redirect_gets_the_cli_hint() {
        let mut err = ErrorFields {
            code: Some("PermanentRedirect".into()),
            message: Some("Please send all future requests to this endpoint.".into()),
            endpoint: Some("b.s3.eu-west-1.amazonaws.com".into()),
            request_id: None,
        };
        enhance_s3_error(&mut err);
        let msg = err.message.expect("message");
        assert!(msg.starts_with(
            "Please send all future requests to this endpoint: b.s3.eu-west-1.amazonaws.com\nYou can fix"
        ));
    }

    #[test]
    fn timestamps_print_as_python_isoformat() {
        let cases = [
            (serde_json::json!(1700000000), "2023-11-14T22:13:20+00:00"),
            (
                serde_json::json!(1700000000.5),
                "2023-11-14T22:13:20.500000+00:00",
            ),
            (
                serde_json::json!(1796159914.07575),
                "2026-12-01T21:18:34.075750+00:00",
            ),
            (
                serde_json::json!(0.000001),
                "1970-01-01T00:00:00.000001+00:00",
            ),
            (serde_json::json!(-1.5), "1969-12-31T23:59:58.500000+00:00"),
            (serde_json::json!("1700000000"), "2023-11-14T22:13:20+00:00"),
            (
                serde_json::json!("2024-01-02T03:04:05Z"),
                "2024-01-02T03:04:05+00:00",
            ),
            (
                serde_json::json!("2024-01-02T03:04:05.123456789Z"),
                "2024-01-02T03:04:05.123456+00:00",
            ),
            (
                serde_json::json!("2024-01-02T08:34:05+05:30"),
                "2024-01-02T08:34:05+05:30",
            ),
            (
                serde_json::json!("2024-01-02T03:04:05-0800"),
                "2024-01-02T03:04:05-08:00",
            ),
            (
                serde_json::json!("2024-01-02T03:04:05"),
                "2024-01-02T03:04:05",
            ),
            (
                serde_json::json!("2024-01-02 03:04:05.100"),
                "2024-01-02T03:04:05.100000",
            ),
            (
                serde_json::json!("20240102T030405Z"),
                "2024-01-02T03:04:05+00:00",
            ),
            (serde_json::json!("2024-01-02"), "2024-01-02T00:00:00"),
            (
                serde_json::json!("Tue, 02 Jan 2024 03:04:05 GMT"),
                "2024-01-02T03:04:05+00:00",
            ),
            (
                serde_json::json!("02 Jan 2024 03:04:05 +0100"),
                "2024-01-02T03:04:05+01:00",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(iso_timestamp(&input).expect("parses"), want, "{input}");
        }
        assert!(iso_timestamp(&serde_json::json!("not a date")).is_err());
        assert!(iso_timestamp(&serde_json::json!("2024-13-01T00:00:00Z")).is_err());
    }

    #[test]
    fn percent_and_base64_helpers_follow_python() {
        assert_eq!(unquote("a%2Fb%20c+d%zz%C3%A9%"), "a/b c+d%zz\u{e9}%");
        assert_eq!(lenient_base64("aGVs\nbG8="), Some(b"hello".to_vec()));
        assert_eq!(lenient_base64("abc"), None);
    }

    #[test]
    fn streaming_members_are_named() {
        let models = aws_models::models();
        let s3 = models.service("s3").expect("s3");
        let get = s3.operation("GetObject").expect("op");
        assert_eq!(streaming_member(&s3, get).as_deref(), Some("Body"));
        let policy = s3.operation("GetBucketPolicy").expect("op");
        assert_eq!(streaming_member(&s3, policy), None);
        let lambda = models.service("lambda").expect("lambda");
        let invoke = lambda.operation("Invoke").expect("op");
        assert_eq!(
            streaming_member(&lambda, invoke).as_deref(),
            Some("Payload")
        );
    }
}
