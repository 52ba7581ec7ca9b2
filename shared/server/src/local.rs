//! The local server: MCP over stdio, or Streamable HTTP at `/mcp` on a loopback address.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use mcp_protocol::HttpBody;
use serde_json::json;
use tokio::net::TcpListener;

use crate::app::App;
use crate::identity;

/// Serves MCP over this process's stdin and stdout until stdin closes.
pub async fn run_stdio(app: Arc<App>) -> std::io::Result<()> {
    let session_id = mcp_protocol::session::new_session_id()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    mcp_protocol::serve_stdio(
        app.server.clone(),
        identity::shared(&app.local_identity),
        session_id,
        tokio::io::BufReader::new(tokio::io::stdin()),
        tokio::io::stdout(),
    )
    .await
}

/// Serves Streamable HTTP on `listener` until the process is told to stop.
pub async fn run_http(app: Arc<App>, listener: TcpListener) -> std::io::Result<()> {
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = &mut shutdown => return Ok(()),
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, std::convert::Infallible>(route(&app, req, peer).await) }
            });
            if let Err(e) = http1::Builder::new()
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
    let (parts, body) = req.into_parts();
    let limit = app.server.config().max_body_bytes;
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600,
                    "message": format!("Request body exceeds the limit of {limit} bytes (AWS_MCP_MAX_BODY_BYTES)")}}),
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
