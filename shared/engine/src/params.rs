//! From parsed `--arguments` to the API parameters, as the AWS CLI builds them.
//!
//! Rules (the CLI's): a structure or map value, or a list of them, is JSON when it starts
//! with `{` or `[`, else shorthand typed by the model (numbers and booleans converted, a
//! single value where a list is expected wrapped in a list); a list of scalars takes one
//! word per element (or one JSON list); scalars convert integers and floats as Python's
//! `int()`/`float()` would and leave strings, timestamps and blobs as given; `--flag` sets
//! true and `--no-flag` false. Parameters are ordered as the model lists its members;
//! `--cli-input-json` fills members the command line did not give.

use aws_models::{ServiceModel, Shape, models};
use serde_json::{Map, Value};

use crate::arg_kinds::is_boolean_value_structure;
use crate::arg_values::{blob_value, param_error, py_float, py_int, read_local};
use crate::cli_table::ArgTarget;
use crate::command::{CommandError, ParsedCommand};
use crate::shorthand::{self, Short};

// The public home of the call settings, as before they moved below `customs`.
pub use crate::arg_values::{
    CallOptions, ConfinedPathError, LocalFiles, MAX_LOCAL_FILE_BYTES, confined_read_path,
};

/// The API parameters and pagination settings of a command.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiCall {
    pub service: String,
    pub operation: String,
    pub params: Map<String, Value>,
    /// `--starting-token`, `--page-size`, `--max-items` as given.
    pub paging: Map<String, Value>,
}

fn shape_of<'m>(model: &'m ServiceModel, name: &str) -> Result<&'m Shape, CommandError> {
    model
        .shape(name)
        .ok_or_else(|| CommandError::Internal(format!("model has no shape {name}")))
}

/// A scalar from the command line.
fn scalar(arg: &str, shape: &Shape, text: &str) -> Result<Value, CommandError> {
    match shape.kind.as_str() {
        "integer" | "long" => {
            py_int(text).ok_or_else(|| param_error(arg, format!("'{text}' is not an integer")))
        }
        "float" | "double" => {
            py_float(text).ok_or_else(|| param_error(arg, format!("'{text}' is not a number")))
        }
        "boolean" => Ok(Value::Bool(
            !text.eq_ignore_ascii_case("false") && !text.is_empty(),
        )),
        _ => Ok(Value::String(text.to_owned())),
    }
}

fn json(arg: &str, text: &str) -> Result<Value, CommandError> {
    serde_json::from_str(text).map_err(|e| {
        param_error(
            arg,
            format!(
                "Invalid JSON: {e}\nJSON received: {}",
                crate::text::clip(text, 1000)
            ),
        )
    })
}

fn is_complex(shape: &Shape) -> bool {
    matches!(shape.kind.as_str(), "structure" | "list" | "map")
}

fn is_document(shape: &Shape) -> bool {
    shape.document
}

/// Types a shorthand value with the model, as the CLI's visitor does: unknown keys stay
/// (validation reports them), numbers and booleans convert, a single value where a list
/// belongs becomes a one-element list.
fn typed(
    model: &ServiceModel,
    shape: &Shape,
    value: Short,
    arg: &str,
) -> Result<Value, CommandError> {
    match shape.kind.as_str() {
        "structure" => {
            if is_document(shape) {
                return Err(param_error(
                    arg,
                    "Shorthand syntax does not support document types; give this argument as JSON",
                ));
            }
            match value {
                Short::Map(map) => {
                    let mut out = Map::new();
                    for (k, v) in map {
                        let converted = match shape.members.get(&k) {
                            Some(member) => {
                                let member_shape = shape_of(model, &member.shape)?;
                                if is_document(member_shape) {
                                    return Err(param_error(
                                        arg,
                                        format!(
                                            "Shorthand syntax does not support document types. Use JSON input for top-level argument to specify nested parameter: {k}"
                                        ),
                                    ));
                                }
                                typed(model, member_shape, v, arg)?
                            }
                            None => untyped(v),
                        };
                        out.insert(k, converted);
                    }
                    Ok(Value::Object(out))
                }
                other => Ok(untyped(other)),
            }
        }
        "list" => {
            let member_shape = match &shape.member {
                Some(m) => shape_of(model, &m.shape)?,
                None => return Ok(untyped(value)),
            };
            match value {
                Short::List(items) => items
                    .into_iter()
                    .map(|v| typed(model, member_shape, v, arg))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array),
                single => Ok(Value::Array(vec![typed(model, member_shape, single, arg)?])),
            }
        }
        "map" => match value {
            Short::Map(map) => {
                let value_shape = match &shape.value {
                    Some(v) => Some(shape_of(model, &v.shape)?),
                    None => None,
                };
                let mut out = Map::new();
                for (k, v) in map {
                    let converted = match value_shape {
                        Some(vs) => typed(model, vs, v, arg)?,
                        None => untyped(v),
                    };
                    out.insert(k, converted);
                }
                Ok(Value::Object(out))
            }
            other => Ok(untyped(other)),
        },
        "integer" | "long" => match value {
            Short::Str(s) => {
                py_int(&s).ok_or_else(|| param_error(arg, format!("'{s}' is not an integer")))
            }
            other => Err(param_error(
                arg,
                format!("expected one integer, got {}", describe(&other)),
            )),
        },
        "float" | "double" => match value {
            Short::Str(s) => {
                py_float(&s).ok_or_else(|| param_error(arg, format!("'{s}' is not a number")))
            }
            other => Err(param_error(
                arg,
                format!("expected one number, got {}", describe(&other)),
            )),
        },
        "boolean" => Ok(match value {
            Short::Str(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
            Short::Str(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
            other => untyped(other),
        }),
        _ => Ok(untyped(value)),
    }
}

fn describe(v: &Short) -> &'static str {
    match v {
        Short::Str(_) => "a value",
        Short::List(_) => "a list",
        Short::Map(_) => "a structure",
    }
}

fn untyped(value: Short) -> Value {
    match value {
        Short::Str(s) => Value::String(s),
        Short::List(items) => Value::Array(items.into_iter().map(untyped).collect()),
        Short::Map(map) => Value::Object(map.into_iter().map(|(k, v)| (k, untyped(v))).collect()),
    }
}

fn starts_json(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('{') || t.starts_with('[')
}

/// Operations where the CLI still reads a list of one-member structures from bare words.
fn old_list_case(service_id: &str, cli_operation: &str, arg: &str) -> bool {
    matches!(
        (service_id, cli_operation, arg),
        ("firehose", "put-record-batch", "records")
            | (
                "workspaces",
                "reboot-workspaces",
                "reboot-workspace-requests"
            )
            | (
                "workspaces",
                "rebuild-workspaces",
                "rebuild-workspace-requests"
            )
            | (
                "workspaces",
                "terminate-workspaces",
                "terminate-workspace-requests"
            )
            | ("elastic-load-balancing", "remove-tags", "tags")
            | (
                "elastic-load-balancing",
                "describe-instance-health",
                "instances"
            )
            | (
                "elastic-load-balancing",
                "deregister-instances-from-load-balancer",
                "instances"
            )
            | (
                "elastic-load-balancing",
                "register-instances-with-load-balancer",
                "instances"
            )
    )
}

/// One argument's value.
fn unpack(
    model: &ServiceModel,
    command: &ParsedCommand,
    arg: &str,
    shape: &Shape,
    json_value: bool,
    values: &[String],
) -> Result<Value, CommandError> {
    let first = values.first().map(String::as_str).unwrap_or("");
    let service_id = cli_event_service(model, command);
    let service_id = service_id.as_str();
    if shape.document || json_value {
        return json(arg, first);
    }
    match shape.kind.as_str() {
        "structure" | "map" => {
            if starts_json(first) {
                return json(arg, first);
            }
            if shape.kind == "structure"
                && shape.members.len() == 1
                && shape
                    .members
                    .get("Value")
                    .is_some_and(|m| model.shape(&m.shape).is_some_and(|s| s.kind == "string"))
                && !first.contains('=')
            {
                let mut m = Map::new();
                m.insert("Value".into(), Value::String(first.to_owned()));
                return Ok(Value::Object(m));
            }
            let parsed = shorthand::parse(first).map_err(|e| param_error(arg, e))?;
            typed(model, shape, Short::Map(parsed), arg)
        }
        "list" => {
            let member = match &shape.member {
                Some(m) => shape_of(model, &m.shape)?,
                None => {
                    return Err(CommandError::Internal(format!(
                        "list --{arg} has no member"
                    )));
                }
            };
            if values.len() == 1 && first.trim_start().starts_with('[') {
                return json(arg, first);
            }
            if is_complex(member) && !member.document && !starts_json(first) {
                if member.kind == "structure"
                    && member.members.len() == 1
                    && old_list_case(service_id, &command.cli_operation, arg)
                {
                    let key = member.members.keys().next().cloned().unwrap_or_default();
                    return Ok(Value::Array(
                        values
                            .iter()
                            .map(|v| {
                                let mut m = Map::new();
                                m.insert(key.clone(), Value::String(v.clone()));
                                Value::Object(m)
                            })
                            .collect(),
                    ));
                }
                let items = values
                    .iter()
                    .map(|v| {
                        let parsed = shorthand::parse(v).map_err(|e| param_error(arg, e))?;
                        typed(model, member, Short::Map(parsed), arg)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                return Ok(Value::Array(items));
            }
            values
                .iter()
                .map(|v| {
                    if is_complex(member) || member.document {
                        if matches!(member.kind.as_str(), "structure" | "map") && !starts_json(v) {
                            return Err(param_error(arg, format!("Invalid JSON:\n{v}")));
                        }
                        json(arg, v)
                    } else {
                        scalar(arg, member, v)
                    }
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        _ => scalar(arg, shape, first),
    }
}

/// The name the CLI keys its per-argument special cases by: the service id, lower case and
/// hyphenated ("elastic-load-balancing").
fn cli_event_service(model: &ServiceModel, command: &ParsedCommand) -> String {
    model
        .metadata
        .service_id
        .as_deref()
        .unwrap_or(&command.service)
        .to_ascii_lowercase()
        .replace(' ', "-")
}

/// Whether the CLI reads `file://` values for this argument (a few take URLs as data).
fn paramfiles_allowed(model: &ServiceModel, command: &ParsedCommand, arg: &str) -> bool {
    let service_id = cli_event_service(model, command);
    let key = format!("{service_id}.{}.{arg}", command.cli_operation);
    crate::cli_table::cli_table()
        .map(|t| !t.paramfile_disabled.contains(&key))
        .unwrap_or(true)
}

/// What a `file://` or `fileb://` argument read.
enum FileValue {
    /// Bytes for a blob member (`fileb://`).
    Blob(Value),
    /// Text that is then read like the argument's value (JSON, shorthand, a string...).
    Text(String),
}

/// Reads a `file://` (text) or `fileb://` (bytes) argument.
fn paramfile_value(
    options: &CallOptions,
    arg: &str,
    shape: &Shape,
    allowed: bool,
    values: &[String],
) -> Result<Option<FileValue>, CommandError> {
    let [raw] = values else { return Ok(None) };
    if !allowed {
        return Ok(None);
    }
    let (binary, path) = match (raw.strip_prefix("fileb://"), raw.strip_prefix("file://")) {
        (Some(p), _) => (true, p),
        (None, Some(p)) => (false, p),
        _ => return Ok(None),
    };
    let bytes = read_local(&options.local_files, raw, path, arg)?;
    if binary && shape.kind == "blob" {
        return Ok(Some(FileValue::Blob(blob_value(&bytes))));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        param_error(
            arg,
            format!("{raw} is not UTF-8 text; use fileb:// for binary data"),
        )
    })?;
    Ok(Some(FileValue::Text(text)))
}

/// Builds the API call of a parsed command, reading local files from the current directory.
pub fn build_call(command: &ParsedCommand) -> Result<ApiCall, CommandError> {
    build_call_with(command, &CallOptions::default())
}

/// Builds the API call of a parsed command.
pub fn build_call_with(
    command: &ParsedCommand,
    options: &CallOptions,
) -> Result<ApiCall, CommandError> {
    let model = models()
        .service(&command.service)
        .map_err(|e| CommandError::Internal(e.to_string()))?;
    let op = model.operation(&command.operation).ok_or_else(|| {
        CommandError::Internal(format!("model has no operation {}", command.operation))
    })?;
    let input = match &op.input {
        Some(r) => Some(shape_of(&model, &r.shape)?),
        None => None,
    };
    let mut given: Map<String, Value> = Map::new();
    let mut paging = Map::new();
    let mut input_json = None;
    for arg in &command.args {
        match &arg.target {
            ArgTarget::Member(member) => {
                let Some(member_ref) = input.and_then(|s| s.members.get(member)) else {
                    return Err(CommandError::Internal(format!(
                        "{member} is not an input member"
                    )));
                };
                let shape = shape_of(&model, &member_ref.shape)?;
                let streaming = member_ref.streaming || shape.streaming;
                let value = if shape.kind == "boolean" && arg.values.is_empty() {
                    Value::Bool(true)
                } else if is_boolean_value_structure(&model, shape) && arg.values.is_empty() {
                    serde_json::json!({"Value": true})
                } else if shape.kind == "blob" && streaming {
                    // A streaming body is a path to a file, as the CLI requires.
                    let path = arg.values.first().cloned().unwrap_or_default();
                    let bytes = read_local(&options.local_files, &path, &path, &arg.name)
                        .map_err(|e| param_error(&arg.name, format!(
                            "Blob values must be a path to a readable file inside the working directory ({e})"
                        )))?;
                    blob_value(&bytes)
                } else {
                    let allowed = paramfiles_allowed(&model, command, &arg.name);
                    match paramfile_value(options, &arg.name, shape, allowed, &arg.values)? {
                        Some(FileValue::Blob(v)) => v,
                        Some(FileValue::Text(text)) => unpack(
                            &model,
                            command,
                            &arg.name,
                            shape,
                            member_ref.jsonvalue,
                            &[text],
                        )?,
                        None => unpack(
                            &model,
                            command,
                            &arg.name,
                            shape,
                            member_ref.jsonvalue,
                            &arg.values,
                        )?,
                    }
                };
                given.insert(member.clone(), value);
            }
            ArgTarget::NegatedMember(member) => {
                let value = match input
                    .and_then(|s| s.members.get(member))
                    .and_then(|m| model.shape(&m.shape))
                {
                    Some(s) if is_boolean_value_structure(&model, s) => {
                        serde_json::json!({"Value": false})
                    }
                    _ => Value::Bool(false),
                };
                given.insert(member.clone(), value);
            }
            ArgTarget::Outfile => {}
            ArgTarget::Paging => {
                let key = match arg.name.as_str() {
                    "starting-token" => "StartingToken",
                    "page-size" => "PageSize",
                    _ => "MaxItems",
                };
                let text = arg.values.first().cloned().unwrap_or_default();
                let value = if key == "StartingToken" {
                    Value::String(text)
                } else {
                    py_int(&text).ok_or_else(|| {
                        param_error(&arg.name, format!("'{text}' is not an integer"))
                    })?
                };
                paging.insert(key.into(), value);
            }
            ArgTarget::CliInputJson => {
                let text = arg.values.first().cloned().unwrap_or_default();
                match json(&arg.name, &text)? {
                    Value::Object(m) => input_json = Some(m),
                    _ => {
                        return Err(param_error(
                            &arg.name,
                            "the JSON must be an object of the operation's parameters",
                        ));
                    }
                }
            }
            ArgTarget::GenerateCliSkeleton => {
                return Err(CommandError::Syntax(
                    "--generate-cli-skeleton prints a template instead of calling AWS; use help to see an operation's parameters".into(),
                ));
            }
            // Applied below, after the model's arguments, as the CLI does.
            ArgTarget::Custom(kind) if crate::arg_kinds::translates(kind) => {}
            ArgTarget::Custom(kind) => {
                return Err(CommandError::Syntax(format!(
                    "--{} is an AWS CLI customisation ({kind}) that this server does not translate; give the API parameters it stands for instead (see `aws {} {} help`)",
                    arg.name, command.cli_service, command.cli_operation
                )));
            }
        }
    }
    // The CLI builds parameters in the order of its argument table: the model's order.
    let mut params = Map::new();
    if let Some(shape) = input {
        for member in shape.members.keys() {
            if let Some(v) = given.remove(member) {
                params.insert(member.clone(), v);
            }
        }
    }
    params.extend(given);
    crate::customs::apply(&model, command, options, &mut params)?;
    if let Some(extra) = input_json {
        for (k, v) in extra {
            params.entry(k).or_insert(v);
        }
    }
    crate::customs::before_parameter_build(command, &mut params)?;
    Ok(ApiCall {
        service: command.service.clone(),
        operation: command.operation.clone(),
        params,
        paging,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::parse_command;
    use serde_json::json;

    fn call(line: &str) -> Value {
        let c = parse_command(line).expect("parses");
        Value::Object(build_call(&c).expect("builds").params)
    }

    #[test]
    fn shorthand_json_lists_and_scalars() {
        let vpcs = call("aws ec2 describe-vpcs --max-results 5 --vpc-ids vpc-1 vpc-2 --dry-run");
        assert_eq!(
            vpcs,
            json!({"DryRun": true, "VpcIds": ["vpc-1", "vpc-2"], "MaxResults": 5})
        );
        // Parameters follow the model's member order, not the command line's.
        let keys: Vec<&String> = vpcs
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        let model = models().service("ec2").expect("ec2");
        let input = model.shape("DescribeVpcsRequest").expect("input");
        let order: Vec<&String> = input.members.keys().filter(|k| keys.contains(k)).collect();
        assert_eq!(keys, order);
        assert_eq!(
            call(
                "aws dynamodb create-table --table-name t --attribute-definitions AttributeName=id,AttributeType=S --key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST"
            ),
            json!({"AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                   "TableName": "t",
                   "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                   "BillingMode": "PAY_PER_REQUEST"})
        );
        assert_eq!(
            call(r#"aws dynamodb get-item --table-name t --key '{"id":{"S":"1"}}'"#),
            json!({"TableName": "t", "Key": {"id": {"S": "1"}}})
        );
        assert_eq!(
            call("aws ec2 create-tags --resources i-1 --tags Key=a,Value=1 Key=b,Value=2"),
            json!({"Resources": ["i-1"], "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]})
        );
    }

    #[test]
    fn local_files_are_read_only_inside_the_working_directory() {
        let root = std::env::temp_dir().join(format!("engine-files-{}", std::process::id()));
        let inside = root.join("work");
        std::fs::create_dir_all(&inside).expect("mkdir");
        std::fs::write(inside.join("trust.json"), br#"{"Version":"2012-10-17"}"#).expect("write");
        std::fs::write(inside.join("item.json"), br#"{"id":{"S":"1"}}"#).expect("write");
        std::fs::write(root.join("secret.txt"), b"top secret").expect("write");
        let options = CallOptions {
            local_files: LocalFiles::Within(inside.clone()),
        };
        let run = |line: &str| {
            let c = parse_command(line).expect("parses");
            build_call_with(&c, &options)
        };
        let role = run(
            "aws iam create-role --role-name r --assume-role-policy-document file://trust.json",
        )
        .expect("reads");
        assert_eq!(
            role.params["AssumeRolePolicyDocument"],
            json!(r#"{"Version":"2012-10-17"}"#)
        );
        let item =
            run("aws dynamodb put-item --table-name t --item file://item.json").expect("reads");
        assert_eq!(item.params["Item"], json!({"id": {"S": "1"}}));
        for hostile in [
            "aws iam create-role --role-name r --assume-role-policy-document file://../secret.txt",
            "aws iam create-role --role-name r --assume-role-policy-document file:///etc/passwd",
        ] {
            let err = run(hostile).expect_err(hostile).to_string();
            assert!(err.contains("outside the working directory"), "{err}");
        }
        let refused = CallOptions {
            local_files: LocalFiles::Refused("files are staged through S3 here".into()),
        };
        let c = parse_command(
            "aws iam create-role --role-name r --assume-role-policy-document file://trust.json",
        )
        .expect("parses");
        assert!(
            build_call_with(&c, &refused)
                .expect_err("refused")
                .to_string()
                .contains("staged through S3")
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn bad_values_are_refused_with_the_argument_named() {
        let err = |line: &str| {
            let c = parse_command(line).expect("parses");
            build_call(&c).expect_err(line).to_string()
        };
        assert!(err("aws ec2 describe-vpcs --max-results five").contains("--max-results"));
        assert!(err("aws dynamodb get-item --table-name t --key '{bad'").contains("Invalid JSON"));
        assert!(err("aws ec2 create-tags --resources i-1 --tags Key=a,Value=[").contains("--tags"));
    }
}
