//! Quota counters as small JSON files under `<root>/quotas/`, one per account and kind.
//! Every read-modify-write holds an exclusive lock on the file (`flock`), so processes
//! sharing the directory see one sequence of updates, as DynamoDB's conditional writes
//! give the deployed server.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use mcp_protocol::{QuotaStore, RateDecision, RateLimit, Slots, StoreError};
use serde::{Deserialize, Serialize};

/// Quota counters in a directory shared by local processes.
#[derive(Debug, Clone)]
pub struct DirQuotaStore {
    dir: PathBuf,
}

/// Runs `f` on the decoded contents of `path` under an exclusive lock and writes back
/// what it leaves. A file left unreadable (a crash mid-write) counts as empty.
pub(crate) fn locked_update<T, R>(path: &Path, f: impl FnOnce(&mut T) -> R) -> Result<R, StoreError>
where
    T: Default + Serialize + for<'de> Deserialize<'de>,
{
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    file.lock()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let mut value: T = if bytes.is_empty() {
        T::default()
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!(path = %path.display(), error = %e, "quota file unreadable; reset");
            T::default()
        })
    };
    let out = f(&mut value);
    let encoded = serde_json::to_vec(&value)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode quota counter: {e}")))?;
    rewrite(&mut file, &encoded)?;
    Ok(out)
}

fn rewrite(file: &mut File, bytes: &[u8]) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(bytes)
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Arrival {
    tat: Option<u64>,
}

impl DirQuotaStore {
    /// Uses (and creates) `<root>/quotas`.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let dir = root.join("quotas");
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    /// Account keys become hex, so no key can escape the directory.
    fn path(&self, kind: &str, account: &str) -> PathBuf {
        let hex: String = account.bytes().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{kind}-{hex}.json"))
    }

    async fn update<T, R>(
        &self,
        kind: &str,
        account: &str,
        f: impl FnOnce(&mut T) -> R + Send + 'static,
    ) -> Result<R, StoreError>
    where
        T: Default + Serialize + for<'de> Deserialize<'de>,
        R: Send + 'static,
    {
        let path = self.path(kind, account);
        tokio::task::spawn_blocking(move || locked_update(&path, f))
            .await
            .map_err(|e| StoreError::Backend(format!("quota task failed: {e}")))?
    }
}

#[async_trait]
impl QuotaStore for DirQuotaStore {
    async fn take_request(
        &self,
        account: &str,
        limit: RateLimit,
        now_us: u64,
    ) -> Result<RateDecision, StoreError> {
        self.update("rate", account, move |a: &mut Arrival| {
            limit.take(&mut a.tat, now_us)
        })
        .await
    }

    async fn acquire_connection(
        &self,
        account: &str,
        slot: &str,
        limit: u64,
        lease_until_us: u64,
        now_us: u64,
    ) -> Result<Option<u64>, StoreError> {
        let slot = slot.to_owned();
        self.update("connections", account, move |s: &mut Slots| {
            s.acquire(&slot, limit, lease_until_us, now_us)
        })
        .await
    }

    async fn renew_connection(
        &self,
        account: &str,
        slot: &str,
        lease_until_us: u64,
    ) -> Result<(), StoreError> {
        let slot = slot.to_owned();
        self.update("connections", account, move |s: &mut Slots| {
            if let Some(held) = s.0.get_mut(&slot) {
                *held = lease_until_us;
            }
        })
        .await
    }

    async fn release_connection(&self, account: &str, slot: &str) -> Result<(), StoreError> {
        let slot = slot.to_owned();
        self.update("connections", account, move |s: &mut Slots| {
            s.0.remove(&slot);
        })
        .await
    }
}
