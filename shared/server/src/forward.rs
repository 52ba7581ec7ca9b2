//! One endpoint for every tool: the front function lists the tools of every group and
//! hands a call of another group's tool to that group's function (a synchronous Lambda
//! `Invoke` of a sealed internal event), answering exactly what that function answers.
//!
//! The knowledge function fronts: its tools need no AWS rights, so the role behind the one
//! public URL holds nothing but the right to invoke its sibling functions.

use std::sync::Arc;

use async_trait::async_trait;
use aws_engine::execute::Executor;
use base64::Engine;
use mcp_protocol::{
    CallerIdentity, IdentityKind, KnownIdentity, Tool, ToolContext, ToolDescriptor, ToolError,
    ToolGroup, ToolHandler, ToolOutput, ToolRegistry,
};
use mcp_telemetry::{AuditResource, Outcome};
use serde_json::{Map, Value, json};

use crate::internal::{EventKind, InternalKey};
use crate::settings::GroupName;

/// Sends sealed tool calls to the functions that own them.
pub struct Forwarder {
    pub executor: Executor,
    pub key: Arc<InternalKey>,
    pub region: String,
}

/// The tools of one group, served by forwarding to its function.
pub struct ForwardedGroup {
    pub group: GroupName,
    pub function: String,
    pub forwarder: Arc<Forwarder>,
}

impl ToolGroup for ForwardedGroup {
    fn name(&self) -> &'static str {
        self.group.as_str()
    }

    fn tools(&self) -> Vec<Tool> {
        api_tools::group_descriptors(self.group.as_str())
            .into_iter()
            .map(|descriptor: ToolDescriptor| {
                let handler = Arc::new(ForwardedTool {
                    tool: descriptor.full_name(),
                    function: self.function.clone(),
                    forwarder: self.forwarder.clone(),
                });
                Tool {
                    descriptor,
                    handler,
                }
            })
            .collect()
    }
}

struct ForwardedTool {
    tool: String,
    function: String,
    forwarder: Arc<Forwarder>,
}

#[async_trait]
impl ToolHandler for ForwardedTool {
    async fn call(&self, ctx: &ToolContext, arguments: Value) -> Result<ToolOutput, ToolError> {
        let call = json!({
            "tool": self.tool,
            "arguments": arguments,
            "caller": caller_to_wire(&ctx.identity.snapshot()),
            "session_id": ctx.session_id,
            "protocol_version": ctx.protocol_version,
            "region": ctx.region,
            "request_id": ctx.request_id,
            "meta": ctx.meta,
        });
        let event = self
            .forwarder
            .key
            .seal(EventKind::Call, &call)
            .await
            .map_err(|e| ToolError::Internal(format!("cannot forward {}: {e}", self.tool)))?;
        let answer = self.invoke(&event).await?;
        result_from_wire(&answer)
    }
}

impl ForwardedTool {
    async fn invoke(&self, event: &Value) -> Result<Value, ToolError> {
        let mut params = Map::new();
        params.insert("FunctionName".into(), json!(self.function));
        params.insert("InvocationType".into(), json!("RequestResponse"));
        params.insert(
            "Payload".into(),
            json!({"__bytes_base64__": base64::engine::general_purpose::STANDARD.encode(event.to_string())}),
        );
        let answer = self
            .forwarder
            .executor
            .call_named("lambda", "Invoke", &params, &self.forwarder.region)
            .await
            .map_err(|e| {
                ToolError::Internal(format!(
                    "cannot reach function {} that serves {}: {e}",
                    self.function, self.tool
                ))
            })?;
        let payload = answer.stream.map(|(_, bytes)| bytes).unwrap_or_default();
        if let Some(error) = answer.output.get("FunctionError") {
            return Err(ToolError::Internal(format!(
                "function {} failed ({error}): {}",
                self.function,
                String::from_utf8_lossy(&payload)
            )));
        }
        serde_json::from_slice(&payload).map_err(|e| {
            ToolError::Internal(format!(
                "function {} answered something other than a tool result ({e})",
                self.function
            ))
        })
    }
}

/// Runs a forwarded call (the owning function's side) and answers its wire form.
pub async fn serve_call(registry: &ToolRegistry, call: &Value) -> Value {
    result_to_wire(&run_call(registry, call).await)
}

async fn run_call(registry: &ToolRegistry, call: &Value) -> Result<ToolOutput, ToolError> {
    let text = |k: &str| call.get(k).and_then(Value::as_str).unwrap_or_default();
    let name = text("tool");
    let tool = registry
        .get(name)
        .ok_or_else(|| ToolError::NotFound(format!("this function does not serve tool {name}")))?;
    let caller = caller_from_wire(call.get("caller").unwrap_or(&Value::Null));
    let ctx = ToolContext {
        identity: Arc::new(KnownIdentity(caller)),
        session_id: text("session_id").to_owned(),
        protocol_version: text("protocol_version").to_owned(),
        region: text("region").to_owned(),
        request_id: call.get("request_id").cloned().unwrap_or(Value::Null),
        meta: call.get("meta").cloned().filter(|m| !m.is_null()),
        peer: None,
    };
    let arguments = call.get("arguments").cloned().unwrap_or(Value::Null);
    tool.handler.call(&ctx, arguments).await
}

fn kind_name(kind: IdentityKind) -> &'static str {
    match kind {
        IdentityKind::Iam => "iam",
        IdentityKind::LocalCredentials => "local_credentials",
        IdentityKind::Local => "local",
        IdentityKind::Unauthenticated => "unauthenticated",
    }
}

fn caller_to_wire(caller: &CallerIdentity) -> Value {
    json!({
        "kind": kind_name(caller.kind),
        "account_id": caller.account_id,
        "arn": caller.arn,
        "user_id": caller.user_id,
        "caller_id": caller.caller_id,
        "source_ip": caller.source_ip,
    })
}

fn caller_from_wire(value: &Value) -> CallerIdentity {
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
    let kind = [
        IdentityKind::Iam,
        IdentityKind::LocalCredentials,
        IdentityKind::Local,
        IdentityKind::Unauthenticated,
    ]
    .into_iter()
    .find(|k| Some(kind_name(*k)) == value.get("kind").and_then(Value::as_str))
    .unwrap_or(IdentityKind::Unauthenticated);
    CallerIdentity {
        kind,
        account_id: text("account_id"),
        arn: text("arn"),
        user_id: text("user_id"),
        caller_id: text("caller_id"),
        source_ip: text("source_ip"),
    }
}

const OUTCOMES: [Outcome; 4] = [
    Outcome::Success,
    Outcome::UserError,
    Outcome::SystemError,
    Outcome::Throttle,
];

fn result_to_wire(result: &Result<ToolOutput, ToolError>) -> Value {
    match result {
        Ok(output) => json!({"ok": {
            "structured": output.structured,
            "text": output.text,
            "read_only": output.read_only,
            "resources": output.resources.iter().map(|r| json!({
                "type": r.resource_type, "arn": r.arn, "account_id": r.account_id,
            })).collect::<Vec<_>>(),
            "failure": output.failure.map(Outcome::metric_name),
        }}),
        Err(e) => json!({"error": {"code": e.code(), "message": e.to_string()}}),
    }
}

fn result_from_wire(wire: &Value) -> Result<ToolOutput, ToolError> {
    if let Some(error) = wire.get("error") {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        return Err(match error.get("code").and_then(Value::as_str) {
            Some("validation_error") => ToolError::InvalidArgument(message),
            Some("not_found") => ToolError::NotFound(message),
            Some("denied") => ToolError::Denied(message),
            Some("throttled") => ToolError::Throttled(message),
            Some("downstream_error") => ToolError::Downstream(message),
            _ => ToolError::Internal(message),
        });
    }
    let ok = wire.get("ok").ok_or_else(|| {
        ToolError::Internal("a forwarded call answered neither ok nor error".into())
    })?;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    Ok(ToolOutput {
        structured: ok.get("structured").cloned().unwrap_or(Value::Null),
        text: ok.get("text").and_then(text),
        read_only: ok.get("read_only").and_then(Value::as_bool),
        resources: ok
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|r| AuditResource {
                resource_type: r.get("type").and_then(text).unwrap_or_default(),
                arn: r.get("arn").and_then(text).unwrap_or_default(),
                account_id: r.get("account_id").and_then(text),
            })
            .collect(),
        failure: ok
            .get("failure")
            .and_then(Value::as_str)
            .and_then(|name| OUTCOMES.into_iter().find(|o| o.metric_name() == name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_survive_the_wire() {
        let output = ToolOutput {
            structured: json!({"results": [1, 2]}),
            text: Some("t".into()),
            read_only: Some(false),
            resources: vec![AuditResource {
                resource_type: "AWS::S3::Bucket".into(),
                arn: "arn:aws:s3:::b".into(),
                account_id: Some("1".into()),
            }],
            failure: Some(Outcome::UserError),
        };
        let back = result_from_wire(&result_to_wire(&Ok(output.clone()))).expect("ok");
        assert_eq!(back.structured, output.structured);
        assert_eq!(back.text, output.text);
        assert_eq!(back.read_only, output.read_only);
        assert_eq!(back.resources, output.resources);
        assert_eq!(back.failure, output.failure);
        for error in [
            ToolError::InvalidArgument("a".into()),
            ToolError::NotFound("b".into()),
            ToolError::Denied("c".into()),
            ToolError::Throttled("d".into()),
            ToolError::Downstream("e".into()),
            ToolError::Internal("f".into()),
        ] {
            let back = result_from_wire(&result_to_wire(&Err(error.clone()))).expect_err("err");
            assert_eq!(back, error);
        }
    }

    #[test]
    fn callers_survive_the_wire() {
        let caller = CallerIdentity {
            kind: IdentityKind::Iam,
            account_id: Some("123456789012".into()),
            arn: Some("arn:aws:iam::123456789012:user/dev".into()),
            user_id: Some("AIDA".into()),
            caller_id: None,
            source_ip: Some("203.0.113.9".into()),
        };
        let back = caller_from_wire(&caller_to_wire(&caller));
        assert_eq!(back.kind, IdentityKind::Iam);
        assert_eq!(back.arn, caller.arn);
        assert_eq!(back.source_ip, caller.source_ip);
        assert_eq!(
            caller_from_wire(&json!({})).kind,
            IdentityKind::Unauthenticated
        );
    }
}
