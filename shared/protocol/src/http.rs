//! MCP Streamable HTTP, as a function from a buffered `http::Request` to an
//! `http::Response` whose body is buffered JSON or an event stream, so the Lambda adapter
//! and the local HTTP server share it.
//!
//! Wire rules:
//! - `POST` carries one JSON-RPC message (or, for 2025-03-26 clients only, a batch);
//!   requests get `200 application/json`, notifications get `202`.
//! - A `tools/call` whose tool sends progress or an elicitation request before its result
//!   is answered with `200 text/event-stream` instead: each message one `event: message`
//!   event, the JSON-RPC response last, then the stream ends. Only when the POST accepts
//!   `text/event-stream` and [`HttpOptions::streaming`] is on (the local server; Lambda's
//!   buffered Function URLs cannot stream, so there tools get no peer and answers stay JSON).
//!   The decision is lazy: a tool that sends nothing is answered with plain JSON.
//! - A POSTed JSON-RPC response (the client's answer to `elicitation/create`) gets `202`
//!   when a request of the same session waits for it, `400` otherwise.
//! - `initialize` opens a session: the answer carries `Mcp-Session-Id`; every later request
//!   must echo it (`400` without it, `404` when unknown, expired or someone else's).
//! - `MCP-Protocol-Version` must name a supported revision (`400` otherwise); missing means
//!   2025-03-26.
//! - `GET` gets `405` (this server opens no standalone server-to-client stream; messages
//!   travel on the stream of the POST they belong to); `DELETE` ends the session.
//! - A present `Origin` that the policy does not allow gets `403`.
//! - Over the rate quota: `429` with `Retry-After`.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::body::{EventStream, First, HttpBody};
use crate::identity::IdentitySource;
use crate::jsonrpc::{self, Incoming, RpcError};
use crate::peer::{ClientChannel, client_can_elicit};
use crate::server::{
    Admission, DEFAULT_HTTP_PROTOCOL_VERSION, McpServer, RequestScope, SUPPORTED_PROTOCOL_VERSIONS,
    is_supported_version,
};
use crate::session::{
    SessionAdmission, SessionLimits, SessionRecord, StoreError, is_well_formed_session_id,
    new_session_id, now_epoch_seconds,
};

pub const SESSION_HEADER: &str = "mcp-session-id";
pub const PROTOCOL_VERSION_HEADER: &str = "mcp-protocol-version";

/// Which `Origin` headers are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginPolicy {
    /// Any origin (Lambda: every request is SigV4-signed, which a browser page cannot do).
    Any,
    /// Loopback origins (`localhost`, `127.0.0.1`, `[::1]` on any port) plus these exact ones.
    Loopback { extra: Vec<String> },
}

impl OriginPolicy {
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            OriginPolicy::Any => true,
            OriginPolicy::Loopback { extra } => {
                if extra.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
                    return true;
                }
                let Some(rest) = origin
                    .strip_prefix("http://")
                    .or_else(|| origin.strip_prefix("https://"))
                else {
                    return false;
                };
                let host = if let Some(v6) = rest.strip_prefix('[') {
                    match v6.split_once(']') {
                        Some((h, tail)) if tail.is_empty() || tail.starts_with(':') => {
                            return h == "::1" && port_ok(tail);
                        }
                        _ => return false,
                    }
                } else {
                    rest
                };
                let (name, tail) = match host.find(':') {
                    Some(i) => (&host[..i], &host[i..]),
                    None => (host, ""),
                };
                (name.eq_ignore_ascii_case("localhost") || name == "127.0.0.1") && port_ok(tail)
            }
        }
    }
}

fn port_ok(tail: &str) -> bool {
    match tail.strip_prefix(':') {
        None => tail.is_empty(),
        Some(p) => !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// Per-transport settings for the HTTP handler.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub origins: OriginPolicy,
    /// Whether answers may be event streams (progress, elicitation). `false` where the
    /// response is buffered whole before it is sent (Lambda Function URLs in BUFFERED mode).
    pub streaming: bool,
}

impl McpServer {
    /// Serves one Streamable HTTP exchange at the MCP endpoint.
    pub async fn handle_http(
        self: &Arc<Self>,
        request: Request<Bytes>,
        identity: Arc<dyn IdentitySource>,
        options: &HttpOptions,
    ) -> Response<HttpBody> {
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            let allowed = origin
                .to_str()
                .map(|o| options.origins.allows(o))
                .unwrap_or(false);
            if !allowed {
                return error_status(
                    StatusCode::FORBIDDEN,
                    "Origin not allowed: this server accepts requests from loopback origins only (set AWS_MCP_ALLOWED_ORIGINS to add one)",
                );
            }
        }
        let caller = identity.snapshot();
        let (admission, slot) = self.admit(&caller.account_key()).await;
        match admission {
            Admission::Admitted => {}
            Admission::OverRate { retry_after_secs } => {
                if let Some(tool) = called_tool(request.body()) {
                    self.telemetry().tool_throttled(&tool);
                }
                let mut r = error_status(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Rate exceeded: too many requests per second for this account; retry after a short wait",
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                return r;
            }
            Admission::TooManyConnections => {
                let mut r = error_status(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many concurrent connections for this account; retry when a request finishes",
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                return r;
            }
        }

        let header_version = match request.headers().get(PROTOCOL_VERSION_HEADER) {
            None => None,
            Some(v) => match v.to_str() {
                Ok(v) if is_supported_version(v) => Some(v.to_owned()),
                _ => {
                    return error_status(
                        StatusCode::BAD_REQUEST,
                        &format!(
                            "Unsupported MCP-Protocol-Version header {:?}; supported: {}",
                            String::from_utf8_lossy(v.as_bytes()),
                            SUPPORTED_PROTOCOL_VERSIONS.join(", ")
                        ),
                    );
                }
            },
        };

        let mut response = match *request.method() {
            Method::POST => self.post(request, identity, header_version, options).await,
            Method::DELETE => self.delete_session(&request, identity.as_ref()).await,
            Method::GET => {
                let mut r = error_status(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "This server does not open a server-to-client stream; use POST",
                );
                r.headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST, DELETE"));
                r
            }
            _ => {
                let mut r = error_status(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "Use POST for MCP messages and DELETE to end a session",
                );
                r.headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST, DELETE"));
                r
            }
        };
        // A streamed answer holds the connection slot until its stream ends; otherwise the
        // slot is free again before the answer leaves.
        match response.body_mut().slot_mut() {
            Some(holder) => *holder = slot,
            None => {
                if let Some(slot) = slot {
                    slot.release().await;
                }
            }
        }
        response
    }

    async fn post(
        self: &Arc<Self>,
        request: Request<Bytes>,
        identity: Arc<dyn IdentitySource>,
        header_version: Option<String>,
        options: &HttpOptions,
    ) -> Response<HttpBody> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type
            .to_ascii_lowercase()
            .starts_with("application/json")
        {
            return error_status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "POST bodies must be JSON-RPC with Content-Type: application/json",
            );
        }
        let accept = request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase);
        let accepts_events = accept
            .as_deref()
            .is_some_and(|a| a.contains("text/event-stream"));
        if let Some(a) = &accept
            && !(a.contains("application/json") || a.contains("*/*") || a.contains("application/*"))
        {
            return error_status(
                StatusCode::NOT_ACCEPTABLE,
                "This server answers with application/json; include it in the Accept header",
            );
        }
        let body = request.body();
        if body.len() > self.config().max_body_bytes {
            return error_status(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "Request body of {} bytes exceeds the limit of {} bytes; stage large files through a pre-signed S3 URL",
                    body.len(),
                    self.config().max_body_bytes
                ),
            );
        }
        let parsed: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                return rpc_error_status(
                    StatusCode::BAD_REQUEST,
                    &Value::Null,
                    &RpcError::parse(format!("Parse error: {e}")),
                );
            }
        };
        // A header that is not text still names a session (one that cannot exist), so it is
        // answered "not found" rather than "missing".
        let session_header = request
            .headers()
            .get(SESSION_HEADER)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());

        match parsed {
            Value::Array(items) => {
                self.post_batch(items, identity, header_version, session_header)
                    .await
            }
            single => {
                let incoming = Incoming::classify(single);
                if let Incoming::Request { id, method, params } = &incoming
                    && method == "initialize"
                {
                    return self.open_session(id, params.clone(), identity).await;
                }
                if let Incoming::Invalid { id, error } = &incoming {
                    return rpc_error_status(StatusCode::BAD_REQUEST, id, error);
                }
                let session = match self
                    .require_session(session_header.as_deref(), identity.as_ref())
                    .await
                {
                    Ok(s) => s,
                    Err(r) => return r,
                };
                if let Incoming::Response { id, outcome } = incoming {
                    return if self.pending().resolve(&session.id, &id, outcome) {
                        accepted()
                    } else {
                        error_status(
                            StatusCode::BAD_REQUEST,
                            &format!(
                                "No request with id {id} is waiting for an answer in this session"
                            ),
                        )
                    };
                }
                let mut scope = RequestScope {
                    identity,
                    protocol_version: header_version.unwrap_or(session.protocol_version),
                    session_id: session.id,
                    channel: None,
                };
                if let Incoming::Request { id, method, .. } = &incoming
                    && method == "tools/call"
                    && options.streaming
                    && accepts_events
                {
                    let id = id.clone();
                    let (tx, rx) = mpsc::unbounded_channel();
                    scope.channel = Some(ClientChannel::new(tx, session.can_elicit));
                    return self.call_streaming(id, incoming, scope, rx).await;
                }
                match self.handle(incoming, &scope).await {
                    Some(answer) => json_response(StatusCode::OK, &answer),
                    None => accepted(),
                }
            }
        }
    }

    async fn post_batch(
        &self,
        items: Vec<Value>,
        identity: Arc<dyn IdentitySource>,
        header_version: Option<String>,
        session_header: Option<String>,
    ) -> Response<HttpBody> {
        let version = header_version
            .clone()
            .unwrap_or_else(|| DEFAULT_HTTP_PROTOCOL_VERSION.to_owned());
        if version != "2025-03-26" {
            return rpc_error_status(
                StatusCode::BAD_REQUEST,
                &Value::Null,
                &RpcError::invalid_request(format!(
                    "JSON-RPC batches are not supported in protocol version {version}; send one message per POST"
                )),
            );
        }
        if items.is_empty() {
            return rpc_error_status(
                StatusCode::BAD_REQUEST,
                &Value::Null,
                &RpcError::invalid_request("an empty batch is not a valid JSON-RPC message"),
            );
        }
        let messages: Vec<Incoming> = items.into_iter().map(Incoming::classify).collect();
        if messages
            .iter()
            .any(|m| matches!(m, Incoming::Request { method, .. } if method == "initialize"))
        {
            return rpc_error_status(
                StatusCode::BAD_REQUEST,
                &Value::Null,
                &RpcError::invalid_request("initialize must not be part of a batch"),
            );
        }
        let session = match self
            .require_session(session_header.as_deref(), identity.as_ref())
            .await
        {
            Ok(s) => s,
            Err(r) => return r,
        };
        let scope = RequestScope {
            identity,
            protocol_version: session.protocol_version,
            session_id: session.id,
            channel: None,
        };
        let mut answers = Vec::new();
        for message in messages {
            if let Some(answer) = self.handle(message, &scope).await {
                answers.push(answer);
            }
        }
        if answers.is_empty() {
            accepted()
        } else {
            json_response(StatusCode::OK, &Value::Array(answers))
        }
    }

    /// Runs a request that may send messages first; answers JSON if it sends none.
    async fn call_streaming(
        self: &Arc<Self>,
        id: Value,
        incoming: Incoming,
        scope: RequestScope,
        messages: mpsc::UnboundedReceiver<Value>,
    ) -> Response<HttpBody> {
        let server = self.clone();
        // A task, so the request keeps running while its events stream out after this
        // function has returned the response head.
        let task = tokio::spawn(async move { server.handle(incoming, &scope).await });
        let mut stream = EventStream::new(messages, task, id);
        match stream.first().await {
            First::Answer(Some(answer)) => json_response(StatusCode::OK, &answer),
            First::Answer(None) => accepted(),
            First::Events => {
                let mut r = Response::new(HttpBody::events(stream));
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/event-stream"),
                );
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                r
            }
        }
    }

    async fn open_session(
        &self,
        id: &Value,
        params: Option<Value>,
        identity: Arc<dyn IdentitySource>,
    ) -> Response<HttpBody> {
        self.telemetry().request_served();
        let client_name = params
            .as_ref()
            .and_then(|p| p.pointer("/clientInfo/name"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let (version, result) = match self.initialize(params.clone()) {
            Ok(v) => v,
            Err(e) => return rpc_error_status(StatusCode::OK, id, &e),
        };
        let caller = identity.snapshot();
        let (owner, account) = (caller.owner_key(), caller.account_key());
        let quotas = &self.config().quotas;
        let now = now_epoch_seconds();
        let record = match new_session_id() {
            Ok(session_id) => SessionRecord {
                id: session_id,
                owner,
                account,
                can_elicit: client_can_elicit(&version, params.as_ref()),
                protocol_version: version,
                client_name,
                created_at: now,
                expires_at: now + self.config().session_ttl.as_secs(),
            },
            Err(e) => return store_failure(id, &e),
        };
        let limits = SessionLimits {
            per_account: quotas.max_sessions_per_account,
            per_user: quotas.max_sessions_per_user,
        };
        match self.sessions().create_within(&record, limits).await {
            Ok(SessionAdmission::Created { account, user }) => {
                self.telemetry().session_counts(account, user);
            }
            Ok(SessionAdmission::AccountFull(a)) => {
                return quota_response(
                    id,
                    &format!(
                        "Session quota reached: {a} active sessions for this account (limit {}); end unused sessions or wait for them to expire",
                        limits.per_account
                    ),
                );
            }
            Ok(SessionAdmission::UserFull(u)) => {
                return quota_response(
                    id,
                    &format!(
                        "Session quota reached: {u} active sessions for this caller (limit {}); end unused sessions or wait for them to expire",
                        limits.per_user
                    ),
                );
            }
            Err(e) => return store_failure(id, &e),
        }
        let mut response = json_response(StatusCode::OK, &jsonrpc::response(id, result));
        if let Ok(v) = HeaderValue::from_str(&record.id) {
            response.headers_mut().insert(SESSION_HEADER, v);
        }
        response
    }

    /// Finds the session a request names, or the response that refuses the request.
    async fn require_session(
        &self,
        header: Option<&str>,
        identity: &dyn IdentitySource,
    ) -> Result<SessionRecord, Response<HttpBody>> {
        let Some(id) = header else {
            return Err(error_status(
                StatusCode::BAD_REQUEST,
                "Missing Mcp-Session-Id header: send initialize first and echo the session id it returns",
            ));
        };
        let not_found = || {
            error_status(
                StatusCode::NOT_FOUND,
                "Session not found or expired: initialize a new session",
            )
        };
        if !is_well_formed_session_id(id) {
            return Err(not_found());
        }
        match self.sessions().get(id).await {
            Ok(Some(s)) if s.owner == identity.snapshot().owner_key() => Ok(s),
            Ok(_) => Err(not_found()),
            Err(e) => Err(store_failure(&Value::Null, &e)),
        }
    }

    async fn delete_session(
        &self,
        request: &Request<Bytes>,
        identity: &dyn IdentitySource,
    ) -> Response<HttpBody> {
        let header = request
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok());
        let session = match self.require_session(header, identity).await {
            Ok(s) => s,
            Err(r) => return r,
        };
        match self.sessions().delete(&session.id).await {
            Ok(_) => {
                self.report_session_counts(&session.account, &session.owner)
                    .await;
                let mut r = Response::new(HttpBody::empty());
                *r.status_mut() = StatusCode::OK;
                r
            }
            Err(e) => store_failure(&Value::Null, &e),
        }
    }
}

/// The tool a `tools/call` body names, if it is one.
fn called_tool(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    (v.get("method")?.as_str()? == "tools/call")
        .then(|| v.pointer("/params/name")?.as_str().map(str::to_owned))
        .flatten()
}

fn json_response(status: StatusCode, body: &Value) -> Response<HttpBody> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut r = Response::new(HttpBody::full(Bytes::from(bytes)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn accepted() -> Response<HttpBody> {
    let mut r = Response::new(HttpBody::empty());
    *r.status_mut() = StatusCode::ACCEPTED;
    r
}

/// A transport-level refusal, with a JSON-RPC error body that says what to fix.
fn error_status(status: StatusCode, message: &str) -> Response<HttpBody> {
    rpc_error_status(status, &Value::Null, &RpcError::invalid_request(message))
}

fn rpc_error_status(status: StatusCode, id: &Value, error: &RpcError) -> Response<HttpBody> {
    json_response(status, &jsonrpc::error_response(id, error))
}

fn quota_response(id: &Value, message: &str) -> Response<HttpBody> {
    let error = RpcError::invalid_request(message).with_data(json!({"httpStatus": 429}));
    rpc_error_status(StatusCode::TOO_MANY_REQUESTS, id, &error)
}

fn store_failure(id: &Value, error: &StoreError) -> Response<HttpBody> {
    tracing::error!(%error, "session store failed");
    rpc_error_status(
        StatusCode::INTERNAL_SERVER_ERROR,
        id,
        &RpcError::internal(format!(
            "The server's session store failed ({error}); this is a server fault, not a problem with the request: retry shortly, and if it persists check the state store (AWS_MCP_STATE_TABLE or AWS_MCP_STATE_DIR)"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_origins_pass_and_others_do_not() {
        let p = OriginPolicy::Loopback {
            extra: vec!["https://tools.example.com".into()],
        };
        for ok in [
            "http://localhost",
            "http://localhost:3000",
            "http://127.0.0.1:8080",
            "https://[::1]:443",
            "https://tools.example.com",
        ] {
            assert!(p.allows(ok), "{ok}");
        }
        for bad in [
            "http://evil.example",
            "http://localhost.evil.example",
            "http://127.0.0.1.nip.io",
            "null",
            "http://[::2]",
            "http://localhost:80abc",
            "file://localhost",
        ] {
            assert!(!p.allows(bad), "{bad}");
        }
    }
}
