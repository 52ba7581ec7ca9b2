//! The AWS CLI's argument customisations: arguments the CLI adds on top of the service
//! model (`lambda create-function --zip-file`, `ec2 authorize-security-group-ingress --port`,
//! `cloudwatch put-metric-data --value`...) and the parameter rewrites it makes just before
//! a call (`ec2 run-instances` defaults and network-interface moves, network ACL protocol
//! names), translated into the API parameters the CLI would build.
//!
//! The CLI applies custom arguments after the model's own arguments and before
//! `--cli-input-json` fills what is missing, in the order its argument table lists them;
//! [`apply`] does the same. Checks the CLI makes when it parses (options that exclude each
//! other, value counts) come first, with the CLI's messages.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_models::ServiceModel;
use base64::Engine;
use serde_json::{Map, Value, json};

use crate::arg_kinds::translates;
use crate::arg_values::{CallOptions, blob_value, param_error, py_float, py_int, read_local};
use crate::cli_table::{ArgTarget, cli_table};
use crate::command::{CommandError, ParsedArg, ParsedCommand};
use crate::python::truthy;

/// The order in which the CLI's argument tables list the custom arguments: the CLI applies
/// them in that order, which decides who wins when two touch the same parameter
/// (`--associate-public-ip-address --no-associate-public-ip-address` gives false).
const TABLE_ORDER: [&str; 33] = [
    "zip-file",
    "protocol",
    "port",
    "cidr",
    "source-group",
    "group-owner",
    "count",
    "secondary-private-ip-addresses",
    "secondary-private-ip-address-count",
    "associate-public-ip-address",
    "no-associate-public-ip-address",
    "metric-name",
    "timestamp",
    "unit",
    "value",
    "dimensions",
    "statistic-values",
    "storage-resolution",
    "paths",
    "origin-domain-name",
    "default-root-object",
    "to",
    "cc",
    "bcc",
    "subject",
    "text",
    "html",
    "cluster-states",
    "active",
    "terminated",
    "failed",
    "created-before",
    "created-after",
];

fn fail(message: impl Into<String>) -> CommandError {
    CommandError::Syntax(message.into())
}

/// `--name` with the Python attribute name the CLI's messages use (`metric_name`).
fn py_name(arg: &str) -> String {
    arg.replace('-', "_")
}

/// How many words an argument takes, as the CLI declares it.
#[derive(Clone, Copy)]
enum Takes {
    Flag,
    One,
    AtLeastOne,
    Any,
}

fn takes(name: &str) -> Takes {
    match name {
        "associate-public-ip-address"
        | "no-associate-public-ip-address"
        | "active"
        | "terminated"
        | "failed" => Takes::Flag,
        "paths" | "to" | "cc" | "bcc" | "cluster-states" => Takes::AtLeastOne,
        "secondary-private-ip-addresses" => Takes::Any,
        _ => Takes::One,
    }
}

/// The argument's words checked against its arity, with argparse's messages.
fn words(arg: &ParsedArg) -> Result<&[String], CommandError> {
    let values = arg.values.as_slice();
    let extra = |from: usize| {
        let rest = values.get(from..).unwrap_or_default();
        fail(format!("Unknown options: {}", rest.join(", ")))
    };
    match takes(&arg.name) {
        Takes::Flag if !values.is_empty() => Err(extra(0)),
        Takes::One if values.is_empty() => Err(fail(format!(
            "aws: error: argument --{}: expected one argument",
            arg.name
        ))),
        Takes::One if values.len() > 1 => Err(extra(1)),
        Takes::AtLeastOne if values.is_empty() => Err(fail(format!(
            "aws: error: argument --{}: expected at least one argument",
            arg.name
        ))),
        _ => Ok(values),
    }
}

fn one(arg: &ParsedArg) -> Result<&str, CommandError> {
    Ok(words(arg)?.first().map(String::as_str).unwrap_or_default())
}

/// The first element of the list `params[key]`, created as `[{}]` when absent, as the CLI's
/// helpers do; an empty list fails like Python's `[0]`.
fn first_element<'p>(
    params: &'p mut Map<String, Value>,
    key: &str,
    seed: Value,
) -> Result<&'p mut Map<String, Value>, CommandError> {
    let list = params
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(vec![seed]));
    match list {
        Value::Array(items) => match items.first_mut() {
            Some(Value::Object(first)) => Ok(first),
            Some(_) => Err(fail(format!("{key}: the first element is not a structure"))),
            None => Err(fail("list index out of range")),
        },
        _ => Err(fail(format!("{key}: expected a list"))),
    }
}

/// The object `params[key]`, created empty when absent or not an object (the CLI would
/// fail on a non-object; only `--cli-input-json`-free paths reach here, so none occurs).
fn object_at<'p>(
    params: &'p mut Map<String, Value>,
    key: &str,
) -> Result<&'p mut Map<String, Value>, CommandError> {
    let slot = params
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
        .ok_or_else(|| CommandError::Internal(format!("{key} is not a structure")))
}

/// `{prefix}-{seconds since the epoch}-{random 1..=1000000}`, the CLI's unique references.
fn unique_string(prefix: &str) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    // A fresh RandomState is randomly keyed: enough for a reference, no generator needed.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(secs);
    let random = hasher.finish() % 1_000_000 + 1;
    format!("{prefix}-{secs}-{random}")
}

/// A Python `Decimal(text)` as the number the serialisers write (`float(value)`).
fn decimal(arg: &str, text: &str) -> Result<Value, CommandError> {
    py_float(text).ok_or_else(|| param_error(arg, format!("'{text}' is not a decimal number")))
}

/// `int(text)` or the customisation's own message.
fn int_or(text: &str, message: &str) -> Result<Value, CommandError> {
    py_int(text).ok_or_else(|| fail(message))
}

// ------------------------------------------------------------------ zip archives

const ZIP_ERROR: &str = "--zip-file must be a zip file with the fileb:// prefix.\nExample usage:  --zip-file fileb://path/to/file.zip";

fn le16(b: &[u8], at: usize) -> Option<usize> {
    b.get(at..at + 2)
        .map(|s| usize::from(u16::from_le_bytes([s[0], s[1]])))
}

fn le32(b: &[u8], at: usize) -> Option<usize> {
    b.get(at..at + 4)
        .and_then(|s| usize::try_from(u32::from_le_bytes([s[0], s[1], s[2], s[3]])).ok())
}

/// Whether bytes open as a zip archive the way Python's `zipfile` opens one: an end of
/// central directory record (possibly followed by a comment), and a central directory of
/// well-formed entries where it says.
pub fn is_zip(bytes: &[u8]) -> bool {
    const END: &[u8] = b"PK\x05\x06";
    const ENTRY: &[u8] = b"PK\x01\x02";
    if bytes.len() < 22 {
        return false;
    }
    let tail_start = bytes.len().saturating_sub(22 + 65_535);
    let Some(end) = bytes[tail_start..]
        .windows(4)
        .rposition(|w| w == END)
        .map(|p| p + tail_start)
    else {
        return false;
    };
    if bytes.len() - end < 22 {
        return false;
    }
    let (Some(size), Some(offset)) = (le32(bytes, end + 12), le32(bytes, end + 16)) else {
        return false;
    };
    if size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
        return true; // zip64: the sizes live in another record; accept as zipfile would try
    }
    // Bytes prepended to the archive (self-extractors) shift every offset alike.
    let Some(start) = end.checked_sub(size).and_then(|s| s.checked_sub(offset)) else {
        return false;
    };
    let mut at = start + offset;
    let stop = at + size;
    while at < stop {
        if bytes.get(at..at + 4) != Some(ENTRY) {
            return false;
        }
        let (Some(name), Some(extra), Some(comment)) = (
            le16(bytes, at + 28),
            le16(bytes, at + 30),
            le16(bytes, at + 32),
        ) else {
            return false;
        };
        at += 46 + name + extra + comment;
    }
    at <= end
}

// ------------------------------------------------------------------ split_on_commas

/// One CSV row as Python's `csv.reader(..., escapechar='\\')` reads it (quote `"`, doubled
/// quotes inside quoted fields, lenient about stray quotes).
fn csv_row(text: &str) -> Vec<String> {
    #[derive(PartialEq)]
    enum S {
        Start,
        Field,
        Escaped,
        Quoted,
        QuotedEscaped,
        QuoteInQuoted,
    }
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut state = S::Start;
    for c in text.chars() {
        state = match state {
            S::Start => match c {
                '"' => S::Quoted,
                '\\' => S::Escaped,
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    S::Start
                }
                _ => {
                    field.push(c);
                    S::Field
                }
            },
            S::Escaped => {
                field.push(c);
                S::Field
            }
            S::Field => match c {
                '\\' => S::Escaped,
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    S::Start
                }
                _ => {
                    field.push(c);
                    S::Field
                }
            },
            S::Quoted => match c {
                '\\' => S::QuotedEscaped,
                '"' => S::QuoteInQuoted,
                _ => {
                    field.push(c);
                    S::Quoted
                }
            },
            S::QuotedEscaped => {
                field.push(c);
                S::Quoted
            }
            S::QuoteInQuoted => match c {
                '"' => {
                    field.push('"');
                    S::Quoted
                }
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    S::Start
                }
                _ => {
                    field.push(c);
                    S::Field
                }
            },
        };
    }
    if state == S::Escaped || state == S::QuotedEscaped {
        field.push('\n'); // Python's reader keeps a trailing escape as a newline
    }
    fields.push(field);
    fields
}

/// Joins parts until one ends with `end`, removing `remove` from each (the CLI's `_eat_items`).
fn eat_items(
    value: &str,
    parts: &mut std::vec::IntoIter<String>,
    first: &str,
    end: char,
    remove: Option<char>,
) -> Result<String, CommandError> {
    let strip = |s: &str| match remove {
        Some(r) => s.replace(r, ""),
        None => s.to_owned(),
    };
    let mut chunks = vec![strip(first)];
    loop {
        let Some(current) = parts.next() else {
            return Err(fail(value.to_owned()));
        };
        chunks.push(strip(&current));
        if current.ends_with(end) {
            break;
        }
    }
    Ok(chunks.join(","))
}

fn split_with_quotes(value: &str) -> Result<Vec<String>, CommandError> {
    let mut parts = csv_row(value).into_iter();
    let mut out = Vec::new();
    while let Some(part) = parts.next() {
        let quote = part.chars().find(|c| *c == '"' || *c == '\'');
        let list_start = part.find("=[");
        if let Some(ls) = list_start
            && value.contains(']')
            && quote.is_none_or(|q| part.find(q).is_some_and(|p| p > ls))
        {
            let chunk = if part.contains(']') {
                part.clone()
            } else {
                eat_items(value, &mut parts, &part, ']', None)?
            };
            let inner = chunk
                .get(ls + 2..chunk.len().saturating_sub(1))
                .unwrap_or("");
            let items = split_with_quotes(inner)?;
            out.push(format!("{}{}", &chunk[..ls + 1], items.join(",")));
        } else if let Some(q) = quote {
            if part.matches(q).count() == 2 {
                out.push(part.replace(q, ""));
            } else {
                out.push(eat_items(value, &mut parts, &part, q, Some(q))?);
            }
        } else {
            out.push(part);
        }
    }
    Ok(out)
}

/// The CLI's `split_on_commas`: `a=1,b=2` into parts, honouring `\,` escapes, quoted values
/// and `[...]` lists.
pub fn split_on_commas(value: &str) -> Result<Vec<String>, CommandError> {
    if !value.contains(['"', '\\', '\'', ']', '[']) {
        return Ok(value.split(',').map(str::to_owned).collect());
    }
    if !value.contains(['"', '\'', '[', ']']) {
        return Ok(csv_row(value));
    }
    split_with_quotes(value)
}

/// `key=value` split as Python's `key, value = pair.split('=')` does (exactly one `=`).
fn key_value(pair: &str) -> Result<(&str, &str), CommandError> {
    let mut it = pair.split('=');
    match (it.next(), it.next(), it.next()) {
        (Some(k), Some(v), None) => Ok((k, v)),
        (_, None, _) => Err(fail("not enough values to unpack (expected 2, got 1)")),
        _ => Err(fail("too many values to unpack (expected 2)")),
    }
}

// ------------------------------------------------------------------ applying

/// Context for the translations of one command.
struct Ctx<'a> {
    model: &'a ServiceModel,
    command: &'a ParsedCommand,
    options: &'a CallOptions,
}

impl Ctx<'_> {
    fn given(&self, name: &str) -> Option<&ParsedArg> {
        self.command.args.iter().find(|a| a.name == name)
    }

    /// A blob argument's value as the CLI loads it: `fileb://` bytes, `file://` text, or
    /// the word itself.
    fn blob(&self, arg: &str, raw: &str) -> Result<Value, CommandError> {
        if let Some(path) = raw.strip_prefix("fileb://") {
            let bytes = read_local(&self.options.local_files, raw, path, arg)?;
            return Ok(blob_value(&bytes));
        }
        if let Some(path) = raw.strip_prefix("file://") {
            let bytes = read_local(&self.options.local_files, raw, path, arg)?;
            return String::from_utf8(bytes).map(Value::String).map_err(|_| {
                param_error(
                    arg,
                    format!("{raw} is not UTF-8 text; use fileb:// for binary data"),
                )
            });
        }
        Ok(Value::String(raw.to_owned()))
    }
}

/// The mutual-exclusion checks the CLI runs once arguments are parsed, with its messages:
/// a model member against the custom arguments that stand for it.
fn exclusive(
    ctx: &Ctx<'_>,
    params: &Map<String, Value>,
    member: &str,
    member_arg: &str,
    customs: &[&str],
) -> Result<(), CommandError> {
    let member_given = ctx
        .command
        .args
        .iter()
        .any(|a| a.target == ArgTarget::Member(member.to_owned()))
        && params.contains_key(member);
    if !member_given {
        return Ok(());
    }
    match customs.iter().find(|c| ctx.given(c).is_some()) {
        Some(custom) => Err(fail(format!(
            "The key \"{}\" cannot be specified when one of the following keys are also specified: {}",
            py_name(custom),
            py_name(member_arg)
        ))),
        None => Ok(()),
    }
}

fn check_parsed(ctx: &Ctx<'_>, params: &Map<String, Value>) -> Result<(), CommandError> {
    let c = ctx.command;
    match (c.service.as_str(), c.operation.as_str()) {
        (
            "ec2",
            "AuthorizeSecurityGroupIngress"
            | "AuthorizeSecurityGroupEgress"
            | "RevokeSecurityGroupIngress"
            | "RevokeSecurityGroupEgress",
        ) if params.get("IpPermissions").is_some_and(truthy) => {
            for key in ["protocol", "port", "cidr", "source-group", "group-owner"] {
                if ctx
                    .given(key)
                    .is_some_and(|a| a.values.iter().any(|v| !v.is_empty()))
                {
                    return Err(fail(format!(
                        "The --{key} option is not compatible with the --ip-permissions option "
                    )));
                }
            }
        }
        ("ec2", "RunInstances") if ctx.given("network-interfaces").is_some() => {
            let scalar = ctx
                .given("secondary-private-ip-addresses")
                .is_some_and(|a| !a.values.is_empty())
                || ctx
                    .given("secondary-private-ip-address-count")
                    .is_some_and(|a| a.values.iter().any(|v| py_int(v) != Some(json!(0))))
                || ctx.given("associate-public-ip-address").is_some();
            if scalar {
                return Err(fail(
                    "Mixing the --network-interfaces option with the simple, scalar options is not supported.",
                ));
            }
        }
        ("cloudwatch", "PutMetricData") => exclusive(
            ctx,
            params,
            "MetricData",
            "metric-data",
            &[
                "metric-name",
                "timestamp",
                "unit",
                "value",
                "dimensions",
                "statistic-values",
            ],
        )?,
        ("cloudfront", "CreateInvalidation") => exclusive(
            ctx,
            params,
            "InvalidationBatch",
            "invalidation-batch",
            &["paths"],
        )?,
        ("cloudfront", "CreateDistribution") => exclusive(
            ctx,
            params,
            "DistributionConfig",
            "distribution-config",
            &["origin-domain-name", "default-root-object"],
        )?,
        ("ses", "SendEmail") => {
            exclusive(
                ctx,
                params,
                "Destination",
                "destination",
                &["to", "cc", "bcc"],
            )?;
            exclusive(ctx, params, "Message", "message", &["text", "html"])?;
        }
        ("lambda", "CreateFunction" | "PublishLayerVersion") => {
            let (member, arg) = if c.operation == "CreateFunction" {
                ("Code", "code")
            } else {
                ("Content", "content")
            };
            if ctx.given(arg).is_some()
                && params
                    .get(member)
                    .and_then(Value::as_object)
                    .is_some_and(|o| o.contains_key("ZipFile"))
            {
                return Err(fail(format!(
                    "ZipFile cannot be provided as part of the --{arg} argument.  Please use the '--zip-file' option instead to specify a zip file."
                )));
            }
        }
        ("lambda", "UpdateFunctionCode") => {
            // The CLI checks this member argument too (`process-cli-arg`).
            if let Some(v) = params.get("ZipFile") {
                zip_bytes_ok(v)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The zip check on an already loaded blob value.
fn zip_bytes_ok(v: &Value) -> Result<(), CommandError> {
    let bytes = match v {
        Value::Object(o) => o
            .get("__bytes_base64__")
            .and_then(Value::as_str)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .unwrap_or_default(),
        Value::String(s) => s.as_bytes().to_vec(),
        _ => Vec::new(),
    };
    if is_zip(&bytes) {
        Ok(())
    } else {
        Err(fail(ZIP_ERROR))
    }
}

/// Applies the command's custom arguments to `params` (built from the model's arguments),
/// as the CLI does before `--cli-input-json` is merged.
pub fn apply(
    model: &ServiceModel,
    command: &ParsedCommand,
    options: &CallOptions,
    params: &mut Map<String, Value>,
) -> Result<(), CommandError> {
    let ctx = Ctx {
        model,
        command,
        options,
    };
    check_parsed(&ctx, params)?;
    let mut customs: Vec<(&ParsedArg, &str)> = command
        .args
        .iter()
        .filter_map(|a| match &a.target {
            ArgTarget::Custom(kind) if translates(kind) => Some((a, kind.as_str())),
            _ => None,
        })
        .collect();
    customs.sort_by_key(|(a, _)| {
        TABLE_ORDER
            .iter()
            .position(|n| *n == a.name)
            .unwrap_or(TABLE_ORDER.len())
    });
    for (arg, kind) in customs {
        apply_one(&ctx, arg, kind, params)?;
    }
    Ok(())
}

fn apply_one(
    ctx: &Ctx<'_>,
    arg: &ParsedArg,
    kind: &str,
    params: &mut Map<String, Value>,
) -> Result<(), CommandError> {
    let name = arg.name.as_str();
    match kind {
        "ZipFileArgument" => {
            let raw = one(arg)?;
            if !raw.starts_with("fileb://") {
                return Err(fail(ZIP_ERROR));
            }
            let value = ctx.blob(name, raw)?;
            zip_bytes_ok(&value)?;
            let member = if ctx.command.operation == "PublishLayerVersion" {
                "Content"
            } else {
                "Code"
            };
            object_at(params, member)?.insert("ZipFile".into(), value);
        }
        "ProtocolArgument" => {
            let value = one(arg)?;
            if value.is_empty() {
                return Ok(());
            }
            let in_range = py_int(value)
                .and_then(|n| n.as_i64())
                .is_some_and(|n| (0..=255).contains(&n) || n == -1);
            let protocol = match value {
                _ if in_range => value,
                "tcp" | "udp" | "icmp" => value,
                "all" => "-1",
                _ => {
                    return Err(fail(
                        "protocol parameter should be one of: tcp|udp|icmp|all or any valid protocol number.",
                    ));
                }
            };
            first_element(params, "IpPermissions", json!({}))?
                .insert("IpProtocol".into(), json!(protocol));
        }
        "PortArgument" => {
            let value = one(arg)?;
            if value.is_empty() {
                return Ok(());
            }
            const BAD: &str = "port parameter should be of the form <from[-to]> (e.g. 22 or 22-25)";
            let (from, to) = if value == "-1" || value == "all" {
                ("-1", "-1")
            } else {
                value.split_once('-').unwrap_or((value, value))
            };
            let (from, to) = (int_or(from, BAD)?, int_or(to, BAD)?);
            let first = first_element(params, "IpPermissions", json!({}))?;
            first.insert("FromPort".into(), from);
            first.insert("ToPort".into(), to);
        }
        "CidrArgument" => {
            let value = one(arg)?;
            if !value.is_empty() {
                first_element(params, "IpPermissions", json!({}))?
                    .insert("IpRanges".into(), json!([{"CidrIp": value}]));
            }
        }
        "SourceGroupArgument" | "GroupOwnerArgument" => {
            let value = one(arg)?;
            if value.is_empty() {
                return Ok(());
            }
            let key = match kind {
                "GroupOwnerArgument" => "UserId",
                _ if value.starts_with("sg-") => "GroupId",
                _ => "GroupName",
            };
            let first = first_element(params, "IpPermissions", json!({}))?;
            first_element(first, "UserIdGroupPairs", json!({}))?.insert(key.into(), json!(value));
        }
        "CountArgument" => {
            let value = one(arg)?;
            const BAD: &str = "count parameter should be of form min[:max] (e.g. 1 or 1:10)";
            let parts: Vec<&str> = value.split(':').collect();
            let (min, max) = match parts.as_slice() {
                [n] => (*n, *n),
                [min, max] => (*min, *max),
                _ => return Err(fail(BAD)),
            };
            let (min, max) = (int_or(min, BAD)?, int_or(max, BAD)?);
            params.insert("MinCount".into(), min);
            params.insert("MaxCount".into(), max);
        }
        "SecondaryPrivateIpAddressesArgument" => {
            let values = words(arg)?;
            if values.is_empty() {
                return Ok(());
            }
            let addresses: Vec<Value> = values
                .iter()
                .map(|v| json!({"PrivateIpAddress": v, "Primary": false}))
                .collect();
            let interface = first_element(params, "NetworkInterfaces", json!({"DeviceIndex": 0}))?;
            interface
                .entry("PrivateIpAddresses")
                .or_insert(Value::Array(addresses));
        }
        "SecondaryPrivateIpAddressCountArgument" => {
            let value = one(arg)?;
            let count = py_int(value).ok_or_else(|| {
                fail(format!(
                    "aws: error: argument --{name}: invalid int value: '{value}'"
                ))
            })?;
            if truthy(&count) {
                first_element(params, "NetworkInterfaces", json!({"DeviceIndex": 0}))?
                    .insert("SecondaryPrivateIpAddressCount".into(), count);
            }
        }
        "AssociatePublicIpAddressArgument" | "NoAssociatePublicIpAddressArgument" => {
            words(arg)?;
            first_element(params, "NetworkInterfaces", json!({"DeviceIndex": 0}))?.insert(
                "AssociatePublicIpAddress".into(),
                Value::Bool(kind == "AssociatePublicIpAddressArgument"),
            );
        }
        "PutMetricArgument" => {
            let value = one(arg)?;
            let converted = match name {
                "value" => decimal(name, value)?,
                "storage-resolution" => py_int(value).ok_or_else(|| {
                    fail(format!("invalid literal for int() with base 10: '{value}'"))
                })?,
                "dimensions" => Value::Array(
                    split_on_commas(value)?
                        .iter()
                        .map(|pair| key_value(pair).map(|(k, v)| json!({"Name": k, "Value": v})))
                        .collect::<Result<_, _>>()?,
                ),
                "statistic-values" => {
                    let mut stats = Map::new();
                    for pair in split_on_commas(value)? {
                        let (k, v) = key_value(&pair)?;
                        stats.insert(k.to_owned(), decimal(name, v)?);
                    }
                    Value::Object(stats)
                }
                _ => json!(value),
            };
            let key = match name {
                "metric-name" => "MetricName",
                "timestamp" => "Timestamp",
                "unit" => "Unit",
                "value" => "Value",
                "dimensions" => "Dimensions",
                "statistic-values" => "StatisticValues",
                _ => "StorageResolution",
            };
            first_element(params, "MetricData", json!({}))?.insert(key.into(), converted);
        }
        "PathsArgument" => {
            let paths = words(arg)?;
            params.insert(
                "InvalidationBatch".into(),
                json!({
                    "CallerReference": unique_string("cli"),
                    "Paths": {"Quantity": paths.len(), "Items": paths},
                }),
            );
        }
        "OriginDomainName" | "CreateDefaultRootObject" => {
            let value = one(arg)?;
            let config = params
                .entry("DistributionConfig")
                .or_insert_with(distribution_config_template);
            let Value::Object(config) = config else {
                return Err(fail("DistributionConfig is not a structure"));
            };
            if kind == "CreateDefaultRootObject" {
                config.insert("DefaultRootObject".into(), json!(value));
                return Ok(());
            }
            let origin_id = unique_string(value);
            let mut item = json!({"Id": origin_id, "DomainName": value, "OriginPath": ""});
            if value.ends_with(".s3.amazonaws.com") {
                item["S3OriginConfig"] = json!({"OriginAccessIdentity": ""});
            } else {
                item["CustomOriginConfig"] =
                    json!({"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"});
            }
            config.insert("Origins".into(), json!({"Quantity": 1, "Items": [item]}));
            object_at(config, "DefaultCacheBehavior")?
                .insert("TargetOriginId".into(), json!(origin_id));
        }
        "AddressesArgument" => {
            let addresses = words(arg)?;
            let key = match name {
                "to" => "ToAddresses",
                "cc" => "CcAddresses",
                _ => "BccAddresses",
            };
            object_at(params, "Destination")?.insert(key.into(), json!(addresses));
        }
        "BodyArgument" => {
            let value = one(arg)?;
            if value.is_empty() {
                return Ok(());
            }
            if !params.contains_key("Message") {
                params.insert("Message".into(), json!({"Subject": {}, "Body": {}}));
            }
            let message = object_at(params, "Message")?;
            match name {
                "subject" => {
                    message.insert("Subject".into(), json!({"Data": value}));
                }
                "text" => {
                    object_at(message, "Body")?.insert("Text".into(), json!({"Data": value}));
                }
                _ => {
                    object_at(message, "Body")?.insert("Html".into(), json!({"Data": value}));
                }
            }
        }
        "_NestedBlobArgumentParamOverwrite" => {
            let raw = one(arg)?;
            let (member, blob_member) = nested_blob_target(ctx, name)?;
            let value = ctx.blob(name, raw)?;
            object_at(params, &member)?.insert(blob_member, value);
        }
        "ClusterStatesArgument"
        | "ActiveStateArgument"
        | "TerminatedStateArgument"
        | "FailedStateArgument" => {
            let states: Vec<Value> = match kind {
                "ClusterStatesArgument" => words(arg)?.iter().map(|s| json!(s)).collect(),
                "ActiveStateArgument" => {
                    words(arg)?;
                    [
                        "STARTING",
                        "BOOTSTRAPPING",
                        "RUNNING",
                        "WAITING",
                        "TERMINATING",
                    ]
                    .iter()
                    .map(|s| json!(s))
                    .collect()
                }
                "TerminatedStateArgument" => {
                    words(arg)?;
                    vec![json!("TERMINATED")]
                }
                _ => {
                    words(arg)?;
                    vec![json!("TERMINATED_WITH_ERRORS")]
                }
            };
            if params.get("ClusterStates").is_some_and(truthy) {
                return Err(fail(
                    "aws: error: You can specify only one of the cluster state filters: --cluster-states, --active, --terminated, --failed.",
                ));
            }
            params.insert("ClusterStates".into(), Value::Array(states));
        }
        "CreatedAfter" | "CreatedBefore" => {
            let value = one(arg)?;
            params.insert(kind.into(), json!(value));
        }
        other => {
            return Err(CommandError::Internal(format!(
                "customisation {other} is listed as translated but has no translation"
            )));
        }
    }
    Ok(())
}

fn distribution_config_template() -> Value {
    json!({
        "CallerReference": unique_string("cli"),
        "Origins": {"Quantity": 0, "Items": []},
        "DefaultCacheBehavior": {
            "TargetOriginId": "placeholder",
            "ForwardedValues": {"QueryString": false, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": false, "Quantity": 0},
            "ViewerProtocolPolicy": "allow-all",
            "MinTTL": 0,
        },
        "Enabled": true,
        "Comment": "",
    })
}

/// `--image-bytes` fills the blob member of the structure `--image` fills (`Image.Bytes`);
/// the CLI names the new argument after the old one with `-bytes` appended.
fn nested_blob_target(ctx: &Ctx<'_>, name: &str) -> Result<(String, String), CommandError> {
    let internal = |what: &str| CommandError::Internal(format!("--{name}: {what}"));
    let source = name
        .strip_suffix("-bytes")
        .ok_or_else(|| internal("not named <argument>-bytes"))?;
    let table = cli_table().map_err(CommandError::Internal)?;
    let member = table
        .services
        .get(&ctx.command.cli_service)
        .and_then(|s| s.operations.get(&ctx.command.cli_operation))
        .and_then(|op| op.args.get(source))
        .and_then(|t| match t {
            ArgTarget::Member(m) => Some(m.clone()),
            _ => None,
        })
        .ok_or_else(|| internal("no argument it stands for"))?;
    let blob = ctx
        .model
        .operation(&ctx.command.operation)
        .and_then(|op| op.input.as_ref())
        .and_then(|r| ctx.model.shape(&r.shape))
        .and_then(|input| input.members.get(&member))
        .and_then(|m| ctx.model.shape(&m.shape))
        .and_then(|s| {
            s.members.iter().find(|(_, m)| {
                ctx.model
                    .shape(&m.shape)
                    .is_some_and(|ms| ms.kind == "blob")
            })
        })
        .map(|(k, _)| k.clone())
        .ok_or_else(|| internal("no blob member to fill"))?;
    Ok((member, blob))
}

/// The CLI's last rewrites before a call (`before-parameter-build` handlers), after
/// `--cli-input-json` was merged: `run-instances` launches one instance by default and moves
/// subnet, groups and addresses into the network interface the simple options built;
/// network ACL entries take protocol names.
pub fn before_parameter_build(
    command: &ParsedCommand,
    params: &mut Map<String, Value>,
) -> Result<(), CommandError> {
    match (command.service.as_str(), command.operation.as_str()) {
        ("ec2", "RunInstances") => {
            params.entry("MaxCount").or_insert(json!(1));
            params.entry("MinCount").or_insert(json!(1));
            move_into_network_interface(params)
        }
        ("ec2", "CreateNetworkAclEntry" | "ReplaceNetworkAclEntry") => {
            if let Some(Value::String(p)) = params.get_mut("Protocol") {
                let number = match p.as_str() {
                    "tcp" => "6",
                    "udp" => "17",
                    "icmp" => "1",
                    "all" => "-1",
                    _ => return Ok(()),
                };
                *p = number.to_owned();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn move_into_network_interface(params: &mut Map<String, Value>) -> Result<(), CommandError> {
    let Some(interfaces) = params.get("NetworkInterfaces") else {
        return Ok(());
    };
    let Some(first) = interfaces.as_array().map(|a| a.first()) else {
        return Ok(());
    };
    let Some(Value::Object(interface)) = first else {
        return Err(fail("list index out of range"));
    };
    let simple = [
        "PrivateIpAddresses",
        "SecondaryPrivateIpAddressCount",
        "AssociatePublicIpAddress",
    ];
    if !simple.iter().any(|k| interface.contains_key(*k)) {
        return Ok(());
    }
    let mut moved: Vec<(&str, Value)> = Vec::new();
    for (from, to) in [
        ("SubnetId", "SubnetId"),
        ("SecurityGroupIds", "Groups"),
        ("PrivateIpAddress", "PrivateIpAddresses"),
        ("Ipv6AddressCount", "Ipv6AddressCount"),
        ("Ipv6Addresses", "Ipv6Addresses"),
        ("EnablePrimaryIpv6", "PrimaryIpv6"),
    ] {
        if let Some(v) = params.shift_remove(from) {
            let v = if from == "PrivateIpAddress" {
                json!([{"PrivateIpAddress": v, "Primary": true}])
            } else {
                v
            };
            moved.push((to, v));
        }
    }
    if let Some(Value::Object(interface)) = params
        .get_mut("NetworkInterfaces")
        .and_then(Value::as_array_mut)
        .and_then(|a| a.first_mut())
    {
        for (k, v) in moved {
            interface.insert(k.into(), v);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_detection_follows_the_archive_structure() {
        let empty = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
        assert!(is_zip(empty));
        let mut commented = empty.to_vec();
        commented[20] = 3;
        commented.extend_from_slice(b"abc");
        assert!(is_zip(&commented));
        assert!(!is_zip(b"PK\x05\x06 too short"));
        // A central directory that claims one entry where there is none.
        let mut broken = empty.to_vec();
        broken[12] = 46;
        assert!(!is_zip(&broken));
    }

    #[test]
    fn split_on_commas_matches_the_cli() {
        let s = |v: &str| split_on_commas(v).expect(v);
        assert_eq!(s("a=1,b=2"), ["a=1", "b=2"]);
        assert_eq!(s(r"a=1\,2,b"), ["a=1,2", "b"]);
        assert_eq!(s(r#"a="1,2",b=3"#), ["a=1,2", "b=3"]);
        assert_eq!(s("a='x',b"), ["a=x", "b"]);
        assert_eq!(s("a=[1,2],b=3"), ["a=1,2", "b=3"]);
        assert!(split_on_commas(r#"a="1,2"#).is_err());
    }
}
