//! The Lambda adapter: a Function URL event in, the shared Streamable HTTP handler, a
//! Function URL response out.

use std::sync::Arc;

use bytes::Bytes;
use lambda_http::{Body, Request, RequestExt, Response, service_fn};
use mcp_protocol::{IdentitySource, KnownIdentity};
use serde_json::json;

use crate::app::App;
use crate::identity::{self, from_request_context};
use crate::settings::{GroupName, Mode, Settings, UnauthenticatedPolicy};

/// Runs one tool group as a Lambda function until the runtime stops it.
pub async fn run(group: GroupName) -> Result<(), lambda_http::Error> {
    crate::init_tracing(Mode::Lambda);
    let settings = Settings::from_env(Mode::Lambda, vec![group])?;
    let app = Arc::new(App::build(settings, Mode::Lambda).await?);
    lambda_http::run(service_fn(move |request: Request| {
        let app = app.clone();
        async move { Ok::<_, std::convert::Infallible>(handle(&app, request).await) }
    }))
    .await
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
