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

use crate::context::ApiContext;
use crate::tasks::{Answer, CallInfo, Progress};

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
                },
                "task_id": {"type": "string"},
                "status": {"type": "string"},
                "note": {"type": "string"}
            },
            "description": "results for an answered call; task_id and status when it continues as a task (poll aws___get_tasks)"
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
#[serde(deny_unknown_fields)]
struct Args {
    /// Read by [`command_list`], which names what was wrong in terms of the schema.
    cli_command: Value,
    max_results: Option<usize>,
}

/// The commands of `cli_command`: a string, or a list of strings.
fn command_list(value: Value) -> Result<Vec<String>, ToolError> {
    let wrong = |what: &str| {
        ToolError::InvalidArgument(format!(
            "cli_command must be a string (one AWS CLI command) or a list of strings; got {what}"
        ))
    };
    match value {
        Value::String(one) => Ok(vec![one]),
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s),
                other => Err(wrong(&format!("{} at position {i}", json_kind(&other)))),
            })
            .collect(),
        other => Err(wrong(json_kind(&other))),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

pub struct CallAws {
    pub ctx: ApiContext,
}

/// One command's entry in `results`.
pub fn result_entry(command: &str, outcome: &Result<CommandOutcome, RunError>) -> Value {
    let mut entry = Map::new();
    // A refused over-long command is named, not echoed back whole.
    let shown = if command.len() > MAX_COMMAND_CHARS {
        aws_engine::text::clip(command, 200)
    } else {
        std::borrow::Cow::Borrowed(command)
    };
    entry.insert("cli_command".into(), json!(shown));
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

/// Checks the arguments and returns the commands and `max_results`.
fn read_args(
    arguments: Value,
    max_batch: usize,
) -> Result<(Vec<String>, Option<usize>), ToolError> {
    let args: Args = parse_arguments("call_aws", arguments)?;
    let commands = command_list(args.cli_command)?;
    if commands.is_empty() {
        return Err(ToolError::InvalidArgument(
            "cli_command is an empty list; give one command or up to 20".into(),
        ));
    }
    if commands.len() > max_batch {
        return Err(ToolError::InvalidArgument(format!(
            "cli_command has {} commands; at most {max_batch} run in one call",
            commands.len()
        )));
    }
    if args.max_results == Some(0) {
        return Err(ToolError::InvalidArgument(
            "max_results must be at least 1".into(),
        ));
    }
    Ok((commands, args.max_results))
}

/// Runs the commands (concurrently, order kept) and builds the answer.
#[allow(clippy::too_many_arguments)]
pub async fn work(
    ctx: ApiContext,
    owner: String,
    commands: Vec<String>,
    max_results: Option<usize>,
    region: String,
    gate: Arc<dyn aws_engine::CallGate>,
    progress: Progress,
    peer: Option<Arc<dyn mcp_protocol::ClientPeer>>,
) -> Answer {
    let settings = Arc::new(RunSettings {
        default_region: region,
        max_results,
        budget: ctx.config.budget,
        owner: Some(owner),
    });
    let total = commands.len();
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for (index, command) in commands.iter().enumerate() {
        let runner = ctx.runner.clone();
        let gate = gate.clone();
        let settings = settings.clone();
        let command = command.clone();
        let progress = progress.clone();
        let done = done.clone();
        let peer = peer.clone();
        set.spawn(async move {
            let outcome = if command.len() > MAX_COMMAND_CHARS {
                Err(RunError::validation(format!(
                    "the command is {} characters long; at most {MAX_COMMAND_CHARS} are accepted (put large values in a file:// argument)",
                    command.len()
                )))
            } else {
                runner.run(&command, &settings, gate.as_ref()).await
            };
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let text = format!("{n} of {total} command(s) finished");
            if let Some(peer) = &peer {
                peer.progress(n as f64, Some(total as f64), Some(text.clone()))
                    .await;
            }
            progress.set(text);
            (index, outcome)
        });
    }
    let mut outcomes: Vec<Option<Result<CommandOutcome, RunError>>> =
        (0..total).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((index, outcome)) => outcomes[index] = Some(outcome),
            Err(e) => tracing::warn!(error = %e, "a command task stopped"),
        }
    }
    let mut results = Vec::with_capacity(total);
    let mut failures = Vec::new();
    for (command, outcome) in commands.iter().zip(outcomes) {
        let outcome = outcome.unwrap_or_else(|| {
            Err(RunError {
                kind: aws_engine::run::FailureKind::Network,
                code: "InternalError".into(),
                message: "the command stopped unexpectedly".into(),
                call: None,
            })
        });
        if let Err(e) = &outcome {
            failures.push(e.kind);
        }
        results.push(result_entry(command, &outcome));
    }
    let failure = (failures.len() == total).then(|| {
        use aws_engine::run::FailureKind;
        if failures.contains(&FailureKind::Network) {
            Outcome::SystemError
        } else {
            Outcome::UserError
        }
    });
    Answer {
        structured: json!({"results": results}),
        failure,
    }
}

/// Runs a dispatched `call_aws` job (Lambda worker side).
pub async fn job_work(ctx: ApiContext, owner: String, arguments: Value, region: String) -> Answer {
    match read_args(arguments, ctx.config.max_batch) {
        Ok((commands, max_results)) => {
            let gate: Arc<dyn aws_engine::CallGate> = ctx.gate.clone();
            work(
                ctx,
                owner,
                commands,
                max_results,
                region,
                gate,
                Progress::default(),
                None,
            )
            .await
        }
        Err(e) => Answer::from_error(&e),
    }
}

#[async_trait]
impl ToolHandler for CallAws {
    async fn call(&self, ctx: &ToolContext, arguments: Value) -> Result<ToolOutput, ToolError> {
        let (commands, max_results) = read_args(arguments.clone(), self.ctx.config.max_batch)?;
        let read_only = commands
            .iter()
            .all(|c| aws_engine::run::is_read_only_command(c));
        let caller = ctx.identity.snapshot();
        let owner = caller.owner_key();
        let acting = self.ctx.for_caller(&caller).await?;
        let progress = Progress::default();
        let summary = commands.join(" ; ");
        let gate = self.ctx.gate_for(ctx);
        let job = work(
            acting,
            owner.clone(),
            commands,
            max_results,
            ctx.region.clone(),
            gate,
            progress.clone(),
            ctx.peer.clone(),
        );
        let mut output = self
            .ctx
            .tasks
            .run(
                CallInfo {
                    owner,
                    tool: "call_aws",
                    summary,
                    arguments,
                    region: ctx.region.clone(),
                    request_id: ctx.request_id.clone(),
                    restartable: read_only,
                },
                progress,
                job,
            )
            .await?;
        output.read_only = Some(read_only);
        Ok(output)
    }
}
