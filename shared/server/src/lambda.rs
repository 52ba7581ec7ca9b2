//! The Lambda adapter: a Function URL event in, the shared Streamable HTTP handler, a
//! Function URL response out.

use std::sync::Arc;

use bytes::Bytes;
use lambda_http::{Body, LambdaEvent, Request, RequestExt, Response, service_fn};
use mcp_protocol::{IdentitySource, KnownIdentity};
use serde_json::{Value, json};

use api_tools::tasks::TaskJob;

use crate::app::App;
use crate::forward;
use crate::groups::ServedGroup;
use crate::identity::{self, from_request_context};
use crate::internal::{self, EventKind};
use crate::settings::{Mode, Settings, UnauthenticatedPolicy};

/// Runs one tool group as a Lambda function until the runtime stops it.
///
/// Events are read raw: a Function URL request is served over MCP; an
/// `{"aws_mcp_task": ...}` event (this function invoking itself) runs a long call to its end.
pub async fn run(group: &'static dyn ServedGroup) -> Result<(), lambda_http::Error> {
    crate::init_tracing(Mode::Lambda);
    let settings = Settings::from_env(Mode::Lambda, vec![group.name()])?;
    let app = Arc::new(App::build(settings, Mode::Lambda, &[group]).await?);
    lambda_http::lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let app = app.clone();
        async move { dispatch_event(&app, event.payload).await }
    }))
    .await
}

/// Serves one raw invocation event: a Function URL request, or an internal event from
/// another function of the stack (sealed; anything else is refused and audited).
pub async fn dispatch_event(app: &App, payload: Value) -> Result<Value, lambda_http::Error> {
    if let Some(sealed) = payload.get(internal::FIELD) {
        return internal_event(app, sealed).await;
    }
    if let Some(job) = payload.get("aws_mcp_task") {
        let claimed = job.get("owner").and_then(Value::as_str);
        return Err(refuse(app, "an unsealed task event", "task", claimed));
    }
    if payload.pointer("/requestContext/http").is_none() {
        return Err(refuse(
            app,
            "neither a Function URL request nor a sealed internal event",
            "unknown",
            None,
        ));
    }
    if !app.settings.deployed.serve_url_events {
        let claimed = payload
            .pointer("/requestContext/authorizer/iam/userArn")
            .and_then(Value::as_str);
        return Err(refuse(
            app,
            "a Function URL request to a function that is reached only through the stack's endpoint (McpEndpoint)",
            "function_url",
            claimed,
        ));
    }
    let request = lambda_http::request::from_str(&payload.to_string())
        .map_err(|e| format!("not a Function URL request: {e}"))?;
    let response = handle(app, request).await;
    Ok(function_url_response(response))
}

/// A refused invocation: audited with the identity it claimed, answered as an error.
fn refuse(app: &App, what: &str, kind: &str, claimed: Option<&str>) -> lambda_http::Error {
    let reason = format!("refused {what}");
    tracing::warn!(%reason, claimed, "invocation refused");
    app.server
        .telemetry()
        .invocation_refused(&reason, kind, claimed);
    reason.into()
}

/// A sealed event: a forwarded tool call or a task continuation.
async fn internal_event(app: &App, sealed: &Value) -> Result<Value, lambda_http::Error> {
    let (kind, body) = match app.internal.open(sealed).await {
        Ok(opened) => opened,
        Err(e) => {
            let claimed = sealed
                .get("body")
                .and_then(Value::as_str)
                .and_then(|b| serde_json::from_str::<Value>(b).ok())
                .and_then(|b| {
                    b.pointer("/caller/arn")
                        .or_else(|| b.get("owner"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
            return Err(refuse(
                app,
                &format!("an internal event: {e}"),
                "internal",
                claimed.as_deref(),
            ));
        }
    };
    match kind {
        EventKind::Call => Ok(forward::serve_call(app.server.registry(), &body).await),
        EventKind::Task => {
            let job: TaskJob = serde_json::from_value(body)
                .map_err(|e| format!("a sealed task event without a task: {e}"))?;
            let Some(jobs) = &app.jobs else {
                return Err("this function does not run AWS tool tasks".into());
            };
            tracing::info!(task_id = %job.task_id, tool = %job.tool, "running a task");
            jobs.run_job(job).await;
            Ok(json!({"ok": true}))
        }
    }
}

/// A Function URL response document (the API Gateway v2 payload format).
fn function_url_response(response: Response<Body>) -> Value {
    let (parts, body) = response.into_parts();
    let mut headers = serde_json::Map::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    let (body, encoded) = match body {
        Body::Empty => (String::new(), false),
        Body::Text(t) => (t, false),
        Body::Binary(b) => (
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b),
            true,
        ),
        _ => (String::new(), false),
    };
    json!({
        "statusCode": parts.status.as_u16(),
        "headers": headers,
        "multiValueHeaders": {},
        "body": body,
        "isBase64Encoded": encoded,
        "cookies": [],
    })
}

/// Serves one Function URL request.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let identity: Arc<dyn IdentitySource> = match from_request_context(&request.request_context()) {
        Some(id) => Arc::new(KnownIdentity(id)),
        None => match app.settings.unauthenticated {
            UnauthenticatedPolicy::Local => identity::shared(&app.local_identity),
            UnauthenticatedPolicy::Refuse => {
                return refusal(
                    403,
                    "This endpoint requires AWS_IAM authentication: sign requests with SigV4 (e.g. through mcp-proxy-for-aws with --service lambda --region <region>)",
                );
            }
        },
    };
    let path = request.uri().path().trim_end_matches('/').to_owned();
    if !(path.is_empty() || path.ends_with("/mcp")) {
        return refusal(404, "Not found: the MCP endpoint is /mcp");
    }
    let (parts, body) = request.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(t) => Bytes::from(t),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    let response = app
        .server
        .handle_http(
            http::Request::from_parts(parts, bytes),
            identity,
            &app.http_options,
        )
        .await;
    let (parts, body) = response.into_parts();
    // Streaming is off for Lambda, so this is the buffered JSON; collecting also covers a
    // stream should one ever be produced.
    let body = body.collect_bytes().await;
    let body = if body.is_empty() {
        Body::Empty
    } else {
        Body::Text(String::from_utf8_lossy(&body).into_owned())
    };
    Response::from_parts(parts, body)
}

fn refusal(status: u16, message: &str) -> Response<Body> {
    let body = json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": message}});
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(body.to_string()))
        .unwrap_or_default()
}
