//! Server-to-client messages sent while a request runs: progress notifications and
//! elicitation requests.
//!
//! A transport that can carry such messages (stdio, or a Streamable HTTP POST answered with
//! an event stream) hands the dispatcher a [`ClientChannel`]; the dispatcher wraps it in a
//! [`ClientPeer`] that the tool sees as [`crate::ToolContext::peer`]. The client's answers
//! to server requests arrive as ordinary incoming JSON-RPC responses and are matched to the
//! waiting tool by [`PendingRequests`], keyed by session and server-chosen request id, so an
//! answer from another session can never reach a tool.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::jsonrpc;

/// Lets a tool talk to the client while its call runs.
#[async_trait]
pub trait ClientPeer: Send + Sync {
    /// Sends `notifications/progress` if the request had a `progressToken` (no-op
    /// otherwise). Values that do not increase are dropped, as the protocol requires
    /// progress to grow with every notification.
    async fn progress(&self, progress: f64, total: Option<f64>, message: Option<String>);
    /// Whether the client declared the elicitation capability.
    fn can_elicit(&self) -> bool;
    /// Sends `elicitation/create` and waits for the answer, up to the server's elicitation
    /// timeout. Errs when the client cannot be asked, the answer is malformed, the client
    /// answered with an error, went away, or did not answer in time.
    async fn elicit(
        &self,
        message: &str,
        requested_schema: Value,
    ) -> Result<ElicitAnswer, PeerError>;
}

/// The user's answer to an elicitation.
#[derive(Debug, Clone, PartialEq)]
pub struct ElicitAnswer {
    /// `accept`, `decline` or `cancel`.
    pub action: String,
    /// The submitted data (only with `accept`), an object shaped by the requested schema.
    pub content: Option<Value>,
}

impl ElicitAnswer {
    /// Whether the user submitted the form.
    pub fn is_accept(&self) -> bool {
        self.action == "accept"
    }
}

/// Why a message to the client could not be sent or answered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PeerError {
    #[error("the client did not declare the elicitation capability, so it cannot be asked")]
    NotSupported,
    #[error("the client connection closed before the client answered")]
    Disconnected,
    #[error("the client did not answer within {0:?}")]
    TimedOut(Duration),
    #[error("the client's answer is malformed: {0}")]
    Malformed(String),
    #[error("the client answered with error {code}: {message}")]
    Client { code: i64, message: String },
}

/// What a transport gives the dispatcher so a request can send messages to the client.
#[derive(Clone)]
pub struct ClientChannel {
    /// Every message goes out whole through this sender (one stdout line, one SSE event).
    pub sender: mpsc::UnboundedSender<Value>,
    /// The session's client declared (form-mode) elicitation.
    pub can_elicit: bool,
    /// Set by the transport when no further client messages can arrive (stdin closed), so
    /// new elicitations fail at once instead of waiting for their timeout.
    pub input_closed: Arc<AtomicBool>,
}

impl ClientChannel {
    pub fn new(sender: mpsc::UnboundedSender<Value>, can_elicit: bool) -> Self {
        Self {
            sender,
            can_elicit,
            input_closed: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// Whether an `initialize` request's client can be sent form-mode `elicitation/create`.
///
/// Elicitation exists from 2025-06-18. From 2025-11-25 the capability may name modes
/// (`{"form": {}}`, `{"url": {}}`); an empty object means form mode, for compatibility.
pub fn client_can_elicit(negotiated_version: &str, initialize_params: Option<&Value>) -> bool {
    if negotiated_version == "2025-03-26" {
        return false;
    }
    match initialize_params.and_then(|p| p.pointer("/capabilities/elicitation")) {
        Some(Value::Object(modes)) => modes.is_empty() || modes.contains_key("form"),
        _ => false,
    }
}

/// A client's `result`, or its `error` object.
type Outcome = Result<Value, Value>;
type Waiter = oneshot::Sender<Outcome>;
type Registered = (Value, oneshot::Receiver<Outcome>, PendingGuard);

/// Server requests waiting for the client's response, across every session of a process.
#[derive(Default)]
pub struct PendingRequests {
    next_id: AtomicU64,
    /// Keyed by (session id, the request id rendered as JSON).
    waiting: Mutex<HashMap<(String, String), Waiter>>,
}

impl PendingRequests {
    /// Reserves a fresh request id in `session`; the guard withdraws it when dropped.
    fn register(self: &Arc<Self>, session: &str) -> Result<Registered, PeerError> {
        // A process-wide counter: ids never repeat within a session, or across sessions.
        let n = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let id = json!(format!("srv-{n}"));
        let key = (session.to_owned(), id.to_string());
        let (tx, rx) = oneshot::channel();
        self.waiting
            .lock()
            .map_err(|_| PeerError::Disconnected)?
            .insert(key.clone(), tx);
        Ok((
            id,
            rx,
            PendingGuard {
                pending: self.clone(),
                key,
            },
        ))
    }

    /// Hands a client's response to the request waiting for it. `false` when no request
    /// with that id is waiting in that session (unknown, already answered, timed out, or
    /// another session's).
    pub fn resolve(&self, session: &str, id: &Value, outcome: Outcome) -> bool {
        let key = (session.to_owned(), id.to_string());
        let waiter = self.waiting.lock().ok().and_then(|mut m| m.remove(&key));
        match waiter {
            Some(tx) => tx.send(outcome).is_ok(),
            None => false,
        }
    }

    /// Fails every request waiting in `session` (its client is gone).
    pub fn close_session(&self, session: &str) {
        if let Ok(mut m) = self.waiting.lock() {
            m.retain(|(s, _), _| s != session);
        }
    }

    /// How many requests are waiting (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.waiting.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Withdraws a pending request when its waiter goes away (answered, timed out, cancelled).
struct PendingGuard {
    pending: Arc<PendingRequests>,
    key: (String, String),
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if let Ok(mut m) = self.pending.waiting.lock() {
            m.remove(&self.key);
        }
    }
}

/// The [`ClientPeer`] of one request.
pub(crate) struct RequestPeer {
    pub channel: ClientChannel,
    pub pending: Arc<PendingRequests>,
    pub session_id: String,
    pub progress_token: Option<Value>,
    pub timeout: Duration,
    pub last_progress: Mutex<Option<f64>>,
}

impl RequestPeer {
    fn send(&self, message: Value) -> Result<(), PeerError> {
        self.channel
            .sender
            .send(message)
            .map_err(|_| PeerError::Disconnected)
    }
}

/// The `progressToken` of a request's `_meta`, when it is a string or an integer.
pub(crate) fn progress_token(meta: Option<&Value>) -> Option<Value> {
    match meta?.get("progressToken")? {
        v @ Value::String(_) => Some(v.clone()),
        v @ Value::Number(n) if n.is_i64() || n.is_u64() => Some(v.clone()),
        _ => None,
    }
}

#[async_trait]
impl ClientPeer for RequestPeer {
    async fn progress(&self, progress: f64, total: Option<f64>, message: Option<String>) {
        let Some(token) = &self.progress_token else {
            return;
        };
        if !progress.is_finite() {
            return;
        }
        {
            let Ok(mut last) = self.last_progress.lock() else {
                return;
            };
            if last.is_some_and(|l| progress <= l) {
                tracing::debug!(progress, "non-increasing progress dropped");
                return;
            }
            *last = Some(progress);
        }
        let mut params = json!({"progressToken": token, "progress": progress});
        if let Some(total) = total.filter(|t| t.is_finite()) {
            params["total"] = json!(total);
        }
        if let Some(message) = message {
            params["message"] = json!(message);
        }
        if self
            .send(jsonrpc::notification("notifications/progress", params))
            .is_err()
        {
            tracing::debug!("progress dropped: client channel closed");
        }
    }

    fn can_elicit(&self) -> bool {
        self.channel.can_elicit
    }

    async fn elicit(
        &self,
        message: &str,
        requested_schema: Value,
    ) -> Result<ElicitAnswer, PeerError> {
        if !self.channel.can_elicit {
            return Err(PeerError::NotSupported);
        }
        let (id, rx, _guard) = self.pending.register(&self.session_id)?;
        // Checked after registering: a transport closes input before failing the waiting
        // requests, so either this sees the flag or the close sees the registration.
        if self.channel.input_closed.load(Ordering::SeqCst) {
            return Err(PeerError::Disconnected);
        }
        self.send(json!({
            "jsonrpc": "2.0",
            "id": id,
            "method": "elicitation/create",
            "params": {"message": message, "requestedSchema": requested_schema},
        }))?;
        let outcome = match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => return Err(PeerError::Disconnected),
            Err(_) => {
                // Tell the client to stop asking; a late answer finds no waiter.
                let _ = self.send(jsonrpc::notification(
                    "notifications/cancelled",
                    json!({"requestId": id, "reason": "elicitation timed out"}),
                ));
                return Err(PeerError::TimedOut(self.timeout));
            }
        };
        parse_elicit_result(outcome)
    }
}

/// Reads an `elicitation/create` response.
fn parse_elicit_result(outcome: Outcome) -> Result<ElicitAnswer, PeerError> {
    let result = match outcome {
        Ok(result) => result,
        Err(error) => {
            return Err(PeerError::Client {
                code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("no message")
                    .to_owned(),
            });
        }
    };
    let action = match result.get("action").and_then(Value::as_str) {
        Some(a @ ("accept" | "decline" | "cancel")) => a.to_owned(),
        Some(other) => {
            return Err(PeerError::Malformed(format!(
                "action {other:?} is not accept, decline or cancel"
            )));
        }
        None => return Err(PeerError::Malformed("no action".into())),
    };
    let content = match result.get("content") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(_) => return Err(PeerError::Malformed("content is not an object".into())),
    };
    Ok(ElicitAnswer { action, content })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elicitation_capability_by_version_and_mode() {
        let caps = |c: Value| json!({"capabilities": c});
        assert!(client_can_elicit(
            "2025-06-18",
            Some(&caps(json!({"elicitation": {}})))
        ));
        assert!(client_can_elicit(
            "2025-11-25",
            Some(&caps(json!({"elicitation": {"form": {}, "url": {}}})))
        ));
        assert!(!client_can_elicit(
            "2025-11-25",
            Some(&caps(json!({"elicitation": {"url": {}}})))
        ));
        assert!(!client_can_elicit(
            "2025-03-26",
            Some(&caps(json!({"elicitation": {}})))
        ));
        assert!(!client_can_elicit("2025-06-18", Some(&caps(json!({})))));
        assert!(!client_can_elicit("2025-06-18", None));
    }

    #[test]
    fn answers_are_checked() {
        let ok = parse_elicit_result(Ok(json!({"action": "accept", "content": {"allow": true}})))
            .expect("valid");
        assert!(ok.is_accept());
        assert_eq!(ok.content, Some(json!({"allow": true})));
        assert_eq!(
            parse_elicit_result(Ok(json!({"action": "decline"}))).expect("valid"),
            ElicitAnswer {
                action: "decline".into(),
                content: None
            }
        );
        assert!(matches!(
            parse_elicit_result(Ok(json!({"action": "maybe"}))),
            Err(PeerError::Malformed(_))
        ));
        assert!(matches!(
            parse_elicit_result(Ok(json!({"action": "accept", "content": [1]}))),
            Err(PeerError::Malformed(_))
        ));
        assert_eq!(
            parse_elicit_result(Err(json!({"code": -32601, "message": "nope"}))),
            Err(PeerError::Client {
                code: -32601,
                message: "nope".into()
            })
        );
    }

    #[test]
    fn responses_reach_only_their_own_session() {
        let pending = Arc::new(PendingRequests::default());
        let (id, mut rx, guard) = pending.register("a").expect("register");
        assert!(!pending.resolve("b", &id, Ok(json!({}))));
        assert!(!pending.resolve("a", &json!("srv-0"), Ok(json!({}))));
        assert!(pending.resolve("a", &id, Ok(json!({"action": "cancel"}))));
        assert_eq!(
            rx.try_recv().expect("delivered"),
            Ok(json!({"action": "cancel"}))
        );
        // A second answer to the same id finds no waiter.
        assert!(!pending.resolve("a", &id, Ok(json!({}))));
        drop(guard);
        let (id2, _rx, _guard) = pending.register("a").expect("register");
        assert_ne!(id, id2);
        assert_eq!(pending.len(), 1);
        pending.close_session("a");
        assert!(pending.is_empty());
    }
}
