//! MCP sessions: issued at `initialize`, bound to the caller, checked on every request,
//! ended by `DELETE` or by their lifetime running out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// One session as it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub id: String,
    /// [`crate::CallerIdentity::owner_key`] of the caller that opened it.
    pub owner: String,
    /// [`crate::CallerIdentity::account_key`] of that caller.
    pub account: String,
    pub protocol_version: String,
    pub client_name: Option<String>,
    /// The client declared form-mode elicitation in `initialize` (so tools may ask it
    /// questions). Defaults to `false` for records written before this field existed.
    #[serde(default)]
    pub can_elicit: bool,
    /// Seconds since the Unix epoch.
    pub created_at: u64,
    pub expires_at: u64,
}

impl SessionRecord {
    pub fn is_live(&self, now: u64) -> bool {
        self.expires_at > now
    }
}

/// Failures of a session or task store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state store I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("state store record is corrupt: {0}")]
    Corrupt(String),
    #[error("state store backend failed: {0}")]
    Backend(String),
    #[error("a record with id {0} already exists")]
    Conflict(String),
}

/// Session quotas, checked as one step with the creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    pub per_account: u64,
    pub per_user: u64,
}

/// The outcome of [`SessionStore::create_within`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionAdmission {
    /// Stored; the live sessions of the account and of the caller, this one included.
    Created { account: u64, user: u64 },
    /// Not stored: the account already holds this many live sessions.
    AccountFull(u64),
    /// Not stored: the caller already holds this many live sessions.
    UserFull(u64),
}

/// Where sessions live. DynamoDB in Lambda, a shared directory locally, memory in tests.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session; fails with [`StoreError::Conflict`] if the id is taken.
    async fn create(&self, record: &SessionRecord) -> Result<(), StoreError>;
    /// The session if it exists and has not expired.
    async fn get(&self, id: &str) -> Result<Option<SessionRecord>, StoreError>;
    /// Ends a session; `false` if there was none.
    async fn delete(&self, id: &str) -> Result<bool, StoreError>;
    /// Live sessions of an account.
    async fn count_for_account(&self, account: &str) -> Result<u64, StoreError>;
    /// Live sessions of one caller.
    async fn count_for_owner(&self, owner: &str) -> Result<u64, StoreError>;

    /// Stores a new session only while its account and caller are under `limits`. Stores
    /// shared by several processes override this so that the check and the creation are
    /// one atomic step; this default is exact only within one process.
    async fn create_within(
        &self,
        record: &SessionRecord,
        limits: SessionLimits,
    ) -> Result<SessionAdmission, StoreError> {
        let account = self.count_for_account(&record.account).await?;
        if account >= limits.per_account {
            return Ok(SessionAdmission::AccountFull(account));
        }
        let user = self.count_for_owner(&record.owner).await?;
        if user >= limits.per_user {
            return Ok(SessionAdmission::UserFull(user));
        }
        self.create(record).await?;
        Ok(SessionAdmission::Created {
            account: account + 1,
            user: user + 1,
        })
    }
}

/// Seconds since the Unix epoch.
pub fn now_epoch_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A fresh unguessable session id: 256 random bits, hex-encoded.
pub fn new_session_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Backend(format!("no randomness available: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `id` has the shape [`new_session_id`] produces (and so is safe in a file name).
pub fn is_well_formed_session_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Sessions in process memory: for tests and single-process use.
#[derive(Debug, Default)]
pub struct MemorySessionStore {
    sessions: Mutex<HashMap<String, SessionRecord>>,
}

impl MemorySessionStore {
    fn live(&self) -> Vec<SessionRecord> {
        let now = now_epoch_seconds();
        self.sessions
            .lock()
            .map(|s| s.values().filter(|r| r.is_live(now)).cloned().collect())
            .unwrap_or_default()
    }
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn create(&self, record: &SessionRecord) -> Result<(), StoreError> {
        let mut sessions = self
            .sessions
            .lock()
            .map_err(|_| StoreError::Backend("session map poisoned".into()))?;
        if sessions.contains_key(&record.id) {
            return Err(StoreError::Conflict(record.id.clone()));
        }
        sessions.insert(record.id.clone(), record.clone());
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        let now = now_epoch_seconds();
        Ok(self
            .sessions
            .lock()
            .map_err(|_| StoreError::Backend("session map poisoned".into()))?
            .get(id)
            .filter(|r| r.is_live(now))
            .cloned())
    }

    async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .sessions
            .lock()
            .map_err(|_| StoreError::Backend("session map poisoned".into()))?
            .remove(id)
            .is_some())
    }

    async fn count_for_account(&self, account: &str) -> Result<u64, StoreError> {
        Ok(self.live().iter().filter(|r| r.account == account).count() as u64)
    }

    async fn count_for_owner(&self, owner: &str) -> Result<u64, StoreError> {
        Ok(self.live().iter().filter(|r| r.owner == owner).count() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_without_the_elicitation_flag_still_load() {
        let old = r#"{"id":"x","owner":"o","account":"a","protocol_version":"2025-06-18",
            "client_name":null,"created_at":1,"expires_at":2}"#;
        let record: SessionRecord = serde_json::from_str(old).expect("old record");
        assert!(!record.can_elicit);
    }

    #[test]
    fn session_ids_are_unique_and_well_formed() {
        let a = new_session_id().expect("random");
        let b = new_session_id().expect("random");
        assert_ne!(a, b);
        assert!(is_well_formed_session_id(&a));
        assert!(!is_well_formed_session_id("../etc/passwd"));
        assert!(!is_well_formed_session_id(&a[..63]));
    }
}
