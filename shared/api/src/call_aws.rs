//! `aws___call_aws`: one AWS CLI command, or a batch of up to 20 run concurrently, each
//! answered on its own (one failure does not fail the batch).

use std::sync::Arc;

use async_trait::async_trait;
use aws_engine::{CommandOutcome, RunError, RunSettings};
use mcp_protocol::{
    ToolAnnotations, ToolContext, ToolDescriptor, ToolError, ToolHandler, ToolOutput,
    parse_arguments,
};
use mcp_telemetry::Outcome;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::ApiContext;

/// Longest accepted command line.
const MAX_COMMAND_CHARS: usize = 100_000;

pub fn descriptor() -> ToolDescriptor {
    ToolDescriptor {
        name: "call_aws",
        title: "Call AWS",
        description: "Runs AWS CLI commands against AWS with your credentials: any API of any service, written as `aws <service> <operation> --param value ...` (shorthand and JSON values, --region, --query, --max-items, --starting-token; no pipes or shell syntax). Each command is validated against the service model before anything is sent. Give a list (up to 20) to run several at once; each gets its own result. Paginated operations are walked and merged like the CLI does, within a size budget; when a result is cut, pass its next_token as --starting-token to continue. `max_results` caps the items returned. `aws <service> <operation> help` describes an operation. High-level commands: aws s3 ls / cp / mb / rb / rm / presign. Region: --region, else a Region in an ARN parameter, else the client's AWS_REGION, else the server default.".into(),
        input_schema: json!({
            "type": "object",
            "properties": {
                "cli_command": {
                    "description": "An AWS CLI command starting with 'aws', or a list of up to 20 of them.",
                    "oneOf": [
                        {"type": "string", "minLength": 1},
                        {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "maxItems": 20}
                    ]
                },
                "max_results": {
                    "type": "integer", "minimum": 1,
                    "description": "Most items to return from a paginated command; the answer then carries next_token."
                }
            },
            "required": ["cli_command"],
            "additionalProperties": false
        }),
        output_schema: Some(json!({
            "type": "object",
            "properties": {
                "results": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "cli_command": {"type": "string"},
                            "status": {"type": "string", "enum": ["success", "error"]},
                            "service": {"type": "string"},
                            "operation": {"type": "string"},
                            "region": {"type": "string"},
                            "output": {},
                            "next_token": {"type": "string"},
                            "truncated": {"type": "boolean"},
                            "notes": {"type": "array", "items": {"type": "string"}},
                            "error": {
                                "type": "object",
                                "properties": {
                                    "kind": {"type": "string", "enum": ["validation", "policy", "service", "network"]},
                                    "code": {"type": "string"},
                                    "message": {"type": "string"}
                                },
                                "required": ["kind", "code", "message"]
                            }
                        },
                        "required": ["cli_command", "status"]
                    }
                }
            },
            "required": ["results"]
        })),
        annotations: ToolAnnotations {
            read_only: false,
            destructive: true,
            idempotent: false,
            open_world: true,
        },
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Commands {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    cli_command: Commands,
    max_results: Option<usize>,
}

pub struct CallAws {
    pub ctx: ApiContext,
}

/// One command's entry in `results`.
pub fn result_entry(command: &str, outcome: &Result<CommandOutcome, RunError>) -> Value {
    let mut entry = Map::new();
    entry.insert("cli_command".into(), json!(command));
    match outcome {
        Ok(o) => {
            entry.insert("status".into(), json!("success"));
            entry.insert("service".into(), json!(o.service));
            entry.insert("operation".into(), json!(o.operation));
            if !o.region.is_empty() {
                entry.insert("region".into(), json!(o.region));
            }
            entry.insert("output".into(), o.output.clone());
            if let Some(t) = &o.next_token {
                entry.insert("next_token".into(), json!(t));
            }
            if o.truncated {
                entry.insert("truncated".into(), json!(true));
            }
            if !o.notes.is_empty() {
                entry.insert("notes".into(), json!(o.notes));
            }
        }
        Err(e) => {
            entry.insert("status".into(), json!("error"));
            if let Some(call) = &e.call {
                entry.insert("service".into(), json!(call.service));
                entry.insert("operation".into(), json!(call.operation));
                if let Some(r) = &call.region {
                    entry.insert("region".into(), json!(r));
                }
            }
            entry.insert(
                "error".into(),
                json!({"kind": e.kind.as_str(), "code": e.code, "message": e.message}),
            );
        }
    }
    Value::Object(entry)
}

#[async_trait]
impl ToolHandler for CallAws {
    async fn call(&self, ctx: &ToolContext, arguments: Value) -> Result<ToolOutput, ToolError> {
        let args: Args = parse_arguments("call_aws", arguments)?;
        let commands = match args.cli_command {
            Commands::One(c) => vec![c],
            Commands::Many(list) => list,
        };
        if commands.is_empty() {
            return Err(ToolError::InvalidArgument(
                "cli_command is an empty list; give one command or up to 20".into(),
            ));
        }
        if commands.len() > self.ctx.config.max_batch {
            return Err(ToolError::InvalidArgument(format!(
                "cli_command has {} commands; at most {} run in one call",
                commands.len(),
                self.ctx.config.max_batch
            )));
        }
        if args.max_results == Some(0) {
            return Err(ToolError::InvalidArgument(
                "max_results must be at least 1".into(),
            ));
        }
        let settings = Arc::new(RunSettings {
            default_region: ctx.region.clone(),
            max_results: args.max_results,
            budget: self.ctx.config.budget,
        });
        let mut set = tokio::task::JoinSet::new();
        for (index, command) in commands.iter().enumerate() {
            let runner = self.ctx.runner.clone();
            let gate = self.ctx.gate.clone();
            let settings = settings.clone();
            let command = command.clone();
            set.spawn(async move {
                let outcome = if command.len() > MAX_COMMAND_CHARS {
                    Err(RunError::validation(format!(
                        "the command is {} characters long; at most {MAX_COMMAND_CHARS} are accepted (put large values in a file:// argument)",
                        command.len()
                    )))
                } else {
                    runner.run(&command, &settings, gate.as_ref()).await
                };
                (index, outcome)
            });
        }
        let mut outcomes: Vec<Option<Result<CommandOutcome, RunError>>> =
            (0..commands.len()).map(|_| None).collect();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((index, outcome)) => outcomes[index] = Some(outcome),
                Err(e) => return Err(ToolError::Internal(format!("a command task failed: {e}"))),
            }
        }
        let mut results = Vec::with_capacity(commands.len());
        let mut failures = Vec::new();
        for (command, outcome) in commands.iter().zip(outcomes) {
            let outcome = outcome.unwrap_or_else(|| Err(RunError::validation("not run")));
            if let Err(e) = &outcome {
                failures.push(e.kind);
            }
            results.push(result_entry(command, &outcome));
        }
        let failure = (failures.len() == commands.len()).then(|| {
            use aws_engine::run::FailureKind;
            if failures.contains(&FailureKind::Network) {
                Outcome::SystemError
            } else {
                Outcome::UserError
            }
        });
        Ok(ToolOutput {
            structured: json!({"results": results}),
            failure,
            ..ToolOutput::default()
        })
    }
}
