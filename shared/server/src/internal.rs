//! Events the stack's functions send each other (a forwarded tool call, a task
//! continuation), sealed with an HMAC-SHA256 tag under a per-stack key kept in Secrets
//! Manager. A function acts on such an event only when its tag verifies, so nobody who can
//! merely invoke a function (and nothing a caller sends through the tools) can make one.
//!
//! Wire form: `{"aws_mcp_internal": {"kind", "issued_at", "body", "tag"}}`; the tag covers
//! the kind, the issue time and the body's exact text.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_engine::execute::Executor;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use tokio::sync::OnceCell;

/// The field that marks an internal event.
pub const FIELD: &str = "aws_mcp_internal";

/// How old an event may be: a task continuation is queued by Lambda's asynchronous invoke,
/// which can wait a while when the function is busy.
const MAX_AGE: Duration = Duration::from_secs(3600);
/// Clock difference tolerated between two functions.
const MAX_SKEW: Duration = Duration::from_secs(300);

/// What an internal event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A tool call forwarded by the front function.
    Call,
    /// A long call continued in another invocation.
    Task,
}

#[derive(Debug, thiserror::Error)]
pub enum InternalError {
    #[error(
        "internal events need a key: set AWS_MCP_INTERNAL_KEY_SECRET to the stack's internal key secret"
    )]
    NoKey,
    #[error("cannot read the internal key from Secrets Manager ({0})")]
    KeyUnavailable(String),
    #[error("the internal event is malformed: {0}")]
    Malformed(String),
    #[error("the internal event's tag does not verify")]
    BadTag,
    #[error("the internal event was issued {0} s away from now; at most 3600 s old is accepted")]
    Stale(i64),
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    kind: EventKind,
    issued_at: u64,
    body: String,
    tag: String,
}

/// The per-stack key, read from Secrets Manager on first use.
pub struct InternalKey {
    secret: Option<(String, Executor, String)>,
    key: OnceCell<Vec<u8>>,
}

impl InternalKey {
    /// The key in secret `secret` (name or ARN), read with the function's own role.
    pub fn new(secret: Option<String>, executor: Executor, region: String) -> Self {
        Self {
            secret: secret.map(|s| (s, executor, region)),
            key: OnceCell::new(),
        }
    }

    /// A key given directly (tests).
    pub fn fixed(key: &[u8]) -> Self {
        Self {
            secret: None,
            key: OnceCell::new_with(Some(key.to_vec())),
        }
    }

    async fn key(&self) -> Result<&[u8], InternalError> {
        if let Some(key) = self.key.get() {
            return Ok(key);
        }
        let (secret, executor, region) = self.secret.as_ref().ok_or(InternalError::NoKey)?;
        let key = self
            .key
            .get_or_try_init(|| async {
                let mut params = Map::new();
                params.insert("SecretId".into(), json!(secret));
                let answer = executor
                    .call_named("secretsmanager", "GetSecretValue", &params, region)
                    .await
                    .map_err(|e| InternalError::KeyUnavailable(e.to_string()))?;
                let value = answer
                    .output
                    .get("SecretString")
                    .and_then(Value::as_str)
                    .filter(|v| v.len() >= 16)
                    .ok_or_else(|| {
                        InternalError::KeyUnavailable(format!(
                            "secret {secret} has no SecretString of at least 16 characters"
                        ))
                    })?;
                Ok::<_, InternalError>(value.as_bytes().to_vec())
            })
            .await?;
        Ok(key)
    }

    /// Seals `body` as an internal event of `kind`.
    pub async fn seal(&self, kind: EventKind, body: &Value) -> Result<Value, InternalError> {
        let body = body.to_string();
        let issued_at = now_secs();
        let tag = tag(self.key().await?, kind, issued_at, &body)?;
        Ok(json!({FIELD: Envelope { kind, issued_at, body, tag }}))
    }

    /// Opens a sealed event: its kind and body, when the tag verifies and it is fresh.
    pub async fn open(&self, sealed: &Value) -> Result<(EventKind, Value), InternalError> {
        let envelope: Envelope = serde_json::from_value(sealed.clone())
            .map_err(|e| InternalError::Malformed(e.to_string()))?;
        let key = self.key().await?;
        let given = base64::engine::general_purpose::STANDARD
            .decode(&envelope.tag)
            .map_err(|_| InternalError::BadTag)?;
        mac(key, envelope.kind, envelope.issued_at, &envelope.body)?
            .verify_slice(&given)
            .map_err(|_| InternalError::BadTag)?;
        let age = now_secs() as i64 - envelope.issued_at as i64;
        if age > MAX_AGE.as_secs() as i64 || -age > MAX_SKEW.as_secs() as i64 {
            return Err(InternalError::Stale(age));
        }
        let body = serde_json::from_str(&envelope.body)
            .map_err(|e| InternalError::Malformed(e.to_string()))?;
        Ok((envelope.kind, body))
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn mac(
    key: &[u8],
    kind: EventKind,
    issued_at: u64,
    body: &str,
) -> Result<Hmac<Sha256>, InternalError> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .map_err(|e| InternalError::KeyUnavailable(e.to_string()))?;
    let kind = match kind {
        EventKind::Call => "call",
        EventKind::Task => "task",
    };
    mac.update(format!("{kind}\n{issued_at}\n").as_bytes());
    mac.update(body.as_bytes());
    Ok(mac)
}

fn tag(key: &[u8], kind: EventKind, issued_at: u64, body: &str) -> Result<String, InternalError> {
    let bytes = mac(key, kind, issued_at, body)?.finalize().into_bytes();
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_depend_on_key_kind_time_and_body() {
        let key = b"0123456789abcdef0123456789abcdef";
        let t = |key: &[u8], kind, at, body| tag(key, kind, at, body).expect("tag");
        let base = t(key, EventKind::Task, 100, "{}");
        assert_eq!(base, t(key, EventKind::Task, 100, "{}"));
        assert_ne!(
            base,
            t(b"another key of sixteen+", EventKind::Task, 100, "{}")
        );
        assert_ne!(base, t(key, EventKind::Call, 100, "{}"));
        assert_ne!(base, t(key, EventKind::Task, 101, "{}"));
        assert_ne!(base, t(key, EventKind::Task, 100, "{ }"));
    }

    #[tokio::test]
    async fn sealed_events_open_only_unchanged_and_under_the_same_key() {
        let key = InternalKey::fixed(b"0123456789abcdef0123456789abcdef");
        let sealed = key
            .seal(EventKind::Task, &json!({"owner": "arn:aws:iam::1:user/a"}))
            .await
            .expect("seal");
        let (kind, body) = key.open(&sealed[FIELD]).await.expect("open");
        assert_eq!(kind, EventKind::Task);
        assert_eq!(body["owner"], "arn:aws:iam::1:user/a");

        let mut forged = sealed[FIELD].clone();
        forged["body"] = json!(r#"{"owner": "arn:aws:iam::1:user/b"}"#);
        assert!(matches!(
            key.open(&forged).await,
            Err(InternalError::BadTag)
        ));
        let mut relabelled = sealed[FIELD].clone();
        relabelled["kind"] = json!("call");
        assert!(matches!(
            key.open(&relabelled).await,
            Err(InternalError::BadTag)
        ));
        let other = InternalKey::fixed(b"another key, also long enough");
        assert!(matches!(
            other.open(&sealed[FIELD]).await,
            Err(InternalError::BadTag)
        ));
        assert!(matches!(
            key.open(&json!({"kind": "task"})).await,
            Err(InternalError::Malformed(_))
        ));
    }

    #[tokio::test]
    async fn old_events_are_refused() {
        let raw = b"0123456789abcdef0123456789abcdef";
        let key = InternalKey::fixed(raw);
        let issued_at = now_secs() - 7200;
        let body = "{}".to_owned();
        let stale = json!({
            "kind": "task",
            "issued_at": issued_at,
            "tag": tag(raw, EventKind::Task, issued_at, &body).expect("tag"),
            "body": body,
        });
        assert!(matches!(
            key.open(&stale).await,
            Err(InternalError::Stale(_))
        ));
    }

    #[tokio::test]
    async fn without_a_secret_nothing_is_sealed_or_opened() {
        let none = InternalKey {
            secret: None,
            key: OnceCell::new(),
        };
        assert!(matches!(
            none.seal(EventKind::Call, &json!({})).await,
            Err(InternalError::NoKey)
        ));
    }
}
