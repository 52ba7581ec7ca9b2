//! MCP over stdio: newline-delimited JSON-RPC on stdin and stdout.
//!
//! Wire rules: one message per line, UTF-8, no embedded newlines; nothing but protocol
//! messages is written to stdout (logs, metrics and audit go to stderr). Every line goes
//! through one writer task, so lines are never interleaved. Requests are served
//! concurrently and answered as they finish, while further lines are read: a tool's
//! progress notifications and `elicitation/create` requests go out meanwhile, and the
//! client's responses to the latter are routed back to the waiting tool. When stdin closes,
//! waiting elicitations fail at once and answers still in flight are written before the
//! loop returns. The process is the session: its id is fixed at start.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::identity::IdentitySource;
use crate::jsonrpc::{self, Incoming, RpcError};
use crate::peer::{ClientChannel, client_can_elicit};
use crate::server::{LATEST_PROTOCOL_VERSION, McpServer, RequestScope};

/// Serves MCP on `input`/`output` until `input` ends.
pub async fn serve_stdio<R, W>(
    server: Arc<McpServer>,
    identity: Arc<dyn IdentitySource>,
    session_id: String,
    input: R,
    mut output: W,
) -> std::io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
    let writer = tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            let mut line = serde_json::to_vec(&message).unwrap_or_default();
            line.push(b'\n');
            output.write_all(&line).await?;
            output.flush().await?;
        }
        Ok::<_, std::io::Error>(())
    });

    let version = Arc::new(Mutex::new(LATEST_PROTOCOL_VERSION.to_owned()));
    let can_elicit = AtomicBool::new(false);
    let input_closed = Arc::new(AtomicBool::new(false));
    let mut in_flight = JoinSet::new();
    let mut input = input;
    let mut buffer = Vec::new();
    let limit = server.config().max_body_bytes;
    while let Some(read) = next_line(&mut input, &mut buffer, limit).await? {
        let line = match read {
            LineRead::Text(line) => line,
            LineRead::Refused(error) => {
                let _ = tx.send(jsonrpc::error_response(&Value::Null, &error));
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                let _ = tx.send(jsonrpc::error_response(
                    &Value::Null,
                    &RpcError::parse(format!("Parse error: {e}")),
                ));
                continue;
            }
        };
        let negotiated = version.lock().map(|v| v.clone()).unwrap_or_default();
        let messages = match parsed {
            Value::Array(items) if negotiated == "2025-03-26" && !items.is_empty() => {
                items.into_iter().map(Incoming::classify).collect()
            }
            Value::Array(_) => {
                let _ = tx.send(jsonrpc::error_response(
                    &Value::Null,
                    &RpcError::invalid_request(format!(
                        "JSON-RPC batches are not supported in protocol version {negotiated}; send one message per line"
                    )),
                ));
                continue;
            }
            single => vec![Incoming::classify(single)],
        };
        for message in messages {
            // initialize is answered in order, so the version is settled before later lines.
            if let Incoming::Request { id, method, params } = &message
                && method == "initialize"
            {
                server.telemetry().request_served();
                let answer = match server.initialize(params.clone()) {
                    Ok((v, result)) => {
                        can_elicit.store(client_can_elicit(&v, params.as_ref()), Ordering::SeqCst);
                        if let Ok(mut slot) = version.lock() {
                            *slot = v;
                        }
                        jsonrpc::response(id, result)
                    }
                    Err(e) => jsonrpc::error_response(id, &e),
                };
                let _ = tx.send(answer);
                continue;
            }
            let scope = RequestScope {
                identity: identity.clone(),
                session_id: session_id.clone(),
                protocol_version: version.lock().map(|v| v.clone()).unwrap_or_default(),
                channel: Some(ClientChannel {
                    sender: tx.clone(),
                    can_elicit: can_elicit.load(Ordering::SeqCst),
                    input_closed: input_closed.clone(),
                }),
            };
            let server = server.clone();
            let tx = tx.clone();
            in_flight.spawn(async move {
                if let Some(answer) = server.handle(message, &scope).await {
                    let _ = tx.send(answer);
                }
            });
        }
        // Reap finished tasks so the set does not grow without bound.
        while in_flight.try_join_next().is_some() {}
    }
    // No answer can arrive any more: fail waiting elicitations now rather than at their
    // timeout (the flag first, so an elicitation starting meanwhile sees one or the other).
    input_closed.store(true, Ordering::SeqCst);
    server.pending().close_session(&session_id);
    while in_flight.join_next().await.is_some() {}
    drop(tx);
    writer
        .await
        .map_err(|e| std::io::Error::other(format!("stdout writer failed: {e}")))?
}

/// One line of input, or why it is answered with an error instead of being parsed.
enum LineRead<'a> {
    Text(&'a str),
    Refused(RpcError),
}

/// Reads up to the next newline into `buffer`, keeping at most `limit` bytes: a longer line
/// is read to its end and dropped (so the next line starts cleanly) and memory stays bounded;
/// a line that is not UTF-8 is refused rather than ending the loop. `None` at end of input.
async fn next_line<'a, R>(
    input: &mut R,
    buffer: &'a mut Vec<u8>,
    limit: usize,
) -> std::io::Result<Option<LineRead<'a>>>
where
    R: AsyncBufRead + Unpin,
{
    buffer.clear();
    let mut seen = 0usize;
    loop {
        let available = input.fill_buf().await?;
        if available.is_empty() {
            if seen == 0 {
                return Ok(None);
            }
            break;
        }
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], true),
            None => (available, false),
        };
        if seen + chunk.len() <= limit {
            buffer.extend_from_slice(chunk);
        }
        seen += chunk.len();
        let used = chunk.len() + usize::from(done);
        input.consume(used);
        if done {
            break;
        }
    }
    if seen > limit {
        return Ok(Some(LineRead::Refused(RpcError::invalid_request(format!(
            "Message of {seen} bytes exceeds the limit of {limit} bytes (AWS_MCP_MAX_BODY_BYTES)"
        )))));
    }
    if buffer.last() == Some(&b'\r') {
        buffer.pop();
    }
    match std::str::from_utf8(buffer) {
        Ok(text) => Ok(Some(LineRead::Text(text))),
        Err(e) => Ok(Some(LineRead::Refused(RpcError::parse(format!(
            "Parse error: the line is not valid UTF-8 ({e}); send one UTF-8 JSON-RPC message per line"
        ))))),
    }
}
