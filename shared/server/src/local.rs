//! The local server: MCP over stdio, or Streamable HTTP at `/mcp` on a loopback address.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use mcp_protocol::HttpBody;
use serde_json::json;
use tokio::net::TcpListener;

use crate::app::App;
use crate::identity;

/// Serves MCP over this process's stdin and stdout until stdin closes.
pub async fn run_stdio(app: Arc<App>) -> std::io::Result<()> {
    let session_id = mcp_protocol::session::new_session_id()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let served = mcp_protocol::serve_stdio(
        app.server.clone(),
        identity::shared(&app.local_identity),
        session_id,
        tokio::io::BufReader::new(tokio::io::stdin()),
        tokio::io::stdout(),
    );
    let outcome = tokio::select! {
        outcome = served => outcome,
        _ = shutdown_signal() => Ok(()),
    };
    // Background tasks end with this process: say so rather than leave them `working`.
    abandon_background_tasks(&app, "the server stopped (end of input or a stop signal) before the task finished; run the call again").await;
    outcome
}

/// Marks the background tasks still running as failed, naming why.
async fn abandon_background_tasks(app: &App, reason: &str) {
    if let Some(api) = &app.api {
        let marked = api
            .tasks
            .background
            .abandon_all(api.tasks.store.as_ref(), reason)
            .await;
        if marked > 0 {
            tracing::warn!(marked, "background tasks marked failed at shutdown");
        }
    }
}

/// Serves Streamable HTTP on `listener` until the process is told to stop. A listener
/// reachable from other machines needs `AWS_MCP_HTTP_TOKEN`: the server acts with the
/// local credentials, so an open port would lend them to anyone who can connect.
pub async fn run_http(app: Arc<App>, listener: TcpListener) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() && app.settings.http_token.is_none() {
        return Err(std::io::Error::other(format!(
            "refusing to serve on {addr} without a token: set AWS_MCP_HTTP_TOKEN (clients then send `Authorization: Bearer <token>`), or listen on 127.0.0.1"
        )));
    }
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = &mut shutdown => {
                abandon_background_tasks(&app, "the server stopped (a stop signal) before the task finished; run the call again").await;
                return Ok(());
            }
        };
        let app = app.clone();
        let header_timeout = app.settings.http_header_timeout;
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, std::convert::Infallible>(route(&app, req, peer).await) }
            });
            if let Err(e) = http1::Builder::new()
                .timer(TokioTimer::new())
                // Slow or stalled clients are cut off instead of holding a connection.
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {},
                _ = tokio::signal::ctrl_c() => {},
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// A JSON-RPC error answer with no id, for requests refused before they are read.
fn rpc_refusal(status: StatusCode, message: String) -> Response<HttpBody> {
    plain(
        status,
        json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": message}}),
    )
}

fn declared_length(headers: &hyper::HeaderMap) -> Option<u64> {
    headers
        .get(hyper::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Whether `Authorization: Bearer <token>` carries `expected`, compared in constant time.
fn bearer_matches(headers: &hyper::HeaderMap, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    let Some(given) = headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    given.trim().as_bytes().ct_eq(expected.as_bytes()).into()
}

fn plain(status: StatusCode, body: serde_json::Value) -> Response<HttpBody> {
    let mut r = Response::new(HttpBody::full(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

/// Answers one request; MCP answers may be event streams that hyper sends as they grow.
async fn route(app: &App, req: Request<Incoming>, peer: SocketAddr) -> Response<HttpBody> {
    match req.uri().path() {
        "/mcp" | "/mcp/" => {}
        "/healthz" => return plain(StatusCode::OK, json!({"status": "ok"})),
        other => {
            return plain(
                StatusCode::NOT_FOUND,
                json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600,
                    "message": format!("Not found: {other}; the MCP endpoint is /mcp")}}),
            );
        }
    }
    if let Some(expected) = &app.settings.http_token
        && !bearer_matches(req.headers(), expected)
    {
        let mut refused = rpc_refusal(
            StatusCode::UNAUTHORIZED,
            "Missing or wrong bearer token: send `Authorization: Bearer <AWS_MCP_HTTP_TOKEN>`"
                .into(),
        );
        refused.headers_mut().insert(
            hyper::header::WWW_AUTHENTICATE,
            hyper::header::HeaderValue::from_static("Bearer"),
        );
        return refused;
    }
    let (parts, body) = req.into_parts();
    let limit = app.server.config().max_body_bytes;
    let too_large = || {
        rpc_refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body exceeds the limit of {limit} bytes (AWS_MCP_MAX_BODY_BYTES)"),
        )
    };
    // A declared length over the limit is refused before any of the body is read.
    if declared_length(&parts.headers).is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let body_timeout = app.settings.http_body_timeout;
    let bytes = match tokio::time::timeout(body_timeout, Limited::new(body, limit).collect()).await
    {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(_)) => return too_large(),
        Err(_) => {
            return rpc_refusal(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "The request body did not arrive within {} seconds",
                    body_timeout.as_secs()
                ),
            );
        }
    };
    tracing::debug!(%peer, method = %parts.method, "request");
    app.server
        .handle_http(
            http::Request::from_parts(parts, bytes),
            identity::shared(&app.local_identity),
            &app.http_options,
        )
        .await
}
