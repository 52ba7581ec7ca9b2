//! `aws___suggest_aws_commands`: AWS CLI commands for a request in plain words, from the
//! offline index of every operation (no network, no credentials).

use async_trait::async_trait;
use aws_suggest::Suggester;
use mcp_protocol::{
    ToolAnnotations, ToolContext, ToolDescriptor, ToolError, ToolHandler, ToolOutput,
    parse_arguments,
};
use serde::Deserialize;
use serde_json::{Value, json};

const DEFAULT_LIMIT: usize = 5;
const MAX_LIMIT: usize = 20;
const MAX_QUERY_CHARS: usize = 2000;

pub fn descriptor() -> ToolDescriptor {
    ToolDescriptor {
        name: "suggest_aws_commands",
        title: "Suggest AWS CLI commands",
        description: "Suggests AWS CLI commands for a task described in plain words (\"list my S3 buckets\", \"create a DynamoDB table\"), best first, each with a short description, its required parameters and a confidence from 0 to 1. Works offline over every operation of every AWS service. Use it when unsure of a command's name, then run the command with aws___call_aws (add `help` after the command for its parameters).".into(),
        input_schema: json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS,
                          "description": "What you want to do, in plain words."},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}
            },
            "required": ["query"],
            "additionalProperties": false
        }),
        output_schema: Some(json!({
            "type": "object",
            "properties": {
                "suggestions": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "command": {"type": "string"},
                        "description": {"type": "string"},
                        "required_parameters": {"type": "array", "items": {"type": "string"}},
                        "confidence": {"type": "number"}
                    },
                    "required": ["command", "description", "required_parameters", "confidence"]
                }}
            },
            "required": ["suggestions"]
        })),
        annotations: ToolAnnotations::READ_ONLY_LOCAL,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    query: String,
    limit: Option<usize>,
}

pub struct SuggestCommands;

/// Whether `aws___call_aws` runs the command: API commands, and the high-level S3 commands
/// the engine implements (other high-level commands are refused there, so not suggested).
fn runnable(command: &str) -> bool {
    use aws_engine::CommandError;
    // Placeholders (`<source>`) would read as shell redirections.
    let command: String = command
        .split_whitespace()
        .filter(|w| !w.starts_with('<'))
        .collect::<Vec<_>>()
        .join(" ");
    let command = command.as_str();
    match aws_engine::parse_command(command) {
        Ok(_) => true,
        Err(CommandError::HighLevel(service)) => {
            let op = command.split_whitespace().nth(2).unwrap_or_default();
            service == "s3" && matches!(op, "ls" | "cp" | "mb" | "rb" | "rm" | "presign")
        }
        Err(CommandError::UnknownService(_) | CommandError::UnknownOperation(_)) => false,
        // Missing arguments and placeholders are expected in a suggestion.
        Err(_) => true,
    }
}

#[async_trait]
impl ToolHandler for SuggestCommands {
    async fn call(&self, _ctx: &ToolContext, arguments: Value) -> Result<ToolOutput, ToolError> {
        let args: Args = parse_arguments("suggest_aws_commands", arguments)?;
        let query = args.query.trim();
        if query.is_empty() {
            return Err(ToolError::InvalidArgument(
                "query is empty; describe what you want to do, e.g. \"list my S3 buckets\"".into(),
            ));
        }
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(ToolError::InvalidArgument(format!(
                "query is longer than {MAX_QUERY_CHARS} characters; describe the task briefly"
            )));
        }
        let limit = args.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ToolError::InvalidArgument(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let query = query.to_owned();
        // The index is built once (about 0.2 s) on first use; keep it off the async threads.
        let suggestions = tokio::task::spawn_blocking(move || {
            Suggester::global().map(|s| {
                s.suggest(&query, limit + 8)
                    .into_iter()
                    .filter(|s| runnable(&s.command))
                    .take(limit)
                    .collect::<Vec<_>>()
            })
        })
        .await
        .map_err(|e| ToolError::Internal(format!("suggestion lookup stopped: {e}")))?
        .map_err(|e| ToolError::Internal(format!("the command index is unavailable: {e}")))?;
        let items: Vec<Value> = suggestions
            .into_iter()
            .map(|s| {
                json!({
                    "command": s.command,
                    "description": s.description,
                    "required_parameters": s.required_parameters,
                    "confidence": (s.confidence * 1000.0).round() / 1000.0,
                })
            })
            .collect();
        Ok(ToolOutput::structured(json!({"suggestions": items})))
    }
}

#[cfg(test)]
mod tests {
    use super::runnable;

    #[test]
    fn only_commands_call_aws_runs_are_suggested() {
        assert!(runnable("aws s3api list-buckets"));
        assert!(runnable("aws s3 ls"));
        assert!(runnable("aws dynamodb create-table"));
        assert!(!runnable("aws s3 sync <source> <destination>"));
        assert!(!runnable("aws deploy push"));
        assert!(!runnable("aws cloudformation deploy"));
    }
}
