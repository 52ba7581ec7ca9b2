//! Sessions as files in a directory shared by local processes.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use mcp_protocol::session::{is_well_formed_session_id, new_session_id, now_epoch_seconds};
use mcp_protocol::{SessionAdmission, SessionLimits, SessionRecord, SessionStore, StoreError};

/// One `<id>.json` file per session under `<root>/sessions/`.
#[derive(Debug, Clone)]
pub struct DirSessionStore {
    dir: PathBuf,
}

impl DirSessionStore {
    /// Uses (and creates) `<root>/sessions`.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let dir = root.join("sessions");
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    fn path_of(&self, id: &str) -> Option<PathBuf> {
        // Only ids of our own shape become file names, so no id can escape the directory.
        is_well_formed_session_id(id).then(|| self.dir.join(format!("{id}.json")))
    }

    fn read(path: &Path) -> Result<Option<SessionRecord>, StoreError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Live records; expired files are removed on the way.
    fn scan(&self) -> Result<Vec<SessionRecord>, StoreError> {
        let now = now_epoch_seconds();
        let mut live = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match Self::read(&path) {
                Ok(Some(r)) if r.is_live(now) => live.push(r),
                Ok(Some(_)) => {
                    let _ = std::fs::remove_file(&path);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "skipping unreadable session file"),
            }
        }
        Ok(live)
    }

    fn create_blocking(&self, record: &SessionRecord) -> Result<(), StoreError> {
        let path = self
            .path_of(&record.id)
            .ok_or_else(|| StoreError::Corrupt(format!("malformed session id {}", record.id)))?;
        let tmp = self.dir.join(format!(".{}.tmp", new_session_id()?));
        let bytes = serde_json::to_vec(record)
            .map_err(|e| StoreError::Corrupt(format!("cannot encode session: {e}")))?;
        // A write that fails half way (a full disk) leaves no partial file behind.
        std::fs::write(&tmp, bytes).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })?;
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                Err(StoreError::Conflict(record.id.clone()))
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl DirSessionStore {
    /// Counts and creates under an exclusive lock on `<root>/sessions/quota.lock`, so
    /// processes sharing the directory cannot both take the last free session.
    fn create_within_blocking(
        &self,
        record: &SessionRecord,
        limits: SessionLimits,
    ) -> Result<SessionAdmission, StoreError> {
        let lock = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.dir.join("quota.lock"))?;
        lock.lock()?;
        let live = self.scan()?;
        let account = live.iter().filter(|r| r.account == record.account).count() as u64;
        if account >= limits.per_account {
            return Ok(SessionAdmission::AccountFull(account));
        }
        let user = live.iter().filter(|r| r.owner == record.owner).count() as u64;
        if user >= limits.per_user {
            return Ok(SessionAdmission::UserFull(user));
        }
        self.create_blocking(record)?;
        Ok(SessionAdmission::Created {
            account: account + 1,
            user: user + 1,
        })
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Backend(format!("store task failed: {e}")))?
}

#[async_trait]
impl SessionStore for DirSessionStore {
    async fn create(&self, record: &SessionRecord) -> Result<(), StoreError> {
        let (store, record) = (self.clone(), record.clone());
        blocking(move || store.create_blocking(&record)).await
    }

    async fn get(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        let Some(path) = self.path_of(id) else {
            return Ok(None);
        };
        let record = blocking(move || Self::read(&path)).await?;
        Ok(record.filter(|r| r.is_live(now_epoch_seconds())))
    }

    async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let Some(path) = self.path_of(id) else {
            return Ok(false);
        };
        blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        })
        .await
    }

    async fn count_for_account(&self, account: &str) -> Result<u64, StoreError> {
        let (store, account) = (self.clone(), account.to_owned());
        blocking(move || {
            Ok(store
                .scan()?
                .iter()
                .filter(|r| r.account == account)
                .count() as u64)
        })
        .await
    }

    async fn count_for_owner(&self, owner: &str) -> Result<u64, StoreError> {
        let (store, owner) = (self.clone(), owner.to_owned());
        blocking(move || Ok(store.scan()?.iter().filter(|r| r.owner == owner).count() as u64)).await
    }

    async fn create_within(
        &self,
        record: &SessionRecord,
        limits: SessionLimits,
    ) -> Result<SessionAdmission, StoreError> {
        let (store, record) = (self.clone(), record.clone());
        blocking(move || store.create_within_blocking(&record, limits)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(owner: &str, expires_in: i64) -> SessionRecord {
        let now = now_epoch_seconds();
        SessionRecord {
            id: new_session_id().expect("random"),
            owner: owner.into(),
            account: "123456789012".into(),
            protocol_version: "2025-11-25".into(),
            client_name: Some("test".into()),
            can_elicit: true,
            created_at: now,
            expires_at: (now as i64 + expires_in) as u64,
        }
    }

    #[tokio::test]
    async fn round_trip_conflict_expiry_and_counts() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = DirSessionStore::open(root.path()).expect("open");
        let a = record("alice", 3600);
        store.create(&a).await.expect("create");
        assert!(matches!(
            store.create(&a).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.get(&a.id).await.expect("get"), Some(a.clone()));

        let expired = record("alice", -1);
        store.create(&expired).await.expect("create expired");
        assert_eq!(store.get(&expired.id).await.expect("get"), None);

        store.create(&record("bob", 3600)).await.expect("create");
        assert_eq!(store.count_for_owner("alice").await.expect("count"), 1);
        assert_eq!(
            store
                .count_for_account("123456789012")
                .await
                .expect("count"),
            2
        );

        // A second handle on the same directory (another process) sees the same sessions.
        let other = DirSessionStore::open(root.path()).expect("open");
        assert!(other.delete(&a.id).await.expect("delete"));
        assert!(!store.delete(&a.id).await.expect("delete"));
        assert_eq!(store.get(&a.id).await.expect("get"), None);
    }

    #[tokio::test]
    async fn hostile_ids_never_touch_the_file_system() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = DirSessionStore::open(root.path()).expect("open");
        std::fs::write(root.path().join("secret.json"), b"{}").expect("write");
        for id in ["../secret", "..%2fsecret", "/etc/passwd", ""] {
            assert_eq!(store.get(id).await.expect("get"), None);
            assert!(!store.delete(id).await.expect("delete"));
        }
        assert!(root.path().join("secret.json").exists());
    }
}
