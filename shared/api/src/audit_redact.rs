//! The model-aware half of audit redaction: members the service models mark `sensitive`, in
//! CLI command lines (at any depth of JSON and shorthand values) and in the API params of
//! script calls. The telemetry crate applies the name and URL rules on top.

use aws_engine::command::shell_words;
use aws_engine::{ArgTarget, CallOptions, LocalFiles, build_call_with, parse_command};
use aws_models::{ServiceModel, models};
use mcp_telemetry::redact::{MARKER, ModelRedactor, is_secret_name};
use serde_json::Value;

/// Deepest nesting followed (models have recursive shapes).
const MAX_DEPTH: usize = 24;

/// [`ModelRedactor`] over the bundled service models.
#[derive(Debug, Default, Clone, Copy)]
pub struct SensitiveMembers;

impl ModelRedactor for SensitiveMembers {
    fn cli_command(&self, line: &str) -> Option<String> {
        redact_line(line)
    }

    fn api_params(&self, service: &str, operation: &str, params: &mut Value) {
        redact_member(service, operation, Direction::Input, params);
    }

    fn api_output(&self, service: &str, operation: &str, output: &mut Value) {
        redact_member(service, operation, Direction::Output, output);
    }
}

enum Direction {
    Input,
    Output,
}

/// Redacts `value` as the input or output of `service`'s `operation` (boto3 or API name).
fn redact_member(service: &str, operation: &str, direction: Direction, value: &mut Value) {
    // call_aws results name the CLI's service; `s3api` is the one whose model is named
    // differently.
    let service = if service == "s3api" { "s3" } else { service };
    let Ok(model) = models().service(service) else {
        return;
    };
    let wanted = operation.replace(['_', '-'], "").to_ascii_lowercase();
    let Some(op) = model
        .operations
        .values()
        .find(|op| op.name == operation || op.name.to_ascii_lowercase() == wanted)
    else {
        return;
    };
    let shape = match direction {
        Direction::Input => op.input.as_ref(),
        Direction::Output => op.output.as_ref(),
    };
    if let Some(shape) = shape {
        redact_shape(&model, &shape.shape, value, 0);
    }
}

/// Replaces, in `value`, what the shape `shape_name` marks sensitive (and secret-named
/// members). Returns whether anything changed.
fn redact_shape(model: &ServiceModel, shape_name: &str, value: &mut Value, depth: usize) -> bool {
    let Some(shape) = model.shape(shape_name) else {
        return false;
    };
    if shape.sensitive {
        *value = Value::String(MARKER.into());
        return true;
    }
    if depth > MAX_DEPTH {
        return false;
    }
    match (shape.kind.as_str(), value) {
        ("structure", Value::Object(map)) => {
            let mut changed = false;
            for (name, v) in map.iter_mut() {
                if is_secret_name(name) && !v.is_null() {
                    *v = Value::String(MARKER.into());
                    changed = true;
                } else if let Some(member) = shape.members.get(name) {
                    changed |= redact_shape(model, &member.shape, v, depth + 1);
                }
            }
            changed
        }
        ("list", Value::Array(items)) => match &shape.member {
            Some(member) => items.iter_mut().fold(false, |changed, v| {
                redact_shape(model, &member.shape, v, depth + 1) | changed
            }),
            None => false,
        },
        ("map", Value::Object(map)) => match &shape.value {
            Some(member) => map.values_mut().fold(false, |changed, v| {
                redact_shape(model, &member.shape, v, depth + 1) | changed
            }),
            None => false,
        },
        _ => false,
    }
}

/// Byte ranges of a command line's shell words (the line is known to split cleanly).
fn word_spans(line: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => escaped = true,
            (Some(_), _) => {}
            (None, ' ' | '\t') => {
                if let Some(s) = start.take() {
                    spans.push((s, i));
                }
            }
            (None, c) => {
                start.get_or_insert(i);
                match c {
                    '\'' | '"' => quote = Some(c),
                    '\\' => escaped = true,
                    _ => {}
                }
            }
        }
    }
    if let Some(s) = start {
        spans.push((s, line.len()));
    }
    spans
}

/// A value as one shell word (single-quoted JSON).
fn shell_quoted(value: &Value) -> String {
    format!("'{}'", value.to_string().replace('\'', r"'\''"))
}

/// What an argument's value words become, when they hold something sensitive.
fn replacement(
    model: &ServiceModel,
    input_name: Option<&str>,
    built: Option<&serde_json::Map<String, Value>>,
    target: &ArgTarget,
    values: &[String],
) -> Option<String> {
    match target {
        ArgTarget::Member(member) => {
            let member_ref = model.shape(input_name?)?.members.get(member)?;
            let shape = model.shape(&member_ref.shape)?;
            if shape.sensitive || is_secret_name(member) {
                return Some(MARKER.into());
            }
            if !matches!(shape.kind.as_str(), "structure" | "list" | "map") {
                return None;
            }
            // The engine's own reading of the value (JSON or shorthand), redacted by shape.
            let Some(mut value) = built.and_then(|b| b.get(member)).cloned() else {
                return Some(MARKER.into());
            };
            redact_shape(model, &member_ref.shape, &mut value, 0).then(|| shell_quoted(&value))
        }
        ArgTarget::CliInputJson => {
            let mut value: Value = serde_json::from_str(values.first()?).ok()?;
            redact_shape(model, input_name?, &mut value, 0).then(|| shell_quoted(&value))
        }
        _ => None,
    }
}

/// A parsed API command line with its sensitive values replaced; `None` if it does not parse.
fn redact_line(line: &str) -> Option<String> {
    let command = parse_command(line).ok()?;
    let words = shell_words(line).ok()?;
    let spans = word_spans(line);
    if words.len() != spans.len() {
        return None;
    }
    let model = models().service(&command.service).ok()?;
    let op = model.operation(&command.operation)?;
    let input = op.input.as_ref().map(|r| r.shape.as_str());
    // Never read local files for an audit record.
    let options = CallOptions {
        local_files: LocalFiles::Refused("not read for audit records".into()),
    };
    let built = build_call_with(&command, &options).ok().map(|c| c.params);
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let Some(body) = words[i].strip_prefix("--") else {
            i += 1;
            continue;
        };
        let (given, inline) = match body.split_once('=') {
            Some((n, _)) => (n, true),
            None => (body, false),
        };
        let arg = command
            .args
            .iter()
            .find(|a| a.name == given)
            .or_else(|| command.args.iter().find(|a| a.name.starts_with(given)));
        let Some(arg) = arg else {
            i += 1;
            continue;
        };
        let taken = if inline { 0 } else { arg.values.len() };
        let new = replacement(&model, input, built.as_ref(), &arg.target, &arg.values);
        if let Some(new) = new {
            let (s, e) = spans[i];
            if inline {
                let eq = line[s..e].find('=').map_or(e, |p| s + p + 1);
                edits.push((eq, e, new));
            } else if taken > 0 && i + taken < spans.len() {
                edits.push((spans[i + 1].0, spans[i + taken].1, new));
            }
        }
        i += 1 + taken;
    }
    let mut out = line.to_owned();
    for (s, e, new) in edits.into_iter().rev() {
        out.replace_range(s..e, &new);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_telemetry::redact::redact_command;
    use serde_json::json;

    fn redact(line: &str) -> String {
        redact_command(line, Some(&SensitiveMembers))
    }

    #[test]
    fn a_sensitive_scalar_loses_only_its_value() {
        let out = redact(
            "aws secretsmanager create-secret --name app/db --secret-string 'hunter2 x' --description d",
        );
        assert_eq!(
            out,
            "aws secretsmanager create-secret --name app/db --secret-string <redacted> --description d"
        );
        let out = redact("aws iam create-login-profile --user-name bob --password=Pw0rd!1");
        assert_eq!(
            out,
            "aws iam create-login-profile --user-name bob --password=<redacted>"
        );
    }

    #[test]
    fn sensitive_members_at_depth_in_json_and_shorthand_are_redacted() {
        // Cognito's UserAttributes values are sensitive (AttributeValueType).
        let json_line = r#"aws cognito-idp admin-create-user --user-pool-id us-east-1_abc --username u --user-attributes '[{"Name":"email","Value":"DEEPSECRET1"}]'"#;
        let out = redact(json_line);
        assert!(!out.contains("DEEPSECRET1"), "{out}");
        assert!(
            out.contains("--user-pool-id us-east-1_abc --username") && out.contains("email"),
            "{out}"
        );
        let short = "aws cognito-idp admin-create-user --user-pool-id us-east-1_abc --username u --user-attributes Name=email,Value=DEEPSECRET2";
        let out = redact(short);
        assert!(!out.contains("DEEPSECRET2"), "{out}");
        assert!(out.contains("email"), "{out}");
    }

    #[test]
    fn a_command_without_secrets_is_unchanged() {
        let line = "aws s3api list-objects-v2 --bucket b --prefix 'a b/'";
        assert_eq!(redact(line), line);
    }

    #[test]
    fn script_api_params_lose_sensitive_members() {
        let mut params =
            json!({"Name": "n", "SecretString": "S", "Tags": [{"Key": "k", "Value": "v"}]});
        SensitiveMembers.api_params("secretsmanager", "create_secret", &mut params);
        assert_eq!(params["SecretString"], MARKER);
        assert_eq!(params["Name"], "n");
        assert_eq!(params["Tags"][0]["Value"], "v");
    }

    #[test]
    fn outputs_lose_the_members_their_model_marks_sensitive() {
        // SSM's parameter value is sensitive by the model, not by its name.
        let mut output = json!({"Parameter": {"Name": "/p", "Type": "SecureString", "Value": "S"}});
        SensitiveMembers.api_output("ssm", "GetParameter", &mut output);
        assert_eq!(output["Parameter"]["Value"], MARKER);
        assert_eq!(output["Parameter"]["Name"], "/p");
        let mut result = json!([{"service": "ssm", "operation": "GetParameters",
            "output": {"Parameters": [{"Name": "/p", "Value": "S"}]}}]);
        mcp_telemetry::redact::redact_value(&mut result, Some(&SensitiveMembers));
        assert_eq!(result[0]["output"]["Parameters"][0]["Value"], MARKER);
    }
}
