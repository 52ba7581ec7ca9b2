//! `aws___run_script`: Python run in the sandbox, reaching AWS only through `call_aws`,
//! each call passing the same validation, policy gate and sender as the `call_aws` tool.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_engine::execute::{CallError, CallTarget};
use aws_engine::{CallGate, GateCall};
use aws_models::models;
use mcp_protocol::{
    ToolAnnotations, ToolContext, ToolDescriptor, ToolError, ToolHandler, ToolOutput,
    parse_arguments,
};
use mcp_telemetry::Outcome;
use script_sandbox::{AwsHost, HostCallError, Limits, PYTHON_SUBSET_DOC, Sandbox, ScriptError};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::context::ApiContext;
use crate::tasks::{Answer, CallInfo, Progress};

/// Largest script accepted.
const MAX_CODE_BYTES: usize = 256 * 1024;
/// Longest `timeout_seconds` a caller may ask for.
pub const MAX_TIMEOUT_SECONDS: u64 = 300;

pub fn descriptor() -> ToolDescriptor {
    ToolDescriptor {
        name: "run_script",
        title: "Run a Python script with AWS access",
        description: format!(
            "Runs a Python script in a sandbox (no files, network or environment) that reaches AWS only through call_aws(service, operation, params=None, region=None); every call is validated and checked against the server's policy like aws___call_aws. Use it to combine several calls (loops, filtering, joining results) in one step. Answer: result (the value of the last expression or a top-level return), stdout (printed text) and aws_calls. timeout_seconds defaults to 30 (at most {MAX_TIMEOUT_SECONDS}); scripts still running after the inline budget continue as a task (poll aws___get_tasks).\n\n{PYTHON_SUBSET_DOC}"
        ),
        input_schema: json!({
            "type": "object",
            "properties": {
                "code": {"type": "string", "minLength": 1, "description": "The Python script."},
                "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": MAX_TIMEOUT_SECONDS}
            },
            "required": ["code"],
            "additionalProperties": false
        }),
        output_schema: Some(json!({
            "type": "object",
            "properties": {
                "result": {},
                "stdout": {"type": "string"},
                "aws_calls": {"type": "integer"},
                "task_id": {"type": "string"},
                "status": {"type": "string"},
                "note": {"type": "string"},
                "error": {"type": "object"}
            }
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
    code: String,
    timeout_seconds: Option<u64>,
}

/// Scripts' AWS calls, through the engine.
pub struct EngineHost {
    pub ctx: ApiContext,
    pub gate: Arc<dyn CallGate>,
    pub default_region: String,
    /// The script's tool call, for the audit record of each AWS call it makes.
    pub caller: Option<ToolContext>,
}

impl EngineHost {
    /// One metrics and audit record per AWS call, as if made with `call_aws`.
    fn record(
        &self,
        service: &str,
        operation: &str,
        params: &Value,
        region: &str,
        outcome: &Result<Value, HostCallError>,
        started: std::time::Instant,
    ) {
        let (Some(telemetry), Some(caller)) = (&self.ctx.telemetry, &self.caller) else {
            return;
        };
        let (is_error, outcome_class, text) = match outcome {
            Ok(_) => (false, Outcome::Success, "ok".to_owned()),
            Err(e) => (true, Outcome::UserError, e.to_string()),
        };
        let identity = caller.identity.snapshot();
        telemetry.tool_call(&mcp_telemetry::ToolCallEvent {
            tool_name: "aws___call_aws".into(),
            params: json!({"via": "aws___run_script", "service": service, "operation": operation, "params": params}),
            request_id: caller.request_id.clone(),
            response_content: json!([{"type": "text", "text": text}]),
            is_error,
            outcome: outcome_class,
            error_code: None,
            read_only: aws_engine::policy::is_read_only(service, operation),
            resources: Vec::new(),
            identity: identity.to_audit(),
            region: region.to_owned(),
            source_ip: identity.source_ip.clone(),
            session_id: caller.session_id.clone(),
            protocol_version: caller.protocol_version.clone(),
            execution_time_ms: started.elapsed().as_millis() as u64,
        });
    }
}

/// `list_buckets` → `ListBuckets` (scripts written for boto3 use its names).
fn operation_name(model: &aws_models::ServiceModel, given: &str) -> Option<String> {
    if model.operation(given).is_some() {
        return Some(given.to_owned());
    }
    let wanted = given.replace(['_', '-'], "").to_ascii_lowercase();
    model
        .operations
        .keys()
        .find(|name| name.to_ascii_lowercase() == wanted)
        .cloned()
}

#[async_trait]
impl AwsHost for EngineHost {
    async fn call_aws(
        &self,
        service: String,
        operation: String,
        params: Value,
        region: Option<String>,
    ) -> Result<Value, HostCallError> {
        let started = std::time::Instant::now();
        let region_used = region
            .clone()
            .unwrap_or_else(|| self.default_region.clone());
        let logged_params = params.clone();
        let outcome = self
            .call_inner(service.clone(), operation.clone(), params, region)
            .await;
        self.record(
            &service,
            &operation,
            &logged_params,
            &region_used,
            &outcome,
            started,
        );
        outcome
    }
}

impl EngineHost {
    async fn call_inner(
        &self,
        service: String,
        operation: String,
        params: Value,
        region: Option<String>,
    ) -> Result<Value, HostCallError> {
        let model = models().service(&service).map_err(|_| {
            HostCallError::new(
                "UnknownService",
                format!("no AWS service is named '{service}' (use the boto3 name, e.g. s3, dynamodb, ec2)"),
            )
        })?;
        let op_name = operation_name(&model, &operation).ok_or_else(|| {
            HostCallError::new(
                "UnknownOperation",
                format!(
                    "{service} has no operation '{operation}' (use the API name, e.g. {})",
                    model
                        .operations
                        .keys()
                        .take(3)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        let op = model
            .operation(&op_name)
            .ok_or_else(|| HostCallError::new("UnknownOperation", op_name.clone()))?;
        let params: Map<String, Value> = match params {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            _ => {
                return Err(HostCallError::new(
                    "ParamValidationError",
                    "params must be a dict of the operation's input members",
                ));
            }
        };
        aws_engine::validate::validate(&model, &op_name, &params)
            .map_err(|r| HostCallError::new("ParamValidationError", r.to_string()))?;
        let region = region.unwrap_or_else(|| self.default_region.clone());
        self.gate
            .admit(&GateCall {
                cli_service: "",
                cli_operation: "",
                service: &service,
                operation: &op_name,
                region: &region,
                params: Some(&params),
            })
            .await
            .map_err(|why| HostCallError::new("PolicyDenied", why))?;
        let answer = self
            .ctx
            .runner
            .executor
            .call(
                &model,
                op,
                &params,
                &CallTarget {
                    region: &region,
                    endpoint_url: None,
                },
            )
            .await
            .map_err(|e| match e {
                CallError::Service(s) => HostCallError::new(s.code, s.message),
                other => HostCallError::new(other.code(), other.to_string()),
            })?;
        let mut output = answer.output;
        if let Some((member, body)) = answer.stream {
            // Streaming bodies come back as text when they are UTF-8, else base64.
            let value = match String::from_utf8(body) {
                Ok(text) => Value::String(text),
                Err(e) => Value::String(base64_encode(e.as_bytes())),
            };
            output.insert(member, value);
        }
        Ok(Value::Object(output))
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
}

fn script_error_answer(e: &ScriptError) -> Answer {
    let outcome = match e {
        ScriptError::Worker(_) => Outcome::SystemError,
        _ => Outcome::UserError,
    };
    let mut error = json!({"kind": e.kind(), "message": e.to_string()});
    if let ScriptError::Python {
        exc_type,
        line,
        traceback,
        ..
    } = e
    {
        error["type"] = json!(exc_type);
        if let Some(l) = line {
            error["line"] = json!(l);
        }
        error["traceback"] = json!(traceback);
    }
    Answer {
        structured: json!({"error": error, "stdout": e.stdout(), "aws_calls": e.aws_calls()}),
        failure: Some(outcome),
    }
}

/// Runs a script to its end.
pub async fn work(
    ctx: ApiContext,
    sandbox: Arc<Sandbox>,
    code: String,
    timeout: Option<u64>,
    region: String,
    gate: Arc<dyn CallGate>,
    caller: Option<ToolContext>,
) -> Answer {
    let mut limits: Limits = sandbox.limits().clone();
    if let Some(t) = timeout {
        limits = limits.with_timeout(Duration::from_secs(t));
    }
    let host = EngineHost {
        ctx,
        gate,
        default_region: region,
        caller,
    };
    match sandbox.run_with(&code, &host, &limits).await {
        Ok(outcome) => Answer {
            structured: outcome.to_json(),
            failure: None,
        },
        Err(e) => script_error_answer(&e),
    }
}

fn read_args(arguments: Value) -> Result<Args, ToolError> {
    let args: Args = parse_arguments("run_script", arguments)?;
    if args.code.trim().is_empty() {
        return Err(ToolError::InvalidArgument(
            "code is empty; give a Python script".into(),
        ));
    }
    if args.code.len() > MAX_CODE_BYTES {
        return Err(ToolError::InvalidArgument(format!(
            "the script is {} bytes; at most {MAX_CODE_BYTES} are accepted",
            args.code.len()
        )));
    }
    if let Some(t) = args.timeout_seconds
        && !(1..=MAX_TIMEOUT_SECONDS).contains(&t)
    {
        return Err(ToolError::InvalidArgument(format!(
            "timeout_seconds must be between 1 and {MAX_TIMEOUT_SECONDS}"
        )));
    }
    Ok(args)
}

/// Runs a dispatched `run_script` job (not used: scripts are never restarted).
pub async fn job_work(ctx: ApiContext, arguments: Value, region: String) -> Answer {
    let Some(sandbox) = ctx.sandbox.clone() else {
        return Answer::from_error(&ToolError::Internal("no sandbox configured".into()));
    };
    match read_args(arguments) {
        Ok(args) => {
            let gate: Arc<dyn CallGate> = ctx.gate.clone();
            work(
                ctx,
                sandbox,
                args.code,
                args.timeout_seconds,
                region,
                gate,
                None,
            )
            .await
        }
        Err(e) => Answer::from_error(&e),
    }
}

pub struct RunScript {
    pub ctx: ApiContext,
    pub sandbox: Arc<Sandbox>,
}

#[async_trait]
impl ToolHandler for RunScript {
    async fn call(&self, ctx: &ToolContext, arguments: Value) -> Result<ToolOutput, ToolError> {
        let args = read_args(arguments.clone())?;
        let caller = ctx.identity.snapshot();
        let owner = caller.owner_key();
        let acting = self.ctx.for_caller(&caller).await?;
        let summary: String = args
            .code
            .lines()
            .next()
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        let gate = self.ctx.gate_for(ctx);
        let job = work(
            acting,
            self.sandbox.clone(),
            args.code,
            args.timeout_seconds,
            ctx.region.clone(),
            gate,
            Some(ctx.clone()),
        );
        let output = self
            .ctx
            .tasks
            .run(
                CallInfo {
                    owner,
                    tool: "run_script",
                    summary,
                    arguments,
                    region: ctx.region.clone(),
                    request_id: ctx.request_id.clone(),
                    // A script may write: never run it twice.
                    restartable: false,
                },
                Progress::default(),
                job,
            )
            .await?;
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boto3_names_map_to_api_names() {
        let model = models().service("s3").expect("s3");
        assert_eq!(
            operation_name(&model, "list_buckets").as_deref(),
            Some("ListBuckets")
        );
        assert_eq!(
            operation_name(&model, "ListBuckets").as_deref(),
            Some("ListBuckets")
        );
        assert_eq!(operation_name(&model, "nope"), None);
    }
}
